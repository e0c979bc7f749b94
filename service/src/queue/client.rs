//! The SMTP client: one connection to a next hop, reused for several messages.
//!
//! Built on mail-send's low-level `SmtpClient`, so that each recipient gets its own
//! answer (lettre stops at the first refused recipient). EHLO, falling back to HELO;
//! STARTTLS (RFC 3207) when offered, then EHLO again; SIZE and 8BITMIME when offered;
//! RCPTs pipelined when PIPELINING is offered.
//!
//! TLS follows a [`TlsPolicy`]: *opportunistic* for MX hosts — encrypt whenever the
//! host offers it, accept whatever certificate it shows, and if the handshake fails,
//! deliver in plain text on a fresh connection rather than not at all (RFC 7435) — or
//! *required* for a smart host marked so: no STARTTLS, a failed handshake or a
//! certificate not valid for the host's name defers the mail.

use std::net::SocketAddr;
use std::time::Duration;

use mail_send::SmtpClient;
use smtp_proto::{EXT_8BIT_MIME, EXT_PIPELINING, EXT_SIZE, EXT_START_TLS, Response};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_util::either::Either;

use super::route::DeliveryError;
use crate::tls::Outbound;

/// What happened to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RcptResult {
    /// Accepted.
    Accepted,
    /// Refused for now.
    Temporary(String),
    /// Refused for good: enhanced status and the reply.
    Permanent(String, String),
}

/// How a connection uses STARTTLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsPolicy {
    /// When offered, without checking the certificate; plain text otherwise.
    Opportunistic,
    /// Always, with a certificate valid for the host's name.
    Required,
    /// Never: the fallback after a failed opportunistic handshake.
    Off,
}

/// An outbound connection's stream: plain (left), or upgraded by STARTTLS (right).
pub type OutStream = Either<TcpStream, Box<tokio_rustls::client::TlsStream<TcpStream>>>;

/// An open, greeted connection.
pub struct Connection {
    client: SmtpClient<OutStream>,
    /// Host name it was reached by.
    pub remote: String,
    /// The TLS version in use; `None` for plain text.
    pub tls: Option<&'static str>,
    pipelining: bool,
    eight_bit: bool,
    /// SIZE is offered (RFC 1870).
    size_ext: bool,
    /// Its limit, 0 for none.
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

fn classify(r: &Response<String>, remote: &str) -> RcptResult {
    match r.code {
        200..=299 => RcptResult::Accepted,
        500..=599 => RcptResult::Permanent(status(r), format!("{remote} said: {}", describe(r))),
        _ => RcptResult::Temporary(format!("{remote} said: {}", describe(r))),
    }
}

/// Why one address could not be used.
enum OpenError {
    /// The TLS handshake failed: worth one more try in plain text, when allowed.
    Handshake(String),
    /// Anything else.
    Other(String),
}

impl From<mail_send::Error> for OpenError {
    fn from(e: mail_send::Error) -> Self {
        OpenError::Other(e.to_string())
    }
}

/// What EHLO (or HELO) told us: the extensions and the SIZE limit.
async fn greet(client: &mut SmtpClient<OutStream>, helo: &str, allow_helo: bool) -> Result<(u32, usize), OpenError> {
    match client.ehlo(helo).await {
        Ok(ehlo) => Ok((ehlo.capabilities(), ehlo.size)),
        Err(e) if !allow_helo => Err(OpenError::Other(format!("EHLO after STARTTLS failed: {e}"))),
        Err(_) => {
            let r = client.cmd(format!("HELO {helo}\r\n")).await?;
            if r.code != 250 {
                return Err(OpenError::Other(format!("HELO refused: {}", describe(&r))));
            }
            Ok((0, 0))
        }
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
        timeout: Duration,
        tls: &Outbound,
        policy: TlsPolicy,
    ) -> Result<Connection, DeliveryError> {
        let mut last = String::from("no addresses to try");
        for (host, addr) in addrs {
            let failure = match Self::open_one(host, *addr, helo, timeout, tls, policy).await {
                Ok(c) => return Ok(c),
                Err(OpenError::Handshake(e)) if policy == TlsPolicy::Opportunistic => {
                    tracing::info!(host, error = %e, "TLS handshake failed; delivering without TLS");
                    match Self::open_one(host, *addr, helo, timeout, tls, TlsPolicy::Off).await {
                        Ok(c) => return Ok(c),
                        Err(OpenError::Handshake(e) | OpenError::Other(e)) => e,
                    }
                }
                Err(OpenError::Handshake(e) | OpenError::Other(e)) => e,
            };
            last = format!("{host} [{}]: {failure}", addr.ip());
        }
        Err(DeliveryError::Temporary(last))
    }

    async fn open_one(
        host: &str,
        addr: SocketAddr,
        helo: &str,
        timeout: Duration,
        tls: &Outbound,
        policy: TlsPolicy,
    ) -> Result<Connection, OpenError> {
        let tcp = tokio::time::timeout(timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| OpenError::Other("connection timed out".into()))?
            .map_err(|e| OpenError::Other(e.to_string()))?;
        let _ = tcp.set_nodelay(true);
        let mut client = SmtpClient { stream: Either::Left(tcp), timeout };
        let greeting = client.read().await?;
        if greeting.code != 220 {
            return Err(OpenError::Other(format!("greeting {}", describe(&greeting))));
        }
        let (mut caps, mut max_size) = greet(&mut client, helo, true).await?;
        let mut version = None;
        if policy != TlsPolicy::Off {
            if caps & EXT_START_TLS == 0 {
                if policy == TlsPolicy::Required {
                    return Err(OpenError::Other("does not offer STARTTLS, and TLS is required for this host".into()));
                }
            } else {
                let r = client.cmd(b"STARTTLS\r\n").await?;
                if r.code == 220 {
                    client = Self::handshake(client, host, tls, policy).await?;
                    version = match &client.stream {
                        Either::Right(s) => s.get_ref().1.protocol_version().map(crate::tls::version_name),
                        Either::Left(_) => None,
                    };
                    (caps, max_size) = greet(&mut client, helo, false).await?;
                } else if policy == TlsPolicy::Required {
                    return Err(OpenError::Other(format!("refused STARTTLS: {}", describe(&r))));
                }
            }
        }
        Ok(Connection {
            client,
            remote: host.to_owned(),
            tls: version,
            pipelining: caps & EXT_PIPELINING != 0,
            eight_bit: caps & EXT_8BIT_MIME != 0,
            size_ext: caps & EXT_SIZE != 0,
            max_size: if caps & EXT_SIZE != 0 { max_size } else { 0 },
        })
    }

    /// The TLS handshake after `220` to STARTTLS.
    async fn handshake(
        client: SmtpClient<OutStream>,
        host: &str,
        tls: &Outbound,
        policy: TlsPolicy,
    ) -> Result<SmtpClient<OutStream>, OpenError> {
        let SmtpClient { stream: Either::Left(tcp), timeout } = client else {
            return Err(OpenError::Other("STARTTLS on an encrypted connection".into()));
        };
        let connector = match policy {
            TlsPolicy::Required => tls.verified.as_ref().ok_or_else(|| {
                OpenError::Other("TLS is required, but the system's trust store could not be loaded".into())
            })?,
            _ => &tls.opportunistic,
        };
        let name = rustls_pki_types::ServerName::try_from(host.to_owned())
            .map_err(|_| OpenError::Other(format!("'{host}' cannot be checked against a certificate")))?;
        let stream = tokio::time::timeout(timeout, connector.connect(name, tcp))
            .await
            .map_err(|_| OpenError::Handshake("TLS handshake timed out".into()))?
            .map_err(|e| OpenError::Handshake(format!("TLS handshake failed: {e}")))?;
        Ok(SmtpClient { stream: Either::Right(Box::new(stream)), timeout })
    }

    /// Sends one message to `rcpts`; one result per recipient, in order.
    ///
    /// # Errors
    /// When the connection fails mid-transaction: it must not be reused, and every
    /// recipient is deferred.
    pub async fn send(
        &mut self,
        sender: &str,
        rcpts: &[String],
        content: &[u8],
        body_8bit: bool,
    ) -> Result<Vec<RcptResult>, DeliveryError> {
        let remote = self.remote.clone();
        let io = |e: mail_send::Error| DeliveryError::Temporary(format!("connection to {remote} failed: {e}"));
        if self.max_size > 0 && content.len() > self.max_size {
            let why =
                format!("{} accepts at most {} bytes; the message has {}", self.remote, self.max_size, content.len());
            return Ok(vec![RcptResult::Permanent("5.3.4".into(), why); rcpts.len()]);
        }
        let mut mail = format!("MAIL FROM:<{sender}>");
        if self.size_ext {
            mail.push_str(&format!(" SIZE={}", content.len()));
        }
        if body_8bit && self.eight_bit {
            mail.push_str(" BODY=8BITMIME");
        }
        mail.push_str("\r\n");
        let r = self.client.cmd(mail.as_bytes()).await.map_err(io)?;
        let refused = classify(&r, &self.remote);
        if refused != RcptResult::Accepted {
            let _ = self.client.cmd(b"RSET\r\n").await;
            return Ok(vec![refused; rcpts.len()]);
        }
        let lines: Vec<String> = rcpts.iter().map(|a| format!("RCPT TO:<{a}>\r\n")).collect();
        let replies = if self.pipelining {
            self.client.cmds(lines.iter()).await.map_err(io)?
        } else {
            let mut v = Vec::with_capacity(lines.len());
            for l in &lines {
                v.push(self.client.cmd(l.as_bytes()).await.map_err(io)?);
            }
            v
        };
        let mut results: Vec<RcptResult> = replies.iter().map(|r| classify(r, &self.remote)).collect();
        if !results.contains(&RcptResult::Accepted) {
            let _ = self.client.cmd(b"RSET\r\n").await;
            return Ok(results);
        }
        let r = self.client.cmd(b"DATA\r\n").await.map_err(io)?;
        let data_result = if r.code == 354 {
            // Dot-stuffed in one buffer and written at once; the content already ends
            // with CRLF, so only ".\r\n" follows (mail-send's writer would add a
            // blank line).
            let mut payload = Vec::with_capacity(content.len() + 64);
            crate::message::dot_stuff(content, &mut payload);
            payload.extend_from_slice(b".\r\n");
            let written = tokio::time::timeout(self.client.timeout, async {
                self.client.stream.write_all(&payload).await?;
                self.client.stream.flush().await
            })
            .await;
            match written {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    return Err(DeliveryError::Temporary(format!("connection to {} failed: {e}", self.remote)));
                }
                Err(_) => return Err(DeliveryError::Temporary(format!("timeout sending to {}", self.remote))),
            }
            let r = self.client.read().await.map_err(io)?;
            classify(&r, &self.remote)
        } else {
            classify(&r, &self.remote)
        };
        for res in &mut results {
            if *res == RcptResult::Accepted {
                *res = data_result.clone();
            }
        }
        Ok(results)
    }

    /// Says goodbye.
    pub async fn quit(self) {
        let _ = self.client.quit().await;
    }
}
