//! The connection under the typed client: the handshake, request ids, and the reader
//! task that hands each reply to the request waiting for it.
//!
//! One [`Client`] is one connection: to the local socket ([`Client::connect`]), or over
//! any pair of byte streams ([`Client::over`]) — the GUI's connection to another
//! machine is `ssh HOST mailroomctl bridge`'s standard output and input. Requests may be
//! issued concurrently from several tasks: each gets its own id, and a background
//! reader task routes every reply to the request that is waiting for it, and every
//! event to the receiver handed out by [`Client::subscribe`]. Dropping the client
//! closes the connection and stops the reader. The typed methods, one per request, are
//! in `requests.rs`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use interprocess::local_socket::tokio::Stream;
use interprocess::local_socket::traits::tokio::Stream as _;
use interprocess::local_socket::{GenericFilePath, ToFsName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

use mailroom_shared::ipc::framing::{LineBuffer, encode_line};
use mailroom_shared::ipc::{
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
    /// The service answered a request with a reply meant for another kind of request
    /// (a client and service out of step).
    #[error("unexpected reply from the service: {0:?}")]
    Unexpected(Box<Response>),
}

/// Replies awaited, by request id. Shared by the request side (inserts) and the reader
/// task (removes and completes); `None` once the connection is gone.
type Waiters = Arc<Mutex<Option<HashMap<u64, oneshot::Sender<Outcome>>>>>;

/// One side of a local socket connection, sharing it with the other side (`&Stream`
/// reads and writes).
struct Half(Arc<Stream>);

impl AsyncRead for Half {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut &*self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Half {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut &*self.0).poll_write(cx, buf)
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut &*self.0).poll_flush(cx)
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut &*self.0).poll_shutdown(cx)
    }
}

/// The side of a connection that is read.
type Reader = Box<dyn AsyncRead + Send + Unpin>;

/// The side of a connection that is written.
type Writer = Box<dyn AsyncWrite + Send + Unpin>;

/// A connection to `mailroomd`'s control socket.
pub struct Client {
    /// The connection's sending side, held while one whole line is written, so that
    /// concurrent requests do not interleave. (The reader task has the other side.)
    writer: tokio::sync::Mutex<Writer>,
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
        Client::over(Box::new(Half(Arc::clone(&stream))), Box::new(Half(stream)), client_name).await
    }

    /// Speaks the control protocol over `reader` and `writer` (a bridge's standard
    /// output and input, say) and performs the handshake, introducing itself as
    /// `client_name`.
    ///
    /// # Errors
    /// [`ClientError::Closed`] when the other end closes before answering (a bridge
    /// that could not start); [`ClientError::Remote`] when the service refuses the
    /// handshake.
    pub async fn over(mut reader: Reader, mut writer: Writer, client_name: &str) -> Result<Client, ClientError> {
        let hello = ClientHello { hello: Hello { version: PROTOCOL_VERSION, client: client_name.to_owned() } };
        let line = encode_line(&hello).map_err(|e| ClientError::Protocol(e.to_string()))?;
        // A server that refuses us (wrong user, too busy) may answer and close before
        // reading our hello, making this write fail; its answer is still readable.
        let written = match writer.write_all(&line).await {
            Ok(()) => writer.flush().await,
            Err(e) => Err(e),
        };
        let mut lines = LineBuffer::new(MAX_LINE);
        let first = match read_message(&mut reader, &mut lines, &mut [0u8; 4096]).await {
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
        let reader = tokio::spawn(read_loop(reader, lines, Arc::clone(&waiters), events_tx));
        Ok(Client {
            writer: tokio::sync::Mutex::new(writer),
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
            let mut writer = self.writer.lock().await;
            match writer.write_all(&line).await {
                Ok(()) => writer.flush().await,
                Err(e) => Err(e),
            }
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

    /// Subscribes to events, but for log lines. The receiver ends when the connection
    /// closes.
    ///
    /// # Errors
    /// When the request fails, or events were already subscribed on this client.
    pub async fn subscribe(&self) -> Result<mpsc::UnboundedReceiver<Event>, ClientError> {
        self.subscribe_to(false).await
    }

    /// Subscribes to events, log lines ([`Event::Log`]) among them.
    ///
    /// # Errors
    /// As [`Client::subscribe`].
    pub async fn subscribe_with_logs(&self) -> Result<mpsc::UnboundedReceiver<Event>, ClientError> {
        self.subscribe_to(true).await
    }

    async fn subscribe_to(&self, logs: bool) -> Result<mpsc::UnboundedReceiver<Event>, ClientError> {
        let rx = self
            .events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| ClientError::Protocol("already subscribed".into()))?;
        self.request(Request::Subscribe { logs }).await?;
        Ok(rx)
    }
}

/// Reads the next whole message, `None` at end of stream.
async fn read_message(
    reader: &mut Reader,
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
        let n = reader.read(chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        lines.extend(&chunk[..n]);
    }
}

/// Routes replies to their waiters and events to the subscriber until the connection
/// ends; then fails every waiter still pending.
async fn read_loop(mut reader: Reader, mut lines: LineBuffer, waiters: Waiters, events: mpsc::UnboundedSender<Event>) {
    let mut chunk = vec![0u8; 64 * 1024];
    while let Ok(Some(msg)) = read_message(&mut reader, &mut lines, &mut chunk).await {
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
