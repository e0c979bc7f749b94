//! IMAP4rev2 (RFC 9051), speaking IMAP4rev1 (RFC 3501) to older clients, for every
//! modern mail client: folders, flags, push (IDLE).
//!
//! - imap-next (on imap-codec) frames the protocol; [`session`] holds a session's state and
//!   replies, `driver.rs` runs it over any stream and dispatches commands by state: `auth.rs` (not authenticated),
//!   `folders.rs` (authenticated), `selected.rs` (a folder selected).
//! - Pure parts, apart from any I/O: [`names`] (folder names, LIST wildcards),
//!   [`sequence`] (sequence sets), [`mime`] (a message's parts), [`fetch`]
//!   (sections, ENVELOPE, BODYSTRUCTURE) and [`search`] (SEARCH keys).
//! - This module runs the listeners (plain IMAP with STARTTLS, and imaps with implicit
//!   TLS), sharing the store with POP3: POP3 sees INBOX.
//!
//! Extensions: IDLE, UIDPLUS, MOVE, NAMESPACE, ENABLE, LITERAL+, SPECIAL-USE, ID,
//! UNSELECT, SASL-IR, CONDSTORE, CHILDREN. Failed logins are counted with SMTP's and
//! POP3's, in [`crate::throttle`].

mod auth;
mod driver;
pub mod fetch;
mod folders;
pub mod mime;
pub mod names;
pub mod search;
mod selected;
pub mod sequence;
pub mod session;

use std::net::SocketAddr;
use std::sync::Arc;

use imap_next::imap_types::response::CodeOther;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::context::ServiceContext;
use crate::listener::{Limits, Slot, accept_loop};

/// A response code of RFC 5530 (and the like) that imap-types does not name.
pub(crate) fn code(name: &'static str) -> CodeOther<'static> {
    CodeOther::unvalidated(name.as_bytes())
}

/// Accepts IMAP connections on `listener` until the run drains. With `implicit`, each
/// connection begins with a TLS handshake (imaps, RFC 8314). The IMAP listeners of a
/// run share `limits`.
pub(crate) async fn serve(
    listener: Arc<TcpListener>,
    implicit: Option<TlsAcceptor>,
    limits: Limits,
    ctx: ServiceContext,
) {
    let what = if implicit.is_some() { "imaps" } else { "imap" };
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
        tracing::info!(%peer, "IMAP connection refused: too many connections");
        if implicit.is_none() {
            let _ = stream.write_all(b"* BYE [UNAVAILABLE] Too many connections, try again later\r\n").await;
        }
        return;
    };
    let Some(stream) = crate::tls::accept(stream, peer, implicit.as_ref(), &ctx.shutdown).await else { return };
    session::Session::new(stream, peer, ctx, limits, slot).run().await;
}
