//! Dovecot's own IMAP conformance tester, imaptest, against the real `mailroomd`: every
//! one of its scripted tests (run by `tests/imaptest/run.sh`) must pass — no
//! base-protocol or extension command may fail — and its stress run (20 clients for
//! 30 seconds on its sample mailbox) must report no protocol error and leave the
//! service answering. imaptest is built from `tests/imaptest/` by `tests/setup` (or
//! here, the first time) into `target/imaptest`.
#![expect(clippy::expect_used, reason = "a test helper fails the test at once, saying what it expected")]

use std::path::PathBuf;
use std::process::Command;

use mailroom_tests::{Daemon, python, require};

/// The repository's root.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace").to_path_buf()
}

/// `tests/imaptest/`: imaptest's sources and the scripts that build and run it.
fn sources() -> PathBuf {
    root().join("tests/imaptest")
}

/// The imaptest binary, built once (the build script reuses an earlier build; the
/// tests of this file share one build rather than race two).
fn imaptest() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT.get_or_init(build).clone()
}

fn build() -> PathBuf {
    require("make", "make");
    assert!(
        std::path::Path::new("/usr/lib/dovecot/libdovecot.so").exists(),
        "needs Dovecot's library (Debian package `dovecot-core`): run tests/setup"
    );
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    let out = Command::new(sources().join("build.sh")).arg(target.join("imaptest")).output().expect("build.sh");
    assert!(out.status.success(), "imaptest did not build: {}", String::from_utf8_lossy(&out.stderr));
    let path = String::from_utf8_lossy(&out.stdout).lines().last().expect("the binary's path").to_owned();
    PathBuf::from(path)
}

/// A service with the two users imaptest's scripts log in as (one password).
async fn service() -> Daemon {
    let d = Daemon::start().await;
    d.add_mailbox("u1@corp.test", "secret");
    d.add_mailbox("u2@corp.test", "secret");
    d
}

#[tokio::test(flavor = "multi_thread")]
async fn imaptest_scripts_find_nothing_to_fault() {
    let it = imaptest();
    let d = service().await;
    let imap = d.imap_addr().await;
    let logs = tempfile::tempdir().expect("tempdir");
    let out = Command::new(sources().join("run.sh"))
        .arg(&it)
        .args([&imap.ip().to_string(), &imap.port().to_string(), "u1@corp.test", "secret", "u2@corp.test"])
        .arg(logs.path())
        .output()
        .expect("run.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let totals = stdout.lines().last().unwrap_or_default();
    eprintln!("{totals}");
    let failed: Vec<String> = std::fs::read_to_string(logs.path().join("summary.tsv"))
        .expect("summary")
        .lines()
        .filter(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            cols.get(2..4).is_some_and(|c| c.iter().any(|f| !f.starts_with("0/")))
        })
        .map(|l| {
            let name = l.split('\t').next().unwrap_or_default();
            let log = std::fs::read_to_string(logs.path().join(format!("{name}.log"))).unwrap_or_default();
            format!("{l}\n{log}")
        })
        .collect();
    assert!(failed.is_empty(), "imaptest found faults:\n{}", failed.join("\n"));
    // A script is skipped when a capability it needs is not offered: only those of
    // URLAUTH, which Mailroom leaves out as Dovecot 2.3 does.
    let skipped: Vec<String> = std::fs::read_to_string(logs.path().join("summary.tsv"))
        .expect("summary")
        .lines()
        .filter(|l| l.ends_with("\t0/0\t0/0"))
        .map(|l| l.split('\t').next().unwrap_or_default().to_owned())
        .collect();
    let left_out = ["urlauth", "urlauth-binary", "urlauth2"];
    assert!(skipped.iter().all(|s| left_out.contains(&s.as_str())), "skipped: {skipped:?}");
    assert!(out.status.success() && totals.contains("0 failed of"), "{stdout}");
    assert!(totals.contains("base protocol 0 failed") && totals.contains("extensions 0 failed"), "{totals}");
}

#[tokio::test(flavor = "multi_thread")]
async fn imaptest_stress_finds_no_protocol_error() {
    let it = imaptest();
    let d = service().await;
    let imap = d.imap_addr().await;
    let mbox = it.parent().expect("src").join("tests/default.mbox");
    let out = Command::new(&it)
        .env("LD_LIBRARY_PATH", "/usr/lib/dovecot")
        .args([
            "host=127.0.0.1".to_owned(),
            format!("port={}", imap.port()),
            "user=u1@corp.test".to_owned(),
            "pass=secret".to_owned(),
            format!("mbox={}", mbox.display()),
            "clients=20".to_owned(),
            "secs=30".to_owned(),
        ])
        .output()
        .expect("imaptest");
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let errors: Vec<&str> =
        all.lines().filter(|l| l.contains("Error") || l.contains("Panic") || l.contains("BAD")).collect();
    assert!(out.status.success(), "imaptest failed: {all}");
    assert!(errors.is_empty(), "imaptest reported {} errors:\n{}", errors.len(), errors.join("\n"));
    let totals = all.lines().skip_while(|l| !l.starts_with("Totals:")).collect::<Vec<_>>().join("\n");
    assert!(totals.contains("Logi"), "no totals: {all}");
    eprintln!("{totals}");
    // Still answering: the control socket, and a new IMAP session.
    d.status().await;
    let script = "import imaplib, sys\nM = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]))\n\
M.login('u1@corp.test', 'secret')\nassert M.select('INBOX')[0] == 'OK'\nM.logout()\n";
    let (ok, stdout, stderr) = python(script, &[&imap.ip().to_string(), &imap.port().to_string()]);
    assert!(ok, "the service does not answer IMAP after the stress: {stdout}{stderr}");
}
