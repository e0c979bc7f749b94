//! The Administrator with the keyboard alone, and the founding fix counted in clicks:
//! focus where typing goes, Enter for the default button, Escape for Cancel, Tab that
//! stays in the dialog, and the safe answer first in every dangerous confirmation.
#![cfg(unix)] // A real mailroomd, which runs on Unix.

mod common;

use common::*;
use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable};
use mailroom_admin::AdminApp;
use mailroom_shared::config::Page;
use mailroom_tests::Daemon;

const REROUTE: &str = "Reroute incoming SMTP mail (required for POP3 support)";

fn press(h: &mut Harness<'_, AdminApp>, key: Key) {
    h.key_press(key);
    h.run_steps(3);
}

fn press_with(h: &mut Harness<'_, AdminApp>, modifiers: Modifiers, key: Key) {
    h.key_press_modifiers(modifiers, key);
    h.run_steps(3);
}

fn typed(h: &mut Harness<'_, AdminApp>, text: &str) {
    h.event(egui::Event::Text(text.to_owned()));
    h.run_steps(3);
}

fn focused(h: &Harness<'_, AdminApp>, label: &str) -> bool {
    h.get_by_label(label).accesskit_node().is_focused()
}

/// The service routes corp.test as inbound and is running with it.
fn wait_rerouted_and_running(h: &mut Harness<'_, AdminApp>) {
    wait(h, "the restart with the new routing", |a| {
        a.model.config.as_ref().is_some_and(|(c, _)| c.routing.reroute && !c.routing.table.entries().is_empty())
            && a.model.status.as_ref().is_some_and(|s| {
                s.state == mailroom_shared::ipc::ServiceState::Running && s.running_revision == Some(s.config_revision)
            })
            && a.model.pending.is_empty()
    });
}

/// The founding fix with the keyboard alone: Enter opens the selected node's
/// Properties, Ctrl+Tab turns to Routing (whose first control takes the focus), Space
/// ticks, Tab reaches Add…, Enter opens the dialog with its field focused, Enter
/// confirms it, Enter is the sheet's OK, and Ctrl+R restarts.
#[tokio::test(flavor = "multi_thread")]
async fn the_founding_fix_with_the_keyboard_alone() {
    let d = Daemon::start().await;
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    press(&mut h, Key::Enter);
    assert!(h.query_by_label("General").is_some() && h.query_by_label("Apply").is_some(), "Properties opened");
    press_with(&mut h, Modifiers::COMMAND, Key::Tab);
    press_with(&mut h, Modifiers::COMMAND, Key::Tab);
    assert!(focused(&h, REROUTE), "the Routing tab's first control has the focus");
    press(&mut h, Key::Space);
    press(&mut h, Key::Tab);
    assert!(focused(&h, "Add…"), "Tab goes on to Add…");
    press(&mut h, Key::Enter);
    assert!(
        h.get_by_role_and_label(egui::accesskit::Role::TextInput, "E-mail sent to this domain:")
            .accesskit_node()
            .is_focused(),
        "the dialog's field has the focus"
    );
    typed(&mut h, "corp.test");
    press(&mut h, Key::Enter);
    assert!(h.query_by_label("<inbound>").is_some(), "Enter confirmed the entry");
    press(&mut h, Key::Enter);
    wait(&mut h, "the saved routing", |a| a.model.pending == [Page::Routing]);
    assert!(h.query_by_label("Apply").is_none(), "Enter was the sheet's OK: it closed");
    press_with(&mut h, Modifiers::COMMAND, Key::R);
    wait_rerouted_and_running(&mut h);
}

/// The same with the mouse, counting clicks (at most 7: launch, Properties, Routing,
/// tick, Add, type the domain, Enter, OK, Restart).
#[tokio::test(flavor = "multi_thread")]
async fn the_founding_fix_takes_six_clicks() {
    let d = Daemon::start().await;
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    let mut clicks = 0;
    let mut click = |h: &mut Harness<'_, AdminApp>, label: &str| {
        h.get_all_by_label(label).last().unwrap_or_else(|| panic!("no {label}")).click();
        h.run_steps(3);
        clicks += 1;
    };
    click(&mut h, "Properties");
    click(&mut h, "Routing");
    click(&mut h, REROUTE);
    click(&mut h, "Add…");
    typed(&mut h, "corp.test");
    press(&mut h, Key::Enter);
    click(&mut h, "OK");
    wait(&mut h, "the saved routing", |a| a.model.pending == [Page::Routing]);
    click(&mut h, "Restart Service");
    wait_rerouted_and_running(&mut h);
    assert!(clicks <= 7, "{clicks} clicks");
    assert_eq!(clicks, 6);
    // Each result was told: the save, then the restart with how long it took.
    wait(&mut h, "the restart's toast", |a| a.toasts_shown.len() >= 2);
    let told = &h.state().toasts_shown;
    assert_eq!(told[0], "Saved", "{told:?}");
    assert!(told[1].starts_with("Restarted — running in ") && told[1].ends_with(" s"), "{told:?}");
    h.get_by_label_contains("restarted and is running");
}

/// Escape cancels a dialog and the sheet, and Tab stays in the sheet: the main
/// window's controls wait while Properties is open.
#[tokio::test(flavor = "multi_thread")]
async fn escape_cancels_and_tab_stays_in_the_sheet() {
    let d = Daemon::start().await;
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    h.get_by_label("Properties").click();
    h.run_steps(3);
    for _ in 0..40 {
        press(&mut h, Key::Tab);
        let menus_or_tree = ["File", "Tools", "Recipients", "Refresh", "Restart Service"];
        for label in menus_or_tree {
            if let Some(n) = h.query_all_by_label(label).next() {
                assert!(!n.accesskit_node().is_focused(), "Tab left the sheet for {label}");
            }
        }
    }
    h.get_by_label("Routing").click();
    h.run_steps(3);
    h.get_by_label(REROUTE).click();
    h.run_steps(2);
    h.get_by_label("Add…").click();
    h.run_steps(3);
    typed(&mut h, "half.typed");
    press(&mut h, Key::Escape);
    assert!(h.query_by_label("E-mail sent to this domain:").is_none(), "Escape closed the dialog");
    assert!(h.query_by_label("half.typed").is_none(), "and kept nothing");
    press(&mut h, Key::Escape);
    assert!(h.query_by_label("Apply").is_none(), "Escape cancelled the sheet");
    assert!(h.state().model.pending.is_empty(), "nothing was saved");
}

/// Regression: in the open-relay warning the first Tab focused "Allow open relay".
/// Cancel comes first, has the focus, and is what Enter means.
#[tokio::test(flavor = "multi_thread")]
async fn the_open_relay_warning_defaults_to_cancel() {
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
    let cancel = h.get_all_by_label("Cancel").last().expect("the warning's Cancel");
    assert!(cancel.accesskit_node().is_focused(), "Cancel has the focus");
    press(&mut h, Key::Enter);
    assert!(h.query_by_label("Warning: open relay").is_none(), "Enter answered the warning");
    // Cancelled: the restrictions dialog is still open, unchanged in the saved config.
    h.get_all_by_label("Cancel").last().expect("the dialog's Cancel").click();
    h.run_steps(3);
    let show = d.ctl_ok(&["config", "show"]);
    let v: serde_json::Value = serde_json::from_str(&show).expect("json");
    assert_eq!(v["routing_restrictions"]["allow_authenticated"], true);
    assert_eq!(v["routing_restrictions"]["open_relay_confirmed"], false);
}

/// Double-click on a tree node opens its own Properties tab (POP3 opened the General
/// tab before).
#[tokio::test(flavor = "multi_thread")]
async fn a_double_click_on_a_node_opens_its_properties() {
    let d = Daemon::start().await;
    // Frames a sixtieth of a second apart, so that two clicks are a double-click.
    let socket = d.socket.clone();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1100.0, 720.0))
        .with_step_dt(1.0 / 60.0)
        .build_eframe(move |cc| AdminApp::new(&cc.egui_ctx, socket));
    connected(&mut h);
    h.get_by_label("POP3").click();
    h.run_steps(2);
    h.get_by_label("Properties").click();
    h.run_steps(3);
    assert!(h.query_by_label("Enable POP3").is_some(), "Properties opened on the POP3 tab");
    press(&mut h, Key::Escape);
    // Half a second after the last click, or egui counts a third one.
    h.run_steps(30);
    let node = h.get_all_by_label("IMAP4").next().expect("the tree's IMAP4");
    node.click();
    node.click();
    h.run_steps(3);
    assert!(h.query_by_label_contains("Enable IMAP4").is_some(), "a double-click opened the IMAP4 tab");
}

/// F1 gives help on what is in front of the user: the open Properties tab, or else the
/// selected node; Help → Contents has the founding fix as its example, and every
/// page is listed there.
#[tokio::test(flavor = "multi_thread")]
async fn f1_opens_the_help_for_the_page_in_front() {
    let d = Daemon::start().await;
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    open_routing_tab(&mut h);
    press(&mut h, Key::F1);
    h.get_by_label("Mailroom Help");
    h.get_by_label_contains("Matching is on whole labels");
    h.get_all_by_label("Cancel").last().expect("the sheet's Cancel").click();
    h.run_steps(3);
    h.get_all_by_label("Contents").next().expect("the help's Contents").click();
    h.run_steps(3);
    h.get_by_label_contains("Getting mail to flow");
    for page in ["General", "Message Filtering", "Recipients", "DNS Records", "Service Status"] {
        assert!(h.query_all_by_label(page).count() >= 1, "{page} is listed");
    }
}

/// Walk defect 2 (the tree and the recipients list): the arrow keys, Home and End walk
/// the tree as a Windows tree view (Left closes a container, Right opens it), a letter
/// selects the next node starting with it; a click in the list gives it the keys, and
/// Down there selects the next recipient, whose Properties Enter opens.
#[tokio::test(flavor = "multi_thread")]
async fn the_arrow_keys_walk_the_tree_and_the_recipients_list() {
    use mailroom_admin::nav::{Container, Node};
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "pw");
    d.add_mailbox("bob@corp.test", "pw");
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    assert_eq!(h.state().selected, Node::InternetMailService);
    press(&mut h, Key::ArrowDown);
    assert_eq!(h.state().selected, Node::Container(Container::Protocols));
    press(&mut h, Key::End);
    assert_eq!(h.state().selected, Node::Monitor);
    press(&mut h, Key::ArrowLeft);
    assert_eq!(h.state().selected, Node::Container(Container::Server), "Left goes to the container");
    press(&mut h, Key::ArrowLeft);
    // (Monitor is on the Server's page, and in the tree while it is open.)
    assert_eq!(h.get_all_by_label("Monitor").count(), 1, "Left again closes it");
    press(&mut h, Key::ArrowRight);
    assert_eq!(h.get_all_by_label("Monitor").count(), 2, "Right opens it");
    press(&mut h, Key::Home);
    assert_eq!(h.state().selected, Node::Container(Container::Organization));
    typed(&mut h, "r");
    assert_eq!(h.state().selected, Node::Recipients);
    wait(&mut h, "two mailboxes", |a| a.model.mailboxes.len() == 2);
    // The list: a click on ann, Down to bob, Enter opens bob's Properties.
    h.get_by_label("ann@corp.test").click();
    h.run_steps(3);
    press(&mut h, Key::ArrowDown);
    assert_eq!(h.state().selected, Node::Recipients, "the tree stays where it is");
    press(&mut h, Key::Enter);
    assert!(h.query_by_label_contains("Mailbox Properties: bob@corp.test").is_some());
}

/// Walk defect 16: a container (Server, Configuration…) showed nothing and a click
/// closed it. Its page lists what it holds, with how each stands; the click leaves
/// the tree as it was, and + / − or the right-click menu open and close it.
#[tokio::test(flavor = "multi_thread")]
async fn a_container_shows_what_it_holds_and_a_click_keeps_the_tree_open() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "pw");
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    h.get_by_label("Server").click();
    h.run_steps(3);
    h.get_by_label("0 messages waiting to be delivered");
    assert!(h.get_all_by_label("Internet Mail Service: Running").count() >= 2, "on the page too");
    assert_eq!(h.get_all_by_label("Monitor").count(), 2, "in the tree, still open, and on the page");
    h.get_by_label("Site").click();
    h.run_steps(3);
    assert!(h.query_by_label("Queues").is_some(), "in the tree");
    h.get_by_label_contains("1 mailbox, 0 distribution lists");
    h.get_all_by_label("-").next().expect("the Organization's button").click();
    h.run_steps(3);
    assert!(h.query_by_label("Queues").is_none(), "the whole tree closed under Organization");
}

/// Exchange Administrator's menus and keys: Ctrl+N opens New Mailbox from anywhere (on
/// Recipients); File → New offers the four kinds of recipient; Edit → Select All,
/// Delete and Find work on the list shown; View hides and shows the toolbar and the
/// status bar.
#[tokio::test(flavor = "multi_thread")]
async fn file_new_edit_and_view_work_as_in_exchange_administrator() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "pw");
    d.add_mailbox("bob@corp.test", "pw");
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    // Ctrl+N from the Internet Mail Service page.
    press_with(&mut h, Modifiers::COMMAND, Key::N);
    assert_eq!(h.query_all_by_label("New Mailbox").count(), 2, "the dialog's title beside the toolbar's button");
    assert!(focused(&h, "Display name:"), "typing goes to the name");
    press(&mut h, Key::Escape);
    // File → New → Distribution List.
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label("New").hover();
    h.run_steps(4);
    for kind in ["Mailbox… Ctrl+N", "Shared Mailbox…", "Distribution List…", "Custom Recipient…"] {
        assert!(h.query_by_label(kind).is_some(), "File → New → {kind}");
    }
    h.get_by_label("Distribution List…").click();
    h.run_steps(3);
    h.get_by_label("New Distribution List");
    press(&mut h, Key::Escape);
    // Edit → Select All, then Edit → Delete: both asked for at once.
    wait(&mut h, "the mailboxes", |a| a.model.mailboxes.len() == 2);
    for command in ["Select All Ctrl+A", "Delete Del"] {
        h.get_by_label("Edit").click();
        h.run_steps(2);
        h.get_by_label(command).click();
        h.run_steps(3);
    }
    h.get_by_label_contains("Delete these 2 recipients");
    press(&mut h, Key::Escape);
    // Edit → Find: the Find box takes the keys.
    h.get_by_label("Edit").click();
    h.run_steps(2);
    h.get_by_label("Find… Ctrl+F").click();
    h.run_steps(3);
    assert!(focused(&h, "Find:"), "the Find box has the keyboard");
    typed(&mut h, "bob");
    h.get_by_label_contains("1 of 2 found");
    // View: the toolbar and the status bar go and come back.
    for (item, part) in [("Toolbar", "New Mailbox"), ("Status Bar", "Internet Mail Service: Running")] {
        let here = |h: &Harness<'_, AdminApp>| h.query_by_label(part).is_some();
        assert!(here(&h), "{part} shown");
        h.get_by_label("View").click();
        h.run_steps(2);
        h.get_by_label(item).click();
        h.run_steps(3);
        assert!(!here(&h), "{item} hidden");
        h.get_by_label("View").click();
        h.run_steps(2);
        h.get_by_label(item).click();
        h.run_steps(3);
        assert!(here(&h), "{item} shown again");
    }
}

/// Walk defect 2: reaching a person took 16 Tabs, one of them on nothing visible (each
/// list row was a Tab stop of its own). F6 moves the keys between the tree and the
/// list, as between a Windows window's panes: a letter in the tree, F6, Down and Enter
/// open the first recipient's Properties, with no mouse; no row is a Tab stop.
#[tokio::test(flavor = "multi_thread")]
async fn f6_moves_the_keys_between_the_tree_and_the_list() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "pw");
    d.add_mailbox("bob@corp.test", "pw");
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    typed(&mut h, "r");
    wait(&mut h, "the mailboxes", |a| a.model.mailboxes.len() == 2);
    h.get_by_label("New Mailbox…");
    press(&mut h, Key::F6);
    press(&mut h, Key::ArrowDown);
    press(&mut h, Key::Enter);
    h.get_by_label("Mailbox Properties: ann@corp.test");
    press(&mut h, Key::Escape);
    // Back in the tree: Down goes to the next node (Public Folders), not the next row.
    press(&mut h, Key::F6);
    press(&mut h, Key::ArrowDown);
    assert!(h.query_by_label("New Mailbox…").is_none(), "the tree moved");
    assert!(h.query_all_by_label_contains("Public Folders").count() >= 2, "to Public Folders, its page shown");
}
