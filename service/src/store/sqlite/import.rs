//! Imported messages (with the keys that make an import repeatable) and a mailbox read
//! out for export.

use rusqlite::{OptionalExtension as _, params};

use super::Sqlite;
use super::messages::{insert_content, insert_copy};
use crate::message::SearchFields;
use crate::store::StoreResult;
use crate::store::import::{ExportEntry, Imported};

fn int(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Sqlite {
    pub(in crate::store) async fn import_message(&self, m: Imported) -> StoreResult<bool> {
        let fields = SearchFields::of(&m.content);
        self.write(move |tx| {
            let seen: bool = tx
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM imported WHERE mailbox_id = ?1 AND key = ?2)")?
                .query_row(params![m.mailbox, m.key], |r| r.get(0))?;
            if seen {
                return Ok(false);
            }
            let folder: Option<i64> = tx
                .prepare_cached("SELECT id FROM folders WHERE mailbox_id = ?1 AND name = ?2")?
                .query_row(params![m.mailbox, m.folder], |r| r.get(0))
                .optional()?;
            let folder = match folder {
                Some(id) => id,
                None => {
                    tx.prepare_cached("INSERT INTO folders (mailbox_id, name) VALUES (?1, ?2)")?
                        .execute(params![m.mailbox, m.folder])?;
                    tx.last_insert_rowid()
                }
            };
            let content = insert_content(tx, &m.content, &fields)?;
            let (_, _) = insert_copy(
                tx,
                m.mailbox,
                Some(folder),
                int(m.content.len()),
                m.received_at,
                b"",
                content,
                (m.flags, ""),
            )?;
            tx.prepare_cached("INSERT INTO imported (mailbox_id, key, imported_at) VALUES (?1, ?2, ?3)")?
                .execute(params![m.mailbox, m.key, crate::store::now_secs()])?;
            Ok(true)
        })
        .await
    }

    pub(in crate::store) async fn imported_keys(&self, mailbox: i64, keys: Vec<String>) -> StoreResult<Vec<String>> {
        self.read(move |conn| {
            let mut known = conn.prepare_cached("SELECT 1 FROM imported WHERE mailbox_id = ?1 AND key = ?2")?;
            let mut out = Vec::new();
            for key in keys {
                if known.exists(params![mailbox, key])? {
                    out.push(key);
                }
            }
            Ok(out)
        })
        .await
    }

    pub(in crate::store) async fn export_list(
        &self,
        mailbox: i64,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<ExportEntry>> {
        self.read(move |conn| {
            let mut q = conn.prepare_cached(
                "SELECT m.id, f.name, m.flags, m.received_at, m.size FROM messages m JOIN folders f ON f.id = m.folder_id
                 WHERE m.mailbox_id = ?1 AND m.id > ?2 ORDER BY m.id LIMIT ?3",
            )?;
            let rows = q.query_map(params![mailbox, after, limit], |r| {
                Ok(ExportEntry {
                    id: r.get(0)?,
                    folder: r.get(1)?,
                    flags: r.get(2)?,
                    received_at: r.get(3)?,
                    size: u64::try_from(r.get::<_, i64>(4)?).unwrap_or(0),
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub(in crate::store) async fn export_read(&self, mailbox: i64, id: i64) -> StoreResult<Option<Vec<u8>>> {
        self.read_content(move |conn| {
            let row: Option<(Vec<u8>, Vec<u8>)> = conn
                .prepare_cached(
                    "SELECT m.prefix, c.data FROM messages m JOIN contents c ON c.id = m.content_id
                     WHERE m.id = ?1 AND m.mailbox_id = ?2",
                )?
                .query_row(params![id, mailbox], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            Ok(row.map(|(mut prefix, data)| {
                prefix.extend_from_slice(&data);
                prefix
            }))
        })
        .await
    }
}
