//! What the listeners share: which protocols listen where, the sockets kept across
//! restarts, and the one accept path every protocol is served by ([`serve`]).
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
//! Each connection is admitted to its protocol's [`Limits`] (see [`crate::limits`])
//! before its session starts.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mailroom_shared::config::Config;
use tokio::net::{TcpListener, TcpStream};

use crate::context::ServiceContext;
use crate::limits::{Limits, Slot};

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
    /// HTTPS: mail programs' automatic set-up.
    Https,
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
            Protocol::Https => "HTTPS",
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
            Protocol::Https => "connections.https_listen",
        }
    }

    /// True when every connection starts with a TLS handshake.
    pub fn implicit_tls(self) -> bool {
        matches!(self, Protocol::Submissions | Protocol::Pop3s | Protocol::Imaps | Protocol::Https)
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
    out.extend(config.connections.https_listen.map(|a| (Protocol::Https, a)));
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
