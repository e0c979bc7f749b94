//! POP3 (RFC 1939) for any POP3 client, with CAPA (RFC 2449), AUTH PLAIN (RFC 5034)
//! and response codes.
//!
//! - [`command`] parses lines, apart from any I/O.
//! - [`session`] drives one connection through AUTHORIZATION → TRANSACTION → UPDATE;
//!   `authorization.rs` and `transaction.rs` add the verbs of each state.
//! - This module says what POP3 is to the shared listener ([`crate::listener::serve`]):
//!   plain POP3 with STLS, and pop3s with implicit TLS; keeping
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

use crate::context::ServiceContext;
use crate::listener::{Accepted, LineProtocol};

/// POP3 on a listener: plain (with STLS), or pop3s with implicit TLS.
pub(crate) struct Pop3 {
    /// True on the pop3s listener.
    pub implicit_tls: bool,
}

impl LineProtocol for Pop3 {
    fn name(&self) -> &'static str {
        if self.implicit_tls { "pop3s" } else { "pop3" }
    }

    fn busy(&self, _: &ServiceContext) -> String {
        "-ERR [SYS/TEMP] Too many connections, try again later\r\n".to_owned()
    }

    async fn session(&self, a: Accepted) {
        session::Session::new(a.conn, a.peer, a.ctx, a.limits, a.slot).run().await;
    }
}

#[cfg(test)]
mod tests;
