//! POP3 (RFC 1939) for any POP3 client, with CAPA (RFC 2449), AUTH PLAIN (RFC 5034)
//! and response codes.
//!
//! - [`command`] parses lines, apart from any I/O.
//! - [`session`] drives one connection through AUTHORIZATION → TRANSACTION → UPDATE;
//!   `authorization.rs` and `transaction.rs` add the verbs of each state.
//! - This module runs the listener and holds what sessions of one run share: which
//!   mailboxes are in TRANSACTION (one session each), and recent login failures, for
//!   the growing delay that slows password guessing.
//!
//! Deletions happen only in UPDATE, after `QUIT` in TRANSACTION, in one store
//! transaction. A dropped connection or a restart deletes nothing.

mod authorization;
pub mod command;
pub mod session;
mod transaction;

pub use transaction::dot_stuff;

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use crate::lifecycle::ServiceContext;
use crate::listener::{Limits, Slot, accept_loop};

/// Failures older than this no longer count towards the delay.
const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Longest delay before answering a failed login.
const MAX_DELAY: Duration = Duration::from_secs(8);

/// State shared by the POP3 sessions of one run.
#[derive(Debug, Default)]
pub struct Shared {
    /// Mailboxes with a session in TRANSACTION.
    locked: Mutex<HashSet<i64>>,
    /// Recent failed logins, by client address and by login name.
    failures: Mutex<Failures>,
}

#[derive(Debug, Default)]
struct Failures {
    by_ip: HashMap<IpAddr, (u32, Instant)>,
    by_login: HashMap<String, (u32, Instant)>,
}

/// A mailbox held in TRANSACTION; released when dropped.
#[derive(Debug)]
pub struct MailboxLock {
    shared: Arc<Shared>,
    mailbox: i64,
}

impl Drop for MailboxLock {
    fn drop(&mut self) {
        self.shared.locked.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.mailbox);
    }
}

impl Shared {
    /// Takes the mailbox for one session, or `None` when another session has it.
    pub fn lock(self: &Arc<Self>, mailbox: i64) -> Option<MailboxLock> {
        let fresh = self.locked.lock().unwrap_or_else(|p| p.into_inner()).insert(mailbox);
        fresh.then(|| MailboxLock { shared: Arc::clone(self), mailbox })
    }

    /// Records a failed login and returns how long to wait before answering: it grows
    /// with the failures from this address or for this login (whichever is more), so
    /// guessing gets slow whether it is spread over accounts or over addresses.
    pub fn failed(&self, ip: IpAddr, login: &str) -> Duration {
        let mut f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        f.by_ip.retain(|_, (_, at)| now.duration_since(*at) < FAILURE_WINDOW);
        f.by_login.retain(|_, (_, at)| now.duration_since(*at) < FAILURE_WINDOW);
        let a = f.by_ip.entry(ip).or_insert((0, now));
        *a = (a.0 + 1, now);
        let ip_count = a.0;
        let b = f.by_login.entry(login.to_ascii_lowercase()).or_insert((0, now));
        *b = (b.0 + 1, now);
        delay_for(ip_count.max(b.0))
    }

    /// Forgets the failures of a login that just succeeded from `ip`.
    pub fn succeeded(&self, ip: IpAddr, login: &str) {
        let mut f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        f.by_ip.remove(&ip);
        f.by_login.remove(&login.to_ascii_lowercase());
    }
}

/// 0.5 s after the first failure, doubling up to [`MAX_DELAY`].
fn delay_for(failures: u32) -> Duration {
    let shift = failures.saturating_sub(1).min(8);
    (Duration::from_millis(500) * (1u32 << shift)).min(MAX_DELAY)
}

/// Accepts POP3 connections until the service drains.
pub async fn serve(listener: TcpListener, ctx: ServiceContext) {
    let shared = Arc::new(Shared::default());
    let limits = Limits::new(ctx.config.connections.max_connections, ctx.config.connections.max_connections_per_ip);
    accept_loop("pop3", listener, ctx, move |stream, peer, ctx| {
        let slot = limits.admit(peer.ip());
        connection(stream, peer, ctx, Arc::clone(&shared), slot)
    })
    .await;
}

async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    ctx: ServiceContext,
    shared: Arc<Shared>,
    slot: Option<Slot>,
) {
    let Some(_slot) = slot else {
        tracing::info!(%peer, "POP3 connection refused: too many connections");
        let _ = stream.write_all(b"-ERR [SYS/TEMP] Too many connections, try again later\r\n").await;
        return;
    };
    session::Session::new(crate::tls::Stream::Plain(stream), peer, ctx, shared).run().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_reset() {
        let s = Shared::default();
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        let other: IpAddr = "192.0.2.2".parse().expect("ip");
        assert_eq!(s.failed(ip, "ann"), Duration::from_millis(500));
        assert_eq!(s.failed(ip, "bob"), Duration::from_secs(1), "same address, other login");
        assert_eq!(s.failed(other, "ANN"), Duration::from_secs(1), "same login, other address");
        for _ in 0..10 {
            s.failed(ip, "ann");
        }
        assert_eq!(s.failed(ip, "ann"), MAX_DELAY);
        s.succeeded(ip, "ann");
        assert_eq!(s.failed(ip, "ann"), Duration::from_millis(500));
    }

    #[test]
    fn one_session_per_mailbox() {
        let s = Arc::new(Shared::default());
        let first = s.lock(7).expect("free");
        assert!(s.lock(7).is_none());
        assert!(s.lock(8).is_some());
        drop(first);
        assert!(s.lock(7).is_some());
    }
}
