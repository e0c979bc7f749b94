//! The Prometheus endpoint: off by default; when given an address, a scrape with curl
//! shows the messages sent counted, in the OpenMetrics text format, with refusals by
//! status code, TLS handshakes, failed logins, the queue's age and the store's commit
//! times (a histogram).

use std::process::Command;

use mailroom_tests::{Daemon, python, require};

#[tokio::test(flavor = "multi_thread")]
async fn a_scrape_after_a_hundred_messages_counts_them() {
    require("curl", "curl");
    let d = Daemon::start().await;
    assert!(d.status().await.metrics_addr.is_none(), "off by default");
    d.add_mailbox("ann@corp.test", "pw");
    d.ctl_ok(&["set", "metrics-listen", "127.0.0.1:0"]);
    d.ctl_ok(&["restart"]);
    let metrics = d.status().await.metrics_addr.expect("the endpoint listens");
    let smtp = d.smtp_addr().await;
    let (ok, out, err) = python(
        "import smtplib,sys\ns=smtplib.SMTP(sys.argv[1],int(sys.argv[2]))\n\
         for i in range(100):\n    s.sendmail('bob@outside.test',['ann@corp.test'],f'Subject: {i}\\r\\n\\r\\nhi\\r\\n')\n\
         for bad in range(3):\n    try: s.sendmail('bob@outside.test',['nobody@corp.test'],'x')\n    except smtplib.SMTPRecipientsRefused: pass\ns.quit()\n\
         import ssl\nt=smtplib.SMTP(sys.argv[1],int(sys.argv[2]))\nt.starttls(context=ssl._create_unverified_context())\nt.quit()\n\
         import poplib\np=poplib.POP3(sys.argv[1],int(sys.argv[3]))\np.user('ann@corp.test')\n\
         try: p.pass_('wrong')\nexcept poplib.error_proto: pass",
        &[&smtp.ip().to_string(), &smtp.port().to_string(), &d.pop3_addr().await.port().to_string()],
    );
    assert!(ok, "{out}{err}");
    let scrape = Command::new("curl").args(["-sS", "--max-time", "10", &format!("http://{metrics}/metrics")]).output();
    let scrape = scrape.expect("curl");
    assert!(scrape.status.success(), "{}", String::from_utf8_lossy(&scrape.stderr));
    let text = String::from_utf8_lossy(&scrape.stdout).into_owned();
    for line in [
        "# TYPE mailroom_messages_received counter",
        "mailroom_messages_received_total 100",
        "mailroom_deliveries_local_total 100",
        "mailroom_commands_refused_total 3",
        "# TYPE mailroom_smtp_sessions gauge",
        "mailroom_refusals_total{status=\"5.7.1\"} 3",
        "mailroom_tls_handshakes_total{result=\"ok\"} 1",
        "mailroom_auth_failures_total 1",
        "mailroom_queue_oldest_age_seconds 0",
        "# TYPE mailroom_store_commit_seconds histogram",
    ] {
        assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
    }
    let commits = text
        .lines()
        .find_map(|l| l.strip_prefix("mailroom_store_commit_seconds_count "))
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or_default();
    assert!(commits >= 100, "every acceptance committed: {commits} commits\n{text}");
    assert!(text.trim_end().ends_with("# EOF"), "OpenMetrics ends with # EOF");
    let other = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", &format!("http://{metrics}/other")])
        .output()
        .expect("curl");
    assert_eq!(String::from_utf8_lossy(&other.stdout), "404");
    assert!(d.ctl_ok(&["status"]).contains(&format!("http://{metrics}/metrics")));
}
