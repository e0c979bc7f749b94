//! Table-driven cases for every rule of MODEL.md's Routing tab, then properties.

use std::collections::HashSet;
use std::net::IpAddr;

use proptest::prelude::*;

use super::*;
use crate::config::{Config, ConfigDraft, RouteEntryDraft};

fn addr(s: &str) -> EmailAddress {
    EmailAddress::parse(s).expect("valid test address")
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("valid test ip")
}

fn config(reroute: bool, table: &[(&str, Option<&str>)], edit: impl FnOnce(&mut ConfigDraft)) -> Config {
    let mut d = ConfigDraft::default();
    d.routing.reroute = reroute;
    d.routing.table =
        table.iter().map(|(s, r)| RouteEntryDraft { sent_to: (*s).into(), reroute_to: r.map(Into::into) }).collect();
    edit(&mut d);
    Config::from_draft(&d).expect("valid test config")
}

fn anonymous(client: &str) -> ClientContext {
    ClientContext { authenticated_as: None, client_ip: ip(client), local_ip: ip("127.0.0.1") }
}

fn authenticated(client: &str) -> ClientContext {
    ClientContext { authenticated_as: Some("ann@corp.test".into()), ..anonymous(client) }
}

/// Mailboxes that exist in these tests.
fn directory(a: &EmailAddress) -> bool {
    ["ann@corp.test", "bob@corp.test", "carol@lonely.test"].contains(&a.canonical().as_str())
}

fn run(c: &Config, rcpt: &str, client: &ClientContext) -> Decision {
    decide(&addr(rcpt), client, &c.routing, &c.routing_restrictions, &directory)
}

/// Short name of the final outcome, for compact tables.
fn summary(d: &Decision) -> String {
    match d.outcome() {
        Decision::Local { address } => format!("local {address}"),
        Decision::Relay { address } => format!("relay {address}"),
        Decision::Refused(Refusal::NeverRelay { .. }) => "refused never".into(),
        Decision::Refused(Refusal::NotPermitted { .. }) => "refused".into(),
        Decision::NoRoute(NoRoute::ReroutingOff) => "noroute off".into(),
        Decision::NoRoute(NoRoute::RewriteLoop { .. }) => "noroute loop".into(),
        Decision::NoRoute(NoRoute::InvalidRewrite { .. }) => "noroute invalid".into(),
        Decision::Rewritten { .. } => unreachable!("outcome() follows rewrites"),
    }
}

#[test]
fn rerouting_off_consults_mailboxes_only() {
    let c = config(false, &[("corp.test", None), ("other.test", Some("corp.test"))], |_| {});
    let cases = [
        ("ann@corp.test", anonymous("192.0.2.1"), "local ann@corp.test"),
        ("ANN@Corp.Test", anonymous("192.0.2.1"), "local ANN@corp.test"),
        ("nobody@corp.test", authenticated("127.0.0.1"), "noroute off"),
        ("friend@outside.test", authenticated("127.0.0.1"), "noroute off"),
        ("friend@outside.test", anonymous("127.0.0.1"), "noroute off"),
        ("x@other.test", authenticated("127.0.0.1"), "noroute off"),
        ("carol@lonely.test", anonymous("192.0.2.1"), "local carol@lonely.test"),
    ];
    for (rcpt, client, want) in cases {
        assert_eq!(summary(&run(&c, rcpt, &client)), want, "{rcpt} from {client:?}");
    }
}

#[test]
fn the_founding_scenario() {
    let before = config(false, &[], |_| {});
    assert_eq!(summary(&run(&before, "friend@outside.test", &authenticated("127.0.0.1"))), "noroute off");
    let after = config(true, &[("corp.test", None)], |_| {});
    assert_eq!(summary(&run(&after, "friend@outside.test", &authenticated("127.0.0.1"))), "relay friend@outside.test");
    assert_eq!(summary(&run(&after, "friend@outside.test", &anonymous("127.0.0.1"))), "refused");
    assert_eq!(summary(&run(&after, "bob@corp.test", &anonymous("203.0.113.9"))), "local bob@corp.test");
}

#[test]
fn whole_labels_and_most_specific_entry() {
    let c = config(
        true,
        &[
            ("corp.test", None),
            ("sales.corp.test", Some("partner.test")),
            ("#exact.test", None),
            ("old.test", Some("corp.test")),
        ],
        |_| {},
    );
    let a = authenticated("127.0.0.1");
    let cases = [
        ("x@corp.test", "local x@corp.test"),
        ("x@eu.corp.test", "local x@eu.corp.test"),
        ("x@acorp.test", "relay x@acorp.test"),
        ("x@sales.corp.test", "relay x@partner.test"),
        ("x@eu.sales.corp.test", "relay x@eu.partner.test"),
        ("x@exact.test", "local x@exact.test"),
        ("x@sub.exact.test", "relay x@sub.exact.test"),
        ("x@old.test", "local x@corp.test"),
        ("x@a.old.test", "local x@a.corp.test"),
    ];
    for (rcpt, want) in cases {
        assert_eq!(summary(&run(&c, rcpt, &a)), want, "{rcpt}");
    }
}

#[test]
fn exact_entry_beats_suffix_entry_for_the_same_domain() {
    let c = config(true, &[("corp.test", None), ("#corp.test", Some("new.test"))], |_| {});
    let a = authenticated("127.0.0.1");
    assert_eq!(summary(&run(&c, "x@corp.test", &a)), "relay x@new.test");
    assert_eq!(summary(&run(&c, "x@sub.corp.test", &a)), "local x@sub.corp.test");
}

#[test]
fn rewrites_are_reported_step_by_step() {
    let c = config(true, &[("a.test", Some("b.test")), ("b.test", Some("c.test")), ("c.test", None)], |_| {});
    let d = run(&c, "u@a.test", &anonymous("192.0.2.1"));
    let Decision::Rewritten { from, to, entry, then } = &d else { panic!("expected a rewrite, got {d:?}") };
    assert_eq!((from.to_string(), to.to_string(), entry.as_str()), ("u@a.test".into(), "u@b.test".into(), "a.test"));
    assert!(matches!(**then, Decision::Rewritten { .. }));
    assert_eq!(summary(&d), "local u@c.test");
    assert!(d.explain().contains("rewritten from u@a.test to u@b.test"), "{}", d.explain());
}

#[test]
fn rewrite_loops_are_detected() {
    let c = config(true, &[("a.test", Some("b.test")), ("b.test", Some("a.test"))], |_| {});
    let d = run(&c, "u@a.test", &authenticated("127.0.0.1"));
    let Decision::NoRoute(NoRoute::RewriteLoop { chain }) = d.outcome() else { panic!("expected a loop: {d:?}") };
    let chain: Vec<String> = chain.iter().map(ToString::to_string).collect();
    assert_eq!(chain, ["u@a.test", "u@b.test", "u@a.test"]);
}

/// Regression (found by `rewrites_terminate`): an entry whose target lies within its own
/// domain grew the address forever without repeating it.
#[test]
fn rewrite_into_own_subdomain_is_a_loop() {
    let c = config(true, &[("test", Some("a.test"))], |_| {});
    let d = run(&c, "u@test", &authenticated("127.0.0.1"));
    assert_eq!(summary(&d), "noroute loop", "{d:?}");
}

#[test]
fn relay_restrictions() {
    let c = config(true, &[], |d| {
        let r = &mut d.routing_restrictions;
        r.allow_listed_clients = true;
        r.client_networks = vec!["192.168.1.0/255.255.255.0".into()];
        r.allow_internal_addresses = true;
        r.internal_networks = vec!["10.9.9.9".into()];
        r.never_networks = vec!["192.168.1.66".into()];
    });
    let to_internal = ClientContext { local_ip: ip("10.9.9.9"), ..anonymous("203.0.113.5") };
    let cases = [
        (anonymous("203.0.113.5"), "refused"),
        (authenticated("203.0.113.5"), "relay x@out.test"),
        (anonymous("192.168.1.20"), "relay x@out.test"),
        (anonymous("::ffff:192.168.1.20"), "relay x@out.test"),
        (anonymous("192.168.1.66"), "refused never"),
        (authenticated("192.168.1.66"), "refused never"),
        (to_internal, "relay x@out.test"),
    ];
    for (client, want) in cases {
        assert_eq!(summary(&run(&c, "x@out.test", &client)), want, "{client:?}");
    }
}

#[test]
fn refusal_says_what_was_checked() {
    let c = config(true, &[], |_| {});
    let Decision::Refused(r) = run(&c, "x@out.test", &anonymous("203.0.113.5")) else { panic!("expected refusal") };
    assert_eq!(r.to_string(), "client 203.0.113.5 is not allowed to relay (it has not authenticated)");
}

#[test]
fn confirmed_open_relay_relays_for_anyone_but_the_never_list() {
    let c = config(true, &[], |d| {
        d.routing_restrictions.allow_authenticated = false;
        d.routing_restrictions.open_relay_confirmed = true;
        d.routing_restrictions.never_networks = vec!["198.51.100.0/24".into()];
    });
    assert_eq!(summary(&run(&c, "x@out.test", &anonymous("203.0.113.5"))), "relay x@out.test");
    assert_eq!(summary(&run(&c, "x@out.test", &anonymous("198.51.100.7"))), "refused never");
}

// ---------------------------------------------------------------------------------------
// Properties

fn label() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["a", "b", "corp", "acorp", "sales", "test", "x1", "b-2"]).prop_map(String::from)
}

fn domain() -> impl Strategy<Value = String> {
    prop::collection::vec(label(), 1..4).prop_map(|l| l.join("."))
}

fn table() -> impl Strategy<Value = Vec<(String, Option<String>)>> {
    prop::collection::vec(
        (any::<bool>(), domain(), prop::option::of(domain()))
            .prop_map(|(exact, d, r)| (if exact { format!("#{d}") } else { d.clone() }, r.filter(|r| *r != d))),
        0..6,
    )
    .prop_map(|entries| {
        let mut seen = HashSet::new();
        entries.into_iter().filter(|(k, _)| seen.insert(k.clone())).collect()
    })
}

fn build(reroute: bool, t: &[(String, Option<String>)]) -> Config {
    let t: Vec<(&str, Option<&str>)> = t.iter().map(|(k, r)| (k.as_str(), r.as_deref())).collect();
    config(reroute, &t, |_| {})
}

proptest! {
    /// An entry never matches a domain that merely ends with its text: the character
    /// before the match must be a dot.
    #[test]
    fn matching_is_on_whole_labels(entry in domain(), rcpt in domain()) {
        let e = crate::address::Domain::parse(&entry).expect("valid");
        let r = crate::address::Domain::parse(&rcpt).expect("valid");
        let expected = rcpt == entry || rcpt.ends_with(&format!(".{entry}"));
        prop_assert_eq!(r.is_within(&e), expected);
    }

    /// Entry order never changes a decision.
    #[test]
    fn order_does_not_matter(t in table(), rcpt in domain(), authed in any::<bool>()) {
        let client = if authed { authenticated("127.0.0.1") } else { anonymous("192.0.2.1") };
        let forward = build(true, &t);
        let mut reversed_table = t.clone();
        reversed_table.reverse();
        let reversed = build(true, &reversed_table);
        let r = format!("u@{rcpt}");
        prop_assert_eq!(run(&forward, &r, &client), run(&reversed, &r, &client));
    }

    /// Every decision terminates, and a rewrite chain is never longer than the table.
    #[test]
    fn rewrites_terminate(t in table(), rcpt in domain()) {
        let c = build(true, &t);
        let mut d = &run(&c, &format!("u@{rcpt}"), &authenticated("127.0.0.1"));
        let mut hops = 0;
        while let Decision::Rewritten { then, .. } = d {
            hops += 1;
            d = then;
        }
        prop_assert!(hops <= t.len() + 1, "{hops} hops with {} entries", t.len());
    }

    /// With rerouting off, nothing is ever relayed and the table is ignored.
    #[test]
    fn rerouting_off_never_relays(t in table(), rcpt in domain(), authed in any::<bool>()) {
        let client = if authed { authenticated("127.0.0.1") } else { anonymous("192.0.2.1") };
        let d = run(&build(false, &t), &format!("u@{rcpt}"), &client);
        prop_assert!(matches!(d, Decision::Local { .. } | Decision::NoRoute(NoRoute::ReroutingOff)), "{d:?}");
    }

    /// The never-list wins over every permission, for every client in it.
    #[test]
    fn never_list_wins(t in table(), rcpt in domain(), host in 1u8..255, authed in any::<bool>()) {
        let mut c = build(true, &t).to_draft();
        c.routing_restrictions.allow_listed_clients = true;
        c.routing_restrictions.client_networks = vec!["10.0.0.0/8".into()];
        c.routing_restrictions.never_networks = vec!["10.1.0.0/16".into()];
        let c = Config::from_draft(&c).expect("valid");
        let mut client = anonymous(&format!("10.1.0.{host}"));
        if authed { client.authenticated_as = Some("x".into()); }
        let d = run(&c, &format!("u@{rcpt}"), &client);
        prop_assert!(!matches!(d.outcome(), Decision::Relay { .. }), "{d:?}");
    }

    /// An unauthenticated stranger is never relayed for under the default restrictions.
    #[test]
    fn default_restrictions_never_relay_for_strangers(t in table(), rcpt in domain(), a in 1u8..255, b in 1u8..255) {
        let client = anonymous(&format!("203.0.{a}.{b}"));
        let d = run(&build(true, &t), &format!("u@{rcpt}"), &client);
        prop_assert!(!matches!(d.outcome(), Decision::Relay { .. }), "{d:?}");
    }
}
