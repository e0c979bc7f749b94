//! The SMTP client: one connection to a next hop, reused for several messages.
//!
//! Replies are parsed by smtp-proto; the I/O around them is ours, because every wait
//! must end. RFC 5321 §4.5.3.2 gives each stage its timeout — the greeting 5 minutes,
//! MAIL and each RCPT 5, DATA 2, each block of the message 3, the reply after the final
//! `.` 10 — and the Delivery page sets them. A next hop that accepts the connection and
//! then says nothing, or stops reading the message, or goes silent after the `.`,
//! costs one attempt and a deferral with the reason in words ("no greeting from
//! mx.example [192.0.2.10] within 5 minutes"), never a delivery stuck in flight.
//!
//! Each recipient gets its own answer (RCPTs pipelined when PIPELINING is offered).
//! EHLO, falling back to HELO; STARTTLS (RFC 3207) when offered, then EHLO again; SIZE
//! and 8BITMIME when offered.
//!
//! TLS follows a [`TlsPolicy`]: *opportunistic* for MX hosts — encrypt whenever the
//! host offers it, accept whatever certificate it shows, and if the handshake fails,
//! deliver in plain text on a fresh connection rather than not at all (RFC 7435) — or
//! *required* for a smart host marked so: no STARTTLS, a failed handshake or a
//! certificate not valid for the host's name defers the mail.

use std::net::SocketAddr;
use std::time::Duration;

use mailroom_shared::config::OutboundTimeouts;
use smtp_proto::response::parser::ResponseReceiver;
use smtp_proto::{EXT_8BIT_MIME, EXT_PIPELINING, EXT_SIZE, EXT_START_TLS, EhloResponse, Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::either::Either;

use super::delivery::{DeliveryError, TlsPolicy};
use crate::tls::Outbound;

/// How long to wait for the TCP connection itself (Postfix's `smtp_connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// The message is written in blocks of this size, each under the data-block timeout.
const BLOCK: usize = 64 * 1024;
/// Longest reply accepted (all its lines together).
const MAX_REPLY: usize = 64 * 1024;

/// What happened to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RcptResult {
    /// Accepted.
    Accepted,
    /// Refused for now.
    Temporary(String),
    /// Refused for good.
    Permanent {
        /// The enhanced status code (RFC 3463).
        status: String,
        /// The reply, in words.
        message: String,
    },
}

/// An outbound connection's stream: plain (left), or upgraded by STARTTLS (right).
pub type OutStream = Either<TcpStream, Box<tokio_rustls::client::TlsStream<TcpStream>>>;

/// The wait a reply or a write belongs to, for timeouts and for saying what failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Greeting,
    Ehlo,
    StartTls,
    Mail,
    Rcpt,
    Data,
    DataBlock,
    FinalDot,
    Rset,
}

impl Stage {
    fn timeout(self, t: &OutboundTimeouts) -> Duration {
        match self {
            Stage::Greeting | Stage::Ehlo | Stage::StartTls => t.greeting,
            Stage::Mail | Stage::Rset => t.mail,
            Stage::Rcpt => t.rcpt,
            Stage::Data => t.data,
            Stage::DataBlock => t.data_block,
            Stage::FinalDot => t.final_dot,
        }
    }

    /// What was awaited, as in "no … from HOST within 5 minutes".
    fn awaited(self) -> &'static str {
        match self {
            Stage::Greeting => "greeting",
            Stage::Ehlo => "reply to EHLO",
            Stage::StartTls => "reply to STARTTLS",
            Stage::Mail => "reply to MAIL FROM",
            Stage::Rcpt => "reply to RCPT TO",
            Stage::Data => "reply to DATA",
            Stage::DataBlock => "progress while sending the message",
            Stage::FinalDot => "reply after the end of the message",
            Stage::Rset => "reply to RSET",
        }
    }
}

/// A duration in the words of an error message: "5 minutes", "30 seconds".
fn words(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        1 => "1 second".into(),
        s if s % 3600 == 0 && s >= 3600 => format!("{} hour{}", s / 3600, if s == 3600 { "" } else { "s" }),
        s if s % 60 == 0 && s >= 60 => format!("{} minute{}", s / 60, if s == 60 { "" } else { "s" }),
        s => format!("{s} seconds"),
    }
}

/// An open, greeted connection.
pub struct Connection {
    stream: OutStream,
    /// Bytes read and not yet taken as a reply.
    input: Vec<u8>,
    /// Host name it was reached by.
    pub remote: String,
    /// The address it was reached at.
    addr: SocketAddr,
    timeouts: OutboundTimeouts,
    /// The TLS version in use; `None` for plain text.
    pub tls: Option<&'static str>,
    /// What the last EHLO offered (smtp-proto's `EXT_*` flags); none after HELO.
    caps: u32,
    /// The SIZE limit offered (RFC 1870), 0 for none.
    max_size: usize,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").field("remote", &self.remote).field("tls", &self.tls).finish_non_exhaustive()
    }
}

fn describe(r: &Response<String>) -> String {
    let esc = r.esc;
    let text = r.message.replace(['\r', '\n'], " ");
    if esc[0] == 0 {
        format!("{} {text}", r.code)
    } else {
        format!("{} {}.{}.{} {text}", r.code, esc[0], esc[1], esc[2])
    }
}

fn status(r: &Response<String>) -> String {
    if r.esc[0] == 0 { format!("{}.0.0", r.code / 100) } else { format!("{}.{}.{}", r.esc[0], r.esc[1], r.esc[2]) }
}

/// A reply as a recipient's result. The text is the reply itself (RFC 3464 §2.3.6
/// wants it as it came in `Diagnostic-Code`); who said it is recorded beside it.
fn classify(r: &Response<String>) -> RcptResult {
    match r.code {
        200..=299 => RcptResult::Accepted,
        500..=599 => RcptResult::Permanent { status: status(r), message: describe(r) },
        _ => RcptResult::Temporary(describe(r)),
    }
}

/// Why one address could not be used.
enum OpenError {
    /// The TLS handshake failed: worth one more try in plain text, when allowed.
    Handshake(String),
    /// Anything else.
    Other(String),
}

impl From<DeliveryError> for OpenError {
    fn from(e: DeliveryError) -> Self {
        OpenError::Other(e.to_string())
    }
}

impl Connection {
    /// Connects to the first address that greets us, in order.
    ///
    /// # Errors
    /// Temporary when none can be reached, greets us, or (under
    /// [`TlsPolicy::Required`]) gives us TLS with a valid certificate.
    pub async fn open(
        addrs: &[(String, SocketAddr)],
        helo: &str,
        timeouts: &OutboundTimeouts,
        tls: &Outbound,
        policy: TlsPolicy,
    ) -> Result<Connection, DeliveryError> {
        let mut last = String::from("no addresses to try");
        for (host, addr) in addrs {
            let failure = match Self::open_one(host, *addr, helo, timeouts, tls, policy).await {
                Ok(c) => return Ok(c),
                Err(OpenError::Handshake(e)) if policy == TlsPolicy::Opportunistic => {
                    tracing::info!(host, error = %e, "TLS handshake failed; delivering without TLS");
                    match Self::open_one(host, *addr, helo, timeouts, tls, TlsPolicy::Off).await {
                        Ok(c) => return Ok(c),
                        Err(OpenError::Handshake(e) | OpenError::Other(e)) => e,
                    }
                }
                Err(OpenError::Handshake(e) | OpenError::Other(e)) => e,
            };
            last = failure;
        }
        Err(DeliveryError::Temporary(last))
    }

    /// The host as messages name it: `mx.example [192.0.2.10]`.
    fn who(&self) -> String {
        if self.remote == self.addr.ip().to_string() {
            format!("[{}]", self.addr.ip())
        } else {
            format!("{} [{}]", self.remote, self.addr.ip())
        }
    }

    async fn open_one(
        host: &str,
        addr: SocketAddr,
        helo: &str,
        timeouts: &OutboundTimeouts,
        tls: &Outbound,
        policy: TlsPolicy,
    ) -> Result<Connection, OpenError> {
        let who = format!("{host} [{}]", addr.ip());
        let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr))
            .await
            .map_err(|_| {
                OpenError::Other(format!("cannot connect to {who}: no answer within {}", words(CONNECT_TIMEOUT)))
            })?
            .map_err(|e| OpenError::Other(format!("cannot connect to {who}: {e}")))?;
        let _ = tcp.set_nodelay(true);
        let mut c = Connection {
            stream: Either::Left(tcp),
            input: Vec::with_capacity(1024),
            remote: host.to_owned(),
            addr,
            timeouts: *timeouts,
            tls: None,
            caps: 0,
            max_size: 0,
        };
        let greeting = c.reply(Stage::Greeting).await?;
        if greeting.code != 220 {
            return Err(OpenError::Other(format!("{} greeted us with {}", c.who(), describe(&greeting))));
        }
        c.greet(helo, true).await?;
        if policy != TlsPolicy::Off {
            if !c.offers(EXT_START_TLS) {
                if policy == TlsPolicy::Required {
                    return Err(OpenError::Other(format!(
                        "{} does not offer STARTTLS, and TLS is required for this host",
                        c.who()
                    )));
                }
            } else {
                c.write(b"STARTTLS\r\n", Stage::StartTls).await?;
                let r = c.reply(Stage::StartTls).await?;
                if r.code == 220 {
                    c = c.handshake(host, tls, policy).await?;
                    c.greet(helo, false).await?;
                } else if policy == TlsPolicy::Required {
                    return Err(OpenError::Other(format!("{} refused STARTTLS: {}", c.who(), describe(&r))));
                }
            }
        }
        Ok(c)
    }

    fn offers(&self, ext: u32) -> bool {
        self.caps & ext != 0
    }

    /// EHLO (falling back to HELO before TLS), keeping what it offers.
    async fn greet(&mut self, helo: &str, allow_helo: bool) -> Result<(), DeliveryError> {
        self.write(format!("EHLO {helo}\r\n").as_bytes(), Stage::Ehlo).await?;
        let block = self.reply_block(Stage::Ehlo).await?;
        match EhloResponse::parse(&mut block.iter()) {
            Ok(ehlo) => {
                self.caps = ehlo.capabilities;
                self.max_size = if ehlo.capabilities & EXT_SIZE != 0 { ehlo.size } else { 0 };
                Ok(())
            }
            Err(_) if allow_helo => {
                self.write(format!("HELO {helo}\r\n").as_bytes(), Stage::Ehlo).await?;
                let r = self.reply(Stage::Ehlo).await?;
                if r.code != 250 {
                    return Err(DeliveryError::Temporary(format!("{} refused HELO: {}", self.who(), describe(&r))));
                }
                self.caps = 0;
                self.max_size = 0;
                Ok(())
            }
            Err(_) => Err(DeliveryError::Temporary(format!(
                "{} refused EHLO after STARTTLS: {}",
                self.who(),
                String::from_utf8_lossy(&block).trim_end()
            ))),
        }
    }

    /// The TLS handshake after `220` to STARTTLS.
    async fn handshake(self, host: &str, tls: &Outbound, policy: TlsPolicy) -> Result<Connection, OpenError> {
        let who = self.who();
        let Connection { stream: Either::Left(tcp), .. } = self else {
            return Err(OpenError::Other(format!("{who} asked for STARTTLS on an encrypted connection")));
        };
        let connector = match policy {
            TlsPolicy::Required => tls.verified.as_ref().ok_or_else(|| {
                OpenError::Other("TLS is required, but the system's trust store could not be loaded".into())
            })?,
            _ => &tls.opportunistic,
        };
        let name = rustls_pki_types::ServerName::try_from(host.to_owned())
            .map_err(|_| OpenError::Other(format!("'{host}' cannot be checked against a certificate")))?;
        let stream = tokio::time::timeout(self.timeouts.greeting, connector.connect(name, tcp))
            .await
            .map_err(|_| OpenError::Handshake(format!("TLS handshake with {who} timed out")))?
            .map_err(|e| OpenError::Handshake(format!("TLS handshake with {who} failed: {e}")))?;
        let version = stream.get_ref().1.protocol_version().map(crate::tls::version_name);
        // Whatever came before the handshake is discarded with the plain stream.
        Ok(Connection { stream: Either::Right(Box::new(stream)), input: Vec::new(), tls: version, caps: 0, ..self })
    }

    /// Writes `bytes` within the stage's timeout.
    async fn write(&mut self, bytes: &[u8], stage: Stage) -> Result<(), DeliveryError> {
        let limit = stage.timeout(&self.timeouts);
        let written = tokio::time::timeout(limit, async {
            self.stream.write_all(bytes).await?;
            self.stream.flush().await
        })
        .await;
        match written {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(DeliveryError::Temporary(format!(
                "connection to {} lost while waiting for its {}: {e}",
                self.who(),
                stage.awaited()
            ))),
            Err(_) if stage == Stage::DataBlock => Err(DeliveryError::Temporary(format!(
                "{} stopped reading the message: no progress within {}",
                self.who(),
                words(limit)
            ))),
            Err(_) => Err(DeliveryError::Temporary(format!(
                "{} did not read our command within {}",
                self.who(),
                words(limit)
            ))),
        }
    }

    /// One whole reply's bytes (every line of a multi-line reply), within the stage's
    /// timeout.
    async fn reply_block(&mut self, stage: Stage) -> Result<Vec<u8>, DeliveryError> {
        let limit = stage.timeout(&self.timeouts);
        let deadline = tokio::time::Instant::now() + limit;
        let mut scanned = 0;
        loop {
            // A reply ends with a line whose fourth byte is not '-'.
            while let Some(end) = memchr::memchr(b'\n', &self.input[scanned..]).map(|p| scanned + p + 1) {
                let line_start = self.input[..end - 1].iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
                scanned = end;
                if self.input.get(line_start + 3) != Some(&b'-') {
                    return Ok(self.input.drain(..end).collect());
                }
            }
            if self.input.len() > MAX_REPLY {
                return Err(DeliveryError::Temporary(format!(
                    "{} sent a reply longer than {MAX_REPLY} bytes",
                    self.who()
                )));
            }
            let mut chunk = [0u8; 4096];
            let read = tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await;
            match read {
                Ok(Ok(0)) => {
                    return Err(DeliveryError::Temporary(format!(
                        "{} closed the connection instead of sending its {}",
                        self.who(),
                        stage.awaited()
                    )));
                }
                Ok(Ok(n)) => self.input.extend_from_slice(&chunk[..n]),
                Ok(Err(e)) => {
                    return Err(DeliveryError::Temporary(format!(
                        "connection to {} lost while waiting for its {}: {e}",
                        self.who(),
                        stage.awaited()
                    )));
                }
                Err(_) => {
                    return Err(DeliveryError::Temporary(format!(
                        "no {} from {} within {}",
                        stage.awaited(),
                        self.who(),
                        words(limit)
                    )));
                }
            }
        }
    }

    /// One reply, parsed.
    async fn reply(&mut self, stage: Stage) -> Result<Response<String>, DeliveryError> {
        let block = self.reply_block(stage).await?;
        ResponseReceiver::default().parse(&mut block.iter()).map_err(|_| {
            let shown: String = String::from_utf8_lossy(&block).chars().take(80).collect();
            DeliveryError::Temporary(format!("{} sent something that is not an SMTP reply: {:?}", self.who(), shown))
        })
    }

    /// Sends one message to `rcpts`; one result per recipient, in order.
    ///
    /// # Errors
    /// When the connection fails or times out mid-transaction: it must not be reused,
    /// and every recipient is deferred.
    pub async fn send(
        &mut self,
        sender: &str,
        rcpts: &[String],
        content: &[u8],
        body_8bit: bool,
    ) -> Result<Vec<RcptResult>, DeliveryError> {
        if self.max_size > 0 && content.len() > self.max_size {
            let why =
                format!("{} accepts at most {} bytes; the message has {}", self.who(), self.max_size, content.len());
            return Ok(vec![RcptResult::Permanent { status: "5.3.4".into(), message: why }; rcpts.len()]);
        }
        let mut mail = format!("MAIL FROM:<{sender}>");
        if self.offers(EXT_SIZE) {
            mail.push_str(&format!(" SIZE={}", content.len()));
        }
        if body_8bit && self.offers(EXT_8BIT_MIME) {
            mail.push_str(" BODY=8BITMIME");
        }
        mail.push_str("\r\n");
        self.write(mail.as_bytes(), Stage::Mail).await?;
        let refused = classify(&self.reply(Stage::Mail).await?);
        if refused != RcptResult::Accepted {
            self.rset().await?;
            return Ok(vec![refused; rcpts.len()]);
        }
        let mut results = Vec::with_capacity(rcpts.len());
        if self.offers(EXT_PIPELINING) {
            let lines: String = rcpts.iter().map(|a| format!("RCPT TO:<{a}>\r\n")).collect();
            self.write(lines.as_bytes(), Stage::Rcpt).await?;
            for _ in rcpts {
                results.push(classify(&self.reply(Stage::Rcpt).await?));
            }
        } else {
            for a in rcpts {
                self.write(format!("RCPT TO:<{a}>\r\n").as_bytes(), Stage::Rcpt).await?;
                results.push(classify(&self.reply(Stage::Rcpt).await?));
            }
        }
        if !results.contains(&RcptResult::Accepted) {
            self.rset().await?;
            return Ok(results);
        }
        self.write(b"DATA\r\n", Stage::Data).await?;
        let r = self.reply(Stage::Data).await?;
        let data_result = if r.code == 354 {
            // Dot-stuffed in one buffer, written a block at a time; the content already
            // ends with CRLF, so only ".\r\n" follows.
            let mut payload = Vec::with_capacity(content.len() + 64);
            crate::message::dot_stuff(content, &mut payload);
            payload.extend_from_slice(b".\r\n");
            for block in payload.chunks(BLOCK) {
                self.write(block, Stage::DataBlock).await?;
            }
            classify(&self.reply(Stage::FinalDot).await?)
        } else {
            classify(&r)
        };
        for res in &mut results {
            if *res == RcptResult::Accepted {
                *res = data_result.clone();
            }
        }
        Ok(results)
    }

    /// RSET after a refused transaction, so the connection can be reused.
    async fn rset(&mut self) -> Result<(), DeliveryError> {
        self.write(b"RSET\r\n", Stage::Rset).await?;
        self.reply(Stage::Rset).await.map(drop)
    }

    /// Says goodbye (without waiting long for the answer).
    pub async fn quit(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            self.stream.write_all(b"QUIT\r\n").await?;
            self.stream.flush().await?;
            let mut buf = [0u8; 512];
            self.stream.read(&mut buf).await
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_words() {
        assert_eq!(words(Duration::from_secs(300)), "5 minutes");
        assert_eq!(words(Duration::from_secs(60)), "1 minute");
        assert_eq!(words(Duration::from_secs(90)), "90 seconds");
        assert_eq!(words(Duration::from_secs(1)), "1 second");
        assert_eq!(words(Duration::from_secs(7200)), "2 hours");
    }
}
