//! TLS end to end: STARTTLS with the self-signed certificate made at first start and
//! with a CA-issued certificate that clients verify, the implicit-TLS listeners
//! (submissions, pop3s), against Python's smtplib and poplib, curl and swaks; and the
//! plaintext-injection guard.

use std::process::Command;

use mailroom_tests::{Daemon, TestCa, python, require, require_swaks_tls};

async fn service() -> (Daemon, std::net::SocketAddr) {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    let addr = d.smtp_addr().await;
    (d, addr)
}

#[tokio::test(flavor = "multi_thread")]
async fn smtplib_starttls_with_the_self_signed_certificate() {
    let (d, addr) = service().await;
    let script = r#"
import smtplib, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
with smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=20) as s:
    s.ehlo("client.test")
    assert s.has_extn("starttls"), s.esmtp_features
    s.starttls(context=ctx)
    cert = s.sock.getpeercert(binary_form=True)
    s.ehlo("client.test")
    assert not s.has_extn("starttls"), "STARTTLS is not offered again"
    s.login("ann@corp.test", "ann-pw")
    s.sendmail("ann@corp.test", ["ann@corp.test"], "Subject: over tls\r\n\r\nsecret\r\n")
    print(s.sock.version(), len(cert))
"#;
    let (ok, out, err) = python(script, &[&addr.ip().to_string(), &addr.port().to_string()]);
    assert!(ok, "{out}{err}");
    assert!(out.starts_with("TLSv1.3") || out.starts_with("TLSv1.2"), "{out}");
    assert_eq!(d.count("SELECT COUNT(*) FROM messages"), 1);
    let cert = d.data_dir.join("tls").join("localhost.crt.pem");
    assert!(cert.exists(), "the self-signed certificate is kept in the data directory");
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_and_swaks_require_tls() {
    require("curl", "curl");
    require_swaks_tls();
    let (d, addr) = service().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mail = dir.path().join("m.txt");
    std::fs::write(&mail, "Subject: curl tls\r\n\r\nx\r\n").expect("write");
    let out = Command::new("curl")
        .args(["-sS", "--ssl-reqd", "-k", "--url", &format!("smtp://{addr}")])
        .args(["--mail-from", "ann@corp.test", "--mail-rcpt", "ann@corp.test", "--user", "ann@corp.test:ann-pw"])
        .arg("--upload-file")
        .arg(&mail)
        .output()
        .expect("curl");
    assert!(out.status.success(), "curl: {}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new("swaks")
        .args(["--server", &addr.to_string(), "--tls", "--from", "ann@corp.test", "--to", "ann@corp.test"])
        .args(["--auth", "PLAIN", "--auth-user", "ann@corp.test", "--auth-password", "ann-pw"])
        .output()
        .expect("swaks");
    let transcript = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{transcript}{}", String::from_utf8_lossy(&out.stderr));
    assert!(transcript.contains("TLS started"), "{transcript}");
    assert_eq!(d.count("SELECT COUNT(*) FROM messages"), 2);
}

/// CVE-2011-0411 class: plaintext pipelined behind STARTTLS must be thrown away, not
/// executed after the handshake.
#[tokio::test(flavor = "multi_thread")]
async fn plaintext_injected_after_starttls_is_discarded() {
    let (_d, addr) = service().await;
    let script = r#"
import socket, ssl, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
f = s.makefile("rb")
def reply():
    lines = []
    while True:
        l = f.readline().decode()
        lines.append(l.strip())
        if l[3:4] != "-":
            return lines
reply()
s.sendall(b"EHLO client.test\r\n"); reply()
s.sendall(b"STARTTLS\r\nNOOP\r\nMAIL FROM:<evil@x.test>\r\n")
first = reply()
assert first[0].startswith("220"), first
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(s, server_hostname="localhost")
tf = t.makefile("rb")
t.sendall(b"EHLO client.test\r\n")
lines = []
while True:
    l = tf.readline().decode()
    lines.append(l.strip())
    if l[3:4] != "-":
        break
print("\n".join(lines))
t.sendall(b"MAIL FROM:<ann@corp.test>\r\n")
print("MAIL:", tf.readline().decode().strip())
"#;
    let (ok, out, err) = python(script, &[&addr.ip().to_string(), &addr.port().to_string()]);
    assert!(ok, "{out}{err}");
    let first = out.lines().next().unwrap_or_default();
    assert!(first.starts_with("250-localhost Hello"), "the first answer after TLS is to EHLO, not NOOP: {out}");
    assert!(!out.contains("STARTTLS"), "not offered again: {out}");
    assert!(out.contains("MAIL: 250 2.1.0"), "no injected MAIL left a transaction open: {out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn poplib_stls_and_curl_pop3_over_tls() {
    require("curl", "curl");
    let (d, smtp) = service().await;
    let (ok, _, err) = python(
        "import smtplib,sys\nwith smtplib.SMTP(sys.argv[1], int(sys.argv[2])) as s: s.sendmail('x@o.test',['ann@corp.test'],'Subject: hi\\r\\n\\r\\nx\\r\\n')",
        &[&smtp.ip().to_string(), &smtp.port().to_string()],
    );
    assert!(ok, "{err}");
    let pop3: std::net::SocketAddr = d.status().await.pop3_addr.expect("pop3").parse().expect("addr");
    let script = r#"
import poplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
p = poplib.POP3(sys.argv[1], int(sys.argv[2]), timeout=20)
assert "STLS" in p.capa(), p.capa()
p.stls(context=ctx)
assert "STLS" not in p.capa(), "not offered again"
p.user("ann@corp.test"); p.pass_("ann-pw")
print(p.stat()[0], p.sock.version())
p.quit()
"#;
    let (ok, out, err) = python(script, &[&pop3.ip().to_string(), &pop3.port().to_string()]);
    assert!(ok, "{out}{err}");
    assert!(out.starts_with("1 TLSv1."), "{out}");
    let out = Command::new("curl")
        .args(["-sS", "--ssl-reqd", "-k", "-u", "ann@corp.test:ann-pw", &format!("pop3://{pop3}/")])
        .output()
        .expect("curl");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

/// One write of `STLS` followed by plaintext: only the `+OK` is answered before TLS.
#[tokio::test(flavor = "multi_thread")]
async fn plaintext_injected_after_stls_is_discarded() {
    let (d, _) = service().await;
    let pop3: std::net::SocketAddr = d.status().await.pop3_addr.expect("pop3").parse().expect("addr");
    let script = r#"
import socket, ssl, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
f = s.makefile("rb"); f.readline()
s.sendall(b"STLS\r\nUSER ann@corp.test\r\nPASS ann-pw\r\n")
assert f.readline().startswith(b"+OK"), "STLS answered"
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(s, server_hostname="localhost"); tf = t.makefile("rb")
t.sendall(b"STAT\r\n")
print(tf.readline().decode().strip())
"#;
    let (ok, out, err) = python(script, &[&pop3.ip().to_string(), &pop3.port().to_string()]);
    assert!(ok, "{out}{err}");
    assert!(out.starts_with("-ERR"), "the injected login was discarded, so STAT is refused: {out}");
}

/// A certificate from the Security page, issued by a CA the clients trust: every
/// client checks the chain and the name (here the IP address it connects to), over
/// STARTTLS, STLS and both implicit-TLS listeners; and the fingerprint `mailroomctl
/// certificate` shows is the one the clients saw.
#[tokio::test(flavor = "multi_thread")]
async fn a_supplied_certificate_is_verified_by_real_clients() {
    require("curl", "curl");
    let ca = TestCa::new();
    let (cert, key) = ca.issue(&["mail.corp.test", "127.0.0.1"]);
    let (d, _) = service().await;
    d.edit_config(|c| {
        c["general"]["host_name"] = "mail.corp.test".into();
        c["security"]["tls_certificate"] = cert.display().to_string().into();
        c["security"]["tls_key"] = key.display().to_string().into();
        c["connections"]["submissions_listen"] = "127.0.0.1:0".into();
        c["pop3"]["pop3s_listen"] = "127.0.0.1:0".into();
    });
    d.ctl_ok(&["restart"]);
    let st = d.status().await;
    let port = |a: &Option<String>| a.as_deref().expect("bound").rsplit(':').next().expect("port").to_owned();
    let (smtp, submissions, pop3, pop3s) =
        (port(&st.smtp_addr), port(&st.submissions_addr), port(&st.pop3_addr), port(&st.pop3s_addr));
    let script = r#"
import hashlib, poplib, smtplib, ssl, sys
ca, smtp, submissions, pop3, pop3s = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=ca)   # verifies the chain and the name
assert ctx.check_hostname and ctx.verify_mode == ssl.CERT_REQUIRED
seen = set()
def fp(sock):
    seen.add(hashlib.sha256(sock.getpeercert(binary_form=True)).hexdigest())
with smtplib.SMTP("127.0.0.1", int(smtp), timeout=20) as s:
    s.starttls(context=ctx); fp(s.sock)
    s.login("ann@corp.test", "ann-pw")
    s.sendmail("ann@corp.test", ["ann@corp.test"], "Subject: starttls\r\n\r\nx\r\n")
with smtplib.SMTP_SSL("127.0.0.1", int(submissions), context=ctx, timeout=20) as s:
    fp(s.sock)
    s.ehlo("client.test")
    assert not s.has_extn("starttls"), "no STARTTLS on implicit TLS"
    s.login("ann@corp.test", "ann-pw")
    s.sendmail("ann@corp.test", ["ann@corp.test"], "Subject: submissions\r\n\r\nx\r\n")
p = poplib.POP3("127.0.0.1", int(pop3), timeout=20)
p.stls(context=ctx); fp(p.sock)
p.user("ann@corp.test"); p.pass_("ann-pw")
n = p.stat()[0]; p.quit()
p = poplib.POP3_SSL("127.0.0.1", int(pop3s), context=ctx, timeout=20)
fp(p.sock)
assert "STLS" not in p.capa(), "no STLS on implicit TLS"
p.user("ann@corp.test"); p.pass_("ann-pw")
print(n, p.stat()[0], len(seen), ":".join(f"{b:02X}" for b in bytes.fromhex(seen.pop())))
p.quit()
"#;
    let ca_path = ca.cert.display().to_string();
    let (ok, out, err) = python(script, &[&ca_path, &smtp, &submissions, &pop3, &pop3s]);
    assert!(ok, "{out}{err}");
    let fields: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(fields[..3], ["2", "2", "1"], "two messages, read over both POP3 listeners, one certificate: {out}");
    let shown = d.ctl_ok(&["certificate"]);
    assert!(shown.contains(&format!("SHA-256:     {}", fields[3])), "{shown}");
    assert!(shown.contains("from the Security page") && shown.contains("CN=Mailroom Test CA"), "{shown}");
    assert!(shown.contains("mail.corp.test, 127.0.0.1"), "{shown}");

    // curl over both implicit-TLS listeners, verifying against the CA.
    let dir = tempfile::tempdir().expect("tempdir");
    let mail = dir.path().join("m.txt");
    std::fs::write(&mail, "Subject: curl smtps\r\n\r\nx\r\n").expect("write");
    let out = Command::new("curl")
        .args(["-sS", "--cacert", &ca_path, "--url", &format!("smtps://127.0.0.1:{submissions}")])
        .args(["--mail-from", "ann@corp.test", "--mail-rcpt", "ann@corp.test", "--user", "ann@corp.test:ann-pw"])
        .arg("--upload-file")
        .arg(&mail)
        .output()
        .expect("curl");
    assert!(out.status.success(), "curl smtps: {}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new("curl")
        .args(["-sS", "--cacert", &ca_path, "-u", "ann@corp.test:ann-pw", &format!("pop3s://127.0.0.1:{pop3s}/")])
        .output()
        .expect("curl");
    assert!(out.status.success(), "curl pop3s: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3, "LIST shows the three messages");
    let received =
        d.all_messages().iter().filter(|m| String::from_utf8_lossy(m).contains("with ESMTPSA (using TLSv1.3)")).count();
    assert_eq!(received, 3, "Received: says TLS and authentication (RFC 3848)");
}

/// The self-signed certificate is shown with its fingerprint, and a client that
/// verifies certificates refuses it (as it should: it is not from a trusted CA).
#[tokio::test(flavor = "multi_thread")]
async fn the_self_signed_certificate_is_shown_and_not_trusted_blindly() {
    let (d, addr) = service().await;
    let shown = d.ctl_ok(&["certificate"]);
    assert!(shown.contains("self-signed, made by Mailroom"), "{shown}");
    assert!(shown.contains("names:       localhost"), "{shown}");
    let script = r#"
import hashlib, smtplib, ssl, sys
try:
    with smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=20) as s:
        s.starttls(context=ssl.create_default_context())
    print("verified?!")
except ssl.SSLCertVerificationError as e:
    print("refused", e.verify_message)
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
with smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=20) as s:
    s.starttls(context=ctx)
    print(":".join(f"{b:02X}" for b in hashlib.sha256(s.sock.getpeercert(binary_form=True)).digest()))
"#;
    let (ok, out, err) = python(script, &[&addr.ip().to_string(), &addr.port().to_string()]);
    assert!(ok, "{out}{err}");
    assert!(out.starts_with("refused"), "{out}");
    let fingerprint = out.lines().nth(1).expect("fingerprint");
    assert!(shown.contains(fingerprint), "the fingerprint the client saw is the one shown: {shown} / {out}");
}
