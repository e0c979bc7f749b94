//! What the administrator sees and does with the queue and the tracking log.

use mailroom_shared::ipc::{QueueDetails, QueueEntry, TrackingEvent};

use super::{Backend, Store, StoreResult, dispatch};

/// Filters for [`Store::queue_list`]; `None` matches anything.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// Recipient state.
    pub state: Option<String>,
    /// Sender contains.
    pub sender: Option<String>,
    /// A recipient contains.
    pub recipient: Option<String>,
}

/// Filters for [`Store::tracking`].
#[derive(Debug, Clone, Default)]
pub struct TrackFilter {
    /// Sender contains.
    pub sender: Option<String>,
    /// Recipient contains.
    pub recipient: Option<String>,
    /// Message-ID or queue id equals.
    pub message_id: Option<String>,
    /// Not before.
    pub since: Option<i64>,
    /// Not after.
    pub until: Option<i64>,
}

/// Single-instance storage at a glance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContentStats {
    /// Distinct message contents stored.
    pub contents: u64,
    /// References to them: mailbox copies, queue entries and quarantined messages.
    pub references: u64,
    /// The contents' bytes, each counted once.
    pub bytes: u64,
}

impl Store {
    /// Messages waiting in the queue (some recipient not yet final: not delivered, nor
    /// failed with its NDR written), oldest first, each with its recipients not yet
    /// final (of `filter.state`, when given).
    ///
    /// Read, one snapshot.
    ///
    /// # Errors
    /// Store failures.
    pub async fn queue_list(&self, filter: QueueFilter) -> StoreResult<Vec<QueueEntry>> {
        dispatch!(self, b => b.queue_list(filter).await)
    }

    /// One queued message in detail: its header, and every recipient in the order
    /// given at acceptance.
    ///
    /// Read, not one snapshot: the message and its recipients are read one after the
    /// other, so an attempt recorded in between shows in the recipients only.
    ///
    /// # Errors
    /// [`super::StoreError::NotFound`] when there is no such message.
    pub async fn queue_details(&self, queue_id: String) -> StoreResult<QueueDetails> {
        dispatch!(self, b => b.queue_details(queue_id).await)
    }

    /// Makes waiting recipients (scheduled or deferred, not those in flight) due now,
    /// of one message or of all; returns how many. An unknown queue id makes none due.
    ///
    /// Write, atomic.
    ///
    /// # Errors
    /// Store failures.
    pub async fn queue_retry(&self, queue_id: Option<String>) -> StoreResult<usize> {
        dispatch!(self, b => b.queue_retry(queue_id).await)
    }

    /// Fails a message's recipients not yet final (those in flight too) on the
    /// administrator's order, with or without an NDR to the sender; returns how many.
    ///
    /// Write, atomic. An attempt already under way still records its outcome over this
    /// (see [`Store::queue_record`]).
    ///
    /// # Errors
    /// [`super::StoreError::NotFound`] when there is no such message.
    pub async fn queue_delete(&self, queue_id: String, ndr: bool) -> StoreResult<usize> {
        let failure = super::Failure {
            status: super::queue::UNKNOWN_FAILURE.to_owned(),
            reason: "Deleted from the queue by the administrator".to_owned(),
        };
        dispatch!(self, b => b.queue_delete(queue_id, ndr, failure).await)
    }

    /// Tracking records matching every criterion, newest first (at most 1,000).
    ///
    /// Read, one snapshot.
    ///
    /// # Errors
    /// Store failures.
    pub async fn tracking(&self, filter: TrackFilter) -> StoreResult<Vec<TrackingEvent>> {
        dispatch!(self, b => b.tracking(filter).await)
    }

    /// Deletes tracking records older than `before` (Unix seconds); returns how many.
    /// Works in batches, so that a large purge never holds up other writes for long.
    ///
    /// Write, not atomic: each batch (10,000 records) is its own durable transaction.
    ///
    /// # Errors
    /// Store failures; the batches already done stay done.
    pub async fn tracking_purge(&self, before: i64) -> StoreResult<usize> {
        dispatch!(self, b => b.tracking_purge(before).await)
    }

    /// How many contents are stored, how many references they have and their size:
    /// with single-instance storage a message to many mailboxes is one content with
    /// many references, and a content goes with its last reference.
    ///
    /// Read, one snapshot: the three numbers agree.
    ///
    /// # Errors
    /// Store failures.
    pub async fn content_stats(&self) -> StoreResult<ContentStats> {
        dispatch!(self, b => b.content_stats().await)
    }

    /// Bytes freed inside the store (deleted mail) that new data will reuse before the
    /// store grows again.
    ///
    /// Read; an estimate.
    ///
    /// # Errors
    /// Store failures.
    pub async fn reusable_bytes(&self) -> StoreResult<u64> {
        dispatch!(self, b => b.reusable_bytes().await)
    }
}
