//! The background thread that talks to `mailroomd`.
//!
//! It owns a tokio runtime and the IPC client. It connects (retrying with backoff while
//! no service answers), subscribes to events, and forwards everything to the UI as
//! [`Update`]s; the UI's [`Command`]s become requests. Dropping the UI's command sender
//! ends the thread.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use mailroom_shared::ipc::client::Client;
use mailroom_shared::ipc::{Event, Request, Response, StatusReport};

/// What the UI asks for.
#[derive(Debug)]
pub enum Command {
    /// Fetch the status now.
    Refresh,
    /// Restart the Internet Mail Service.
    Restart,
}

/// What the backend reports.
#[derive(Debug)]
pub enum Update {
    /// Connected to the service.
    Connected {
        /// Its name and version.
        server: String,
    },
    /// Not connected; retrying.
    Disconnected {
        /// Why.
        reason: String,
    },
    /// A fresh status.
    Status(Box<StatusReport>),
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
    std::thread::Builder::new()
        .name("ipc-backend".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = up_tx.send(Update::Disconnected { reason: format!("cannot start the runtime: {e}") });
                    return;
                }
            };
            rt.block_on(run(ctx, socket, cmd_rx, up_tx));
        })
        .ok();
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
    let mut backoff = Duration::from_millis(250);
    loop {
        let client = match Client::connect(&socket, concat!("mailroom-admin ", env!("CARGO_PKG_VERSION"))).await {
            Ok(c) => c,
            Err(e) => {
                if !send(Update::Disconnected { reason: e.to_string() }) {
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        backoff = Duration::from_millis(250);
        send(Update::Connected { server: client.server().to_owned() });
        let Ok(mut events) = client.subscribe().await else { continue };
        let status = |r: Result<Response, mailroom_shared::ipc::client::ClientError>| match r {
            Ok(Response::Status(s)) => Update::Status(s),
            Ok(other) => Update::Error(format!("unexpected reply {other:?}")),
            Err(e) => Update::Error(e.to_string()),
        };
        send(status(client.request(Request::Status).await));
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    None => return,
                    Some(Command::Refresh) => { send(status(client.request(Request::Status).await)); }
                    Some(Command::Restart) => { send(status(client.request(Request::Restart).await)); }
                },
                event = events.recv() => match event {
                    Some(e) => {
                        let refresh = matches!(e, Event::ServiceState { .. } | Event::ConfigSaved { .. });
                        send(Update::Event(e));
                        if refresh {
                            send(status(client.request(Request::Status).await));
                        }
                    }
                    None => break,
                },
                _ = tick.tick() => { send(status(client.request(Request::Status).await)); }
            }
        }
        send(Update::Disconnected { reason: "the service closed the connection".into() });
    }
}
