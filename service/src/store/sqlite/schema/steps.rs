//! The migrations that need more than SQL, and the one too long to sit in the list:
//! schema 2's single-instance storage (contents shared by copies, found again by
//! their bytes), schema 5's folders, schema 6's search fields. Kept apart from
//! [`super::MIGRATIONS`] so that the list reads as the schema's history, step by step.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use rusqlite::{OptionalExtension, Transaction, params};

use crate::message::SearchFields;
use crate::store::StoreResult;

/// Schema 6: the header fields IMAP SEARCH's SUBJECT, FROM, TO, CC and BCC keys look
/// in, unfolded, decoded and in lower case ([`SearchFields`]), in a short row per
/// content written when the content is, so that a search reads these instead of every
/// header of the folder (as Dovecot's index cache keeps them). Worked out here for the
/// mail already stored.
pub(super) fn search_fields(tx: &Transaction<'_>) -> StoreResult<()> {
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
        super::super::messages::insert_fields(tx, id, &SearchFields::of(&header))?;
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
pub(super) const FOLDERS: &str = r#"
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
pub(super) fn single_instance(tx: &Transaction<'_>) -> StoreResult<()> {
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
        tx.execute(
            "INSERT INTO contents (size, data) VALUES (?1, ?2)",
            params![super::super::int(bytes.len()), bytes],
        )?;
        let id = tx.last_insert_rowid();
        candidates.push(id);
        Ok(id)
    }
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
