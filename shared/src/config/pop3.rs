//! The POP3 page: whether POP3 is served, where, and its idle timeout.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::PlainTextAuth;
use super::validate::Validator;

/// POP3 settings, as edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default, deny_unknown_fields)]
pub struct Pop3Draft {
    /// Whether the POP3 listener runs.
    pub enabled: bool,
    /// Listen address, `IP:port`.
    pub listen: String,
    /// Listen address for POP3 over implicit TLS (pop3s, RFC 8314, port 995),
    /// `IP:port`; empty for none.
    pub pop3s_listen: String,
    /// Idle timeout, seconds (RFC 1939: at least 10 minutes).
    pub idle_timeout_secs: u64,
    /// When `USER`/`PASS` and `AUTH PLAIN` may be used without TLS.
    pub plain_text_login: PlainTextAuth,
}

impl Default for Pop3Draft {
    fn default() -> Self {
        Pop3Draft {
            enabled: true,
            listen: "127.0.0.1:1100".into(),
            pop3s_listen: String::new(),
            idle_timeout_secs: 600,
            plain_text_login: PlainTextAuth::LoopbackOnly,
        }
    }
}

/// POP3 settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pop3 {
    /// Whether the POP3 listener runs.
    pub enabled: bool,
    /// Listen address.
    pub listen: SocketAddr,
    /// POP3 over implicit TLS (pop3s) listen address, if any.
    pub pop3s_listen: Option<SocketAddr>,
    /// Idle timeout.
    pub idle_timeout: std::time::Duration,
    /// When clear-text login may be used without TLS.
    pub plain_text_login: PlainTextAuth,
}

impl Pop3 {
    pub(super) fn validate(d: &Pop3Draft, v: &mut Validator) -> Option<Pop3> {
        let listen = v.listen("pop3.listen", &d.listen);
        let pop3s_listen = v.optional_listen("pop3.pop3s_listen", &d.pop3s_listen);
        let idle = v.range("pop3.idle_timeout_secs", d.idle_timeout_secs, 600, 86_400);
        Some(Pop3 {
            enabled: d.enabled,
            listen: listen?,
            pop3s_listen: pop3s_listen?,
            idle_timeout: std::time::Duration::from_secs(idle?),
            plain_text_login: d.plain_text_login,
        })
    }

    pub(super) fn to_draft(&self) -> Pop3Draft {
        Pop3Draft {
            enabled: self.enabled,
            listen: self.listen.to_string(),
            pop3s_listen: self.pop3s_listen.map(|a| a.to_string()).unwrap_or_default(),
            idle_timeout_secs: self.idle_timeout.as_secs(),
            plain_text_login: self.plain_text_login,
        }
    }
}
