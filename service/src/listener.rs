//! What the SMTP and POP3 listeners share: the accept loop, connection limits, and
//! the load signal that shortens timeouts.
//!
//! Each protocol has one [`Limits`] for its listeners together (SMTP with
//! submissions, POP3 with pop3s). When a protocol's open connections pass three
//! quarters of its limit it is **under load**, and sessions wait at most
//! [`STRESS_TIMEOUT`] for a client's next command, as Postfix does under stress: idle
//! and slow clients make room for the rest instead of holding their slot for minutes.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

use crate::lifecycle::ServiceContext;

/// Accepts connections on `listener` and runs `session` for each as a tracked task of
/// the run, until the service starts draining. Accept errors (out of file descriptors,
/// say) are logged and retried after a short pause rather than ending the listener.
pub(crate) async fn accept_loop<F, Fut>(what: &'static str, listener: TcpListener, ctx: ServiceContext, session: F)
where
    F: Fn(TcpStream, SocketAddr, ServiceContext) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    loop {
        tokio::select! {
            () = ctx.shutdown.draining() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    ctx.tasks.spawn(session(stream, peer, ctx.clone()));
                }
                Err(e) => {
                    tracing::warn!(listener = what, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    tracing::debug!(listener = what, "listener closed");
}

/// The longest wait for a client while under load.
pub(crate) const STRESS_TIMEOUT: Duration = Duration::from_secs(10);

/// Open connections, overall and per client IP. Both change only with `per_ip`
/// locked; `total` is also an atomic so that sessions can check the load on every
/// read without taking the lock.
#[derive(Debug, Default)]
struct Counts {
    total: AtomicUsize,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
}

/// Connection limits of one listener: shared by the listener, which takes a [`Slot`]
/// per connection, and the slots, which give their place back when dropped.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    counts: Arc<Counts>,
    max_total: usize,
    max_per_ip: usize,
}

impl Limits {
    /// Limits of `max_total` connections, at most `max_per_ip` from one address.
    pub(crate) fn new(max_total: u32, max_per_ip: u32) -> Limits {
        Limits { counts: Arc::default(), max_total: max_total as usize, max_per_ip: max_per_ip as usize }
    }

    /// True when three quarters or more of the connection limit are in use.
    pub(crate) fn under_load(&self) -> bool {
        self.counts.total.load(Ordering::Relaxed) * 4 >= self.max_total * 3
    }

    /// `configured`, or [`STRESS_TIMEOUT`] if shorter while under load.
    pub(crate) fn timeout(&self, configured: Duration) -> Duration {
        if self.under_load() { configured.min(STRESS_TIMEOUT) } else { configured }
    }

    /// A place for a connection from `ip`, or `None` when a limit is reached.
    pub(crate) fn admit(&self, ip: IpAddr) -> Option<Slot> {
        let mut per_ip = self.counts.per_ip.lock().unwrap_or_else(|p| p.into_inner());
        let this_ip = per_ip.get(&ip).copied().unwrap_or(0);
        if self.counts.total.load(Ordering::Relaxed) >= self.max_total || this_ip >= self.max_per_ip {
            return None;
        }
        self.counts.total.fetch_add(1, Ordering::Relaxed);
        *per_ip.entry(ip).or_default() += 1;
        Some(Slot { counts: Arc::clone(&self.counts), ip })
    }
}

/// A connection's place in its listener's [`Limits`]; released on drop.
#[derive(Debug)]
pub(crate) struct Slot {
    counts: Arc<Counts>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
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
        let limits = Limits::new(4, 4);
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        let long = Duration::from_secs(300);
        let a = limits.admit(ip).expect("slot");
        let b = limits.admit(ip).expect("slot");
        assert_eq!(limits.timeout(long), long);
        let c = limits.admit(ip).expect("slot");
        assert_eq!(limits.timeout(long), STRESS_TIMEOUT, "3 of 4 in use");
        assert_eq!(limits.timeout(Duration::from_secs(5)), Duration::from_secs(5), "never longer than configured");
        let d = limits.admit(ip).expect("slot");
        assert!(limits.admit(ip).is_none(), "full");
        drop((a, b, c, d));
        assert_eq!(limits.timeout(long), long, "slots given back");
    }
}
