//! The AUTHORIZATION state: CAPA, USER/PASS, AUTH PLAIN, and logging in.
//!
//! An unknown login and a wrong password get the same answer after the same work (a
//! dummy hash is checked for unknown logins) and the same growing delay; too many
//! failures lock the client or the account out for a while ([`crate::throttle`],
//! shared with SMTP AUTH).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::session::{Flow, Mailbox, Session, State};
use crate::throttle::Checked;

const AUTH_FAILED: &str = "[AUTH] Authentication failed";

impl<S: crate::tls::Transport> Session<S> {
    fn plain_text_allowed(&self) -> bool {
        self.ctx.config.pop3.plain_text_login.permits(self.peer.ip(), self.encrypted())
    }

    /// CAPA (RFC 2449).
    pub(super) fn capa(&mut self) {
        let in_auth = matches!(self.state, State::Authorization { .. });
        let mut caps = vec!["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "EXPIRE NEVER"];
        if in_auth && self.ctx.tls.is_some() && !self.encrypted() {
            caps.push("STLS");
        }
        if in_auth && self.plain_text_allowed() {
            caps.extend(["USER", "SASL PLAIN"]);
        }
        caps.push("IMPLEMENTATION Mailroom");
        self.ok("Capability list follows");
        for c in caps {
            self.raw(c.as_bytes());
            self.raw(b"\r\n");
        }
        self.raw(b".\r\n");
    }

    /// USER: always `+OK`, so that it reveals nothing about which accounts exist.
    pub(super) fn user(&mut self, name: String) {
        if !self.plain_text_allowed() {
            return self.err("[AUTH] Clear-text login is only allowed over an encrypted connection");
        }
        self.state = State::Authorization { user: Some(name) };
        self.ok("Send your password");
    }

    /// PASS, after USER.
    pub(super) async fn pass(&mut self, password: String) -> Flow {
        let user = match &mut self.state {
            State::Authorization { user } => user.take(),
            State::Transaction(_) => None,
        };
        let Some(login) = user else {
            self.err("Send USER first");
            return Flow::Continue;
        };
        self.login(login, password).await
    }

    /// AUTH (RFC 5034): lists mechanisms, or runs PLAIN.
    pub(super) async fn auth(&mut self, mechanism: Option<(String, Option<String>)>) -> Flow {
        let Some((mechanism, initial)) = mechanism else {
            self.ok("Supported mechanisms follow");
            if self.plain_text_allowed() {
                self.raw(b"PLAIN\r\n");
            }
            self.raw(b".\r\n");
            return Flow::Continue;
        };
        if mechanism != "PLAIN" {
            self.err("Unsupported authentication mechanism");
            return Flow::Continue;
        }
        if !self.plain_text_allowed() {
            self.err("[AUTH] Clear-text login is only allowed over an encrypted connection");
            return Flow::Continue;
        }
        let response = match initial {
            Some(r) => r,
            None => {
                self.raw(b"+ \r\n");
                match self.read_line(super::session::MAX_AUTH_LINE).await {
                    Some(crate::line::Line::Whole(line)) => {
                        String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_owned()
                    }
                    Some(crate::line::Line::TooLong) => {
                        self.err("Authentication response too long");
                        return Flow::Continue;
                    }
                    None => return Flow::Close,
                }
            }
        };
        if response == "*" {
            self.err("Authentication cancelled");
            return Flow::Continue;
        }
        let decoded = if response == "=" { Ok(Vec::new()) } else { B64.decode(response.trim()) };
        let Ok(decoded) = decoded else {
            self.err("Cannot decode the BASE64 response");
            return Flow::Continue;
        };
        let parts: Vec<&[u8]> = decoded.split(|&b| b == 0).collect();
        let [authzid, login, password] = parts.as_slice() else {
            self.err("Malformed PLAIN response");
            return Flow::Continue;
        };
        let login = String::from_utf8_lossy(login).into_owned();
        let password = String::from_utf8_lossy(password).into_owned();
        if !authzid.is_empty() && *authzid != login.as_bytes() {
            self.err(AUTH_FAILED);
            return Flow::Continue;
        }
        self.login(login, password).await
    }

    /// Checks the password and enters TRANSACTION.
    async fn login(&mut self, login: String, password: String) -> Flow {
        let store = self.ctx.store.clone();
        let mailbox = match self.ctx.throttle.check_login(&store, self.peer.ip(), &login, password).await {
            Checked::Mailbox(id) => id,
            Checked::LockedOut => {
                self.err("[LOGIN-DELAY] Too many failed logins; try again later");
                return Flow::Continue;
            }
            Checked::Refused { delay } => {
                tracing::info!(peer = %self.peer, login = %login, ?delay, "POP3 login failed");
                self.err(AUTH_FAILED);
                return Flow::Continue;
            }
            Checked::Unavailable => {
                self.err("[SYS/TEMP] Temporary failure, try again later");
                return Flow::Continue;
            }
        };
        let Some(lock) = self.ctx.pop3_locks.lock(mailbox) else {
            self.err("[IN-USE] Mailbox is in use by another POP3 session");
            return Flow::Continue;
        };
        let messages = match store.pop3_messages(mailbox).await {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(error = %e, "cannot list the mailbox");
                self.err("[SYS/TEMP] Temporary failure, try again later");
                return Flow::Continue;
            }
        };
        tracing::info!(peer = %self.peer, login = %login, messages = messages.len(), "POP3 login");
        let count = messages.len();
        let octets: u64 = messages.iter().map(|m| m.size).sum();
        self.state = State::Transaction(Box::new(Mailbox {
            login,
            id: mailbox,
            deleted: vec![false; count],
            messages,
            retrieved: Vec::new(),
            read_ahead: std::collections::VecDeque::new(),
            _lock: lock,
        }));
        self.ok(&format!("Logged in, {count} messages ({octets} octets)"));
        Flow::Continue
    }
}
