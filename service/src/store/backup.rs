//! Consistent copies of the store for backups, and the checks a copy must pass before
//! it may be restored.

use std::path::{Path, PathBuf};

use super::{Backend, Store, StoreResult, dispatch};

/// What a database holds, as a backup's manifest records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatabaseFacts {
    /// Its schema version.
    pub schema: i64,
    /// Mailboxes.
    pub mailboxes: u64,
    /// Mailbox copies of messages (IMAP folders included).
    pub messages: u64,
    /// Messages in the outbound queue.
    pub queued: u64,
}

impl Store {
    /// Writes a consistent copy of the whole store to `path` (which must not exist)
    /// while mail goes on flowing, and says what the copy holds.
    ///
    /// Read, one snapshot: the copy is the whole store as of one moment, and writes go
    /// on meanwhile. The copy is not fsync'd: a caller that keeps it syncs it.
    ///
    /// # Errors
    /// [`super::StoreError::Conflict`] when `path` exists; store failures.
    pub async fn snapshot(&self, path: PathBuf) -> StoreResult<DatabaseFacts> {
        dispatch!(self, b => b.snapshot(path).await)
    }
}

/// Checks the database file at `path` (a backup being restored): its integrity, that
/// this build understands its schema, and what it holds.
///
/// # Errors
/// [`super::StoreError::Corrupt`] when it fails its integrity check or is newer than
/// this build; other store failures.
pub fn check_database(path: &Path) -> StoreResult<DatabaseFacts> {
    super::sqlite::check_database(path)
}
