//! The Internet Mail Service's lifecycle: Stopped → Starting → Running → Stopping.
//!
//! [`Manager`] owns the state. Start, stop and restart are serialised by one async
//! mutex, which also guards the listening sockets, so a restart from the GUI and a
//! SIGHUP arriving together run one after the other, never interleaved. Every
//! transition is pushed as an [`Event::ServiceState`].
//!
//! A **run** is one configuration snapshot (`Arc<Config>`) serving on a set of
//! listeners, with its own stop signal ([`Shutdown`]) and task tracker. A start
//! prepares a run — TLS, then the listeners — and only then reports Running; a failure
//! leaves the service Stopped with the reason, and the process (with its control
//! socket) alive.
//!
//! A **restart refuses nobody.** The new run is prepared first, reusing the listening
//! sockets whose addresses did not change and binding the new ones; if that fails the
//! old run simply goes on, and the error is reported. Then the old run stops accepting,
//! the new run starts accepting on the same sockets — connections that arrive in
//! between wait in the kernel's backlog — and the old run drains in the background:
//! its open sessions carry on under the old configuration until their clients are
//! done (or the drain timeout ends them), its deliveries finish or go back to the
//! queue, none of them holding a listener. A stop drains the run — idle sessions leave
//! at once, transactions get up to the drain timeout, then what is left is aborted —
//! and closes the sockets.

mod run;
mod status;

use run::drain;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mailroom_shared::config::{Config, ConfigDraft, ConfigErrors, Page};
use mailroom_shared::ipc::{Event, ServiceState, StatusReport};
use tokio::sync::broadcast;
use tokio_util::task::TaskTracker;

use crate::disk::Disk;
use crate::listener::{Protocol, Socket};
use crate::mailauth::keys::DkimKeys;
use crate::pop3::lock::MailboxLocks;
use crate::shutdown::Shutdown;
use crate::store::{Store, StoreError};
use crate::throttle::AuthThrottle;

/// How long components get after the abort signal before the stop completes anyway.
const ABORT_GRACE: Duration = Duration::from_secs(5);
/// How long a run being replaced gets to hand its listeners over (its accept loops
/// return at their next poll; this only bounds a stuck one).
const HANDOVER: Duration = Duration::from_secs(2);

/// Why a lifecycle operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    /// A run could not be started (a listener or the certificate); the reason in words
    /// a person can act on, and the configuration field to change when one is the cause.
    #[error("{message}")]
    Start {
        /// What went wrong.
        message: String,
        /// The field (`connections.smtp_listen`…) whose value could not be used.
        field: Option<String>,
    },
}

impl LifecycleError {
    fn start(message: impl Into<String>) -> LifecycleError {
        LifecycleError::Start { message: message.into(), field: None }
    }
}

/// Why a configuration was not saved.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SaveError {
    /// It does not validate: every problem, each naming its field.
    #[error("the configuration is not valid")]
    Invalid(ConfigErrors),
    /// The store refused it (a stale revision: [`StoreError::Conflict`]) or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A hook run with each configuration the service starts with (log levels).
pub type ApplyHook = Box<dyn Fn(&Config) + Send + Sync>;

/// Owns the service's state; cheap to clone.
#[derive(Clone)]
pub struct Manager {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    events: broadcast::Sender<Event>,
    data_dir: PathBuf,
    on_apply: ApplyHook,
    /// Serialises start/stop/restart, held for the whole operation; it guards the
    /// listening sockets, which outlive runs.
    ops: tokio::sync::Mutex<Vec<Socket>>,
    /// The current state. A std mutex: held only for short, non-async sections.
    state: Mutex<State>,
    /// The latest saved configuration, mirrored from the store so that `status` needs
    /// no database read.
    saved: Mutex<(Arc<Config>, u64)>,
    /// Failed logins; kept across restarts, so that a restart lifts no lock-out.
    throttle: Arc<AuthThrottle>,
    /// Traffic figures, kept across restarts.
    metrics: Arc<crate::metrics::Metrics>,
    /// Wakes the outbound queue's actor. One for every run: a run being replaced
    /// drains while the new one runs, and what its workers record (a failure whose NDR
    /// is due, a delivery given back to the queue) must wake the new run's actor, not
    /// its own, which has stopped.
    queue: Arc<tokio::sync::Notify>,
    /// Mailboxes held by POP3 sessions, of every run.
    pop3_locks: Arc<MailboxLocks>,
    /// The DKIM keys: made, rotated and retired here, signing in every run.
    dkim: DkimKeys,
    /// The ACME client's status and the administrator's requests to renew, for every
    /// run.
    acme: Arc<crate::acme::AcmeControl>,
    /// Scheduled backups' state, for every run.
    backups: Arc<crate::backup::Scheduled>,
    /// The SRS secret, once read.
    srs: Arc<tokio::sync::OnceCell<String>>,
    /// Runs replaced by a restart, still draining; a stop waits for them.
    replaced: TaskTracker,
    /// Their stop signals, so that a stop can tell their idle sessions to leave.
    old_runs: Mutex<Vec<Shutdown>>,
}

struct State {
    state: ServiceState,
    running: Option<Run>,
    /// Why the last start or restart failed, and the field to change when one is the
    /// cause.
    last_error: Option<(String, Option<String>)>,
}

/// A running instance of the service.
struct Run {
    config: Arc<Config>,
    revision: u64,
    /// What listens where (the bound addresses).
    listening: Vec<(Protocol, SocketAddr)>,
    certificate: Option<Arc<crate::tls::Certificates>>,
    since: Instant,
    shutdown: Shutdown,
    /// Every task of the run.
    tasks: TaskTracker,
    /// The run's accept loops, to know when it has let go of the listeners.
    accepting: TaskTracker,
    queue: Arc<tokio::sync::Notify>,
    /// The run's disk watcher.
    disk: Arc<Disk>,
}

/// A run ready to start: its configuration, TLS and listening sockets.
struct Prepared {
    config: Arc<Config>,
    revision: u64,
    tls: Option<crate::tls::ServerTls>,
    sockets: Vec<Socket>,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager").field("data_dir", &self.inner.data_dir).finish_non_exhaustive()
    }
}

impl Manager {
    /// A manager in state Stopped, with the saved configuration loaded from `store`.
    /// Deliveries a previous process left in flight are put back in the queue: this is
    /// the one moment no run can be holding them.
    ///
    /// # Errors
    /// When the saved configuration or the queue cannot be read.
    pub async fn new(
        store: Store,
        events: broadcast::Sender<Event>,
        data_dir: PathBuf,
        on_apply: ApplyHook,
    ) -> Result<Manager, StoreError> {
        let (config, revision) = store.load_config().await?;
        match store.queue_recover().await? {
            0 => {}
            n => tracing::info!(recipients = n, "returned deliveries interrupted by the last stop to the queue"),
        }
        let manager = Manager {
            inner: Arc::new(Inner {
                dkim: DkimKeys::new(store.clone()),
                store,
                events,
                data_dir,
                on_apply,
                ops: tokio::sync::Mutex::new(Vec::new()),
                state: Mutex::new(State { state: ServiceState::Stopped, running: None, last_error: None }),
                saved: Mutex::new((Arc::new(config), revision)),
                throttle: Arc::default(),
                metrics: Arc::default(),
                queue: Arc::default(),
                pop3_locks: Arc::default(),
                acme: Arc::default(),
                backups: Arc::default(),
                srs: Arc::default(),
                replaced: TaskTracker::new(),
                old_runs: Mutex::default(),
            }),
        };
        let (config, _) = manager.saved_config();
        manager.inner.dkim.ensure(&config).await?;
        Ok(manager)
    }

    /// The DKIM keys (rotate, retire).
    pub fn dkim(&self) -> &DkimKeys {
        &self.inner.dkim
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// A receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// Sends an event to subscribers (none listening is fine).
    pub fn emit(&self, event: Event) {
        let _ = self.inner.events.send(event);
    }

    /// The configuration the service runs with, when it runs.
    pub fn running_config(&self) -> Option<Arc<Config>> {
        self.state().running.as_ref().map(|r| Arc::clone(&r.config))
    }

    /// The latest saved configuration and its revision.
    pub fn saved_config(&self) -> (Arc<Config>, u64) {
        let s = self.inner.saved.lock().unwrap_or_else(|p| p.into_inner());
        (Arc::clone(&s.0), s.1)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set_state(&self, state: ServiceState, error: Option<String>) {
        self.set_state_with(state, error.map(|e| (e, None)));
    }

    /// Reports `state`, entered because of the failure `e`.
    fn set_failed_state(&self, state: ServiceState, e: &LifecycleError) {
        let LifecycleError::Start { message, field } = e;
        self.set_state_with(state, Some((message.clone(), field.clone())));
    }

    fn set_state_with(&self, state: ServiceState, error: Option<(String, Option<String>)>) {
        {
            let mut s = self.state();
            s.state = state;
            if error.is_some() || state == ServiceState::Running {
                s.last_error.clone_from(&error);
            }
        }
        match &error {
            Some((e, _)) => tracing::error!(%state, error = %e, "service state changed"),
            None => tracing::info!(%state, "service state changed"),
        }
        let (error, field) = error.map_or((None, None), |(e, f)| (Some(e), f));
        self.emit(Event::ServiceState { state, error, field });
    }

    /// Wakes the outbound queue (retry now), if the service runs.
    pub fn wake_queue(&self) {
        if let Some(r) = &self.state().running {
            r.queue.notify_one();
        }
    }

    /// Validates and saves a configuration; it takes effect at the next restart.
    ///
    /// # Errors
    /// [`SaveError::Invalid`] listing every problem; [`StoreError::Conflict`] for a
    /// stale `base_revision`.
    pub async fn save_config(
        &self,
        draft: &ConfigDraft,
        base_revision: Option<u64>,
    ) -> Result<(u64, Vec<Page>), SaveError> {
        let config = Config::from_draft(draft).map_err(SaveError::Invalid)?;
        // Keep the mirror's lock order simple: write to the store first, then update
        // the mirror with what was committed.
        let revision = self.inner.store.save_config(&config, base_revision).await?;
        // A domain just added as inbound gets its keys now, so that its records can
        // be published before the restart that starts signing with them.
        self.inner.dkim.ensure(&config).await?;
        {
            let mut saved = self.inner.saved.lock().unwrap_or_else(|p| p.into_inner());
            if revision > saved.1 {
                *saved = (Arc::new(config), revision);
            }
        }
        let pending_pages = {
            let s = self.state();
            self.pending_pages(s.running.as_ref().map(|r| &*r.config))
        };
        tracing::info!(revision, pending = ?pending_pages, "configuration saved");
        self.emit(Event::ConfigSaved { revision, pending_pages: pending_pages.clone() });
        Ok((revision, pending_pages))
    }

    /// Starts the service if it is not running.
    ///
    /// # Errors
    /// [`LifecycleError::Start`] with the reason when a listener or the certificate
    /// cannot be set up; the service is then Stopped.
    pub async fn start(&self) -> Result<StatusReport, LifecycleError> {
        let mut sockets = self.inner.ops.lock().await;
        if self.state().running.is_none() {
            self.set_state(ServiceState::Starting, None);
            let prepared = match self.prepare(&sockets).await {
                Ok(p) => p,
                Err(e) => {
                    self.set_failed_state(ServiceState::Stopped, &e);
                    return Err(e);
                }
            };
            self.launch(prepared, &mut sockets);
        }
        Ok(self.status())
    }

    /// Stops the service if it is running: drains its run (and any run a restart
    /// replaced that is still draining), then closes the listeners.
    ///
    /// # Errors
    /// None at present; the signature leaves room for a stop that can fail.
    pub async fn stop(&self) -> Result<StatusReport, LifecycleError> {
        let mut sockets = self.inner.ops.lock().await;
        let run = self.state().running.take();
        if let Some(run) = run {
            self.set_state(ServiceState::Stopping, None);
            run.shutdown.stop();
            sockets.clear();
            drain(run).await;
            // Runs a restart replaced are told to stop too: their idle sessions leave.
            self.inner.replaced.close();
            for old in std::mem::take(&mut *self.inner.old_runs.lock().unwrap_or_else(|p| p.into_inner())) {
                old.stop();
            }
            self.inner.replaced.wait().await;
            self.inner.replaced.reopen();
            self.set_state(ServiceState::Stopped, None);
        }
        Ok(self.status())
    }

    /// Replaces the running service with one on the saved configuration, refusing no
    /// connection (see the module's documentation); starts it if it is stopped.
    ///
    /// # Errors
    /// As [`Manager::start`]. When the new configuration cannot start, the running
    /// service goes on with the old one, and the error says why.
    pub async fn restart(&self) -> Result<StatusReport, LifecycleError> {
        let mut sockets = self.inner.ops.lock().await;
        if self.state().running.is_none() {
            drop(sockets);
            return self.start().await;
        }
        let prepared = match self.prepare(&sockets).await {
            Ok(p) => p,
            Err(LifecycleError::Start { message, field }) => {
                let message = format!("{message}; the service goes on with the configuration it was started with");
                let e = LifecycleError::Start { message, field };
                self.set_failed_state(ServiceState::Running, &e);
                return Err(e);
            }
        };
        self.set_state(ServiceState::Stopping, None);
        let Some(old) = self.state().running.take() else {
            return Err(LifecycleError::start("the service stopped during the restart"));
        };
        old.shutdown.drain();
        old.accepting.close();
        if tokio::time::timeout(HANDOVER, old.accepting.wait()).await.is_err() {
            tracing::warn!("the old run's listeners did not stop accepting in time");
        }
        self.set_state(ServiceState::Stopped, None);
        self.set_state(ServiceState::Starting, None);
        self.launch(prepared, &mut sockets);
        self.inner.old_runs.lock().unwrap_or_else(|p| p.into_inner()).push(old.shutdown.clone());
        self.inner.replaced.spawn(drain(old));
        Ok(self.status())
    }
}
