//! A full disk delays mail and never loses or duplicates it, on a real tmpfs.
//!
//! Regression: a full disk while relay mail was in flight sent the queue actor into a
//! busy loop (about 1,550 error lines a second, a quarter of a core, memory growing past
//! 800 MB), left delivered recipients `in_flight` once space returned, and re-sent
//! them at the next start (7 duplicates of 8). And with no reserve, nothing could be
//! deleted either.

use std::time::{Duration, Instant};

use mailroom_tests::{Daemon, Sink, Smtp};

/// Ann relays one small message to far@outside.test.
fn relay(d: &Daemon, smtp: std::net::SocketAddr, n: usize) {
    let mut s = Smtp::connect(smtp);
    s.expect("EHLO client.test", "250");
    s.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAYW5uLXB3", "235");
    s.expect("MAIL FROM:<ann@corp.test>", "250");
    s.expect(&format!("RCPT TO:<far{n}@outside.test>"), "250");
    s.expect("DATA", "354");
    s.expect(&format!("Subject: relayed {n}\r\n\r\nnumber {n}\r\n."), "250");
    let _ = d;
}

async fn wait_until(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_with_deliveries_in_flight_neither_spins_nor_loses_nor_duplicates() {
    let mut d = Daemon::start_on_small_disk(16 * 1024).await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    d.ctl_ok(&["routing", "reroute", "on"]);
    d.ctl_ok(&["routing", "add", "corp.test", "--inbound"]);
    let sink = Sink::gated().await;
    d.ctl_ok(&["set", "smarthost", &format!("[127.0.0.1]:{}", sink.addr.port())]);
    d.edit_config(|c| c["general"]["min_free_space_mb"] = 2.into());
    d.ctl_ok(&["restart"]);
    let smtp = d.smtp_addr().await;
    for n in 0..8 {
        relay(&d, smtp, n);
    }
    // Every delivery waits at the sink, after its final `.`.
    wait_until("eight deliveries in flight", 20, || sink.stalled.load(std::sync::atomic::Ordering::SeqCst) == 8).await;

    let filler = d.fill_disk(0);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut s = Smtp::connect(smtp);
    s.expect("EHLO client.test", "250");
    s.expect("MAIL FROM:<x@outside.test>", "452 4.3.1");
    let status: serde_json::Value = serde_json::from_str(&d.ctl_ok(&["status", "--json"])).expect("json");
    assert_eq!(status["storage"]["low"], true, "{status}");

    // The next hop accepts all eight while there is no room to record it.
    let log_before = d.all_logs().lines().count();
    let (cpu_before, rss_before) = (d.cpu_time(), d.rss_kib());
    sink.open_gate();
    wait_until("the sink to take all eight", 10, || sink.messages().len() == 8).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    let (cpu, rss) = (d.cpu_time() - cpu_before, d.rss_kib());
    let logged = d.all_logs().lines().count() - log_before;
    eprintln!(
        "6 s on a full disk with 8 outcomes unrecorded: {cpu:?} CPU, {logged} log lines, RSS {rss_before} → {rss} KiB"
    );
    assert_eq!(
        d.count("SELECT COUNT(*) FROM queue_recipients WHERE state = 'in_flight'"),
        8,
        "the outcomes could not be recorded yet (the disk is full)"
    );
    assert!(cpu < Duration::from_millis(600), "the service spun: {cpu:?} of CPU in 6 s");
    assert!(logged < 40, "{logged} log lines in 6 s:\n{}", d.all_logs());
    assert!(rss < rss_before + 20 * 1024, "memory grew from {rss_before} to {rss} KiB");

    // Space returns: the outcomes kept in memory are recorded, without any retry.
    std::fs::remove_file(&filler).expect("remove the filler");
    wait_until("the eight outcomes recorded", 90, || {
        d.count("SELECT COUNT(*) FROM queue_recipients WHERE state = 'delivered'") == 8
    })
    .await;

    // And a new start delivers nothing twice.
    d.restart_process().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(sink.messages().len(), 8, "no duplicates");
    assert_eq!(d.count("SELECT COUNT(*) FROM queue_recipients WHERE state <> 'delivered'"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pop3_user_can_delete_mail_when_the_disk_is_low() {
    let d = Daemon::start_on_small_disk(16 * 1024).await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    d.edit_config(|c| c["general"]["min_free_space_mb"] = 6.into());
    d.ctl_ok(&["restart"]);
    let smtp = d.smtp_addr().await;
    let body = format!("Subject: big\r\n\r\n{}.\r\n", format!("{}\r\n", "y".repeat(998)).repeat(200));
    for _ in 0..3 {
        let mut s = Smtp::connect(smtp);
        s.expect("EHLO c.test", "250");
        s.expect("MAIL FROM:<x@outside.test>", "250");
        s.expect("RCPT TO:<ann@corp.test>", "250");
        s.expect("DATA", "354");
        s.expect(body.trim_end(), "250");
    }
    // Below the reserve, with a little room left: new mail is refused…
    let _filler = d.fill_disk(3 * 1024 * 1024);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut s = Smtp::connect(smtp);
    s.expect("EHLO c.test", "250");
    s.expect("MAIL FROM:<x@outside.test>", "452 4.3.1 Insufficient system storage");
    // …and the user can still delete theirs.
    let pop3 = d.pop3_addr().await;
    let (ok, out, err) = mailroom_tests::python(
        "import poplib,sys\np=poplib.POP3(sys.argv[1],int(sys.argv[2]))\np.user('ann@corp.test');p.pass_('ann-pw')\n\
         n=len(p.list()[1])\nfor i in range(1,n+1): p.dele(i)\nprint(n, p.quit().decode())",
        &[&pop3.ip().to_string(), &pop3.port().to_string()],
    );
    assert!(ok, "{err}");
    assert!(out.starts_with("3 +OK"), "{out}");
    assert_eq!(d.count("SELECT COUNT(*) FROM messages"), 0);
}
