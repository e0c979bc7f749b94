//! DKIM keys in SQLite.

use rusqlite::{OptionalExtension, params};

use super::Sqlite;
use crate::store::{DkimAlgorithm, DkimKey, StoreError, StoreResult};

impl Sqlite {
    pub(in crate::store) async fn dkim_keys(&self) -> StoreResult<Vec<DkimKey>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT domain, selector, algorithm, private_key, public_key, created_at, active
                 FROM dkim_keys ORDER BY domain, created_at, selector",
            )?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let algorithm: String = r.get(2)?;
                out.push(DkimKey {
                    domain: r.get(0)?,
                    selector: r.get(1)?,
                    algorithm: DkimAlgorithm::parse(&algorithm)
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown DKIM algorithm {algorithm}")))?,
                    private_key: r.get(3)?,
                    public_key: r.get(4)?,
                    created_at: r.get(5)?,
                    active: r.get(6)?,
                });
            }
            Ok(out)
        })
        .await
    }

    pub(in crate::store) async fn dkim_add(&self, keys: Vec<DkimKey>) -> StoreResult<()> {
        self.write(move |tx| {
            let mut quiet = tx.prepare_cached("UPDATE dkim_keys SET active = 0 WHERE domain = ?1")?;
            for domain in keys.iter().map(|k| &k.domain) {
                quiet.execute([domain])?;
            }
            let mut insert = tx.prepare_cached(
                "INSERT INTO dkim_keys (domain, selector, algorithm, private_key, public_key, created_at, active)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1)",
            )?;
            for k in &keys {
                insert
                    .execute(params![
                        k.domain,
                        k.selector,
                        k.algorithm.as_str(),
                        k.private_key,
                        k.public_key,
                        k.created_at
                    ])
                    .map_err(|e| match StoreError::from(e) {
                        StoreError::Conflict(_) => {
                            StoreError::Conflict(format!("{} already has a key with selector {}", k.domain, k.selector))
                        }
                        other => other,
                    })?;
            }
            Ok(())
        })
        .await
    }

    pub(in crate::store) async fn dkim_retire(&self, domain: String, selector: String) -> StoreResult<()> {
        self.write(move |tx| {
            let active: Option<bool> = tx
                .query_row(
                    "SELECT active FROM dkim_keys WHERE domain = ?1 AND selector = ?2",
                    params![domain, selector],
                    |r| r.get(0),
                )
                .optional()?;
            match active {
                None => Err(StoreError::NotFound(format!("{domain} has no DKIM key with selector {selector}"))),
                Some(true) => Err(StoreError::Conflict(format!(
                    "{selector} is the selector {domain} signs with now; rotate first, then retire it"
                ))),
                Some(false) => {
                    tx.execute("DELETE FROM dkim_keys WHERE domain = ?1 AND selector = ?2", params![domain, selector])?;
                    Ok(())
                }
            }
        })
        .await
    }
}
