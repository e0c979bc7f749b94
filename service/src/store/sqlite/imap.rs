//! IMAP's folders, flags, copies and expunges.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::messages::insert_copy;
use super::{Sqlite, int, size};
use crate::message::{SearchField, SearchFields};
use crate::store::imap::flags;
use crate::store::imap::keyword_text;
use crate::store::{
    Access, FlagChange, FlagUpdate, Folder, FolderCounts, FolderHead, FolderState, ImapMessage, StoreError,
    StoreResult, Stored,
};

/// A UID, UIDNEXT or UIDVALIDITY as IMAP carries it (32 bits).
fn u32_of(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn u64_of(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A folder of `mailbox` from its id, name, special use and subscription columns.
fn folder_row(mailbox: i64, r: &rusqlite::Row<'_>) -> rusqlite::Result<Folder> {
    Ok(Folder { id: r.get(0)?, mailbox, name: r.get(1)?, special_use: r.get(2)?, subscribed: r.get(3)? })
}

fn message_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ImapMessage> {
    Ok(ImapMessage {
        id: r.get(0)?,
        uid: u32_of(r.get(1)?),
        flags: r.get(2)?,
        keywords: r.get(3)?,
        modseq: u64_of(r.get(4)?),
        size: size(r.get(5)?),
        received_at: r.get(6)?,
    })
}

const MESSAGE_COLUMNS: &str = "id, uid, flags, keywords, modseq, size, received_at";

/// [`MESSAGE_COLUMNS`] with `\Seen` as the viewer given as parameter `?{viewer}` sees it,
/// apart from the owner's.
fn private_columns(viewer: usize) -> String {
    format!(
        "id, uid, (flags & ~1) | EXISTS (SELECT 1 FROM private_seen p
         WHERE p.viewer_id = ?{viewer} AND p.message_id = messages.id), keywords, modseq, size, received_at"
    )
}

/// Keeps the viewer's own `\Seen` of message `id` as `seen` says (nothing when the
/// folder is the viewer's: then the stored flags hold it). True when it changed.
fn set_private_seen(tx: &Transaction<'_>, at: Access, id: i64, seen: bool) -> StoreResult<bool> {
    if !at.private_seen() {
        return Ok(false);
    }
    let n = if seen {
        tx.prepare_cached("INSERT OR IGNORE INTO private_seen (viewer_id, message_id) VALUES (?1, ?2)")?
            .execute([at.viewer, id])?
    } else {
        tx.prepare_cached("DELETE FROM private_seen WHERE viewer_id = ?1 AND message_id = ?2")?
            .execute([at.viewer, id])?
    };
    Ok(n > 0)
}

/// The folder `id` of `mailbox`: its name, uidnext and modseq.
fn folder_of(conn: &Connection, mailbox: i64, id: i64) -> StoreResult<(Folder, i64, i64)> {
    conn.prepare_cached(concat!(
        "SELECT id, name, special_use, ",
        "EXISTS (SELECT 1 FROM subscriptions s WHERE s.mailbox_id = folders.mailbox_id AND s.name = folders.name), ",
        "uidnext, modseq FROM folders WHERE id = ?1 AND mailbox_id = ?2"
    ))?
    .query_row([id, mailbox], |r| Ok((folder_row(mailbox, r)?, r.get(4)?, r.get(5)?)))
    .optional()?
    .ok_or_else(|| StoreError::NotFound("no such folder".into()))
}

/// Gives the folder a new mod-sequence and returns it.
fn bump(tx: &Transaction<'_>, folder: i64) -> StoreResult<i64> {
    Ok(tx
        .prepare_cached("UPDATE folders SET modseq = modseq + 1 WHERE id = ?1 RETURNING modseq")?
        .query_row([folder], |r| r.get(0))?)
}

/// Refuses `name` when `mailbox` has a folder by that name.
fn name_free(tx: &Transaction<'_>, mailbox: i64, name: &str) -> StoreResult<()> {
    let taken: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM folders WHERE mailbox_id = ?1 AND name = ?2)")?
        .query_row(params![mailbox, name], |r| r.get(0))?;
    if taken {
        return Err(StoreError::Conflict(format!("a folder named {name} exists")));
    }
    Ok(())
}

impl Sqlite {
    pub(in crate::store) async fn imap_folders(&self, mailbox: i64) -> StoreResult<Vec<Folder>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, name, special_use,
                   EXISTS (SELECT 1 FROM subscriptions s WHERE s.mailbox_id = folders.mailbox_id AND s.name = folders.name)
                 FROM folders WHERE mailbox_id = ?1
                 ORDER BY name <> 'INBOX', name",
            )?;
            Ok(stmt.query_map([mailbox], |r| folder_row(mailbox, r))?.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    pub(in crate::store) async fn special_use_folders(
        &self,
        mailboxes: Vec<i64>,
        special_use: &'static str,
    ) -> StoreResult<std::collections::BTreeMap<i64, i64>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id FROM folders WHERE mailbox_id = ?1 AND special_use = ?2 ORDER BY id LIMIT 1",
            )?;
            let mut out = std::collections::BTreeMap::new();
            for mailbox in mailboxes {
                if let Some(folder) = stmt.query_row(params![mailbox, special_use], |r| r.get(0)).optional()? {
                    out.insert(mailbox, folder);
                }
            }
            Ok(out)
        })
        .await
    }

    pub(in crate::store) async fn imap_folder_head(&self, mailbox: i64, folder: i64) -> StoreResult<FolderHead> {
        self.read(move |conn| {
            let (folder, uidnext, modseq) = folder_of(conn, mailbox, folder)?;
            let (recent_from, count): (i64, i64) = conn
                .prepare_cached(
                    "SELECT recent_uid, (SELECT COUNT(*) FROM messages WHERE folder_id = ?1) FROM folders WHERE id = ?1",
                )?
                .query_row([folder.id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(FolderHead {
                folder,
                uidnext: u32_of(uidnext),
                highest_modseq: u64_of(modseq),
                recent_from: u32_of(recent_from),
                messages: usize::try_from(count).unwrap_or(0),
            })
        })
        .await
    }

    pub(in crate::store) async fn imap_folder_state(&self, at: Access, folder: i64) -> StoreResult<FolderState> {
        self.read(move |conn| {
            let (folder, uidnext, modseq) = folder_of(conn, at.mailbox, folder)?;
            let messages = if at.private_seen() {
                let mut stmt = conn.prepare_cached(&format!(
                    "SELECT {} FROM messages WHERE folder_id = ?1 ORDER BY uid",
                    private_columns(2)
                ))?;
                stmt.query_map([folder.id, at.viewer], message_row)?.collect::<Result<Vec<_>, _>>()?
            } else {
                let mut stmt = conn.prepare_cached(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages WHERE folder_id = ?1 ORDER BY uid"
                ))?;
                stmt.query_map([folder.id], message_row)?.collect::<Result<Vec<_>, _>>()?
            };
            let recent_from: i64 = conn
                .prepare_cached("SELECT recent_uid FROM folders WHERE id = ?1")?
                .query_row([folder.id], |r| r.get(0))?;
            Ok(FolderState {
                folder,
                uidnext: u32_of(uidnext),
                highest_modseq: u64_of(modseq),
                recent_from: u32_of(recent_from),
                messages,
            })
        })
        .await
    }

    pub(in crate::store) async fn messages_headers(&self, ids: Vec<i64>) -> StoreResult<Vec<(i64, Vec<u8>)>> {
        self.read_content(move |conn| {
            // The header's own small row: the body stays on disk. (A header too big
            // for one is read from the content.)
            let mut stmt = conn.prepare_cached(
                "SELECT m.prefix, COALESCE(h.header, substr(c.data, 1, c.header_len))
                 FROM messages m JOIN contents c ON c.id = m.content_id
                 LEFT JOIN content_headers h ON h.content_id = m.content_id
                 WHERE m.id = ?1",
            )?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                let found: Option<(Vec<u8>, Vec<u8>)> =
                    stmt.query_row([id], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
                if let Some((mut header, content)) = found {
                    header.extend_from_slice(&content);
                    out.push((id, header));
                }
            }
            Ok(out)
        })
        .await
    }

    pub(in crate::store) async fn imap_folder_headers(
        &self,
        mailbox: i64,
        folder: i64,
        words: Vec<String>,
    ) -> StoreResult<Vec<(i64, Vec<u8>)>> {
        self.read_content(move |conn| {
            // Each word filtered in SQLite (lower() lowers ASCII only, as the search
            // compares), so that only candidates are copied out. A header with encoded
            // words (`=?`) stays a candidate: its words may be inside them.
            let filter: String =
                (0..words.len()).map(|i| format!(" AND (instr(lower(hdr), ?{}) OR instr(hdr, '=?'))", i + 3)).collect();
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT id, prefix, hdr FROM (
                     SELECT m.id AS id, m.prefix AS prefix, COALESCE(h.header, substr(c.data, 1, c.header_len)) AS hdr
                     FROM messages m JOIN contents c ON c.id = m.content_id
                     LEFT JOIN content_headers h ON h.content_id = m.content_id
                     WHERE m.folder_id = ?1 AND m.mailbox_id = ?2)
                 WHERE 1{filter}"
            ))?;
            let mut params: Vec<rusqlite::types::Value> = vec![folder.into(), mailbox.into()];
            params.extend(words.iter().map(|w| rusqlite::types::Value::Text(w.to_ascii_lowercase())));
            let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
                let (id, mut header, content): (i64, Vec<u8>, Vec<u8>) = (r.get(0)?, r.get(1)?, r.get(2)?);
                header.extend_from_slice(&content);
                Ok((id, header))
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    pub(in crate::store) async fn imap_folder_fields(
        &self,
        mailbox: i64,
        folder: i64,
        filters: Vec<(SearchField, String)>,
    ) -> StoreResult<Vec<(i64, SearchFields)>> {
        self.read_content(move |conn| {
            let column = |f: SearchField| match f {
                SearchField::Subject => "f.subject",
                SearchField::From => "f.field_from",
                SearchField::To => "f.field_to",
                SearchField::Cc => "f.cc",
                SearchField::Bcc => "f.bcc",
            };
            let filter: String = filters
                .iter()
                .enumerate()
                .map(|(i, (f, _))| format!(" AND instr({}, ?{})", column(*f), i + 3))
                .collect();
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT m.id, f.subject, f.field_from, f.field_to, f.cc, f.bcc
                 FROM messages m JOIN content_fields f ON f.content_id = m.content_id
                 WHERE m.folder_id = ?1 AND m.mailbox_id = ?2{filter}"
            ))?;
            let mut params: Vec<rusqlite::types::Value> = vec![folder.into(), mailbox.into()];
            params.extend(filters.into_iter().map(|(_, text)| rusqlite::types::Value::Text(text)));
            let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
                Ok((
                    r.get(0)?,
                    SearchFields { subject: r.get(1)?, from: r.get(2)?, to: r.get(3)?, cc: r.get(4)?, bcc: r.get(5)? },
                ))
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    pub(in crate::store) async fn imap_folder_counts(&self, at: Access, folder: i64) -> StoreResult<FolderCounts> {
        self.read(move |conn| {
            let (folder, uidnext, modseq) = folder_of(conn, at.mailbox, folder)?;
            // Unseen by the owner, or (?2) by the viewer on their own.
            let (messages, unseen, deleted, bytes, recent, deleted_bytes): (i64, i64, i64, i64, i64, i64) = conn
                .prepare_cached(
                    "SELECT COUNT(*),
                            COALESCE(SUM(CASE WHEN ?2 IS NULL THEN flags & 1 = 0 ELSE NOT EXISTS
                                (SELECT 1 FROM private_seen p WHERE p.viewer_id = ?2 AND p.message_id = messages.id)
                                END), 0),
                            COALESCE(SUM(flags & 8 <> 0), 0),
                            COALESCE(SUM(size), 0),
                            COALESCE(SUM(uid >= (SELECT recent_uid FROM folders WHERE id = ?1)), 0),
                            COALESCE(SUM(CASE WHEN flags & 8 <> 0 THEN size END), 0)
                     FROM messages WHERE folder_id = ?1",
                )?
                .query_row(params![folder.id, at.private_seen().then_some(at.viewer)], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
                })?;
            Ok(FolderCounts {
                messages: u32_of(messages),
                unseen: u32_of(unseen),
                deleted: u32_of(deleted),
                recent: u32_of(recent),
                size: u64_of(bytes),
                deleted_size: u64_of(deleted_bytes),
                uidnext: u32_of(uidnext),
                uidvalidity: u32_of(folder.id),
                highest_modseq: u64_of(modseq),
            })
        })
        .await
    }

    pub(in crate::store) async fn imap_create(&self, mailbox: i64, name: String) -> StoreResult<i64> {
        self.write(move |tx| {
            name_free(tx, mailbox, &name)?;
            // Not subscribed: a client subscribes to what it wants (RFC 9051 §6.3.4).
            tx.prepare_cached("INSERT INTO folders (mailbox_id, name, subscribed) VALUES (?1, ?2, 0)")?
                .execute(params![mailbox, name])?;
            Ok(tx.last_insert_rowid())
        })
        .await
    }

    pub(in crate::store) async fn imap_delete(&self, mailbox: i64, folder: i64) -> StoreResult<()> {
        self.write(move |tx| {
            folder_of(tx, mailbox, folder)?;
            // Its messages go first, so the content triggers count them down.
            tx.prepare_cached("DELETE FROM messages WHERE folder_id = ?1")?.execute([folder])?;
            tx.prepare_cached("DELETE FROM folders WHERE id = ?1")?.execute([folder])?;
            Ok(())
        })
        .await
    }

    pub(in crate::store) async fn imap_rename(&self, mailbox: i64, folder: i64, to: String) -> StoreResult<()> {
        self.write(move |tx| {
            let (f, _, _) = folder_of(tx, mailbox, folder)?;
            name_free(tx, mailbox, &to)?;
            let children = format!("{}/%", f.name.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
            tx.prepare_cached(
                "UPDATE folders SET name = ?1 || substr(name, ?2) WHERE mailbox_id = ?3 AND name LIKE ?4 ESCAPE '\\'",
            )?
            .execute(params![to, int(f.name.len() + 1), mailbox, children])?;
            tx.prepare_cached("UPDATE folders SET name = ?1 WHERE id = ?2")?.execute(params![to, folder])?;
            // Subscriptions follow the folder and its children.
            tx.prepare_cached(
                "UPDATE OR REPLACE subscriptions SET name = ?1 || substr(name, ?2)
                 WHERE mailbox_id = ?3 AND name LIKE ?4 ESCAPE '\\'",
            )?
            .execute(params![to, int(f.name.len() + 1), mailbox, children])?;
            tx.prepare_cached("UPDATE OR REPLACE subscriptions SET name = ?1 WHERE mailbox_id = ?2 AND name = ?3")?
                .execute(params![to, mailbox, f.name])?;
            Ok(())
        })
        .await
    }

    pub(in crate::store) async fn imap_move_all(&self, mailbox: i64, folder: i64, to: String) -> StoreResult<()> {
        self.write(move |tx| {
            folder_of(tx, mailbox, folder)?;
            name_free(tx, mailbox, &to)?;
            // The messages keep their UIDs: the new folder has its own UIDVALIDITY.
            let (uidnext, modseq): (i64, i64) = tx
                .prepare_cached("SELECT uidnext, modseq FROM folders WHERE id = ?1")?
                .query_row([folder], |r| Ok((r.get(0)?, r.get(1)?)))?;
            tx.prepare_cached("INSERT INTO folders (mailbox_id, name, uidnext, modseq) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![mailbox, to, uidnext, modseq])?;
            let new = tx.last_insert_rowid();
            tx.prepare_cached("UPDATE messages SET folder_id = ?1 WHERE folder_id = ?2")?.execute([new, folder])?;
            bump(tx, folder)?;
            Ok(())
        })
        .await
    }

    pub(in crate::store) async fn imap_claim_recent(&self, mailbox: i64, folder: i64) -> StoreResult<(u32, u32)> {
        self.write(move |tx| {
            let (from, to): (i64, i64) = tx
                .prepare_cached("SELECT recent_uid, uidnext FROM folders WHERE id = ?1 AND mailbox_id = ?2")?
                .query_row([folder, mailbox], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
                .ok_or_else(|| StoreError::NotFound("no such folder".into()))?;
            tx.prepare_cached("UPDATE folders SET recent_uid = ?2 WHERE id = ?1")?.execute([folder, to])?;
            Ok((u32_of(from), u32_of(to)))
        })
        .await
    }

    pub(in crate::store) async fn imap_subscribe(&self, mailbox: i64, name: String, on: bool) -> StoreResult<()> {
        self.write(move |tx| {
            let exists: bool = tx
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM folders WHERE mailbox_id = ?1 AND name = ?2)")?
                .query_row(params![mailbox, name], |r| r.get(0))?;
            let changed = if on {
                if !exists {
                    return Err(StoreError::NotFound(format!("no folder named {name}")));
                }
                tx.prepare_cached("INSERT OR IGNORE INTO subscriptions (mailbox_id, name) VALUES (?1, ?2)")?
                    .execute(params![mailbox, name])?
            } else {
                tx.prepare_cached("DELETE FROM subscriptions WHERE mailbox_id = ?1 AND name = ?2")?
                    .execute(params![mailbox, name])?
            };
            if changed == 0 && !exists {
                return Err(StoreError::NotFound(format!("no folder or subscription named {name}")));
            }
            Ok(())
        })
        .await
    }

    pub(in crate::store) async fn imap_objects(
        &self,
        mailbox: i64,
        folder: i64,
        ids: Option<Vec<i64>>,
    ) -> StoreResult<Vec<crate::store::ObjectIds>> {
        self.read(move |conn| {
            folder_of(conn, mailbox, folder)?;
            let row = |r: &rusqlite::Row<'_>| {
                Ok(crate::store::ObjectIds { id: r.get(0)?, content: r.get(1)?, saved_at: r.get(2)? })
            };
            let mut out = Vec::new();
            match ids {
                None => {
                    let mut stmt = conn.prepare_cached(
                        "SELECT id, content_id, saved_at FROM messages WHERE folder_id = ?1 ORDER BY uid",
                    )?;
                    for r in stmt.query_map([folder], row)? {
                        out.push(r?);
                    }
                }
                Some(ids) => {
                    let mut stmt = conn.prepare_cached(
                        "SELECT id, content_id, saved_at FROM messages WHERE id = ?1 AND folder_id = ?2",
                    )?;
                    for id in ids {
                        if let Some(o) = stmt.query_row([id, folder], row).optional()? {
                            out.push(o);
                        }
                    }
                }
            }
            Ok(out)
        })
        .await
    }

    pub(in crate::store) async fn imap_subscriptions(&self, mailbox: i64) -> StoreResult<Vec<String>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached("SELECT name FROM subscriptions WHERE mailbox_id = ?1 ORDER BY name")?;
            Ok(stmt.query_map([mailbox], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?)
        })
        .await
    }

    pub(in crate::store) async fn imap_append(
        &self,
        at: Access,
        folder: i64,
        messages: Vec<crate::store::Appended>,
    ) -> StoreResult<(u32, Vec<u32>)> {
        let fields: Vec<SearchFields> = messages.iter().map(|m| SearchFields::of(&m.content)).collect();
        self.write(move |tx| {
            folder_of(tx, at.mailbox, folder)?;
            let mut uids = Vec::with_capacity(messages.len());
            for (m, fields) in messages.iter().zip(&fields) {
                let content_id = super::messages::insert_content(tx, &m.content, fields)?;
                let stored = if at.private_seen() { m.flags & !flags::SEEN } else { m.flags };
                let (_, uid) = insert_copy(
                    tx,
                    at.mailbox,
                    Some(folder),
                    int(m.content.len()),
                    m.received_at,
                    b"",
                    content_id,
                    (stored, &m.keywords),
                )?;
                set_private_seen(tx, at, tx.last_insert_rowid(), m.flags & flags::SEEN != 0)?;
                uids.push(u32_of(uid));
            }
            Ok((u32_of(folder), uids))
        })
        .await
    }

    pub(in crate::store) async fn imap_store(
        &self,
        at: Access,
        folder: i64,
        ids: Vec<i64>,
        update: FlagUpdate,
    ) -> StoreResult<Stored> {
        self.write(move |tx| {
            folder_of(tx, at.mailbox, folder)?;
            // The flags as the viewer sees them (their own \Seen apart), and the stored
            // ones (whose \Seen is the owner's).
            let mut read = tx.prepare_cached(&format!(
                "SELECT {}, flags FROM messages WHERE id = ?1 AND folder_id = ?2",
                private_columns(3)
            ))?;
            let mut write =
                tx.prepare_cached("UPDATE messages SET flags = ?1, keywords = ?2, modseq = ?3 WHERE id = ?4")?;
            let mut out = Stored::default();
            let mut modseq = None;
            for id in ids {
                let row = read
                    .query_row([id, folder, at.viewer], |r| Ok((message_row(r)?, r.get::<_, u8>(7)?)))
                    .optional()?;
                let Some((mut m, stored)) = row else { continue };
                if !at.private_seen() {
                    m.flags = stored;
                }
                if update.unchanged_since.is_some_and(|since| m.modseq > since) {
                    out.modified.push(id);
                    continue;
                }
                let (flags, keywords) = match update.change {
                    FlagChange::Add => (
                        m.flags | update.flags,
                        keyword_text(m.keyword_list().chain(update.keywords.iter().map(String::as_str))),
                    ),
                    FlagChange::Remove => (
                        m.flags & !update.flags,
                        keyword_text(
                            m.keyword_list().filter(|k| !update.keywords.iter().any(|r| r.eq_ignore_ascii_case(k))),
                        ),
                    ),
                    FlagChange::Replace => (update.flags, keyword_text(update.keywords.iter().map(String::as_str))),
                };
                // What the user may not change stays as it was.
                let (flags, keywords) = match update.within {
                    None => (flags, keywords),
                    Some((allowed, keywords_allowed)) => (
                        (flags & allowed) | (m.flags & !allowed),
                        if keywords_allowed { keywords } else { m.keywords.clone() },
                    ),
                };
                if flags != m.flags || keywords != m.keywords {
                    let seq = match modseq {
                        Some(s) => s,
                        None => *modseq.insert(bump(tx, folder)?),
                    };
                    // The viewer's own \Seen apart; the owner's kept as it was.
                    let kept = if at.private_seen() {
                        set_private_seen(tx, at, id, flags & flags::SEEN != 0)?;
                        (flags & !flags::SEEN) | (stored & flags::SEEN)
                    } else {
                        flags
                    };
                    write.execute(params![kept, keywords, seq, id])?;
                    m.flags = flags;
                    m.keywords = keywords;
                    m.modseq = u64_of(seq);
                }
                out.messages.push(m);
            }
            Ok(out)
        })
        .await
    }

    pub(in crate::store) async fn imap_copy(
        &self,
        at: Access,
        from: i64,
        ids: Vec<i64>,
        (to_mailbox, to): (i64, i64),
        moving: bool,
    ) -> StoreResult<(u32, Vec<(u32, u32)>)> {
        let dest = Access::new(to_mailbox, at.viewer);
        self.write(move |tx| {
            folder_of(tx, at.mailbox, from)?;
            folder_of(tx, to_mailbox, to)?;
            // The flags as the viewer sees them.
            let mut read = tx.prepare_cached(
                "SELECT uid, size, received_at, prefix, content_id,
                        CASE WHEN ?3 IS NULL THEN flags ELSE (flags & ~1) | EXISTS (SELECT 1 FROM private_seen p
                            WHERE p.viewer_id = ?3 AND p.message_id = messages.id) END,
                        keywords FROM messages
                 WHERE id = ?1 AND folder_id = ?2",
            )?;
            let mut delete = tx.prepare_cached("DELETE FROM messages WHERE id = ?1")?;
            let mut pairs = Vec::with_capacity(ids.len());
            for id in ids {
                type Row = (i64, i64, i64, Vec<u8>, i64, u8, String);
                let row: Option<Row> = read
                    .query_row(params![id, from, at.private_seen().then_some(at.viewer)], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
                    })
                    .optional()?;
                let Some((uid, bytes, received_at, prefix, content, flags, keywords)) = row else { continue };
                // The new row takes its reference before the old one (when moving) lets go.
                let stored = if dest.private_seen() { flags & !flags::SEEN } else { flags };
                let (_, new_uid) =
                    insert_copy(tx, to_mailbox, Some(to), bytes, received_at, &prefix, content, (stored, &keywords))?;
                set_private_seen(tx, dest, tx.last_insert_rowid(), flags & flags::SEEN != 0)?;
                if moving {
                    delete.execute([id])?;
                }
                pairs.push((u32_of(uid), u32_of(new_uid)));
            }
            if moving && !pairs.is_empty() {
                bump(tx, from)?;
            }
            Ok((u32_of(to), pairs))
        })
        .await
    }

    pub(in crate::store) async fn imap_expunge(
        &self,
        mailbox: i64,
        folder: i64,
        only: Option<Vec<i64>>,
    ) -> StoreResult<Vec<i64>> {
        self.write(move |tx| {
            folder_of(tx, mailbox, folder)?;
            let marked: Vec<i64> = {
                let mut stmt =
                    tx.prepare_cached("SELECT id FROM messages WHERE folder_id = ?1 AND flags & 8 <> 0 ORDER BY uid")?;
                stmt.query_map([folder], |r| r.get(0))?.collect::<Result<Vec<_>, _>>()?
            };
            let gone: Vec<i64> = match only {
                Some(only) => {
                    let only: std::collections::HashSet<i64> = only.into_iter().collect();
                    marked.into_iter().filter(|id| only.contains(id)).collect()
                }
                None => marked,
            };
            let mut delete = tx.prepare_cached("DELETE FROM messages WHERE id = ?1")?;
            for id in &gone {
                delete.execute([id])?;
            }
            if !gone.is_empty() {
                bump(tx, folder)?;
            }
            Ok(gone)
        })
        .await
    }
}
