//! Backups and restores (`mailroomctl backup FILE`, `mailroomd --restore FILE`).
//!
//! A backup is a gzip-compressed tar file holding `manifest.json` (the mailroomd
//! version, the schema, what the store holds, the database's SHA-256) and
//! `mailroom.db`, a consistent copy of the store taken while mail goes on flowing
//! (SQLite's `VACUUM INTO`, on the store's side of its door). A restore checks the
//! file — its checksum, the database's integrity, a schema this build understands —
//! and writes the database into a data directory that has none and no service
//! running; it never overwrites a live store.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use mailroom_shared::ipc::BackupManifest;

use crate::store::{Store, backup::DatabaseFacts};

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

/// Writes a backup of `store` to `dest`, a new file; its manifest.
///
/// # Errors
/// In words a person can act on: an existing `dest`, a store failure, a write error.
pub async fn create(store: &Store, dest: &Path) -> Result<BackupManifest, String> {
    if !dest.is_absolute() {
        return Err(format!("{} is not an absolute path", dest.display()));
    }
    if dest.exists() {
        return Err(format!("{} exists already; a backup never overwrites a file", dest.display()));
    }
    let dir =
        dest.parent().filter(|p| p.is_dir()).ok_or_else(|| format!("{}'s folder does not exist", dest.display()))?;
    // The copy is made beside the backup, then packed into it and removed.
    let copy: PathBuf = dir.join(format!(".mailroom-backup-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&copy);
    let facts = store.snapshot(copy.clone()).await.map_err(|e| format!("cannot copy the store: {e}"))?;
    let dest = dest.to_owned();
    tokio::task::spawn_blocking(move || {
        let database = std::fs::read(&copy).map_err(|e| format!("cannot read the copy: {e}"));
        let _ = std::fs::remove_file(&copy);
        let database = database?;
        let manifest = manifest(facts, &database);
        pack(&dest, &manifest, &database).map_err(|e| {
            let _ = std::fs::remove_file(&dest);
            format!("cannot write {}: {e}", dest.display())
        })?;
        Ok(manifest)
    })
    .await
    .map_err(|e| format!("the backup task failed: {e}"))?
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
fn unpack(file: &Path) -> anyhow::Result<(BackupManifest, Vec<u8>)> {
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(file)?);
    let mut archive = tar::Archive::new(gz);
    let (mut manifest, mut database) = (None, None);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let name = entry.path()?.to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes)?;
        match name.as_str() {
            MANIFEST => manifest = Some(serde_json::from_slice::<BackupManifest>(&bytes)?),
            DATABASE => database = Some(bytes),
            _ => {}
        }
    }
    let (Some(manifest), Some(database)) = (manifest, database) else {
        anyhow::bail!("{} is not a Mailroom backup (no manifest or no database)", file.display());
    };
    if hex_sha256(&database) != manifest.sha256 {
        anyhow::bail!("{}'s database does not match its manifest's checksum: the file is damaged", file.display());
    }
    Ok((manifest, database))
}

/// Restores the backup `file` into `data_dir`, which must hold no database (a store
/// is never overwritten) and whose lock the caller holds (no service runs there).
///
/// # Errors
/// A damaged or foreign file, a database that fails its checks, an existing store.
pub fn restore(file: &Path, data_dir: &Path) -> anyhow::Result<BackupManifest> {
    let target = data_dir.join(DATABASE);
    if target.exists() {
        anyhow::bail!(
            "{} already holds a store ({}); restore into an empty data directory, then point mailroomd at it",
            data_dir.display(),
            target.display()
        );
    }
    let (manifest, database) = unpack(file)?;
    let partial = data_dir.join(format!(".{DATABASE}.restoring"));
    {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&partial)?;
        f.write_all(&database)?;
        f.sync_all()?;
    }
    match crate::store::backup::check_database(&partial) {
        Ok(facts) if facts.mailboxes == manifest.mailboxes && facts.messages == manifest.messages => {}
        Ok(_) => {
            let _ = std::fs::remove_file(&partial);
            anyhow::bail!("the restored database does not hold what its manifest says");
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            anyhow::bail!("the backup's database cannot be used: {e}");
        }
    }
    std::fs::rename(&partial, &target)?;
    std::fs::File::open(data_dir)?.sync_all()?;
    Ok(manifest)
}
