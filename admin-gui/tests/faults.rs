//! The Administrator when the service fails: a restart that cannot bind its port, a
//! service that dies. Each test is named after what went wrong before its fix.
#![cfg(unix)] // A real mailroomd, which runs on Unix.

mod common;

use std::time::{Duration, Instant};

use common::*;
use egui_kittest::kittest::{NodeT as _, Queryable};
use mailroom_tests::Daemon;

/// Regression: a restart that failed (the SMTP port taken by another program) left the
/// banner spinning for ever, and its reason ran off the window's right edge on the
/// banner's one row. Now the spinner stops, the reason is shown in full, and the
/// banner offers the next steps.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_restart_stops_spinning_and_says_what_to_do_next() {
    let d = Daemon::start().await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port to take");
    let port = taken.local_addr().expect("addr").port();
    d.ctl_ok(&["set", "smtp-listen", &format!("127.0.0.1:{port}")]);
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    h.get_all_by_label("Restart Service").next().expect("the toolbar's Restart Service").click();
    let clicked = Instant::now();
    wait(&mut h, "the restart's end", |a| {
        a.model.lifecycle_error.is_some() && !a.model.restarting() || clicked.elapsed() > Duration::from_secs(15)
    });
    assert!(!h.state().model.restarting(), "still spinning: {:?}", h.state().model.restart);
    let reason = h.get_by_label_contains("address in use");
    let bounds = reason.rect();
    assert!(bounds.max.x <= 1100.0, "the reason runs off the window: {bounds:?}");
    h.get_by_label_contains("The last restart failed");

    // The next step: the right tab, the field focused, the reason next to it.
    h.get_by_label("Change Listen Address…").click();
    h.run_steps(4);
    assert!(h.state().model.config.is_some());
    let field = h.get_by_role_and_label(egui::accesskit::Role::TextInput, "SMTP listens on (IP:port):");
    assert!(field.accesskit_node().is_focused(), "the listen address is focused");
    let shown = h.query_all_by_label_contains("address in use").count();
    assert!(shown >= 2, "the reason is next to the field too");
    replace_text(&mut h, "SMTP listens on (IP:port):", "127.0.0.1:0");
    // Walk defect 17: the reason stayed next to the field after it was changed.
    assert_eq!(
        h.query_all_by_label_contains("address in use").count(),
        shown - 1,
        "once the field is changed, the reason is gone from beside it (the banner keeps it)"
    );
    h.get_all_by_label("OK").last().expect("OK").click();
    // (Connections was pending already: the saved address is what shows the save.)
    wait(&mut h, "the save", |a| a.model.config.as_ref().is_some_and(|(c, _)| c.connections.smtp_listen.port() == 0));
    // Walk defect 10: the banner went on with the old error after the fix was saved.
    h.run_steps(3);
    h.get_by_label_contains("The settings were saved since the Internet Mail Service could not restart");
    assert!(h.query_by_label_contains("The last restart failed").is_none(), "the status bar says it changed");
    h.get_by_label_contains("Changed since the last restart failed");
    h.get_by_label("Retry").click();
    wait(&mut h, "a restart that works", |a| {
        a.model.lifecycle_error.is_none()
            && a.model.status.as_ref().is_some_and(|s| s.running_revision == Some(s.config_revision))
    });
    assert!(h.query_by_label_contains("The last restart failed").is_none());
    assert!(h.query_by_label_contains("Changed since the last").is_none());
    drop(taken);
}

/// Regression: after the service died (`kill -9`), the status bar went on saying
/// "Running, Up 0:00:04" next to "Not connected".
#[tokio::test(flavor = "multi_thread")]
async fn a_dead_service_is_not_shown_running() {
    let mut d = Daemon::start().await;
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    h.get_by_label_contains("Internet Mail Service: Running");
    d.signal("KILL");
    wait(&mut h, "the lost connection", |a| !a.connected());
    h.run_steps(3);
    assert!(h.query_by_label_contains("Internet Mail Service: Running").is_none(), "still shown running");
    assert!(h.query_by_label_contains("Up ").is_none(), "the uptime still shown");
    h.get_by_label("Not connected");
}

/// Regression: a service the Administrator started and that then died stayed a zombie
/// under it until the Administrator exited.
#[tokio::test(flavor = "multi_thread")]
async fn a_started_service_that_dies_is_reaped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("admin.sock");
    let daemon = daemon_in(dir.path());
    let s2 = socket.clone();
    let mut h = egui_kittest::Harness::builder()
        .with_size(egui::vec2(1100.0, 720.0))
        .build_eframe(move |cc| mailroom_admin::AdminApp::new(&cc.egui_ctx, s2).with_daemon(daemon));
    wait(&mut h, "the no-service page", |a| matches!(a.model.connection, mailroom_admin::model::Connection::Down(_)));
    h.get_by_label("Start Service").click();
    wait(&mut h, "the started service", |a| a.connected() && a.model.status.is_some());
    let pid = h.state().model.status.as_ref().map(|s| s.pid).expect("pid");
    let stat = format!("/proc/{pid}/stat");
    let _ = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        h.step();
        match std::fs::read_to_string(&stat) {
            Err(_) => break,
            Ok(s) => assert!(Instant::now() < deadline, "pid {pid} not reaped: {s}"),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The guided fix: with a mailbox and rerouting off, the Internet Mail Service page says
/// that users' outside mail is returned to them; Fix… lists the changes, and Apply and
/// Restart makes them and restarts, after which the page has nothing to fix.
#[tokio::test(flavor = "multi_thread")]
async fn the_guided_fix_turns_rerouting_on_and_restarts() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "pw");
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    wait(&mut h, "the mailboxes", |a| !a.model.mailboxes.is_empty());
    h.get_by_label_contains("is being returned to them");
    h.get_by_label("Fix…").click();
    h.run_steps(3);
    h.get_by_label_contains("Add corp.test to the routing table");
    h.get_by_label("Apply and Restart").click();
    wait(&mut h, "the fixed routing, running", |a| {
        let fixed = a.model.config.as_ref().is_some_and(|(c, _)| {
            c.routing.reroute && c.routing.table.is_inbound(&"corp.test".parse().expect("domain"))
        });
        let running = a.model.status.as_ref().is_some_and(|s| s.running_revision == Some(s.config_revision));
        fixed && running && a.model.pending.is_empty()
    });
    h.run_steps(3);
    assert!(h.query_by_label("Fix…").is_none(), "nothing left to fix");
    let t = d.ctl_ok(&["test-address", "friend@outside.test", "--auth", "ann@corp.test"]);
    assert!(t.starts_with("relayed outbound"), "{t}");
}

/// Walk defect 11: when the service died with Properties open, the sheet greyed with no
/// reason and no way to start it again. The sheet says the service is not answering
/// and why, keeps what was typed (still editable), offers Start Service, and once the
/// service answers again OK saves the edit.
#[tokio::test(flavor = "multi_thread")]
async fn a_service_that_dies_under_properties_is_said_and_started_with_the_edit_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("admin.sock");
    let daemon = daemon_in(dir.path());
    let s2 = socket.clone();
    let mut h = egui_kittest::Harness::builder()
        .with_size(egui::vec2(1100.0, 720.0))
        .build_eframe(move |cc| mailroom_admin::AdminApp::new(&cc.egui_ctx, s2).with_daemon(daemon));
    wait(&mut h, "the no-service page", |a| matches!(a.model.connection, mailroom_admin::model::Connection::Down(_)));
    h.get_by_label("Start Service").click();
    connected(&mut h);
    h.get_by_label("Properties").click();
    h.run_steps(3);
    replace_text(&mut h, "Host name:", "mail.edited.test");
    let pid = h.state().model.status.as_ref().map(|s| s.pid).expect("pid");
    let _ = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status();
    wait(&mut h, "the lost connection", |a| !a.connected());
    h.run_steps(3);
    h.get_by_label_contains("The Internet Mail Service is not answering");
    h.get_by_label_contains("What you changed here is kept");
    let field = h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Host name:");
    assert_eq!(field.value().as_deref(), Some("mail.edited.test"), "the edit is kept");
    assert!(!field.accesskit_node().is_disabled(), "and can still be changed");
    assert!(h.get_by_label("OK").accesskit_node().is_disabled(), "nothing to save to");
    h.get_all_by_label("Start Service").last().expect("the sheet's Start Service").click();
    connected(&mut h);
    h.run_steps(3);
    assert!(h.query_by_label_contains("is not answering").is_none(), "the notice goes");
    h.get_by_label("OK").click();
    wait(&mut h, "the saved host name", |a| {
        a.model.config.as_ref().is_some_and(|(c, _)| c.general.host_name.to_string() == "mail.edited.test")
    });
    // The service this test started goes with it.
    let pid = h.state().model.status.as_ref().map(|s| s.pid).expect("pid");
    let _ = std::process::Command::new("kill").arg(pid.to_string()).status();
}
