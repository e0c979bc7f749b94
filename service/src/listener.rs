//! What the listeners share: which protocols listen where, the sockets kept across
//! restarts, the accept loop, connection limits, and the load signal that shortens
//! timeouts.
//!
//! **Listeners are a list.** [`Protocol`] names each kind of listener and
//! [`wanted`] lists, from a configuration, the `(protocol, address)` pairs a run
//! listens on; a new protocol is one variant and one entry there (and the lifecycle's
//! one line that starts its sessions).
//!
//! **Sockets outlive runs.** [`bind`] reuses the socket of a previous run whose
//! configured address is unchanged and binds only new addresses, so a restart never
//! closes a listening socket that stays configured: connections that arrive while one
//! run hands over to the next wait in the socket's backlog and are accepted by the new
//! run, never refused. A socket no longer configured closes when its last accept loop
//! ends.
//!
//! Each protocol has one [`Limits`] for its listeners together (SMTP with
//! submissions, POP3 with pop3s). When a protocol's open connections pass three
//! quarters of its limit it is **under load**, and sessions wait at most
//! [`STRESS_TIMEOUT`] for a client's next command, as Postfix does under stress: idle
//! and slow clients make room for the rest instead of holding their slot for minutes.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mailroom_shared::config::Config;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::context::ServiceContext;

/// A kind of listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// SMTP (port 25, or wherever the Connections page says).
    Smtp,
    /// SMTP over implicit TLS for submission (RFC 8314, port 465).
    Submissions,
    /// Message submission (RFC 6409, port 587): STARTTLS, then AUTH before MAIL.
    Submission,
    /// POP3.
    Pop3,
    /// POP3 over implicit TLS (port 995).
    Pop3s,
    /// IMAP4.
    Imap,
    /// IMAP4 over implicit TLS (port 993).
    Imaps,
    /// The Prometheus endpoint (HTTP, `/metrics`).
    Metrics,
}

impl Protocol {
    /// The name shown in status and logs.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Smtp => "SMTP",
            Protocol::Submissions => "SMTP over TLS (submissions)",
            Protocol::Submission => "SMTP submission",
            Protocol::Pop3 => "POP3",
            Protocol::Pop3s => "POP3 over TLS (pop3s)",
            Protocol::Imap => "IMAP4",
            Protocol::Imaps => "IMAP4 over TLS (imaps)",
            Protocol::Metrics => "metrics (Prometheus)",
        }
    }

    /// The configuration field that sets its address (as validation names fields), so
    /// that a failure to listen can point at what to change.
    pub fn field(self) -> &'static str {
        match self {
            Protocol::Smtp => "connections.smtp_listen",
            Protocol::Submissions => "connections.submissions_listen",
            Protocol::Submission => "connections.submission_listen",
            Protocol::Pop3 => "pop3.listen",
            Protocol::Pop3s => "pop3.pop3s_listen",
            Protocol::Imap => "imap4.listen",
            Protocol::Imaps => "imap4.imaps_listen",
            Protocol::Metrics => "diagnostics.metrics_listen",
        }
    }

    /// True when every connection starts with a TLS handshake.
    pub fn implicit_tls(self) -> bool {
        matches!(self, Protocol::Submissions | Protocol::Pop3s | Protocol::Imaps)
    }
}

/// The listeners `config` asks for, in order.
pub fn wanted(config: &Config) -> Vec<(Protocol, SocketAddr)> {
    let c = &config.connections;
    let mut out = Vec::new();
    if c.transfer_mode.accepts_inbound() {
        out.push((Protocol::Smtp, c.smtp_listen));
        out.extend(c.submissions_listen.map(|a| (Protocol::Submissions, a)));
        out.extend(c.submission_listen.map(|a| (Protocol::Submission, a)));
    }
    if config.pop3.enabled {
        out.push((Protocol::Pop3, config.pop3.listen));
        out.extend(config.pop3.pop3s_listen.map(|a| (Protocol::Pop3s, a)));
    }
    if config.imap4.enabled {
        out.push((Protocol::Imap, config.imap4.listen));
        out.extend(config.imap4.imaps_listen.map(|a| (Protocol::Imaps, a)));
    }
    out.extend(config.diagnostics.metrics_listen.map(|a| (Protocol::Metrics, a)));
    out
}

/// A listening socket and the address it was configured with (which may name port 0).
#[derive(Debug, Clone)]
pub struct Socket {
    /// What listens on it.
    pub protocol: Protocol,
    /// The configured address.
    pub configured: SocketAddr,
    /// The socket.
    pub listener: Arc<TcpListener>,
}

impl Socket {
    /// The address it is bound to.
    pub fn bound(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }
}

/// The sockets for `wanted`: those of `kept` with the same configured address, and
/// newly bound ones for the rest. Nothing is closed here: sockets of `kept` left out
/// close when the caller drops them (and their accept loops end).
///
/// # Errors
/// The first address that cannot be bound, in words a person can act on, with the
/// field that sets it; the sockets bound by this call are closed again.
pub async fn bind(wanted: &[(Protocol, SocketAddr)], kept: &[Socket]) -> Result<Vec<Socket>, BindError> {
    let mut taken = vec![false; kept.len()];
    // The same protocol on the same configured address first; then the same fixed
    // address for another protocol (the administrator swapped two ports). An address
    // with port 0 means "any free port" and is only the same listener's.
    let mut reuse = |protocol: Protocol, configured: SocketAddr| {
        let same = |i: usize, s: &Socket| !taken[i] && s.configured == configured;
        let found = kept
            .iter()
            .enumerate()
            .position(|(i, s)| same(i, s) && s.protocol == protocol)
            .or_else(|| kept.iter().enumerate().position(|(i, s)| same(i, s) && configured.port() != 0))?;
        taken[found] = true;
        Some(Arc::clone(&kept[found].listener))
    };
    let mut out = Vec::with_capacity(wanted.len());
    for &(protocol, configured) in wanted {
        let listener = match reuse(protocol, configured) {
            Some(l) => l,
            None => Arc::new(TcpListener::bind(configured).await.map_err(|e| BindError {
                message: format!("cannot listen for {} on {configured}: {}", protocol.name(), describe(&e)),
                field: protocol.field(),
            })?),
        };
        out.push(Socket { protocol, configured, listener });
    }
    Ok(out)
}

/// A listener that could not be bound.
#[derive(Debug, Clone)]
pub struct BindError {
    /// What happened, in words a person can act on.
    pub message: String,
    /// The configuration field that sets the address ([`Protocol::field`]).
    pub field: &'static str,
}

/// An I/O error in words a person can act on.
fn describe(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => "address in use (another program is listening there)".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied (ports below 1024 need privileges)".into(),
        std::io::ErrorKind::AddrNotAvailable => "address not available on this machine".into(),
        _ => e.to_string(),
    }
}

/// Accepts connections on `listener` and runs `session` for each as a tracked task of
/// the run, until the run starts draining. Accept errors (out of file descriptors,
/// say) are logged and retried after a short pause rather than ending the listener.
///
/// The drain is checked first: once it is signalled no connection is accepted by this
/// run (accepting is cancel-safe: a connection not taken stays in the backlog for the
/// next run).
pub(crate) async fn accept_loop<F, Fut>(what: &'static str, listener: Arc<TcpListener>, ctx: ServiceContext, session: F)
where
    F: Fn(TcpStream, SocketAddr, ServiceContext) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    loop {
        tokio::select! {
            biased;
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
    tracing::debug!(listener = what, "listener handed over or closed");
}

/// A protocol served on listeners by [`serve`]: what the shared accept path needs of it.
pub(crate) trait LineProtocol: Send + Sync + 'static {
    /// Its name in logs (`smtp`, `pop3s`).
    fn name(&self) -> &'static str;

    /// The line a plain-text client is sent when every place is taken (implicit-TLS
    /// clients are just closed: nothing can be said before the handshake).
    fn busy(&self, ctx: &ServiceContext) -> String;

    /// Runs the session of an admitted connection, after the TLS handshake on an
    /// implicit-TLS listener, to its end.
    fn session(&self, accepted: Accepted) -> impl Future<Output = ()> + Send;
}

/// A connection admitted by [`serve`], handed to its protocol's session.
pub(crate) struct Accepted {
    /// The connection, already encrypted on an implicit-TLS listener.
    pub conn: crate::line::LineConn<crate::tls::Stream>,
    /// The client's address.
    pub peer: SocketAddr,
    /// Our address it connected to.
    pub local: SocketAddr,
    /// The run it belongs to.
    pub ctx: ServiceContext,
    /// Its protocol's limits (whose load shortens the waits for a client).
    pub limits: Limits,
    /// Its place in them, given back when the session ends.
    pub slot: Slot,
}

/// Serves `protocol` on `listener` until the run drains: each connection is admitted
/// to `limits` (or told the protocol is busy and closed), encrypted first on an
/// implicit-TLS listener (`implicit`), and handed to the protocol's session. The
/// listeners of one protocol share its `limits`.
pub(crate) async fn serve<P: LineProtocol>(
    protocol: P,
    listener: Arc<TcpListener>,
    implicit: Option<tokio_rustls::TlsAcceptor>,
    limits: Limits,
    ctx: ServiceContext,
) {
    let protocol = Arc::new(protocol);
    accept_loop(protocol.name(), listener, ctx, move |mut stream, peer, ctx| {
        let slot = limits.admit(peer.ip());
        let (protocol, limits, implicit) = (Arc::clone(&protocol), limits.clone(), implicit.clone());
        async move {
            let Some(slot) = slot else {
                tracing::info!(%peer, listener = protocol.name(), "connection refused: too many connections");
                if implicit.is_none() {
                    use tokio::io::AsyncWriteExt as _;
                    let _ = stream.write_all(protocol.busy(&ctx).as_bytes()).await;
                }
                return;
            };
            let local = stream.local_addr().unwrap_or(peer);
            let Some(stream) = crate::tls::accept(stream, peer, implicit.as_ref(), &ctx.shutdown).await else {
                return;
            };
            let conn = crate::line::LineConn::new(stream, ctx.shutdown.clone());
            protocol.session(Accepted { conn, peer, local, ctx, limits, slot }).await;
        }
    })
    .await;
}

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
