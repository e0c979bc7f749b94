//! Mail authentication end to end, with a real DNS server on loopback (dnsmasq) and an
//! independent implementation on the other side (dkimpy, Debian's `python3-dkim`, under
//! the system Python): what Mailroom signs, dkimpy verifies; what dkimpy signs and
//! sends from other loopback addresses (so that SPF sees other IPs), Mailroom judges.
#![expect(clippy::expect_used, reason = "a test helper fails the test at once, saying what it expected")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use mailroom_tests::{Daemon, Dns, Sink, Smtp, require, require_python};

/// The system Python, where Debian's python3-dkim lives (with python3-nacl for
/// Ed25519).
///
/// # Panics
/// When dkimpy is not installed.
fn dkimpy() -> PathBuf {
    require_python(&["dkim", "nacl"], "python3-dkim python3-nacl");
    PathBuf::from("/usr/bin/python3")
}

/// Runs a script under the system Python; its standard output.
fn run_python(python: &Path, script: &str, args: &[&str]) -> String {
    let out = Command::new(python).arg("-c").arg(script).args(args).output().expect("python");
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Verifies every DKIM signature of the message in `message_file` with dkimpy, against
/// the TXT records of `records_json` (what `mailroomctl dns-records --json` says to
/// publish); prints one `algorithm:result` per signature.
const VERIFY: &str = r#"
import dkim, json, re, sys
records = json.load(open(sys.argv[1]))["records"]
txt = {r["name"].lower() + ".": r["value"] for r in records if r["kind"] == "TXT"}
def dnsfunc(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    v = txt.get(name.lower())
    return v.encode() if v else None
msg = open(sys.argv[2], "rb").read()
d = dkim.DKIM(msg)
sigs = [v for (k, v) in d.headers if k.lower() == b"dkim-signature"]
for i, sig in enumerate(sigs):
    algo = re.search(rb"a=([a-z0-9-]+)", sig).group(1).decode()
    print(algo + ":" + str(d.verify(idx=i, dnsfunc=dnsfunc)))
"#;

/// Sends one message from a chosen source address, optionally DKIM-signed by dkimpy
/// (and then altered, to break the signature); prints `code message` of the answer.
const SEND: &str = r#"
import dkim, smtplib, sys
host, port, source, mail_from, from_header, subject, key, selector, domain, alter = sys.argv[1:11]
extra = sys.argv[11] if len(sys.argv) > 11 else ""
msg = (extra + "From: " + from_header + "\r\nTo: ann@corp.test\r\nSubject: " + subject +
       "\r\nMessage-ID: <" + subject.replace(" ", ".") + "@test>\r\nDate: Thu, 26 Nov 2026 10:20:00 +0000\r\n\r\nHello.\r\n").encode()
if key != "-":
    sig = dkim.sign(msg, selector.encode(), domain.encode(), open(key, "rb").read(),
                    include_headers=[b"from", b"to", b"subject", b"message-id", b"date"])
    msg = sig + msg
if alter == "1":
    msg = msg.replace(b"Hello.", b"Hello, altered.")
s = smtplib.SMTP(host, int(port), source_address=(source, 0))
s.ehlo("client.nowhere.test")
try:
    s.sendmail(mail_from, ["ann@corp.test"], msg)
    print("250 accepted")
except smtplib.SMTPSenderRefused as e:
    print(e.smtp_code, e.smtp_error.decode())
except smtplib.SMTPDataError as e:
    print(e.smtp_code, e.smtp_error.decode())
"#;

/// An RSA key pair made with openssl: the private key's file (PKCS#1 PEM, as dkimpy
/// reads it) and the public key as DKIM publishes it.
fn rsa_key(dir: &Path) -> (PathBuf, String) {
    require("openssl", "openssl");
    let key = dir.join("sender.key");
    let ok = Command::new("openssl")
        .args(["genrsa", "-traditional", "-out"])
        .arg(&key)
        .arg("2048")
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl")
        .success();
    assert!(ok, "openssl genrsa");
    let der =
        Command::new("openssl").args(["rsa", "-pubout", "-outform", "DER", "-in"]).arg(&key).output().expect("openssl");
    use base64::Engine as _;
    (key, base64::engine::general_purpose::STANDARD.encode(der.stdout))
}

/// Waits for a message with `subject` in Ann's mailbox; its text.
async fn delivered(d: &Daemon, subject: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(m) =
            d.messages_of("ann@corp.test").into_iter().map(|m| String::from_utf8_lossy(&m).into_owned()).find(|m| {
                m.contains(&format!("Subject: {subject}")) || m.contains(&format!("Subject: [Suspicious] {subject}"))
            })
        {
            return m;
        }
        assert!(Instant::now() < deadline, "no message {subject:?} delivered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `Authentication-Results:` field of a stored message, unfolded.
fn auth_results(message: &str) -> String {
    let start = message.find("Authentication-Results: ").expect("an Authentication-Results field");
    let rest = &message[start..];
    let mut out = String::new();
    for (i, line) in rest.split("\r\n").enumerate() {
        if i > 0 && !line.starts_with([' ', '\t']) {
            break;
        }
        out.push_str(line.trim());
        out.push(' ');
    }
    out
}

/// Ann's service, with corp.test inbound and its DNS server at `dns`.
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

#[tokio::test(flavor = "multi_thread")]
async fn relayed_mail_and_ndrs_carry_two_signatures_that_dkimpy_verifies() {
    let python = dkimpy();
    let dns = Dns::start(&["--local=/test/"]);
    let sink = Sink::start("127.0.0.1:0", 0).await;
    let d = service(&dns).await;
    d.ctl_ok(&["set", "smarthost", &format!("[127.0.0.1]:{}", sink.addr.port())]);
    d.ctl_ok(&["restart"]);
    let records_file = d.dir.path().join("records.json");
    std::fs::write(&records_file, d.ctl_ok(&["dns-records", "corp.test", "--json"])).expect("write");

    // Ann relays a message; and one from a foreign sender she may use, to a recipient
    // the next hop refuses, so that its NDR goes out too (signed for corp.test, the
    // domain of our host name).
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO client.test", "250");
    s.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAYW5uLXB3", "235");
    s.expect("MAIL FROM:<ann@corp.test>", "250");
    s.expect("RCPT TO:<far@outside.test>", "250");
    s.expect("DATA", "354");
    s.expect(
        "From: Ann <ann@corp.test>\r\nTo: far@outside.test\r\nSubject: signed\r\nMessage-ID: <s1@corp.test>\r\n\r\nA signed message.\r\n.",
        "250",
    );
    s.expect("MAIL FROM:<someone@elsewhere.test>", "250");
    s.expect("RCPT TO:<reject@outside.test>", "250");
    s.expect("DATA", "354");
    s.expect("From: someone@elsewhere.test\r\nSubject: bounce me\r\n\r\nx\r\n.", "250");
    s.expect("QUIT", "221");

    // The office's scanner relays without authenticating, from a network allowed to
    // relay (Postfix's mynetworks, OpenDKIM's InternalHosts): its mail is ours too.
    d.edit_config(|c| {
        c["routing_restrictions"]["allow_listed_clients"] = true.into();
        c["routing_restrictions"]["client_networks"] = serde_json::json!(["127.0.0.0/8"]);
    });
    d.ctl_ok(&["restart"]);
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO scanner.corp.test", "250");
    s.expect("MAIL FROM:<scanner@corp.test>", "250");
    s.expect("RCPT TO:<network@outside.test>", "250");
    s.expect("DATA", "354");
    s.expect(
        "From: Scanner <scanner@corp.test>\r\nTo: network@outside.test\r\nSubject: scan\r\n\r\nA scan.\r\n.",
        "250",
    );

    let got = sink.wait_for(3, 20).await;
    for (what, m) in [
        ("relayed", got.iter().find(|m| m.to == ["far@outside.test"])),
        ("NDR", got.iter().find(|m| m.from.is_empty())),
        ("from an allowed network", got.iter().find(|m| m.to == ["network@outside.test"])),
    ] {
        let m = m.unwrap_or_else(|| panic!("the {what} message reached the sink: {got:?}"));
        let file = d.dir.path().join(format!("{what}.eml"));
        std::fs::write(&file, &m.data).expect("write");
        let verdicts =
            run_python(&python, VERIFY, &[records_file.to_str().expect("path"), file.to_str().expect("path")]);
        let mut verdicts: Vec<&str> = verdicts.lines().collect();
        verdicts.sort_unstable();
        assert_eq!(
            verdicts,
            ["ed25519-sha256:True", "rsa-sha256:True"],
            "{what}: {}",
            String::from_utf8_lossy(&m.data)
        );
        assert!(String::from_utf8_lossy(&m.data).contains("d=corp.test"), "{what} signed for corp.test");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_from_outside_is_judged_by_spf_dkim_and_dmarc() {
    let python = dkimpy();
    let dir = tempfile::tempdir().expect("tempdir");
    let (key, public) = rsa_key(dir.path());
    let dns = Dns::start(&[
        "--local=/test/",
        &Dns::txt("outside.test", "v=spf1 ip4:127.0.0.2 -all"),
        &Dns::txt("sel._domainkey.outside.test", &format!("v=DKIM1; k=rsa; p={public}")),
        &Dns::txt("_dmarc.outside.test", "v=DMARC1; p=reject"),
        &Dns::txt("soft.test", "v=spf1 ip4:127.0.0.2 ~all"),
        &Dns::txt("quar.test", "v=spf1 ip4:127.0.0.2 -all"),
        &Dns::txt("_dmarc.quar.test", "v=DMARC1; p=quarantine"),
        &Dns::txt("_dmarc.strict.test", "v=DMARC1; p=reject"),
    ]);
    let d = service(&dns).await;
    let smtp = d.smtp_addr().await;
    let (host, port) = (smtp.ip().to_string(), smtp.port().to_string());
    let key = key.to_str().expect("path").to_owned();
    let send = |source: &str, mail_from: &str, from: &str, subject: &str, signed: bool, altered: bool, extra: &str| {
        let k = if signed { key.as_str() } else { "-" };
        let alter = if altered { "1" } else { "0" };
        let args = [&host, &port, source, mail_from, from, subject, k, "sel", "outside.test", alter, extra];
        run_python(&python, SEND, &args).trim().to_owned()
    };

    // Signed, from an address SPF allows: everything passes.
    assert_eq!(send("127.0.0.2", "bob@outside.test", "bob@outside.test", "all pass", true, false, ""), "250 accepted");
    let ar = auth_results(&delivered(&d, "all pass").await);
    assert!(ar.starts_with("Authentication-Results: mail.corp.test;"), "{ar}");
    for want in ["spf=pass", "dkim=pass", "dmarc=pass", "header.i=@outside.test", "smtp.mailfrom=bob@outside.test"] {
        assert!(ar.contains(want), "{want} missing: {ar}");
    }

    // Signed, from an address SPF refuses: DKIM carries DMARC.
    assert_eq!(send("127.0.0.3", "bob@outside.test", "bob@outside.test", "spf fails", true, false, ""), "250 accepted");
    let ar = auth_results(&delivered(&d, "spf fails").await);
    assert!(ar.contains("spf=fail") && ar.contains("dkim=pass") && ar.contains("dmarc=pass"), "{ar}");

    // Altered after signing, from the allowed address: DKIM fails, SPF carries DMARC.
    assert_eq!(send("127.0.0.2", "bob@outside.test", "bob@outside.test", "altered", true, true, ""), "250 accepted");
    let ar = auth_results(&delivered(&d, "altered").await);
    assert!(ar.contains("spf=pass") && ar.contains("dkim=fail") && ar.contains("dmarc=pass"), "{ar}");

    // Unsigned, from an address SPF refuses: DMARC fails, and outside.test says reject.
    let refused = send("127.0.0.3", "bob@outside.test", "bob@outside.test", "forged", false, false, "");
    assert!(refused.starts_with("550") && refused.contains("DMARC policy of outside.test"), "{refused}");

    // SPF passes for the envelope's domain, but it is not the From: domain's: DMARC
    // needs alignment, and strict.test says reject.
    let refused = send("127.0.0.2", "bob@outside.test", "carol@strict.test", "not aligned", false, false, "");
    assert!(refused.starts_with("550") && refused.contains("strict.test"), "{refused}");

    // Softfail and none: recorded, accepted.
    assert_eq!(send("127.0.0.3", "dave@soft.test", "dave@soft.test", "soft", false, false, ""), "250 accepted");
    let ar = auth_results(&delivered(&d, "soft").await);
    assert!(ar.contains("spf=softfail") && ar.contains("dkim=none") && ar.contains("dmarc=none"), "{ar}");
    assert_eq!(send("127.0.0.3", "erin@none.test", "erin@none.test", "no records", false, false, ""), "250 accepted");
    assert!(auth_results(&delivered(&d, "no records").await).contains("spf=none"));

    // p=quarantine: accepted into the quarantine, not the mailbox (by default); or, as
    // the Security page may say instead, delivered with its subject tagged.
    assert_eq!(send("127.0.0.3", "fay@quar.test", "fay@quar.test", "quarantined", false, false, ""), "250 accepted");
    let held = d.ctl_ok(&["quarantine", "list", "--json"]);
    assert!(held.contains("\"subject\": \"quarantined\"") && held.contains("DMARC policy says quarantine"), "{held}");
    assert!(!d.messages_of("ann@corp.test").iter().any(|m| String::from_utf8_lossy(m).contains("quarantined")));
    d.edit_config(|c| c["security"]["message_authentication"]["dmarc_quarantine"] = "tag_subject".into());
    d.ctl_ok(&["restart"]);
    assert_eq!(send("127.0.0.3", "fay@quar.test", "fay@quar.test", "tagged", false, false, ""), "250 accepted");
    let m = delivered(&d, "tagged").await;
    assert!(m.contains("Subject: [Suspicious] tagged"), "{m}");

    // Our own domain claimed from outside, without proof: refused.
    let refused = send("127.0.0.2", "bob@outside.test", "ceo@corp.test", "from the ceo", false, false, "");
    assert!(refused.starts_with("550") && refused.contains("corp.test, which is ours"), "{refused}");

    // A result claiming to be ours goes; another server's stays.
    let forged = "Authentication-Results: mail.corp.test; dkim=pass header.d=corp.test\r\n\
                  Authentication-Results: other.test; spf=pass\r\n";
    assert_eq!(
        send("127.0.0.2", "bob@outside.test", "bob@outside.test", "forged results", true, false, forged),
        "250 accepted"
    );
    let m = delivered(&d, "forged results").await;
    assert_eq!(m.matches("Authentication-Results: mail.corp.test").count(), 1, "only ours: {m}");
    assert!(!m.contains("dkim=pass header.d=corp.test") && m.contains("Authentication-Results: other.test"), "{m}");

    // This machine talking to itself is not checked (no results added).
    let mut s = Smtp::connect(smtp);
    s.expect("EHLO local.test", "250");
    s.expect("MAIL FROM:<cron@corp.test>", "250");
    s.expect("RCPT TO:<ann@corp.test>", "250");
    s.expect("DATA", "354");
    s.expect("From: cron@corp.test\r\nSubject: local\r\n\r\nx\r\n.", "250");
    assert!(!delivered(&d, "local").await.contains("Authentication-Results"));

    // Tracking records the verdicts and the refusals.
    let track = d.ctl_ok(&["track", "--sender", "bob@outside.test"]);
    assert!(track.contains("spf=pass dkim=pass dmarc=pass"), "{track}");
    assert!(track.contains("refused") && track.contains("DMARC policy"), "{track}");
}

/// A DNS server that does not answer defers mail from outside with `451`: never a
/// silent pass.
#[tokio::test(flavor = "multi_thread")]
async fn a_dns_timeout_defers_mail_from_outside() {
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    d.ctl_ok(&["set", "dns-server", &silent.local_addr().expect("addr").to_string()]);
    d.ctl_ok(&["restart"]);
    let smtp = d.smtp_addr().await;
    let (ok, out, err) = mailroom_tests::python(
        "import smtplib,sys\ns=smtplib.SMTP(sys.argv[1],int(sys.argv[2]),source_address=('127.0.0.2',0),timeout=60)\n\
         s.ehlo('client.nowhere.test')\nprint(*s.mail('bob@outside.test'))",
        &[&smtp.ip().to_string(), &smtp.port().to_string()],
    );
    assert!(ok, "{err}");
    assert!(out.starts_with("451 b'4.7.24"), "{out}");
    drop(silent);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_records_to_publish_are_checked_live() {
    let empty = Dns::start(&["--local=/test/"]);
    let d = service(&empty).await;
    // With HTTPS on, the names mail programs set themselves up from are listed too.
    d.ctl_ok(&["set", "https-listen", "127.0.0.1:0"]);
    d.ctl_ok(&["restart"]);
    let records: serde_json::Value =
        serde_json::from_str(&d.ctl_ok(&["dns-records", "corp.test", "--check", "--json"])).expect("json");
    let records = records["records"].as_array().expect("records").clone();
    let kinds: Vec<&str> = records.iter().filter_map(|r| r["purpose"].as_str()).collect();
    assert!(kinds.iter().filter(|p| p.starts_with("DKIM key")).count() == 2, "{kinds:?}");
    let names: Vec<&str> = records.iter().filter_map(|r| r["name"].as_str()).collect();
    for name in [
        "autoconfig.corp.test",
        "autodiscover.corp.test",
        "_autodiscover._tcp.corp.test",
        "_imap._tcp.corp.test",
        "_caldavs._tcp.corp.test",
        "_carddavs._tcp.corp.test",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let path = records.iter().find(|r| r["name"] == "_caldavs._tcp.corp.test" && r["kind"] == "TXT");
    assert_eq!(path.map(|r| r["value"].clone()), Some("path=/dav/".into()), "RFC 6764's path");
    assert!(records.iter().all(|r| r["check"]["status"] == "missing"), "{records:?}");
    assert!(d.ctl_ok(&["dns-records", "--check"]).contains("[MISSING]"));

    // Publish them, and the check turns.
    let published = Dns::publishing(&serde_json::Value::Array(records.clone()));
    d.ctl_ok(&["set", "dns-server", &published.addr()]);
    let checked: serde_json::Value =
        serde_json::from_str(&d.ctl_ok(&["dns-records", "corp.test", "--check", "--json"])).expect("json");
    for r in checked["records"].as_array().expect("records") {
        assert_eq!(r["check"]["status"], "published", "{r}");
    }

    // A rotation makes new keys, which are not published yet; the old stay listed.
    d.ctl_ok(&["dkim", "rotate", "corp.test"]);
    let shown = d.ctl_ok(&["dns-records", "corp.test", "--check"]);
    assert_eq!(shown.matches("._domainkey.corp.test").count(), 4, "{shown}");
    assert!(shown.contains("[MISSING]") && shown.contains("[published]"), "{shown}");
    let old = records
        .iter()
        .find_map(|r| r["name"].as_str().filter(|n| n.contains("-rsa._domainkey")))
        .and_then(|n| n.split('.').next())
        .expect("the old RSA selector")
        .to_owned();
    d.ctl_ok(&["dkim", "retire", "corp.test", &old]);
    assert!(!d.ctl_ok(&["dns-records", "corp.test"]).contains(&old), "retired");
}

/// Mail a person sends as a shared mailbox (Send As) leaves signed for the mailbox's
/// domain, once with each key, as dkimpy verifies.
#[tokio::test(flavor = "multi_thread")]
async fn mail_sent_as_a_shared_mailbox_leaves_signed_for_its_domain() {
    let python = dkimpy();
    let dns = Dns::start(&["--local=/test/"]);
    let sink = Sink::start("127.0.0.1:0", 0).await;
    let d = service(&dns).await;
    d.ctl_ok(&["mailbox", "share", "info@corp.test"]);
    d.ctl_ok(&["mailbox", "permissions", "info@corp.test", "ann@corp.test", "none", "--send-as"]);
    d.ctl_ok(&["set", "smarthost", &format!("[127.0.0.1]:{}", sink.addr.port())]);
    // Port 25 holds senders to their accounts, as submission does.
    d.edit_config(|c| c["connections"]["sender_must_match_account"] = true.into());
    d.ctl_ok(&["restart"]);
    let records_file = d.dir.path().join("records.json");
    std::fs::write(&records_file, d.ctl_ok(&["dns-records", "corp.test", "--json"])).expect("write");

    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO client.test", "250");
    s.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAYW5uLXB3", "235");
    s.expect("MAIL FROM:<info@corp.test>", "250");
    s.expect("RCPT TO:<far@outside.test>", "250");
    s.expect("DATA", "354");
    s.expect(
        "From: Info <info@corp.test>\r\nTo: far@outside.test\r\nSubject: from the office\r\n\r\nHello.\r\n.",
        "250",
    );
    s.expect("QUIT", "221");

    let got = sink.wait_for(1, 20).await;
    let file = d.dir.path().join("send-as.eml");
    std::fs::write(&file, &got[0].data).expect("write");
    assert_eq!(got[0].from, "info@corp.test");
    let verdicts = run_python(&python, VERIFY, &[records_file.to_str().expect("path"), file.to_str().expect("path")]);
    let mut verdicts: Vec<&str> = verdicts.lines().collect();
    verdicts.sort_unstable();
    assert_eq!(verdicts, ["ed25519-sha256:True", "rsa-sha256:True"], "{}", String::from_utf8_lossy(&got[0].data));
    let text = String::from_utf8_lossy(&got[0].data);
    assert!(text.contains("d=corp.test") && !text.contains("Sender:"), "{text}");
}
