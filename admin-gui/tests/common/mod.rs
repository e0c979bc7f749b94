//! What the GUI tests share: a harness on the real app, waiting for the backend, and
//! typing and clicking the way the tests need.
#![expect(clippy::expect_used, reason = "a test helper fails the test at once, saying what it expected")]
#![allow(dead_code)] // each test file uses some of these

use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable};
use mailroom_admin::AdminApp;

pub fn harness(socket: std::path::PathBuf) -> Harness<'static, AdminApp> {
    Harness::builder().with_size(egui::vec2(1100.0, 720.0)).build_eframe(move |cc| AdminApp::new(&cc.egui_ctx, socket))
}

/// Runs frames until `cond` holds (the backend answers from its own thread).
pub fn wait(h: &mut Harness<'_, AdminApp>, what: &str, cond: impl Fn(&AdminApp) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        h.step();
        if cond(h.state()) {
            h.run_steps(2);
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn connected(h: &mut Harness<'_, AdminApp>) {
    wait(h, "connection and configuration", |a| a.connected() && a.model.config.is_some() && a.model.status.is_some());
}

pub fn type_into(h: &mut Harness<'_, AdminApp>, label: &str, text: &str) {
    let role = if h.query_by_role_and_label(Role::PasswordInput, label).is_some() {
        Role::PasswordInput
    } else {
        Role::TextInput
    };
    h.get_by_role_and_label(role, label).click();
    h.run_steps(2);
    h.get_by_role_and_label(role, label).type_text(text);
    h.run_steps(2);
}

/// Scrolls `label` into view and clicks it (an AccessKit click: a pointer click
/// inside a scrolled area of a window misses in the harness).
pub fn click_in_view(h: &mut Harness<'_, AdminApp>, label: &str) {
    h.get_by_label(label).scroll_to_me();
    h.run_steps(2);
    h.get_by_label(label).click_accesskit();
    h.run_steps(2);
}

/// Selects everything in the text (or password) field `label` and types `text` over it.
pub fn replace_text(h: &mut Harness<'_, AdminApp>, label: &str, text: &str) {
    let role = if h.query_by_role_and_label(Role::PasswordInput, label).is_some() {
        Role::PasswordInput
    } else {
        Role::TextInput
    };
    h.get_by_role_and_label(role, label).focus();
    h.run_steps(2);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.run_steps(1);
    h.get_by_role_and_label(role, label).type_text(text);
    h.run_steps(3);
}

/// Recipients, with `address`'s row selected once the list holds it.
pub fn select_recipient(h: &mut Harness<'_, AdminApp>, address: &str) {
    h.get_by_label("Recipients").click();
    let owned = address.to_owned();
    wait(h, "the recipient in the list", move |a| a.model.mailboxes.iter().any(|m| m.addresses.contains(&owned)));
    h.get_by_label(address).click();
    h.run_steps(2);
}

/// Mailbox Properties of `address`, opened from Recipients.
pub fn open_mailbox_properties(h: &mut Harness<'_, AdminApp>, address: &str) {
    select_recipient(h, address);
    h.get_by_label("Properties…").click();
    h.run_steps(3);
}

pub fn open_routing_tab(h: &mut Harness<'_, AdminApp>) {
    h.get_by_label("Properties").click();
    h.run_steps(3);
    h.get_by_label("Routing").click();
    h.run_steps(3);
}

/// The restart banner's text ("Restarting the Internet Mail Service: …" or "The
/// Internet Mail Service restarted: …"); empty when there is none.
pub fn banner_text(h: &Harness<'_, AdminApp>) -> String {
    // AccessKit keeps a label's text in its value.
    let text =
        |n: &egui_kittest::kittest::AccessKitNode<'_>| if n.role() == Role::Label { n.value() } else { n.label() };
    let is_banner = |l: &str| l.starts_with("Restarting the Internet Mail Service") || l.contains("Service restarted");
    h.query_all_by(move |n| text(n).is_some_and(|l: String| is_banner(&l)))
        .filter_map(|n| text(&n.accesskit_node()))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// A `mailroomd` for Start Service to launch that keeps its data in `dir` rather than
/// the user's default data directory: a script that runs the real one with
/// `--data-dir` (and `exec`s it, so the process the window started is the service).
pub fn daemon_in(dir: &std::path::Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let script = dir.join("mailroomd");
    let real = mailroom_tests::bin("mailroomd");
    let data = dir.join("data");
    std::fs::write(&script, format!("#!/bin/sh\nexec '{}' --data-dir '{}' \"$@\"\n", real.display(), data.display()))
        .expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    script
}
