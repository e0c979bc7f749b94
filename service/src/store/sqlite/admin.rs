//! What the administrator sees and does with the queue and the tracking log.

use mailroom_shared::ipc::{QueueDetails, QueueEntry, QueueRecipient, TrackingEvent};
use rusqlite::{Connection, OptionalExtension, params};

use super::{Sqlite, size};
use crate::store::{QueueFilter, StoreError, StoreResult, TrackFilter, now_secs};

fn like(s: &Option<String>) -> Option<String> {
    s.as_ref().map(|s| format!("%{}%", s.replace(['%', '_'], "")))
}

fn entries(conn: &Connection, f: &QueueFilter, only: Option<&str>) -> StoreResult<Vec<QueueEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.queue_id, m.sender, m.size, m.received_at,
                group_concat(r.recipient, char(10)), MIN(r.next_attempt), MAX(r.last_error)
         FROM queue_messages m JOIN queue_recipients r ON r.message_id = m.id
         WHERE r.state NOT IN ('delivered') AND NOT (r.state = 'failed' AND r.ndr_done = 1)
           AND (?1 IS NULL OR r.state = ?1)
           AND (?2 IS NULL OR m.sender LIKE ?2)
           AND (?3 IS NULL OR EXISTS (SELECT 1 FROM queue_recipients x WHERE x.message_id = m.id AND x.recipient LIKE ?3))
           AND (?4 IS NULL OR m.queue_id = ?4)
         GROUP BY m.id ORDER BY m.received_at, m.id",
    )?;
    let rows = stmt.query_map(params![f.state, like(&f.sender), like(&f.recipient), only], |r| {
        Ok(QueueEntry {
            queue_id: r.get(0)?,
            sender: r.get(1)?,
            size: super::size(r.get(2)?),
            received_at: r.get(3)?,
            recipients: r.get::<_, String>(4)?.split('\n').map(str::to_owned).collect(),
            next_attempt: r.get(5)?,
            last_error: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

impl Sqlite {
    pub(in crate::store) async fn content_stats(&self) -> StoreResult<crate::store::ContentStats> {
        self.read(|conn| {
            let (contents, references, bytes): (i64, i64, i64) = conn
                .prepare_cached("SELECT COUNT(*), COALESCE(SUM(refs), 0), COALESCE(SUM(size), 0) FROM contents")?
                .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            Ok(crate::store::ContentStats {
                contents: size(contents),
                references: size(references),
                bytes: size(bytes),
            })
        })
        .await
    }

    pub(in crate::store) async fn queue_list(&self, filter: QueueFilter) -> StoreResult<Vec<QueueEntry>> {
        self.read(move |conn| entries(conn, &filter, None)).await
    }

    pub(in crate::store) async fn queue_details(&self, queue_id: String) -> StoreResult<QueueDetails> {
        self.read(move |conn| {
            let (id, sender, size, received_at, content): (i64, String, i64, i64, Vec<u8>) = conn
                .query_row(
                    "SELECT m.id, m.sender, m.size, m.received_at, c.data
                     FROM queue_messages m JOIN contents c ON c.id = m.content_id WHERE m.queue_id = ?1",
                    [&queue_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )
                .optional()?
                .ok_or_else(|| StoreError::NotFound(format!("no queued message {queue_id}")))?;
            let mut stmt = conn.prepare_cached(
                "SELECT recipient, state, attempts, next_attempt, last_error, remote_mta
                 FROM queue_recipients WHERE message_id = ?1 ORDER BY id",
            )?;
            let recipients: Vec<QueueRecipient> = stmt
                .query_map([id], |r| {
                    Ok(QueueRecipient {
                        address: r.get(0)?,
                        state: r.get(1)?,
                        attempts: r.get(2)?,
                        next_attempt: r.get(3)?,
                        last_error: r.get(4)?,
                        remote_mta: r.get(5)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            let end = memchr::memmem::find(&content, b"\r\n\r\n").map_or(content.len(), |p| p + 2);
            let entry = QueueEntry {
                queue_id,
                sender,
                recipients: recipients
                    .iter()
                    .filter(|r| r.state != "delivered" && r.state != "failed")
                    .map(|r| r.address.clone())
                    .collect(),
                size: super::size(size),
                received_at,
                next_attempt: recipients.iter().filter_map(|r| r.next_attempt).min(),
                last_error: recipients.iter().rev().find_map(|r| r.last_error.clone()),
            };
            Ok(QueueDetails { entry, recipients, headers: String::from_utf8_lossy(&content[..end]).into_owned() })
        })
        .await
    }

    pub(in crate::store) async fn queue_retry(&self, queue_id: Option<String>) -> StoreResult<usize> {
        self.write(move |tx| {
            Ok(tx.execute(
                "UPDATE queue_recipients SET next_attempt = ?1
                 WHERE state IN ('scheduled', 'deferred')
                   AND (?2 IS NULL OR message_id = (SELECT id FROM queue_messages WHERE queue_id = ?2))",
                params![now_secs(), queue_id],
            )?)
        })
        .await
    }

    pub(in crate::store) async fn queue_delete(
        &self,
        queue_id: String,
        ndr: bool,
        failure: crate::store::Failure,
    ) -> StoreResult<usize> {
        self.write(move |tx| {
            let id: i64 = tx
                .query_row("SELECT id FROM queue_messages WHERE queue_id = ?1", [&queue_id], |r| r.get(0))
                .optional()?
                .ok_or_else(|| StoreError::NotFound(format!("no queued message {queue_id}")))?;
            Ok(tx.execute(
                "UPDATE queue_recipients SET state = 'failed', status = ?4, next_attempt = NULL,
                   last_error = ?5, ndr_done = ?2, updated_at = ?3
                 WHERE message_id = ?1 AND state IN ('scheduled', 'deferred', 'in_flight')",
                params![id, !ndr, now_secs(), failure.status, failure.reason],
            )?)
        })
        .await
    }

    pub(in crate::store) async fn tracking(&self, f: TrackFilter) -> StoreResult<Vec<TrackingEvent>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT at, event, queue_id, message_id, sender, recipient, detail FROM tracking
                 WHERE (?1 IS NULL OR sender LIKE ?1) AND (?2 IS NULL OR recipient LIKE ?2)
                   AND (?3 IS NULL OR message_id = ?3 OR queue_id = ?3)
                   AND (?4 IS NULL OR at >= ?4) AND (?5 IS NULL OR at <= ?5)
                 ORDER BY at DESC, id DESC LIMIT 1000",
            )?;
            let rows =
                stmt.query_map(params![like(&f.sender), like(&f.recipient), f.message_id, f.since, f.until], |r| {
                    Ok(TrackingEvent {
                        at: r.get(0)?,
                        event: r.get(1)?,
                        queue_id: r.get(2)?,
                        message_id: r.get(3)?,
                        sender: r.get(4)?,
                        recipient: r.get(5)?,
                        detail: r.get(6)?,
                    })
                })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub(in crate::store) async fn tracking_purge(&self, before: i64) -> StoreResult<usize> {
        const BATCH: i64 = 10_000;
        let mut total = 0;
        loop {
            let n = self
                .write(move |tx| {
                    Ok(tx.execute(
                        "DELETE FROM tracking WHERE id IN (SELECT id FROM tracking WHERE at < ?1 LIMIT ?2)",
                        params![before, BATCH],
                    )?)
                })
                .await?;
            total += n;
            if i64::try_from(n).unwrap_or(0) < BATCH {
                return Ok(total);
            }
        }
    }

    pub(in crate::store) async fn reusable_bytes(&self) -> StoreResult<u64> {
        self.read(|conn| {
            let pages: i64 = conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
            let size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
            Ok(super::size(pages.saturating_mul(size)))
        })
        .await
    }
}
