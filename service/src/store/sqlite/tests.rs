//! The SQLite backend's tests, on a real database file in a temporary directory: the
//! group-commit writer, single-instance storage and its reference counts, and the
//! migration of a database written by the release before it.

use mailroom_shared::address::EmailAddress;
use mailroom_shared::config::Config;

use super::*;
use crate::message::SearchField;
use crate::store::{
    Attempt, Failure, NewMailbox, NewMessage, Outbound, OutboundRecipient, Store, TrackEvent, TrackingRecord,
    verify_password,
};

fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("mailroom.db")).expect("open");
    (dir, store)
}

fn backend(store: &Store) -> &Sqlite {
    match &*store.backend {
        crate::store::Backend::Sqlite(s) => s,
    }
}

fn addr(s: &str) -> EmailAddress {
    EmailAddress::parse(s).expect("valid")
}

async fn count(store: &Store, sql: &'static str) -> i64 {
    backend(store).read(move |c| Ok(c.query_row(sql, [], |r| r.get(0))?)).await.expect("count")
}

async fn mailbox(store: &Store, address: &str) -> i64 {
    store
        .add_mailbox(NewMailbox { display_name: String::new(), addresses: vec![addr(address)], password: "pw".into() })
        .await
        .expect("add mailbox")
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_are_all_committed() {
    let (_dir, store) = temp_store();
    let mut handles = Vec::new();
    for i in 0..200i64 {
        let s = store.clone();
        handles.push(tokio::spawn(async move {
            backend(&s)
                .write(move |tx| {
                    tx.execute("INSERT INTO tracking (at, event, detail) VALUES (?1, 'test', 'x')", [i])?;
                    Ok(i)
                })
                .await
        }));
    }
    for h in handles {
        h.await.expect("join").expect("write");
    }
    assert_eq!(count(&store, "SELECT COUNT(*) FROM tracking").await, 200);
}

#[tokio::test]
async fn a_failing_job_rolls_back_only_itself() {
    let (_dir, store) = temp_store();
    let b = backend(&store);
    let good = b.write(|tx| {
        tx.execute("INSERT INTO tracking (at, event) VALUES (1, 'kept')", [])?;
        Ok(())
    });
    let bad = b.write(|tx| -> StoreResult<()> {
        tx.execute("INSERT INTO tracking (at, event) VALUES (2, 'undone')", [])?;
        Err(StoreError::Conflict("no".into()))
    });
    let (g, bad) = tokio::join!(good, bad);
    g.expect("good write");
    assert!(matches!(bad, Err(StoreError::Conflict(_))));
    let events = b
        .read(|c| {
            let mut s = c.prepare("SELECT event FROM tracking")?;
            Ok(s.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?)
        })
        .await
        .expect("read");
    assert_eq!(events, ["kept"]);
}

#[tokio::test]
async fn data_survives_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mailroom.db");
    {
        let store = Store::open(&path).expect("open");
        mailbox(&store, "ann@corp.test").await;
    }
    let store = Store::open(&path).expect("reopen runs no migration twice");
    assert_eq!(store.list_mailboxes().await.expect("list").len(), 1);
}

#[tokio::test]
async fn config_revisions() {
    let (_dir, store) = temp_store();
    let (c, rev) = store.load_config().await.expect("load");
    assert_eq!((c.clone(), rev), (Config::default(), 0));
    let mut d = c.to_draft();
    d.routing.reroute = true;
    let c2 = Config::from_draft(&d).expect("valid");
    assert_eq!(store.save_config(&c2, Some(0)).await.expect("save"), 1);
    assert_eq!(store.load_config().await.expect("load"), (c2.clone(), 1));
    let stale = store.save_config(&c, Some(0)).await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    assert_eq!(store.save_config(&c, None).await.expect("unconditional save"), 2);
}

#[tokio::test]
async fn mailboxes() {
    let (_dir, store) = temp_store();
    let m = store
        .add_mailbox(NewMailbox {
            display_name: " Ann Example ".into(),
            addresses: vec![addr("Ann@Corp.Test"), addr("sales@corp.test")],
            password: "secret".into(),
        })
        .await
        .expect("add");
    assert_eq!(m.display_name, "Ann Example");
    assert_eq!(m.addresses, ["ann@corp.test", "sales@corp.test"]);

    let taken = store
        .add_mailbox(NewMailbox {
            display_name: "Bob".into(),
            addresses: vec![addr("SALES@corp.test")],
            password: "x".into(),
        })
        .await;
    assert!(matches!(&taken, Err(StoreError::Conflict(m)) if m.contains("Ann Example")), "{taken:?}");
    let twice = store
        .add_mailbox(NewMailbox {
            display_name: "Bob".into(),
            addresses: vec![addr("bob@corp.test"), addr("BOB@corp.test")],
            password: "x".into(),
        })
        .await;
    assert!(matches!(twice, Err(StoreError::Invalid { .. })));
    let empty_pw = store
        .add_mailbox(NewMailbox {
            display_name: "Bob".into(),
            addresses: vec![addr("bob@corp.test")],
            password: String::new(),
        })
        .await;
    assert!(matches!(empty_pw, Err(StoreError::Invalid { .. })));
    assert_eq!(store.list_mailboxes().await.expect("list").len(), 1, "failed adds leave nothing behind");

    let (id, hash) = store.credentials("ANN@corp.test").await.expect("read").expect("found");
    assert_eq!(id, m.id);
    assert!(verify_password(&hash, "secret"));
    assert!(!verify_password(&hash, "Secret"));
    assert!(!hash.contains("secret"), "only a hash is stored");

    let m2 = store
        .update_mailbox(&addr("sales@corp.test"), None, Some(vec![addr("ann@corp.test")]), Some("new".into()))
        .await
        .expect("update");
    assert_eq!(m2.addresses, ["ann@corp.test"]);
    let (_, hash) = store.credentials("ann@corp.test").await.expect("read").expect("found");
    assert!(verify_password(&hash, "new"));
    assert!(store.credentials("sales@corp.test").await.expect("read").is_none());

    store.remove_mailbox(&addr("ann@corp.test")).await.expect("remove");
    assert!(store.list_mailboxes().await.expect("list").is_empty());
    let gone = store.remove_mailbox(&addr("ann@corp.test")).await;
    assert!(matches!(gone, Err(StoreError::NotFound(_))));
}

/// A message to three mailboxes and one outside recipient.
fn message(mailboxes: Vec<i64>, content: &[u8]) -> NewMessage {
    NewMessage {
        queue_id: "Q1".into(),
        received_at: now(),
        content: content.to_vec(),
        mailboxes,
        local_prefix: b"Return-Path: <ann@corp.test>\r\n".to_vec(),
        outbound: Some(Outbound {
            sender: "ann@corp.test".into(),
            recipients: vec![
                OutboundRecipient { address: "far@outside.test".into(), ..Default::default() },
                OutboundRecipient {
                    address: "nowhere@outside.test".into(),
                    failed: Some(Failure { status: "5.4.4".into(), reason: "no route".into() }),
                    ..Default::default()
                },
            ],
            ..Default::default()
        }),
        forwarded: None,
        tracking: vec![TrackingRecord::now(TrackEvent::Accepted)],
        sent_by: None,
        folders: Default::default(),
    }
}

fn now() -> i64 {
    crate::store::now_secs()
}

#[tokio::test]
async fn a_message_to_many_mailboxes_and_the_queue_is_stored_once() {
    let (_dir, store) = temp_store();
    let ids = vec![mailbox(&store, "a@corp.test").await, mailbox(&store, "b@corp.test").await];
    let c = mailbox(&store, "c@corp.test").await;
    let mut all = ids.clone();
    all.push(c);
    let content = b"Received: x\r\nSubject: shared\r\n\r\nbody\r\n";
    store.accept(message(all.clone(), content)).await.expect("accept");

    assert_eq!(count(&store, "SELECT COUNT(*) FROM contents").await, 1, "one content");
    assert_eq!(count(&store, "SELECT refs FROM contents").await, 4, "three copies and the queue entry");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM messages").await, 3);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM queue_recipients WHERE state = 'failed'").await, 1);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM tracking WHERE event = 'accepted'").await, 1);

    // Each copy reads back as its prefix and the shared content, with POP3's size.
    let listed = store.pop3_messages(c).await.expect("list");
    let got = store.messages_content(vec![listed[0].id]).await.expect("content");
    let want = [&b"Return-Path: <ann@corp.test>\r\n"[..], content].concat();
    assert_eq!(got[0].1, want);
    assert_eq!(listed[0].size, want.len() as u64);
    let queued = store.queue_claim_due(10).await.expect("claim");
    let contents = store.queue_contents(vec![queued[0].id]).await.expect("queue content");
    assert_eq!(contents[&queued[0].id].as_slice(), content, "the queue sends the content without the prefix");

    // References go one by one: a POP3 deletion, a deleted mailbox, the finished queue
    // entry; the content goes with the last.
    store.pop3_delete(c, vec![listed[0].id], None).await.expect("delete");
    assert_eq!(count(&store, "SELECT refs FROM contents").await, 3);
    store.remove_mailbox(&addr("a@corp.test")).await.expect("remove mailbox");
    assert_eq!(count(&store, "SELECT refs FROM contents").await, 2, "a cascade releases too");
    let (id, address) = (queued[0].recipients[0].id, queued[0].recipients[0].address.clone());
    store
        .queue_record(vec![(id, address, Attempt::Delivered { remote: "mx".into(), tls: None })], true)
        .await
        .expect("record");
    let failed: Vec<i64> = store.queue_ndr_due(10).await.expect("ndr due")[0].recipients.iter().map(|r| r.id).collect();
    store.queue_write_ndr(failed, None).await.expect("ndr done");
    assert_eq!(store.queue_purge_finished().await.expect("purge"), 1);
    assert_eq!(count(&store, "SELECT refs FROM contents").await, 1);
    store.remove_mailbox(&addr("b@corp.test")).await.expect("remove mailbox");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM contents").await, 0, "freed with its last reference");
}

#[tokio::test]
async fn a_message_with_nowhere_to_go_keeps_no_content() {
    let (_dir, store) = temp_store();
    let mut m = message(Vec::new(), b"x\r\n");
    m.outbound = None;
    store.accept(m).await.expect("accept");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM contents").await, 0);
}

#[tokio::test]
async fn a_failed_acceptance_keeps_nothing() {
    let (_dir, store) = temp_store();
    let a = mailbox(&store, "a@corp.test").await;
    // A mailbox that does not exist makes the copy's UID lookup fail mid-way.
    let err = store.accept(message(vec![a, 999], b"x\r\n")).await;
    assert!(err.is_err(), "{err:?}");
    for table in ["contents", "messages", "queue_messages", "queue_recipients", "tracking"] {
        let n = backend(&store)
            .read(move |c| Ok(c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get::<_, i64>(0))?))
            .await
            .expect("count");
        assert_eq!(n, 0, "{table} after a failed acceptance");
    }
}

/// Every message of a schema-1 database: (mailbox id, uid, size, bytes).
fn schema1_messages(path: &Path) -> Vec<(i64, i64, i64, Vec<u8>)> {
    let conn = Connection::open(path).expect("open");
    let mut stmt = conn.prepare("SELECT mailbox_id, uid, size, content FROM messages ORDER BY id").expect("prepare");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[tokio::test]
async fn a_schema_1_database_migrates_with_every_message_unchanged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mailroom.db");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/schema1.db"), &path).expect("fixture");
    let before = schema1_messages(&path);
    let queued_before: Vec<Vec<u8>> = {
        let conn = Connection::open(&path).expect("open");
        let mut stmt = conn.prepare("SELECT content FROM queue_messages ORDER BY id").expect("prepare");
        stmt.query_map([], |r| r.get(0)).expect("query").collect::<Result<_, _>>().expect("rows")
    };
    assert!(before.len() >= 8 && !queued_before.is_empty(), "the fixture has mail in it");

    let store = Store::open(&path).expect("migrate");
    assert_eq!(count(&store, "PRAGMA user_version").await, schema::latest_version());
    for mailbox in store.list_mailboxes().await.expect("list") {
        let listed = store.pop3_messages(mailbox.id).await.expect("pop3 list");
        let contents = store.messages_content(listed.iter().map(|m| m.id).collect()).await.expect("contents");
        let old: Vec<_> = before.iter().filter(|m| m.0 == mailbox.id).collect();
        assert_eq!(listed.len(), old.len());
        for ((m, (_, bytes)), (_, uid, size, old_bytes)) in listed.iter().zip(&contents).zip(old) {
            assert_eq!((m.uid, m.size as i64), (*uid, *size), "UID and size unchanged");
            assert_eq!(bytes, old_bytes, "bytes unchanged");
        }
    }
    // Schema 6: every content has its searchable fields.
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM contents c JOIN content_fields f ON f.content_id = c.id").await,
        count(&store, "SELECT COUNT(*) FROM contents").await
    );
    assert!(count(&store, "SELECT COUNT(*) FROM content_fields WHERE subject <> ''").await > 0, "subjects found");
    // Schema 5: every mailbox has its folders, and INBOX's UIDs go on from the
    // mailbox's (a UID is never given twice).
    assert_eq!(count(&store, "SELECT COUNT(*) FROM folders").await, 5 * 3);
    let first = store.list_mailboxes().await.expect("list")[0].id;
    let last = store.pop3_messages(first).await.expect("pop3").last().map_or(0, |m| m.uid);
    let mut m = message(vec![first], b"Subject: after\r\n\r\nx\r\n");
    m.outbound = None;
    store.accept(m).await.expect("deliver");
    let next = store.pop3_messages(first).await.expect("pop3").last().map_or(0, |m| m.uid);
    assert!(next > last, "the new message's UID {next} follows {last}");
    let queued: Vec<i64> = backend(&store)
        .read(|c| {
            let mut s = c.prepare("SELECT id FROM queue_messages ORDER BY id")?;
            Ok(s.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?)
        })
        .await
        .expect("queue ids");
    let contents = store.queue_contents(queued.clone()).await.expect("queue contents");
    let after: Vec<Vec<u8>> = queued.iter().map(|id| contents[id].to_vec()).collect();
    assert_eq!(after, queued_before, "queued messages unchanged");
    // The message sent to two mailboxes now has one content.
    let contents = count(&store, "SELECT COUNT(*) FROM contents").await;
    assert!(contents < (before.len() + queued_before.len()) as i64, "copies share their content ({contents} rows)");
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM contents WHERE refs <> (SELECT COUNT(*) FROM messages WHERE content_id = contents.id) + (SELECT COUNT(*) FROM queue_messages WHERE content_id = contents.id)").await,
        0,
        "reference counts match the references"
    );
    drop(store);
    let again = Store::open(&path).expect("reopen");
    assert_eq!(again.list_mailboxes().await.expect("list").len(), 3, "reopening migrates nothing twice");
}

#[tokio::test]
async fn greylisting_passes_the_retry_after_the_delay_and_then_the_network() {
    use crate::store::{Greylist, GreylistTimes};
    let (_dir, store) = temp_store();
    let times = GreylistTimes { delay: 300, window: 4 * 3600, pass: 36 * 86_400 };
    let grey = |network: &str, rcpt: &str, at: i64| {
        store.greylist(network.into(), "a@outside.test".into(), rcpt.into(), at, times)
    };
    let t = 1_000_000;
    assert_eq!(grey("192.0.2.0/24", "ann@corp.test", t).await.expect("greylist"), Greylist::New);
    assert_eq!(grey("192.0.2.0/24", "ann@corp.test", t + 60).await.expect("greylist"), Greylist::Wait { seconds: 240 });
    assert_eq!(grey("192.0.2.0/24", "ann@corp.test", t + 300).await.expect("greylist"), Greylist::Pass);
    assert_eq!(
        grey("192.0.2.0/24", "bob@corp.test", t + 301).await.expect("greylist"),
        Greylist::Pass,
        "the network that retried is let through for other recipients too"
    );
    assert_eq!(grey("198.51.100.0/24", "ann@corp.test", t).await.expect("greylist"), Greylist::New);
    assert_eq!(
        grey("198.51.100.0/24", "ann@corp.test", t + 5 * 3600).await.expect("greylist"),
        Greylist::New,
        "a retry after the window counts as new"
    );
    let purged = store.filtering_purge(t + 5 * 3600, 0, t + 4 * 3600, "2000-01-01".into()).await.expect("purge");
    assert_eq!(purged.state, 0, "the reset triplet is recent and the pass has not expired");
    let purged = store.filtering_purge(t + 37 * 86_400, 0, t + 37 * 86_400, "2000-01-01".into()).await.expect("purge");
    assert_eq!(purged.state, 2, "the stale triplet and the expired pass go");
}

#[tokio::test]
async fn sending_counts_come_from_accepted_messages_and_holds_last_until_unlocked() {
    use crate::store::SentBy;
    let (_dir, store) = temp_store();
    let mut m = message(Vec::new(), b"Subject: x\r\n\r\nx\r\n");
    m.sent_by = Some(SentBy { account: "ann@corp.test".into(), recipients: 3 });
    store.accept(m).await.expect("accept");
    let counts = store.sent_counts("ann@corp.test".into(), now()).await.expect("counts");
    assert_eq!((counts.hour, counts.day, counts.held), (3, 3, false));
    assert_eq!(store.sent_counts("ann@corp.test".into(), now() + 7200).await.expect("counts").hour, 0);
    assert!(store.sending_hold("ann@corp.test".into(), "too many".into(), now()).await.expect("hold"));
    assert!(!store.sending_hold("ann@corp.test".into(), "again".into(), now()).await.expect("hold"), "one episode");
    assert!(store.sent_counts("ann@corp.test".into(), now()).await.expect("counts").held);
    assert_eq!(store.sending_holds().await.expect("holds")[0].reason, "too many");
    store.sending_unlock("ann@corp.test".into()).await.expect("unlock");
    let counts = store.sent_counts("ann@corp.test".into(), now()).await.expect("counts");
    assert_eq!((counts.hour, counts.held), (0, false), "unlocked, the account starts from zero");
    assert!(matches!(store.sending_unlock("ann@corp.test".into()).await, Err(StoreError::NotFound(_))));
}

#[tokio::test]
async fn a_quarantined_message_shares_nothing_until_released_to_where_it_was_going() {
    use crate::store::Held;
    let (_dir, store) = temp_store();
    let ann = mailbox(&store, "ann@corp.test").await;
    let gone = mailbox(&store, "gone@corp.test").await;
    let content = b"Subject: cheap pills\r\n\r\nbuy\r\n";
    let held = Held {
        message: message(vec![ann, gone], content),
        sender: "spam@outside.test".into(),
        recipients: vec!["ann@corp.test".into(), "gone@corp.test".into(), "far@outside.test".into()],
        subject: "cheap pills".into(),
        score: Some(9.5),
        reason: "rspamd: add header".into(),
        client: Some("192.0.2.9".into()),
    };
    let id = store.quarantine_hold(held).await.expect("hold");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM messages").await, 0, "nothing delivered");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM queue_messages").await, 0, "nothing queued");
    assert_eq!(count(&store, "SELECT refs FROM contents").await, 1);
    let listed = store.quarantine_list().await.expect("list");
    assert_eq!((listed[0].id, listed[0].score, listed[0].size), (id, Some(9.5), content.len() as u64));
    let (_, bytes) = store.quarantine_message(id).await.expect("message");
    assert_eq!(bytes, content);

    store.remove_mailbox(&addr("gone@corp.test")).await.expect("remove");
    let (q, queued) = store.quarantine_release(id, Vec::new()).await.expect("release");
    assert_eq!(q.subject, "cheap pills");
    assert!(queued, "its outside recipient is queued");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM messages").await, 1, "only the mailbox that still exists");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM queue_recipients").await, 2);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM quarantine").await, 0);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM contents").await, 1, "one content, shared again");
    assert!(matches!(store.quarantine_release(id, Vec::new()).await, Err(StoreError::NotFound(_))));

    let again = store
        .quarantine_hold(Held {
            message: message(vec![ann], b"x"),
            sender: String::new(),
            recipients: vec!["ann@corp.test".into()],
            subject: String::new(),
            score: None,
            reason: "DMARC".into(),
            client: None,
        })
        .await
        .expect("hold");
    store.quarantine_delete(again).await.expect("delete");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM contents WHERE data = X'78'").await, 0, "its content went with it");
}

#[tokio::test]
async fn filter_events_are_counted_per_day() {
    use crate::store::FilterEvent;
    let (_dir, store) = temp_store();
    for e in [FilterEvent::DnsList, FilterEvent::DnsList, FilterEvent::Quarantined] {
        store.count_filter_event(e, "2026-11-27".into()).await.expect("count");
    }
    store.count_filter_event(FilterEvent::DnsList, "2026-11-28".into()).await.expect("count");
    let mut today = store.filter_counts("2026-11-27".into()).await.expect("counts");
    today.sort();
    assert_eq!(today, [("dns_list".to_owned(), 2), ("quarantined".to_owned(), 1)]);
    store.filtering_purge(now(), 0, 0, "2026-11-28".into()).await.expect("purge");
    assert!(store.filter_counts("2026-11-27".into()).await.expect("counts").is_empty());
}

#[tokio::test]
async fn imap_folders_flags_copies_and_expunges_share_content_and_tell_the_watchers() {
    use crate::store::{FlagChange, FlagUpdate};
    let (_dir, store) = temp_store();
    let ann = mailbox(&store, "ann@corp.test").await;
    let mut watch = store.watch();
    let names: Vec<String> = store.imap_folders(ann).await.expect("folders").into_iter().map(|f| f.name).collect();
    assert_eq!(names, ["INBOX", "Drafts", "Junk", "Sent", "Trash"], "every mailbox has its special folders");
    let folders = store.imap_folders(ann).await.expect("folders");
    let (inbox, sent) = (folders[0].id, folders[3].id);
    assert_eq!(folders[3].special_use.as_deref(), Some("\\Sent"));

    // Delivered mail lands in INBOX, which POP3 sees; appended mail in its folder.
    let mut m = message(vec![ann], b"Subject: hi\r\n\r\nbody\r\n");
    m.outbound = None;
    store.accept(m).await.expect("deliver");
    assert_eq!(watch.try_recv().ok(), Some(ann), "the delivery is told");
    let (validity, uid) = store
        .imap_append(ann, sent, b"Subject: sent\r\n\r\nmine\r\n".to_vec(), 1, "$Work ".into(), 1_700_000_000)
        .await
        .expect("append");
    assert_eq!((i64::from(validity), uid), (sent, 1));
    assert_eq!(store.pop3_messages(ann).await.expect("pop3").len(), 1, "POP3 sees INBOX only");

    // Flags, with their mod-sequence, and UNCHANGEDSINCE.
    let state = store.imap_folder_state(ann, inbox).await.expect("state");
    let id = state.messages[0].id;
    let add = |flags, since| FlagUpdate {
        change: FlagChange::Add,
        flags,
        keywords: vec!["$Junk".into()],
        unchanged_since: since,
    };
    let stored = store.imap_store(ann, inbox, vec![id], add(1 | 4, None)).await.expect("store");
    let after = &stored.messages[0];
    assert_eq!((after.flags, after.keywords.as_str()), (5, "$Junk "));
    assert!(after.modseq > state.messages[0].modseq);
    let refused = store.imap_store(ann, inbox, vec![id], add(8, Some(1))).await.expect("store");
    assert_eq!(refused.modified, [id], "changed since 1: left alone");

    // A copy shares the content; a move leaves the source.
    let contents = count(&store, "SELECT COUNT(*) FROM contents").await;
    let (to, pairs) = store.imap_copy(ann, inbox, vec![id], sent, false).await.expect("copy");
    assert_eq!((i64::from(to), pairs), (sent, vec![(uid_of(&store, ann, inbox).await, 2)]));
    assert_eq!(count(&store, "SELECT COUNT(*) FROM contents").await, contents, "no byte copied");
    let (_, moved) =
        store.imap_copy(ann, sent, vec![state_ids(&store, ann, sent).await[1]], inbox, true).await.expect("move");
    assert_eq!(moved.len(), 1);
    assert_eq!(store.imap_folder_counts(ann, sent).await.expect("counts").messages, 1);
    assert_eq!(store.imap_folder_counts(ann, inbox).await.expect("counts").messages, 2);

    // Expunge removes only \Deleted messages; the content goes with its last copy.
    let ids = state_ids(&store, ann, inbox).await;
    let delete = FlagUpdate { change: FlagChange::Replace, flags: 8, keywords: vec![], unchanged_since: None };
    store.imap_store(ann, inbox, ids.clone(), delete).await.expect("mark");
    assert_eq!(store.imap_expunge(ann, inbox, Some(vec![ids[0]])).await.expect("expunge"), [ids[0]]);
    assert_eq!(store.imap_expunge(ann, inbox, None).await.expect("expunge"), [ids[1]]);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM contents").await, 1, "only the appended message is left");
    let headers = store.messages_headers(state_ids(&store, ann, sent).await).await.expect("headers");
    assert_eq!(headers[0].1, b"Subject: sent\r\n\r\n", "the header alone, read from its own row");

    // Folders: create, rename with children, delete; INBOX stays.
    let projects = store.imap_create(ann, "Projects".into()).await.expect("create");
    store.imap_create(ann, "Projects/2026".into()).await.expect("create");
    assert!(matches!(store.imap_create(ann, "Projects".into()).await, Err(StoreError::Conflict(_))));
    store.imap_rename(ann, projects, "Work".into()).await.expect("rename");
    let names: Vec<String> = store.imap_folders(ann).await.expect("folders").into_iter().map(|f| f.name).collect();
    assert!(names.contains(&"Work/2026".to_owned()) && !names.iter().any(|n| n.starts_with("Projects")));
    store.imap_delete(ann, sent).await.expect("delete");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM contents").await, 0, "the folder's messages went with it");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM content_headers").await, 0, "and their headers");
    assert!(store.imap_delete(ann, inbox).await.is_err(), "INBOX cannot be deleted");
}

async fn state_ids(store: &Store, mailbox: i64, folder: i64) -> Vec<i64> {
    store.imap_folder_state(mailbox, folder).await.expect("state").messages.iter().map(|m| m.id).collect()
}

async fn uid_of(store: &Store, mailbox: i64, folder: i64) -> u32 {
    store.imap_folder_state(mailbox, folder).await.expect("state").messages[0].uid
}

#[tokio::test]
async fn a_header_too_big_for_its_own_row_is_read_from_the_content() {
    let (_dir, store) = temp_store();
    let ann = mailbox(&store, "ann@corp.test").await;
    // No empty line: the whole message is header.
    let all_header = "X-Long: ".to_owned() + &"y".repeat(70_000) + "\r\n";
    let mut m = message(vec![ann], all_header.as_bytes());
    m.outbound = None;
    store.accept(m).await.expect("deliver");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM content_headers").await, 0, "not copied");
    let inbox = store.imap_folders(ann).await.expect("folders")[0].id;
    let ids = state_ids(&store, ann, inbox).await;
    let headers = store.messages_headers(ids).await.expect("headers");
    assert!(headers[0].1.ends_with(all_header.as_bytes()), "read whole from the content");
    assert_eq!(store.imap_folder_headers(ann, inbox, vec![]).await.expect("folder headers")[0].1, headers[0].1);
    let words = |w: &[&str]| w.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(store.imap_folder_headers(ann, inbox, words(&["x-LONG:", "yyy"])).await.expect("found").len(), 1);
    assert!(store.imap_folder_headers(ann, inbox, words(&["x-long", "zzz"])).await.expect("none").is_empty());
}

#[tokio::test]
async fn searchable_fields_are_kept_with_each_content_and_filtered_in_the_store() {
    let (_dir, store) = temp_store();
    let ann = mailbox(&store, "ann@corp.test").await;
    for subject in ["=?utf-8?q?Caf=C3=A9_menu?=", "Quarterly invoice", "quarterly report"] {
        let mut m =
            message(vec![ann], format!("From: Bob <bob@x.test>\r\nSubject: {subject}\r\n\r\nbody\r\n").as_bytes());
        m.outbound = None;
        store.accept(m).await.expect("deliver");
    }
    let inbox = store.imap_folders(ann).await.expect("folders")[0].id;
    let all = store.imap_folder_fields(ann, inbox, vec![]).await.expect("fields");
    assert_eq!(all.len(), 3);
    assert!(all[0].1.subject.contains("café menu") && all[0].1.from.contains("bob <bob@x.test>"));
    let find = |filters: &[(SearchField, &str)]| {
        let filters: Vec<(SearchField, String)> = filters.iter().map(|(f, t)| (*f, (*t).to_owned())).collect();
        let store = store.clone();
        async move { store.imap_folder_fields(ann, inbox, filters).await.expect("fields").len() }
    };
    assert_eq!(find(&[(SearchField::Subject, "quarterly")]).await, 2);
    assert_eq!(find(&[(SearchField::Subject, "quarterly"), (SearchField::Subject, "invoice")]).await, 1);
    assert_eq!(find(&[(SearchField::Subject, "café")]).await, 1);
    assert_eq!(find(&[(SearchField::To, "bob")]).await, 0);
    // The rows go with their contents.
    let ids = state_ids(&store, ann, inbox).await;
    store.pop3_delete(ann, ids, None).await.expect("delete");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM content_fields").await, 0);
}

#[tokio::test]
async fn a_mailboxs_size_follows_its_copies_without_adding_them_up() {
    let (_dir, store) = temp_store();
    let ann = mailbox(&store, "ann@corp.test").await;
    let bob = mailbox(&store, "bob@corp.test").await;
    store.accept(message(vec![ann, bob], b"Subject: one\r\n\r\n1\r\n")).await.expect("accept");
    let mut big = message(vec![ann], &[b'x'; 5000]);
    big.queue_id = "Q2".into();
    store.accept(big).await.expect("accept");
    let sum = |id: i64| {
        let conn = rusqlite::Connection::open(&backend(&store).inner.path).expect("open");
        conn.query_row("SELECT COALESCE(SUM(size), 0) FROM messages WHERE mailbox_id = ?1", [id], |r| {
            r.get::<_, i64>(0)
        })
        .expect("sum")
    };
    let bytes = |o: crate::store::options::MailboxOptions| i64::try_from(o.bytes).expect("bytes");
    assert_eq!(bytes(store.mailbox_options(ann).await.expect("ann")), sum(ann));
    assert_eq!(bytes(store.mailbox_options(bob).await.expect("bob")), sum(bob));
    assert!(sum(ann) > 5000);
    let gone = {
        let conn = rusqlite::Connection::open(&backend(&store).inner.path).expect("open");
        conn.execute("DELETE FROM messages WHERE mailbox_id = ?1 AND size > 1000", [ann]).expect("delete")
    };
    assert_eq!(gone, 1);
    assert_eq!(bytes(store.mailbox_options(ann).await.expect("ann")), sum(ann), "a deletion counts down");
}
