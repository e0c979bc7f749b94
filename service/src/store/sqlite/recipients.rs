//! Distribution lists, custom recipients, what an address names, and the store's
//! secrets.

use std::collections::{BTreeSet, HashSet};

use mailroom_shared::ipc::ListSenders;
use rusqlite::{Connection, OptionalExtension as _, params};

use super::Sqlite;
use crate::store::recipients::{Contact, Expansion, List, ListChange, Named};
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
             UNION ALL SELECT 'a custom recipient' FROM contacts WHERE address = ?1",
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

/// Follows `list`'s members; with `stop_at`, returns the path by which `stop_at`'s
/// list is reached again (a loop), if it is.
fn walk(conn: &Connection, list: i64, out: &mut Expansion) -> StoreResult<()> {
    let mut visited = HashSet::from([list]);
    let mut stack = vec![list];
    let mut seen_outside = HashSet::new();
    let mut seen_mailboxes = HashSet::new();
    let mut members = conn.prepare_cached("SELECT member FROM list_members WHERE list_id = ?1 ORDER BY member")?;
    let mut mailbox = conn.prepare_cached("SELECT mailbox_id FROM addresses WHERE address = ?1")?;
    let mut addresses = conn.prepare_cached("SELECT address FROM addresses WHERE mailbox_id = ?1")?;
    let mut nested = conn.prepare_cached("SELECT id FROM lists WHERE address = ?1")?;
    let mut contact = conn.prepare_cached("SELECT target FROM contacts WHERE address = ?1")?;
    while let Some(id) = stack.pop() {
        let names = members.query_map([id], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
        for member in names {
            out.member_addresses.insert(member.clone());
            if let Some(m) = mailbox.query_row([&member], |r| r.get::<_, i64>(0)).optional()? {
                if seen_mailboxes.insert(m) {
                    out.mailboxes.push((m, member.clone()));
                    for a in addresses.query_map([m], |r| r.get::<_, String>(0))? {
                        out.member_addresses.insert(a?);
                    }
                }
            } else if let Some(l) = nested.query_row([&member], |r| r.get::<_, i64>(0)).optional()? {
                if visited.insert(l) {
                    stack.push(l);
                } else {
                    out.loops.push(member.clone());
                }
            } else if let Some(target) = contact.query_row([&member], |r| r.get::<_, String>(0)).optional()? {
                if seen_outside.insert(target.to_ascii_lowercase()) {
                    out.outside.push(target);
                }
            } else if seen_outside.insert(member.clone()) {
                out.outside.push(member);
            }
        }
    }
    Ok(())
}

/// The chain of lists by which `from` reaches `to` through nested members, if it does.
fn path_between(conn: &Connection, from: i64, to: i64) -> StoreResult<Option<Vec<String>>> {
    let mut nested = conn.prepare_cached(
        "SELECT l.id, l.address FROM list_members m JOIN lists l ON l.address = m.member WHERE m.list_id = ?1",
    )?;
    let mut stack: Vec<(i64, Vec<String>)> = vec![(from, Vec::new())];
    let mut visited = HashSet::new();
    while let Some((id, path)) = stack.pop() {
        if !visited.insert(id) {
            continue;
        }
        for row in nested.query_map([id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))? {
            let (next, address) = row?;
            let mut p = path.clone();
            p.push(address);
            if next == to {
                return Ok(Some(p));
            }
            stack.push((next, p));
        }
    }
    Ok(None)
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
                if let Some(other) = tx
                    .prepare_cached("SELECT id FROM lists WHERE address = ?1")?
                    .query_row([m], |r| r.get::<_, i64>(0))
                    .optional()?
                    && let Some(path) = path_between(tx, other, id)?
                {
                    let chain = std::iter::once(address.clone()).chain(std::iter::once(m.clone())).chain(path);
                    return Err(StoreError::Conflict(format!(
                        "adding {m} to {address} makes a loop: {}",
                        chain.collect::<Vec<_>>().join(" -> ")
                    )));
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
        self.read(move |conn| {
            let mut out = Expansion { member_addresses: BTreeSet::new(), ..Expansion::default() };
            walk(conn, list, &mut out)?;
            Ok(out)
        })
        .await
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
}
