//! Logins that cannot be raced, over real sockets, for IMAP, POP3 and SMTP AUTH alike.
//!
//! Regression: 100 wrong logins sent at the same moment from one address were all
//! checked, none refused as locked, and a right password among them logged in; with
//! 500 at once 339 wrong passwords were checked. And a lock-out of the account kept its
//! owner out from every address. Now attempts in flight count, a burst of guesses
//! checks no more passwords than the lock-out allows (and refuses the right one in its
//! midst), and the owner, from an address that never failed, gets in meanwhile.
#![expect(clippy::expect_used, reason = "a test helper fails the test at once, saying what it expected")]

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use base64::Engine as _;
use mailroom_tests::Daemon;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// Failed logins from one address for one account before it is locked out for it
/// (`mailroom_service`'s `throttle::PAIR_LOCK`).
const PAIR_LOCK: usize = 5;
/// Simultaneous attempts in a burst.
const BURST: usize = 200;

/// What became of one login attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Logged in.
    In,
    /// The password was checked and was wrong.
    Wrong,
    /// Refused unchecked: locked out.
    Locked,
}

#[derive(Debug, Clone, Copy)]
enum Protocol {
    Imap,
    Pop3,
    Smtp,
}

/// One login over a fresh connection from `source`; what became of it.
async fn login(protocol: Protocol, server: SocketAddr, source: IpAddr, user: &str, password: &str) -> Outcome {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::new(source, 0)).expect("bind");
    let stream = socket.connect(server).await.expect("connect");
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    let mut line = String::new();
    let mut next = async |r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>| {
        line.clear();
        tokio::time::timeout(Duration::from_secs(60), r.read_line(&mut line)).await.expect("an answer").expect("read");
        line.clone()
    };
    let greeting = next(&mut r).await;
    assert!(!greeting.is_empty(), "greeted");
    let answer = match protocol {
        Protocol::Imap => {
            w.write_all(format!("a LOGIN {user} {password}\r\n").as_bytes()).await.expect("write");
            loop {
                let l = next(&mut r).await;
                if l.starts_with("a ") {
                    break l;
                }
            }
        }
        Protocol::Pop3 => {
            w.write_all(format!("USER {user}\r\n").as_bytes()).await.expect("write");
            next(&mut r).await;
            w.write_all(format!("PASS {password}\r\n").as_bytes()).await.expect("write");
            next(&mut r).await
        }
        Protocol::Smtp => {
            w.write_all(b"EHLO client.test\r\n").await.expect("write");
            while !next(&mut r).await.starts_with("250 ") {}
            let blob = base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"));
            w.write_all(format!("AUTH PLAIN {blob}\r\n").as_bytes()).await.expect("write");
            next(&mut r).await
        }
    };
    let answer = answer.trim_end();
    let (ok, wrong, locked) = match protocol {
        Protocol::Imap => ("a OK", "a NO [AUTHENTICATIONFAILED]", "a NO [UNAVAILABLE]"),
        Protocol::Pop3 => ("+OK", "-ERR [AUTH]", "-ERR [LOGIN-DELAY]"),
        Protocol::Smtp => ("235 ", "535 ", "454 "),
    };
    if answer.starts_with(ok) {
        Outcome::In
    } else if answer.starts_with(wrong) {
        Outcome::Wrong
    } else if answer.starts_with(locked) {
        Outcome::Locked
    } else {
        panic!("{protocol:?}: unexpected answer {answer:?}")
    }
}

/// [`BURST`] simultaneous logins as ann from 127.0.0.1, the right password in the
/// middle, while ann herself logs in from 127.0.0.2 a second into the burst.
async fn burst(protocol: Protocol, server: SocketAddr) {
    let attacker: IpAddr = "127.0.0.1".parse().expect("ip");
    let guess = |password: &'static str| {
        tokio::spawn(async move { login(protocol, server, attacker, "ann@corp.test", password).await })
    };
    let mut guesses: Vec<_> = (0..BURST - 1).map(|_| guess("wrong")).collect();
    let owner = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        login(protocol, server, "127.0.0.2".parse().expect("ip"), "ann@corp.test", "ann-pw").await
    });
    // The right password comes once the lock-out holds (tasks start in any order: one
    // that came first would be let in, as it should be, and its success would reset
    // the count, as it should).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while guesses.iter().filter(|g| g.is_finished()).count() < PAIR_LOCK && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    guesses.insert(BURST / 2, guess("ann-pw"));
    let mut outcomes = Vec::new();
    for g in guesses {
        outcomes.push(g.await.expect("join"));
    }
    let checked = outcomes.iter().filter(|o| **o == Outcome::Wrong).count();
    assert!(checked <= PAIR_LOCK, "{protocol:?}: {checked} of {BURST} guesses were checked");
    assert!(!outcomes.contains(&Outcome::In), "{protocol:?}: the right password in the burst was refused");
    assert_eq!(outcomes.iter().filter(|o| **o == Outcome::Locked).count(), BURST - checked, "{protocol:?}");
    assert_eq!(owner.await.expect("join"), Outcome::In, "{protocol:?}: the owner from an address that never failed");
}

async fn service() -> Daemon {
    let d = Daemon::start().await;
    d.add_mailbox("ann@corp.test", "ann-pw");
    d
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_imap_guesses_checks_no_more_than_the_lock_out_allows() {
    let d = service().await;
    burst(Protocol::Imap, d.imap_addr().await).await;
    let listed = d.ctl_ok(&["lockouts"]);
    // The guessing went on against a locked door: the address is locked out for every
    // account, and ann's account is under attack (not closed).
    assert!(listed.lines().any(|l| l.starts_with("127.0.0.1") && l.contains("address, for every account")), "{listed}");
    assert!(listed.lines().any(|l| l.starts_with("ann@corp.test") && l.contains("under attack")), "{listed}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_pop3_guesses_checks_no_more_than_the_lock_out_allows() {
    let d = service().await;
    burst(Protocol::Pop3, d.pop3_addr().await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_smtp_auth_guesses_checks_no_more_than_the_lock_out_allows() {
    let d = service().await;
    burst(Protocol::Smtp, d.smtp_addr().await).await;
}
