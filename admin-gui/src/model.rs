//! What the GUI knows of the service.
//!
//! The [`Model`] is everything the backend has told the UI: the connection, the
//! status, the saved configuration, the lists, and the answers to requests still
//! shown somewhere. It changes in two places only, both called by the app: [`Model::apply`]
//! takes in each backend [`Update`], and [`Model::sent`] notes a request the app just
//! sent whose answer something waits for (the restart banner, a save, a test). Views
//! and windows only read it.

use std::time::Instant;

use mailroom_client::ClientError;
use mailroom_shared::config::{Config, Page};
use mailroom_shared::ipc::{
    AcmeStatus, CertificateInfo, DnsRecord, Event, LockoutInfo, MailboxInfo, MonitorMinute, QuarantineEntry,
    QueueDetails, QueueEntry, ServiceState, StatusReport, TrackingEvent,
};

pub use crate::backend::{AddressVerdict, Failure};
use crate::backend::{Command, Lifecycle, Update};

/// The connection to the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// Not yet known.
    Connecting,
    /// Connected, to this server.
    Connected(String),
    /// No service answers (why).
    Down(String),
}

/// One state the service reported during a restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The state entered.
    pub state: ServiceState,
    /// Why, when it stopped because of a failure.
    pub error: Option<String>,
}

/// A restart asked for from this window, as the banner shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restart {
    /// The request is in flight; the states the service went through so far.
    InFlight {
        /// In the order the events arrived.
        steps: Vec<Step>,
        /// When it was asked for.
        since: Instant,
    },
    /// The service answered that the restart went through.
    Done {
        /// The states seen. Events that arrive after the answer (the service may
        /// send its reply before its last event) are still added until `Running`.
        steps: Vec<Step>,
        /// When the answer came, so the banner can say so for a while.
        at: Instant,
        /// How long the restart took, from the request to the answer.
        took: std::time::Duration,
    },
}

/// The last configuration save asked for.
#[derive(Debug, Default)]
pub enum Save {
    /// None asked for yet.
    #[default]
    Idle,
    /// Sent, not answered.
    InFlight,
    /// Saved as this revision.
    Saved {
        /// The new revision.
        revision: u64,
    },
    /// Refused; validation errors are inside.
    Failed(ClientError),
}

/// Everything the GUI knows of the service.
#[derive(Debug)]
pub struct Model {
    /// The connection.
    pub connection: Connection,
    /// The server administered, as the window names it ("this computer", a host).
    pub server: String,
    /// Last status.
    pub status: Option<StatusReport>,
    /// When the last status came (the uptime shown counts on from it: a status that
    /// says nothing new is not handed over).
    pub status_at: Option<Instant>,
    /// Saved configuration and its revision.
    pub config: Option<(Config, u64)>,
    /// The public folders, by name.
    pub public_folders: Vec<mailroom_shared::ipc::PublicFolderInfo>,
    /// The mailboxes.
    pub mailboxes: Vec<MailboxInfo>,
    /// Distribution lists, by address.
    pub lists: Vec<mailroom_shared::ipc::ListInfo>,
    /// Custom recipients, by address.
    pub contacts: Vec<mailroom_shared::ipc::ContactInfo>,
    /// Each domain's catch-all mailbox: (domain, its primary address).
    pub catch_all: Vec<(String, String)>,
    /// Problems the service found with the mailboxes (duplicate addresses…).
    pub mailbox_warnings: Vec<String>,
    /// The outbound queue.
    pub queue: Vec<QueueEntry>,
    /// The queued message last asked for in detail.
    pub queue_details: Option<QueueDetails>,
    /// The messages held in the quarantine, newest first.
    pub quarantine: Vec<QuarantineEntry>,
    /// The last hour of traffic, minute by minute (Server → Monitor).
    pub monitor: Vec<MonitorMinute>,
    /// The quarantined message last asked for, with its text (or why it could not be
    /// had); `None` while one is asked for.
    pub quarantine_message: Option<Result<(QuarantineEntry, String), String>>,
    /// The content filter's answer to the last test; `None` while one is asked for
    /// (and before the first).
    pub filter_test: Option<Result<String, String>>,
    /// A content filter test is in flight.
    pub filter_testing: bool,
    /// The TLS certificate the running service presents.
    pub certificate: Option<CertificateInfo>,
    /// How the ACME client fares, when the service uses one.
    pub acme: Option<AcmeStatus>,
    /// A renewal asked for is in flight.
    pub renewing: bool,
    /// The import under way, or the last one's outcome.
    pub import: ImportState,
    /// A backup asked for is being written.
    pub backing_up: bool,
    /// The last backup asked for: its file and what it holds, or why it failed.
    pub backup: Option<Result<(String, mailroom_shared::ipc::BackupManifest), String>>,
    /// Clients and logins locked out after failed logins.
    pub lockouts: Vec<LockoutInfo>,
    /// Message tracking results.
    pub tracking: Vec<TrackingEvent>,
    /// The DNS records to publish, as last fetched; `None` until asked for, and again
    /// after a configuration is saved (the inbound domains may have changed).
    pub dns_records: Option<Result<Vec<DnsRecord>, String>>,
    /// A DNS records request is in flight (a check takes a moment).
    pub dns_busy: bool,
    /// The address tester's last answer; `None` while one is asked for.
    pub address_test: Option<Result<AddressVerdict, String>>,
    /// Pages saved since the last restart (the banner).
    pub pending: Vec<Page>,
    /// A restart asked for from this window, for the banner.
    pub restart: Option<Restart>,
    /// The last start or restart failure, until the service runs without one.
    pub lifecycle_error: Option<Failure>,
    /// The saved configuration's revision when that failure came: a later save may
    /// hold its fix (the banner then says so instead of repeating the error).
    pub failed_at_revision: Option<u64>,
    /// The last configuration save.
    pub save: Save,
    /// Other errors, for the status bar.
    pub error: Option<String>,
    /// The last answer to a dialog's requests, and how many have come (a dialog
    /// waits for the count to move past what it was when it sent).
    pub dialog_answer: Option<Result<(), crate::backend::DialogError>>,
    /// See [`Model::dialog_answer`].
    pub dialog_answers: u64,
    /// Start Service launched `mailroomd` (what was run, or why it could not be); cleared
    /// once connected.
    pub launch: Option<String>,
}

impl Default for Model {
    fn default() -> Model {
        Model {
            connection: Connection::Connecting,
            server: "this computer".to_owned(),
            status: None,
            status_at: None,
            config: None,
            public_folders: Vec::new(),
            mailboxes: Vec::new(),
            lists: Vec::new(),
            contacts: Vec::new(),
            catch_all: Vec::new(),
            mailbox_warnings: Vec::new(),
            queue: Vec::new(),
            queue_details: None,
            quarantine: Vec::new(),
            monitor: Vec::new(),
            quarantine_message: None,
            filter_test: None,
            filter_testing: false,
            acme: None,
            renewing: false,
            import: ImportState::default(),
            backing_up: false,
            backup: None,
            certificate: None,
            lockouts: Vec::new(),
            tracking: Vec::new(),
            dns_records: None,
            dns_busy: false,
            address_test: None,
            pending: Vec::new(),
            restart: None,
            lifecycle_error: None,
            failed_at_revision: None,
            save: Save::Idle,
            error: None,
            dialog_answer: None,
            dialog_answers: 0,
            launch: None,
        }
    }
}

impl Model {
    /// True when editing is possible (connected to a service).
    pub fn connected(&self) -> bool {
        matches!(self.connection, Connection::Connected(_))
    }

    /// True while a restart asked for from this window is running.
    pub fn restarting(&self) -> bool {
        matches!(self.restart, Some(Restart::InFlight { .. }))
    }

    /// Takes in one update from the backend.
    pub fn apply(&mut self, update: Update) {
        match update {
            Update::Connected(server) => {
                self.connection = Connection::Connected(server);
                self.launch = None;
            }
            Update::Disconnected(reason) => {
                self.connection = Connection::Down(reason);
                // What the service last said no longer holds (it may have died).
                self.status = None;
                // Requests in flight died with the connection: nothing will answer them.
                if self.restarting() {
                    self.restart = None;
                }
                if matches!(self.save, Save::InFlight) {
                    self.save = Save::Failed(ClientError::Closed);
                }
            }
            Update::Status(s) => {
                self.pending.clone_from(&s.pending_pages);
                // The service's word on its last failure is the one kept.
                let failure =
                    s.last_error.clone().map(|message| Failure { message, field: s.last_error_field.clone() });
                self.status = Some(*s);
                self.status_at = Some(Instant::now());
                self.set_failure(failure);
            }
            Update::Config(c, revision) => {
                if self.config.as_ref().is_some_and(|(_, r)| *r != revision) {
                    self.dns_records = None;
                }
                self.config = Some((*c, revision));
            }
            Update::DnsRecords(r) => {
                self.dns_records = Some(r);
                self.dns_busy = false;
            }
            Update::Saved { revision } => self.save = Save::Saved { revision },
            Update::SaveFailed(e) => self.save = Save::Failed(e),
            Update::Mailboxes(all) => {
                self.mailboxes = all.mailboxes;
                self.lists = all.lists;
                self.contacts = all.contacts;
                self.catch_all = all.catch_all;
                self.mailbox_warnings = all.warnings;
            }
            Update::PublicFolders(f) => self.public_folders = f,
            Update::Queue(q) => self.queue = q,
            Update::QueueDetails(d) => self.queue_details = Some(*d),
            Update::Quarantine(q) => self.quarantine = q,
            Update::Monitor(m) => self.monitor = m,
            // Told as a toast by the app.
            Update::BackupDone(r) => {
                self.backing_up = false;
                self.backup = Some(r);
            }
            Update::QuarantineMessage(r) => self.quarantine_message = Some(r.map(|(entry, text)| (*entry, text))),
            Update::FilterTest(r) => {
                self.filter_test = Some(r);
                self.filter_testing = false;
            }
            Update::Certificate(c, acme) => {
                self.certificate = c.map(|c| *c);
                self.acme = acme.map(|a| *a);
            }
            // Told as a toast by the app.
            Update::RenewDone(_) => self.renewing = false,
            Update::ImportProgress(done, total) => self.import.running = Some((done, total)),
            Update::ImportDone(r) => {
                self.import.running = None;
                self.import.outcome = Some(r);
            }
            Update::Lockouts(l) => self.lockouts = l,
            Update::Tracking(t) => self.tracking = t,
            Update::AddressTest(r) => self.address_test = Some(r),
            Update::LifecycleDone(Ok(())) => {
                self.set_failure(None);
                if let Some(Restart::InFlight { steps, since }) = self.restart.take() {
                    self.restart = Some(Restart::Done { steps, at: Instant::now(), took: since.elapsed() });
                }
            }
            Update::LifecycleDone(Err(e)) => {
                self.set_failure(Some(e));
                self.restart = None;
            }
            Update::Event(Event::ServiceState { state, error, field }) => {
                match &mut self.restart {
                    Some(Restart::InFlight { steps, .. }) => steps.push(Step { state, error: error.clone() }),
                    Some(Restart::Done { steps, .. })
                        if steps.last().is_none_or(|s| s.state != ServiceState::Running) =>
                    {
                        steps.push(Step { state, error: error.clone() });
                    }
                    _ => {}
                }
                match error {
                    Some(message) => self.set_failure(Some(Failure { message, field })),
                    None if state == ServiceState::Running => self.set_failure(None),
                    None => {}
                }
            }
            Update::Event(_) => {}
            Update::Error(e) => self.error = Some(e),
            Update::DialogAnswer(answer) => {
                self.dialog_answer = Some(answer);
                self.dialog_answers += 1;
            }
        }
    }

    /// Sets the last start's or restart's failure (none once one worked), noting the
    /// saved revision when a new one comes.
    fn set_failure(&mut self, failure: Option<Failure>) {
        if failure.is_none() {
            self.failed_at_revision = None;
        } else if self.lifecycle_error != failure || self.failed_at_revision.is_none() {
            self.failed_at_revision = self.saved_revision();
        }
        self.lifecycle_error = failure;
    }

    /// The saved configuration's revision, as last heard.
    fn saved_revision(&self) -> Option<u64> {
        self.config.as_ref().map(|(_, r)| *r).or_else(|| self.status.as_ref().map(|s| s.config_revision))
    }

    /// True when the configuration was saved again since the last failure: its fix
    /// may be in, waiting for a restart.
    pub fn failure_saved_over(&self) -> bool {
        self.lifecycle_error.is_some()
            && matches!((self.failed_at_revision, self.saved_revision()), (Some(then), Some(now)) if now > then)
    }

    /// Notes a request the app has just sent, for what waits on its answer.
    pub fn sent(&mut self, command: &Command) {
        match command {
            Command::Lifecycle(Lifecycle::Restart) => {
                self.restart = Some(Restart::InFlight { steps: Vec::new(), since: Instant::now() });
                self.set_failure(None);
            }
            Command::SaveConfig { .. } => self.save = Save::InFlight,
            Command::TestAddress { .. } => self.address_test = None,
            Command::QueueDetails(_) => self.queue_details = None,
            Command::QuarantineMessage(_) => self.quarantine_message = None,
            Command::TestFilter(_) => {
                self.filter_test = None;
                self.filter_testing = true;
            }
            Command::DnsRecords { .. } | Command::DkimRotate(_) => self.dns_busy = true,
            Command::RenewCertificate => self.renewing = true,
            Command::Backup(_) => {
                self.backing_up = true;
                self.backup = None;
            }
            Command::Import { .. } => {
                self.import.running = Some((0, 0));
                self.import.outcome = None;
            }
            _ => {}
        }
    }
}

/// An import from files into a mailbox: under way (messages done, of how many), or how
/// the last one ended.
#[derive(Debug, Default)]
pub struct ImportState {
    /// Under way.
    pub running: Option<(u64, u64)>,
    /// The last one's outcome.
    pub outcome: Option<Result<mailroom_client::transfer::ImportSummary, String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(state: ServiceState) -> Update {
        Update::Event(Event::ServiceState { state, error: None, field: None })
    }

    #[test]
    fn a_restart_records_the_states_seen_while_it_runs() {
        let mut m = Model::default();
        m.sent(&Command::Lifecycle(Lifecycle::Restart));
        m.apply(state(ServiceState::Stopping));
        assert!(m.restarting());
        m.apply(state(ServiceState::Stopped));
        m.apply(state(ServiceState::Starting));
        m.apply(Update::LifecycleDone(Ok(())));
        // The service may answer before its last event goes out.
        m.apply(state(ServiceState::Running));
        m.apply(state(ServiceState::Stopping));
        let Some(Restart::Done { steps, .. }) = &m.restart else { panic!("done: {:?}", m.restart) };
        let states: Vec<ServiceState> = steps.iter().map(|s| s.state).collect();
        use ServiceState::*;
        assert_eq!(states, [Stopping, Stopped, Starting, Running]);
    }

    #[test]
    fn a_failed_restart_clears_the_progress_and_keeps_the_reason() {
        let mut m = Model::default();
        m.sent(&Command::Lifecycle(Lifecycle::Restart));
        let failure = Failure { message: "cannot listen".into(), field: Some("pop3.listen".into()) };
        m.apply(Update::LifecycleDone(Err(failure.clone())));
        assert_eq!(m.restart, None);
        assert_eq!(m.lifecycle_error, Some(failure));
        // A start without failure clears it.
        m.apply(state(ServiceState::Running));
        assert_eq!(m.lifecycle_error, None);
    }

    #[test]
    fn a_lost_connection_ends_what_waited_for_an_answer() {
        let mut m = Model::default();
        m.sent(&Command::Lifecycle(Lifecycle::Restart));
        m.sent(&Command::SaveConfig { draft: Box::new(Config::default().to_draft()), base_revision: 1 });
        m.apply(Update::Disconnected("gone".into()));
        assert!(!m.restarting());
        assert!(matches!(m.save, Save::Failed(ClientError::Closed)));
    }
}
