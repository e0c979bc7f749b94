//! Versioned schema migrations, tracked in `PRAGMA user_version`.
//!
//! Each entry of [`MIGRATIONS`] moves the schema one version up and runs in its own
//! transaction, with foreign keys checked before it commits. Never edit a migration
//! that has shipped: add a new one.

use rusqlite::{Connection, OptionalExtension, Transaction};

use crate::store::{StoreError, StoreResult};

mod steps;
use steps::{FOLDERS, search_fields, single_instance};

/// One step up.
enum Migration {
    /// Plain SQL.
    Sql(&'static str),
    /// Work that needs more than SQL.
    Code(fn(&Transaction<'_>) -> StoreResult<()>),
}

/// Migration `i` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: &[Migration] = &[
    // 1: the initial schema.
    Migration::Sql(
        r#"
    CREATE TABLE config (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        revision INTEGER NOT NULL,
        json TEXT NOT NULL,
        saved_at INTEGER NOT NULL
    );
    -- AUTOINCREMENT: a mailbox id is never reused, so POP3 UIDLs (mailbox id + uid)
    -- stay unique even across a mailbox deleted and created again.
    CREATE TABLE mailboxes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        display_name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        -- POP3 UIDs are never reused: the next one to hand out, per mailbox.
        next_uid INTEGER NOT NULL DEFAULT 1
    );
    -- Addresses in canonical (lower-case) form; position 0 is the primary address.
    CREATE TABLE addresses (
        address TEXT PRIMARY KEY,
        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
        position INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX addresses_by_mailbox ON addresses(mailbox_id, position);
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
        uid INTEGER NOT NULL,
        size INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        content BLOB NOT NULL,
        UNIQUE (mailbox_id, uid)
    );
    CREATE TABLE queue_messages (
        id INTEGER PRIMARY KEY,
        queue_id TEXT NOT NULL UNIQUE,
        sender TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        size INTEGER NOT NULL,
        content BLOB NOT NULL,
        envid TEXT,
        ret TEXT,
        -- 1 when the client declared BODY=8BITMIME.
        body_8bit INTEGER NOT NULL DEFAULT 0,
        client TEXT
    );
    CREATE TABLE queue_recipients (
        id INTEGER PRIMARY KEY,
        message_id INTEGER NOT NULL REFERENCES queue_messages(id) ON DELETE CASCADE,
        recipient TEXT NOT NULL,
        orcpt TEXT,
        notify TEXT,
        -- scheduled | in_flight | delivered | deferred | failed
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt INTEGER,
        -- The last reply or problem, in words ("550 5.1.1 User unknown").
        last_error TEXT,
        -- Enhanced status of a final failure (RFC 3463), for the NDR.
        status TEXT,
        -- The host that gave the last reply.
        remote_mta TEXT,
        -- 1 once the NDR for a failed recipient is written (or none is due).
        ndr_done INTEGER NOT NULL DEFAULT 0,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX queue_recipients_due ON queue_recipients(state, next_attempt);
    CREATE INDEX queue_recipients_by_message ON queue_recipients(message_id);
    CREATE TABLE tracking (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        event TEXT NOT NULL,
        queue_id TEXT,
        message_id TEXT,
        sender TEXT,
        recipient TEXT,
        detail TEXT
    );
    CREATE INDEX tracking_by_time ON tracking(at);
    "#,
    ),
    // 2: single-instance storage.
    Migration::Code(single_instance),
    // 3: DKIM signing keys.
    Migration::Sql(
        r#"
    -- A domain's DKIM keys: the active ones sign, every row is published in DNS until
    -- the administrator retires it. The private key never leaves the store but to sign.
    CREATE TABLE dkim_keys (
        domain TEXT NOT NULL,
        selector TEXT NOT NULL,
        -- rsa | ed25519
        algorithm TEXT NOT NULL,
        -- PKCS#8 DER.
        private_key BLOB NOT NULL,
        -- What DNS publishes after p=: base64 of the public key.
        public_key TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        active INTEGER NOT NULL,
        PRIMARY KEY (domain, selector)
    ) WITHOUT ROWID;
    "#,
    ),
    // 4: message filtering.
    Migration::Sql(
        r#"
    -- Greylisting (RFC 6647): each (client network, sender, recipient) triplet seen,
    -- from its first try until its retry passes or its window closes.
    CREATE TABLE greylist (
        network TEXT NOT NULL,
        sender TEXT NOT NULL,
        recipient TEXT NOT NULL,
        first_seen INTEGER NOT NULL,
        PRIMARY KEY (network, sender, recipient)
    ) WITHOUT ROWID;
    -- Clients that passed a test and skip it until `until`: `greylist` (by client
    -- network), `greet` (the early-talker test, by address).
    CREATE TABLE client_passes (
        test TEXT NOT NULL,
        client TEXT NOT NULL,
        until INTEGER NOT NULL,
        PRIMARY KEY (test, client)
    ) WITHOUT ROWID;
    -- Outside recipients each authenticated account sent to, for the sending limits.
    CREATE TABLE sent_recipients (
        account TEXT NOT NULL,
        at INTEGER NOT NULL,
        count INTEGER NOT NULL
    );
    CREATE INDEX sent_recipients_by_account ON sent_recipients(account, at);
    -- Accounts held for going over a sending limit, until the administrator unlocks them.
    CREATE TABLE sending_holds (
        account TEXT PRIMARY KEY,
        since INTEGER NOT NULL,
        reason TEXT NOT NULL
    ) WITHOUT ROWID;
    -- Messages held instead of delivered; `plan` (JSON) says where each goes when
    -- released. Their content is shared like any other copy's.
    CREATE TABLE quarantine (
        id INTEGER PRIMARY KEY,
        queue_id TEXT NOT NULL,
        held_at INTEGER NOT NULL,
        sender TEXT NOT NULL,
        recipients TEXT NOT NULL,
        subject TEXT NOT NULL,
        score REAL,
        reason TEXT NOT NULL,
        client TEXT,
        plan TEXT NOT NULL,
        content_id INTEGER NOT NULL REFERENCES contents(id)
    );
    CREATE INDEX quarantine_by_time ON quarantine(held_at);
    CREATE TRIGGER quarantine_take_content AFTER INSERT ON quarantine BEGIN
        UPDATE contents SET refs = refs + 1 WHERE id = NEW.content_id;
    END;
    CREATE TRIGGER quarantine_release_content AFTER DELETE ON quarantine BEGIN
        UPDATE contents SET refs = refs - 1 WHERE id = OLD.content_id;
        DELETE FROM contents WHERE id = OLD.content_id AND refs <= 0;
    END;
    -- What the defences did, per UTC day, for Service Status.
    CREATE TABLE filter_counts (
        day TEXT NOT NULL,
        what TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (day, what)
    ) WITHOUT ROWID;
    "#,
    ),
    // 5: IMAP folders, flags and mod-sequences.
    Migration::Sql(FOLDERS),
    // 6: the header fields IMAP SEARCH looks in, kept per content.
    Migration::Code(search_fields),
    // 7: what each mailbox has imported, by the key of its source (a POP3 UIDL, a
    // Message-ID, a digest), so that an import run again adds only what is new. Kept
    // when the message is later deleted: a deleted message is not imported again.
    Migration::Sql(
        r#"
    CREATE TABLE imported (
        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        imported_at INTEGER NOT NULL,
        PRIMARY KEY (mailbox_id, key)
    ) WITHOUT ROWID;
    "#,
    ),
    // 8: recipients besides mailboxes, as in Exchange: distribution lists (members by
    // address, so that a member may be a mailbox, a custom recipient, another list or
    // an outside address) and custom recipients (a local address relayed to one outside
    // address); and the secret that signs SRS addresses.
    Migration::Sql(
        r#"
    CREATE TABLE lists (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        address TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        senders TEXT NOT NULL DEFAULT 'anyone',
        hide_members INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE list_members (
        list_id INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
        member TEXT NOT NULL,
        PRIMARY KEY (list_id, member)
    ) WITHOUT ROWID;
    CREATE TABLE contacts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        address TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        target TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE secrets (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
    "#,
    ),
    // 9: a mailbox's Delivery Options (forwarding), automatic reply and storage limits
    // (JSON, NULL for none or the organisation's), when it was last warned of its size;
    // whom each automatic reply went to and when (once per sender per N days); and
    // the catch-all mailbox of each domain that has one.
    Migration::Sql(
        r#"
    ALTER TABLE mailboxes ADD COLUMN forwarding TEXT;
    ALTER TABLE mailboxes ADD COLUMN auto_reply TEXT;
    ALTER TABLE mailboxes ADD COLUMN limits TEXT;
    ALTER TABLE mailboxes ADD COLUMN warned_at INTEGER;
    CREATE TABLE auto_replies (
        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
        sender TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (mailbox_id, sender)
    ) WITHOUT ROWID;
    CREATE TABLE catch_all (
        domain TEXT PRIMARY KEY,
        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE
    ) WITHOUT ROWID;
    "#,
    ),
    // 10: each mailbox's size, kept by triggers as its copies come and go, so that a
    // storage limit is checked at RCPT without adding up the mailbox (which made
    // acceptance slow down as a mailbox grew).
    Migration::Sql(
        r#"
    ALTER TABLE mailboxes ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
    UPDATE mailboxes SET bytes = (SELECT COALESCE(SUM(size), 0) FROM messages WHERE mailbox_id = mailboxes.id);
    CREATE TRIGGER messages_count_bytes AFTER INSERT ON messages BEGIN
        UPDATE mailboxes SET bytes = bytes + NEW.size WHERE id = NEW.mailbox_id;
    END;
    CREATE TRIGGER messages_uncount_bytes AFTER DELETE ON messages BEGIN
        UPDATE mailboxes SET bytes = bytes - OLD.size WHERE id = OLD.mailbox_id;
    END;
    "#,
    ),
    // 11: ids that are never given twice (AUTOINCREMENT) for the rows whose ids callers
    // hold between calls — a mailbox copy (a POP3 session's message list, an IMAP
    // session's folder), a queue entry and its recipients (a delivery in flight), a
    // quarantined message. Without it, once the newest row was gone its id came back
    // for the next: a POP3 DELE or a delivery's outcome for a stale id could land on a
    // message that took its place. The tables are rebuilt as they were, rows and ids
    // kept; their triggers are made again after the copy, which moves references
    // rather than taking new ones.
    Migration::Sql(
        r#"
    DROP TRIGGER messages_take_content;
    DROP TRIGGER messages_release_content;
    DROP TRIGGER messages_count_bytes;
    DROP TRIGGER messages_uncount_bytes;
    DROP TRIGGER queue_messages_take_content;
    DROP TRIGGER queue_messages_release_content;
    DROP TRIGGER quarantine_take_content;
    DROP TRIGGER quarantine_release_content;
    ALTER TABLE messages RENAME TO messages_v10;
    ALTER TABLE queue_recipients RENAME TO queue_recipients_v10;
    ALTER TABLE queue_messages RENAME TO queue_messages_v10;
    ALTER TABLE quarantine RENAME TO quarantine_v10;
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
        folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
        uid INTEGER NOT NULL,
        -- Octets as POP3 and IMAP count them: prefix and content.
        size INTEGER NOT NULL,
        -- IMAP's INTERNALDATE.
        received_at INTEGER NOT NULL,
        -- This copy's own header lines, before the shared content.
        prefix BLOB NOT NULL,
        content_id INTEGER NOT NULL REFERENCES contents(id),
        -- System flags: 1 \Seen, 2 \Answered, 4 \Flagged, 8 \Deleted, 16 \Draft.
        flags INTEGER NOT NULL DEFAULT 0,
        -- Keywords, each followed by a space.
        keywords TEXT NOT NULL DEFAULT '',
        modseq INTEGER NOT NULL DEFAULT 1,
        UNIQUE (folder_id, uid)
    );
    CREATE TABLE queue_messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        queue_id TEXT NOT NULL UNIQUE,
        sender TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        size INTEGER NOT NULL,
        content_id INTEGER NOT NULL REFERENCES contents(id),
        envid TEXT,
        ret TEXT,
        body_8bit INTEGER NOT NULL DEFAULT 0,
        client TEXT
    );
    CREATE TABLE queue_recipients (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        message_id INTEGER NOT NULL REFERENCES queue_messages(id) ON DELETE CASCADE,
        recipient TEXT NOT NULL,
        orcpt TEXT,
        notify TEXT,
        -- scheduled | in_flight | delivered | deferred | failed
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt INTEGER,
        -- The last reply or problem, in words ("550 5.1.1 User unknown").
        last_error TEXT,
        -- Enhanced status of a final failure (RFC 3463), for the NDR.
        status TEXT,
        -- The host that gave the last reply.
        remote_mta TEXT,
        -- 1 once the NDR for a failed recipient is written (or none is due).
        ndr_done INTEGER NOT NULL DEFAULT 0,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE quarantine (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        queue_id TEXT NOT NULL,
        held_at INTEGER NOT NULL,
        sender TEXT NOT NULL,
        recipients TEXT NOT NULL,
        subject TEXT NOT NULL,
        score REAL,
        reason TEXT NOT NULL,
        client TEXT,
        plan TEXT NOT NULL,
        content_id INTEGER NOT NULL REFERENCES contents(id)
    );
    INSERT INTO messages SELECT * FROM messages_v10;
    INSERT INTO queue_messages SELECT * FROM queue_messages_v10;
    INSERT INTO queue_recipients SELECT * FROM queue_recipients_v10;
    INSERT INTO quarantine SELECT * FROM quarantine_v10;
    DROP TABLE messages_v10;
    DROP TABLE queue_recipients_v10;
    DROP TABLE queue_messages_v10;
    DROP TABLE quarantine_v10;
    CREATE INDEX messages_by_content ON messages(content_id);
    CREATE INDEX messages_by_mailbox ON messages(mailbox_id);
    CREATE INDEX queue_messages_by_content ON queue_messages(content_id);
    CREATE INDEX queue_recipients_due ON queue_recipients(state, next_attempt);
    CREATE INDEX queue_recipients_by_message ON queue_recipients(message_id);
    CREATE INDEX quarantine_by_time ON quarantine(held_at);
    CREATE TRIGGER messages_take_content AFTER INSERT ON messages BEGIN
        UPDATE contents SET refs = refs + 1 WHERE id = NEW.content_id;
    END;
    CREATE TRIGGER messages_release_content AFTER DELETE ON messages BEGIN
        UPDATE contents SET refs = refs - 1 WHERE id = OLD.content_id;
        DELETE FROM contents WHERE id = OLD.content_id AND refs <= 0;
    END;
    CREATE TRIGGER messages_count_bytes AFTER INSERT ON messages BEGIN
        UPDATE mailboxes SET bytes = bytes + NEW.size WHERE id = NEW.mailbox_id;
    END;
    CREATE TRIGGER messages_uncount_bytes AFTER DELETE ON messages BEGIN
        UPDATE mailboxes SET bytes = bytes - OLD.size WHERE id = OLD.mailbox_id;
    END;
    CREATE TRIGGER queue_messages_take_content AFTER INSERT ON queue_messages BEGIN
        UPDATE contents SET refs = refs + 1 WHERE id = NEW.content_id;
    END;
    CREATE TRIGGER queue_messages_release_content AFTER DELETE ON queue_messages BEGIN
        UPDATE contents SET refs = refs - 1 WHERE id = OLD.content_id;
        DELETE FROM contents WHERE id = OLD.content_id AND refs <= 0;
    END;
    CREATE TRIGGER quarantine_take_content AFTER INSERT ON quarantine BEGIN
        UPDATE contents SET refs = refs + 1 WHERE id = NEW.content_id;
    END;
    CREATE TRIGGER quarantine_release_content AFTER DELETE ON quarantine BEGIN
        UPDATE contents SET refs = refs - 1 WHERE id = OLD.content_id;
        DELETE FROM contents WHERE id = OLD.content_id AND refs <= 0;
    END;
    "#,
    ),
    // 12: IMAP4rev1's \Recent (RFC 3501 §2.3.2): the first UID of each folder that no
    // session has yet seen as recent. Mail already there when this version starts is
    // not recent.
    Migration::Sql(
        r#"
    ALTER TABLE folders ADD COLUMN recent_uid INTEGER NOT NULL DEFAULT 1;
    UPDATE folders SET recent_uid = uidnext;
    "#,
    ),
    // 13: subscriptions of their own, by name: a deleted folder's subscription stays
    // until the client removes it (RFC 9051 §6.3.7; LIST-EXTENDED shows it as
    // \NonExistent). `folders.subscribed` now only says whether a folder is subscribed
    // when it is made (the mailbox's own folders are; a client's CREATE is not).
    Migration::Sql(
        r#"
    CREATE TABLE subscriptions (
        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        PRIMARY KEY (mailbox_id, name)
    ) WITHOUT ROWID;
    INSERT INTO subscriptions (mailbox_id, name) SELECT mailbox_id, name FROM folders WHERE subscribed = 1;
    CREATE TRIGGER folders_subscribed_when_made AFTER INSERT ON folders WHEN NEW.subscribed = 1 BEGIN
        INSERT OR IGNORE INTO subscriptions (mailbox_id, name) VALUES (NEW.mailbox_id, NEW.name);
    END;
    "#,
    ),
    // 14: when each copy was saved into its folder (IMAP SAVEDATE, RFC 8514): set as
    // a copy is made; unknown (NULL) for mail stored before.
    Migration::Sql("ALTER TABLE messages ADD COLUMN saved_at INTEGER;"),
    // 15: sharing (RFC 4314 rights, Exchange's Permissions): a mailbox's kind (a
    // shared mailbox has no password: nobody logs in as it); grants of rights on a
    // whole mailbox (folder_id 0) or on one folder, to a mailbox ('u' and its id), a
    // list ('l' and its id: every member) or anyone ('anyone'); and `\Seen` kept per
    // person on folders that are not their own.
    Migration::Sql(
        r#"
    ALTER TABLE mailboxes ADD COLUMN kind TEXT NOT NULL DEFAULT 'person';
    CREATE TABLE grants (
        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
        folder_id INTEGER NOT NULL DEFAULT 0,
        grantee TEXT NOT NULL,
        rights TEXT NOT NULL,
        PRIMARY KEY (mailbox_id, folder_id, grantee)
    ) WITHOUT ROWID;
    CREATE INDEX grants_by_grantee ON grants(grantee);
    CREATE TRIGGER folders_drop_grants AFTER DELETE ON folders BEGIN
        DELETE FROM grants WHERE mailbox_id = OLD.mailbox_id AND folder_id = OLD.id;
    END;
    CREATE TRIGGER mailboxes_drop_grants AFTER DELETE ON mailboxes BEGIN
        DELETE FROM grants WHERE grantee = 'u' || OLD.id;
    END;
    CREATE TRIGGER lists_drop_grants AFTER DELETE ON lists BEGIN
        DELETE FROM grants WHERE grantee = 'l' || OLD.id;
    END;
    CREATE TABLE private_seen (
        viewer_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
        message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        PRIMARY KEY (viewer_id, message_id)
    ) WITHOUT ROWID;
    CREATE INDEX private_seen_by_message ON private_seen(message_id);
    "#,
    ),
    // 16: public folders (Exchange's): the folders of one mailbox of kind 'public' (made
    // when the first is), each with an e-mail address of its own if given (mail to it
    // is filed there) and a size limit.
    Migration::Sql(
        r#"
    ALTER TABLE folders ADD COLUMN quota_kb INTEGER;
    CREATE TABLE folder_addresses (
        address TEXT PRIMARY KEY,
        folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE
    ) WITHOUT ROWID;
    CREATE INDEX folder_addresses_by_folder ON folder_addresses(folder_id);
    "#,
    ),
    // 17: calendars and address books (CalDAV, CardDAV): each person's collections, the
    // objects in them with the time they span, and tombstones of removed ones, all
    // numbered by their collection's change counter (the sync token).
    Migration::Sql(
        r#"
    CREATE TABLE dav_collections (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('calendar', 'addressbook')),
        name TEXT NOT NULL,
        display_name TEXT NOT NULL DEFAULT '',
        color TEXT NOT NULL DEFAULT '',
        description TEXT NOT NULL DEFAULT '',
        -- A calendar's kinds of component (CalDAV's supported-calendar-component-set).
        components TEXT NOT NULL DEFAULT 'VEVENT,VTODO,VJOURNAL',
        sync INTEGER NOT NULL DEFAULT 1,
        UNIQUE (mailbox_id, kind, name)
    );
    CREATE TABLE dav_objects (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        collection_id INTEGER NOT NULL REFERENCES dav_collections(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        uid TEXT NOT NULL,
        component TEXT NOT NULL,
        data BLOB NOT NULL,
        etag TEXT NOT NULL,
        starts INTEGER,
        ends INTEGER,
        sync INTEGER NOT NULL,
        UNIQUE (collection_id, name),
        UNIQUE (collection_id, uid)
    );
    CREATE INDEX dav_objects_by_time ON dav_objects(collection_id, starts);
    CREATE INDEX dav_objects_by_sync ON dav_objects(collection_id, sync);
    -- Properties clients set on a collection that the server only keeps (WebDAV's dead
    -- properties: Apple's calendar-order, say), by namespace and name, as text.
    CREATE TABLE dav_properties (
        collection_id INTEGER NOT NULL REFERENCES dav_collections(id) ON DELETE CASCADE,
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (collection_id, namespace, name)
    ) WITHOUT ROWID;
    -- Every person (and shared mailbox) has a calendar and an address book from the
    -- start, as every mailbox has its INBOX.
    INSERT INTO dav_collections (mailbox_id, kind, name, display_name)
        SELECT id, 'calendar', 'calendar', 'Calendar' FROM mailboxes WHERE kind <> 'public';
    INSERT INTO dav_collections (mailbox_id, kind, name, display_name)
        SELECT id, 'addressbook', 'contacts', 'Contacts' FROM mailboxes WHERE kind <> 'public';
    CREATE TRIGGER mailboxes_make_collections AFTER INSERT ON mailboxes WHEN NEW.kind <> 'public' BEGIN
        INSERT INTO dav_collections (mailbox_id, kind, name, display_name) VALUES
            (NEW.id, 'calendar', 'calendar', 'Calendar'), (NEW.id, 'addressbook', 'contacts', 'Contacts');
    END;
    CREATE TABLE dav_tombstones (
        collection_id INTEGER NOT NULL REFERENCES dav_collections(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        sync INTEGER NOT NULL,
        PRIMARY KEY (collection_id, name)
    ) WITHOUT ROWID;
    "#,
    ),
    // 18: one calendar or address book shared on its own (its grants stand instead of
    // the mailbox's for their grantee, as a folder's do), and recipients hidden from
    // the address book.
    Migration::Sql(
        r#"
    CREATE TABLE dav_grants (
        collection_id INTEGER NOT NULL REFERENCES dav_collections(id) ON DELETE CASCADE,
        grantee TEXT NOT NULL,
        rights TEXT NOT NULL,
        PRIMARY KEY (collection_id, grantee)
    ) WITHOUT ROWID;
    CREATE INDEX dav_grants_by_grantee ON dav_grants(grantee);
    CREATE TRIGGER mailboxes_drop_dav_grants AFTER DELETE ON mailboxes BEGIN
        DELETE FROM dav_grants WHERE grantee = 'u' || OLD.id;
    END;
    CREATE TRIGGER lists_drop_dav_grants AFTER DELETE ON lists BEGIN
        DELETE FROM dav_grants WHERE grantee = 'l' || OLD.id;
    END;
    -- Exchange's "Hide from address book": not in the Global Address List (nor found
    -- by a principal search), still reachable by mail.
    ALTER TABLE mailboxes ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE lists ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE contacts ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
    "#,
    ),
];

/// The schema version this build expects.
pub(super) fn latest_version() -> i64 {
    i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
}

/// Brings the database up to [`latest_version`].
///
/// Foreign keys are off while a migration runs (a table rebuilt in place must not
/// cascade into the tables that point at it) and checked before it commits.
///
/// # Errors
/// When a migration fails (its transaction is rolled back), or the database is newer
/// than this build.
pub(super) fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > latest_version() {
        return Err(StoreError::Corrupt(format!(
            "the database has schema version {current}, newer than this mailroomd understands ({})",
            latest_version()
        )));
    }
    let pending = MIGRATIONS.iter().enumerate().skip(usize::try_from(current).unwrap_or(0));
    conn.pragma_update(None, "foreign_keys", false)?;
    let result = (|| {
        for (i, migration) in pending {
            let tx = conn.transaction()?;
            match migration {
                Migration::Sql(sql) => tx.execute_batch(sql)?,
                Migration::Code(f) => f(&tx)?,
            }
            let broken: Option<String> =
                tx.query_row("PRAGMA foreign_key_check", [], |r| r.get::<_, String>(0)).optional()?;
            if let Some(table) = broken {
                return Err(StoreError::Corrupt(format!(
                    "migration to schema {} left rows of {table} pointing at nothing",
                    i + 1
                )));
            }
            tx.pragma_update(None, "user_version", i64::try_from(i + 1).unwrap_or(i64::MAX))?;
            tx.commit()?;
            tracing::info!(target: "mailroom_service::store", version = i + 1, "schema migrated");
        }
        Ok(())
    })();
    conn.pragma_update(None, "foreign_keys", true)?;
    result
}
