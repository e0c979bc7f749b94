//! The outbound queue's states and transitions.
//!
//! Recipient states: `scheduled` (due at `next_attempt`), `in_flight` (claimed by a
//! delivery; set back to `scheduled` at start-up after a crash, so a delivery cut short
//! is retried — at least once, never zero times), `deferred` (a temporary failure;
//! due again at `next_attempt`), `delivered`, `failed` (`ndr_done` says whether the NDR
//! has been written). Deleting a finished queue entry releases its content (the
//! triggers of `schema/`).

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::{OptionalExtension, params};

use super::messages::insert_message;
use super::{Sqlite, int, size};
use crate::message::SearchFields;
use crate::store::queue::{EXPIRED_NONE, EXPIRED_REASON, EXPIRED_STATUS, UNKNOWN_FAILURE};
use crate::store::{Attempt, DueMessage, DueRecipient, FailedRecipient, NdrDue, NewMessage, StoreResult, now_secs};

impl Sqlite {
    pub(in crate::store) async fn queue_recover(&self) -> StoreResult<usize> {
        self.write(|tx| {
            Ok(tx.execute(
                "UPDATE queue_recipients SET state = 'scheduled', next_attempt = ?1 WHERE state = 'in_flight'",
                [now_secs()],
            )?)
        })
        .await
    }

    pub(in crate::store) async fn queue_waiting(&self) -> StoreResult<u64> {
        self.read(|conn| {
            let n: i64 = conn
                .prepare_cached(
                    "SELECT COUNT(DISTINCT message_id) FROM queue_recipients
                     WHERE state IN ('scheduled', 'in_flight', 'deferred')",
                )?
                .query_row([], |r| r.get(0))?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
        .await
    }

    pub(in crate::store) async fn queue_oldest(&self) -> StoreResult<Option<i64>> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT MIN(m.received_at) FROM queue_messages m WHERE EXISTS (SELECT 1 FROM queue_recipients r
                     WHERE r.message_id = m.id AND r.state IN ('scheduled', 'in_flight', 'deferred'))",
                )?
                .query_row([], |r| r.get(0))?)
        })
        .await
    }

    pub(in crate::store) async fn queue_claim_due(&self, limit: usize) -> StoreResult<Vec<DueMessage>> {
        let now = now_secs();
        self.write(move |tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT r.id, r.recipient, r.attempts, m.id, m.queue_id, m.sender, m.received_at, m.size, m.body_8bit
                 FROM queue_recipients r JOIN queue_messages m ON m.id = r.message_id
                 WHERE r.state IN ('scheduled', 'deferred') AND r.next_attempt <= ?1
                 ORDER BY r.next_attempt, r.id LIMIT ?2",
            )?;
            let mut rows = stmt.query(params![now, int(limit)])?;
            let mut out: Vec<DueMessage> = Vec::new();
            let mut claimed = Vec::new();
            while let Some(r) = rows.next()? {
                let rcpt = DueRecipient { id: r.get(0)?, address: r.get(1)?, attempts: r.get(2)? };
                claimed.push(rcpt.id);
                let message_id: i64 = r.get(3)?;
                match out.iter_mut().find(|m| m.id == message_id) {
                    Some(m) => m.recipients.push(rcpt),
                    None => out.push(DueMessage {
                        id: message_id,
                        queue_id: r.get(4)?,
                        sender: r.get(5)?,
                        received_at: r.get(6)?,
                        size: size(r.get(7)?),
                        body_8bit: r.get(8)?,
                        recipients: vec![rcpt],
                    }),
                }
            }
            let mut claim =
                tx.prepare_cached("UPDATE queue_recipients SET state = 'in_flight', updated_at = ?2 WHERE id = ?1")?;
            for id in claimed {
                claim.execute(params![id, now])?;
            }
            Ok(out)
        })
        .await
    }

    pub(in crate::store) async fn queue_next_due(&self) -> StoreResult<Option<i64>> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT MIN(next_attempt) FROM queue_recipients WHERE state IN ('scheduled', 'deferred')",
                    [],
                    |r| r.get::<_, Option<i64>>(0),
                )
                .optional()?
                .flatten())
        })
        .await
    }

    pub(in crate::store) async fn queue_contents(&self, ids: Vec<i64>) -> StoreResult<HashMap<i64, Arc<Vec<u8>>>> {
        self.read_content(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT c.data FROM queue_messages m JOIN contents c ON c.id = m.content_id WHERE m.id = ?1",
            )?;
            let mut out = HashMap::with_capacity(ids.len());
            for id in ids {
                if let Some(c) = stmt.query_row([id], |r| r.get(0)).optional()? {
                    out.insert(id, Arc::new(c));
                }
            }
            Ok(out)
        })
        .await
    }

    pub(in crate::store) async fn queue_record(
        &self,
        outcomes: Vec<(i64, String, Attempt)>,
        track: bool,
    ) -> StoreResult<()> {
        let now = now_secs();
        self.write(move |tx| {
            let mut tracking = tx.prepare_cached(
                "INSERT INTO tracking (at, event, queue_id, sender, recipient, detail)
                 SELECT ?1, ?2, m.queue_id, m.sender, ?3, ?4
                 FROM queue_recipients r JOIN queue_messages m ON m.id = r.message_id WHERE r.id = ?5",
            )?;
            for (id, address, outcome) in &outcomes {
                let applied = match outcome {
                    Attempt::Delivered { remote, .. } => {
                        tx.prepare_cached(
                            "UPDATE queue_recipients SET state = 'delivered', attempts = attempts + 1, remote_mta = ?2,
                             last_error = NULL, next_attempt = NULL, updated_at = ?3 WHERE id = ?1 AND state = 'in_flight'",
                        )?
                        .execute(params![id, remote, now])?
                    }
                    Attempt::Deferred { error, remote, retry_at } => {
                        tx.prepare_cached(
                            "UPDATE queue_recipients SET state = 'deferred', attempts = attempts + 1, remote_mta = ?2,
                             last_error = ?3, next_attempt = ?4, updated_at = ?5 WHERE id = ?1 AND state = 'in_flight'",
                        )?
                        .execute(params![id, remote, error, retry_at, now])?
                    }
                    Attempt::Failed { error, status, remote } => {
                        tx.prepare_cached(
                            "UPDATE queue_recipients SET state = 'failed', attempts = attempts + 1, remote_mta = ?2,
                             last_error = ?3, status = ?4, next_attempt = NULL, updated_at = ?5 WHERE id = ?1 AND state = 'in_flight'",
                        )?
                        .execute(params![id, remote, error, status, now])?
                    }
                    Attempt::Returned => {
                        tx.prepare_cached(
                            "UPDATE queue_recipients SET state = 'scheduled', next_attempt = ?2, updated_at = ?2
                             WHERE id = ?1 AND state = 'in_flight'",
                        )?
                        .execute(params![id, now])?
                    }
                };
                // The administrator deleted it during the attempt: it stays deleted.
                if applied == 0 {
                    continue;
                }
                let Some((event, detail)) = outcome.tracked() else { continue };
                if track {
                    tracking.execute(params![now, event.as_str(), address, detail, id])?;
                }
            }
            Ok(())
        })
        .await
    }

    pub(in crate::store) async fn queue_expire(&self, received_before: i64) -> StoreResult<usize> {
        let now = now_secs();
        self.write(move |tx| {
            Ok(tx.execute(
                "UPDATE queue_recipients SET state = 'failed', status = ?3, next_attempt = NULL, updated_at = ?1,
                   last_error = ?4 || COALESCE(last_error, ?5)
                 WHERE state IN ('scheduled', 'deferred')
                   AND message_id IN (SELECT id FROM queue_messages WHERE received_at < ?2)",
                params![now, received_before, EXPIRED_STATUS, EXPIRED_REASON, EXPIRED_NONE],
            )?)
        })
        .await
    }

    pub(in crate::store) async fn queue_ndr_due(&self, limit: usize) -> StoreResult<Vec<NdrDue>> {
        self.read_content(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT r.id, r.recipient, r.orcpt, r.notify, COALESCE(r.status, ?2), COALESCE(r.last_error, ''),
                        r.remote_mta, m.id, m.queue_id, m.sender, m.received_at, m.ret, m.envid
                 FROM queue_recipients r JOIN queue_messages m ON m.id = r.message_id
                 WHERE r.state = 'failed' AND r.ndr_done = 0 ORDER BY m.id, r.id LIMIT ?1",
            )?;
            let mut rows = stmt.query(params![int(limit), UNKNOWN_FAILURE])?;
            let mut out: Vec<NdrDue> = Vec::new();
            while let Some(r) = rows.next()? {
                let rcpt = FailedRecipient {
                    id: r.get(0)?,
                    address: r.get(1)?,
                    orcpt: r.get(2)?,
                    notify: r.get(3)?,
                    status: r.get(4)?,
                    error: r.get(5)?,
                    remote: r.get(6)?,
                };
                let message_id: i64 = r.get(7)?;
                match out.last_mut() {
                    Some(m) if m.message_id == message_id => m.recipients.push(rcpt),
                    _ => out.push(NdrDue {
                        message_id,
                        queue_id: r.get(8)?,
                        sender: r.get(9)?,
                        received_at: r.get(10)?,
                        ret: r.get(11)?,
                        envid: r.get(12)?,
                        content: Arc::default(),
                        recipients: vec![rcpt],
                    }),
                }
            }
            let mut content = conn.prepare_cached(
                "SELECT c.data FROM queue_messages m JOIN contents c ON c.id = m.content_id WHERE m.id = ?1",
            )?;
            for m in &mut out {
                m.content = Arc::new(content.query_row([m.message_id], |r| r.get(0))?);
            }
            Ok(out)
        })
        .await
    }

    pub(in crate::store) async fn queue_purge_finished(&self) -> StoreResult<usize> {
        self.write(|tx| {
            Ok(tx.execute(
                "DELETE FROM queue_messages WHERE NOT EXISTS (
                   SELECT 1 FROM queue_recipients r WHERE r.message_id = queue_messages.id
                   AND NOT (r.state = 'delivered' OR (r.state = 'failed' AND r.ndr_done = 1)))",
                [],
            )?)
        })
        .await
    }

    pub(in crate::store) async fn queue_write_ndr(
        &self,
        recipients: Vec<i64>,
        ndr: Option<NewMessage>,
    ) -> StoreResult<()> {
        let fields = ndr.as_ref().map(|m| SearchFields::of(&m.content)).unwrap_or_default();
        self.write(move |tx| {
            let mut done =
                tx.prepare_cached("UPDATE queue_recipients SET ndr_done = 1 WHERE id = ?1 AND ndr_done = 0")?;
            let mut reported = 0;
            for id in &recipients {
                reported += done.execute([id])?;
            }
            // Reported already (by another writer): the report is not written twice.
            if let Some(ndr) = ndr.as_ref().filter(|_| reported > 0) {
                insert_message(tx, ndr, &fields)?;
            }
            Ok(())
        })
        .await
    }
}
