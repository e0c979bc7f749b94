//! One SMTP session: reading lines, dispatching commands, writing replies.
//!
//! Replies are queued in order and flushed when the input runs dry, which is what
//! PIPELINING (RFC 2920) needs: a client may send a whole MAIL/RCPT/DATA group in one
//! write and read the replies together.
//!
//! Shutdown: when the service stops, an idle session (no transaction under way)
//! answers `421 4.3.2` and closes at once; a session inside a transaction is left to
//! finish it, until the drain timeout fires the abort signal. When a restart replaces
//! the run, its sessions carry on until their clients are done or the drain timeout.
//! Nothing is ever acknowledged that is not committed.

use std::net::SocketAddr;
use std::time::Instant;

use super::command::{self, Body, Command, Ret};
use super::reply::{self, Reply};
use crate::context::ServiceContext;
use crate::limits::{Limits, Slot};
use crate::line::{Ended, Line, LineConn, Stop, Wait};

/// Longest command line, CRLF included (RFC 5321 §4.5.3.1.4).
pub const MAX_COMMAND_LINE: usize = 512;
/// Longest AUTH command or SASL response line (RFC 4954 §4).
pub const MAX_AUTH_LINE: usize = 12_288;
/// Errors tolerated before the session is closed (Postfix's `smtpd_hard_error_limit`).
const MAX_ERRORS: u32 = 20;

/// An authenticated client.
#[derive(Debug, Clone)]
pub(super) struct Authenticated {
    /// The login as given.
    pub login: String,
    /// Canonical addresses of the account's mailbox.
    pub addresses: Vec<String>,
    /// The account's mailbox.
    pub mailbox: i64,
}

/// Where an accepted recipient goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    /// A local mailbox (store id).
    Mailbox(i64),
    /// A public folder with an address: filed in that folder of the public mailbox.
    Folder {
        /// The public folders' mailbox.
        mailbox: i64,
        /// The folder.
        folder: i64,
    },
    /// The outbound queue.
    Relay,
    /// Accepted, but it has no route: it fails at once and its sender gets an NDR.
    Fail(String),
    /// Relayed on behalf of a local address of `domain` (a custom recipient, an outside
    /// member of a list): the envelope sender is rewritten by SRS in that domain.
    Forward {
        /// The local address's domain.
        domain: String,
    },
    /// A distribution list: its members, each a recipient of its own (address, where it
    /// goes).
    List(Vec<(String, Target)>),
}

/// An accepted recipient.
#[derive(Debug, Clone)]
pub(super) struct Recipient {
    /// The address as routed (after rewrites).
    pub address: String,
    /// DSN NOTIFY, as given.
    pub notify: Option<String>,
    /// DSN ORCPT, as given.
    pub orcpt: Option<String>,
    /// Where it goes.
    pub target: Target,
}

/// A mail transaction, from MAIL to the end of DATA.
#[derive(Debug)]
pub(super) struct Transaction {
    /// Reverse path; empty for `<>`.
    pub from: String,
    /// Declared BODY.
    pub body: Body,
    /// DSN RET.
    pub ret: Option<Ret>,
    /// DSN ENVID.
    pub envid: Option<String>,
    /// Accepted recipients so far (a list's members each count as one).
    pub rcpts: Vec<Recipient>,
    /// RCPT commands accepted (the limit on recipients counts these).
    pub commands: usize,
    /// The SPF verdict, when the client's mail is checked (it comes from outside).
    pub spf: Option<Box<crate::mailauth::inbound::Spf>>,
}

/// Where the session is in the protocol.
#[derive(Debug)]
pub(super) enum Phase {
    /// Greeted the client; waiting for HELO/EHLO.
    Connected,
    /// After HELO/EHLO, no transaction.
    Ready,
    /// Inside a mail transaction.
    Mail(Transaction),
}

/// What the command loop does next.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Flow {
    Continue,
    Close,
}

/// One SMTP connection.
pub struct Session<S> {
    conn: LineConn<S>,
    pub(super) ctx: ServiceContext,
    pub(super) peer: SocketAddr,
    pub(super) local: SocketAddr,
    pub(super) phase: Phase,
    /// The name given in HELO/EHLO, once given.
    pub(super) helo: Option<(String, bool)>,
    pub(super) auth: Option<Authenticated>,
    errors: u32,
    deadline: Instant,
    /// The SMTP listeners' connection limits, whose load shortens timeouts.
    pub(super) limits: Limits,
    /// This connection's place in them.
    slot: Slot,
    /// What the defences look up about a stranger (DNS lists, reverse DNS).
    pub(super) screening: crate::filtering::Screening,
    /// What its listener is for.
    pub(super) mode: super::Mode,
}

impl<S: crate::tls::Transport> Session<S> {
    /// A session on `conn` from `peer`, accepted on `local`.
    pub(crate) fn new(
        conn: LineConn<S>,
        peer: SocketAddr,
        local: SocketAddr,
        ctx: ServiceContext,
        limits: Limits,
        slot: Slot,
    ) -> Session<S> {
        let deadline = Instant::now() + ctx.config.connections.session_limit;
        Session {
            conn,
            ctx,
            peer,
            local,
            phase: Phase::Connected,
            helo: None,
            auth: None,
            errors: 0,
            deadline,
            limits,
            slot,
            screening: crate::filtering::Screening::default(),
            mode: super::Mode::Relay,
        }
    }

    /// The session with the lookups started when its client connected.
    pub(crate) fn with_screening(mut self, screening: crate::filtering::Screening) -> Session<S> {
        self.screening = screening;
        self
    }

    /// The session of a listener for `mode`.
    pub(crate) fn with_mode(mut self, mode: super::Mode) -> Session<S> {
        self.mode = mode;
        self
    }

    /// True when a password may be sent now: over TLS on a submission listener (RFC
    /// 6409 §4.3, RFC 8314), else as the Security page says.
    pub(super) fn may_authenticate(&self) -> bool {
        match self.mode {
            super::Mode::Submission => self.encrypted(),
            super::Mode::Relay => self.ctx.config.security.plain_text_auth.permits(self.peer.ip(), self.encrypted()),
        }
    }

    /// Runs the session to its end.
    pub async fn run(mut self) {
        tracing::debug!(peer = %self.peer, "SMTP session start");
        let greeting = format!("{} ESMTP Mailroom", self.ctx.config.general.host_name);
        self.reply(Reply::plain(220, vec![greeting.into()]));
        loop {
            let line = match self.read_line().await {
                Some(Line::Whole(l)) if command::is_auth(&l) || l.len() <= MAX_COMMAND_LINE => l,
                Some(Line::Whole(_) | Line::TooLong) => {
                    if self.error(Reply::new(500, "5.5.2", "Line too long")) == Flow::Close {
                        break;
                    }
                    continue;
                }
                None => break,
            };
            if self.command(&line).await == Flow::Close {
                break;
            }
        }
        self.conn.close().await;
        tracing::debug!(peer = %self.peer, "SMTP session end");
    }

    async fn command(&mut self, line: &[u8]) -> Flow {
        tracing::trace!(peer = %self.peer, line = %crate::logging::loggable_line(line), "SMTP command");
        let cmd = match command::parse(line) {
            Ok(c) => c,
            Err(r) => return self.error(r),
        };
        let reply = match cmd {
            Command::Ehlo(host) => self.ehlo(host, true),
            Command::Helo(host) => self.ehlo(host, false),
            Command::Mail { from, size, body, ret, envid } => self.mail(from, size, body, ret, envid).await,
            Command::Rcpt { to, notify, orcpt, routing } => self.rcpt(to, notify, orcpt, routing).await,
            Command::Data => return self.data().await,
            Command::Auth { mechanism, initial } => match self.auth(&mechanism, initial).await {
                Some(r) => r,
                None => return Flow::Close,
            },
            Command::Rset => {
                if !matches!(self.phase, Phase::Connected) {
                    self.phase = Phase::Ready;
                }
                reply::ok()
            }
            Command::Noop => reply::ok(),
            Command::Quit => {
                let bye = format!("{} closing connection", self.ctx.config.general.host_name);
                self.reply(Reply::new(221, "2.0.0", bye));
                return Flow::Close;
            }
            Command::Help => Reply::new(
                214,
                "2.0.0",
                "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT HELP VRFY AUTH; see RFC 5321",
            ),
            Command::Vrfy => Reply::new(252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery"),
            Command::Expn => Reply::new(502, "5.5.1", "EXPN not available"),
            Command::StartTls => return self.starttls().await,
            Command::NotImplemented(verb) => Reply::new(502, "5.5.1", format!("{verb} not implemented")),
        };
        self.error(reply)
    }

    /// Queues `reply`, counting it when it is an error; closes after too many.
    pub(super) fn error(&mut self, reply: Reply) -> Flow {
        let is_error = reply.code >= 500;
        self.reply(reply);
        if is_error {
            self.errors += 1;
            if self.errors >= MAX_ERRORS {
                tracing::info!(peer = %self.peer, errors = self.errors, "SMTP session closed: too many errors");
                self.reply(Reply::new(421, "4.7.0", "Too many errors, closing connection"));
                return Flow::Close;
            }
        }
        Flow::Continue
    }

    /// Queues a reply; it is sent when the input runs dry (or before waiting).
    pub(super) fn reply(&mut self, reply: Reply) {
        tracing::trace!(peer = %self.peer, code = reply.code, text = %reply.lines.join(" / "), "SMTP reply");
        reply.write_to(self.conn.output());
    }

    /// True when the connection is encrypted.
    pub(super) fn encrypted(&self) -> bool {
        self.conn.is_tls()
    }

    /// The TLS version in use, if encrypted.
    pub(super) fn tls_version(&self) -> Option<&'static str> {
        self.conn.tls_version()
    }

    /// STARTTLS (RFC 3207). After the handshake every piece of earlier state is gone:
    /// plaintext pipelined behind the command is discarded unread (the CVE-2011-0411
    /// class of injection), and the client must say EHLO again.
    async fn starttls(&mut self) -> Flow {
        let Some(acceptor) = self.ctx.tls.as_ref().map(|t| t.acceptor.clone()) else {
            return self.error(Reply::new(454, "4.7.0", "TLS not available"));
        };
        if self.conn.is_tls() {
            return self.error(reply::bad_sequence("Already using TLS"));
        }
        if self.in_transaction() {
            return self.error(reply::bad_sequence("STARTTLS not allowed during a mail transaction"));
        }
        self.reply(Reply::new(220, "2.0.0", "Ready to start TLS"));
        match self.conn.start_tls(&acceptor).await {
            Ok(()) => {
                self.phase = Phase::Connected;
                self.helo = None;
                self.auth = None;
                tracing::debug!(peer = %self.peer, "TLS started");
                Flow::Continue
            }
            Err(e) => {
                tracing::info!(peer = %self.peer, error = %e, "TLS handshake failed");
                Flow::Close
            }
        }
    }

    fn in_transaction(&self) -> bool {
        matches!(self.phase, Phase::Mail(_))
    }

    /// True when this client, unauthenticated, is in a network allowed to relay.
    pub(super) fn relay_allowed(&self) -> bool {
        self.auth.is_none()
            && mailroom_shared::routing::relay_permission(
                &mailroom_shared::routing::ClientContext {
                    authenticated_as: None,
                    client_ip: self.peer.ip(),
                    local_ip: self.local.ip(),
                },
                &self.ctx.config.routing_restrictions,
            )
            .is_ok()
    }

    /// True when the defences of the Message Filtering page apply to this client: it
    /// has not authenticated, is not in a network allowed to relay, and is not this
    /// machine.
    pub(super) fn stranger(&self) -> bool {
        crate::filtering::stranger(self.auth.is_some(), self.relay_allowed(), self.peer.ip(), self.local.ip())
    }

    /// True when this client's mail is checked (SPF, DKIM, DMARC): it has not
    /// authenticated, is not in a network allowed to relay, and is not this machine.
    pub(super) fn checked(&self) -> bool {
        crate::mailauth::inbound::applies(
            &self.ctx.config,
            self.auth.is_some(),
            self.relay_allowed(),
            self.peer.ip(),
            self.local.ip(),
        )
    }

    /// Waits for more input, or for a reason to stop: true when bytes were added to
    /// the input, false when the session must end (the reason was queued, or the
    /// client left).
    ///
    /// `until` is when what is awaited must have arrived whole — the rest of the
    /// message at the minimum data rate, say — however the client spreads its bytes.
    pub(super) async fn fill(&mut self, until: Instant) -> bool {
        let Some(wait) = self.wait(until) else { return false };
        let filled = self.conn.fill(&wait).await;
        drop(wait);
        match filled {
            Ok(()) => true,
            Err(why) => {
                self.ended(why);
                false
            }
        }
    }

    /// A wait until `until` (never past the session's time limit), or `None` (the
    /// reason queued) when the session has used up its time. The stop signal ends an
    /// idle session's wait; a transaction's is left to finish until the drain runs out.
    fn wait(&mut self, until: Instant) -> Option<Wait<'static>> {
        if self.deadline <= Instant::now() {
            self.reply(Reply::new(421, "4.4.2", "Session time limit exceeded, closing connection"));
            return None;
        }
        let stop = if self.in_transaction() { Stop::Aborted } else { Stop::Stopping };
        Some(Wait::until(until.min(self.deadline), stop))
    }

    /// Queues the goodbye for a wait that ended without input.
    fn ended(&mut self, why: Ended) {
        let reply = match why {
            Ended::Closed => return,
            Ended::TimedOut => {
                tracing::debug!(peer = %self.peer, "SMTP timeout");
                Reply::new(421, "4.4.2", "Timeout, closing connection")
            }
            Ended::Stopping => Reply::new(421, "4.3.2", "Service shutting down, closing connection"),
            Ended::Evicted => {
                tracing::debug!(peer = %self.peer, "SMTP session closed to make room for a new connection");
                Reply::new(421, "4.7.0", "Too many connections; closing this idle one, try again later")
            }
        };
        self.reply(reply);
    }

    /// Reads one line of at most [`MAX_AUTH_LINE`] bytes (CRLF included): the longest
    /// any line may be before it is known whether it is an AUTH line; `None` when the
    /// session must end (the reason queued).
    ///
    /// The line must arrive whole within the command timeout (shorter under load).
    /// Meanwhile a session that has not logged in counts as waiting for its client, and
    /// may be closed to make room for a new connection when every place is taken.
    async fn read_line(&mut self) -> Option<Line> {
        let until = Instant::now() + self.limits.timeout(self.ctx.config.connections.command_timeout);
        let wait = self.wait(until)?;
        // A client that logged in is one of ours: never closed to make room for a
        // stranger.
        let wait = if self.auth.is_none() { wait.evictable(&self.slot) } else { wait };
        let read = self.conn.read_line(MAX_AUTH_LINE, &wait).await;
        match read {
            Ok(line) => Some(line),
            Err(why) => {
                self.ended(why);
                None
            }
        }
    }

    /// Reads a SASL continuation line (AUTH), `None` when the session must end.
    pub(super) async fn read_auth_line(&mut self) -> Option<Result<String, Reply>> {
        match self.read_line().await? {
            Line::Whole(l) => Some(Ok(String::from_utf8_lossy(&l).trim_end_matches(['\r', '\n']).to_owned())),
            Line::TooLong => Some(Err(Reply::new(500, "5.5.6", "Authentication exchange line too long"))),
        }
    }

    /// The bytes received and not yet consumed, for the DATA receiver.
    pub(super) fn input_mut(&mut self) -> &mut Vec<u8> {
        self.conn.input()
    }
}
