//! Versioned schema migrations, tracked in `PRAGMA user_version`.
//!
//! Each entry of [`MIGRATIONS`] moves the schema one version up and runs in its own
//! transaction. Never edit a migration that has shipped: add a new one.

use rusqlite::Connection;

use super::StoreResult;

/// Migration `i` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: the initial schema.
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
];

/// The schema version this build expects.
pub fn latest_version() -> i64 {
    i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
}

/// Brings the database up to [`latest_version`].
///
/// # Errors
/// When a migration fails (its transaction is rolled back), or the database is newer
/// than this build.
pub fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > latest_version() {
        return Err(super::StoreError::Corrupt(format!(
            "the database has schema version {current}, newer than this mailroomd understands ({})",
            latest_version()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(current).unwrap_or(0)) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i64::try_from(i + 1).unwrap_or(i64::MAX))?;
        tx.commit()?;
        tracing::info!(target: "mailroom_service::store", version = i + 1, "schema migrated");
    }
    Ok(())
}
