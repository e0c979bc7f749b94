//! The Backup page: a daily backup at a local time, how many to keep and where.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::validate::{Problem, Validator};

/// Backup page, as edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default, deny_unknown_fields)]
pub struct BackupDraft {
    /// Back up every day at `time`.
    pub scheduled: bool,
    /// Local time of day, `HH:MM` (or `HH:MM:SS`).
    pub time: String,
    /// How many scheduled backups to keep (the oldest are deleted).
    pub keep: u64,
    /// Where they go, on the service's machine; empty for `backups` in the data
    /// directory.
    pub directory: String,
}

impl Default for BackupDraft {
    fn default() -> Self {
        BackupDraft { scheduled: false, time: "02:30".into(), keep: 7, directory: String::new() }
    }
}

/// Backup page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// The daily time (hour, minute, second, local time) when scheduled.
    pub daily_at: Option<(u8, u8, u8)>,
    /// How many scheduled backups to keep.
    pub keep: u32,
    /// Where they go; `None` for `backups` in the data directory.
    pub directory: Option<PathBuf>,
    /// The time as typed, kept for the draft when not scheduled.
    time: String,
}

/// Parses `HH:MM` or `HH:MM:SS`.
pub fn parse_time_of_day(s: &str) -> Option<(u8, u8, u8)> {
    let parts: Vec<&str> = s.trim().split(':').collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.is_empty() || p.len() > 2) {
        return None;
    }
    let n: Vec<u8> = parts.iter().map(|p| p.parse::<u8>().ok()).collect::<Option<_>>()?;
    let (h, m, s) = (n[0], n[1], n.get(2).copied().unwrap_or(0));
    (h < 24 && m < 60 && s < 60).then_some((h, m, s))
}

impl Backup {
    pub(super) fn validate(d: &BackupDraft, v: &mut Validator) -> Option<Backup> {
        let before = v.errors.len();
        let time = parse_time_of_day(&d.time);
        if time.is_none() && d.scheduled {
            v.push(
                "backup.time",
                Problem::inconsistent(format!("'{}' is not a time of day; write HH:MM, e.g. 02:30", d.time.trim())),
            );
        }
        let keep = v.range("backup.keep", d.keep, 1, 365);
        let dir = d.directory.trim();
        let directory = if dir.is_empty() {
            None
        } else if !dir.starts_with('/') {
            v.push(
                "backup.directory",
                Problem::inconsistent("write an absolute path (on the service's machine), or leave it empty"),
            );
            None
        } else {
            Some(PathBuf::from(dir))
        };
        (v.errors.len() == before).then(|| Backup {
            daily_at: if d.scheduled { time } else { None },
            keep: u32::try_from(keep.unwrap_or(7)).unwrap_or(7),
            directory,
            time: d.time.trim().to_owned(),
        })
    }

    pub(super) fn to_draft(&self) -> BackupDraft {
        BackupDraft {
            scheduled: self.daily_at.is_some(),
            time: self.time.clone(),
            keep: u64::from(self.keep),
            directory: self.directory.as_ref().map(|d| d.display().to_string()).unwrap_or_default(),
        }
    }
}

impl Default for Backup {
    fn default() -> Self {
        let mut v = Validator::default();
        #[expect(clippy::expect_used, reason = "the default draft is checked by a test; it cannot fail")]
        Backup::validate(&BackupDraft::default(), &mut v).expect("the default backup settings are valid")
    }
}
