//! POP3's reads and deletions.

use rusqlite::{OptionalExtension, params};

use super::{Sqlite, messages::insert_tracking, size};
use crate::store::{MessageRef, StoreResult, TrackingRecord};

impl Sqlite {
    pub(in crate::store) async fn pop3_messages(&self, mailbox: i64) -> StoreResult<Vec<MessageRef>> {
        self.read(move |conn| {
            // POP3 sees INBOX.
            let mut stmt = conn.prepare_cached(
                "SELECT m.id, m.uid, m.size FROM messages m JOIN folders f ON f.id = m.folder_id
                 WHERE f.mailbox_id = ?1 AND f.name = 'INBOX' ORDER BY m.uid",
            )?;
            let rows =
                stmt.query_map([mailbox], |r| Ok(MessageRef { id: r.get(0)?, uid: r.get(1)?, size: size(r.get(2)?) }))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    pub(in crate::store) async fn messages_content(&self, ids: Vec<i64>) -> StoreResult<Vec<(i64, Vec<u8>)>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT m.prefix, c.data FROM messages m JOIN contents c ON c.id = m.content_id WHERE m.id = ?1",
            )?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                let found: Option<(Vec<u8>, Vec<u8>)> =
                    stmt.query_row([id], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
                if let Some((mut copy, content)) = found {
                    copy.extend_from_slice(&content);
                    out.push((id, copy));
                }
            }
            Ok(out)
        })
        .await
    }

    pub(in crate::store) async fn pop3_delete(
        &self,
        mailbox: i64,
        ids: Vec<i64>,
        tracking: Option<TrackingRecord>,
    ) -> StoreResult<usize> {
        self.write(move |tx| {
            let mut delete = tx.prepare_cached("DELETE FROM messages WHERE id = ?1 AND mailbox_id = ?2")?;
            let mut n = 0;
            for id in &ids {
                n += delete.execute(params![id, mailbox])?;
            }
            insert_tracking(tx, tracking.as_slice())?;
            Ok(n)
        })
        .await
    }
}
