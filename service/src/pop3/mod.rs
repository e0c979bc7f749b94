//! POP3 (RFC 1939) for any POP3 client, with CAPA (RFC 2449), AUTH PLAIN (RFC 5034)
//! and response codes.
//!
//! - [`command`] parses lines, apart from any I/O.
//! - [`session`] drives one connection through AUTHORIZATION → TRANSACTION → UPDATE;
//!   `authorization.rs` and `transaction.rs` add the verbs of each state.
//! - This module runs the listeners (plain POP3, and pop3s with implicit TLS); keeping
//!   one session per mailbox is [`lock`]'s. Failed logins are counted with SMTP's, in
//!   [`crate::throttle`].
//!
//! Deletions happen only in UPDATE, after `QUIT` in TRANSACTION, in one store
//! transaction. A dropped connection or a restart deletes nothing.

mod authorization;
pub mod command;
pub mod lock;
pub mod session;
mod transaction;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::context::ServiceContext;
use crate::listener::{Limits, Slot, accept_loop};

/// Accepts POP3 connections on `listener` until the run drains. With `implicit`, each
/// connection begins with a TLS handshake (pop3s, RFC 8314). The POP3 listeners of a
/// run share `limits`.
pub(crate) async fn serve(
    listener: Arc<TcpListener>,
    implicit: Option<TlsAcceptor>,
    limits: Limits,
    ctx: ServiceContext,
) {
    let what = if implicit.is_some() { "pop3s" } else { "pop3" };
    accept_loop(what, listener, ctx, move |stream, peer, ctx| {
        let slot = limits.admit(peer.ip());
        connection(stream, peer, ctx, limits.clone(), slot, implicit.clone())
    })
    .await;
}

async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    ctx: ServiceContext,
    limits: Limits,
    slot: Option<Slot>,
    implicit: Option<TlsAcceptor>,
) {
    let Some(slot) = slot else {
        tracing::info!(%peer, "POP3 connection refused: too many connections");
        if implicit.is_none() {
            let _ = stream.write_all(b"-ERR [SYS/TEMP] Too many connections, try again later\r\n").await;
        }
        return;
    };
    let Some(stream) = crate::tls::accept(stream, peer, implicit.as_ref(), &ctx.shutdown).await else { return };
    session::Session::new(stream, peer, ctx, limits, slot).run().await;
}

#[cfg(test)]
mod tests;
