//! Dialogs that hold still and speak in sentences.
#![cfg(unix)] // A real mailroomd, which runs on Unix.

mod common;

use common::*;
use egui_kittest::kittest::{NodeT as _, Queryable};
use mailroom_tests::Daemon;

/// Regression: the routing entry dialog showed "Type a domain (is empty)" before any
/// typing, and its buttons jumped by about 9 px as the problem line came and went.
#[tokio::test(flavor = "multi_thread")]
async fn a_dialog_shows_problems_after_typing_and_its_buttons_stay_put() {
    let d = Daemon::start().await;
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    open_routing_tab(&mut h);
    h.get_by_label("Reroute incoming SMTP mail (required for POP3 support)").click();
    h.run_steps(2);
    h.get_by_label("Add…").click();
    h.run_steps(3);
    let ok =
        |h: &egui_kittest::Harness<'_, mailroom_admin::AdminApp>| h.get_all_by_label("OK").last().expect("OK").rect();
    let before = ok(&h);
    assert!(h.query_by_label_contains("Type the domain").is_none(), "a problem shown before any typing");
    type_into(&mut h, "E-mail sent to this domain:", "corp..test");
    let problem = h.get_by_label_contains("has an empty label");
    let text = problem.accesskit_node().value().unwrap_or_default();
    assert!(text.starts_with("'corp..test' has") && text.ends_with('.'), "a sentence: {text}");
    let after = ok(&h);
    assert!((before.top() - after.top()).abs() < 0.5, "OK moved from {before:?} to {after:?}");
    h.key_press(egui::Key::Escape);
    h.run_steps(3);
    assert!(h.query_by_label_contains("has an empty label").is_none());
}
