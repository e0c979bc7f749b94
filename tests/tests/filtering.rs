//! Message filtering end to end, against the real `mailroomd` with real peers: DNS
//! blocklists and allowlists served by dnsmasq, greylisting of a real Postfix that
//! queues and retries, the early-talker test, rspamd scanning (GTUBE and its test
//! patterns), the sending limits with the administrator told, and the quarantine
//! read and released over POP3.
//!
//! Clients reach the service from other loopback addresses (127.0.0.2, .3…) so that
//! it sees strangers: mail from the address it listens on is this machine's own, which
//! no defence applies to.
#![expect(clippy::expect_used, reason = "a test helper fails the test at once, saying what it expected")]

use std::time::{Duration, Instant};

use mailroom_tests::{Daemon, Dns, Postfix, Rspamd, Sink, Smtp, python};

/// Sends one message with Python's smtplib from `source`; prints `250 accepted` or the
/// refusal's code and text.
const SEND: &str = r#"
import smtplib, sys
host, port, source, mail_from, rcpt, subject, body = sys.argv[1:8]
msg = (f"From: {mail_from}\r\nTo: {rcpt}\r\nSubject: {subject}\r\n"
       f"Message-ID: <{abs(hash(subject + body))}@outside.test>\r\n\r\n{body}\r\n")
s = smtplib.SMTP(host, int(port), source_address=(source, 0), timeout=60)
try:
    s.sendmail(mail_from, [rcpt], msg)
    print("250 accepted")
except smtplib.SMTPSenderRefused as e:
    print(e.smtp_code, e.smtp_error.decode())
except smtplib.SMTPRecipientsRefused as e:
    code, err = list(e.recipients.values())[0]
    print(code, err.decode())
except smtplib.SMTPDataError as e:
    print(e.smtp_code, e.smtp_error.decode())
try:
    s.quit()
except Exception:
    pass
"#;

/// Sends with smtplib from `source` to the service; the outcome as [`SEND`] prints it.
async fn send(d: &Daemon, source: &str, from: &str, to: &str, subject: &str, body: &str) -> String {
    let addr = d.smtp_addr().await;
    let (host, port) = (addr.ip().to_string(), addr.port().to_string());
    let (_, out, err) = python(SEND, &[&host, &port, source, from, to, subject, body]);
    assert!(!out.is_empty(), "smtplib failed: {err}");
    out.trim().to_owned()
}

/// Ann's service with corp.test inbound and its DNS server at `dns`.
async fn service(dns: &Dns) -> Daemon {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    d.ctl_ok(&["routing", "reroute", "on"]);
    d.ctl_ok(&["routing", "add", "corp.test", "--inbound"]);
    d.ctl_ok(&["set", "host-name", "mail.corp.test"]);
    d.ctl_ok(&["set", "dns-server", &dns.addr()]);
    d.ctl_ok(&["restart"]);
    d
}

/// Ann's messages as text.
fn ann(d: &Daemon) -> Vec<String> {
    d.messages_of("ann@corp.test").iter().map(|m| String::from_utf8_lossy(m).into_owned()).collect()
}

/// Waits until Ann has a message with `subject`; its text.
async fn delivered(d: &Daemon, subject: &str, secs: u64) -> String {
    delivered_else(d, subject, secs, String::new).await
}

/// [`delivered`], telling `why()` (a peer's log, say) when the message never comes.
async fn delivered_else(d: &Daemon, subject: &str, secs: u64, why: impl Fn() -> String) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(m) = ann(d).into_iter().find(|m| m.contains(subject)) {
            return m;
        }
        assert!(Instant::now() < deadline, "no message {subject:?} delivered within {secs} s\n{}", why());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn status_json(d: &Daemon) -> serde_json::Value {
    serde_json::from_str(&d.ctl_ok(&["status", "--json"])).expect("status JSON")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_on_a_dns_blocklist_is_refused_naming_the_list() {
    let dns = Dns::start(&[
        "--local=/test/",
        "--host-record=2.0.0.127.zen.test,127.0.0.2",
        "--host-record=4.0.0.127.zen.test,127.0.0.4",
        "--host-record=4.0.0.127.wl.test,127.0.0.5",
    ]);
    let d = service(&dns).await;
    d.edit_config(|c| {
        c["filtering"]["dns_lists_enabled"] = true.into();
        c["filtering"]["dns_lists"] = serde_json::json!([
            {"zone": "zen.test", "allow": false, "answers": [{"answer": "127.0.0.2", "meaning": "a test listing"}]},
            {"zone": "wl.test", "allow": true, "answers": []},
        ]);
    });
    d.ctl_ok(&["restart"]);

    // Listed: refused at MAIL FROM with 554 5.7.1, naming the list and the meaning.
    let refused = send(&d, "127.0.0.2", "bob@outside.test", "ann@corp.test", "listed", "x").await;
    assert_eq!(refused, "554 5.7.1 Service unavailable; client [127.0.0.2] blocked using zen.test: a test listing");
    // Not listed: accepted.
    assert_eq!(send(&d, "127.0.0.3", "carl@outside.test", "ann@corp.test", "clean", "x").await, "250 accepted");
    // Listed on a blocklist and an allowlist: the allowlist wins.
    assert_eq!(send(&d, "127.0.0.4", "dora@outside.test", "ann@corp.test", "allowed", "x").await, "250 accepted");
    // Listed but authenticated: the lists never refuse our own users.
    let mut s = Smtp::connect_from(d.smtp_addr().await, "127.0.0.2".parse().expect("ip")).await;
    s.expect("EHLO laptop.corp.test", "250");
    s.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAYW5uLXB3", "235");
    s.expect("MAIL FROM:<ann@corp.test>", "250");
    s.expect("QUIT", "221");

    let tracked = d.ctl_ok(&["track", "--sender", "bob@outside.test"]);
    assert!(tracked.contains("refused") && tracked.contains("blocked using zen.test"), "{tracked}");
    assert_eq!(status_json(&d)["filtering"]["dns_listed"], 1);

    // A list that does not answer refuses nobody.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    d.ctl_ok(&["set", "dns-server", &silent.local_addr().expect("addr").to_string()]);
    d.edit_config(|c| c["security"]["message_authentication"]["check_inbound"] = false.into());
    d.ctl_ok(&["restart"]);
    assert_eq!(send(&d, "127.0.0.2", "bob@outside.test", "ann@corp.test", "no dns", "x").await, "250 accepted");
}

#[tokio::test(flavor = "multi_thread")]
async fn greylisting_defers_a_real_mta_that_retries_and_delivers_once() {
    let dns = Dns::start(&["--local=/test/"]);
    let d = service(&dns).await;
    // Listening on 127.0.0.2, so that Postfix (from 127.0.0.1) is a stranger.
    d.ctl_ok(&["set", "smtp-listen", "127.0.0.2:0"]);
    d.edit_config(|c| {
        c["filtering"]["greylisting"] = true.into();
        c["filtering"]["greylist_delay_secs"] = 2.into();
        c["filtering"]["greylist_retry_window_secs"] = 600.into();
    });
    d.ctl_ok(&["restart"]);
    let addr = d.smtp_addr().await;
    let postfix = Postfix::start(addr);

    // A client's first try is deferred with a hint, and so is a retry too soon.
    let mut s = Smtp::connect_from(addr, "127.0.0.3".parse().expect("ip")).await;
    s.expect("EHLO mx.outside.test", "250");
    s.expect("MAIL FROM:<early@outside.test>", "250");
    s.expect("RCPT TO:<ann@corp.test>", "451 4.7.1 Greylisted; please try again in 2 seconds");
    s.expect("RCPT TO:<ann@corp.test>", "451 4.7.1 Greylisted");
    s.expect("QUIT", "221");

    // Postfix relays a message to us: deferred, queued, retried, delivered once.
    let relayed = python(
        "import smtplib,sys\ns=smtplib.SMTP('127.0.0.1',int(sys.argv[1]))\n\
         s.sendmail('friend@outside.test',['ann@corp.test'],'From: friend@outside.test\\r\\nSubject: through postfix\\r\\n\\r\\nhello\\r\\n')\ns.quit()",
        &[&postfix.port.to_string()],
    );
    assert!(relayed.0, "Postfix took the message: {}", relayed.2);
    let why = || format!("Postfix's log:\n{}\nmailroomd's log:\n{}", postfix.log(), d.all_logs());
    // Postfix retries on its own every second or two, unless its queue manager met the
    // deferred message still locked ("skipped, still being delivered": 60 s aside);
    // then a flush is the retry.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ann(&d).iter().any(|m| m.contains("through postfix")) && Instant::now() < deadline {
        if postfix.log().contains("skipped, still being delivered") {
            postfix.flush();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let m = delivered_else(&d, "through postfix", 1, why).await;
    assert!(m.contains("hello"));
    let log = postfix.log();
    assert!(log.contains("451 4.7.1 Greylisted"), "Postfix was greylisted first:\n{log}");
    assert!(log.contains("status=sent"), "and delivered on a retry:\n{log}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(ann(&d).iter().filter(|m| m.contains("through postfix")).count(), 1, "delivered once");

    // Its network passed: the next message goes through at once, even from a new sender.
    let greylisted = status_json(&d)["filtering"]["greylisted"].as_u64().expect("count");
    let second = python(
        "import smtplib,sys\ns=smtplib.SMTP('127.0.0.1',int(sys.argv[1]))\n\
         s.sendmail('other@outside.test',['ann@corp.test'],'From: other@outside.test\\r\\nSubject: second through postfix\\r\\n\\r\\nagain\\r\\n')\ns.quit()",
        &[&postfix.port.to_string()],
    );
    assert!(second.0, "{}", second.2);
    delivered_else(&d, "second through postfix", 20, why).await;
    assert_eq!(status_json(&d)["filtering"]["greylisted"].as_u64(), Some(greylisted), "not greylisted again");
    let tracked = d.ctl_ok(&["track", "--sender", "early@outside.test"]);
    assert!(tracked.contains("451 4.7.1 Greylisted"), "{tracked}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_early_talker_is_refused_and_a_polite_client_greeted() {
    let dns = Dns::start(&["--local=/test/"]);
    let d = service(&dns).await;
    d.ctl_ok(&["set", "greet-delay", "2"]);
    d.ctl_ok(&["restart"]);
    let addr = d.smtp_addr().await;

    let mut rude = Smtp::connect_raw_from(addr, "127.0.0.2".parse().expect("ip")).await;
    rude.send(b"EHLO spambot\r\n");
    let reply = rude.reply();
    assert!(reply.starts_with("554 5.5.1") && reply.contains("talked before the greeting"), "{reply}");
    assert!(rude.closed());

    let t = Instant::now();
    let mut polite = Smtp::connect_from(addr, "127.0.0.3".parse().expect("ip")).await;
    assert!(t.elapsed() >= Duration::from_millis(1900), "the banner waited");
    polite.expect("EHLO mx.outside.test", "250");
    polite.expect("QUIT", "221");
    // Remembered: greeted at once next time.
    let t = Instant::now();
    let _again = Smtp::connect_from(addr, "127.0.0.3".parse().expect("ip")).await;
    assert!(t.elapsed() < Duration::from_millis(1500), "a client that passed is not made to wait again");
    // This machine itself is never made to wait.
    let t = Instant::now();
    let _local = Smtp::connect(addr);
    assert!(t.elapsed() < Duration::from_millis(1500));

    assert_eq!(status_json(&d)["filtering"]["early_talkers"], 1);
    assert!(d.ctl_ok(&["track"]).contains("127.0.0.2 talked before the greeting"));
}

#[tokio::test(flavor = "multi_thread")]
async fn rspamd_rejects_gtube_marks_the_rest_and_its_absence_stops_nothing() {
    let dns = Dns::start(&["--local=/test/"]);
    let mut rspamd = Rspamd::start(dns.port);
    let d = service(&dns).await;
    assert!(d.ctl_ok(&["filter", "test", &rspamd.url()]).contains("answered"));
    d.ctl_ok(&["set", "rspamd", &rspamd.url()]);
    d.ctl_ok(&["restart"]);
    const GTUBE: &str = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
    let pattern = |first: char| format!("{first}{}", &GTUBE[1..]);

    // GTUBE: refused, with rspamd's reason.
    let refused = send(&d, "127.0.0.2", "bob@outside.test", "ann@corp.test", "gtube", GTUBE).await;
    assert_eq!(refused, "550 5.7.1 Message refused as spam: Gtube pattern");
    // A plain message: delivered with the verdict in X-Spam-* headers, a forged one gone.
    let plain = send(&d, "127.0.0.2", "bob@outside.test", "ann@corp.test", "lunch", "X-Spam-Status: none").await;
    assert_eq!(plain, "250 accepted");
    let m = delivered(&d, "lunch", 10).await;
    assert!(m.contains("X-Spam-Status: No, score=") && m.contains("X-Spam-Score: "), "{m}");
    assert!(!m.contains("X-Spam: Yes"), "{m}");
    // rspamd's "add header" test pattern: delivered, marked as spam.
    assert_eq!(
        send(&d, "127.0.0.2", "bob@outside.test", "ann@corp.test", "spammy", &pattern('Y')).await,
        "250 accepted"
    );
    let m = delivered(&d, "spammy", 10).await;
    assert!(m.contains("X-Spam: Yes") && m.contains("action=\"add header\""), "{m}");
    // "rewrite subject": delivered with the tag.
    assert_eq!(
        send(&d, "127.0.0.2", "bob@outside.test", "ann@corp.test", "offer", &pattern('Z')).await,
        "250 accepted"
    );
    assert!(delivered(&d, "offer", 10).await.contains("Subject: [SPAM] offer"));
    // The page can send "add header" to the quarantine instead.
    d.edit_config(|c| c["filtering"]["on_add_header"] = "quarantine".into());
    d.ctl_ok(&["restart"]);
    assert_eq!(
        send(&d, "127.0.0.2", "bob@outside.test", "ann@corp.test", "held spam", &pattern('Y')).await,
        "250 accepted"
    );
    let held = d.ctl_ok(&["quarantine", "list"]);
    assert!(held.contains("held spam") && held.contains("rspamd: add header"), "{held}");
    let tracked = d.ctl_ok(&["track", "--sender", "bob@outside.test"]);
    assert!(tracked.contains("Gtube pattern") && tracked.contains("quarantined"), "{tracked}");
    assert_eq!(status_json(&d)["filtering"]["filter_rejected"], 1);

    // rspamd gone: mail is accepted unscanned, within the timeout, and tracked so.
    rspamd.stop();
    assert!(d.ctl(&["filter", "test"]).status.code() == Some(1), "the test button says it is down");
    let t = Instant::now();
    assert_eq!(send(&d, "127.0.0.2", "bob@outside.test", "ann@corp.test", "unscanned", "x").await, "250 accepted");
    assert!(t.elapsed() < Duration::from_secs(10));
    let m = delivered(&d, "unscanned", 10).await;
    assert!(!m.contains("X-Spam-Status"), "{m}");
    assert!(d.ctl_ok(&["track", "--sender", "bob@outside.test"]).contains("unscanned: rspamd"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sending_limit_holds_an_account_and_tells_the_administrator_once() {
    let sink = Sink::start("127.0.0.1:0", 0).await;
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    d.add_mailbox("admin@corp.test", "admin-pw");
    d.ctl_ok(&["routing", "reroute", "on"]);
    d.ctl_ok(&["routing", "add", "corp.test", "--inbound"]);
    d.ctl_ok(&["set", "admin-mailbox", "admin@corp.test"]);
    d.ctl_ok(&["set", "smarthost", &format!("[127.0.0.1]:{}", sink.addr.port())]);
    d.edit_config(|c| {
        c["filtering"]["max_recipients_per_hour"] = 3.into();
        c["filtering"]["max_recipients_per_day"] = 10.into();
    });
    d.ctl_ok(&["restart"]);

    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO laptop.corp.test", "250");
    s.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAYW5uLXB3", "235");
    s.expect("MAIL FROM:<ann@corp.test>", "250");
    for i in 1..=3 {
        s.expect(&format!("RCPT TO:<friend{i}@outside.test>"), "250");
    }
    s.expect("RCPT TO:<admin@corp.test>", "250"); // local recipients do not count
    let over = s.expect("RCPT TO:<friend4@outside.test>", "451 4.7.1");
    assert!(over.contains("held for going over its sending limit"), "{over}");
    s.expect("DATA", "354");
    s.expect("Subject: newsletter\r\n\r\nthree of four\r\n.", "250");
    // Held: the next transaction's outside recipients are deferred too.
    s.expect("MAIL FROM:<ann@corp.test>", "250");
    s.expect("RCPT TO:<friend5@outside.test>", "451 4.7.1");
    s.expect("RSET", "250");
    s.expect("QUIT", "221");
    sink.wait_for(1, 20).await;

    let told: Vec<String> = d
        .messages_of("admin@corp.test")
        .iter()
        .map(|m| String::from_utf8_lossy(m).into_owned())
        .filter(|m| m.contains("Mailroom is holding the mail of ann@corp.test"))
        .collect();
    assert_eq!(told.len(), 1, "the administrator is told once per episode");
    assert!(
        told[0].contains("more than 3 outside recipients in an hour") && told[0].contains("sending unlock"),
        "{}",
        told[0]
    );
    let status = status_json(&d);
    assert_eq!(status["filtering"]["held_accounts"][0]["account"], "ann@corp.test");
    assert!(d.ctl_ok(&["sending", "list"]).contains("ann@corp.test"));

    d.ctl_ok(&["sending", "unlock", "ann@corp.test"]);
    assert_eq!(d.ctl(&["sending", "unlock", "ann@corp.test"]).status.code(), Some(1), "no longer held");
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO laptop.corp.test", "250");
    s.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAYW5uLXB3", "235");
    s.expect("MAIL FROM:<ann@corp.test>", "250");
    s.expect("RCPT TO:<friend4@outside.test>", "250");
    s.expect("QUIT", "221");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_quarantine_holds_releases_to_pop3_and_deletes() {
    let dns = Dns::start(&[
        "--local=/test/",
        &Dns::txt("quar.test", "v=spf1 -all"),
        &Dns::txt("_dmarc.quar.test", "v=DMARC1; p=quarantine"),
    ]);
    let d = service(&dns).await;
    for subject in ["first held", "second held"] {
        assert_eq!(
            send(&d, "127.0.0.2", "eve@quar.test", "ann@corp.test", subject, "secret text").await,
            "250 accepted"
        );
    }
    assert!(ann(&d).is_empty(), "nothing delivered");
    let list: serde_json::Value = serde_json::from_str(&d.ctl_ok(&["quarantine", "list", "--json"])).expect("json");
    let messages = list["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 2);
    let id_of = |subject: &str| {
        messages.iter().find(|m| m["subject"] == subject).and_then(|m| m["id"].as_i64()).expect("listed").to_string()
    };
    let (first, second) = (id_of("first held"), id_of("second held"));
    let shown = d.ctl_ok(&["quarantine", "show", &first]);
    assert!(shown.contains("DMARC policy says quarantine") && shown.contains("secret text"), "{shown}");

    d.ctl_ok(&["quarantine", "release", &first]);
    d.ctl_ok(&["quarantine", "delete", &second]);
    assert_eq!(d.ctl(&["quarantine", "release", &second]).status.code(), Some(1), "already gone");
    let pop = python(
        "import poplib,sys\np=poplib.POP3(sys.argv[1],int(sys.argv[2]))\np.user('ann@corp.test');p.pass_('ann-pw')\n\
         n=len(p.list()[1]); print(n)\nfor i in range(1,n+1): print(b'\\n'.join(p.retr(i)[1]).decode())\np.quit()",
        &[&d.pop3_addr().await.ip().to_string(), &d.pop3_addr().await.port().to_string()],
    );
    assert!(pop.0, "{}", pop.2);
    assert!(
        pop.1.starts_with("1\n") && pop.1.contains("Subject: first held") && pop.1.contains("secret text"),
        "{}",
        pop.1
    );
    assert!(!pop.1.contains("second held"));
    assert!(d.ctl_ok(&["quarantine", "list"]).contains("0 message(s) held"));
    let tracked = d.ctl_ok(&["track", "--sender", "eve@quar.test"]);
    for event in ["quarantined", "released", "discarded"] {
        assert!(tracked.contains(event), "{event} in {tracked}");
    }
    let status = status_json(&d);
    assert_eq!(
        (status["filtering"]["quarantined"].as_u64(), status["filtering"]["in_quarantine"].as_u64()),
        (Some(2), Some(0))
    );
}
