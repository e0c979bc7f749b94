//! The background thread that talks to `mailroomd`.
//!
//! It owns a tokio runtime and the IPC client. It connects (retrying with backoff
//! while no service answers), subscribes to events, and forwards everything to the UI
//! as [`Update`]s; the UI's [`Command`]s become requests, each answered by updates.
//! Nothing here ever blocks the UI thread. Dropping the UI's command sender ends the
//! thread.
//!
//! On a connection, three things never wait for one another:
//! - each command runs as its own task, and the one [`Client`] carries their requests
//!   concurrently, so a restart that takes the whole drain timeout does not hold up a
//!   status poll or an Apply;
//! - each event is forwarded to the UI the moment it arrives, so the banner shows a
//!   restart's `Stopping` and `Starting` while the restart request is still in flight;
//!   request tasks hand their answers back to the loop, which forwards events first, so
//!   an answer never overtakes an event that came before it;
//! - refreshes are coalesced: what events and answered commands call for is gathered
//!   for [`COALESCE`] after the first of a burst, then fetched once, one refresh at a
//!   time, its requests side by side.
//!
//! Here are the thread and the connection's loop; `connect` reaches the service
//! (locally or over SSH), `commands` runs the UI's commands, `refresh` gathers and
//! fetches refreshes.

mod commands;
mod connect;
mod refresh;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use mailroom_client::transfer::ImportSummary;
use mailroom_client::{Client, ClientError, Mailboxes};
use mailroom_shared::config::{Config, ConfigDraft};
use mailroom_shared::ipc::{
    AcmeStatus, BackupManifest, CertificateInfo, DnsRecord, Event, LockoutInfo, MonitorMinute, QuarantineEntry,
    QueueDetails, QueueEntry, Request, StatusReport, TrackingEvent,
};
use mailroom_shared::routing::Decision;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::task::{AbortHandle, JoinSet};
use tokio::time::Instant;

use commands::handle;
use connect::{Connection, connect};
use refresh::{Refresh, Wants, fetch};

/// What the UI asks for.
#[derive(Debug)]
pub enum Command {
    /// Fetch status, configuration, mailboxes and queue now.
    Refresh,
    /// Leave the service connected to, and connect to this one.
    Connect(Target),
    /// Start, stop or restart the Internet Mail Service.
    Lifecycle(Lifecycle),
    /// Save a configuration.
    SaveConfig {
        /// The edited configuration.
        draft: Box<ConfigDraft>,
        /// The revision the edit started from.
        base_revision: u64,
    },
    /// Create a mailbox.
    AddMailbox {
        /// Display name.
        display_name: String,
        /// Addresses, primary first.
        addresses: Vec<String>,
        /// Password.
        password: String,
    },
    /// Change a mailbox (found by its current primary address).
    UpdateMailbox {
        /// Current primary address.
        address: String,
        /// New display name.
        display_name: String,
        /// New addresses, primary first.
        addresses: Vec<String>,
        /// New password; unchanged when `None`.
        password: Option<String>,
    },
    /// Delete a mailbox.
    RemoveMailbox(String),
    /// Recipient changes made one after the other, in order (a new list, then its
    /// members; a mailbox's options, then its addresses); the first refusal stops
    /// them and is told.
    Recipients(Vec<Request>),
    /// The same, from a dialog that stays open until they are answered: the answer
    /// goes back to it ([`Update::DialogAnswer`]), a refusal beside its field.
    FromDialog(Vec<Request>),
    /// One queued message in detail.
    QueueDetails(String),
    /// Retry a queued message now (all when `None`).
    RetryQueue(Option<String>),
    /// Delete a queued message, with an NDR or not.
    DeleteQueued {
        /// The message.
        queue_id: String,
        /// Send an NDR.
        ndr: bool,
    },
    /// Message tracking.
    Track {
        /// Sender contains.
        sender: String,
        /// Recipient contains.
        recipient: String,
    },
    /// Lift a lock-out (an address or login name).
    Unlock(String),
    /// The address tester.
    TestAddress {
        /// Recipient.
        recipient: String,
        /// Authenticated account, empty for none.
        authenticated_as: String,
        /// Client IP.
        client_ip: String,
    },
    /// The DNS records the inbound domains should publish, looked up when `check`.
    DnsRecords {
        /// Look each one up.
        check: bool,
    },
    /// New DKIM keys for an inbound domain.
    DkimRotate(String),
    /// A backup of the whole store to this file on the service's machine.
    Backup(String),
    /// A new certificate from the ACME CA now.
    RenewCertificate,
    /// Mail from files on this computer into a mailbox.
    Import {
        /// The mailbox.
        address: String,
        /// The files.
        source: ImportSource,
    },
    /// One quarantined message with its text.
    QuarantineMessage(i64),
    /// Deliver a quarantined message after all.
    QuarantineRelease(i64),
    /// Delete a quarantined message.
    QuarantineDelete(i64),
    /// Let an account held for going over a sending limit send again.
    SendingUnlock(String),
    /// Ask the content filter at this address (the saved one when `None`) whether it
    /// is there.
    TestFilter(Option<String>),
}

/// A lifecycle request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    /// Start.
    Start,
    /// Stop.
    Stop,
    /// Restart.
    Restart,
}

/// Why the service could not start or restart, as the banner shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The service's own words.
    pub message: String,
    /// The configuration field whose value caused it (`connections.smtp_listen`…),
    /// when one did: the banner offers to change it.
    pub field: Option<String>,
}

/// Where the service is: this computer's control socket, or another computer reached
/// over SSH, where `mailroomctl bridge` relays the control protocol to its socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The control socket at this path.
    Local(PathBuf),
    /// Another computer.
    Ssh(SshTarget),
}

pub use mailroom_client::ssh::SshTarget;

impl Target {
    /// How the window names the server: "this computer", or the host.
    pub fn label(&self) -> String {
        match self {
            Target::Local(_) => "this computer".to_owned(),
            Target::Ssh(t) => t.host.clone(),
        }
    }
}

/// The address tester's answer.
#[derive(Debug, Clone)]
pub struct AddressVerdict {
    /// What the running service decides.
    pub decision: Decision,
    /// That, in words.
    pub now: String,
    /// What it will decide after a restart, in words, when that differs.
    pub after_restart: Option<String>,
}

/// What the backend reports.
#[derive(Debug)]
pub enum Update {
    /// Connected to the service.
    Connected(String),
    /// Not connected; retrying.
    Disconnected(String),
    /// A fresh status.
    Status(Box<StatusReport>),
    /// The saved configuration and its revision.
    Config(Box<Config>, u64),
    /// A save succeeded.
    Saved {
        /// New revision.
        revision: u64,
    },
    /// A save was refused (validation errors are in the error).
    SaveFailed(ClientError),
    /// The mailboxes, lists and custom recipients.
    Mailboxes(Mailboxes),
    /// The public folders.
    PublicFolders(Vec<mailroom_shared::ipc::PublicFolderInfo>),
    /// The queue.
    Queue(Vec<QueueEntry>),
    /// One queued message in detail.
    QueueDetails(Box<QueueDetails>),
    /// Tracking results.
    Tracking(Vec<TrackingEvent>),
    /// Current lock-outs after failed logins.
    Lockouts(Vec<LockoutInfo>),
    /// The TLS certificate the running service presents (`None`: not running, or no
    /// TLS).
    Certificate(Option<Box<CertificateInfo>>, Option<Box<AcmeStatus>>),
    /// A renewal asked for finished: in use, or why not.
    RenewDone(Result<(), String>),
    /// An import's progress: messages done, of how many.
    ImportProgress(u64, u64),
    /// An import finished: what it did, or why it stopped.
    ImportDone(Result<ImportSummary, String>),
    /// The address tester's answer.
    AddressTest(Result<AddressVerdict, String>),
    /// A lifecycle request finished; `Err` holds the service's own words.
    LifecycleDone(Result<(), Failure>),
    /// The DNS records to publish (checked when asked), or why they could not be had.
    DnsRecords(Result<Vec<DnsRecord>, String>),
    /// The quarantine, newest first.
    Quarantine(Vec<QuarantineEntry>),
    /// The last hour of traffic, minute by minute.
    Monitor(Vec<MonitorMinute>),
    /// A backup finished: where it went and what it holds, or why it failed.
    BackupDone(Result<(String, BackupManifest), String>),
    /// One quarantined message and its text, or why it could not be had.
    QuarantineMessage(Result<(Box<QuarantineEntry>, String), String>),
    /// The content filter's answer to a test, or why there was none.
    FilterTest(Result<String, String>),
    /// A pushed event.
    Event(Event),
    /// A request failed.
    Error(String),
    /// The answer to a dialog's requests ([`Command::FromDialog`]).
    DialogAnswer(Result<(), DialogError>),
}

/// How long a burst of events (and answered commands) is gathered before the refresh
/// it calls for goes out.
pub const COALESCE: Duration = Duration::from_millis(50);

/// How long the refresh that mail moving calls for waits, gathering what else comes:
/// at most one such refresh in this time.
pub const TRAFFIC: Duration = Duration::from_secs(2);

/// The same while nobody works in the window (no input for [`UNATTENDED_AFTER`]): a
/// window left open on a busy server costs next to nothing, and comes back to
/// [`TRAFFIC`] as soon as the pointer or a key is used in it.
pub const TRAFFIC_UNATTENDED: Duration = Duration::from_secs(10);

/// How long after the last input a window counts as left alone.
pub const UNATTENDED_AFTER: Duration = Duration::from_secs(15);

/// How long the refresh an event calls for waits: mail moving is shown every
/// [`TRAFFIC`] while someone works in the window, every [`TRAFFIC_UNATTENDED`] while
/// nobody does; anything else at once ([`COALESCE`]).
fn refresh_wait(traffic: bool, attended: bool) -> Duration {
    match (traffic, attended) {
        (true, true) => TRAFFIC,
        (true, false) => TRAFFIC_UNATTENDED,
        (false, _) => COALESCE,
    }
}

/// How often status and lock-outs are polled (uptime ticks, lock-outs expire); while
/// nobody works in the window, every [`TRAFFIC_UNATTENDED`] (a busy server's status
/// changes at each poll, and each change is a frame).
const POLL: Duration = Duration::from_secs(2);

/// Starts the backend thread.
pub fn spawn(
    ctx: egui::Context,
    target: Target,
    attended: Attended,
) -> (UnboundedSender<Command>, mpsc::Receiver<Update>) {
    let (cmd_tx, cmd_rx) = tokio::sync::mpsc::unbounded_channel();
    let (up_tx, up_rx) = mpsc::channel();
    let ui = Ui { updates: up_tx, ctx, attended };
    let spawned = std::thread::Builder::new().name("ipc-backend".into()).spawn(move || {
        match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(rt) => rt.block_on(run(ui, target, cmd_rx)),
            Err(e) => {
                ui.send(Update::Disconnected(format!("cannot start the runtime: {e}")));
            }
        }
    });
    if let Err(e) = spawned {
        eprintln!("mailroom-admin: cannot start the IPC thread: {e}");
    }
    (cmd_tx, up_rx)
}

/// The UI's end: the updates channel, and the context to wake the UI with. Only the
/// backend's loop sends on it; the UI holds the receiver.
#[derive(Clone)]
struct Ui {
    updates: mpsc::Sender<Update>,
    ctx: egui::Context,
    attended: Attended,
}

/// Whether someone is working in the window (it had input lately): the window sets
/// it, the backend reads it to choose how often mail moving is shown.
#[derive(Debug, Clone, Default)]
pub struct Attended(Arc<std::sync::atomic::AtomicBool>);

impl Attended {
    /// Says whether the window had input lately.
    pub fn set(&self, attended: bool) {
        self.0.store(attended, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether the window had input lately.
    pub fn get(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Ui {
    /// Sends an update and wakes the UI; false once the UI is gone.
    fn send(&self, update: Update) -> bool {
        let ok = self.send_quietly(update);
        self.wake();
        ok
    }

    /// Sends an update for the UI's next frame, without waking it for one.
    fn send_quietly(&self, update: Update) -> bool {
        self.updates.send(update).is_ok()
    }

    /// Wakes the UI for a frame. One: egui answers a request with no delay with two
    /// passes (for widgets whose answer comes a frame late, which new data from the
    /// service is not), and with software OpenGL the second pass doubled what a busy
    /// server's Administrator cost.
    fn wake(&self) {
        self.ctx.request_repaint_after(std::time::Duration::from_millis(1));
    }
}

/// What a request task hands back to its connection's loop, which alone talks to the UI.
#[derive(Debug)]
enum Back {
    /// An update for the UI.
    Update(Update),
    /// An answer of a refresh: the UI is woken once, when the whole refresh is in (its
    /// answers come some tens of milliseconds apart, and each woke the window for a
    /// frame of its own: with software OpenGL, most of what a busy server's
    /// Administrator cost).
    Fetched(Update),
    /// A refresh to ask for (coalesced with the others).
    Refresh(Wants),
}

/// A request task's way back to the loop. Answers go through the loop, not straight to
/// the UI, so that the loop can forward events first: an answer that arrived after an
/// event (a restart's reply after its last `Running`) never overtakes it.
#[derive(Debug, Clone)]
struct Replies {
    back: UnboundedSender<Back>,
    /// A refresh's: its answers wait for the others before the UI wakes.
    fetched: bool,
}

impl Replies {
    fn update(&self, update: Update) {
        // Fails only once the loop is gone, and the task with it.
        let _ = self.back.send(if self.fetched { Back::Fetched(update) } else { Back::Update(update) });
    }

    /// The same way back, for a refresh's answers.
    fn for_refresh(&self) -> Replies {
        Replies { back: self.back.clone(), fetched: true }
    }

    fn refresh(&self, wants: Wants) {
        let _ = self.back.send(Back::Refresh(wants));
    }
}

/// Files to import, on the Administrator's computer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportSource {
    /// A Maildir directory.
    Maildir(std::path::PathBuf),
    /// An mbox file.
    Mbox(std::path::PathBuf),
}

/// How serving a connection ended.
enum Ended {
    /// The service closed it: reconnect.
    Closed,
    /// The UI asked for another service.
    Switch(Target),
    /// The UI dropped its command sender: stop.
    UiGone,
}

async fn run(ui: Ui, mut target: Target, mut commands: UnboundedReceiver<Command>) {
    let mut backoff = Duration::from_millis(200);
    loop {
        let connection = match connect(&target).await {
            Ok(c) => c,
            Err(e) => {
                if !ui.send(Update::Disconnected(e)) {
                    return;
                }
                // Commands sent while disconnected are dropped (the UI disables editing),
                // but for one that names another service.
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    cmd = commands.recv() => match cmd {
                        None => return,
                        Some(Command::Connect(t)) => {
                            target = t;
                            backoff = Duration::from_millis(200);
                            continue;
                        }
                        Some(_) => {}
                    },
                }
                backoff = (backoff * 2).min(Duration::from_secs(3));
                continue;
            }
        };
        backoff = Duration::from_millis(200);
        let Connection { client, _ssh } = connection;
        ui.send(Update::Connected(client.server().to_owned()));
        let Ok(events) = client.subscribe().await else { continue };
        match serve(Arc::new(client), events, &mut commands, &ui).await {
            Ended::Closed => {
                ui.send(Update::Disconnected("the service closed the connection".into()));
            }
            Ended::Switch(t) => {
                ui.send(Update::Disconnected(format!("connecting to {}", t.label())));
                target = t;
            }
            Ended::UiGone => return,
        }
    }
}

/// Serves one connection until it closes or the UI goes away.
async fn serve(
    client: Arc<Client>,
    mut events: UnboundedReceiver<Event>,
    commands: &mut UnboundedReceiver<Command>,
    ui: &Ui,
) -> Ended {
    // Every request task of this connection. Dropping the set when the connection ends
    // aborts those still waiting: their answers can no longer come.
    let mut tasks = JoinSet::new();
    // Request tasks hand their answers back here; the loop holds both ends.
    let (back_tx, mut back) = tokio::sync::mpsc::unbounded_channel::<Back>();
    let replies = Replies { back: back_tx, fetched: false };
    // A refresh's answers given to the UI that it has not been woken for yet.
    let mut unseen = false;
    let mut refresh = Refresh::default();
    refresh.ask(Wants::ALL, Duration::ZERO);
    // The refresh being fetched; the next waits for it, so a slow service does not
    // pile them up.
    let mut fetching: Option<AbortHandle> = None;
    let mut polled = Polled::default();
    let mut poll = tokio::time::interval_at(Instant::now() + POLL, POLL);
    let mut last_poll = Instant::now();
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let idle = fetching.as_ref().is_none_or(AbortHandle::is_finished);
        let due = refresh.due.filter(|_| idle);
        tokio::select! {
            // In this order: events before the answers of requests (the client's reader
            // hands over both in the order they came), answers before new commands.
            biased;
            event = events.recv() => match event {
                None => return Ended::Closed,
                Some(e) => {
                    // Mail moving (mailboxes, queue, quarantine, the monitor's minute)
                    // is shown every few seconds at most: under a flood of mail the
                    // window would otherwise fetch and draw everything again for each
                    // message (walk defect 7: a core's worth with 1,000 mailboxes).
                    let within = refresh_wait(e.is_traffic(), ui.attended.get());
                    refresh.ask(Wants::after(&e), within);
                    // Only a service's state is news to the window itself.
                    if matches!(e, Event::ServiceState { .. }) {
                        ui.send(Update::Event(e));
                    }
                }
            },
            Some(b) = back.recv() => match b {
                Back::Update(u) => {
                    if polled.news(&u) {
                        ui.send(u);
                    }
                }
                Back::Fetched(u) => {
                    if polled.news(&u) {
                        ui.send_quietly(u);
                        unseen = true;
                    }
                }
                Back::Refresh(wants) => refresh.ask(wants, COALESCE),
            },
            cmd = commands.recv() => match cmd {
                None => return Ended::UiGone,
                Some(Command::Refresh) => refresh.ask(Wants::ALL, Duration::ZERO),
                Some(Command::Connect(t)) => return Ended::Switch(t),
                Some(cmd) => {
                    tasks.spawn(handle(Arc::clone(&client), cmd, replies.clone()));
                }
            },
            () = sleep_until(due), if due.is_some() => {
                fetching = Some(tasks.spawn(fetch(Arc::clone(&client), refresh.take(), replies.for_refresh())));
            }
            _ = poll.tick() => {
                if ui.attended.get() || last_poll.elapsed() >= TRAFFIC_UNATTENDED {
                    last_poll = Instant::now();
                    refresh.ask(Wants::POLLED, Duration::ZERO);
                }
            }
            // Reaps finished tasks (and wakes the loop when a refresh is done). The
            // refresh's answers are all in by then (they come back first, `biased`):
            // one frame shows them.
            Some(_) = tasks.join_next() => {
                if unseen && fetching.as_ref().is_none_or(AbortHandle::is_finished) {
                    ui.wake();
                    unseen = false;
                }
            }
        }
    }
}

/// What the polls last brought, so that an answer saying nothing new does not wake the
/// window: an idle window is repainted only when something changed (walk defect 7).
#[derive(Default)]
struct Polled {
    /// The status, without its uptime, and when the service started by it (seconds
    /// since the epoch).
    status: Option<(StatusReport, Option<i64>)>,
    lockouts: Option<Vec<LockoutInfo>>,
}

impl Polled {
    /// Whether `update` tells the window something it does not know yet (any update
    /// but a status or the lock-outs does); remembers it.
    fn news(&mut self, update: &Update) -> bool {
        match update {
            Update::Status(s) => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
                let started = s.uptime_secs.map(|u| now.saturating_sub(i64::try_from(u).unwrap_or(i64::MAX)));
                let mut rest = StatusReport { uptime_secs: None, ..(**s).clone() };
                // Sizes about as Service Status shows them (the free space in tenths of
                // a GB, the store's in MB): a byte written anywhere on the disk is not
                // news. (Running low is, whatever the sizes.)
                if let Some(st) = rest.storage.as_mut() {
                    st.free_bytes /= 100 << 20;
                    st.database_bytes /= 1 << 20;
                    st.log_bytes /= 1 << 20;
                }
                // The same start within the poll's rounding is the same run.
                let same = self.status.as_ref().is_some_and(|(r, st)| {
                    *r == rest
                        && match (st, started) {
                            (Some(a), Some(b)) => a.abs_diff(b) <= 2,
                            (a, b) => *a == b,
                        }
                });
                if !same {
                    self.status = Some((rest, started));
                }
                !same
            }
            Update::Lockouts(l) => {
                let same = self.lockouts.as_ref() == Some(l);
                if !same {
                    self.lockouts = Some(l.clone());
                }
                !same
            }
            _ => true,
        }
    }
}

async fn sleep_until(due: Option<Instant>) {
    if let Some(due) = due {
        tokio::time::sleep_until(due).await;
    }
}

/// Why the service refused a dialog's request, and the field it was about, if it
/// said (an address already taken is about the addresses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialogError {
    /// The request's field (`address`, `password`…), when known.
    pub field: Option<String>,
    /// The service's sentence.
    pub message: String,
}

impl DialogError {
    /// The field and sentence of a client error.
    pub fn of(e: &ClientError) -> DialogError {
        use mailroom_shared::ipc::IpcError;
        match e {
            ClientError::Remote(IpcError::InvalidArgument { field, message }) => {
                DialogError { field: Some(field.clone()), message: message.clone() }
            }
            ClientError::Remote(IpcError::Conflict { message }) => {
                DialogError { field: Some("addresses".to_owned()), message: message.clone() }
            }
            ClientError::Remote(IpcError::Failed { message, field }) => {
                DialogError { field: field.clone(), message: message.clone() }
            }
            other => DialogError { field: None, message: other.to_string() },
        }
    }
}

#[cfg(test)]
mod wake_tests {
    use super::*;

    /// Walk defect 7, the loaded case: each answer from a busy server woke the window
    /// for two passes (egui's answer to a request with no delay), with software OpenGL
    /// 4.7% of a core with 1,000 mailboxes under a flood. A wake is one pass.
    #[test]
    fn a_wake_from_the_backend_is_one_pass() {
        let ctx = egui::Context::default();
        let pass = |ctx: &egui::Context| ctx.run_ui(egui::RawInput::default(), |_| {}).textures_delta.clear();
        for _ in 0..3 {
            pass(&ctx);
        }
        assert!(!ctx.has_requested_repaint(), "settled");
        let (updates, _rx) = mpsc::channel();
        let ui = Ui { updates, ctx: ctx.clone(), attended: Attended::default() };
        ui.wake();
        assert!(ctx.has_requested_repaint(), "woken");
        pass(&ctx);
        assert!(!ctx.has_requested_repaint(), "and no second pass asked for");
    }

    /// A window left alone is told of mail moving every 10 s, one worked in every 2 s;
    /// other events at once.
    #[test]
    fn mail_moving_is_shown_less_often_while_nobody_works_in_the_window() {
        assert_eq!(refresh_wait(true, true), TRAFFIC);
        assert_eq!(refresh_wait(true, false), TRAFFIC_UNATTENDED);
        assert_eq!(refresh_wait(false, false), COALESCE);
        assert!(TRAFFIC_UNATTENDED >= 5 * TRAFFIC);
    }
}
