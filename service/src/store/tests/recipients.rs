//! Distribution lists and custom recipients.

use mailroom_shared::ipc::ListSenders;

use super::{Fixture, mailbox};
use crate::store::StoreError;
use crate::store::recipients::Named;

/// A list's members are followed through nested lists and custom recipients: each
/// mailbox and each outside address once, every member address and every address of a
/// member mailbox counted as a member.
pub(super) async fn a_list_expands_through_nested_lists_and_contacts_each_member_once(f: Fixture) {
    let store = f.store();
    let ann = mailbox(store, "ann@corp.test").await;
    let bob = mailbox(store, "bob@corp.test").await;
    store
        .update_mailbox(
            &super::addr("bob@corp.test"),
            None,
            Some(vec![super::addr("bob@corp.test"), super::addr("robert@corp.test")]),
            None,
        )
        .await
        .expect("alias");
    store
        .add_contact("partner@corp.test".into(), "Partner".into(), "Partner@Outside.test".into())
        .await
        .expect("contact");
    let all =
        store.add_list("all@corp.test".into(), "Everyone".into(), ListSenders::default(), false).await.expect("list");
    let team =
        store.add_list("team@corp.test".into(), String::new(), ListSenders::default(), false).await.expect("list");
    store
        .change_members(
            "team@corp.test".into(),
            vec!["ann@corp.test".into(), "robert@corp.test".into(), "partner@corp.test".into()],
            vec![],
        )
        .await
        .expect("members");
    store
        .change_members(
            "all@corp.test".into(),
            vec![
                "team@corp.test".into(),
                "ann@corp.test".into(),
                "partner@outside.test".into(),
                "x@elsewhere.test".into(),
            ],
            vec![],
        )
        .await
        .expect("members");
    assert_eq!(store.lists().await.expect("lists").len(), 2);
    let e = store.expand(all.id).await.expect("expand");
    let mut mailboxes: Vec<i64> = e.mailboxes.iter().map(|(m, _)| *m).collect();
    mailboxes.sort();
    assert_eq!(mailboxes, [ann, bob], "each mailbox once");
    let mut outside: Vec<String> = e.outside.iter().map(|a| a.to_ascii_lowercase()).collect();
    outside.sort();
    assert_eq!(outside, ["partner@outside.test", "x@elsewhere.test"], "the contact's target once, however written");
    for member in ["team@corp.test", "ann@corp.test", "robert@corp.test", "bob@corp.test", "partner@corp.test"] {
        assert!(e.member_addresses.contains(member), "{member} counts as a member");
    }
    assert!(e.loops.is_empty());
    let listed = store.named("team@corp.test").await.expect("named");
    assert!(matches!(listed, Some(Named::List(l)) if l.id == team.id && l.members.len() == 3));
    assert_eq!(store.named("ann@corp.test").await.expect("named"), Some(Named::Mailbox(ann)));
    assert!(
        matches!(store.named("partner@corp.test").await.expect("named"), Some(Named::Contact(c)) if c.target == "Partner@Outside.test")
    );
    assert_eq!(store.named("nobody@corp.test").await.expect("named"), None);
}

/// A member that leads back to its list is refused, naming the loop; nothing changes.
pub(super) async fn a_member_that_would_make_a_loop_is_refused(f: Fixture) {
    let store = f.store();
    for l in ["a@corp.test", "b@corp.test", "c@corp.test"] {
        store.add_list(l.into(), String::new(), ListSenders::default(), false).await.expect("list");
    }
    store.change_members("a@corp.test".into(), vec!["b@corp.test".into()], vec![]).await.expect("a has b");
    store.change_members("b@corp.test".into(), vec!["c@corp.test".into()], vec![]).await.expect("b has c");
    let looped = store.change_members("c@corp.test".into(), vec!["a@corp.test".into()], vec![]).await;
    match looped {
        Err(StoreError::Conflict(why)) => {
            assert!(why.contains("c@corp.test -> a@corp.test -> b@corp.test -> c@corp.test"), "{why}")
        }
        other => panic!("{other:?}"),
    }
    let itself = store.change_members("a@corp.test".into(), vec!["a@corp.test".into()], vec![]).await;
    assert!(matches!(itself, Err(StoreError::Conflict(_))));
    let c = store.lists().await.expect("lists").into_iter().find(|l| l.address == "c@corp.test").expect("c");
    assert!(c.members.is_empty(), "a refused change changes nothing");
    let removed = store.change_members("a@corp.test".into(), vec![], vec!["b@corp.test".into()]).await.expect("remove");
    assert!(removed.members.is_empty());
}

/// An address names one recipient: a mailbox, a list or a custom recipient.
pub(super) async fn an_address_belongs_to_one_recipient(f: Fixture) {
    let store = f.store();
    mailbox(store, "ann@corp.test").await;
    store.add_list("team@corp.test".into(), String::new(), ListSenders::default(), false).await.expect("list");
    let taken = store.add_list("ann@corp.test".into(), String::new(), ListSenders::default(), false).await;
    assert!(matches!(&taken, Err(StoreError::Conflict(m)) if m.contains("a mailbox")), "{taken:?}");
    let taken = store.add_contact("team@corp.test".into(), String::new(), "t@outside.test".into()).await;
    assert!(matches!(&taken, Err(StoreError::Conflict(m)) if m.contains("a distribution list")), "{taken:?}");
    store.remove_list("team@corp.test".into()).await.expect("remove");
    assert!(matches!(store.remove_list("team@corp.test".into()).await, Err(StoreError::NotFound(_))));
    store.add_contact("team@corp.test".into(), String::new(), "t@outside.test".into()).await.expect("now free");
    assert_eq!(store.contacts().await.expect("contacts").len(), 1);
    store.remove_contact("team@corp.test".into()).await.expect("remove");
    assert!(matches!(store.remove_contact("team@corp.test".into()).await, Err(StoreError::NotFound(_))));
}

/// A custom recipient is changed in place (walk defect 20: it could only be deleted and
/// made again): its name, its outside address, and its address here, which must be
/// free and which the lists naming it follow; it stays hidden if it was.
pub(super) async fn a_custom_recipient_is_changed_in_place_and_its_lists_follow(f: Fixture) {
    let store = f.store();
    mailbox(store, "ann@corp.test").await;
    store.add_contact("pat@corp.test".into(), "Pat".into(), "pat@outside.test".into()).await.expect("contact");
    store.set_hidden("pat@corp.test", true).await.expect("hide");
    store.add_list("team@corp.test".into(), String::new(), ListSenders::default(), false).await.expect("list");
    store.change_members("team@corp.test".into(), vec!["pat@corp.test".into()], vec![]).await.expect("members");

    let taken = store
        .update_contact("pat@corp.test".into(), "ann@corp.test".into(), "Pat".into(), "pat@outside.test".into())
        .await;
    assert!(matches!(&taken, Err(StoreError::Conflict(m)) if m.contains("a mailbox")), "{taken:?}");
    let missing = store
        .update_contact("nobody@corp.test".into(), "nobody@corp.test".into(), String::new(), "x@y.test".into())
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound(_))), "{missing:?}");
    assert_eq!(store.contacts().await.expect("contacts")[0].address, "pat@corp.test", "a refusal changes nothing");

    let c = store
        .update_contact("pat@corp.test".into(), "patricia@corp.test".into(), "Patricia".into(), "pp@new.test".into())
        .await
        .expect("changed");
    assert_eq!(
        (c.address.as_str(), c.display_name.as_str(), c.target.as_str()),
        ("patricia@corp.test", "Patricia", "pp@new.test")
    );
    let all = store.contacts().await.expect("contacts");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].target, "pp@new.test");
    assert!(store.hidden_addresses().await.expect("hidden").contains("patricia@corp.test"), "still hidden");
    let team = store.lists().await.expect("lists").into_iter().find(|l| l.address == "team@corp.test").expect("team");
    assert_eq!(team.members, ["patricia@corp.test"], "the list follows the new address");
    // The same address, only the name changed: no conflict with itself.
    store
        .update_contact("patricia@corp.test".into(), "patricia@corp.test".into(), "Pat".into(), "pp@new.test".into())
        .await
        .expect("renamed");
}
