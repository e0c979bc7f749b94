//! Backups while mail flows, and restores that check before they write: a backup
//! taken during an 8-client send burst, restored into a new data directory, holds
//! every message acknowledged before the backup began (counted over POP3); a damaged
//! backup, or a data directory that has a store, is refused.
#![expect(clippy::expect_used, reason = "a test helper fails the test at once, saying what it expected")]

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use mailroom_tests::{Daemon, Smtp, bin, python};

/// How many messages Ann's mailbox holds, as POP3 tells it.
fn pop3_count(addr: std::net::SocketAddr) -> u64 {
    let (ok, out, err) = python(
        "import poplib,sys\np=poplib.POP3(sys.argv[1],int(sys.argv[2]))\np.user('ann@corp.test')\np.pass_('pw')\nprint(p.stat()[0])",
        &[&addr.ip().to_string(), &addr.port().to_string()],
    );
    assert!(ok, "{out}{err}");
    out.trim().parse().expect("a count")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_during_a_send_burst_restores_every_acknowledged_message() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "pw");
    let smtp = d.smtp_addr().await;
    let acked = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..8)
        .map(|i| {
            let (acked, stop) = (Arc::clone(&acked), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut s = Smtp::connect(smtp);
                s.expect("EHLO burst.test", "250");
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    s.expect("MAIL FROM:<bob@outside.test>", "250");
                    s.expect("RCPT TO:<ann@corp.test>", "250");
                    s.expect("DATA", "354");
                    s.expect(&format!("Subject: burst {i}-{n}\r\n\r\nfigures\r\n."), "250");
                    acked.fetch_add(1, Ordering::SeqCst);
                    n += 1;
                }
            })
        })
        .collect();
    while acked.load(Ordering::SeqCst) < 200 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // A calendar, to come back with the mail.
    let ics = d.dir.path().join("cal.ics");
    std::fs::write(
        &ics,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:kept\r\n\
        DTSTAMP:20261201T000000Z\r\nDTSTART:20270105T090000Z\r\nSUMMARY:Kept\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    )
    .expect("write");
    d.ctl_ok(&["calendar", "import", "ann@corp.test", &ics.display().to_string()]);
    let before = acked.load(Ordering::SeqCst);
    let file = d.dir.path().join("backup.tar.gz");
    let said = d.ctl_ok(&["backup", &file.display().to_string()]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    for s in senders {
        s.join().expect("a sender");
    }
    let after = acked.load(Ordering::SeqCst);
    assert!(after > before, "mail went on flowing during the backup ({before} then {after})");
    assert!(said.contains("backed up: 1 mailboxes"), "{said}");
    // A backup never overwrites.
    assert_eq!(d.ctl(&["backup", &file.display().to_string()]).status.code(), Some(1));

    // Restored into a new data directory, then served: every message acknowledged
    // before the backup began is there.
    let restored = tempfile::tempdir().expect("tempdir");
    let out = Command::new(bin("mailroomd"))
        .args(["--restore", &file.display().to_string(), "--data-dir"])
        .arg(restored.path())
        .output()
        .expect("mailroomd --restore");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let back = Daemon::start_from_database(&restored.path().join("mailroom.db")).await;
    let count = pop3_count(back.pop3_addr().await);
    assert!(count >= before, "{count} messages restored; {before} were acknowledged before the backup");
    assert!(count <= after, "{count} restored, but only {after} were ever acknowledged");
    let exported = restored.path().join("cal-back.ics");
    back.ctl_ok(&["calendar", "export", "ann@corp.test", &exported.display().to_string()]);
    assert!(std::fs::read_to_string(&exported).expect("read").contains("SUMMARY:Kept"), "the calendar came back");

    // Restoring over a data directory that has a store (here: a live one) is refused.
    let out = Command::new(bin("mailroomd"))
        .args(["--restore", &file.display().to_string(), "--data-dir"])
        .arg(&d.data_dir)
        .output()
        .expect("mailroomd --restore");
    assert!(!out.status.success(), "a live store was overwritten");
    // A damaged backup is refused, and leaves nothing behind.
    let mut bytes = std::fs::read(&file).expect("backup");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    let damaged = restored.path().join("damaged.tar.gz");
    std::fs::write(&damaged, bytes).expect("write");
    let empty = tempfile::tempdir().expect("tempdir");
    let out = Command::new(bin("mailroomd"))
        .args(["--restore", &damaged.display().to_string(), "--data-dir"])
        .arg(empty.path())
        .output()
        .expect("mailroomd --restore");
    assert!(!out.status.success(), "a damaged backup was restored");
    assert!(!empty.path().join("mailroom.db").exists());
}

/// The Backup page's daily backup: made at its time (here a few seconds from now, to
/// the second), restorable, and only the newest N of its own files kept.
#[tokio::test(flavor = "multi_thread")]
async fn a_scheduled_backup_is_made_at_its_time_and_the_oldest_beyond_keep_are_deleted() {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "pw");
    let mut smtp = Smtp::connect(d.smtp_addr().await);
    smtp.expect("EHLO sender.test", "250");
    smtp.expect("MAIL FROM:<bob@outside.test>", "250");
    smtp.expect("RCPT TO:<ann@corp.test>", "250");
    smtp.expect("DATA", "354");
    smtp.expect("Subject: kept\r\n\r\nfigures\r\n.", "250");
    let dir = d.dir.path().join("nightly");
    std::fs::create_dir_all(&dir).expect("mkdir");
    for old in ["mailroom-backup-20200101-023000.tar.gz", "mailroom-backup-20200102-023000.tar.gz"] {
        std::fs::write(dir.join(old), b"old").expect("write");
    }
    std::fs::write(dir.join("README.txt"), b"not ours").expect("write");
    // Bad input first: refused, nothing changed.
    let out = d.ctl(&["set", "backup-schedule", "25:00"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a time of day"), "{out:?}");
    let out = d.ctl(&["set", "backup-directory", "relative/dir"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("absolute path"), "{out:?}");

    let soon = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() + 4;
    let at = Command::new("date").args(["+%H:%M:%S", "-d", &format!("@{soon}")]).output().expect("date");
    let at = String::from_utf8_lossy(&at.stdout).trim().to_owned();
    d.ctl_ok(&["set", "backup-directory", dir.to_str().expect("utf-8")]);
    d.ctl_ok(&["set", "backup-keep", "2"]);
    d.ctl_ok(&["set", "backup-schedule", &at]);
    d.ctl_ok(&["restart"]);
    let status = d.status().await;
    let scheduled = status.backups.expect("the schedule is reported");
    assert_eq!(scheduled.next_at, Some(i64::try_from(soon).expect("time")), "next at the time given");

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let file = loop {
        if let Some(f) = d.status().await.backups.and_then(|b| b.last_file) {
            break std::path::PathBuf::from(f);
        }
        assert!(std::time::Instant::now() < deadline, "no scheduled backup:\n{}", d.all_logs());
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    let name = file.file_name().expect("name").to_string_lossy().into_owned();
    assert_eq!(left, vec!["README.txt".to_owned(), "mailroom-backup-20200102-023000.tar.gz".to_owned(), name]);
    assert!(d.ctl_ok(&["status"]).contains("backups:         daily into"), "status says");

    let restored = tempfile::tempdir().expect("tempdir");
    let out = Command::new(bin("mailroomd"))
        .args(["--restore", &file.display().to_string(), "--data-dir"])
        .arg(restored.path().join("data"))
        .output()
        .expect("restore");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 mailboxes, 1 messages"), "{out:?}");
}
