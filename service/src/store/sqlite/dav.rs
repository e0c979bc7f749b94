//! Calendars and address books in SQLite ([`crate::store::dav`]).

use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use super::Sqlite;
use crate::store::dav::{
    Changes, Collection, CollectionProps, DavKind, DavObject, NewObject, ObjectInfo, Precondition, Put, etag_of,
};
use crate::store::{StoreError, StoreResult};

const COLLECTION_COLUMNS: &str = "c.id, c.mailbox_id, c.kind, c.name, c.display_name, c.color, c.description, c.sync, \
     c.components, \
     (SELECT COUNT(*) FROM dav_objects o WHERE o.collection_id = c.id), \
     (SELECT COALESCE(SUM(length(o.data)), 0) FROM dav_objects o WHERE o.collection_id = c.id)";

/// A collection's dead properties.
fn dead_properties(conn: &Connection, id: i64) -> rusqlite::Result<Vec<(String, String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT namespace, name, value FROM dav_properties WHERE collection_id = ?1 ORDER BY namespace, name",
    )?;
    stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect()
}

/// Sets (or, with an empty text, removes) dead properties.
fn set_dead(tx: &Transaction<'_>, id: i64, dead: &[(String, String, String)]) -> rusqlite::Result<()> {
    for (namespace, name, value) in dead {
        if value.is_empty() {
            tx.prepare_cached("DELETE FROM dav_properties WHERE collection_id = ?1 AND namespace = ?2 AND name = ?3")?
                .execute(params![id, namespace, name])?;
        } else {
            tx.prepare_cached(
                "INSERT INTO dav_properties (collection_id, namespace, name, value) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (collection_id, namespace, name) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![id, namespace, name, value])?;
        }
    }
    Ok(())
}

fn collection_row(r: &Row<'_>) -> rusqlite::Result<Collection> {
    let kind: String = r.get(2)?;
    Ok(Collection {
        id: r.get(0)?,
        mailbox: r.get(1)?,
        kind: if kind == "calendar" { DavKind::Calendar } else { DavKind::AddressBook },
        name: r.get(3)?,
        display_name: r.get(4)?,
        color: r.get(5)?,
        description: r.get(6)?,
        sync: r.get::<_, i64>(7)?.try_into().unwrap_or(0),
        components: r.get::<_, String>(8)?.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        dead: Vec::new(),
        objects: r.get::<_, i64>(9)?.try_into().unwrap_or(0),
        bytes: r.get::<_, i64>(10)?.try_into().unwrap_or(0),
    })
}

/// `mailbox`'s collections of `kind`, by name, with their dead properties.
pub(super) fn collections_of(conn: &Connection, mailbox: i64, kind: DavKind) -> rusqlite::Result<Vec<Collection>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLLECTION_COLUMNS} FROM dav_collections c WHERE c.mailbox_id = ?1 AND c.kind = ?2 ORDER BY c.name"
    ))?;
    let mut all = stmt.query_map(params![mailbox, kind.as_str()], collection_row)?.collect::<Result<Vec<_>, _>>()?;
    for c in &mut all {
        c.dead = dead_properties(conn, c.id)?;
    }
    Ok(all)
}

fn collection_of(conn: &Connection, id: i64) -> StoreResult<Collection> {
    let mut c = conn
        .prepare_cached(&format!("SELECT {COLLECTION_COLUMNS} FROM dav_collections c WHERE c.id = ?1"))?
        .query_row([id], collection_row)
        .optional()?
        .ok_or_else(|| StoreError::NotFound("no such calendar or address book".into()))?;
    c.dead = dead_properties(conn, id)?;
    Ok(c)
}

/// The collection's next change number.
fn next_sync(tx: &Transaction<'_>, collection: i64) -> StoreResult<i64> {
    tx.prepare_cached("UPDATE dav_collections SET sync = sync + 1 WHERE id = ?1 RETURNING sync")?
        .query_row([collection], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NotFound("no such calendar or address book".into()))
}

/// Whether `when` holds for the object now stored as `etag` (`None`: none).
fn holds(when: &Precondition, etag: Option<&str>) -> bool {
    match when {
        Precondition::None => true,
        Precondition::Absent => etag.is_none(),
        Precondition::Exists => etag.is_some(),
        Precondition::Etag(e) => etag == Some(e.as_str()),
    }
}

fn u64_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl Sqlite {
    pub(in crate::store) async fn dav_collections(&self, mailbox: i64, kind: DavKind) -> StoreResult<Vec<Collection>> {
        self.read(move |conn| Ok(collections_of(conn, mailbox, kind)?)).await
    }

    pub(in crate::store) async fn dav_create_collection(
        &self,
        mailbox: i64,
        kind: DavKind,
        name: String,
        props: CollectionProps,
    ) -> StoreResult<Collection> {
        self.write(move |tx| {
            let taken: bool = tx
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM dav_collections WHERE mailbox_id = ?1 AND kind = ?2 AND name = ?3)",
                )?
                .query_row(params![mailbox, kind.as_str(), name], |r| r.get(0))?;
            if taken {
                return Err(StoreError::Conflict(format!("there is already a collection named {name}")));
            }
            let id: i64 = tx
                .prepare_cached(
                    "INSERT INTO dav_collections (mailbox_id, kind, name, display_name, color, description, components)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, COALESCE(?7, 'VEVENT,VTODO,VJOURNAL')) RETURNING id",
                )?
                .query_row(
                    params![
                        mailbox,
                        kind.as_str(),
                        name,
                        props.display_name.unwrap_or_default(),
                        props.color.unwrap_or_default(),
                        props.description.unwrap_or_default(),
                        props.components.map(|c| c.join(","))
                    ],
                    |r| r.get(0),
                )?;
            set_dead(tx, id, &props.dead)?;
            collection_of(tx, id)
        })
        .await
    }

    pub(in crate::store) async fn dav_update_collection(&self, id: i64, props: CollectionProps) -> StoreResult<()> {
        self.write(move |tx| {
            collection_of(tx, id)?;
            for (column, value) in
                [("display_name", props.display_name), ("color", props.color), ("description", props.description)]
            {
                if let Some(v) = value {
                    tx.execute(&format!("UPDATE dav_collections SET {column} = ?1 WHERE id = ?2"), params![v, id])?;
                }
            }
            set_dead(tx, id, &props.dead)?;
            next_sync(tx, id)?;
            Ok(())
        })
        .await
    }

    pub(in crate::store) async fn dav_delete_collection(&self, id: i64) -> StoreResult<()> {
        self.write(move |tx| {
            let gone = tx.prepare_cached("DELETE FROM dav_collections WHERE id = ?1")?.execute([id])?;
            if gone == 0 {
                return Err(StoreError::NotFound("no such calendar or address book".into()));
            }
            Ok(())
        })
        .await
    }

    pub(in crate::store) async fn dav_objects(&self, collection: i64) -> StoreResult<Vec<ObjectInfo>> {
        self.read(move |conn| {
            let mut stmt =
                conn.prepare_cached("SELECT name, etag, sync FROM dav_objects WHERE collection_id = ?1 ORDER BY name")?;
            let rows = stmt.query_map([collection], |r| {
                Ok(ObjectInfo { name: r.get(0)?, etag: r.get(1)?, sync: u64_of(r.get(2)?) })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    pub(in crate::store) async fn dav_get(&self, collection: i64, names: Vec<String>) -> StoreResult<Vec<DavObject>> {
        self.read_content(move |conn| {
            let mut stmt =
                conn.prepare_cached("SELECT name, etag, data FROM dav_objects WHERE collection_id = ?1 AND name = ?2")?;
            let mut out = Vec::with_capacity(names.len());
            for name in names {
                if let Some(o) = stmt
                    .query_row(params![collection, name], |r| {
                        Ok(DavObject { name: r.get(0)?, etag: r.get(1)?, data: r.get(2)? })
                    })
                    .optional()?
                {
                    out.push(o);
                }
            }
            Ok(out)
        })
        .await
    }

    pub(in crate::store) async fn dav_find_uid(
        &self,
        mailbox: i64,
        uid: String,
    ) -> StoreResult<Option<(i64, DavObject)>> {
        self.read_content(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT o.collection_id, o.name, o.etag, o.data FROM dav_collections c
                     JOIN dav_objects o ON o.collection_id = c.id AND o.uid = ?2
                     WHERE c.mailbox_id = ?1 AND c.kind = 'calendar' AND c.name <> 'inbox'
                     ORDER BY c.id LIMIT 1",
                )?
                .query_row(params![mailbox, uid], |r| {
                    Ok((r.get(0)?, DavObject { name: r.get(1)?, etag: r.get(2)?, data: r.get(3)? }))
                })
                .optional()?)
        })
        .await
    }

    pub(in crate::store) async fn dav_in_range(
        &self,
        collection: i64,
        start: Option<i64>,
        end: Option<i64>,
    ) -> StoreResult<Vec<DavObject>> {
        self.read_content(move |conn| {
            // Spans meeting [start, end): starting before its end, ending after its
            // start (an open end never ends); objects without a span are the caller's
            // to judge.
            let mut stmt = conn.prepare_cached(
                "SELECT name, etag, data FROM dav_objects WHERE collection_id = ?1
                   AND (starts IS NULL OR ((?3 IS NULL OR starts < ?3) AND (?2 IS NULL OR ends IS NULL OR ends > ?2)))
                 ORDER BY name",
            )?;
            let rows = stmt.query_map(params![collection, start, end], |r| {
                Ok(DavObject { name: r.get(0)?, etag: r.get(1)?, data: r.get(2)? })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    pub(in crate::store) async fn dav_put(
        &self,
        collection: i64,
        o: NewObject,
        when: Precondition,
    ) -> StoreResult<Put> {
        self.write(move |tx| {
            let current: Option<String> = tx
                .prepare_cached("SELECT etag FROM dav_objects WHERE collection_id = ?1 AND name = ?2")?
                .query_row(params![collection, o.name], |r| r.get(0))
                .optional()?;
            if !holds(&when, current.as_deref()) {
                return Ok(Put::PreconditionFailed);
            }
            let other: Option<String> = tx
                .prepare_cached("SELECT name FROM dav_objects WHERE collection_id = ?1 AND uid = ?2 AND name <> ?3")?
                .query_row(params![collection, o.uid, o.name], |r| r.get(0))
                .optional()?;
            if let Some(name) = other {
                return Ok(Put::UidConflict { name });
            }
            let sync = next_sync(tx, collection)?;
            let etag = etag_of(&o.data);
            tx.prepare_cached(
                "INSERT INTO dav_objects (collection_id, name, uid, component, data, etag, starts, ends, sync)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (collection_id, name) DO UPDATE SET uid = excluded.uid, component = excluded.component,
                   data = excluded.data, etag = excluded.etag, starts = excluded.starts, ends = excluded.ends,
                   sync = excluded.sync",
            )?
            .execute(params![
                collection,
                o.name,
                o.uid,
                o.component,
                o.data,
                etag,
                o.starts,
                o.ends,
                sync
            ])?;
            tx.prepare_cached("DELETE FROM dav_tombstones WHERE collection_id = ?1 AND name = ?2")?
                .execute(params![collection, o.name])?;
            Ok(Put::Stored { etag, created: current.is_none() })
        })
        .await
    }

    pub(in crate::store) async fn dav_delete(
        &self,
        collection: i64,
        name: String,
        when: Precondition,
    ) -> StoreResult<bool> {
        self.write(move |tx| {
            let current: Option<String> = tx
                .prepare_cached("SELECT etag FROM dav_objects WHERE collection_id = ?1 AND name = ?2")?
                .query_row(params![collection, name], |r| r.get(0))
                .optional()?;
            let Some(etag) = current else {
                return Err(StoreError::NotFound(format!("no object named {name}")));
            };
            if !holds(&when, Some(&etag)) {
                return Ok(false);
            }
            let sync = next_sync(tx, collection)?;
            tx.prepare_cached("DELETE FROM dav_objects WHERE collection_id = ?1 AND name = ?2")?
                .execute(params![collection, name])?;
            tx.prepare_cached(
                "INSERT INTO dav_tombstones (collection_id, name, sync) VALUES (?1, ?2, ?3)
                 ON CONFLICT (collection_id, name) DO UPDATE SET sync = excluded.sync",
            )?
            .execute(params![collection, name, sync])?;
            Ok(true)
        })
        .await
    }

    pub(in crate::store) async fn dav_changes(&self, collection: i64, token: u64) -> StoreResult<Changes> {
        self.read(move |conn| {
            let now = collection_of(conn, collection)?.sync;
            if token > now {
                return Err(StoreError::Invalid {
                    field: "sync-token".into(),
                    message: "not a token of this collection".into(),
                });
            }
            let since = i64::try_from(token).unwrap_or(i64::MAX);
            let mut stmt = conn.prepare_cached(
                "SELECT name, etag, sync FROM dav_objects WHERE collection_id = ?1 AND sync > ?2 ORDER BY sync",
            )?;
            let changed = stmt
                .query_map(params![collection, since], |r| {
                    Ok(ObjectInfo { name: r.get(0)?, etag: r.get(1)?, sync: u64_of(r.get(2)?) })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            // From the start, a client needs no news of what it never had.
            let removed =
                if token == 0 {
                    Vec::new()
                } else {
                    let mut stmt = conn.prepare_cached(
                        "SELECT name, sync FROM dav_tombstones WHERE collection_id = ?1 AND sync > ?2 ORDER BY sync",
                    )?;
                    stmt.query_map(params![collection, since], |r| Ok((r.get(0)?, u64_of(r.get(1)?))))?
                        .collect::<Result<Vec<(String, u64)>, _>>()?
                };
            Ok(Changes { token: now, changed, removed })
        })
        .await
    }
}
