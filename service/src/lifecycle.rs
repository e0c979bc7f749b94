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

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mailroom_shared::config::{Config, ConfigDraft, ConfigErrors, Page};
use mailroom_shared::ipc::{Event, ListenerStatus, ServiceState, StatusReport, StorageStatus};
use tokio::sync::broadcast;
use tokio_util::task::TaskTracker;

use crate::context::ServiceContext;
use crate::disk::Disk;
use crate::listener::{self, Limits, Protocol, Socket};
use crate::mailauth::MailAuth;
use crate::mailauth::signing::SigningKeys;
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
    /// The DKIM keys that sign, for every run.
    dkim: Arc<SigningKeys>,
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
                dkim: Arc::default(),
                acme: Arc::default(),
                backups: Arc::default(),
                srs: Arc::default(),
                replaced: TaskTracker::new(),
                old_runs: Mutex::default(),
            }),
        };
        let (config, _) = manager.saved_config();
        manager.ensure_dkim_keys(&config).await?;
        Ok(manager)
    }

    /// Makes DKIM keys for every inbound domain of `config` that has none, and loads
    /// the signing keys. Key generation runs on the blocking pool.
    ///
    /// # Errors
    /// Store failures. A key that cannot be made is logged and left for next time.
    async fn ensure_dkim_keys(&self, config: &Config) -> Result<(), StoreError> {
        let mut keys = self.inner.store.dkim_keys().await?;
        for domain in config.routing.table.inbound_domains() {
            let domain = domain.to_string();
            if keys.iter().any(|k| k.domain == domain && k.active) {
                continue;
            }
            match self.make_dkim_keys(&domain, &keys).await {
                Ok(new) => {
                    tracing::info!(target: "mailroom_service::mailauth", %domain, "DKIM keys made");
                    keys.extend(new);
                }
                Err(e) => {
                    tracing::error!(target: "mailroom_service::mailauth", %domain, error = %e, "cannot make DKIM keys")
                }
            }
        }
        self.inner.dkim.load(&keys);
        Ok(())
    }

    /// Makes and stores a new pair of DKIM keys for `domain` (they sign from now on).
    async fn make_dkim_keys(
        &self,
        domain: &str,
        existing: &[crate::store::DkimKey],
    ) -> Result<Vec<crate::store::DkimKey>, String> {
        let taken: Vec<String> = existing.iter().filter(|k| k.domain == domain).map(|k| k.selector.clone()).collect();
        let d = domain.to_owned();
        let now = crate::store::now_secs();
        let new = tokio::task::spawn_blocking(move || crate::mailauth::signing::generate(&d, now, &taken))
            .await
            .map_err(|e| format!("key generation failed: {e}"))??;
        self.inner.store.dkim_add(new.clone()).await.map_err(|e| e.to_string())?;
        Ok(new)
    }

    /// Makes new DKIM keys for an inbound domain; they sign from now on, and the old
    /// ones stay published until retired.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when `domain` is not an inbound domain; store failures.
    pub async fn dkim_rotate(&self, domain: &str) -> Result<(), StoreError> {
        let (config, _) = self.saved_config();
        if !config.routing.table.inbound_domains().iter().any(|d| d.to_string() == domain) {
            return Err(StoreError::NotFound(format!("{domain} is not an inbound domain")));
        }
        let keys = self.inner.store.dkim_keys().await?;
        self.make_dkim_keys(domain, &keys).await.map_err(StoreError::Internal)?;
        self.inner.dkim.load(&self.inner.store.dkim_keys().await?);
        tracing::info!(target: "mailroom_service::mailauth", domain, "DKIM keys rotated");
        Ok(())
    }

    /// Stops publishing an old DKIM key.
    ///
    /// # Errors
    /// As [`Store::dkim_retire`].
    pub async fn dkim_retire(&self, domain: &str, selector: &str) -> Result<(), StoreError> {
        self.inner.store.dkim_retire(domain.to_owned(), selector.to_owned()).await?;
        tracing::info!(target: "mailroom_service::mailauth", domain, selector, "DKIM key retired");
        Ok(())
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

    /// The last hour of traffic, minute by minute.
    pub fn monitor(&self) -> Vec<mailroom_shared::ipc::MonitorMinute> {
        self.inner.metrics.minutes(crate::store::now_secs())
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

    /// Pages of the saved configuration that differ from the running snapshot.
    fn pending_pages(&self, running: Option<&Config>) -> Vec<Page> {
        let (saved, _) = self.saved_config();
        running.map(|r| r.changed_pages(&saved)).unwrap_or_default()
    }

    /// The current status.
    pub fn status(&self) -> StatusReport {
        let (_, revision) = self.saved_config();
        let s = self.state();
        let run = s.running.as_ref();
        let pending_pages = self.pending_pages(run.map(|r| &*r.config));
        let listening = run.map(|r| r.listening.as_slice()).unwrap_or_default();
        let addr = |p: Protocol| listening.iter().find(|(q, _)| *q == p).map(|(_, a)| a.to_string());
        StatusReport {
            state: s.state,
            smtp_addr: addr(Protocol::Smtp),
            pop3_addr: addr(Protocol::Pop3),
            submissions_addr: addr(Protocol::Submissions),
            submission_addr: addr(Protocol::Submission),
            metrics_addr: addr(Protocol::Metrics),
            pop3s_addr: addr(Protocol::Pop3s),
            imap_addr: addr(Protocol::Imap),
            imaps_addr: addr(Protocol::Imaps),
            listeners: listening
                .iter()
                .map(|(p, a)| ListenerStatus { protocol: p.name().to_owned(), address: a.to_string() })
                .collect(),
            storage: self.storage(
                run.map_or_else(|| self.saved_config().0, |r| Arc::clone(&r.config)),
                run.map(|r| r.disk.low()),
            ),
            filtering: None,
            pending_restart: !pending_pages.is_empty(),
            pending_pages,
            last_error: s.last_error.as_ref().map(|(e, _)| e.clone()),
            last_error_field: s.last_error.as_ref().and_then(|(_, f)| f.clone()),
            uptime_secs: run.filter(|_| s.state == ServiceState::Running).map(|r| r.since.elapsed().as_secs()),
            config_revision: revision,
            running_revision: run.map(|r| r.revision),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            data_dir: self.inner.data_dir.display().to_string(),
            pid: std::process::id(),
            backups: run.and_then(|r| self.inner.backups.report(&r.config.backup)),
        }
    }

    /// The disk and what is kept on it, under `config`'s reserve and retention; `low`
    /// as the running service's watcher measured it, if it runs.
    fn storage(&self, config: Arc<Config>, low: Option<bool>) -> Option<StorageStatus> {
        let dir = &self.inner.data_dir;
        let reserve = config.general.free_space_reserve();
        let space = crate::disk::space(dir)?;
        let size = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
        let database_bytes = ["mailroom.db", "mailroom.db-wal"].iter().map(|f| size(&dir.join(f))).sum();
        let log_bytes = std::fs::read_dir(dir.join("logs"))
            .map(|entries| entries.flatten().map(|e| size(&e.path())).sum())
            .unwrap_or(0);
        Some(StorageStatus {
            free_bytes: space.free,
            total_bytes: space.total,
            reserve_bytes: reserve,
            low: low.unwrap_or(space.free < reserve),
            database_bytes,
            log_bytes,
            keep_days: config.diagnostics.keep_days,
        })
    }

    /// The certificate the running service presents; `None` when it is not running or
    /// runs without TLS.
    pub fn certificate(&self) -> Option<mailroom_shared::ipc::CertificateInfo> {
        self.state().running.as_ref().and_then(|r| r.certificate.as_ref().map(|c| (*c.info()).clone()))
    }

    /// Where the ACME client stands; `None` unless the running service obtains its
    /// certificate from an ACME CA.
    pub fn acme_status(&self) -> Option<mailroom_shared::ipc::AcmeStatus> {
        let uses_acme = self.state().running.as_ref().is_some_and(|r| r.config.security.acme.is_some());
        if uses_acme { self.inner.acme.status() } else { None }
    }

    /// Obtains a new certificate from the ACME CA now and waits for the outcome.
    ///
    /// # Errors
    /// When the service is not running or does not use ACME, or the attempt failed (the
    /// CA's or the network's reason).
    pub async fn renew_certificate(&self) -> Result<(), String> {
        if self.acme_status().is_none() {
            return Err(if self.state().running.is_some() {
                "the Security page does not ask for a certificate from an ACME CA".into()
            } else {
                "the Internet Mail Service is not running".into()
            });
        }
        self.inner.acme.renew_now().await.unwrap_or_else(|_| Err("the service stopped meanwhile".into()))
    }

    /// Current lock-outs after failed logins.
    pub fn lockouts(&self) -> Vec<mailroom_shared::ipc::LockoutInfo> {
        let now = crate::store::now_secs();
        self.inner
            .throttle
            .lockouts()
            .into_iter()
            .map(|l| mailroom_shared::ipc::LockoutInfo {
                client: l.client,
                is_address: l.is_address,
                failures: l.failures,
                until: now + i64::try_from(l.remaining.as_secs()).unwrap_or(0),
            })
            .collect()
    }

    /// Lifts a lock-out; false when `client` has no failed logins counted.
    pub fn unlock(&self, client: &str) -> bool {
        let lifted = self.inner.throttle.unlock(client);
        if lifted {
            tracing::info!(client, "lock-out lifted by the administrator");
        }
        lifted
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
        self.ensure_dkim_keys(&config).await?;
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

    /// Makes what a run needs: the configuration snapshot, TLS, the listeners.
    async fn prepare(&self, kept: &[Socket]) -> Result<Prepared, LifecycleError> {
        let (config, revision) = self.saved_config();
        let implicit_tls = config.connections.submissions_listen.is_some()
            || config.pop3.pop3s_listen.is_some()
            || config.imap4.imaps_listen.is_some();
        let acme = config.security.acme.as_ref().and_then(|a| crate::acme::stored(&self.inner.data_dir, a));
        let tls = match crate::tls::server(&self.inner.data_dir, &config, acme) {
            Ok(t) => Some(t),
            // The administrator named a certificate, or a listener that is nothing
            // without one: do not run without it.
            Err(message) if config.security.tls_files.is_some() || implicit_tls => {
                return Err(LifecycleError::start(message));
            }
            Err(e) => {
                tracing::error!(error = %e, "TLS is not available");
                None
            }
        };
        let sockets = listener::bind(&listener::wanted(&config), kept)
            .await
            .map_err(|e| LifecycleError::Start { message: e.message, field: Some(e.field.to_owned()) })?;
        Ok(Prepared { config, revision, tls, sockets })
    }

    /// Starts a prepared run on its sockets (which replace `sockets`) and reports
    /// Running.
    fn launch(&self, prepared: Prepared, sockets: &mut Vec<Socket>) {
        let Prepared { config, revision, tls, sockets: bound } = prepared;
        (self.inner.on_apply)(&config);
        let ctx = ServiceContext {
            config: Arc::clone(&config),
            store: self.inner.store.clone(),
            shutdown: Shutdown::default(),
            tasks: TaskTracker::new(),
            events: self.inner.events.clone(),
            queue: Arc::clone(&self.inner.queue),
            tls,
            throttle: Arc::clone(&self.inner.throttle),
            metrics: Arc::clone(&self.inner.metrics),
            pop3_locks: Arc::clone(&self.inner.pop3_locks),
            disk: Arc::new(Disk::new(&self.inner.data_dir, config.general.free_space_reserve())),
            mailauth: Arc::new(MailAuth::new(&config, Arc::clone(&self.inner.dkim))),
            dns_lists: Arc::new(crate::filtering::dnslists::DnsLists::new(&config)),
            srs: Arc::clone(&self.inner.srs),
        };
        let accepting = TaskTracker::new();
        let acceptor = ctx.tls.as_ref().map(|t| t.acceptor.clone());
        let c = &config.connections;
        let m = &ctx.metrics;
        let smtp_limits = Limits::new(c.max_connections, c.max_connections_per_ip, Arc::clone(&m.smtp_sessions));
        let pop3_limits = Limits::new(c.max_connections, c.max_connections_per_ip, Arc::clone(&m.pop3_sessions));
        let imap_limits = Limits::new(c.max_connections, c.max_connections_per_ip, Arc::clone(&m.imap_sessions));
        for socket in &bound {
            let implicit = socket.protocol.implicit_tls().then(|| acceptor.clone()).flatten();
            let listener = Arc::clone(&socket.listener);
            match socket.protocol {
                Protocol::Smtp | Protocol::Submissions | Protocol::Submission => {
                    let mode = match socket.protocol {
                        Protocol::Smtp => crate::smtp::Mode::Relay,
                        _ => crate::smtp::Mode::Submission,
                    };
                    let smtp = crate::smtp::Smtp { mode, implicit_tls: implicit.is_some() };
                    serve(
                        &ctx,
                        &accepting,
                        crate::listener::serve(smtp, listener, implicit, smtp_limits.clone(), ctx.clone()),
                    );
                }
                Protocol::Pop3 | Protocol::Pop3s => {
                    let pop3 = crate::pop3::Pop3 { implicit_tls: implicit.is_some() };
                    serve(
                        &ctx,
                        &accepting,
                        crate::listener::serve(pop3, listener, implicit, pop3_limits.clone(), ctx.clone()),
                    );
                }
                Protocol::Imap | Protocol::Imaps => {
                    let imap = crate::imap::Imap { implicit_tls: implicit.is_some() };
                    serve(
                        &ctx,
                        &accepting,
                        crate::listener::serve(imap, listener, implicit, imap_limits.clone(), ctx.clone()),
                    );
                }
                Protocol::Metrics => serve(&ctx, &accepting, crate::exporter::serve(listener, ctx.clone())),
            }
        }
        ctx.tasks.spawn(crate::queue::run(ctx.clone()));
        ctx.tasks.spawn(crate::housekeeping::run(ctx.clone(), self.inner.data_dir.join("logs")));
        ctx.tasks.spawn(crate::notices::run(ctx.clone()));
        ctx.tasks.spawn(crate::exporter::run(ctx.clone()));
        ctx.tasks.spawn(crate::quota::run(ctx.clone()));
        ctx.tasks.spawn(crate::backup::schedule(
            ctx.store.clone(),
            config.backup.clone(),
            self.inner.data_dir.clone(),
            Arc::clone(&self.inner.backups),
            ctx.shutdown.clone(),
        ));
        match (&config.security.acme, &ctx.tls) {
            (Some(acme), Some(tls)) => {
                ctx.tasks.spawn(crate::acme::run(
                    acme.clone(),
                    self.inner.data_dir.clone(),
                    Arc::clone(&tls.certs),
                    Arc::clone(&self.inner.acme),
                    ctx.shutdown.clone(),
                ));
            }
            _ => self.inner.acme.clear(),
        }
        let (disk, store, shutdown) = (Arc::clone(&ctx.disk), ctx.store.clone(), ctx.shutdown.clone());
        ctx.tasks.spawn(async move { disk.watch(store, shutdown).await });
        let listening: Vec<(Protocol, SocketAddr)> =
            bound.iter().filter_map(|s| s.bound().map(|a| (s.protocol, a))).collect();
        tracing::info!(listening = ?listening, revision, "listeners bound");
        *sockets = bound;
        self.state().running = Some(Run {
            config,
            revision,
            listening,
            certificate: ctx.tls.as_ref().map(|t| Arc::clone(&t.certs)),
            since: Instant::now(),
            shutdown: ctx.shutdown,
            tasks: ctx.tasks,
            accepting,
            queue: ctx.queue,
            disk: ctx.disk,
        });
        self.set_state(ServiceState::Running, None);
    }
}

/// Spawns a listener's accept loop, tracked as a task of the run and as one of its
/// accept loops.
fn serve(ctx: &ServiceContext, accepting: &TaskTracker, accept_loop: impl Future<Output = ()> + Send + 'static) {
    tokio::spawn(accepting.track_future(ctx.tasks.track_future(accept_loop)));
}

/// Drains a run whose drain (or stop) was signalled: waits for its tasks up to the
/// drain timeout, then aborts what is left and waits a little more.
async fn drain(run: Run) {
    let timeout = run.config.general.drain_timeout;
    run.tasks.close();
    if tokio::time::timeout(timeout, run.tasks.wait()).await.is_err() {
        tracing::warn!(?timeout, tasks = run.tasks.len(), "drain timeout reached; aborting in-flight work");
        run.shutdown.abort();
        if tokio::time::timeout(ABORT_GRACE, run.tasks.wait()).await.is_err() {
            tracing::error!(tasks = run.tasks.len(), "tasks still running after abort; leaving them behind");
        }
    }
    tracing::debug!(revision = run.revision, "run drained");
}
