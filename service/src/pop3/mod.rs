//! The POP3 listener of the Internet Mail Service.
//!
//! Bound at start like the SMTP listener. POP3 sessions (RFC 1939, CAPA, AUTH) are the
//! subject of their own issue; until they land, a session answers `-ERR` and closes.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use crate::lifecycle::ServiceContext;

/// Accepts POP3 connections until the service drains.
pub async fn serve(listener: TcpListener, ctx: ServiceContext) {
    accept_loop("pop3", listener, ctx, session).await;
}

async fn session(mut stream: TcpStream, peer: SocketAddr, _ctx: ServiceContext) {
    tracing::debug!(%peer, "POP3 connection");
    let _ = stream.write_all(b"-ERR Mailroom: POP3 sessions are not implemented in this build\r\n").await;
    let _ = stream.shutdown().await;
}

/// Accepts connections on `listener` and runs `session` for each as a tracked task of
/// the run, until the service starts draining. Accept errors (out of file descriptors,
/// say) are logged and retried after a short pause rather than ending the listener.
pub(crate) async fn accept_loop<F, Fut>(what: &'static str, listener: TcpListener, ctx: ServiceContext, session: F)
where
    F: Fn(TcpStream, SocketAddr, ServiceContext) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    loop {
        tokio::select! {
            () = ctx.shutdown.draining() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    ctx.tasks.spawn(session(stream, peer, ctx.clone()));
                }
                Err(e) => {
                    tracing::warn!(listener = what, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    tracing::debug!(listener = what, "listener closed");
}
