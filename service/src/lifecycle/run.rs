//! A run's making and unmaking: its TLS and listeners prepared, its components
//! launched on them (the protocols' accept loops, the queue, housekeeping, backups,
//! ACME), and its drain.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use tokio_util::task::TaskTracker;

use mailroom_shared::ipc::ServiceState;

use super::{ABORT_GRACE, LifecycleError, Manager, Prepared, Run};
use crate::context::ServiceContext;
use crate::disk::Disk;
use crate::limits::Limits;
use crate::listener::{self, Protocol, Socket};
use crate::mailauth::MailAuth;
use crate::shutdown::Shutdown;

impl Manager {
    /// Makes what a run needs: the configuration snapshot, TLS, the listeners.
    pub(super) async fn prepare(&self, kept: &[Socket]) -> Result<Prepared, LifecycleError> {
        let (config, revision) = self.saved_config();
        let implicit_tls = config.connections.submissions_listen.is_some()
            || config.pop3.pop3s_listen.is_some()
            || config.imap4.imaps_listen.is_some()
            || config.connections.https_listen.is_some();
        let acme = config.acme().and_then(|a| crate::acme::stored(&self.inner.data_dir, &a));
        let tls = match crate::tls::server(&self.inner.data_dir, &config, acme) {
            Ok(t) => Some(t),
            // The administrator named a certificate, or a listener that is nothing
            // without one: do not run without it.
            Err(e) if config.security.tls_files.is_some() || implicit_tls => {
                return Err(LifecycleError::start(e.to_string()));
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
    pub(super) fn launch(&self, prepared: Prepared, sockets: &mut Vec<Socket>) {
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
            mailauth: Arc::new(MailAuth::new(&config, self.inner.dkim.signing())),
            dns_lists: Arc::new(crate::filtering::dnslists::DnsLists::new(&config)),
            srs: Arc::clone(&self.inner.srs),
            imap_lists: Arc::default(),
        };
        let accepting = TaskTracker::new();
        let acceptor = ctx.tls.as_ref().map(|t| t.acceptor.clone());
        let c = &config.connections;
        let m = &ctx.metrics;
        let smtp_limits = Limits::new(c.max_connections, c.max_connections_per_ip, Arc::clone(&m.smtp_sessions));
        let pop3_limits = Limits::new(c.max_connections, c.max_connections_per_ip, Arc::clone(&m.pop3_sessions));
        let imap_limits = Limits::new(c.max_connections, c.max_connections_per_ip, Arc::clone(&m.imap_sessions));
        let https_limits = Limits::new(c.max_connections, c.max_connections_per_ip, Arc::clone(&m.https_sessions));
        // What mail programs are told to use: the listeners of this run as bound.
        let setup = Arc::new(crate::http::setup::Setup::new(
            &config,
            &bound.iter().filter_map(|s| s.bound().map(|a| (s.protocol, s.configured, a))).collect::<Vec<_>>(),
            ctx.tls.is_some(),
        ));
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
                Protocol::Https => {
                    let Some(tls) = &ctx.tls else { continue };
                    let http = crate::http::Http::new(tls.https.clone(), https_limits.clone(), setup.clone());
                    serve(&ctx, &accepting, http.serve(listener, ctx.clone()));
                }
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
        match (config.acme(), &ctx.tls) {
            (Some(acme), Some(tls)) => {
                ctx.tasks.spawn(crate::acme::run(
                    acme,
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
pub(super) async fn drain(run: Run) {
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
