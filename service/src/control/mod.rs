//! The control socket: the only way the GUI and `mailroomctl` talk to the service.
//!
//! - **Placement and permissions**: the socket's directory, when mailroomd creates it,
//!   is made `0700`, and the socket itself `0600` — or `0750`/`0660` with the group of
//!   administrators of a system service (`--admin-group`). Each connecting peer is
//!   checked ([`access`]: the service's uid, root, or a member of that group), because
//!   file modes alone do not protect a socket placed in a directory someone else can
//!   reach.
//! - **One server per socket**: at bind time a live server answering on the path
//!   refuses the start; a stale socket file left by a crash is replaced.
//! - **Robustness**: a malformed, unknown or oversized line gets an error reply and the
//!   connection goes on; connections are capped; requests on one connection run
//!   concurrently (a long restart does not hold up a status poll) as tracked tasks,
//!   with their replies and any subscribed events written by the connection's own
//!   task — events first, so that a client sees the states a restart went through
//!   before the restart's reply. A client that closes its sending side (`mailroomctl
//!   bridge` at the end of its input) still gets the answers to what it asked; then
//!   the connection closes.
//! - **Idle connections make room**: a connection that has not subscribed to events
//!   and has nothing in progress is closed after [`IDLE_TIMEOUT`]; and when every
//!   place is taken, a new connection closes the one idle the longest instead of being
//!   turned away, so idle connections cannot lock the administrator out.
//! - **Places are shared fairly**: one process holds at most [`MAX_PER_PROCESS`] of
//!   them, so a client that keeps opening connections (and keeps them busy) cannot
//!   take every place from the others.

pub mod access;
mod errors;
mod filtering;
mod handlers;
mod objects;
mod recipients;
mod sharing;
mod transfer;

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use interprocess::local_socket::tokio::{Listener, Stream};
use interprocess::local_socket::traits::StreamCommon as _;
use interprocess::local_socket::traits::tokio::{Listener as _, Stream as _};
use interprocess::local_socket::{GenericFilePath, ListenerOptions, ToFsName};
use interprocess::os::unix::local_socket::ListenerOptionsExt;
use mailroom_shared::ipc::framing::{FrameError, LineBuffer, encode_line};
use mailroom_shared::ipc::{
    ClientHello, Hello, IpcError, MAX_LINE, Outcome, PROTOCOL_VERSION, Reply, Request, RequestEnvelope, Response,
    ServerMessage,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Semaphore, broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::lifecycle::Manager;
pub use access::{Access, AccessError, AdminGroup, Peer};

/// Most control connections served at once; more are answered `busy` and closed.
pub const MAX_CONNECTIONS: usize = 64;
/// Most of them one process holds at once (by its pid, as the kernel tells it).
pub const MAX_PER_PROCESS: usize = 16;

/// How many connections each process holds, by pid.
#[derive(Debug, Default)]
struct Processes(std::collections::HashMap<i32, usize>);

/// One connection's share of its process's places; given back when dropped.
struct ProcessPlace {
    processes: Arc<std::sync::Mutex<Processes>>,
    pid: i32,
}

impl ProcessPlace {
    /// A place for a connection of `pid`, or `None` when the process holds its share.
    fn take(processes: &Arc<std::sync::Mutex<Processes>>, pid: i32) -> Option<ProcessPlace> {
        let mut p = processes.lock().unwrap_or_else(|p| p.into_inner());
        let held = p.0.entry(pid).or_default();
        if *held >= MAX_PER_PROCESS {
            return None;
        }
        *held += 1;
        Some(ProcessPlace { processes: Arc::clone(processes), pid })
    }
}

impl Drop for ProcessPlace {
    fn drop(&mut self) {
        let mut p = self.processes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(held) = p.0.get_mut(&self.pid) {
            *held -= 1;
            if *held == 0 {
                p.0.remove(&self.pid);
            }
        }
    }
}
/// Most requests of one connection in progress at once; beyond it, reading pauses.
const MAX_IN_FLIGHT: usize = 16;
/// How long a new connection has to send its hello.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection that has not subscribed may sit with nothing to do.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections idle right now (not subscribed, nothing in progress), so that a new
/// connection can close the one idle the longest when every place is taken.
#[derive(Default)]
struct Idle {
    next_id: u64,
    /// Connection id → since when it is idle, and how to close it.
    since: std::collections::HashMap<u64, (std::time::Instant, CancellationToken)>,
}

impl Idle {
    /// Closes the connection idle the longest; false when none is idle.
    fn evict_oldest(&mut self) -> bool {
        let oldest = self.since.iter().min_by_key(|(_, (t, _))| *t).map(|(id, _)| *id);
        match oldest.and_then(|id| self.since.remove(&id)) {
            Some((_, close)) => {
                close.cancel();
                true
            }
            None => false,
        }
    }
}

/// Why the control socket could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// Another service answers on the socket.
    #[error("a Mailroom service ({server}) is already answering on {}; stop it first or use another --socket", path.display())]
    AlreadyServed {
        /// The socket.
        path: PathBuf,
        /// Its name and version, from the handshake.
        server: String,
    },
    /// Creating the directory or the socket failed.
    #[error("cannot create the control socket {}: {source}", path.display())]
    Io {
        /// The socket.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// Creates the socket's directory (mode 0700, or 0750 with the administrators' group)
/// and binds the socket (mode 0600, or 0660 with that group), replacing a stale socket
/// file but refusing when a live service answers there.
///
/// # Errors
/// See [`BindError`].
pub async fn bind(path: &Path, access: &Access) -> Result<Listener, BindError> {
    let io_err = |source| BindError::Io { path: path.to_owned(), source };
    let group = access.group().map(|g| rustix::fs::Gid::from_raw(g.gid));
    let (dir_mode, mode) = if group.is_some() { (0o750, 0o660) } else { (0o700, 0o600) };
    // A directory we create is made private. One that exists is the administrator's
    // (it may be /tmp or a shared runtime directory) and is left as it is: the socket's
    // own mode and the uid check protect the socket there.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        std::fs::create_dir_all(dir).map_err(io_err)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(dir_mode)).map_err(io_err)?;
        if group.is_some() {
            rustix::fs::chown(dir, None, group).map_err(|e| io_err(e.into()))?;
        }
    }
    if std::fs::symlink_metadata(path).is_ok() {
        match tokio::time::timeout(Duration::from_secs(2), probe(path)).await {
            Ok(Some(server)) => {
                return Err(BindError::AlreadyServed { path: path.to_owned(), server });
            }
            Ok(None) | Err(_) => {
                tracing::info!(socket = %path.display(), "replacing a stale control socket");
                std::fs::remove_file(path).map_err(io_err)?;
            }
        }
    }
    let name = path.to_fs_name::<GenericFilePath>().map_err(io_err)?;
    let listener = ListenerOptions::new().name(name).mode(mode).create_tokio().map_err(io_err)?;
    // Set both again by hand: the mode a socket is created with is masked by the umask
    // (the unit's is 0077), and its group is the process's unless changed.
    if group.is_some() {
        rustix::fs::chown(path, None, group).map_err(|e| io_err(e.into()))?;
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(io_err)?;
    Ok(listener)
}

/// Asks whoever answers on the socket at `path` who it is, as a client would: the hello,
/// then the welcome's server name. `None` when nothing answers, or not a Mailroom
/// service (a stale socket file left by a crash).
async fn probe(path: &Path) -> Option<String> {
    let name = path.to_fs_name::<GenericFilePath>().ok()?;
    let mut stream = Stream::connect(name).await.ok()?;
    let hello = ClientHello { hello: Hello { version: PROTOCOL_VERSION, client: "probe".into() } };
    // A live server that refuses us (busy, another user) still says so on the socket:
    // read its answer even when the hello cannot be written.
    let _ = stream.write_all(&encode_line(&hello).ok()?).await;
    let mut lines = LineBuffer::new(MAX_LINE);
    let mut buf = [0u8; 4096];
    loop {
        match lines.next_line() {
            Ok(Some(line)) => {
                return match serde_json::from_slice(&line) {
                    Ok(ServerMessage::Welcome { server, .. }) => Some(server),
                    _ => None,
                };
            }
            Ok(None) => {}
            Err(_) => return None,
        }
        match stream.read(&mut buf).await {
            Ok(n @ 1..) => lines.extend(&buf[..n]),
            Ok(0) | Err(_) => return None,
        }
    }
}

/// Serves control connections until `stop` is cancelled, then waits for them (and the
/// requests they started) to end.
pub async fn serve(listener: Listener, manager: Manager, access: Access, stop: CancellationToken) {
    let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let idle = Arc::new(std::sync::Mutex::new(Idle::default()));
    let processes = Arc::new(std::sync::Mutex::new(Processes::default()));
    let tasks = TaskTracker::new();
    let access = Arc::new(access);
    loop {
        let stream = tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "control accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let connections = Arc::clone(&connections);
        let idle = Arc::clone(&idle);
        let manager = manager.clone();
        let stop = stop.clone();
        let requests = tasks.clone();
        let access = Arc::clone(&access);
        let processes = Arc::clone(&processes);
        tasks.spawn(async move {
            let peer = match stream.peer_creds() {
                Ok(c) => Peer { uid: c.euid(), gid: c.egid(), pid: c.pid() },
                Err(_) => Peer { uid: None, gid: None, pid: None },
            };
            let share = match peer.pid {
                Some(pid) => match ProcessPlace::take(&processes, pid) {
                    Some(place) => Some(place),
                    None => {
                        let message = format!("at most {MAX_PER_PROCESS} control connections per process");
                        refuse(&stream, IpcError::Busy { message }).await;
                        return;
                    }
                },
                None => None,
            };
            let permit = match Arc::clone(&connections).try_acquire_owned() {
                Ok(p) => Ok(p),
                Err(_) if idle.lock().unwrap_or_else(|p| p.into_inner()).evict_oldest() => {
                    tracing::info!("control connections full; closed the one idle the longest");
                    tokio::time::timeout(Duration::from_secs(2), connections.acquire_owned())
                        .await
                        .map_err(|_| ())
                        .and_then(|p| p.map_err(|_| ()))
                }
                Err(_) => Err(()),
            };
            let Ok(_permit) = permit else {
                refuse(&stream, IpcError::Busy { message: format!("at most {MAX_CONNECTIONS} control connections") })
                    .await;
                return;
            };
            if let Err(why) = access.admit(peer) {
                tracing::warn!(uid = ?peer.uid, pid = ?peer.pid, "control connection refused: {why}");
                refuse(&stream, IpcError::Handshake { message: why.to_string() }).await;
                return;
            }
            Connection::new(stream, manager, requests, idle).run(stop).await;
            drop(share);
        });
    }
    tasks.close();
    tasks.wait().await;
}

/// Writes one error reply and closes, after giving the client a moment to send its
/// hello, so that it is reading (not writing into a closed socket) when we close.
async fn refuse(stream: &Stream, error: IpcError) {
    let mut lines = LineBuffer::new(4096);
    let mut buf = [0u8; 1024];
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let mut r = stream;
        while let Ok(n @ 1..) = r.read(&mut buf).await {
            lines.extend(&buf[..n]);
            if !matches!(lines.next_line(), Ok(None)) {
                break;
            }
        }
    })
    .await;
    let msg = ServerMessage::Reply(Reply { id: None, outcome: Outcome::Error(error) });
    if let Ok(line) = encode_line(&msg) {
        let mut w = stream;
        let _ = w.write_all(&line).await;
    }
}

/// One control connection.
struct Connection {
    stream: Stream,
    manager: Manager,
    lines: LineBuffer,
    /// Replies of requests running as their own tasks; written by [`Connection::run`].
    replies_tx: mpsc::Sender<Reply>,
    replies_rx: mpsc::Receiver<Reply>,
    in_flight: Arc<Semaphore>,
    /// Set by a `subscribe` request.
    events: Option<broadcast::Receiver<mailroom_shared::ipc::Event>>,
    /// Held while this connection wants log lines (log events are made only then).
    logs: Option<crate::logging::LogSubscriber>,
    /// Where the requests run: the server's tracker, so that a stop waits for them.
    requests: TaskTracker,
    /// The server's register of idle connections, and this one's id in it.
    idle: Arc<std::sync::Mutex<Idle>>,
    id: u64,
    /// Cancelled by a new connection that needs this one's place while it is idle.
    evicted: CancellationToken,
    /// False once the client has closed its sending side (`mailroomctl bridge` at the
    /// end of its input): nothing more will be asked, and the connection closes once
    /// every request asked has been answered.
    reading: bool,
    /// Requests started and not yet answered.
    unanswered: usize,
}

impl Connection {
    fn new(stream: Stream, manager: Manager, requests: TaskTracker, idle: Arc<std::sync::Mutex<Idle>>) -> Connection {
        let (replies_tx, replies_rx) = mpsc::channel(MAX_IN_FLIGHT);
        let id = {
            let mut idle = idle.lock().unwrap_or_else(|p| p.into_inner());
            idle.next_id += 1;
            idle.next_id
        };
        Connection {
            stream,
            manager,
            lines: LineBuffer::new(MAX_LINE),
            replies_tx,
            replies_rx,
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            events: None,
            logs: None,
            requests,
            idle,
            id,
            evicted: CancellationToken::new(),
            reading: true,
            unanswered: 0,
        }
    }

    /// Marks the connection idle (or busy again) in the server's register.
    fn set_idle(&self, idle: bool) {
        let mut register = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle {
            register.since.entry(self.id).or_insert_with(|| (std::time::Instant::now(), self.evicted.clone()));
        } else {
            register.since.remove(&self.id);
        }
    }

    /// True when the connection is doing nothing for anyone: not subscribed, no
    /// request in progress.
    fn is_idle(&self) -> bool {
        self.events.is_none() && self.in_flight.available_permits() == MAX_IN_FLIGHT
    }

    async fn send(&self, msg: &ServerMessage) -> io::Result<()> {
        let line = encode_line(msg).map_err(io::Error::other)?;
        let mut w = &self.stream;
        w.write_all(&line).await
    }

    /// Sends a reply. One that cannot be encoded (a bug) becomes an `internal` error
    /// for that request, rather than a dropped connection.
    async fn reply(&self, id: Option<u64>, outcome: Outcome) -> io::Result<()> {
        let line = match encode_line(&ServerMessage::Reply(Reply { id, outcome })) {
            Ok(line) => line,
            Err(e) => {
                tracing::error!(error = %e, "cannot encode a control reply");
                let message = format!("the reply could not be encoded: {e}");
                let error = Outcome::Error(IpcError::Internal { message });
                encode_line(&ServerMessage::Reply(Reply { id, outcome: error })).map_err(io::Error::other)?
            }
        };
        let mut w = &self.stream;
        w.write_all(&line).await
    }

    async fn run(mut self, stop: CancellationToken) {
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, self.handshake()).await {
            Ok(Ok(true)) => {}
            Ok(Ok(false) | Err(_)) | Err(_) => return,
        }
        self.serve(stop).await;
        self.set_idle(false);
    }

    async fn serve(&mut self, stop: CancellationToken) {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            // Drain complete lines before reading more.
            match self.lines.next_line() {
                Ok(Some(line)) => {
                    if self.request_line(&line).await.is_err() {
                        return;
                    }
                    continue;
                }
                Ok(None) => {}
                Err(FrameError::TooLong { limit }) => {
                    if self.reply(None, Outcome::Error(IpcError::LineTooLong { limit })).await.is_err() {
                        return;
                    }
                    continue;
                }
            }
            if !self.reading && self.unanswered == 0 {
                return;
            }
            let idle = self.is_idle();
            self.set_idle(idle);
            let idle_timeout = async {
                if idle {
                    tokio::time::sleep(IDLE_TIMEOUT).await;
                } else {
                    std::future::pending().await
                }
            };
            let events = async {
                match self.events.as_mut() {
                    Some(rx) => Some(rx.recv().await),
                    None => std::future::pending().await,
                }
            };
            let mut reader = &self.stream;
            tokio::select! {
                biased;
                () = stop.cancelled() => return,
                () = self.evicted.cancelled() => {
                    tracing::debug!("idle control connection closed to make room");
                    return;
                }
                () = idle_timeout => {
                    tracing::debug!("idle control connection closed");
                    return;
                }
                Some(event) = events => {
                    let msg = match event {
                        // Log lines are made while any connection wants them; this
                        // one may not.
                        Ok(mailroom_shared::ipc::Event::Log { .. }) if self.logs.is_none() => continue,
                        Ok(e) => ServerMessage::Event(e),
                        Err(broadcast::error::RecvError::Lagged(missed)) => {
                            ServerMessage::Event(mailroom_shared::ipc::Event::Lagged { missed })
                        }
                        Err(broadcast::error::RecvError::Closed) => return,
                    };
                    if self.send(&msg).await.is_err() {
                        return;
                    }
                }
                Some(reply) = self.replies_rx.recv() => {
                    self.unanswered -= 1;
                    if self.reply(reply.id, reply.outcome).await.is_err() {
                        return;
                    }
                }
                read = reader.read(&mut buf), if self.reading => match read {
                    // The client has said all it will: answer what it asked, then close.
                    Ok(0) => self.reading = false,
                    Err(_) => return,
                    Ok(n) => self.lines.extend(&buf[..n]),
                },
            }
        }
    }

    /// Reads the hello and answers it. `Ok(false)` when the connection must close.
    async fn handshake(&mut self) -> io::Result<bool> {
        let mut buf = vec![0u8; 4096];
        let line = loop {
            match self.lines.next_line() {
                Ok(Some(line)) => break line,
                Ok(None) => {}
                Err(FrameError::TooLong { limit }) => {
                    self.reply(None, Outcome::Error(IpcError::LineTooLong { limit })).await?;
                    return Ok(false);
                }
            }
            let mut reader = &self.stream;
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                return Ok(false);
            }
            self.lines.extend(&buf[..n]);
        };
        let hello = match serde_json::from_slice::<ClientHello>(&line) {
            Ok(h) => h.hello,
            Err(e) => {
                let message = format!("expected {{\"hello\":{{\"version\":{PROTOCOL_VERSION},\"client\":…}}}}: {e}");
                self.reply(None, Outcome::Error(IpcError::Handshake { message })).await?;
                return Ok(false);
            }
        };
        if hello.version != PROTOCOL_VERSION {
            let error = IpcError::VersionMismatch { server: PROTOCOL_VERSION, client: hello.version };
            self.reply(None, Outcome::Error(error)).await?;
            return Ok(false);
        }
        tracing::debug!(client = %hello.client, "control client connected");
        let server = format!("mailroomd {}", env!("CARGO_PKG_VERSION"));
        self.send(&ServerMessage::Welcome { version: PROTOCOL_VERSION, server }).await?;
        Ok(true)
    }

    /// Parses one request line and starts it. Errors only when the connection failed.
    async fn request_line(&mut self, line: &[u8]) -> io::Result<()> {
        let (id, request) = match parse_request(line) {
            Ok(env) => (Some(env.id), env.request),
            Err((id, e)) => return self.reply(id, Outcome::Error(e)).await,
        };
        if let Request::Subscribe { logs } = request {
            self.events = Some(self.manager.subscribe());
            if logs && self.logs.is_none() {
                self.logs = Some(crate::logging::LogSubscriber::counted());
            }
            return self.reply(id, Outcome::Ok(Response::Done)).await;
        }
        let Ok(permit) = Arc::clone(&self.in_flight).acquire_owned().await else {
            return Ok(());
        };
        let manager = self.manager.clone();
        let replies = self.replies_tx.clone();
        self.unanswered += 1;
        self.requests.spawn(async move {
            let outcome = match handlers::handle(request, &manager).await {
                Ok(r) => Outcome::Ok(r),
                Err(e) => Outcome::Error(e),
            };
            let _ = replies.send(Reply { id, outcome }).await;
            drop(permit);
        });
        Ok(())
    }
}

/// Parses a request line, telling apart lines that are not JSON requests at all
/// (`malformed`) from well-formed requests of an unknown type (`unknown_request`).
fn parse_request(line: &[u8]) -> Result<RequestEnvelope, (Option<u64>, IpcError)> {
    let value: serde_json::Value = serde_json::from_slice(line)
        .map_err(|e| (None, IpcError::Malformed { message: format!("not valid JSON: {e}") }))?;
    let id = value.get("id").and_then(serde_json::Value::as_u64);
    let Some(kind) = value.get("request").and_then(|r| r.get("type")).and_then(serde_json::Value::as_str) else {
        let message = "expected {\"id\":N,\"request\":{\"type\":…}}".to_owned();
        return Err((id, IpcError::Malformed { message }));
    };
    if !Request::NAMES.contains(&kind) {
        return Err((id, IpcError::UnknownRequest { name: kind.to_owned() }));
    }
    serde_json::from_value(value).map_err(|e| (id, IpcError::Malformed { message: e.to_string() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_are_classified() {
        assert!(parse_request(br#"{"id":1,"request":{"type":"status"}}"#).is_ok());
        let cases: [(&[u8], Option<u64>, &str); 5] = [
            (b"not json", None, "malformed"),
            (br#"{"id":2}"#, Some(2), "malformed"),
            (br#"{"id":3,"request":{"type":"launch_missiles"}}"#, Some(3), "unknown_request"),
            (br#"{"id":4,"request":{"type":"remove_mailbox"}}"#, Some(4), "malformed"),
            (br#"{"request":{"type":"status"}}"#, None, "malformed"),
        ];
        for (line, want_id, want_kind) in cases {
            let (id, e) = parse_request(line).expect_err("must fail");
            let kind = serde_json::to_value(&e).expect("json")["kind"].as_str().expect("kind").to_owned();
            assert_eq!((id, kind.as_str()), (want_id, want_kind), "{}", String::from_utf8_lossy(line));
        }
    }
}
