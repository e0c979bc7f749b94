//! The outbound queue: claims, outcomes, expiry, the administrator's deletions.

use super::{Fixture, message, now};
use crate::store::{Attempt, TrackFilter};

/// A due recipient is claimed once (in flight until its outcome is recorded, or a
/// restart puts it back); a deferral makes it due again at its retry time; a failure
/// waits for its NDR; each outcome is tracked.
pub(super) async fn recipients_are_claimed_once_and_their_outcomes_recorded(f: Fixture) {
    let store = f.store();
    let mut m = message(Vec::new(), b"Subject: out\r\n\r\nx\r\n");
    m.outbound
        .as_mut()
        .expect("outbound")
        .recipients
        .push(crate::store::OutboundRecipient { address: "second@outside.test".into(), ..Default::default() });
    store.accept(m).await.expect("accept");
    assert_eq!(store.queue_waiting().await.expect("waiting"), 1);
    let due = store.queue_claim_due(10).await.expect("claim");
    assert_eq!(due.len(), 1);
    let rcpts: Vec<&str> = due[0].recipients.iter().map(|r| r.address.as_str()).collect();
    assert_eq!(rcpts, ["far@outside.test", "second@outside.test"], "the failed one is not due");
    assert!(store.queue_claim_due(10).await.expect("claim").is_empty(), "nothing is claimed twice");
    assert_eq!(store.queue_recover().await.expect("recover"), 2, "a restart puts in-flight recipients back");
    let due = store.queue_claim_due(10).await.expect("claim again");
    let (first, second) = (&due[0].recipients[0], &due[0].recipients[1]);
    let retry_at = now() + 3600;
    store
        .queue_record(
            vec![
                (
                    first.id,
                    first.address.clone(),
                    Attempt::Delivered { remote: "mx.outside.test".into(), tls: Some("TLSv1.3") },
                ),
                (
                    second.id,
                    second.address.clone(),
                    Attempt::Deferred { error: "451 4.7.1 try later".into(), remote: None, retry_at },
                ),
            ],
            true,
        )
        .await
        .expect("record");
    assert!(store.queue_claim_due(10).await.expect("claim").is_empty(), "deferred until its retry");
    assert_eq!(store.queue_next_due().await.expect("next"), Some(retry_at));
    let events = store.tracking(TrackFilter::default()).await.expect("tracking");
    let relayed = events.iter().find(|e| e.event == "relayed").expect("relayed tracked");
    assert_eq!(relayed.detail.as_deref(), Some("to mx.outside.test, over TLSv1.3"));
    assert!(events.iter().any(|e| e.event == "deferred" && e.detail.as_deref() == Some("451 4.7.1 try later")));
    let ndr = store.queue_ndr_due(10).await.expect("ndr due");
    assert_eq!(ndr[0].recipients.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(), ["5.4.4"]);
}

/// Recipients still waiting when their message is older than the limit fail with
/// 4.4.7, keeping their last error for the NDR.
pub(super) async fn expired_recipients_fail_with_their_last_error(f: Fixture) {
    let store = f.store();
    let mut m = message(Vec::new(), b"x\r\n");
    m.received_at = now() - 100;
    store.accept(m).await.expect("accept");
    let due = store.queue_claim_due(10).await.expect("claim");
    let r = &due[0].recipients[0];
    let error = "Connection refused".to_owned();
    let deferred = Attempt::Deferred { error: error.clone(), remote: None, retry_at: now() + 60 };
    store.queue_record(vec![(r.id, r.address.clone(), deferred)], false).await.expect("record");
    assert_eq!(store.queue_expire(1000).await.expect("expire"), 0, "not old enough");
    assert_eq!(store.queue_expire(50).await.expect("expire"), 1);
    let ndr = store.queue_ndr_due(10).await.expect("ndr due");
    let expired = ndr[0].recipients.iter().find(|x| x.address == "far@outside.test").expect("expired");
    assert_eq!(expired.status, "4.4.7");
    assert_eq!(expired.error, format!("Message expired: could not be delivered in time; last error: {error}"));
}

/// The administrator's deletion fails every waiting recipient, with an NDR or without.
pub(super) async fn a_deleted_entry_fails_its_waiting_recipients(f: Fixture) {
    let store = f.store();
    store.accept(message(Vec::new(), b"x\r\n")).await.expect("accept");
    let mut second = message(Vec::new(), b"y\r\n");
    second.queue_id = "Q2".into();
    store.accept(second).await.expect("accept");
    assert_eq!(store.queue_delete("Q1".into(), true).await.expect("delete"), 1);
    assert_eq!(store.queue_delete("Q2".into(), false).await.expect("delete"), 1);
    assert!(store.queue_delete("Q3".into(), true).await.is_err(), "no such entry");
    let ndr = store.queue_ndr_due(10).await.expect("ndr due");
    let q1 = ndr.iter().find(|n| n.queue_id == "Q1").expect("Q1's NDR is due");
    let deleted = q1.recipients.iter().find(|r| r.address == "far@outside.test").expect("deleted");
    assert_eq!(
        (deleted.status.as_str(), deleted.error.as_str()),
        ("5.0.0", "Deleted from the queue by the administrator")
    );
    let q2 = ndr.iter().find(|n| n.queue_id == "Q2").expect("Q2's at-once failure still has its NDR");
    assert!(q2.recipients.iter().all(|r| r.address != "far@outside.test"), "no NDR for the quiet deletion");
    assert!(store.queue_claim_due(10).await.expect("claim").is_empty());
    assert_eq!(store.queue_waiting().await.expect("waiting"), 0);
}

/// Regression: a purged recipient's id came back for the next queued recipient, so a
/// delivery's outcome recorded late for the old one would have marked the new one
/// delivered without trying it. Queue entries, recipients and quarantined messages keep
/// their ids for good.
pub(super) async fn a_recipients_id_is_never_given_to_another(f: Fixture) {
    let store = f.store();
    store
        .accept(crate::store::NewMessage { outbound: Some(one_recipient()), ..message(Vec::new(), b"x\r\n") })
        .await
        .expect("accept");
    let due = store.queue_claim_due(10).await.expect("claim");
    let (old_entry, old) = (due[0].id, due[0].recipients[0].clone());
    let delivered = Attempt::Delivered { remote: "mx".into(), tls: None };
    store.queue_record(vec![(old.id, old.address.clone(), delivered)], false).await.expect("record");
    assert_eq!(store.queue_purge_finished().await.expect("purge"), 1);
    let mut next = message(Vec::new(), b"y\r\n");
    next.queue_id = "Q2".into();
    next.outbound = Some(one_recipient());
    store.accept(next).await.expect("accept");
    let due = store.queue_claim_due(10).await.expect("claim");
    assert_ne!(due[0].id, old_entry, "the purged entry's id is not given again");
    assert_ne!(due[0].recipients[0].id, old.id, "nor its recipient's");
}

fn one_recipient() -> crate::store::Outbound {
    crate::store::Outbound {
        sender: "ann@corp.test".into(),
        recipients: vec![crate::store::OutboundRecipient { address: "far@outside.test".into(), ..Default::default() }],
        ..Default::default()
    }
}

/// Regression: a deferral recorded after the administrator deleted the entry during
/// its attempt put the recipient back in the queue. Now a recipient deleted in flight
/// stays deleted, whatever its attempt says.
pub(super) async fn a_recipient_deleted_during_its_attempt_stays_deleted(f: Fixture) {
    let store = f.store();
    store
        .accept(crate::store::NewMessage { outbound: Some(one_recipient()), ..message(Vec::new(), b"x\r\n") })
        .await
        .expect("accept");
    let due = store.queue_claim_due(10).await.expect("claim");
    let r = due[0].recipients[0].clone();
    assert_eq!(store.queue_delete("Q1".into(), false).await.expect("delete"), 1, "deleted while in flight");
    let deferred = Attempt::Deferred { error: "451 later".into(), remote: None, retry_at: now() };
    store.queue_record(vec![(r.id, r.address.clone(), deferred)], true).await.expect("record");
    assert_eq!(store.queue_waiting().await.expect("waiting"), 0, "not back in the queue");
    assert!(store.queue_claim_due(10).await.expect("claim").is_empty());
    assert!(store.tracking(TrackFilter::default()).await.expect("tracking").iter().all(|e| e.event != "deferred"));
}
