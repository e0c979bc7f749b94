//! The TRANSACTION state's verbs, and UPDATE on QUIT.
//!
//! Message numbers are fixed at login. A message marked by DELE answers `-ERR` to every
//! command that names it and is left out of STAT, LIST and UIDL until RSET.

use super::session::{Flow, Mailbox, Session, State};
use crate::message::dot_stuff;
use crate::store::{TrackEvent, TrackingRecord};

/// Read-ahead bounds: at most this many messages…
const READ_AHEAD_MESSAGES: usize = 16;
/// …and about this many bytes per read.
const READ_AHEAD_BYTES: u64 = 512 * 1024;

/// The UIDL of a message: mailbox id and UID, both never reused.
fn uidl(mailbox: i64, uid: i64) -> String {
    format!("{mailbox}.{uid}")
}

/// The first `lines` body lines of a message, with all its headers (TOP).
fn top_of(content: &[u8], lines: usize) -> &[u8] {
    let body_start = memchr::memmem::find(content, b"\r\n\r\n").map_or(content.len(), |p| p + 4);
    let mut end = body_start;
    for _ in 0..lines {
        match memchr::memchr(b'\n', &content[end..]) {
            Some(p) => end += p + 1,
            None => return content,
        }
    }
    &content[..end]
}

/// A message number that names no live message.
#[derive(Debug, thiserror::Error)]
enum NoMessage {
    /// Beyond the mailbox (or 0).
    #[error("No such message {n}, only {count} in the mailbox")]
    NoSuch {
        /// The number given.
        n: usize,
        /// How many messages there are.
        count: usize,
    },
    /// Marked deleted in this session.
    #[error("Message {0} is deleted")]
    Deleted(usize),
}

impl<S: crate::tls::Transport> Session<S> {
    fn mailbox(&mut self) -> &mut Mailbox {
        match &mut self.state {
            State::Transaction(m) => m,
            State::Authorization { .. } => unreachable!("TRANSACTION verbs are dispatched only in TRANSACTION"),
        }
    }

    /// The index of live message `n`, or why there is none (the `-ERR` text).
    fn index(&mut self, n: usize) -> Result<usize, NoMessage> {
        let mb = self.mailbox();
        match mb.deleted.get(n.wrapping_sub(1)) {
            None => Err(NoMessage::NoSuch { n, count: mb.messages.len() }),
            Some(true) => Err(NoMessage::Deleted(n)),
            Some(false) => Ok(n - 1),
        }
    }

    pub(super) fn stat(&mut self) {
        let mb = self.mailbox();
        let live = mb.messages.iter().zip(&mb.deleted).filter(|(_, d)| !**d);
        let (count, octets) = live.fold((0, 0u64), |(c, o), (m, _)| (c + 1, o + m.size));
        self.ok(&format!("{count} {octets}"));
    }

    pub(super) fn list(&mut self, n: Option<usize>) {
        self.scan(n, |_, m| m.size.to_string());
    }

    pub(super) fn uidl(&mut self, n: Option<usize>) {
        self.scan(n, |mb, m| uidl(mb, m.uid));
    }

    /// LIST and UIDL: one message, or every live one as a multi-line response.
    fn scan(&mut self, n: Option<usize>, value: impl Fn(i64, &crate::store::MessageRef) -> String) {
        if let Some(n) = n {
            match self.index(n) {
                Ok(i) => {
                    let mb = self.mailbox();
                    let line = format!("{n} {}", value(mb.id, &mb.messages[i]));
                    self.ok(&line);
                }
                Err(e) => self.err(&e.to_string()),
            }
            return;
        }
        self.ok("Listing follows");
        let mb = match &self.state {
            State::Transaction(m) => m,
            State::Authorization { .. } => return,
        };
        let mut body = String::with_capacity(mb.messages.len() * 16);
        for (i, m) in mb.messages.iter().enumerate() {
            if !mb.deleted[i] {
                body.push_str(&format!("{} {}\r\n", i + 1, value(mb.id, m)));
            }
        }
        body.push_str(".\r\n");
        self.raw(body.as_bytes());
    }

    pub(super) async fn retr(&mut self, n: usize) -> Flow {
        self.send_message(n, None).await
    }

    pub(super) async fn top(&mut self, n: usize, lines: usize) -> Flow {
        self.send_message(n, Some(lines)).await
    }

    async fn send_message(&mut self, n: usize, top: Option<usize>) -> Flow {
        let i = match self.index(n) {
            Ok(i) => i,
            Err(e) => {
                self.err(&e.to_string());
                return Flow::Continue;
            }
        };
        let (uid, size) = {
            let m = &self.mailbox().messages[i];
            (m.uid, m.size)
        };
        let content = match self.content(i).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "cannot read a message");
                self.err("[SYS/TEMP] Cannot read the message, try again later");
                return Flow::Continue;
            }
        };
        match top {
            None => {
                self.ok(&format!("{size} octets"));
                self.mailbox().retrieved.push(uid);
                dot_stuff(&content, self.output());
            }
            Some(lines) => {
                self.ok("Top of message follows");
                dot_stuff(top_of(&content, lines), self.output());
            }
        }
        self.raw(b".\r\n");
        if self.flush_if_large().await { Flow::Continue } else { Flow::Close }
    }

    /// The content of message index `i`: from the read-ahead buffer when it is there,
    /// else read together with the next live messages.
    async fn content(&mut self, i: usize) -> Result<Vec<u8>, crate::store::StoreError> {
        let mb = self.mailbox();
        while let Some((j, _)) = mb.read_ahead.front() {
            if *j == i {
                return Ok(mb.read_ahead.pop_front().map(|(_, c)| c).unwrap_or_default());
            }
            if *j > i {
                break;
            }
            mb.read_ahead.pop_front();
        }
        mb.read_ahead.clear();
        let mut wanted = vec![(i, mb.messages[i].id)];
        let mut bytes = mb.messages[i].size;
        for j in i + 1..mb.messages.len() {
            if wanted.len() >= READ_AHEAD_MESSAGES || bytes >= READ_AHEAD_BYTES {
                break;
            }
            if !mb.deleted[j] {
                wanted.push((j, mb.messages[j].id));
                bytes += mb.messages[j].size;
            }
        }
        let ids = wanted.iter().map(|(_, id)| *id).collect();
        let mut found = self.ctx.store.messages_content(ids).await?.into_iter().peekable();
        let mb = self.mailbox();
        let mut first = None;
        for (j, id) in wanted {
            if let Some((_, content)) = found.next_if(|(fid, _)| *fid == id) {
                if j == i {
                    first = Some(content);
                } else {
                    mb.read_ahead.push_back((j, content));
                }
            }
        }
        first.ok_or_else(|| crate::store::StoreError::NotFound(format!("message {} is gone", i + 1)))
    }

    pub(super) fn dele(&mut self, n: usize) {
        match self.index(n) {
            Ok(i) => {
                self.mailbox().deleted[i] = true;
                self.ok(&format!("Message {n} deleted"));
            }
            Err(e) => self.err(&e.to_string()),
        }
    }

    pub(super) fn rset(&mut self) {
        let mb = self.mailbox();
        mb.deleted.iter_mut().for_each(|d| *d = false);
        let count = mb.messages.len();
        let octets: u64 = mb.messages.iter().map(|m| m.size).sum();
        self.ok(&format!("{count} messages ({octets} octets)"));
    }

    /// QUIT: in TRANSACTION, enter UPDATE and delete the marked messages, in one
    /// transaction, before answering.
    pub(super) async fn quit(&mut self) -> Flow {
        let State::Transaction(mb) = &self.state else {
            self.ok("Mailroom POP3 server signing off");
            return Flow::Close;
        };
        let ids: Vec<i64> = mb.messages.iter().zip(&mb.deleted).filter(|(_, d)| **d).map(|(m, _)| m.id).collect();
        if ids.is_empty() {
            self.ok("Mailroom POP3 server signing off");
            return Flow::Close;
        }
        let track = self.ctx.config.diagnostics.message_tracking.then(|| TrackingRecord {
            recipient: Some(mb.login.clone()),
            detail: Some(format!("{} message(s) deleted over POP3", ids.len())),
            ..TrackingRecord::now(TrackEvent::Pop3Deleted)
        });
        match self.ctx.store.pop3_delete(mb.id, ids, track).await {
            Ok(n) => self.ok(&format!("Mailroom POP3 server signing off ({n} messages deleted)")),
            Err(e) => {
                tracing::error!(error = %e, "POP3 UPDATE failed; no messages deleted");
                self.err("[SYS/TEMP] Could not delete the messages; none were deleted");
            }
        }
        Flow::Close
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top() {
        let m = b"A: 1\r\nB: 2\r\n\r\nline1\r\nline2\r\nline3\r\n";
        assert_eq!(top_of(m, 0), b"A: 1\r\nB: 2\r\n\r\n");
        assert_eq!(top_of(m, 2), b"A: 1\r\nB: 2\r\n\r\nline1\r\nline2\r\n");
        assert_eq!(top_of(m, 10), m);
    }
}
