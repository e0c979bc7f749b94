//! The property pages, each as a draft and as a validated struct.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::validate::{Problem, Validator};
use crate::address::{Domain, EmailAddress, IpNet, NextHop};

// ---------------------------------------------------------------------------------------
// General

/// General page, as edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default, deny_unknown_fields)]
pub struct GeneralDraft {
    /// Host name announced in the SMTP banner, EHLO and `Received:` headers.
    pub host_name: String,
    /// Mailbox that receives copies of non-delivery reports and `postmaster@` mail;
    /// empty for none.
    pub administrator_mailbox: String,
    /// Largest message accepted, in KiB; `None` for "No limit".
    pub max_message_size_kb: Option<u64>,
    /// How long a stop or restart lets in-flight work finish, in seconds.
    pub drain_timeout_secs: u64,
    /// Disk space kept free for deliveries, NDRs and deletions: below it, new mail is
    /// refused (`452 4.3.1`), as Postfix's `queue_minfree`. In MiB; `None` for
    /// automatic (twice the message size limit, at least 100 MiB); 0 for none.
    pub min_free_space_mb: Option<u64>,
    /// Every mailbox's storage limits unless its own say otherwise (Exchange's
    /// Information Store defaults), in KB; `None` for no limit.
    pub mailbox_warn_kb: Option<u64>,
    /// Refuse a user's own sending above this, KB.
    pub mailbox_send_kb: Option<u64>,
    /// Refuse mail to a mailbox above this, KB.
    pub mailbox_receive_kb: Option<u64>,
}

impl Default for GeneralDraft {
    fn default() -> Self {
        GeneralDraft {
            host_name: "localhost".into(),
            administrator_mailbox: String::new(),
            max_message_size_kb: Some(25_600),
            drain_timeout_secs: 30,
            min_free_space_mb: None,
            mailbox_warn_kb: None,
            mailbox_send_kb: None,
            mailbox_receive_kb: None,
        }
    }
}

/// General page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct General {
    /// Host name announced in the SMTP banner, EHLO and `Received:` headers.
    pub host_name: Domain,
    /// Mailbox that receives copies of NDRs and `postmaster@` mail.
    pub administrator_mailbox: Option<EmailAddress>,
    /// Largest message accepted, in bytes; `None` for no limit.
    pub max_message_size: Option<u64>,
    /// How long a stop or restart lets in-flight work finish.
    pub drain_timeout: std::time::Duration,
    /// Disk space to keep free, in bytes; `None` for automatic.
    pub min_free_space: Option<u64>,
    /// Every mailbox's storage limits (KB) unless its own say otherwise: warn, send,
    /// receive.
    pub mailbox_limits: (Option<u64>, Option<u64>, Option<u64>),
}

impl General {
    /// The disk space kept free, in bytes: as set, or twice the message size limit and
    /// at least 100 MiB.
    pub fn free_space_reserve(&self) -> u64 {
        const AT_LEAST: u64 = 100 * 1024 * 1024;
        self.min_free_space.unwrap_or_else(|| self.max_message_size.map_or(AT_LEAST, |m| (2 * m).max(AT_LEAST)))
    }

    pub(super) fn validate(d: &GeneralDraft, v: &mut Validator) -> Option<General> {
        let host_name = v.parse("general.host_name", &d.host_name, Domain::parse, |value, reason| {
            Problem::InvalidHostName { value, reason }
        });
        let administrator_mailbox = if d.administrator_mailbox.trim().is_empty() {
            Some(None)
        } else {
            v.parse("general.administrator_mailbox", &d.administrator_mailbox, EmailAddress::parse, |value, reason| {
                Problem::InvalidAddress { value, reason }
            })
            .map(Some)
        };
        let max_message_size = match d.max_message_size_kb {
            None => Some(None),
            Some(kb) => v.range("general.max_message_size_kb", kb, 1, 2 * 1024 * 1024).map(|kb| Some(kb * 1024)),
        };
        let drain = v.range("general.drain_timeout_secs", d.drain_timeout_secs, 1, 3600);
        let min_free_space = match d.min_free_space_mb {
            None => Some(None),
            Some(mb) => v.range("general.min_free_space_mb", mb, 0, 1024 * 1024).map(|mb| Some(mb * 1024 * 1024)),
        };
        let limit = |v: &mut Validator, field: &str, kb: Option<u64>| match kb {
            None => Some(None),
            Some(kb) => v.range(field, kb, 1, 1 << 40).map(Some),
        };
        let warn = limit(v, "general.mailbox_warn_kb", d.mailbox_warn_kb);
        let send = limit(v, "general.mailbox_send_kb", d.mailbox_send_kb);
        let receive = limit(v, "general.mailbox_receive_kb", d.mailbox_receive_kb);
        if let (Some(Some(s)), Some(Some(r))) = (send, receive)
            && s > r
        {
            v.push("general.mailbox_send_kb", Problem::inconsistent("sending must stop no later than receiving does"));
            return None;
        }
        Some(General {
            host_name: host_name?,
            administrator_mailbox: administrator_mailbox?,
            max_message_size: max_message_size?,
            drain_timeout: std::time::Duration::from_secs(drain?),
            min_free_space: min_free_space?,
            mailbox_limits: (warn?, send?, receive?),
        })
    }

    pub(super) fn to_draft(&self) -> GeneralDraft {
        GeneralDraft {
            host_name: self.host_name.to_string(),
            administrator_mailbox: self.administrator_mailbox.as_ref().map(ToString::to_string).unwrap_or_default(),
            max_message_size_kb: self.max_message_size.map(|b| b / 1024),
            drain_timeout_secs: self.drain_timeout.as_secs(),
            min_free_space_mb: self.min_free_space.map(|b| b / (1024 * 1024)),
            mailbox_warn_kb: self.mailbox_limits.0,
            mailbox_send_kb: self.mailbox_limits.1,
            mailbox_receive_kb: self.mailbox_limits.2,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Connections

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

// ---------------------------------------------------------------------------------------
// Routing

/// The left column of the routing table: which recipient domains an entry matches.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RouteKey {
    /// `corp.com`: the domain and every domain under it, on whole labels.
    Suffix(Domain),
    /// `#corp.com`: exactly that domain.
    Exact(Domain),
}

impl RouteKey {
    /// Parses `domain` or `#domain`.
    ///
    /// # Errors
    /// When the domain is invalid.
    pub fn parse(s: &str) -> Result<RouteKey, crate::address::NameError> {
        match s.trim().strip_prefix('#') {
            Some(rest) => Domain::parse(rest).map(RouteKey::Exact),
            None => Domain::parse(s.trim()).map(RouteKey::Suffix),
        }
    }

    /// The domain named, without `#`.
    pub fn domain(&self) -> &Domain {
        match self {
            RouteKey::Suffix(d) | RouteKey::Exact(d) => d,
        }
    }

    /// True when this entry applies to `domain`.
    pub fn matches(&self, domain: &Domain) -> bool {
        match self {
            RouteKey::Suffix(d) => domain.is_within(d),
            RouteKey::Exact(d) => domain == d,
        }
    }

    /// Specificity, for "the most specific entry wins": more labels first; for the same
    /// domain, an exact entry beats a suffix entry.
    pub fn specificity(&self) -> (usize, bool) {
        (self.domain().label_count(), matches!(self, RouteKey::Exact(_)))
    }
}

impl std::fmt::Display for RouteKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RouteKey::Suffix(d) => write!(f, "{d}"),
            RouteKey::Exact(d) => write!(f, "#{d}"),
        }
    }
}

/// The right column of the routing table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RouteTarget {
    /// `<inbound>`: the domain is local.
    Inbound,
    /// The recipient's domain is rewritten to this one and routed again.
    RerouteTo(Domain),
}

impl std::fmt::Display for RouteTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RouteTarget::Inbound => f.write_str("<inbound>"),
            RouteTarget::RerouteTo(d) => write!(f, "{d}"),
        }
    }
}

/// A routing table entry, as edited.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(deny_unknown_fields)]
pub struct RouteEntryDraft {
    /// "E-mail sent to this domain": `domain` or `#domain`.
    pub sent_to: String,
    /// `None`: should be accepted as inbound; `Some(domain)`: should be rerouted there.
    pub reroute_to: Option<String>,
}

/// A routing table entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RouteEntry {
    /// Which domains it matches.
    pub sent_to: RouteKey,
    /// What happens to them.
    pub route_to: RouteTarget,
}

/// The routing table: entries in the order the administrator added them, no key twice.
/// Order does not affect decisions (the most specific entry wins).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoutingTable(Vec<RouteEntry>);

impl RoutingTable {
    /// The entries.
    pub fn entries(&self) -> &[RouteEntry] {
        &self.0
    }

    /// The most specific entry matching `domain`, if any.
    pub fn lookup(&self, domain: &Domain) -> Option<&RouteEntry> {
        self.0.iter().filter(|e| e.sent_to.matches(domain)).max_by_key(|e| e.sent_to.specificity())
    }

    /// True when mail for `domain` is delivered locally by the table.
    pub fn is_inbound(&self, domain: &Domain) -> bool {
        matches!(self.lookup(domain), Some(RouteEntry { route_to: RouteTarget::Inbound, .. }))
    }

    /// The domain of the inbound entry that `domain` falls under (the most specific
    /// entry matching it, when that entry is inbound): the domain mail from `domain`
    /// is signed for, and whose DNS records are published.
    pub fn inbound_domain_of(&self, domain: &Domain) -> Option<&Domain> {
        match self.lookup(domain)? {
            RouteEntry { route_to: RouteTarget::Inbound, sent_to: RouteKey::Suffix(d) | RouteKey::Exact(d) } => Some(d),
            _ => None,
        }
    }

    /// The domains of the inbound entries, in table order.
    pub fn inbound_domains(&self) -> Vec<&Domain> {
        self.0
            .iter()
            .filter_map(|e| match e {
                RouteEntry { route_to: RouteTarget::Inbound, sent_to: RouteKey::Suffix(d) | RouteKey::Exact(d) } => {
                    Some(d)
                }
                _ => None,
            })
            .collect()
    }
}

/// Routing page, as edited.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default, deny_unknown_fields)]
pub struct RoutingDraft {
    /// "Reroute incoming SMTP mail (required for POP3 support)".
    pub reroute: bool,
    /// The routing table.
    pub table: Vec<RouteEntryDraft>,
}

/// Routing page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Routing {
    /// "Reroute incoming SMTP mail (required for POP3 support)". While off, the table
    /// is not consulted.
    pub reroute: bool,
    /// The routing table.
    pub table: RoutingTable,
}

impl Routing {
    pub(super) fn validate(d: &RoutingDraft, v: &mut Validator) -> Option<Routing> {
        let mut entries = Vec::with_capacity(d.table.len());
        let mut seen: HashMap<RouteKey, usize> = HashMap::new();
        let mut ok = true;
        for (i, e) in d.table.iter().enumerate() {
            let base = format!("routing.table[{i}]");
            let key = v.parse(format!("{base}.sent_to"), &e.sent_to, RouteKey::parse, |value, reason| {
                Problem::InvalidDomain { value, reason }
            });
            let target = match &e.reroute_to {
                None => Some(RouteTarget::Inbound),
                Some(t) => v
                    .parse(format!("{base}.reroute_to"), t, Domain::parse, |value, reason| Problem::InvalidDomain {
                        value,
                        reason,
                    })
                    .map(RouteTarget::RerouteTo),
            };
            let (Some(key), Some(target)) = (key, target) else {
                ok = false;
                continue;
            };
            if let RouteTarget::RerouteTo(to) = &target
                && to == key.domain()
            {
                v.push(format!("{base}.reroute_to"), Problem::SelfReroute { domain: to.to_string() });
                ok = false;
                continue;
            }
            if let Some(j) = seen.get(&key) {
                v.push(format!("{base}.sent_to"), Problem::Duplicate { other: format!("routing.table[{j}]") });
                ok = false;
                continue;
            }
            seen.insert(key.clone(), i);
            entries.push(RouteEntry { sent_to: key, route_to: target });
        }
        ok.then_some(Routing { reroute: d.reroute, table: RoutingTable(entries) })
    }

    pub(super) fn to_draft(&self) -> RoutingDraft {
        RoutingDraft {
            reroute: self.reroute,
            table: self
                .table
                .entries()
                .iter()
                .map(|e| RouteEntryDraft {
                    sent_to: e.sent_to.to_string(),
                    reroute_to: match &e.route_to {
                        RouteTarget::Inbound => None,
                        RouteTarget::RerouteTo(d) => Some(d.to_string()),
                    },
                })
                .collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Routing Restrictions

/// Routing Restrictions dialog, as edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default, deny_unknown_fields)]
pub struct RoutingRestrictionsDraft {
    /// "Hosts and clients that successfully authenticate" may relay.
    pub allow_authenticated: bool,
    /// "Hosts and clients with these IP addresses" is ticked.
    pub allow_listed_clients: bool,
    /// The client networks for `allow_listed_clients`.
    pub client_networks: Vec<String>,
    /// "Hosts and clients connecting to these internal addresses" is ticked.
    pub allow_internal_addresses: bool,
    /// This server's addresses for `allow_internal_addresses`.
    pub internal_networks: Vec<String>,
    /// "Hosts and clients that can NEVER route mail"; wins over everything above.
    pub never_networks: Vec<String>,
    /// The administrator confirmed, after a warning, that anyone may relay.
    pub open_relay_confirmed: bool,
}

impl Default for RoutingRestrictionsDraft {
    fn default() -> Self {
        RoutingRestrictionsDraft {
            allow_authenticated: true,
            allow_listed_clients: false,
            client_networks: Vec::new(),
            allow_internal_addresses: false,
            internal_networks: Vec::new(),
            never_networks: Vec::new(),
            open_relay_confirmed: false,
        }
    }
}

/// Routing Restrictions: who may relay. Fields are private so that the open-relay
/// check made at validation cannot be bypassed afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingRestrictions {
    allow_authenticated: bool,
    client_networks: Option<Vec<IpNet>>,
    internal_networks: Option<Vec<IpNet>>,
    never_networks: Vec<IpNet>,
    open_relay: bool,
}

impl RoutingRestrictions {
    /// Authenticated clients may relay.
    pub fn allow_authenticated(&self) -> bool {
        self.allow_authenticated
    }
    /// Client networks that may relay, when that box is ticked.
    pub fn client_networks(&self) -> Option<&[IpNet]> {
        self.client_networks.as_deref()
    }
    /// Server addresses whose clients may relay, when that box is ticked.
    pub fn internal_networks(&self) -> Option<&[IpNet]> {
        self.internal_networks.as_deref()
    }
    /// Clients that may never relay.
    pub fn never_networks(&self) -> &[IpNet] {
        &self.never_networks
    }
    /// True when these settings let anyone (not on the never list) relay; only possible
    /// after explicit confirmation.
    pub fn is_open_relay(&self) -> bool {
        self.open_relay
    }

    /// True when a draft describes an open relay: no box ticked (Exchange's meaning),
    /// or a ticked list that contains every address.
    pub fn draft_is_open_relay(d: &RoutingRestrictionsDraft) -> bool {
        let everything = |list: &[String]| list.iter().any(|n| IpNet::parse(n).is_ok_and(|n| n.is_everything()));
        (!d.allow_authenticated && !d.allow_listed_clients && !d.allow_internal_addresses)
            || (d.allow_listed_clients && everything(&d.client_networks))
            || (d.allow_internal_addresses && everything(&d.internal_networks))
    }

    pub(super) fn validate(d: &RoutingRestrictionsDraft, v: &mut Validator) -> Option<RoutingRestrictions> {
        let mut ok = true;
        let mut list = |name: &str, items: &[String], v: &mut Validator| {
            let mut out = Vec::new();
            let mut seen: HashMap<IpNet, usize> = HashMap::new();
            for (i, s) in items.iter().enumerate() {
                let field = format!("routing_restrictions.{name}[{i}]");
                match v.parse(&field, s, IpNet::parse, |value, reason| Problem::InvalidNetwork { value, reason }) {
                    Some(n) => {
                        if let Some(j) = seen.get(&n) {
                            v.push(field, Problem::Duplicate { other: format!("routing_restrictions.{name}[{j}]") });
                            ok = false;
                        } else {
                            seen.insert(n, i);
                            out.push(n);
                        }
                    }
                    None => ok = false,
                }
            }
            out
        };
        let clients = list("client_networks", &d.client_networks, v);
        let internal = list("internal_networks", &d.internal_networks, v);
        let never = list("never_networks", &d.never_networks, v);
        if d.allow_listed_clients && d.client_networks.is_empty() {
            v.push("routing_restrictions.client_networks", Problem::Empty);
            ok = false;
        }
        if d.allow_internal_addresses && d.internal_networks.is_empty() {
            v.push("routing_restrictions.internal_networks", Problem::Empty);
            ok = false;
        }
        let open_relay = Self::draft_is_open_relay(d);
        if open_relay && !d.open_relay_confirmed {
            v.push("routing_restrictions", Problem::OpenRelayNotConfirmed);
            ok = false;
        }
        ok.then(|| RoutingRestrictions {
            allow_authenticated: d.allow_authenticated,
            client_networks: d.allow_listed_clients.then_some(clients),
            internal_networks: d.allow_internal_addresses.then_some(internal),
            never_networks: never,
            open_relay,
        })
    }

    pub(super) fn to_draft(&self) -> RoutingRestrictionsDraft {
        let strings = |l: &[IpNet]| l.iter().map(ToString::to_string).collect();
        RoutingRestrictionsDraft {
            allow_authenticated: self.allow_authenticated,
            allow_listed_clients: self.client_networks.is_some(),
            client_networks: strings(self.client_networks.as_deref().unwrap_or_default()),
            allow_internal_addresses: self.internal_networks.is_some(),
            internal_networks: strings(self.internal_networks.as_deref().unwrap_or_default()),
            never_networks: strings(&self.never_networks),
            open_relay_confirmed: self.open_relay,
        }
    }
}

impl Default for RoutingRestrictions {
    fn default() -> Self {
        RoutingRestrictions {
            allow_authenticated: true,
            client_networks: None,
            internal_networks: None,
            never_networks: Vec::new(),
            open_relay: false,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Delivery

/// Delivery page, as edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default, deny_unknown_fields)]
pub struct DeliveryDraft {
    /// Waits between attempts, seconds; the last one repeats.
    pub retry_intervals_secs: Vec<u64>,
    /// After this long without success a message is returned with an NDR, seconds.
    pub expire_after_secs: u64,
    /// Outbound connections at once, overall.
    pub max_concurrent: u64,
    /// Outbound connections at once to one destination.
    pub max_per_destination: u64,
    /// How long to wait for a next hop's `220` greeting, seconds (RFC 5321 §4.5.3.2.1:
    /// 5 minutes).
    pub greeting_timeout_secs: u64,
    /// How long to wait for the reply to MAIL FROM, seconds (5 minutes).
    pub mail_timeout_secs: u64,
    /// How long to wait for the reply to each RCPT TO, seconds (5 minutes).
    pub rcpt_timeout_secs: u64,
    /// How long to wait for the `354` after DATA, seconds (2 minutes).
    pub data_timeout_secs: u64,
    /// How long writing one block of the message may take, seconds (3 minutes).
    pub data_block_timeout_secs: u64,
    /// How long to wait for the reply after the final `.`, seconds (10 minutes).
    pub final_dot_timeout_secs: u64,
}

impl Default for DeliveryDraft {
    fn default() -> Self {
        DeliveryDraft {
            retry_intervals_secs: vec![15 * 60, 30 * 60, 3600, 4 * 3600],
            expire_after_secs: 48 * 3600,
            max_concurrent: 50,
            max_per_destination: 10,
            greeting_timeout_secs: 300,
            mail_timeout_secs: 300,
            rcpt_timeout_secs: 300,
            data_timeout_secs: 120,
            data_block_timeout_secs: 180,
            final_dot_timeout_secs: 600,
        }
    }
}

/// How long outbound SMTP waits at each stage (RFC 5321 §4.5.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboundTimeouts {
    /// For the `220` greeting (and each EHLO/STARTTLS reply).
    pub greeting: std::time::Duration,
    /// For the reply to MAIL FROM.
    pub mail: std::time::Duration,
    /// For each reply to RCPT TO.
    pub rcpt: std::time::Duration,
    /// For the `354` after DATA.
    pub data: std::time::Duration,
    /// For writing one block of the message.
    pub data_block: std::time::Duration,
    /// For the reply after the final `.`.
    pub final_dot: std::time::Duration,
}

/// Delivery page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Waits between attempts; never empty, the last one repeats.
    pub retry_intervals: Vec<std::time::Duration>,
    /// When an undeliverable message is returned.
    pub expire_after: std::time::Duration,
    /// Outbound connections at once, overall.
    pub max_concurrent: u32,
    /// Outbound connections at once to one destination.
    pub max_per_destination: u32,
    /// How long outbound SMTP waits at each stage.
    pub timeouts: OutboundTimeouts,
}

impl Delivery {
    pub(super) fn validate(d: &DeliveryDraft, v: &mut Validator) -> Option<Delivery> {
        if d.retry_intervals_secs.is_empty() {
            v.push("delivery.retry_intervals_secs", Problem::Empty);
        }
        let mut retry = Vec::new();
        for (i, s) in d.retry_intervals_secs.iter().enumerate() {
            if let Some(s) = v.range(format!("delivery.retry_intervals_secs[{i}]"), *s, 1, 7 * 86_400) {
                retry.push(std::time::Duration::from_secs(s));
            }
        }
        let expire = v.range("delivery.expire_after_secs", d.expire_after_secs, 60, 30 * 86_400);
        let max_concurrent = v.range("delivery.max_concurrent", d.max_concurrent, 1, 10_000);
        let per_dest = v.range("delivery.max_per_destination", d.max_per_destination, 1, 10_000);
        let mut timeout = |field: &str, secs: u64| {
            v.range(format!("delivery.{field}"), secs, 1, 3600).map(std::time::Duration::from_secs)
        };
        let greeting = timeout("greeting_timeout_secs", d.greeting_timeout_secs);
        let mail = timeout("mail_timeout_secs", d.mail_timeout_secs);
        let rcpt = timeout("rcpt_timeout_secs", d.rcpt_timeout_secs);
        let data = timeout("data_timeout_secs", d.data_timeout_secs);
        let data_block = timeout("data_block_timeout_secs", d.data_block_timeout_secs);
        let final_dot = timeout("final_dot_timeout_secs", d.final_dot_timeout_secs);
        if retry.len() != d.retry_intervals_secs.len() || retry.is_empty() {
            return None;
        }
        Some(Delivery {
            retry_intervals: retry,
            expire_after: std::time::Duration::from_secs(expire?),
            max_concurrent: u32::try_from(max_concurrent?).ok()?,
            max_per_destination: u32::try_from(per_dest?).ok()?,
            timeouts: OutboundTimeouts {
                greeting: greeting?,
                mail: mail?,
                rcpt: rcpt?,
                data: data?,
                data_block: data_block?,
                final_dot: final_dot?,
            },
        })
    }

    pub(super) fn to_draft(&self) -> DeliveryDraft {
        DeliveryDraft {
            retry_intervals_secs: self.retry_intervals.iter().map(|d| d.as_secs()).collect(),
            expire_after_secs: self.expire_after.as_secs(),
            max_concurrent: self.max_concurrent.into(),
            max_per_destination: self.max_per_destination.into(),
            greeting_timeout_secs: self.timeouts.greeting.as_secs(),
            mail_timeout_secs: self.timeouts.mail.as_secs(),
            rcpt_timeout_secs: self.timeouts.rcpt.as_secs(),
            data_timeout_secs: self.timeouts.data.as_secs(),
            data_block_timeout_secs: self.timeouts.data_block.as_secs(),
            final_dot_timeout_secs: self.timeouts.final_dot.as_secs(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Security

/// When a password may be sent without TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum PlainTextAuth {
    /// Only over TLS.
    Never,
    /// Without TLS only on loopback connections (the default).
    #[default]
    LoopbackOnly,
    /// Always (not recommended).
    Always,
}

impl PlainTextAuth {
    /// True when a clear-text password may be accepted from `client` over a connection
    /// that is or is not encrypted.
    pub fn permits(self, client: std::net::IpAddr, encrypted: bool) -> bool {
        encrypted
            || match self {
                PlainTextAuth::Never => false,
                PlainTextAuth::LoopbackOnly => client.is_loopback(),
                PlainTextAuth::Always => true,
            }
    }
}

/// Security page, as edited.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default, deny_unknown_fields)]
pub struct SecurityDraft {
    /// When SMTP AUTH may be used without TLS.
    pub plain_text_auth: PlainTextAuth,
    /// PEM certificate chain; empty for a self-signed certificate.
    pub tls_certificate: String,
    /// PEM private key; empty for a self-signed certificate.
    pub tls_key: String,
    /// Message authentication (DKIM, SPF, DMARC, ARC); every combination is valid.
    pub message_authentication: MessageAuthentication,
    /// A certificate from an ACME CA (Let's Encrypt) instead of files.
    pub acme: AcmeDraft,
}

/// Let's Encrypt's production directory, the default ACME CA.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// How an ACME CA checks that we control the certificate's names (RFC 8555 §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum AcmeChallenge {
    /// `tls-alpn-01` (RFC 8737): the CA connects to port 443 asking for `acme-tls/1`.
    #[default]
    TlsAlpn01,
    /// `http-01`: the CA fetches `http://NAME/.well-known/acme-challenge/TOKEN` on port 80.
    Http01,
}

impl AcmeChallenge {
    /// Where the answer is served when no address is given: all addresses, the port the
    /// CA connects to.
    pub fn default_listen(self) -> std::net::SocketAddr {
        let port = match self {
            AcmeChallenge::TlsAlpn01 => 443,
            AcmeChallenge::Http01 => 80,
        };
        std::net::SocketAddr::from(([0, 0, 0, 0], port))
    }
}

/// The Security page's *Certificate from an ACME CA* group, as edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default, deny_unknown_fields)]
pub struct AcmeDraft {
    /// Obtain (and renew) the certificate from the CA.
    pub enabled: bool,
    /// The CA's directory URL.
    pub directory_url: String,
    /// The account's contact address (optional).
    pub email: String,
    /// The certificate's names, separated by commas or spaces; empty for the host name.
    pub names: String,
    /// How the CA checks the names.
    pub challenge: AcmeChallenge,
    /// Where the challenge's answer is served; empty for the challenge's standard port.
    pub challenge_listen: String,
}

impl Default for AcmeDraft {
    fn default() -> Self {
        AcmeDraft {
            enabled: false,
            directory_url: LETS_ENCRYPT.into(),
            email: String::new(),
            names: String::new(),
            challenge: AcmeChallenge::default(),
            challenge_listen: String::new(),
        }
    }
}

/// A certificate from an ACME CA, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acme {
    /// The CA's directory URL (`https://`).
    pub directory_url: String,
    /// The account's contact address, if any.
    pub email: Option<EmailAddress>,
    /// The certificate's names (at least one; the first is its subject).
    pub names: Vec<Domain>,
    /// How the CA checks the names.
    pub challenge: AcmeChallenge,
    /// Where the challenge's answer is served.
    pub challenge_listen: std::net::SocketAddr,
}

impl Acme {
    fn validate(d: &AcmeDraft, host_name: Option<&Domain>, v: &mut Validator) -> Option<Acme> {
        let before = v.errors.len();
        let url = d.directory_url.trim();
        if url.is_empty() {
            v.push("security.acme.directory_url", Problem::Empty);
        } else if !url.starts_with("https://") || url.len() <= "https://".len() || url.contains(char::is_whitespace) {
            v.push(
                "security.acme.directory_url",
                Problem::inconsistent(format!("'{url}' is not an https:// URL (Let's Encrypt's is {LETS_ENCRYPT})")),
            );
        }
        let email = if d.email.trim().is_empty() {
            None
        } else {
            v.parse("security.acme.email", &d.email, EmailAddress::parse, |value, reason| Problem::InvalidAddress {
                value,
                reason,
            })
        };
        let mut names = Vec::new();
        for name in d.names.split(|c: char| c == ',' || c.is_whitespace()).filter(|n| !n.is_empty()) {
            if name.starts_with("*.") {
                v.push(
                    "security.acme.names",
                    Problem::inconsistent(format!(
                        "'{name}': a wildcard needs the DNS challenge, which Mailroom does not answer; name each host"
                    )),
                );
                continue;
            }
            if name.parse::<std::net::IpAddr>().is_ok() {
                v.push(
                    "security.acme.names",
                    Problem::inconsistent(format!("'{name}' is an IP address; name the host")),
                );
                continue;
            }
            match Domain::parse(name) {
                Ok(d) if !names.contains(&d) => names.push(d),
                Ok(_) => {}
                Err(e) => {
                    v.push("security.acme.names", Problem::InvalidHostName { value: name.to_owned(), reason: e.0 })
                }
            }
        }
        if names.is_empty() && d.names.trim().is_empty() {
            names.extend(host_name.cloned());
        }
        let challenge_listen = if d.challenge_listen.trim().is_empty() {
            Some(d.challenge.default_listen())
        } else {
            v.listen("security.acme.challenge_listen", &d.challenge_listen)
        };
        (v.errors.len() == before).then(|| Acme {
            directory_url: url.to_owned(),
            email,
            names,
            challenge: d.challenge,
            challenge_listen: challenge_listen.unwrap_or_else(|| d.challenge.default_listen()),
        })
    }

    fn to_draft(&self) -> AcmeDraft {
        AcmeDraft {
            enabled: true,
            directory_url: self.directory_url.clone(),
            email: self.email.as_ref().map(ToString::to_string).unwrap_or_default(),
            names: self.names.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
            challenge: self.challenge,
            challenge_listen: if self.challenge_listen == self.challenge.default_listen() {
                String::new()
            } else {
                self.challenge_listen.to_string()
            },
        }
    }
}

/// What p=quarantine in a sender's DMARC policy does to a message that fails it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum QuarantineAction {
    /// Hold it in the quarantine (Message Filtering) until the administrator releases
    /// or deletes it.
    #[default]
    Quarantine,
    /// Deliver it with `[Suspicious]` before its subject.
    TagSubject,
    /// Deliver it as it is (the `Authentication-Results:` header still says).
    Deliver,
}

/// The Security page's *Message Authentication* group: signing what we send, and
/// checking what arrives, so that the world trusts our mail and staff can trust theirs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default, deny_unknown_fields)]
pub struct MessageAuthentication {
    /// DKIM-sign mail relayed for our users and the messages Mailroom writes, for the
    /// inbound domain of their `From:` (RSA and Ed25519).
    pub sign_outbound: bool,
    /// Check SPF, DKIM, DMARC and ARC on mail from outside and record the verdict in an
    /// `Authentication-Results:` header.
    pub check_inbound: bool,
    /// Refuse mail failing DMARC when its domain's policy is `p=reject`.
    pub dmarc_reject: bool,
    /// What `p=quarantine` does.
    pub dmarc_quarantine: QuarantineAction,
    /// Refuse mail from outside whose `From:` is one of our inbound domains when it
    /// passes neither SPF nor our DKIM (the "mail from the CEO" fraud).
    pub protect_own_domains: bool,
}

impl Default for MessageAuthentication {
    fn default() -> Self {
        MessageAuthentication {
            sign_outbound: true,
            check_inbound: true,
            dmarc_reject: true,
            dmarc_quarantine: QuarantineAction::Quarantine,
            protect_own_domains: true,
        }
    }
}

/// Security page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Security {
    /// When SMTP AUTH may be used without TLS.
    pub plain_text_auth: PlainTextAuth,
    /// Certificate and key files, both or neither.
    pub tls_files: Option<(PathBuf, PathBuf)>,
    /// Message authentication.
    pub message_authentication: MessageAuthentication,
    /// The certificate from an ACME CA, when the administrator asked for one.
    pub acme: Option<Acme>,
}

impl Security {
    pub(super) fn validate(d: &SecurityDraft, host_name: Option<&Domain>, v: &mut Validator) -> Option<Security> {
        let cert = d.tls_certificate.trim();
        let key = d.tls_key.trim();
        let tls_files = match (cert.is_empty(), key.is_empty()) {
            (true, true) => None,
            (false, false) => Some((PathBuf::from(cert), PathBuf::from(key))),
            (true, false) => {
                v.push("security.tls_certificate", Problem::inconsistent("a key needs a certificate"));
                return None;
            }
            (false, true) => {
                v.push("security.tls_key", Problem::inconsistent("a certificate needs its key"));
                return None;
            }
        };
        let acme = if d.acme.enabled {
            if tls_files.is_some() {
                v.push(
                    "security.acme.enabled",
                    Problem::inconsistent("a certificate from files and one from an ACME CA cannot both be used: clear the two files, or untick this"),
                );
                return None;
            }
            Some(Acme::validate(&d.acme, host_name, v)?)
        } else {
            None
        };
        Some(Security {
            plain_text_auth: d.plain_text_auth,
            tls_files,
            message_authentication: d.message_authentication.clone(),
            acme,
        })
    }

    pub(super) fn to_draft(&self) -> SecurityDraft {
        let (c, k) = self
            .tls_files
            .as_ref()
            .map(|(c, k)| (c.display().to_string(), k.display().to_string()))
            .unwrap_or_default();
        SecurityDraft {
            plain_text_auth: self.plain_text_auth,
            tls_certificate: c,
            tls_key: k,
            message_authentication: self.message_authentication.clone(),
            acme: self.acme.as_ref().map(Acme::to_draft).unwrap_or_default(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// POP3

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

// ---------------------------------------------------------------------------------------
// IMAP4

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

// ---------------------------------------------------------------------------------------
// Diagnostics Logging

/// A Diagnostics Logging level, as Exchange named them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    /// Errors only.
    None,
    /// Warnings and errors, plus service events.
    #[default]
    Minimum,
    /// One line per session and per message.
    Medium,
    /// Everything, including protocol traces.
    Maximum,
}

impl LogLevel {
    /// Every level, lowest first.
    pub const ALL: [LogLevel; 4] = [LogLevel::None, LogLevel::Minimum, LogLevel::Medium, LogLevel::Maximum];

    /// The `tracing` filter directive for this level.
    pub fn directive(self) -> &'static str {
        match self {
            LogLevel::None => "error",
            LogLevel::Minimum => "info",
            LogLevel::Medium => "debug",
            LogLevel::Maximum => "trace",
        }
    }
}

/// Diagnostics Logging page, as edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default, deny_unknown_fields)]
pub struct DiagnosticsDraft {
    /// SMTP protocol.
    pub smtp: LogLevel,
    /// POP3 protocol.
    pub pop3: LogLevel,
    /// IMAP4 protocol.
    pub imap4: LogLevel,
    /// Routing decisions.
    pub routing: LogLevel,
    /// Outbound delivery and the queue.
    pub delivery: LogLevel,
    /// Message authentication: DKIM signing, SPF/DKIM/DMARC/ARC verdicts.
    pub authentication: LogLevel,
    /// The service itself: lifecycle, control socket, store.
    pub service: LogLevel,
    /// Message tracking is on.
    pub message_tracking: bool,
    /// Message tracking records and daily log files are removed after this many days
    /// (Exchange's "remove log files older than").
    pub keep_days: u64,
    /// Where a Prometheus scraper reads the service's counters (`IP:port`, served at
    /// `/metrics`); empty for off.
    pub metrics_listen: String,
}

impl Default for DiagnosticsDraft {
    fn default() -> Self {
        DiagnosticsDraft {
            smtp: LogLevel::Minimum,
            pop3: LogLevel::Minimum,
            imap4: LogLevel::Minimum,
            routing: LogLevel::Minimum,
            delivery: LogLevel::Minimum,
            authentication: LogLevel::Minimum,
            service: LogLevel::Minimum,
            message_tracking: true,
            keep_days: 30,
            metrics_listen: String::new(),
        }
    }
}

/// Diagnostics Logging page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics {
    /// SMTP protocol.
    pub smtp: LogLevel,
    /// POP3 protocol.
    pub pop3: LogLevel,
    /// IMAP4 protocol.
    pub imap4: LogLevel,
    /// Routing decisions.
    pub routing: LogLevel,
    /// Outbound delivery and the queue.
    pub delivery: LogLevel,
    /// Message authentication.
    pub authentication: LogLevel,
    /// The service itself.
    pub service: LogLevel,
    /// Message tracking is on.
    pub message_tracking: bool,
    /// Days tracking records and log files are kept.
    pub keep_days: u64,
    /// The Prometheus endpoint's address, when on.
    pub metrics_listen: Option<SocketAddr>,
}

impl Diagnostics {
    pub(super) fn validate(d: &DiagnosticsDraft, v: &mut Validator) -> Option<Diagnostics> {
        let keep = v.range("diagnostics.keep_days", d.keep_days, 1, 3650);
        let metrics_listen = v.optional_listen("diagnostics.metrics_listen", &d.metrics_listen);
        Some(Diagnostics {
            smtp: d.smtp,
            pop3: d.pop3,
            imap4: d.imap4,
            routing: d.routing,
            delivery: d.delivery,
            authentication: d.authentication,
            service: d.service,
            message_tracking: d.message_tracking,
            keep_days: keep?,
            metrics_listen: metrics_listen?,
        })
    }
    pub(super) fn to_draft(&self) -> DiagnosticsDraft {
        DiagnosticsDraft {
            smtp: self.smtp,
            pop3: self.pop3,
            imap4: self.imap4,
            routing: self.routing,
            delivery: self.delivery,
            authentication: self.authentication,
            service: self.service,
            message_tracking: self.message_tracking,
            keep_days: self.keep_days,
            metrics_listen: self.metrics_listen.map(|a| a.to_string()).unwrap_or_default(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Backup

/// Backup page, as edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default, deny_unknown_fields)]
pub struct BackupDraft {
    /// Back up every day at `time`.
    pub scheduled: bool,
    /// Local time of day, `HH:MM` (or `HH:MM:SS`).
    pub time: String,
    /// How many scheduled backups to keep (the oldest are deleted).
    pub keep: u64,
    /// Where they go, on the service's machine; empty for `backups` in the data
    /// directory.
    pub directory: String,
}

impl Default for BackupDraft {
    fn default() -> Self {
        BackupDraft { scheduled: false, time: "02:30".into(), keep: 7, directory: String::new() }
    }
}

/// Backup page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// The daily time (hour, minute, second, local time) when scheduled.
    pub daily_at: Option<(u8, u8, u8)>,
    /// How many scheduled backups to keep.
    pub keep: u32,
    /// Where they go; `None` for `backups` in the data directory.
    pub directory: Option<PathBuf>,
    /// The time as typed, kept for the draft when not scheduled.
    time: String,
}

/// Parses `HH:MM` or `HH:MM:SS`.
pub fn parse_time_of_day(s: &str) -> Option<(u8, u8, u8)> {
    let parts: Vec<&str> = s.trim().split(':').collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.is_empty() || p.len() > 2) {
        return None;
    }
    let n: Vec<u8> = parts.iter().map(|p| p.parse::<u8>().ok()).collect::<Option<_>>()?;
    let (h, m, s) = (n[0], n[1], n.get(2).copied().unwrap_or(0));
    (h < 24 && m < 60 && s < 60).then_some((h, m, s))
}

impl Backup {
    pub(super) fn validate(d: &BackupDraft, v: &mut Validator) -> Option<Backup> {
        let before = v.errors.len();
        let time = parse_time_of_day(&d.time);
        if time.is_none() && d.scheduled {
            v.push(
                "backup.time",
                Problem::inconsistent(format!("'{}' is not a time of day; write HH:MM, e.g. 02:30", d.time.trim())),
            );
        }
        let keep = v.range("backup.keep", d.keep, 1, 365);
        let dir = d.directory.trim();
        let directory = if dir.is_empty() {
            None
        } else if !dir.starts_with('/') {
            v.push(
                "backup.directory",
                Problem::inconsistent("write an absolute path (on the service's machine), or leave it empty"),
            );
            None
        } else {
            Some(PathBuf::from(dir))
        };
        (v.errors.len() == before).then(|| Backup {
            daily_at: if d.scheduled { time } else { None },
            keep: u32::try_from(keep.unwrap_or(7)).unwrap_or(7),
            directory,
            time: d.time.trim().to_owned(),
        })
    }

    pub(super) fn to_draft(&self) -> BackupDraft {
        BackupDraft {
            scheduled: self.daily_at.is_some(),
            time: self.time.clone(),
            keep: u64::from(self.keep),
            directory: self.directory.as_ref().map(|d| d.display().to_string()).unwrap_or_default(),
        }
    }
}

impl Default for Backup {
    fn default() -> Self {
        let mut v = Validator::default();
        #[allow(clippy::expect_used)]
        Backup::validate(&BackupDraft::default(), &mut v).expect("the default backup settings are valid")
    }
}
