//! The outbound queue in the store: which recipients are due, claiming them for a
//! delivery attempt, recording each attempt's outcome, and NDR bookkeeping.
//!
//! Recipient states: `scheduled` (due at `next_attempt`), `in_flight` (claimed by a
//! delivery; set back to `scheduled` at start-up after a crash, so a delivery cut short
//! is retried — at least once, never zero times), `deferred` (a temporary failure;
//! due again at `next_attempt`), `delivered`, `failed` (`ndr_done` says whether the NDR
//! has been written).

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreResult, now_secs};

/// A recipient due for delivery.
#[derive(Debug, Clone)]
pub struct DueRecipient {
    /// Row id.
    pub id: i64,
    /// The address.
    pub address: String,
    /// Attempts so far.
    pub attempts: u32,
}

/// A queued message with its due recipients.
#[derive(Debug, Clone)]
pub struct DueMessage {
    /// Row id.
    pub id: i64,
    /// Queue id shown to people.
    pub queue_id: String,
    /// Envelope sender; empty for `<>`.
    pub sender: String,
    /// Arrival, Unix seconds.
    pub received_at: i64,
    /// Size in bytes.
    pub size: u64,
    /// The client declared 8BITMIME.
    pub body_8bit: bool,
    /// Recipients due now.
    pub recipients: Vec<DueRecipient>,
}

/// The outcome of one delivery attempt for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// Accepted by the next hop.
    Delivered {
        /// Who accepted it.
        remote: String,
        /// The TLS version the connection used; `None` for plain text.
        tls: Option<&'static str>,
    },
    /// Temporary failure: try again at `retry_at`.
    Deferred {
        /// Why.
        error: String,
        /// Who said so, if anyone.
        remote: Option<String>,
        /// When to try again.
        retry_at: i64,
    },
    /// Permanent failure: an NDR is due.
    Failed {
        /// Why.
        error: String,
        /// Enhanced status code (`5.1.1`).
        status: String,
        /// Who said so, if anyone.
        remote: Option<String>,
    },
    /// Not attempted (service stopping): due again at once.
    Returned,
}

/// A failed recipient awaiting its NDR.
#[derive(Debug, Clone)]
pub struct FailedRecipient {
    /// Row id.
    pub id: i64,
    /// The address.
    pub address: String,
    /// DSN ORCPT.
    pub orcpt: Option<String>,
    /// DSN NOTIFY.
    pub notify: Option<String>,
    /// Enhanced status.
    pub status: String,
    /// Diagnostic text.
    pub error: String,
    /// Remote MTA, if any.
    pub remote: Option<String>,
}

/// A message some of whose recipients failed and await an NDR.
#[derive(Debug, Clone)]
pub struct NdrDue {
    /// Row id.
    pub message_id: i64,
    /// Queue id.
    pub queue_id: String,
    /// Envelope sender (the NDR's recipient); empty for `<>`.
    pub sender: String,
    /// Arrival, Unix seconds.
    pub received_at: i64,
    /// DSN RET (`FULL` / `HDRS`).
    pub ret: Option<String>,
    /// DSN ENVID.
    pub envid: Option<String>,
    /// The message as queued.
    pub content: Vec<u8>,
    /// The failed recipients.
    pub recipients: Vec<FailedRecipient>,
}

impl Store {
    /// Puts recipients left `in_flight` by a crash back in the queue. Run at start.
    ///
    /// # Errors
    /// Database errors.
    pub async fn queue_recover(&self) -> StoreResult<usize> {
        self.write(|tx| {
            Ok(tx.execute(
                "UPDATE queue_recipients SET state = 'scheduled', next_attempt = ?1 WHERE state = 'in_flight'",
                [now_secs()],
            )?)
        })
        .await
    }

    /// Claims up to `limit` due recipients (state → `in_flight`) and returns them by
    /// message. Claiming and reading are one transaction, so nothing is taken twice.
    ///
    /// # Errors
    /// Database errors.
    pub async fn queue_claim_due(&self, limit: usize) -> StoreResult<Vec<DueMessage>> {
        let now = now_secs();
        self.write(move |tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT r.id, r.recipient, r.attempts, m.id, m.queue_id, m.sender, m.received_at, m.size, m.body_8bit
                 FROM queue_recipients r JOIN queue_messages m ON m.id = r.message_id
                 WHERE r.state IN ('scheduled', 'deferred') AND r.next_attempt <= ?1
                 ORDER BY r.next_attempt, r.id LIMIT ?2",
            )?;
            let mut rows = stmt.query(params![now, i64::try_from(limit).unwrap_or(i64::MAX)])?;
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
                        size: u64::try_from(r.get::<_, i64>(7)?).unwrap_or(0),
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

    /// When the next scheduled or deferred recipient is due, if any.
    ///
    /// # Errors
    /// Database errors.
    pub async fn queue_next_due(&self) -> StoreResult<Option<i64>> {
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

    /// The contents of several queued messages in one read.
    ///
    /// # Errors
    /// Database errors.
    pub async fn queue_contents(&self, ids: Vec<i64>) -> StoreResult<std::collections::HashMap<i64, Vec<u8>>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached("SELECT content FROM queue_messages WHERE id = ?1")?;
            let mut out = std::collections::HashMap::with_capacity(ids.len());
            for id in ids {
                if let Some(c) = stmt.query_row([id], |r| r.get(0)).optional()? {
                    out.insert(id, c);
                }
            }
            Ok(out)
        })
        .await
    }

    /// Records the outcomes of an attempt, with tracking events when `track` is set.
    ///
    /// # Errors
    /// Database errors; then no outcome was recorded (the recipients stay `in_flight`
    /// and are retried after the next start).
    pub async fn queue_record(
        &self,
        queue_id: String,
        outcomes: Vec<(i64, String, Attempt)>,
        track: bool,
    ) -> StoreResult<()> {
        let now = now_secs();
        self.write(move |tx| {
            for (id, address, outcome) in &outcomes {
                let (event, detail) = match outcome {
                    Attempt::Delivered { remote, tls } => {
                        tx.execute(
                            "UPDATE queue_recipients SET state = 'delivered', attempts = attempts + 1, remote_mta = ?2,
                             last_error = NULL, next_attempt = NULL, updated_at = ?3 WHERE id = ?1",
                            params![id, remote, now],
                        )?;
                        let how = tls.map_or_else(|| "not encrypted".to_owned(), |v| format!("over {v}"));
                        ("relayed", format!("to {remote}, {how}"))
                    }
                    Attempt::Deferred { error, remote, retry_at } => {
                        tx.execute(
                            "UPDATE queue_recipients SET state = 'deferred', attempts = attempts + 1, remote_mta = ?2,
                             last_error = ?3, next_attempt = ?4, updated_at = ?5 WHERE id = ?1",
                            params![id, remote, error, retry_at, now],
                        )?;
                        ("deferred", error.clone())
                    }
                    Attempt::Failed { error, status, remote } => {
                        tx.execute(
                            "UPDATE queue_recipients SET state = 'failed', attempts = attempts + 1, remote_mta = ?2,
                             last_error = ?3, status = ?4, next_attempt = NULL, updated_at = ?5 WHERE id = ?1",
                            params![id, remote, error, status, now],
                        )?;
                        ("failed", error.clone())
                    }
                    Attempt::Returned => {
                        tx.execute(
                            "UPDATE queue_recipients SET state = 'scheduled', next_attempt = ?2, updated_at = ?2 WHERE id = ?1",
                            params![id, now],
                        )?;
                        continue;
                    }
                };
                if track {
                    tx.execute(
                        "INSERT INTO tracking (at, event, queue_id, recipient, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![now, event, queue_id, address, detail],
                    )?;
                }
            }
            Ok(())
        })
        .await
    }

    /// Fails deferred or scheduled recipients of messages older than `max_age_secs`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn queue_expire(&self, max_age_secs: i64) -> StoreResult<usize> {
        let now = now_secs();
        self.write(move |tx| {
            Ok(tx.execute(
                "UPDATE queue_recipients SET state = 'failed', status = '4.4.7', next_attempt = NULL, updated_at = ?1,
                   last_error = 'Message expired: could not be delivered in time; last error: ' || COALESCE(last_error, 'none')
                 WHERE state IN ('scheduled', 'deferred')
                   AND message_id IN (SELECT id FROM queue_messages WHERE received_at < ?2)",
                params![now, now - max_age_secs],
            )?)
        })
        .await
    }

    /// Messages with failed recipients whose NDR is not written yet.
    ///
    /// # Errors
    /// Database errors.
    pub async fn queue_ndr_due(&self, limit: usize) -> StoreResult<Vec<NdrDue>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT r.id, r.recipient, r.orcpt, r.notify, COALESCE(r.status, '5.0.0'), COALESCE(r.last_error, ''),
                        r.remote_mta, m.id, m.queue_id, m.sender, m.received_at, m.ret, m.envid
                 FROM queue_recipients r JOIN queue_messages m ON m.id = r.message_id
                 WHERE r.state = 'failed' AND r.ndr_done = 0 ORDER BY m.id, r.id LIMIT ?1",
            )?;
            let mut rows = stmt.query([i64::try_from(limit).unwrap_or(i64::MAX)])?;
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
                        content: Vec::new(),
                        recipients: vec![rcpt],
                    }),
                }
            }
            let mut content = conn.prepare_cached("SELECT content FROM queue_messages WHERE id = ?1")?;
            for m in &mut out {
                m.content = content.query_row([m.message_id], |r| r.get(0))?;
            }
            Ok(out)
        })
        .await
    }

    /// Drops messages whose every recipient is final (delivered, or failed with its
    /// NDR done): their content is no longer needed. Tracking keeps their history.
    ///
    /// # Errors
    /// Database errors.
    pub async fn queue_purge_finished(&self) -> StoreResult<usize> {
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
}

/// Where an NDR goes.
#[derive(Debug, Clone)]
pub struct NdrDelivery {
    /// The report.
    pub content: Vec<u8>,
    /// Local mailboxes that receive it (the sender's, the administrator's copy).
    pub mailboxes: Vec<i64>,
    /// The sender's address when it is not local: the NDR is queued to it from `<>`.
    pub outbound_to: Option<String>,
    /// Queue id for an outbound NDR.
    pub queue_id: String,
}

impl Store {
    /// Delivers an NDR (if any) and marks `recipients` as reported, in one
    /// transaction: an NDR is never lost and never written twice.
    ///
    /// # Errors
    /// Database errors; then nothing changed.
    pub async fn queue_write_ndr(&self, recipients: Vec<i64>, ndr: Option<NdrDelivery>) -> StoreResult<()> {
        let now = now_secs();
        self.write(move |tx| {
            if let Some(ndr) = &ndr {
                let size = i64::try_from(ndr.content.len()).unwrap_or(i64::MAX);
                let mut next_uid =
                    tx.prepare_cached("UPDATE mailboxes SET next_uid = next_uid + 1 WHERE id = ?1 RETURNING next_uid - 1")?;
                for m in &ndr.mailboxes {
                    let uid: i64 = next_uid.query_row([m], |r| r.get(0))?;
                    let mut local = b"Return-Path: <>\r\n".to_vec();
                    local.extend_from_slice(&ndr.content);
                    tx.execute(
                        "INSERT INTO messages (mailbox_id, uid, size, received_at, content) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![m, uid, i64::try_from(local.len()).unwrap_or(size), now, local],
                    )?;
                }
                if let Some(to) = &ndr.outbound_to {
                    tx.execute(
                        "INSERT INTO queue_messages (queue_id, sender, received_at, size, content) VALUES (?1, '', ?2, ?3, ?4)",
                        params![ndr.queue_id, now, size, ndr.content],
                    )?;
                    tx.execute(
                        "INSERT INTO queue_recipients (message_id, recipient, state, next_attempt, updated_at)
                         VALUES (?1, ?2, 'scheduled', ?3, ?3)",
                        params![tx.last_insert_rowid(), to, now],
                    )?;
                }
            }
            let mut done = tx.prepare_cached("UPDATE queue_recipients SET ndr_done = 1 WHERE id = ?1")?;
            for id in &recipients {
                done.execute([id])?;
            }
            Ok(())
        })
        .await
    }
}
