//! What every component of a running service is given: the configuration snapshot of
//! its run, the store, the stop signal, the task tracker, and the few pieces of state
//! the protocols share. Components plug in through it; only the lifecycle makes one.

use std::sync::Arc;

use mailroom_shared::config::Config;
use mailroom_shared::ipc::Event;
use tokio::sync::broadcast;
use tokio_util::task::TaskTracker;

use crate::disk::Disk;
use crate::filtering::dnslists::DnsLists;
use crate::mailauth::MailAuth;
use crate::metrics::Metrics;
use crate::pop3::lock::MailboxLocks;
use crate::shutdown::Shutdown;
use crate::store::Store;
use crate::throttle::AuthThrottle;
use crate::tls::ServerTls;

/// What a running component is given; cheap to clone.
#[derive(Clone)]
pub struct ServiceContext {
    /// The configuration snapshot this run started with.
    pub config: Arc<Config>,
    /// The store.
    pub store: Store,
    /// The run's stop signal.
    pub shutdown: Shutdown,
    /// Tracks every task of this run; a stop waits for them.
    pub tasks: TaskTracker,
    /// Where events go.
    pub events: broadcast::Sender<Event>,
    /// Wakes the run's outbound queue (new mail, retry now, a worker finishing).
    pub queue: Arc<tokio::sync::Notify>,
    /// TLS for STARTTLS, STLS and the implicit-TLS listeners; `None` when no
    /// certificate could be set up.
    pub tls: Option<ServerTls>,
    /// Failed logins, shared by SMTP AUTH and POP3 (and kept across restarts).
    pub throttle: Arc<AuthThrottle>,
    /// Traffic figures for the Monitor, kept across restarts.
    pub metrics: Arc<Metrics>,
    /// Mailboxes held by a POP3 session. Kept across restarts, because the sessions of
    /// a run being replaced drain while the new run's sessions start.
    pub pop3_locks: Arc<MailboxLocks>,
    /// The data directory's disk and the free space kept in reserve, measured by a
    /// watcher of the run.
    pub disk: Arc<Disk>,
    /// Mail authentication: DKIM signing, and SPF/DKIM/DMARC/ARC checks.
    pub mailauth: Arc<MailAuth>,
    /// Message filtering: the DNS lists' resolver.
    pub dns_lists: Arc<DnsLists>,
    /// The secret that signs SRS addresses, read from the store once.
    pub srs: Arc<tokio::sync::OnceCell<String>>,
    /// Selected folders' message lists, shared by IMAP sessions that see one state.
    pub imap_lists: Arc<crate::imap::shared::SharedLists>,
}

impl std::fmt::Debug for ServiceContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceContext").field("tls", &self.tls.is_some()).finish_non_exhaustive()
    }
}
