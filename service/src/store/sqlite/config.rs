//! The saved configuration: one row, with a revision that increases on every save.

use mailroom_shared::config::Config;
use rusqlite::OptionalExtension;

use super::{Store, StoreError, StoreResult, now_secs};

impl Store {
    /// The saved configuration and its revision; the defaults at revision 0 when nothing
    /// was ever saved.
    ///
    /// # Errors
    /// When the stored configuration no longer validates (reported as corrupt, with the
    /// validation errors), or on a database error.
    pub async fn load_config(&self) -> StoreResult<(Config, u64)> {
        self.read(|conn| {
            let row: Option<(i64, String)> = conn
                .query_row("SELECT revision, json FROM config WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            match row {
                None => Ok((Config::default(), 0)),
                Some((rev, json)) => {
                    let config: Config = serde_json::from_str(&json)
                        .map_err(|e| StoreError::Corrupt(format!("saved configuration: {e}")))?;
                    Ok((config, u64::try_from(rev).unwrap_or(0)))
                }
            }
        })
        .await
    }

    /// Saves `config` and returns its new revision.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when `base_revision` is given and another save happened
    /// since; database errors.
    pub async fn save_config(&self, config: &Config, base_revision: Option<u64>) -> StoreResult<u64> {
        let json = serde_json::to_string(config).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.write(move |tx| {
            let current: i64 =
                tx.query_row("SELECT revision FROM config WHERE id = 1", [], |r| r.get(0)).optional()?.unwrap_or(0);
            let current = u64::try_from(current).unwrap_or(0);
            if let Some(base) = base_revision
                && base != current
            {
                return Err(StoreError::Conflict(format!(
                    "the configuration was changed by someone else (revision {current}, your edit started from \
                     {base}); reload and apply your change again"
                )));
            }
            let next = current + 1;
            tx.execute(
                "INSERT INTO config (id, revision, json, saved_at) VALUES (1, ?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET revision = excluded.revision, json = excluded.json,
                 saved_at = excluded.saved_at",
                rusqlite::params![i64::try_from(next).unwrap_or(i64::MAX), json, now_secs()],
            )?;
            Ok(next)
        })
        .await
    }
}
