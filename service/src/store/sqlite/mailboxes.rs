//! Mailboxes and their addresses.

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{Sqlite, int, size};
use crate::store::mailboxes::MailboxChange;
use crate::store::{Mailbox, StoreError, StoreResult, now_secs};

/// Fails when any of `addresses` belongs to a mailbox other than `except`.
fn check_free(tx: &Transaction<'_>, addresses: &[String], except: Option<i64>) -> StoreResult<()> {
    let mut stmt = tx.prepare_cached(
        "SELECT m.id, m.display_name,
                (SELECT p.address FROM addresses p WHERE p.mailbox_id = m.id ORDER BY p.position LIMIT 1)
         FROM addresses a JOIN mailboxes m ON m.id = a.mailbox_id WHERE a.address = ?1",
    )?;
    for a in addresses {
        let owner: Option<(i64, String, String)> =
            stmt.query_row([a], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()?;
        let a_mailboxs = owner.is_some();
        if let Some((id, name, primary)) = owner
            && Some(id) != except
        {
            // Named by what the administrator sees of it: its name, or its primary
            // address when that is not the address itself.
            let who = match (name.is_empty(), primary == *a) {
                (false, _) => format!("the mailbox '{name}'"),
                (true, false) => format!("the mailbox {primary}"),
                (true, true) => "another mailbox".to_owned(),
            };
            return Err(StoreError::Conflict(format!("the address {a} already belongs to {who}")));
        }
        if !a_mailboxs {
            // Not a mailbox's: may be a list's or a custom recipient's.
            super::recipients::check_address_free(tx, a)?;
        }
    }
    Ok(())
}

fn set_addresses(tx: &Transaction<'_>, mailbox: i64, addresses: &[String]) -> StoreResult<()> {
    tx.execute("DELETE FROM addresses WHERE mailbox_id = ?1", [mailbox])?;
    let mut stmt = tx.prepare_cached("INSERT INTO addresses (address, mailbox_id, position) VALUES (?1, ?2, ?3)")?;
    for (i, a) in addresses.iter().enumerate() {
        stmt.execute(params![a, mailbox, int(i)])?;
    }
    Ok(())
}

fn mailbox_id_of(conn: &Connection, address: &str) -> StoreResult<i64> {
    conn.query_row("SELECT mailbox_id FROM addresses WHERE address = ?1", [address], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("no mailbox has the address {address}")))
}

fn load_mailbox(conn: &Connection, id: i64) -> StoreResult<Mailbox> {
    let (display_name, count, bytes, kind): (String, i64, i64, String) = conn.query_row(
        "SELECT display_name,
                (SELECT COUNT(*) FROM messages WHERE mailbox_id = m.id),
                (SELECT COALESCE(SUM(size), 0) FROM messages WHERE mailbox_id = m.id),
                kind
         FROM mailboxes m WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    let mut stmt = conn.prepare_cached("SELECT address FROM addresses WHERE mailbox_id = ?1 ORDER BY position")?;
    let addresses = stmt.query_map([id], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
    let folders = folder_usage(conn, Some(id))?.into_iter().map(|(_, f)| f).collect();
    let (forwarding, auto_reply, limits) = super::options::options_of(conn, id)?;
    Ok(Mailbox {
        id,
        display_name,
        addresses,
        message_count: size(count),
        total_bytes: size(bytes),
        folders,
        forwarding,
        auto_reply,
        limits,
        shared: kind == "shared",
        collections: collection_usage(conn, Some(id))?.into_iter().map(|(_, c)| c).collect(),
    })
}

/// Each calendar's and address book's usage, by mailbox (of one, or of all).
fn collection_usage(
    conn: &Connection,
    mailbox: Option<i64>,
) -> StoreResult<Vec<(i64, mailroom_shared::ipc::CollectionUsage)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.mailbox_id, c.kind, c.name, c.display_name, COUNT(o.id), COALESCE(SUM(length(o.data)), 0)
         FROM dav_collections c LEFT JOIN dav_objects o ON o.collection_id = c.id
         WHERE ?1 IS NULL OR c.mailbox_id = ?1
         GROUP BY c.id ORDER BY c.mailbox_id, c.kind DESC, c.name",
    )?;
    let rows = stmt.query_map([mailbox], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            mailroom_shared::ipc::CollectionUsage {
                calendar: r.get::<_, String>(1)? == "calendar",
                name: r.get(2)?,
                display_name: r.get(3)?,
                objects: size(r.get(4)?),
                bytes: size(r.get(5)?),
            },
        ))
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// A folder's name, messages and bytes.
type Usage = (String, u64, u64);

/// Each folder's usage, by mailbox (of one mailbox, or of all), INBOX first and then
/// by name.
fn folder_usage(conn: &Connection, mailbox: Option<i64>) -> StoreResult<Vec<(i64, Usage)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT f.mailbox_id, f.name, COUNT(m.id), COALESCE(SUM(m.size), 0)
         FROM folders f LEFT JOIN messages m ON m.folder_id = f.id
         WHERE ?1 IS NULL OR f.mailbox_id = ?1
         GROUP BY f.id ORDER BY f.mailbox_id, f.name <> 'INBOX', f.name",
    )?;
    let rows = stmt.query_map([mailbox], |r| {
        Ok((r.get::<_, i64>(0)?, (r.get::<_, String>(1)?, size(r.get(2)?), size(r.get(3)?))))
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

impl Sqlite {
    pub(in crate::store) async fn add_mailbox(
        &self,
        display_name: String,
        addresses: Vec<String>,
        hash: String,
        shared: bool,
    ) -> StoreResult<Mailbox> {
        self.write(move |tx| {
            check_free(tx, &addresses, None)?;
            tx.execute(
                "INSERT INTO mailboxes (display_name, password_hash, created_at, kind) VALUES (?1, ?2, ?3, ?4)",
                params![display_name, hash, now_secs(), if shared { "shared" } else { "person" }],
            )?;
            let id = tx.last_insert_rowid();
            set_addresses(tx, id, &addresses)?;
            load_mailbox(tx, id)
        })
        .await
    }

    pub(in crate::store) async fn update_mailbox(&self, key: String, change: MailboxChange) -> StoreResult<Mailbox> {
        self.write(move |tx| {
            let id = mailbox_id_of(tx, &key)?;
            if let Some(name) = &change.display_name {
                tx.execute("UPDATE mailboxes SET display_name = ?1 WHERE id = ?2", params![name, id])?;
            }
            if let Some(hash) = &change.password_hash {
                let kind: String = tx.query_row("SELECT kind FROM mailboxes WHERE id = ?1", [id], |r| r.get(0))?;
                if kind == "shared" {
                    return Err(StoreError::Invalid {
                        field: "password".into(),
                        message: "a shared mailbox has no password: give people rights on it instead".into(),
                    });
                }
                tx.execute("UPDATE mailboxes SET password_hash = ?1 WHERE id = ?2", params![hash, id])?;
            }
            if let Some(addresses) = &change.addresses {
                check_free(tx, addresses, Some(id))?;
                set_addresses(tx, id, addresses)?;
            }
            load_mailbox(tx, id)
        })
        .await
    }

    pub(in crate::store) async fn remove_mailbox(&self, key: String) -> StoreResult<()> {
        self.write(move |tx| {
            let id = mailbox_id_of(tx, &key)?;
            tx.execute("DELETE FROM mailboxes WHERE id = ?1", [id])?;
            Ok(())
        })
        .await
    }

    pub(in crate::store) async fn list_mailboxes(&self) -> StoreResult<Vec<Mailbox>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT m.id, m.display_name, a.address,
                        (SELECT COUNT(*) FROM messages WHERE mailbox_id = m.id),
                        (SELECT COALESCE(SUM(size), 0) FROM messages WHERE mailbox_id = m.id),
                        m.kind
                 FROM mailboxes m JOIN addresses a ON a.mailbox_id = m.id
                 ORDER BY m.id, a.position",
            )?;
            let mut out: Vec<Mailbox> = Vec::new();
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let id: i64 = r.get(0)?;
                let address: String = r.get(2)?;
                match out.last_mut() {
                    Some(m) if m.id == id => m.addresses.push(address),
                    _ => out.push(Mailbox {
                        id,
                        display_name: r.get(1)?,
                        addresses: vec![address],
                        message_count: size(r.get(3)?),
                        total_bytes: size(r.get(4)?),
                        folders: Vec::new(),
                        forwarding: None,
                        auto_reply: None,
                        limits: Default::default(),
                        shared: r.get::<_, String>(5)? == "shared",
                        collections: Vec::new(),
                    }),
                }
            }
            for m in &mut out {
                (m.forwarding, m.auto_reply, m.limits) = super::options::options_of(conn, m.id)?;
            }
            for (mailbox, folder) in folder_usage(conn, None)? {
                if let Some(m) = out.iter_mut().find(|m| m.id == mailbox) {
                    m.folders.push(folder);
                }
            }
            for (mailbox, collection) in collection_usage(conn, None)? {
                if let Some(m) = out.iter_mut().find(|m| m.id == mailbox) {
                    m.collections.push(collection);
                }
            }
            out.sort_by(|a, b| a.addresses.first().cmp(&b.addresses.first()));
            Ok(out)
        })
        .await
    }

    pub(in crate::store) async fn mailbox_of(&self, key: String) -> StoreResult<Option<i64>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached("SELECT mailbox_id FROM addresses WHERE address = ?1")?;
            Ok(stmt.query_row([key], |r| r.get(0)).optional()?)
        })
        .await
    }

    pub(in crate::store) async fn mailbox_addresses(&self, id: i64) -> StoreResult<Vec<String>> {
        self.read(move |conn| {
            let mut stmt =
                conn.prepare_cached("SELECT address FROM addresses WHERE mailbox_id = ?1 ORDER BY position")?;
            Ok(stmt.query_map([id], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?)
        })
        .await
    }

    pub(in crate::store) async fn all_addresses(&self) -> StoreResult<HashSet<String>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT address FROM addresses")?;
            let set = stmt.query_map([], |r| r.get(0))?.collect::<Result<HashSet<String>, _>>()?;
            Ok(set)
        })
        .await
    }

    pub(in crate::store) async fn credentials(&self, key: String) -> StoreResult<Option<(i64, String)>> {
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT m.id, m.password_hash FROM addresses a JOIN mailboxes m ON m.id = a.mailbox_id
                     WHERE a.address = ?1",
                    [key],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?)
        })
        .await
    }
}
