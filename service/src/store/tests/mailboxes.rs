//! Mailboxes: addresses, passwords, sizes, and that what is written stays written.

use super::{Fixture, addr, local, mailbox};
use crate::store::{NewMailbox, StoreError};

/// True when `password` matches `hash`, as a login checks it.
async fn verify_password(hash: &str, password: &str) -> bool {
    crate::passwords::verify(hash.to_owned(), password.to_owned()).await
}

/// Addresses are kept canonical (lower case) and belong to one mailbox; a refused
/// change leaves nothing behind; only an argon2 hash of the password is kept.
pub(super) async fn addresses_are_canonical_unique_and_passwords_only_hashed(f: Fixture) {
    let store = f.store();
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

    let new = |addresses: Vec<&str>, password: &str| NewMailbox {
        display_name: "Bob".into(),
        addresses: addresses.into_iter().map(addr).collect(),
        password: password.into(),
    };
    let taken = store.add_mailbox(new(vec!["SALES@corp.test"], "x")).await;
    assert!(matches!(&taken, Err(StoreError::Conflict(m)) if m.contains("Ann Example")), "{taken:?}");
    let twice = store.add_mailbox(new(vec!["bob@corp.test", "BOB@corp.test"], "x")).await;
    assert!(matches!(twice, Err(StoreError::Invalid { .. })));
    let empty_pw = store.add_mailbox(new(vec!["bob@corp.test"], "")).await;
    assert!(matches!(empty_pw, Err(StoreError::Invalid { .. })));
    assert_eq!(store.list_mailboxes().await.expect("list").len(), 1, "failed adds leave nothing behind");

    let (id, hash) = store.credentials("ANN@corp.test").await.expect("read").expect("found");
    assert_eq!(id, m.id);
    assert!(verify_password(&hash, "secret").await);
    assert!(!verify_password(&hash, "Secret").await);
    assert!(!hash.contains("secret"), "only a hash is stored");
    assert_eq!(store.check_login("ann@corp.test", "secret".into()).await.expect("login"), Some(m.id));
    assert_eq!(store.check_login("ann@corp.test", "wrong".into()).await.expect("login"), None);

    let m2 = store
        .update_mailbox(&addr("sales@corp.test"), None, Some(vec![addr("ann@corp.test")]), Some("new".into()))
        .await
        .expect("update");
    assert_eq!(m2.addresses, ["ann@corp.test"]);
    let (_, hash) = store.credentials("ann@corp.test").await.expect("read").expect("found");
    assert!(verify_password(&hash, "new").await);
    assert!(store.credentials("sales@corp.test").await.expect("read").is_none());
    assert_eq!(store.mailbox_of("ann@corp.test").await.expect("lookup"), Some(m.id));

    store.remove_mailbox(&addr("ann@corp.test")).await.expect("remove");
    assert!(store.list_mailboxes().await.expect("list").is_empty());
    let gone = store.remove_mailbox(&addr("ann@corp.test")).await;
    assert!(matches!(gone, Err(StoreError::NotFound(_))));
}

/// What a write's `Ok` promised is there after the store is closed and opened again.
pub(super) async fn data_survives_reopening(f: Fixture) {
    let ann = mailbox(f.store(), "ann@corp.test").await;
    f.store().accept(local(vec![ann], b"Subject: kept\r\n\r\nx\r\n")).await.expect("deliver");
    let f = f.reopen();
    let listed = f.store().list_mailboxes().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].message_count, 1);
    let copies = f.store().pop3_messages(ann).await.expect("pop3");
    let content = f.store().messages_content(vec![copies[0].id]).await.expect("content");
    assert!(content[0].1.ends_with(b"Subject: kept\r\n\r\nx\r\n"));
}

/// A mailbox's size is its copies' sizes (its own prefix and the shared content), kept
/// as copies come and go.
pub(super) async fn a_mailboxs_size_follows_its_copies(f: Fixture) {
    let store = f.store();
    let ann = mailbox(store, "ann@corp.test").await;
    let bob = mailbox(store, "bob@corp.test").await;
    store.accept(local(vec![ann, bob], b"Subject: one\r\n\r\n1\r\n")).await.expect("accept");
    let mut big = local(vec![ann], &[b'x'; 5000]);
    big.queue_id = "Q2".into();
    store.accept(big).await.expect("accept");
    let sum = |id: i64| async move { store.pop3_messages(id).await.expect("pop3").iter().map(|m| m.size).sum::<u64>() };
    assert_eq!(store.mailbox_options(ann).await.expect("ann").bytes, sum(ann).await);
    assert_eq!(store.mailbox_options(bob).await.expect("bob").bytes, sum(bob).await);
    assert!(sum(ann).await > 5000);
    let big = store.pop3_messages(ann).await.expect("pop3").into_iter().find(|m| m.size > 5000).expect("big");
    store.pop3_delete(ann, vec![big.id], None).await.expect("delete");
    let left = store.mailbox_options(ann).await.expect("ann").bytes;
    assert_eq!(left, sum(ann).await, "a deletion counts down");
    assert!(left < 1000);
}
