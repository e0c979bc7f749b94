//! Moving a user's mail from the old server over POP3 — what Exchange's Migration
//! Wizard did — for `mailroomctl mailbox import --pop3`. It runs in the client: it
//! logs in to the old server (plain, or TLS checked against the system's trust store),
//! lists the messages by UIDL, asks the service which it has imported before, and sends
//! it the rest as they come (RETR, dot-unstuffed, byte for byte). Nothing is deleted at
//! the old server, so the migration can be run again, and adds only what is new.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncRead, AsyncWrite, AsyncWriteExt as _, BufReader};
use tokio_rustls::TlsConnector;

use crate::Client;
use crate::transfer::{ImportSummary, SourceMessage, TransferError, known_keys, send_message};

/// How long the old server gets for each reply.
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

/// Where to fetch from.
#[derive(Debug, Clone)]
pub struct Pop3Source {
    /// `host:port`.
    pub server: String,
    /// The login.
    pub user: String,
    /// Its password.
    pub password: String,
    /// Implicit TLS (port 995), with the certificate checked.
    pub tls: bool,
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A POP3 conversation with the old server.
struct Conversation {
    io: BufReader<Box<dyn Io>>,
}

fn failed(what: impl std::fmt::Display) -> TransferError {
    TransferError::Other(what.to_string())
}

impl Conversation {
    async fn open(source: &Pop3Source) -> Result<Conversation, TransferError> {
        let host = source.server.rsplit_once(':').map_or(source.server.as_str(), |(h, _)| h);
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let tcp = tokio::time::timeout(REPLY_TIMEOUT, tokio::net::TcpStream::connect(&source.server))
            .await
            .map_err(|_| failed(format!("{}: no connection within a minute", source.server)))?
            .map_err(|e| failed(format!("cannot connect to {}: {e}", source.server)))?;
        let io: Box<dyn Io> = if source.tls {
            let connector = verifying_connector()
                .map_err(|_| failed("the system's trust store cannot be loaded, so TLS cannot be checked"))?;
            let name = rustls_pki_types::ServerName::try_from(host.clone())
                .map_err(|e| failed(format!("{host} is not a name TLS can check: {e}")))?;
            let tls = tokio::time::timeout(REPLY_TIMEOUT, connector.connect(name, tcp))
                .await
                .map_err(|_| failed("the TLS handshake timed out"))?
                .map_err(|e| failed(format!("TLS with {} failed: {e}", source.server)))?;
            Box::new(tls)
        } else {
            Box::new(tcp)
        };
        let mut c = Conversation { io: BufReader::new(io) };
        c.reply("the greeting").await?;
        Ok(c)
    }

    async fn line(&mut self) -> Result<Vec<u8>, TransferError> {
        let mut line = Vec::new();
        let n = tokio::time::timeout(REPLY_TIMEOUT, self.io.read_until(b'\n', &mut line))
            .await
            .map_err(|_| failed("the old server stopped answering"))?
            .map_err(|e| failed(format!("reading from the old server: {e}")))?;
        if n == 0 {
            return Err(failed("the old server closed the connection"));
        }
        Ok(line)
    }

    /// A `+OK` reply's text, or the `-ERR` as an error naming `what`.
    async fn reply(&mut self, what: &str) -> Result<String, TransferError> {
        let line = self.line().await?;
        let text = String::from_utf8_lossy(&line).trim_end().to_owned();
        match text.strip_prefix("+OK") {
            Some(rest) => Ok(rest.trim().to_owned()),
            None => Err(failed(format!("the old server refused {what}: {text}"))),
        }
    }

    async fn command(&mut self, line: &str, what: &str) -> Result<String, TransferError> {
        self.io
            .get_mut()
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .map_err(|e| failed(format!("writing to the old server: {e}")))?;
        self.reply(what).await
    }

    /// The lines of a multi-line answer, dot-unstuffed, with their line ends.
    async fn lines(&mut self) -> Result<Vec<u8>, TransferError> {
        let mut out = Vec::new();
        loop {
            let line = self.line().await?;
            if line == b".\r\n" || line == b".\n" {
                return Ok(out);
            }
            out.extend_from_slice(line.strip_prefix(b".").unwrap_or(&line));
        }
    }
}

/// A TLS connector that checks the old server's certificate against the system's trust
/// store and its name, as a mail program would.
fn verifying_connector() -> Result<TlsConnector, rustls::Error> {
    use rustls_platform_verifier::BuilderVerifierExt as _;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_platform_verifier()?
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// Copies the mail of `source` into the mailbox `address`; `progress` hears (done,
/// total) after each message.
///
/// # Errors
/// The old server's refusal (login, a message), the service's refusal.
pub async fn from_pop3(
    client: &Client,
    address: &str,
    source: &Pop3Source,
    mut progress: impl FnMut(u64, u64),
) -> Result<ImportSummary, TransferError> {
    let mut pop = Conversation::open(source).await?;
    pop.command(&format!("USER {}", source.user), "the user name").await?;
    pop.command(&format!("PASS {}", source.password), "the password").await?;
    pop.command("UIDL", "UIDL").await?;
    let listing = pop.lines().await?;
    let mut messages: Vec<(String, String)> = Vec::new();
    for line in String::from_utf8_lossy(&listing).lines() {
        if let Some((n, uidl)) = line.trim().split_once(' ') {
            messages.push((n.to_owned(), format!("pop3:{}@{}:{}", source.user, source.server, uidl.trim())));
        }
    }
    let keys: Vec<String> = messages.iter().map(|(_, k)| k.clone()).collect();
    let known = known_keys(client, address, &keys).await?;
    let total = messages.len() as u64;
    let mut summary = ImportSummary::default();
    for (i, (n, key)) in messages.into_iter().enumerate() {
        if known.contains(&key) {
            summary.skipped += 1;
        } else {
            pop.command(&format!("RETR {n}"), &format!("message {n}")).await?;
            let content = pop.lines().await?;
            let message = SourceMessage { key, folder: "INBOX".into(), flags: Vec::new(), received_at: None, content };
            if send_message(client, address, &message).await? {
                summary.stored += 1;
            } else {
                summary.skipped += 1;
            }
        }
        progress(i as u64 + 1, total);
    }
    let _ = pop.command("QUIT", "QUIT").await;
    Ok(summary)
}
