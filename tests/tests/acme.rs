//! Certificates from an ACME CA, against Pebble (Let's Encrypt's test CA, Debian's
//! `pebble`) on loopback, with dnsmasq telling Pebble where `mail.example.test` is.
//! Pebble really checks: it connects back to the service's challenge listener
//! (`tls-alpn-01`, then `http-01`). A client trusting only Pebble's root then verifies
//! the issued certificate over STARTTLS (Python's smtplib and ssl), and a forced
//! renewal swaps it while a session opened before goes on: no restart.
#![expect(clippy::expect_used, reason = "a test helper fails the test at once, saying what it expected")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use mailroom_tests::{Daemon, Dns, Smtp, TestCa, python, require};

const NAME: &str = "mail.example.test";

/// A Pebble on loopback, killed on drop.
struct Pebble {
    child: Child,
    /// The ACME directory URL.
    directory: String,
    /// The management interface (roots, intermediates).
    management: u16,
    /// Pebble's own HTTPS certificate's CA, for clients of its API.
    api_ca: TestCa,
    /// Where Pebble connects to check `http-01` and `tls-alpn-01`.
    http_port: u16,
    tls_port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Pebble {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

impl Pebble {
    fn start(dns: &Dns) -> Pebble {
        require("pebble", "pebble");
        require("curl", "curl");
        let dir = tempfile::tempdir().expect("tempdir");
        let api_ca = TestCa::new();
        let (cert, key) = api_ca.issue(&["127.0.0.1", "localhost"]);
        let (listen, management, http_port, tls_port) = (free_port(), free_port(), free_port(), free_port());
        let config = serde_json::json!({ "pebble": {
            "listenAddress": format!("127.0.0.1:{listen}"),
            "managementListenAddress": format!("127.0.0.1:{management}"),
            "certificate": cert, "privateKey": key,
            "httpPort": http_port, "tlsPort": tls_port,
            "ocspResponderURL": "", "externalAccountBindingRequired": false,
        }});
        let config_path = dir.path().join("pebble.json");
        std::fs::write(&config_path, config.to_string()).expect("write config");
        let log = std::fs::File::create(dir.path().join("pebble.log")).expect("log");
        let child = Command::new("pebble")
            .arg("-config")
            .arg(&config_path)
            .args(["-dnsserver", &dns.addr()])
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn pebble");
        let p = Pebble {
            child,
            directory: format!("https://127.0.0.1:{listen}/dir"),
            management,
            api_ca,
            http_port,
            tls_port,
            dir,
        };
        let until = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", listen)).is_err()
            || std::net::TcpStream::connect(("127.0.0.1", management)).is_err()
        {
            assert!(Instant::now() < until, "pebble did not start:\n{}", p.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        p
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pebble.log")).unwrap_or_default()
    }

    /// Pebble's root certificate (made anew at each start), as a PEM file.
    fn root(&self) -> PathBuf {
        let path = self.dir.path().join("root.pem");
        let out = Command::new("curl")
            .args(["-sSf", "--cacert"])
            .arg(&self.api_ca.cert)
            .arg(format!("https://127.0.0.1:{}/roots/0", self.management))
            .output()
            .expect("curl");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        std::fs::write(&path, &out.stdout).expect("write root");
        path
    }
}

/// The certificate and ACME state, as `mailroomctl --json certificate` tells them.
fn certificate(d: &Daemon) -> serde_json::Value {
    serde_json::from_str(&d.ctl_ok(&["--json", "certificate"])).expect("json")
}

/// Waits until the ACME client is in `state`; returns what it said.
fn wait_for_state(d: &Daemon, pebble: &Pebble, state: &str) -> serde_json::Value {
    let until = Instant::now() + Duration::from_secs(90);
    loop {
        let c = certificate(d);
        if c["acme"]["state"] == state {
            return c;
        }
        assert!(
            Instant::now() < until,
            "ACME state is not {state}: {c}\n--- mailroomd:\n{}\n--- pebble:\n{}",
            d.all_logs(),
            pebble.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The SHA-256 fingerprint of the certificate a client trusting only `root` sees after
/// STARTTLS on `port`, asking for and checking the name [`NAME`]; or why it refused.
fn verified_fingerprint(port: u16, root: &Path) -> Result<String, String> {
    let script = r#"
import hashlib, smtplib, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = smtplib.SMTP()
s.connect("127.0.0.1", int(sys.argv[1]))
s._host = sys.argv[3]
s.ehlo("client.example.test")
s.starttls(context=ctx)
der = s.sock.getpeercert(binary_form=True)
print(":".join("%02X" % b for b in hashlib.sha256(der).digest()))
s.quit()
"#;
    let (ok, out, err) = python(script, &[&port.to_string(), root.to_str().expect("utf-8"), NAME]);
    if ok { Ok(out.trim().to_owned()) } else { Err(err) }
}

#[tokio::test(flavor = "multi_thread")]
async fn pebble_issues_a_certificate_clients_verify_and_renewal_swaps_it_without_a_restart() {
    let dns = Dns::start(&["--local=/test/", &format!("--host-record={NAME},127.0.0.1")]);
    let pebble = Pebble::start(&dns);
    // The ACME client trusts Pebble's API through the system's trust store variable.
    let ca = pebble.api_ca.cert.to_str().expect("utf-8").to_owned();
    let d = Daemon::start_with_env(&[("SSL_CERT_FILE", &ca)]).await;
    let smtp = d.smtp_addr().await;

    // Before: the self-signed certificate, which a client trusting Pebble refuses.
    let root = pebble.root();
    let refused = verified_fingerprint(smtp.port(), &root).expect_err("a self-signed certificate is refused");
    assert!(refused.contains("CERTIFICATE_VERIFY_FAILED"), "{refused}");

    // Ask for one, answered by tls-alpn-01, and restart to apply.
    d.ctl_ok(&[
        "certificate",
        "acme",
        "--names",
        NAME,
        "--email",
        "postmaster@example.test",
        "--directory",
        &pebble.directory,
        "--challenge",
        "tls-alpn-01",
        "--challenge-listen",
        &format!("127.0.0.1:{}", pebble.tls_port),
    ]);
    d.ctl_ok(&["restart"]);
    let smtp = d.smtp_addr().await;
    let issued = wait_for_state(&d, &pebble, "valid");
    let first = issued["certificate"]["sha256_fingerprint"].as_str().expect("fingerprint").to_owned();
    assert_eq!(issued["certificate"]["names"], serde_json::json!([NAME]), "{issued}");
    assert!(issued["certificate"]["issuer"].as_str().is_some_and(|i| i.contains("Pebble")), "{issued}");
    let renewal = issued["acme"]["next_attempt"].as_i64().expect("renewal time");
    let not_after = issued["certificate"]["not_after"].as_i64().expect("not_after");
    assert_eq!(not_after - renewal, 30 * 86_400, "renewed 30 days before expiry");
    let root = pebble.root();
    assert_eq!(verified_fingerprint(smtp.port(), &root).expect("verified"), first, "clients see the issued one");
    let human = d.ctl_ok(&["certificate"]);
    assert!(human.contains("from the ACME CA") && human.contains("certificate in use"), "{human}");

    // A forced renewal, with a session open: the session goes on, new connections get
    // the new certificate.
    let before = d.status().await;
    let mut open = Smtp::connect(smtp);
    open.expect("EHLO before.example.test", "250");
    let renewed = d.ctl_ok(&["--json", "certificate", "renew"]);
    let renewed: serde_json::Value = serde_json::from_str(&renewed).expect("json");
    let second = renewed["certificate"]["sha256_fingerprint"].as_str().expect("fingerprint").to_owned();
    assert_ne!(second, first, "a new certificate");
    assert_eq!(verified_fingerprint(smtp.port(), &root).expect("verified"), second);
    open.expect("NOOP", "250");
    let after = d.status().await;
    assert_eq!(after.state, before.state);
    assert!(
        after.uptime_secs >= before.uptime_secs,
        "no restart: {:?} then {:?}",
        before.uptime_secs,
        after.uptime_secs
    );

    // The other challenge: http-01. The stored certificate is kept across the restart
    // (no new order at start); a renewal is answered on the web port.
    d.ctl_ok(&[
        "certificate",
        "acme",
        "--challenge",
        "http-01",
        "--challenge-listen",
        &format!("127.0.0.1:{}", pebble.http_port),
    ]);
    d.ctl_ok(&["restart"]);
    let kept = wait_for_state(&d, &pebble, "valid");
    assert_eq!(kept["certificate"]["sha256_fingerprint"].as_str(), Some(second.as_str()), "kept at start");
    let third: serde_json::Value = serde_json::from_str(&d.ctl_ok(&["--json", "certificate", "renew"])).expect("json");
    let third = third["certificate"]["sha256_fingerprint"].as_str().expect("fingerprint").to_owned();
    assert!(third != second && third != first, "a third certificate");
    let smtp = d.smtp_addr().await;
    assert_eq!(verified_fingerprint(smtp.port(), &root).expect("verified"), third);

    // A name the CA cannot check: a clear reason, and the certificate in use stays.
    d.ctl_ok(&["certificate", "acme", "--names", "nowhere.example.test"]);
    d.ctl_ok(&["restart"]);
    let failed = wait_for_state(&d, &pebble, "failed");
    let reason = failed["acme"]["last_error"].as_str().unwrap_or_default().to_owned();
    assert!(reason.contains("nowhere.example.test"), "{failed}");
    let out = d.ctl(&["certificate", "renew"]);
    assert!(!out.status.success(), "renew reports the failure");
    assert!(String::from_utf8_lossy(&out.stderr).contains("nowhere.example.test"));
}

/// Asked for, the certificate also names the names mail programs set themselves up
/// from (autoconfig. and autodiscover. of each inbound domain), which the HTTPS
/// listener then presents to a client that checks.
#[tokio::test(flavor = "multi_thread")]
async fn the_certificate_names_autoconfig_and_autodiscover_when_asked() {
    let dns = Dns::start(&[
        "--local=/test/",
        &format!("--host-record={NAME},127.0.0.1"),
        "--host-record=autoconfig.corp.test,127.0.0.1",
        "--host-record=autodiscover.corp.test,127.0.0.1",
    ]);
    let pebble = Pebble::start(&dns);
    let ca = pebble.api_ca.cert.to_str().expect("utf-8").to_owned();
    let d = Daemon::start_with_env(&[("SSL_CERT_FILE", &ca)]).await;
    d.ctl_ok(&["routing", "reroute", "on"]);
    d.ctl_ok(&["routing", "add", "corp.test", "--inbound"]);
    d.ctl_ok(&["set", "https-listen", "127.0.0.1:0"]);
    d.ctl_ok(&[
        "certificate",
        "acme",
        "--names",
        NAME,
        "--setup-names",
        "on",
        "--directory",
        &pebble.directory,
        "--challenge",
        "tls-alpn-01",
        "--challenge-listen",
        &format!("127.0.0.1:{}", pebble.tls_port),
    ]);
    d.ctl_ok(&["restart"]);
    let issued = wait_for_state(&d, &pebble, "valid");
    // Asked for in this order; the CA lists them in its own.
    assert_eq!(issued["acme"]["names"], serde_json::json!([NAME, "autoconfig.corp.test", "autodiscover.corp.test"]));
    let mut names: Vec<&str> =
        issued["certificate"]["names"].as_array().expect("names").iter().filter_map(|n| n.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["autoconfig.corp.test", "autodiscover.corp.test", NAME], "{issued}");
    // Thunderbird's request, by name, verified against the CA.
    let https = d.status().await.listeners.iter().find(|l| l.protocol == "HTTPS").expect("HTTPS").address.clone();
    let port = https.rsplit_once(':').map(|(_, p)| p.to_owned()).expect("port");
    let root = pebble.root();
    let out = std::process::Command::new("curl")
        .args(["-sS", "--max-time", "20", "--cacert", root.to_str().expect("utf-8")])
        .args(["--resolve", &format!("autoconfig.corp.test:{port}:127.0.0.1")])
        .arg(format!("https://autoconfig.corp.test:{port}/mail/config-v1.1.xml?emailaddress=ann@corp.test"))
        .output()
        .expect("curl");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("clientConfig"));
}
