//! Storing a message — the one path SMTP acceptance and NDRs share — and the tracking
//! log's writes.

use rusqlite::{Transaction, params};

use super::{Sqlite, int};
use crate::message::SearchFields;
use crate::store::{NewMessage, StoreResult, TrackingRecord};

impl Sqlite {
    pub(in crate::store) async fn accept(&self, message: NewMessage) -> StoreResult<()> {
        // Parsed here, on the caller's task: the writer thread only writes.
        let fields = SearchFields::of(&message.content);
        self.write(move |tx| insert_message(tx, &message, &fields)).await
    }

    pub(in crate::store) async fn track(&self, records: Vec<TrackingRecord>) -> StoreResult<()> {
        self.write(move |tx| insert_tracking(tx, &records)).await
    }
}

/// Stores a message's content once, with its header fields as IMAP SEARCH looks in
/// them (worked out by the caller before the write, off the writer thread); its id.
/// The rows that use it take their references through the triggers.
pub(super) fn insert_content(tx: &Transaction<'_>, content: &[u8], fields: &SearchFields) -> StoreResult<i64> {
    tx.prepare_cached("INSERT INTO contents (size, data, header_len) VALUES (?1, ?2, ?3)")?.execute(params![
        int(content.len()),
        content,
        int(crate::message::header_len(content))
    ])?;
    let id = tx.last_insert_rowid();
    insert_fields(tx, id, fields)?;
    Ok(id)
}

/// Writes content `id`'s searchable header fields.
pub(super) fn insert_fields(tx: &Transaction<'_>, id: i64, f: &SearchFields) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO content_fields (content_id, subject, field_from, field_to, cc, bcc) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![id, f.subject, f.from, f.to, f.cc, f.bcc])?;
    Ok(())
}

/// Writes `m` inside `tx`: its content once (with `fields`, its searchable header
/// fields), a copy row per mailbox, its queue entry and its tracking records. The
/// triggers count each copy and queue entry as a reference to the content.
pub(super) fn insert_message(tx: &Transaction<'_>, m: &NewMessage, fields: &SearchFields) -> StoreResult<()> {
    let content_size = int(m.content.len());
    let content = insert_content(tx, &m.content, fields)?;
    if !m.mailboxes.is_empty() {
        let size = int(m.local_prefix.len() + m.content.len());
        for mailbox in &m.mailboxes {
            let folder = m.folders.get(mailbox).copied();
            insert_copy(tx, *mailbox, folder, size, m.received_at, &m.local_prefix, content, (0, ""))?;
        }
    }
    if let Some(out) = &m.outbound {
        insert_outbound(tx, &m.queue_id, out, m.received_at, content_size, content)?;
    }
    if let Some(out) = &m.forwarded {
        insert_outbound(tx, &format!("{}-F", m.queue_id), out, m.received_at, content_size, content)?;
    }
    if let Some(sent) = m.sent_by.as_ref().filter(|s| s.recipients > 0) {
        tx.prepare_cached("INSERT INTO sent_recipients (account, at, count) VALUES (?1, ?2, ?3)")?.execute(params![
            sent.account,
            m.received_at,
            i64::try_from(sent.recipients).unwrap_or(i64::MAX)
        ])?;
    }
    // A message with nowhere to go keeps nothing.
    tx.prepare_cached("DELETE FROM contents WHERE id = ?1 AND refs = 0")?.execute([content])?;
    insert_tracking(tx, &m.tracking)
}

/// Writes one queue entry of a message and its recipients.
fn insert_outbound(
    tx: &Transaction<'_>,
    queue_id: &str,
    out: &crate::store::Outbound,
    received_at: i64,
    content_size: i64,
    content: i64,
) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO queue_messages (queue_id, sender, received_at, size, content_id, envid, ret, body_8bit, client)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        queue_id,
        out.sender,
        received_at,
        content_size,
        content,
        out.envid,
        out.ret,
        out.body_8bit,
        out.client
    ])?;
    let queued = tx.last_insert_rowid();
    let mut insert = tx.prepare_cached(
        "INSERT INTO queue_recipients (message_id, recipient, orcpt, notify, state, next_attempt, last_error, status, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for r in &out.recipients {
        let (state, next, error, status) = match &r.failed {
            Some(f) => ("failed", None, Some(f.reason.as_str()), Some(f.status.as_str())),
            None => ("scheduled", Some(received_at), None, None),
        };
        insert.execute(params![queued, r.address, r.orcpt, r.notify, state, next, error, status, received_at])?;
    }
    Ok(())
}

/// Puts a copy of `content` into a folder of `mailbox` (INBOX when `folder` is
/// `None`) with the folder's next UID and mod-sequence, and the given `(flags,
/// keywords)`; returns the folder's id and the UID.
#[expect(clippy::too_many_arguments, reason = "a copy row's columns; every caller names each")]
pub(super) fn insert_copy(
    tx: &Transaction<'_>,
    mailbox: i64,
    folder: Option<i64>,
    size: i64,
    received_at: i64,
    prefix: &[u8],
    content: i64,
    (flags, keywords): (u8, &str),
) -> StoreResult<(i64, i64)> {
    let (folder, uid, modseq): (i64, i64, i64) = match folder {
        None => tx
            .prepare_cached(
                "UPDATE folders SET uidnext = uidnext + 1, modseq = modseq + 1
                 WHERE mailbox_id = ?1 AND name = 'INBOX' RETURNING id, uidnext - 1, modseq",
            )?
            .query_row([mailbox], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?,
        Some(id) => tx
            .prepare_cached(
                "UPDATE folders SET uidnext = uidnext + 1, modseq = modseq + 1
                 WHERE id = ?1 AND mailbox_id = ?2 RETURNING id, uidnext - 1, modseq",
            )?
            .query_row([id, mailbox], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?,
    };
    tx.prepare_cached(
        "INSERT INTO messages (mailbox_id, folder_id, uid, size, received_at, prefix, content_id, flags, keywords, modseq,
                               saved_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        mailbox,
        folder,
        uid,
        size,
        received_at,
        prefix,
        content,
        flags,
        keywords,
        modseq,
        crate::store::now_secs()
    ])?;
    Ok((folder, uid))
}

/// Appends tracking records inside `tx`.
pub(super) fn insert_tracking(tx: &Transaction<'_>, records: &[TrackingRecord]) -> StoreResult<()> {
    if records.is_empty() {
        return Ok(());
    }
    let mut insert = tx.prepare_cached(
        "INSERT INTO tracking (at, event, queue_id, message_id, sender, recipient, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for r in records {
        insert.execute(params![r.at, r.event.as_str(), r.queue_id, r.message_id, r.sender, r.recipient, r.detail])?;
    }
    Ok(())
}
