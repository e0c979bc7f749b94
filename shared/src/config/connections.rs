//! The Connections page: listeners, the transfer mode, connection limits and timeouts,
//! how messages are delivered (DNS or a smart host, per-domain forwards) and who may
//! connect.

use std::collections::HashMap;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::validate::{Problem, Validator};
use crate::address::{Domain, NextHop};

/// Which directions of mail transfer the service performs (Connections page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum TransferMode {
    /// Accept incoming SMTP and deliver outbound mail.
    #[default]
    InboundAndOutbound,
    /// Accept incoming SMTP; outbound mail waits in the queue.
    InboundOnly,
    /// Deliver queued outbound mail; accept no incoming SMTP.
    OutboundOnly,
    /// None (flush queues): accept no incoming SMTP; deliver what is queued.
    None,
}

impl TransferMode {
    /// True when the SMTP listener accepts connections.
    pub fn accepts_inbound(self) -> bool {
        matches!(self, TransferMode::InboundAndOutbound | TransferMode::InboundOnly)
    }
    /// True when the queue delivers outbound mail: in every mode but Inbound only.
    /// "None (flush queues)" accepts nothing and delivers what is already queued.
    pub fn delivers_outbound(self) -> bool {
        !matches!(self, TransferMode::InboundOnly)
    }
}

/// Which SMTP clients may connect (Connections page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum AcceptFrom {
    /// Any client; relaying is still governed by Routing Restrictions.
    #[default]
    Any,
    /// Only clients that authenticate may submit mail.
    MustAuthenticate,
    /// Only clients that authenticate over an encrypted connection may submit mail.
    MustAuthenticateAndEncrypt,
}

/// A "forward all messages for this domain to host" entry: the recipient address is
/// kept, only the next hop changes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(deny_unknown_fields)]
pub struct DomainForwardDraft {
    /// The domain.
    pub domain: String,
    /// `host[:port]` or `[ip]:port`.
    pub host: String,
}

/// A validated per-domain forward.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DomainForward {
    /// The domain (whole-label match, as in the routing table).
    pub domain: Domain,
    /// Where its mail goes.
    pub host: NextHop,
}

/// Connections page, as edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionsDraft {
    /// Transfer mode.
    pub transfer_mode: TransferMode,
    /// SMTP listen address, `IP:port`.
    pub smtp_listen: String,
    /// Listen address for SMTP over implicit TLS (submissions, RFC 8314, port 465),
    /// `IP:port`; empty for none.
    pub submissions_listen: String,
    /// Listen address for message submission (RFC 6409, port 587): STARTTLS, then
    /// AUTH before MAIL; `IP:port`; empty for none.
    pub submission_listen: String,
    /// Listen address for HTTPS (usually port 443): mail programs' automatic set-up
    /// (autoconfig, Autodiscover, Apple profiles); `IP:port`; empty for none.
    pub https_listen: String,
    /// Maximum simultaneous inbound SMTP connections.
    pub max_connections: u64,
    /// Maximum simultaneous inbound SMTP connections from one IP address.
    pub max_connections_per_ip: u64,
    /// Maximum recipients per message.
    pub max_recipients: u64,
    /// Smart host for all outbound mail; empty to use DNS (MX records).
    pub smart_host: String,
    /// The smart host must be reached over TLS (STARTTLS) with a certificate valid
    /// for its name; otherwise outbound TLS is opportunistic.
    pub smart_host_requires_tls: bool,
    /// Per-domain forwards.
    pub domain_forwards: Vec<DomainForwardDraft>,
    /// DNS server for MX lookups (`IP:port`); empty for the system resolver.
    pub dns_server: String,
    /// Which clients may connect.
    pub accept_from: AcceptFrom,
    /// Clients can only submit if the authenticated account matches the sender address.
    pub sender_must_match_account: bool,
    /// Timeout waiting for a command, seconds (RFC 5321 §4.5.3.2 suggests 5 minutes).
    pub command_timeout_secs: u64,
    /// Timeout between data blocks during DATA, seconds (RFC 5321: 3 minutes).
    pub data_timeout_secs: u64,
    /// Cap on a whole SMTP session, seconds.
    pub session_limit_secs: u64,
}

impl Default for ConnectionsDraft {
    fn default() -> Self {
        ConnectionsDraft {
            transfer_mode: TransferMode::InboundAndOutbound,
            smtp_listen: "127.0.0.1:2525".into(),
            submissions_listen: String::new(),
            submission_listen: String::new(),
            https_listen: String::new(),
            max_connections: 2000,
            max_connections_per_ip: 1200,
            max_recipients: 100,
            smart_host: String::new(),
            smart_host_requires_tls: false,
            domain_forwards: Vec::new(),
            dns_server: String::new(),
            accept_from: AcceptFrom::Any,
            sender_must_match_account: false,
            command_timeout_secs: 300,
            data_timeout_secs: 180,
            session_limit_secs: 1800,
        }
    }
}

/// How outbound mail finds its next hop.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MessageDelivery {
    /// MX records (falling back to A/AAAA, RFC 5321 §5.1).
    Dns,
    /// Everything to one smart host.
    SmartHost {
        /// Where.
        host: NextHop,
        /// STARTTLS is required, with a certificate valid for the host's name.
        requires_tls: bool,
    },
}

/// Connections page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connections {
    /// Transfer mode.
    pub transfer_mode: TransferMode,
    /// SMTP listen address.
    pub smtp_listen: SocketAddr,
    /// SMTP over implicit TLS (submissions) listen address, if any.
    pub submissions_listen: Option<SocketAddr>,
    /// Message submission (port 587) listen address, if any.
    pub submission_listen: Option<SocketAddr>,
    /// HTTPS listen address (mail programs' automatic set-up), if any.
    pub https_listen: Option<SocketAddr>,
    /// Maximum simultaneous inbound SMTP connections (both SMTP listeners together).
    pub max_connections: u32,
    /// Maximum simultaneous inbound SMTP connections from one IP address.
    pub max_connections_per_ip: u32,
    /// Maximum recipients per message.
    pub max_recipients: u32,
    /// How outbound mail finds its next hop.
    pub message_delivery: MessageDelivery,
    /// Per-domain forwards, no domain twice.
    pub domain_forwards: Vec<DomainForward>,
    /// DNS server for MX lookups; `None` for the system resolver.
    pub dns_server: Option<SocketAddr>,
    /// Which clients may connect.
    pub accept_from: AcceptFrom,
    /// Clients can only submit if the authenticated account matches the sender address.
    pub sender_must_match_account: bool,
    /// Timeout waiting for a command.
    pub command_timeout: std::time::Duration,
    /// Timeout between data blocks during DATA.
    pub data_timeout: std::time::Duration,
    /// Cap on a whole SMTP session.
    pub session_limit: std::time::Duration,
}

fn secs(v: Option<u64>) -> Option<std::time::Duration> {
    v.map(std::time::Duration::from_secs)
}

impl Connections {
    pub(super) fn validate(d: &ConnectionsDraft, v: &mut Validator) -> Option<Connections> {
        let smtp_listen = v.listen("connections.smtp_listen", &d.smtp_listen);
        let submissions_listen = v.optional_listen("connections.submissions_listen", &d.submissions_listen);
        let submission_listen = v.optional_listen("connections.submission_listen", &d.submission_listen);
        let https_listen = v.optional_listen("connections.https_listen", &d.https_listen);
        let max_connections = v.range("connections.max_connections", d.max_connections, 1, 100_000);
        let per_ip = v.range("connections.max_connections_per_ip", d.max_connections_per_ip, 1, 100_000);
        if let (Some(all), Some(one)) = (max_connections, per_ip)
            && one > all
        {
            v.push(
                "connections.max_connections_per_ip",
                Problem::inconsistent(format!("is {one}, more than the overall limit of {all}")),
            );
        }
        let max_recipients = v.range("connections.max_recipients", d.max_recipients, 1, 10_000);
        let message_delivery = if d.smart_host.trim().is_empty() {
            if d.smart_host_requires_tls {
                v.push(
                    "connections.smart_host_requires_tls",
                    Problem::inconsistent("requiring TLS needs a smart host to forward to"),
                );
                None
            } else {
                Some(MessageDelivery::Dns)
            }
        } else {
            v.parse("connections.smart_host", &d.smart_host, NextHop::parse, |value, reason| Problem::InvalidNextHop {
                value,
                reason,
            })
            .map(|host| MessageDelivery::SmartHost { host, requires_tls: d.smart_host_requires_tls })
        };
        let mut forwards = Vec::new();
        let mut seen: HashMap<Domain, usize> = HashMap::new();
        let mut forwards_ok = true;
        for (i, f) in d.domain_forwards.iter().enumerate() {
            let base = format!("connections.domain_forwards[{i}]");
            let domain = v.parse(format!("{base}.domain"), &f.domain, Domain::parse, |value, reason| {
                Problem::InvalidDomain { value, reason }
            });
            let host = v.parse(format!("{base}.host"), &f.host, NextHop::parse, |value, reason| {
                Problem::InvalidNextHop { value, reason }
            });
            match (domain, host) {
                (Some(domain), Some(host)) => {
                    if let Some(j) = seen.get(&domain) {
                        v.push(
                            format!("{base}.domain"),
                            Problem::Duplicate { other: format!("connections.domain_forwards[{j}]") },
                        );
                        forwards_ok = false;
                    } else {
                        seen.insert(domain.clone(), i);
                        forwards.push(DomainForward { domain, host });
                    }
                }
                _ => forwards_ok = false,
            }
        }
        let dns_server = if d.dns_server.trim().is_empty() {
            Some(None)
        } else {
            let a = v.listen("connections.dns_server", &d.dns_server);
            if let Some(a) = a
                && a.port() == 0
            {
                v.push("connections.dns_server", Problem::OutOfRange { value: 0, min: 1, max: 65535 });
                None
            } else {
                a.map(Some)
            }
        };
        let command_timeout = secs(v.range("connections.command_timeout_secs", d.command_timeout_secs, 10, 3600));
        let data_timeout = secs(v.range("connections.data_timeout_secs", d.data_timeout_secs, 10, 3600));
        let session_limit = secs(v.range("connections.session_limit_secs", d.session_limit_secs, 60, 86_400));
        if !forwards_ok {
            return None;
        }
        Some(Connections {
            transfer_mode: d.transfer_mode,
            smtp_listen: smtp_listen?,
            submissions_listen: submissions_listen?,
            submission_listen: submission_listen?,
            https_listen: https_listen?,
            max_connections: u32::try_from(max_connections?).ok()?,
            max_connections_per_ip: u32::try_from(per_ip?).ok()?,
            max_recipients: u32::try_from(max_recipients?).ok()?,
            message_delivery: message_delivery?,
            domain_forwards: forwards,
            dns_server: dns_server?,
            accept_from: d.accept_from,
            sender_must_match_account: d.sender_must_match_account,
            command_timeout: command_timeout?,
            data_timeout: data_timeout?,
            session_limit: session_limit?,
        })
    }

    pub(super) fn to_draft(&self) -> ConnectionsDraft {
        ConnectionsDraft {
            transfer_mode: self.transfer_mode,
            smtp_listen: self.smtp_listen.to_string(),
            submissions_listen: self.submissions_listen.map(|a| a.to_string()).unwrap_or_default(),
            submission_listen: self.submission_listen.map(|a| a.to_string()).unwrap_or_default(),
            https_listen: self.https_listen.map(|a| a.to_string()).unwrap_or_default(),
            max_connections: self.max_connections.into(),
            max_connections_per_ip: self.max_connections_per_ip.into(),
            max_recipients: self.max_recipients.into(),
            smart_host: match &self.message_delivery {
                MessageDelivery::Dns => String::new(),
                MessageDelivery::SmartHost { host, .. } => host.to_string(),
            },
            smart_host_requires_tls: matches!(
                self.message_delivery,
                MessageDelivery::SmartHost { requires_tls: true, .. }
            ),
            domain_forwards: self
                .domain_forwards
                .iter()
                .map(|f| DomainForwardDraft { domain: f.domain.to_string(), host: f.host.to_string() })
                .collect(),
            dns_server: self.dns_server.map(|a| a.to_string()).unwrap_or_default(),
            accept_from: self.accept_from,
            sender_must_match_account: self.sender_must_match_account,
            command_timeout_secs: self.command_timeout.as_secs(),
            data_timeout_secs: self.data_timeout.as_secs(),
            session_limit_secs: self.session_limit.as_secs(),
        }
    }
}
