//! The control plane end to end: the real `mailroomd`, its socket, and `mailroomctl`.
#![expect(clippy::expect_used, reason = "a test helper fails the test at once, saying what it expected")]

use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use mailroom_client::ClientError;
use mailroom_shared::config::Page;
use mailroom_shared::ipc::{Event, IpcError, Request, Response, ServiceState};
use mailroom_tests::{Daemon, Smtp, bin, require, require_root};

/// A raw connection that has done the handshake, for sending arbitrary lines.
fn raw(d: &Daemon) -> (UnixStream, BufReader<UnixStream>) {
    let s = UnixStream::connect(&d.socket).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let mut w = s.try_clone().expect("clone");
    let mut r = BufReader::new(s);
    w.write_all(b"{\"hello\":{\"version\":1,\"client\":\"raw\"}}\n").expect("hello");
    let mut line = String::new();
    r.read_line(&mut line).expect("welcome");
    assert!(line.starts_with("{\"welcome\""), "{line}");
    (w, r)
}

fn read_json(r: &mut BufReader<UnixStream>) -> serde_json::Value {
    let mut line = String::new();
    r.read_line(&mut line).expect("reply line");
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("reply {line:?} is not JSON: {e}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn status_json_contract() {
    let d = Daemon::start().await;
    let out = d.ctl_ok(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("status --json prints JSON");
    assert_eq!(v["state"], "running");
    assert_eq!(v["pending_restart"], false);
    for key in ["smtp_addr", "pop3_addr"] {
        let addr: std::net::SocketAddr = v[key].as_str().expect(key).parse().expect("socket address");
        assert!(addr.ip().is_loopback());
        assert_ne!(addr.port(), 0, "{key} reports the bound port, not the configured 0");
        std::net::TcpStream::connect(addr).expect("the reported address accepts connections");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ipc_round_trip_over_the_socket() {
    let d = Daemon::start().await;
    let c = d.client().await;
    assert!(c.server().starts_with("mailroomd "));
    assert_eq!(c.request(Request::Ping).await.expect("ping"), Response::Pong);
    let Response::Config { config, revision } = c.request(Request::GetConfig).await.expect("get") else {
        panic!("expected a config")
    };
    let mut draft = config.to_draft();
    draft.general.host_name = "mail.corp.test".into();
    let saved = c.request(Request::SetConfig { config: Box::new(draft), base_revision: Some(revision) }).await;
    assert_eq!(
        saved.expect("set"),
        Response::ConfigSaved { revision: revision + 1, pending_pages: vec![Page::General] }
    );
    // Concurrent requests on one connection each get their own reply.
    let (a, b, e) = tokio::join!(
        c.request(Request::Status),
        c.request(Request::Ping),
        c.request(Request::RemoveMailbox { address: "nobody@corp.test".into() })
    );
    assert!(matches!(a, Ok(Response::Status(_))));
    assert_eq!(b.expect("ping"), Response::Pong);
    assert!(matches!(e, Err(ClientError::Remote(IpcError::NotFound { .. }))), "{e:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn socket_and_directories_are_private() {
    let d = Daemon::start().await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode(&d.socket), 0o600, "socket");
    assert_eq!(mode(d.socket.parent().expect("dir")), 0o700, "socket directory");
    assert_eq!(mode(&d.data_dir), 0o700, "data directory");
    assert_eq!(mode(&d.data_dir.join("logs")), 0o700, "log directory");
}

/// Regression: a socket placed in an existing directory (`--socket /tmp/x.sock`) made
/// mailroomd chmod that directory to 0700.
#[tokio::test(flavor = "multi_thread")]
async fn an_existing_socket_directory_keeps_its_mode() {
    let d = Daemon::spawn_idle();
    let shared = d.dir.path().join("shared");
    std::fs::create_dir(&shared).expect("mkdir");
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let socket = shared.join("admin.sock");
    let mut other = std::process::Command::new(bin("mailroomd"))
        .arg("--data-dir")
        .arg(d.dir.path().join("data2"))
        .arg("--socket")
        .arg(&socket)
        .arg("--no-start")
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        assert!(std::time::Instant::now() < deadline, "no socket");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mode = std::fs::metadata(&shared).expect("metadata").permissions().mode() & 0o777;
    let socket_mode = std::fs::metadata(&socket).expect("metadata").permissions().mode() & 0o777;
    let _ = other.kill();
    let _ = other.wait();
    assert_eq!((mode, socket_mode), (0o755, 0o600));
}

/// Only the service's own user (or root) may use the socket, even when file modes would
/// let others reach it.
#[tokio::test(flavor = "multi_thread")]
async fn another_uid_is_refused() {
    require_root("to connect as another user");
    require("runuser", "util-linux");
    let d = Daemon::start().await;
    // Open the way on purpose, so that only the uid check stands.
    for p in [d.dir.path(), d.socket.parent().expect("dir")] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    std::fs::set_permissions(&d.socket, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let ctl = tempfile::Builder::new().prefix("mailroomctl").tempdir_in("/tmp").expect("tempdir");
    let exe = ctl.path().join("mailroomctl");
    std::fs::copy(bin("mailroomctl"), &exe).expect("copy mailroomctl where nobody can run it");
    std::fs::set_permissions(ctl.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let out = std::process::Command::new("runuser")
        .args(["-u", "nobody", "--"])
        .arg(&exe)
        .arg("--socket")
        .arg(&d.socket)
        .arg("status")
        .output()
        .expect("runuser");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("permission denied"), "{stderr}");
    assert_eq!(d.status().await.state, ServiceState::Running, "the service is unaffected");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_instance_is_refused() {
    let d = Daemon::start().await;
    // Same data directory, different socket: the lock file refuses it.
    let other_socket = d.dir.path().join("other.sock");
    let out = std::process::Command::new(bin("mailroomd"))
        .arg("--data-dir")
        .arg(&d.data_dir)
        .arg("--socket")
        .arg(&other_socket)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already using the data directory"), "{err}");
    // Same socket, another data directory: the live server refuses it.
    let out = std::process::Command::new(bin("mailroomd"))
        .arg("--data-dir")
        .arg(d.dir.path().join("data2"))
        .arg("--socket")
        .arg(&d.socket)
        .arg("--no-start")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already answering on"), "{err}");
    assert_eq!(d.status().await.state, ServiceState::Running, "the first instance is unaffected");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_socket_is_replaced() {
    let mut d = Daemon::start().await;
    d.signal("KILL");
    let _ = d.wait_exit();
    assert!(d.socket.exists(), "kill -9 leaves the socket file behind");
    let mut again = d.spawn(&[]);
    d.wait_for_socket().await;
    d.wait_running().await;
    let _ = again.kill();
    let _ = again.wait();
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_get_errors_and_the_service_keeps_serving() {
    let d = Daemon::start().await;
    let (mut w, mut r) = raw(&d);
    w.write_all(b"this is not json\n").expect("write");
    let v = read_json(&mut r);
    assert_eq!(v["reply"]["error"]["kind"], "malformed", "{v}");
    assert_eq!(v["reply"]["id"], serde_json::Value::Null);

    w.write_all(b"{\"id\":5,\"request\":{\"type\":\"self_destruct\"}}\n").expect("write");
    let v = read_json(&mut r);
    assert_eq!(v["reply"]["id"], 5);
    assert_eq!(v["reply"]["error"]["kind"], "unknown_request", "{v}");
    assert_eq!(v["reply"]["error"]["name"], "self_destruct");

    w.write_all(b"{\"id\":6,\"request\":{\"type\":\"set_config\",\"config\":{\"general\":{\"colour\":1}}}}\n")
        .expect("write");
    let v = read_json(&mut r);
    assert_eq!((v["reply"]["id"].as_u64(), v["reply"]["error"]["kind"].as_str()), (Some(6), Some("malformed")), "{v}");

    let mut long = vec![b'x'; 2 * 1024 * 1024];
    long.push(b'\n');
    w.write_all(&long).expect("write");
    let v = read_json(&mut r);
    assert_eq!(v["reply"]["error"]["kind"], "line_too_long", "{v}");

    w.write_all(b"{\"id\":7,\"request\":{\"type\":\"status\"}}\n").expect("write");
    let v = read_json(&mut r);
    assert_eq!(v["reply"]["id"], 7);
    assert_eq!(v["reply"]["ok"]["state"], "running", "the same connection still works: {v}");
    assert_eq!(d.status().await.state, ServiceState::Running);
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_configuration_is_refused_field_by_field() {
    let d = Daemon::start().await;
    let c = d.client().await;
    let Response::Config { config, .. } = c.request(Request::GetConfig).await.expect("get") else {
        panic!("expected config")
    };
    let mut draft = config.to_draft();
    draft.general.host_name = "bad host".into();
    draft.pop3.listen = "nowhere".into();
    let err = c.request(Request::SetConfig { config: Box::new(draft), base_revision: None }).await;
    let Err(ClientError::Remote(IpcError::InvalidConfig { errors })) = err else { panic!("{err:?}") };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["general.host_name", "pop3.listen"]);
    assert!(!d.status().await.pending_restart, "nothing was saved");

    let out = d.ctl(&["routing", "add", "corp..test", "--inbound"]);
    assert_eq!(out.status.code(), Some(2), "a malformed domain is a usage error");
    let out = d.ctl(&["set", "pop3-listen", "127.0.0.1:70000"]);
    assert_eq!(out.status.code(), Some(1), "the service refuses");
    assert!(String::from_utf8_lossy(&out.stderr).contains("pop3.listen"));
}

#[tokio::test(flavor = "multi_thread")]
async fn stale_edits_do_not_overwrite_newer_ones() {
    let d = Daemon::start().await;
    let c = d.client().await;
    let Response::Config { config, revision } = c.request(Request::GetConfig).await.expect("get") else {
        panic!("expected config")
    };
    d.ctl_ok(&["routing", "reroute", "on"]);
    let err =
        c.request(Request::SetConfig { config: Box::new(config.to_draft()), base_revision: Some(revision) }).await;
    assert!(matches!(err, Err(ClientError::Remote(IpcError::Conflict { .. }))), "{err:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn restart_applies_saved_changes_and_reports_every_state() {
    let d = Daemon::start().await;
    let watcher = d.client().await;
    let mut events = watcher.subscribe().await.expect("subscribe");

    d.ctl_ok(&["routing", "reroute", "on"]);
    d.ctl_ok(&["routing", "add", "corp.test", "--inbound"]);
    let s = d.status().await;
    assert!(s.pending_restart);
    assert_eq!(s.pending_pages, [Page::Routing]);
    let list = d.ctl_ok(&["routing", "list"]);
    assert!(list.contains("corp.test") && list.contains("<inbound>"), "{list}");

    let out = d.ctl_ok(&["restart"]);
    assert!(out.contains("state:           running"), "{out}");
    let s = d.status().await;
    assert!(!s.pending_restart, "{s:?}");
    assert_eq!(s.running_revision, Some(s.config_revision));

    let mut states = Vec::new();
    let mut saved = 0;
    while states.last() != Some(&ServiceState::Running) || states.len() < 4 {
        let e = tokio::time::timeout(Duration::from_secs(10), events.recv()).await.expect("event").expect("open");
        match e {
            Event::ServiceState { state, .. } => states.push(state),
            Event::ConfigSaved { .. } => saved += 1,
            _ => {}
        }
    }
    assert_eq!(saved, 2);
    assert_eq!(states, [ServiceState::Stopping, ServiceState::Stopped, ServiceState::Starting, ServiceState::Running]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_port_in_use_keeps_a_restart_on_the_old_configuration_and_a_start_stopped() {
    let d = Daemon::start().await;
    let old = d.status().await.smtp_addr.expect("bound");
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = busy.local_addr().expect("addr").to_string();
    d.ctl_ok(&["set", "smtp-listen", &port]);

    // A restart that cannot bind the new address leaves the running service alone.
    let out = d.ctl(&["restart"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("cannot listen for SMTP on {port}: address in use")), "{err}");
    assert!(err.contains("goes on with the configuration it was started with"), "{err}");
    let s = d.status().await;
    assert_eq!((s.state, s.smtp_addr.as_deref()), (ServiceState::Running, Some(old.as_str())));
    assert!(s.pending_restart, "the change still waits");
    assert!(s.last_error.as_deref().is_some_and(|e| e.contains("address in use")), "{s:?}");
    Smtp::connect(old.parse().expect("address")).expect("QUIT", "221");

    // A start cannot fall back on anything: the service stays stopped, with the reason.
    d.ctl_ok(&["stop"]);
    let out = d.ctl(&["start"]);
    assert_eq!(out.status.code(), Some(1));
    let s = d.status().await;
    assert_eq!(s.state, ServiceState::Stopped);
    assert!(s.last_error.as_deref().is_some_and(|e| e.contains("address in use")), "{s:?}");

    drop(busy);
    d.ctl_ok(&["start"]);
    let s = d.status().await;
    assert_eq!((s.state, s.last_error), (ServiceState::Running, None));
    assert_eq!(s.smtp_addr.as_deref(), Some(port.as_str()));
}

#[tokio::test(flavor = "multi_thread")]
async fn stop_and_start_from_the_command_line() {
    let d = Daemon::start().await;
    let smtp = d.status().await.smtp_addr.expect("bound");
    let out = d.ctl_ok(&["stop"]);
    assert!(out.contains("state:           stopped"), "{out}");
    assert!(std::net::TcpStream::connect(&smtp).is_err(), "the SMTP listener is closed while stopped");
    let v: serde_json::Value = serde_json::from_str(&d.ctl_ok(&["status", "--json"])).expect("json");
    assert_eq!((v["state"].as_str(), &v["smtp_addr"]), (Some("stopped"), &serde_json::Value::Null));
    d.ctl_ok(&["start"]);
    assert_eq!(d.status().await.state, ServiceState::Running);
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_restarts_and_sigterm_exits_cleanly() {
    let mut d = Daemon::start().await;
    let watcher = d.client().await;
    let mut events = watcher.subscribe().await.expect("subscribe");
    d.signal("HUP");
    let mut states = Vec::new();
    while states.last() != Some(&ServiceState::Running) {
        if let Event::ServiceState { state, .. } =
            tokio::time::timeout(Duration::from_secs(10), events.recv()).await.expect("event").expect("open")
        {
            states.push(state);
        }
    }
    assert_eq!(states, [ServiceState::Stopping, ServiceState::Stopped, ServiceState::Starting, ServiceState::Running]);
    d.signal("TERM");
    let (status, stderr) = d.wait_exit();
    assert!(status.success(), "{status}: {stderr}");
    assert!(stderr.contains("mailroomd stopped"), "{stderr}");
    assert!(!d.socket.exists(), "a clean exit removes the socket");
}

#[tokio::test(flavor = "multi_thread")]
async fn mailboxes_from_the_command_line() {
    let d = Daemon::start().await;
    let out = d.ctl_with_input(
        &["mailbox", "add", "Ann@Corp.Test", "--alias", "sales@corp.test", "--name", "Ann", "--password-stdin"],
        "s3cret\n",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = d.ctl_with_input(&["mailbox", "add", "sales@corp.test", "--password-stdin"], "x\n");
    assert_eq!(out.status.code(), Some(1), "an address cannot belong to two mailboxes");
    let list = d.ctl_ok(&["mailbox", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&list).expect("json");
    assert_eq!(v["mailboxes"][0]["addresses"], serde_json::json!(["ann@corp.test", "sales@corp.test"]));

    // Rerouting on without corp.test inbound: the mailbox's mail would be relayed away.
    d.ctl_ok(&["routing", "reroute", "on"]);
    let list = d.ctl_ok(&["mailbox", "list"]);
    assert!(list.contains("warning: ann@corp.test"), "{list}");
    d.ctl_ok(&["routing", "add", "corp.test", "--inbound"]);
    assert!(!d.ctl_ok(&["mailbox", "list"]).contains("warning"));
    d.ctl_ok(&["restart"]);

    let t = d.ctl_ok(&["test-address", "friend@outside.test", "--auth", "ann@corp.test"]);
    assert_eq!(t.lines().next(), Some("relayed outbound to friend@outside.test"), "{t}");
    assert!(t.contains("is not checked for SPF"), "an authenticated user's mail is not judged: {t}");
    let t = d.ctl_ok(&["test-address", "friend@outside.test", "--client-ip", "203.0.113.7"]);
    assert!(t.starts_with("refused with 550 5.7.1"), "{t}");
    assert!(!t.contains("checked"), "a refused recipient needs no word on the checks: {t}");
    let t = d.ctl_ok(&["test-address", "ann@corp.test", "--client-ip", "203.0.113.7"]);
    assert!(t.contains("Mail from this client is checked"), "{t}");
    assert!(t.contains("From: is in corp.test must pass SPF"), "own-domain protection is explained: {t}");

    d.ctl_ok(&["mailbox", "remove", "ann@corp.test"]);
    assert_eq!(d.ctl(&["mailbox", "remove", "ann@corp.test"]).status.code(), Some(1));
}

/// Regression: the address tester answered from the saved configuration, so after a
/// routing change saved but not yet restarted it said "relayed outbound" while real
/// mail still got an NDR. It says what happens now and what will after a restart.
#[tokio::test(flavor = "multi_thread")]
async fn the_address_tester_tells_now_from_after_the_restart() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "pw");
    let ask = || d.ctl_ok(&["test-address", "friend@outside.test", "--auth", "ann@corp.test"]);
    let now = ask();
    assert!(now.starts_with("no route: rerouting of incoming SMTP mail is off"), "{now}");
    d.ctl_ok(&["routing", "reroute", "on"]);
    d.ctl_ok(&["routing", "add", "corp.test", "--inbound"]);
    let t = ask();
    assert!(t.starts_with("Now (running configuration): no route: rerouting of incoming SMTP mail is off"), "{t}");
    assert!(t.contains("\nAfter a restart (saved configuration): relayed outbound to friend@outside.test"), "{t}");
    d.ctl_ok(&["restart"]);
    let t = ask();
    assert!(t.starts_with("relayed outbound to friend@outside.test") && !t.contains("After a restart"), "{t}");
}

/// Regression: an IP address was accepted as an inbound domain, and a bare IP typed as
/// smart host was refused ("write it in brackets") though it can only mean that address.
#[tokio::test(flavor = "multi_thread")]
async fn an_ip_is_no_domain_but_is_a_smart_host() {
    let d = Daemon::start().await;
    let out = d.ctl(&["routing", "add", "192.168.1.5", "--inbound"]);
    assert_eq!(out.status.code(), Some(2), "a malformed domain is a usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("is an IP address, not a domain"), "{out:?}");
    d.ctl_ok(&["set", "smarthost", "127.0.0.1:2600"]);
    let v: serde_json::Value = serde_json::from_str(&d.ctl_ok(&["config", "show"])).expect("json");
    assert_eq!(v["connections"]["smart_host"], "[127.0.0.1]:2600", "{v}");
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_service_exits_3() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = std::process::Command::new(bin("mailroomctl"))
        .arg("--socket")
        .arg(dir.path().join("none.sock"))
        .arg("status")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3));
    let out = std::process::Command::new(bin("mailroomctl")).arg("frobnicate").output().expect("run");
    assert_eq!(out.status.code(), Some(2));
}

/// Regression: `mailroomctl status | head -1` panicked ("failed printing to stdout:
/// Broken pipe") when `head` had gone before it finished writing. Like other Unix
/// tools it stops quietly, and succeeds. The pipe's reader is gone before mailroomctl
/// writes anything, so every write it makes fails.
#[tokio::test(flavor = "multi_thread")]
async fn output_into_a_closed_pipe_ends_quietly_with_0() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "pw");
    for args in [&["status"][..], &["mailbox", "list"], &["queue", "list", "--json"]] {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let out = std::process::Command::new(bin("mailroomctl"))
            .arg("--socket")
            .arg(&d.socket)
            .args(args)
            .stdout(writer)
            .output()
            .expect("run mailroomctl");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "mailroomctl {args:?}: {stderr}");
        assert!(stderr.is_empty(), "mailroomctl {args:?} said: {stderr}");
    }
}

/// The hello, then a status request and a ping, as a program would pipe them in.
const HELLO_STATUS_PING: &str = concat!(
    "{\"hello\":{\"version\":1,\"client\":\"pipe\"}}\n",
    "{\"id\":1,\"request\":{\"type\":\"status\"}}\n",
    "{\"id\":2,\"request\":{\"type\":\"ping\"}}\n",
);

/// Asserts that `output` is the welcome, then the replies to [`HELLO_STATUS_PING`]
/// (in either order), and nothing else.
fn assert_welcome_status_and_pong(output: &[u8]) {
    let text = String::from_utf8_lossy(output);
    let lines: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}"))).collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0]["welcome"]["server"].is_string(), "{text}");
    let reply =
        |id: u64| lines.iter().find(|v| v["reply"]["id"] == id).unwrap_or_else(|| panic!("no reply {id}: {text}"));
    assert_eq!(reply(1)["reply"]["ok"]["state"], "running", "{text}");
    assert_eq!(reply(2)["reply"]["ok"]["type"], "pong", "{text}");
}

/// Regression: `printf '<hello>\n<status>\n' | mailroomctl bridge` printed only the
/// welcome: at the end of its input the bridge stopped relaying. It half-closes the
/// connection and relays what the service says until the service has answered
/// everything asked and closed.
#[tokio::test(flavor = "multi_thread")]
async fn a_bridge_whose_input_ends_first_still_relays_the_replies() {
    let d = Daemon::start().await;
    let out = d.ctl_with_input(&["bridge"], HELLO_STATUS_PING);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_welcome_status_and_pong(&out.stdout);
}

/// The service's side of the bridge's half-close: a client that has stopped sending
/// still gets the answers to what it asked, and then the service closes.
#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_stops_sending_gets_its_answers_then_the_close() {
    use std::io::Read as _;
    let d = Daemon::start().await;
    let mut s = UnixStream::connect(&d.socket).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    s.write_all(HELLO_STATUS_PING.as_bytes()).expect("write");
    s.shutdown(std::net::Shutdown::Write).expect("half-close");
    let mut all = Vec::new();
    s.read_to_end(&mut all).expect("the service closes once it has answered");
    assert_welcome_status_and_pong(&all);
}

/// Regression: a bridge whose service went away (stopped, restarted, crashed) went on
/// running while its standard input stayed open, as ssh keeps it for the
/// Administrator, so the Administrator never saw the connection end. It ends when the
/// service closes.
#[tokio::test(flavor = "multi_thread")]
async fn a_bridge_ends_when_the_service_goes_even_with_its_input_open() {
    use std::io::Read as _;
    let mut d = Daemon::start().await;
    let mut bridge = std::process::Command::new(bin("mailroomctl"))
        .arg("--socket")
        .arg(&d.socket)
        .arg("bridge")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn the bridge");
    let mut input = bridge.stdin.take().expect("stdin");
    input.write_all(HELLO_STATUS_PING.as_bytes()).expect("write");
    let mut output = BufReader::new(bridge.stdout.take().expect("stdout"));
    let mut answers = String::new();
    for _ in 0..3 {
        output.read_line(&mut answers).expect("the welcome and the replies");
    }
    assert_welcome_status_and_pong(answers.as_bytes());
    d.signal("TERM");
    let _ = d.wait_exit();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = bridge.try_wait().expect("try_wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = bridge.kill();
            let _ = bridge.wait();
            panic!("the bridge still runs after the service has gone");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    let mut rest = String::new();
    output.read_to_string(&mut rest).expect("the end of its output");
    assert_eq!(rest, "");
    drop(input);
}

/// Walk defect 7 (issue 31), its loaded case: every log line went to every subscriber
/// as an event, hundreds a second on a busy server, though the Administrator shows
/// none; it woke and parsed them all. Log lines now go only to a client that asks.
#[tokio::test(flavor = "multi_thread")]
async fn log_lines_go_only_to_a_subscriber_that_asked_for_them() {
    let d = Daemon::start().await;
    let quiet = d.client().await;
    let mut quiet_events = quiet.subscribe().await.expect("subscribe");
    let reader = d.client().await;
    let mut log_events = reader.subscribe_with_logs().await.expect("subscribe");
    // Something that logs: a restart.
    d.ctl_ok(&["restart"]);
    let logged = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(Event::Log { .. }) = log_events.recv().await {
                return;
            }
        }
    })
    .await;
    assert!(logged.is_ok(), "the subscriber that asked got no log line");
    // Whatever the other got meanwhile, none of it is a log line.
    tokio::time::sleep(Duration::from_millis(500)).await;
    while let Ok(e) = quiet_events.try_recv() {
        assert!(!matches!(e, Event::Log { .. }), "a log line reached a subscriber that did not ask: {e:?}");
    }
}
