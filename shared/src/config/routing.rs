//! The Routing tab: the reroute switch and the routing table, and the Routing
//! Restrictions dialog (who may relay).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::validate::{Problem, Validator};
use crate::address::{Domain, IpNet};

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
