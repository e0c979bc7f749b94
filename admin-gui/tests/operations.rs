//! Running the server from the Administrator: the Backup tab's daily backup, the
//! Security tab's certificate from an ACME CA, and Import Mail with its progress —
//! each driven through the real window against a real `mailroomd`.
#![cfg(unix)] // A real mailroomd, which runs on Unix.
#![expect(clippy::expect_used, reason = "a test helper fails the test at once, saying what it expected")]

mod common;

use common::{click_in_view, connected, harness, replace_text, select_recipient, type_into, wait};
use egui_kittest::kittest::{NodeT as _, Queryable};
use mailroom_tests::Daemon;

fn saved_config(d: &Daemon) -> serde_json::Value {
    serde_json::from_str(&d.ctl_ok(&["config", "show"])).expect("config JSON")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_backup_tab_schedules_a_daily_backup_and_says_what_is_wrong_with_a_time() {
    let d = Daemon::start().await;
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    h.get_by_label("Properties").click();
    h.run_steps(3);
    h.get_by_label("Backup").click();
    h.run_steps(3);
    h.get_by_label("Back up the whole store every day").click();
    h.run_steps(2);
    replace_text(&mut h, "At (local time, HH:MM):", "25:00");
    h.get_by_label_contains("'25:00' is not a time of day; write HH:MM");
    replace_text(&mut h, "At (local time, HH:MM):", "03:15");
    assert!(h.query_by_label_contains("is not a time of day").is_none(), "the sentence goes once it is right");
    replace_text(&mut h, "Into the directory:", "relative");
    h.get_by_label_contains("Write an absolute path");
    // Emptied: select all, delete.
    replace_text(&mut h, "Into the directory:", "x");
    h.key_press(egui::Key::Backspace);
    h.run_steps(2);
    h.get_all_by_label("OK").last().expect("OK").click();
    wait(&mut h, "the saved schedule", |a| {
        a.model.config.as_ref().is_some_and(|(c, _)| c.backup.daily_at == Some((3, 15, 0)))
    });
    let saved = saved_config(&d);
    assert_eq!(saved["backup"]["scheduled"], true);
    assert_eq!(saved["backup"]["time"], "03:15");
    assert_eq!(saved["backup"]["keep"], 7);

    // After a restart the tab says when the next one is due.
    d.ctl_ok(&["restart"]);
    wait(&mut h, "the schedule running", |a| a.model.status.as_ref().is_some_and(|s| s.backups.is_some()));
    h.get_by_label("Properties").click();
    h.run_steps(3);
    h.get_by_label("Backup").click();
    h.run_steps(3);
    h.get_by_label("Next:");
    h.get_by_label("None yet");
    h.get_by_label("Back Up Now…");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_security_tab_asks_for_a_certificate_from_an_acme_ca() {
    let d = Daemon::start().await;
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    h.get_by_label("Properties").click();
    h.run_steps(3);
    h.get_by_label("Security").click();
    h.run_steps(3);
    click_in_view(&mut h, "Obtain a certificate for these names from an ACME CA (such as Let's Encrypt)");
    type_into(&mut h, "Names (comma-separated):", "mail.corp.test, *.corp.test");
    h.get_by_label_contains("a wildcard needs the DNS challenge");
    replace_text(&mut h, "Names (comma-separated):", "mail.corp.test");
    replace_text(&mut h, "CA directory URL:", "http://acme.example.test/dir");
    h.get_by_label_contains("is not an https:// URL");
    replace_text(&mut h, "CA directory URL:", "https://acme.example.test/dir");
    type_into(&mut h, "Account e-mail (optional):", "postmaster@corp.test");
    h.get_by_label("Save and restart the service to obtain the certificate.");
    h.get_all_by_label("OK").last().expect("OK").click();
    wait(&mut h, "the saved ACME settings", |a| {
        a.model.config.as_ref().is_some_and(|(c, _)| c.security.acme.is_some())
    });
    let acme = &saved_config(&d)["security"]["acme"];
    assert_eq!(acme["enabled"], true);
    assert_eq!(acme["names"], "mail.corp.test");
    assert_eq!(acme["directory_url"], "https://acme.example.test/dir");
    assert_eq!(acme["challenge"], "tls_alpn01");
}

#[tokio::test(flavor = "multi_thread")]
async fn import_mail_brings_a_maildir_in_with_progress_and_adds_nothing_the_second_time() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "pw");
    let maildir = d.dir.path().join("Maildir");
    for (sub, name, text) in [
        ("cur", "1.old:2,S", "Message-ID: <1@old.test>\nSubject: one\n\nfirst\n"),
        ("new", "2.old", "Message-ID: <2@old.test>\nSubject: two\n\nsecond\n"),
    ] {
        std::fs::create_dir_all(maildir.join(sub)).expect("mkdir");
        std::fs::write(maildir.join(sub).join(name), text).expect("write");
    }
    std::fs::create_dir_all(maildir.join("tmp")).expect("mkdir");
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    select_recipient(&mut h, "ann@corp.test");
    h.get_by_label("Import Mail…").click();
    h.run_steps(3);
    h.get_by_label("Into the mailbox ann@corp.test, from this computer:");
    h.get_by_label("Import").click();
    h.run_steps(2);
    h.get_by_label("Name the Maildir folder or mbox file to import.");
    type_into(&mut h, "Path:", maildir.to_str().expect("utf-8"));
    h.get_by_label("Import").click();
    wait(&mut h, "the import", |a| a.model.import.outcome.is_some());
    h.get_by_label("Imported 2 message(s); 0 had been imported before and were skipped.");
    wait(&mut h, "the new message count", |a| a.model.mailboxes.iter().any(|m| m.message_count == 2));

    h.get_by_label("Import").click();
    wait(&mut h, "the second import", |a| {
        a.model.import.outcome.as_ref().is_some_and(|r| r.as_ref().is_ok_and(|s| s.skipped == 2))
    });
    h.get_by_label("Imported 0 message(s); 2 had been imported before and were skipped.");

    replace_text(&mut h, "Path:", "/nonexistent/Maildir");
    h.get_by_label("Import").click();
    wait(&mut h, "the refusal", |a| a.model.import.outcome.as_ref().is_some_and(Result::is_err));
    h.get_by_label_contains("The import stopped: /nonexistent/Maildir: there is no such folder");
}

/// Walk defect 20: Import Mail had no Browse…, so a path had to be known and typed.
/// Browse… lists the folders and files where the path points (a Maildir marked so),
/// Up and Open move through folders, and a click fills in the path and the kind: a
/// Maildir folder, or an mbox file.
#[tokio::test(flavor = "multi_thread")]
async fn import_mail_browses_to_a_maildir_or_an_mbox_file() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "pw");
    let old = d.dir.path().join("old-mail");
    let maildir = old.join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).expect("mkdir");
    }
    std::fs::write(maildir.join("new").join("1.old"), "Message-ID: <1@old.test>\nSubject: one\n\nfirst\n")
        .expect("write");
    std::fs::write(old.join("inbox.mbox"), "From a@old.test Mon Jan  1 00:00:00 2024\nSubject: m\n\nm\n")
        .expect("write");
    std::fs::create_dir_all(old.join("archive")).expect("mkdir");
    let mut h = harness(d.socket.clone());
    connected(&mut h);
    select_recipient(&mut h, "ann@corp.test");
    h.get_by_label("Import Mail…").click();
    h.run_steps(3);
    // Browse… opens where the path points: here, inside the folder "archive".
    type_into(&mut h, "Path:", old.join("archive").to_str().expect("utf-8"));
    h.get_by_label("Browse…").click();
    h.run_steps(3);
    h.get_by_label(&format!("Look in: {}", old.join("archive").display()));
    h.get_by_label("Up").click();
    h.run_steps(3);
    h.get_by_label(&format!("Look in: {}", old.display()));
    // A click on the mbox file picks it and its kind; on the Maildir, the folder.
    h.get_by_label_contains("inbox.mbox").click();
    h.run_steps(3);
    let path = |h: &egui_kittest::Harness<'_, mailroom_admin::AdminApp>| {
        h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Path:").value().unwrap_or_default()
    };
    assert_eq!(path(&h), old.join("inbox.mbox").display().to_string());
    assert!(
        h.get_by_label("An mbox file").accesskit_node().toggled().is_some_and(|t| t == egui::accesskit::Toggled::True)
    );
    h.get_by_label_contains("(a Maildir)").click();
    h.run_steps(3);
    assert_eq!(path(&h), maildir.display().to_string());
    assert!(
        h.get_by_label("A Maildir folder")
            .accesskit_node()
            .toggled()
            .is_some_and(|t| t == egui::accesskit::Toggled::True)
    );
    h.get_by_label("Import").click();
    wait(&mut h, "the import", |a| a.model.import.outcome.is_some());
    h.get_by_label("Imported 1 message(s); 0 had been imported before and were skipped.");
}
