//! Sharing in the Administrator, as Exchange Administrator had it: New Shared Mailbox,
//! Mailbox Properties' Permissions tab (a role given and taken away, Send As), and
//! Delivery Options' "Give Send On Behalf Of permission to", driven through the real
//! window against a real `mailroomd` and checked with `mailroomctl`.
#![cfg(unix)] // A real mailroomd, which runs on Unix.

mod common;

use common::{connected, harness, type_into, wait};
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use mailroom_tests::Daemon;

/// Opens the combo box labelled `label` and picks `option` in it.
fn choose(h: &mut egui_kittest::Harness<'_, mailroom_admin::AdminApp>, label: &str, option: &str) {
    h.get_by_role_and_label(Role::ComboBox, label).click();
    h.run_steps(3);
    h.get_all_by_label(option).last().unwrap_or_else(|| panic!("the option {option}")).click();
    h.run_steps(3);
}

/// Mailbox Properties of `address`, from the Recipients view already shown.
fn open_properties(h: &mut egui_kittest::Harness<'_, mailroom_admin::AdminApp>, address: &str) {
    h.get_by_label(address).click();
    h.run_steps(2);
    h.get_by_label("Properties…").click();
    h.run_steps(3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_shared_mailbox_gets_a_role_send_as_and_send_on_behalf_and_loses_them() {
    let d = Daemon::start().await;
    d.add_mailbox("bob@corp.test", "pw");
    d.add_mailbox("carol@corp.test", "pw");
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    h.get_by_label("Recipients").click();
    wait(&mut h, "the mailbox list", |a| a.model.mailboxes.len() == 2);

    // New Shared Mailbox: no password asked.
    h.get_by_label("New Shared Mailbox…").click();
    h.run_steps(3);
    h.get_by_label("New Shared Mailbox");
    assert!(h.query_by_label("Password:").is_none(), "a shared mailbox has no password");
    type_into(&mut h, "Display name:", "Info desk");
    type_into(&mut h, "E-mail addresses:", "info@corp.test");
    h.get_by_label("Create").click();
    wait(&mut h, "the shared mailbox", |a| a.model.mailboxes.iter().any(|m| m.shared));
    h.get_by_label("Mailbox (shared)");
    assert!(d.ctl_ok(&["mailbox", "list"]).contains("shared mailbox (no password"));

    // Permissions: bob an Editor with Send As; carol sends on behalf (Delivery Options).
    open_properties(&mut h, "info@corp.test");
    h.get_by_label("Permissions").click_accesskit();
    h.run_steps(2);
    h.get_by_label("Nobody has permissions on this mailbox yet.");
    choose(&mut h, "Give permissions to:", "bob@corp.test");
    choose(&mut h, "as", "Editor");
    h.get_by_label("Add").click_accesskit();
    h.run_steps(2);
    h.get_by_role_and_label(Role::CheckBox, "bob@corp.test").click_accesskit();
    h.run_steps(2);
    h.get_by_label("Delivery Options").click_accesskit();
    h.run_steps(2);
    h.get_by_label("Nobody sends on behalf of this mailbox.");
    choose(&mut h, "Add:", "carol@corp.test");
    h.get_by_label("Add person").click_accesskit();
    h.run_steps(2);
    h.get_by_label("OK").click_accesskit();
    wait(&mut h, "the permissions", |a| a.model.mailboxes.iter().any(|m| m.shared && m.permissions.len() == 2));
    let listed = d.ctl_ok(&["mailbox", "permissions", "info@corp.test"]);
    assert!(listed.contains("bob@corp.test") && listed.contains("Editor") && listed.contains("+ Send As"), "{listed}");
    assert!(listed.contains("carol@corp.test") && listed.contains("Send On Behalf Of"), "{listed}");

    // Taken away: bob's role removed; carol no longer sends on behalf.
    open_properties(&mut h, "info@corp.test");
    h.get_by_label("Permissions").click_accesskit();
    h.run_steps(2);
    h.get_all_by_label("Remove").next().expect("bob's Remove").click_accesskit();
    h.run_steps(2);
    h.get_by_label("Delivery Options").click_accesskit();
    h.run_steps(2);
    h.get_by_role_and_label(Role::Button, "carol@corp.test").click_accesskit();
    h.run_steps(2);
    h.get_by_label("OK").click_accesskit();
    wait(&mut h, "no permissions", |a| a.model.mailboxes.iter().any(|m| m.shared && m.permissions.is_empty()));
    let listed = d.ctl_ok(&["mailbox", "permissions", "info@corp.test"]);
    assert!(listed.contains("Nobody has been given rights"), "{listed}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_public_folder_with_an_address_and_a_private_role_is_made_in_public_folders() {
    let d = Daemon::start().await;
    d.add_mailbox("bob@corp.test", "pw");
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    h.get_by_label("Public Folders").click();
    h.run_steps(3);
    h.get_by_label_contains("0 folders, under Shared Folders");

    h.get_by_label("New Folder…").click();
    h.run_steps(3);
    h.get_by_label("New Public Folder");
    type_into(&mut h, "Folder name:", "Archive/Sales");
    type_into(&mut h, "E-mail address (optional):", "not an address");
    h.get_by_label("Create").click();
    h.run_steps(2);
    h.get_by_label_contains("The e-mail address: 'not an address'");
    common::replace_text(&mut h, "E-mail address (optional):", "sales-archive@corp.test");
    // Private: anyone loses Reviewer, bob becomes an Editor.
    h.get_by_label("Permissions").click_accesskit();
    h.run_steps(2);
    choose(&mut h, "Give permissions to:", "bob@corp.test");
    choose(&mut h, "as", "Editor");
    h.get_by_label("Add").click_accesskit();
    h.run_steps(2);
    // Custom rights, as letters: a wrong one is named, then bob may read and add.
    common::replace_text(&mut h, "bob@corp.test", "lrq");
    h.get_by_label_contains("'lrq' are not rights");
    common::replace_text(&mut h, "bob@corp.test", "lrsi");
    assert!(h.query_by_label_contains("are not rights").is_none());
    h.get_by_label("Create").click_accesskit();
    wait(&mut h, "the public folder", |a| a.model.public_folders.iter().any(|f| f.name == "Archive/Sales"));
    h.get_by_label("sales-archive@corp.test");
    let listed = d.ctl_ok(&["folder", "public", "list"]);
    assert!(listed.contains("Archive/Sales") && listed.contains("sales-archive@corp.test"), "{listed}");
    let rights = d.ctl_ok(&["folder", "public", "permissions", "Archive/Sales"]);
    assert!(rights.contains("bob@corp.test") && rights.contains("custom") && rights.contains("lrsi"), "{rights}");
    assert!(rights.contains("anyone"), "{rights}");

    // Its properties: anyone removed, a size limit.
    h.get_by_label("Archive/Sales").click();
    h.run_steps(2);
    h.get_by_label("Properties…").click();
    h.run_steps(3);
    h.get_by_label("Size limit (KB):").click_accesskit();
    h.run_steps(2);
    h.get_by_label("Permissions").click_accesskit();
    h.run_steps(2);
    h.get_all_by_label("Remove").next().expect("anyone's Remove").click_accesskit();
    h.run_steps(2);
    h.get_by_label("OK").click_accesskit();
    wait(&mut h, "the limit and the rights", |a| {
        a.model.public_folders.iter().any(|f| f.quota_kb.is_some() && f.permissions.len() == 1)
    });
    let rights = d.ctl_ok(&["folder", "public", "permissions", "Archive/Sales"]);
    assert!(rights.contains("bob@corp.test") && !rights.contains("anyone"), "{rights}");
}
