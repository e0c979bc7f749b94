//! IMAP's folders, flags, copies and expunges.

use super::{Fixture, folder, ids_in, local, mailbox};
use crate::store::{Appended, ContentStats, FlagChange, FlagUpdate, StoreError};

/// Every mailbox has INBOX and the special-use folders; flags carry mod-sequences and
/// honour UNCHANGEDSINCE; a copy shares its content, a move leaves the source; an
/// expunge removes only `\Deleted` messages; folders are made, renamed with their
/// children and deleted with their messages; the watchers hear of each change.
pub(super) async fn folders_flags_copies_and_expunges_share_content_and_tell_the_watchers(f: Fixture) {
    let store = f.store();
    let ann = mailbox(store, "ann@corp.test").await;
    let mut watch = store.watch();
    let folders = store.imap_folders(ann).await.expect("folders");
    let names: Vec<&str> = folders.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["INBOX", "Drafts", "Junk", "Sent", "Trash"], "every mailbox has its special folders");
    let (inbox, sent) = (folders[0].id, folders[3].id);
    assert_eq!(folders[3].special_use.as_deref(), Some("\\Sent"));

    // Delivered mail lands in INBOX, which POP3 sees; appended mail in its folder.
    store.accept(local(vec![ann], b"Subject: hi\r\n\r\nbody\r\n")).await.expect("deliver");
    assert_eq!(watch.try_recv().ok(), Some(ann), "the delivery is told");
    let mine = Appended {
        content: b"Subject: sent\r\n\r\nmine\r\n".to_vec(),
        flags: 1,
        keywords: "$Work ".into(),
        received_at: 1_700_000_000,
    };
    let (validity, uids) = store.imap_append(ann, sent, vec![mine]).await.expect("append");
    assert_eq!((i64::from(validity), uids), (sent, vec![1]));
    assert_eq!(store.pop3_messages(ann).await.expect("pop3").len(), 1, "POP3 sees INBOX only");

    // Flags, with their mod-sequence, and UNCHANGEDSINCE.
    let state = store.imap_folder_state(ann, inbox).await.expect("state");
    let id = state.messages[0].id;
    let add = |flags, since| FlagUpdate {
        change: FlagChange::Add,
        flags,
        keywords: vec!["$Junk".into()],
        unchanged_since: since,
        within: None,
    };
    let stored = store.imap_store(ann, inbox, vec![id], add(1 | 4, None)).await.expect("store");
    let after = &stored.messages[0];
    assert_eq!((after.flags, after.keywords.as_str()), (5, "$Junk "));
    assert!(after.modseq > state.messages[0].modseq);
    let refused = store.imap_store(ann, inbox, vec![id], add(8, Some(1))).await.expect("store");
    assert_eq!(refused.modified, [id], "changed since 1: left alone");

    // A copy shares the content; a move leaves the source.
    let contents = store.content_stats().await.expect("stats").contents;
    let inbox_uid = store.imap_folder_state(ann, inbox).await.expect("state").messages[0].uid;
    let (to, pairs) = store.imap_copy(ann, inbox, vec![id], (ann, sent), false).await.expect("copy");
    assert_eq!((i64::from(to), pairs), (sent, vec![(inbox_uid, 2)]));
    assert_eq!(store.content_stats().await.expect("stats").contents, contents, "no byte copied");
    let (_, moved) =
        store.imap_copy(ann, sent, vec![ids_in(store, ann, sent).await[1]], (ann, inbox), true).await.expect("move");
    assert_eq!(moved.len(), 1);
    assert_eq!(store.imap_folder_counts(ann, sent).await.expect("counts").messages, 1);
    assert_eq!(store.imap_folder_counts(ann, inbox).await.expect("counts").messages, 2);

    // Expunge removes only \Deleted messages; the content goes with its last copy.
    let ids = ids_in(store, ann, inbox).await;
    let delete =
        FlagUpdate { change: FlagChange::Replace, flags: 8, keywords: vec![], unchanged_since: None, within: None };
    store.imap_store(ann, inbox, ids.clone(), delete).await.expect("mark");
    assert_eq!(store.imap_expunge(ann, inbox, Some(vec![ids[0]])).await.expect("expunge"), [ids[0]]);
    assert_eq!(store.imap_expunge(ann, inbox, None).await.expect("expunge"), [ids[1]]);
    assert_eq!(store.content_stats().await.expect("stats").contents, 1, "only the appended message is left");
    let headers = store.messages_headers(ids_in(store, ann, sent).await).await.expect("headers");
    assert_eq!(headers[0].1, b"Subject: sent\r\n\r\n", "the header alone");

    // Folders: create, rename with children, delete.
    let projects = store.imap_create(ann, "Projects".into()).await.expect("create");
    store.imap_create(ann, "Projects/2026".into()).await.expect("create");
    assert!(matches!(store.imap_create(ann, "Projects".into()).await, Err(StoreError::Conflict(_))));
    store.imap_rename(ann, projects, "Work".into()).await.expect("rename");
    let names: Vec<String> = store.imap_folders(ann).await.expect("folders").into_iter().map(|f| f.name).collect();
    assert!(names.contains(&"Work/2026".to_owned()) && !names.iter().any(|n| n.starts_with("Projects")));
    assert!(matches!(store.imap_rename(ann, projects, "Sent".into()).await, Err(StoreError::Conflict(_))));
    store.imap_delete(ann, sent).await.expect("delete");
    assert_eq!(store.content_stats().await.expect("stats"), ContentStats::default(), "its messages went with it");
}

/// INBOX cannot be deleted; renaming it moves its messages to a new folder (keeping
/// their UIDs) and leaves it, empty (RFC 9051 §6.3.6).
pub(super) async fn inbox_cannot_be_deleted_and_renaming_it_moves_its_messages(f: Fixture) {
    let store = f.store();
    let ann = mailbox(store, "ann@corp.test").await;
    let inbox = folder(store, ann, "INBOX").await;
    for i in 0..3 {
        store.accept(local(vec![ann], format!("Subject: {i}\r\n\r\nx\r\n").as_bytes())).await.expect("deliver");
    }
    let deleted = store.imap_delete(ann, inbox).await;
    assert!(matches!(deleted, Err(StoreError::Invalid { .. })), "{deleted:?}");
    let uids: Vec<u32> =
        store.imap_folder_state(ann, inbox).await.expect("state").messages.iter().map(|m| m.uid).collect();
    store.imap_rename(ann, inbox, "Old mail".into()).await.expect("rename INBOX");
    assert_eq!(folder(store, ann, "INBOX").await, inbox, "INBOX stays");
    assert!(ids_in(store, ann, inbox).await.is_empty(), "and is empty");
    let old = folder(store, ann, "Old mail").await;
    let moved: Vec<u32> =
        store.imap_folder_state(ann, old).await.expect("state").messages.iter().map(|m| m.uid).collect();
    assert_eq!(moved, uids, "the messages keep their UIDs");
    store.accept(local(vec![ann], b"Subject: new\r\n\r\nx\r\n")).await.expect("deliver");
    let next = store.imap_folder_state(ann, inbox).await.expect("state").messages[0].uid;
    assert!(next > *uids.last().expect("uids"), "INBOX never gives a UID twice");
    assert!(store.imap_delete(ann, 999_999).await.is_err(), "no such folder");
}

/// `\Recent` goes to one session only: the first claim gets what arrived before it,
/// the next gets only what arrived since, and STATUS counts what nobody claimed.
pub(super) async fn recent_messages_are_claimed_by_one_session_only(f: Fixture) {
    let store = f.store();
    let ann = mailbox(store, "ann@corp.test").await;
    let inbox = folder(store, ann, "INBOX").await;
    store.accept(local(vec![ann], b"Subject: one\r\n\r\nx\r\n")).await.expect("deliver");
    store.accept(local(vec![ann], b"Subject: two\r\n\r\nx\r\n")).await.expect("deliver");
    assert_eq!(store.imap_folder_counts(ann, inbox).await.expect("counts").recent, 2);
    assert_eq!(store.imap_claim_recent(ann, inbox).await.expect("claim"), (1, 3), "both are the first session's");
    assert_eq!(store.imap_claim_recent(ann, inbox).await.expect("claim"), (3, 3), "none left for the second");
    assert_eq!(store.imap_folder_counts(ann, inbox).await.expect("counts").recent, 0);
    store.accept(local(vec![ann], b"Subject: three\r\n\r\nx\r\n")).await.expect("deliver");
    assert_eq!(store.imap_folder_counts(ann, inbox).await.expect("counts").recent, 1);
    assert_eq!(store.imap_claim_recent(ann, inbox).await.expect("claim"), (3, 4));
    // What an EXPUNGE would free: the size of the \Deleted ones.
    let ids = ids_in(store, ann, inbox).await;
    let delete =
        FlagUpdate { change: FlagChange::Add, flags: 8, keywords: vec![], unchanged_since: None, within: None };
    store.imap_store(ann, inbox, vec![ids[0]], delete).await.expect("store");
    let counts = store.imap_folder_counts(ann, inbox).await.expect("counts");
    assert_eq!((counts.deleted, counts.deleted_size), (1, counts.size / 3), "three messages of one size");
    assert!(matches!(store.imap_claim_recent(ann, inbox + 1000).await, Err(StoreError::NotFound(_))));
}

/// Several messages appended at once get consecutive UIDs in one commit, and none is
/// kept when the folder is gone (MULTIAPPEND is all or nothing).
pub(super) async fn messages_appended_together_are_kept_together(f: Fixture) {
    let store = f.store();
    let ann = mailbox(store, "ann@corp.test").await;
    let inbox = folder(store, ann, "INBOX").await;
    let message = |s: &str| Appended {
        content: format!("Subject: {s}\r\n\r\nx\r\n").into_bytes(),
        flags: 0,
        keywords: String::new(),
        received_at: 1_700_000_000,
    };
    let (_, uids) =
        store.imap_append(ann, inbox, vec![message("a"), message("b"), message("c")]).await.expect("append");
    assert_eq!(uids, [1, 2, 3]);
    let gone = store.imap_append(ann, inbox + 1000, vec![message("d"), message("e")]).await;
    assert!(matches!(gone, Err(StoreError::NotFound(_))), "{gone:?}");
    assert_eq!(store.imap_folder_counts(ann, inbox).await.expect("counts").messages, 3);
    assert_eq!(store.content_stats().await.expect("stats").contents, 3, "nothing of the failed append is kept");
}

/// A subscription is a name: it stays when its folder is deleted, until the client
/// removes it, and follows a renamed folder; a client's new folder is not subscribed.
pub(super) async fn a_deleted_folders_subscription_stays_until_removed(f: Fixture) {
    let store = f.store();
    let ann = mailbox(store, "ann@corp.test").await;
    let before = store.imap_subscriptions(ann).await.expect("subscriptions");
    assert!(before.contains(&"INBOX".to_owned()) && before.contains(&"Sent".to_owned()), "{before:?}");
    let old = store.imap_create(ann, "Old".into()).await.expect("create");
    assert!(!store.imap_subscriptions(ann).await.expect("subscriptions").contains(&"Old".to_owned()));
    store.imap_subscribe(ann, "Old".into(), true).await.expect("subscribe");
    store.imap_delete(ann, old).await.expect("delete");
    assert!(store.imap_subscriptions(ann).await.expect("subscriptions").contains(&"Old".to_owned()), "kept");
    assert!(matches!(store.imap_subscribe(ann, "Old".into(), true).await, Err(StoreError::NotFound(_))));
    store.imap_subscribe(ann, "Old".into(), false).await.expect("unsubscribe a name with no folder");
    assert!(!store.imap_subscriptions(ann).await.expect("subscriptions").contains(&"Old".to_owned()));
    assert!(matches!(store.imap_subscribe(ann, "Old".into(), false).await, Err(StoreError::NotFound(_))));
    let work = store.imap_create(ann, "Work".into()).await.expect("create");
    store.imap_create(ann, "Work/2026".into()).await.expect("create");
    store.imap_subscribe(ann, "Work/2026".into(), true).await.expect("subscribe");
    store.imap_rename(ann, work, "Job".into()).await.expect("rename");
    let now = store.imap_subscriptions(ann).await.expect("subscriptions");
    assert!(now.contains(&"Job/2026".to_owned()) && !now.contains(&"Work/2026".to_owned()), "{now:?}");
    let folders = store.imap_folders(ann).await.expect("folders");
    assert!(folders.iter().any(|f| f.name == "Job/2026" && f.subscribed));
}

/// A copy's content id is its original's (one EMAILID for every copy), and each copy
/// knows when it was saved into its folder.
pub(super) async fn copies_share_their_content_id_and_know_when_they_were_saved(f: Fixture) {
    let store = f.store();
    let ann = mailbox(store, "ann@corp.test").await;
    let inbox = folder(store, ann, "INBOX").await;
    let sent = folder(store, ann, "Sent").await;
    store.accept(local(vec![ann], b"Subject: one\r\n\r\nx\r\n")).await.expect("deliver");
    let id = ids_in(store, ann, inbox).await[0];
    store.imap_copy(ann, inbox, vec![id], (ann, sent), false).await.expect("copy");
    let before = crate::store::now_secs() - 5;
    let original = store.imap_objects(ann, inbox, Some(vec![id])).await.expect("objects");
    let copies = store.imap_objects(ann, sent, None).await.expect("objects");
    assert_eq!(copies.len(), 1);
    assert_eq!(original[0].content, copies[0].content, "one message, one content");
    assert_ne!(original[0].id, copies[0].id);
    assert!(copies[0].saved_at.is_some_and(|t| t >= before), "{copies:?}");
    assert!(store.imap_objects(ann, sent, Some(vec![id])).await.expect("objects").is_empty(), "not in Sent");
    assert!(matches!(store.imap_objects(ann, inbox + 1000, None).await, Err(StoreError::NotFound(_))));
}

/// A folder's head is its state less the list: the same UIDNEXT, HIGHESTMODSEQ and
/// count as the full read.
pub(super) async fn a_folders_head_matches_its_full_state(f: Fixture) {
    let store = f.store();
    let ann = mailbox(store, "ann@corp.test").await;
    let inbox = folder(store, ann, "INBOX").await;
    for i in 0..3 {
        store.accept(local(vec![ann], format!("Subject: {i}\r\n\r\nx\r\n").as_bytes())).await.expect("deliver");
    }
    let head = store.imap_folder_head(ann, inbox).await.expect("head");
    let state = store.imap_folder_state(ann, inbox).await.expect("state");
    assert_eq!(
        (head.uidnext, head.highest_modseq, head.recent_from, head.messages, head.folder),
        (state.uidnext, state.highest_modseq, state.recent_from, state.messages.len(), state.folder)
    );
    assert!(matches!(store.imap_folder_head(ann, inbox + 1000).await, Err(StoreError::NotFound(_))));
}
