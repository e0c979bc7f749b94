//! Sharing: grants on mailboxes and folders, rights through lists, shared mailboxes,
//! and `\Seen` kept per person.

use mailroom_shared::ipc::ListSenders;
use mailroom_shared::rights::{Rights, Role};

use super::{Fixture, addr, folder, local, mailbox};
use crate::store::{Access, FlagChange, FlagUpdate, Grantee, StoreError};

fn seen(change: FlagChange) -> FlagUpdate {
    FlagUpdate { change, flags: 1, keywords: vec![], unchanged_since: None, within: None }
}

/// A folder's grant stands instead of the mailbox's for its grantee; rights through a
/// list (inside a list) count; no rights removes a grant; a grant to oneself, to
/// nobody or on another's folder is refused; removing a list or the grantee takes the
/// rights away; every change moves the rights epoch.
pub(super) async fn rights_come_from_the_folders_grant_or_the_mailboxs_through_lists(f: Fixture) {
    let store = f.store();
    let info = store.add_shared_mailbox("Info", &[addr("info@corp.test")]).await.expect("shared").id;
    let (bob, carol) = (mailbox(store, "bob@corp.test").await, mailbox(store, "carol@corp.test").await);
    let inbox = folder(store, info, "INBOX").await;
    let sent = folder(store, info, "Sent").await;
    assert!(store.shared_folders(bob).await.expect("none yet").is_empty());

    let epoch = store.rights_epoch();
    store.set_grant(info, None, Grantee::Mailbox(bob), Role::Reviewer.rights()).await.expect("grant");
    assert!(store.rights_epoch() > epoch, "a grant moves the epoch");
    let shared = store.shared_folders(bob).await.expect("shared");
    assert_eq!(shared.len(), 5, "every folder of the mailbox: {shared:?}");
    assert!(shared.iter().all(|s| s.owner == "info@corp.test" && s.rights == Role::Reviewer.rights()));
    assert_eq!(shared[0].folder.name, "INBOX");
    assert_eq!(shared[0].folder.mailbox, info);

    // A folder's own grant stands instead of the mailbox's, for that grantee.
    store.set_grant(info, Some(sent), Grantee::Mailbox(bob), Role::Editor.rights()).await.expect("folder grant");
    assert_eq!(store.rights(bob, info, Some(sent)).await.expect("rights"), Role::Editor.rights());
    assert_eq!(store.rights(bob, info, Some(inbox)).await.expect("rights"), Role::Reviewer.rights());
    assert_eq!(store.rights(bob, bob, Some(inbox)).await.expect("own").imap(), Rights::ALL_IMAP);

    // Through a list inside a list: carol gets the union.
    store.add_list("team@corp.test".into(), String::new(), ListSenders::Anyone, false).await.expect("list");
    store.add_list("all@corp.test".into(), String::new(), ListSenders::Anyone, false).await.expect("list");
    store.change_members("team@corp.test".into(), vec!["carol@corp.test".into()], vec![]).await.expect("members");
    store.change_members("all@corp.test".into(), vec!["team@corp.test".into()], vec![]).await.expect("members");
    let all = store.grantee_named("ALL@corp.test").await.expect("named").expect("a list");
    assert!(matches!(all, Grantee::List(_)));
    store.set_grant(info, None, all, Rights::LOOKUP.with(Rights::INSERT)).await.expect("list grant");
    store.set_grant(info, None, Grantee::Anyone, Rights::LOOKUP.with(Rights::READ)).await.expect("anyone");
    assert_eq!(store.rights(carol, info, Some(inbox)).await.expect("rights").to_string(), "lri");

    // The grants as the Permissions tab lists them.
    let grants = store.grants(info).await.expect("grants");
    let names: Vec<(Option<i64>, &str, String)> =
        grants.iter().map(|g| (g.folder, g.name.as_str(), g.rights.to_string())).collect();
    assert_eq!(
        names,
        [
            (None, "all@corp.test", "li".to_owned()),
            (None, "anyone", "lr".to_owned()),
            (None, "bob@corp.test", "lrs".to_owned()),
            (Some(sent), "bob@corp.test", Role::Editor.rights().to_string()),
        ]
    );

    // Refused: oneself, nobody, another mailbox's folder; nothing changed.
    assert!(matches!(
        store.set_grant(bob, None, Grantee::Mailbox(bob), Rights::READ).await,
        Err(StoreError::Invalid { .. })
    ));
    assert!(matches!(
        store.set_grant(info, None, Grantee::Mailbox(9999), Rights::READ).await,
        Err(StoreError::NotFound(_))
    ));
    let bobs_inbox = folder(store, bob, "INBOX").await;
    assert!(matches!(
        store.set_grant(info, Some(bobs_inbox), Grantee::Mailbox(carol), Rights::READ).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.grants(info).await.expect("grants").len(), 4);

    // Taken away: the list's members lose what it gave; no rights removes a grant.
    let epoch = store.rights_epoch();
    store.change_members("team@corp.test".into(), vec![], vec!["carol@corp.test".into()]).await.expect("members");
    assert!(store.rights_epoch() > epoch, "a list's members change rights");
    assert_eq!(store.rights(carol, info, Some(inbox)).await.expect("rights").to_string(), "lr");
    store.set_grant(info, None, Grantee::Anyone, Rights::NONE).await.expect("remove");
    assert!(store.shared_folders(carol).await.expect("shared").is_empty());
    let user = store.mailbox_of("bob@corp.test").await.expect("read").expect("bob");
    store.remove_mailbox(&addr("bob@corp.test")).await.expect("remove bob");
    assert!(store.grants(info).await.expect("grants").iter().all(|g| g.grantee != Grantee::Mailbox(user)));
}

/// Nobody logs in as a shared mailbox, nor can give it a password; it receives mail
/// like any mailbox.
pub(super) async fn a_shared_mailbox_has_no_password_and_receives_mail(f: Fixture) {
    let store = f.store();
    let info = store.add_shared_mailbox(" Info ", &[addr("info@corp.test")]).await.expect("shared");
    assert!(info.shared);
    assert_eq!(info.display_name, "Info");
    assert_eq!(store.check_login("info@corp.test", String::new()).await.expect("check"), None);
    assert_eq!(store.check_login("info@corp.test", "anything".into()).await.expect("check"), None);
    let refused = store.update_mailbox(&addr("info@corp.test"), None, None, Some("new-pw".into())).await;
    assert!(matches!(refused, Err(StoreError::Invalid { .. })), "{refused:?}");
    store.accept(local(vec![info.id], b"Subject: hello\r\n\r\nhi\r\n")).await.expect("deliver");
    let listed = store.list_mailboxes().await.expect("list");
    let m = listed.iter().find(|m| m.id == info.id).expect("listed");
    assert!(m.shared);
    assert_eq!(m.message_count, 1);
}

/// On a folder not their own each person has their own `\Seen`: the owner's and every
/// other's apart; counts follow; other flags are shared. A copy into one's own folder
/// takes one's own `\Seen` along; a STORE within the rights given changes only those
/// flags.
pub(super) async fn seen_is_each_persons_own_on_anothers_folder(f: Fixture) {
    let store = f.store();
    let ann = mailbox(store, "ann@corp.test").await;
    let (bob, carol) = (mailbox(store, "bob@corp.test").await, mailbox(store, "carol@corp.test").await);
    let inbox = folder(store, ann, "INBOX").await;
    store.accept(local(vec![ann], b"Subject: one\r\n\r\n1\r\n")).await.expect("deliver");
    let id = store.imap_folder_state(ann, inbox).await.expect("state").messages[0].id;
    let (as_bob, as_carol) = (Access::new(ann, bob), Access::new(ann, carol));

    store.imap_store(as_bob, inbox, vec![id], seen(FlagChange::Add)).await.expect("bob reads");
    let flags = |s: crate::store::FolderState| s.messages[0].flags;
    assert_eq!(flags(store.imap_folder_state(as_bob, inbox).await.expect("bob")) & 1, 1, "bob has read it");
    assert_eq!(flags(store.imap_folder_state(as_carol, inbox).await.expect("carol")) & 1, 0, "carol has not");
    assert_eq!(flags(store.imap_folder_state(ann, inbox).await.expect("ann")) & 1, 0, "nor has ann");
    assert_eq!(store.imap_folder_counts(as_bob, inbox).await.expect("counts").unseen, 0);
    assert_eq!(store.imap_folder_counts(as_carol, inbox).await.expect("counts").unseen, 1);
    assert_eq!(store.imap_folder_counts(ann, inbox).await.expect("counts").unseen, 1);

    // The owner's \Seen is the owner's; \Flagged is everyone's.
    let flag =
        FlagUpdate { change: FlagChange::Add, flags: 1 | 4, keywords: vec![], unchanged_since: None, within: None };
    store.imap_store(ann, inbox, vec![id], flag).await.expect("ann reads and flags");
    assert_eq!(flags(store.imap_folder_state(as_carol, inbox).await.expect("carol")), 4, "flagged, unread for carol");
    store.imap_store(as_bob, inbox, vec![id], seen(FlagChange::Remove)).await.expect("bob marks unread");
    assert_eq!(flags(store.imap_folder_state(ann, inbox).await.expect("ann")), 1 | 4, "ann's stays");

    // Within the rights given: bob may keep \Seen only; \Flagged stays as it is.
    let limited = FlagUpdate {
        change: FlagChange::Replace,
        flags: 1,
        keywords: vec!["x".into()],
        unchanged_since: None,
        within: Some((1, false)),
    };
    let stored = store.imap_store(as_bob, inbox, vec![id], limited).await.expect("limited");
    assert_eq!((stored.messages[0].flags, stored.messages[0].keywords.as_str()), (1 | 4, ""));

    // A copy into bob's own folder keeps bob's \Seen as the stored one.
    let bobs = folder(store, bob, "INBOX").await;
    store.imap_copy(as_bob, inbox, vec![id], (bob, bobs), false).await.expect("copy");
    assert_eq!(flags(store.imap_folder_state(bob, bobs).await.expect("bob's own")), 1 | 4);
    // An append by carol to ann's folder keeps carol's \Seen apart.
    let appended = crate::store::Appended {
        content: b"Subject: two\r\n\r\n2\r\n".to_vec(),
        flags: 1,
        keywords: String::new(),
        received_at: 0,
    };
    store.imap_append(as_carol, inbox, vec![appended]).await.expect("append");
    let state = store.imap_folder_state(ann, inbox).await.expect("ann");
    assert_eq!(state.messages[1].flags, 0, "unread for ann");
    assert_eq!(flags(store.imap_folder_state(as_carol, inbox).await.expect("carol")) & 1, 0);
    let carols = store.imap_folder_state(as_carol, inbox).await.expect("carol");
    assert_eq!(carols.messages[1].flags, 1, "read for carol, who wrote it");

    // A message's private \Seen goes with it.
    store.remove_mailbox(&addr("carol@corp.test")).await.expect("remove carol");
    let del = FlagUpdate { change: FlagChange::Add, flags: 8, keywords: vec![], unchanged_since: None, within: None };
    store.imap_store(ann, inbox, vec![id], del).await.expect("delete");
    store.imap_expunge(ann, inbox, None).await.expect("expunge");
    assert_eq!(store.imap_folder_state(as_bob, inbox).await.expect("bob").messages.len(), 1);
}

/// Public folders: made with their levels above, read by anyone until a folder's own
/// grant says otherwise (none on a folder stands instead of the mailbox's), an address
/// that names the folder, a limit that makes it full; the public mailbox's INBOX is no
/// public folder and the public mailbox is no recipient.
pub(super) async fn public_folders_are_read_by_anyone_until_their_own_grants_say_otherwise(f: Fixture) {
    let store = f.store();
    let bob = mailbox(store, "bob@corp.test").await;
    assert!(store.public_folders().await.expect("none yet").is_empty());
    let archive = store.add_public_folder("Archive/Sales", Some(&addr("Sales-Archive@corp.test"))).await.expect("add");
    assert_eq!(archive.address.as_deref(), Some("sales-archive@corp.test"));
    let names: Vec<String> = store.public_folders().await.expect("list").into_iter().map(|p| p.folder.name).collect();
    assert_eq!(names, ["Archive", "Archive/Sales"], "the level above is made; INBOX is none");
    let shared = store.shared_folders(bob).await.expect("shared");
    assert_eq!(shared.len(), 1, "anyone reads the new folder (not its bare parent): {shared:?}");
    assert!(shared[0].public && shared[0].owner.is_empty());
    let public = shared[0].folder.mailbox;
    assert!(store.list_mailboxes().await.expect("list").iter().all(|m| m.id != public), "no recipient");
    assert!(matches!(
        store.named("sales-archive@corp.test").await.expect("named"),
        Some(crate::store::recipients::Named::Folder { full: false, .. })
    ));
    assert!(matches!(
        store.add_public_folder("Other", Some(&addr("bob@corp.test"))).await,
        Err(StoreError::Conflict(_))
    ));

    // A whole-mailbox grant, and none on one folder: that folder is not there for bob.
    store.set_grant(public, None, Grantee::Mailbox(bob), Rights::LOOKUP.with(Rights::READ)).await.expect("whole");
    store.set_grant(public, Some(archive.folder.id), Grantee::Anyone, Rights::NONE).await.expect("anyone none");
    store.set_grant(public, Some(archive.folder.id), Grantee::Mailbox(bob), Rights::NONE).await.expect("bob none");
    let visible: Vec<String> =
        store.shared_folders(bob).await.expect("shared").into_iter().map(|s| s.folder.name).collect();
    assert_eq!(visible, ["Archive"], "the folder's none stands instead of the mailbox's grant");

    // Full at its limit.
    store.update_public_folder(archive.folder.id, None, Some(Some(1))).await.expect("limit");
    let mut filed = local(vec![public], &[b'x'; 2048]);
    filed.folders.insert(public, archive.folder.id);
    store.accept(filed).await.expect("deliver");
    let listed = store.public_folders().await.expect("list");
    let now = listed.iter().find(|p| p.folder.id == archive.folder.id).expect("archive");
    assert_eq!((now.messages, now.quota_kb), (1, Some(1)));
    assert!(matches!(
        store.named("sales-archive@corp.test").await.expect("named"),
        Some(crate::store::recipients::Named::Folder { full: true, .. })
    ));
    store.update_public_folder(archive.folder.id, Some(None), None).await.expect("no address");
    assert!(store.named("sales-archive@corp.test").await.expect("named").is_none());
}

/// A calendar's own grant stands instead of the mailbox's for its grantee (an empty
/// one takes the mailbox's away there); rights through a list count; only what may
/// be read is shared; a grant to the owner or on no collection is refused.
pub(super) async fn a_calendars_grant_stands_instead_of_the_mailboxs(f: Fixture) {
    use crate::store::dav::{CollectionProps, DavKind};
    let store = f.store();
    let room = store.add_shared_mailbox("Room", &[addr("room@corp.test")]).await.expect("shared").id;
    let (ann, bob, carol) = (
        mailbox(store, "ann@corp.test").await,
        mailbox(store, "bob@corp.test").await,
        mailbox(store, "carol@corp.test").await,
    );
    let calendar = store.dav_collections(ann, DavKind::Calendar).await.expect("calendars")[0].id;
    let private = store.dav_create_collection(ann, DavKind::Calendar, "private", CollectionProps::default()).await;
    let private = private.expect("private").id;
    assert!(store.dav_shared(bob, DavKind::Calendar).await.expect("none").is_empty());

    // The room's members see its calendar and address book through the mailbox's grant.
    store.set_grant(room, None, Grantee::Mailbox(bob), Role::Editor.rights()).await.expect("grant");
    let shared = store.dav_shared(bob, DavKind::Calendar).await.expect("shared");
    assert_eq!(shared.len(), 1);
    assert_eq!((shared[0].owner.as_str(), shared[0].rights), ("room@corp.test", Role::Editor.rights()));
    assert_eq!(store.dav_shared(bob, DavKind::AddressBook).await.expect("books").len(), 1);

    // One calendar of ann's, read-only, to a list carol is in.
    store.add_list("crew@corp.test".into(), String::new(), ListSenders::Anyone, false).await.expect("list");
    store.change_members("crew@corp.test".into(), vec!["carol@corp.test".into()], vec![]).await.expect("members");
    let list = match store.grantee_named("crew@corp.test").await.expect("named") {
        Some(g) => g,
        None => panic!("the list is a grantee"),
    };
    store.dav_set_grant(calendar, list, Role::Reviewer.rights()).await.expect("calendar grant");
    let shared = store.dav_shared(carol, DavKind::Calendar).await.expect("shared");
    assert_eq!(
        shared.iter().map(|s| (s.collection.id, s.rights)).collect::<Vec<_>>(),
        [(calendar, Role::Reviewer.rights())]
    );
    assert!(store.dav_shared(carol, DavKind::AddressBook).await.expect("books").is_empty(), "the calendar only");
    assert_eq!(store.dav_grants(calendar).await.expect("grants")[0].name, "crew@corp.test");

    // Editor on all of ann's mailbox, but nothing on her private calendar.
    store.set_grant(ann, None, Grantee::Mailbox(bob), Role::Editor.rights()).await.expect("grant");
    store.dav_set_grant(private, Grantee::Mailbox(bob), Rights::NONE).await.expect("kept empty");
    let bobs: Vec<i64> = store
        .dav_shared(bob, DavKind::Calendar)
        .await
        .expect("shared")
        .into_iter()
        .filter(|s| s.collection.mailbox == ann)
        .map(|s| s.collection.id)
        .collect();
    assert_eq!(bobs, [calendar]);

    let own = store.dav_set_grant(calendar, Grantee::Mailbox(ann), Rights::NONE).await;
    assert!(matches!(own, Err(StoreError::Invalid { .. })), "{own:?}");
    let nothing = store.dav_set_grant(9999, Grantee::Mailbox(bob), Role::Reviewer.rights()).await;
    assert!(matches!(nothing, Err(StoreError::NotFound(_))), "{nothing:?}");
}
