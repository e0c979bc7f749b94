//! The SMTP side of the Internet Mail Service (RFC 5321 with ESMTP).
//!
//! - [`command`] and [`data`] are pure parsers: a command line into a [`command::Command`],
//!   the bytes after `354` into a message. They do no I/O and are unit-tested and
//!   fuzzed on their own.
//! - [`session`] drives one connection; it is generic over the stream so plain TCP,
//!   TLS and in-memory pipes share one code path. Each verb adds a method to the
//!   session in its own file (`ehlo.rs`, `mail.rs`, `rcpt.rs`, `auth.rs`, `receive.rs`).
//! - [`accept`] commits an accepted message — local mailbox copies, outbound queue
//!   entries and tracking events — in one store transaction before `250` is sent.
//! - This module runs the listeners (plain SMTP, and submissions with implicit TLS): it
//!   accepts until the service drains, enforces the global and per-IP connection
//!   limits, and tracks each session as a task of the run.

pub(crate) mod accept;
mod auth;
pub mod command;
pub mod data;
mod ehlo;
mod mail;
mod rcpt;
mod receive;
pub mod reply;
pub mod session;

use std::net::SocketAddr;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::context::ServiceContext;
use crate::listener::{Limits, Slot, accept_loop};

/// What a listener is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Port 25: other servers, and clients as the Connections page allows.
    Relay,
    /// Message submission (RFC 6409: port 587 with STARTTLS, or 465 with implicit TLS):
    /// the client authenticates over TLS before MAIL, and sends as its own addresses.
    /// The defences against strangers do not apply (nobody gets in without a login).
    Submission,
}

/// Accepts SMTP connections on `listener` until the service drains. With `implicit`,
/// each connection begins with a TLS handshake (submissions, RFC 8314). The SMTP
/// listeners of a run share `limits`.
pub(crate) async fn serve(
    listener: std::sync::Arc<TcpListener>,
    implicit: Option<TlsAcceptor>,
    mode: Mode,
    limits: Limits,
    ctx: ServiceContext,
) {
    let what = match (mode, implicit.is_some()) {
        (Mode::Relay, _) => "smtp",
        (Mode::Submission, true) => "submissions",
        (Mode::Submission, false) => "submission",
    };
    accept_loop(what, listener, ctx, move |stream, peer, ctx| {
        let slot = limits.admit(peer.ip());
        connection(stream, peer, ctx, slot, limits.clone(), implicit.clone(), mode)
    })
    .await;
}

async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    ctx: ServiceContext,
    slot: Option<Slot>,
    limits: Limits,
    implicit: Option<TlsAcceptor>,
    mode: Mode,
) {
    let Some(slot) = slot else {
        tracing::info!(%peer, "SMTP connection refused: too many connections");
        if implicit.is_none() {
            let line = format!("421 4.7.0 {} Too many connections, try again later\r\n", ctx.config.general.host_name);
            let _ = stream.write_all(line.as_bytes()).await;
        }
        return;
    };
    let local = stream.local_addr().unwrap_or(peer);
    // The defences of the Message Filtering page, for strangers: lookups start now,
    // and on the SMTP listener (not submissions) the banner may wait.
    let relay_allowed = mailroom_shared::routing::relay_permission(
        &mailroom_shared::routing::ClientContext { authenticated_as: None, client_ip: peer.ip(), local_ip: local.ip() },
        &ctx.config.routing_restrictions,
    )
    .is_ok();
    let mut screening = crate::filtering::Screening::default();
    if mode == Mode::Relay && crate::filtering::stranger(false, relay_allowed, peer.ip(), local.ip()) {
        screening = crate::filtering::Screening::start(&ctx, peer.ip());
        if implicit.is_none() && !crate::filtering::greet(&ctx, &mut stream, peer).await {
            return;
        }
    }
    let Some(stream) = crate::tls::accept(stream, peer, implicit.as_ref(), &ctx.shutdown).await else { return };
    session::Session::new(stream, peer, local, ctx, limits, slot).with_screening(screening).with_mode(mode).run().await;
}

#[cfg(test)]
mod tests;
