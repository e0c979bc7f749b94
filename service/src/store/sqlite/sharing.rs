//! Grants of rights, and who has which on what.

use std::collections::{BTreeMap, HashMap};

use mailroom_shared::rights::Rights;
use rusqlite::{Connection, OptionalExtension as _, params};

use super::Sqlite;
use crate::store::{Folder, Grant, Grantee, SharedFolder, StoreError, StoreResult};

fn rights_of(letters: &str) -> StoreResult<Rights> {
    Rights::parse(letters).map_err(|c| StoreError::Corrupt(format!("a grant has the unknown right '{c}'")))
}

/// The grantee keys `viewer` is: themselves, anyone, and every list they are a
/// member of (through lists inside lists too).
fn keys_of(conn: &Connection, viewer: i64) -> StoreResult<Vec<String>> {
    let mut keys = vec!["anyone".to_owned(), Grantee::Mailbox(viewer).key()];
    let mut addresses: Vec<String> = conn
        .prepare_cached("SELECT address FROM addresses WHERE mailbox_id = ?1")?
        .query_map([viewer], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut lists = std::collections::BTreeSet::new();
    let mut containing = conn.prepare_cached(
        "SELECT l.id, l.address FROM list_members m JOIN lists l ON l.id = m.list_id WHERE m.member = ?1",
    )?;
    while let Some(address) = addresses.pop() {
        let found: Vec<(i64, String)> =
            containing.query_map([&address], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
        for (id, list_address) in found {
            if lists.insert(id) {
                addresses.push(list_address);
            }
        }
    }
    keys.extend(lists.into_iter().map(|id| Grantee::List(id).key()));
    Ok(keys)
}

/// Per mailbox, per grantee key: the whole mailbox's rights and each folder's own.
type Granted = BTreeMap<i64, HashMap<String, (Option<Rights>, HashMap<i64, Rights>)>>;

/// The grants that concern `viewer`, on other mailboxes (or on `only`).
fn granted(conn: &Connection, viewer: i64, only: Option<i64>) -> StoreResult<Granted> {
    let mut out: Granted = BTreeMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT mailbox_id, folder_id, rights FROM grants
         WHERE grantee = ?1 AND mailbox_id <> ?2 AND (?3 IS NULL OR mailbox_id = ?3)",
    )?;
    for key in keys_of(conn, viewer)? {
        let rows: Vec<(i64, i64, String)> = stmt
            .query_map(params![key, viewer, only], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        for (mailbox, folder, letters) in rows {
            let entry = out.entry(mailbox).or_default().entry(key.clone()).or_default();
            let rights = rights_of(&letters)?;
            if folder == 0 {
                entry.0 = Some(rights);
            } else {
                entry.1.insert(folder, rights);
            }
        }
    }
    Ok(out)
}

/// The rights on one folder (or, `None`, the whole mailbox) from one mailbox's grants:
/// for each grantee its folder grant, or else its mailbox grant; all of them joined.
fn folder_rights(grants: &HashMap<String, (Option<Rights>, HashMap<i64, Rights>)>, folder: Option<i64>) -> Rights {
    grants.values().fold(Rights::NONE, |acc, (whole, folders)| {
        let r = folder.and_then(|f| folders.get(&f).copied()).or(*whole).unwrap_or(Rights::NONE);
        acc.with(r)
    })
}

/// The grants on one mailbox (or on all), by mailbox, then the whole mailbox's first,
/// then by folder, each by grantee name.
fn grants_of(conn: &Connection, mailbox: Option<i64>) -> StoreResult<Vec<(i64, Grant)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT g.mailbox_id, g.folder_id, g.grantee, g.rights,
                COALESCE((SELECT a.address FROM addresses a
                          WHERE 'u' || a.mailbox_id = g.grantee ORDER BY a.position LIMIT 1),
                         (SELECT l.address FROM lists l WHERE 'l' || l.id = g.grantee),
                         g.grantee)
         FROM grants g WHERE ?1 IS NULL OR g.mailbox_id = ?1",
    )?;
    type Row = (i64, i64, String, String, String);
    let rows: Vec<Row> = stmt
        .query_map([mailbox], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for (owner, folder, key, letters, name) in rows {
        let Some(grantee) = Grantee::from_key(&key) else {
            return Err(StoreError::Corrupt(format!("a grant is for {key}, who is nobody")));
        };
        let grant = Grant { folder: (folder != 0).then_some(folder), grantee, name, rights: rights_of(&letters)? };
        out.push((owner, grant));
    }
    out.sort_by(|(a, x), (b, y)| (a, x.folder, &x.name).cmp(&(b, y.folder, &y.name)));
    Ok(out)
}

impl Sqlite {
    pub(in crate::store) async fn set_grant(
        &self,
        mailbox: i64,
        folder: Option<i64>,
        grantee: Grantee,
        rights: Rights,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            let exists: bool = tx
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM mailboxes WHERE id = ?1)")?
                .query_row([mailbox], |r| r.get(0))?;
            if !exists {
                return Err(StoreError::NotFound("there is no such mailbox".into()));
            }
            if let Some(f) = folder {
                let here: bool = tx
                    .prepare_cached("SELECT EXISTS (SELECT 1 FROM folders WHERE id = ?1 AND mailbox_id = ?2)")?
                    .query_row([f, mailbox], |r| r.get(0))?;
                if !here {
                    return Err(StoreError::NotFound("there is no such folder".into()));
                }
            }
            let found: bool = match grantee {
                Grantee::Anyone => true,
                Grantee::Mailbox(id) => tx
                    .prepare_cached("SELECT EXISTS (SELECT 1 FROM mailboxes WHERE id = ?1)")?
                    .query_row([id], |r| r.get(0))?,
                Grantee::List(id) => tx
                    .prepare_cached("SELECT EXISTS (SELECT 1 FROM lists WHERE id = ?1)")?
                    .query_row([id], |r| r.get(0))?,
            };
            if !found {
                return Err(StoreError::NotFound("there is no such mailbox or list to give rights to".into()));
            }
            // No rights on one folder, for a grantee the whole mailbox gives some: kept
            // as an empty grant, which stands instead of the mailbox's there.
            let overridden = folder.is_some() && {
                let whole: bool = tx
                    .prepare_cached(
                        "SELECT EXISTS (SELECT 1 FROM grants WHERE mailbox_id = ?1 AND folder_id = 0 AND grantee = ?2)",
                    )?
                    .query_row(params![mailbox, grantee.key()], |r| r.get(0))?;
                whole
            };
            let folder = folder.unwrap_or(0);
            if rights.is_empty() && !overridden {
                tx.prepare_cached("DELETE FROM grants WHERE mailbox_id = ?1 AND folder_id = ?2 AND grantee = ?3")?
                    .execute(params![mailbox, folder, grantee.key()])?;
            } else {
                tx.prepare_cached(
                    "INSERT INTO grants (mailbox_id, folder_id, grantee, rights) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (mailbox_id, folder_id, grantee) DO UPDATE SET rights = excluded.rights",
                )?
                .execute(params![mailbox, folder, grantee.key(), rights.to_string()])?;
            }
            Ok(())
        })
        .await
    }

    pub(in crate::store) async fn grants(&self, mailbox: i64) -> StoreResult<Vec<Grant>> {
        self.read(move |conn| Ok(grants_of(conn, Some(mailbox))?.into_iter().map(|(_, g)| g).collect())).await
    }

    pub(in crate::store) async fn all_grants(&self) -> StoreResult<Vec<(i64, Grant)>> {
        self.read(move |conn| grants_of(conn, None)).await
    }

    pub(in crate::store) async fn shared_folders(
        &self,
        viewer: i64,
        only: Option<i64>,
    ) -> StoreResult<Vec<SharedFolder>> {
        self.read(move |conn| {
            let granted = granted(conn, viewer, only)?;
            let mut folders = conn.prepare_cached(
                "SELECT id, name, special_use FROM folders WHERE mailbox_id = ?1 ORDER BY name <> 'INBOX', name",
            )?;
            let mut owner = conn.prepare_cached(
                "SELECT kind, (SELECT address FROM addresses WHERE mailbox_id = m.id ORDER BY position LIMIT 1)
                 FROM mailboxes m WHERE id = ?1",
            )?;
            let mut out = Vec::new();
            for (mailbox, grants) in &granted {
                let found: Option<(String, Option<String>)> =
                    owner.query_row([mailbox], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
                let (public, address) = match found {
                    Some((kind, _)) if kind == "public" => (true, String::new()),
                    Some((_, Some(address))) => (false, address),
                    _ => continue,
                };
                let rows: Vec<(i64, String, Option<String>)> = folders
                    .query_map([mailbox], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<Result<_, _>>()?;
                for (id, name, special_use) in rows {
                    let rights = folder_rights(grants, Some(id));
                    // The public mailbox's INBOX is no public folder.
                    if rights.imap().is_empty() || (public && name == "INBOX") {
                        continue;
                    }
                    out.push(SharedFolder {
                        folder: Folder { id, mailbox: *mailbox, name, special_use, subscribed: true },
                        owner: address.clone(),
                        public,
                        rights,
                    });
                }
            }
            Ok(out)
        })
        .await
    }

    pub(in crate::store) async fn rights(&self, viewer: i64, mailbox: i64, folder: Option<i64>) -> StoreResult<Rights> {
        self.read(move |conn| {
            let granted = granted(conn, viewer, Some(mailbox))?;
            Ok(granted.get(&mailbox).map_or(Rights::NONE, |g| folder_rights(g, folder)))
        })
        .await
    }

    pub(in crate::store) async fn grantee_named(&self, name: String) -> StoreResult<Option<Grantee>> {
        self.read(move |conn| {
            if let Some(id) = conn
                .prepare_cached("SELECT mailbox_id FROM addresses WHERE address = ?1")?
                .query_row([&name], |r| r.get(0))
                .optional()?
            {
                return Ok(Some(Grantee::Mailbox(id)));
            }
            Ok(conn
                .prepare_cached("SELECT id FROM lists WHERE address = ?1")?
                .query_row([&name], |r| r.get(0))
                .optional()?
                .map(Grantee::List))
        })
        .await
    }
}

impl Sqlite {
    pub(in crate::store) async fn dav_set_grant(
        &self,
        collection: i64,
        grantee: Grantee,
        rights: Rights,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            let owner: Option<i64> = tx
                .prepare_cached("SELECT mailbox_id FROM dav_collections WHERE id = ?1")?
                .query_row([collection], |r| r.get(0))
                .optional()?;
            let Some(owner) = owner else {
                return Err(StoreError::NotFound("there is no such calendar or address book".into()));
            };
            if grantee == Grantee::Mailbox(owner) {
                return Err(StoreError::Invalid {
                    field: "grantee".into(),
                    message: "a calendar's own person has every right on it already".into(),
                });
            }
            let found: bool = match grantee {
                Grantee::Anyone => true,
                Grantee::Mailbox(id) => tx
                    .prepare_cached("SELECT EXISTS (SELECT 1 FROM mailboxes WHERE id = ?1)")?
                    .query_row([id], |r| r.get(0))?,
                Grantee::List(id) => tx
                    .prepare_cached("SELECT EXISTS (SELECT 1 FROM lists WHERE id = ?1)")?
                    .query_row([id], |r| r.get(0))?,
            };
            if !found {
                return Err(StoreError::NotFound("there is no such mailbox or list to give rights to".into()));
            }
            // No rights, for a grantee the whole mailbox gives some: kept as an empty
            // grant, which stands instead of the mailbox's here.
            let overridden: bool = tx
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM grants WHERE mailbox_id = ?1 AND folder_id = 0 AND grantee = ?2)",
                )?
                .query_row(params![owner, grantee.key()], |r| r.get(0))?;
            if rights.is_empty() && !overridden {
                tx.prepare_cached("DELETE FROM dav_grants WHERE collection_id = ?1 AND grantee = ?2")?
                    .execute(params![collection, grantee.key()])?;
            } else {
                tx.prepare_cached(
                    "INSERT INTO dav_grants (collection_id, grantee, rights) VALUES (?1, ?2, ?3)
                     ON CONFLICT (collection_id, grantee) DO UPDATE SET rights = excluded.rights",
                )?
                .execute(params![collection, grantee.key(), rights.to_string()])?;
            }
            Ok(())
        })
        .await
    }

    pub(in crate::store) async fn dav_grants(&self, collection: i64) -> StoreResult<Vec<Grant>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT g.grantee, g.rights,
                        COALESCE((SELECT a.address FROM addresses a
                                  WHERE 'u' || a.mailbox_id = g.grantee ORDER BY a.position LIMIT 1),
                                 (SELECT l.address FROM lists l WHERE 'l' || l.id = g.grantee),
                                 g.grantee)
                 FROM dav_grants g WHERE g.collection_id = ?1",
            )?;
            let rows: Vec<(String, String, String)> =
                stmt.query_map([collection], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?;
            let mut out = Vec::with_capacity(rows.len());
            for (key, letters, name) in rows {
                let Some(grantee) = Grantee::from_key(&key) else {
                    return Err(StoreError::Corrupt(format!("a grant is for {key}, who is nobody")));
                };
                out.push(Grant { folder: None, grantee, name, rights: rights_of(&letters)? });
            }
            out.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(out)
        })
        .await
    }

    pub(in crate::store) async fn dav_all_grants(
        &self,
    ) -> StoreResult<Vec<(i64, crate::store::dav::DavKind, String, Grant)>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT c.mailbox_id, c.kind, c.name, g.grantee, g.rights,
                        COALESCE((SELECT a.address FROM addresses a
                                  WHERE 'u' || a.mailbox_id = g.grantee ORDER BY a.position LIMIT 1),
                                 (SELECT l.address FROM lists l WHERE 'l' || l.id = g.grantee),
                                 g.grantee) AS shown
                 FROM dav_grants g JOIN dav_collections c ON c.id = g.collection_id
                 ORDER BY c.mailbox_id, c.kind, c.name, shown",
            )?;
            type Row = (i64, String, String, String, String, String);
            let rows: Vec<Row> = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))?
                .collect::<Result<_, _>>()?;
            let mut out = Vec::with_capacity(rows.len());
            for (mailbox, kind, name, key, letters, shown) in rows {
                let Some(grantee) = Grantee::from_key(&key) else {
                    return Err(StoreError::Corrupt(format!("a grant is for {key}, who is nobody")));
                };
                let kind = if kind == "calendar" {
                    crate::store::dav::DavKind::Calendar
                } else {
                    crate::store::dav::DavKind::AddressBook
                };
                out.push((
                    mailbox,
                    kind,
                    name,
                    Grant { folder: None, grantee, name: shown, rights: rights_of(&letters)? },
                ));
            }
            Ok(out)
        })
        .await
    }

    pub(in crate::store) async fn dav_shared(
        &self,
        viewer: i64,
        kind: crate::store::dav::DavKind,
    ) -> StoreResult<Vec<crate::store::SharedCollection>> {
        self.read(move |conn| {
            let keys = keys_of(conn, viewer)?;
            // Per mailbox, per grantee key: the mailbox's grant; per collection, per key:
            // its own.
            let mut whole: BTreeMap<i64, HashMap<String, Rights>> = BTreeMap::new();
            let mut own: HashMap<i64, HashMap<String, Rights>> = HashMap::new();
            let mut by_mailbox = conn.prepare_cached(
                "SELECT mailbox_id, rights FROM grants WHERE grantee = ?1 AND folder_id = 0 AND mailbox_id <> ?2",
            )?;
            let mut by_collection = conn.prepare_cached(
                "SELECT g.collection_id, c.mailbox_id, g.rights FROM dav_grants g
                 JOIN dav_collections c ON c.id = g.collection_id WHERE g.grantee = ?1 AND c.mailbox_id <> ?2",
            )?;
            for key in &keys {
                let rows: Vec<(i64, String)> = by_mailbox
                    .query_map(params![key, viewer], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<_, _>>()?;
                for (mailbox, letters) in rows {
                    whole.entry(mailbox).or_default().insert(key.clone(), rights_of(&letters)?);
                }
                let rows: Vec<(i64, i64, String)> = by_collection
                    .query_map(params![key, viewer], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<Result<_, _>>()?;
                for (collection, mailbox, letters) in rows {
                    whole.entry(mailbox).or_default();
                    own.entry(collection).or_default().insert(key.clone(), rights_of(&letters)?);
                }
            }
            let mut owner = conn.prepare_cached(
                "SELECT (SELECT address FROM addresses WHERE mailbox_id = m.id ORDER BY position LIMIT 1)
                 FROM mailboxes m WHERE id = ?1 AND kind <> 'public'",
            )?;
            let mut out = Vec::new();
            for (mailbox, grants) in &whole {
                let Some(Some(address)) = owner.query_row([mailbox], |r| r.get::<_, Option<String>>(0)).optional()?
                else {
                    continue;
                };
                for c in super::dav::collections_of(conn, *mailbox, kind)? {
                    let theirs = own.get(&c.id);
                    let rights = keys.iter().fold(Rights::NONE, |acc, k| {
                        let r = theirs.and_then(|t| t.get(k)).or_else(|| grants.get(k)).copied();
                        acc.with(r.unwrap_or(Rights::NONE))
                    });
                    if rights.has(Rights::READ) {
                        out.push(crate::store::SharedCollection { collection: c, owner: address.clone(), rights });
                    }
                }
            }
            Ok(out)
        })
        .await
    }
}
