//! One POP3 session: lines in, responses out, state as a data-carrying enum.
//!
//! Responses are queued and flushed when the input runs dry (PIPELINING, RFC 2449).

use std::net::SocketAddr;

use super::command::{self, Command, ParseError};
use super::lock::MailboxLock;
use crate::context::ServiceContext;
use crate::line::{Ended, Line, LineConn, Stop, Wait};
use crate::store::{MessageRef, TrackEvent, TrackingRecord};

/// Longest SASL continuation line accepted (a base64 PLAIN response).
pub(super) const MAX_AUTH_LINE: usize = 4096;
/// Flush queued output past this size even while commands are pipelined.
const FLUSH_AT: usize = 64 * 1024;
/// Errors tolerated before the session is closed, as SMTP and IMAP do.
const MAX_ERRORS: u32 = 20;

/// Where the session is.
pub(super) enum State {
    /// Before login; `user` is the name given by USER, awaiting PASS.
    Authorization { user: Option<String> },
    /// Logged in: the mailbox as it was at login, numbered 1… for the whole session.
    Transaction(Box<Mailbox>),
}

/// A mailbox in TRANSACTION.
pub(super) struct Mailbox {
    /// The login used.
    pub login: String,
    /// Store id.
    pub id: i64,
    /// Messages at login, in order; message number n is `messages[n - 1]`.
    pub messages: Vec<MessageRef>,
    /// Marked for deletion (DELE), by index.
    pub deleted: Vec<bool>,
    /// UIDs retrieved, for message tracking at the end of the session.
    pub retrieved: Vec<i64>,
    /// Contents read ahead (by message index): clients fetch in order, and one read of
    /// several messages costs one hop to the blocking pool instead of one each.
    pub read_ahead: std::collections::VecDeque<(usize, Vec<u8>)>,
    /// Holds the mailbox against other sessions.
    pub _lock: MailboxLock,
}

/// What the dispatcher does next.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Flow {
    Continue,
    Close,
}

/// One POP3 connection.
pub struct Session<S> {
    conn: LineConn<S>,
    pub(super) ctx: ServiceContext,
    pub(super) peer: SocketAddr,
    pub(super) state: State,
    /// The POP3 listeners' connection limits, whose load shortens the wait for a login.
    limits: crate::limits::Limits,
    /// This connection's place in them.
    slot: crate::limits::Slot,
    /// `-ERR` answers so far; the session closes after [`MAX_ERRORS`].
    errors: u32,
}

impl<S: crate::tls::Transport> Session<S> {
    /// A session on `conn` from `peer`.
    pub(crate) fn new(
        conn: LineConn<S>,
        peer: SocketAddr,
        ctx: ServiceContext,
        limits: crate::limits::Limits,
        slot: crate::limits::Slot,
    ) -> Session<S> {
        Session { conn, ctx, limits, slot, peer, state: State::Authorization { user: None }, errors: 0 }
    }

    /// Runs the session to its end.
    pub async fn run(mut self) {
        tracing::debug!(peer = %self.peer, "POP3 session start");
        self.ok("Mailroom POP3 server ready");
        loop {
            let line = match self.read_line(command::MAX_LINE).await {
                Some(Line::Whole(line)) => line,
                Some(Line::TooLong) => {
                    self.err("Line too long");
                    continue;
                }
                None => break,
            };
            tracing::trace!(peer = %self.peer, line = %crate::logging::loggable_line(&line), "POP3 command");
            let flow = match command::parse(&line) {
                Ok(cmd) => self.command(cmd).await,
                Err(ParseError::Unknown) => {
                    self.err("Unknown command");
                    Flow::Continue
                }
                Err(ParseError::Syntax(s)) => {
                    self.err(&format!("Syntax: {s}"));
                    Flow::Continue
                }
            };
            if flow == Flow::Close {
                break;
            }
            if self.errors >= MAX_ERRORS {
                tracing::info!(peer = %self.peer, errors = self.errors, "POP3 session closed: too many errors");
                self.err("Too many errors, closing connection; no messages were deleted");
                break;
            }
        }
        self.conn.close().await;
        self.track_retrievals().await;
        tracing::debug!(peer = %self.peer, "POP3 session end");
    }

    async fn command(&mut self, cmd: Command) -> Flow {
        let in_transaction = matches!(self.state, State::Transaction(_));
        match (in_transaction, cmd) {
            (_, Command::Capa) => self.capa(),
            (false, Command::User(name)) => self.user(name),
            (false, Command::Pass(password)) => return self.pass(password).await,
            (false, Command::Auth(mech)) => return self.auth(mech).await,
            (false, Command::Apop) => self.err("APOP is not offered; use USER/PASS or AUTH PLAIN"),
            (false, Command::Stls) => return self.stls().await,
            (_, Command::Quit) => return self.quit().await,
            (true, Command::Stat) => self.stat(),
            (true, Command::List(n)) => self.list(n),
            (true, Command::Uidl(n)) => self.uidl(n),
            (true, Command::Retr(n)) => return self.retr(n).await,
            (true, Command::Top(n, lines)) => return self.top(n, lines).await,
            (true, Command::Dele(n)) => self.dele(n),
            (true, Command::Noop) => self.ok(""),
            (true, Command::Rset) => self.rset(),
            (false, _) => self.err("Command not valid before login"),
            (true, _) => self.err("Command not valid after login"),
        }
        Flow::Continue
    }

    /// True when the connection is encrypted.
    pub(super) fn encrypted(&self) -> bool {
        self.conn.is_tls()
    }

    /// STLS (RFC 2595): after the handshake, plaintext pipelined behind the command is
    /// discarded unread, and the session starts AUTHORIZATION afresh.
    async fn stls(&mut self) -> Flow {
        let Some(acceptor) = self.ctx.tls.as_ref().map(|t| t.acceptor.clone()) else {
            self.err("[SYS/TEMP] TLS not available");
            return Flow::Continue;
        };
        if self.conn.is_tls() {
            self.err("Already using TLS");
            return Flow::Continue;
        }
        self.ok("Begin TLS negotiation");
        match self.conn.start_tls(&acceptor).await {
            Ok(()) => {
                self.state = State::Authorization { user: None };
                Flow::Continue
            }
            Err(e) => {
                tracing::info!(peer = %self.peer, error = %e, "TLS handshake failed");
                Flow::Close
            }
        }
    }

    /// Queues `+OK text`.
    pub(super) fn ok(&mut self, text: &str) {
        let out = self.conn.output();
        out.extend_from_slice(b"+OK");
        if !text.is_empty() {
            out.push(b' ');
            out.extend_from_slice(text.as_bytes());
        }
        out.extend_from_slice(b"\r\n");
    }

    /// Queues `-ERR text`.
    pub(super) fn err(&mut self, text: &str) {
        self.errors += 1;
        let out = self.conn.output();
        out.extend_from_slice(b"-ERR ");
        out.extend_from_slice(text.as_bytes());
        out.extend_from_slice(b"\r\n");
    }

    /// Queues raw bytes (multi-line bodies).
    pub(super) fn raw(&mut self, bytes: &[u8]) {
        self.conn.queue(bytes);
    }

    /// The output buffer, for writing multi-line responses in place.
    pub(super) fn output(&mut self) -> &mut Vec<u8> {
        self.conn.output()
    }

    /// Sends queued output now if a lot has accumulated.
    pub(super) async fn flush_if_large(&mut self) -> bool {
        self.conn.flush_over(FLUSH_AT).await.is_ok()
    }

    /// The next line (CRLF included) of at most `limit` bytes, or `None` when the
    /// session must end (client gone, idle timeout, service stopping — the reason
    /// queued).
    pub(super) async fn read_line(&mut self, limit: usize) -> Option<Line> {
        // RFC 1939's ten minutes are for logged-in clients; one that has not logged in
        // gets less when the server is busy, must send its line whole within that, and
        // may be closed to make room for a new connection.
        let idle = self.ctx.config.pop3.idle_timeout;
        let read = match self.state {
            State::Authorization { .. } => {
                let until = std::time::Instant::now() + self.limits.timeout(idle);
                self.conn.read_line(limit, &Wait::until(until, Stop::Stopping).evictable(&self.slot)).await
            }
            State::Transaction(_) => {
                let until = std::time::Instant::now() + idle;
                self.conn.read_line(limit, &Wait::until(until, Stop::Stopping)).await
            }
        };
        let why = match read {
            Ok(line) => return Some(line),
            Err(Ended::Closed) => return None,
            Err(Ended::TimedOut) => "Idle timeout, closing connection; no messages were deleted",
            Err(Ended::Stopping) => "[SYS/TEMP] Service restarting, closing connection; no messages were deleted",
            Err(Ended::Evicted) => "[SYS/TEMP] Too many connections; closing this idle one, try again later",
        };
        self.err(why);
        let _ = self.conn.flush().await;
        None
    }

    /// Writes the session's retrievals to the tracking log, in one transaction.
    async fn track_retrievals(&mut self) {
        let State::Transaction(mb) = &mut self.state else { return };
        if !self.ctx.config.diagnostics.message_tracking || mb.retrieved.is_empty() {
            return;
        }
        let at = crate::store::now_secs();
        let records = std::mem::take(&mut mb.retrieved)
            .into_iter()
            .map(|uid| TrackingRecord {
                at,
                recipient: Some(mb.login.clone()),
                detail: Some(format!("uid {uid}")),
                ..TrackingRecord::now(TrackEvent::Pop3Retrieved)
            })
            .collect();
        if let Err(e) = self.ctx.store.track(records).await {
            tracing::warn!(error = %e, "cannot record POP3 retrievals in message tracking");
        }
    }
}
