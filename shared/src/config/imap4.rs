//! The IMAP4 page: whether IMAP is served, where, and its idle timeout.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::PlainTextAuth;
use super::validate::Validator;

/// IMAP4 settings, as edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default, deny_unknown_fields)]
pub struct Imap4Draft {
    /// Whether the IMAP listeners run.
    pub enabled: bool,
    /// Listen address, `IP:port`.
    pub listen: String,
    /// Listen address for IMAP over implicit TLS (imaps, RFC 8314, port 993),
    /// `IP:port`; empty for none.
    pub imaps_listen: String,
    /// Idle timeout, seconds (RFC 9051: at least 30 minutes).
    pub idle_timeout_secs: u64,
    /// When `LOGIN` and `AUTHENTICATE PLAIN` may be used without TLS.
    pub plain_text_login: PlainTextAuth,
}

impl Default for Imap4Draft {
    fn default() -> Self {
        Imap4Draft {
            enabled: true,
            listen: "127.0.0.1:1143".into(),
            imaps_listen: String::new(),
            idle_timeout_secs: 1800,
            plain_text_login: PlainTextAuth::LoopbackOnly,
        }
    }
}

/// IMAP4 settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imap4 {
    /// Whether the IMAP listeners run.
    pub enabled: bool,
    /// Listen address.
    pub listen: SocketAddr,
    /// IMAP over implicit TLS (imaps) listen address, if any.
    pub imaps_listen: Option<SocketAddr>,
    /// Idle timeout.
    pub idle_timeout: std::time::Duration,
    /// When clear-text login may be used without TLS.
    pub plain_text_login: PlainTextAuth,
}

impl Imap4 {
    pub(super) fn validate(d: &Imap4Draft, v: &mut Validator) -> Option<Imap4> {
        let listen = v.listen("imap4.listen", &d.listen);
        let imaps_listen = v.optional_listen("imap4.imaps_listen", &d.imaps_listen);
        let idle = v.range("imap4.idle_timeout_secs", d.idle_timeout_secs, 1800, 86_400);
        Some(Imap4 {
            enabled: d.enabled,
            listen: listen?,
            imaps_listen: imaps_listen?,
            idle_timeout: std::time::Duration::from_secs(idle?),
            plain_text_login: d.plain_text_login,
        })
    }

    pub(super) fn to_draft(&self) -> Imap4Draft {
        Imap4Draft {
            enabled: self.enabled,
            listen: self.listen.to_string(),
            imaps_listen: self.imaps_listen.map(|a| a.to_string()).unwrap_or_default(),
            idle_timeout_secs: self.idle_timeout.as_secs(),
            plain_text_login: self.plain_text_login,
        }
    }
}
