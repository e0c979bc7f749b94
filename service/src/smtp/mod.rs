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
//! - This module says what SMTP is to the shared listener ([`crate::listener::serve`],
//!   which accepts, admits to the connection limits and runs the TLS handshake of
//!   submissions): its name, its busy reply, and the defences against strangers that
//!   come before the greeting.

pub(crate) mod accept;
mod auth;
pub mod command;
pub mod data;
mod delegation;
mod ehlo;
mod mail;
mod plan;
mod rcpt;
mod receive;
pub mod reply;
pub mod session;

use crate::context::ServiceContext;
use crate::listener::{Accepted, LineProtocol};

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

/// SMTP on a listener: for `mode`, plain (with STARTTLS) or with implicit TLS
/// (submissions, RFC 8314).
pub(crate) struct Smtp {
    /// What the listener is for.
    pub mode: Mode,
    /// True on the submissions listener.
    pub implicit_tls: bool,
}

impl LineProtocol for Smtp {
    fn name(&self) -> &'static str {
        match (self.mode, self.implicit_tls) {
            (Mode::Relay, _) => "smtp",
            (Mode::Submission, true) => "submissions",
            (Mode::Submission, false) => "submission",
        }
    }

    fn busy(&self, ctx: &ServiceContext) -> String {
        format!("421 4.7.0 {} Too many connections, try again later\r\n", ctx.config.general.host_name)
    }

    async fn session(&self, a: Accepted) {
        let Accepted { mut conn, peer, local, ctx, limits, slot } = a;
        // The defences of the Message Filtering page, for strangers on the SMTP
        // listener (not submission): lookups start now, and the banner may wait.
        let relay_allowed = mailroom_shared::routing::relay_permission(
            &mailroom_shared::routing::ClientContext {
                authenticated_as: None,
                client_ip: peer.ip(),
                local_ip: local.ip(),
            },
            &ctx.config.routing_restrictions,
        )
        .is_ok();
        let mut screening = crate::filtering::Screening::default();
        if self.mode == Mode::Relay && crate::filtering::stranger(false, relay_allowed, peer.ip(), local.ip()) {
            screening = crate::filtering::Screening::start(&ctx, peer.ip());
            if !crate::filtering::greet(&ctx, &mut conn, peer).await {
                return;
            }
        }
        session::Session::new(conn, peer, local, ctx, limits, slot)
            .with_screening(screening)
            .with_mode(self.mode)
            .run()
            .await;
    }
}

#[cfg(test)]
mod tests;
