//! Free space on the data directory's disk, and the reserve kept for the work that
//! must go on when the disk fills.
//!
//! Everything Mailroom keeps is in one database, so one full disk stops everything —
//! unless new mail stops first. Below the reserve (the General page's "keep free",
//! Postfix's `queue_minfree`), SMTP refuses new messages with `452 4.3.1 Insufficient
//! system storage` (senders retry later), while what frees or must not lose space goes
//! on: deliveries recording their outcome, NDRs, POP3 deletions.
//!
//! Space freed inside the database (deleted mail) stays in the database file for new
//! mail to reuse, so it counts as free too. A watcher measures both once a second;
//! sessions read the result without a system call.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::shutdown::Shutdown;
use crate::store::Store;

/// How often the watcher measures.
const EVERY: Duration = Duration::from_secs(1);

/// The data directory's disk, as one run sees it.
#[derive(Debug)]
pub struct Disk {
    dir: PathBuf,
    /// Bytes to keep free.
    reserve: u64,
    /// Free bytes at the last measure, the database's reusable space included.
    free: AtomicU64,
    /// `free` is below `reserve`: new mail is refused.
    low: AtomicBool,
}

/// Space on the disk right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Space {
    /// Bytes an unprivileged writer may still use.
    pub free: u64,
    /// The file system's size.
    pub total: u64,
}

/// Free and total space of the file system holding `dir`; `None` when it cannot say.
pub fn space(dir: &Path) -> Option<Space> {
    let s = rustix::fs::statvfs(dir).ok()?;
    let unit = s.f_frsize.max(1);
    Some(Space { free: s.f_bavail.saturating_mul(unit), total: s.f_blocks.saturating_mul(unit) })
}

impl Disk {
    /// The disk holding `dir`, keeping `reserve` bytes free; measured once now.
    pub fn new(dir: &Path, reserve: u64) -> Disk {
        let disk = Disk { dir: dir.to_owned(), reserve, free: AtomicU64::new(u64::MAX), low: AtomicBool::new(false) };
        disk.measure(0);
        disk
    }

    /// True when free space was below the reserve at the last measure. A disk that
    /// cannot be measured is not low (the store's own errors still stop a write that
    /// does not fit).
    pub fn low(&self) -> bool {
        self.low.load(Ordering::Relaxed)
    }

    /// Measures again, counting `reusable` bytes inside the database as free.
    fn measure(&self, reusable: u64) {
        let free = space(&self.dir).map_or(u64::MAX, |s| s.free.saturating_add(reusable));
        self.free.store(free, Ordering::Relaxed);
        let low = free < self.reserve;
        if self.low.swap(low, Ordering::Relaxed) != low {
            if low {
                tracing::warn!(
                    free,
                    reserve = self.reserve,
                    "free disk space is below the reserve; new mail is refused"
                );
            } else {
                tracing::info!(free, reserve = self.reserve, "free disk space is above the reserve again");
            }
        }
    }

    /// Measures once a second until the run drains.
    pub async fn watch(&self, store: Store, shutdown: Shutdown) {
        loop {
            let reusable = store.reusable_bytes().await.unwrap_or(0);
            self.measure(reusable);
            tokio::select! {
                () = tokio::time::sleep(EVERY) => {}
                () = shutdown.draining() => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_is_compared_with_what_is_free() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = space(dir.path()).expect("statvfs");
        assert!(s.total >= s.free && s.total > 0, "{s:?}");
        assert!(!Disk::new(dir.path(), 0).low());
        let tight = Disk::new(dir.path(), u64::MAX);
        assert!(tight.low());
        tight.measure(u64::MAX);
        assert!(!tight.low(), "reusable space in the database counts as free");
    }
}
