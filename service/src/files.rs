//! Files and directories that hold secrets — keys, certificates, the ACME account, the
//! control socket's directory, backups of every message — made private to the service
//! and written so that a crash leaves the old file or the new one, never half of it.
//!
//! A leaf: the modules that keep such files all come here, so there is one way to do it.

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

/// A private file or directory that could not be made.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The directory (or a parent) could not be created.
    #[error("cannot create {}: {source}", path.display())]
    Create {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Its mode could not be set.
    #[error("cannot make {} private: {source}", path.display())]
    Private {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file could not be written, synced or put in place.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Creates `dir` and its parents if missing, and makes `dir` `mode` (0700: its owner
/// only). A directory that exists gets its mode too.
///
/// # Errors
/// When it cannot be created or its mode set.
pub fn create_private_dir(dir: &Path, mode: u32) -> Result<(), FileError> {
    std::fs::create_dir_all(dir).map_err(|source| FileError::Create { path: dir.to_owned(), source })?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
        .map_err(|source| FileError::Private { path: dir.to_owned(), source })
}

/// Writes `bytes` to `path` (mode 0600) through a synced temporary file and a rename,
/// then syncs the directory: a crash leaves the old file or the new one.
///
/// # Errors
/// Which file, and why.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let failed = |source| FileError::Write { path: path.to_owned(), source };
    let tmp = path.with_extension("tmp");
    let mut f =
        std::fs::OpenOptions::new().create(true).write(true).truncate(true).mode(0o600).open(&tmp).map_err(failed)?;
    f.write_all(bytes).map_err(failed)?;
    f.sync_all().map_err(failed)?;
    std::fs::rename(&tmp, path).map_err(failed)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(failed)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_files_are_for_their_owner_only_and_replace_the_old_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let keys = dir.path().join("a").join("keys");
        create_private_dir(&keys, 0o700).expect("create");
        let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode(&keys), 0o700);
        let key = keys.join("key.pem");
        write_private(&key, b"old").expect("write");
        write_private(&key, b"new").expect("write again");
        assert_eq!(std::fs::read(&key).expect("read"), b"new");
        assert_eq!(mode(&key), 0o600);
        assert!(!key.with_extension("tmp").exists(), "no temporary file left");
        let blocked = dir.path().join("file");
        std::fs::write(&blocked, b"x").expect("write");
        let e = create_private_dir(&blocked.join("sub"), 0o700).expect_err("a file is in the way");
        assert!(e.to_string().starts_with(&format!("cannot create {}", blocked.join("sub").display())), "{e}");
    }
}
