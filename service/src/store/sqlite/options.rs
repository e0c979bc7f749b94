//! Mailbox options (forwarding, automatic reply, limits), automatic replies sent, size
//! warnings, and catch-all mailboxes.

use mailroom_shared::ipc::{AutoReply, Forwarding, StorageLimits};
use rusqlite::{Connection, OptionalExtension as _, params};

use super::Sqlite;
use crate::store::options::MailboxOptions;
use crate::store::{StoreError, StoreResult};

/// A mailbox's forwarding, automatic reply and limits, from their JSON columns.
pub(super) fn options_of(
    conn: &Connection,
    mailbox: i64,
) -> StoreResult<(Option<Forwarding>, Option<AutoReply>, StorageLimits)> {
    let (f, a, l): (Option<String>, Option<String>, Option<String>) = conn
        .prepare_cached("SELECT forwarding, auto_reply, limits FROM mailboxes WHERE id = ?1")?
        .query_row([mailbox], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("there is no mailbox #{mailbox}")))?;
    Ok((parse_json(f), parse_json(a), parse_json(l).unwrap_or_default()))
}

/// A JSON column's value; `None` for NULL (or, never expected, text that does not parse).
pub(super) fn parse_json<T: serde::de::DeserializeOwned>(s: Option<String>) -> Option<T> {
    s.and_then(|s| serde_json::from_str(&s).ok())
}

/// A mailbox's options, size, primary address and last size warning.
pub(super) fn load_options(conn: &Connection, mailbox: i64) -> StoreResult<MailboxOptions> {
    let (forwarding, auto_reply, limits) = options_of(conn, mailbox)?;
    let (bytes, warned_at, address, kind): (i64, Option<i64>, String, String) = conn
        .prepare_cached(
            "SELECT m.bytes, m.warned_at,
                    (SELECT address FROM addresses WHERE mailbox_id = m.id ORDER BY position LIMIT 1), m.kind
             FROM mailboxes m WHERE m.id = ?1",
        )?
        .query_row([mailbox], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    Ok(MailboxOptions {
        forwarding,
        auto_reply,
        limits,
        bytes: u64::try_from(bytes).unwrap_or(0),
        address,
        warned_at,
        shared: kind == "shared",
    })
}

impl Sqlite {
    pub(in crate::store) async fn mailboxes_optioned(&self) -> StoreResult<u64> {
        self.read(|conn| {
            let n: i64 = conn.query_row(
                "SELECT COUNT(*) FROM mailboxes WHERE forwarding IS NOT NULL OR limits IS NOT NULL",
                [],
                |r| r.get(0),
            )?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
        .await
    }

    pub(in crate::store) async fn mailboxes_answering(&self) -> StoreResult<u64> {
        self.read(|conn| {
            let n: i64 =
                conn.query_row("SELECT COUNT(*) FROM mailboxes WHERE auto_reply IS NOT NULL", [], |r| r.get(0))?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
        .await
    }

    pub(in crate::store) async fn mailbox_options(&self, mailbox: i64) -> StoreResult<MailboxOptions> {
        self.read(move |conn| load_options(conn, mailbox)).await
    }

    pub(in crate::store) async fn set_option(
        &self,
        mailbox: i64,
        column: &'static str,
        value: Option<serde_json::Value>,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            let text = value.map(|v| v.to_string());
            let n = tx.execute(&format!("UPDATE mailboxes SET {column} = ?1 WHERE id = ?2"), params![text, mailbox])?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("there is no mailbox #{mailbox}")));
            }
            Ok(())
        })
        .await
    }

    pub(in crate::store) async fn set_auto_reply(&self, mailbox: i64, reply: Option<AutoReply>) -> StoreResult<()> {
        self.write(move |tx| {
            let text = reply.map(|r| serde_json::json!(r).to_string());
            let n = tx.execute("UPDATE mailboxes SET auto_reply = ?1 WHERE id = ?2", params![text, mailbox])?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("there is no mailbox #{mailbox}")));
            }
            tx.execute("DELETE FROM auto_replies WHERE mailbox_id = ?1", [mailbox])?;
            Ok(())
        })
        .await
    }

    pub(in crate::store) async fn auto_reply_due(
        &self,
        mailbox: i64,
        sender: String,
        quiet_since: i64,
        now: i64,
    ) -> StoreResult<bool> {
        self.write(move |tx| {
            let last: Option<i64> = tx
                .prepare_cached("SELECT at FROM auto_replies WHERE mailbox_id = ?1 AND sender = ?2")?
                .query_row(params![mailbox, sender], |r| r.get(0))
                .optional()?;
            if last.is_some_and(|at| at > quiet_since) {
                return Ok(false);
            }
            tx.prepare_cached("INSERT OR REPLACE INTO auto_replies (mailbox_id, sender, at) VALUES (?1, ?2, ?3)")?
                .execute(params![mailbox, sender, now])?;
            Ok(true)
        })
        .await
    }

    pub(in crate::store) async fn set_warned(&self, mailbox: i64, at: i64) -> StoreResult<()> {
        self.write(move |tx| {
            tx.execute("UPDATE mailboxes SET warned_at = ?1 WHERE id = ?2", params![at, mailbox])?;
            Ok(())
        })
        .await
    }

    pub(in crate::store) async fn mailbox_ids(&self) -> StoreResult<Vec<i64>> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached("SELECT id FROM mailboxes ORDER BY id")?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?)
        })
        .await
    }

    pub(in crate::store) async fn catch_all(&self, domain: String) -> StoreResult<Option<i64>> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached("SELECT mailbox_id FROM catch_all WHERE domain = ?1")?
                .query_row([domain], |r| r.get(0))
                .optional()?)
        })
        .await
    }

    pub(in crate::store) async fn set_catch_all(&self, domain: String, mailbox: Option<i64>) -> StoreResult<()> {
        self.write(move |tx| {
            match mailbox {
                Some(id) => tx
                    .prepare_cached("INSERT OR REPLACE INTO catch_all (domain, mailbox_id) VALUES (?1, ?2)")?
                    .execute(params![domain, id])?,
                None => tx.prepare_cached("DELETE FROM catch_all WHERE domain = ?1")?.execute([domain])?,
            };
            Ok(())
        })
        .await
    }

    pub(in crate::store) async fn catch_alls(&self) -> StoreResult<Vec<(String, String)>> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT c.domain, (SELECT address FROM addresses WHERE mailbox_id = c.mailbox_id ORDER BY position LIMIT 1)
                     FROM catch_all c ORDER BY c.domain",
                )?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?)
        })
        .await
    }
}
