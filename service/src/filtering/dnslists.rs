//! DNS blocklists and allowlists (RFC 5782): is the client's address listed?
//!
//! Every list is asked at once, each under a short timeout; the resolver keeps each
//! answer for its TTL, so a client that comes back is not looked up again. A list that
//! does not answer, or answers with one of its error codes, lists nobody: a DNS
//! failure never refuses mail. An allowlist's listing outweighs any blocklist's.

use std::net::IpAddr;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::proto::rr::RData;
use mailroom_shared::config::{Config, DnsList};

/// The DNS lists' resolver of a run.
pub struct DnsLists {
    /// The resolver the DNS lists are asked with (its cache keeps each answer for its
    /// TTL); `None` when none could be set up, and then no list is asked.
    pub resolver: Option<TokioResolver>,
}

impl std::fmt::Debug for DnsLists {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnsLists").field("resolver", &self.resolver.is_some()).finish()
    }
}

impl DnsLists {
    /// The resolver for a run with `config`: none when the page turns the lists off.
    pub fn new(config: &Config) -> DnsLists {
        let resolver = if config.filtering.dns_lists_enabled {
            crate::dns::resolver(&config.connections)
                .inspect_err(|e| {
                    tracing::error!(target: "mailroom_service::filtering", error = %e, "no DNS resolver for the DNS lists");
                })
                .ok()
        } else {
            None
        };
        DnsLists { resolver }
    }
}

/// How long one list may take to answer.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// What the lists say of a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listing {
    /// No list names it (or none answered).
    Clear,
    /// An allowlist names it: it skips the blocklists and greylisting.
    Allowed {
        /// The allowlist.
        zone: String,
    },
    /// A blocklist names it.
    Blocked {
        /// The blocklist.
        zone: String,
        /// What its answer means.
        meaning: String,
    },
}

/// The name to look up for `ip` on `zone`: its octets (IPv4) or nibbles (IPv6)
/// reversed, then the zone.
pub fn query_name(ip: IpAddr, zone: &str) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.{zone}.")
        }
        IpAddr::V6(v6) => {
            let mut out = String::with_capacity(64 + zone.len() + 1);
            for byte in v6.octets().iter().rev() {
                out.push_str(&format!("{:x}.{:x}.", byte & 0xf, byte >> 4));
            }
            out.push_str(zone);
            out.push('.');
            out
        }
    }
}

/// Asks every list in `lists` about `ip`, at once.
pub async fn look_up(resolver: &TokioResolver, lists: &[DnsList], ip: IpAddr) -> Listing {
    let mut asks = tokio::task::JoinSet::new();
    for (i, list) in lists.iter().enumerate() {
        let resolver = resolver.clone();
        let name = query_name(ip, &list.zone.to_string());
        asks.spawn(async move {
            let answer = tokio::time::timeout(TIMEOUT, resolver.ipv4_lookup(name.as_str())).await;
            let addresses: Vec<std::net::Ipv4Addr> = match answer {
                Ok(Ok(found)) => found
                    .answers()
                    .iter()
                    .filter_map(|r| match &r.data {
                        RData::A(a) => Some(a.0),
                        _ => None,
                    })
                    .collect(),
                Ok(Err(e)) => {
                    if !e.is_no_records_found() {
                        tracing::debug!(target: "mailroom_service::filtering", %name, error = %e, "DNS list lookup failed");
                    }
                    Vec::new()
                }
                Err(_) => {
                    tracing::info!(target: "mailroom_service::filtering", %name, "DNS list did not answer in time");
                    Vec::new()
                }
            };
            (i, addresses)
        });
    }
    let mut blocked = None;
    let mut allowed = None;
    while let Some(done) = asks.join_next().await {
        let Ok((i, addresses)) = done else { continue };
        let list = &lists[i];
        let Some(meaning) = addresses.into_iter().find_map(|a| list.meaning(a)) else { continue };
        if list.allow {
            allowed.get_or_insert(list.zone.to_string());
        } else if blocked.as_ref().is_none_or(|(j, _, _)| i < *j) {
            blocked = Some((i, list.zone.to_string(), meaning));
        }
    }
    match (allowed, blocked) {
        (Some(zone), _) => Listing::Allowed { zone },
        (None, Some((_, zone, meaning))) => Listing::Blocked { zone, meaning },
        (None, None) => Listing::Clear,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_reversed_as_rfc_5782_says() {
        assert_eq!(query_name("192.0.2.99".parse().expect("ip"), "zen.test"), "99.2.0.192.zen.test.");
        assert_eq!(
            query_name("2001:db8:1:2:3:4:567:89ab".parse().expect("ip"), "bl.test"),
            "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.bl.test."
        );
    }
}
