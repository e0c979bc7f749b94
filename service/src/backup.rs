//! Backups and restores (`mailroomctl backup FILE`, `mailroomd --restore FILE`).
//!
//! A backup is a gzip-compressed tar file holding `manifest.json` (the mailroomd
//! version, the schema, what the store holds, the database's SHA-256) and
//! `mailroom.db`, a consistent copy of the store taken while mail goes on flowing
//! (SQLite's `VACUUM INTO`, on the store's side of its door). A restore checks the
//! file — its checksum, the database's integrity, a schema this build understands —
//! and writes the database into a data directory that has none and no service
//! running; it never overwrites a live store.
//!
//! The Backup page schedules one a day at a local time ([`schedule`]), into a
//! directory (`backups` in the data directory unless named), keeping the newest N:
//! only files this schedule names (`mailroom-backup-YYYYMMDD-HHMMSS.tar.gz`) are ever
//! deleted.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use mailroom_shared::ipc::BackupManifest;

use crate::store::{Store, backup::DatabaseFacts};

/// Where scheduled backups stand, for the status report; process-wide, so that a
/// restart does not forget the last one.
#[derive(Debug, Default)]
pub struct Scheduled(std::sync::Mutex<mailroom_shared::ipc::BackupSchedule>);

impl Scheduled {
    /// What the status report says: `None` when `config` schedules nothing.
    pub fn report(&self, config: &mailroom_shared::config::Backup) -> Option<mailroom_shared::ipc::BackupSchedule> {
        config.daily_at.map(|_| self.0.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }

    fn update(&self, change: impl FnOnce(&mut mailroom_shared::ipc::BackupSchedule)) {
        change(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()));
    }
}

/// A scheduled backup's file name prefix and suffix.
const PREFIX: &str = "mailroom-backup-";
const SUFFIX: &str = ".tar.gz";

/// Makes a backup every day at the Backup page's time, and deletes the oldest beyond
/// the number to keep, until the run drains.
pub async fn schedule(
    store: Store,
    config: mailroom_shared::config::Backup,
    data_dir: PathBuf,
    state: std::sync::Arc<Scheduled>,
    shutdown: crate::shutdown::Shutdown,
) {
    let Some(at) = config.daily_at else { return };
    let dir = config.directory.clone().unwrap_or_else(|| data_dir.join("backups"));
    state.update(|s| {
        s.directory = dir.display().to_string();
        s.keep = config.keep;
    });
    loop {
        let next = mailroom_shared::time::next_local(crate::store::now_secs(), at);
        state.update(|s| s.next_at = Some(next));
        let wait = std::time::Duration::from_secs(u64::try_from(next - crate::store::now_secs()).unwrap_or(0));
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = shutdown.draining() => return,
        }
        let now = crate::store::now_secs();
        let outcome = make_scheduled(&store, &dir, config.keep, now).await;
        match &outcome {
            Ok((file, m, removed)) => {
                tracing::info!(file = %file.display(), messages = m.messages, removed, "scheduled backup made")
            }
            Err(e) => tracing::error!(error = %e, directory = %dir.display(), "the scheduled backup failed"),
        }
        state.update(|s| {
            s.last_at = Some(now);
            match outcome {
                Ok((file, _, _)) => {
                    s.last_file = Some(file.display().to_string());
                    s.last_error = None;
                }
                Err(e) => s.last_error = Some(e.to_string()),
            }
        });
        // Not twice in the same second when the clock is at the time still.
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

/// One scheduled backup into `dir` (made if missing, private), then the oldest beyond
/// `keep` deleted: the file, its manifest, and how many were deleted.
async fn make_scheduled(
    store: &Store,
    dir: &Path,
    keep: u32,
    now: i64,
) -> Result<(PathBuf, BackupManifest, usize), BackupError> {
    if !dir.exists() {
        crate::files::create_private_dir(dir, 0o700)?;
    }
    let file = dir.join(format!("{PREFIX}{}{SUFFIX}", mailroom_shared::time::local_stamp(now)));
    let manifest = create(store, &file).await?;
    let removed = prune(dir, keep).map_err(BackupError::Prune)?;
    Ok((file, manifest, removed))
}

/// Deletes the scheduled backups in `dir` beyond the newest `keep`; how many.
fn prune(dir: &Path, keep: u32) -> std::io::Result<usize> {
    let mut ours: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.strip_prefix(PREFIX).and_then(|rest| rest.strip_suffix(SUFFIX)).is_some_and(|stamp| {
                    stamp.len() == 15
                        && stamp.bytes().enumerate().all(|(i, b)| if i == 8 { b == b'-' } else { b.is_ascii_digit() })
                })
            })
        })
        .collect();
    // The stamp sorts as the time does.
    ours.sort();
    let excess = ours.len().saturating_sub(usize::try_from(keep).unwrap_or(usize::MAX));
    for old in &ours[..excess] {
        std::fs::remove_file(old)?;
    }
    Ok(excess)
}

/// The database's name inside a backup, and in a data directory.
const DATABASE: &str = "mailroom.db";
/// The manifest's name inside a backup.
const MANIFEST: &str = "manifest.json";

fn hex_sha256(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn manifest(facts: DatabaseFacts, database: &[u8]) -> BackupManifest {
    BackupManifest {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        created_at: crate::store::now_secs(),
        schema: facts.schema,
        mailboxes: facts.mailboxes,
        messages: facts.messages,
        queued: facts.queued,
        database_bytes: database.len() as u64,
        sha256: hex_sha256(database),
    }
}

/// Why a backup could not be made or restored, in words a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The destination is not an absolute path.
    #[error("{} is not an absolute path", .0.display())]
    NotAbsolute(PathBuf),
    /// The destination exists: a backup never overwrites a file.
    #[error("{} exists already; a backup never overwrites a file", .0.display())]
    Exists(PathBuf),
    /// The destination's folder does not exist.
    #[error("{}'s folder does not exist", .0.display())]
    NoFolder(PathBuf),
    /// The store could not be copied.
    #[error("cannot copy the store: {0}")]
    Snapshot(crate::store::StoreError),
    /// The copy could not be read back.
    #[error("cannot read the copy: {0}")]
    ReadCopy(std::io::Error),
    /// A file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The task that packs the backup failed.
    #[error("the backup task failed: {0}")]
    Task(String),
    /// The scheduled backups' directory could not be made.
    #[error(transparent)]
    Directory(#[from] crate::files::FileError),
    /// The backup was made, but older ones could not be deleted.
    #[error("backed up, but cannot delete old backups: {0}")]
    Prune(std::io::Error),
    /// The backup file cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Its manifest cannot be read.
    #[error("{}'s manifest cannot be read: {reason}", path.display())]
    Manifest {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file is not a backup.
    #[error("{} is not a Mailroom backup (no manifest or no database)", .0.display())]
    NotABackup(PathBuf),
    /// Its database does not match the manifest's checksum.
    #[error("{}'s database does not match its manifest's checksum: the file is damaged", .0.display())]
    Damaged(PathBuf),
    /// The data directory holds a store already.
    #[error(
        "{} already holds a store ({}); restore into an empty data directory, then point mailroomd at it",
        data_dir.display(),
        target.display()
    )]
    StoreExists {
        /// The data directory.
        data_dir: PathBuf,
        /// Its database.
        target: PathBuf,
    },
    /// The restored database does not hold what the manifest lists.
    #[error("the restored database does not hold what its manifest says")]
    NotAsListed,
    /// The restored database fails its checks.
    #[error("the backup's database cannot be used: {0}")]
    Unusable(crate::store::StoreError),
}

/// Writes a backup of `store` to `dest`, a new file; its manifest.
///
/// # Errors
/// In words a person can act on: an existing `dest`, a store failure, a write error.
pub async fn create(store: &Store, dest: &Path) -> Result<BackupManifest, BackupError> {
    if !dest.is_absolute() {
        return Err(BackupError::NotAbsolute(dest.to_owned()));
    }
    if dest.exists() {
        return Err(BackupError::Exists(dest.to_owned()));
    }
    let dir = dest.parent().filter(|p| p.is_dir()).ok_or_else(|| BackupError::NoFolder(dest.to_owned()))?;
    // The copy is made beside the backup, then packed into it and removed.
    let copy: PathBuf = dir.join(format!(".mailroom-backup-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&copy);
    let facts = store.snapshot(copy.clone()).await.map_err(BackupError::Snapshot)?;
    let dest = dest.to_owned();
    tokio::task::spawn_blocking(move || {
        let database = std::fs::read(&copy).map_err(BackupError::ReadCopy);
        let _ = std::fs::remove_file(&copy);
        let database = database?;
        let manifest = manifest(facts, &database);
        pack(&dest, &manifest, &database).map_err(|source| {
            let _ = std::fs::remove_file(&dest);
            BackupError::Write { path: dest.clone(), source }
        })?;
        Ok(manifest)
    })
    .await
    .map_err(|e| BackupError::Task(e.to_string()))?
}

/// Writes the tar.gz: the manifest, then the database; fsync'd.
fn pack(dest: &Path, manifest: &BackupManifest, database: &[u8]) -> std::io::Result<()> {
    let file = std::fs::OpenOptions::new().write(true).create_new(true).open(dest)?;
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let json = serde_json::to_vec_pretty(manifest).map_err(std::io::Error::other)?;
    for (name, bytes) in [(MANIFEST, json.as_slice()), (DATABASE, database)] {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o600);
        header.set_mtime(u64::try_from(manifest.created_at).unwrap_or(0));
        header.set_cksum();
        tar.append_data(&mut header, name, bytes)?;
    }
    let file = tar.into_inner()?.finish()?;
    file.sync_all()
}

/// Reads a backup: its manifest and database, the checksum verified.
fn unpack(file: &Path) -> Result<(BackupManifest, Vec<u8>), BackupError> {
    let unreadable = |source| BackupError::Read { path: file.to_owned(), source };
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(file).map_err(unreadable)?);
    let mut archive = tar::Archive::new(gz);
    let (mut manifest, mut database) = (None, None);
    for entry in archive.entries().map_err(unreadable)? {
        let mut entry = entry.map_err(unreadable)?;
        let name = entry.path().map_err(unreadable)?.to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(unreadable)?;
        match name.as_str() {
            MANIFEST => {
                let m = serde_json::from_slice::<BackupManifest>(&bytes)
                    .map_err(|e| BackupError::Manifest { path: file.to_owned(), reason: e.to_string() })?;
                manifest = Some(m);
            }
            DATABASE => database = Some(bytes),
            _ => {}
        }
    }
    let (Some(manifest), Some(database)) = (manifest, database) else {
        return Err(BackupError::NotABackup(file.to_owned()));
    };
    if hex_sha256(&database) != manifest.sha256 {
        return Err(BackupError::Damaged(file.to_owned()));
    }
    Ok((manifest, database))
}

/// Restores the backup `file` into `data_dir`, which must hold no database (a store
/// is never overwritten) and whose lock the caller holds (no service runs there).
///
/// # Errors
/// A damaged or foreign file, a database that fails its checks, an existing store.
pub fn restore(file: &Path, data_dir: &Path) -> Result<BackupManifest, BackupError> {
    let target = data_dir.join(DATABASE);
    if target.exists() {
        return Err(BackupError::StoreExists { data_dir: data_dir.to_owned(), target });
    }
    let (manifest, database) = unpack(file)?;
    let partial = data_dir.join(format!(".{DATABASE}.restoring"));
    let unwritable = |source| BackupError::Write { path: partial.clone(), source };
    {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&partial).map_err(unwritable)?;
        f.write_all(&database).map_err(unwritable)?;
        f.sync_all().map_err(unwritable)?;
    }
    match crate::store::backup::check_database(&partial) {
        Ok(facts) if facts.mailboxes == manifest.mailboxes && facts.messages == manifest.messages => {}
        Ok(_) => {
            let _ = std::fs::remove_file(&partial);
            return Err(BackupError::NotAsListed);
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(BackupError::Unusable(e));
        }
    }
    std::fs::rename(&partial, &target).map_err(|source| BackupError::Write { path: target.clone(), source })?;
    std::fs::File::open(data_dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| BackupError::Write { path: data_dir.to_owned(), source })?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruning_keeps_the_newest_and_touches_only_scheduled_backups() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in [
            "mailroom-backup-20260101-023000.tar.gz",
            "mailroom-backup-20260102-023000.tar.gz",
            "mailroom-backup-20260103-023000.tar.gz",
            "mailroom-backup-manual.tar.gz",
            "notes.txt",
        ] {
            std::fs::write(dir.path().join(name), b"x").expect("write");
        }
        assert_eq!(prune(dir.path(), 2).expect("prune"), 1);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            vec![
                "mailroom-backup-20260102-023000.tar.gz",
                "mailroom-backup-20260103-023000.tar.gz",
                "mailroom-backup-manual.tar.gz",
                "notes.txt"
            ]
        );
    }
}
