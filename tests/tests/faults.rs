//! Reliability under faults, against the real `mailroomd`: restarts under load, a
//! control socket full of idle connections. (Stalled next hops, full disks and slow
//! clients have files of their own.)

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mailroom_shared::ipc::ServiceState;
use mailroom_tests::{Daemon, Sink, Stall};

/// Regression: a restart with one stalled delivery took the whole drain timeout, and
/// the SMTP listener refused every connection meanwhile. Now the new run takes over
/// the listening socket at once: an 8-client burst through the restart loses nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_restart_under_load_refuses_no_connection_and_waits_for_no_stalled_delivery() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    d.ctl_ok(&["routing", "reroute", "on"]);
    d.ctl_ok(&["routing", "add", "corp.test", "--inbound"]);
    let stalled = Sink::stalling(Stall::Greeting).await;
    d.ctl_ok(&["set", "smarthost", &format!("[127.0.0.1]:{}", stalled.addr.port())]);
    d.edit_config(|c| c["general"]["drain_timeout_secs"] = 30.into());
    d.ctl_ok(&["restart"]);
    let smtp = d.smtp_addr().await;

    // A relayed message whose delivery hangs at the next hop's greeting.
    let mut s = mailroom_tests::Smtp::connect(smtp);
    s.expect("EHLO client.test", "250");
    s.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAYW5uLXB3", "235");
    s.expect("MAIL FROM:<ann@corp.test>", "250");
    s.expect("RCPT TO:<far@outside.test>", "250");
    s.expect("DATA", "354");
    s.expect("Subject: stuck\r\n\r\nstuck\r\n.", "250");
    let deadline = Instant::now() + Duration::from_secs(10);
    while stalled.stalled.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the delivery never reached the stalled next hop");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let stop = Arc::new(AtomicBool::new(false));
    let (sent, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(std::sync::Mutex::new(Vec::new())));
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let (stop, sent, failed) = (Arc::clone(&stop), Arc::clone(&sent), Arc::clone(&failed));
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match mailroom_tests::try_send(smtp, "ann@corp.test") {
                        Ok(_) => sent.fetch_add(1, Ordering::SeqCst),
                        Err(e) => {
                            failed.lock().expect("lock").push(e);
                            0
                        }
                    };
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(700)).await;
    d.ctl_ok(&["set", "host-name", "mail.corp.test"]);
    let t = Instant::now();
    d.ctl_ok(&["restart"]);
    let restart = t.elapsed();
    tokio::time::sleep(Duration::from_millis(700)).await;
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.join().expect("client thread");
    }

    let failed = failed.lock().expect("lock").clone();
    let sent = sent.load(Ordering::SeqCst);
    eprintln!(
        "restart under an 8-client burst: {sent} messages sent, {} failed, restart took {restart:?}",
        failed.len()
    );
    assert!(failed.is_empty(), "{} of {} transactions failed: {:?}", failed.len(), sent + failed.len(), failed);
    assert!(sent >= 16, "the burst kept sending ({sent})");
    assert!(restart < Duration::from_secs(5), "the restart waited for the stalled delivery: {restart:?}");
    let status = d.status().await;
    assert_eq!((status.state, status.pending_restart), (ServiceState::Running, false));
    assert_eq!(status.smtp_addr, Some(smtp.to_string()), "the same listening socket");
    // The stalled delivery was not duplicated: it is still the old run's, in flight.
    assert_eq!(d.count("SELECT COUNT(*) FROM queue_recipients WHERE state = 'in_flight'"), 1);
}

/// Holds `n` control connections open and idle (handshake done, nothing asked) until
/// its standard input closes: another process than the test's.
const HOLDER: &str = r#"
import socket, sys
path, n = sys.argv[1], int(sys.argv[2])
held = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(b'{"hello":{"version":1,"client":"holder"}}\n')
    f = s.makefile("rb")
    line = f.readline()
    assert b"welcome" in line, line
    held.append((s, f))
print("ready", flush=True)
sys.stdin.read()
"#;

/// Regression: 64 idle control connections (no subscription, nothing asked) filled
/// every place, and `mailroomctl` was turned away until they timed out. Now a new
/// connection closes the one idle the longest. (Four processes hold them: one process
/// holds at most a quarter.)
#[tokio::test(flavor = "multi_thread")]
async fn idle_control_connections_do_not_lock_out_the_administrator() {
    use std::io::BufRead as _;
    mailroom_tests::require("python3", "python3");
    let d = Daemon::start().await;
    let per_process = mailroom_service_max_connections() / 4;
    let mut holders = Vec::new();
    for _ in 0..4 {
        let mut child = std::process::Command::new("python3")
            .args(["-c", HOLDER, &d.socket.display().to_string(), &per_process.to_string()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3");
        let mut ready = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut ready).expect("ready");
        assert_eq!(ready.trim(), "ready");
        holders.push(child);
    }
    let t = Instant::now();
    let out = d.ctl(&["status"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    for mut h in holders {
        let _ = h.kill();
        let _ = h.wait();
    }
}

/// Regression: a client that kept opening control connections and kept them busy took
/// every place, and `mailroomctl status` succeeded once in 45 tries. Now one process
/// holds at most a quarter of the places, and is told so past them.
#[tokio::test(flavor = "multi_thread")]
async fn a_process_flooding_the_control_socket_cannot_lock_out_the_others() {
    let d = Daemon::start().await;
    let per_process = mailroom_service_max_connections() / 4;
    let stop = Arc::new(AtomicBool::new(false));
    let mut busy = Vec::new();
    for _ in 0..per_process {
        let client = d.client().await;
        let stop = Arc::clone(&stop);
        busy.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if client.ping().await.is_err() {
                    break;
                }
            }
        }));
    }
    let more = mailroom_client::Client::connect(&d.socket, "greedy").await;
    let refused = more.expect_err("past its share");
    assert!(refused.to_string().contains("per process"), "{refused}");
    for _ in 0..10 {
        let out = d.ctl(&["status"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    stop.store(true, Ordering::Relaxed);
    for b in busy {
        b.await.expect("join");
    }
}

/// Regression: message tracking records and the daily log files were kept forever.
/// Now both go after the Diagnostics Logging page's retention (30 days by default),
/// when a run starts and daily; Service Status shows what is kept.
#[tokio::test(flavor = "multi_thread")]
async fn old_tracking_records_and_log_files_are_removed() {
    let d = Daemon::start().await;
    let old_log = d.data_dir.join("logs").join("mailroomd.log.2020-01-01");
    std::fs::write(&old_log, "an old day\n").expect("write");
    let long_ago = std::time::SystemTime::now() - Duration::from_secs(40 * 86_400);
    std::fs::File::options().write(true).open(&old_log).expect("open").set_modified(long_ago).expect("mtime");
    {
        let db = rusqlite::Connection::open(d.data_dir.join("mailroom.db")).expect("open");
        db.busy_timeout(Duration::from_secs(10)).expect("busy");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs() as i64;
        for (at, event) in [(now - 40 * 86_400, "old"), (now - 86_400, "recent")] {
            db.execute("INSERT INTO tracking (at, event) VALUES (?1, ?2)", rusqlite::params![at, event])
                .expect("insert");
        }
    }
    d.ctl_ok(&["restart"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while d.count("SELECT COUNT(*) FROM tracking WHERE event = 'old'") > 0 || old_log.exists() {
        assert!(Instant::now() < deadline, "old records and files were not removed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(d.count("SELECT COUNT(*) FROM tracking WHERE event = 'recent'"), 1, "recent records stay");
    let status: serde_json::Value = serde_json::from_str(&d.ctl_ok(&["status", "--json"])).expect("json");
    let storage = &status["storage"];
    assert_eq!(storage["keep_days"], 30, "{status}");
    assert!(storage["database_bytes"].as_u64().is_some_and(|b| b > 0), "{status}");
    assert_eq!(storage["low"], false, "{status}");
    assert!(d.ctl_ok(&["status"]).contains("kept on it:"), "mailroomctl shows it");
}

/// The control socket's cap on connections (`mailroom_service::control::MAX_CONNECTIONS`;
/// one process holds at most a quarter, `MAX_PER_PROCESS`).
fn mailroom_service_max_connections() -> usize {
    64
}
