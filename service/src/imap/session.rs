//! One IMAP session's state and what it says: who is logged in, the selected folder
//! as the client knows it, and the responses, written through imap-next's sans-I/O
//! [`Server`] (which frames tags, literals, AUTHENTICATE and IDLE) to any stream, so
//! the session works the same over TCP, TLS (after STARTTLS or on imaps) and the
//! in-memory pipes of the tests. `driver.rs` runs it and dispatches the commands to
//! `auth.rs` (not authenticated), `folders.rs` (authenticated) and `selected.rs`.
//!
//! **Keeping the client's view.** A selected folder's messages are numbered as this
//! session last told the client. Changes by others (new mail, POP3 deletions, other
//! IMAP sessions) arrive as store notices; they are reported (EXISTS, EXPUNGE, FETCH
//! FLAGS) at the end of the next command that allows it, or at once during IDLE.

use std::net::SocketAddr;
use std::num::{NonZeroU32, NonZeroU64};

use imap_next::imap_types::core::{Atom, Tag, Text, Vec1};
use imap_next::imap_types::fetch::MessageDataItem;
use imap_next::imap_types::flag::{Flag, FlagFetch, FlagPerm};
use imap_next::imap_types::response::{Bye, Code, Data, Greeting, GreetingKind, Status, StatusBody, StatusKind};
use imap_next::server::{Error as ServerError, Event, Options, Server};
use imap_next::{Interrupt, Io, State as _};
use tokio::sync::broadcast::error::TryRecvError;

use crate::context::ServiceContext;
use crate::line::LineConn;
use crate::store::imap::flags;
use crate::store::{Folder, ImapMessage};

/// Most protocol errors in one session before it is closed.
pub(super) const MAX_ERRORS: u32 = 20;

/// Output is written once this much has gathered, even while a command still runs: a
/// FETCH of thousands of messages streams instead of being held whole.
pub(super) const FLUSH_AT: usize = 256 * 1024;

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
    /// Its messages in sequence order: message number n is `messages[n - 1]`. Shared
    /// with the other sessions that see the folder as it is ([`super::shared`]); a
    /// session's own change copies it first.
    pub messages: std::sync::Arc<Vec<ImapMessage>>,
    /// UIDNEXT as last reported.
    pub uidnext: u32,
    /// HIGHESTMODSEQ as last seen.
    pub highest_modseq: u64,
    /// The keywords the client has been told of in FLAGS: those in use at SELECT,
    /// and each new one as it appears (RFC 9051 §7.3.5).
    pub keywords: std::collections::BTreeSet<String>,
    /// The UIDs that are `\Recent` in this session (IMAP4rev1): the ranges it claimed
    /// from the store, at SELECT and as new mail came ([`Store::imap_claim_recent`]).
    ///
    /// [`Store::imap_claim_recent`]: crate::store::Store::imap_claim_recent
    pub recent: Vec<std::ops::Range<u32>>,
    /// The UIDs of the last result a search saved (`RETURN (SAVE)`, RFC 5182).
    pub saved: Vec<u32>,
    /// The searches kept up to date (CONTEXT=SEARCH).
    pub updates: Vec<super::esearch::Update>,
    /// The user's rights on the folder (every right on their own).
    pub rights: mailroom_shared::rights::Rights,
    /// The store's rights epoch they were read at ([`crate::store::Store::rights_epoch`]).
    pub rights_epoch: u64,
}

/// A folder's state with its message list as sessions share it.
pub(super) struct SharedState {
    pub folder: Folder,
    pub uidnext: u32,
    pub highest_modseq: u64,
    pub recent_from: u32,
    pub messages: std::sync::Arc<Vec<ImapMessage>>,
}

impl Selected {
    /// Whether the message with `uid` is `\Recent` in this session.
    pub fn is_recent(&self, uid: u32) -> bool {
        self.recent.iter().any(|r| r.contains(&uid))
    }

    /// How many of the folder's messages are `\Recent` in this session.
    pub fn recent_count(&self) -> u32 {
        if self.recent.is_empty() {
            return 0;
        }
        u32::try_from(self.messages.iter().filter(|m| self.is_recent(m.uid)).count()).unwrap_or(u32::MAX)
    }

    /// Adds a claimed range (nothing when it is empty).
    pub fn claimed(&mut self, range: std::ops::Range<u32>) {
        if range.is_empty() {
            return;
        }
        match self.recent.last_mut() {
            Some(last) if last.end == range.start => last.end = range.end,
            _ => self.recent.push(range),
        }
    }

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

/// An AUTHENTICATE exchange in progress.
#[derive(Debug)]
pub(super) enum Sasl {
    /// PLAIN, waiting for its one response.
    Plain,
    /// LOGIN, waiting for the user name.
    LoginUser,
    /// LOGIN, waiting for the password of this user.
    LoginPassword(String),
}

/// One IMAP connection.
pub struct Session<S> {
    /// The connection; what the protocol state produces is queued in its output and
    /// written when the session waits for input.
    pub(super) conn: LineConn<S>,
    pub(super) server: Server,
    pub(super) ctx: ServiceContext,
    pub(super) peer: SocketAddr,
    pub(super) state: State,
    /// The IMAP listeners' connection limits, whose load shortens the wait for a login.
    pub(super) limits: crate::limits::Limits,
    /// This connection's place in them.
    pub(super) slot: crate::limits::Slot,
    /// Notices of changed mailboxes.
    pub(super) watch: tokio::sync::broadcast::Receiver<i64>,
    /// The selected folder may have changed since the client was last told.
    pub(super) dirty: bool,
    /// The client enabled CONDSTORE (or used a CONDSTORE feature): MODSEQ in FETCH.
    pub(super) condstore: bool,
    /// The client enabled QRESYNC: VANISHED in place of EXPUNGE, and SELECT's and
    /// UID FETCH's resynchronisation.
    pub(super) qresync: bool,
    /// The client enabled IMAP4rev2 (RFC 9051): SEARCH answered by ESEARCH, no
    /// `\Recent`.
    pub(super) rev2: bool,
    /// Folder names go out in UTF-8 (IMAP4rev2 or UTF8=ACCEPT), not modified UTF-7.
    pub(super) utf8_names: bool,
    /// The OBJECTID and SAVEDATE items the FETCH or STATUS being run asked for (taken
    /// out of it before imap-codec read it).
    pub(super) object_items: super::objectid::ObjectItems,
    /// What NOTIFY asked to hear of (RFC 5465).
    pub(super) notify: Option<super::notify::Watching>,
    /// A notice for the user's mailbox was taken in while NOTIFY is on: its
    /// notifications are due.
    pub(super) notify_due: bool,
    /// The tag of the IDLE in progress.
    pub(super) idling: Option<Tag<'static>>,
    /// An AUTHENTICATE in progress: its tag and the LOGIN mechanism's user name so far.
    pub(super) authenticating: Option<(Tag<'static>, Sasl)>,
    pub(super) errors: u32,
    /// What the protocol state produced while a long command's output was being sent
    /// (pipelined commands behind it): handled, in order, before reading more.
    pub(super) pending: std::collections::VecDeque<Result<Event, ServerError>>,
    /// The tagged completion of the command being handled, held back until the
    /// mailbox's updates are said: RFC 9051 §7 puts untagged updates before it.
    pub(super) completion: Option<Status<'static>>,
    /// The origin of each `BINARY[…]` item queued in a FETCH response, in order
    /// (`None` for a whole one): see [`with_origins`].
    pub(super) binary_origins: std::collections::VecDeque<Option<u32>>,
    /// Others' folders the user may reach, as last read, with the store's rights epoch
    /// they were read at: read again only when it moves (a LIST reads no grants when
    /// nothing about sharing changed).
    pub(super) shares: Option<(u64, std::sync::Arc<Vec<crate::store::SharedFolder>>)>,
}

/// A response as it goes out, with `IMAP4rev1` in a capability list spelled as RFC
/// 9051 spells it (imap-types writes `IMAP4REV1`; capability names are case-blind, but
/// some tools match the RFC's spelling). Only a one-line response that lists
/// capabilities is touched — never a message's text.
pub(super) fn spelled(mut bytes: Vec<u8>) -> Vec<u8> {
    const WRONG: &[u8] = b" IMAP4REV1";
    let lists_capabilities = bytes.len() < 1024
        && bytes.ends_with(b"\r\n")
        && !bytes[..bytes.len() - 2].contains(&b'\n')
        && !bytes.ends_with(b"}\r\n")
        && bytes.windows(11).any(|w| w == b"CAPABILITY ");
    if lists_capabilities && let Some(at) = bytes.windows(WRONG.len()).position(|w| w == WRONG) {
        bytes[at + 1..at + WRONG.len()].copy_from_slice(b"IMAP4rev1");
    }
    bytes
}

/// A FETCH response with the `<origin>` that RFC 3516 §4.3 requires after a partial
/// `BINARY[section]` put in: imap-types has no place for it (its `Binary` item is a
/// section and a value only). Each `BINARY[` outside quoted strings and literals takes
/// the next of `origins`, in the order the items were queued. Other responses pass
/// untouched.
pub(super) fn with_origins(bytes: Vec<u8>, origins: &mut std::collections::VecDeque<Option<u32>>) -> Vec<u8> {
    if origins.is_empty() || !bytes.starts_with(b"* ") || memchr::memmem::find(&bytes, b"BINARY[").is_none() {
        return bytes;
    }
    let mut out = Vec::with_capacity(bytes.len() + 16);
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest[0] == b'"' {
            // A quoted string, to its closing quote.
            let mut j = 1;
            while j < rest.len() && rest[j] != b'"' {
                j += if rest[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(rest.len());
            out.extend_from_slice(&rest[..end]);
            i += end;
        } else if rest[0] == b'{'
            && let Some(close) = rest.iter().position(|&b| b == b'}')
            && let Ok(n) = std::str::from_utf8(&rest[1..close]).unwrap_or("").parse::<usize>()
            && rest[close + 1..].starts_with(b"\r\n")
        {
            // A literal: its announcement and its bytes.
            let end = (close + 3 + n).min(rest.len());
            out.extend_from_slice(&rest[..end]);
            i += end;
        } else if rest.starts_with(b"BINARY[")
            && let Some(close) = rest.iter().position(|&b| b == b']')
        {
            out.extend_from_slice(&rest[..=close]);
            if let Some(Some(origin)) = origins.pop_front() {
                out.extend_from_slice(format!("<{origin}>").as_bytes());
            }
            i += close + 1;
        } else {
            out.push(rest[0]);
            i += 1;
        }
    }
    out
}

/// An OK greeting.
pub(super) fn greeting(words: &str) -> Greeting<'static> {
    Greeting { kind: GreetingKind::Ok, code: None, text: text(words) }
}

/// A server for a new connection (or after STARTTLS).
pub(super) fn new_server(greeting: Greeting<'static>) -> Server {
    let mut options = Options::default();
    options.crlf_relaxed = true;
    let _ = options.set_literal_reject_text("Literal too long; nothing was stored".to_owned());
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

/// A message's flags for FLAGS; `recent` adds `\Recent`.
pub(super) fn flag_list(m: &ImapMessage, recent: bool) -> Vec<FlagFetch<'static>> {
    let mut out: Vec<FlagFetch<'static>> = Vec::new();
    if recent {
        out.push(FlagFetch::Recent);
    }
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

/// A folder's FLAGS (the system flags and `keywords`) and PERMANENTFLAGS (the same
/// and `\*`; none when read-only).
pub(super) fn folder_flags(
    keywords: &std::collections::BTreeSet<String>,
    read_only: bool,
) -> (Vec<Flag<'static>>, Vec<FlagPerm<'static>>) {
    let flags: Vec<Flag<'static>> = flags::ALL
        .iter()
        .map(|(bit, _)| system_flag(*bit))
        .chain(keywords.iter().filter_map(|k| Atom::try_from(k.clone()).ok().map(Flag::Keyword)))
        .collect();
    let permanent = if read_only {
        Vec::new()
    } else {
        flags.iter().cloned().map(FlagPerm::Flag).chain([FlagPerm::Asterisk]).collect()
    };
    (flags, permanent)
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
    /// A session on `conn` from `peer`.
    pub(crate) fn new(
        conn: LineConn<S>,
        peer: SocketAddr,
        ctx: ServiceContext,
        limits: crate::limits::Limits,
        slot: crate::limits::Slot,
    ) -> Session<S> {
        let watch = ctx.store.watch();
        Session {
            conn,
            server: new_server(greeting("Mailroom IMAP4rev1 server ready")),
            ctx,
            peer,
            state: State::NotAuthenticated,
            limits,
            slot,
            watch,
            dirty: false,
            condstore: false,
            qresync: false,
            rev2: false,
            utf8_names: false,
            object_items: super::objectid::ObjectItems::default(),
            notify: None,
            notify_due: false,
            idling: None,
            authenticating: None,
            errors: 0,
            pending: std::collections::VecDeque::new(),
            completion: None,
            binary_origins: std::collections::VecDeque::new(),
            shares: None,
        }
    }

    /// Sends what is queued, and closes.
    pub(super) async fn drain(&mut self) {
        loop {
            match self.server.next() {
                Ok(_) => {}
                Err(Interrupt::Io(Io::Output(bytes))) => {
                    let bytes = self.outgoing(bytes);
                    self.conn.queue(&bytes);
                }
                Err(_) => break,
            }
        }
        let _ = self.conn.flush().await;
    }

    /// Sends what the commands so far queued, keeping any event the protocol state
    /// produces meanwhile for the main loop. False when the connection failed.
    pub(super) async fn pump(&mut self) -> bool {
        loop {
            match self.server.next() {
                Ok(Event::ResponseSent { .. } | Event::GreetingSent { .. }) => {}
                Ok(event) => self.pending.push_back(Ok(event)),
                Err(Interrupt::Io(Io::Output(bytes))) => {
                    let bytes = self.outgoing(bytes);
                    self.conn.queue(&bytes);
                    if self.conn.flush_over(FLUSH_AT).await.is_err() {
                        return false;
                    }
                }
                Err(Interrupt::Io(Io::NeedMoreInput)) => return true,
                Err(Interrupt::Error(e)) => self.pending.push_back(Err(e)),
            }
        }
    }

    /// True when the connection is encrypted.
    pub(super) fn encrypted(&self) -> bool {
        self.conn.is_tls()
    }

    /// Whether a store notice (or a lag) may concern the selected folder.
    pub(super) fn concerns_us(&self, notice: Result<i64, tokio::sync::broadcast::error::RecvError>) -> bool {
        let State::Selected(_, sel) = &self.state else { return false };
        match notice {
            Ok(m) => m == sel.folder.mailbox || m == crate::store::ANY_MAILBOX,
            Err(_) => true,
        }
    }

    /// Whether a store notice (or a lag) may concern the user's mailbox, any folder.
    pub(super) fn concerns_user(&self, notice: &Result<i64, tokio::sync::broadcast::error::RecvError>) -> bool {
        let (State::Authenticated(user) | State::Selected(user, _)) = &self.state else { return false };
        match notice {
            Ok(m) => *m == user.mailbox || *m == crate::store::ANY_MAILBOX,
            Err(_) => true,
        }
    }

    /// Takes in the notices waiting; true when the selected folder may have changed.
    pub(super) fn take_notices(&mut self) -> bool {
        loop {
            match self.watch.try_recv() {
                Ok(m) => {
                    if self.concerns_us(Ok(m)) {
                        self.dirty = true;
                    }
                    if self.notify.is_some() && self.concerns_user(&Ok(m)) {
                        self.notify_due = true;
                    }
                }
                Err(TryRecvError::Lagged(_)) => {
                    self.dirty = true;
                    self.notify_due = self.notify.is_some();
                }
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        self.dirty && matches!(self.state, State::Selected(..))
    }

    /// Tells the client what changed in the selected folder since it was last told:
    /// EXPUNGE for messages gone, FETCH FLAGS for flags changed by others, EXISTS for
    /// new messages.
    pub(super) async fn report_changes(&mut self) {
        self.dirty = false;
        if !self.access_holds().await {
            // Someone else's folder, which the user may no longer read.
            self.server.enqueue_status(bye("Your access to the selected folder was removed"));
            self.state = State::NotAuthenticated;
            return;
        }
        let State::Selected(user, sel) = &mut self.state else { return };
        let at = crate::store::Access::new(sel.folder.mailbox, user.mailbox);
        let now = match self.ctx.store.imap_folder_state(at, sel.folder.id).await {
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
        // Expunged: in descending order, so each number is still right when sent; the
        // kept searches hear of them first, numbered as the client still knows them.
        let gone: Vec<u32> = sel
            .messages
            .iter()
            .filter(|m| now.messages.binary_search_by_key(&m.uid, |n| n.uid).is_err())
            .map(|m| m.uid)
            .collect();
        if !gone.is_empty() && !sel.updates.is_empty() {
            self.expunging(&gone);
        }
        let State::Selected(_, sel) = &mut self.state else { return };
        let mut out: Vec<Data<'static>> = Vec::new();
        let mut i = sel.messages.len();
        while i > 0 {
            i -= 1;
            let uid = sel.messages[i].uid;
            if now.messages.binary_search_by_key(&uid, |m| m.uid).is_err() {
                std::sync::Arc::make_mut(&mut sel.messages).remove(i);
                out.push(Data::Expunge(nz(u32::try_from(i + 1).unwrap_or(u32::MAX))));
            }
        }
        if self.qresync && !gone.is_empty() {
            // RFC 7162 §3.2.10: VANISHED in place of EXPUNGE once QRESYNC is on.
            out.clear();
            out.extend(super::expunge::vanished(gone));
        }
        // Keywords of the messages changed or new, to announce those not yet told.
        let mut shown: Vec<String> = Vec::new();
        // Flags changed by someone else.
        for (i, m) in std::sync::Arc::make_mut(&mut sel.messages).iter_mut().enumerate() {
            if let Ok(j) = now.messages.binary_search_by_key(&m.uid, |n| n.uid) {
                let n = &now.messages[j];
                if n.flags != m.flags || n.keywords != m.keywords {
                    *m = n.clone();
                    shown.extend(m.keyword_list().map(str::to_owned));
                    let recent = sel.recent.iter().any(|r| r.contains(&m.uid));
                    let mut items = vec![MessageDataItem::Flags(flag_list(m, recent)), MessageDataItem::Uid(nz(m.uid))];
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
            shown.extend(new.iter().flat_map(ImapMessage::keyword_list).map(str::to_owned));
            std::sync::Arc::make_mut(&mut sel.messages).extend(new);
            out.push(Data::Exists(u32::try_from(sel.messages.len()).unwrap_or(u32::MAX)));
            // New mail is recent in the first session that hears of it (IMAP4rev1's).
            if self.rev2 {
            } else if sel.read_only {
                // EXAMINE claims nothing: recent is what nobody has claimed.
                sel.recent.clear();
                sel.claimed(now.recent_from..now.uidnext);
            } else {
                match self.ctx.store.imap_claim_recent(sel.folder.mailbox, sel.folder.id).await {
                    Ok((from, to)) => sel.claimed(from..to),
                    Err(e) => tracing::warn!(error = %e, "cannot claim recent messages"),
                }
            }
            if !self.rev2 {
                out.push(Data::Recent(sel.recent_count()));
            }
        }
        sel.uidnext = now.uidnext;
        sel.highest_modseq = now.highest_modseq;
        // Caught up: the list is the folder's as it is, which other sessions may hold.
        if sel.messages.len() == now.messages.len() {
            let key = super::shared::key(at, sel.folder.id);
            sel.messages = self.ctx.imap_lists.share(key, now.highest_modseq, now.uidnext, now.messages);
        }
        self.announce_keywords(shown);
        for d in out {
            self.server.enqueue_data(d);
        }
    }

    /// A response's bytes as they go out: `IMAP4rev1` spelled as the RFC does, and the
    /// origins of partial `BINARY[…]` items put in.
    pub(super) fn outgoing(&mut self, bytes: Vec<u8>) -> Vec<u8> {
        with_origins(spelled(bytes), &mut self.binary_origins)
    }

    /// A stored folder name as this client reads names: UTF-8 once it enabled it,
    /// modified UTF-7 (as stored) otherwise.
    pub(super) fn wire_name(&self, name: &str) -> String {
        if self.utf8_names { super::names::from_modified_utf7(name) } else { name.to_owned() }
    }

    /// Turns CONDSTORE on for the session (a CONDSTORE-enabling command was used);
    /// with a folder selected, the first time, its HIGHESTMODSEQ is said (RFC 7162
    /// §3.1).
    pub(super) fn enable_condstore(&mut self) {
        if self.condstore {
            return;
        }
        self.condstore = true;
        if let State::Selected(_, sel) = &self.state {
            let highest = nz64(sel.highest_modseq);
            self.untagged_ok(Some(Code::HighestModSeq(highest)), "Highest");
        }
    }

    /// Whether the message with `uid` in the selected folder is `\Recent` here.
    pub(super) fn is_recent(&self, uid: u32) -> bool {
        matches!(&self.state, State::Selected(_, sel) if sel.is_recent(uid))
    }

    /// Tells the client of keywords it has not been told of (`* FLAGS`, and
    /// `PERMANENTFLAGS` unless read-only), before any FETCH that shows them.
    pub(super) fn announce_keywords(&mut self, candidates: Vec<String>) {
        let State::Selected(_, sel) = &mut self.state else { return };
        let before = sel.keywords.len();
        sel.keywords.extend(candidates.into_iter().filter(|k| Atom::try_from(k.clone()).is_ok()));
        if sel.keywords.len() == before {
            return;
        }
        let (flags, permanent) = folder_flags(&sel.keywords, sel.read_only);
        self.data(Data::Flags(flags));
        self.untagged_ok(Some(Code::PermanentFlags(permanent)), "Flags permitted");
    }

    // --- responses -------------------------------------------------------------------

    fn tagged(&mut self, tag: Tag<'static>, kind: StatusKind, code: Option<Code<'static>>, words: &str) {
        let status = Status::Tagged(imap_next::imap_types::response::Tagged {
            tag,
            body: StatusBody { kind, code, text: text(words) },
        });
        if let Some(earlier) = self.completion.replace(status) {
            self.server.enqueue_status(earlier);
        }
    }

    /// Sends the tagged completion held back, if any: after the updates, at the end of
    /// each command.
    pub(super) fn complete(&mut self) {
        if let Some(status) = self.completion.take() {
            self.server.enqueue_status(status);
        }
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

    /// A response imap-types cannot write, sent after everything queued before it.
    pub(super) fn raw(&mut self, line: Vec<u8>) {
        loop {
            match self.server.next() {
                Ok(Event::ResponseSent { .. } | Event::GreetingSent { .. }) => {}
                Ok(event) => self.pending.push_back(Ok(event)),
                Err(Interrupt::Io(Io::Output(bytes))) => {
                    let bytes = self.outgoing(bytes);
                    self.conn.queue(&bytes);
                }
                Err(Interrupt::Io(Io::NeedMoreInput)) => break,
                Err(Interrupt::Error(e)) => self.pending.push_back(Err(e)),
            }
        }
        self.conn.queue(&line);
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
}

#[cfg(test)]
mod tests {
    use super::*;

    /// imap-types writes `BINARY[5] …` with no origin; a partial fetch needs `<0>`.
    #[test]
    fn partial_binary_items_get_their_origin_outside_strings_and_literals() {
        let mut origins = std::collections::VecDeque::from([Some(10), None]);
        let response =
            b"* 1 FETCH (BODY[1] {9}\r\nBINARY[1]X BINARY[5] \"BINARY[\\\"]\" BINARY[2] ~{3}\r\nabc)\r\n".to_vec();
        let out = with_origins(response, &mut origins);
        assert_eq!(
            out,
            b"* 1 FETCH (BODY[1] {9}\r\nBINARY[1]X BINARY[5]<10> \"BINARY[\\\"]\" BINARY[2] ~{3}\r\nabc)\r\n"
        );
        assert!(origins.is_empty());
        let other = b"a OK done\r\n".to_vec();
        assert_eq!(with_origins(other.clone(), &mut std::collections::VecDeque::from([Some(1)])), other);
    }
}
