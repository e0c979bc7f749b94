//! One test per validation rule: each error names its field and its problem.

use super::*;

fn errors_of(d: &ConfigDraft) -> Vec<ConfigError> {
    match Config::from_draft(d) {
        Ok(_) => Vec::new(),
        Err(e) => e.0,
    }
}

/// Asserts that `d` fails with exactly one error, on `field`, matching `check`.
fn assert_one_error(d: &ConfigDraft, field: &str, check: impl Fn(&Problem) -> bool) {
    let errs = errors_of(d);
    assert_eq!(errs.len(), 1, "expected one error on {field}, got {errs:?}");
    assert_eq!(errs[0].field, field);
    assert!(check(&errs[0].problem), "unexpected problem {:?}", errs[0].problem);
}

#[test]
fn defaults_are_the_fresh_install() {
    let c = Config::default();
    assert!(!c.routing.reroute, "rerouting starts off");
    assert!(c.routing.table.entries().is_empty());
    let r = &c.routing_restrictions;
    assert!(r.allow_authenticated() && r.client_networks().is_none() && r.internal_networks().is_none());
    assert!(!r.is_open_relay());
    assert!(c.connections.smtp_listen.ip().is_loopback());
    assert!(c.pop3.listen.ip().is_loopback());
    assert_eq!(c.connections.smtp_listen.port(), 2525);
    assert_eq!(c.pop3.listen.port(), 1100);
    assert_eq!(c.connections.max_recipients, 100);
    assert_eq!(c.delivery.retry_intervals.len(), 4);
    assert_eq!(c.delivery.expire_after.as_secs(), 48 * 3600);
}

#[test]
fn draft_round_trips_through_json() {
    let mut d = ConfigDraft::default();
    d.routing.reroute = true;
    d.routing.table.push(RouteEntryDraft { sent_to: "corp.test".into(), reroute_to: None });
    d.routing.table.push(RouteEntryDraft { sent_to: "#old.test".into(), reroute_to: Some("corp.test".into()) });
    d.connections.smart_host = "[127.0.0.1]:2526".into();
    let c = Config::from_draft(&d).expect("valid");
    let json = serde_json::to_string(&c).expect("serializes");
    let back: Config = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(back, c);
    assert_eq!(back.to_draft(), d);
}

#[test]
fn invalid_json_config_is_refused_on_deserialize() {
    let mut d = ConfigDraft::default();
    d.general.host_name = "bad host".into();
    let json = serde_json::to_string(&d).expect("serializes");
    let err = serde_json::from_str::<Config>(&json).expect_err("must not deserialize");
    assert!(err.to_string().contains("general.host_name"), "{err}");
}

#[test]
fn every_error_is_reported_at_once() {
    let mut d = ConfigDraft::default();
    d.general.host_name = String::new();
    d.pop3.listen = "nope".into();
    d.delivery.expire_after_secs = 1;
    let fields: Vec<_> = errors_of(&d).into_iter().map(|e| e.field).collect();
    assert_eq!(fields, ["general.host_name", "delivery.expire_after_secs", "pop3.listen"]);
}

#[test]
fn host_name() {
    let mut d = ConfigDraft::default();
    d.general.host_name = "mail_server".into();
    assert_one_error(&d, "general.host_name", |p| matches!(p, Problem::InvalidHostName { .. }));
    d.general.host_name = "  ".into();
    assert_one_error(&d, "general.host_name", |p| *p == Problem::Empty);
}

#[test]
fn administrator_mailbox() {
    let mut d = ConfigDraft::default();
    d.general.administrator_mailbox = "admin".into();
    assert_one_error(&d, "general.administrator_mailbox", |p| matches!(p, Problem::InvalidAddress { .. }));
    d.general.administrator_mailbox = "admin@corp.test".into();
    assert!(errors_of(&d).is_empty());
}

#[test]
fn sizes_and_timeouts() {
    let mut d = ConfigDraft::default();
    d.general.max_message_size_kb = Some(0);
    assert_one_error(&d, "general.max_message_size_kb", |p| matches!(p, Problem::OutOfRange { min: 1, .. }));
    d.general.max_message_size_kb = None;
    assert!(Config::from_draft(&d).expect("no limit is valid").general.max_message_size.is_none());
    let mut d = ConfigDraft::default();
    d.pop3.idle_timeout_secs = 599;
    assert_one_error(&d, "pop3.idle_timeout_secs", |p| matches!(p, Problem::OutOfRange { min: 600, .. }));
    let mut d = ConfigDraft::default();
    d.connections.max_recipients = 0;
    assert_one_error(&d, "connections.max_recipients", |p| matches!(p, Problem::OutOfRange { .. }));
    let mut d = ConfigDraft::default();
    d.delivery.retry_intervals_secs.clear();
    assert_one_error(&d, "delivery.retry_intervals_secs", |p| *p == Problem::Empty);
    let mut d = ConfigDraft::default();
    d.delivery.retry_intervals_secs[1] = 0;
    assert_one_error(&d, "delivery.retry_intervals_secs[1]", |p| matches!(p, Problem::OutOfRange { .. }));
    let mut d = ConfigDraft::default();
    d.connections.max_connections = 10;
    d.connections.max_connections_per_ip = 20;
    assert_one_error(&d, "connections.max_connections_per_ip", |p| matches!(p, Problem::Inconsistent { .. }));
}

#[test]
fn listen_addresses_and_ports() {
    let mut d = ConfigDraft::default();
    d.connections.smtp_listen = "127.0.0.1".into();
    assert_one_error(&d, "connections.smtp_listen", |p| matches!(p, Problem::InvalidListenAddress { .. }));
    d.connections.smtp_listen = "127.0.0.1:99999".into();
    assert_one_error(&d, "connections.smtp_listen", |p| matches!(p, Problem::InvalidListenAddress { .. }));
    d.connections.smtp_listen = "[::1]:0".into();
    assert!(errors_of(&d).is_empty(), "port 0 lets the system choose");
    let mut d = ConfigDraft::default();
    d.connections.dns_server = "127.0.0.1:0".into();
    assert_one_error(&d, "connections.dns_server", |p| matches!(p, Problem::OutOfRange { .. }));
}

#[test]
fn next_hops() {
    let mut d = ConfigDraft::default();
    d.connections.smart_host = "relay.isp.net:0".into();
    assert_one_error(&d, "connections.smart_host", |p| matches!(p, Problem::InvalidNextHop { .. }));
    d.connections.smart_host = "[127.0.0.1]:2526".into();
    let c = Config::from_draft(&d).expect("valid");
    assert!(matches!(
        c.connections.message_delivery,
        MessageDelivery::SmartHost { host: crate::address::NextHop::Addr(_), requires_tls: false }
    ));
    let mut d = ConfigDraft::default();
    d.connections.domain_forwards = vec![
        DomainForwardDraft { domain: "partner.test".into(), host: "[10.0.0.5]:25".into() },
        DomainForwardDraft { domain: "Partner.Test".into(), host: "mx.partner.test".into() },
    ];
    assert_one_error(&d, "connections.domain_forwards[1].domain", |p| {
        *p == Problem::Duplicate { other: "connections.domain_forwards[0]".into() }
    });
    d.connections.domain_forwards[1] = DomainForwardDraft { domain: "x.test".into(), host: "[10.0.0]".into() };
    assert_one_error(&d, "connections.domain_forwards[1].host", |p| matches!(p, Problem::InvalidNextHop { .. }));
}

#[test]
fn routing_table_entries() {
    let entry = |s: &str, r: Option<&str>| RouteEntryDraft { sent_to: s.into(), reroute_to: r.map(Into::into) };
    let mut d = ConfigDraft::default();
    d.routing.table = vec![entry("corp..test", None)];
    assert_one_error(&d, "routing.table[0].sent_to", |p| matches!(p, Problem::InvalidDomain { .. }));
    d.routing.table = vec![entry("#", None)];
    assert_one_error(&d, "routing.table[0].sent_to", |p| matches!(p, Problem::Empty | Problem::InvalidDomain { .. }));
    d.routing.table = vec![entry("corp.test", None), entry("CORP.test.", Some("other.test"))];
    assert_one_error(&d, "routing.table[1].sent_to", |p| *p == Problem::Duplicate { other: "routing.table[0]".into() });
    d.routing.table = vec![entry("corp.test", None), entry("#corp.test", Some("other.test"))];
    assert!(errors_of(&d).is_empty(), "#exact and suffix entries for one domain are distinct");
    d.routing.table = vec![entry("a.test", Some("a.test"))];
    assert_one_error(&d, "routing.table[0].reroute_to", |p| matches!(p, Problem::SelfReroute { .. }));
    d.routing.table = vec![entry("a.test", Some("b test"))];
    assert_one_error(&d, "routing.table[0].reroute_to", |p| matches!(p, Problem::InvalidDomain { .. }));
}

#[test]
fn restriction_networks() {
    let mut d = ConfigDraft::default();
    d.routing_restrictions.allow_listed_clients = true;
    d.routing_restrictions.client_networks = vec!["192.168.1.0/255.255.255.0".into(), "192.168.1.0/24".into()];
    assert_one_error(&d, "routing_restrictions.client_networks[1]", |p| matches!(p, Problem::Duplicate { .. }));
    d.routing_restrictions.client_networks = vec!["192.168.1.1/24".into()];
    assert_one_error(&d, "routing_restrictions.client_networks[0]", |p| matches!(p, Problem::InvalidNetwork { .. }));
    d.routing_restrictions.client_networks.clear();
    assert_one_error(&d, "routing_restrictions.client_networks", |p| *p == Problem::Empty);
    let mut d = ConfigDraft::default();
    d.routing_restrictions.never_networks = vec!["10.0.0.0/255.0.255.0".into()];
    assert_one_error(&d, "routing_restrictions.never_networks[0]", |p| matches!(p, Problem::InvalidNetwork { .. }));
}

#[test]
fn open_relay_needs_confirmation() {
    let mut d = ConfigDraft::default();
    d.routing_restrictions.allow_authenticated = false;
    assert_one_error(&d, "routing_restrictions", |p| *p == Problem::OpenRelayNotConfirmed);
    d.routing_restrictions.open_relay_confirmed = true;
    assert!(Config::from_draft(&d).expect("confirmed").routing_restrictions.is_open_relay());

    let mut d = ConfigDraft::default();
    d.routing_restrictions.allow_listed_clients = true;
    d.routing_restrictions.client_networks = vec!["0.0.0.0/0".into()];
    assert_one_error(&d, "routing_restrictions", |p| *p == Problem::OpenRelayNotConfirmed);

    let mut d = ConfigDraft::default();
    d.routing_restrictions.open_relay_confirmed = true;
    let c = Config::from_draft(&d).expect("a stray confirmation is harmless");
    assert!(!c.routing_restrictions.is_open_relay());
}

#[test]
fn tls_files_come_in_pairs() {
    let mut d = ConfigDraft::default();
    d.security.tls_certificate = "/etc/mail/cert.pem".into();
    assert_one_error(&d, "security.tls_key", |p| matches!(p, Problem::Inconsistent { .. }));
}

#[test]
fn changed_pages() {
    let a = Config::default();
    let mut d = a.to_draft();
    d.routing.reroute = true;
    d.pop3.idle_timeout_secs = 900;
    let b = Config::from_draft(&d).expect("valid");
    assert_eq!(a.changed_pages(&b), vec![Page::Routing, Page::Pop3]);
    assert!(a.changed_pages(&a).is_empty());
}

#[test]
fn warns_about_mailboxes_outside_inbound_domains() {
    let mut d = ConfigDraft::default();
    d.routing.reroute = true;
    d.routing.table.push(RouteEntryDraft { sent_to: "corp.test".into(), reroute_to: None });
    let c = Config::from_draft(&d).expect("valid");
    let a = crate::address::EmailAddress::parse("ann@corp.test").expect("valid");
    let b = crate::address::EmailAddress::parse("bob@elsewhere.test").expect("valid");
    assert_eq!(c.mailboxes_not_inbound([&a, &b]), vec![&b]);
}

#[test]
fn implicit_tls_listeners_are_optional_and_distinct() {
    let mut d = ConfigDraft::default();
    let c = Config::from_draft(&d).expect("valid");
    assert_eq!((c.connections.submissions_listen, c.pop3.pop3s_listen), (None, None), "off by default");
    d.connections.submissions_listen = "127.0.0.1:4465".into();
    d.pop3.pop3s_listen = "127.0.0.1:9995".into();
    let c = Config::from_draft(&d).expect("valid");
    assert_eq!(c.connections.submissions_listen.map(|a| a.port()), Some(4465));
    assert_eq!(c.to_draft(), d);
    d.pop3.pop3s_listen = "somewhere".into();
    assert_one_error(&d, "pop3.pop3s_listen", |p| matches!(p, Problem::InvalidListenAddress { .. }));
    d.pop3.pop3s_listen = "0.0.0.0:2525".into();
    assert_one_error(
        &d,
        "pop3.pop3s_listen",
        |p| matches!(p, Problem::Duplicate { other } if other == "connections.smtp_listen"),
    );
    d.pop3.pop3s_listen = "127.0.0.1:0".into();
    d.connections.submissions_listen = "127.0.0.1:0".into();
    assert!(Config::from_draft(&d).is_ok(), "port 0 never collides");
}

#[test]
fn requiring_tls_needs_a_smart_host() {
    let mut d = ConfigDraft::default();
    d.connections.smart_host_requires_tls = true;
    assert_one_error(&d, "connections.smart_host_requires_tls", |p| matches!(p, Problem::Inconsistent { .. }));
    d.connections.smart_host = "relay.isp.test:587".into();
    let c = Config::from_draft(&d).expect("valid");
    assert!(matches!(c.connections.message_delivery, MessageDelivery::SmartHost { requires_tls: true, .. }));
    assert_eq!(c.to_draft(), d);
}

#[test]
fn filtering_defaults_are_safe() {
    let f = Config::default().filtering;
    assert!(
        !f.dns_lists_enabled && !f.greylisting && f.rspamd.is_none(),
        "what can delay or refuse good mail starts off"
    );
    assert!(f.greet_delay.is_zero());
    assert!(f.sending_limits && f.max_recipients_per_hour == 500 && f.max_recipients_per_day == 2000);
    assert_eq!(f.dns_lists.len(), 2, "the lists are there to tick on");
    assert_eq!(Config::default().to_draft().filtering, FilteringDraft::default(), "the default draft round-trips");
}

#[test]
fn dns_list_answers_name_their_meaning_and_ignore_error_codes() {
    let c = Config::default();
    let zen = &c.filtering.dns_lists[0];
    assert_eq!(
        zen.meaning("127.0.0.4".parse().expect("ip")).as_deref(),
        Some("Spamhaus XBL: an exploited or infected host")
    );
    assert_eq!(zen.meaning("127.0.0.99".parse().expect("ip")).as_deref(), Some("listed (127.0.0.99)"));
    assert_eq!(zen.meaning("127.255.255.254".parse().expect("ip")), None, "an open resolver's refusal is no listing");
    assert_eq!(zen.meaning("10.0.0.1".parse().expect("ip")), None);
}

#[test]
fn a_bad_dns_list_names_its_field() {
    let mut d = ConfigDraft::default();
    d.filtering.dns_lists[0].zone = "not a zone".into();
    assert_one_error(&d, "filtering.dns_lists[0].zone", |p| matches!(p, Problem::InvalidDomain { .. }));
    let mut d = ConfigDraft::default();
    d.filtering.dns_lists[0].answers[1].answer = "10.0.0.3".into();
    assert_one_error(&d, "filtering.dns_lists[0].answers[1].answer", |p| matches!(p, Problem::Inconsistent { .. }));
    let mut d = ConfigDraft::default();
    d.filtering.dns_lists[1].zone = "ZEN.spamhaus.org".into();
    assert_one_error(&d, "filtering.dns_lists[1].zone", |p| matches!(p, Problem::Duplicate { .. }));
}

#[test]
fn greylisting_and_limits_must_make_sense() {
    let mut d = ConfigDraft::default();
    d.filtering.greylist_delay_secs = 600;
    d.filtering.greylist_retry_window_secs = 300;
    assert_one_error(&d, "filtering.greylist_retry_window_secs", |p| matches!(p, Problem::Inconsistent { .. }));
    let mut d = ConfigDraft::default();
    d.filtering.max_recipients_per_day = 100;
    assert_one_error(&d, "filtering.max_recipients_per_day", |p| matches!(p, Problem::Inconsistent { .. }));
    let mut d = ConfigDraft::default();
    d.filtering.greet_delay_secs = 31;
    assert_one_error(&d, "filtering.greet_delay_secs", |p| matches!(p, Problem::OutOfRange { .. }));
}

#[test]
fn rspamd_is_reached_over_plain_http() {
    let ok = HttpEndpoint::parse("http://127.0.0.1:11333/").expect("valid");
    assert_eq!((ok.host.as_str(), ok.port), ("127.0.0.1", 11333));
    assert_eq!(HttpEndpoint::parse("http://rspamd.corp.test").expect("valid").port, 80);
    assert_eq!(HttpEndpoint::parse("http://[::1]:11333").expect("valid").host, "[::1]");
    for bad in ["https://127.0.0.1:11333", "127.0.0.1:11333", "http://:11333", "http://h:0", "http://h:1/checkv2"] {
        assert!(HttpEndpoint::parse(bad).is_err(), "{bad}");
    }
    let mut d = ConfigDraft::default();
    d.filtering.rspamd_url = "https://127.0.0.1".into();
    assert_one_error(&d, "filtering.rspamd_url", |p| matches!(p, Problem::Inconsistent { .. }));
}

#[test]
fn junk_folder_domains_are_domains_and_imap_listens_apart() {
    let mut d = ConfigDraft::default();
    d.filtering.junk_domains = vec!["corp.test".into(), "not a domain".into()];
    assert_one_error(&d, "filtering.junk_domains[1]", |p| matches!(p, Problem::InvalidDomain { .. }));
    d.filtering.junk_domains.pop();
    let c = Config::from_draft(&d).expect("valid");
    assert_eq!(c.filtering.junk_domains.len(), 1);
    assert_eq!(c.to_draft(), d, "round-trips");
    let mut d = ConfigDraft::default();
    d.imap4.listen = d.pop3.listen.clone();
    assert_one_error(&d, "imap4.listen", |p| matches!(p, Problem::Duplicate { .. }));
    let mut d = ConfigDraft::default();
    d.imap4.idle_timeout_secs = 600;
    assert_one_error(&d, "imap4.idle_timeout_secs", |p| matches!(p, Problem::OutOfRange { .. }));
}

#[test]
fn the_acme_certificate_adds_the_set_up_names_only_when_asked_and_https_is_on() {
    let mut d = ConfigDraft::default();
    d.routing.reroute = true;
    d.routing.table.push(RouteEntryDraft { sent_to: "corp.test".into(), reroute_to: None });
    d.security.acme.enabled = true;
    d.security.acme.names = "mail.corp.test".into();
    let names = |d: &ConfigDraft| -> Vec<String> {
        let c = Config::from_draft(d).expect("valid");
        c.acme().expect("acme").names.iter().map(ToString::to_string).collect()
    };
    assert_eq!(names(&d), ["mail.corp.test"]);
    d.security.acme.setup_names = true;
    assert_eq!(names(&d), ["mail.corp.test"], "not while HTTPS is off");
    d.connections.https_listen = "127.0.0.1:8443".into();
    assert_eq!(names(&d), ["mail.corp.test", "autoconfig.corp.test", "autodiscover.corp.test"]);
    // Saved and read back, the option stays and the names typed stay as typed.
    let back = Config::from_draft(&d).expect("valid").to_draft();
    assert!(back.security.acme.setup_names);
    assert_eq!(back.security.acme.names, "mail.corp.test");
}
