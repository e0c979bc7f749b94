//! What only the SQLite backend can show, on a real database file in a temporary
//! directory: the group-commit writer, the rows behind single-instance storage (every
//! table left clean by a failed write, the per-content header and search rows, the
//! size column the triggers keep), and the migration of a database written by the
//! release before it. The store's contract, which every backend meets, is tested in
//! `store/tests/`.

use mailroom_shared::address::EmailAddress;

use super::*;
use crate::message::SearchField;
use crate::store::{Failure, NewMailbox, NewMessage, Outbound, OutboundRecipient, Store, TrackEvent, TrackingRecord};

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

/// SQLite drops a connection's whole mapping of the database whenever it finds the
/// database written since its last read; a SELECT on a connection that had mapped a
/// FETCH's worth of pages paid 5 ms to unmap them. Only the reads of contents map.
#[tokio::test]
async fn a_select_after_a_fetch_does_not_pay_to_unmap_the_database() {
    let (_dir, store) = temp_store();
    let mapped = |c: &Connection| Ok(c.query_row("PRAGMA mmap_size", [], |r| r.get::<_, i64>(0))?);
    assert_eq!(backend(&store).read(mapped).await.expect("plain"), 0, "folders and flags are read, not mapped");
    assert!(backend(&store).read_content(mapped).await.expect("content") > 0, "contents are mapped");
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

async fn state_ids(store: &Store, mailbox: i64, folder: i64) -> Vec<i64> {
    store.imap_folder_state(mailbox, folder).await.expect("state").messages.iter().map(|m| m.id).collect()
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

/// Regression: a read ran its statements outside any transaction, so a read of several
/// things (a folder's state and its messages) could see half of a write that committed
/// between them. Now a read is one snapshot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_sees_one_snapshot_even_when_a_write_commits_in_its_midst() {
    let (_dir, store) = temp_store();
    let (wrote_tx, wrote_rx) = std::sync::mpsc::channel::<()>();
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let reading = {
        let store = store.clone();
        tokio::spawn(async move {
            backend(&store)
                .read(move |c| {
                    let count = || c.query_row("SELECT COUNT(*) FROM tracking", [], |r| r.get::<_, i64>(0));
                    let before = count()?;
                    let _ = started_tx.send(());
                    let _ = wrote_rx.recv_timeout(std::time::Duration::from_secs(10));
                    Ok((before, count()?))
                })
                .await
        })
    };
    started_rx.await.expect("the read began");
    backend(&store)
        .write(|tx| {
            tx.execute("INSERT INTO tracking (at, event) VALUES (1, 'meanwhile')", [])?;
            Ok(())
        })
        .await
        .expect("write");
    wrote_tx.send(()).expect("signal");
    let (before, after) = reading.await.expect("join").expect("read");
    assert_eq!(before, after, "the write that committed in the read's midst is not half seen");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM tracking").await, before + 1, "and a later read sees it");
}

/// Regression (found writing down the writer's promise): when SQLite rolled a batch's
/// whole transaction back itself (a full disk does), the jobs after the failing one ran
/// outside any transaction and their savepoints committed them on their own, while
/// they were told the batch failed (a sender told 451 would send again: a duplicate).
/// Now the rest of the batch fails unrun, and nothing of it is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_after_a_rolled_back_transaction_fail_unrun_and_keep_nothing() {
    let (_dir, store) = temp_store();
    let b = backend(&store);
    // Holds the writer while the next two are queued, so that they form one batch.
    let holding = b.write(|_| {
        std::thread::sleep(std::time::Duration::from_millis(300));
        Ok(())
    });
    let (held, failing, after) = tokio::join!(
        holding,
        async {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            b.write(|tx| -> StoreResult<()> {
                // What SQLite does on SQLITE_FULL: the whole transaction is gone.
                tx.execute_batch("ROLLBACK")?;
                Err(StoreError::Full("simulated".into()))
            })
            .await
        },
        async {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            b.write(|tx| {
                tx.execute("INSERT INTO tracking (at, event) VALUES (1, 'after')", [])?;
                Ok(())
            })
            .await
        },
    );
    held.expect("the first batch");
    assert!(failing.is_err());
    assert!(after.is_err(), "told it failed: {after:?}");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM tracking WHERE event = 'after'").await, 0, "and nothing kept");
    b.write(|tx| {
        tx.execute("INSERT INTO tracking (at, event) VALUES (2, 'later')", [])?;
        Ok(())
    })
    .await
    .expect("the writer goes on");
}
