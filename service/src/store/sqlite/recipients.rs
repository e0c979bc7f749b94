//! Distribution lists, custom recipients, what an address names, and the store's
//! secrets.

use mailroom_shared::ipc::ListSenders;
use rusqlite::{Connection, OptionalExtension as _, params};

use super::Sqlite;
use crate::store::recipients::{
    Contact, Directory, Expansion, List, ListChange, Member, Named, expand, loop_path, loop_refusal,
};
use crate::store::{StoreError, StoreResult, now_secs};

fn senders_of(s: &str) -> ListSenders {
    ListSenders::from_name(s).unwrap_or_default()
}

/// Refuses an address another recipient has: a mailbox, a list, a custom recipient.
pub(super) fn check_address_free(conn: &Connection, address: &str) -> StoreResult<()> {
    let owner: Option<String> = conn
        .prepare_cached(
            "SELECT 'a mailbox' FROM addresses WHERE address = ?1
             UNION ALL SELECT 'a distribution list' FROM lists WHERE address = ?1
             UNION ALL SELECT 'a custom recipient' FROM contacts WHERE address = ?1
             UNION ALL SELECT 'a public folder' FROM folder_addresses WHERE address = ?1",
        )?
        .query_row([address], |r| r.get(0))
        .optional()?;
    match owner {
        Some(what) => Err(StoreError::Conflict(format!("the address {address} already belongs to {what}"))),
        None => Ok(()),
    }
}

fn load_list(conn: &Connection, id: i64) -> StoreResult<List> {
    let (address, display_name, senders, hide): (String, String, String, bool) = conn
        .prepare_cached("SELECT address, display_name, senders, hide_members FROM lists WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    let members = conn
        .prepare_cached("SELECT member FROM list_members WHERE list_id = ?1 ORDER BY member")?
        .query_map([id], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(List { id, address, display_name, senders: senders_of(&senders), hide_members: hide, members })
}

fn list_id(conn: &Connection, address: &str) -> StoreResult<i64> {
    conn.prepare_cached("SELECT id FROM lists WHERE address = ?1")?
        .query_row([address], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("there is no distribution list {address}")))
}

/// The lookups list expansion needs, over one connection (a read's, or a write's
/// transaction).
struct Lookups<'c> {
    conn: &'c Connection,
}

impl Directory for Lookups<'_> {
    fn members(&mut self, list: i64) -> StoreResult<Vec<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT member FROM list_members WHERE list_id = ?1 ORDER BY member")?
            .query_map([list], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?)
    }

    fn resolve(&mut self, address: &str) -> StoreResult<Option<Member>> {
        let c = self.conn;
        if let Some(m) = c
            .prepare_cached("SELECT mailbox_id FROM addresses WHERE address = ?1")?
            .query_row([address], |r| r.get(0))
            .optional()?
        {
            return Ok(Some(Member::Mailbox(m)));
        }
        if let Some(l) = c
            .prepare_cached("SELECT id FROM lists WHERE address = ?1")?
            .query_row([address], |r| r.get(0))
            .optional()?
        {
            return Ok(Some(Member::List(l)));
        }
        Ok(c.prepare_cached("SELECT target FROM contacts WHERE address = ?1")?
            .query_row([address], |r| r.get(0))
            .optional()?
            .map(Member::Contact))
    }

    fn addresses(&mut self, mailbox: i64) -> StoreResult<Vec<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT address FROM addresses WHERE mailbox_id = ?1")?
            .query_map([mailbox], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?)
    }
}

impl Sqlite {
    pub(in crate::store) async fn named(&self, address: String) -> StoreResult<Option<Named>> {
        self.read(move |conn| {
            if let Some(id) = conn
                .prepare_cached("SELECT mailbox_id FROM addresses WHERE address = ?1")?
                .query_row([&address], |r| r.get(0))
                .optional()?
            {
                return Ok(Some(Named::Mailbox(id)));
            }
            if let Some(id) = conn
                .prepare_cached("SELECT id FROM lists WHERE address = ?1")?
                .query_row([&address], |r| r.get(0))
                .optional()?
            {
                return Ok(Some(Named::List(load_list(conn, id)?)));
            }
            if let Some(named) = conn
                .prepare_cached(
                    "SELECT f.mailbox_id, f.id, f.name,
                            f.quota_kb IS NOT NULL AND
                            (SELECT COALESCE(SUM(size), 0) FROM messages WHERE folder_id = f.id) >= f.quota_kb * 1024
                     FROM folder_addresses a JOIN folders f ON f.id = a.folder_id WHERE a.address = ?1",
                )?
                .query_row([&address], |r| {
                    Ok(Named::Folder { mailbox: r.get(0)?, folder: r.get(1)?, name: r.get(2)?, full: r.get(3)? })
                })
                .optional()?
            {
                return Ok(Some(named));
            }
            Ok(conn
                .prepare_cached("SELECT address, display_name, target FROM contacts WHERE address = ?1")?
                .query_row([&address], |r| {
                    Ok(Named::Contact(Contact { address: r.get(0)?, display_name: r.get(1)?, target: r.get(2)? }))
                })
                .optional()?)
        })
        .await
    }

    pub(in crate::store) async fn add_list(
        &self,
        address: String,
        display_name: String,
        senders: ListSenders,
        hide_members: bool,
    ) -> StoreResult<List> {
        self.write(move |tx| {
            check_address_free(tx, &address)?;
            tx.prepare_cached(
                "INSERT INTO lists (address, display_name, senders, hide_members, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![address, display_name, senders.name(), hide_members, now_secs()])?;
            load_list(tx, tx.last_insert_rowid())
        })
        .await
    }

    pub(in crate::store) async fn update_list(&self, address: String, change: ListChange) -> StoreResult<List> {
        self.write(move |tx| {
            let id = list_id(tx, &address)?;
            if let Some(name) = &change.display_name {
                tx.execute("UPDATE lists SET display_name = ?1 WHERE id = ?2", params![name, id])?;
            }
            if let Some(s) = change.senders {
                tx.execute("UPDATE lists SET senders = ?1 WHERE id = ?2", params![s.name(), id])?;
            }
            if let Some(h) = change.hide_members {
                tx.execute("UPDATE lists SET hide_members = ?1 WHERE id = ?2", params![h, id])?;
            }
            load_list(tx, id)
        })
        .await
    }

    pub(in crate::store) async fn change_members(
        &self,
        address: String,
        add: Vec<String>,
        remove: Vec<String>,
    ) -> StoreResult<List> {
        self.write(move |tx| {
            let id = list_id(tx, &address)?;
            for m in &remove {
                tx.prepare_cached("DELETE FROM list_members WHERE list_id = ?1 AND member = ?2")?
                    .execute(params![id, m])?;
            }
            for m in &add {
                if *m == address {
                    return Err(StoreError::Conflict(format!("{address} cannot be a member of itself")));
                }
                // A nested list that leads back here makes a loop.
                let mut lookups = Lookups { conn: tx };
                if let Some(Member::List(other)) = lookups.resolve(m)?
                    && let Some(path) = loop_path(&mut lookups, other, id)?
                {
                    return Err(loop_refusal(&address, m, path));
                }
                tx.prepare_cached("INSERT OR IGNORE INTO list_members (list_id, member) VALUES (?1, ?2)")?
                    .execute(params![id, m])?;
            }
            load_list(tx, id)
        })
        .await
    }

    pub(in crate::store) async fn remove_list(&self, address: String) -> StoreResult<()> {
        self.write(move |tx| {
            let id = list_id(tx, &address)?;
            tx.execute("DELETE FROM lists WHERE id = ?1", [id])?;
            Ok(())
        })
        .await
    }

    pub(in crate::store) async fn lists(&self) -> StoreResult<Vec<List>> {
        self.read(|conn| {
            let ids = conn
                .prepare_cached("SELECT id FROM lists ORDER BY address")?
                .query_map([], |r| r.get::<_, i64>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            ids.into_iter().map(|id| load_list(conn, id)).collect()
        })
        .await
    }

    pub(in crate::store) async fn add_contact(
        &self,
        address: String,
        display_name: String,
        target: String,
    ) -> StoreResult<Contact> {
        self.write(move |tx| {
            check_address_free(tx, &address)?;
            tx.prepare_cached(
                "INSERT INTO contacts (address, display_name, target, created_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![address, display_name, target, now_secs()])?;
            Ok(Contact { address, display_name, target })
        })
        .await
    }

    pub(in crate::store) async fn update_contact(
        &self,
        address: String,
        new_address: String,
        display_name: String,
        target: String,
    ) -> StoreResult<Contact> {
        self.write(move |tx| {
            let exists: Option<i64> = tx
                .prepare_cached("SELECT id FROM contacts WHERE address = ?1")?
                .query_row([&address], |r| r.get(0))
                .optional()?;
            let Some(id) = exists else {
                return Err(StoreError::NotFound(format!("there is no custom recipient {address}")));
            };
            if new_address != address {
                check_address_free(tx, &new_address)?;
                tx.prepare_cached("UPDATE list_members SET member = ?2 WHERE member = ?1")?
                    .execute(params![address, new_address])?;
            }
            tx.prepare_cached("UPDATE contacts SET address = ?2, display_name = ?3, target = ?4 WHERE id = ?1")?
                .execute(params![id, new_address, display_name, target])?;
            Ok(Contact { address: new_address, display_name, target })
        })
        .await
    }

    pub(in crate::store) async fn remove_contact(&self, address: String) -> StoreResult<()> {
        self.write(move |tx| {
            let n = tx.execute("DELETE FROM contacts WHERE address = ?1", [&address])?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("there is no custom recipient {address}")));
            }
            Ok(())
        })
        .await
    }

    pub(in crate::store) async fn contacts(&self) -> StoreResult<Vec<Contact>> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached("SELECT address, display_name, target FROM contacts ORDER BY address")?
                .query_map([], |r| Ok(Contact { address: r.get(0)?, display_name: r.get(1)?, target: r.get(2)? }))?
                .collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    pub(in crate::store) async fn expand(&self, list: i64) -> StoreResult<Expansion> {
        self.read(move |conn| expand(&mut Lookups { conn }, list)).await
    }

    pub(in crate::store) async fn secret(&self, name: String) -> StoreResult<String> {
        let fresh = {
            let mut bytes = [0u8; 32];
            ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
                .map_err(|_| StoreError::Internal("no random numbers for a secret".into()))?;
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        };
        self.write(move |tx| {
            tx.prepare_cached("INSERT OR IGNORE INTO secrets (name, value) VALUES (?1, ?2)")?
                .execute(params![name, fresh])?;
            Ok(tx.prepare_cached("SELECT value FROM secrets WHERE name = ?1")?.query_row([&name], |r| r.get(0))?)
        })
        .await
    }

    pub(in crate::store) async fn set_hidden(&self, address: String, hidden: bool) -> StoreResult<()> {
        self.write(move |tx| {
            let n = tx.execute(
                "UPDATE mailboxes SET hidden = ?2 WHERE id = (SELECT mailbox_id FROM addresses WHERE address = ?1)",
                params![address, hidden],
            )? + tx.execute("UPDATE lists SET hidden = ?2 WHERE address = ?1", params![address, hidden])?
                + tx.execute("UPDATE contacts SET hidden = ?2 WHERE address = ?1", params![address, hidden])?;
            if n == 0 {
                return Err(StoreError::NotFound(format!(
                    "no mailbox, list or custom recipient has the address {address}"
                )));
            }
            Ok(())
        })
        .await
    }

    pub(in crate::store) async fn hidden_addresses(&self) -> StoreResult<std::collections::BTreeSet<String>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT a.address FROM addresses a JOIN mailboxes m ON m.id = a.mailbox_id WHERE m.hidden
                 UNION SELECT address FROM lists WHERE hidden
                 UNION SELECT address FROM contacts WHERE hidden",
            )?;
            Ok(stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?)
        })
        .await
    }
}
