//! Calendars and address books: the default collection, conditional writes, UID
//! uniqueness, time-range candidates and the changes since a sync token.

use super::{Fixture, mailbox};
use crate::store::StoreError;
use crate::store::dav::{CollectionProps, DavKind, NewObject, Precondition, Put};

fn event(name: &str, uid: &str, span: Option<(i64, Option<i64>)>) -> NewObject {
    NewObject {
        name: name.into(),
        uid: uid.into(),
        component: "VEVENT".into(),
        data: format!("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n").into_bytes(),
        starts: span.map(|s| s.0),
        ends: span.and_then(|s| s.1),
    }
}

pub(crate) async fn a_person_has_a_calendar_and_an_address_book_from_the_start(f: Fixture) {
    let store = f.store();
    let ann = mailbox(store, "ann@corp.test").await;
    let calendars = store.dav_collections(ann, DavKind::Calendar).await.expect("calendars");
    assert_eq!(
        calendars.iter().map(|c| (c.name.as_str(), c.display_name.as_str())).collect::<Vec<_>>(),
        [("calendar", "Calendar")]
    );
    let books = store.dav_collections(ann, DavKind::AddressBook).await.expect("books");
    assert_eq!(books[0].name, "contacts");
    // Asking again makes no second one; another of a taken name is refused.
    assert_eq!(store.dav_collections(ann, DavKind::Calendar).await.expect("again").len(), 1);
    let taken = store.dav_create_collection(ann, DavKind::Calendar, "calendar", CollectionProps::default()).await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    let work = store
        .dav_create_collection(
            ann,
            DavKind::Calendar,
            "work",
            CollectionProps {
                display_name: Some("Work".into()),
                color: Some("#3366CC".into()),
                description: None,
                components: Some(vec!["VTODO".into()]),
                dead: vec![("http://apple.com/ns/ical/".into(), "calendar-order".into(), "2".into())],
            },
        )
        .await
        .expect("work");
    store
        .dav_update_collection(work.id, CollectionProps { display_name: Some("Office".into()), ..Default::default() })
        .await
        .expect("rename");
    let work = store.dav_collection(ann, DavKind::Calendar, "work").await.expect("read").expect("there");
    assert_eq!((work.display_name.as_str(), work.color.as_str()), ("Office", "#3366CC"));
    assert_eq!(work.components, ["VTODO"]);
    assert_eq!(work.dead, [("http://apple.com/ns/ical/".to_owned(), "calendar-order".to_owned(), "2".to_owned())]);
    let unset = ("http://apple.com/ns/ical/".to_owned(), "calendar-order".to_owned(), String::new());
    store
        .dav_update_collection(work.id, CollectionProps { dead: vec![unset], ..Default::default() })
        .await
        .expect("unset");
    let work = store.dav_collection(ann, DavKind::Calendar, "work").await.expect("read").expect("there");
    assert!(work.dead.is_empty(), "an empty text removes a kept property");
    store.dav_delete_collection(work.id).await.expect("delete");
    assert!(store.dav_collection(ann, DavKind::Calendar, "work").await.expect("read").is_none());
}

pub(crate) async fn objects_are_written_on_their_conditions_and_their_changes_counted(f: Fixture) {
    let store = f.store();
    let ann = mailbox(store, "ann@corp.test").await;
    let cal = store.dav_collections(ann, DavKind::Calendar).await.expect("calendars")[0].id;
    let start = store.dav_changes(cal, 0).await.expect("changes").token;

    let Put::Stored { etag, created: true } =
        store.dav_put(cal, event("a.ics", "A", Some((100, Some(200)))), Precondition::Absent).await.expect("put")
    else {
        panic!("not stored")
    };
    // If-None-Match: * on an existing name, and If-Match with a stale ETag, change nothing.
    let again = store.dav_put(cal, event("a.ics", "A", None), Precondition::Absent).await.expect("put");
    assert_eq!(again, Put::PreconditionFailed);
    let stale = store.dav_put(cal, event("a.ics", "A", None), Precondition::Etag("nope".into())).await;
    assert_eq!(stale.expect("put"), Put::PreconditionFailed);
    // If-Match: * needs something there.
    let missing = store.dav_put(cal, event("new.ics", "N", None), Precondition::Exists).await.expect("put");
    assert_eq!(missing, Put::PreconditionFailed);
    // The same UID under another name is CalDAV's no-uid-conflict.
    let twin = store.dav_put(cal, event("b.ics", "A", None), Precondition::None).await.expect("put");
    assert_eq!(twin, Put::UidConflict { name: "a.ics".into() });
    store.dav_put(cal, event("b.ics", "B", Some((500, None))), Precondition::None).await.expect("b");
    store.dav_put(cal, event("c.ics", "C", None), Precondition::None).await.expect("c");

    // Candidates for [150, 400): a (100–200), c (no span: the caller judges); not b
    // (from 500 on). For [600, ∞): b (open end), c.
    let names = |v: Vec<crate::store::dav::DavObject>| v.into_iter().map(|o| o.name).collect::<Vec<_>>();
    assert_eq!(names(store.dav_in_range(cal, Some(150), Some(400)).await.expect("range")), ["a.ics", "c.ics"]);
    assert_eq!(names(store.dav_in_range(cal, Some(600), None).await.expect("range")), ["b.ics", "c.ics"]);

    let got = store.dav_get(cal, vec!["a.ics".into(), "zzz.ics".into()]).await.expect("get");
    assert_eq!((got.len(), got[0].etag.as_str()), (1, etag.as_str()));
    assert!(!store.dav_delete(cal, "a.ics", Precondition::Etag("nope".into())).await.expect("delete"));
    let middle = store.dav_changes(cal, 0).await.expect("changes").token;
    assert!(store.dav_delete(cal, "a.ics", Precondition::Etag(etag)).await.expect("delete"));
    assert!(matches!(store.dav_delete(cal, "a.ics", Precondition::None).await, Err(StoreError::NotFound(_))));

    let since_start = store.dav_changes(cal, start).await.expect("changes");
    assert_eq!(since_start.changed.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(), ["b.ics", "c.ics"]);
    let removed = |c: &crate::store::dav::Changes| c.removed.iter().map(|r| r.0.clone()).collect::<Vec<_>>();
    assert_eq!(removed(&since_start), ["a.ics"]);
    let since_middle = store.dav_changes(cal, middle).await.expect("changes");
    assert!(since_middle.changed.is_empty() && removed(&since_middle) == ["a.ics"], "{since_middle:?}");
    let now = store.dav_changes(cal, since_middle.token).await.expect("changes");
    assert!(now.changed.is_empty() && now.removed.is_empty());
    assert!(matches!(store.dav_changes(cal, now.token + 5).await, Err(StoreError::Invalid { .. })));
    // Everything from the start: what is there, with no news of what went before.
    let all = store.dav_changes(cal, 0).await.expect("all");
    assert_eq!(all.changed.len(), 2);
    assert!(all.removed.is_empty());
}

pub(crate) async fn a_meeting_is_found_by_its_uid_in_any_calendar_but_the_scheduling_inbox(f: Fixture) {
    let store = f.store();
    let ann = mailbox(store, "ann@corp.test").await;
    let bob = mailbox(store, "bob@corp.test").await;
    let work = store.dav_create_collection(ann, DavKind::Calendar, "work", CollectionProps::default()).await;
    let work = work.expect("work").id;
    let inbox = store.dav_create_collection(ann, DavKind::Calendar, "inbox", CollectionProps::default()).await;
    let inbox = inbox.expect("inbox").id;
    store.dav_put(inbox, event("m.ics", "M", None), Precondition::None).await.expect("inbox copy");
    assert_eq!(store.dav_find_uid(ann, "M").await.expect("find"), None, "an iTIP message is no meeting");
    store.dav_put(work, event("meeting.ics", "M", None), Precondition::None).await.expect("meeting");
    let (collection, found) = store.dav_find_uid(ann, "M").await.expect("find").expect("found");
    assert_eq!((collection, found.name.as_str()), (work, "meeting.ics"));
    assert!(String::from_utf8_lossy(&found.data).contains("UID:M"));
    assert_eq!(store.dav_find_uid(bob, "M").await.expect("find"), None, "someone else's");
    assert_eq!(store.dav_find_uid(ann, "m").await.expect("find"), None, "UIDs are exact");
}
