//! The routing decision: what Mailroom does with one recipient.
//!
//! [`decide`] is a pure function of the recipient, the client's situation and the
//! configuration (plus a read-only view of which mailbox addresses exist), so the SMTP
//! server, the GUI's address tester and the tests all get the same answer. The
//! semantics are those of Exchange 5.5's Routing tab (`MODEL.md`):
//!
//! - While **rerouting is off** the table is not consulted: a recipient is local when a
//!   mailbox has that address; any other recipient has no route.
//! - While **rerouting is on**, the most specific matching table entry wins, matching
//!   on whole labels (`corp.com` matches `sales.corp.com`, never `acorp.com`; `#corp.com`
//!   only `corp.com`). An *inbound* entry makes the recipient local; a *reroute* entry
//!   rewrites the domain and routes the new address again from the top (loops are
//!   detected). A recipient no entry matches is relayed, if the client may relay.
//! - **Who may relay** ([`relay_permission`]): the ticked Routing Restrictions are
//!   OR-ed; the never-list wins over all of them.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::address::EmailAddress;
use crate::config::{RouteTarget, Routing, RoutingRestrictions};

/// The client's situation, as far as routing cares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientContext {
    /// The account the client authenticated as, if it did.
    pub authenticated_as: Option<String>,
    /// The client's IP address.
    pub client_ip: IpAddr,
    /// The address of this server the client connected to.
    pub local_ip: IpAddr,
}

/// Which addresses have a mailbox here. Lookups are case-insensitive in the local part.
pub trait Directory {
    /// True when a mailbox has `address` as its address or one of its aliases.
    fn has_mailbox(&self, address: &EmailAddress) -> bool;
}

impl<F: Fn(&EmailAddress) -> bool> Directory for F {
    fn has_mailbox(&self, address: &EmailAddress) -> bool {
        self(address)
    }
}

/// What happens to a recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Decision {
    /// Delivered to a local mailbox (whether one exists for an inbound domain is checked
    /// by the caller: `550 5.1.1` when not).
    Local {
        /// The address to deliver to.
        address: EmailAddress,
    },
    /// The address was rewritten by a reroute entry and routed again.
    Rewritten {
        /// The address before.
        from: EmailAddress,
        /// The address after.
        to: EmailAddress,
        /// The routing table entry that applied, as listed (`test.com`, `#test.com`).
        entry: String,
        /// What happened to the rewritten address.
        then: Box<Decision>,
    },
    /// Relayed outbound.
    Relay {
        /// The address to deliver to.
        address: EmailAddress,
    },
    /// The client may not relay to this recipient.
    Refused(Refusal),
    /// There is no route for this recipient.
    NoRoute(NoRoute),
}

/// Why relaying was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Refusal {
    /// The client is on the "can NEVER route mail" list.
    #[error("client {client_ip} is on the list of hosts that may never relay")]
    NeverRelay {
        /// The client.
        client_ip: IpAddr,
    },
    /// No relay permission applies to the client.
    #[error("client {client_ip} is not allowed to relay ({detail})")]
    NotPermitted {
        /// The client.
        client_ip: IpAddr,
        /// Which permissions were checked.
        detail: String,
    },
}

/// Why a recipient has no route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum NoRoute {
    /// Rerouting is off and no mailbox here has the address.
    #[error("rerouting of incoming SMTP mail is off")]
    ReroutingOff,
    /// Reroute entries send the address around in a circle (or one entry applies to
    /// its own output).
    #[error("the routing table rewrites this address in a loop: {}", display_chain(chain))]
    RewriteLoop {
        /// The addresses visited, ending with the repeated one.
        chain: Vec<EmailAddress>,
    },
    /// A rewrite produced a domain name that is too long.
    #[error("rewriting {address} by the entry {entry} gives an invalid domain")]
    InvalidRewrite {
        /// The address that could not be rewritten.
        address: EmailAddress,
        /// The entry.
        entry: String,
    },
}

fn display_chain(chain: &[EmailAddress]) -> String {
    chain.iter().map(ToString::to_string).collect::<Vec<_>>().join(" -> ")
}

impl Decision {
    /// The decision at the end of any rewrites.
    pub fn outcome(&self) -> &Decision {
        match self {
            Decision::Rewritten { then, .. } => then.outcome(),
            other => other,
        }
    }

    /// A sentence saying what happens and why, for people (the address tester).
    pub fn explain(&self) -> String {
        match self {
            Decision::Local { address } => format!("delivered to the local mailbox {address}"),
            Decision::Rewritten { from, to, entry, then } => {
                format!("rewritten from {from} to {to} by the routing entry {entry}, then {}", then.explain())
            }
            Decision::Relay { address } => format!("relayed outbound to {address}"),
            Decision::Refused(r) => format!("refused with 550 5.7.1: {r}"),
            Decision::NoRoute(n) => format!("no route: {n}"),
        }
    }
}

/// Decides what happens to `recipient`. See the module docs for the rules.
pub fn decide(
    recipient: &EmailAddress,
    client: &ClientContext,
    routing: &Routing,
    restrictions: &RoutingRestrictions,
    directory: &dyn Directory,
) -> Decision {
    if !routing.reroute {
        return if directory.has_mailbox(recipient) {
            Decision::Local { address: recipient.clone() }
        } else {
            Decision::NoRoute(NoRoute::ReroutingOff)
        };
    }
    let mut chain = vec![recipient.clone()];
    route_from(recipient, client, routing, restrictions, &mut chain, &mut Vec::new())
}

fn route_from(
    address: &EmailAddress,
    client: &ClientContext,
    routing: &Routing,
    restrictions: &RoutingRestrictions,
    chain: &mut Vec<EmailAddress>,
    applied: &mut Vec<String>,
) -> Decision {
    let Some(entry) = routing.table.lookup(address.domain()) else {
        return match relay_permission(client, restrictions) {
            Ok(()) => Decision::Relay { address: address.clone() },
            Err(refusal) => Decision::Refused(refusal),
        };
    };
    match &entry.route_to {
        RouteTarget::Inbound => Decision::Local { address: address.clone() },
        RouteTarget::RerouteTo(target) => {
            let entry_name = entry.sent_to.to_string();
            let Some(domain) = address.domain().replace_suffix(entry.sent_to.domain(), target) else {
                return Decision::NoRoute(NoRoute::InvalidRewrite { address: address.clone(), entry: entry_name });
            };
            let to = address.with_domain(domain);
            // A loop is a repeated address, or the same entry applying twice: an entry
            // whose target lies within its own domain (`test` → `a.test`) never repeats
            // an address, it only grows it.
            let seen = chain.iter().any(|a| a.canonical() == to.canonical()) || applied.contains(&entry_name);
            applied.push(entry_name.clone());
            chain.push(to.clone());
            let then = if seen {
                Decision::NoRoute(NoRoute::RewriteLoop { chain: chain.clone() })
            } else {
                route_from(&to, client, routing, restrictions, chain, applied)
            };
            Decision::Rewritten { from: address.clone(), to, entry: entry_name, then: Box::new(then) }
        }
    }
}

/// Whether `client` may relay under `restrictions`.
///
/// # Errors
/// The [`Refusal`] saying why not.
pub fn relay_permission(client: &ClientContext, restrictions: &RoutingRestrictions) -> Result<(), Refusal> {
    let ip = client.client_ip;
    if restrictions.never_networks().iter().any(|n| n.contains(ip)) {
        return Err(Refusal::NeverRelay { client_ip: ip });
    }
    if restrictions.is_open_relay() {
        return Ok(());
    }
    let mut checked = Vec::new();
    if restrictions.allow_authenticated() {
        if client.authenticated_as.is_some() {
            return Ok(());
        }
        checked.push("it has not authenticated");
    }
    if let Some(nets) = restrictions.client_networks() {
        if nets.iter().any(|n| n.contains(ip)) {
            return Ok(());
        }
        checked.push("its address is not on the allowed list");
    }
    if let Some(nets) = restrictions.internal_networks() {
        if nets.iter().any(|n| n.contains(client.local_ip)) {
            return Ok(());
        }
        checked.push("it did not connect to an internal address");
    }
    Err(Refusal::NotPermitted { client_ip: ip, detail: checked.join("; ") })
}

#[cfg(test)]
mod tests;
