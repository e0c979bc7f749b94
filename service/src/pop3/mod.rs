//! POP3 (RFC 1939) for any POP3 client, with CAPA (RFC 2449), AUTH PLAIN (RFC 5034)
//! and response codes.
//!
//! - [`command`] parses lines, apart from any I/O.
//! - [`session`] drives one connection through AUTHORIZATION → TRANSACTION → UPDATE;
//!   `authorization.rs` and `transaction.rs` add the verbs of each state.
//! - This module runs the listeners (plain POP3, and pop3s with implicit TLS) and holds
//!   what sessions of one run share: which mailboxes are in TRANSACTION (one session
//!   each). Failed logins are counted with SMTP's, in [`crate::throttle`].
//!
//! Deletions happen only in UPDATE, after `QUIT` in TRANSACTION, in one store
//! transaction. A dropped connection or a restart deletes nothing.

mod authorization;
pub mod command;
pub mod session;
mod transaction;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::lifecycle::ServiceContext;
use crate::listener::{Limits, Slot, accept_loop};

/// State shared by the POP3 sessions of one run.
#[derive(Debug, Default)]
pub struct Shared {
    /// Mailboxes with a session in TRANSACTION.
    locked: Mutex<HashSet<i64>>,
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
}

/// The POP3 listeners of a run: what they share.
#[derive(Debug, Clone)]
pub(crate) struct Listeners {
    /// Mailbox locks.
    pub shared: Arc<Shared>,
    /// Connection limits of both listeners together.
    pub limits: Limits,
}

impl Listeners {
    /// For a run with `ctx`'s configuration.
    pub(crate) fn new(ctx: &ServiceContext) -> Listeners {
        let c = &ctx.config.connections;
        Listeners { shared: Arc::default(), limits: Limits::new(c.max_connections, c.max_connections_per_ip) }
    }
}

/// Accepts POP3 connections on `listener` until the service drains. With `implicit`,
/// each connection begins with a TLS handshake (pop3s, RFC 8314).
pub(crate) async fn serve(listener: TcpListener, implicit: Option<TlsAcceptor>, on: Listeners, ctx: ServiceContext) {
    let what = if implicit.is_some() { "pop3s" } else { "pop3" };
    accept_loop(what, listener, ctx, move |stream, peer, ctx| {
        let slot = on.limits.admit(peer.ip());
        connection(stream, peer, ctx, on.clone(), slot, implicit.clone())
    })
    .await;
}

async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    ctx: ServiceContext,
    on: Listeners,
    slot: Option<Slot>,
    implicit: Option<TlsAcceptor>,
) {
    let Some(_slot) = slot else {
        tracing::info!(%peer, "POP3 connection refused: too many connections");
        if implicit.is_none() {
            let _ = stream.write_all(b"-ERR [SYS/TEMP] Too many connections, try again later\r\n").await;
        }
        return;
    };
    let Some(stream) = crate::tls::accept(stream, peer, implicit.as_ref(), &ctx.shutdown).await else { return };
    session::Session::new(stream, peer, ctx, on).run().await;
}

#[cfg(test)]
mod tests {
    use super::*;

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
