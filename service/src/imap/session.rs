//! One IMAP session: bytes in, commands dispatched by state, responses out.
//!
//! The protocol's framing (tags, literals and their continuation requests, the
//! AUTHENTICATE and IDLE flows) is imap-next's sans-I/O [`Server`]: this file feeds it
//! what the stream gives and writes what it asks to, so the session works the same
//! over TCP, TLS (after STARTTLS or on imaps) and the in-memory pipes of the tests.
//! The commands themselves are in `auth.rs` (not authenticated), `folders.rs`
//! (authenticated) and `selected.rs`.
//!
//! **Keeping the client's view.** A selected folder's messages are numbered as this
//! session last told the client. Changes by others (new mail, POP3 deletions, other
//! IMAP sessions) arrive as store notices; they are reported (EXISTS, EXPUNGE, FETCH
//! FLAGS) at the end of the next command that allows it, or at once during IDLE.

use std::net::SocketAddr;
use std::num::{NonZeroU32, NonZeroU64};

use imap_next::imap_types::command::{Command, CommandBody};
use imap_next::imap_types::core::{Atom, Tag, Text, Vec1};
use imap_next::imap_types::fetch::MessageDataItem;
use imap_next::imap_types::flag::{Flag, FlagFetch};
use imap_next::imap_types::response::{
    Bye, Code, CommandContinuationRequest, Data, Greeting, GreetingKind, Status, StatusBody, StatusKind,
};
use imap_next::server::{Error as ServerError, Event, Options, Server};
use imap_next::{Interrupt, Io, State as _};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::broadcast::error::TryRecvError;

use crate::context::ServiceContext;
use crate::store::imap::flags;
use crate::store::{Folder, ImapMessage};

/// Most protocol errors in one session before it is closed.
const MAX_ERRORS: u32 = 20;

/// Output is written once this much has gathered, even while a command still runs: a
/// FETCH of thousands of messages streams instead of being held whole.
const FLUSH_AT: usize = 256 * 1024;

/// Where the session is.
pub(super) enum State {
    /// Before login.
    NotAuthenticated,
    /// Logged in, no folder selected.
    Authenticated(User),
    /// A folder selected.
    Selected(User, Box<Selected>),
}

/// Who logged in.
#[derive(Debug, Clone)]
pub(super) struct User {
    /// The login used.
    pub login: String,
    /// The mailbox's store id.
    pub mailbox: i64,
}

/// The selected folder as this session's client knows it.
#[derive(Debug)]
pub(super) struct Selected {
    /// The folder.
    pub folder: Folder,
    /// EXAMINE: nothing may change.
    pub read_only: bool,
    /// Its messages in sequence order: message number n is `messages[n - 1]`.
    pub messages: Vec<ImapMessage>,
    /// UIDNEXT as last reported.
    pub uidnext: u32,
    /// HIGHESTMODSEQ as last seen.
    pub highest_modseq: u64,
}

impl Selected {
    /// The message numbers and messages a sequence set names (UIDs when `uid`), in
    /// folder order.
    pub fn select(&self, set: &imap_next::imap_types::sequence::SequenceSet, uid: bool) -> Vec<(u32, &ImapMessage)> {
        super::sequence::select(set, uid, &self.messages)
    }
}

/// What the dispatcher does next.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Flow {
    Continue,
    Close,
}

/// What waiting for the client brought.
enum Input {
    Bytes(Vec<u8>),
    /// The mailbox changed while the client is in IDLE.
    Changed,
    Closed,
}

/// One IMAP connection.
pub struct Session<S> {
    stream: S,
    pub(super) server: Server,
    /// Bytes the server produced, written when it waits for input.
    output: Vec<u8>,
    pub(super) ctx: ServiceContext,
    pub(super) peer: SocketAddr,
    pub(super) state: State,
    /// The IMAP listeners' connection limits, whose load shortens the wait for a login.
    limits: crate::listener::Limits,
    /// This connection's place in them.
    slot: crate::listener::Slot,
    /// Notices of changed mailboxes.
    watch: tokio::sync::broadcast::Receiver<i64>,
    /// The selected folder may have changed since the client was last told.
    pub(super) dirty: bool,
    /// The client enabled CONDSTORE (or used a CONDSTORE feature): MODSEQ in FETCH.
    pub(super) condstore: bool,
    /// The tag of the IDLE in progress.
    idling: Option<Tag<'static>>,
    /// An AUTHENTICATE in progress: its tag and the LOGIN mechanism's user name so far.
    pub(super) authenticating: Option<(Tag<'static>, super::auth::Sasl)>,
    errors: u32,
    /// What the protocol state produced while a long command's output was being sent
    /// (pipelined commands behind it): handled, in order, before reading more.
    pending: std::collections::VecDeque<Result<Event, ServerError>>,
}

/// An OK greeting.
fn greeting(words: &str) -> Greeting<'static> {
    Greeting { kind: GreetingKind::Ok, code: None, text: text(words) }
}

/// A server for a new connection (or after STARTTLS).
fn new_server(greeting: Greeting<'static>) -> Server {
    let mut options = Options::default();
    options.crlf_relaxed = true;
    Server::new(options, greeting)
}

/// `text` as IMAP response text (never empty, one line).
pub(super) fn text(s: &str) -> Text<'static> {
    let one_line: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let t = one_line.trim();
    Text::try_from(if t.is_empty() { "." } else { t }.to_owned()).unwrap_or_else(|_| Text::unvalidated("."))
}

/// `* BYE text`.
pub(super) fn bye(words: &str) -> Status<'static> {
    Status::Bye(Bye { code: None, text: text(words) })
}

/// An atom we know is valid (capabilities, flags, attributes).
pub(super) fn atom(s: &'static str) -> Atom<'static> {
    Atom::try_from(s).unwrap_or_else(|_| Atom::unvalidated("X"))
}

/// A number IMAP requires to be non-zero; 1 stands in for 0.
pub(super) fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

/// A mod-sequence for the wire (non-zero).
pub(super) fn nz64(n: u64) -> NonZeroU64 {
    NonZeroU64::new(n).unwrap_or(NonZeroU64::MIN)
}

/// A message's flags for FLAGS.
pub(super) fn flag_list(m: &ImapMessage) -> Vec<FlagFetch<'static>> {
    let mut out: Vec<FlagFetch<'static>> = Vec::new();
    for (bit, _) in flags::ALL {
        if m.flags & bit != 0 {
            out.push(FlagFetch::Flag(system_flag(bit)));
        }
    }
    for k in m.keyword_list() {
        if let Ok(a) = Atom::try_from(k.to_owned()) {
            out.push(FlagFetch::Flag(Flag::Keyword(a)));
        }
    }
    out
}

/// The flag of a bit of [`flags`].
pub(super) fn system_flag(bit: u8) -> Flag<'static> {
    match bit {
        flags::SEEN => Flag::Seen,
        flags::ANSWERED => Flag::Answered,
        flags::FLAGGED => Flag::Flagged,
        flags::DELETED => Flag::Deleted,
        _ => Flag::Draft,
    }
}

impl<S: crate::tls::Transport> Session<S> {
    /// A session on `stream` from `peer`.
    pub(crate) fn new(
        stream: S,
        peer: SocketAddr,
        ctx: ServiceContext,
        limits: crate::listener::Limits,
        slot: crate::listener::Slot,
    ) -> Session<S> {
        let watch = ctx.store.watch();
        Session {
            stream,
            server: new_server(greeting("Mailroom IMAP4rev2 server ready")),
            output: Vec::with_capacity(8192),
            ctx,
            peer,
            state: State::NotAuthenticated,
            limits,
            slot,
            watch,
            dirty: false,
            condstore: false,
            idling: None,
            authenticating: None,
            errors: 0,
            pending: std::collections::VecDeque::new(),
        }
    }

    /// Runs the session to its end.
    pub async fn run(mut self) {
        tracing::debug!(peer = %self.peer, "IMAP session start");
        loop {
            let next = match self.pending.pop_front() {
                Some(Ok(event)) => Ok(event),
                Some(Err(e)) => Err(Interrupt::Error(e)),
                None => self.server.next(),
            };
            let event = match next {
                Ok(event) => event,
                Err(Interrupt::Io(Io::Output(bytes))) => {
                    self.output.extend_from_slice(&bytes);
                    if self.output.len() >= FLUSH_AT && self.flush().await.is_err() {
                        break;
                    }
                    continue;
                }
                Err(Interrupt::Io(Io::NeedMoreInput)) => {
                    match self.input().await {
                        Input::Bytes(bytes) => self.server.enqueue_input(&bytes),
                        Input::Changed => self.report_changes().await,
                        Input::Closed => break,
                    }
                    continue;
                }
                Err(Interrupt::Error(e)) => {
                    if self.protocol_error(e) == Flow::Close {
                        self.drain().await;
                        break;
                    }
                    continue;
                }
            };
            let flow = match event {
                Event::GreetingSent { .. } | Event::ResponseSent { .. } => Flow::Continue,
                Event::CommandReceived { command } => self.command(command).await,
                Event::CommandAuthenticateReceived { command_authenticate } => {
                    self.authenticate(command_authenticate).await
                }
                Event::AuthenticateDataReceived { authenticate_data } => {
                    self.authenticate_data(authenticate_data).await
                }
                Event::IdleCommandReceived { tag } => self.idle(tag).await,
                Event::IdleDoneReceived => self.idle_done(),
            };
            if flow == Flow::Close {
                self.drain().await;
                break;
            }
        }
        let _ = self.stream.shutdown().await;
        tracing::debug!(peer = %self.peer, "IMAP session end");
    }

    /// Sends what is queued, and closes.
    async fn drain(&mut self) {
        loop {
            match self.server.next() {
                Ok(_) => {}
                Err(Interrupt::Io(Io::Output(bytes))) => self.output.extend_from_slice(&bytes),
                Err(_) => break,
            }
        }
        let _ = self.flush().await;
    }

    /// Sends what the commands so far queued, keeping any event the protocol state
    /// produces meanwhile for the main loop. False when the connection failed.
    pub(super) async fn pump(&mut self) -> bool {
        loop {
            match self.server.next() {
                Ok(Event::ResponseSent { .. } | Event::GreetingSent { .. }) => {}
                Ok(event) => self.pending.push_back(Ok(event)),
                Err(Interrupt::Io(Io::Output(bytes))) => {
                    self.output.extend_from_slice(&bytes);
                    if self.output.len() >= FLUSH_AT && self.flush().await.is_err() {
                        return false;
                    }
                }
                Err(Interrupt::Io(Io::NeedMoreInput)) => return true,
                Err(Interrupt::Error(e)) => self.pending.push_back(Err(e)),
            }
        }
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        if !self.output.is_empty() {
            self.stream.write_all(&self.output).await?;
            self.stream.flush().await?;
            self.output.clear();
        }
        Ok(())
    }

    /// True when the connection is encrypted.
    pub(super) fn encrypted(&self) -> bool {
        self.stream.is_tls()
    }

    /// Waits for the client: its bytes, or (in IDLE) a change to report; `Closed` when
    /// the session must end (client gone, idle timeout, service stopping — the reason
    /// sent).
    async fn input(&mut self) -> Input {
        if self.flush().await.is_err() {
            return Input::Closed;
        }
        let logged_in = !matches!(self.state, State::NotAuthenticated);
        let idle = if logged_in {
            self.ctx.config.imap4.idle_timeout
        } else {
            self.limits.timeout(self.ctx.config.imap4.idle_timeout.min(std::time::Duration::from_secs(60)))
        };
        let until = tokio::time::Instant::now() + idle;
        let mut chunk = vec![0u8; 16 * 1024];
        loop {
            let idling = self.idling.is_some();
            tokio::select! {
                read = tokio::time::timeout_at(until, self.stream.read(&mut chunk)) => return match read {
                    Ok(Ok(0)) | Ok(Err(_)) => Input::Closed,
                    Ok(Ok(n)) => {
                        chunk.truncate(n);
                        Input::Bytes(chunk)
                    }
                    Err(_) => {
                        self.bye("Idle timeout, closing connection").await;
                        Input::Closed
                    }
                },
                () = self.ctx.shutdown.stopping() => {
                    self.bye("Service restarting, closing connection").await;
                    return Input::Closed;
                }
                () = self.slot.evicted(), if !logged_in => {
                    self.bye("Too many connections; closing this idle one, try again later").await;
                    return Input::Closed;
                }
                notice = self.watch.recv(), if idling => {
                    if self.concerns_us(notice) {
                        return Input::Changed;
                    }
                }
            }
        }
    }

    /// Sends an untagged BYE now.
    async fn bye(&mut self, why: &str) {
        self.server.enqueue_status(bye(why));
        self.drain().await;
    }

    /// Whether a store notice (or a lag) may concern the selected folder.
    fn concerns_us(&self, notice: Result<i64, tokio::sync::broadcast::error::RecvError>) -> bool {
        let State::Selected(user, _) = &self.state else { return false };
        match notice {
            Ok(m) => m == user.mailbox || m == crate::store::ANY_MAILBOX,
            Err(_) => true,
        }
    }

    /// Takes in the notices waiting; true when the selected folder may have changed.
    fn take_notices(&mut self) -> bool {
        loop {
            match self.watch.try_recv() {
                Ok(m) => {
                    if self.concerns_us(Ok(m)) {
                        self.dirty = true;
                    }
                }
                Err(TryRecvError::Lagged(_)) => self.dirty = true,
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        self.dirty && matches!(self.state, State::Selected(..))
    }

    /// A framing error: a BAD (tagged when the tag can be read), and the end of the
    /// session after too many.
    fn protocol_error(&mut self, e: ServerError) -> Flow {
        self.errors += 1;
        let (bytes, why) = match &e {
            ServerError::ExpectedCrlfGotLf { discarded_bytes } => (discarded_bytes, "Lines must end with CRLF"),
            ServerError::MalformedMessage { discarded_bytes } => (discarded_bytes, "Syntax error in the command"),
            ServerError::LiteralTooLong { discarded_bytes } => (discarded_bytes, "Literal too long"),
            ServerError::CommandTooLong { discarded_bytes } => (discarded_bytes, "Command too long"),
        };
        let bytes = bytes.declassify();
        tracing::debug!(peer = %self.peer, error = %e, "IMAP protocol error");
        let tag = bytes
            .split(|b| *b == b' ')
            .next()
            .and_then(|t| std::str::from_utf8(t).ok())
            .and_then(|t| Tag::try_from(t.to_owned()).ok());
        match tag {
            Some(tag) => self.bad(tag, why),
            None => {
                let body = StatusBody { kind: StatusKind::Bad, code: None, text: text(why) };
                self.server.enqueue_status(Status::Untagged(body));
            }
        }
        if self.errors >= MAX_ERRORS {
            self.server.enqueue_status(bye("Too many errors, closing connection"));
            return Flow::Close;
        }
        Flow::Continue
    }

    /// Dispatches one command by state.
    async fn command(&mut self, command: Command<'static>) -> Flow {
        let Command { tag, body } = command;
        tracing::trace!(peer = %self.peer, command = body.name(), "IMAP command");
        let selected = matches!(self.state, State::Selected(..));
        let logged_in = !matches!(self.state, State::NotAuthenticated);
        // Commands after which expunges may be reported (RFC 9051 §7.5.1: not after
        // FETCH, STORE and SEARCH by sequence number).
        let mut may_expunge = true;
        let flow = match body {
            CommandBody::Capability => self.capability(tag),
            CommandBody::Noop => {
                self.ok(tag, None, "NOOP completed");
                Flow::Continue
            }
            CommandBody::Logout => {
                self.server.enqueue_status(bye("Mailroom IMAP server logging out"));
                self.ok(tag, None, "LOGOUT completed");
                return Flow::Close;
            }
            CommandBody::Id { .. } => self.id(tag),
            CommandBody::StartTLS if !logged_in => return self.starttls(tag).await,
            CommandBody::Login { username, password } if !logged_in => {
                let login = String::from_utf8_lossy(username.as_ref()).into_owned();
                let password = String::from_utf8_lossy(password.declassify().as_ref()).into_owned();
                self.login(tag, login, password).await
            }
            _ if !logged_in => {
                self.bad(tag, "Log in first");
                Flow::Continue
            }
            CommandBody::Enable { .. } if selected => {
                self.bad(tag, "ENABLE is only valid before a folder is selected");
                Flow::Continue
            }
            CommandBody::Enable { capabilities } => self.enable(tag, capabilities),
            CommandBody::Namespace => self.namespace(tag),
            CommandBody::Select { mailbox, .. } => self.select(tag, mailbox, false).await,
            CommandBody::Examine { mailbox, .. } => self.select(tag, mailbox, true).await,
            CommandBody::Create { mailbox } => self.create(tag, mailbox).await,
            CommandBody::Delete { mailbox } => self.delete(tag, mailbox).await,
            CommandBody::Rename { from, to } => self.rename(tag, from, to).await,
            CommandBody::Subscribe { mailbox } => self.subscribe(tag, mailbox, true).await,
            CommandBody::Unsubscribe { mailbox } => self.subscribe(tag, mailbox, false).await,
            CommandBody::List { reference, mailbox_wildcard } => {
                self.list(tag, reference, mailbox_wildcard, false).await
            }
            CommandBody::Lsub { reference, mailbox_wildcard } => {
                self.list(tag, reference, mailbox_wildcard, true).await
            }
            CommandBody::Status { mailbox, item_names } => self.status(tag, mailbox, item_names.into_owned()).await,
            CommandBody::Append { mailbox, flags, date, message } => {
                self.append(tag, mailbox, flags, date, message).await
            }
            _ if !selected => {
                self.bad(tag, "Select a folder first");
                Flow::Continue
            }
            CommandBody::Check => {
                self.ok(tag, None, "CHECK completed");
                Flow::Continue
            }
            CommandBody::Close => self.close(tag, true).await,
            CommandBody::Unselect => self.close(tag, false).await,
            CommandBody::Expunge => self.expunge(tag, None).await,
            CommandBody::ExpungeUid { sequence_set } => self.expunge(tag, Some(sequence_set)).await,
            CommandBody::Search { criteria, uid, .. } => {
                may_expunge = uid;
                self.search(tag, criteria, uid).await
            }
            CommandBody::Fetch { sequence_set, macro_or_item_names, uid, modifiers } => {
                may_expunge = uid;
                self.fetch(tag, sequence_set, macro_or_item_names, uid, modifiers).await
            }
            CommandBody::Store { sequence_set, kind, response, flags, uid, modifiers } => {
                may_expunge = uid;
                self.store(tag, sequence_set, kind, response, flags, uid, modifiers).await
            }
            CommandBody::Copy { sequence_set, mailbox, uid } => self.copy(tag, sequence_set, mailbox, uid, false).await,
            CommandBody::Move { sequence_set, mailbox, uid } => self.copy(tag, sequence_set, mailbox, uid, true).await,
            other => {
                self.bad(tag, &format!("{} is not supported", other.name()));
                Flow::Continue
            }
        };
        if may_expunge && self.take_notices() {
            self.report_changes().await;
        }
        flow
    }

    /// IDLE (RFC 2177): reports what changed so far, then waits.
    async fn idle(&mut self, tag: Tag<'static>) -> Flow {
        if matches!(self.state, State::NotAuthenticated) {
            let body = StatusBody { kind: StatusKind::Bad, code: None, text: text("Log in first") };
            let _ = self.server.idle_reject(Status::Tagged(imap_next::imap_types::response::Tagged { tag, body }));
            return Flow::Continue;
        }
        let accepted = CommandContinuationRequest::basic(None, text("idling"))
            .map_err(|_| ())
            .and_then(|c| self.server.idle_accept(c).map_err(|_| ()));
        if accepted.is_ok() {
            self.idling = Some(tag);
            if self.take_notices() {
                self.report_changes().await;
            }
        }
        Flow::Continue
    }

    fn idle_done(&mut self) -> Flow {
        if let Some(tag) = self.idling.take() {
            self.ok(tag, None, "IDLE terminated");
        }
        Flow::Continue
    }

    /// Tells the client what changed in the selected folder since it was last told:
    /// EXPUNGE for messages gone, FETCH FLAGS for flags changed by others, EXISTS for
    /// new messages.
    pub(super) async fn report_changes(&mut self) {
        self.dirty = false;
        let State::Selected(user, sel) = &mut self.state else { return };
        let now = match self.ctx.store.imap_folder_state(user.mailbox, sel.folder.id).await {
            Ok(s) => s,
            Err(crate::store::StoreError::NotFound(_)) => {
                // The folder (or the whole mailbox) was deleted under us.
                self.server.enqueue_status(bye("The selected folder was deleted"));
                self.state = State::NotAuthenticated;
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the selected folder");
                self.dirty = true;
                return;
            }
        };
        // Expunged: in descending order, so each number is still right when sent.
        let mut out: Vec<Data<'static>> = Vec::new();
        let mut i = sel.messages.len();
        while i > 0 {
            i -= 1;
            let uid = sel.messages[i].uid;
            if now.messages.binary_search_by_key(&uid, |m| m.uid).is_err() {
                sel.messages.remove(i);
                out.push(Data::Expunge(nz(u32::try_from(i + 1).unwrap_or(u32::MAX))));
            }
        }
        // Flags changed by someone else.
        for (i, m) in sel.messages.iter_mut().enumerate() {
            if let Ok(j) = now.messages.binary_search_by_key(&m.uid, |n| n.uid) {
                let n = &now.messages[j];
                if n.flags != m.flags || n.keywords != m.keywords {
                    *m = n.clone();
                    let mut items = vec![MessageDataItem::Flags(flag_list(m)), MessageDataItem::Uid(nz(m.uid))];
                    if self.condstore {
                        items.push(MessageDataItem::ModSeq(nz64(m.modseq)));
                    }
                    if let Ok(items) = Vec1::try_from(items) {
                        out.push(Data::Fetch { seq: nz(u32::try_from(i + 1).unwrap_or(u32::MAX)), items });
                    }
                } else {
                    m.modseq = n.modseq;
                }
            }
        }
        // New.
        let last = sel.messages.last().map_or(0, |m| m.uid);
        let new: Vec<ImapMessage> = now.messages.iter().filter(|m| m.uid > last).cloned().collect();
        if !new.is_empty() {
            sel.messages.extend(new);
            out.push(Data::Exists(u32::try_from(sel.messages.len()).unwrap_or(u32::MAX)));
        }
        sel.uidnext = now.uidnext;
        sel.highest_modseq = now.highest_modseq;
        for d in out {
            self.server.enqueue_data(d);
        }
    }

    // --- responses -------------------------------------------------------------------

    fn tagged(&mut self, tag: Tag<'static>, kind: StatusKind, code: Option<Code<'static>>, words: &str) {
        let status = Status::Tagged(imap_next::imap_types::response::Tagged {
            tag,
            body: StatusBody { kind, code, text: text(words) },
        });
        self.server.enqueue_status(status);
    }

    /// `tag OK [code] text`.
    pub(super) fn ok(&mut self, tag: Tag<'static>, code: Option<Code<'static>>, words: &str) {
        self.tagged(tag, StatusKind::Ok, code, words);
    }

    /// `tag NO [code] text`.
    pub(super) fn no(&mut self, tag: Tag<'static>, code: Option<Code<'static>>, words: &str) {
        self.tagged(tag, StatusKind::No, code, words);
    }

    /// `tag BAD text`.
    pub(super) fn bad(&mut self, tag: Tag<'static>, words: &str) {
        self.tagged(tag, StatusKind::Bad, None, words);
    }

    /// `* OK [code] text`.
    pub(super) fn untagged_ok(&mut self, code: Option<Code<'static>>, words: &str) {
        self.server.enqueue_status(Status::Untagged(StatusBody { kind: StatusKind::Ok, code, text: text(words) }));
    }

    /// Untagged data.
    pub(super) fn data(&mut self, data: Data<'static>) {
        self.server.enqueue_data(data);
    }

    /// A store failure, said to the client as `NO [SERVERBUG]`/`[UNAVAILABLE]`.
    pub(super) fn store_failed(&mut self, tag: Tag<'static>, e: &crate::store::StoreError) -> Flow {
        tracing::error!(peer = %self.peer, error = %e, "IMAP store failure");
        let code = if e.is_temporary() { "UNAVAILABLE" } else { "SERVERBUG" };
        self.no(tag, Some(Code::Other(super::code(code))), &format!("Temporary failure, try again later ({e})"));
        Flow::Continue
    }

    /// STARTTLS (RFC 9051 §6.2.1): after the handshake, plaintext pipelined behind the
    /// command is discarded unread, and the client must log in over TLS.
    async fn starttls(&mut self, tag: Tag<'static>) -> Flow {
        let Some(acceptor) = self.ctx.tls.as_ref().map(|t| t.acceptor.clone()) else {
            self.no(tag, None, "TLS is not available");
            return Flow::Continue;
        };
        if self.stream.is_tls() {
            self.bad(tag, "TLS is already active");
            return Flow::Continue;
        }
        self.ok(tag, None, "Begin TLS negotiation now");
        self.drain().await;
        if !self.output.is_empty() {
            return Flow::Close;
        }
        if let Err(e) = self.stream.start_tls(&acceptor).await {
            tracing::info!(peer = %self.peer, error = %e, "TLS handshake failed");
            return Flow::Close;
        }
        // A fresh protocol state: whatever the old one had read is dropped. Its greeting
        // is not sent (RFC 9051 has none after STARTTLS).
        let mut fresh = new_server(greeting("ready"));
        loop {
            match fresh.next() {
                Ok(Event::GreetingSent { .. }) => break,
                Ok(_) | Err(Interrupt::Io(Io::Output(_))) => {}
                Err(_) => break,
            }
        }
        self.server = fresh;
        Flow::Continue
    }
}
