//! The SQLite backend's tests, on a real database file in a temporary directory: the
//! group-commit writer, single-instance storage and its reference counts, and the
//! migration of a database written by the release before it.

use mailroom_shared::address::EmailAddress;
use mailroom_shared::config::Config;

use super::*;
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
        tracking: vec![TrackingRecord::now(TrackEvent::Accepted)],
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
