//! Lists as an office administrator expects them, on Recipients: a click anywhere on a
//! row selects it, a double-click opens it, a right-click offers what can be done, the
//! columns line up, and the counts follow the mail as it arrives.
#![cfg(unix)] // A real mailroomd, which runs on Unix.

mod common;

use common::*;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable};
use mailroom_admin::AdminApp;
use mailroom_tests::{Daemon, Smtp};

/// Frames a sixtieth of a second apart, so that two clicks are a double-click.
fn quick_harness(socket: std::path::PathBuf) -> Harness<'static, AdminApp> {
    Harness::builder()
        .with_size(egui::vec2(1100.0, 720.0))
        .with_step_dt(1.0 / 60.0)
        .build_eframe(move |cc| AdminApp::new(&cc.egui_ctx, socket))
}

async fn recipients(d: &Daemon) -> Harness<'static, AdminApp> {
    let out =
        d.ctl_with_input(&["mailbox", "add", "ann@corp.test", "--name", "Ann Example", "--password-stdin"], "pw\n");
    assert!(out.status.success(), "{out:?}");
    let mut h = quick_harness(d.socket.clone());
    connected(&mut h);
    h.get_by_label("Recipients").click();
    wait(&mut h, "the mailbox", |a| !a.model.mailboxes.is_empty());
    h
}

fn properties_enabled(h: &Harness<'_, AdminApp>) -> bool {
    !h.get_by_label("Properties…").accesskit_node().is_disabled()
}

/// Regression: a row was selected only by a click on its e-mail cell, and the text
/// columns were 3 px out of line with each other.
#[tokio::test(flavor = "multi_thread")]
async fn a_click_anywhere_on_a_row_selects_it_and_the_columns_line_up() {
    let d = Daemon::start().await;
    let mut h = recipients(&d).await;
    assert!(!properties_enabled(&h));
    h.get_by_label("Ann Example").click();
    h.run_steps(3);
    assert!(properties_enabled(&h), "a click on the name selected the row");
    let (name, address) = (h.get_by_label("Ann Example").rect(), h.get_by_label("ann@corp.test").rect());
    assert!((name.center().y - address.center().y).abs() < 0.5, "out of line: {name:?} {address:?}");
}

/// Regression: a double-click on a row did nothing, and a right-click offered nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_double_click_opens_a_row_and_a_right_click_offers_its_actions() {
    let d = Daemon::start().await;
    let mut h = recipients(&d).await;
    // Half a second after the last click, or egui counts a third one.
    h.run_steps(30);
    let row = h.get_by_label("Ann Example");
    row.click();
    row.click();
    h.run_steps(3);
    assert!(h.query_by_label("Mailbox Properties: ann@corp.test").is_some(), "the double-click opened it");
    h.key_press(egui::Key::Escape);
    h.run_steps(3);
    assert!(h.query_by_label("Mailbox Properties: ann@corp.test").is_none());
    h.run_steps(30);
    h.get_by_label("ann@corp.test").click_secondary();
    h.run_steps(3);
    h.get_by_label("Delete…").click();
    h.run_steps(3);
    h.get_by_label("Delete Mailbox");
    h.key_press(egui::Key::Enter);
    h.run_steps(3);
    assert!(h.query_by_label("Delete Mailbox").is_none(), "Enter meant Cancel");
    assert_eq!(d.ctl_ok(&["mailbox", "list", "--json"]).matches("ann@corp.test").count(), 1, "nothing deleted");
}

/// Regression: the message counts did not change as mail arrived (the uptime ticked,
/// the counts did not): the service now tells the window when mailboxes change.
#[tokio::test(flavor = "multi_thread")]
async fn the_counts_follow_the_mail_as_it_arrives() {
    let d = Daemon::start().await;
    let mut h = recipients(&d).await;
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO c.test", "250");
    s.expect("MAIL FROM:<bob@outside.test>", "250");
    s.expect("RCPT TO:<ann@corp.test>", "250");
    s.expect("DATA", "354");
    s.expect("Subject: hello\r\n\r\nhi\r\n.", "250");
    wait(&mut h, "the new count", |a| a.model.mailboxes.iter().any(|m| m.message_count == 1));
    h.get_by_label("1");
}

/// Queues as a list: a double-click opens a message's details; Delete asks first, with
/// Cancel as Enter's answer, and Escape keeps the message; Ctrl+A and the Delete key
/// delete every message, after one confirmation.
#[tokio::test(flavor = "multi_thread")]
async fn a_queued_message_opens_on_a_double_click_and_delete_asks_first() {
    let d = Daemon::start().await;
    // Mail for a host that refuses to answer stays queued.
    d.ctl_ok(&["set", "smarthost", "[127.0.0.1]:9"]);
    d.ctl_ok(&["routing", "reroute", "on"]);
    d.ctl_ok(&["routing", "add", "corp.test", "--inbound"]);
    d.ctl_ok(&["restart"]);
    d.add_mailbox("ann@corp.test", "pw");
    let mut s = Smtp::connect(d.smtp_addr().await);
    s.expect("EHLO c.test", "250");
    s.expect("AUTH PLAIN AGFubkBjb3JwLnRlc3QAcHc=", "235");
    s.expect("MAIL FROM:<ann@corp.test>", "250");
    s.expect("RCPT TO:<far@outside.test>", "250");
    s.expect("DATA", "354");
    s.expect("Subject: away\r\n\r\nhi\r\n.", "250");
    s.expect("MAIL FROM:<ann@corp.test>", "250");
    s.expect("RCPT TO:<other@elsewhere.test>", "250");
    s.expect("DATA", "354");
    s.expect("Subject: also away\r\n\r\nhi\r\n.", "250");
    let mut h = quick_harness(d.socket.clone());
    connected(&mut h);
    h.get_by_label("Queues").click();
    wait(&mut h, "the queued messages", |a| a.model.queue.len() == 2);
    h.run_steps(30);
    let row = h.get_by_label("far@outside.test");
    row.click();
    row.click();
    wait(&mut h, "its details", |a| a.model.queue_details.is_some());
    h.key_press(egui::Key::Escape);
    h.run_steps(30);
    h.get_by_label("Delete (with NDR)…").click();
    h.run_steps(3);
    h.get_by_label("Delete Queued Message");
    h.key_press(egui::Key::Escape);
    h.run_steps(3);
    assert!(h.query_by_label("Delete Queued Message").is_none());
    assert!(d.ctl_ok(&["queue", "list"]).contains("far@outside.test"), "kept");

    // Both, selected with Ctrl+A in the list, and deleted together with the Delete key.
    h.run_steps(30);
    h.get_by_label("far@outside.test").click();
    h.run_steps(2);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.run_steps(2);
    h.key_press(egui::Key::Delete);
    h.run_steps(3);
    h.get_by_label_contains("Delete these 2 queued messages?");
    h.get_all_by_label("Delete").last().expect("the confirmation's Delete").click();
    wait(&mut h, "both deleted", |a| a.model.queue.is_empty());
}

/// Walk defect 2 and multi-select: Ctrl+click adds a row, Shift+click the run to it,
/// Ctrl+A every row, a letter the next name starting with it, Shift+Down extends; the
/// toolbar's Delete asks once for all those selected, naming how many, and deletes them.
#[tokio::test(flavor = "multi_thread")]
async fn several_recipients_are_selected_and_deleted_together() {
    use egui::Modifiers;
    let d = Daemon::start().await;
    for (address, name) in [("ann@corp.test", "Ann"), ("bob@corp.test", "Bob"), ("carl@corp.test", "Carl")] {
        let out = d.ctl_with_input(&["mailbox", "add", address, "--name", name, "--password-stdin"], "pw\n");
        assert!(out.status.success(), "{out:?}");
    }
    d.ctl_ok(&["list", "add", "team@corp.test", "--name", "Team"]);
    let mut h = quick_harness(d.socket.clone());
    connected(&mut h);
    h.get_by_label("Recipients").click();
    wait(&mut h, "the recipients", |a| a.model.mailboxes.len() == 3 && a.model.lists.len() == 1);
    h.get_by_label("Ann").click();
    h.run_steps(2);
    h.get_by_label("Carl").click_modifiers(Modifiers::COMMAND);
    h.run_steps(2);
    assert!(!properties_enabled(&h), "Properties is for one recipient");
    h.get_by_label("Team").click_modifiers(Modifiers::SHIFT);
    h.run_steps(2);
    // By address: ann, bob, carl, team; the run from Ann (the anchor) to Team.
    h.key_press_modifiers(Modifiers::COMMAND, egui::Key::A);
    h.run_steps(2);
    h.get_all_by_label("Delete").next().expect("the toolbar's Delete").click();
    h.run_steps(3);
    h.get_by_label_contains("Delete these 4 recipients, 3 mailboxes and all their messages?");
    h.key_press(egui::Key::Escape);
    h.run_steps(3);
    assert!(h.query_by_label("Delete Recipients").is_none(), "Escape kept them all");
    // A letter: the next name starting with it, alone.
    h.event(egui::Event::Text("b".into()));
    h.run_steps(2);
    assert!(properties_enabled(&h), "one selected again");
    h.key_press_modifiers(Modifiers::SHIFT, egui::Key::ArrowDown);
    h.run_steps(2);
    assert!(!properties_enabled(&h), "Shift+Down took Carl in too");
    h.get_all_by_label("Delete").next().expect("the toolbar's Delete").click();
    h.run_steps(3);
    h.get_by_label("Delete Recipients");
    h.get_by_label_contains("Delete these 2 recipients, 2 mailboxes and all their messages?");
    h.get_all_by_label("Delete").last().expect("the dialog's Delete").click();
    wait(&mut h, "the two deleted", |a| a.model.mailboxes.len() == 1);
    let left: Vec<String> = h.state().model.mailboxes.iter().map(|m| m.addresses[0].clone()).collect();
    assert_eq!(left, ["ann@corp.test"], "Bob and Carl went, Ann stays");
    assert_eq!(h.state().model.lists.len(), 1, "and so does the list");
}
