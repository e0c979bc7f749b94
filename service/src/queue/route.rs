//! Where a recipient's mail goes next (Connections page, RFC 5321 §5.1).
//!
//! In order: a per-domain forward (whole-label match, most specific wins) keeps the
//! address and names the host; else the smart host, if one is set; else DNS — MX
//! records in preference order, or the domain's own A/AAAA records when it has no MX.
//! `[ip]:port` next hops skip DNS.

use std::net::SocketAddr;

use hickory_resolver::TokioResolver;
use hickory_resolver::proto::rr::RData;
use mailroom_shared::address::{Domain, NextHop};
use mailroom_shared::config::{Connections, MessageDelivery};

use super::delivery::{DeliveryError, TlsPolicy};

/// Where a group of recipients is delivered: the unit of connection reuse.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Destination {
    /// A host (smart host or forward), by name.
    Host(Domain, u16),
    /// An address literal.
    Addr(SocketAddr),
    /// The MX hosts of a domain.
    Mx(Domain),
}

impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Destination::Host(h, p) => write!(f, "{h}:{p}"),
            Destination::Addr(a) => write!(f, "[{}]:{}", a.ip(), a.port()),
            Destination::Mx(d) => write!(f, "MX of {d}"),
        }
    }
}

fn from_hop(hop: &NextHop) -> Destination {
    match hop {
        NextHop::Host { name, port } => Destination::Host(name.clone(), *port),
        NextHop::Addr(a) => Destination::Addr(*a),
    }
}

/// The destination for a recipient domain under the Connections page.
pub fn destination(cfg: &Connections, domain: &Domain) -> Destination {
    let forward =
        cfg.domain_forwards.iter().filter(|f| domain.is_within(&f.domain)).max_by_key(|f| f.domain.label_count());
    if let Some(f) = forward {
        return from_hop(&f.host);
    }
    match &cfg.message_delivery {
        MessageDelivery::SmartHost { host, .. } => from_hop(host),
        MessageDelivery::Dns => Destination::Mx(domain.clone()),
    }
}

/// The destination for a recipient at an address literal (`user@[192.0.2.1]`): the
/// smart host when one is set, as for every remote recipient; otherwise the address
/// itself, on port 25. A per-domain forward names a domain, which a literal is not.
pub fn literal_destination(cfg: &Connections, ip: std::net::IpAddr) -> Destination {
    match &cfg.message_delivery {
        MessageDelivery::SmartHost { host, .. } => from_hop(host),
        MessageDelivery::Dns => Destination::Addr(SocketAddr::new(ip, NextHop::DEFAULT_PORT)),
    }
}

/// How deliveries to `dest` use TLS: required for a smart host marked so, otherwise
/// opportunistic.
pub fn tls_policy(cfg: &Connections, dest: &Destination) -> TlsPolicy {
    match &cfg.message_delivery {
        MessageDelivery::SmartHost { host, requires_tls: true } if from_hop(host) == *dest => TlsPolicy::Required,
        _ => TlsPolicy::Opportunistic,
    }
}

/// The addresses to try for `dest`, best first, each with the host name it came from.
///
/// # Errors
/// Permanent when the domain or host does not exist; temporary for other DNS trouble.
pub async fn resolve(resolver: &TokioResolver, dest: &Destination) -> Result<Vec<(String, SocketAddr)>, DeliveryError> {
    match dest {
        Destination::Addr(a) => Ok(vec![(a.ip().to_string(), *a)]),
        Destination::Host(name, port) => {
            let ips = lookup_host(resolver, name).await?;
            Ok(ips.into_iter().map(|ip| (name.to_string(), SocketAddr::new(ip, *port))).collect())
        }
        Destination::Mx(domain) => {
            let fqdn = format!("{domain}.");
            match resolver.mx_lookup(fqdn.as_str()).await {
                Ok(lookup) => {
                    let mut mx: Vec<(u16, String)> = lookup
                        .answers()
                        .iter()
                        .filter_map(|r| match &r.data {
                            RData::MX(mx) => {
                                Some((mx.preference, mx.exchange.to_ascii().trim_end_matches('.').to_owned()))
                            }
                            _ => None,
                        })
                        .collect();
                    mx.sort();
                    if mx.len() == 1 && mx[0].1.is_empty() {
                        // RFC 7505 null MX: the domain accepts no mail.
                        return Err(DeliveryError::Permanent {
                            status: "5.1.10".into(),
                            message: format!("{domain} accepts no mail (null MX)"),
                        });
                    }
                    let mut out = Vec::new();
                    let mut last_error = None;
                    for (_, host) in mx {
                        let Ok(name) = Domain::parse(&host) else { continue };
                        match lookup_host(resolver, &name).await {
                            Ok(ips) => out.extend(ips.into_iter().map(|ip| (host.clone(), SocketAddr::new(ip, 25)))),
                            Err(e) => last_error = Some(e),
                        }
                    }
                    if out.is_empty() {
                        return Err(last_error
                            .unwrap_or_else(|| DeliveryError::Temporary(format!("no usable MX host for {domain}"))));
                    }
                    Ok(out)
                }
                Err(e) if e.is_no_records_found() && !e.is_nx_domain() => {
                    let ips = lookup_host(resolver, domain).await?;
                    Ok(ips.into_iter().map(|ip| (domain.to_string(), SocketAddr::new(ip, 25))).collect())
                }
                Err(e) if e.is_nx_domain() => Err(DeliveryError::Permanent {
                    status: "5.1.2".into(),
                    message: format!("Host unknown: {domain} does not exist"),
                }),
                Err(e) => Err(DeliveryError::Temporary(format!("DNS lookup of {domain} failed: {e}"))),
            }
        }
    }
}

async fn lookup_host(resolver: &TokioResolver, name: &Domain) -> Result<Vec<std::net::IpAddr>, DeliveryError> {
    let fqdn = format!("{name}.");
    match resolver.lookup_ip(fqdn.as_str()).await {
        Ok(l) => {
            let ips: Vec<_> = l.iter().collect();
            if ips.is_empty() {
                Err(DeliveryError::Permanent {
                    status: "5.1.2".into(),
                    message: format!("Host unknown: {name} has no address"),
                })
            } else {
                Ok(ips)
            }
        }
        Err(e) if e.is_nx_domain() || e.is_no_records_found() => Err(DeliveryError::Permanent {
            status: "5.1.2".into(),
            message: format!("Host unknown: {name} has no address"),
        }),
        Err(e) => Err(DeliveryError::Temporary(format!("DNS lookup of {name} failed: {e}"))),
    }
}
