//! The inbound defences' state in SQLite.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::messages::{insert_message, insert_tracking};
use super::{Sqlite, size};
use crate::message::SearchFields;
use crate::store::filtering::{
    ClientTest, FilterEvent, FilteringPurge, Greylist, GreylistChange, GreylistTimes, Held, Quarantined, SendingHold,
    SentCounts, greylist_step,
};
use crate::store::{Failure, NewMessage, Outbound, OutboundRecipient, StoreError, StoreResult, TrackingRecord};

/// Where a quarantined message goes when released: the parts of its [`NewMessage`]
/// other than its content (which the row points at) and its tracking.
#[derive(Debug, Serialize, Deserialize)]
struct Plan {
    mailboxes: Vec<i64>,
    local_prefix: String,
    outbound: Option<PlanOutbound>,
    /// The forwarded copies' queue entry (absent in plans written before it existed).
    #[serde(default)]
    forwarded: Option<PlanOutbound>,
}

#[derive(Debug, Serialize, Deserialize)]
struct PlanOutbound {
    sender: String,
    envid: Option<String>,
    ret: Option<String>,
    body_8bit: bool,
    client: Option<String>,
    recipients: Vec<PlanRecipient>,
}

#[derive(Debug, Serialize, Deserialize)]
struct PlanRecipient {
    address: String,
    orcpt: Option<String>,
    notify: Option<String>,
    failed: Option<(String, String)>,
}

impl PlanOutbound {
    fn of(o: &Outbound) -> PlanOutbound {
        PlanOutbound {
            sender: o.sender.clone(),
            envid: o.envid.clone(),
            ret: o.ret.map(str::to_owned),
            body_8bit: o.body_8bit,
            client: o.client.clone(),
            recipients: o
                .recipients
                .iter()
                .map(|r| PlanRecipient {
                    address: r.address.clone(),
                    orcpt: r.orcpt.clone(),
                    notify: r.notify.clone(),
                    failed: r.failed.as_ref().map(|f| (f.status.clone(), f.reason.clone())),
                })
                .collect(),
        }
    }

    fn into_outbound(self) -> Outbound {
        Outbound {
            sender: self.sender,
            envid: self.envid,
            ret: match self.ret.as_deref() {
                Some("FULL") => Some("FULL"),
                Some("HDRS") => Some("HDRS"),
                _ => None,
            },
            body_8bit: self.body_8bit,
            client: self.client,
            recipients: self
                .recipients
                .into_iter()
                .map(|r| OutboundRecipient {
                    address: r.address,
                    orcpt: r.orcpt,
                    notify: r.notify,
                    failed: r.failed.map(|(status, reason)| Failure { status, reason }),
                })
                .collect(),
        }
    }
}

impl Plan {
    fn of(m: &NewMessage) -> Plan {
        Plan {
            mailboxes: m.mailboxes.clone(),
            local_prefix: String::from_utf8_lossy(&m.local_prefix).into_owned(),
            outbound: m.outbound.as_ref().map(PlanOutbound::of),
            forwarded: m.forwarded.as_ref().map(PlanOutbound::of),
        }
    }

    fn into_message(self, queue_id: String, received_at: i64, content: Vec<u8>) -> NewMessage {
        NewMessage {
            queue_id,
            received_at,
            content,
            mailboxes: self.mailboxes,
            local_prefix: self.local_prefix.into_bytes(),
            outbound: self.outbound.map(PlanOutbound::into_outbound),
            forwarded: self.forwarded.map(PlanOutbound::into_outbound),
            tracking: Vec::new(),
            sent_by: None,
            folders: Default::default(),
        }
    }
}

const QUARANTINED: &str =
    "SELECT q.id, q.queue_id, q.held_at, q.sender, q.recipients, q.subject, q.score, q.reason, q.client, c.size
     FROM quarantine q JOIN contents c ON c.id = q.content_id";

fn quarantined(r: &rusqlite::Row<'_>) -> rusqlite::Result<Quarantined> {
    let recipients: String = r.get(4)?;
    Ok(Quarantined {
        id: r.get(0)?,
        queue_id: r.get(1)?,
        held_at: r.get(2)?,
        sender: r.get(3)?,
        recipients: recipients.split('\n').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        subject: r.get(5)?,
        score: r.get(6)?,
        reason: r.get(7)?,
        client: r.get(8)?,
        size: size(r.get(9)?),
    })
}

fn quarantined_one(conn: &Connection, id: i64) -> StoreResult<Quarantined> {
    conn.prepare_cached(&format!("{QUARANTINED} WHERE q.id = ?1"))?
        .query_row([id], quarantined)
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("there is no message {id} in the quarantine")))
}

impl Sqlite {
    pub(in crate::store) async fn greylist(
        &self,
        network: String,
        sender: String,
        recipient: String,
        now: i64,
        times: GreylistTimes,
    ) -> StoreResult<Greylist> {
        self.write(move |tx| {
            let passed: bool = tx
                .prepare_cached("SELECT 1 FROM client_passes WHERE test = ?1 AND client = ?2 AND until > ?3")?
                .exists(params![ClientTest::Greylist.as_str(), network, now])?;
            if passed {
                return Ok(Greylist::Pass);
            }
            let first: Option<i64> = tx
                .prepare_cached(
                    "SELECT first_seen FROM greylist WHERE network = ?1 AND sender = ?2 AND recipient = ?3",
                )?
                .query_row(params![network, sender, recipient], |r| r.get(0))
                .optional()?;
            let (answer, change) = greylist_step(first, now, times);
            match change {
                GreylistChange::Nothing => {}
                GreylistChange::PassUntil(until) => {
                    tx.prepare_cached("DELETE FROM greylist WHERE network = ?1 AND sender = ?2 AND recipient = ?3")?
                        .execute(params![network, sender, recipient])?;
                    tx.prepare_cached(
                        "INSERT INTO client_passes (test, client, until) VALUES (?1, ?2, ?3)
                         ON CONFLICT (test, client) DO UPDATE SET until = excluded.until",
                    )?
                    .execute(params![ClientTest::Greylist.as_str(), network, until])?;
                }
                GreylistChange::Record => {
                    tx.prepare_cached(
                        "INSERT INTO greylist (network, sender, recipient, first_seen) VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT (network, sender, recipient) DO UPDATE SET first_seen = excluded.first_seen",
                    )?
                    .execute(params![network, sender, recipient, now])?;
                }
            }
            Ok(answer)
        })
        .await
    }

    pub(in crate::store) async fn client_passed(
        &self,
        test: ClientTest,
        client: String,
        now: i64,
    ) -> StoreResult<bool> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached("SELECT 1 FROM client_passes WHERE test = ?1 AND client = ?2 AND until > ?3")?
                .exists(params![test.as_str(), client, now])?)
        })
        .await
    }

    pub(in crate::store) async fn client_pass(&self, test: ClientTest, client: String, until: i64) -> StoreResult<()> {
        self.write(move |tx| {
            tx.prepare_cached(
                "INSERT INTO client_passes (test, client, until) VALUES (?1, ?2, ?3)
                 ON CONFLICT (test, client) DO UPDATE SET until = max(until, excluded.until)",
            )?
            .execute(params![test.as_str(), client, until])?;
            Ok(())
        })
        .await
    }

    pub(in crate::store) async fn sent_counts(
        &self,
        account: String,
        hour_since: i64,
        day_since: i64,
    ) -> StoreResult<SentCounts> {
        self.read(move |conn| {
            let held = conn.prepare_cached("SELECT 1 FROM sending_holds WHERE account = ?1")?.exists([&account])?;
            let (hour, day): (i64, i64) = conn
                .prepare_cached(
                    "SELECT coalesce(sum(CASE WHEN at > ?2 THEN count END), 0), coalesce(sum(count), 0)
                     FROM sent_recipients WHERE account = ?1 AND at > ?3",
                )?
                .query_row(params![account, hour_since, day_since], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(SentCounts { hour: size(hour), day: size(day), held })
        })
        .await
    }

    pub(in crate::store) async fn sending_hold(&self, account: String, reason: String, now: i64) -> StoreResult<bool> {
        self.write(move |tx| {
            let added = tx
                .prepare_cached(
                    "INSERT INTO sending_holds (account, since, reason) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                )?
                .execute(params![account, now, reason])?;
            Ok(added > 0)
        })
        .await
    }

    pub(in crate::store) async fn sending_holds(&self) -> StoreResult<Vec<SendingHold>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT account, since, reason FROM sending_holds ORDER BY since")?;
            let rows =
                stmt.query_map([], |r| Ok(SendingHold { account: r.get(0)?, since: r.get(1)?, reason: r.get(2)? }))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub(in crate::store) async fn sending_unlock(&self, account: String) -> StoreResult<()> {
        self.write(move |tx| {
            if tx.execute("DELETE FROM sending_holds WHERE account = ?1", [&account])? == 0 {
                return Err(StoreError::NotFound(format!("{account} is not held")));
            }
            tx.execute("DELETE FROM sent_recipients WHERE account = ?1", [&account])?;
            Ok(())
        })
        .await
    }

    pub(in crate::store) async fn quarantine_hold(&self, held: Held) -> StoreResult<i64> {
        let fields = SearchFields::of(&held.message.content);
        self.write(move |tx| {
            let m = &held.message;
            let plan = serde_json::to_string(&Plan::of(m)).map_err(|e| StoreError::Internal(e.to_string()))?;
            let content = super::messages::insert_content(tx, &m.content, &fields)?;
            tx.prepare_cached(
                "INSERT INTO quarantine (queue_id, held_at, sender, recipients, subject, score, reason, client, plan, content_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                m.queue_id,
                m.received_at,
                held.sender,
                held.recipients.join("\n"),
                held.subject,
                held.score,
                held.reason,
                held.client,
                plan,
                content
            ])?;
            let id = tx.last_insert_rowid();
            insert_tracking(tx, &m.tracking)?;
            Ok(id)
        })
        .await
    }

    pub(in crate::store) async fn quarantine_list(&self) -> StoreResult<Vec<Quarantined>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!("{QUARANTINED} ORDER BY q.held_at DESC, q.id DESC"))?;
            let rows = stmt.query_map([], quarantined)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub(in crate::store) async fn quarantine_message(&self, id: i64) -> StoreResult<(Quarantined, Vec<u8>)> {
        self.read(move |conn| {
            let q = quarantined_one(conn, id)?;
            let data: Vec<u8> = conn.query_row(
                "SELECT c.data FROM quarantine q JOIN contents c ON c.id = q.content_id WHERE q.id = ?1",
                [id],
                |r| r.get(0),
            )?;
            Ok((q, data))
        })
        .await
    }

    pub(in crate::store) async fn quarantine_release(
        &self,
        id: i64,
        tracking: Vec<TrackingRecord>,
    ) -> StoreResult<(Quarantined, bool)> {
        self.write(move |tx| {
            let q = quarantined_one(tx, id)?;
            let (plan, received_at, data): (String, i64, Vec<u8>) = tx.query_row(
                "SELECT q.plan, q.held_at, c.data FROM quarantine q JOIN contents c ON c.id = q.content_id
                 WHERE q.id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            let plan: Plan =
                serde_json::from_str(&plan).map_err(|e| StoreError::Corrupt(format!("quarantine plan {id}: {e}")))?;
            let mut message = plan.into_message(q.queue_id.clone(), received_at, data);
            let mut exists = tx.prepare_cached("SELECT 1 FROM mailboxes WHERE id = ?1")?;
            let mut kept = Vec::new();
            for m in &message.mailboxes {
                if exists.exists([m])? {
                    kept.push(*m);
                }
            }
            message.mailboxes = kept;
            message.tracking = tracking;
            let queued = message.outbound.is_some() || message.forwarded.is_some();
            tx.execute("DELETE FROM quarantine WHERE id = ?1", [id])?;
            // A release is rare: its fields are worked out here, in the write.
            insert_message(tx, &message, &SearchFields::of(&message.content))?;
            Ok((q, queued))
        })
        .await
    }

    pub(in crate::store) async fn quarantine_delete(&self, id: i64) -> StoreResult<Quarantined> {
        self.write(move |tx| {
            let q = quarantined_one(tx, id)?;
            tx.execute("DELETE FROM quarantine WHERE id = ?1", [id])?;
            Ok(q)
        })
        .await
    }

    pub(in crate::store) async fn count_filter_event(&self, event: FilterEvent, day: String) -> StoreResult<()> {
        self.write(move |tx| {
            tx.prepare_cached(
                "INSERT INTO filter_counts (day, what, count) VALUES (?1, ?2, 1)
                 ON CONFLICT (day, what) DO UPDATE SET count = count + 1",
            )?
            .execute(params![day, event.as_str()])?;
            Ok(())
        })
        .await
    }

    pub(in crate::store) async fn filter_counts(&self, day: String) -> StoreResult<Vec<(String, u64)>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached("SELECT what, count FROM filter_counts WHERE day = ?1")?;
            let rows = stmt.query_map([day], |r| Ok((r.get::<_, String>(0)?, size(r.get(1)?))))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub(in crate::store) async fn filtering_purge(
        &self,
        now: i64,
        quarantine_before: i64,
        greylist_before: i64,
        sent_before: i64,
        counts_before: String,
    ) -> StoreResult<FilteringPurge> {
        self.write(move |tx| {
            let quarantined = tx.execute("DELETE FROM quarantine WHERE held_at < ?1", [quarantine_before])?;
            let state = tx.execute("DELETE FROM greylist WHERE first_seen < ?1", [greylist_before])?
                + tx.execute("DELETE FROM client_passes WHERE until <= ?1", [now])?
                + tx.execute("DELETE FROM sent_recipients WHERE at <= ?1", [sent_before])?
                + tx.execute("DELETE FROM filter_counts WHERE day < ?1", [counts_before])?;
            Ok(FilteringPurge { quarantined, state })
        })
        .await
    }
}
