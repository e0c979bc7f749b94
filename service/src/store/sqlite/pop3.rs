//! POP3's reads and deletions.

use rusqlite::params;

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
        self.read_content(move |conn| {
            // One statement per batch of ids rather than one per message.
            let mut found: std::collections::HashMap<i64, Vec<u8>> = std::collections::HashMap::new();
            for chunk in ids.chunks(64) {
                let marks = vec!["?"; chunk.len()].join(",");
                let mut stmt = conn.prepare_cached(&format!(
                    "SELECT m.id, m.prefix, c.data FROM messages m JOIN contents c ON c.id = m.content_id
                     WHERE m.id IN ({marks})"
                ))?;
                let rows = stmt.query_map(rusqlite::params_from_iter(chunk), |r| {
                    // Copied once, straight from SQLite's buffers into the message.
                    let (prefix, content) = (r.get_ref(1)?.as_blob()?, r.get_ref(2)?.as_blob()?);
                    let mut copy = Vec::with_capacity(prefix.len() + content.len());
                    copy.extend_from_slice(prefix);
                    copy.extend_from_slice(content);
                    Ok((r.get(0)?, copy))
                })?;
                for row in rows {
                    let (id, copy) = row?;
                    found.insert(id, copy);
                }
            }
            Ok(ids.iter().filter_map(|id| found.remove(id).map(|c| (*id, c))).collect())
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
