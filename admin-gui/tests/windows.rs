//! The Administrator on a computer that runs no Mailroom service (Windows, where it
//! administers a Linux server over SSH): it opens on the server used last, or asks for
//! one, and never offers to start a service here. These tests need no service, so they
//! run on Linux and, built for Windows, under Wine in CI.

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable};
use mailroom_admin::AdminApp;
use mailroom_admin::model::Connection;

/// The Administrator as `main` makes it on Windows, with its settings in `settings`
/// and `ssh` as its ssh program.
fn remote_only(settings: std::path::PathBuf, ssh: &str) -> Harness<'static, AdminApp> {
    let ssh = std::path::PathBuf::from(ssh);
    Harness::builder().with_size(egui::vec2(1100.0, 720.0)).build_eframe(move |cc| {
        let socket = settings.join("no-service-here.sock");
        AdminApp::new(&cc.egui_ctx, socket).with_settings_dir(settings).with_ssh_program(ssh).remote_only(&cc.egui_ctx)
    })
}

#[test]
fn with_no_server_used_before_it_asks_for_one_and_offers_no_start_service() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = remote_only(dir.path().to_path_buf(), "ssh");
    h.run_steps(3);
    h.get_by_label("Connect to Server");
    assert_eq!(h.get_by_label("Another computer, over SSH").accesskit_node().toggled(), Some(true.into()));
    assert!(h.get_by_label("This computer").accesskit_node().is_disabled(), "no service runs here");
    // The host field has the focus: typing goes there at once.
    assert!(h.get_by_label("Computer (user@host):").accesskit_node().is_focused());
    h.get_by_label("Cancel").click();
    h.run_steps(3);
    h.get_by_label("Not connected to a Mailroom server");
    assert!(h.query_by_label("Start Service").is_none(), "nothing to start on this computer");
    h.get_by_label("Connect to Server…").click();
    h.run_steps(3);
    h.get_by_label("Connect to Server");
}

#[test]
fn it_opens_on_the_server_used_last() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("recent-servers"), "admin@mail.corp.test\t2222\tmailroomctl bridge\n")
        .expect("settings");
    // An ssh that cannot be run: the window names the server and says why.
    let mut h = remote_only(dir.path().to_path_buf(), "no-such-ssh-program");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !matches!(&h.state().model.connection, Connection::Down(_)) {
        assert!(Instant::now() < deadline, "no connection attempt");
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    h.run_steps(3);
    assert_eq!(h.state().model.server, "admin@mail.corp.test");
    h.get_by_label_contains("Cannot reach the Mailroom service on admin@mail.corp.test");
    h.get_by_label_contains("cannot run no-such-ssh-program");
    assert!(h.query_by_label("Start Service").is_none());
}
