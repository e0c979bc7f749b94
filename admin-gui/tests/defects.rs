//! The defects a new administrator's walk found (Windows conventions: what the
//! Properties command acts on, …), each with the test that failed before its fix,
//! driven through the real window against a real `mailroomd`.
#![cfg(unix)] // A real mailroomd, which runs on Unix.

mod common;

use common::{connected, harness, select_recipient, type_into, wait};
use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mailroom_admin::AdminApp;
use mailroom_tests::Daemon;

/// Whether Internet Mail Service Properties is open (its Routing tab shows).
fn ims_properties_open(h: &Harness<'_, AdminApp>) -> bool {
    h.query_by_label("Routing").is_some()
}

/// Whether Mailbox Properties of `address` is open, and Internet Mail Service
/// Properties is not.
fn mailbox_properties_open(h: &Harness<'_, AdminApp>, address: &str) -> bool {
    h.query_by_label_contains(&format!("Mailbox Properties: {address}")).is_some() && !ims_properties_open(h)
}

/// Walk defect 1: Enter in New Mailbox created the mailbox and then, the dialog gone,
/// reached the main window, which opened Internet Mail Service Properties (or the
/// selected recipient's). The dialog takes its Enter.
#[tokio::test(flavor = "multi_thread")]
async fn enter_in_new_mailbox_creates_it_and_opens_nothing_else() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "pw");
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    select_recipient(&mut h, "ann@corp.test");
    h.get_by_label("New Mailbox…").click();
    h.run_steps(3);
    type_into(&mut h, "Display name:", "Bob Builder");
    type_into(&mut h, "E-mail addresses:", "bob@corp.test");
    type_into(&mut h, "Password:", "b0b-pw-long");
    type_into(&mut h, "Confirm password:", "b0b-pw-long");
    h.key_press(Key::Enter);
    h.run_steps(3);
    wait(&mut h, "the new mailbox", |a| a.model.mailboxes.iter().any(|m| m.addresses == ["bob@corp.test"]));
    h.run_steps(3);
    assert!(!ims_properties_open(&h), "Internet Mail Service Properties stayed shut");
    assert!(h.query_by_label_contains("Mailbox Properties").is_none(), "and so did ann's");
}

/// Walk defect 3: the toolbar's Properties and File → Properties opened Internet
/// Mail Service Properties with a mailbox selected in Recipients; like Alt+Enter, they
/// act on the selection.
#[tokio::test(flavor = "multi_thread")]
async fn properties_from_the_toolbar_the_file_menu_and_alt_enter_act_on_the_selected_recipient() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "pw");
    let mut h = harness(d.socket.clone());
    connected(&mut h);

    select_recipient(&mut h, "ann@corp.test");
    h.get_by_label("Properties").click();
    h.run_steps(3);
    assert!(mailbox_properties_open(&h, "ann@corp.test"), "the toolbar's Properties");
    h.get_by_label("Cancel").click();
    h.run_steps(3);

    h.get_by_label("File").click();
    h.run_steps(2);
    // The menu's item, beside the toolbar's button.
    h.get_all_by_label("Properties").last().expect("File → Properties").click();
    h.run_steps(3);
    assert!(mailbox_properties_open(&h, "ann@corp.test"), "File → Properties");
    h.get_by_label("Cancel").click();
    h.run_steps(3);

    h.key_press_modifiers(Modifiers::ALT, Key::Enter);
    h.run_steps(3);
    assert!(mailbox_properties_open(&h, "ann@corp.test"), "Alt+Enter");
    h.get_by_label("Cancel").click();
    h.run_steps(3);

    // With nothing selected, the node's own page, as before.
    h.get_by_label("Internet Mail Service").click();
    h.run_steps(2);
    h.get_by_label("Properties").click();
    h.run_steps(3);
    assert!(ims_properties_open(&h), "the node's page");
}

/// Walk defect 12: Test Address opened with the focus nowhere, and Enter did not run
/// the test.
#[tokio::test(flavor = "multi_thread")]
async fn test_address_starts_in_recipient_and_enter_runs_the_test() {
    use egui_kittest::kittest::NodeT as _;
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "pw");
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    h.get_by_label("Tools").click();
    h.run_steps(2);
    h.get_by_label("Test Address…").click();
    h.run_steps(3);
    assert!(h.get_by_label("Recipient:").accesskit_node().is_focused(), "typing goes to Recipient");
    h.event(egui::Event::Text("ann@corp.test".to_owned()));
    h.run_steps(2);
    h.key_press(Key::Enter);
    h.run_steps(3);
    wait(&mut h, "the verdict", |a| a.model.address_test.is_some());
    h.run_steps(2);
    assert!(
        h.query_by_label_contains("Mailroom would:").is_some() || h.query_by_label_contains("Now (running").is_some()
    );
    h.key_press(Key::Escape);
    h.run_steps(3);
    assert!(h.query_by_label("Recipient:").is_none(), "Escape closes it");
}

/// Walk defect 4: an address already taken closed New Mailbox, lost what was typed
/// and said so only in the status bar. The dialog stays, its input kept, the reason
/// beside the addresses; changing them and Create again makes the mailbox.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_new_mailbox_keeps_its_input_and_says_why_beside_the_field() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "pw");
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    select_recipient(&mut h, "ann@corp.test");
    h.get_by_label("New Mailbox…").click();
    h.run_steps(3);
    type_into(&mut h, "Display name:", "Another Ann");
    type_into(&mut h, "E-mail addresses:", "ann@corp.test");
    type_into(&mut h, "Password:", "an0ther-pw");
    type_into(&mut h, "Confirm password:", "an0ther-pw");
    h.get_by_label("Create").click();
    wait(&mut h, "the service's answer", |a| a.model.dialog_answers > 0);
    h.run_steps(3);
    assert!(h.query_by_label("Create").is_some(), "the dialog is still open");
    let field = h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Display name:");
    assert_eq!(field.value().as_deref(), Some("Another Ann"), "what was typed is kept");
    let reason = h.state().model.dialog_answer.clone();
    let Some(Err(refused)) = &reason else { panic!("no refusal: {reason:?}") };
    assert!(refused.field.as_deref().is_some_and(|f| f.contains("address")), "about the addresses: {refused:?}");
    let words: String = refused.message.chars().skip(1).take(24).collect();
    assert_eq!(h.query_all_by_label_contains(&words).count(), 1, "the reason is shown once, beside the field");
    assert!(h.state().model.error.is_none(), "not (only) in the status bar");

    common::replace_text(&mut h, "E-mail addresses:", "ann2@corp.test");
    h.get_by_label("Create").click();
    wait(&mut h, "the new mailbox", |a| a.model.mailboxes.iter().any(|m| m.addresses == ["ann2@corp.test"]));
    h.run_steps(3);
    assert!(h.query_by_label("Create").is_none(), "closed once made");
}

/// Walk defect 4, for the other recipient dialogs: New Distribution List and New
/// Custom Recipient stay open on a refusal too, with what was typed.
#[tokio::test(flavor = "multi_thread")]
async fn refused_new_lists_and_custom_recipients_keep_their_input() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "pw");
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    select_recipient(&mut h, "ann@corp.test");

    h.get_by_label("New Distribution List…").click();
    h.run_steps(3);
    type_into(&mut h, "Display name:", "Taken");
    type_into(&mut h, "E-mail address:", "ann@corp.test");
    h.get_by_label("Create").click();
    wait(&mut h, "the service's answer", |a| a.model.dialog_answers == 1);
    h.run_steps(3);
    let field = h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Display name:");
    assert_eq!(field.value().as_deref(), Some("Taken"), "the list dialog stays, its input kept");
    assert!(matches!(h.state().model.dialog_answer, Some(Err(_))));
    h.get_by_label("Cancel").click();
    h.run_steps(3);

    h.get_by_label("New Custom Recipient…").click();
    h.run_steps(3);
    type_into(&mut h, "Display name:", "Also Taken");
    type_into(&mut h, "E-mail address here:", "ann@corp.test");
    type_into(&mut h, "Deliver to (outside):", "pat@partner.example");
    h.get_by_label("Create").click();
    wait(&mut h, "the service's answer", |a| a.model.dialog_answers == 2);
    h.run_steps(3);
    let field = h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Deliver to (outside):");
    assert_eq!(field.value().as_deref(), Some("pat@partner.example"), "the contact dialog stays, its input kept");
    assert!(h.state().model.contacts.is_empty());
}

/// Walk defect 9: a one-character mailbox password was accepted. New Mailbox (and
/// a new password in Properties) now asks for at least eight characters, not among
/// the passwords attackers try first, and says so in a sentence.
#[tokio::test(flavor = "multi_thread")]
async fn a_weak_mailbox_password_is_refused_with_a_sentence() {
    let d = Daemon::start().await;
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    h.get_by_label("Recipients").click();
    h.run_steps(3);
    h.get_by_label("New Mailbox…").click();
    h.run_steps(3);
    type_into(&mut h, "Display name:", "Weak");
    type_into(&mut h, "E-mail addresses:", "weak@corp.test");
    type_into(&mut h, "Password:", "x");
    type_into(&mut h, "Confirm password:", "x");
    h.get_by_label("Create").click();
    h.run_steps(3);
    h.get_by_label_contains("Use at least 8 characters (this one has 1).");
    common::replace_text(&mut h, "Password:", "Password123");
    common::replace_text(&mut h, "Confirm password:", "Password123");
    h.run_steps(2);
    h.get_by_label_contains("among the first ones attackers try");
    assert_eq!(h.state().model.dialog_answers, 0, "nothing was sent");
    common::replace_text(&mut h, "Password:", "w3ak-no-more");
    common::replace_text(&mut h, "Confirm password:", "w3ak-no-more");
    h.get_by_label("Create").click();
    wait(&mut h, "the mailbox", |a| a.model.mailboxes.iter().any(|m| m.addresses == ["weak@corp.test"]));
}

/// Walk defect 5: with many mailboxes a person could only scroll. Recipients has a
/// Find box (Ctrl+F), which keeps the rows whose name or address holds what is typed;
/// Queues and Quarantine have one too.
#[tokio::test(flavor = "multi_thread")]
async fn find_keeps_the_recipients_it_finds_as_one_types() {
    let d = Daemon::start().await;
    for (who, name) in [("ann", "Ann Archer"), ("bob", "Bob Builder"), ("carol", "Carol Cooper")] {
        let address = format!("{who}@corp.test");
        let out =
            d.ctl_with_input(&["mailbox", "add", &address, "--name", name, "--password-stdin"], "Long-enough-pw-1\n");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    select_recipient(&mut h, "ann@corp.test");
    wait(&mut h, "three mailboxes", |a| a.model.mailboxes.len() == 3);
    // Ctrl+F reaches the box from the list.
    h.key_press_modifiers(Modifiers::COMMAND, Key::F);
    h.run_steps(2);
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Find:").type_text("coop");
    h.run_steps(3);
    assert!(h.query_by_label("carol@corp.test").is_some(), "found by name");
    assert!(h.query_by_label("ann@corp.test").is_none() && h.query_by_label("bob@corp.test").is_none());
    h.get_by_label("1 of 3 found");
    // Escape clears it: everyone again.
    h.key_press(Key::Escape);
    h.run_steps(3);
    assert!(h.query_by_label("ann@corp.test").is_some() && h.query_by_label("bob@corp.test").is_some());
    type_into(&mut h, "Find:", "BOB@corp");
    assert!(h.query_by_label("bob@corp.test").is_some() && h.query_by_label("carol@corp.test").is_none());
}

/// Walk defect 8: a custom recipient outside the inbound domains was accepted without a
/// word, though mail to it is then not delivered here. Recipients warns, and Fix…
/// (the same guided fix as for mailboxes) adds its domain as inbound.
#[tokio::test(flavor = "multi_thread")]
async fn a_custom_recipient_outside_the_inbound_domains_is_warned_with_a_fix() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "pw");
    d.ctl_ok(&["routing", "reroute", "on"]);
    d.ctl_ok(&["routing", "add", "corp.test", "--inbound"]);
    d.ctl_ok(&["restart"]);
    d.ctl_ok(&["contact", "add", "partner@third.test", "pat@partner.example"]);
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    select_recipient(&mut h, "ann@corp.test");
    wait(&mut h, "the warning", |a| a.model.mailbox_warnings.iter().any(|w| w.contains("partner@third.test")));
    h.run_steps(2);
    h.get_by_label_contains("partner@third.test: rerouting is on but third.test is not an inbound domain");
    h.get_by_label("Fix…").click();
    h.run_steps(3);
    h.get_by_label_contains("Add third.test to the routing table");
    h.get_by_label("Apply and Restart").click();
    wait(&mut h, "third.test inbound", |a| {
        a.model
            .config
            .as_ref()
            .is_some_and(|(c, _)| c.routing.table.inbound_domains().iter().any(|d| d.to_string() == "third.test"))
    });
}

/// Walk defect 14: Message Filtering opened scrolled half-way down (to its first field
/// not ticked off), and the Security tab's certificate was below the fold. A tab opens
/// at its top, and the certificate in use comes first on Security.
#[tokio::test(flavor = "multi_thread")]
async fn a_properties_tab_opens_at_its_top_and_security_shows_the_certificate_first() {
    let d = Daemon::start().await;
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    wait(&mut h, "the certificate", |a| a.model.certificate.is_some());
    h.get_by_label("Properties").click();
    h.run_steps(3);
    h.get_all_by_label("Message Filtering").last().expect("the tab").click();
    h.run_steps(4);
    let tabs = h.get_all_by_label("Message Filtering").last().expect("the tab").rect().max.y;
    let first = h.get_by_label_contains("These defences apply to mail from outside").rect().min.y;
    assert!(first >= tabs, "the tab's first line is in view ({first} under {tabs})");
    h.get_all_by_label("Security").last().expect("the tab").click();
    h.run_steps(4);
    let certificate = h.get_by_label("Certificate in use").rect().min.y;
    let acme = h.get_by_label("Certificate from an ACME CA").rect().min.y;
    assert!(certificate < acme, "the certificate in use comes first");
}

/// Walk defect 15: the property sheet changed size between tabs, its buttons moving,
/// and its label column shifted. A short tab keeps the sheet's size (OK stays where it
/// was), and every tab's fields start at the same x.
#[tokio::test(flavor = "multi_thread")]
async fn the_property_sheet_keeps_its_size_between_tabs() {
    let d = Daemon::start().await;
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    h.get_by_label("Properties").click();
    h.run_steps(4);
    let ok = |h: &Harness<'_, AdminApp>| h.get_all_by_label("OK").last().expect("OK").rect();
    let general = ok(&h);
    h.get_all_by_label("Message Filtering").last().expect("the tab").click();
    h.run_steps(4);
    assert_eq!(ok(&h), general, "OK stays where it was");
    h.get_all_by_label("Backup").last().expect("the tab").click();
    h.run_steps(4);
    assert_eq!(ok(&h), general);

    // And the label column is one width on every tab: the fields start at one x.
    let mut starts = Vec::new();
    for tab in ["General", "Connections", "Delivery", "POP3", "IMAP4", "Message Filtering", "Backup"] {
        h.get_all_by_label(tab).last().expect("the tab").click();
        h.run_steps(4);
        // (Not the cells of Message Filtering's table of DNS lists.)
        let field = h
            .query_all_by_role(egui::accesskit::Role::TextInput)
            .filter(|n| egui_kittest::kittest::NodeT::accesskit_node(n).label().as_deref() != Some("Zone"))
            .map(|n| n.rect())
            .filter(|r| r.min.x > 0.0)
            .min_by(|a, b| a.min.y.total_cmp(&b.min.y))
            .expect("a field");
        starts.push((tab, field.min.x));
    }
    let first = starts[0].1;
    assert!(starts.iter().all(|(_, x)| (x - first).abs() < 1.0), "the fields start apart: {starts:?}");
}

/// Walk defect 7: an idle window was woken every two seconds (the status polled for the
/// uptime, handed to the window whether anything had changed or not), and repainted
/// each time, 1–2% of a core with software OpenGL. Nothing that did not change wakes
/// it now: over six quiet seconds the backend asks for no repaint, while the uptime
/// shown still advances (by a repaint the status bar asks for when its minute turns).
/// (Not the whole defect: how much a flood of mail costs is measured, not tested.)
#[tokio::test(flavor = "multi_thread")]
async fn an_idle_window_is_not_woken_when_nothing_changed() {
    let d = Daemon::start().await;
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    h.run_steps(5);
    // The monitor's chart gains a minute when the minute turns (news, once a minute):
    // the quiet seconds are taken clear of that.
    let second = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() % 60);
    if second > 50 {
        std::thread::sleep(std::time::Duration::from_secs(64 - second));
        h.run_steps(5);
    }
    let woken = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let w = std::sync::Arc::clone(&woken);
    h.ctx.set_request_repaint_callback(move |info| {
        if info.delay.is_zero() {
            w.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    });
    std::thread::sleep(std::time::Duration::from_secs(6));
    assert_eq!(woken.load(std::sync::atomic::Ordering::Relaxed), 0, "woken with nothing changed");
    // A change still wakes it at once.
    d.add_mailbox("new@corp.test", "new-pw-2026");
    wait(&mut h, "the new mailbox", |a| a.model.mailboxes.iter().any(|m| m.addresses == ["new@corp.test"]));
    assert!(woken.load(std::sync::atomic::Ordering::Relaxed) > 0);
    h.get_by_label_contains("Up ");
}

/// Walk defect 13: F1 in Mailbox Properties opened the help behind the dialog (and on
/// Recipients, not on the tab); the mailbox tabs, lists, custom recipients and the
/// Tools had no pages, and the founding fix never said to create a mailbox. Help now
/// comes above the dialog, on the tab in front, and takes clicks there; each dialog and
/// window has its page.
#[tokio::test(flavor = "multi_thread")]
async fn f1_in_a_dialog_opens_its_help_above_it() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "pw");
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    common::open_mailbox_properties(&mut h, "ann@corp.test");
    h.get_by_label("Automatic Replies").click();
    h.run_steps(3);
    h.key_press(Key::F1);
    h.run_steps(3);
    h.get_by_label("Mailroom Help");
    h.get_by_label_contains("out-of-office reply");
    let help = egui::LayerId::new(egui::Order::Foreground, egui::Id::unique("Mailroom Help"));
    assert!(h.ctx.memory(|m| m.is_above_modal_layer(help)), "the help is above the dialog");
    // Above the dialog: its topics take a click while the dialog stays open.
    h.get_by_label("Custom Recipients").click();
    h.run_steps(3);
    h.get_by_label_contains("whose mail goes to someone outside");
    assert!(h.query_by_label_contains("Mailbox Properties: ann@corp.test").is_some(), "the dialog stays open");
    h.get_by_label("Contents").click();
    h.run_steps(3);
    h.get_by_label_contains("Give each person a mailbox");
    for page in [
        "Mailbox: General",
        "Mailbox: Permissions",
        "Distribution Lists",
        "Custom Recipients",
        "Import Mail",
        "Connect to Server",
        "Message Tracking",
        "Client Setup",
    ] {
        assert!(h.query_by_label(page).is_some(), "{page} is listed");
    }
}

/// Walk defect 20: a custom recipient's properties could only be looked at ("delete it
/// and create it again"). Its name and both addresses are changed in place; a new
/// address already taken is refused in the dialog, which keeps what was typed.
#[tokio::test(flavor = "multi_thread")]
async fn a_custom_recipient_is_edited_in_its_properties() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "pw");
    d.ctl_ok(&["contact", "add", "pat@corp.test", "pat@partner.example", "--name", "Pat"]);
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    h.get_by_label("Recipients").click();
    wait(&mut h, "the custom recipient", |a| a.model.contacts.len() == 1);
    h.get_by_label("pat@corp.test").click();
    h.run_steps(2);
    h.key_press(Key::Enter);
    h.run_steps(3);
    h.get_by_label("Custom Recipient Properties");
    common::replace_text(&mut h, "E-mail address here:", "ann@corp.test");
    h.get_by_label("OK").click();
    wait(&mut h, "the refusal", |a| a.model.dialog_answers == 1);
    h.run_steps(3);
    assert!(h.query_by_label_contains("already belongs to a mailbox").is_some(), "said in the dialog");
    common::replace_text(&mut h, "E-mail address here:", "patricia@corp.test");
    common::replace_text(&mut h, "Deliver to (outside):", "patricia@partner.example");
    common::replace_text(&mut h, "Display name:", "Patricia");
    h.get_by_label("OK").click();
    wait(&mut h, "the change", |a| {
        a.model.contacts.iter().any(|c| {
            c.address == "patricia@corp.test" && c.target == "patricia@partner.example" && c.display_name == "Patricia"
        })
    });
    h.run_steps(3);
    assert!(h.query_by_label("Custom Recipient Properties").is_none(), "closed once done");
    assert_eq!(h.state().model.contacts.len(), 1, "changed, not added");
}

/// Walk defect 20: the selected routing row was highlighted half-way (its Sent To cell
/// only), and only that cell selected it. A click anywhere on the row selects it, the
/// whole row shows it, and a double-click opens it for editing.
#[tokio::test(flavor = "multi_thread")]
async fn a_routing_row_is_selected_by_a_click_anywhere_and_opens_on_a_double_click() {
    use egui_kittest::kittest::NodeT as _;
    let d = Daemon::start().await;
    d.ctl_ok(&["routing", "reroute", "on"]);
    d.ctl_ok(&["routing", "add", "corp.test", "--inbound"]);
    // Frames a sixtieth of a second apart, so that two clicks are a double-click.
    let socket = d.socket.clone();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1100.0, 720.0))
        .with_step_dt(1.0 / 60.0)
        .build_eframe(move |cc| AdminApp::new(&cc.egui_ctx, socket));
    connected(&mut h);
    common::open_routing_tab(&mut h);
    assert!(h.get_by_label("Edit…").accesskit_node().is_disabled(), "nothing selected yet");
    h.get_by_label("<inbound>").click();
    h.run_steps(3);
    assert!(!h.get_by_label("Edit…").accesskit_node().is_disabled(), "the Route To cell selected the row");
    // Half a second after the last click, or egui counts a third one.
    h.run_steps(30);
    let row = h.get_by_label("<inbound>");
    row.click();
    row.click();
    h.run_steps(3);
    h.get_by_label("Edit Routing Table Entry");
}

/// Walk defect 6: at 800×600 the DNS Records' values and Copy buttons and the
/// Recipients' Messages and Size columns were out of reach (no horizontal scrolling),
/// and even at the default size the Copy buttons were cut in half. The view scrolls
/// sideways to each of them, and Copy sits whole beside its value.
#[tokio::test(flavor = "multi_thread")]
async fn at_800_by_600_every_column_and_copy_button_can_be_reached() {
    let d = Daemon::start().await;
    d.ctl_ok(&["routing", "reroute", "on"]);
    d.ctl_ok(&["routing", "add", "corp.test", "--inbound"]);
    d.add_mailbox("ann@corp.test", "pw");
    let socket = d.socket.clone();
    let mut h = Harness::builder()
        .with_size(egui::vec2(800.0, 600.0))
        .build_eframe(move |cc| AdminApp::new(&cc.egui_ctx, socket));
    connected(&mut h);
    let reachable = |h: &mut Harness<'_, AdminApp>, label: &str| {
        let node = h.get_all_by_label(label).next().expect("the control");
        node.scroll_to_me();
        h.run_steps(4);
        let r = h.get_all_by_label(label).next().expect("the control").rect();
        assert!(r.min.x >= 0.0 && r.max.x <= 800.0 && r.max.y <= 600.0, "{label} out of reach at {r:?}");
        r
    };
    h.get_by_label("DNS Records").click();
    wait(&mut h, "the records", |a| matches!(&a.model.dns_records, Some(Ok(r)) if !r.is_empty()));
    let copy = reachable(&mut h, "Copy");
    assert!(copy.width() >= 36.0, "Copy is whole: {copy:?}");
    h.get_by_label("Recipients").click();
    wait(&mut h, "the mailbox", |a| !a.model.mailboxes.is_empty());
    reachable(&mut h, "Size");
    reachable(&mut h, "Messages");

    // The tree pane is resized by dragging its edge (it snapped back to its labels).
    let left_of_view = |h: &Harness<'_, AdminApp>| h.get_by_label("Find:").rect().min.x;
    let before = left_of_view(&h);
    let edge = h.get_by_label("Monitor").rect().center().y;
    let (from, to) = (egui::pos2(250.0, edge + 60.0), egui::pos2(350.0, edge + 60.0));
    // The edge: the pane's default width from the window's left.
    let x = 250.0;
    h.event(egui::Event::PointerMoved(egui::pos2(x, from.y)));
    h.run_steps(2);
    let button = |x: f32, pressed| egui::Event::PointerButton {
        pos: egui::pos2(x, from.y),
        button: egui::PointerButton::Primary,
        pressed,
        modifiers: egui::Modifiers::NONE,
    };
    h.event(button(x, true));
    h.run_steps(1);
    for step in 1..=10 {
        h.event(egui::Event::PointerMoved(egui::pos2(x + step as f32 * (to.x - x) / 10.0, from.y)));
        h.run_steps(1);
    }
    h.event(button(to.x, false));
    h.run_steps(4);
    let after = left_of_view(&h);
    assert!(after > before + 60.0, "the tree pane widened: {before} -> {after}");
}

/// Walk defect 5's measure: Find returns a person among 1,000 mailboxes in the frame
/// after the typing (the list is filtered as it is drawn, with no round trip).
#[test]
fn find_returns_a_person_among_a_thousand_in_one_frame() {
    use mailroom_admin::model::Connection;
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("nobody.sock");
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |cc| AdminApp::new(&cc.egui_ctx, socket));
    let thousand = (0..1_000)
        .map(|i| mailroom_shared::ipc::MailboxInfo {
            id: i,
            display_name: format!("User {i}"),
            addresses: vec![format!("user{i}@corp.test")],
            message_count: 0,
            total_bytes: 0,
            folders: Vec::new(),
            forwarding: None,
            auto_reply: None,
            limits: Default::default(),
            shared: false,
            permissions: Vec::new(),
            collections: Vec::new(),
            hidden: false,
        })
        .collect();
    h.state_mut().model.mailboxes = thousand;
    h.get_by_label("Recipients").click();
    // No service answers the socket: the view is kept showing as if one did.
    for _ in 0..3 {
        h.state_mut().model.connection = Connection::Connected("test".into());
        h.step();
    }
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Find:").focus();
    h.step();
    h.state_mut().model.connection = Connection::Connected("test".into());
    h.event(egui::Event::Text("user777@".into()));
    h.step();
    assert!(h.query_by_label("user777@corp.test").is_some(), "found in the next frame");
    h.get_by_label("1 of 1000 found");
}
