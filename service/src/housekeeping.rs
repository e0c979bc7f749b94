//! Housekeeping: what keeps the disk from filling slowly. Once when a run starts and
//! then daily, message-tracking records and daily log files older than the Diagnostics
//! Logging page's retention are removed (Exchange's "remove log files older than"), and
//! so are quarantined messages past the Message Filtering page's keep, greylisting
//! triplets whose window has closed, expired passes and old daily counts.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::context::ServiceContext;

/// How often housekeeping runs.
const EVERY: Duration = Duration::from_secs(24 * 3600);

/// Runs housekeeping for the run until it drains. `log_dir` holds the daily log files.
pub async fn run(ctx: ServiceContext, log_dir: PathBuf) {
    loop {
        sweep(&ctx, &log_dir).await;
        tokio::select! {
            () = tokio::time::sleep(EVERY) => {}
            () = ctx.shutdown.draining() => return,
        }
    }
}

async fn sweep(ctx: &ServiceContext, log_dir: &Path) {
    let keep = Duration::from_secs(ctx.config.diagnostics.keep_days.saturating_mul(86_400));
    let before = crate::store::now_secs() - i64::try_from(keep.as_secs()).unwrap_or(i64::MAX);
    match ctx.store.tracking_purge(before).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(records = n, days = ctx.config.diagnostics.keep_days, "old tracking records removed"),
        Err(e) => tracing::warn!(error = %e, "cannot remove old tracking records"),
    }
    let now = crate::store::now_secs();
    let f = &ctx.config.filtering;
    let secs = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    let purged = ctx
        .store
        .filtering_purge(
            now,
            now.saturating_sub(secs(f.quarantine_keep)),
            now.saturating_sub(secs(f.greylist_retry_window)),
            crate::filtering::day_of(before),
        )
        .await;
    match purged {
        Ok(p) if p.quarantined > 0 => tracing::info!(
            messages = p.quarantined,
            days = f.quarantine_keep.as_secs() / 86_400,
            "quarantined messages past their keep deleted"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot remove old filtering state"),
    }
    let dir = log_dir.to_owned();
    let removed = tokio::task::spawn_blocking(move || remove_old_logs(&dir, keep)).await.unwrap_or(0);
    if removed > 0 {
        tracing::info!(files = removed, days = ctx.config.diagnostics.keep_days, "old log files removed");
    }
}

/// Removes the daily log files (`mailroomd.log.*`) in `dir` last written more than
/// `keep` ago; returns how many. Today's file is always newer than that.
fn remove_old_logs(dir: &Path, keep: Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let now = SystemTime::now();
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with("mailroomd.log") {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age > keep));
        if old && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_old_log_files_go() {
        let dir = tempfile::tempdir().expect("tempdir");
        let old = dir.path().join("mailroomd.log.2026-01-01");
        let new = dir.path().join("mailroomd.log.2026-11-27");
        let other = dir.path().join("notes.txt");
        for f in [&old, &new, &other] {
            std::fs::write(f, "x").expect("write");
        }
        let long_ago = SystemTime::now() - Duration::from_secs(40 * 86_400);
        for f in [&old, &other] {
            std::fs::File::options().write(true).open(f).expect("open").set_modified(long_ago).expect("mtime");
        }
        assert_eq!(remove_old_logs(dir.path(), Duration::from_secs(30 * 86_400)), 1);
        assert!(!old.exists() && new.exists() && other.exists());
    }
}
