//! The throttle's rules, on their own and with a real store behind `check_login`.

use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

#[test]
fn delays_grow_per_address_and_a_login_forgets_them() {
    let t = AuthThrottle::default();
    assert_eq!(t.failed(ip("192.0.2.1"), "ann"), Duration::from_millis(500));
    assert_eq!(t.failed(ip("192.0.2.1"), "bob"), Duration::from_secs(1), "same address, other login");
    assert_eq!(t.failed(ip("192.0.2.2"), "ANN"), Duration::from_millis(500), "another address starts afresh");
    for _ in 0..5 {
        t.failed(ip("192.0.2.1"), "carl");
    }
    assert_eq!(t.failed(ip("192.0.2.1"), "dora"), MAX_DELAY);
}

#[test]
fn an_address_is_locked_out_for_an_account_then_for_all() {
    let t = AuthThrottle::default();
    let a = ip("192.0.2.9");
    let pair = |login: &str| (a, key(login));
    for _ in 0..PAIR_LOCK {
        assert!(!t.locked_now(a, &pair("ann@corp.test")));
        t.failed(a, "Ann@Corp.Test");
    }
    assert!(t.locked_now(a, &pair("ann@corp.test")), "locked for ann");
    assert!(!t.locked_now(a, &pair("bob@corp.test")), "not for bob");
    assert!(!t.locked_now(ip("192.0.2.10"), &(ip("192.0.2.10"), key("ann@corp.test"))), "nor for others");
    for i in PAIR_LOCK..ADDRESS_LOCK {
        t.failed(a, &format!("user{i}"));
    }
    assert!(t.locked_now(a, &pair("bob@corp.test")), "past the address's count, for all");
}

#[test]
fn an_account_under_attack_is_slowed_for_addresses_it_does_not_know() {
    let t = AuthThrottle::default();
    for i in 0..ACCOUNT_SLOW {
        t.failed(IpAddr::from([198, 51, 100, u8::try_from(i).expect("small")]), "ann@corp.test");
    }
    let owner = ip("203.0.113.1");
    assert!(t.slowed_now(owner, "ann@corp.test"), "an address the account does not know");
    assert!(!t.locked_now(owner, &(owner, key("ann@corp.test"))), "but not locked out");
    assert!(!t.slowed_now(owner, "bob@corp.test"));
    t.lock().known.insert(key("ann@corp.test"), vec![(owner, Instant::now())]);
    assert!(!t.slowed_now(owner, "ann@corp.test"), "the owner's usual address is not slowed");
    let listed = t.lockouts();
    assert!(listed.iter().any(|l| l.client == "ann@corp.test" && l.kind == LockoutKind::AccountSlowed), "{listed:?}");
}

#[test]
fn lockouts_are_listed_and_can_be_lifted() {
    let t = AuthThrottle::default();
    for i in 0..ADDRESS_LOCK {
        t.failed(ip("192.0.2.9"), &format!("user{i}"));
    }
    for _ in 0..PAIR_LOCK {
        t.failed(ip("192.0.2.8"), "ann@corp.test");
    }
    let listed = t.lockouts();
    assert_eq!(listed.len(), 2, "{listed:?}");
    let whole = listed.iter().find(|l| l.client == "192.0.2.9").expect("the address");
    assert_eq!((whole.kind.clone(), whole.failures), (LockoutKind::Address, ADDRESS_LOCK));
    assert!(whole.remaining > LOCKOUT - Duration::from_secs(5));
    let one = listed.iter().find(|l| l.client == "192.0.2.8").expect("the pair");
    assert_eq!(one.kind, LockoutKind::AddressForAccount("ann@corp.test".into()));
    assert!(t.unlock("192.0.2.9"));
    assert!(!t.unlock("192.0.2.9"), "nothing left to lift");
    assert!(t.unlock("ANN@corp.test"), "an account's name lifts its address locks");
    assert!(t.lockouts().is_empty());
}

#[test]
fn huge_login_names_are_counted_by_their_start() {
    let t = AuthThrottle::default();
    let long = "x".repeat(10_000);
    t.failed(ip("192.0.2.1"), &long);
    assert!(t.lock().by_login.keys().all(|k| k.len() == MAX_KEY));
    t.failed(ip("192.0.2.2"), &format!("{long}y"));
    assert_eq!(t.lock().by_login.values().map(|c| c.n).collect::<Vec<_>>(), [2], "same first 256");
}

/// Regression: 100 wrong logins sent at once from one address were all checked, and a
/// right password among them logged in. Now at most [`PAIR_LOCK`] are checked, the
/// right password in the burst is refused, and the owner gets in from another address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_simultaneous_guesses_checks_no_more_than_the_lock_out_allows() {
    let (_dir, ctx) = crate::testing::context(|_| {}).await;
    let ann = crate::testing::mailbox(&ctx, "ann@corp.test", "right").await;
    let t = Arc::new(AuthThrottle::default());
    let attacker = ip("192.0.2.66");
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let (t, store) = (Arc::clone(&t), ctx.store.clone());
            let password = if i == 50 { "right" } else { "wrong" };
            tokio::spawn(async move { t.check_login(&store, attacker, "ann@corp.test", password.into()).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("join"));
    }
    let checked = outcomes.iter().filter(|o| matches!(o, Checked::Refused { .. })).count();
    assert!(checked <= PAIR_LOCK as usize, "{checked} passwords checked");
    assert!(!outcomes.contains(&Checked::Mailbox(ann)), "the right password in the burst is refused");
    assert_eq!(outcomes.iter().filter(|o| **o == Checked::LockedOut).count(), 100 - checked);
    let owner = t.check_login(&ctx.store, ip("203.0.113.7"), "ann@corp.test", "right".into()).await;
    assert_eq!(owner, Checked::Mailbox(ann), "the owner, from an address that never failed");
}

/// Several sessions of one client logging in at once with the right password (a mail
/// program opens a few) all get in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_opening_several_sessions_at_once_is_never_refused() {
    let (_dir, ctx) = crate::testing::context(|_| {}).await;
    let ann = crate::testing::mailbox(&ctx, "ann@corp.test", "right").await;
    let t = Arc::new(AuthThrottle::default());
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let (t, store) = (Arc::clone(&t), ctx.store.clone());
            tokio::spawn(async move { t.check_login(&store, ip("192.0.2.5"), "ann@corp.test", "right".into()).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.expect("join"), Checked::Mailbox(ann));
    }
}
