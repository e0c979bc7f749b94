//! SMTP end to end: the real `mailroomd` against real clients (Python's smtplib, curl,
//! swaks) and raw bytes on a real socket where exact bytes matter.
#![expect(clippy::expect_used, reason = "a test helper fails the test at once, saying what it expected")]

use std::process::Command;

use mailroom_tests::{Daemon, Smtp, python, require};

/// A service with mailboxes ann@corp.test (password "ann-pw") and bob@corp.test.
async fn service() -> Daemon {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    d.add_mailbox("bob@corp.test", "bob-pw");
    d
}

/// The founding scenario's configuration: rerouting on, corp.test inbound.
async fn rerouting_service() -> Daemon {
    let d = service().await;
    d.ctl_ok(&["routing", "reroute", "on"]);
    d.ctl_ok(&["routing", "add", "corp.test", "--inbound"]);
    d.ctl_ok(&["restart"]);
    d
}

fn messages_of(d: &Daemon, address: &str) -> Vec<Vec<u8>> {
    d.messages_of(address)
}

fn queue_states(d: &Daemon) -> Vec<(String, String)> {
    let db = d.db();
    let mut stmt = db.prepare("SELECT recipient, state FROM queue_recipients ORDER BY id").expect("query");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).expect("rows").collect::<Result<_, _>>().expect("rows")
}

const SMTPLIB_SEND: &str = r#"
import smtplib, sys
host, port, sender, rcpt = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
user = sys.argv[5] if len(sys.argv) > 5 else None
pw = sys.argv[6] if len(sys.argv) > 6 else None
msg = "From: <%s>\r\nTo: <%s>\r\nSubject: hello\r\nMessage-ID: <t1@client.test>\r\n\r\nHi there.\r\n.leading dot\r\n" % (sender, rcpt)
with smtplib.SMTP(host, port, timeout=20) as s:
    s.ehlo("client.test")
    if user:
        s.login(user, pw)
    refused = s.sendmail(sender, [rcpt], msg)
    print("refused", refused)
"#;

fn smtplib_send(addr: std::net::SocketAddr, from: &str, to: &str, auth: Option<(&str, &str)>) -> (bool, String) {
    let ip = addr.ip().to_string();
    let port = addr.port().to_string();
    let mut args = vec![ip.as_str(), port.as_str(), from, to];
    if let Some((u, p)) = auth {
        args.extend([u, p]);
    }
    let (ok, out, err) = python(SMTPLIB_SEND, &args);
    (ok, format!("{out}{err}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn smtplib_delivers_to_a_local_mailbox_byte_for_byte() {
    let d = service().await;
    let addr = d.smtp_addr().await;
    let (ok, out) = smtplib_send(addr, "friend@outside.test", "Ann@Corp.Test", None);
    assert!(ok, "{out}");
    let msgs = messages_of(&d, "ann@corp.test");
    assert_eq!(msgs.len(), 1);
    let text = String::from_utf8(msgs[0].clone()).expect("utf-8");
    assert!(text.starts_with("Return-Path: <friend@outside.test>\r\nReceived: from client.test ([127.0.0.1])\r\n\tby localhost (Mailroom) with ESMTP id "), "{text}");
    assert!(text.contains("\r\n\tfor <Ann@corp.test>;"), "{text}");
    assert!(
        text.ends_with("Subject: hello\r\nMessage-ID: <t1@client.test>\r\n\r\nHi there.\r\n.leading dot\r\n"),
        "dot-unstuffed, CRLF kept: {text:?}"
    );
    assert_eq!(
        d.count("SELECT COUNT(*) FROM tracking WHERE event = 'delivered' AND message_id = '<t1@client.test>'"),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_plain_and_login() {
    let d = service().await;
    let addr = d.smtp_addr().await;
    // smtplib prefers PLAIN.
    let (ok, out) = smtplib_send(addr, "ann@corp.test", "bob@corp.test", Some(("ann@corp.test", "ann-pw")));
    assert!(ok, "{out}");
    let (ok, out) = smtplib_send(addr, "ann@corp.test", "bob@corp.test", Some(("ann@corp.test", "wrong")));
    assert!(!ok && out.contains("535"), "{out}");

    let mut s = Smtp::connect(addr);
    let ehlo = s.expect("EHLO c.test", "250-");
    assert!(ehlo.contains("AUTH PLAIN LOGIN"), "{ehlo}");
    s.expect("AUTH LOGIN", "334 VXNlcm5hbWU6");
    s.expect("Ym9iQGNvcnAudGVzdA==", "334 UGFzc3dvcmQ6"); // bob@corp.test
    s.expect("Ym9iLXB3", "235 2.7.0"); // bob-pw
    s.expect("AUTH PLAIN", "503 5.5.1");
    s.expect("MAIL FROM:<bob@corp.test>", "250 2.1.0");

    let mut s = Smtp::connect(addr);
    s.expect("EHLO c.test", "250-");
    s.expect("AUTH PLAIN", "334");
    s.expect("*", "501 5.7.0");
    s.expect("AUTH CRAM-MD5", "504 5.5.4");
    s.expect("AUTH PLAIN !!notbase64", "501 5.5.2");
    // Unknown account and wrong password get the same answer.
    s.expect("AUTH PLAIN AG5vYm9keUBjb3JwLnRlc3QAeA==", "535 5.7.8 Authentication credentials invalid"); // nobody@corp.test / x
    s.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAeA==", "535 5.7.8 Authentication credentials invalid"); // ann@corp.test / x
}

#[tokio::test(flavor = "multi_thread")]
async fn reply_codes() {
    let d = service().await;
    let addr = d.smtp_addr().await;
    let mut s = Smtp::connect(addr);
    s.expect("MAIL FROM:<a@b.test>", "503 5.5.1");
    s.expect("FROB", "500 5.5.2");
    s.expect("HELO", "501");
    s.expect("HELO c.test", "250 2.0.0");
    let ehlo = s.expect("EHLO c.test", "250-localhost Hello c.test [127.0.0.1]");
    for ext in ["SIZE 26214400", "8BITMIME", "PIPELINING", "ENHANCEDSTATUSCODES", "DSN", "HELP"] {
        assert!(ehlo.lines().any(|l| l[4..] == *ext), "{ext} missing from {ehlo}");
    }
    s.expect("RCPT TO:<ann@corp.test>", "503 5.5.1");
    s.expect("DATA", "503 5.5.1");
    s.expect("VRFY ann", "252 2.5.0");
    s.expect("EXPN staff", "502 5.5.1");
    s.expect("HELP", "214 2.0.0");
    s.expect("NOOP", "250 2.0.0");
    s.expect("MAIL FROM:<a@b.test> SMTPUTF8", "555 5.5.4");
    s.expect("MAIL FROM:<a@b.test> SIZE=999999999", "552 5.3.4");
    s.expect("MAIL FROM:a@b.test", "501");
    s.expect("MAIL FROM:<not an address>", "501");
    s.expect("MAIL FROM:<> BODY=8BITMIME RET=HDRS ENVID=abc", "250 2.1.0");
    s.expect("MAIL FROM:<a@b.test>", "503 5.5.1");
    s.expect("DATA", "554 5.5.1");
    s.expect("RCPT TO:<nobody@corp.test>", "550 5.7.1"); // rerouting off, not authenticated
    s.expect("RCPT TO:<ann@corp.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;ann@corp.test", "250 2.1.5");
    s.expect("RCPT TO:<bad address>", "501");
    s.expect("RSET", "250 2.0.0");
    s.expect("DATA", "503 5.5.1");
    s.expect("QUIT", "221 2.0.0");
    assert!(s.closed());
}

#[tokio::test(flavor = "multi_thread")]
async fn postmaster_goes_to_the_administrator() {
    let d = service().await;
    d.edit_config(|c| c["general"]["administrator_mailbox"] = "bob@corp.test".into());
    d.ctl_ok(&["restart"]);
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO c.test", "250");
    s.expect("MAIL FROM:<>", "250");
    s.expect("RCPT TO:<Postmaster>", "250 2.1.5");
    s.expect("RCPT TO:<postmaster@localhost>", "250 2.1.5");
    s.expect("DATA", "354");
    s.send(b"Subject: bounce\r\n\r\nx\r\n.\r\n");
    assert!(s.reply().starts_with("250 2.0.0"));
    assert_eq!(messages_of(&d, "bob@corp.test").len(), 1, "one copy for both postmaster recipients");
}

#[tokio::test(flavor = "multi_thread")]
async fn pipelined_transactions() {
    let d = service().await;
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO c.test", "250");
    s.send(
        b"MAIL FROM:<x@outside.test>\r\nRCPT TO:<ann@corp.test>\r\nRCPT TO:<nobody@far.test>\r\nRCPT TO:<bob@corp.test>\r\nDATA\r\n",
    );
    for want in ["250 2.1.0", "250 2.1.5", "550 5.7.1", "250 2.1.5", "354"] {
        let r = s.reply();
        assert!(r.starts_with(want), "{r:?}, expected {want}");
    }
    s.send(b"Subject: one\r\n\r\n1\r\n.\r\nMAIL FROM:<y@outside.test>\r\nRCPT TO:<ann@corp.test>\r\nDATA\r\n");
    for want in ["250 2.0.0", "250 2.1.0", "250 2.1.5", "354"] {
        let r = s.reply();
        assert!(r.starts_with(want), "{r:?}, expected {want}");
    }
    s.send(b"Subject: two\r\n\r\n2\r\n.\r\nQUIT\r\n");
    assert!(s.reply().starts_with("250 2.0.0"));
    assert!(s.reply().starts_with("221"));
    assert_eq!(messages_of(&d, "ann@corp.test").len(), 2);
    assert_eq!(messages_of(&d, "bob@corp.test").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn limits() {
    let d = service().await;
    d.edit_config(|c| c["general"]["max_message_size_kb"] = 1.into());
    d.ctl_ok(&["restart"]);
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO c.test", "250");
    s.expect(&format!("NOOP {}", "x".repeat(600)), "500 5.5.2 Line too long");
    s.expect("MAIL FROM:<a@outside.test> SIZE=2048", "552 5.3.4");
    s.expect("MAIL FROM:<a@outside.test>", "250");
    for _ in 0..100 {
        s.expect("RCPT TO:<ann@corp.test>", "250");
    }
    s.expect("RCPT TO:<ann@corp.test>", "452 4.5.3");
    s.expect("DATA", "354");
    s.send(&[b"x".repeat(2000).as_slice(), b"\r\n.\r\n"].concat());
    assert!(s.reply().starts_with("552 5.3.4"), "too big, but the session goes on");
    s.expect("NOOP", "250");
    assert!(messages_of(&d, "ann@corp.test").is_empty());
}

/// Regression: NUL bytes were accepted in DATA, stored, served over POP3 and relayed
/// byte for byte; an EHLO containing NUL was accepted. RFC 5321 §2.3.8 and RFC 6152
/// exclude NUL from mail text.
#[tokio::test(flavor = "multi_thread")]
async fn nul_bytes_are_refused_in_messages_and_commands() {
    let d = service().await;
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO c.t\0est", "501 5.5.2");
    s.expect("EHLO c.test", "250");
    s.expect("MAIL FROM:<a@outside.test>", "250");
    s.expect("RCPT TO:<ann@corp.test>", "250");
    s.expect("DATA", "354");
    s.send(b"Subject: nul\r\n\r\nbefore\0after\r\n\0.\r\n.\r\n");
    let r = s.reply();
    assert!(r.starts_with("554 5.6.0") && r.contains("NUL"), "{r}");
    // The session stayed in step: the next transaction works.
    s.expect("MAIL FROM:<a@outside.test>", "250");
    s.expect("RCPT TO:<ann@corp.test>", "250");
    s.expect("DATA", "354");
    s.expect("Subject: clean\r\n\r\nno nul here\r\n.", "250");
    let stored = messages_of(&d, "ann@corp.test");
    assert_eq!(stored.len(), 1, "only the clean message");
    assert!(!stored[0].contains(&0));
}

/// Regression: lines over 1,000 octets were refused with `554 5.6.0`. Real mail has
/// them (RFC 5321 §4.5.3.1 asks servers not to refuse what they can handle); they are
/// accepted up to the message size limit, stored and served byte for byte.
#[tokio::test(flavor = "multi_thread")]
async fn long_lines_are_accepted_and_kept_byte_for_byte() {
    let d = service().await;
    let long = "z".repeat(20_000);
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO c.test", "250");
    s.expect("MAIL FROM:<a@outside.test>", "250");
    s.expect("RCPT TO:<ann@corp.test>", "250");
    s.expect("DATA", "354");
    s.expect(&format!("Subject: long\r\n\r\n{long}\r\n.{long}\r\n."), "250 2.0.0");
    let stored = String::from_utf8(messages_of(&d, "ann@corp.test").remove(0)).expect("utf-8");
    assert!(stored.ends_with(&format!("\r\n\r\n{long}\r\n{long}\r\n")), "unstuffed, every octet kept");
    // A POP3 client reads it back whole.
    let pop3 = d.pop3_addr().await;
    let (ok, out, err) = mailroom_tests::python(
        "import poplib,sys\npoplib._MAXLINE=100000\np=poplib.POP3(sys.argv[1],int(sys.argv[2]))\n\
         p.user('ann@corp.test');p.pass_('ann-pw')\nprint(max(len(l) for l in p.retr(1)[1]))",
        &[&pop3.ip().to_string(), &pop3.port().to_string()],
    );
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "20000");
}

#[tokio::test(flavor = "multi_thread")]
async fn smuggling_attempts_are_refused() {
    let d = service().await;
    let addr = d.smtp_addr().await;
    let attempts: [&[u8]; 5] = [
        b"Subject: a\r\n\r\nbody\n.\nMAIL FROM:<evil@x.test>\r\n",
        b"Subject: a\r\n\r\nbody\n.\r\nMAIL FROM:<evil@x.test>\r\n",
        b"Subject: a\r\n\r\nbody\r.\rMAIL FROM:<evil@x.test>\r\n",
        b"Subject: a\r\n\r\nbare\nLF\r\n.\r\n",
        b"Subject: a\r\n\r\nbare\rCR\r\n.\r\n",
    ];
    for data in attempts {
        let mut s = Smtp::connect(addr);
        s.expect("EHLO c.test", "250");
        s.expect("MAIL FROM:<x@outside.test>", "250");
        s.expect("RCPT TO:<ann@corp.test>", "250");
        s.expect("DATA", "354");
        s.send(data);
        let r = s.reply();
        assert!(r.starts_with("554 5.6.0"), "{:?} → {r}", String::from_utf8_lossy(data));
        assert!(s.closed(), "the connection closes after a smuggling attempt");
    }
    assert!(messages_of(&d, "ann@corp.test").is_empty(), "nothing was stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn founding_scenario_before_and_after_rerouting() {
    let d = service().await;
    let addr = d.smtp_addr().await;
    // Before: an unauthenticated client is refused at RCPT...
    let mut s = Smtp::connect(addr);
    s.expect("EHLO c.test", "250");
    s.expect("MAIL FROM:<ann@corp.test>", "250");
    let r = s.expect("RCPT TO:<friend@outside.test>", "550 5.7.1");
    assert!(r.contains("rerouting of incoming SMTP mail is off"), "{r}");
    // (Left open inside its transaction, this session would hold the restart below for
    // the whole drain timeout, as a real client mid-transaction should.)
    s.expect("QUIT", "221");
    // ...while the authenticated user's message is accepted, its failure stored for the NDR.
    let (ok, out) = smtplib_send(addr, "ann@corp.test", "friend@outside.test", Some(("ann@corp.test", "ann-pw")));
    assert!(ok, "{out}");
    // (The queue acts on it at once, so check the tracking log written at acceptance,
    // not the queue's current state.)
    let why: String = d
        .db()
        .query_row(
            "SELECT detail FROM tracking WHERE event = 'failed' AND recipient = 'friend@outside.test'",
            [],
            |r| r.get(0),
        )
        .expect("a failure recorded at acceptance");
    assert_eq!(why, "No route: rerouting of incoming SMTP mail is off");

    // The administrator's fix.
    d.ctl_ok(&["routing", "reroute", "on"]);
    d.ctl_ok(&["routing", "add", "corp.test", "--inbound"]);
    d.ctl_ok(&["restart"]);
    let addr = d.smtp_addr().await;
    let (ok, out) = smtplib_send(addr, "ann@corp.test", "friend@outside.test", Some(("ann@corp.test", "ann-pw")));
    assert!(ok, "{out}");
    assert_eq!(
        d.count("SELECT COUNT(*) FROM tracking WHERE event = 'queued' AND recipient = 'friend@outside.test'"),
        1,
        "accepted for relay"
    );
    let mut s = Smtp::connect(addr);
    s.expect("EHLO c.test", "250");
    s.expect("MAIL FROM:<ann@corp.test>", "250");
    s.expect("RCPT TO:<friend@outside.test>", "550 5.7.1 Unable to relay");
    s.expect("RCPT TO:<bob@corp.test>", "250 2.1.5");
    s.expect("RCPT TO:<nobody@corp.test>", "550 5.1.1");
}

#[tokio::test(flavor = "multi_thread")]
async fn connection_and_security_policies() {
    let d = service().await;
    d.edit_config(|c| {
        c["security"]["plain_text_auth"] = "never".into();
        c["connections"]["accept_from"] = "must_authenticate".into();
    });
    d.ctl_ok(&["restart"]);
    let mut s = Smtp::connect(d.smtp_addr().await);
    let ehlo = s.expect("EHLO c.test", "250");
    assert!(!ehlo.contains("AUTH"), "no clear-text AUTH offered without TLS: {ehlo}");
    s.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAYW5uLXB3", "538 5.7.11");
    s.expect("MAIL FROM:<x@outside.test>", "530 5.7.0");

    d.edit_config(|c| {
        c["security"]["plain_text_auth"] = "loopback_only".into();
        c["connections"]["accept_from"] = "any".into();
        c["connections"]["sender_must_match_account"] = true.into();
    });
    d.ctl_ok(&["restart"]);
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO c.test", "250");
    s.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAYW5uLXB3", "235"); // ann@corp.test / ann-pw
    s.expect("MAIL FROM:<bob@corp.test>", "553 5.7.1");
    s.expect("MAIL FROM:<ANN@corp.test>", "250 2.1.0");
    s.expect("QUIT", "221");

    // Outbound only: no SMTP listener at all.
    d.edit_config(|c| c["connections"]["transfer_mode"] = "outbound_only".into());
    d.ctl_ok(&["restart"]);
    assert_eq!(d.status().await.smtp_addr, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_recipients_are_tracked() {
    let d = service().await;
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO c.test", "250");
    s.expect("MAIL FROM:<x@outside.test>", "250");
    s.expect("RCPT TO:<friend@far.test>", "550 5.7.1");
    s.expect("QUIT", "221");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while d.count("SELECT COUNT(*) FROM tracking WHERE event = 'refused'") == 0 {
        assert!(std::time::Instant::now() < deadline, "no tracking event");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let (sender, detail): (String, String) = d
        .db()
        .query_row("SELECT sender, detail FROM tracking WHERE event = 'refused'", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("row");
    assert_eq!(sender, "x@outside.test");
    assert!(detail.starts_with("550 Unable to relay for <friend@far.test>"), "{detail}");
}

#[tokio::test(flavor = "multi_thread")]
async fn relay_tricks_do_not_open_a_relay() {
    let d = rerouting_service().await;
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO c.test", "250");
    s.expect("MAIL FROM:<x@outside.test>", "250");
    let tricks = [
        "RCPT TO:<friend%outside.test@corp.test>",
        "RCPT TO:<@corp.test:friend@outside.test>",
        "RCPT TO:<@corp.test,@hop.test:friend@corp.test>",
        "RCPT TO:<\"friend@outside.test\"@corp.test>",
        "RCPT TO:<outside.test!friend@corp.test>",
        "RCPT TO:<friend@outside.test@corp.test>",
    ];
    for trick in tricks {
        s.expect(trick, "550 5.7.1");
    }
    s.expect("QUIT", "221");
    assert!(queue_states(&d).is_empty());
    // An authenticated client may relay anyway: a source route is ignored (RFC 5321
    // section 4.1.1.3) and the rest go to the domain after the last '@', as usual.
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO c.test", "250");
    s.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAYW5uLXB3", "235");
    s.expect("MAIL FROM:<ann@corp.test>", "250");
    s.expect("RCPT TO:<@corp.test:friend@outside.test>", "250");
    s.expect("RCPT TO:<friend%outside.test@corp.test>", "550 5.1.1");
    s.expect("RCPT TO:<friend@outside.test@corp.test>", "501 5.1.3");
}

#[tokio::test(flavor = "multi_thread")]
async fn rewritten_recipients_are_routed_again() {
    let d = rerouting_service().await;
    d.ctl_ok(&["routing", "add", "old.test", "--reroute-to", "corp.test"]);
    d.ctl_ok(&["restart"]);
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO c.test", "250");
    s.expect("MAIL FROM:<x@outside.test>", "250");
    s.expect("RCPT TO:<ann@old.test>", "250 2.1.5");
    s.expect("DATA", "354");
    s.send(b"Subject: via old\r\n\r\nx\r\n.\r\n");
    assert!(s.reply().starts_with("250"));
    let msgs = messages_of(&d, "ann@corp.test");
    assert_eq!(msgs.len(), 1);
    assert!(String::from_utf8_lossy(&msgs[0]).contains("for <ann@corp.test>"));
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_and_swaks_send() {
    require("curl", "curl");
    require("swaks", "swaks");
    let d = rerouting_service().await;
    let addr = d.smtp_addr().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mail = dir.path().join("mail.txt");
    std::fs::write(&mail, "From: ann@corp.test\r\nTo: bob@corp.test\r\nSubject: curl\r\n\r\nsent with curl\r\n")
        .expect("write");
    let out = Command::new("curl")
        .args([
            "-sS",
            "--url",
            &format!("smtp://{addr}"),
            "--mail-from",
            "ann@corp.test",
            "--mail-rcpt",
            "bob@corp.test",
        ])
        .args(["--user", "ann@corp.test:ann-pw", "--upload-file"])
        .arg(&mail)
        .output()
        .expect("curl");
    assert!(out.status.success(), "curl: {}", String::from_utf8_lossy(&out.stderr));

    let out = Command::new("swaks")
        .args(["--server", &addr.to_string(), "--from", "bob@corp.test", "--to", "friend@outside.test"])
        .args(["--auth", "LOGIN", "--auth-user", "bob@corp.test", "--auth-password", "bob-pw"])
        .args(["--header", "Subject: swaks", "--body", "relayed"])
        .output()
        .expect("swaks");
    let transcript = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "swaks: {transcript}");
    assert!(transcript.contains("250 2.0.0 OK: queued as"), "{transcript}");
    // curl's message is bob's (the relayed one may already have come back to him as a
    // non-delivery report, where DNS says at once that outside.test does not exist).
    let from_curl = messages_of(&d, "bob@corp.test")
        .iter()
        .filter(|m| String::from_utf8_lossy(m).contains("Subject: curl\r\n"))
        .count();
    assert_eq!(from_curl, 1);
    assert_eq!(
        d.count("SELECT COUNT(*) FROM tracking WHERE event = 'queued' AND recipient = 'friend@outside.test'"),
        1,
        "accepted for relay"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn per_ip_connection_limit() {
    let d = service().await;
    d.edit_config(|c| {
        c["connections"]["max_connections"] = 10.into();
        c["connections"]["max_connections_per_ip"] = 2.into();
    });
    d.ctl_ok(&["restart"]);
    let addr = d.smtp_addr().await;
    let _a = Smtp::connect(addr);
    let _b = Smtp::connect(addr);
    let mut c = Smtp::connect_raw(addr);
    let r = c.reply();
    assert!(r.starts_with("421 4.7.0"), "{r}");
    drop(_a);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let _d = Smtp::connect(addr);
}

#[tokio::test(flavor = "multi_thread")]
async fn restart_says_goodbye_and_discards_unfinished_messages() {
    let d = service().await;
    d.edit_config(|c| c["general"]["drain_timeout_secs"] = 1.into());
    d.ctl_ok(&["restart"]);
    let addr = d.smtp_addr().await;
    let mut idle = Smtp::connect(addr);
    idle.expect("EHLO c.test", "250");
    let mut busy = Smtp::connect(addr);
    busy.expect("EHLO c.test", "250");
    busy.expect("MAIL FROM:<x@outside.test>", "250");
    busy.expect("RCPT TO:<ann@corp.test>", "250");
    busy.expect("DATA", "354");
    busy.send(b"Subject: unfinished\r\n\r\npart");
    d.ctl_ok(&["restart"]);
    assert!(idle.reply().starts_with("421 4.3.2"), "an idle session is told at once");
    let r = busy.reply();
    assert!(r.starts_with("421 4.3.2"), "after the drain timeout: {r}");
    assert!(messages_of(&d, "ann@corp.test").is_empty(), "the partial message was discarded");
}

/// A full disk delays mail, never loses it: the commit fails, the client gets `452
/// 4.3.1`, and nothing of the message remains. (With no free-space reserve, so that
/// the commit itself meets the full disk.)
#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_gets_452_and_keeps_nothing_partial() {
    let d = Daemon::start_on_small_disk(2048).await;
    d.edit_config(|c| c["general"]["min_free_space_mb"] = 0.into());
    d.ctl_ok(&["restart"]);
    d.add_mailbox("ann@corp.test", "ann-pw");
    let addr = d.smtp_addr().await;
    let line = format!("{}\r\n", "x".repeat(990));
    let big = line.repeat(3 * 1024); // about 3 MiB, more than the disk holds
    let mut s = Smtp::connect(addr);
    s.expect("EHLO c.test", "250");
    s.expect("MAIL FROM:<x@outside.test>", "250");
    s.expect("RCPT TO:<ann@corp.test>", "250");
    s.expect("DATA", "354");
    s.send(big.as_bytes());
    s.send(b".\r\n");
    let r = s.reply();
    assert!(r.starts_with("452 4.3.1"), "{r}");
    assert_eq!(d.count("SELECT COUNT(*) FROM messages"), 0, "nothing partial");
    // Regression: each refusal logged two ERROR lines (53 MB of log for 100k
    // refusals). Repeats are logged once a minute, with their count.
    let errors_before = d.all_logs().matches("ERROR").count();
    for _ in 0..20 {
        s.expect("MAIL FROM:<x@outside.test>", "250");
        s.expect("RCPT TO:<ann@corp.test>", "250");
        s.expect("DATA", "354");
        s.send(big.as_bytes());
        s.send(b".\r\n");
        assert!(s.reply().starts_with("452 4.3.1"));
    }
    let errors = d.all_logs().matches("ERROR").count() - errors_before;
    assert!(errors <= 1, "{errors} ERROR lines for 20 refusals:\n{}", d.all_logs());
    // Once there is room again, mail flows: the service survived the failure.
    s.expect("MAIL FROM:<x@outside.test>", "250");
    s.expect("RCPT TO:<ann@corp.test>", "250");
    s.expect("DATA", "354");
    s.send(b"Subject: small\r\n\r\nfits\r\n.\r\n");
    let r = s.reply();
    assert!(r.starts_with("250 2.0.0"), "{r}");
    assert_eq!(d.count("SELECT COUNT(*) FROM messages"), 1);
}

/// Regression: an IPv6 client was written `from vm ([::1])` in `Received:`; RFC 5321
/// §4.1.3 tags IPv6 address literals: `[IPv6:::1]`.
#[tokio::test(flavor = "multi_thread")]
async fn an_ipv6_client_is_written_as_an_ipv6_address_literal() {
    if let Err(e) = std::net::TcpListener::bind("[::1]:0") {
        panic!("needs an IPv6 loopback address (::1), which this machine lacks ({e}): enable IPv6 on lo");
    }
    let d = service().await;
    d.ctl_ok(&["set", "smtp-listen", "[::1]:0"]);
    d.ctl_ok(&["restart"]);
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO six.test", "250");
    s.expect("MAIL FROM:<a@outside.test>", "250");
    s.expect("RCPT TO:<ann@corp.test>", "250");
    s.expect("DATA", "354");
    s.expect("Subject: v6\r\n\r\nx\r\n.", "250");
    let stored = String::from_utf8(messages_of(&d, "ann@corp.test").remove(0)).expect("utf-8");
    assert!(stored.contains("Received: from six.test ([IPv6:::1])"), "{stored}");
}
