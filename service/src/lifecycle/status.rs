//! What the Manager tells about the service besides its lifecycle: the status report
//! (state, listeners, pending changes, storage, backups), the certificate and how its
//! ACME renewal goes, the lock-outs after failed logins, and the Monitor's minutes.

use std::sync::Arc;

use mailroom_shared::config::{Config, Page};
use mailroom_shared::ipc::{ListenerStatus, ServiceState, StatusReport, StorageStatus};

use super::Manager;
use crate::listener::Protocol;

impl Manager {
    /// The last hour of traffic, minute by minute.
    pub fn monitor(&self) -> Vec<mailroom_shared::ipc::MonitorMinute> {
        self.inner.metrics.minutes(crate::store::now_secs())
    }

    /// Pages of the saved configuration that differ from the running snapshot.
    pub(super) fn pending_pages(&self, running: Option<&Config>) -> Vec<Page> {
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
    pub async fn renew_certificate(&self) -> Result<(), crate::acme::AcmeError> {
        use crate::acme::AcmeError;
        if self.acme_status().is_none() {
            return Err(if self.state().running.is_some() { AcmeError::NotConfigured } else { AcmeError::NotRunning });
        }
        self.inner.acme.renew_now().await.unwrap_or(Err(AcmeError::Stopped))
    }

    /// Current lock-outs after failed logins.
    pub fn lockouts(&self) -> Vec<mailroom_shared::ipc::LockoutInfo> {
        let now = crate::store::now_secs();
        self.inner
            .throttle
            .lockouts()
            .into_iter()
            .map(|l| {
                use crate::throttle::LockoutKind;
                let until = now + i64::try_from(l.remaining.as_secs()).unwrap_or(0);
                let (is_address, account, slowed) = match l.kind {
                    LockoutKind::Address => (true, None, false),
                    LockoutKind::AddressForAccount(account) => (true, Some(account), false),
                    LockoutKind::AccountSlowed => (false, None, true),
                };
                mailroom_shared::ipc::LockoutInfo {
                    client: l.client,
                    is_address,
                    account,
                    slowed,
                    failures: l.failures,
                    until,
                }
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
}
