//! What POP3 needs from the store: a mailbox's messages at login, their content, and
//! the deletions of a session applied at once.

use super::{Backend, Store, StoreResult, TrackingRecord, dispatch};

/// A message as a POP3 session numbers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRef {
    /// Row id, to fetch and delete it.
    pub id: i64,
    /// The mailbox's never-reused number for it.
    pub uid: i64,
    /// Octets, exactly as RETR sends them before dot-stuffing.
    pub size: u64,
}

impl Store {
    /// The messages of a mailbox's INBOX, oldest first (by UID: the order they came
    /// into INBOX).
    ///
    /// Read, one snapshot.
    ///
    /// # Errors
    /// Store failures.
    pub async fn pop3_messages(&self, mailbox: i64) -> StoreResult<Vec<MessageRef>> {
        dispatch!(self, b => b.pop3_messages(mailbox).await)
    }

    /// The content of several messages in one read (POP3 read-ahead), each exactly as
    /// the mailbox holds it (its own header lines, then the shared content), in the
    /// order given; messages that are gone are left out.
    ///
    /// Read, not one snapshot: in batches of ids, each message whole (a copy never
    /// changes). The mailbox is not checked: pass only ids the store gave for it.
    ///
    /// # Errors
    /// Store failures.
    pub async fn messages_content(&self, ids: Vec<i64>) -> StoreResult<Vec<(i64, Vec<u8>)>> {
        dispatch!(self, b => b.messages_content(ids).await)
    }

    /// Deletes messages of `mailbox` (POP3's UPDATE state) and writes `tracking`, in
    /// one transaction; returns how many were deleted.
    ///
    /// Write, atomic: only those of `ids` that are messages of `mailbox` (in any of its
    /// folders) go, ids already gone are not counted, and a content goes with its last
    /// copy. The watchers hear of the mailbox after the commit when any went.
    ///
    /// # Errors
    /// Store failures; then nothing was deleted.
    pub async fn pop3_delete(
        &self,
        mailbox: i64,
        ids: Vec<i64>,
        tracking: Option<TrackingRecord>,
    ) -> StoreResult<usize> {
        let deleted = dispatch!(self, b => b.pop3_delete(mailbox, ids, tracking).await)?;
        if deleted > 0 {
            self.changed(mailbox);
        }
        Ok(deleted)
    }
}
