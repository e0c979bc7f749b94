//! Slowing down password guessing, for every protocol's logins alike (SMTP AUTH, POP3,
//! IMAP; ManageSieve and HTTP when they come): one path, [`AuthThrottle::check_login`].
//!
//! **What an attempt counts against.** Every failed login is counted against the
//! client's address, against the address *for that account* (a pair), and against the
//! account (whether or not it exists, so that the behaviour reveals nothing about which
//! accounts do). The answer to a failure waits 0.5 s after the address's first and
//! doubles up to [`MAX_DELAY`]; the address's turn is held meanwhile.
//!
//! **Lock-outs are the guesser's, not the owner's.** An address that failed
//! [`PAIR_LOCK`] times for an account is locked out *for that account*; past
//! [`ADDRESS_LOCK`] failures (any accounts) it is locked out for all. Locked out, an
//! attempt is refused without looking at the password — a right guess is not told so —
//! for [`LOCKOUT`] after the last failure. An account is never closed by others'
//! failures: past [`ACCOUNT_SLOW`] failures from anywhere it is *under attack*, and
//! logins to it from addresses it does not know (none has logged in as it lately) are
//! slowed — a few at a time, each after [`SLOW_DELAY`] — while its owner, from an
//! address it knows, is let through at once.
//!
//! **Attempts in flight count.** Before a password is checked the attempt is reserved:
//! at most [`IN_FLIGHT_PER_ADDRESS`] checks run at once for one address (the rest wait
//! their turn), and a reserved attempt counts as a failure until it is settled, so that
//! a burst of simultaneous guesses cannot be checked past the lock-out: the attempt
//! that would reach it is refused unchecked, and so is every attempt still in flight
//! when the lock-out falls, right password or not.
//!
//! The counts live for one run of the process; the administrator can lift a lock-out at
//! once ([`AuthThrottle::unlock`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Failures older than this no longer count.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Longest delay before answering a failed login.
pub const MAX_DELAY: Duration = Duration::from_secs(8);
/// Failures from one address for one account that lock the address out for it.
pub const PAIR_LOCK: u32 = 5;
/// Failures from one address (any accounts) that lock it out for all.
pub const ADDRESS_LOCK: u32 = 10;
/// Failures against one account (from anywhere) past which it is under attack.
pub const ACCOUNT_SLOW: u32 = 20;
/// How long a login to an account under attack waits, from an address it does not know.
pub const SLOW_DELAY: Duration = Duration::from_secs(2);
/// How long a lock-out lasts after the last failure.
pub const LOCKOUT: Duration = FAILURE_WINDOW;
/// Checks that run at once for one address; it is fewer than [`PAIR_LOCK`], so that a
/// client opening several sessions at once with the right password is never refused.
pub const IN_FLIGHT_PER_ADDRESS: usize = 4;
/// Checks that run at once for an account under attack, from addresses it does not
/// know.
pub const IN_FLIGHT_PER_ACCOUNT: usize = 2;
/// How long an address that logged in as an account stays one the account knows.
const KNOWN_FOR: Duration = Duration::from_secs(30 * 86_400);
/// Addresses remembered per account.
const KNOWN_PER_ACCOUNT: usize = 16;
/// Login names are counted by at most this many characters (addresses have at most
/// 254), so that guesses with huge names cannot make the table huge.
const MAX_KEY: usize = 256;
/// Old entries are swept at most this often.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// A current lock-out, or an account under attack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lockout {
    /// The address, or (lower-case) login name for an account under attack.
    pub client: String,
    /// What it is.
    pub kind: LockoutKind,
    /// Failures within the window.
    pub failures: u32,
    /// How long until it ends, if guessing stops now.
    pub remaining: Duration,
}

/// What a [`Lockout`] closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockoutKind {
    /// The address, for every account.
    Address,
    /// The address, for this account only.
    AddressForAccount(String),
    /// Nothing: the account is under attack, and logins to it from addresses it does
    /// not know are slowed.
    AccountSlowed,
}

/// What [`AuthThrottle::check_login`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// The password matches this mailbox.
    Mailbox(i64),
    /// Refused unchecked: the address is locked out (for this account, or for all).
    LockedOut,
    /// Wrong password or unknown login, answered after `delay`.
    Refused {
        /// How long the answer waited.
        delay: Duration,
    },
    /// The store could not be asked (logged).
    Unavailable,
}

/// A count of failures and when the last one was.
#[derive(Debug, Clone, Copy)]
struct Count {
    n: u32,
    last: Instant,
}

impl Count {
    /// The count if its last failure is still within the window at `now`.
    fn live(c: Option<&Count>, now: Instant) -> u32 {
        c.filter(|c| now.duration_since(c.last) < FAILURE_WINDOW).map_or(0, |c| c.n)
    }
}

/// Failed logins of one run and the attempts in flight. Shared by every session of
/// every protocol of the run; the mutex is held only for short, non-async sections.
#[derive(Debug, Default)]
pub struct AuthThrottle {
    state: Mutex<State>,
    /// Failed logins since the process started, for the metrics endpoint.
    failed_total: AtomicU64,
}

/// The counts and the attempts in flight.
#[derive(Debug, Default)]
struct State {
    by_ip: HashMap<IpAddr, Count>,
    by_pair: HashMap<(IpAddr, String), Count>,
    by_login: HashMap<String, Count>,
    /// Attempts reserved and not yet settled, counted as failures meanwhile.
    pending_ip: HashMap<IpAddr, u32>,
    pending_pair: HashMap<(IpAddr, String), u32>,
    /// The places for checks in flight, per address (and per account under attack).
    places_ip: HashMap<IpAddr, Arc<Semaphore>>,
    places_login: HashMap<String, Arc<Semaphore>>,
    /// Addresses each account logged in from lately, with when.
    known: HashMap<String, Vec<(IpAddr, Instant)>>,
    swept: Option<Instant>,
}

impl State {
    /// Drops counts whose last failure left the window, knowledge past its time, and
    /// places nobody holds (at most once a second: the tables can be large during an
    /// attack).
    fn forget_old(&mut self, now: Instant) {
        if self.swept.is_some_and(|at| now.duration_since(at) < SWEEP_EVERY) {
            return;
        }
        self.swept = Some(now);
        let live = |c: &Count| now.duration_since(c.last) < FAILURE_WINDOW;
        self.by_ip.retain(|_, c| live(c));
        self.by_pair.retain(|_, c| live(c));
        self.by_login.retain(|_, c| live(c));
        self.places_ip.retain(|_, s| Arc::strong_count(s) > 1);
        self.places_login.retain(|_, s| Arc::strong_count(s) > 1);
        self.known.retain(|_, addresses| {
            addresses.retain(|(_, at)| now.duration_since(*at) < KNOWN_FOR);
            !addresses.is_empty()
        });
    }

    /// Failures and reserved attempts for `ip`, and for `ip` with `login`.
    fn load(&self, ip: IpAddr, pair: &(IpAddr, String), now: Instant) -> (u32, u32) {
        let ip_load = Count::live(self.by_ip.get(&ip), now) + self.pending_ip.get(&ip).copied().unwrap_or(0);
        let pair_load = Count::live(self.by_pair.get(pair), now) + self.pending_pair.get(pair).copied().unwrap_or(0);
        (ip_load, pair_load)
    }

    /// True when `ip` is locked out for `login`, its reserved attempts counted.
    fn locked(&self, ip: IpAddr, pair: &(IpAddr, String), now: Instant) -> bool {
        let (ip_load, pair_load) = self.load(ip, pair, now);
        ip_load >= ADDRESS_LOCK || pair_load >= PAIR_LOCK
    }

    /// True when `login` is under attack and `ip` is not an address it knows.
    fn slowed(&self, ip: IpAddr, login: &str, now: Instant) -> bool {
        Count::live(self.by_login.get(login), now) >= ACCOUNT_SLOW
            && !self.known.get(login).is_some_and(|a| a.iter().any(|(known, _)| *known == ip))
    }

    fn bump(map: &mut HashMap<(IpAddr, String), u32>, key: &(IpAddr, String), up: bool) {
        if up {
            *map.entry(key.clone()).or_default() += 1;
        } else if let Some(n) = map.get_mut(key) {
            *n -= 1;
            if *n == 0 {
                map.remove(key);
            }
        }
    }
}

/// An attempt reserved for checking: counted as a failure of its address (and pair)
/// until settled; dropping it unsettled (the session went away) forgets it.
struct Reservation<'a> {
    throttle: &'a AuthThrottle,
    ip: IpAddr,
    pair: (IpAddr, String),
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let mut s = self.throttle.lock();
        if let Some(n) = s.pending_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                s.pending_ip.remove(&self.ip);
            }
        }
        State::bump(&mut s.pending_pair, &self.pair, false);
    }
}

fn key(login: &str) -> String {
    login.trim().chars().take(MAX_KEY).collect::<String>().to_ascii_lowercase()
}

impl AuthThrottle {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Checks `password` for `login` from `ip` with every rule of this module: refused
    /// unchecked while the address is locked out for the account; a turn among the
    /// address's checks in flight; slowed when the account is under attack and does not
    /// know the address; the attempt reserved while it is checked; a failure answered
    /// after its delay (the same for an unknown login as for a wrong password); a right
    /// password refused when a lock-out fell while it was in flight.
    pub async fn check_login(&self, store: &crate::store::Store, ip: IpAddr, login: &str, password: String) -> Checked {
        let login_key = key(login);
        let pair = (ip, login_key.clone());
        if self.locked_now(ip, &pair) {
            return self.refuse_locked(ip, login).await;
        }
        // A turn among this address's checks (the rest wait; a session that leaves
        // gives its place back).
        let address_turn = self.place(ip, &login_key, false).acquire_owned().await;
        if self.locked_now(ip, &pair) {
            drop(address_turn);
            return self.refuse_locked(ip, login).await;
        }
        let account_turn: Option<OwnedSemaphorePermit> = if self.slowed_now(ip, &login_key) {
            let turn = self.place(ip, &login_key, true).acquire_owned().await.ok();
            tokio::time::sleep(SLOW_DELAY).await;
            turn
        } else {
            None
        };
        let Some(reservation) = self.reserve(ip, pair) else {
            drop((address_turn, account_turn));
            return self.refuse_locked(ip, login).await;
        };
        let checked = store.check_login(login, password).await;
        match checked {
            Ok(Some(mailbox)) => {
                let locked = {
                    let mut s = self.lock();
                    let now = Instant::now();
                    // Others' failures may have locked the address out while this one
                    // was checked: then it is refused like them, right or not.
                    let pair = &reservation.pair;
                    let locked = Count::live(s.by_ip.get(&ip), now) >= ADDRESS_LOCK
                        || Count::live(s.by_pair.get(pair), now) >= PAIR_LOCK;
                    if !locked {
                        s.by_ip.remove(&ip);
                        s.by_pair.remove(pair);
                        let known = s.known.entry(login_key).or_default();
                        known.retain(|(a, _)| *a != ip);
                        known.push((ip, now));
                        if known.len() > KNOWN_PER_ACCOUNT {
                            known.remove(0);
                        }
                    }
                    locked
                };
                drop(reservation);
                if locked {
                    drop((address_turn, account_turn));
                    return self.refuse_locked(ip, login).await;
                }
                Checked::Mailbox(mailbox)
            }
            Ok(None) => {
                let delay = self.failed(ip, login);
                drop(reservation);
                tokio::time::sleep(delay).await;
                Checked::Refused { delay }
            }
            Err(e) => {
                tracing::error!(error = %e, "credential lookup failed");
                Checked::Unavailable
            }
        }
    }

    /// A place among the checks in flight for `ip` (or, with `account`, for `login`
    /// under attack).
    fn place(&self, ip: IpAddr, login: &str, account: bool) -> Arc<Semaphore> {
        let mut s = self.lock();
        if account {
            let places = s.places_login.entry(login.to_owned());
            Arc::clone(places.or_insert_with(|| Arc::new(Semaphore::new(IN_FLIGHT_PER_ACCOUNT))))
        } else {
            Arc::clone(s.places_ip.entry(ip).or_insert_with(|| Arc::new(Semaphore::new(IN_FLIGHT_PER_ADDRESS))))
        }
    }

    fn locked_now(&self, ip: IpAddr, pair: &(IpAddr, String)) -> bool {
        let mut s = self.lock();
        let now = Instant::now();
        s.forget_old(now);
        s.locked(ip, pair, now)
    }

    fn slowed_now(&self, ip: IpAddr, login: &str) -> bool {
        self.lock().slowed(ip, login, Instant::now())
    }

    /// Reserves an attempt, or `None` when its address is locked out for the account,
    /// counting the attempts already in flight as failures.
    fn reserve(&self, ip: IpAddr, pair: (IpAddr, String)) -> Option<Reservation<'_>> {
        let mut s = self.lock();
        let now = Instant::now();
        s.forget_old(now);
        if s.locked(ip, &pair, now) {
            return None;
        }
        *s.pending_ip.entry(ip).or_default() += 1;
        State::bump(&mut s.pending_pair, &pair, true);
        Some(Reservation { throttle: self, ip, pair })
    }

    /// Refuses a locked-out attempt: counted as a failure (a lock-out lasts while the
    /// guessing goes on), answered after [`MAX_DELAY`], the password never looked at.
    async fn refuse_locked(&self, ip: IpAddr, login: &str) -> Checked {
        self.failed(ip, login);
        tracing::info!(%ip, login, "login refused: locked out");
        tokio::time::sleep(MAX_DELAY).await;
        Checked::LockedOut
    }

    /// Records a failed login from `ip` as `login` (a refusal counts too) and returns
    /// how long to wait before answering it.
    pub fn failed(&self, ip: IpAddr, login: &str) -> Duration {
        self.failed_total.fetch_add(1, Ordering::Relaxed);
        let mut s = self.lock();
        let now = Instant::now();
        s.forget_old(now);
        let login = key(login);
        let add = |old: u32| Count { n: old.saturating_add(1), last: now };
        let ip_count = add(Count::live(s.by_ip.get(&ip), now));
        let pair = (ip, login.clone());
        let pair_count = add(Count::live(s.by_pair.get(&pair), now));
        let login_count = add(Count::live(s.by_login.get(&login), now));
        if ip_count.n == ADDRESS_LOCK {
            tracing::warn!(%ip, failures = ip_count.n, lockout = ?LOCKOUT, "too many failed logins; locked out");
        } else if pair_count.n == PAIR_LOCK {
            tracing::warn!(%ip, %login, failures = pair_count.n, lockout = ?LOCKOUT, "too many failed logins; locked out for this account");
        }
        if login_count.n == ACCOUNT_SLOW {
            tracing::warn!(%login, failures = login_count.n, "too many failed logins for an account; unknown addresses are slowed");
        }
        s.by_ip.insert(ip, ip_count);
        s.by_pair.insert(pair, pair_count);
        s.by_login.insert(login, login_count);
        delay_for(ip_count.n)
    }

    /// The lock-outs now (and the accounts under attack), the longest remaining first.
    pub fn lockouts(&self) -> Vec<Lockout> {
        let s = self.lock();
        let now = Instant::now();
        let remaining = |c: &Count| LOCKOUT.saturating_sub(now.duration_since(c.last));
        let mut all: Vec<Lockout> = Vec::new();
        for (ip, c) in s.by_ip.iter().filter(|(_, c)| c.n >= ADDRESS_LOCK) {
            all.push(Lockout {
                client: ip.to_string(),
                kind: LockoutKind::Address,
                failures: c.n,
                remaining: remaining(c),
            });
        }
        for ((ip, login), c) in s.by_pair.iter().filter(|(_, c)| c.n >= PAIR_LOCK) {
            if Count::live(s.by_ip.get(ip), now) >= ADDRESS_LOCK {
                continue;
            }
            let kind = LockoutKind::AddressForAccount(login.clone());
            all.push(Lockout { client: ip.to_string(), kind, failures: c.n, remaining: remaining(c) });
        }
        for (login, c) in s.by_login.iter().filter(|(_, c)| c.n >= ACCOUNT_SLOW) {
            let kind = LockoutKind::AccountSlowed;
            all.push(Lockout { client: login.clone(), kind, failures: c.n, remaining: remaining(c) });
        }
        all.retain(|l| !l.remaining.is_zero());
        all.sort_by(|a, b| b.remaining.cmp(&a.remaining).then_with(|| a.client.cmp(&b.client)));
        all
    }

    /// Lifts the lock-outs of an address (for every account), or the slowing of an
    /// account and its address locks, forgetting their failures; false when there was
    /// nothing to lift.
    pub fn unlock(&self, client: &str) -> bool {
        let mut s = self.lock();
        match client.trim().parse::<IpAddr>() {
            Ok(ip) => {
                let pairs = s.by_pair.len();
                s.by_pair.retain(|(a, _), _| *a != ip);
                s.by_ip.remove(&ip).is_some() || s.by_pair.len() < pairs
            }
            Err(_) => {
                let login = key(client);
                let pairs = s.by_pair.len();
                s.by_pair.retain(|(_, l), _| *l != login);
                s.by_login.remove(&login).is_some() || s.by_pair.len() < pairs
            }
        }
    }

    /// Failed logins since the process started.
    pub fn failed_total(&self) -> u64 {
        self.failed_total.load(Ordering::Relaxed)
    }
}

/// 0.5 s after the first failure, doubling up to [`MAX_DELAY`].
fn delay_for(failures: u32) -> Duration {
    let shift = failures.saturating_sub(1).min(8);
    (Duration::from_millis(500) * (1u32 << shift)).min(MAX_DELAY)
}

#[cfg(test)]
mod tests;
