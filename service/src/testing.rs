//! What the in-memory session tests share: a service context on a temporary store, and
//! an in-memory pipe (tokio's `duplex`) standing in for a TCP connection, so that the
//! SMTP and POP3 state machines are tested verb by verb without a socket, beside the
//! end-to-end suite that drives the real binaries.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mailroom_shared::config::{Config, ConfigDraft};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, ReadHalf, WriteHalf};

use crate::context::ServiceContext;
use crate::disk::Disk;
use crate::limits::{Limits, Slot};
use crate::shutdown::Shutdown;
use crate::store::{NewMailbox, Store};
use crate::tls::Transport;

/// An in-memory connection is never encrypted and cannot become so.
impl Transport for DuplexStream {
    fn is_tls(&self) -> bool {
        false
    }
    fn tls_version(&self) -> Option<&'static str> {
        None
    }
    async fn start_tls(&mut self, _: &tokio_rustls::TlsAcceptor) -> std::io::Result<()> {
        Err(std::io::Error::other("an in-memory pipe cannot do TLS"))
    }
}

/// A service context on a fresh store, with `edit` applied to the default
/// configuration; the temporary directory lives as long as the returned guard.
pub(crate) async fn context(edit: impl FnOnce(&mut ConfigDraft)) -> (tempfile::TempDir, ServiceContext) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("mailroom.db")).expect("store");
    let mut draft = Config::default().to_draft();
    edit(&mut draft);
    let config = Config::from_draft(&draft).expect("a valid configuration");
    let ctx = ServiceContext {
        disk: Arc::new(Disk::new(dir.path(), 0)),
        mailauth: Arc::new(crate::mailauth::MailAuth::new(&config, Arc::default())),
        dns_lists: Arc::new(crate::filtering::dnslists::DnsLists::new(&config)),
        config: Arc::new(config),
        store,
        shutdown: Shutdown::default(),
        tasks: tokio_util::task::TaskTracker::new(),
        events: tokio::sync::broadcast::channel(16).0,
        queue: Arc::default(),
        tls: None,
        throttle: Arc::default(),
        metrics: Arc::default(),
        pop3_locks: Arc::default(),
        srs: Arc::default(),
        imap_lists: Arc::default(),
    };
    (dir, ctx)
}

/// Creates a mailbox with one address and a password.
pub(crate) async fn mailbox(ctx: &ServiceContext, address: &str, password: &str) -> i64 {
    let new = NewMailbox {
        display_name: String::new(),
        addresses: vec![mailroom_shared::address::EmailAddress::parse(address).expect("address")],
        password: password.into(),
    };
    ctx.store.add_mailbox(new).await.expect("mailbox").id
}

/// Connection limits of one and a place in them, for a client on loopback.
pub(crate) fn slot() -> (Limits, Slot) {
    let limits = Limits::new(10, 10, Arc::default());
    let slot = limits.admit(peer().ip()).expect("a place");
    (limits, slot)
}

/// The client's address in these tests.
pub(crate) fn peer() -> SocketAddr {
    "127.0.0.1:40000".parse().expect("address")
}

/// The client's end of an in-memory connection: writes lines, reads replies.
pub(crate) struct Client {
    r: BufReader<ReadHalf<DuplexStream>>,
    w: WriteHalf<DuplexStream>,
}

impl Client {
    /// A connected pair: the client's end, and the server's end for a session.
    pub(crate) fn pair() -> (Client, DuplexStream) {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let (r, w) = tokio::io::split(client);
        (Client { r: BufReader::new(r), w }, server)
    }

    /// Sends raw bytes.
    pub(crate) async fn send(&mut self, bytes: &[u8]) {
        self.w.write_all(bytes).await.expect("write");
    }

    /// One line, without its CRLF; empty when the server closed the connection.
    pub(crate) async fn line(&mut self) -> String {
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(10), self.r.read_line(&mut line))
            .await
            .expect("a reply within 10 s")
            .expect("read");
        line.trim_end_matches(['\r', '\n']).to_owned()
    }

    /// One SMTP reply, its lines joined by `\n`.
    pub(crate) async fn reply(&mut self) -> String {
        let mut all = Vec::new();
        loop {
            let line = self.line().await;
            let last = line.as_bytes().get(3) != Some(&b'-');
            all.push(line);
            if last {
                return all.join("\n");
            }
        }
    }

    /// Sends a command line and returns the SMTP reply.
    pub(crate) async fn cmd(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await
    }

    /// Sends a command and checks the reply starts with `want`.
    pub(crate) async fn expect(&mut self, line: &str, want: &str) -> String {
        let r = self.cmd(line).await;
        assert!(r.starts_with(want), "{line:?} → {r:?}, expected {want:?}");
        r
    }

    /// Sends a POP3 command and returns the first line of its response.
    pub(crate) async fn pop(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.line().await
    }

    /// The lines of a POP3 multi-line response, up to (not with) its final `.`.
    pub(crate) async fn multiline(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let line = self.line().await;
            if line == "." {
                return out;
            }
            out.push(line);
        }
    }
}
