//! What a mail program is told to use: the host name, and the IMAP, POP3 and
//! submission listeners this run actually has open, best first (implicit TLS before
//! STARTTLS, RFC 8314). Port 25 is never offered: it is for servers. Every answer of
//! the automatic set-up (Thunderbird's autoconfig, Microsoft's Autodiscover, Apple's
//! profile) is written from one [`Setup`], so they cannot disagree.

use std::net::SocketAddr;

use mailroom_shared::address::{Domain, EmailAddress};
use mailroom_shared::config::Config;

use crate::listener::Protocol;

/// How a connection to a server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (993, 995, 465).
    Tls,
    /// Plain text, then STARTTLS (143, 110, 587).
    StartTls,
    /// No TLS at all (only when the service has no certificate).
    None,
}

/// One server a mail program can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Server {
    /// Its port, as the listener is configured (or bound, for port 0).
    pub port: u16,
    /// How it is secured.
    pub security: Security,
}

/// What mail programs are told, for one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setup {
    /// The host name servers are reached by (General page).
    pub host: Domain,
    /// The domains whose mailboxes are here (the inbound domains).
    pub domains: Vec<Domain>,
    /// IMAP servers, best first.
    pub imap: Vec<Server>,
    /// POP3 servers, best first.
    pub pop3: Vec<Server>,
    /// Submission servers (never port 25), best first.
    pub smtp: Vec<Server>,
    /// The HTTPS listener's port (for the URLs given out).
    pub https_port: Option<u16>,
}

impl Setup {
    /// The set-up of a run of `config` listening on `listening` (protocol, configured
    /// and bound address), with TLS when `tls`.
    pub fn new(config: &Config, listening: &[(Protocol, SocketAddr, SocketAddr)], tls: bool) -> Setup {
        let port = |p: Protocol| {
            listening
                .iter()
                .find(|(q, _, _)| *q == p)
                .map(|(_, configured, bound)| if configured.port() == 0 { bound.port() } else { configured.port() })
        };
        let starttls = if tls { Security::StartTls } else { Security::None };
        let servers = |implicit: Protocol, plain: Protocol| {
            let implicit = port(implicit).filter(|_| tls).map(|port| Server { port, security: Security::Tls });
            let plain = port(plain).map(|port| Server { port, security: starttls });
            implicit.into_iter().chain(plain).collect::<Vec<_>>()
        };
        Setup {
            host: config.general.host_name.clone(),
            domains: config.routing.table.inbound_domains().into_iter().cloned().collect(),
            imap: servers(Protocol::Imaps, Protocol::Imap),
            pop3: servers(Protocol::Pop3s, Protocol::Pop3),
            smtp: servers(Protocol::Submissions, Protocol::Submission),
            https_port: port(Protocol::Https),
        }
    }

    /// True when mail for `address` is kept here (its domain is inbound): set-up is
    /// offered for every address of such a domain alike, so that it tells nobody
    /// which accounts exist.
    pub fn serves(&self, address: &EmailAddress) -> bool {
        self.domains.iter().any(|d| d == address.domain())
    }

    /// The base of the URLs this listener gives out (`https://host[:port]`).
    pub fn base_url(&self) -> String {
        match self.https_port {
            Some(443) | None => format!("https://{}", self.host),
            Some(port) => format!("https://{}:{port}", self.host),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().expect("address")
    }

    fn config() -> Config {
        let mut d = mailroom_shared::config::ConfigDraft::default();
        d.general.host_name = "mail.corp.test".into();
        d.routing.reroute = true;
        d.routing
            .table
            .push(mailroom_shared::config::RouteEntryDraft { sent_to: "corp.test".into(), reroute_to: None });
        Config::try_from(d).expect("valid")
    }

    #[test]
    fn implicit_tls_comes_first_and_port_25_is_never_offered() {
        let listening = [
            (Protocol::Smtp, addr("0.0.0.0:25"), addr("0.0.0.0:25")),
            (Protocol::Submission, addr("0.0.0.0:587"), addr("0.0.0.0:587")),
            (Protocol::Submissions, addr("0.0.0.0:465"), addr("0.0.0.0:465")),
            (Protocol::Imap, addr("0.0.0.0:143"), addr("0.0.0.0:143")),
            (Protocol::Imaps, addr("0.0.0.0:0"), addr("0.0.0.0:40993")),
            (Protocol::Https, addr("0.0.0.0:443"), addr("0.0.0.0:443")),
        ];
        let s = Setup::new(&config(), &listening, true);
        let tls = |port| Server { port, security: Security::Tls };
        let starttls = |port| Server { port, security: Security::StartTls };
        assert_eq!(s.imap, [tls(40993), starttls(143)], "a port-0 listener is given as bound");
        assert_eq!(s.smtp, [tls(465), starttls(587)]);
        assert!(s.pop3.is_empty(), "POP3 is not listening");
        assert_eq!(s.base_url(), "https://mail.corp.test");
        assert!(s.serves(&EmailAddress::parse("anyone@corp.test").expect("address")));
        assert!(!s.serves(&EmailAddress::parse("ann@elsewhere.test").expect("address")));
    }

    #[test]
    fn without_a_certificate_only_plain_listeners_are_offered_and_said_to_be_plain() {
        let listening = [
            (Protocol::Imaps, addr("0.0.0.0:993"), addr("0.0.0.0:993")),
            (Protocol::Imap, addr("0.0.0.0:143"), addr("0.0.0.0:143")),
        ];
        let s = Setup::new(&config(), &listening, false);
        assert_eq!(s.imap, [Server { port: 143, security: Security::None }]);
    }
}
