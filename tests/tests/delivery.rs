//! Outbound delivery end to end: the real `mailroomd` relaying to a real SMTP peer on
//! loopback (the scriptable [`Sink`], or a second mailroomd), with retries, NDRs and
//! crash recovery.
#![expect(clippy::expect_used, reason = "a test helper fails the test at once, saying what it expected")]

use std::time::Duration;

use mail_parser::{MessageParser, MimeHeaders};
use mailroom_tests::{Daemon, Sink, Smtp, python};

/// A service where ann@corp.test may relay, with the smart host `[sink]` and a retry
/// schedule of one second.
async fn relay(sink: &Sink) -> Daemon {
    relay_to(sink.addr, &[]).await
}

/// Like [`relay`], to any smart host, with extra environment for `mailroomd`.
async fn relay_to(smart_host: std::net::SocketAddr, env: &[(&str, &str)]) -> Daemon {
    let d = Daemon::start_with_env(env).await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    d.ctl_ok(&["routing", "reroute", "on"]);
    d.ctl_ok(&["routing", "add", "corp.test", "--inbound"]);
    d.ctl_ok(&["set", "smarthost", &format!("[{}]:{}", smart_host.ip(), smart_host.port())]);
    d.edit_config(|c| c["delivery"]["retry_intervals_secs"] = serde_json::json!([1]));
    d.ctl_ok(&["restart"]);
    d
}

/// Sends one message as ann@corp.test (authenticated) and returns the session.
async fn send_as_ann(d: &Daemon, from: &str, rcpts: &[&str], body: &str) {
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO c.test", "250");
    s.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAYW5uLXB3", "235");
    s.expect(&format!("MAIL FROM:<{from}>"), "250");
    for r in rcpts {
        s.expect(&format!("RCPT TO:<{r}>"), "250");
    }
    s.expect("DATA", "354");
    s.send(body.as_bytes());
    s.send(b".\r\n");
    let r = s.reply();
    assert!(r.starts_with("250"), "{r}");
    s.expect("QUIT", "221");
}

fn ann_messages(d: &Daemon) -> Vec<Vec<u8>> {
    d.messages_of("ann@corp.test")
}

async fn wait_until(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn relays_through_a_smart_host_byte_for_byte() {
    let sink = Sink::start("127.0.0.1:0", 0).await;
    let d = relay(&sink).await;
    // The client dot-stuffs; Mailroom stores ".leading dot" and must stuff it again.
    send_as_ann(&d, "ann@corp.test", &["friend@outside.test"], "Subject: hello\r\n\r\n..leading dot\r\nbye\r\n").await;
    let got = sink.wait_for(1, 20).await;
    assert_eq!(got[0].from, "ann@corp.test");
    assert_eq!(got[0].to, ["friend@outside.test"]);
    let stored_tail = "Subject: hello\r\n\r\n.leading dot\r\nbye\r\n";
    let data = String::from_utf8(got[0].data.clone()).expect("utf-8");
    assert!(data.starts_with("Received: from c.test"), "{data}");
    assert!(data.ends_with(stored_tail), "relayed byte for byte, no blank line added: {data:?}");
    wait_until("delivered state", 10, || d.count("SELECT COUNT(*) FROM tracking WHERE event = 'relayed'") == 1).await;
    let detail = relayed_detail(&d);
    assert!(detail.ends_with("not encrypted"), "the sink offers no STARTTLS: {detail}");
}

/// Long lines (over RFC 5321's 1,000 octets) go to the next hop unchanged.
#[tokio::test(flavor = "multi_thread")]
async fn long_lines_are_relayed_unchanged() {
    let sink = Sink::start("127.0.0.1:0", 0).await;
    let d = relay(&sink).await;
    let long = "w".repeat(12_345);
    send_as_ann(&d, "ann@corp.test", &["friend@outside.test"], &format!("Subject: long\r\n\r\n{long}\r\n")).await;
    let got = sink.wait_for(1, 20).await;
    let data = String::from_utf8(got[0].data.clone()).expect("utf-8");
    assert!(data.ends_with(&format!("\r\n\r\n{long}\r\n")), "{} bytes relayed", data.len());
}

/// The detail of the (only) `relayed` tracking event.
fn relayed_detail(d: &Daemon) -> String {
    d.db().query_row("SELECT detail FROM tracking WHERE event = 'relayed'", [], |r| r.get(0)).expect("relayed event")
}

/// A second mailroomd to relay to: bob@far.test is a mailbox there. Its TLS
/// certificate is `cert` (certificate and key files), or its own self-signed one.
async fn receiver(cert: Option<(std::path::PathBuf, std::path::PathBuf)>) -> Daemon {
    let r = Daemon::start().await;
    r.add_mailbox("bob@far.test", "bob-pw");
    if let Some((cert, key)) = cert {
        r.edit_config(|c| {
            c["security"]["tls_certificate"] = cert.display().to_string().into();
            c["security"]["tls_key"] = key.display().to_string().into();
        });
        r.ctl_ok(&["restart"]);
    }
    r
}

/// What bob@far.test has on `r`, as text.
fn bobs_messages(r: &Daemon) -> Vec<String> {
    r.all_messages().into_iter().map(|m| String::from_utf8_lossy(&m).into_owned()).collect()
}

/// The queue's last error for the only queued message, once there is one.
async fn last_error(d: &Daemon) -> String {
    let mut error = String::new();
    wait_until("a deferral", 20, || {
        error = d
            .db()
            .query_row("SELECT last_error FROM queue_recipients WHERE state = 'deferred'", [], |r| r.get(0))
            .unwrap_or_default();
        !error.is_empty()
    })
    .await;
    error
}

/// Delivery to a host that offers STARTTLS is encrypted, whatever its certificate
/// (opportunistic TLS, RFC 7435); the receiving side records ESMTPS.
#[tokio::test(flavor = "multi_thread")]
async fn relays_over_starttls_when_the_next_hop_offers_it() {
    let r = receiver(None).await;
    let d = relay_to(r.smtp_addr().await, &[]).await;
    send_as_ann(&d, "ann@corp.test", &["bob@far.test"], "Subject: tls\r\n\r\nsealed\r\n").await;
    wait_until("delivery", 20, || bobs_messages(&r).len() == 1).await;
    let got = &bobs_messages(&r)[0];
    assert!(got.contains("with ESMTPS (using TLSv1.3)"), "the receiver saw TLS: {got}");
    wait_until("tracking", 10, || d.count("SELECT COUNT(*) FROM tracking WHERE event = 'relayed'") == 1).await;
    assert!(relayed_detail(&d).ends_with("over TLSv1.3"), "{}", relayed_detail(&d));
}

/// Opportunistic TLS never stands between the mail and its delivery: when the
/// handshake fails, the message goes in plain text on a fresh connection.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_opportunistic_handshake_falls_back_to_plain_text() {
    let sink = Sink::start_with_broken_tls().await;
    let d = relay(&sink).await;
    send_as_ann(&d, "ann@corp.test", &["friend@outside.test"], "Subject: fallback\r\n\r\nx\r\n").await;
    sink.wait_for(1, 20).await;
    wait_until("tracking", 10, || d.count("SELECT COUNT(*) FROM tracking WHERE event = 'relayed'") == 1).await;
    assert!(relayed_detail(&d).ends_with("not encrypted"));
    assert!(d.log().contains("TLS handshake failed; delivering without TLS"), "{}", d.log());
}

/// A smart host marked "requires TLS" gets mail only over TLS with a certificate that
/// is valid for it under the system's trust store (here a test CA, given to
/// mailroomd with `SSL_CERT_FILE`); a self-signed certificate or a host without
/// STARTTLS defers the mail, with the reason in the queue.
#[tokio::test(flavor = "multi_thread")]
async fn a_smart_host_that_requires_tls_must_prove_who_it_is() {
    let ca = mailroom_tests::TestCa::new();
    let trusted = receiver(Some(ca.issue(&["127.0.0.1"]))).await;
    let env = [("SSL_CERT_FILE", ca.cert.to_str().expect("utf-8 path"))];
    let d = relay_to(trusted.smtp_addr().await, &env).await;
    d.ctl_ok(&["set", "smarthost-tls", "required"]);
    d.ctl_ok(&["restart"]);
    send_as_ann(&d, "ann@corp.test", &["bob@far.test"], "Subject: verified\r\n\r\nx\r\n").await;
    wait_until("delivery", 20, || bobs_messages(&trusted).len() == 1).await;
    assert!(bobs_messages(&trusted)[0].contains("with ESMTPS"));

    let untrusted = receiver(None).await;
    let d = relay_to(untrusted.smtp_addr().await, &env).await;
    d.ctl_ok(&["set", "smarthost-tls", "required"]);
    d.ctl_ok(&["restart"]);
    send_as_ann(&d, "ann@corp.test", &["bob@far.test"], "Subject: refused\r\n\r\nx\r\n").await;
    let error = last_error(&d).await;
    assert!(error.contains("TLS handshake with") && error.contains("certificate"), "{error}");
    assert!(bobs_messages(&untrusted).is_empty(), "nothing went over an unverified connection");

    let sink = Sink::start("127.0.0.1:0", 0).await;
    let d = relay_to(sink.addr, &env).await;
    d.ctl_ok(&["set", "smarthost-tls", "required"]);
    d.ctl_ok(&["restart"]);
    send_as_ann(&d, "ann@corp.test", &["bob@far.test"], "Subject: plain\r\n\r\nx\r\n").await;
    let error = last_error(&d).await;
    assert!(error.contains("does not offer STARTTLS"), "{error}");
    assert!(sink.messages().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn domain_forwards_keep_the_address_and_rewrites_deliver_to_the_new_one() {
    let smart = Sink::start("127.0.0.1:0", 0).await;
    let partner = Sink::start("127.0.0.1:0", 0).await;
    let d = relay(&smart).await;
    d.edit_config(|c| {
        c["connections"]["domain_forwards"] =
            serde_json::json!([{"domain": "partner.test", "host": format!("[127.0.0.1]:{}", partner.addr.port())}])
    });
    d.ctl_ok(&["routing", "add", "old.test", "--reroute-to", "new.test"]);
    d.ctl_ok(&["restart"]);
    send_as_ann(&d, "ann@corp.test", &["bob@sales.partner.test", "carol@old.test"], "Subject: x\r\n\r\nx\r\n").await;
    let p = partner.wait_for(1, 20).await;
    assert_eq!(p[0].to, ["bob@sales.partner.test"], "forwarded with the address kept");
    let s = smart.wait_for(1, 20).await;
    assert_eq!(s[0].to, ["carol@new.test"], "rewritten, then relayed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_temporary_failure_is_retried() {
    let sink = Sink::start("127.0.0.1:0", 1).await;
    let d = relay(&sink).await;
    send_as_ann(&d, "ann@corp.test", &["tempfail@outside.test"], "Subject: retry\r\n\r\nx\r\n").await;
    wait_until("a deferral", 20, || d.count("SELECT COUNT(*) FROM tracking WHERE event = 'deferred'") == 1).await;
    let last_error: String =
        d.db().query_row("SELECT detail FROM tracking WHERE event = 'deferred'", [], |r| r.get(0)).expect("row");
    assert!(last_error.contains("451 4.3.0"), "{last_error}");
    let got = sink.wait_for(1, 20).await;
    assert_eq!(got[0].to, ["tempfail@outside.test"]);
    assert!(ann_messages(&d).is_empty(), "no NDR for a message delivered on retry");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_permanent_failure_comes_back_as_an_rfc3464_ndr() {
    let sink = Sink::start("127.0.0.1:0", 0).await;
    let d = relay(&sink).await;
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO c.test", "250");
    s.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAYW5uLXB3", "235");
    s.expect("MAIL FROM:<ann@corp.test> ENVID=env-42", "250");
    s.expect("RCPT TO:<reject@outside.test> ORCPT=rfc822;reject@outside.test", "250");
    s.expect("RCPT TO:<ok@outside.test>", "250");
    s.expect("DATA", "354");
    s.send(b"Subject: quarterly report\r\nMessage-ID: <q1@corp.test>\r\n\r\nthe body\r\n.\r\n");
    assert!(s.reply().starts_with("250"));
    s.expect("QUIT", "221");
    let got = sink.wait_for(1, 20).await;
    assert_eq!(got[0].to, ["ok@outside.test"], "partial success: the other recipient is delivered");
    wait_until("the NDR", 20, || ann_messages(&d).len() == 1).await;
    let raw = ann_messages(&d).remove(0);
    let ndr = MessageParser::default().parse(&raw).expect("the NDR parses");
    assert_eq!(ndr.subject(), Some("Undeliverable: quarterly report"));
    let ct = ndr.content_type().expect("content type");
    assert_eq!((ct.ctype(), ct.subtype()), ("multipart", Some("report")));
    assert_eq!(ct.attribute("report-type"), Some("delivery-status"));
    assert_eq!(ndr.parts.len(), 4, "the multipart and its three parts");
    let text = ndr.body_text(0).expect("human part");
    assert!(text.contains("Your message did not reach some or all of the intended recipients."), "{text}");
    assert!(text.contains("quarterly report") && text.contains("reject@outside.test"), "{text}");
    assert!(text.contains("Unknown recipient"), "{text}");
    let dsn = String::from_utf8_lossy(ndr.parts[2].contents()).into_owned();
    let field = |name: &str| dsn.lines().find_map(|l| l.strip_prefix(&format!("{name}: "))).map(str::to_owned);
    assert_eq!(field("Reporting-MTA").as_deref(), Some("dns; localhost"));
    assert_eq!(field("Original-Envelope-Id").as_deref(), Some("env-42"));
    assert_eq!(field("Final-Recipient").as_deref(), Some("rfc822; reject@outside.test"));
    assert_eq!(field("Original-Recipient").as_deref(), Some("rfc822; reject@outside.test"));
    assert_eq!(field("Action").as_deref(), Some("failed"));
    assert_eq!(field("Status").as_deref(), Some("5.1.1"));
    assert_eq!(field("Remote-MTA").as_deref(), Some("dns; 127.0.0.1"));
    // RFC 3464 §2.3.6: the reply itself after "smtp;"; who said it is in Remote-MTA.
    // (Regression: it read "smtp; 127.0.0.1 said: 550 5.1.1 …".)
    assert_eq!(field("Diagnostic-Code").as_deref(), Some("smtp; 550 5.1.1 no such user here"));
    let original = String::from_utf8_lossy(ndr.parts[3].contents()).into_owned();
    assert!(original.contains("Subject: quarterly report") && !original.contains("the body"), "{original}");
    assert!(String::from_utf8_lossy(&raw).starts_with("Return-Path: <>\r\n"), "sent from <>");
}

#[tokio::test(flavor = "multi_thread")]
async fn expiry_returns_the_message_with_an_ndr() {
    let sink = Sink::start("127.0.0.1:0", usize::MAX).await;
    let d = relay(&sink).await;
    d.edit_config(|c| c["delivery"]["expire_after_secs"] = 60.into());
    d.ctl_ok(&["restart"]);
    send_as_ann(&d, "ann@corp.test", &["tempfail@outside.test"], "Subject: slow\r\n\r\nx\r\n").await;
    wait_until("a deferral", 20, || d.count("SELECT COUNT(*) FROM tracking WHERE event = 'deferred'") >= 1).await;
    {
        // Age the message past the expiry instead of waiting a minute.
        let db = rusqlite::Connection::open(d.data_dir.join("mailroom.db")).expect("open");
        db.busy_timeout(Duration::from_secs(10)).expect("busy");
        db.execute("UPDATE queue_messages SET received_at = received_at - 3600", []).expect("age");
    }
    wait_until("the expiry NDR", 20, || ann_messages(&d).len() == 1).await;
    let ndr = String::from_utf8_lossy(&ann_messages(&d)[0]).into_owned();
    assert!(ndr.contains("Status: 4.4.7") && ndr.contains("Delivery time expired"), "{ndr}");
    assert!(ndr.contains("451 4.3.0 try again later"), "the last error is reported: {ndr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_ndr_for_the_null_sender_nor_for_notify_never() {
    let sink = Sink::start("127.0.0.1:0", 0).await;
    let d = relay(&sink).await;
    send_as_ann(&d, "", &["reject@outside.test"], "Subject: bounce\r\n\r\nx\r\n").await;
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO c.test", "250");
    s.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAYW5uLXB3", "235");
    s.expect("MAIL FROM:<ann@corp.test>", "250");
    s.expect("RCPT TO:<reject2@outside.test> NOTIFY=NEVER", "250");
    s.expect("DATA", "354");
    s.send(b"Subject: quiet\r\n\r\nx\r\n.\r\n");
    assert!(s.reply().starts_with("250"));
    wait_until("both failures handled", 20, || {
        d.count("SELECT COUNT(*) FROM queue_recipients WHERE state = 'failed' AND ndr_done = 1") == 2
            || d.count("SELECT COUNT(*) FROM tracking WHERE event = 'failed'") == 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(ann_messages(&d).is_empty(), "no NDR was written");
    assert_eq!(d.count("SELECT COUNT(*) FROM queue_messages WHERE queue_id LIKE '%.NDR'"), 0, "nor queued");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_founding_scenario_end_to_end_with_a_second_mailroomd() {
    // The outside world: another mailroomd where friend@outside.test has a mailbox.
    let outside = Daemon::start().await;
    outside.add_mailbox("friend@outside.test", "friend-pw");
    let outside_smtp = outside.smtp_addr().await;
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    d.ctl_ok(&["set", "smarthost", &format!("[127.0.0.1]:{}", outside_smtp.port())]);
    d.ctl_ok(&["restart"]);
    let pop3 = d.status().await.pop3_addr.expect("pop3");
    let (ip, port) = pop3.rsplit_once(':').expect("addr");
    let send = r#"
import smtplib, sys
with smtplib.SMTP(sys.argv[1], int(sys.argv[2])) as s:
    s.login("ann@corp.test", "ann-pw")
    s.sendmail("ann@corp.test", ["friend@outside.test"], "Subject: lunch?\r\n\r\nAre you free?\r\n")
"#;
    let smtp = d.smtp_addr().await;
    let (ok, _, err) = python(send, &[&smtp.ip().to_string(), &smtp.port().to_string()]);
    assert!(ok, "{err}");
    // Before rerouting: the NDR comes back, readable over POP3.
    let read_ndr = r#"
import poplib, sys, time
for _ in range(100):
    p = poplib.POP3(sys.argv[1], int(sys.argv[2])); p.user("ann@corp.test"); p.pass_("ann-pw")
    n = p.stat()[0]
    if n:
        print(b"\n".join(p.retr(1)[1]).decode()); p.quit(); break
    p.quit(); time.sleep(0.1)
"#;
    let (ok, ndr, err) = python(read_ndr, &[ip, port]);
    assert!(ok, "{err}");
    assert!(ndr.contains("Undeliverable: lunch?") && ndr.contains("rerouting of incoming SMTP mail is off"), "{ndr}");
    assert_eq!(outside.count("SELECT COUNT(*) FROM messages"), 0);

    // The administrator's fix, then the same mail reaches the outside.
    d.ctl_ok(&["routing", "reroute", "on"]);
    d.ctl_ok(&["routing", "add", "corp.test", "--inbound"]);
    d.ctl_ok(&["restart"]);
    let smtp = d.smtp_addr().await;
    let (ok, _, err) = python(send, &[&smtp.ip().to_string(), &smtp.port().to_string()]);
    assert!(ok, "{err}");
    wait_until("delivery to the outside mailroomd", 20, || outside.count("SELECT COUNT(*) FROM messages") == 1).await;
    let content: Vec<u8> = outside.all_messages().remove(0);
    assert!(String::from_utf8_lossy(&content).contains("Are you free?"));
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_during_a_burst_loses_nothing() {
    let sink = Sink::start("127.0.0.1:0", 0).await;
    let mut d = relay(&sink).await;
    const N: usize = 200;
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO c.test", "250");
    s.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAYW5uLXB3", "235");
    for i in 0..N {
        s.send(format!("MAIL FROM:<ann@corp.test>\r\nRCPT TO:<friend{i}@outside.test>\r\nDATA\r\n").as_bytes());
        for _ in 0..3 {
            s.reply();
        }
        s.send(format!("Message-ID: <burst-{i}@corp.test>\r\n\r\nmessage {i}\r\n.\r\n").as_bytes());
        let r = s.reply();
        assert!(r.starts_with("250"), "{r}");
    }
    // Every message is acknowledged; kill the service while it is relaying them.
    d.signal("KILL");
    let _ = d.wait_exit();
    let before = sink.messages().len();
    let mut again = d.spawn(&[]);
    d.wait_for_socket().await;
    let got = sink.wait_for(N, 60).await;
    let mut seen = std::collections::HashMap::new();
    for m in &got {
        let text = String::from_utf8_lossy(&m.data).into_owned();
        let id = text.lines().find_map(|l| l.strip_prefix("Message-ID: ")).expect("message id").to_owned();
        *seen.entry(id).or_insert(0) += 1;
    }
    for i in 0..N {
        let n = seen.get(&format!("<burst-{i}@corp.test>")).copied().unwrap_or(0);
        assert!((1..=2).contains(&n), "message {i} delivered {n} times");
    }
    eprintln!("{before} delivered before kill -9, {} deliveries in all for {N} messages", got.len());
    let _ = again.kill();
    let _ = again.wait();
}

#[tokio::test(flavor = "multi_thread")]
async fn queue_administration_and_tracking_from_the_command_line() {
    // Each of the two messages is refused once for now.
    let sink = Sink::start("127.0.0.1:0", 2).await;
    let d = relay(&sink).await;
    d.edit_config(|c| c["delivery"]["retry_intervals_secs"] = serde_json::json!([3600]));
    d.ctl_ok(&["restart"]);
    send_as_ann(
        &d,
        "ann@corp.test",
        &["tempfail@outside.test"],
        "Subject: waits\r\nMessage-ID: <w1@corp.test>\r\n\r\nx\r\n",
    )
    .await;
    send_as_ann(&d, "ann@corp.test", &["tempfail-too@outside.test"], "Subject: doomed\r\n\r\nx\r\n").await;
    wait_until("both deferred", 20, || d.count("SELECT COUNT(*) FROM queue_recipients WHERE state = 'deferred'") == 2)
        .await;

    let list: serde_json::Value = serde_json::from_str(&d.ctl_ok(&["queue", "list", "--json"])).expect("json");
    let messages = list["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 2);
    let waits = messages.iter().find(|m| m["recipients"][0] == "tempfail@outside.test").expect("listed");
    let doomed = messages.iter().find(|m| m["recipients"][0] == "tempfail-too@outside.test").expect("listed");
    assert!(waits["last_error"].as_str().is_some_and(|e| e.contains("451 4.3.0")), "{waits}");
    assert!(waits["next_attempt"].as_i64().is_some());
    let filtered: serde_json::Value =
        serde_json::from_str(&d.ctl_ok(&["queue", "list", "--recipient", "too@", "--json"])).expect("json");
    assert_eq!(filtered["messages"].as_array().map(Vec::len), Some(1));

    let qid = waits["queue_id"].as_str().expect("id").to_owned();
    let show = d.ctl_ok(&["queue", "show", &qid]);
    assert!(
        show.contains("tempfail@outside.test [deferred] 1 attempt(s)") && show.contains("Subject: waits"),
        "{show}"
    );

    // The sink now accepts (its temporary failures are used up): retry now delivers.
    d.ctl_ok(&["queue", "retry", &qid]);
    sink.wait_for(1, 20).await;

    let doomed_id = doomed["queue_id"].as_str().expect("id").to_owned();
    d.ctl_ok(&["queue", "delete", &doomed_id]);
    wait_until("the NDR for the deleted message", 20, || ann_messages(&d).len() == 1).await;
    assert!(String::from_utf8_lossy(&ann_messages(&d)[0]).contains("Deleted from the queue by the administrator"));
    assert_eq!(d.ctl(&["queue", "delete", &doomed_id]).status.code(), Some(1), "nothing left to delete");

    let track: serde_json::Value =
        serde_json::from_str(&d.ctl_ok(&["track", "--message-id", "<w1@corp.test>", "--json"])).expect("json");
    let events: Vec<&str> =
        track["events"].as_array().expect("events").iter().filter_map(|e| e["event"].as_str()).collect();
    assert!(events.contains(&"accepted") && events.contains(&"queued"), "{events:?}");
    let track: serde_json::Value =
        serde_json::from_str(&d.ctl_ok(&["track", "--recipient", "tempfail@outside.test", "--json"])).expect("json");
    let events: Vec<&str> =
        track["events"].as_array().expect("events").iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(events.first(), Some(&"relayed"), "newest first: {events:?}");
    assert!(events.contains(&"deferred"), "{events:?}");
    assert!(track["events"][0]["at"].is_i64(), "--json keeps Unix seconds");

    // Regression: `track` printed raw Unix seconds, and a delivery's events showed the
    // sender as "-". Now local time in ISO 8601, and the sender.
    let shown = d.ctl_ok(&["track", "--recipient", "tempfail@outside.test"]);
    let first = shown.lines().next().expect("a line");
    let stamp = first.split_whitespace().next().expect("a time");
    assert!(stamp.len() == 25 && &stamp[4..5] == "-" && &stamp[10..11] == "T", "ISO 8601: {first}");
    for line in shown.lines().filter(|l| l.contains("relayed") || l.contains("deferred")) {
        assert!(line.contains("ann@corp.test -> tempfail@outside.test"), "the sender is shown: {line}");
    }
}

/// MX records from a real DNS server, in preference order, with the A-record fallback
/// for a domain without MX and a permanent failure for one that does not exist.
#[tokio::test(flavor = "multi_thread")]
async fn delivers_by_mx_records_from_a_dns_server() {
    // Port 25 on a loopback address of its own: MX delivery always uses port 25.
    mailroom_tests::require_root("to listen on port 25");
    let dns = mailroom_tests::Dns::start(&[
        // mx.test: a dead preferred MX (nothing listens on 127.0.0.26:25), then a live one.
        "--mx-host=mx.test,dead.mx.test,5",
        "--mx-host=mx.test,live.mx.test,10",
        "--host-record=dead.mx.test,127.0.0.26",
        "--host-record=live.mx.test,127.0.0.25",
        // plain.test has no MX, only an address.
        "--host-record=plain.test,127.0.0.25",
        // Answer for these zones here (NODATA, NXDOMAIN) instead of refusing.
        "--local=/test/",
        "--local=/invalid/",
    ]);
    let sink = Sink::start("127.0.0.25:25", 0).await;
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    d.ctl_ok(&["routing", "reroute", "on"]);
    d.ctl_ok(&["routing", "add", "corp.test", "--inbound"]);
    d.ctl_ok(&["set", "dns-server", &format!("127.0.0.1:{}", dns.port)]);
    d.ctl_ok(&["restart"]);
    send_as_ann(&d, "ann@corp.test", &["a@mx.test", "b@plain.test", "c@nowhere.invalid"], "Subject: dns\r\n\r\nx\r\n")
        .await;
    let got = sink.wait_for(2, 30).await;
    let mut to: Vec<String> = got.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(to, ["a@mx.test", "b@plain.test"]);
    wait_until("the NDR for the unknown domain", 30, || ann_messages(&d).len() == 1).await;
    let ndr = String::from_utf8_lossy(&ann_messages(&d)[0]).into_owned();
    assert!(ndr.contains("c@nowhere.invalid") && ndr.contains("Host unknown"), "{ndr}");
    drop(dns);
}

#[tokio::test(flavor = "multi_thread")]
async fn transfer_modes_hold_and_flush_the_queue() {
    let sink = Sink::start("127.0.0.1:0", 0).await;
    let d = relay(&sink).await;
    d.edit_config(|c| c["connections"]["transfer_mode"] = "inbound_only".into());
    d.ctl_ok(&["restart"]);
    send_as_ann(&d, "ann@corp.test", &["friend@outside.test"], "Subject: held\r\n\r\nx\r\n").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(sink.messages().is_empty(), "inbound only: outbound mail waits in the queue");
    assert_eq!(d.count("SELECT COUNT(*) FROM queue_recipients WHERE state = 'scheduled'"), 1);

    // None (flush queues): no SMTP listener, but what is queued goes out.
    d.edit_config(|c| c["connections"]["transfer_mode"] = "none".into());
    d.ctl_ok(&["restart"]);
    assert_eq!(d.status().await.smtp_addr, None);
    assert_eq!(sink.wait_for(1, 20).await[0].to, ["friend@outside.test"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn ndrs_for_outside_senders_are_queued_and_the_administrator_gets_a_copy() {
    let sink = Sink::start("127.0.0.1:0", 0).await;
    let d = relay(&sink).await;
    d.add_mailbox("admin@corp.test", "admin-pw");
    d.edit_config(|c| c["general"]["administrator_mailbox"] = "admin@corp.test".into());
    d.ctl_ok(&["restart"]);
    // Ann sends on behalf of an outside address; its recipient is refused for good.
    send_as_ann(&d, "boss@elsewhere.test", &["reject@outside.test"], "Subject: from outside\r\n\r\nx\r\n").await;
    let got = sink.wait_for(1, 20).await;
    assert_eq!(got[0].from, "", "the NDR goes out from <>");
    assert_eq!(got[0].to, ["boss@elsewhere.test"]);
    assert!(String::from_utf8_lossy(&got[0].data).contains("Undeliverable: from outside"));
    let copies = d.count(
        "SELECT COUNT(*) FROM messages m JOIN addresses a ON a.mailbox_id = m.mailbox_id WHERE a.address = 'admin@corp.test'",
    );
    assert_eq!(copies, 1, "the administrator's copy");
}

/// Regression (issue 25): a sender or recipient at an address literal
/// (`user@[192.0.2.1]`, RFC 5321 §4.1.3) got `501 5.1.7`. A literal sender is a
/// sender; a literal recipient is relayed, to the smart host here, by clients that may
/// relay and refused to strangers; this server's own address stands for its host name.
#[tokio::test(flavor = "multi_thread")]
async fn address_literals_are_senders_and_recipients() {
    let sink = Sink::start("127.0.0.1:0", 0).await;
    let d = relay(&sink).await;
    d.edit_config(|c| c["general"]["administrator_mailbox"] = "ann@corp.test".into());
    d.ctl_ok(&["restart"]);
    send_as_ann(&d, "ann@corp.test", &["friend@[192.0.2.7]", "v6@[IPv6:2001:db8::7]"], "Subject: literal\r\n\r\nx\r\n")
        .await;
    let got = sink.wait_for(1, 20).await;
    assert_eq!(got[0].to, ["friend@[192.0.2.7]", "v6@[IPv6:2001:db8::7]"], "relayed with the literals as written");

    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO c.test", "250");
    s.expect("MAIL FROM:<someone@[192.0.2.9]>", "250 2.1.0");
    s.expect("RCPT TO:<friend@[192.0.2.7]>", "550 5.7.1 Unable to relay");
    s.expect("RCPT TO:<nobody@[127.0.0.1]>", "550 5.1.1");
    s.expect("RCPT TO:<user@[192.0.2.300]>", "501 5.1.3");
    s.expect("RCPT TO:<postmaster@[127.0.0.1]>", "250 2.1.5");
    s.expect("DATA", "354");
    s.send(b"Subject: from a literal\r\n\r\nx\r\n.\r\n");
    let r = s.reply();
    assert!(r.starts_with("250"), "{r}");
    s.expect("QUIT", "221");
    let mine = ann_messages(&d);
    assert_eq!(mine.len(), 1, "postmaster@[our address] reached the administrator");
    assert!(String::from_utf8_lossy(&mine[0]).contains("Subject: from a literal"));
}
