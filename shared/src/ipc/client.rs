//! An async client for the control socket, used by `mailroomctl`, the GUI and the tests.
//!
//! One [`Client`] is one connection. Requests may be issued concurrently from several
//! tasks: each gets its own id, and a background reader task routes every reply to the
//! request that is waiting for it, and every event to the receiver handed out by
//! [`Client::subscribe`]. Dropping the client closes the connection and stops the reader.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use interprocess::local_socket::tokio::Stream;
use interprocess::local_socket::traits::tokio::Stream as _;
use interprocess::local_socket::{GenericFilePath, ToFsName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

use super::framing::{LineBuffer, encode_line};
use super::{
    ClientHello, Event, Hello, IpcError, MAX_LINE, Outcome, PROTOCOL_VERSION, Request, RequestEnvelope, Response,
    ServerMessage,
};

/// Why a request did not get an answer from the service.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing answers on the socket.
    #[error("cannot connect to the Mailroom service at {}: {source}", path.display())]
    Connect {
        /// The socket tried.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Reading or writing the socket failed.
    #[error("control connection failed: {0}")]
    Io(#[from] std::io::Error),
    /// The service closed the connection before answering.
    #[error("the service closed the control connection")]
    Closed,
    /// The service sent something this client does not understand.
    #[error("unexpected message from the service: {0}")]
    Protocol(String),
    /// The service answered with an error.
    #[error(transparent)]
    Remote(#[from] IpcError),
}

/// Replies awaited, by request id. Shared by the request side (inserts) and the reader
/// task (removes and completes); `None` once the connection is gone.
type Waiters = Arc<Mutex<Option<HashMap<u64, oneshot::Sender<Outcome>>>>>;

/// A connection to `mailroomd`'s control socket.
pub struct Client {
    /// The connection, shared with the reader task (`&Stream` reads and writes).
    stream: Arc<Stream>,
    /// Held while one whole line is written, so concurrent requests do not interleave.
    write_lock: tokio::sync::Mutex<()>,
    waiters: Waiters,
    next_id: AtomicU64,
    /// Events from the reader; taken by the first [`Client::subscribe`].
    events: Mutex<Option<mpsc::UnboundedReceiver<Event>>>,
    reader: tokio::task::JoinHandle<()>,
    server: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("server", &self.server).finish_non_exhaustive()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Client {
    /// Connects to the socket at `path` and performs the handshake, introducing itself
    /// as `client_name`.
    ///
    /// # Errors
    /// [`ClientError::Connect`] when nothing answers; [`ClientError::Remote`] when the
    /// service refuses the handshake (version mismatch).
    pub async fn connect(path: &Path, client_name: &str) -> Result<Client, ClientError> {
        let connect_err = |source| ClientError::Connect { path: path.to_owned(), source };
        let name = path.to_fs_name::<GenericFilePath>().map_err(connect_err)?;
        let stream = Arc::new(Stream::connect(name).await.map_err(connect_err)?);
        let hello = ClientHello { hello: Hello { version: PROTOCOL_VERSION, client: client_name.to_owned() } };
        let line = encode_line(&hello).map_err(|e| ClientError::Protocol(e.to_string()))?;
        // A server that refuses us (wrong user, too busy) may answer and close before
        // reading our hello, making this write fail; its answer is still readable.
        let written = (&*stream).write_all(&line).await;
        let mut lines = LineBuffer::new(MAX_LINE);
        let first = match read_message(&stream, &mut lines, &mut [0u8; 4096]).await {
            Ok(m) => m,
            Err(e) => return Err(written.err().map_or(e, ClientError::Io)),
        };
        let server = match first {
            Some(ServerMessage::Welcome { server, .. }) => server,
            Some(ServerMessage::Reply(r)) => match r.outcome {
                Outcome::Error(e) => return Err(ClientError::Remote(e)),
                Outcome::Ok(_) => {
                    return Err(ClientError::Protocol("a reply before the handshake".into()));
                }
            },
            Some(ServerMessage::Event(_)) => {
                return Err(ClientError::Protocol("an event before the handshake".into()));
            }
            None => return Err(written.err().map_or(ClientError::Closed, ClientError::Io)),
        };
        let waiters: Waiters = Arc::new(Mutex::new(Some(HashMap::new())));
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let reader = tokio::spawn(read_loop(Arc::clone(&stream), lines, Arc::clone(&waiters), events_tx));
        Ok(Client {
            stream,
            write_lock: tokio::sync::Mutex::new(()),
            waiters,
            next_id: AtomicU64::new(1),
            events: Mutex::new(Some(events_rx)),
            reader,
            server,
        })
    }

    /// The server's name and version from the handshake.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Sends `request` and waits for its reply.
    ///
    /// # Errors
    /// [`ClientError::Remote`] with the service's typed error, or a connection error.
    pub async fn request(&self, request: Request) -> Result<Response, ClientError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        {
            let mut w = self.waiters.lock().unwrap_or_else(|p| p.into_inner());
            w.as_mut().ok_or(ClientError::Closed)?.insert(id, tx);
        }
        let line = encode_line(&RequestEnvelope { id, request }).map_err(|e| ClientError::Protocol(e.to_string()))?;
        let written = {
            let _guard = self.write_lock.lock().await;
            (&*self.stream).write_all(&line).await
        };
        if let Err(e) = written {
            if let Some(w) = self.waiters.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
                w.remove(&id);
            }
            return Err(e.into());
        }
        match rx.await {
            Ok(Outcome::Ok(r)) => Ok(r),
            Ok(Outcome::Error(e)) => Err(ClientError::Remote(e)),
            Err(_) => Err(ClientError::Closed),
        }
    }

    /// Subscribes to events. The receiver ends when the connection closes.
    ///
    /// # Errors
    /// When the request fails, or events were already subscribed on this client.
    pub async fn subscribe(&self) -> Result<mpsc::UnboundedReceiver<Event>, ClientError> {
        let rx = self
            .events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| ClientError::Protocol("already subscribed".into()))?;
        self.request(Request::Subscribe).await?;
        Ok(rx)
    }
}

/// Reads the next whole message, `None` at end of stream.
async fn read_message(
    stream: &Stream,
    lines: &mut LineBuffer,
    chunk: &mut [u8],
) -> Result<Option<ServerMessage>, ClientError> {
    loop {
        match lines.next_line() {
            Ok(Some(line)) => {
                return serde_json::from_slice(&line).map(Some).map_err(|e| ClientError::Protocol(e.to_string()));
            }
            Ok(None) => {}
            Err(e) => return Err(ClientError::Protocol(e.to_string())),
        }
        let mut reader = stream;
        let n = reader.read(chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        lines.extend(&chunk[..n]);
    }
}

/// Routes replies to their waiters and events to the subscriber until the connection
/// ends; then fails every waiter still pending.
async fn read_loop(stream: Arc<Stream>, mut lines: LineBuffer, waiters: Waiters, events: mpsc::UnboundedSender<Event>) {
    let mut chunk = vec![0u8; 64 * 1024];
    while let Ok(Some(msg)) = read_message(&stream, &mut lines, &mut chunk).await {
        match msg {
            ServerMessage::Reply(reply) => {
                let waiter =
                    reply.id.and_then(|id| waiters.lock().unwrap_or_else(|p| p.into_inner()).as_mut()?.remove(&id));
                if let Some(w) = waiter {
                    let _ = w.send(reply.outcome);
                }
            }
            ServerMessage::Event(e) => {
                let _ = events.send(e);
            }
            ServerMessage::Welcome { .. } => {}
        }
    }
    waiters.lock().unwrap_or_else(|p| p.into_inner()).take();
}
