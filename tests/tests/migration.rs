//! Upgrading: a database written by the release before single-instance storage
//! (schema 1, `tests/fixtures/schema1.db`, made by `tests/fixtures/make-schema1.sh`)
//! is migrated at start, and POP3 clients see every message as before: the same
//! UIDLs, the same sizes, the same bytes.

use mailroom_tests::{Daemon, python};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/schema1.db");
const SEEN_BEFORE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/schema1-pop3.json");

/// What Python's poplib sees of each mailbox, in the fixture's JSON shape.
const POP3_VIEW: &str = r#"
import hashlib, json, poplib, sys
out = {}
for user, pw in [("ann@corp.test", "ann-pw"), ("bob@corp.test", "bob-pw"), ("admin@corp.test", "adm-pw")]:
    p = poplib.POP3(sys.argv[1], int(sys.argv[2]))
    p.user(user); p.pass_(pw)
    uidl = [l.decode().split() for l in p.uidl()[1]]
    sizes = {l.decode().split()[0]: int(l.decode().split()[1]) for l in p.list()[1]}
    msgs = []
    for n, uid in uidl:
        raw = b"\r\n".join(p.retr(int(n))[1]) + b"\r\n"
        msgs.append({"uidl": uid, "size": sizes[n], "sha256": hashlib.sha256(raw).hexdigest()})
    p.quit()
    out[user] = msgs
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread")]
async fn pop3_clients_see_the_same_mail_after_the_single_instance_migration() {
    let d = Daemon::start_from_fixture(std::path::Path::new(FIXTURE)).await;
    assert!(d.count("PRAGMA user_version") >= 2, "migrated at start");
    let pop3 = d.pop3_addr().await;
    let (ok, out, err) = python(POP3_VIEW, &[&pop3.ip().to_string(), &pop3.port().to_string()]);
    assert!(ok, "{err}");
    let now: serde_json::Value = serde_json::from_str(&out).expect("json");
    let before: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(SEEN_BEFORE).expect("fixture")).expect("json");
    assert_eq!(now, before, "UIDLs, sizes and bytes unchanged");
    assert!(before["ann@corp.test"].as_array().is_some_and(|m| m.len() >= 4), "the fixture has mail");

    // The message sent to Ann and Bob shares one content now.
    let shared = d.count("SELECT COUNT(*) FROM contents WHERE refs >= 2");
    assert!(shared >= 1, "copies of one message share their content");

    // The queue carried over too: the queued message is still there, and retrying it
    // works (its smart host is unreachable, so it is deferred, not lost).
    let queued = d.ctl_ok(&["queue", "list"]);
    assert!(queued.contains("far@outside.test"), "{queued}");
}
