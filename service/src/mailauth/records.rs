//! The DNS records each inbound domain publishes for its mail to be delivered and
//! trusted — MX, SPF, the DKIM keys, DMARC, SRV records for mail clients (RFC 6186,
//! RFC 8314), and the names mail programs set themselves up from (autoconfig,
//! Autodiscover) and calendar programs find calendars by (RFC 6764) — and a live check of each against DNS.

use hickory_resolver::TokioResolver;
use hickory_resolver::proto::rr::RData;
use mailroom_shared::address::{Domain, NextHop};
use mailroom_shared::config::{Config, MessageDelivery};
use mailroom_shared::ipc::{DnsRecord, RecordCheck};

use crate::store::{DkimAlgorithm, DkimKey};

/// The records for the inbound domains of `config` (only `only`, when given), with the
/// DKIM keys of `keys`.
pub fn wanted(config: &Config, keys: &[DkimKey], only: Option<&Domain>) -> Vec<DnsRecord> {
    let host = config.general.host_name.to_string();
    let mut out = Vec::new();
    for domain in config.routing.table.inbound_domains().into_iter().filter(|d| only.is_none_or(|o| o == *d)) {
        let d = domain.to_string();
        let record = |name: String, kind: &str, value: String, purpose: &str| DnsRecord {
            domain: d.clone(),
            name,
            kind: kind.into(),
            value,
            purpose: purpose.into(),
            check: None,
        };
        out.push(record(d.clone(), "MX", format!("10 {host}"), "Mail for the domain comes to this server"));
        out.push(record(d.clone(), "TXT", spf(config), "SPF: the servers that send the domain's mail"));
        for k in keys.iter().filter(|k| k.domain == d) {
            let (k_tag, name) = match k.algorithm {
                DkimAlgorithm::Rsa => ("rsa", "RSA"),
                DkimAlgorithm::Ed25519 => ("ed25519", "Ed25519"),
            };
            let role = if k.active { "signs now" } else { "old; retire it once mail signed with it is delivered" };
            out.push(record(
                format!("{}._domainkey.{d}", k.selector),
                "TXT",
                format!("v=DKIM1; k={k_tag}; p={}", k.public_key),
                &format!("DKIM key ({name}, {role})"),
            ));
        }
        out.push(record(
            format!("_dmarc.{d}"),
            "TXT",
            format!("v=DMARC1; p=none; rua=mailto:postmaster@{d}"),
            "DMARC: start with p=none, then move to p=quarantine when the reports look right",
        ));
        let mut services = Vec::new();
        if let Some(a) = config.connections.submissions_listen {
            services.push(("submissions", a.port(), "Where mail clients send (SMTP over TLS)"));
        }
        if let Some(a) = config.connections.submission_listen {
            services.push(("submission", a.port(), "Where mail clients send (submission with STARTTLS)"));
        }
        if config.imap4.enabled {
            if let Some(a) = config.imap4.imaps_listen {
                services.push(("imaps", a.port(), "Where mail clients read (IMAP over TLS)"));
            }
            services.push(("imap", config.imap4.listen.port(), "Where mail clients read (IMAP)"));
        }
        if config.pop3.enabled {
            services.push(("pop3", config.pop3.listen.port(), "Where mail clients read (POP3)"));
            if let Some(a) = config.pop3.pop3s_listen {
                services.push(("pop3s", a.port(), "Where mail clients read (POP3 over TLS)"));
            }
        }
        for (service, port, purpose) in services {
            out.push(record(format!("_{service}._tcp.{d}"), "SRV", format!("0 1 {port} {host}"), purpose));
        }
        if let Some(a) = config.connections.https_listen {
            out.push(record(
                format!("autoconfig.{d}"),
                "CNAME",
                host.clone(),
                "Thunderbird and other mail programs fetch their settings here (HTTPS)",
            ));
            out.push(record(
                format!("autodiscover.{d}"),
                "CNAME",
                host.clone(),
                "Outlook fetches its settings here (Autodiscover over HTTPS)",
            ));
            out.push(record(
                format!("_autodiscover._tcp.{d}"),
                "SRV",
                format!("0 0 {} {host}", a.port()),
                "Outlook's other way to find Autodiscover",
            ));
            // RFC 6764: calendar and contacts programs find the service, then its
            // path, from the domain of an address.
            for (service, purpose) in [
                ("caldavs", "Where calendar programs find calendars (CalDAV over HTTPS)"),
                ("carddavs", "Where contacts programs find address books (CardDAV over HTTPS)"),
            ] {
                out.push(record(format!("_{service}._tcp.{d}"), "SRV", format!("0 1 {} {host}", a.port()), purpose));
                out.push(record(
                    format!("_{service}._tcp.{d}"),
                    "TXT",
                    "path=/dav/".into(),
                    "Where on that server (the path, RFC 6764)",
                ));
            }
        }
    }
    out
}

/// The SPF record: this server's MX, and the smart host when mail leaves through one.
fn spf(config: &Config) -> String {
    match &config.connections.message_delivery {
        MessageDelivery::Dns => "v=spf1 mx -all".into(),
        MessageDelivery::SmartHost { host: NextHop::Host { name, .. }, .. } => format!("v=spf1 mx a:{name} -all"),
        MessageDelivery::SmartHost { host: NextHop::Addr(a), .. } => {
            let ip = a.ip();
            let mechanism = if ip.is_ipv4() { "ip4" } else { "ip6" };
            format!("v=spf1 mx {mechanism}:{ip} -all")
        }
    }
}

/// Looks each record up and says whether it is published as it should be.
pub async fn check(resolver: &TokioResolver, records: &mut [DnsRecord]) {
    for r in records {
        r.check = Some(match lookup(resolver, &r.name, &r.kind).await {
            Err(error) => RecordCheck::Failed { error },
            Ok(found) if found.is_empty() => RecordCheck::Missing,
            Ok(found) => {
                let relevant: Vec<String> = found.into_iter().filter(|f| same_family(&r.value, f)).collect();
                if relevant.is_empty() {
                    RecordCheck::Missing
                } else if relevant.iter().any(|f| matches(&r.value, f)) {
                    RecordCheck::Published
                } else {
                    RecordCheck::Different { found: relevant }
                }
            }
        });
    }
}

/// What DNS has at `name` of `kind`, in the form [`wanted`] writes; empty when nothing.
async fn lookup(resolver: &TokioResolver, name: &str, kind: &str) -> Result<Vec<String>, String> {
    let fqdn = format!("{name}.");
    let found = match kind {
        "TXT" => resolver.txt_lookup(fqdn.as_str()).await.map(|l| {
            l.answers()
                .iter()
                .filter_map(|r| match &r.data {
                    RData::TXT(t) => Some(t.txt_data.iter().map(|s| String::from_utf8_lossy(s)).collect::<String>()),
                    _ => None,
                })
                .collect()
        }),
        "MX" => resolver.mx_lookup(fqdn.as_str()).await.map(|l| {
            l.answers()
                .iter()
                .filter_map(|r| match &r.data {
                    RData::MX(mx) => {
                        Some(format!("{} {}", mx.preference, mx.exchange.to_ascii().trim_end_matches('.')))
                    }
                    _ => None,
                })
                .collect()
        }),
        "SRV" => resolver.srv_lookup(fqdn.as_str()).await.map(|l| {
            l.answers()
                .iter()
                .filter_map(|r| match &r.data {
                    RData::SRV(s) => Some(format!(
                        "{} {} {} {}",
                        s.priority,
                        s.weight,
                        s.port,
                        s.target.to_ascii().trim_end_matches('.')
                    )),
                    _ => None,
                })
                .collect()
        }),
        "CNAME" => resolver.lookup(fqdn.as_str(), hickory_resolver::proto::rr::RecordType::CNAME).await.map(|l| {
            l.answers()
                .iter()
                .filter_map(|r| match &r.data {
                    RData::CNAME(c) => Some(c.0.to_ascii().trim_end_matches('.').to_owned()),
                    _ => None,
                })
                .collect()
        }),
        other => return Err(format!("cannot look up {other} records")),
    };
    match found {
        Ok(v) => Ok(v),
        Err(e) if e.is_no_records_found() || e.is_nx_domain() => Ok(Vec::new()),
        Err(e) => Err(format!("the lookup failed: {e}")),
    }
}

/// True when `found` is the same kind of record as `wanted` (a TXT name can hold
/// several: an SPF record beside site-verification strings).
fn same_family(wanted: &str, found: &str) -> bool {
    let tag = |s: &str| s.split([';', ' ']).next().unwrap_or("").trim().to_ascii_lowercase();
    match tag(wanted).as_str() {
        t @ ("v=spf1" | "v=dkim1" | "v=dmarc1") => tag(found) == t,
        _ => true,
    }
}

/// True when `found` is what `wanted` asks for: the same text (spaces aside), the
/// same DKIM key, any DMARC policy (a stricter one than ours is better), the same MX
/// host whatever its preference.
fn matches(wanted: &str, found: &str) -> bool {
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase();
    let tags = |s: &str| -> Vec<(String, String)> {
        s.split(';')
            .filter_map(|t| t.split_once('='))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.split_whitespace().collect::<String>()))
            .collect()
    };
    let tag = |s: &str, name: &str| tags(s).into_iter().find(|(k, _)| k == name).map(|(_, v)| v);
    if wanted.starts_with("v=DKIM1") {
        return tag(wanted, "p") == tag(found, "p")
            && tag(found, "k").unwrap_or_else(|| "rsa".into()) == tag(wanted, "k").unwrap_or_default();
    }
    if wanted.starts_with("v=DMARC1") {
        return tag(found, "v").is_some_and(|v| v.eq_ignore_ascii_case("DMARC1")) && tag(found, "p").is_some();
    }
    let (w, f) = (words(wanted), words(found));
    match (w.split_once(' '), f.split_once(' ')) {
        // MX: the host matters, not the preference.
        (Some((wp, wh)), Some((_, fh))) if wp.parse::<u16>().is_ok() && !wh.contains(' ') => wh == fh,
        _ => w == f,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_counts_as_published() {
        assert!(matches("v=spf1 mx -all", "v=spf1  mx -all"));
        assert!(!matches("v=spf1 mx -all", "v=spf1 -all"));
        assert!(matches("10 mail.corp.test", "20 mail.corp.test"));
        assert!(!matches("10 mail.corp.test", "10 other.test"));
        assert!(matches("v=DKIM1; k=rsa; p=ABC", "v=DKIM1; k=rsa; p=A BC"));
        assert!(matches("v=DKIM1; k=rsa; p=ABC", "v=DKIM1; p=ABC"), "k=rsa is the default");
        assert!(!matches("v=DKIM1; k=ed25519; p=ABC", "v=DKIM1; p=ABC"));
        assert!(matches("v=DMARC1; p=none; rua=mailto:x@y", "v=DMARC1; p=reject"));
        assert!(matches("0 1 995 mail.corp.test", "0 1 995 mail.corp.test"));
        assert!(!matches("0 1 995 mail.corp.test", "0 1 110 mail.corp.test"));
        assert!(same_family("v=spf1 mx -all", "v=spf1 -all") && !same_family("v=spf1 mx -all", "google-site=x"));
    }
}
