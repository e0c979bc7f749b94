//! The not-authenticated state: CAPABILITY, ID, LOGIN, AUTHENTICATE (PLAIN and
//! LOGIN, with SASL-IR), and logging in.
//!
//! As in POP3 and SMTP: clear text only where the IMAP4 page allows it, an unknown
//! login and a wrong password get the same answer after the same work, and failures
//! count towards the delays and lock-outs of [`crate::throttle`].

use std::borrow::Cow;

use imap_next::imap_types::auth::{AuthMechanism, AuthenticateData};
use imap_next::imap_types::core::{IString, NString, Tag, Vec1};
use imap_next::imap_types::extensions::quota::Resource;
use imap_next::imap_types::extensions::sort::SortAlgorithm;
use imap_next::imap_types::extensions::thread::ThreadingAlgorithm;
use imap_next::imap_types::response::{
    Capability, Code, CommandContinuationRequest, Data, Status, StatusBody, StatusKind, Tagged,
};
use imap_next::types::CommandAuthenticate;

use super::session::{Flow, Sasl, Session, State, User, atom, text};
use crate::throttle::Checked;

const AUTH_FAILED: &str = "Authentication failed";

impl<S: crate::tls::Transport> Session<S> {
    fn plain_text_allowed(&self) -> bool {
        self.ctx.config.imap4.plain_text_login.permits(self.peer.ip(), self.encrypted())
    }

    /// The capabilities for the session's state.
    pub(super) fn capabilities(&self) -> Vec<Capability<'static>> {
        // Both revisions: a client speaks IMAP4rev1 until it enables IMAP4rev2 (RFC 9051
        // Appendix E).
        let mut caps = vec![Capability::Imap4Rev1, Capability::from(atom("IMAP4rev2"))];
        let logged_in = !matches!(self.state, State::NotAuthenticated);
        if !logged_in {
            if self.ctx.tls.is_some() && !self.encrypted() {
                caps.push(Capability::StartTls);
            }
            if self.plain_text_allowed() {
                caps.push(Capability::Auth(AuthMechanism::Plain));
                caps.push(Capability::Auth(AuthMechanism::Login));
            } else {
                caps.push(Capability::LoginDisabled);
            }
            caps.push(Capability::SaslIr);
        } else {
            caps.extend([
                Capability::Namespace,
                Capability::Unselect,
                Capability::UidPlus,
                Capability::Move,
                Capability::CondStore,
                Capability::QResync,
                Capability::from(atom("SPECIAL-USE")),
                Capability::from(atom("CHILDREN")),
                Capability::Binary,
                Capability::from(atom("WITHIN")),
                Capability::from(atom("STATUS=SIZE")),
                Capability::Quota,
                Capability::QuotaRes(Resource::Storage),
                Capability::Sort(None),
                Capability::Sort(Some(SortAlgorithm::Display)),
                Capability::Thread(ThreadingAlgorithm::OrderedSubject),
                Capability::Thread(ThreadingAlgorithm::References),
                Capability::from(atom("ESEARCH")),
                Capability::from(atom("ESORT")),
                Capability::from(atom("CONTEXT=SEARCH")),
                Capability::from(atom("CONTEXT=SORT")),
                Capability::from(atom("SEARCHRES")),
                Capability::from(atom("LIST-EXTENDED")),
                Capability::from(atom("LIST-STATUS")),
                Capability::from(atom("MULTIAPPEND")),
                Capability::from(atom("CATENATE")),
                Capability::from(atom("NOTIFY")),
                Capability::from(atom("ACL")),
                Capability::from(atom("RIGHTS=texk")),
                Capability::from(atom("LIST-MYRIGHTS")),
                Capability::from(atom("OBJECTID")),
                Capability::from(atom("SAVEDATE")),
                Capability::Compress {
                    algorithm: imap_next::imap_types::extensions::compress::CompressionAlgorithm::Deflate,
                },
                Capability::Utf8(imap_next::imap_types::extensions::utf8::Utf8Kind::Accept),
            ]);
        }
        caps.extend([Capability::LiteralPlus, Capability::Id, Capability::Enable, Capability::Idle]);
        caps
    }

    /// CAPABILITY.
    pub(super) fn capability(&mut self, tag: Tag<'static>) -> Flow {
        if let Ok(caps) = Vec1::try_from(self.capabilities()) {
            self.data(Data::Capability(caps));
        }
        self.ok(tag, None, "CAPABILITY completed");
        Flow::Continue
    }

    /// ID (RFC 2971): says who we are; what the client says is logged.
    pub(super) fn id(&mut self, tag: Tag<'static>) -> Flow {
        let pair = |k: &'static str, v: &'static str| -> Option<(IString<'static>, NString<'static>)> {
            Some((IString::try_from(k).ok()?, NString::try_from(v).ok()?))
        };
        let parameters: Vec<_> =
            [pair("name", "Mailroom"), pair("version", env!("CARGO_PKG_VERSION"))].into_iter().flatten().collect();
        self.data(Data::Id { parameters: Some(parameters) });
        self.ok(tag, None, "ID completed");
        Flow::Continue
    }

    /// LOGIN.
    pub(super) async fn login(&mut self, tag: Tag<'static>, login: String, password: String) -> Flow {
        if !self.plain_text_allowed() {
            self.no(
                tag,
                Some(Code::Other(super::code("PRIVACYREQUIRED"))),
                "Clear-text login is only allowed over an encrypted connection; use STARTTLS",
            );
            return Flow::Continue;
        }
        match self.check(&login, password).await {
            Ok(user) => self.logged_in(tag, user),
            Err((code, words)) => self.no(tag, Some(Code::Other(super::code(code))), words),
        }
        Flow::Continue
    }

    /// AUTHENTICATE: PLAIN (with its initial response, SASL-IR) or LOGIN.
    pub(super) async fn authenticate(&mut self, command: CommandAuthenticate) -> Flow {
        let CommandAuthenticate { tag, mechanism, initial_response } = command;
        if !self.plain_text_allowed() {
            self.finish(tag, false, "PRIVACYREQUIRED", "Clear-text login is only allowed over an encrypted connection");
            return Flow::Continue;
        }
        let sasl = match mechanism {
            AuthMechanism::Plain => Sasl::Plain,
            AuthMechanism::Login => Sasl::LoginUser,
            _ => {
                self.finish(tag, false, "CANNOT", "Unsupported authentication mechanism; use PLAIN");
                return Flow::Continue;
            }
        };
        match (sasl, initial_response) {
            (Sasl::Plain, Some(response)) => self.plain(tag, response.declassify()).await,
            (sasl, _) => {
                let prompt = match sasl {
                    Sasl::LoginUser => "VXNlcm5hbWU6",
                    _ => "",
                };
                self.authenticating = Some((tag, sasl));
                self.challenge(prompt);
            }
        }
        Flow::Continue
    }

    /// A continuation of AUTHENTICATE.
    pub(super) async fn authenticate_data(&mut self, data: AuthenticateData<'static>) -> Flow {
        let Some((tag, sasl)) = self.authenticating.take() else { return Flow::Continue };
        let response = match data {
            AuthenticateData::Cancel => {
                self.finish(tag, false, "", "Authentication cancelled");
                return Flow::Continue;
            }
            AuthenticateData::Continue(r) => r,
        };
        let bytes = response.declassify();
        match sasl {
            Sasl::Plain => self.plain(tag, bytes).await,
            Sasl::LoginUser => {
                self.authenticating = Some((tag, Sasl::LoginPassword(String::from_utf8_lossy(bytes).into_owned())));
                self.challenge("UGFzc3dvcmQ6");
            }
            Sasl::LoginPassword(login) => {
                let password = String::from_utf8_lossy(bytes).into_owned();
                match self.check(&login, password).await {
                    Ok(user) => self.finish_logged_in(tag, user),
                    Err((code, words)) => self.finish(tag, false, code, words),
                }
            }
        }
        Flow::Continue
    }

    /// Checks a PLAIN response (`authzid NUL login NUL password`).
    async fn plain(&mut self, tag: Tag<'static>, response: &[u8]) {
        let parts: Vec<&[u8]> = response.split(|&b| b == 0).collect();
        let [authzid, login, password] = parts.as_slice() else {
            self.finish(tag, false, "", "Malformed PLAIN response");
            return;
        };
        let login = String::from_utf8_lossy(login).into_owned();
        if !authzid.is_empty() && *authzid != login.as_bytes() {
            self.finish(tag, false, "AUTHORIZATIONFAILED", AUTH_FAILED);
            return;
        }
        match self.check(&login, String::from_utf8_lossy(password).into_owned()).await {
            Ok(user) => self.finish_logged_in(tag, user),
            Err((code, words)) => self.finish(tag, false, code, words),
        }
    }

    /// Sends a SASL challenge (already base64) and waits for the response.
    fn challenge(&mut self, base64: &'static str) {
        let request = if base64.is_empty() {
            CommandContinuationRequest::basic(None, text(""))
        } else {
            Ok(CommandContinuationRequest::base64(Cow::Owned(
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, base64).unwrap_or_default(),
            )))
        };
        if let Ok(request) = request.map_err(|_| ()) {
            let _ = self.server.authenticate_continue(request);
        }
    }

    /// Ends an AUTHENTICATE exchange with `tag OK` or `tag NO [code]`.
    fn finish(&mut self, tag: Tag<'static>, ok: bool, code: &'static str, words: &str) {
        let code = (!code.is_empty()).then(|| Code::Other(super::code(code)));
        let kind = if ok { StatusKind::Ok } else { StatusKind::No };
        let status = Status::Tagged(Tagged { tag, body: StatusBody { kind, code, text: text(words) } });
        let _ = self.server.authenticate_finish(status);
    }

    fn finish_logged_in(&mut self, tag: Tag<'static>, user: User) {
        self.enter(user);
        let caps = Vec1::try_from(self.capabilities()).ok().map(Code::Capability);
        let status = Status::Tagged(Tagged {
            tag,
            body: StatusBody { kind: StatusKind::Ok, code: caps, text: text("Logged in") },
        });
        let _ = self.server.authenticate_finish(status);
    }

    fn logged_in(&mut self, tag: Tag<'static>, user: User) {
        self.enter(user);
        let caps = Vec1::try_from(self.capabilities()).ok().map(Code::Capability);
        self.ok(tag, caps, "Logged in");
    }

    fn enter(&mut self, user: User) {
        tracing::info!(peer = %self.peer, login = %user.login, "IMAP login");
        if self.ctx.config.diagnostics.message_tracking {
            let record = crate::store::TrackingRecord {
                recipient: Some(user.login.clone()),
                detail: Some(format!("IMAP login from {}", self.peer.ip())),
                ..crate::store::TrackingRecord::now(crate::store::TrackEvent::ImapLogin)
            };
            let store = self.ctx.store.clone();
            self.ctx.tasks.spawn(async move {
                if let Err(e) = store.track(vec![record]).await {
                    tracing::warn!(error = %e, "cannot record an IMAP login in message tracking");
                }
            });
        }
        self.state = State::Authenticated(user);
    }

    /// Checks a login and password, with the throttle's delays and lock-outs; the
    /// mailbox, or the response code and words of the refusal.
    async fn check(&mut self, login: &str, password: String) -> Result<User, (&'static str, &'static str)> {
        match self.ctx.throttle.check_login(&self.ctx.store, self.peer.ip(), login, password).await {
            Checked::Mailbox(mailbox) => Ok(User { login: login.to_owned(), mailbox }),
            Checked::LockedOut => Err(("UNAVAILABLE", "Too many failed logins; try again later")),
            Checked::Refused { delay } => {
                tracing::info!(peer = %self.peer, login = %login, ?delay, "IMAP login failed");
                Err(("AUTHENTICATIONFAILED", AUTH_FAILED))
            }
            Checked::Unavailable => Err(("UNAVAILABLE", "Temporary failure, try again later")),
        }
    }
}
