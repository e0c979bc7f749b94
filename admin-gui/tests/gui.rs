//! The real Mailroom Administrator, driven with egui_kittest, against a real
//! `mailroomd` over the real control socket.
#![cfg(unix)] // A real mailroomd, which runs on Unix.

mod common;

use std::time::{Duration, Instant};

use common::*;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable};
use mailroom_admin::AdminApp;
use mailroom_admin::model::Connection;
use mailroom_shared::config::Page;
use mailroom_tests::{Daemon, Smtp};

#[tokio::test(flavor = "multi_thread")]
async fn the_founding_scenario_in_the_gui() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    let mut h = harness(d.socket.clone());
    connected(&mut h);

    open_routing_tab(&mut h);
    h.get_by_label("Reroute incoming SMTP mail (required for POP3 support)").click();
    h.run_steps(2);
    h.get_by_label("Add…").click();
    h.run_steps(3);
    type_into(&mut h, "E-mail sent to this domain:", "corp.test");
    h.get_by_label("Should be accepted as \"inbound\"").click();
    h.run_steps(2);
    // The dialog's OK is drawn after the window's.
    h.get_all_by_label("OK").last().expect("the dialog's OK").click();
    h.run_steps(3);
    assert!(h.query_by_label("<inbound>").is_some(), "the table shows the new entry");
    h.get_by_label("Apply").click();
    wait(&mut h, "the saved change", |a| a.model.pending == [Page::Routing]);
    h.get_by_label_contains("Saved. These changes take effect when the Internet Mail Service is restarted");
    h.get_by_label("Cancel").click();
    h.run_steps(2);

    // Restart Service from the banner (the toolbar has one too).
    h.get_all_by_label("Restart Service").last().expect("a Restart Service button").click();
    wait(&mut h, "the restart", |a| {
        a.model.status.as_ref().is_some_and(|s| {
            s.state == mailroom_shared::ipc::ServiceState::Running
                && !s.pending_restart
                && s.running_revision == Some(s.config_revision)
        }) && a.model.pending.is_empty()
    });

    // The service now routes as configured: an SMTP session shows the new decision.
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO c.test", "250");
    s.expect("MAIL FROM:<x@outside.test>", "250");
    s.expect("RCPT TO:<ann@corp.test>", "250");
    s.expect("RCPT TO:<friend@elsewhere.test>", "550 5.7.1 Unable to relay");
    s.expect("RSET", "250");
    s.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAYW5uLXB3", "235");
    s.expect("MAIL FROM:<ann@corp.test>", "250");
    s.expect("RCPT TO:<friend@elsewhere.test>", "250 2.1.5");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_domain_shows_its_error_and_cannot_be_saved() {
    let d = Daemon::start().await;
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    open_routing_tab(&mut h);
    // As in Exchange, the table is greyed out until rerouting is ticked.
    assert!(h.get_by_label("Add…").accesskit_node().is_disabled());
    h.get_by_label("Reroute incoming SMTP mail (required for POP3 support)").click();
    h.run_steps(2);
    h.get_by_label("Add…").click();
    h.run_steps(3);
    type_into(&mut h, "E-mail sent to this domain:", "corp..test");
    h.get_by_label_contains("has an empty label");
    assert!(h.get_all_by_label("OK").last().expect("OK").accesskit_node().is_disabled(), "OK is disabled");
    h.get_all_by_label("Cancel").last().expect("the dialog's Cancel").click();
    h.run_steps(3);
    assert!(h.query_by_label("corp..test").is_none());
    assert_eq!(h.state().model.pending, Vec::<Page>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_open_relay_warning_and_cancel_keeps_things_safe() {
    let d = Daemon::start().await;
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    open_routing_tab(&mut h);
    h.get_by_label("Routing Restrictions…").click();
    h.run_steps(3);
    h.get_by_label("Hosts and clients that successfully authenticate").click();
    h.run_steps(2);
    h.get_all_by_label("OK").last().expect("OK").click();
    h.run_steps(3);
    h.get_by_label("Warning: open relay");
    h.get_all_by_label("Cancel").last().expect("the warning's Cancel").click();
    h.run_steps(3);
    h.get_all_by_label("Cancel").last().expect("the dialog's Cancel").click();
    h.run_steps(3);
    assert!(h.query_by_label("Warning: open relay").is_none());
    // Nothing changed: Apply stays disabled and the saved restrictions are the defaults.
    assert!(h.get_by_label("Apply").accesskit_node().is_disabled());
    let show = d.ctl_ok(&["config", "show"]);
    let v: serde_json::Value = serde_json::from_str(&show).expect("json");
    assert_eq!(v["routing_restrictions"]["allow_authenticated"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mailbox_created_in_the_gui_can_log_in_over_pop3() {
    let d = Daemon::start().await;
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    h.get_by_label("Recipients").click();
    h.run_steps(2);
    h.get_by_label("New Mailbox…").click();
    h.run_steps(3);
    type_into(&mut h, "Display name:", "Bob Builder");
    type_into(&mut h, "E-mail addresses:", "bob@corp.test");
    type_into(&mut h, "Password:", "b0b-pw-2026");
    type_into(&mut h, "Confirm password:", "b0b-pw-2026");
    h.get_by_label("Create").click();
    wait(&mut h, "the new mailbox", |a| a.model.mailboxes.iter().any(|m| m.addresses == ["bob@corp.test"]));
    let pop3: std::net::SocketAddr = d.status().await.pop3_addr.expect("pop3").parse().expect("addr");
    let (ok, out, err) = mailroom_tests::python(
        "import poplib,sys\np=poplib.POP3(sys.argv[1],int(sys.argv[2]))\np.user('bob@corp.test')\nprint(p.pass_('b0b-pw-2026'))",
        &[&pop3.ip().to_string(), &pop3.port().to_string()],
    );
    assert!(ok && out.contains("+OK"), "{out}{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_no_service_the_gui_offers_start_service_and_it_works() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("admin.sock");
    let daemon = daemon_in(dir.path());
    let s2 = socket.clone();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1100.0, 720.0))
        .build_eframe(move |cc| AdminApp::new(&cc.egui_ctx, s2).with_daemon(daemon));
    wait(&mut h, "the no-service page", |a| matches!(a.model.connection, Connection::Down(_)));
    h.get_by_label("No Mailroom service is running");
    // Walk defect 18: the page showed "No such file or directory (os error 2)", the
    // system's words for what the heading says, and kept them while starting.
    assert!(h.query_by_label_contains("os error").is_none(), "no raw system error");
    h.get_by_label("Start Service").click();
    h.run_steps(2);
    if !h.state().connected() {
        h.get_by_label("Starting the Mailroom service…");
        assert!(h.query_by_label_contains("os error").is_none(), "none while starting either");
    }
    wait(&mut h, "the started service", |a| a.connected() && a.model.status.is_some());
    let pid = h.state().model.status.as_ref().map(|s| s.pid).expect("pid");
    let _ = std::process::Command::new("kill").arg(pid.to_string()).status();
}

/// Every control on every page has an accessible name (kittest's check).
#[tokio::test(flavor = "multi_thread")]
async fn every_control_has_an_accessible_label() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    h.check_accessibility();
    for view in ["POP3", "IMAP4", "Recipients", "Queues", "Quarantine", "Service Status", "Internet Mail Service"] {
        h.get_by_label(view).click();
        h.run_steps(3);
        h.check_accessibility();
    }
    h.get_by_label("Properties").click();
    h.run_steps(3);
    let tabs = [
        "General",
        "Connections",
        "Routing",
        "Delivery",
        "Security",
        "POP3",
        "IMAP4",
        "Queues",
        "Message Filtering",
        "Diagnostics Logging",
    ];
    for tab in tabs {
        h.get_all_by_label(tab).last().expect("the tab").click();
        h.run_steps(3);
        h.check_accessibility();
    }
    h.get_all_by_label("Routing").last().expect("tab").click();
    h.run_steps(2);
    h.get_by_label("Reroute incoming SMTP mail (required for POP3 support)").click();
    h.run_steps(2);
    h.get_by_label("Add…").click();
    h.run_steps(3);
    h.check_accessibility();
    h.get_all_by_label("Cancel").last().expect("cancel").click();
    h.run_steps(2);
    h.get_by_label("Routing Restrictions…").click();
    h.run_steps(3);
    h.check_accessibility();
    h.get_all_by_label("Cancel").last().expect("cancel").click();
    h.run_steps(2);
    h.get_all_by_label("Cancel").last().expect("cancel").click();
    h.run_steps(2);
    h.get_by_label("Recipients").click();
    h.run_steps(2);
    h.get_by_label("New Mailbox…").click();
    h.run_steps(3);
    h.check_accessibility();
    h.get_all_by_label("Cancel").last().expect("cancel").click();
    h.run_steps(2);
    h.get_by_label("ann@corp.test").click();
    h.run_steps(2);
    h.get_by_label("Properties…").click();
    h.run_steps(3);
    h.check_accessibility();
}

#[tokio::test(flavor = "multi_thread")]
async fn mailbox_properties_change_the_name_and_password() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "old-pw");
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    open_mailbox_properties(&mut h, "ann@corp.test");
    type_into(&mut h, "Display name:", "Ann Example");
    type_into(&mut h, "New password (empty: unchanged):", "new-pw-2026");
    type_into(&mut h, "Confirm new password:", "new-pw-2026");
    h.get_all_by_label("OK").last().expect("OK").click();
    wait(&mut h, "the renamed mailbox", |a| a.model.mailboxes.iter().any(|m| m.display_name == "Ann Example"));
    let pop3: std::net::SocketAddr = d.status().await.pop3_addr.expect("pop3").parse().expect("addr");
    let (ok, out, err) = mailroom_tests::python(
        "import poplib,sys\np=poplib.POP3(sys.argv[1],int(sys.argv[2]))\np.user('ann@corp.test')\nprint(p.pass_('new-pw-2026'))",
        &[&pop3.ip().to_string(), &pop3.port().to_string()],
    );
    assert!(ok && out.contains("+OK"), "{out}{err}");
}

/// "Hide from address book" in Mailbox Properties takes the mailbox out of the Global
/// Address List, and the list shows it hidden when opened again.
#[tokio::test(flavor = "multi_thread")]
async fn hide_from_address_book_in_mailbox_properties_hides_the_mailbox() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    d.add_mailbox("bob@corp.test", "bob-pw");
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    open_mailbox_properties(&mut h, "bob@corp.test");
    h.get_by_label("Hide from address book").click();
    h.run_steps(2);
    h.get_all_by_label("OK").last().expect("OK").click();
    wait(&mut h, "bob hidden", |a| a.model.mailboxes.iter().any(|m| m.addresses[0] == "bob@corp.test" && m.hidden));
    let bob =
        "SELECT hidden FROM mailboxes WHERE id = (SELECT mailbox_id FROM addresses WHERE address = 'bob@corp.test')";
    assert_eq!(d.count(bob), 1);
    assert_eq!(d.count("SELECT COUNT(*) FROM mailboxes WHERE hidden"), 1, "ann stays in the address book");
}

/// The Security tab shows the certificate in use with the fingerprint a client sees;
/// the POP3 tab turns on POP3 over TLS, which works after a restart from the GUI.
#[tokio::test(flavor = "multi_thread")]
async fn the_security_tab_shows_the_certificate_and_pop3s_can_be_turned_on() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    wait(&mut h, "the certificate", |a| a.model.certificate.is_some());
    h.get_by_label("Properties").click();
    h.run_steps(3);
    h.get_all_by_label("Security").last().expect("the tab").click();
    h.run_steps(3);
    let shown = d.ctl_ok(&["certificate"]);
    let fingerprint = shown.lines().find_map(|l| l.strip_prefix("SHA-256:")).expect("fingerprint").trim().to_owned();
    h.get_by_label(&fingerprint[..47]);
    h.get_by_label(&fingerprint[48..]);
    h.get_by_label("CN=localhost, O=Mailroom");
    h.get_by_label("CN=localhost, O=Mailroom (self-signed)");
    h.get_by_label("Copy fingerprint");

    h.get_all_by_label("POP3").last().expect("the tab").click();
    h.run_steps(3);
    type_into(&mut h, "POP3 over TLS, port 995 (empty: off):", "127.0.0.1:0");
    h.get_by_label("Apply").click();
    wait(&mut h, "the saved change", |a| a.model.pending == [Page::Pop3]);
    h.get_by_label("Cancel").click();
    h.run_steps(2);
    h.get_all_by_label("Restart Service").last().expect("a Restart Service button").click();
    wait(&mut h, "pop3s listening", |a| a.model.status.as_ref().is_some_and(|s| s.pop3s_addr.is_some()));
    let pop3s: std::net::SocketAddr =
        h.state().model.status.as_ref().and_then(|s| s.pop3s_addr.clone()).expect("pop3s").parse().expect("addr");
    let (ok, out, err) = mailroom_tests::python(
        "import poplib,ssl,sys\nc=ssl.create_default_context();c.check_hostname=False;c.verify_mode=ssl.CERT_NONE\n\
         p=poplib.POP3_SSL(sys.argv[1],int(sys.argv[2]),context=c)\np.user('ann@corp.test')\nprint(p.pass_('ann-pw'))",
        &[&pop3s.ip().to_string(), &pop3s.port().to_string()],
    );
    assert!(ok && out.contains("+OK"), "{out}{err}");
}

/// Service Status lists an address locked out after failed logins; Unlock lifts it,
/// and the right password works from there at once.
#[tokio::test(flavor = "multi_thread")]
async fn service_status_lists_lockouts_and_unlocks_them() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    let smtp = d.smtp_addr().await;
    let script = r#"
import base64, smtplib, sys, threading
def guess(i):
    with smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=60) as s:
        s.ehlo("client.test")
        s.docmd("AUTH", "PLAIN " + base64.b64encode(f"\0user{i}@corp.test\0guess".encode()).decode())
threads = [threading.Thread(target=guess, args=(i,)) for i in range(10)]
[t.start() for t in threads]; [t.join() for t in threads]
"#;
    let (ok, out, err) = mailroom_tests::python(script, &[&smtp.ip().to_string(), &smtp.port().to_string()]);
    assert!(ok, "{out}{err}");
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    h.get_by_label("Service Status").click();
    wait(&mut h, "the lock-out", |a| a.model.lockouts.iter().any(|l| l.client == "127.0.0.1"));
    h.get_by_label("Locked out after failed logins");
    h.get_by_label("Locked out for every account");
    h.get_by_label("Unlock 127.0.0.1").click();
    wait(&mut h, "no lock-out", |a| a.model.lockouts.is_empty());
    h.get_by_label("None.");
    let mut s = Smtp::connect(smtp);
    s.expect("EHLO c.test", "250");
    s.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAYW5uLXB3", "235");
}

/// Regression: the backend awaited each request inside its event loop, so a restart's
/// Stopping and Starting events reached the banner only once the restart was over, and
/// the progress the README promises was never seen. The banner is read frame by frame
/// while the restart request is in flight, and the model keeps the states that arrived
/// before the restart's answer.
#[tokio::test(flavor = "multi_thread")]
async fn the_restart_banner_shows_stopping_and_starting_while_the_restart_runs() {
    let d = Daemon::start().await;
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    h.get_all_by_label("Restart Service").next().expect("the toolbar's Restart Service").click();
    let clicked = Instant::now();
    // What the banner showed, each change once, with whether the request was in flight.
    let mut frames: Vec<(String, bool)> = Vec::new();
    loop {
        h.step();
        let (banner, in_flight) = (banner_text(&h), h.state().model.restarting());
        if frames.last() != Some(&(banner.clone(), in_flight)) {
            frames.push((banner.clone(), in_flight));
        }
        let running =
            h.state().model.status.as_ref().is_some_and(|s| s.state == mailroom_shared::ipc::ServiceState::Running);
        if !in_flight && running && (banner.contains("Running") || banner.is_empty()) {
            break;
        }
        assert!(clicked.elapsed() < Duration::from_secs(30), "the restart did not end: {frames:#?}");
        std::thread::sleep(Duration::from_millis(5));
    }
    let in_flight = |word: &str| {
        frames
            .iter()
            .position(|(b, in_flight)| *in_flight && b.contains(word))
            .unwrap_or_else(|| panic!("no frame showed {word} while the restart ran: {frames:#?}"))
    };
    let (stopping, starting) = (in_flight("Stopping"), in_flight("Starting"));
    assert!(stopping < starting, "Stopping came after Starting: {frames:#?}");
    use mailroom_admin::model::Restart;
    use mailroom_shared::ipc::ServiceState::{Running, Starting, Stopped, Stopping};
    let Some(Restart::Done { steps, .. }) = &h.state().model.restart else {
        panic!("the restart is not recorded as done: {:?}", h.state().model.restart)
    };
    let states: Vec<_> = steps.iter().map(|s| s.state).collect();
    assert_eq!(states, [Stopping, Stopped, Starting, Running], "every state, in order");
    let last = &frames.last().expect("frames").0;
    assert!(last.is_empty() || last.contains("Running"), "{frames:#?}");
}

/// Configuration → DNS Records lists what corp.test must publish; *Check DNS* says it
/// is missing, and, once a DNS server publishes it, that it is published.
#[tokio::test(flavor = "multi_thread")]
async fn the_dns_records_page_checks_the_records_live() {
    let empty = mailroom_tests::Dns::start(&["--local=/test/"]);
    let d = Daemon::start().await;
    d.ctl_ok(&["routing", "reroute", "on"]);
    d.ctl_ok(&["routing", "add", "corp.test", "--inbound"]);
    d.ctl_ok(&["set", "host-name", "mail.corp.test"]);
    d.ctl_ok(&["set", "dns-server", &empty.addr()]);
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    h.get_by_label("DNS Records").click();
    wait(&mut h, "the records", |a| matches!(&a.model.dns_records, Some(Ok(r)) if !r.is_empty()));
    h.get_by_label_contains("_dmarc.corp.test");
    h.get_by_label("Check DNS").click();
    let checked = |a: &AdminApp| {
        matches!(&a.model.dns_records, Some(Ok(r)) if r.iter().all(|r| r.check.is_some())) && !a.model.dns_busy
    };
    wait(&mut h, "the check", checked);
    assert!(h.query_all_by_label("Missing").count() >= 5, "the records are not published yet");
    assert_eq!(h.query_all_by_label("Published").count(), 0);

    let records: serde_json::Value = serde_json::from_str(&d.ctl_ok(&["dns-records", "--json"])).expect("json");
    let published = mailroom_tests::Dns::publishing(&records["records"]);
    d.ctl_ok(&["set", "dns-server", &published.addr()]);
    // The saved change (a new revision) makes the page read its records again.
    wait(
        &mut h,
        "the records again",
        |a| matches!(&a.model.dns_records, Some(Ok(r)) if r.iter().all(|r| r.check.is_none())),
    );
    h.get_by_label("Check DNS").click();
    wait(&mut h, "the second check", checked);
    assert_eq!(h.query_all_by_label("Missing").count(), 0, "everything is published now");
    assert!(h.query_all_by_label("Published").count() >= 5);
}

/// The Message Filtering tab: a wrong rspamd address is named next to its field and
/// cannot be saved; Test says what is wrong with an address where nothing answers and
/// that a real rspamd answers; the defences ticked are saved and take effect.
#[tokio::test(flavor = "multi_thread")]
async fn the_message_filtering_tab_saves_the_defences_and_tests_the_filter() {
    let d = Daemon::start().await;
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    h.get_by_label("Properties").click();
    h.run_steps(3);
    h.get_by_label("Message Filtering").click();
    h.run_steps(3);
    click_in_view(&mut h, "Ask unknown senders to try again later (real mail servers do; most spam does not)");
    click_in_view(&mut h, "Scan mail from outside with rspamd before accepting it");
    let field = "rspamd's address:";
    replace_text(&mut h, field, "ftp://127.0.0.1:11333");
    h.get_by_label_contains("is not rspamd's address");
    assert!(h.get_by_label("Apply").accesskit_node().is_disabled(), "a wrong address cannot be saved");

    // An address where nothing listens: Test says so.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let nothing = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    replace_text(&mut h, field, &nothing);
    assert!(h.query_by_label_contains("is not rspamd's address").is_none());
    click_in_view(&mut h, "Test");
    wait(&mut h, "the failed test", |a| matches!(a.model.filter_test, Some(Err(_))));
    let said = match &h.state().model.filter_test {
        Some(Err(e)) => e.clone(),
        other => panic!("{other:?}"),
    };
    h.get_by_label(&said);

    let dns = mailroom_tests::Dns::start(&["--local=/test/"]);
    let rspamd = mailroom_tests::Rspamd::start(dns.port);
    replace_text(&mut h, field, &rspamd.url());
    click_in_view(&mut h, "Test");
    wait(&mut h, "rspamd's answer", |a| matches!(a.model.filter_test, Some(Ok(_))));
    h.get_by_label_contains("answered");
    h.get_by_label("Apply").click();
    wait(&mut h, "the saved defences", |a| {
        a.model.config.as_ref().is_some_and(|(c, _)| c.filtering.greylisting && c.filtering.rspamd.is_some())
    });
    let config: serde_json::Value = serde_json::from_str(&d.ctl_ok(&["config", "show"])).expect("json");
    assert_eq!(config["filtering"]["greylisting"], true);
    assert_eq!(config["filtering"]["rspamd_enabled"], true);
}

/// The quarantine: the tree counts what it holds; Details shows a held message's
/// reason and text; Release delivers it (read back over POP3); Delete asks first;
/// several selected together (Shift+click) are released together.
#[tokio::test(flavor = "multi_thread")]
async fn the_quarantine_view_shows_releases_and_deletes_held_mail() {
    let dns = mailroom_tests::Dns::start(&[
        "--local=/test/",
        &mailroom_tests::Dns::txt("quar.test", "v=spf1 -all"),
        &mailroom_tests::Dns::txt("_dmarc.quar.test", "v=DMARC1; p=quarantine"),
    ]);
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    d.ctl_ok(&["routing", "reroute", "on"]);
    d.ctl_ok(&["routing", "add", "corp.test", "--inbound"]);
    d.ctl_ok(&["set", "host-name", "mail.corp.test"]);
    d.ctl_ok(&["set", "dns-server", &dns.addr()]);
    d.ctl_ok(&["restart"]);
    let smtp = d.smtp_addr().await;
    for subject in ["first held", "second held", "third held", "fourth held"] {
        let mut s = Smtp::connect_from(smtp, "127.0.0.2".parse().expect("ip")).await;
        s.expect("EHLO outside.test", "250");
        s.expect("MAIL FROM:<eve@quar.test>", "250");
        s.expect("RCPT TO:<ann@corp.test>", "250");
        s.expect("DATA", "354");
        s.expect(&format!("From: eve@quar.test\r\nSubject: {subject}\r\n\r\nsecret text\r\n."), "250");
        s.expect("QUIT", "221");
    }
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    wait(&mut h, "the quarantine", |a| a.model.quarantine.len() == 4);
    h.get_by_label("Quarantine (4)").click();
    h.run_steps(3);
    h.get_by_label("first held").click();
    h.run_steps(2);
    h.get_by_label("Details…").click();
    wait(&mut h, "the held message", |a| matches!(&a.model.quarantine_message, Some(Ok(_))));
    // The reason is in both rows of the table and in the window; the text only in the window.
    assert_eq!(h.query_all_by_label_contains("DMARC policy says quarantine").count(), 5);
    h.get_by_label_contains("secret text");
    // Released from the window, which then closes.
    h.get_all_by_label("Release").last().expect("the window's Release").click();
    wait(&mut h, "the release", |a| a.model.quarantine.len() == 3);
    let delivered = d.messages_of("ann@corp.test");
    assert_eq!(delivered.len(), 1);
    assert!(String::from_utf8_lossy(&delivered[0]).contains("Subject: first held"));
    h.get_by_label("Quarantine (3)");

    h.get_by_label("second held").click();
    h.run_steps(2);
    h.get_by_label("Delete…").click();
    h.run_steps(3);
    h.get_by_label_contains("without delivering it? This cannot be undone.");
    h.get_all_by_label("Delete").last().expect("the confirmation's Delete").click();
    wait(&mut h, "the deletion", |a| a.model.quarantine.len() == 2);
    assert_eq!(d.messages_of("ann@corp.test").len(), 1, "deleted, not delivered");

    h.get_by_label("third held").click();
    h.run_steps(2);
    h.get_by_label("fourth held").click_modifiers(egui::Modifiers::SHIFT);
    h.run_steps(2);
    assert!(h.get_by_label("Details…").accesskit_node().is_disabled(), "Details is for one message");
    h.get_by_label("Release").click();
    wait(&mut h, "the two released", |a| a.model.quarantine.is_empty());
    assert!(h.query_by_label_contains("Quarantine (").is_none(), "the tree counts nothing held");
    let deadline = Instant::now() + Duration::from_secs(10);
    while d.messages_of("ann@corp.test").len() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(d.messages_of("ann@corp.test").len(), 3, "both delivered");
}

/// The IMAP4 tab turns on IMAP over TLS, which listens after a restart from the GUI;
/// Mailbox Properties shows what each folder holds.
#[tokio::test(flavor = "multi_thread")]
async fn the_imap4_tab_turns_on_imaps_and_mailbox_properties_show_folders() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO c.test", "250");
    s.expect("MAIL FROM:<bob@outside.test>", "250");
    s.expect("RCPT TO:<ann@corp.test>", "250");
    s.expect("DATA", "354");
    s.expect("Subject: hello\r\n\r\nhi\r\n.", "250");
    s.expect("QUIT", "221");
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    h.get_by_label("Properties").click();
    h.run_steps(3);
    h.get_all_by_label("IMAP4").last().expect("the tab").click();
    h.run_steps(3);
    type_into(&mut h, "IMAP4 over TLS, port 993 (empty: off):", "127.0.0.1:0");
    h.get_by_label("Apply").click();
    wait(&mut h, "the saved change", |a| a.model.pending == [Page::Imap4]);
    h.get_by_label("Cancel").click();
    h.run_steps(2);
    h.get_all_by_label("Restart Service").last().expect("a Restart Service button").click();
    wait(&mut h, "imaps listening", |a| a.model.status.as_ref().is_some_and(|s| s.imaps_addr.is_some()));

    open_mailbox_properties(&mut h, "ann@corp.test");
    wait(&mut h, "the mailbox", |a| a.model.mailboxes.iter().any(|m| m.folders.len() == 5));
    h.get_by_label("Folders, calendars and contacts");
    for folder in ["INBOX", "Sent", "Drafts", "Trash", "Junk"] {
        h.get_by_label(folder);
    }
    assert_eq!(h.query_all_by_label("1 message").count(), 1, "INBOX holds the message");
    assert_eq!(h.query_all_by_label("0 messages").count(), 4);
    // And the calendar and address book every person has from the start.
    h.get_by_label("Calendar (calendar)");
    h.get_by_label("Contacts (address book)");
    assert_eq!((h.query_all_by_label("0 items").count(), h.query_all_by_label("0 cards").count()), (1, 1));
}

/// The Connections tab turns on the HTTPS listener mail programs set themselves up
/// from: a wrong address is said next to the field, a right one listens after a
/// restart from the GUI.
#[tokio::test(flavor = "multi_thread")]
async fn the_connections_tab_turns_on_https_for_mail_programs_set_up() {
    let d = Daemon::start().await;
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    h.get_by_label("Properties").click();
    h.run_steps(3);
    h.get_all_by_label("Connections").last().expect("the tab").click();
    h.run_steps(3);
    let field = "HTTPS (set-up, calendars), port 443:";
    type_into(&mut h, field, "443");
    h.run_steps(3);
    // A port alone is refused next to the field, saying what is wanted.
    h.get_by_label_contains("'443' is not a listen address; write IP:port");
    replace_text(&mut h, field, "127.0.0.1:0");
    assert!(h.query_by_label_contains("'443' is not a listen address").is_none());
    h.get_by_label("Apply").click();
    wait(&mut h, "the saved change", |a| a.model.pending == [Page::Connections]);
    h.get_by_label("Cancel").click();
    h.run_steps(2);
    h.get_all_by_label("Restart Service").last().expect("a Restart Service button").click();
    wait(&mut h, "HTTPS listening", |a| {
        a.model.status.as_ref().is_some_and(|s| s.listeners.iter().any(|l| l.protocol == "HTTPS"))
    });
}

/// Client Setup names the best servers for a mailbox and, with HTTPS on, the profile a
/// phone installs (with its QR code); with HTTPS off it says how to turn it on and
/// Connections… goes there.
#[tokio::test(flavor = "multi_thread")]
async fn client_setup_names_the_servers_and_offers_the_profile_once_https_is_on() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    d.ctl_ok(&["set", "submission-listen", "127.0.0.1:0"]);
    d.ctl_ok(&["restart"]);
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    select_recipient(&mut h, "ann@corp.test");
    h.get_by_label("Client Setup…").click();
    h.run_steps(3);
    let submission = d.status().await.submission_addr.expect("587 listens");
    let port = submission.rsplit(':').next().expect("port");
    h.get_by_label_contains(&format!("port {port} (STARTTLS), with the same user name and password"));
    h.get_by_label_contains("off: give HTTPS an address on the Connections tab");
    h.get_by_label("Connections…").click_accesskit();
    h.run_steps(3);
    h.get_by_label("HTTPS (set-up, calendars), port 443:");
    assert!(h.query_by_label_contains("Client Setup: ann@corp.test").is_none(), "it gave way to the Connections tab");
    h.get_by_label("Cancel").click();
    h.run_steps(2);

    d.ctl_ok(&["set", "https-listen", "127.0.0.1:0"]);
    d.ctl_ok(&["restart"]);
    wait(&mut h, "HTTPS listening", |a| {
        a.model.status.as_ref().is_some_and(|s| s.listeners.iter().any(|l| l.protocol == "HTTPS"))
    });
    let https = d.status().await.listeners.into_iter().find(|l| l.protocol == "HTTPS").expect("HTTPS").address;
    let https_port = https.rsplit(':').next().expect("port").to_owned();
    // Still on Recipients, Ann selected.
    h.get_by_label("Client Setup…").click();
    h.run_steps(3);
    h.get_by_label_contains(&format!("open https://localhost:{https_port}/mobileconfig and log in"));
    h.get_by_label_contains(&format!("https://localhost:{https_port}/dav/ (CalDAV and CardDAV)"));
    h.get_by_label("The profile holds no password: the device asks for it.");
}

/// File → Back Up Now… writes a backup into the service's data directory and says so
/// in its dialog (walk defect 20: only in a toast that faded), with the file to keep;
/// a file that cannot be written is said there too, and another name can be tried.
#[tokio::test(flavor = "multi_thread")]
async fn back_up_now_writes_a_backup_and_says_where_in_its_dialog() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "pw");
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label("Back Up Now…").click();
    h.run_steps(3);
    let field = h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Into the file:");
    let proposed = field.value().unwrap_or_default();
    assert!(proposed.starts_with(&d.data_dir.display().to_string()) && proposed.ends_with(".tar.gz"), "{proposed}");

    common::replace_text(&mut h, "Into the file:", "/nonexistent/dir/b.tar.gz");
    h.key_press(egui::Key::Enter);
    wait(&mut h, "the refusal", |a| matches!(a.model.backup, Some(Err(_))));
    h.run_steps(2);
    assert!(h.query_by_label_contains("The backup failed").is_some(), "said in the dialog");

    let wanted = d.data_dir.join("monday.tar.gz").display().to_string();
    common::replace_text(&mut h, "Into the file:", &wanted);
    h.get_by_label("Back Up").click();
    wait(&mut h, "the backup", |a| matches!(a.model.backup, Some(Ok(_))));
    h.run_steps(2);
    h.get_by_label_contains("Backed up 1 mailbox and 0 messages");
    h.get_by_label(&wanted);
    assert!(std::path::Path::new(&wanted).is_file(), "{wanted} is not there");
    h.key_press(egui::Key::Escape);
    h.run_steps(3);
    assert!(h.query_by_label("Into the file:").is_none(), "Escape closes it");
}
