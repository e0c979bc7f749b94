//! What the SMTP and POP3 listeners share: the accept loop and connection limits.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

use crate::lifecycle::ServiceContext;

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
    tracing::debug!(listener = what, "listener closed");
}

/// Open connections, overall and per client IP.
#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

/// Connection limits of one listener: shared by the listener, which takes a [`Slot`]
/// per connection, and the slots, which give their place back when dropped.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    counts: Arc<Mutex<Counts>>,
    max_total: usize,
    max_per_ip: usize,
}

impl Limits {
    /// Limits of `max_total` connections, at most `max_per_ip` from one address.
    pub(crate) fn new(max_total: u32, max_per_ip: u32) -> Limits {
        Limits { counts: Arc::default(), max_total: max_total as usize, max_per_ip: max_per_ip as usize }
    }

    /// A place for a connection from `ip`, or `None` when a limit is reached.
    pub(crate) fn admit(&self, ip: IpAddr) -> Option<Slot> {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let this_ip = c.per_ip.get(&ip).copied().unwrap_or(0);
        if c.total >= self.max_total || this_ip >= self.max_per_ip {
            return None;
        }
        c.total += 1;
        *c.per_ip.entry(ip).or_default() += 1;
        Some(Slot { counts: Arc::clone(&self.counts), ip })
    }
}

/// A connection's place in its listener's [`Limits`]; released on drop.
#[derive(Debug)]
pub(crate) struct Slot {
    counts: Arc<Mutex<Counts>>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        c.total -= 1;
        if let Some(n) = c.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                c.per_ip.remove(&self.ip);
            }
        }
    }
}
