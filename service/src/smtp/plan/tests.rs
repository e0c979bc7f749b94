//! The acceptance plan without any I/O: envelopes and configurations in, what the
//! store would be asked to keep out.

use std::collections::BTreeMap;

use mailroom_shared::config::{Config, ConfigDraft};

use super::*;
use crate::smtp::session::Recipient;

const BODY: &[u8] = b"From: ann@corp.test\r\nSubject: Plans\r\nMessage-ID: <p1@corp.test>\r\n\r\nHello.\r\n";

fn config(edit: impl FnOnce(&mut ConfigDraft)) -> Config {
    let mut draft = Config::default().to_draft();
    edit(&mut draft);
    Config::from_draft(&draft).expect("a valid configuration")
}

fn rcpt(address: &str, target: Target) -> Recipient {
    Recipient { address: address.to_owned(), notify: None, orcpt: None, target }
}

fn transaction(from: &str, rcpts: Vec<Recipient>) -> Transaction {
    Transaction {
        from: from.to_owned(),
        body: Body::SevenBit,
        ret: None,
        envid: None,
        commands: rcpts.len(),
        rcpts,
        spf: None,
    }
}

fn envelope(tx: &Transaction) -> Envelope<'_> {
    Envelope {
        tx,
        client: "192.0.2.7:40000".parse().expect("address"),
        helo: "client.example",
        extended: true,
        auth: None,
        sent_for: None,
        trusted: false,
        tls: None,
        authentication: None,
        filter: None,
        hold: None,
    }
}

fn given<'a>(junk_folders: &'a BTreeMap<i64, i64>, srs_secret: Option<&'a str>) -> Given<'a> {
    Given { queue_id: "Q1", now: 1_800_000_000, signatures: b"", srs_secret, junk_folders }
}

fn deliver(plan: Plan) -> NewMessage {
    match plan {
        Plan::Deliver(m) => m,
        Plan::Hold(h) => panic!("held: {}", h.reason),
    }
}

fn spam() -> Option<Hold> {
    Some(Hold { reason: "spam score 12.5".into(), score: Some(12.5) })
}

#[test]
fn local_copies_and_the_outbound_entry_share_one_content() {
    let tx = transaction(
        "friend@outside.test",
        vec![
            rcpt("ann@corp.test", Target::Mailbox(1)),
            rcpt("bob@corp.test", Target::Mailbox(2)),
            rcpt("ann@corp.test", Target::Mailbox(1)),
            rcpt("far@elsewhere.test", Target::Relay),
        ],
    );
    let m = deliver(plan(&envelope(&tx), &Config::default(), BODY, &given(&BTreeMap::new(), None)));
    assert_eq!(m.mailboxes, [1, 2], "each mailbox once");
    assert_eq!(m.local_prefix, b"Return-Path: <friend@outside.test>\r\n");
    assert!(m.content.starts_with(b"Received: from client.example ([192.0.2.7])\r\n\tby "), "{:?}", m.content);
    assert!(m.content.ends_with(BODY));
    let out = m.outbound.expect("queued");
    assert_eq!(out.sender, "friend@outside.test");
    assert_eq!(out.recipients.iter().map(|r| r.address.as_str()).collect::<Vec<_>>(), ["far@elsewhere.test"]);
    assert!(out.recipients[0].failed.is_none());
    assert!(m.forwarded.is_none() && m.folders.is_empty() && m.sent_by.is_none());
    assert_eq!((m.queue_id.as_str(), m.received_at), ("Q1", 1_800_000_000));
}

#[test]
fn a_recipient_without_a_route_fails_at_once_for_its_ndr() {
    let why = "No route: rerouting of incoming SMTP mail is off";
    let tx = transaction("ann@corp.test", vec![rcpt("far@elsewhere.test", Target::Fail(why.into()))]);
    let m = deliver(plan(&envelope(&tx), &Config::default(), BODY, &given(&BTreeMap::new(), None)));
    let failed = m.outbound.expect("queued").recipients[0].failed.clone().expect("failed");
    assert_eq!((failed.status.as_str(), failed.reason.as_str()), ("5.4.4", why));
    assert!(m.mailboxes.is_empty() && m.local_prefix.is_empty(), "no local copy, no Return-Path");
    let failed_event = m.tracking.iter().find(|t| t.event == TrackEvent::Failed).expect("tracked");
    assert_eq!(failed_event.detail.as_deref(), Some(why));
}

#[test]
fn forwarded_copies_leave_with_an_srs_sender_in_the_forwarding_domain() {
    let tx = transaction(
        "Friend@Outside.test",
        vec![
            rcpt("ann@corp.test", Target::Mailbox(1)),
            rcpt("ann@home.test", Target::Forward { domain: "corp.test".into() }),
            rcpt("far@elsewhere.test", Target::Relay),
        ],
    );
    assert_eq!(forwarding_domain(&tx), Some("corp.test"));
    let m = deliver(plan(&envelope(&tx), &Config::default(), BODY, &given(&BTreeMap::new(), Some("s3cret"))));
    let fwd = m.forwarded.expect("a second entry");
    assert!(
        fwd.sender.to_ascii_lowercase().starts_with("srs0=") && fwd.sender.ends_with("@corp.test"),
        "{}",
        fwd.sender
    );
    assert_eq!(crate::srs::reverse(&fwd.sender, "s3cret").as_deref(), Some("friend@outside.test"));
    assert_eq!(fwd.recipients.iter().map(|r| r.address.as_str()).collect::<Vec<_>>(), ["ann@home.test"]);
    let out = m.outbound.expect("the relayed recipient's entry");
    assert_eq!(out.sender, "Friend@Outside.test", "the plain entry keeps the sender");
    let forwarded = m.tracking.iter().find(|t| t.recipient.as_deref() == Some("ann@home.test")).expect("tracked");
    assert_eq!((forwarded.event, forwarded.detail.as_deref()), (TrackEvent::Queued, Some("forwarded")));
}

#[test]
fn nothing_forwarded_needs_no_srs() {
    let tx = transaction("a@outside.test", vec![rcpt("ann@corp.test", Target::Mailbox(1))]);
    assert_eq!(forwarding_domain(&tx), None);
}

#[test]
fn spam_for_junk_domains_is_filed_in_each_junk_folder_and_inbox_where_there_is_none() {
    let cfg = config(|d| d.filtering.junk_domains = vec!["corp.test".into()]);
    let tx = transaction(
        "spammer@outside.test",
        vec![rcpt("ann@corp.test", Target::Mailbox(1)), rcpt("bob@Corp.Test", Target::Mailbox(2))],
    );
    let mut env = envelope(&tx);
    env.hold = spam();
    assert!(files_as_junk(&env, &cfg));
    let junk = BTreeMap::from([(1, 41)]);
    let m = deliver(plan(&env, &cfg, BODY, &given(&junk, None)));
    assert_eq!(m.mailboxes, [1, 2]);
    assert_eq!(m.folders, BTreeMap::from([(1, 41)]), "bob has no Junk folder: his copy goes to INBOX");
    for t in m.tracking.iter().filter(|t| t.recipient.is_some()) {
        assert_eq!(t.event, TrackEvent::Delivered);
        assert_eq!(t.detail.as_deref(), Some("to the Junk folder: spam score 12.5"));
    }
}

#[test]
fn spam_is_held_unless_every_recipient_sorts_their_own() {
    let cfg = config(|d| d.filtering.junk_domains = vec!["corp.test".into()]);
    for rcpts in [
        vec![rcpt("ann@corp.test", Target::Mailbox(1)), rcpt("sam@other.test", Target::Mailbox(3))],
        vec![rcpt("ann@corp.test", Target::Mailbox(1)), rcpt("far@elsewhere.test", Target::Relay)],
    ] {
        let tx = transaction("spammer@outside.test", rcpts);
        let mut env = envelope(&tx);
        env.hold = spam();
        assert!(!files_as_junk(&env, &cfg));
        let Plan::Hold(held) = plan(&env, &cfg, BODY, &given(&BTreeMap::new(), None)) else {
            panic!("delivered");
        };
        assert_eq!((held.reason.as_str(), held.score, held.subject.as_str()), ("spam score 12.5", Some(12.5), "Plans"));
        assert_eq!(held.recipients.len(), 2);
        assert_eq!(held.client.as_deref(), Some("192.0.2.7"));
        assert!(held.message.folders.is_empty(), "released, it goes to INBOX");
        assert!(
            held.message.tracking.iter().filter(|t| t.recipient.is_some()).all(|t| t.event == TrackEvent::Quarantined)
        );
    }
    let tx = transaction("spammer@outside.test", vec![rcpt("ann@corp.test", Target::Mailbox(1))]);
    let mut env = envelope(&tx);
    env.hold = spam();
    assert!(!files_as_junk(&env, &Config::default()), "no Junk domains: held");
}

#[test]
fn the_received_field_names_the_protocol_as_rfc_3848_does_and_a_lone_recipient() {
    let tx = transaction("a@outside.test", vec![rcpt("ann@corp.test", Target::Mailbox(1))]);
    let mut env = envelope(&tx);
    let cases = [
        (false, None, None, "with SMTP id"),
        (true, None, None, "with ESMTP id"),
        (true, None, Some("ann@corp.test"), "with ESMTPA id"),
        (true, Some("TLSv1.3"), None, "with ESMTPS (using TLSv1.3) id"),
        (true, Some("TLSv1.2"), Some("ann@corp.test"), "with ESMTPSA (using TLSv1.2) id"),
    ];
    for (extended, tls, auth, expected) in cases {
        (env.extended, env.tls, env.auth) = (extended, tls, auth);
        let r = received(&env, "mail.corp.test", "Q9", 1_800_000_000);
        assert!(r.contains(&format!("by mail.corp.test (Mailroom) {expected} Q9\r\n\tfor <ann@corp.test>;")), "{r}");
        assert!(r.ends_with("\r\n") && r.starts_with("Received: "), "{r}");
    }
    env.client = "[2001:db8::7]:25".parse().expect("address");
    env.helo = "evil\r\nX-Injected: yes";
    let r = received(&env, "mail.corp.test", "Q9", 1_800_000_000);
    assert!(r.starts_with("Received: from evilX-Injected:yes ([IPv6:2001:db8::7])"), "{r}");
}

#[test]
fn tracking_records_each_recipient_only_when_tracking_is_on() {
    let tx = transaction(
        "a@outside.test",
        vec![
            rcpt("ann@corp.test", Target::Mailbox(1)),
            rcpt("list@corp.test", Target::List(Vec::new())),
            rcpt("far@elsewhere.test", Target::Relay),
        ],
    );
    let mut env = envelope(&tx);
    env.authentication = Some(("Authentication-Results: x\r\n".into(), "dmarc=pass".into()));
    let m = deliver(plan(&env, &Config::default(), BODY, &given(&BTreeMap::new(), None)));
    let events: Vec<_> = m.tracking.iter().map(|t| (t.event, t.recipient.clone())).collect();
    assert_eq!(
        events,
        [
            (TrackEvent::Accepted, None),
            (TrackEvent::Delivered, Some("ann@corp.test".into())),
            (TrackEvent::Queued, Some("far@elsewhere.test".into())),
        ],
        "a list itself is not a recipient of record"
    );
    assert_eq!(m.tracking[0].detail.as_deref(), Some("from 192.0.2.7; dmarc=pass"));
    assert_eq!(m.tracking[0].message_id.as_deref(), Some("<p1@corp.test>"));
    assert!(m.content.starts_with(b"Authentication-Results: x\r\nReceived: "), "our verdict comes first");
    let quiet = config(|d| d.diagnostics.message_tracking = false);
    assert!(deliver(plan(&env, &quiet, BODY, &given(&BTreeMap::new(), None))).tracking.is_empty());
}

#[test]
fn an_authenticated_senders_outside_recipients_count_toward_their_limit() {
    let tx = transaction(
        "ann@corp.test",
        vec![
            rcpt("bob@corp.test", Target::Mailbox(2)),
            rcpt("far@elsewhere.test", Target::Relay),
            rcpt("ann@home.test", Target::Forward { domain: "corp.test".into() }),
        ],
    );
    let mut env = envelope(&tx);
    env.auth = Some("ann@corp.test");
    let m = deliver(plan(&env, &Config::default(), BODY, &given(&BTreeMap::new(), Some("s"))));
    assert_eq!(m.sent_by, Some(SentBy { account: "ann@corp.test".into(), recipients: 2 }));
    assert!(m.tracking[0].detail.as_deref().is_some_and(|d| d.ends_with("; authenticated as ann@corp.test")));
}

#[test]
fn mail_sent_for_a_shared_mailbox_counts_toward_its_limit_and_tracking_names_who_sent_it() {
    let tx = transaction("info@corp.test", vec![rcpt("far@elsewhere.test", Target::Relay)]);
    let mut env = envelope(&tx);
    env.auth = Some("bob@corp.test");
    env.sent_for = Some("info@corp.test");
    let m = deliver(plan(&env, &Config::default(), BODY, &given(&BTreeMap::new(), Some("s"))));
    assert_eq!(m.sent_by, Some(SentBy { account: "info@corp.test".into(), recipients: 1 }));
    assert_eq!(m.tracking[0].detail.as_deref(), Some("from 192.0.2.7; sent for info@corp.test by bob@corp.test"));
    assert_eq!(m.tracking[0].sender.as_deref(), Some("info@corp.test"));
}

#[test]
fn signatures_come_before_everything_else() {
    let tx = transaction("ann@corp.test", vec![rcpt("far@elsewhere.test", Target::Relay)]);
    let empty = BTreeMap::new();
    let given = Given { signatures: b"DKIM-Signature: v=1\r\n", ..given(&empty, None) };
    let m = deliver(plan(&envelope(&tx), &Config::default(), BODY, &given));
    assert!(m.content.starts_with(b"DKIM-Signature: v=1\r\nReceived: "));
}
