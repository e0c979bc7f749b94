//! Message submission on port 587 (RFC 6409): STARTTLS first, then a login, then MAIL,
//! and a user sends as their own addresses — checked with raw bytes and with a real
//! client (swaks). Port 25 is left to other servers.
#![expect(clippy::expect_used, reason = "a test helper fails the test at once, saying what it expected")]

use std::process::Command;

use mailroom_tests::{Daemon, Smtp, require_swaks_tls};

/// A service with the submission listener on, and Ann's mailbox.
async fn service() -> (Daemon, std::net::SocketAddr) {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    d.add_mailbox("bob@corp.test", "bob-pw");
    d.ctl_ok(&["set", "submission-listen", "127.0.0.1:0"]);
    d.ctl_ok(&["restart"]);
    let addr = d.status().await.submission_addr.expect("submission listens").parse().expect("address");
    (d, addr)
}

fn swaks(addr: std::net::SocketAddr, extra: &[&str]) -> (bool, String) {
    require_swaks_tls();
    let out = Command::new("swaks")
        .args(["--server", &addr.ip().to_string(), "--port", &addr.port().to_string()])
        .args(["--to", "ann@corp.test", "--header", "Subject: submitted", "--body", "sent on 587"])
        .args(extra)
        .output()
        .expect("swaks");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test(flavor = "multi_thread")]
async fn submission_wants_tls_then_a_login_before_mail() {
    let (d, addr) = service().await;
    let mut s = Smtp::connect(addr);
    let ehlo = s.expect("EHLO client.test", "250");
    assert!(ehlo.contains("STARTTLS") && !ehlo.contains("AUTH"), "no login offered before TLS: {ehlo}");
    s.expect("MAIL FROM:<ann@corp.test>", "530 5.7.0");
    s.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAYW5uLXB3", "538 5.7.11");
    s.expect("QUIT", "221");
    // The listener is named in status.
    assert!(d.ctl_ok(&["status"]).contains("submission:"), "status names it");
}

#[tokio::test(flavor = "multi_thread")]
async fn swaks_sends_through_submission_as_its_own_address_only() {
    let (d, addr) = service().await;
    let login = ["--tls", "--auth", "PLAIN", "--auth-user", "ann@corp.test", "--auth-password", "ann-pw"];
    let (ok, out) = swaks(addr, &[&login[..], &["--from", "ann@corp.test"]].concat());
    assert!(ok, "{out}");
    let mail = d.messages_of("ann@corp.test");
    assert_eq!(mail.len(), 1);
    assert!(String::from_utf8_lossy(&mail[0]).contains("sent on 587"));
    // Another user's address as sender: refused (RFC 6409 §6.1), whatever port 25 allows.
    let (ok, out) = swaks(addr, &[&login[..], &["--from", "bob@corp.test"]].concat());
    assert!(!ok && out.contains("553 5.7.1"), "{out}");
    // A login without TLS first: refused, and nothing sent.
    let (ok, out) = swaks(
        addr,
        &["--auth", "PLAIN", "--auth-user", "ann@corp.test", "--auth-password", "ann-pw", "--from", "ann@corp.test"],
    );
    assert!(!ok, "{out}");
    assert_eq!(d.messages_of("ann@corp.test").len(), 1);
}
