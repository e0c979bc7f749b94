//! What POP3 needs from the store: a mailbox's messages at login, their content, and
//! the deletions of a session applied at once.

use rusqlite::params;

use super::{Store, StoreResult, now_secs};

/// A message as a POP3 session numbers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRef {
    /// Row id, to fetch and delete it.
    pub id: i64,
    /// The mailbox's never-reused number for it.
    pub uid: i64,
    /// Octets, exactly as RETR sends them before dot-stuffing.
    pub size: u64,
}

impl Store {
    /// The messages of a mailbox, oldest first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn pop3_messages(&self, mailbox: i64) -> StoreResult<Vec<MessageRef>> {
        self.read(move |conn| {
            let mut stmt =
                conn.prepare_cached("SELECT id, uid, size FROM messages WHERE mailbox_id = ?1 ORDER BY uid")?;
            let rows = stmt.query_map([mailbox], |r| {
                Ok(MessageRef { id: r.get(0)?, uid: r.get(1)?, size: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0) })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    /// The content of several messages in one read (POP3 read-ahead), in the order
    /// given; messages that are gone are left out.
    ///
    /// # Errors
    /// Database errors.
    pub async fn messages_content(&self, ids: Vec<i64>) -> StoreResult<Vec<(i64, Vec<u8>)>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached("SELECT content FROM messages WHERE id = ?1")?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                match stmt.query_row([id], |r| r.get(0)) {
                    Ok(c) => out.push((id, c)),
                    Err(rusqlite::Error::QueryReturnedNoRows) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(out)
        })
        .await
    }

    /// Deletes messages of `mailbox` in one transaction (POP3's UPDATE state), with a
    /// tracking event for each when `track` is set.
    ///
    /// # Errors
    /// Database errors; then nothing was deleted.
    pub async fn pop3_delete(&self, mailbox: i64, ids: Vec<i64>, track: Option<String>) -> StoreResult<usize> {
        self.write(move |tx| {
            let mut delete = tx.prepare_cached("DELETE FROM messages WHERE id = ?1 AND mailbox_id = ?2")?;
            let mut n = 0;
            for id in &ids {
                n += delete.execute(params![id, mailbox])?;
            }
            if let Some(login) = track {
                tx.execute(
                    "INSERT INTO tracking (at, event, recipient, detail) VALUES (?1, 'pop3_deleted', ?2, ?3)",
                    params![now_secs(), login, format!("{n} message(s) deleted over POP3")],
                )?;
            }
            Ok(n)
        })
        .await
    }
}
