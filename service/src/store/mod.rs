//! The store: every byte Mailroom keeps, in one SQLite database.
//!
//! **Writes** go through one dedicated thread that owns the only write connection.
//! Callers hand it a closure ([`Store::write`]); the thread takes every job waiting in
//! its queue, runs each inside its own savepoint of a single transaction, commits once
//! (`synchronous=FULL`: the commit is fsync'd), and only then answers each caller.
//! Concurrent writers therefore share one fsync — group commit — and a job that fails
//! rolls back only its own savepoint. A caller's `Ok` means its data is on disk.
//!
//! **Reads** use separate connections (WAL lets them run beside the writer) on tokio's
//! blocking pool ([`Store::read`]). No SQLite call ever runs on an async worker thread.

mod admin;
mod config;
mod mailboxes;
mod pop3;
mod queue;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags, Transaction};
use tokio::sync::oneshot;

pub use admin::{QueueFilter, TrackFilter};
pub use mailboxes::{Mailbox, NewMailbox, dummy_hash, verify_password};
pub use pop3::MessageRef;
pub use queue::{Attempt, DueMessage, DueRecipient, FailedRecipient, NdrDelivery, NdrDue};

/// A store failure.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// SQLite reported an error (I/O, disk full, corruption…).
    #[error("database error: {0}")]
    Db(Arc<rusqlite::Error>),
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
    /// Stored data could not be decoded.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The writer thread is gone (the store is shutting down).
    #[error("the store is closed")]
    Closed,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Db(Arc::new(e))
    }
}

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Called after the batch's commit with its outcome, to answer the caller.
type Completion = Box<dyn FnOnce(Result<(), &StoreError>) + Send>;
/// A write job: runs inside the batch transaction (or is told the transaction could
/// not begin), and returns its completion.
type Job = Box<dyn FnOnce(Result<&Transaction<'_>, &StoreError>) -> Completion + Send>;

/// Most jobs committed in one transaction; bounds the latency a big burst adds.
const MAX_BATCH: usize = 512;

/// Handle to the store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    /// Jobs for the writer thread. Dropping the last `Store` closes it, which ends the
    /// thread after it has committed what it holds.
    jobs: std::sync::mpsc::Sender<Job>,
    /// Idle read connections; one is opened whenever none is idle.
    readers: Mutex<Vec<Connection>>,
    /// The writer thread, joined on drop so the last commit finishes before exit.
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Close the channel first so the writer's `recv` returns.
        let (dead, _) = std::sync::mpsc::channel();
        self.jobs = dead;
        if let Some(h) = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = h.join();
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.inner.path).finish()
    }
}

fn open_connection(path: &Path, read_only: bool) -> rusqlite::Result<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    if !read_only {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
    }
    Ok(conn)
}

impl Store {
    /// Opens (creating if needed) the database at `path`, applies pending schema
    /// migrations and starts the writer thread.
    ///
    /// # Errors
    /// When the file cannot be opened or a migration fails.
    pub fn open(path: &Path) -> StoreResult<Store> {
        let mut conn = open_connection(path, false)?;
        schema::migrate(&mut conn)?;
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let writer = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || writer_loop(conn, rx))
            .map_err(|e| StoreError::Corrupt(format!("cannot start the writer thread: {e}")))?;
        Ok(Store {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                jobs: tx,
                readers: Mutex::new(Vec::new()),
                writer: Mutex::new(Some(writer)),
            }),
        })
    }

    /// Runs `f` in a write transaction shared with other concurrent writes, and returns
    /// once the transaction is committed to disk.
    ///
    /// # Errors
    /// `f`'s own error (its changes rolled back, others' kept), or the commit's error
    /// (nothing of the batch kept).
    pub async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> StoreResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |tx| {
            let result = match tx {
                Ok(tx) => in_savepoint(tx, f),
                Err(e) => Err(e.clone()),
            };
            Box::new(move |commit: Result<(), &StoreError>| {
                let _ = reply.send(match commit {
                    Ok(()) => result,
                    Err(e) => Err(e.clone()),
                });
            })
        });
        self.inner.jobs.send(job).map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs `f` on a read connection, on the blocking pool.
    ///
    /// # Errors
    /// `f`'s error, or a failure to open a read connection.
    pub async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let idle = inner.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let conn = match idle {
                Some(c) => c,
                None => open_connection(&inner.path, true)?,
            };
            let result = f(&conn);
            inner.readers.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
            result
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("read task failed: {e}")))?
    }
}

/// Runs one job inside a savepoint so that its failure undoes only its own changes.
fn in_savepoint<T>(tx: &Transaction<'_>, f: impl FnOnce(&Transaction<'_>) -> StoreResult<T>) -> StoreResult<T> {
    tx.execute_batch("SAVEPOINT job")?;
    match f(tx) {
        Ok(v) => {
            tx.execute_batch("RELEASE job")?;
            Ok(v)
        }
        Err(e) => {
            tx.execute_batch("ROLLBACK TO job; RELEASE job")?;
            Err(e)
        }
    }
}

fn writer_loop(mut conn: Connection, jobs: std::sync::mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let tx = match conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => {
                let e = StoreError::from(e);
                tracing::error!(target: "mailroom_service::store", error = %e, "cannot begin a write transaction");
                for job in batch {
                    job(Err(&e))(Err(&e));
                }
                continue;
            }
        };
        let completions: Vec<Completion> = batch.into_iter().map(|job| job(Ok(&tx))).collect();
        let committed = tx.commit().map_err(StoreError::from);
        if let Err(e) = &committed {
            tracing::error!(target: "mailroom_service::store", error = %e, "commit failed; batch discarded");
        }
        for done in completions {
            done(committed.as_ref().map(|_| ()));
        }
    }
}

/// Seconds since the Unix epoch, as stored in timestamp columns.
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
