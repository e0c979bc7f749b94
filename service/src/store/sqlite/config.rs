//! The saved configuration: one row, with a revision that increases on every save.

use mailroom_shared::config::Config;
use rusqlite::OptionalExtension;

use super::Sqlite;
use crate::store::{StoreError, StoreResult, now_secs};

impl Sqlite {
    pub(in crate::store) async fn load_config(&self) -> StoreResult<(Config, u64)> {
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

    pub(in crate::store) async fn save_config(&self, config: &Config, base_revision: Option<u64>) -> StoreResult<u64> {
        let json = serde_json::to_string(config)
            .map_err(|e| StoreError::Internal(format!("cannot encode the configuration: {e}")))?;
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
