//! Abuse resistance end to end: clear-text logins off loopback, the "must
//! authenticate and encrypt" mode, growing delays and lock-outs after failed logins
//! (shared by SMTP and POP3), shorter timeouts under load, and secrets kept out of
//! the logs even at the most verbose level.

use std::time::{Duration, Instant};

use base64::Engine as _;

use mailroom_tests::{Daemon, Smtp, non_loopback_ip, python};

/// `ann@corp.test` / `ann-pw`, base64 for AUTH PLAIN.
const ANN_PLAIN: &str = "AGFubkBjb3JwLnRlc3QAYW5uLXB3";
/// `ann@corp.test` / `wrong`.
const ANN_WRONG: &str = "AGFubkBjb3JwLnRlc3QAd3Jvbmc=";
/// `nobody@corp.test` / `wrong`.
const NOBODY_WRONG: &str = "AG5vYm9keUBjb3JwLnRlc3QAd3Jvbmc=";

async fn service() -> Daemon {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    d
}

/// A client on another host (here: this host's own non-loopback address) may not send
/// a password in clear text, by default; after STARTTLS / STLS it may.
#[tokio::test(flavor = "multi_thread")]
async fn clear_text_logins_are_refused_off_loopback() {
    let ip = non_loopback_ip();
    let d = service().await;
    d.ctl_ok(&["set", "smtp-listen", &format!("{ip}:0")]);
    d.ctl_ok(&["set", "pop3-listen", &format!("{ip}:0")]);
    d.ctl_ok(&["restart"]);
    let (smtp, pop3) = (d.smtp_addr().await, d.pop3_addr().await);

    let mut s = Smtp::connect(smtp);
    let ehlo = s.expect("EHLO client.test", "250");
    assert!(ehlo.contains("STARTTLS") && !ehlo.contains("AUTH"), "no clear-text AUTH offered: {ehlo}");
    s.expect(&format!("AUTH PLAIN {ANN_PLAIN}"), "538 5.7.11");
    s.expect("AUTH LOGIN", "538 5.7.11");

    let script = r#"
import poplib, smtplib, ssl, sys
ip, smtp, pop3 = sys.argv[1:4]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
p = poplib.POP3(ip, int(pop3), timeout=20)
caps = p.capa()
assert "USER" not in caps and "SASL" not in caps, caps
for attempt in (lambda: p.user("ann@corp.test"), lambda: p._shortcmd("AUTH PLAIN AGFubkBjb3JwLnRlc3QAYW5uLXB3")):
    try:
        attempt(); print("clear-text login accepted?!")
    except poplib.error_proto as e:
        print("POP3 refused:", e.args[0].decode())
p.stls(context=ctx)
p.user("ann@corp.test"); p.pass_("ann-pw"); p.quit()
with smtplib.SMTP(ip, int(smtp), timeout=20) as s:
    s.starttls(context=ctx)
    s.ehlo("client.test")
    assert "auth" in s.esmtp_features, s.esmtp_features
    print("SMTP", s.login("ann@corp.test", "ann-pw")[0])
print("POP3 ok")
"#;
    let (ok, out, err) = python(script, &[&ip.to_string(), &smtp.port().to_string(), &pop3.port().to_string()]);
    assert!(ok, "{out}{err}");
    assert_eq!(out.matches("POP3 refused: -ERR [AUTH]").count(), 2, "{out}");
    assert!(out.contains("SMTP 235") && out.contains("POP3 ok"), "allowed over TLS: {out}");
}

/// "Only clients that authenticate and encrypt": authenticated in clear text on
/// loopback is not enough.
#[tokio::test(flavor = "multi_thread")]
async fn must_authenticate_and_encrypt() {
    let d = service().await;
    d.edit_config(|c| c["connections"]["accept_from"] = "must_authenticate_and_encrypt".into());
    d.ctl_ok(&["restart"]);
    let addr = d.smtp_addr().await;
    let mut s = Smtp::connect(addr);
    s.expect("EHLO client.test", "250");
    s.expect(&format!("AUTH PLAIN {ANN_PLAIN}"), "235");
    let refused = s.expect("MAIL FROM:<ann@corp.test>", "530 5.7.0");
    assert!(refused.to_ascii_lowercase().contains("encrypt"), "{refused}");
    let script = r#"
import smtplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
with smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=20) as s:
    s.starttls(context=ctx)
    s.login("ann@corp.test", "ann-pw")
    print(s.sendmail("ann@corp.test", ["ann@corp.test"], "Subject: x\r\n\r\nx\r\n"))
"#;
    let (ok, out, err) = python(script, &[&addr.ip().to_string(), &addr.port().to_string()]);
    assert!(ok, "{out}{err}");
    assert_eq!(d.count("SELECT COUNT(*) FROM messages"), 1);
}

/// Like Postfix's `smtpd_hard_error_limit`: after 20 errors the session is closed,
/// however fast the client sends.
#[tokio::test(flavor = "multi_thread")]
async fn a_session_is_closed_after_twenty_errors() {
    let d = service().await;
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.send("FROB\r\n".repeat(25).as_bytes());
    let mut replies = Vec::new();
    loop {
        let r = s.reply();
        if r.is_empty() {
            break;
        }
        replies.push(r);
    }
    assert_eq!(replies.iter().filter(|r| r.starts_with("500 5.5.2")).count(), 20, "{replies:?}");
    assert!(replies.last().is_some_and(|r| r.starts_with("421 4.7.0 Too many errors")), "{replies:?}");
}

fn timed(s: &mut Smtp, line: &str) -> (String, Duration) {
    let t = Instant::now();
    let r = s.cmd(line);
    (r, t.elapsed())
}

/// Each failure waits longer before it is answered, and an unknown user and a wrong
/// password get the same answer after the same wait.
#[tokio::test(flavor = "multi_thread")]
async fn smtp_auth_failures_are_answered_ever_more_slowly() {
    let d = service().await;
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO client.test", "250");
    let (unknown, t_unknown) = timed(&mut s, &format!("AUTH PLAIN {NOBODY_WRONG}"));
    // A success resets this address's count, so the next failure starts afresh.
    s.expect(&format!("AUTH PLAIN {ANN_PLAIN}"), "235");
    s.expect("QUIT", "221");
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO client.test", "250");
    let (wrong, t_wrong) = timed(&mut s, &format!("AUTH PLAIN {ANN_WRONG}"));
    assert_eq!(unknown, wrong, "identical answers");
    assert!(unknown.starts_with("535 5.7.8"), "{unknown}");
    for t in [t_unknown, t_wrong] {
        assert!((Duration::from_millis(450)..Duration::from_millis(950)).contains(&t), "first failure: {t:?}");
    }
    let (_, second) = timed(&mut s, &format!("AUTH PLAIN {ANN_WRONG}"));
    let (_, third) = timed(&mut s, &format!("AUTH PLAIN {NOBODY_WRONG}"));
    assert!(second >= Duration::from_millis(950), "second failure: {second:?}");
    assert!(third >= Duration::from_millis(1950), "third failure: {third:?}");
}

/// Ten failures from one address lock it out, for SMTP and POP3 alike: even the right
/// password is refused from there, while the same account still logs in from
/// elsewhere.
#[tokio::test(flavor = "multi_thread")]
async fn an_address_is_locked_out_after_ten_failures() {
    let ip = non_loopback_ip();
    let d = service().await;
    d.ctl_ok(&["set", "smtp-listen", "0.0.0.0:0"]);
    d.ctl_ok(&["restart"]);
    let smtp = d.smtp_addr().await.port();
    let pop3 = d.pop3_addr().await;
    // Ten wrong guesses at once, for ten different accounts (so that no account is
    // near its own limit), from 127.0.0.1.
    let script = r#"
import base64, smtplib, sys, threading
port = int(sys.argv[1]); codes = []
def guess(i):
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
        s.ehlo("client.test")
        blob = base64.b64encode(f"\0user{i}@corp.test\0guess".encode()).decode()
        codes.append(s.docmd("AUTH", "PLAIN " + blob)[0])
threads = [threading.Thread(target=guess, args=(i,)) for i in range(10)]
[t.start() for t in threads]; [t.join() for t in threads]
print(sorted(codes))
"#;
    let (ok, out, err) = python(script, &[&smtp.to_string()]);
    assert!(ok, "{out}{err}");
    assert_eq!(out.trim(), format!("[{}]", ["535"; 10].join(", ")), "{out}");

    let mut s = Smtp::connect(std::net::SocketAddr::from(([127, 0, 0, 1], smtp)));
    s.expect("EHLO client.test", "250");
    s.expect(&format!("AUTH PLAIN {ANN_PLAIN}"), "454 4.7.0");
    let mut p = std::net::TcpStream::connect(pop3).expect("pop3");
    p.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
    let mut r = std::io::BufReader::new(p.try_clone().expect("clone"));
    let mut line = String::new();
    use std::io::{BufRead as _, Write as _};
    r.read_line(&mut line).expect("greeting");
    p.write_all(b"USER ann@corp.test\r\nPASS ann-pw\r\n").expect("write");
    line.clear();
    r.read_line(&mut line).expect("USER");
    line.clear();
    r.read_line(&mut line).expect("PASS");
    assert!(line.starts_with("-ERR [LOGIN-DELAY]"), "POP3 shares the lock-out: {line}");

    // From another address, the account is fine (over TLS, as off loopback requires).
    let script = r#"
import smtplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
with smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=20) as s:
    s.starttls(context=ctx)
    print(s.login("ann@corp.test", "ann-pw")[0])
"#;
    let (ok, out, err) = python(script, &[&ip.to_string(), &smtp.to_string()]);
    assert!(ok, "{out}{err}");
    assert_eq!(out.trim(), "235");
    assert!(d.log().contains("too many failed logins; locked out"), "the lock-out is logged");

    // The administrator sees the lock-out and lifts it; the right password works again.
    let listed = d.ctl_ok(&["lockouts"]);
    assert!(listed.lines().any(|l| l.starts_with("127.0.0.1") && l.contains("address")), "{listed}");
    d.ctl_ok(&["unlock", "127.0.0.1"]);
    let mut s = Smtp::connect(std::net::SocketAddr::from(([127, 0, 0, 1], smtp)));
    s.expect("EHLO client.test", "250");
    s.expect(&format!("AUTH PLAIN {ANN_PLAIN}"), "235");
    let again = d.ctl(&["unlock", "127.0.0.1"]);
    assert_eq!(again.status.code(), Some(1), "nothing left to lift");
    assert!(d.ctl_ok(&["lockouts"]).contains("0 lock-out(s)"));
}

/// Past three quarters of the connection limit, a client gets 10 s to send its next
/// command instead of the configured 5 minutes; clients that were waiting before keep
/// their time.
#[tokio::test(flavor = "multi_thread")]
async fn idle_clients_get_shorter_timeouts_under_load() {
    let d = service().await;
    d.edit_config(|c| {
        c["connections"]["max_connections"] = 4.into();
        c["connections"]["max_connections_per_ip"] = 4.into();
    });
    d.ctl_ok(&["restart"]);
    let addr = d.smtp_addr().await;
    let mut early = Smtp::connect(addr);
    let _second = Smtp::connect(addr);
    let started = Instant::now();
    let mut late = Smtp::connect(addr);
    let bye = late.reply();
    let waited = started.elapsed();
    assert!(bye.starts_with("421 4.4.2"), "{bye}");
    assert!((Duration::from_secs(9)..Duration::from_secs(20)).contains(&waited), "closed after {waited:?}");
    assert!(late.closed());
    early.expect("NOOP", "250");
}

/// At the most verbose level (protocol traces), no password reaches the logs in any
/// form: not from SMTP AUTH PLAIN or LOGIN, POP3 USER/PASS or AUTH PLAIN, nor from
/// setting passwords over the control socket.
#[tokio::test(flavor = "multi_thread")]
async fn secrets_never_reach_the_logs() {
    let password = "Pass-Word-7f3a9c";
    let guess = "Wrong-Guess-55e1";
    let d = Daemon::start_with_env(&[("MAILROOM_LOG", "trace")]).await;
    d.add_mailbox("ann@corp.test", password);
    d.ctl_with_input(&["mailbox", "passwd", "ann@corp.test", "--password-stdin"], &format!("{password}\n"));
    let (smtp, pop3) = (d.smtp_addr().await, d.pop3_addr().await);
    let script = r#"
import poplib, smtplib, sys
ip, smtp, pop3, pw, guess = sys.argv[1:6]
for mech in ("PLAIN", "LOGIN"):
    with smtplib.SMTP(ip, int(smtp), timeout=30) as s:
        s.ehlo("client.test")
        try:
            s.login("ann@corp.test", guess, initial_response_ok=True)
        except smtplib.SMTPAuthenticationError:
            pass
        s.user, s.password = "ann@corp.test", pw
        s.auth(mech, getattr(s, "auth_" + mech.lower()))
p = poplib.POP3(ip, int(pop3), timeout=30)
p.user("ann@corp.test")
try:
    p.pass_(guess)
except poplib.error_proto:
    pass
p.user("ann@corp.test"); p.pass_(pw); p.quit()
import base64
p = poplib.POP3(ip, int(pop3), timeout=30)
p._shortcmd("AUTH PLAIN " + base64.b64encode(("\0ann@corp.test\0" + pw).encode()).decode()); p.quit()
print("done")
"#;
    let (ok, out, err) =
        python(script, &[&smtp.ip().to_string(), &smtp.port().to_string(), &pop3.port().to_string(), password, guess]);
    assert!(ok, "{out}{err}");
    let logs = d.all_logs();
    assert!(logs.contains("SMTP command") && logs.contains("POP3 command"), "traces were on");
    assert!(logs.contains("AUTH PLAIN ****") && logs.contains("PASS ****"), "secrets shown masked");
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    for secret in [
        password.to_owned(),
        guess.to_owned(),
        b64(password),
        b64(guess),
        b64(&format!("\0ann@corp.test\0{password}")),
        b64(&format!("\0ann@corp.test\0{guess}")),
    ] {
        assert!(!logs.contains(&secret), "{secret} appears in the logs");
    }
}
