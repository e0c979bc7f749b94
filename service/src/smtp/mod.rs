//! The SMTP listener of the Internet Mail Service.
//!
//! The listener is part of the service lifecycle: it is bound at start (so the bound
//! address is known and a port conflict fails the start), accepts until the service
//! drains, and tracks each session as a task of the run.
//!
//! SMTP sessions themselves (RFC 5321, ESMTP, routing at RCPT, durable acceptance) are
//! the subject of their own issue; until they land, a session answers with a
//! permanent "service not available" reply, as RFC 5321 §3.1 allows (`554`), and closes.

use std::net::SocketAddr;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use crate::lifecycle::ServiceContext;

/// Accepts SMTP connections until the service drains.
pub async fn serve(listener: TcpListener, ctx: ServiceContext) {
    crate::pop3::accept_loop("smtp", listener, ctx, session).await;
}

async fn session(mut stream: TcpStream, peer: SocketAddr, ctx: ServiceContext) {
    tracing::debug!(%peer, "SMTP connection");
    let line = format!(
        "554 5.3.2 {} Mailroom: SMTP sessions are not implemented in this build\r\n",
        ctx.config.general.host_name
    );
    let _ = stream.write_all(line.as_bytes()).await;
    let _ = stream.shutdown().await;
}
