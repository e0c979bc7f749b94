//! The SQLite backend: one database file, written by one thread with group commit.
//!
//! **Writes** go through one dedicated thread that owns the only write connection.
//! Each domain method hands it a closure ([`Sqlite::write`]); the thread takes every
//! job waiting in its queue, runs each inside its own savepoint of a single
//! transaction, commits once (`synchronous=FULL`: the commit is fsync'd), and only then
//! answers each caller. Concurrent writers therefore share one fsync — group commit —
//! and a job that fails rolls back only its own savepoint. A caller's `Ok` means its
//! data is on disk.
//!
//! **Reads** use separate connections (WAL lets them run beside the writer) on tokio's
//! blocking pool ([`Sqlite::read`]). No SQLite call ever runs on an async worker thread.
//!
//! `write` and `read` are private to this backend: the rest of the service sees only
//! the store's domain methods, one file per area here as in `store/`.
//!
//! Message content lives once in `contents`, with a reference count kept by triggers
//! on the tables that use it (`messages`, `queue_messages`): a content row is deleted by
//! the same statement that removes its last reference, whichever path removes it (POP3,
//! a deleted mailbox, the queue's purge).

mod admin;
mod backup;
mod config;
mod dav;
mod dkim;
mod filtering;
mod imap;
mod import;
mod mailboxes;
mod messages;
mod options;
mod pop3;
mod public;
mod queue;
mod recipients;
mod schema;
mod sharing;

pub(in crate::store) use backup::check_database;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use prometheus_client::metrics::histogram::Histogram;
use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction};
use tokio::sync::oneshot;

use super::{StoreError, StoreResult};

/// Called after the batch's commit with its outcome, to answer the caller.
type Completion = Box<dyn FnOnce(Result<(), &StoreError>) + Send>;
/// A write job: runs inside the batch transaction (or is told the transaction could
/// not begin), and returns its completion.
type Job = Box<dyn FnOnce(Result<&Transaction<'_>, &StoreError>) -> Completion + Send>;

/// Most jobs committed in one transaction; bounds the latency a big burst adds.
const MAX_BATCH: usize = 512;

/// The SQLite backend.
pub(super) struct Sqlite {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    /// Jobs for the writer thread. Dropping the backend closes it, which ends the
    /// thread after it has committed what it holds.
    jobs: std::sync::mpsc::Sender<Job>,
    /// Idle read connections, of each kind ([`Reader`]); one is opened whenever none
    /// is idle.
    readers: [Mutex<Vec<Connection>>; 2],
    /// The writer thread, joined on drop so the last commit finishes before exit.
    writer: Mutex<Option<JoinHandle<()>>>,
    /// How long each commit (and its fsync) took, for the metrics endpoint.
    commit_seconds: Histogram,
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

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqlite").field("path", &self.inner.path).finish()
    }
}

/// SQLite's errors, said in the store's terms.
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        let text = e.to_string();
        match &e {
            rusqlite::Error::SqliteFailure(f, _) => match f.code {
                ErrorCode::DiskFull => StoreError::Full(text),
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => StoreError::Busy(text),
                ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => StoreError::Corrupt(text),
                ErrorCode::SystemIoFailure
                | ErrorCode::CannotOpen
                | ErrorCode::ReadOnly
                | ErrorCode::PermissionDenied
                | ErrorCode::FileLockingProtocolFailed
                | ErrorCode::OutOfMemory => StoreError::Io(text),
                ErrorCode::ConstraintViolation => StoreError::Conflict(text),
                _ => StoreError::Internal(text),
            },
            rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound(text),
            rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::IntegralValueOutOfRange(..)
            | rusqlite::Error::Utf8Error(..)
            | rusqlite::Error::InvalidColumnType(..) => StoreError::Corrupt(text),
            _ => StoreError::Internal(text),
        }
    }
}

/// How much of the database a content reader maps (address space, not memory: the
/// pages are the kernel's page cache, shared by every reader). SQLite caps it at its
/// build's limit (2 GiB in the bundled build); pages past it are read as before.
const READER_MMAP: i64 = 1 << 34;

/// What a read connection is for.
///
/// Messages' contents are read through a mapping of the database instead of copying
/// every page through a `read()`: a FETCH of whole messages spent a quarter of its
/// time in pread. But SQLite drops a connection's whole mapping when its next read
/// transaction finds the database written since its last (any delivery, any login
/// recorded), and unmapping what a FETCH of 10,000 headers touched took 5 ms, with
/// the pages to fault in again after: a SELECT after one took 10 ms instead of 1. So
/// only the reads of contents map; everything else reads the few pages it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    /// Folders, flags, counts, settings: a few pages each, read with pread.
    Plain = 0,
    /// Messages' contents, headers and bodies, and what searches read of a whole
    /// folder: many pages, mapped.
    Content = 1,
}

fn open_connection(path: &Path, reader: Option<Reader>) -> rusqlite::Result<Connection> {
    let flags = if reader.is_some() {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    match reader {
        // Pages still in the WAL are read as before. The writer keeps plain I/O.
        Some(Reader::Content) => conn.pragma_update(None, "mmap_size", READER_MMAP)?,
        Some(Reader::Plain) => {}
        None => {
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
        }
    }
    Ok(conn)
}

impl Sqlite {
    pub(super) fn commit_seconds(&self) -> Histogram {
        self.inner.commit_seconds.clone()
    }

    /// Opens (creating if needed) the database at `path`, applies pending schema
    /// migrations and starts the writer thread.
    pub(super) fn open(path: &Path) -> StoreResult<Sqlite> {
        let mut conn = open_connection(path, None)?;
        schema::migrate(&mut conn)?;
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        // 0.25 ms to 4 s: a commit is one fsync or a few.
        let commit_seconds =
            Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(0.000_25, 2.0, 15));
        let timing = commit_seconds.clone();
        let writer = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || writer_loop(conn, rx, &timing))
            .map_err(|e| StoreError::Io(format!("cannot start the writer thread: {e}")))?;
        Ok(Sqlite {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                jobs: tx,
                readers: [Mutex::new(Vec::new()), Mutex::new(Vec::new())],
                writer: Mutex::new(Some(writer)),
                commit_seconds,
            }),
        })
    }

    /// Runs `f` in a write transaction shared with other concurrent writes, and returns
    /// once the transaction is committed to disk.
    ///
    /// # Errors
    /// `f`'s own error (its changes rolled back, others' kept), or the commit's error
    /// (nothing of the batch kept).
    async fn write<T, F>(&self, f: F) -> StoreResult<T>
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

    /// Runs `f` on a read connection, on the blocking pool, in one read transaction:
    /// what `f` reads is one snapshot of the database.
    ///
    /// # Errors
    /// `f`'s error, or a failure to open a read connection.
    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.read_on(Reader::Plain, true, f).await
    }

    /// [`Sqlite::read`] for reads of messages' contents, on a connection that maps the
    /// database ([`Reader::Content`]).
    ///
    /// # Errors
    /// As [`Sqlite::read`].
    async fn read_content<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.read_on(Reader::Content, true, f).await
    }

    /// Runs `f` on a read connection of the `reader` kind, in a read transaction when
    /// `snapshot` (one is not wanted by a statement that makes its own, as `VACUUM
    /// INTO` does).
    async fn read_on<T, F>(&self, reader: Reader, snapshot: bool, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let pool = &inner.readers[reader as usize];
            let idle = pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let conn = match idle {
                Some(c) => c,
                None => open_connection(&inner.path, Some(reader))?,
            };
            // Under WAL every statement of `f` then sees the database as of its first
            // read, so a read that looks at several things (a folder and its messages)
            // never sees half of a write.
            if snapshot {
                conn.execute_batch("BEGIN")?;
            }
            let result = f(&conn);
            if snapshot {
                // A connection whose transaction did not end is not used again.
                conn.execute_batch("COMMIT")?;
            }
            pool.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
            result
        })
        .await
        .map_err(|e| StoreError::Internal(format!("read task failed: {e}")))?
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

/// The writer thread: takes what is queued, runs it in one transaction, commits once.
/// Failures are returned to each caller, who decides how to report them; nothing is
/// logged here, so that one failure is logged once.
fn writer_loop(mut conn: Connection, jobs: std::sync::mpsc::Receiver<Job>, commit_seconds: &Histogram) {
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
                for job in batch {
                    job(Err(&e))(Err(&e));
                }
                continue;
            }
        };
        // SQLite itself rolls the whole transaction back on some failures (a full disk,
        // an I/O error); a job run after that would run outside it, and its savepoint's
        // release would commit it on its own while the batch reports failure. Once the
        // transaction is gone, the rest of the batch fails unrun (and is retried by its
        // callers).
        let gone = StoreError::Io("the transaction was rolled back by an earlier failure".into());
        let completions: Vec<Completion> =
            batch.into_iter().map(|job| if tx.is_autocommit() { job(Err(&gone)) } else { job(Ok(&tx)) }).collect();
        let started = std::time::Instant::now();
        let committed = tx.commit().map_err(StoreError::from);
        commit_seconds.observe(started.elapsed().as_secs_f64());
        for done in completions {
            done(committed.as_ref().map(|_| ()));
        }
    }
}

/// `n` as a SQLite integer.
fn int(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A SQLite integer as a size.
fn size(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[cfg(test)]
mod tests;
