//! AUTH (RFC 4954) with the PLAIN (RFC 4616) and LOGIN mechanisms, against mailbox
//! passwords.
//!
//! An unknown login is checked against a dummy hash, so that it takes as long as a
//! wrong password and gets the same answer: no account enumeration. Failures are
//! answered after a growing delay, and too many lock the client or the account out
//! for a while ([`crate::throttle`], shared with POP3).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::reply::{self, Reply};
use super::session::{Authenticated, Phase, Session};
use crate::throttle::Checked;

impl<S: crate::tls::Transport> Session<S> {
    /// Runs an AUTH exchange. `None` when the session must end (the client left).
    pub(super) async fn auth(&mut self, mechanism: &str, initial: Option<String>) -> Option<Reply> {
        match self.phase {
            Phase::Connected => return Some(reply::bad_sequence("Send HELO or EHLO first")),
            Phase::Mail(_) => return Some(reply::bad_sequence("AUTH not allowed during a mail transaction")),
            Phase::Ready => {}
        }
        if self.auth.is_some() {
            return Some(reply::bad_sequence("Already authenticated"));
        }
        if !self.may_authenticate() {
            return Some(Reply::new(538, "5.7.11", "Encryption required for requested authentication mechanism"));
        }
        let (authzid, login, password) = match mechanism {
            "PLAIN" => {
                let response = match initial {
                    Some(r) => r,
                    None => match self.challenge("").await? {
                        Ok(r) => r,
                        Err(reply) => return Some(reply),
                    },
                };
                let decoded = match decode(&response) {
                    Ok(d) => d,
                    Err(reply) => return Some(reply),
                };
                let mut parts = decoded.split(|&b| b == 0);
                match (parts.next(), parts.next(), parts.next(), parts.next()) {
                    (Some(z), Some(c), Some(p), None) => (utf8(z), utf8(c), utf8(p)),
                    _ => return Some(Reply::new(501, "5.5.2", "Malformed PLAIN response")),
                }
            }
            "LOGIN" => {
                let user = match initial {
                    Some(r) => r,
                    None => match self.challenge("VXNlcm5hbWU6").await? {
                        Ok(r) => r,
                        Err(reply) => return Some(reply),
                    },
                };
                let user = match decode(&user) {
                    Ok(u) => utf8(&u),
                    Err(reply) => return Some(reply),
                };
                let pass = match self.challenge("UGFzc3dvcmQ6").await? {
                    Ok(r) => r,
                    Err(reply) => return Some(reply),
                };
                match decode(&pass) {
                    Ok(p) => (String::new(), user, utf8(&p)),
                    Err(reply) => return Some(reply),
                }
            }
            _ => return Some(Reply::new(504, "5.5.4", "Unrecognized authentication mechanism")),
        };
        let ip = self.peer.ip();
        let throttle = std::sync::Arc::clone(&self.ctx.throttle);
        let refused = || Reply::new(535, "5.7.8", "Authentication credentials invalid");
        // Acting for another identity (a non-empty authzid that differs) is not offered:
        // a failure like a wrong password.
        if !authzid.is_empty() && authzid != login {
            let delay = throttle.failed(ip, &login);
            tracing::info!(peer = %self.peer, login = %login, ?delay, "SMTP authentication failed (authzid)");
            tokio::time::sleep(delay).await;
            return Some(refused());
        }
        let unavailable = || Reply::new(454, "4.7.0", "Temporary authentication failure, try again later");
        Some(match throttle.check_login(&self.ctx.store, ip, &login, password).await {
            Checked::Mailbox(id) => match self.ctx.store.mailbox_addresses(id).await {
                Ok(addresses) => {
                    tracing::info!(peer = %self.peer, login = %login, tls = self.encrypted(), "SMTP authentication succeeded");
                    self.auth = Some(Authenticated { login, addresses, mailbox: id });
                    Reply::new(235, "2.7.0", "Authentication successful")
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the account's addresses");
                    unavailable()
                }
            },
            Checked::LockedOut => Reply::new(454, "4.7.0", "Too many failed authentications; try again later"),
            Checked::Refused { delay } => {
                tracing::info!(peer = %self.peer, login = %login, ?delay, "SMTP authentication failed");
                refused()
            }
            Checked::Unavailable => unavailable(),
        })
    }

    /// Sends a `334` challenge and reads the response; `*` cancels.
    async fn challenge(&mut self, prompt: &'static str) -> Option<Result<String, Reply>> {
        self.reply(Reply::plain(334, vec![prompt.into()]));
        match self.read_auth_line().await? {
            Ok(line) if line == "*" => Some(Err(Reply::new(501, "5.7.0", "Authentication cancelled"))),
            other => Some(other),
        }
    }
}

fn decode(s: &str) -> Result<Vec<u8>, Reply> {
    if s == "=" {
        return Ok(Vec::new());
    }
    B64.decode(s.trim()).map_err(|_| Reply::new(501, "5.5.2", "Cannot decode the BASE64 response"))
}

fn utf8(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
