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

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use mailroom_client::{Client, ClientError};
use mailroom_shared::config::{Config, ConfigDraft};
use mailroom_shared::ipc::{
    AcmeStatus, BackupManifest, CertificateInfo, ContactInfo, DnsRecord, Event, IpcError, ListInfo, LockoutInfo,
    MailboxInfo, MonitorMinute, QuarantineEntry, QueueEntry, Request, Response, StatusReport, TrackingEvent,
};
use mailroom_shared::routing::Decision;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::task::{AbortHandle, JoinSet};
use tokio::time::Instant;

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

/// Another computer, as `ssh` reaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    /// `host` or `user@host`.
    pub host: String,
    /// The SSH port, when not 22.
    pub port: Option<u16>,
    /// What runs there: `mailroomctl bridge` (with `--socket` when not the default).
    pub command: String,
    /// The `ssh` program (the tests give theirs).
    pub program: PathBuf,
}

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
    /// The mailboxes.
    Mailboxes(Vec<MailboxInfo>, Vec<ListInfo>, Vec<ContactInfo>, Vec<(String, String)>, Vec<String>),
    /// The queue.
    Queue(Vec<QueueEntry>),
    /// One queued message in detail.
    QueueDetails(Box<mailroom_shared::ipc::QueueDetails>),
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
    ImportDone(Result<mailroom_client::transfer::ImportSummary, String>),
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
}

/// How long a burst of events (and answered commands) is gathered before the refresh
/// it calls for goes out.
pub const COALESCE: Duration = Duration::from_millis(50);

/// How often status and lock-outs are polled (uptime ticks, lock-outs expire).
const POLL: Duration = Duration::from_secs(2);

/// Starts the backend thread.
pub fn spawn(ctx: egui::Context, target: Target) -> (UnboundedSender<Command>, mpsc::Receiver<Update>) {
    let (cmd_tx, cmd_rx) = tokio::sync::mpsc::unbounded_channel();
    let (up_tx, up_rx) = mpsc::channel();
    let ui = Ui { updates: up_tx, ctx };
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
}

impl Ui {
    /// Sends an update and wakes the UI; false once the UI is gone.
    fn send(&self, update: Update) -> bool {
        let ok = self.updates.send(update).is_ok();
        self.ctx.request_repaint();
        ok
    }
}

/// What a request task hands back to its connection's loop, which alone talks to the UI.
#[derive(Debug)]
enum Back {
    /// An update for the UI.
    Update(Update),
    /// A refresh to ask for (coalesced with the others).
    Refresh(Wants),
}

/// A request task's way back to the loop. Answers go through the loop, not straight to
/// the UI, so that the loop can forward events first: an answer that arrived after an
/// event (a restart's reply after its last `Running`) never overtakes it.
#[derive(Debug, Clone)]
struct Replies(UnboundedSender<Back>);

impl Replies {
    fn update(&self, update: Update) {
        // Fails only once the loop is gone, and the task with it.
        let _ = self.0.send(Back::Update(update));
    }

    fn refresh(&self, wants: Wants) {
        let _ = self.0.send(Back::Refresh(wants));
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

/// What a refresh fetches. Events and answered commands each call for some of it; a
/// burst of them adds up to one refresh.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Wants {
    status: bool,
    config: bool,
    certificate: bool,
    lockouts: bool,
    mailboxes: bool,
    queue: bool,
    quarantine: bool,
    monitor: bool,
}

impl Wants {
    const ALL: Wants = Wants {
        status: true,
        config: true,
        certificate: true,
        lockouts: true,
        mailboxes: true,
        queue: true,
        quarantine: true,
        monitor: true,
    };
    const NOTHING: Wants = Wants {
        status: false,
        config: false,
        certificate: false,
        lockouts: false,
        mailboxes: false,
        queue: false,
        quarantine: false,
        monitor: false,
    };
    const STATUS: Wants = Wants { status: true, ..Wants::NOTHING };
    const MAILBOXES: Wants = Wants { mailboxes: true, ..Wants::NOTHING };
    const QUEUE: Wants = Wants { queue: true, ..Wants::NOTHING };
    const LOCKOUTS: Wants = Wants { lockouts: true, ..Wants::NOTHING };
    /// The quarantine, and the status that counts it.
    const QUARANTINE: Wants = Wants { quarantine: true, ..Wants::STATUS };

    /// What an event makes stale.
    fn after(event: &Event) -> Wants {
        match event {
            // A restart changes the state, the listeners, the certificate, and starts
            // with no lock-outs.
            Event::ServiceState { .. } => Wants { certificate: true, lockouts: true, ..Wants::STATUS },
            Event::ConfigSaved { .. } => Wants { config: true, certificate: true, ..Wants::STATUS },
            Event::MailboxesChanged => Wants::MAILBOXES,
            Event::QueueChanged => Wants::QUEUE,
            Event::QuarantineChanged => Wants::QUARANTINE,
            Event::MonitorChanged => Wants { monitor: true, ..Wants::NOTHING },
            Event::Lagged { .. } => Wants::ALL,
            Event::Log { .. } => Wants::NOTHING,
        }
    }

    fn and(self, o: Wants) -> Wants {
        Wants {
            status: self.status || o.status,
            config: self.config || o.config,
            certificate: self.certificate || o.certificate,
            lockouts: self.lockouts || o.lockouts,
            mailboxes: self.mailboxes || o.mailboxes,
            queue: self.queue || o.queue,
            quarantine: self.quarantine || o.quarantine,
            monitor: self.monitor || o.monitor,
        }
    }
}

/// Refreshes asked for and not yet sent: what, and by when.
#[derive(Debug, Default)]
struct Refresh {
    wants: Wants,
    /// When to send them; `None`: nothing asked for.
    due: Option<Instant>,
}

impl Refresh {
    /// Asks for `wants` within `within` (sooner if already due sooner).
    fn ask(&mut self, wants: Wants, within: Duration) {
        if wants == Wants::NOTHING {
            return;
        }
        self.wants = self.wants.and(wants);
        let at = Instant::now() + within;
        self.due = Some(self.due.map_or(at, |due| due.min(at)));
    }

    /// What is asked for, leaving nothing.
    fn take(&mut self) -> Wants {
        self.due = None;
        std::mem::take(&mut self.wants)
    }
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

/// A connection: the client, and the `ssh` that carries it, if any (killed when
/// dropped).
struct Connection {
    client: Client,
    _ssh: Option<tokio::process::Child>,
}

/// Connects to `target`; the error in words a person can act on.
async fn connect(target: &Target) -> Result<Connection, String> {
    let name = concat!("mailroom-admin ", env!("CARGO_PKG_VERSION"));
    match target {
        Target::Local(socket) => Client::connect(socket, name)
            .await
            .map(|client| Connection { client, _ssh: None })
            .map_err(|e| e.to_string()),
        Target::Ssh(t) => {
            let mut cmd = tokio::process::Command::new(&t.program);
            // Keys only: nobody is there to type a password to ssh.
            cmd.args(["-o", "BatchMode=yes", "-o", "ServerAliveInterval=15", "-o", "ConnectTimeout=10"]);
            if let Some(port) = t.port {
                cmd.arg("-p").arg(port.to_string());
            }
            cmd.arg("--").arg(&t.host).arg(&t.command);
            cmd.stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .kill_on_drop(true);
            let mut child = cmd.spawn().map_err(|e| format!("cannot run {}: {e}", t.program.display()))?;
            let (Some(stdout), Some(stdin), stderr) = (child.stdout.take(), child.stdin.take(), child.stderr.take())
            else {
                return Err("ssh gave no pipes".to_owned());
            };
            match Client::over(Box::new(stdout), Box::new(stdin), name).await {
                Ok(client) => Ok(Connection { client, _ssh: Some(child) }),
                Err(e) => {
                    // ssh (or the bridge) says why on its standard error.
                    let mut said = String::new();
                    if let Some(mut err) = stderr {
                        use tokio::io::AsyncReadExt as _;
                        let _ = tokio::time::timeout(Duration::from_secs(2), err.read_to_string(&mut said)).await;
                    }
                    let said = said.lines().rfind(|l| !l.trim().is_empty()).unwrap_or_default().to_owned();
                    Err(if said.is_empty() {
                        format!("cannot reach the Mailroom service on {} over SSH: {e}", t.host)
                    } else {
                        format!("cannot reach the Mailroom service on {} over SSH: {said}", t.host)
                    })
                }
            }
        }
    }
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
    let replies = Replies(back_tx);
    let mut refresh = Refresh::default();
    refresh.ask(Wants::ALL, Duration::ZERO);
    // The refresh being fetched; the next waits for it, so a slow service does not
    // pile them up.
    let mut fetching: Option<AbortHandle> = None;
    let mut poll = tokio::time::interval_at(Instant::now() + POLL, POLL);
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
                    refresh.ask(Wants::after(&e), COALESCE);
                    ui.send(Update::Event(e));
                }
            },
            Some(b) = back.recv() => match b {
                Back::Update(u) => {
                    ui.send(u);
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
                fetching = Some(tasks.spawn(fetch(Arc::clone(&client), refresh.take(), replies.clone())));
            }
            _ = poll.tick() => refresh.ask(Wants { lockouts: true, ..Wants::STATUS }, Duration::ZERO),
            // Reaps finished tasks (and wakes the loop when a refresh is done).
            Some(_) = tasks.join_next() => {}
        }
    }
}

async fn sleep_until(due: Option<Instant>) {
    if let Some(due) = due {
        tokio::time::sleep_until(due).await;
    }
}

/// Fetches what `wants` asks for, the requests side by side.
async fn fetch(client: Arc<Client>, wants: Wants, replies: Replies) {
    let c = &*client;
    let replies = &replies;
    tokio::join!(
        async {
            if wants.status {
                status(c, replies).await;
            }
        },
        async {
            if wants.config
                && let Ok(Response::Config { config, revision }) = c.request(Request::GetConfig).await
            {
                replies.update(Update::Config(config, revision));
            }
        },
        async {
            if wants.certificate
                && let Ok(Response::Certificate { certificate, acme }) = c.request(Request::Certificate).await
            {
                replies.update(Update::Certificate(certificate, acme));
            }
        },
        async {
            if wants.lockouts
                && let Ok(Response::Lockouts { lockouts }) = c.request(Request::Lockouts).await
            {
                replies.update(Update::Lockouts(lockouts));
            }
        },
        async {
            if wants.mailboxes
                && let Ok(Response::Mailboxes { mailboxes, lists, contacts, catch_all, warnings }) =
                    c.request(Request::ListMailboxes).await
            {
                replies.update(Update::Mailboxes(mailboxes, lists, contacts, catch_all, warnings));
            }
        },
        async {
            if wants.queue
                && let Ok(Response::Queue { messages }) =
                    c.request(Request::QueueList { state: None, sender: None, recipient: None }).await
            {
                replies.update(Update::Queue(messages));
            }
        },
        async {
            if wants.quarantine
                && let Ok(Response::Quarantine { messages }) = c.request(Request::QuarantineList).await
            {
                replies.update(Update::Quarantine(messages));
            }
        },
        async {
            if wants.monitor
                && let Ok(Response::Monitor { minutes }) = c.request(Request::Monitor).await
            {
                replies.update(Update::Monitor(minutes));
            }
        },
    );
}

async fn status(client: &Client, replies: &Replies) {
    match client.request(Request::Status).await {
        Ok(Response::Status(s)) => replies.update(Update::Status(s)),
        Ok(_) => {}
        Err(e) => replies.update(Update::Error(e.to_string())),
    }
}

/// Runs one command: its request, the update that answers it, and the refresh it
/// calls for (sent to the loop, which coalesces it with the events' own).
async fn handle(client: Arc<Client>, cmd: Command, replies: Replies) {
    let client = &*client;
    // A request whose only answer is the refresh after it; a failure goes to the status bar.
    let fire = |request: Request, then: Wants| {
        let replies = &replies;
        async move {
            if let Err(e) = client.request(request).await {
                replies.update(Update::Error(e.to_string()));
            }
            replies.refresh(then);
        }
    };
    match cmd {
        Command::Refresh => {
            replies.refresh(Wants::ALL);
        }
        // Handled by the connection's loop.
        Command::Connect(_) => {}
        Command::Lifecycle(op) => {
            let request = match op {
                Lifecycle::Start => Request::Start,
                Lifecycle::Stop => Request::Stop,
                Lifecycle::Restart => Request::Restart,
            };
            let result = client.request(request).await.map(|_| ()).map_err(|e| match e {
                ClientError::Remote(IpcError::Failed { message, field }) => Failure { message, field },
                other => Failure { message: other.to_string(), field: None },
            });
            replies.update(Update::LifecycleDone(result));
            replies.refresh(Wants::ALL);
        }
        Command::SaveConfig { draft, base_revision } => {
            match client.request(Request::SetConfig { config: draft, base_revision: Some(base_revision) }).await {
                Ok(Response::ConfigSaved { revision, .. }) => {
                    replies.update(Update::Saved { revision });
                    replies.refresh(Wants::ALL);
                }
                Ok(other) => {
                    let message = format!("unexpected reply {other:?}");
                    replies.update(Update::SaveFailed(ClientError::Protocol(message)));
                }
                Err(e) => {
                    replies.update(Update::SaveFailed(e));
                }
            }
        }
        Command::AddMailbox { display_name, addresses, password } => {
            fire(Request::AddMailbox { display_name, addresses, password }, Wants::MAILBOXES).await;
        }
        Command::UpdateMailbox { address, display_name, addresses, password } => {
            let request = Request::UpdateMailbox {
                address,
                display_name: Some(display_name),
                addresses: Some(addresses),
                password,
            };
            fire(request, Wants::MAILBOXES).await;
        }
        Command::RemoveMailbox(address) => fire(Request::RemoveMailbox { address }, Wants::MAILBOXES).await,
        Command::Recipients(requests) => {
            for request in requests {
                if let Err(e) = client.request(request).await {
                    replies.update(Update::Error(e.to_string()));
                    break;
                }
            }
            replies.refresh(Wants::MAILBOXES);
        }
        Command::RetryQueue(queue_id) => fire(Request::QueueRetry { queue_id }, Wants::QUEUE).await,
        Command::DeleteQueued { queue_id, ndr } => fire(Request::QueueDelete { queue_id, ndr }, Wants::QUEUE).await,
        Command::Unlock(who) => fire(Request::Unlock { client: who }, Wants::LOCKOUTS).await,
        Command::DnsRecords { check } => {
            let result = match client.request(Request::DnsRecords { domain: None, check }).await {
                Ok(Response::DnsRecords { records }) => Ok(records),
                Ok(other) => Err(format!("unexpected reply {other:?}")),
                Err(e) => Err(e.to_string()),
            };
            replies.update(Update::DnsRecords(result));
        }
        Command::Import { address, source } => {
            let read = tokio::task::spawn_blocking(move || match source {
                ImportSource::Maildir(dir) => mailroom_client::transfer::read_maildir(&dir),
                ImportSource::Mbox(file) => mailroom_client::transfer::read_mbox(&file),
            })
            .await;
            let result = match read {
                Ok(Ok(messages)) => {
                    replies.update(Update::ImportProgress(0, messages.len() as u64));
                    mailroom_client::transfer::import(client, &address, &messages, |done, total| {
                        replies.update(Update::ImportProgress(done, total));
                    })
                    .await
                    .map_err(|e| e.to_string())
                }
                Ok(Err(e)) => Err(e.to_string()),
                Err(e) => Err(format!("reading the files failed: {e}")),
            };
            replies.update(Update::ImportDone(result));
            replies.refresh(Wants::MAILBOXES);
        }
        Command::RenewCertificate => match client.request(Request::RenewCertificate).await {
            Ok(Response::Certificate { certificate, acme }) => {
                replies.update(Update::Certificate(certificate, acme));
                replies.update(Update::RenewDone(Ok(())));
            }
            Ok(other) => replies.update(Update::RenewDone(Err(format!("unexpected reply {other:?}")))),
            Err(e) => {
                replies.update(Update::RenewDone(Err(e.to_string())));
                if let Ok(Response::Certificate { certificate, acme }) = client.request(Request::Certificate).await {
                    replies.update(Update::Certificate(certificate, acme));
                }
            }
        },
        Command::Backup(path) => {
            let result = match client.request(Request::Backup { path: path.clone() }).await {
                Ok(Response::Backup(m)) => Ok((path, m)),
                Ok(other) => Err(format!("unexpected reply {other:?}")),
                Err(e) => Err(e.to_string()),
            };
            replies.update(Update::BackupDone(result));
        }
        Command::DkimRotate(domain) => {
            if let Err(e) = client.request(Request::DkimRotate { domain }).await {
                replies.update(Update::Error(e.to_string()));
            }
            let result = match client.request(Request::DnsRecords { domain: None, check: false }).await {
                Ok(Response::DnsRecords { records }) => Ok(records),
                Ok(other) => Err(format!("unexpected reply {other:?}")),
                Err(e) => Err(e.to_string()),
            };
            replies.update(Update::DnsRecords(result));
        }
        Command::QuarantineMessage(id) => {
            let result = match client.request(Request::QuarantineMessage { id }).await {
                Ok(Response::QuarantineMessage { entry, text }) => Ok((Box::new(entry), text)),
                Ok(other) => Err(format!("unexpected reply {other:?}")),
                Err(e) => Err(e.to_string()),
            };
            replies.update(Update::QuarantineMessage(result));
        }
        Command::QuarantineRelease(id) => fire(Request::QuarantineRelease { id }, Wants::QUARANTINE).await,
        Command::QuarantineDelete(id) => fire(Request::QuarantineDelete { id }, Wants::QUARANTINE).await,
        Command::SendingUnlock(account) => fire(Request::SendingUnlock { account }, Wants::STATUS).await,
        Command::TestFilter(url) => {
            let result = match client.request(Request::TestFilter { url }).await {
                Ok(Response::FilterTest { message }) => Ok(message),
                Ok(other) => Err(format!("unexpected reply {other:?}")),
                Err(e) => Err(e.to_string()),
            };
            replies.update(Update::FilterTest(result));
        }
        Command::QueueDetails(queue_id) => match client.request(Request::QueueMessage { queue_id }).await {
            Ok(Response::QueueMessage(d)) => {
                replies.update(Update::QueueDetails(d));
            }
            Ok(_) => {}
            Err(e) => {
                replies.update(Update::Error(e.to_string()));
            }
        },
        Command::Track { sender, recipient } => {
            let none_if_empty = |s: String| (!s.trim().is_empty()).then_some(s);
            let request = Request::Track {
                sender: none_if_empty(sender),
                recipient: none_if_empty(recipient),
                message_id: None,
                since: None,
                until: None,
            };
            match client.request(request).await {
                Ok(Response::Tracking { events }) => replies.update(Update::Tracking(events)),
                Ok(_) => {}
                Err(e) => replies.update(Update::Error(e.to_string())),
            }
        }
        Command::TestAddress { recipient, authenticated_as, client_ip } => {
            let authenticated_as = (!authenticated_as.trim().is_empty()).then_some(authenticated_as);
            let result = match client.request(Request::TestAddress { recipient, authenticated_as, client_ip }).await {
                Ok(Response::AddressTest { decision, explanation, after_restart }) => {
                    Ok(AddressVerdict { decision, now: explanation, after_restart })
                }
                Ok(other) => Err(format!("unexpected reply {other:?}")),
                Err(e) => Err(e.to_string()),
            };
            replies.update(Update::AddressTest(result));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_events_adds_up_to_one_refresh_due_at_the_first_plus_the_window() {
        let mut r = Refresh::default();
        let start = Instant::now();
        r.ask(Wants::after(&Event::QueueChanged), COALESCE);
        r.ask(Wants::after(&Event::MailboxesChanged), COALESCE);
        r.ask(Wants::after(&Event::Log { level: "info".into(), target: "t".into(), message: "m".into() }), COALESCE);
        let due = r.due.expect("due");
        assert!(due >= start + COALESCE && due <= Instant::now() + COALESCE);
        assert_eq!(r.take(), Wants { mailboxes: true, queue: true, ..Wants::NOTHING });
        assert_eq!((r.due, r.wants), (None, Wants::NOTHING));
    }

    #[test]
    fn an_urgent_ask_brings_the_refresh_forward_and_nothing_asks_for_nothing() {
        let mut r = Refresh::default();
        r.ask(Wants::NOTHING, Duration::ZERO);
        assert_eq!(r.due, None);
        r.ask(Wants::QUEUE, COALESCE);
        r.ask(Wants::STATUS, Duration::ZERO);
        assert!(r.due.expect("due") <= Instant::now());
    }
}
