//! Versioned schema migrations, tracked in `PRAGMA user_version`.
//!
//! Each entry of [`MIGRATIONS`] moves the schema one version up and runs in its own
//! transaction, with foreign keys checked before it commits. Never edit a migration
//! that has shipped: add a new one.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::message::SearchFields;
use crate::store::{StoreError, StoreResult};

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
];

/// Schema 6: the header fields IMAP SEARCH's SUBJECT, FROM, TO, CC and BCC keys look
/// in, unfolded, decoded and in lower case ([`SearchFields`]), in a short row per
/// content written when the content is, so that a search reads these instead of every
/// header of the folder (as Dovecot's index cache keeps them). Worked out here for the
/// mail already stored.
fn search_fields(tx: &Transaction<'_>) -> StoreResult<()> {
    tx.execute_batch(
        r#"
        CREATE TABLE content_fields (
            content_id INTEGER PRIMARY KEY REFERENCES contents(id) ON DELETE CASCADE,
            subject TEXT NOT NULL,
            field_from TEXT NOT NULL,
            field_to TEXT NOT NULL,
            cc TEXT NOT NULL,
            bcc TEXT NOT NULL
        );
        "#,
    )?;
    let mut read = tx.prepare("SELECT id, substr(data, 1, header_len) FROM contents ORDER BY id")?;
    let mut rows = read.query([])?;
    while let Some(row) = rows.next()? {
        let (id, header): (i64, Vec<u8>) = (row.get(0)?, row.get(1)?);
        super::messages::insert_fields(tx, id, &SearchFields::of(&header))?;
    }
    Ok(())
}

/// Schema 5: every mailbox gets folders (INBOX, which POP3 sees, and the special-use
/// Sent, Drafts, Trash and Junk), and every message a folder, IMAP flags, keywords and
/// a mod-sequence (RFC 7162).
///
/// UIDs are per folder, handed out from the folder's `uidnext`. Existing mail moves to
/// INBOX with its UID unchanged and INBOX's `uidnext` taken from the mailbox's
/// `next_uid` (unused from here on), so POP3 UIDLs stay the same. A folder's id is its
/// UIDVALIDITY: ids are never reused (`AUTOINCREMENT`), so a folder deleted and made
/// again under the same name gets a new one, as RFC 9051 §2.3.1.1 demands.
const FOLDERS: &str = r#"
    CREATE TABLE folders (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
        -- The full name, levels separated by '/'; 'INBOX' is the inbox.
        name TEXT NOT NULL,
        -- RFC 6154: \Sent, \Drafts, \Trash, \Junk, or NULL.
        special_use TEXT,
        uidnext INTEGER NOT NULL DEFAULT 1,
        -- The highest mod-sequence given to a change in the folder.
        modseq INTEGER NOT NULL DEFAULT 1,
        subscribed INTEGER NOT NULL DEFAULT 1,
        UNIQUE (mailbox_id, name)
    );
    INSERT INTO folders (mailbox_id, name, uidnext) SELECT id, 'INBOX', next_uid FROM mailboxes ORDER BY id;
    INSERT INTO folders (mailbox_id, name, special_use)
        SELECT m.id, f.name, f.special_use FROM mailboxes m,
            (SELECT 1 AS k, 'Sent' AS name, '\Sent' AS special_use UNION ALL SELECT 2, 'Drafts', '\Drafts'
             UNION ALL SELECT 3, 'Trash', '\Trash' UNION ALL SELECT 4, 'Junk', '\Junk') f
        ORDER BY m.id, f.k;
    CREATE TRIGGER mailboxes_make_folders AFTER INSERT ON mailboxes BEGIN
        INSERT INTO folders (mailbox_id, name, uidnext) VALUES (NEW.id, 'INBOX', NEW.next_uid);
        INSERT INTO folders (mailbox_id, name, special_use) VALUES
            (NEW.id, 'Sent', '\Sent'), (NEW.id, 'Drafts', '\Drafts'),
            (NEW.id, 'Trash', '\Trash'), (NEW.id, 'Junk', '\Junk');
    END;
    CREATE TABLE messages_v5 (
        id INTEGER PRIMARY KEY,
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
    INSERT INTO messages_v5 (id, mailbox_id, folder_id, uid, size, received_at, prefix, content_id)
        SELECT m.id, m.mailbox_id, f.id, m.uid, m.size, m.received_at, m.prefix, m.content_id
        FROM messages m JOIN folders f ON f.mailbox_id = m.mailbox_id AND f.name = 'INBOX';
    -- The copies move, their references with them: no trigger runs on the way.
    DROP TRIGGER messages_take_content;
    DROP TRIGGER messages_release_content;
    DROP TABLE messages;
    ALTER TABLE messages_v5 RENAME TO messages;
    CREATE INDEX messages_by_content ON messages(content_id);
    CREATE INDEX messages_by_mailbox ON messages(mailbox_id);
    CREATE TRIGGER messages_take_content AFTER INSERT ON messages BEGIN
        UPDATE contents SET refs = refs + 1 WHERE id = NEW.content_id;
    END;
    CREATE TRIGGER messages_release_content AFTER DELETE ON messages BEGIN
        UPDATE contents SET refs = refs - 1 WHERE id = OLD.content_id;
        DELETE FROM contents WHERE id = OLD.content_id AND refs <= 0;
    END;
    -- Where each content's header ends, and a copy of the header in a small row of
    -- its own, kept by a trigger: IMAP reads headers (FETCH of headers, ENVELOPE,
    -- SEARCH on header fields) without touching bodies, a few hundred bytes a message
    -- instead of the whole. A header over 64 KiB (a message without an empty line is
    -- all header) is not copied: it is read from the content. Mail stored until now
    -- came over SMTP, whose lines end in CRLF.
    ALTER TABLE contents ADD COLUMN header_len INTEGER NOT NULL DEFAULT 0;
    UPDATE contents SET header_len = CASE
        WHEN substr(data, 1, 2) = X'0D0A' THEN 2
        WHEN instr(data, X'0D0A0D0A') > 0 THEN instr(data, X'0D0A0D0A') + 3
        ELSE length(data) END;
    CREATE TABLE content_headers (
        content_id INTEGER PRIMARY KEY REFERENCES contents(id) ON DELETE CASCADE,
        header BLOB NOT NULL
    );
    INSERT INTO content_headers (content_id, header)
        SELECT id, substr(data, 1, header_len) FROM contents WHERE header_len <= 65536;
    CREATE TRIGGER contents_keep_header AFTER INSERT ON contents WHEN NEW.header_len <= 65536 BEGIN
        INSERT INTO content_headers (content_id, header) VALUES (NEW.id, substr(NEW.data, 1, NEW.header_len));
    END;
"#;

/// Schema 2: message content stored once, shared by every mailbox copy and the queue.
///
/// `contents` holds each content once with a reference count; `messages` (a mailbox's
/// copy) and `queue_messages` point at it. A mailbox copy keeps only its own header
/// lines (`prefix`: the `Return-Path:` it was delivered with); its size stays what POP3
/// reports, prefix included. Triggers keep the count: every row that points at a
/// content adds one, every row deleted (by any path, cascades included) takes one away,
/// and the content goes when the count reaches zero.
///
/// Existing mail moves over with every id, UID and size unchanged, so POP3 UIDLs,
/// sizes and bytes stay the same. A local copy's leading `Return-Path:` line becomes
/// its prefix; copies whose remaining bytes are identical (one message to several
/// mailboxes, and its queue entry) end up sharing one content.
fn single_instance(tx: &Transaction<'_>) -> StoreResult<()> {
    tx.execute_batch(
        r#"
        CREATE TABLE contents (
            id INTEGER PRIMARY KEY,
            -- Rows of messages and queue_messages that use it; kept by triggers.
            refs INTEGER NOT NULL DEFAULT 0,
            size INTEGER NOT NULL,
            data BLOB NOT NULL
        );
        CREATE TABLE messages_v2 (
            id INTEGER PRIMARY KEY,
            mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
            uid INTEGER NOT NULL,
            -- Octets as POP3 counts them: prefix and content.
            size INTEGER NOT NULL,
            received_at INTEGER NOT NULL,
            -- This copy's own header lines, before the shared content.
            prefix BLOB NOT NULL,
            content_id INTEGER NOT NULL REFERENCES contents(id),
            UNIQUE (mailbox_id, uid)
        );
        CREATE TABLE queue_messages_v2 (
            id INTEGER PRIMARY KEY,
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
        "#,
    )?;
    let mut shared = Contents::default();
    {
        let mut rows =
            tx.prepare("SELECT id, mailbox_id, uid, size, received_at, content FROM messages ORDER BY id")?;
        let mut insert = tx.prepare(
            "INSERT INTO messages_v2 (id, mailbox_id, uid, size, received_at, prefix, content_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        let mut rows = rows.query([])?;
        while let Some(r) = rows.next()? {
            let content: Vec<u8> = r.get(5)?;
            let (prefix, rest) = split_return_path(&content);
            let content_id = shared.find_or_insert(tx, rest)?;
            insert.execute(params![
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                prefix,
                content_id
            ])?;
        }
    }
    {
        let mut rows = tx.prepare(
            "SELECT id, queue_id, sender, received_at, size, content, envid, ret, body_8bit, client
             FROM queue_messages ORDER BY id",
        )?;
        let mut insert = tx.prepare(
            "INSERT INTO queue_messages_v2 (id, queue_id, sender, received_at, size, content_id, envid, ret, body_8bit, client)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        let mut rows = rows.query([])?;
        while let Some(r) = rows.next()? {
            let content: Vec<u8> = r.get(5)?;
            let content_id = shared.find_or_insert(tx, &content)?;
            insert.execute(params![
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                content_id,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, bool>(8)?,
                r.get::<_, Option<String>>(9)?,
            ])?;
        }
    }
    tx.execute_batch(
        r#"
        DROP TABLE messages;
        DROP TABLE queue_messages;
        ALTER TABLE messages_v2 RENAME TO messages;
        ALTER TABLE queue_messages_v2 RENAME TO queue_messages;
        CREATE INDEX messages_by_content ON messages(content_id);
        CREATE INDEX queue_messages_by_content ON queue_messages(content_id);
        UPDATE contents SET refs =
            (SELECT COUNT(*) FROM messages WHERE content_id = contents.id)
          + (SELECT COUNT(*) FROM queue_messages WHERE content_id = contents.id);
        CREATE TRIGGER messages_take_content AFTER INSERT ON messages BEGIN
            UPDATE contents SET refs = refs + 1 WHERE id = NEW.content_id;
        END;
        CREATE TRIGGER messages_release_content AFTER DELETE ON messages BEGIN
            UPDATE contents SET refs = refs - 1 WHERE id = OLD.content_id;
            DELETE FROM contents WHERE id = OLD.content_id AND refs <= 0;
        END;
        CREATE TRIGGER queue_messages_take_content AFTER INSERT ON queue_messages BEGIN
            UPDATE contents SET refs = refs + 1 WHERE id = NEW.content_id;
        END;
        CREATE TRIGGER queue_messages_release_content AFTER DELETE ON queue_messages BEGIN
            UPDATE contents SET refs = refs - 1 WHERE id = OLD.content_id;
            DELETE FROM contents WHERE id = OLD.content_id AND refs <= 0;
        END;
        "#,
    )?;
    Ok(())
}

/// A local copy as schema 1 stored it: its leading `Return-Path:` line (if any), and
/// the rest.
fn split_return_path(copy: &[u8]) -> (&[u8], &[u8]) {
    let starts = copy.len() >= 12 && copy[..12].eq_ignore_ascii_case(b"return-path:");
    match memchr::memmem::find(copy, b"\r\n") {
        Some(end) if starts => copy.split_at(end + 2),
        _ => (&[], copy),
    }
}

/// Contents written so far by the migration, found again by their bytes.
#[derive(Default)]
struct Contents {
    /// Hash of the bytes → content rows with that hash.
    by_hash: HashMap<u64, Vec<i64>>,
}

impl Contents {
    /// The id of a content with exactly these bytes, written now if there is none.
    fn find_or_insert(&mut self, tx: &Transaction<'_>, bytes: &[u8]) -> StoreResult<i64> {
        let mut h = DefaultHasher::new();
        bytes.hash(&mut h);
        let candidates = self.by_hash.entry(h.finish()).or_default();
        let mut same = tx.prepare_cached("SELECT 1 FROM contents WHERE id = ?1 AND data = ?2")?;
        for id in candidates.iter() {
            if same.query_row(params![id, bytes], |_| Ok(())).optional()?.is_some() {
                return Ok(*id);
            }
        }
        tx.execute("INSERT INTO contents (size, data) VALUES (?1, ?2)", params![super::int(bytes.len()), bytes])?;
        let id = tx.last_insert_rowid();
        candidates.push(id);
        Ok(id)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_return_path_line_is_split_off_a_local_copy() {
        let copy = b"Return-Path: <a@b>\r\nReceived: x\r\n\r\nbody\r\n";
        let (prefix, rest) = split_return_path(copy);
        assert_eq!(prefix, b"Return-Path: <a@b>\r\n");
        assert_eq!(rest, b"Received: x\r\n\r\nbody\r\n");
        let queued = b"Received: x\r\n\r\nbody\r\n";
        assert_eq!(split_return_path(queued), (&b""[..], &queued[..]));
    }
}
