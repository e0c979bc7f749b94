//! The outbound queue in the store: which recipients are due, claiming them for a
//! delivery attempt, recording each attempt's outcome, and NDR bookkeeping.
//!
//! Recipient states: `scheduled` (due at `next_attempt`), `in_flight` (claimed by a
//! delivery; set back to `scheduled` at start-up after a crash, so a delivery cut short
//! is retried — at least once, never zero times), `deferred` (a temporary failure;
//! due again at `next_attempt`), `delivered`, `failed` (`ndr_done` says whether the NDR
//! has been written).

use std::collections::HashMap;
use std::sync::Arc;

use super::{Backend, NewMessage, Store, StoreResult, TrackEvent, dispatch, now_secs};

/// A recipient due for delivery.
#[derive(Debug, Clone)]
pub struct DueRecipient {
    /// Row id.
    pub id: i64,
    /// The address.
    pub address: String,
    /// Attempts so far.
    pub attempts: u32,
}

/// A queued message with its due recipients.
#[derive(Debug, Clone)]
pub struct DueMessage {
    /// Row id.
    pub id: i64,
    /// Queue id shown to people.
    pub queue_id: String,
    /// Envelope sender; empty for `<>`.
    pub sender: String,
    /// Arrival, Unix seconds.
    pub received_at: i64,
    /// Size in bytes.
    pub size: u64,
    /// The client declared 8BITMIME.
    pub body_8bit: bool,
    /// Recipients due now.
    pub recipients: Vec<DueRecipient>,
}

/// The outcome of one delivery attempt for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// Accepted by the next hop.
    Delivered {
        /// Who accepted it.
        remote: String,
        /// The TLS version the connection used; `None` for plain text.
        tls: Option<&'static str>,
    },
    /// Temporary failure: try again at `retry_at`.
    Deferred {
        /// Why.
        error: String,
        /// Who said so, if anyone.
        remote: Option<String>,
        /// When to try again.
        retry_at: i64,
    },
    /// Permanent failure: an NDR is due.
    Failed {
        /// Why.
        error: String,
        /// Enhanced status code (`5.1.1`).
        status: String,
        /// Who said so, if anyone.
        remote: Option<String>,
    },
    /// Not attempted (service stopping): due again at once.
    Returned,
}

impl Attempt {
    /// What message tracking records of this outcome (`None` for an attempt not made).
    pub(in crate::store) fn tracked(&self) -> Option<(TrackEvent, String)> {
        match self {
            Attempt::Delivered { remote, tls } => {
                let how = tls.map_or_else(|| "not encrypted".to_owned(), |v| format!("over {v}"));
                Some((TrackEvent::Relayed, format!("to {remote}, {how}")))
            }
            Attempt::Deferred { error, .. } => Some((TrackEvent::Deferred, error.clone())),
            Attempt::Failed { error, .. } => Some((TrackEvent::Failed, error.clone())),
            Attempt::Returned => None,
        }
    }
}

/// The enhanced status of a recipient that failed without one (RFC 3463: other or
/// undefined status), as its NDR reports it.
pub(in crate::store) const UNKNOWN_FAILURE: &str = "5.0.0";

/// How a recipient that could not be delivered in time fails (RFC 3463 4.4.7: delivery
/// time expired), and the words its NDR gives before the last error ([`EXPIRED_NONE`]
/// when there was none).
pub(in crate::store) const EXPIRED_STATUS: &str = "4.4.7";
/// See [`EXPIRED_STATUS`].
pub(in crate::store) const EXPIRED_REASON: &str = "Message expired: could not be delivered in time; last error: ";
/// See [`EXPIRED_STATUS`].
pub(in crate::store) const EXPIRED_NONE: &str = "none";

/// A failed recipient awaiting its NDR.
#[derive(Debug, Clone)]
pub struct FailedRecipient {
    /// Row id.
    pub id: i64,
    /// The address.
    pub address: String,
    /// DSN ORCPT.
    pub orcpt: Option<String>,
    /// DSN NOTIFY.
    pub notify: Option<String>,
    /// Enhanced status.
    pub status: String,
    /// Diagnostic text.
    pub error: String,
    /// Remote MTA, if any.
    pub remote: Option<String>,
}

/// A message some of whose recipients failed and await an NDR.
#[derive(Debug, Clone)]
pub struct NdrDue {
    /// Row id.
    pub message_id: i64,
    /// Queue id.
    pub queue_id: String,
    /// Envelope sender (the NDR's recipient); empty for `<>`.
    pub sender: String,
    /// Arrival, Unix seconds.
    pub received_at: i64,
    /// DSN RET (`FULL` / `HDRS`).
    pub ret: Option<String>,
    /// DSN ENVID.
    pub envid: Option<String>,
    /// The message as queued.
    pub content: Arc<Vec<u8>>,
    /// The failed recipients.
    pub recipients: Vec<FailedRecipient>,
}

impl Store {
    /// Puts recipients left `in_flight` by a crash back in the queue, due now; returns
    /// how many. Run at start.
    ///
    /// Write, atomic. Only before any delivery runs: it cannot tell a claim cut short
    /// from one under way, so a delivery running meanwhile could be made twice.
    ///
    /// # Errors
    /// Store failures.
    pub async fn queue_recover(&self) -> StoreResult<usize> {
        dispatch!(self, b => b.queue_recover().await)
    }

    /// How many messages wait in the outbound queue (some recipient not yet delivered
    /// nor failed), for the Monitor.
    ///
    /// Read, one snapshot.
    ///
    /// # Errors
    /// Store failures.
    pub async fn queue_waiting(&self) -> StoreResult<u64> {
        dispatch!(self, b => b.queue_waiting().await)
    }

    /// When the oldest message still waiting in the queue arrived, Unix seconds.
    ///
    /// Read, one snapshot.
    ///
    /// # Errors
    /// Store failures.
    pub async fn queue_oldest(&self) -> StoreResult<Option<i64>> {
        dispatch!(self, b => b.queue_oldest().await)
    }

    /// Claims up to `limit` due recipients (state → `in_flight`) and returns them by
    /// message. Claiming and reading are one transaction, so nothing is taken twice.
    ///
    /// Write, atomic: earliest due first; no recipient is claimed by two calls, even
    /// from two nodes sharing a backend (which must lock the rows it claims). A
    /// claimed recipient stays in flight until [`Store::queue_record`] records it or
    /// [`Store::queue_recover`] puts it back.
    ///
    /// # Errors
    /// Store failures; then nothing was claimed.
    pub async fn queue_claim_due(&self, limit: usize) -> StoreResult<Vec<DueMessage>> {
        dispatch!(self, b => b.queue_claim_due(limit).await)
    }

    /// When the next scheduled or deferred recipient is due, if any (perhaps already).
    ///
    /// Read, one snapshot.
    ///
    /// # Errors
    /// Store failures.
    pub async fn queue_next_due(&self) -> StoreResult<Option<i64>> {
        dispatch!(self, b => b.queue_next_due().await)
    }

    /// The contents of several queued messages (by row id) in one read; those that
    /// are gone are left out.
    ///
    /// Read, not one snapshot: each message is read on its own (a queued content never
    /// changes).
    ///
    /// # Errors
    /// Store failures.
    pub async fn queue_contents(&self, ids: Vec<i64>) -> StoreResult<HashMap<i64, Arc<Vec<u8>>>> {
        dispatch!(self, b => b.queue_contents(ids).await)
    }

    /// Records the outcomes of an attempt (recipient row id, address, outcome), with
    /// tracking records when `track` is set.
    ///
    /// Write, atomic: every outcome and its record, or none. Delivered and failed are
    /// final, deferred is due at `retry_at`, returned is due now. An outcome is kept
    /// only for a recipient still in flight: one the administrator deleted during the
    /// attempt ([`Store::queue_delete`]) stays deleted.
    ///
    /// # Errors
    /// Store failures; then no outcome was recorded (the recipients stay `in_flight`).
    pub async fn queue_record(&self, outcomes: Vec<(i64, String, Attempt)>, track: bool) -> StoreResult<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        dispatch!(self, b => b.queue_record(outcomes, track).await)
    }

    /// Fails scheduled or deferred recipients of messages that arrived more than
    /// `max_age_secs` ago, with status [`EXPIRED_STATUS`] and a reason that keeps their
    /// last error, in one transaction; returns how many.
    ///
    /// Write, atomic. Recipients in flight are left to their attempt.
    ///
    /// # Errors
    /// Store failures.
    pub async fn queue_expire(&self, max_age_secs: i64) -> StoreResult<usize> {
        dispatch!(self, b => b.queue_expire(now_secs() - max_age_secs).await)
    }

    /// Messages with failed recipients whose NDR is not written yet: at most `limit`
    /// recipients, by message in queue order, each message with its content.
    ///
    /// Read, not one snapshot: the recipients, then each content. It claims nothing:
    /// two callers at once get the same recipients.
    ///
    /// # Errors
    /// Store failures.
    pub async fn queue_ndr_due(&self, limit: usize) -> StoreResult<Vec<NdrDue>> {
        dispatch!(self, b => b.queue_ndr_due(limit).await)
    }

    /// Drops queue entries whose every recipient is final (delivered, or failed with
    /// its NDR done); their content goes with them unless a mailbox copy still uses
    /// it. Tracking keeps their history. Returns how many entries went.
    ///
    /// Write, atomic.
    ///
    /// # Errors
    /// Store failures.
    pub async fn queue_purge_finished(&self) -> StoreResult<usize> {
        dispatch!(self, b => b.queue_purge_finished().await)
    }

    /// Stores an NDR (if any) through the same path as every other message, and marks
    /// `recipients` as reported, in one transaction: an NDR is never lost and never
    /// written twice.
    ///
    /// Write, atomic: the NDR is stored as [`Store::accept`] stores a message, unless
    /// every one of `recipients` was reported already (by another writer, later another
    /// node): then nothing is stored. The watchers hear of the NDR's mailbox copies.
    ///
    /// # Errors
    /// Store failures; then nothing changed.
    pub async fn queue_write_ndr(&self, recipients: Vec<i64>, ndr: Option<NewMessage>) -> StoreResult<()> {
        let told: Vec<i64> = ndr.as_ref().map(|m| m.mailboxes.clone()).unwrap_or_default();
        dispatch!(self, b => b.queue_write_ndr(recipients, ndr).await)?;
        for mailbox in told {
            self.changed(mailbox);
        }
        Ok(())
    }
}
