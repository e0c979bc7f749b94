//! The Internet Mail Service's lifecycle: Stopped → Starting → Running → Stopping.
//!
//! [`Manager`] owns the state. Start, stop and restart are serialised by one async
//! mutex, so a restart from the GUI and a SIGHUP arriving together run one after the
//! other, never interleaved. Every transition is pushed as an [`Event::ServiceState`].
//!
//! A start takes the saved configuration as an immutable snapshot (`Arc<Config>`),
//! binds the listeners, and only then reports Running; a bind failure leaves the
//! service Stopped with the reason, and the process (with its control socket) alive.
//! A stop signals [`Shutdown::draining`] to every component, waits for their tasks up
//! to the drain timeout, then signals [`Shutdown::aborted`] and waits a little more.
//! Components plug in through [`ServiceContext`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mailroom_shared::config::{Config, ConfigDraft, Page};
use mailroom_shared::ipc::{Event, IpcError, ServiceState, StatusReport};
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::store::{Store, StoreError};

/// How long components get after the abort signal before the stop completes anyway.
const ABORT_GRACE: Duration = Duration::from_secs(5);

/// The two-stage stop signal given to every component of a running service.
#[derive(Clone, Debug, Default)]
pub struct Shutdown {
    drain: CancellationToken,
    abort: CancellationToken,
}

impl Shutdown {
    /// Resolves when the service starts stopping: stop accepting, finish what is in
    /// flight, say goodbye to idle clients.
    pub async fn draining(&self) {
        self.drain.cancelled().await;
    }
    /// True once draining has begun.
    pub fn is_draining(&self) -> bool {
        self.drain.is_cancelled()
    }
    /// Resolves when the drain timeout has run out: abandon in-flight work now (it must
    /// not have been acknowledged).
    pub async fn aborted(&self) {
        self.abort.cancelled().await;
    }
}

/// What a running component is given.
#[derive(Clone)]
pub struct ServiceContext {
    /// The configuration snapshot this run started with.
    pub config: Arc<Config>,
    /// The store.
    pub store: Store,
    /// The stop signal.
    pub shutdown: Shutdown,
    /// Tracks every task of this run; a stop waits for them.
    pub tasks: TaskTracker,
    /// Where events go.
    pub events: broadcast::Sender<Event>,
    /// Wakes the outbound queue (new mail, retry now).
    pub queue: Arc<tokio::sync::Notify>,
    /// TLS for STARTTLS, STLS and the implicit-TLS listeners; `None` when no
    /// certificate could be set up.
    pub tls: Option<crate::tls::ServerTls>,
    /// Failed logins of this run, shared by SMTP AUTH and POP3.
    pub throttle: Arc<crate::throttle::AuthThrottle>,
}

impl std::fmt::Debug for ServiceContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceContext").field("tls", &self.tls.is_some()).finish_non_exhaustive()
    }
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
    /// Serialises start/stop/restart; held for the whole operation.
    ops: tokio::sync::Mutex<()>,
    /// The current state. A std mutex: held only for short, non-async sections.
    state: Mutex<State>,
    /// The latest saved configuration, mirrored from the store so that `status` needs
    /// no database read.
    saved: Mutex<(Arc<Config>, u64)>,
}

struct State {
    state: ServiceState,
    running: Option<Running>,
    last_error: Option<String>,
}

/// A running instance of the service.
struct Running {
    config: Arc<Config>,
    revision: u64,
    smtp_addr: Option<SocketAddr>,
    pop3_addr: Option<SocketAddr>,
    submissions_addr: Option<SocketAddr>,
    pop3s_addr: Option<SocketAddr>,
    certificate: Option<Arc<mailroom_shared::ipc::CertificateInfo>>,
    /// The run's failed-login counts, for listing and lifting lock-outs.
    throttle: Arc<crate::throttle::AuthThrottle>,
    since: Instant,
    shutdown: Shutdown,
    tasks: TaskTracker,
    queue: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager").field("data_dir", &self.inner.data_dir).finish_non_exhaustive()
    }
}

/// Maps store failures to protocol errors. Database errors are logged here, once, and
/// reported to the client without internals.
pub fn store_error(e: StoreError) -> IpcError {
    match e {
        StoreError::NotFound(message) => IpcError::NotFound { message },
        StoreError::Conflict(message) => IpcError::Conflict { message },
        StoreError::Invalid { field, message } => IpcError::InvalidArgument { field, message },
        other => {
            tracing::error!(error = %other, "store operation failed");
            IpcError::Internal { message: other.to_string() }
        }
    }
}

impl Manager {
    /// A manager in state Stopped, with the saved configuration loaded from `store`.
    ///
    /// # Errors
    /// When the saved configuration cannot be read.
    pub async fn new(
        store: Store,
        events: broadcast::Sender<Event>,
        data_dir: PathBuf,
        on_apply: ApplyHook,
    ) -> Result<Manager, StoreError> {
        let (config, revision) = store.load_config().await?;
        Ok(Manager {
            inner: Arc::new(Inner {
                store,
                events,
                data_dir,
                on_apply,
                ops: tokio::sync::Mutex::new(()),
                state: Mutex::new(State { state: ServiceState::Stopped, running: None, last_error: None }),
                saved: Mutex::new((Arc::new(config), revision)),
            }),
        })
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

    /// The latest saved configuration and its revision.
    pub fn saved_config(&self) -> (Arc<Config>, u64) {
        let s = self.inner.saved.lock().unwrap_or_else(|p| p.into_inner());
        (Arc::clone(&s.0), s.1)
    }

    fn set_state(&self, state: ServiceState, error: Option<String>) {
        {
            let mut s = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
            s.state = state;
            if error.is_some() || state == ServiceState::Running {
                s.last_error.clone_from(&error);
            }
        }
        match &error {
            Some(e) => tracing::error!(%state, error = %e, "service state changed"),
            None => tracing::info!(%state, "service state changed"),
        }
        self.emit(Event::ServiceState { state, error });
    }

    /// Pages of the saved configuration that differ from the running snapshot.
    fn pending_pages(&self, running: Option<&Config>) -> Vec<Page> {
        let (saved, _) = self.saved_config();
        running.map(|r| r.changed_pages(&saved)).unwrap_or_default()
    }

    /// The current status.
    pub fn status(&self) -> StatusReport {
        let (_, revision) = self.saved_config();
        let s = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
        let running = s.running.as_ref();
        let pending_pages = self.pending_pages(running.map(|r| &*r.config));
        StatusReport {
            state: s.state,
            smtp_addr: running.and_then(|r| r.smtp_addr).map(|a| a.to_string()),
            pop3_addr: running.and_then(|r| r.pop3_addr).map(|a| a.to_string()),
            submissions_addr: running.and_then(|r| r.submissions_addr).map(|a| a.to_string()),
            pop3s_addr: running.and_then(|r| r.pop3s_addr).map(|a| a.to_string()),
            pending_restart: !pending_pages.is_empty(),
            pending_pages,
            last_error: s.last_error.clone(),
            uptime_secs: running.filter(|_| s.state == ServiceState::Running).map(|r| r.since.elapsed().as_secs()),
            config_revision: revision,
            running_revision: running.map(|r| r.revision),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            data_dir: self.inner.data_dir.display().to_string(),
            pid: std::process::id(),
        }
    }

    /// The certificate the running service presents; `None` when it is not running or
    /// runs without TLS.
    pub fn certificate(&self) -> Option<mailroom_shared::ipc::CertificateInfo> {
        let s = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
        s.running.as_ref().and_then(|r| r.certificate.as_deref().cloned())
    }

    /// Current lock-outs after failed logins (none while the service is stopped: the
    /// counts belong to a run).
    pub fn lockouts(&self) -> Vec<mailroom_shared::ipc::LockoutInfo> {
        let throttle = self.running_throttle();
        let now = crate::store::now_secs();
        throttle
            .map(|t| t.lockouts())
            .unwrap_or_default()
            .into_iter()
            .map(|l| mailroom_shared::ipc::LockoutInfo {
                client: l.client,
                is_address: l.is_address,
                failures: l.failures,
                until: now + i64::try_from(l.remaining.as_secs()).unwrap_or(0),
            })
            .collect()
    }

    /// Lifts a lock-out.
    ///
    /// # Errors
    /// [`IpcError::NotFound`] when `client` has no failed logins counted.
    pub fn unlock(&self, client: &str) -> Result<(), IpcError> {
        let lifted = self.running_throttle().is_some_and(|t| t.unlock(client));
        if !lifted {
            return Err(IpcError::NotFound { message: format!("{client} has no failed logins counted") });
        }
        tracing::info!(client, "lock-out lifted by the administrator");
        Ok(())
    }

    fn running_throttle(&self) -> Option<Arc<crate::throttle::AuthThrottle>> {
        let s = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
        s.running.as_ref().map(|r| Arc::clone(&r.throttle))
    }

    /// Wakes the outbound queue (retry now), if the service runs.
    pub fn wake_queue(&self) {
        if let Some(r) = &self.inner.state.lock().unwrap_or_else(|p| p.into_inner()).running {
            r.queue.notify_one();
        }
    }

    /// Validates and saves a configuration; it takes effect at the next restart.
    ///
    /// # Errors
    /// [`IpcError::InvalidConfig`] listing every problem; [`IpcError::Conflict`] for a
    /// stale `base_revision`.
    pub async fn save_config(
        &self,
        draft: &ConfigDraft,
        base_revision: Option<u64>,
    ) -> Result<(u64, Vec<Page>), IpcError> {
        let config = Config::from_draft(draft).map_err(|e| IpcError::InvalidConfig { errors: e.0 })?;
        // Hold the mirror's lock order simple: write to the store first, then update
        // the mirror with what was committed.
        let revision = self.inner.store.save_config(&config, base_revision).await.map_err(store_error)?;
        {
            let mut saved = self.inner.saved.lock().unwrap_or_else(|p| p.into_inner());
            if revision > saved.1 {
                *saved = (Arc::new(config), revision);
            }
        }
        let pending_pages = {
            let s = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
            self.pending_pages(s.running.as_ref().map(|r| &*r.config))
        };
        tracing::info!(revision, pending = ?pending_pages, "configuration saved");
        self.emit(Event::ConfigSaved { revision, pending_pages: pending_pages.clone() });
        Ok((revision, pending_pages))
    }

    /// Starts the service if it is not running.
    ///
    /// # Errors
    /// [`IpcError::Failed`] with the reason when a listener cannot be bound; the service
    /// is then Stopped.
    pub async fn start(&self) -> Result<StatusReport, IpcError> {
        let _op = self.inner.ops.lock().await;
        self.start_locked().await?;
        Ok(self.status())
    }

    /// Stops the service if it is running, draining in-flight work.
    ///
    /// # Errors
    /// None at present; the signature leaves room for a stop that can fail.
    pub async fn stop(&self) -> Result<StatusReport, IpcError> {
        let _op = self.inner.ops.lock().await;
        self.stop_locked().await;
        Ok(self.status())
    }

    /// Stops (if running), then starts with the saved configuration.
    ///
    /// # Errors
    /// As [`Manager::start`].
    pub async fn restart(&self) -> Result<StatusReport, IpcError> {
        let _op = self.inner.ops.lock().await;
        self.stop_locked().await;
        self.start_locked().await?;
        Ok(self.status())
    }

    async fn start_locked(&self) -> Result<(), IpcError> {
        if self.inner.state.lock().unwrap_or_else(|p| p.into_inner()).running.is_some() {
            return Ok(());
        }
        self.set_state(ServiceState::Starting, None);
        let (config, revision) = self.saved_config();
        (self.inner.on_apply)(&config);

        let implicit_tls = config.connections.submissions_listen.is_some() || config.pop3.pop3s_listen.is_some();
        let tls = match crate::tls::server(&self.inner.data_dir, &config) {
            Ok(a) => Some(a),
            Err(message) if config.security.tls_files.is_some() || implicit_tls => {
                // The administrator named a certificate, or a listener that is nothing
                // without one: do not run without it.
                self.set_state(ServiceState::Stopped, Some(message.clone()));
                return Err(IpcError::Failed { message });
            }
            Err(e) => {
                tracing::error!(error = %e, "TLS is not available");
                None
            }
        };
        let bound = match bind_listeners(&config).await {
            Ok(b) => b,
            Err(message) => {
                self.set_state(ServiceState::Stopped, Some(message.clone()));
                return Err(IpcError::Failed { message });
            }
        };
        let ctx = ServiceContext {
            config: Arc::clone(&config),
            store: self.inner.store.clone(),
            shutdown: Shutdown::default(),
            tasks: TaskTracker::new(),
            events: self.inner.events.clone(),
            queue: Arc::new(tokio::sync::Notify::new()),
            tls,
            throttle: Arc::default(),
        };
        let addr = |l: &Option<TcpListener>| l.as_ref().and_then(|l| l.local_addr().ok());
        let (smtp_addr, pop3_addr) = (addr(&bound.smtp), addr(&bound.pop3));
        let (submissions_addr, pop3s_addr) = (addr(&bound.submissions), addr(&bound.pop3s));
        let acceptor = ctx.tls.as_ref().map(|t| t.acceptor.clone());
        let c = &config.connections;
        let smtp_limits = crate::listener::Limits::new(c.max_connections, c.max_connections_per_ip);
        for (listener, implicit) in [(bound.smtp, None), (bound.submissions, acceptor.clone())] {
            if let Some(l) = listener {
                ctx.tasks.spawn(crate::smtp::serve(l, implicit, smtp_limits.clone(), ctx.clone()));
            }
        }
        let pop3 = crate::pop3::Listeners::new(&ctx);
        for (listener, implicit) in [(bound.pop3, None), (bound.pop3s, acceptor)] {
            if let Some(l) = listener {
                ctx.tasks.spawn(crate::pop3::serve(l, implicit, pop3.clone(), ctx.clone()));
            }
        }
        ctx.tasks.spawn(crate::queue::run(ctx.clone()));
        tracing::info!(smtp = ?smtp_addr, submissions = ?submissions_addr, pop3 = ?pop3_addr, pop3s = ?pop3s_addr, revision, "listeners bound");
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner()).running = Some(Running {
            config,
            revision,
            smtp_addr,
            pop3_addr,
            submissions_addr,
            pop3s_addr,
            certificate: ctx.tls.as_ref().map(|t| Arc::clone(&t.info)),
            throttle: Arc::clone(&ctx.throttle),
            since: Instant::now(),
            shutdown: ctx.shutdown,
            tasks: ctx.tasks,
            queue: ctx.queue,
        });
        self.set_state(ServiceState::Running, None);
        Ok(())
    }

    async fn stop_locked(&self) {
        let Some(running) = self.inner.state.lock().unwrap_or_else(|p| p.into_inner()).running.take() else {
            return;
        };
        self.set_state(ServiceState::Stopping, None);
        let drain = running.config.general.drain_timeout;
        running.shutdown.drain.cancel();
        running.tasks.close();
        if tokio::time::timeout(drain, running.tasks.wait()).await.is_err() {
            tracing::warn!(?drain, tasks = running.tasks.len(), "drain timeout reached; aborting in-flight work");
            running.shutdown.abort.cancel();
            if tokio::time::timeout(ABORT_GRACE, running.tasks.wait()).await.is_err() {
                tracing::error!(tasks = running.tasks.len(), "tasks still running after abort; leaving them behind");
            }
        }
        self.set_state(ServiceState::Stopped, None);
    }
}

/// The listeners of one run.
struct Bound {
    smtp: Option<TcpListener>,
    submissions: Option<TcpListener>,
    pop3: Option<TcpListener>,
    pop3s: Option<TcpListener>,
}

/// Binds every listener the configuration asks for, or none: on failure, those already
/// bound are dropped (closed) before the error is returned.
async fn bind_listeners(config: &Config) -> Result<Bound, String> {
    let bind = |what: &'static str, addr: SocketAddr| async move {
        TcpListener::bind(addr).await.map_err(|e| format!("cannot listen for {what} on {addr}: {}", describe(&e)))
    };
    let inbound = config.connections.transfer_mode.accepts_inbound();
    let smtp = match inbound {
        true => Some(bind("SMTP", config.connections.smtp_listen).await?),
        false => None,
    };
    let submissions = match (inbound, config.connections.submissions_listen) {
        (true, Some(a)) => Some(bind("SMTP over TLS (submissions)", a).await?),
        _ => None,
    };
    let pop3 = match config.pop3.enabled {
        true => Some(bind("POP3", config.pop3.listen).await?),
        false => None,
    };
    let pop3s = match (config.pop3.enabled, config.pop3.pop3s_listen) {
        (true, Some(a)) => Some(bind("POP3 over TLS (pop3s)", a).await?),
        _ => None,
    };
    Ok(Bound { smtp, submissions, pop3, pop3s })
}

/// An I/O error in words a person can act on.
fn describe(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => "address in use (another program is listening there)".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied (ports below 1024 need privileges)".into(),
        std::io::ErrorKind::AddrNotAvailable => "address not available on this machine".into(),
        _ => e.to_string(),
    }
}
