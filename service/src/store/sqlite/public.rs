//! Public folders: the public mailbox, its folders, their addresses and limits.

use rusqlite::{OptionalExtension as _, params};

use super::{Sqlite, int, size};
use crate::store::public::PublicFolder;
use crate::store::{Folder, StoreError, StoreResult, now_secs};

impl Sqlite {
    pub(in crate::store) async fn public_mailbox(&self, make: bool) -> StoreResult<Option<i64>> {
        let find = |conn: &rusqlite::Connection| -> StoreResult<Option<i64>> {
            Ok(conn
                .prepare_cached("SELECT id FROM mailboxes WHERE kind = 'public' ORDER BY id LIMIT 1")?
                .query_row([], |r| r.get(0))
                .optional()?)
        };
        if !make {
            return self.read(move |conn| find(conn)).await;
        }
        self.write(move |tx| {
            if let Some(id) = find(tx)? {
                return Ok(Some(id));
            }
            tx.execute(
                "INSERT INTO mailboxes (display_name, password_hash, created_at, kind)
                 VALUES ('Public Folders', '', ?1, 'public')",
                [now_secs()],
            )?;
            let id = tx.last_insert_rowid();
            // Every mailbox is made with its special folders; the public one has none.
            tx.execute("DELETE FROM folders WHERE mailbox_id = ?1 AND name <> 'INBOX'", [id])?;
            tx.execute("DELETE FROM subscriptions WHERE mailbox_id = ?1", [id])?;
            Ok(Some(id))
        })
        .await
    }

    pub(in crate::store) async fn public_folders(&self) -> StoreResult<Vec<PublicFolder>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT f.id, f.mailbox_id, f.name, f.special_use,
                        (SELECT address FROM folder_addresses a WHERE a.folder_id = f.id ORDER BY address LIMIT 1),
                        f.quota_kb,
                        (SELECT COUNT(*) FROM messages m WHERE m.folder_id = f.id),
                        (SELECT COALESCE(SUM(size), 0) FROM messages m WHERE m.folder_id = f.id)
                 FROM folders f JOIN mailboxes b ON b.id = f.mailbox_id
                 WHERE b.kind = 'public' AND f.name <> 'INBOX' ORDER BY f.name",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(PublicFolder {
                    folder: Folder {
                        id: r.get(0)?,
                        mailbox: r.get(1)?,
                        name: r.get(2)?,
                        special_use: r.get(3)?,
                        subscribed: true,
                    },
                    address: r.get(4)?,
                    quota_kb: r.get::<_, Option<i64>>(5)?.map(size),
                    messages: size(r.get(6)?),
                    bytes: size(r.get(7)?),
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    pub(in crate::store) async fn add_public_folder(
        &self,
        mailbox: i64,
        name: String,
        address: Option<String>,
    ) -> StoreResult<i64> {
        self.write(move |tx| {
            if let Some(a) = &address {
                super::recipients::check_address_free(tx, a)?;
            }
            let taken: bool = tx
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM folders WHERE mailbox_id = ?1 AND name = ?2)")?
                .query_row(params![mailbox, name], |r| r.get(0))?;
            if taken {
                return Err(StoreError::Conflict(format!("a public folder named {name} exists")));
            }
            // The levels above, as IMAP's CREATE makes them.
            for (i, _) in name.match_indices('/') {
                tx.prepare_cached("INSERT OR IGNORE INTO folders (mailbox_id, name, subscribed) VALUES (?1, ?2, 0)")?
                    .execute(params![mailbox, &name[..i]])?;
            }
            tx.prepare_cached("INSERT INTO folders (mailbox_id, name, subscribed) VALUES (?1, ?2, 0)")?
                .execute(params![mailbox, name])?;
            let id = tx.last_insert_rowid();
            if let Some(a) = &address {
                tx.prepare_cached("INSERT INTO folder_addresses (address, folder_id) VALUES (?1, ?2)")?
                    .execute(params![a, id])?;
            }
            Ok(id)
        })
        .await
    }

    pub(in crate::store) async fn update_public_folder(
        &self,
        mailbox: i64,
        folder: i64,
        address: Option<Option<String>>,
        quota_kb: Option<Option<u64>>,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            let here: bool = tx
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM folders WHERE id = ?1 AND mailbox_id = ?2)")?
                .query_row([folder, mailbox], |r| r.get(0))?;
            if !here {
                return Err(StoreError::NotFound("there is no such public folder".into()));
            }
            if let Some(address) = address {
                tx.prepare_cached("DELETE FROM folder_addresses WHERE folder_id = ?1")?.execute([folder])?;
                if let Some(a) = address {
                    super::recipients::check_address_free(tx, &a)?;
                    tx.prepare_cached("INSERT INTO folder_addresses (address, folder_id) VALUES (?1, ?2)")?
                        .execute(params![a, folder])?;
                }
            }
            if let Some(quota) = quota_kb {
                tx.prepare_cached("UPDATE folders SET quota_kb = ?1 WHERE id = ?2")?
                    .execute(params![quota.map(|q| int(usize::try_from(q).unwrap_or(usize::MAX))), folder])?;
            }
            Ok(())
        })
        .await
    }
}
