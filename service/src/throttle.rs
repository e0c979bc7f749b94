//! Slowing down password guessing, for SMTP AUTH and POP3 logins alike.
//!
//! Every failed login is counted twice: against the client's address and against the
//! login name (whether or not such an account exists, so that the behaviour reveals
//! nothing about which accounts do). The answer to a failure is delayed, 0.5 s after
//! the first and doubling up to [`MAX_DELAY`], by whichever count is higher: guessing
//! gets slow whether it is spread over accounts or over addresses.
//!
//! Past a threshold the client or the account is **locked out**: for [`LOCKOUT`] after
//! its last failure, logins are refused without looking at the password, so that a
//! guess that happens to be right during the lock-out is not told so. Addresses are
//! locked out sooner than accounts, because anyone can lock out an account by failing
//! on purpose; a success clears both counts. The counts live for one run of the
//! service, so restarting it is the administrator's way to lift a lock-out at once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures older than this no longer count.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Longest delay before answering a failed login.
pub const MAX_DELAY: Duration = Duration::from_secs(8);
/// Failures from one address that lock it out.
pub const LOCKOUT_AFTER_IP: u32 = 10;
/// Failures for one login name that lock it out.
pub const LOCKOUT_AFTER_LOGIN: u32 = 20;
/// How long a lock-out lasts after the last failure.
pub const LOCKOUT: Duration = FAILURE_WINDOW;
/// Login names are counted by at most this many characters (addresses have at most
/// 254), so that guesses with huge names cannot make the table huge.
const MAX_KEY: usize = 256;
/// Old entries are swept at most this often.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// Whether a login attempt may be checked at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Check the password.
    Open,
    /// Locked out: refuse after waiting `delay`, without checking.
    LockedOut {
        /// How long to wait before answering.
        delay: Duration,
    },
}

/// A current lock-out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lockout {
    /// The address or (lower-case) login name.
    pub client: String,
    /// True for an address.
    pub is_address: bool,
    /// Failures within the window.
    pub failures: u32,
    /// How long until it ends, if guessing stops now.
    pub remaining: Duration,
}

/// Failed logins of one run, by address and by login name. Shared by every SMTP and
/// POP3 session of the run.
#[derive(Debug, Default)]
pub struct AuthThrottle {
    failures: Mutex<Failures>,
    /// Failed logins since the process started, for the metrics endpoint.
    failed_total: std::sync::atomic::AtomicU64,
}

/// Failure counts with the time of the last failure.
#[derive(Debug, Default)]
struct Failures {
    by_ip: HashMap<IpAddr, (u32, Instant)>,
    by_login: HashMap<String, (u32, Instant)>,
    swept: Option<Instant>,
}

impl Failures {
    /// Drops counts whose last failure left the window (at most once a second: the
    /// tables can hold many entries during an attack).
    fn forget_old(&mut self, now: Instant) {
        if self.swept.is_some_and(|at| now.duration_since(at) < SWEEP_EVERY) {
            return;
        }
        self.swept = Some(now);
        self.by_ip.retain(|_, (_, at)| now.duration_since(*at) < FAILURE_WINDOW);
        self.by_login.retain(|_, (_, at)| now.duration_since(*at) < FAILURE_WINDOW);
    }
    /// The counts for `ip` and `login`, ignoring any that left the window since the
    /// last sweep.
    fn counts(&self, ip: IpAddr, login: &str, now: Instant) -> (u32, u32) {
        let live = |e: Option<&(u32, Instant)>| {
            e.filter(|(_, at)| now.duration_since(*at) < FAILURE_WINDOW).map_or(0, |e| e.0)
        };
        (live(self.by_ip.get(&ip)), live(self.by_login.get(login)))
    }
}

fn key(login: &str) -> String {
    login.trim().chars().take(MAX_KEY).collect::<String>().to_ascii_lowercase()
}

/// What [`AuthThrottle::check_login`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// The password matches this mailbox.
    Mailbox(i64),
    /// Refused unchecked: the address or the login is locked out.
    LockedOut,
    /// Wrong password or unknown login, answered after `delay`.
    Refused {
        /// How long the answer waited.
        delay: Duration,
    },
    /// The store could not be asked (logged).
    Unavailable,
}

impl AuthThrottle {
    /// Whether a login from `ip` as `login` may be tried now.
    pub fn gate(&self, ip: IpAddr, login: &str) -> Gate {
        let mut f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        f.forget_old(now);
        let (by_ip, by_login) = f.counts(ip, &key(login), now);
        if by_ip >= LOCKOUT_AFTER_IP || by_login >= LOCKOUT_AFTER_LOGIN {
            Gate::LockedOut { delay: MAX_DELAY }
        } else {
            Gate::Open
        }
    }

    /// For a login about to be checked: when `ip` or `login` is locked out, counts the
    /// attempt as a failure, waits the delay and returns true (refuse it without
    /// checking the password); otherwise returns false at once.
    pub async fn refuse_if_locked_out(&self, ip: IpAddr, login: &str) -> bool {
        let Gate::LockedOut { delay } = self.gate(ip, login) else { return false };
        self.failed(ip, login);
        tracing::info!(%ip, login, "login refused: locked out");
        tokio::time::sleep(delay).await;
        true
    }

    /// Records a failed login (a refusal while locked out counts too, so that a
    /// lock-out lasts while guessing goes on) and returns how long to wait before
    /// answering it.
    pub fn failed(&self, ip: IpAddr, login: &str) -> Duration {
        self.failed_total.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        f.forget_old(now);
        let login = key(login);
        let (old_ip, old_login) = f.counts(ip, &login, now);
        let (ip_count, login_count) = (old_ip.saturating_add(1), old_login.saturating_add(1));
        if ip_count == LOCKOUT_AFTER_IP || login_count == LOCKOUT_AFTER_LOGIN {
            tracing::warn!(%ip, %login, failures = ip_count.max(login_count), lockout = ?LOCKOUT, "too many failed logins; locked out");
        }
        f.by_ip.insert(ip, (ip_count, now));
        f.by_login.insert(login, (login_count, now));
        delay_for(ip_count.max(login_count))
    }

    /// The addresses and logins locked out now, the most recent failure first.
    pub fn lockouts(&self) -> Vec<Lockout> {
        let f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let remaining = |at: Instant| LOCKOUT.saturating_sub(now.duration_since(at));
        let addresses = f.by_ip.iter().filter(|(_, (n, _))| *n >= LOCKOUT_AFTER_IP).map(|(ip, (n, at))| Lockout {
            client: ip.to_string(),
            is_address: true,
            failures: *n,
            remaining: remaining(*at),
        });
        let logins = f.by_login.iter().filter(|(_, (n, _))| *n >= LOCKOUT_AFTER_LOGIN).map(|(login, (n, at))| {
            Lockout { client: login.clone(), is_address: false, failures: *n, remaining: remaining(*at) }
        });
        let mut all: Vec<Lockout> = addresses.chain(logins).filter(|l| !l.remaining.is_zero()).collect();
        all.sort_by(|a, b| b.remaining.cmp(&a.remaining).then_with(|| a.client.cmp(&b.client)));
        all
    }

    /// Lifts the lock-out (and forgets the failures) of an address or login name;
    /// false when there was none.
    pub fn unlock(&self, client: &str) -> bool {
        let mut f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match client.trim().parse::<IpAddr>() {
            Ok(ip) => f.by_ip.remove(&ip).is_some(),
            Err(_) => f.by_login.remove(&key(client)).is_some(),
        }
    }

    /// The login check POP3 and IMAP share: refused at once while `ip` or `login` is
    /// locked out; otherwise the password is checked, and a failure is counted and
    /// answered only after its delay (the same for an unknown login as a wrong
    /// password).
    pub async fn check_login(&self, store: &crate::store::Store, ip: IpAddr, login: &str, password: String) -> Checked {
        if self.refuse_if_locked_out(ip, login).await {
            return Checked::LockedOut;
        }
        match store.check_login(login, password).await {
            Ok(Some(mailbox)) => {
                self.succeeded(ip, login);
                Checked::Mailbox(mailbox)
            }
            Ok(None) => {
                let delay = self.failed(ip, login);
                tokio::time::sleep(delay).await;
                Checked::Refused { delay }
            }
            Err(e) => {
                tracing::error!(error = %e, "credential lookup failed");
                Checked::Unavailable
            }
        }
    }

    /// Failed logins since the process started.
    pub fn failed_total(&self) -> u64 {
        self.failed_total.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Forgets the failures of a login that just succeeded from `ip`.
    pub fn succeeded(&self, ip: IpAddr, login: &str) {
        let mut f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        f.by_ip.remove(&ip);
        f.by_login.remove(&key(login));
    }
}

/// 0.5 s after the first failure, doubling up to [`MAX_DELAY`].
fn delay_for(failures: u32) -> Duration {
    let shift = failures.saturating_sub(1).min(8);
    (Duration::from_millis(500) * (1u32 << shift)).min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn delays_grow_and_reset() {
        let t = AuthThrottle::default();
        assert_eq!(t.failed(ip("192.0.2.1"), "ann"), Duration::from_millis(500));
        assert_eq!(t.failed(ip("192.0.2.1"), "bob"), Duration::from_secs(1), "same address, other login");
        assert_eq!(t.failed(ip("192.0.2.2"), "ANN"), Duration::from_secs(1), "same login, other address");
        for _ in 0..5 {
            t.failed(ip("192.0.2.1"), "ann");
        }
        assert_eq!(t.failed(ip("192.0.2.1"), "ann"), MAX_DELAY);
        t.succeeded(ip("192.0.2.1"), "ann");
        assert_eq!(t.failed(ip("192.0.2.1"), "ann"), Duration::from_millis(500));
    }

    #[test]
    fn an_address_is_locked_out_before_an_account() {
        let t = AuthThrottle::default();
        for i in 0..LOCKOUT_AFTER_IP {
            assert_eq!(t.gate(ip("192.0.2.9"), &format!("user{i}")), Gate::Open);
            t.failed(ip("192.0.2.9"), &format!("user{i}"));
        }
        assert!(matches!(t.gate(ip("192.0.2.9"), "someone"), Gate::LockedOut { .. }), "the address is locked out");
        assert_eq!(t.gate(ip("192.0.2.10"), "user0"), Gate::Open, "the accounts are not");
    }

    #[test]
    fn an_account_is_locked_out_from_every_address() {
        let t = AuthThrottle::default();
        for i in 0..LOCKOUT_AFTER_LOGIN {
            t.failed(IpAddr::from([198, 51, 100, i as u8]), "ann@corp.test");
        }
        assert!(matches!(t.gate(ip("203.0.113.1"), "Ann@Corp.Test"), Gate::LockedOut { .. }));
        assert_eq!(t.gate(ip("203.0.113.1"), "bob@corp.test"), Gate::Open);
    }

    #[test]
    fn lockouts_are_listed_and_can_be_lifted() {
        let t = AuthThrottle::default();
        for i in 0..LOCKOUT_AFTER_IP {
            t.failed(ip("192.0.2.9"), &format!("user{i}"));
        }
        let listed = t.lockouts();
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!((listed[0].client.as_str(), listed[0].is_address, listed[0].failures), ("192.0.2.9", true, 10));
        assert!(listed[0].remaining > LOCKOUT - Duration::from_secs(5));
        assert!(t.unlock("192.0.2.9"));
        assert_eq!(t.gate(ip("192.0.2.9"), "user0"), Gate::Open);
        assert!(!t.unlock("192.0.2.9"), "nothing left to lift");
        assert!(t.lockouts().is_empty());
    }

    #[test]
    fn huge_login_names_are_counted_by_their_start() {
        let t = AuthThrottle::default();
        let long = "x".repeat(10_000);
        t.failed(ip("192.0.2.1"), &long);
        assert!(t.failures.lock().expect("lock").by_login.keys().all(|k| k.len() == MAX_KEY));
        assert_eq!(t.failed(ip("192.0.2.2"), &format!("{long}y")), Duration::from_secs(1), "same first 256");
    }
}
