//! Runs an IMAP session: reads the client, feeds imap-next, and dispatches each
//! command by state to `auth.rs` (not authenticated), `folders.rs` (authenticated)
//! and `selected.rs` (a folder selected); IDLE and STARTTLS, which change how the
//! session reads, are here too.
//!
//! Above the command files and [`super::session`], which hold the session's state and
//! what it says, so that none of them needs this one.

use super::extended::Extended;
use super::session::{FLUSH_AT, Flow, MAX_ERRORS, Session, State, bye, greeting, new_server, text};
use imap_next::imap_types::command::{Command, CommandBody};
use imap_next::imap_types::core::{Charset, Tag};
use imap_next::imap_types::response::{Code, CommandContinuationRequest, Status, StatusBody, StatusKind};
use imap_next::server::{Error as ServerError, Event};
use imap_next::{Interrupt, Io, State as _};

use super::syntax::Syntax;
use crate::line::{Ended, Filled, Stop, Wait};

/// The charsets SEARCH, SORT and THREAD take (what the stored fields are kept in).
const SEARCH_CHARSETS: [&str; 2] = ["UTF-8", "US-ASCII"];

/// Whether a SEARCH, SORT or THREAD names a charset searched in (or none).
fn charset_allowed(body: &CommandBody<'_>) -> bool {
    let charset = match body {
        CommandBody::Search { charset: Some(charset), .. }
        | CommandBody::Sort { charset, .. }
        | CommandBody::Thread { charset, .. } => charset,
        _ => return true,
    };
    SEARCH_CHARSETS.iter().any(|c| c.eq_ignore_ascii_case(charset.as_ref()))
}

/// What waiting for the client brought.
enum Input {
    /// Bytes, handed to the protocol state.
    Bytes,
    /// The mailbox changed while the client is in IDLE.
    Changed,
    Closed,
}

impl<S: crate::tls::Transport> Session<S> {
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
                    let bytes = self.outgoing(bytes);
                    self.conn.queue(&bytes);
                    if self.conn.flush_over(FLUSH_AT).await.is_err() {
                        break;
                    }
                    continue;
                }
                Err(Interrupt::Io(Io::NeedMoreInput)) => {
                    match self.input().await {
                        Input::Bytes => {
                            let input = self.conn.input();
                            self.server.enqueue_input(input);
                            input.clear();
                        }
                        Input::Changed => {
                            if self.idling.is_some() && self.take_notices() {
                                self.report_changes().await;
                                self.refresh_updates().await;
                            }
                            self.notified().await;
                        }
                        Input::Closed => break,
                    }
                    continue;
                }
                Err(Interrupt::Error(e)) => {
                    // A command of an extension imap-codec does not parse, or one with
                    // SEARCHRES's `$`.
                    if let ServerError::MalformedMessage { discarded_bytes } = &e
                        && let Some(flow) = self.reparse(discarded_bytes.declassify()).await
                    {
                        if self.end_command(flow).await == Flow::Close {
                            break;
                        }
                        continue;
                    }
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
            if self.end_command(flow).await == Flow::Close {
                break;
            }
        }
        self.conn.close().await;
        tracing::debug!(peer = %self.peer, "IMAP session end");
    }

    /// The end of each command: the kept searches' and NOTIFY's updates, then the
    /// tagged completion; at the session's end, what is queued is sent.
    async fn end_command(&mut self, flow: Flow) -> Flow {
        self.refresh_updates().await;
        self.notified().await;
        self.complete();
        if flow == Flow::Close {
            self.drain().await;
        }
        flow
    }

    /// Waits for the client: its bytes (left in the connection's input), or (in
    /// IDLE) a change to report; `Closed` when the session must end (client gone, idle
    /// timeout, service stopping — the reason sent).
    async fn input(&mut self) -> Input {
        let logged_in = !matches!(self.state, State::NotAuthenticated);
        let until = std::time::Instant::now()
            + if logged_in {
                self.ctx.config.imap4.idle_timeout
            } else {
                self.limits.timeout(self.ctx.config.imap4.idle_timeout.min(std::time::Duration::from_secs(60)))
            };
        loop {
            let mut wait = Wait::until(until, Stop::Stopping);
            if !logged_in {
                wait = wait.evictable(&self.slot);
            }
            let idling = self.idling.is_some();
            let notifying = self.notify.is_some();
            let watch = &mut self.watch;
            let changed = async { if idling || notifying { watch.recv().await } else { std::future::pending().await } };
            let why = match self.conn.fill_or(&wait, changed).await {
                Ok(Filled::Input) => return Input::Bytes,
                Ok(Filled::Other(notice)) => {
                    drop(wait);
                    let selected = self.concerns_us(notice.clone());
                    if notifying && self.concerns_user(&notice) {
                        self.notify_due = true;
                    }
                    // Without IDLE the selected folder's changes wait for a command.
                    self.dirty |= selected;
                    if (idling && selected) || self.notify_due {
                        return Input::Changed;
                    }
                    continue;
                }
                Err(Ended::Closed) => return Input::Closed,
                Err(Ended::TimedOut) => "Idle timeout, closing connection",
                Err(Ended::Stopping) => "Service restarting, closing connection",
                Err(Ended::Evicted) => "Too many connections; closing this idle one, try again later",
            };
            drop(wait);
            self.bye(why).await;
            return Input::Closed;
        }
    }

    /// Sends an untagged BYE now.
    async fn bye(&mut self, why: &str) {
        self.server.enqueue_status(bye(why));
        self.drain().await;
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
        // imap-next has already refused a synchronising literal that is too long, with a
        // tagged BAD of its own; a second would complete the command twice.
        let answered = matches!(e, ServerError::LiteralTooLong { .. });
        let tag = bytes
            .split(|b| *b == b' ')
            .next()
            .and_then(|t| std::str::from_utf8(t).ok())
            .and_then(|t| Tag::try_from(t.to_owned()).ok());
        match tag {
            _ if answered => {}
            Some(tag) => {
                self.bad(tag, why);
                self.complete();
            }
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
            // Someone else's folder the user may no longer read: closed, and refused.
            _ if selected && !self.access_holds().await => return self.access_lost(tag),
            CommandBody::Enable { .. } if selected => {
                self.bad(tag, "ENABLE is only valid before a folder is selected");
                Flow::Continue
            }
            CommandBody::Enable { capabilities } => self.enable(tag, capabilities),
            CommandBody::Namespace => self.namespace(tag),
            CommandBody::Compress { .. } => return self.compress(tag).await,
            CommandBody::Select { mailbox, parameters } => self.select(tag, mailbox, false, parameters).await,
            CommandBody::Examine { mailbox, parameters } => self.select(tag, mailbox, true, parameters).await,
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
            CommandBody::GetQuotaRoot { mailbox } => self.get_quota_root(tag, mailbox).await,
            CommandBody::GetQuota { root } => self.get_quota(tag, root).await,
            CommandBody::SetQuota { .. } => self.set_quota(tag),
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
            ref body if !charset_allowed(body) => self.bad_charset(tag),
            CommandBody::Sort { sort_criteria, search_criteria, uid, .. } => {
                may_expunge = uid;
                self.sort(tag, sort_criteria, search_criteria, uid).await
            }
            CommandBody::Thread { algorithm, search_criteria, uid, .. } => {
                may_expunge = uid;
                self.thread(tag, algorithm, search_criteria, uid).await
            }
            CommandBody::Search { criteria, uid, charset } if self.rev2 => {
                // IMAP4rev2 answers every SEARCH with ESEARCH (RFC 9051 §6.4.4).
                may_expunge = uid;
                let all = super::extended::ReturnOptions { all: true, ..Default::default() };
                self.extended_search(tag, all, CommandBody::Search { criteria, uid, charset }).await
            }
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

    /// The notifications NOTIFY asked for, when a notice made them due.
    async fn notified(&mut self) {
        if std::mem::take(&mut self.notify_due) && self.notify.is_some() {
            self.notify_changes().await;
        }
    }

    /// A command imap-codec refused, read again: with OBJECTID's and SAVEDATE's search
    /// keys put as the UID sets they stand for and their FETCH and STATUS items taken
    /// out (answered beside imap-types' response), with the saved search result put for
    /// `$`, or as one of [`super::extended`]'s; `None` when it is none of these.
    async fn reparse(&mut self, bytes: &[u8]) -> Option<Flow> {
        use imap_codec::CommandCodec;
        use imap_codec::decode::Decoder;
        use imap_next::imap_types::IntoStatic;
        let mut command = bytes.to_vec();
        let mut changed = false;
        let keys = super::objectid::keys(&command);
        if !keys.is_empty()
            && let Some(put) = self.object_keys(keys).await
        {
            command = super::objectid::put_keys(&command, put);
            changed = true;
        }
        if let State::Selected(_, sel) = &self.state
            && let Some(with) = super::extended::with_saved(&command, &sel.saved, |uid| {
                sel.messages.binary_search_by_key(&uid, |m| m.uid).ok().and_then(|i| u32::try_from(i + 1).ok())
            })
        {
            command = with;
            changed = true;
        }
        if let Some((without, items)) = super::objectid::take_items(&command) {
            command = without;
            changed = true;
            self.object_items = items;
        }
        if changed && let Ok((&[], parsed)) = CommandCodec::default().decode(&command) {
            let flow = self.command(parsed.into_static()).await;
            self.object_items = super::objectid::ObjectItems::default();
            return Some(flow);
        }
        self.object_items = super::objectid::ObjectItems::default();
        let (tag, parsed) = super::extended::parse(&command)?;
        Some(self.extended(tag, parsed).await)
    }

    /// What OBJECTID's and SAVEDATE's search keys stand for in the selected folder:
    /// `UID set` of the messages they match (a UID no message has for none), `ALL`.
    async fn object_keys(
        &mut self,
        keys: Vec<(std::ops::Range<usize>, super::objectid::Key)>,
    ) -> Option<Vec<(std::ops::Range<usize>, String)>> {
        use super::objectid::Key;
        let State::Selected(user, sel) = &self.state else { return None };
        let objects = self.ctx.store.imap_objects(user.mailbox, sel.folder.id, None).await.ok()?;
        let objects: std::collections::HashMap<i64, crate::store::ObjectIds> =
            objects.into_iter().map(|o| (o.id, o)).collect();
        let State::Selected(_, sel) = &self.state else { return None };
        let day = |secs: i64| chrono::DateTime::from_timestamp(secs, 0).map(|d| d.date_naive());
        let uids = |matches: &dyn Fn(&crate::store::ImapMessage) -> bool| -> String {
            let found: Vec<u32> = sel.messages.iter().filter(|m| matches(m)).map(|m| m.uid).collect();
            if found.is_empty() {
                "UID 4294967295".to_owned()
            } else {
                format!("UID {}", super::esearch::sequence_set(&found))
            }
        };
        // A copy stored before save dates were kept counts as saved when it arrived.
        let saved =
            |m: &crate::store::ImapMessage| day(objects.get(&m.id).and_then(|o| o.saved_at).unwrap_or(m.received_at));
        Some(
            keys.into_iter()
                .map(|(range, key)| {
                    let text = match key {
                        Key::SaveDateSupported => "ALL".to_owned(),
                        Key::ThreadId => "UID 4294967295".to_owned(),
                        Key::EmailId(id) => {
                            let content = id.strip_prefix('M').and_then(|c| c.parse::<i64>().ok());
                            uids(&|m| content.is_some() && objects.get(&m.id).map(|o| o.content) == content)
                        }
                        Key::SavedBefore(d) => uids(&|m| saved(m).is_some_and(|s| s < d)),
                        Key::SavedOn(d) => uids(&|m| saved(m) == Some(d)),
                        Key::SavedSince(d) => uids(&|m| saved(m).is_some_and(|s| s >= d)),
                    };
                    (range, text)
                })
                .collect(),
        )
    }

    /// Dispatches a command of [`super::extended`] by state.
    async fn extended(&mut self, tag: Tag<'static>, parsed: Syntax<Extended>) -> Flow {
        let command = match parsed {
            Ok(command) => command,
            Err(why) => {
                self.errors += 1;
                self.bad(tag, why);
                return Flow::Continue;
            }
        };
        if matches!(self.state, State::NotAuthenticated) {
            self.bad(tag, "Log in first");
            return Flow::Continue;
        }
        if !self.access_holds().await {
            return self.access_lost(tag);
        }
        let selected = matches!(self.state, State::Selected(..));
        let mut may_expunge = true;
        let flow = match command {
            Extended::List(list) => self.list_extended(tag, list).await,
            Extended::Notify(notify) => self.notify(tag, notify).await,
            Extended::Append { mailbox, messages } => self.append_messages(tag, mailbox, messages).await,
            Extended::Acl(command) => self.acl(tag, command).await,
            _ if !selected => {
                self.bad(tag, "Select a folder first");
                Flow::Continue
            }
            Extended::Search { body, .. } if !charset_allowed(&body) => self.bad_charset(tag),
            Extended::Search { ret, body } => {
                may_expunge =
                    matches!(body, CommandBody::Search { uid: true, .. } | CommandBody::Sort { uid: true, .. });
                self.extended_search(tag, ret, body).await
            }
            Extended::CancelUpdate { tags } => self.cancel_update(tag, tags),
        };
        if may_expunge && self.take_notices() {
            self.report_changes().await;
        }
        flow
    }

    /// `NO [BADCHARSET (…)]`, naming the charsets searched in (RFC 9051 §6.4.4).
    fn bad_charset(&mut self, tag: Tag<'static>) -> Flow {
        let allowed = SEARCH_CHARSETS.into_iter().filter_map(|c| Charset::try_from(c).ok()).collect();
        self.no(tag, Some(Code::BadCharset { allowed }), "Search in UTF-8 or US-ASCII");
        Flow::Continue
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

    /// COMPRESS DEFLATE (RFC 4978): the go-ahead is sent as it is, and everything
    /// after it both ways is compressed.
    async fn compress(&mut self, tag: Tag<'static>) -> Flow {
        if self.conn.is_deflated() {
            self.no(tag, Some(Code::CompressionActive), "Compression is already on");
            return Flow::Continue;
        }
        self.ok(tag, None, "DEFLATE active");
        self.complete();
        self.drain().await;
        if let Err(e) = self.conn.start_deflate().await {
            tracing::debug!(peer = %self.peer, error = %e, "cannot start compression");
            return Flow::Close;
        }
        Flow::Continue
    }

    /// STARTTLS (RFC 9051 §6.2.1): after the handshake, plaintext pipelined behind the
    /// command is discarded unread, and the client must log in over TLS.
    async fn starttls(&mut self, tag: Tag<'static>) -> Flow {
        let Some(acceptor) = self.ctx.tls.as_ref().map(|t| t.acceptor.clone()) else {
            self.no(tag, None, "TLS is not available");
            return Flow::Continue;
        };
        if self.conn.is_tls() {
            self.bad(tag, "TLS is already active");
            return Flow::Continue;
        }
        self.ok(tag, None, "Begin TLS negotiation now");
        self.complete();
        self.drain().await;
        if let Err(e) = self.conn.start_tls(&acceptor).await {
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
