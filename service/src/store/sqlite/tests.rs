//! Store tests on a real database file in a temporary directory.

use mailroom_shared::address::EmailAddress;
use mailroom_shared::config::Config;

use super::*;

fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("mailroom.db")).expect("open");
    (dir, store)
}

fn addr(s: &str) -> EmailAddress {
    EmailAddress::parse(s).expect("valid")
}

fn count(conn: &Connection, sql: &str) -> StoreResult<i64> {
    Ok(conn.query_row(sql, [], |r| r.get(0))?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_are_all_committed() {
    let (_dir, store) = temp_store();
    let mut handles = Vec::new();
    for i in 0..200i64 {
        let s = store.clone();
        handles.push(tokio::spawn(async move {
            s.write(move |tx| {
                tx.execute("INSERT INTO tracking (at, event, detail) VALUES (?1, 'test', 'x')", [i])?;
                Ok(i)
            })
            .await
        }));
    }
    for h in handles {
        h.await.expect("join").expect("write");
    }
    let n = store.read(|c| count(c, "SELECT COUNT(*) FROM tracking")).await.expect("read");
    assert_eq!(n, 200);
}

#[tokio::test]
async fn a_failing_job_rolls_back_only_itself() {
    let (_dir, store) = temp_store();
    let good = store.write(|tx| {
        tx.execute("INSERT INTO tracking (at, event) VALUES (1, 'kept')", [])?;
        Ok(())
    });
    let bad = store.write(|tx| -> StoreResult<()> {
        tx.execute("INSERT INTO tracking (at, event) VALUES (2, 'undone')", [])?;
        Err(StoreError::Conflict("no".into()))
    });
    let (g, b) = tokio::join!(good, bad);
    g.expect("good write");
    assert!(matches!(b, Err(StoreError::Conflict(_))));
    let events = store
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
        store
            .add_mailbox(NewMailbox {
                display_name: "Ann".into(),
                addresses: vec![addr("ann@corp.test")],
                password: "pw".into(),
            })
            .await
            .expect("add");
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
