//! Connection limits: how many connections a protocol's listeners take, overall and
//! per client address, and the load signal that shortens waits.
//!
//! Each protocol has one [`Limits`] for its listeners together (SMTP with
//! submissions, POP3 with pop3s). A connection takes a [`Slot`], given back when it is
//! dropped. When a protocol's open connections pass three quarters of its limit it is
//! **under load**, and sessions wait at most [`STRESS_TIMEOUT`] for a client's next
//! command, as Postfix does under stress: idle and slow clients make room for the rest
//! instead of holding their slot for minutes. When every place is taken, the session
//! that has waited longest for its client ([`Slot::waiting`]) is closed to make room.
//!
//! A leaf: the listener admits connections here, and a connection's waits
//! ([`crate::line`]) mark themselves waiting here.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

/// The longest wait for a client while under load.
pub(crate) const STRESS_TIMEOUT: Duration = Duration::from_secs(10);

/// Open connections, overall and per client IP, and the sessions waiting for their
/// client's next command. The counts change only with `per_ip` locked; `total` is also
/// an atomic so that sessions can check the load without taking the lock.
#[derive(Debug, Default)]
struct Counts {
    total: AtomicUsize,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    /// Slot id → since when it waits for a command, and how to close it.
    waiting: Mutex<HashMap<u64, (Instant, CancellationToken)>>,
    next_id: AtomicU64,
}

/// Connection limits of one protocol's listeners: shared by the listeners, which take
/// a [`Slot`] per connection, and the slots, which give their place back when dropped.
///
/// When every place is taken, a new connection does not get a `421` while some other
/// session has been waiting for its client for longer: the one waiting the longest is
/// closed to make room (the slow and the idle make way for clients that talk). The
/// per-address limit is never lifted this way.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    counts: Arc<Counts>,
    max_total: usize,
    max_per_ip: usize,
    /// The protocol's open sessions, for the Monitor (shared by the runs).
    open: Arc<AtomicUsize>,
}

impl Limits {
    /// Limits of `max_total` connections, at most `max_per_ip` from one address; each
    /// connection also counts in `open`.
    pub(crate) fn new(max_total: u32, max_per_ip: u32, open: Arc<AtomicUsize>) -> Limits {
        Limits { counts: Arc::default(), max_total: max_total as usize, max_per_ip: max_per_ip as usize, open }
    }

    /// True when three quarters or more of the connection limit are in use.
    pub(crate) fn under_load(&self) -> bool {
        self.counts.total.load(Ordering::Relaxed) * 4 >= self.max_total * 3
    }

    /// `configured`, or [`STRESS_TIMEOUT`] if shorter while under load.
    pub(crate) fn timeout(&self, configured: Duration) -> Duration {
        if self.under_load() { configured.min(STRESS_TIMEOUT) } else { configured }
    }

    /// A place for a connection from `ip`, or `None` when its address has all it may
    /// have, or every place is taken and no session waits for its client to make room.
    pub(crate) fn admit(&self, ip: IpAddr) -> Option<Slot> {
        let mut per_ip = self.counts.per_ip.lock().unwrap_or_else(|p| p.into_inner());
        let this_ip = per_ip.get(&ip).copied().unwrap_or(0);
        if this_ip >= self.max_per_ip {
            return None;
        }
        if self.counts.total.load(Ordering::Relaxed) >= self.max_total && !self.evict_longest_waiting() {
            return None;
        }
        self.counts.total.fetch_add(1, Ordering::Relaxed);
        *per_ip.entry(ip).or_default() += 1;
        let id = self.counts.next_id.fetch_add(1, Ordering::Relaxed);
        self.open.fetch_add(1, Ordering::Relaxed);
        Some(Slot {
            counts: Arc::clone(&self.counts),
            open: Arc::clone(&self.open),
            ip,
            id,
            evicted: CancellationToken::new(),
        })
    }

    /// Closes the session that has waited the longest for its client; false when none
    /// waits. The closed session leaves at once, giving its place back.
    fn evict_longest_waiting(&self) -> bool {
        let mut waiting = self.counts.waiting.lock().unwrap_or_else(|p| p.into_inner());
        let longest = waiting.iter().min_by_key(|(_, (since, _))| *since).map(|(id, _)| *id);
        match longest.and_then(|id| waiting.remove(&id)) {
            Some((_, close)) => {
                close.cancel();
                true
            }
            None => false,
        }
    }
}

/// A connection's place in its protocol's [`Limits`]; released on drop.
#[derive(Debug)]
pub(crate) struct Slot {
    counts: Arc<Counts>,
    open: Arc<AtomicUsize>,
    ip: IpAddr,
    id: u64,
    /// Cancelled when a new connection needs this place while the session waits.
    evicted: CancellationToken,
}

/// While held, the session counts as waiting for its client (and may be closed to make
/// room); dropped when the wait is over.
#[derive(Debug)]
pub(crate) struct Waiting {
    counts: Arc<Counts>,
    id: u64,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.counts.waiting.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.id);
    }
}

impl Slot {
    /// Marks the session as waiting for its client from now on, until the guard drops.
    pub(crate) fn waiting(&self) -> Waiting {
        self.counts
            .waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(self.id, (Instant::now(), self.evicted.clone()));
        Waiting { counts: Arc::clone(&self.counts), id: self.id }
    }

    /// Resolves when the session was closed to make room for a new connection.
    pub(crate) async fn evicted(&self) {
        self.evicted.cancelled().await;
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
        self.counts.waiting.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.id);
        let mut per_ip = self.counts.per_ip.lock().unwrap_or_else(|p| p.into_inner());
        self.counts.total.fetch_sub(1, Ordering::Relaxed);
        if let Some(n) = per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                per_ip.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_shortens_timeouts_past_three_quarters() {
        let limits = Limits::new(4, 4, Arc::default());
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        let long = Duration::from_secs(300);
        let a = limits.admit(ip).expect("slot");
        let b = limits.admit(ip).expect("slot");
        assert_eq!(limits.timeout(long), long);
        let c = limits.admit(ip).expect("slot");
        assert_eq!(limits.timeout(long), STRESS_TIMEOUT, "3 of 4 in use");
        assert_eq!(limits.timeout(Duration::from_secs(5)), Duration::from_secs(5), "never longer than configured");
        let d = limits.admit(ip).expect("slot");
        assert!(limits.admit(ip).is_none(), "full, and nobody waits for a client");
        drop((a, b, c, d));
        assert_eq!(limits.timeout(long), long, "slots given back");
    }

    #[test]
    fn a_full_house_closes_the_session_waiting_the_longest() {
        let limits = Limits::new(2, 2, Arc::default());
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        let other: IpAddr = "192.0.2.2".parse().expect("ip");
        let (a, b) = (limits.admit(ip).expect("slot"), limits.admit(ip).expect("slot"));
        let wa = a.waiting();
        std::thread::sleep(Duration::from_millis(5));
        let wb = b.waiting();
        let c = limits.admit(other).expect("room made");
        assert!(a.evicted.is_cancelled(), "the longest waiting was closed");
        assert!(!b.evicted.is_cancelled());
        assert!(limits.admit(ip).is_none(), "the per-address limit is never lifted");
        drop((wa, wb, a, b, c));
    }
}
