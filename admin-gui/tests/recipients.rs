//! Recipients as in Exchange: New Distribution List (with its Members tab), New Custom
//! Recipient, and Mailbox Properties' Delivery Options, Limits and Automatic Replies,
//! driven through the real window against a real `mailroomd`, checked with
//! `mailroomctl`.
#![cfg(unix)] // A real mailroomd, which runs on Unix.

mod common;

use common::{connected, harness, open_mailbox_properties, replace_text, type_into, wait};
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use mailroom_tests::Daemon;

#[tokio::test(flavor = "multi_thread")]
async fn a_new_distribution_list_with_members_and_a_custom_recipient_appear_as_their_kinds() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "pw");
    d.add_mailbox("bob@corp.test", "pw");
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    h.get_by_label("Recipients").click();
    wait(&mut h, "the mailbox list", |a| a.model.mailboxes.len() == 2);

    h.get_by_label("New Custom Recipient…").click();
    h.run_steps(3);
    type_into(&mut h, "Display name:", "Pat Partner");
    type_into(&mut h, "E-mail address here:", "partner@corp.test");
    type_into(&mut h, "Deliver to (outside):", "not an address");
    h.get_by_label("Create").click();
    h.run_steps(2);
    h.get_by_label_contains("The outside address: 'not an address'");
    replace_text(&mut h, "Deliver to (outside):", "pat@partner.example");
    h.get_by_label("Create").click();
    wait(&mut h, "the custom recipient", |a| a.model.contacts.len() == 1);

    h.get_by_label("New Distribution List…").click();
    h.run_steps(3);
    type_into(&mut h, "Display name:", "Sales");
    type_into(&mut h, "E-mail address:", "sales@corp.test");
    h.get_by_label("Members").click_accesskit();
    h.run_steps(2);
    type_into(&mut h, "Add member:", "ann@corp.test, partner@corp.test");
    h.get_by_label("Add").click_accesskit();
    h.run_steps(2);
    assert_eq!(h.query_all_by_label("Remove").count(), 2, "two members listed");
    h.get_by_label("Delivery Restrictions").click_accesskit();
    h.run_steps(2);
    h.get_by_label("Hide its members (the address tester does not list them)");
    h.get_by_label("Create").click();
    wait(&mut h, "the list", |a| a.model.lists.iter().any(|l| l.members.len() == 2));

    h.get_by_label("Distribution list (2 members)");
    h.get_by_label("Custom recipient (to pat@partner.example)");
    assert_eq!(h.query_all_by_label("Mailbox").count(), 2, "two mailboxes");
    let listed = d.ctl_ok(&["mailbox", "list"]);
    assert!(listed.contains("sales@corp.test") && listed.contains("list: 2 member(s)"), "{listed}");
    assert!(listed.contains("custom recipient → pat@partner.example"), "{listed}");

    // The list's properties: remove a member.
    h.get_by_label("sales@corp.test").click();
    h.run_steps(2);
    h.get_by_label("Properties…").click();
    h.run_steps(3);
    h.get_by_label("Members").click_accesskit();
    h.run_steps(2);
    h.get_all_by_label("Remove").nth(1).expect("partner's Remove").click_accesskit();
    h.run_steps(2);
    h.get_by_label("OK").click_accesskit();
    wait(&mut h, "one member left", |a| a.model.lists.iter().any(|l| l.members == vec!["ann@corp.test".to_owned()]));
}

#[tokio::test(flavor = "multi_thread")]
async fn mailbox_properties_set_forwarding_limits_and_an_automatic_reply() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "pw");
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    open_mailbox_properties(&mut h, "ann@corp.test");

    h.get_by_label("Delivery Options").click_accesskit();
    h.run_steps(2);
    h.get_by_label("Forward this mailbox's mail").click_accesskit();
    h.run_steps(2);
    type_into(&mut h, "Forward to (outside address):", "ann@home.example");
    h.get_by_label("Limits").click_accesskit();
    h.run_steps(2);
    h.get_by_label("Prohibit send and receive at (KB):").click_accesskit();
    h.run_steps(2);
    h.get_by_label("Automatic Replies").click_accesskit();
    h.run_steps(2);
    h.get_by_label("Send automatic replies (out of office)").click_accesskit();
    h.run_steps(2);
    h.get_by_label("An automatic reply needs a subject and some text (Automatic Replies).");
    h.get_by_role_and_label(Role::MultilineTextInput, "Text:").focus();
    h.run_steps(2);
    h.get_by_role_and_label(Role::MultilineTextInput, "Text:").type_text("Away until Monday.");
    h.run_steps(2);
    assert!(h.query_by_label_contains("needs a subject").is_none(), "the problem goes once the text is typed");
    type_into(&mut h, "Until (YYYY-MM-DD, optional):", "next monday");
    h.get_by_label_contains("Until: 'next monday' is not a date; write YYYY-MM-DD");
    replace_text(&mut h, "Until (YYYY-MM-DD, optional):", "2099-12-31");
    assert!(h.query_by_label_contains("is not a date").is_none());
    h.get_by_label("OK").click_accesskit();
    wait(&mut h, "the mailbox's options", |a| {
        a.model.mailboxes.first().is_some_and(|m| m.forwarding.is_some() && m.auto_reply.is_some())
    });
    let listed = d.ctl_ok(&["mailbox", "list"]);
    assert!(listed.contains("forwards to ann@home.example, keeping a copy"), "{listed}");
    assert!(listed.contains("automatic reply: Out of office: {subject}"), "{listed}");
    assert!(listed.contains("limits: warn default, send default, receive 100000 KB"), "{listed}");
}

#[tokio::test(flavor = "multi_thread")]
async fn delivery_options_turn_a_domains_catch_all_on_with_its_warning() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "pw");
    d.ctl_ok(&["routing", "reroute", "on"]);
    d.ctl_ok(&["routing", "add", "corp.test", "--inbound"]);
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    open_mailbox_properties(&mut h, "ann@corp.test");
    h.get_by_label("Delivery Options").click_accesskit();
    h.run_steps(2);
    h.get_by_label("A catch-all invites spam: every address a spammer guesses lands in this mailbox.");
    h.get_by_label("Receive mail for unknown addresses of corp.test").click_accesskit();
    h.run_steps(2);
    h.get_by_label("OK").click_accesskit();
    wait(&mut h, "the catch-all", |a| a.model.catch_all == vec![("corp.test".to_owned(), "ann@corp.test".to_owned())]);
    assert!(d.ctl_ok(&["mailbox", "list"]).contains("catch-all for corp.test: ann@corp.test"));
}

/// The address book wherever people are chosen: a list's Members tab opens it over the
/// dialog; typing finds people, Ctrl+click chooses two, Add makes them members (the
/// list's own address and its members not offered); Escape in it leaves the list
/// dialog open. Mailbox Properties' Permissions choose the same way.
#[tokio::test(flavor = "multi_thread")]
async fn the_address_book_chooses_members_and_people_to_give_permissions_to() {
    use egui::Modifiers;
    let d = Daemon::start().await;
    for (address, name) in
        [("ann@corp.test", "Ann Archer"), ("bob@corp.test", "Bob Baker"), ("cy@corp.test", "Cy Cole")]
    {
        let out = d.ctl_with_input(&["mailbox", "add", address, "--name", name, "--password-stdin"], "pw\n");
        assert!(out.status.success(), "{out:?}");
    }
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    h.get_by_label("Recipients").click();
    wait(&mut h, "the mailboxes", |a| a.model.mailboxes.len() == 3);
    h.get_by_label("New Distribution List…").click();
    h.run_steps(3);
    type_into(&mut h, "Display name:", "Sales");
    type_into(&mut h, "E-mail address:", "sales@corp.test");
    h.get_by_label("Members").click_accesskit();
    h.run_steps(3);
    h.get_by_label("Address Book…").click();
    h.run_steps(3);
    h.get_by_label("Address Book: Add Members");
    // Escape closes the book, not the list dialog.
    h.key_press(egui::Key::Escape);
    h.run_steps(3);
    assert!(h.query_by_label("Address Book: Add Members").is_none());
    h.get_by_label("New Distribution List");
    h.get_by_label("Address Book…").click();
    h.run_steps(3);
    // The book is drawn last, over the recipients behind.
    h.get_all_by_label("Ann Archer").last().expect("in the book").click();
    h.run_steps(2);
    h.get_all_by_label("Cy Cole").last().expect("in the book").click_modifiers(Modifiers::COMMAND);
    h.run_steps(2);
    h.get_by_label("2 selected");
    h.get_all_by_label("Add").last().expect("the book's Add").click();
    h.run_steps(3);
    assert!(h.query_by_label("Address Book: Add Members").is_none(), "Add closes it");
    assert_eq!(h.query_all_by_label("Remove").count(), 2, "two members listed");
    // The book again: those already members are not offered; a name typed finds one,
    // and Enter adds it.
    h.get_by_label("Address Book…").click();
    h.run_steps(3);
    assert_eq!(h.query_all_by_label("Ann Archer").count(), 1, "already a member: only in the list behind");
    h.get_by_role_and_label(Role::TextInput, "Type a name or an address, or select from the list:").type_text("bak");
    h.run_steps(2);
    h.key_press(egui::Key::Enter);
    h.run_steps(3);
    assert_eq!(h.query_all_by_label("Remove").count(), 3, "Bob too");
    h.get_by_label("Create").click();
    wait(&mut h, "the list", |a| a.model.lists.iter().any(|l| l.members.len() == 3));

    // Permissions: Bob gets Reviewer on Ann's mailbox from the book.
    h.get_by_label("ann@corp.test").click();
    h.run_steps(2);
    h.get_by_label("Properties…").click();
    h.run_steps(3);
    h.get_by_label("Permissions").click();
    h.run_steps(3);
    h.get_by_label("Address Book…").click();
    h.run_steps(3);
    h.get_by_label("Address Book: Give Permissions");
    h.get_all_by_label("Bob Baker").last().expect("in the book").click();
    h.run_steps(2);
    h.get_all_by_label("Add").last().expect("the book's Add").click();
    h.run_steps(3);
    h.get_by_label("OK").click();
    wait(&mut h, "the permission", |a| {
        a.model.mailboxes.iter().any(|m| m.addresses[0] == "ann@corp.test" && !m.permissions.is_empty())
    });
    let listed = d.ctl_ok(&["mailbox", "permissions", "ann@corp.test"]);
    assert!(listed.contains("bob@corp.test") && listed.contains("Reviewer"), "{listed}");
}
