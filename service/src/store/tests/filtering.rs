//! The defences' state: greylisting, sending limits, the quarantine, daily counts and
//! automatic replies' memory.

use super::{Fixture, addr, mailbox, message, now, stored_messages};
use crate::store::{FilterEvent, Greylist, GreylistTimes, Held, QueueFilter, SentBy, StoreError};

/// A new triplet waits; its retry after the delay passes and lets its network skip
/// greylisting; a retry after the window counts as new; stale state is purged.
pub(super) async fn greylisting_passes_the_retry_after_the_delay_and_then_the_network(f: Fixture) {
    let store = f.store();
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

/// An account's outside recipients are counted from the messages it sent, by hour and
/// day; a hold lasts until it is lifted, which starts the count afresh.
pub(super) async fn sending_counts_come_from_accepted_messages_and_holds_last_until_unlocked(f: Fixture) {
    let store = f.store();
    let mut m = message(Vec::new(), b"Subject: x\r\n\r\nx\r\n");
    m.sent_by = Some(SentBy { account: "ann@corp.test".into(), recipients: 3 });
    store.accept(m).await.expect("accept");
    let counts = store.sent_counts("ann@corp.test".into(), now()).await.expect("counts");
    assert_eq!((counts.hour, counts.day, counts.held), (3, 3, false));
    let later = store.sent_counts("ann@corp.test".into(), now() + 7200).await.expect("counts");
    assert_eq!((later.hour, later.day), (0, 3), "out of the hour, still in the day");
    assert_eq!(store.sent_counts("ann@corp.test".into(), now() + 2 * 86_400).await.expect("counts").day, 0);
    assert!(store.sending_hold("ann@corp.test".into(), "too many".into(), now()).await.expect("hold"));
    assert!(!store.sending_hold("ann@corp.test".into(), "again".into(), now()).await.expect("hold"), "one episode");
    assert!(store.sent_counts("ann@corp.test".into(), now()).await.expect("counts").held);
    assert_eq!(store.sending_holds().await.expect("holds")[0].reason, "too many");
    store.sending_unlock("ann@corp.test".into()).await.expect("unlock");
    let counts = store.sent_counts("ann@corp.test".into(), now()).await.expect("counts");
    assert_eq!((counts.hour, counts.held), (0, false), "unlocked, the account starts from zero");
    assert!(matches!(store.sending_unlock("ann@corp.test".into()).await, Err(StoreError::NotFound(_))));
}

/// A held message is delivered nowhere and queued nowhere; released, it goes where it
/// was going (but to mailboxes deleted since), sharing its content again; deleted, its
/// content goes with it.
pub(super) async fn a_quarantined_message_shares_nothing_until_released_to_where_it_was_going(f: Fixture) {
    let store = f.store();
    let ann = mailbox(store, "ann@corp.test").await;
    let gone = mailbox(store, "gone@corp.test").await;
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
    assert_eq!(stored_messages(store).await, 0, "nothing delivered");
    assert!(store.queue_list(QueueFilter::default()).await.expect("queue").is_empty(), "nothing queued");
    assert_eq!(store.content_stats().await.expect("stats").references, 1);
    let listed = store.quarantine_list().await.expect("list");
    assert_eq!((listed[0].id, listed[0].score, listed[0].size), (id, Some(9.5), content.len() as u64));
    let (_, bytes) = store.quarantine_message(id).await.expect("message");
    assert_eq!(bytes, content);

    store.remove_mailbox(&addr("gone@corp.test")).await.expect("remove");
    let (q, queued) = store.quarantine_release(id, Vec::new()).await.expect("release");
    assert_eq!(q.subject, "cheap pills");
    assert!(queued, "its outside recipient is queued");
    assert_eq!(stored_messages(store).await, 1, "only the mailbox that still exists");
    let entry = store.queue_list(QueueFilter::default()).await.expect("queue");
    assert_eq!(store.queue_details(entry[0].queue_id.clone()).await.expect("details").recipients.len(), 2);
    assert!(store.quarantine_list().await.expect("list").is_empty());
    assert_eq!(store.content_stats().await.expect("stats").contents, 1, "one content, shared again");
    assert!(matches!(store.quarantine_release(id, Vec::new()).await, Err(StoreError::NotFound(_))));

    let before = store.content_stats().await.expect("stats");
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
    assert_eq!(store.content_stats().await.expect("stats"), before, "its content went with it");
}

/// What the defences did is counted per day, and old days are purged.
pub(super) async fn filter_events_are_counted_per_day(f: Fixture) {
    let store = f.store();
    for e in [FilterEvent::DnsList, FilterEvent::DnsList, FilterEvent::Quarantined] {
        store.count_filter_event(e, "2026-11-27".into()).await.expect("count");
    }
    store.count_filter_event(FilterEvent::DnsList, "2026-11-28".into()).await.expect("count");
    let mut day = store.filter_counts("2026-11-27".into()).await.expect("counts");
    day.sort();
    assert_eq!(day, [("dns_list".to_owned(), 2), ("quarantined".to_owned(), 1)]);
    store.filtering_purge(now(), 0, 0, "2026-11-28".into()).await.expect("purge");
    assert!(store.filter_counts("2026-11-27".into()).await.expect("counts").is_empty());
    assert_eq!(store.filter_counts("2026-11-28".into()).await.expect("counts").len(), 1);
}

/// An automatic reply goes to a sender once in its period, per mailbox; two deliveries
/// at once send one.
pub(super) async fn an_automatic_reply_goes_once_per_sender_in_its_period(f: Fixture) {
    let store = f.store();
    let (ann, bob) = (mailbox(store, "ann@corp.test").await, mailbox(store, "bob@corp.test").await);
    let t = now();
    let due = |mailbox: i64, sender: &str, at: i64| store.auto_reply_due(mailbox, sender.into(), 4, at);
    let (a, b) = tokio::join!(due(ann, "x@outside.test", t), due(ann, "x@outside.test", t));
    assert!(a.expect("due") ^ b.expect("due"), "exactly one of two at once");
    assert!(!due(ann, "x@outside.test", t + 3 * 86_400).await.expect("due"), "within four days");
    assert!(due(ann, "y@outside.test", t).await.expect("due"), "another sender");
    assert!(due(bob, "x@outside.test", t).await.expect("due"), "another mailbox");
    assert!(due(ann, "x@outside.test", t + 4 * 86_400 + 1).await.expect("due"), "after the period");
}
