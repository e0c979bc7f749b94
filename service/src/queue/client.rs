//! The SMTP client: one connection to a next hop, reused for several messages.
//!
//! Built on mail-send's low-level `SmtpClient`, so that each recipient gets its own
//! answer (lettre stops at the first refused recipient). EHLO, falling back to HELO;
//! SIZE and 8BITMIME when offered; RCPTs pipelined when PIPELINING is offered.

use std::net::SocketAddr;
use std::time::Duration;

use mail_send::SmtpClient;
use smtp_proto::{EXT_8BIT_MIME, EXT_PIPELINING, EXT_SIZE, Response};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::route::DeliveryError;

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

/// An open, greeted connection.
pub struct Connection {
    client: SmtpClient<TcpStream>,
    /// Host name it was reached by.
    pub remote: String,
    pipelining: bool,
    eight_bit: bool,
    /// SIZE is offered (RFC 1870).
    size_ext: bool,
    /// Its limit, 0 for none.
    max_size: usize,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").field("remote", &self.remote).finish_non_exhaustive()
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

impl Connection {
    /// Connects to the first address that greets us, in order.
    ///
    /// # Errors
    /// Temporary when none can be reached or greets us.
    pub async fn open(
        addrs: &[(String, SocketAddr)],
        helo: &str,
        timeout: Duration,
    ) -> Result<Connection, DeliveryError> {
        let mut last = String::from("no addresses to try");
        for (host, addr) in addrs {
            match Self::open_one(host, *addr, helo, timeout).await {
                Ok(c) => return Ok(c),
                Err(e) => last = format!("{host} [{}]: {e}", addr.ip()),
            }
        }
        Err(DeliveryError::Temporary(last))
    }

    async fn open_one(host: &str, addr: SocketAddr, helo: &str, timeout: Duration) -> Result<Connection, String> {
        let mut client = SmtpClient::connect(addr, timeout).await.map_err(|e| e.to_string())?;
        let greeting = client.read().await.map_err(|e| e.to_string())?;
        if greeting.code != 220 {
            return Err(format!("greeting {}", describe(&greeting)));
        }
        let (caps, max_size) = match client.ehlo(helo).await {
            Ok(ehlo) => (ehlo.capabilities(), ehlo.size),
            Err(_) => {
                let r = client.cmd(format!("HELO {helo}\r\n")).await.map_err(|e| e.to_string())?;
                if r.code != 250 {
                    return Err(format!("HELO refused: {}", describe(&r)));
                }
                (0, 0)
            }
        };
        Ok(Connection {
            client,
            remote: host.to_owned(),
            pipelining: caps & EXT_PIPELINING != 0,
            eight_bit: caps & EXT_8BIT_MIME != 0,
            size_ext: caps & EXT_SIZE != 0,
            max_size: if caps & EXT_SIZE != 0 { max_size } else { 0 },
        })
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
            crate::pop3::dot_stuff(content, &mut payload);
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
