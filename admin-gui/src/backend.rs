//! The background thread that talks to `mailroomd`.
//!
//! It owns a tokio runtime and the IPC client. It connects (retrying with backoff
//! while no service answers), subscribes to events, and forwards everything to the UI
//! as [`Update`]s; the UI's [`Command`]s become requests, each answered by an update.
//! Nothing here ever blocks the UI thread. Dropping the UI's command sender ends the
//! thread.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use mailroom_shared::config::{Config, ConfigDraft};
use mailroom_shared::ipc::client::{Client, ClientError};
use mailroom_shared::ipc::{
    CertificateInfo, Event, LockoutInfo, MailboxInfo, QueueEntry, Request, Response, StatusReport, TrackingEvent,
};
use mailroom_shared::routing::Decision;

/// What the UI asks for.
#[derive(Debug)]
pub enum Command {
    /// Fetch status, configuration, mailboxes and queue now.
    Refresh,
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
    Mailboxes(Vec<MailboxInfo>, Vec<String>),
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
    Certificate(Option<Box<CertificateInfo>>),
    /// The address tester's answer.
    AddressTest(Result<(Decision, String), String>),
    /// A lifecycle request finished; `Err` holds the service's own words.
    LifecycleDone(Result<(), String>),
    /// A pushed event.
    Event(Event),
    /// A request failed.
    Error(String),
}

/// Starts the backend thread.
pub fn spawn(
    ctx: egui::Context,
    socket: PathBuf,
) -> (tokio::sync::mpsc::UnboundedSender<Command>, mpsc::Receiver<Update>) {
    let (cmd_tx, cmd_rx) = tokio::sync::mpsc::unbounded_channel();
    let (up_tx, up_rx) = mpsc::channel();
    let spawned = std::thread::Builder::new().name("ipc-backend".into()).spawn(move || {
        match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(rt) => rt.block_on(run(ctx, socket, cmd_rx, up_tx)),
            Err(e) => {
                let _ = up_tx.send(Update::Disconnected(format!("cannot start the runtime: {e}")));
            }
        }
    });
    if let Err(e) = spawned {
        eprintln!("mailroom-admin: cannot start the IPC thread: {e}");
    }
    (cmd_tx, up_rx)
}

async fn run(
    ctx: egui::Context,
    socket: PathBuf,
    mut commands: tokio::sync::mpsc::UnboundedReceiver<Command>,
    updates: mpsc::Sender<Update>,
) {
    let send = |u: Update| {
        let ok = updates.send(u).is_ok();
        ctx.request_repaint();
        ok
    };
    let mut backoff = Duration::from_millis(200);
    loop {
        let client = match Client::connect(&socket, concat!("mailroom-admin ", env!("CARGO_PKG_VERSION"))).await {
            Ok(c) => c,
            Err(e) => {
                if !send(Update::Disconnected(e.to_string())) {
                    return;
                }
                // Commands sent while disconnected are dropped; the UI disables editing.
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    cmd = commands.recv() => if cmd.is_none() { return },
                }
                backoff = (backoff * 2).min(Duration::from_secs(3));
                continue;
            }
        };
        backoff = Duration::from_millis(200);
        send(Update::Connected(client.server().to_owned()));
        let Ok(mut events) = client.subscribe().await else { continue };
        refresh(&client, &send).await;
        let mut tick = tokio::time::interval(Duration::from_secs(2));
        loop {
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    None => return,
                    Some(cmd) => handle(&client, cmd, &send).await,
                },
                event = events.recv() => match event {
                    Some(e) => {
                        let refresh_all = matches!(e, Event::ServiceState { .. } | Event::ConfigSaved { .. });
                        let mailboxes = matches!(e, Event::MailboxesChanged);
                        let queue = matches!(e, Event::QueueChanged);
                        send(Update::Event(e));
                        if refresh_all {
                            status(&client, &send).await;
                            certificate(&client, &send).await;
                        }
                        if mailboxes {
                            list_mailboxes(&client, &send).await;
                        }
                        if queue {
                            list_queue(&client, &send).await;
                        }
                    }
                    None => break,
                },
                _ = tick.tick() => {
                    status(&client, &send).await;
                    lockouts(&client, &send).await;
                }
            }
        }
        send(Update::Disconnected("the service closed the connection".into()));
    }
}

async fn status(client: &Client, send: &impl Fn(Update) -> bool) {
    match client.request(Request::Status).await {
        Ok(Response::Status(s)) => send(Update::Status(s)),
        Ok(_) => true,
        Err(e) => send(Update::Error(e.to_string())),
    };
}

async fn lockouts(client: &Client, send: &impl Fn(Update) -> bool) {
    if let Ok(Response::Lockouts { lockouts }) = client.request(Request::Lockouts).await {
        send(Update::Lockouts(lockouts));
    }
}

async fn certificate(client: &Client, send: &impl Fn(Update) -> bool) {
    if let Ok(Response::Certificate { certificate }) = client.request(Request::Certificate).await {
        send(Update::Certificate(certificate));
    }
}

async fn list_mailboxes(client: &Client, send: &impl Fn(Update) -> bool) {
    if let Ok(Response::Mailboxes { mailboxes, warnings }) = client.request(Request::ListMailboxes).await {
        send(Update::Mailboxes(mailboxes, warnings));
    }
}

async fn list_queue(client: &Client, send: &impl Fn(Update) -> bool) {
    if let Ok(Response::Queue { messages }) =
        client.request(Request::QueueList { state: None, sender: None, recipient: None }).await
    {
        send(Update::Queue(messages));
    }
}

async fn refresh(client: &Client, send: &impl Fn(Update) -> bool) {
    status(client, send).await;
    if let Ok(Response::Config { config, revision }) = client.request(Request::GetConfig).await {
        send(Update::Config(config, revision));
    }
    certificate(client, send).await;
    lockouts(client, send).await;
    list_mailboxes(client, send).await;
    list_queue(client, send).await;
}

async fn handle(client: &Client, cmd: Command, send: &impl Fn(Update) -> bool) {
    let done = |r: Result<Response, ClientError>| match r {
        Ok(_) => None,
        Err(e) => Some(Update::Error(e.to_string())),
    };
    match cmd {
        Command::Refresh => refresh(client, send).await,
        Command::Lifecycle(op) => {
            let request = match op {
                Lifecycle::Start => Request::Start,
                Lifecycle::Stop => Request::Stop,
                Lifecycle::Restart => Request::Restart,
            };
            let result = client.request(request).await.map(|_| ()).map_err(|e| e.to_string());
            send(Update::LifecycleDone(result));
            refresh(client, send).await;
        }
        Command::SaveConfig { draft, base_revision } => {
            match client.request(Request::SetConfig { config: draft, base_revision: Some(base_revision) }).await {
                Ok(Response::ConfigSaved { revision, .. }) => {
                    send(Update::Saved { revision });
                    refresh(client, send).await;
                }
                Ok(_) => {}
                Err(e) => {
                    send(Update::SaveFailed(e));
                }
            }
        }
        Command::AddMailbox { display_name, addresses, password } => {
            if let Some(u) = done(client.request(Request::AddMailbox { display_name, addresses, password }).await) {
                send(u);
            }
            list_mailboxes(client, send).await;
        }
        Command::UpdateMailbox { address, display_name, addresses, password } => {
            let request = Request::UpdateMailbox {
                address,
                display_name: Some(display_name),
                addresses: Some(addresses),
                password,
            };
            if let Some(u) = done(client.request(request).await) {
                send(u);
            }
            list_mailboxes(client, send).await;
        }
        Command::QueueDetails(queue_id) => match client.request(Request::QueueMessage { queue_id }).await {
            Ok(Response::QueueMessage(d)) => {
                send(Update::QueueDetails(d));
            }
            Ok(_) => {}
            Err(e) => {
                send(Update::Error(e.to_string()));
            }
        },
        Command::RemoveMailbox(address) => {
            if let Some(u) = done(client.request(Request::RemoveMailbox { address }).await) {
                send(u);
            }
            list_mailboxes(client, send).await;
        }
        Command::RetryQueue(queue_id) => {
            if let Some(u) = done(client.request(Request::QueueRetry { queue_id }).await) {
                send(u);
            }
            list_queue(client, send).await;
        }
        Command::DeleteQueued { queue_id, ndr } => {
            if let Some(u) = done(client.request(Request::QueueDelete { queue_id, ndr }).await) {
                send(u);
            }
            list_queue(client, send).await;
        }
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
                Ok(Response::Tracking { events }) => send(Update::Tracking(events)),
                Ok(_) => true,
                Err(e) => send(Update::Error(e.to_string())),
            };
        }
        Command::Unlock(who) => {
            if let Some(u) = done(client.request(Request::Unlock { client: who }).await) {
                send(u);
            }
            lockouts(client, send).await;
        }
        Command::TestAddress { recipient, authenticated_as, client_ip } => {
            let authenticated_as = (!authenticated_as.trim().is_empty()).then_some(authenticated_as);
            let result = match client.request(Request::TestAddress { recipient, authenticated_as, client_ip }).await {
                Ok(Response::AddressTest { decision, explanation }) => Ok((decision, explanation)),
                Ok(other) => Err(format!("unexpected reply {other:?}")),
                Err(e) => Err(e.to_string()),
            };
            send(Update::AddressTest(result));
        }
    }
}
