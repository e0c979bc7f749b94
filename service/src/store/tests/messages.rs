//! Accepting messages: single-instance content, all or nothing, durable, concurrent.

use std::collections::BTreeMap;

use super::{Fixture, addr, folder, ids_in, local, mailbox, message, stored_messages};
use crate::message::SearchField;
use crate::store::{Attempt, ContentStats, QueueFilter, TrackFilter};

/// One content however many copies share it: three mailboxes and a queue entry are
/// four references to one content, which reads back as each copy's prefix and the
/// content, and goes with its last reference.
pub(super) async fn a_message_to_many_mailboxes_and_the_queue_is_stored_once(f: Fixture) {
    let store = f.store();
    let (a, b) = (mailbox(store, "a@corp.test").await, mailbox(store, "b@corp.test").await);
    let c = mailbox(store, "c@corp.test").await;
    let content = b"Received: x\r\nSubject: shared\r\n\r\nbody\r\n";
    store.accept(message(vec![a, b, c], content)).await.expect("accept");

    let stats = store.content_stats().await.expect("stats");
    assert_eq!(stats, ContentStats { contents: 1, references: 4, bytes: content.len() as u64 });
    assert_eq!(stored_messages(store).await, 3);
    let queued = store.queue_list(QueueFilter::default()).await.expect("queue");
    assert_eq!(queued.len(), 1);
    let details = store.queue_details(queued[0].queue_id.clone()).await.expect("details");
    let failed: Vec<&str> =
        details.recipients.iter().filter(|r| r.state == "failed").map(|r| r.address.as_str()).collect();
    assert_eq!(failed, ["nowhere@outside.test"], "the recipient without a route failed at once");
    let accepted = store.tracking(TrackFilter::default()).await.expect("tracking");
    assert_eq!(accepted.iter().filter(|e| e.event == "accepted").count(), 1, "tracked in the same write");

    // Each copy reads back as its prefix and the shared content, with POP3's size.
    let listed = store.pop3_messages(c).await.expect("list");
    let got = store.messages_content(vec![listed[0].id]).await.expect("content");
    let want = [&b"Return-Path: <ann@corp.test>\r\n"[..], content].concat();
    assert_eq!(got[0].1, want);
    assert_eq!(listed[0].size, want.len() as u64);
    let due = store.queue_claim_due(10).await.expect("claim");
    let contents = store.queue_contents(vec![due[0].id]).await.expect("queue content");
    assert_eq!(contents[&due[0].id].as_slice(), content, "the queue sends the content without the prefix");

    // References go one by one: a POP3 deletion, a deleted mailbox, the finished queue
    // entry; the content goes with the last.
    let refs = |n| ContentStats { contents: 1, references: n, bytes: content.len() as u64 };
    store.pop3_delete(c, vec![listed[0].id], None).await.expect("delete");
    assert_eq!(store.content_stats().await.expect("stats"), refs(3));
    store.remove_mailbox(&addr("a@corp.test")).await.expect("remove mailbox");
    assert_eq!(store.content_stats().await.expect("stats"), refs(2), "a deleted mailbox releases its copies");
    let (id, address) = (due[0].recipients[0].id, due[0].recipients[0].address.clone());
    store
        .queue_record(vec![(id, address, Attempt::Delivered { remote: "mx".into(), tls: None })], true)
        .await
        .expect("record");
    let failed: Vec<i64> = store.queue_ndr_due(10).await.expect("ndr due")[0].recipients.iter().map(|r| r.id).collect();
    store.queue_write_ndr(failed, None).await.expect("ndr done");
    assert_eq!(store.queue_purge_finished().await.expect("purge"), 1);
    assert_eq!(store.content_stats().await.expect("stats"), refs(1));
    store.remove_mailbox(&addr("b@corp.test")).await.expect("remove mailbox");
    assert_eq!(store.content_stats().await.expect("stats"), ContentStats::default(), "freed with its last reference");
}

/// A message with no copy and no queue entry keeps no content.
pub(super) async fn a_message_with_nowhere_to_go_keeps_no_content(f: Fixture) {
    f.store().accept(local(Vec::new(), b"x\r\n")).await.expect("accept");
    assert_eq!(f.store().content_stats().await.expect("stats"), ContentStats::default());
}

/// An acceptance that fails part-way (a mailbox that does not exist) keeps nothing:
/// no content, no copy, no queue entry, no tracking.
pub(super) async fn a_failed_acceptance_keeps_nothing(f: Fixture) {
    let store = f.store();
    let a = mailbox(store, "a@corp.test").await;
    let err = store.accept(message(vec![a, 999_999], b"x\r\n")).await;
    assert!(err.is_err(), "{err:?}");
    assert_eq!(store.content_stats().await.expect("stats"), ContentStats::default());
    assert_eq!(stored_messages(store).await, 0);
    assert!(store.queue_list(QueueFilter::default()).await.expect("queue").is_empty());
    assert!(store.tracking(TrackFilter::default()).await.expect("tracking").is_empty());
}

/// Many sessions accepting at once each get their `Ok` only once their message is
/// kept, and every one is.
pub(super) async fn concurrent_acceptances_are_all_committed(f: Fixture) {
    let store = f.store().clone();
    let ann = mailbox(&store, "ann@corp.test").await;
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut m = local(vec![ann], format!("Subject: {i}\r\n\r\n{i}\r\n").as_bytes());
                m.queue_id = format!("Q{i}");
                store.accept(m).await
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("join").expect("accept");
    }
    let uids: Vec<i64> = store.pop3_messages(ann).await.expect("pop3").iter().map(|m| m.uid).collect();
    assert_eq!(uids, (1..=100).collect::<Vec<_>>(), "each its own UID, in order, none lost");
    assert_eq!(store.content_stats().await.expect("stats").contents, 100);
}

/// A copy goes to the folder the plan names for its mailbox, INBOX for the others.
pub(super) async fn a_copy_is_filed_in_the_folder_the_plan_names(f: Fixture) {
    let store = f.store();
    let (ann, bob) = (mailbox(store, "ann@corp.test").await, mailbox(store, "bob@corp.test").await);
    let junk = store.junk_folders(vec![ann, bob]).await.expect("junk folders");
    assert_eq!(junk.len(), 2, "every mailbox has a Junk folder");
    assert_eq!(junk[&ann], folder(store, ann, "Junk").await);
    let mut m = local(vec![ann, bob], b"Subject: spam\r\n\r\nx\r\n");
    m.folders = BTreeMap::from([(ann, junk[&ann])]);
    store.accept(m).await.expect("accept");
    assert_eq!(ids_in(store, ann, junk[&ann]).await.len(), 1, "ann's copy in her Junk folder");
    assert!(store.pop3_messages(ann).await.expect("pop3").is_empty(), "not in her INBOX");
    assert_eq!(store.pop3_messages(bob).await.expect("pop3").len(), 1, "bob's in his INBOX");
    store.imap_delete(bob, junk[&bob]).await.expect("delete bob's Junk");
    assert_eq!(store.junk_folders(vec![ann, bob]).await.expect("junk folders").len(), 1, "bob has none now");
}

/// A message that is all header is read back whole, and its header is searched.
pub(super) async fn a_header_too_big_for_its_own_row_is_still_read_whole(f: Fixture) {
    let store = f.store();
    let ann = mailbox(store, "ann@corp.test").await;
    // No empty line: the whole message is header.
    let all_header = "X-Long: ".to_owned() + &"y".repeat(70_000) + "\r\n";
    store.accept(local(vec![ann], all_header.as_bytes())).await.expect("deliver");
    let inbox = folder(store, ann, "INBOX").await;
    let headers = store.messages_headers(ids_in(store, ann, inbox).await).await.expect("headers");
    assert!(headers[0].1.ends_with(all_header.as_bytes()), "read whole");
    assert_eq!(store.imap_folder_headers(ann, inbox, vec![]).await.expect("folder headers")[0].1, headers[0].1);
    let words = |w: &[&str]| w.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(store.imap_folder_headers(ann, inbox, words(&["x-LONG:", "yyy"])).await.expect("found").len(), 1);
    assert!(store.imap_folder_headers(ann, inbox, words(&["x-long", "zzz"])).await.expect("none").is_empty());
}

/// Subject, From, To, Cc and Bcc are kept decoded with each content and searched in
/// the store, folded to lower case (letters beyond ASCII too), every filter applying.
pub(super) async fn searchable_fields_are_kept_with_each_content_and_filtered_in_the_store(f: Fixture) {
    let store = f.store();
    let ann = mailbox(store, "ann@corp.test").await;
    for subject in ["=?utf-8?q?Caf=C3=A9_menu?=", "Quarterly invoice", "quarterly report"] {
        let m = local(vec![ann], format!("From: Bob <bob@x.test>\r\nSubject: {subject}\r\n\r\nbody\r\n").as_bytes());
        store.accept(m).await.expect("deliver");
    }
    let inbox = folder(store, ann, "INBOX").await;
    let all = store.imap_folder_fields(ann, inbox, vec![]).await.expect("fields");
    assert_eq!(all.len(), 3);
    assert!(all[0].1.subject.contains("café menu") && all[0].1.from.contains("bob <bob@x.test>"));
    let find = |filters: &[(SearchField, &str)]| {
        let filters: Vec<(SearchField, String)> = filters.iter().map(|(f, t)| (*f, (*t).to_owned())).collect();
        async move { store.imap_folder_fields(ann, inbox, filters).await.expect("fields").len() }
    };
    assert_eq!(find(&[(SearchField::Subject, "quarterly")]).await, 2);
    assert_eq!(find(&[(SearchField::Subject, "quarterly"), (SearchField::Subject, "invoice")]).await, 1);
    assert_eq!(find(&[(SearchField::Subject, "café")]).await, 1);
    assert_eq!(find(&[(SearchField::To, "bob")]).await, 0);
}

/// Regression: once the newest copy was gone its id came back for the next message,
/// so a session holding the old id (a POP3 DELE, an IMAP fetch) could reach a message
/// it never saw. An id names one row for good.
pub(super) async fn a_copys_id_is_never_given_to_another(f: Fixture) {
    let store = f.store();
    let ann = mailbox(store, "ann@corp.test").await;
    store.accept(local(vec![ann], b"Subject: first\r\n\r\nx\r\n")).await.expect("accept");
    let first = store.pop3_messages(ann).await.expect("pop3")[0].id;
    store.pop3_delete(ann, vec![first], None).await.expect("delete");
    store.accept(local(vec![ann], b"Subject: second\r\n\r\ny\r\n")).await.expect("accept");
    let second = store.pop3_messages(ann).await.expect("pop3")[0].id;
    assert_ne!(first, second, "the deleted copy's id is not given again");
    assert_eq!(store.pop3_delete(ann, vec![first], None).await.expect("stale delete"), 0, "a stale id deletes nothing");
    assert_eq!(store.pop3_messages(ann).await.expect("pop3").len(), 1, "the new message is still there");
}
