//! The store: every byte Mailroom keeps, behind one door.
//!
//! **The contract.** [`Store`] is the only way any other module reads or writes what
//! Mailroom keeps. Its methods speak the service's own language — accept a message,
//! claim due recipients, record a delivery attempt, delete what a POP3 session
//! deleted — never SQL, and its failures are [`StoreError`]s that say *what* went wrong
//! (the disk is full, the database is busy or damaged, the thing is not there…) without
//! naming the database that said so. No module outside `store/` sees a SQL statement
//! or a database type.
//!
//! **Backends.** Every method is implemented by a backend and dispatched to it from
//! here, in the manner of Stalwart's `crates/store`: `Store` holds an enum of backends
//! and each method matches on it. Today the enum has one variant, [`sqlite`] (one
//! database file, a group-commit writer thread, WAL readers on the blocking pool); a
//! second backend (PostgreSQL, say) is a new variant whose module implements the same
//! methods with the same meaning. An enum rather than a trait object because the
//! methods are `async` and their futures must be `Send` for tokio, which `dyn` traits
//! cannot promise without boxing every call; and because a new backend then shows up
//! at each method, where the compiler makes sure nothing is forgotten.
//!
//! **What every backend promises.**
//! - A write method's `Ok` means the change is durable (on disk, fsync'd): SMTP says
//!   `250` on the strength of it.
//! - A write method changes everything it is asked to or nothing: a failure leaves no
//!   half-written state behind.
//! - Message content is stored **once** (single-instance storage, as Exchange 5.5's
//!   Information Store did): every mailbox copy of a message and its outbound queue
//!   entry share one content, and a copy's own data is only its per-mailbox row (its
//!   UID, its size, its `Return-Path:` prefix). Content goes with its last reference,
//!   in the same transaction.
//!
//! **How to read a method's promise.** Each method's doc says, in a line or two before
//! its `# Errors`, what every backend must guarantee for it, in these words:
//! - A **read** changes nothing. It sees at least every write whose `Ok` was returned
//!   before it was called (a caller always reads its own writes), perhaps some that
//!   commit while it runs. It is **one snapshot** only where its doc says so: then all
//!   it returns is as of one moment, and a write is in it whole or not at all. A read
//!   that is not one snapshot reads each part (a row, one list of rows) whole, but a
//!   write that commits meanwhile may show in some parts and not in others.
//! - A **write**'s `Ok` means it is **durable**: committed and on disk (fsync'd), so it
//!   survives a crash or a power cut. A write whose caller stops waiting (its future
//!   dropped) may still be committed.
//! - A write is **atomic** unless its doc says otherwise: what it does is one
//!   transaction, kept whole or not at all (an `Err`: nothing of it kept), never seen
//!   in part by a read, and isolated from other writes: what it checks (a revision, a
//!   state, a date, a name) is still so when it changes things, as if writes ran one
//!   at a time. The SQLite backend runs them so, on its one writer thread; another
//!   backend must lock what it checks (or retry a serialisation failure) to keep the
//!   same promise.
//! - **Order**: writes take effect in commit order, and where a write hands out
//!   numbers (a folder's UIDs and mod-sequences, the configuration's revision) a later
//!   commit gets a higher one. Lists are in the order the method names, or in none.
//! - **Watchers told**: [`Store::watch`] hears of the mailbox after the commit, so a
//!   watcher that reads on the notice sees the change.
//! - **Errors**: `NotFound`, `Conflict` and `Invalid` mean what each method's
//!   `# Errors` says, and then nothing changed. "Store failures" are the other
//!   variants of [`StoreError`] (`Full`, `Busy`, `Io`, `Corrupt`, `Closed`,
//!   `Internal`), which any method may return.
//! - **Ids**: a row id the store hands out (of a mailbox, a folder, a message copy, a
//!   queue entry or recipient, a quarantined message) names that row for good: it is
//!   never given to another, so a caller holding an id across calls (a POP3 session's
//!   list, a delivery in flight) can never reach a row that took a gone one's place.
//!
//! The methods live beside their domain types, one file per area (`admin.rs`,
//! `backup.rs`, `config.rs`, `dkim.rs`, `filtering.rs`, `imap.rs`, `import.rs`,
//! `mailboxes.rs`, `messages.rs`, `options.rs`, `pop3.rs`, `queue.rs`,
//! `recipients.rs`, `sharing.rs`); each backend has a file per area too.

mod admin;
pub mod backup;
mod config;
pub mod dav;
mod dkim;
mod filtering;
pub mod imap;
pub mod import;
mod mailboxes;
mod messages;
pub mod options;
mod pop3;
pub mod public;
mod queue;
pub mod recipients;
pub mod sharing;
mod sqlite;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::Arc;

pub use admin::{ContentStats, QueueFilter, TrackFilter};
pub use dkim::{DkimAlgorithm, DkimKey};
pub use filtering::{ClientTest, FilterEvent, Greylist, GreylistTimes, Held, Quarantined, SendingHold};
pub use imap::{
    Appended, FlagChange, FlagUpdate, Folder, FolderCounts, FolderHead, FolderState, ImapMessage, ObjectIds, Stored,
};
pub use mailboxes::{Mailbox, NewMailbox};
pub use messages::{Failure, NewMessage, Outbound, OutboundRecipient, SentBy, TrackEvent, TrackingRecord};
pub use pop3::MessageRef;
pub use queue::{Attempt, DueMessage, DueRecipient, FailedRecipient, NdrDue};
pub use sharing::{Access, Grant, Grantee, SharedCollection, SharedFolder};

/// A store failure, in terms of what went wrong rather than which database said so.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The disk (or the database's quota) is full: nothing more can be written until
    /// space is freed. Temporary.
    #[error("the disk is full ({0})")]
    Full(String),
    /// The database stayed locked by someone else for longer than the store waits.
    /// Temporary.
    #[error("the database is busy ({0})")]
    Busy(String),
    /// Reading or writing the database failed (an I/O error, no permission, cannot
    /// open). Possibly temporary.
    #[error("storage error: {0}")]
    Io(String),
    /// Stored data is damaged or could not be decoded.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The thing named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The change conflicts with what is stored (address taken, stale revision).
    #[error("{0}")]
    Conflict(String),
    /// An argument was rejected.
    #[error("{field}: {message}")]
    Invalid {
        /// Which argument.
        field: String,
        /// Why.
        message: String,
    },
    /// The store is shutting down and takes no more work.
    #[error("the store is closed")]
    Closed,
    /// Anything else the backend reported: a bug, most likely.
    #[error("internal store error: {0}")]
    Internal(String),
}

impl StoreError {
    /// True when the same request may succeed later without anyone changing it: the
    /// disk may get space, the lock may be released.
    pub fn is_temporary(&self) -> bool {
        matches!(self, StoreError::Full(_) | StoreError::Busy(_) | StoreError::Io(_) | StoreError::Closed)
    }
}

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// The backends a [`Store`] can use.
enum Backend {
    /// One SQLite database file.
    Sqlite(sqlite::Sqlite),
}

/// Calls the same method on whichever backend the store uses.
macro_rules! dispatch {
    ($store:expr, $backend:ident => $call:expr) => {
        match &*$store.backend {
            Backend::Sqlite($backend) => $call,
        }
    };
}
use dispatch;

/// Handle to the store; cheap to clone. The backend closes (finishing what it holds)
/// when the last handle is dropped.
#[derive(Clone)]
pub struct Store {
    backend: Arc<Backend>,
    /// Told the mailbox whose messages a committed write changed ([`ANY_MAILBOX`] when
    /// it may be several): IMAP sessions in IDLE hear of new mail, expunges and flag
    /// changes at once, without polling.
    changes: tokio::sync::broadcast::Sender<i64>,
    /// How many mailboxes have an automatic reply on, once read.
    answering: Arc<options::Counted>,
    /// How many forward or have limits of their own, once read.
    optioned: Arc<options::Counted>,
    /// Moved on by every write that may change who has which rights (a grant, a
    /// list's members, a mailbox or list removed): a session holding rights on another's
    /// folder reads them again when it moves ([`Store::rights_epoch`]).
    rights_epoch: Arc<std::sync::atomic::AtomicU64>,
}

/// A change notice that concerns every mailbox (a release from the quarantine, whose
/// recipients the store does not list back).
pub const ANY_MAILBOX: i64 = -1;

impl Store {
    /// How long the store's commits take (each one durable on disk), as a histogram in
    /// seconds, for the metrics endpoint.
    ///
    /// Touches no stored data: the histogram is kept in memory by the backend.
    pub fn commit_seconds(&self) -> prometheus_client::metrics::histogram::Histogram {
        match &*self.backend {
            Backend::Sqlite(b) => b.commit_seconds(),
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &*self.backend {
            Backend::Sqlite(s) => f.debug_tuple("Store").field(s).finish(),
        }
    }
}

impl Store {
    /// Opens (creating if needed) the SQLite database at `path`, brings its schema up
    /// to date and starts its writer.
    ///
    /// Each migration is one durable transaction: one that fails leaves the database at
    /// the version before it.
    ///
    /// # Errors
    /// When the file cannot be opened or a migration fails;
    /// [`StoreError::Corrupt`] when the database is newer than this build.
    pub fn open(path: &Path) -> StoreResult<Store> {
        let (changes, _) = tokio::sync::broadcast::channel(1024);
        Ok(Store {
            backend: Arc::new(Backend::Sqlite(sqlite::Sqlite::open(path)?)),
            changes,
            answering: Arc::default(),
            optioned: Arc::default(),
            rights_epoch: Arc::default(),
        })
    }

    /// Notices of changed mailboxes from now on: a mailbox id, or [`ANY_MAILBOX`]. A
    /// receiver that falls behind is told it lagged, and must then look again at
    /// whatever it watches.
    ///
    /// Each notice is sent after its write committed (the methods that send one say
    /// so); notices of concurrent writes may come in either order, and none is stored.
    pub fn watch(&self) -> tokio::sync::broadcast::Receiver<i64> {
        self.changes.subscribe()
    }

    /// Tells the watchers that `mailbox`'s messages changed (after the commit).
    fn changed(&self, mailbox: i64) {
        // Fails only when nobody watches.
        let _ = self.changes.send(mailbox);
    }
}

/// Seconds since the Unix epoch, as stored in timestamps.
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
