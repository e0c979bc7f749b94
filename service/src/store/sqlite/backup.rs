//! `VACUUM INTO` for backups, and a database file's checks before a restore.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::Sqlite;
use crate::store::backup::DatabaseFacts;
use crate::store::{StoreError, StoreResult};

fn facts(conn: &Connection) -> StoreResult<DatabaseFacts> {
    let count = |sql: &str| -> StoreResult<u64> {
        let n: i64 = conn.query_row(sql, [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    };
    Ok(DatabaseFacts {
        schema: conn.pragma_query_value(None, "user_version", |r| r.get(0))?,
        mailboxes: count("SELECT COUNT(*) FROM mailboxes")?,
        messages: count("SELECT COUNT(*) FROM messages")?,
        queued: count("SELECT COUNT(*) FROM queue_messages")?,
    })
}

impl Sqlite {
    pub(in crate::store) async fn snapshot(&self, path: PathBuf) -> StoreResult<DatabaseFacts> {
        // VACUUM INTO makes its own snapshot, and cannot run inside a transaction.
        self.read_on(super::Reader::Plain, false, move |conn| {
            if path.exists() {
                return Err(StoreError::Conflict(format!("{} exists already", path.display())));
            }
            // One read of the whole database as of one moment (WAL keeps writers
            // going), written compacted to the new file.
            conn.execute("VACUUM INTO ?1", [path.to_string_lossy()])?;
            let copy = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            facts(&copy)
        })
        .await
    }
}

/// See [`crate::store::backup::check_database`].
pub(in crate::store) fn check_database(path: &Path) -> StoreResult<DatabaseFacts> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let verdict: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if verdict != "ok" {
        return Err(StoreError::Corrupt(format!("the database fails its integrity check: {verdict}")));
    }
    let f = facts(&conn)?;
    if f.schema > super::schema::latest_version() {
        return Err(StoreError::Corrupt(format!(
            "the database has schema version {}, newer than this mailroomd understands ({})",
            f.schema,
            super::schema::latest_version()
        )));
    }
    Ok(f)
}
