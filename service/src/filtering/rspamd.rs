//! The content filter: rspamd, a separately running scanner many mail servers use,
//! asked over its HTTP protocol (`POST /checkv2`, the message as the body, the
//! envelope in request headers; <https://rspamd.com/doc/developers/protocol.html>).
//!
//! One connection per scan, HTTP/1.1 by hyper, the whole exchange under the page's
//! timeout: a scan that cannot finish in time is given up, and the caller accepts
//! the message unscanned — a dead filter may let spam through, never lose or block
//! mail.

use std::net::IpAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use mailroom_shared::config::HttpEndpoint;
use serde::Deserialize;

/// Longest answer read from rspamd (its JSON with every symbol is a few KiB).
const MAX_ANSWER: usize = 1024 * 1024;

/// rspamd's verdict, its `action` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Not spam.
    Clean,
    /// Probably spam: deliver with a header saying so.
    AddHeader,
    /// Probably spam: deliver with the subject marked.
    RewriteSubject,
    /// Try again later (rspamd's own greylisting).
    Greylist,
    /// Refuse for now.
    SoftReject,
    /// Spam: refuse.
    Reject,
}

impl Action {
    fn parse(s: &str) -> Option<Action> {
        Some(match s {
            "no action" => Action::Clean,
            "add header" => Action::AddHeader,
            "rewrite subject" => Action::RewriteSubject,
            "greylist" => Action::Greylist,
            "soft reject" => Action::SoftReject,
            "reject" => Action::Reject,
            _ => return None,
        })
    }

    /// As rspamd names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Clean => "no action",
            Action::AddHeader => "add header",
            Action::RewriteSubject => "rewrite subject",
            Action::Greylist => "greylist",
            Action::SoftReject => "soft reject",
            Action::Reject => "reject",
        }
    }
}

/// A scan's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Scan {
    /// What rspamd advises.
    pub action: Action,
    /// The message's score.
    pub score: f64,
    /// The score at which rspamd rejects.
    pub required: f64,
    /// The symbols that matched, highest score first.
    pub symbols: Vec<(String, f64)>,
    /// rspamd's own reply text for the sender (`Gtube pattern`), if any.
    pub smtp_message: Option<String>,
}

impl Scan {
    /// The symbols in a few words, for `X-Spam-Symbols` and tracking.
    pub fn symbols_text(&self, most: usize) -> String {
        let mut out: Vec<String> =
            self.symbols.iter().take(most).map(|(name, score)| format!("{name}({score:.2})")).collect();
        if self.symbols.len() > most {
            out.push(format!("+{} more", self.symbols.len() - most));
        }
        out.join(" ")
    }
}

/// Why a scan did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// rspamd could not be reached.
    #[error("rspamd at {0} cannot be reached: {1}")]
    Unreachable(String, String),
    /// rspamd did not answer in time.
    #[error("rspamd did not answer within {0} s")]
    Timeout(u64),
    /// rspamd answered something that is not a verdict.
    #[error("rspamd gave no verdict: {0}")]
    BadAnswer(String),
}

/// The envelope, as rspamd's request headers carry it.
#[derive(Debug, Clone, Default)]
pub struct Envelope {
    /// The client's address.
    pub ip: Option<IpAddr>,
    /// Its HELO name.
    pub helo: String,
    /// Its verified reverse DNS name, if any (rspamd's `Hostname`; without one it
    /// scores the client as having no reverse DNS).
    pub hostname: Option<String>,
    /// Envelope sender.
    pub from: String,
    /// Envelope recipients.
    pub rcpts: Vec<String>,
    /// Our queue id, for rspamd's log.
    pub queue_id: String,
}

#[derive(Deserialize)]
struct Answer {
    action: String,
    #[serde(default)]
    score: f64,
    #[serde(default)]
    required_score: f64,
    #[serde(default)]
    symbols: std::collections::HashMap<String, Symbol>,
    #[serde(default)]
    messages: std::collections::HashMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct Symbol {
    #[serde(default)]
    score: f64,
}

/// A header value without anything that would break the header section.
fn clean(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(998).collect()
}

/// Scans `message` with rspamd at `at`, within `timeout`.
///
/// # Errors
/// When rspamd cannot be reached, is too slow, or answers no verdict.
pub async fn scan(at: &HttpEndpoint, timeout: Duration, env: &Envelope, message: Vec<u8>) -> Result<Scan, ScanError> {
    let mut request = Request::post("/checkv2").header("Host", format!("{}:{}", at.host, at.port));
    if let Some(ip) = env.ip {
        request = request.header("IP", ip.to_string());
    }
    if !env.helo.is_empty() {
        request = request.header("Helo", clean(&env.helo));
    }
    request = request.header("Hostname", env.hostname.as_deref().map_or_else(|| "unknown".to_owned(), clean));
    request = request.header("From", clean(&env.from));
    for r in &env.rcpts {
        request = request.header("Rcpt", clean(r));
    }
    if !env.queue_id.is_empty() {
        request = request.header("Queue-Id", clean(&env.queue_id));
    }
    let request = request
        .header("Content-Length", message.len())
        .body(Full::new(Bytes::from(message)))
        .map_err(|e| ScanError::BadAnswer(format!("cannot make the request: {e}")))?;
    let (status, body) = exchange(at, timeout, request).await?;
    if !status.is_success() {
        return Err(ScanError::BadAnswer(format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(&body).chars().take(200).collect::<String>()
        )));
    }
    let answer: Answer =
        serde_json::from_slice(&body).map_err(|e| ScanError::BadAnswer(format!("unreadable JSON: {e}")))?;
    let action = Action::parse(&answer.action)
        .ok_or_else(|| ScanError::BadAnswer(format!("unknown action '{}'", answer.action)))?;
    let mut symbols: Vec<(String, f64)> = answer.symbols.into_iter().map(|(k, v)| (k, v.score)).collect();
    symbols.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let smtp_message = answer.messages.get("smtp_message").and_then(|v| v.as_str()).map(clean);
    Ok(Scan { action, score: answer.score, required: answer.required_score, symbols, smtp_message })
}

/// Asks rspamd at `at` whether it is there (`GET /ping`, answered `pong`).
///
/// # Errors
/// What went wrong, in words.
pub async fn ping(at: &HttpEndpoint, timeout: Duration) -> Result<(), ScanError> {
    let request = Request::get("/ping")
        .header("Host", format!("{}:{}", at.host, at.port))
        .body(Full::new(Bytes::new()))
        .map_err(|e| ScanError::BadAnswer(e.to_string()))?;
    let (status, body) = exchange(at, timeout, request).await?;
    if status.is_success() && body.trim_ascii().starts_with(b"pong") {
        Ok(())
    } else {
        Err(ScanError::BadAnswer(format!(
            "HTTP {status}: '{}' (is this rspamd's normal worker?)",
            String::from_utf8_lossy(&body).trim().chars().take(80).collect::<String>()
        )))
    }
}

/// One request on a new connection, the whole exchange within `timeout`.
async fn exchange(
    at: &HttpEndpoint,
    timeout: Duration,
    request: Request<Full<Bytes>>,
) -> Result<(hyper::StatusCode, Vec<u8>), ScanError> {
    let host = at.host.trim_start_matches('[').trim_end_matches(']').to_owned();
    let work = async {
        let stream = tokio::net::TcpStream::connect((host.as_str(), at.port))
            .await
            .map_err(|e| ScanError::Unreachable(at.to_string(), e.to_string()))?;
        let _ = stream.set_nodelay(true);
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| ScanError::Unreachable(at.to_string(), e.to_string()))?;
        let driver = tokio::spawn(connection);
        let response = sender.send_request(request).await.map_err(|e| ScanError::BadAnswer(format!("HTTP: {e}")))?;
        let status = response.status();
        let body = http_body_util::Limited::new(response.into_body(), MAX_ANSWER)
            .collect()
            .await
            .map_err(|e| ScanError::BadAnswer(format!("reading the answer: {e}")))?
            .to_bytes()
            .to_vec();
        driver.abort();
        Ok((status, body))
    };
    tokio::time::timeout(timeout, work).await.map_err(|_| ScanError::Timeout(timeout.as_secs()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-shot HTTP server answering `body` with `status`; returns its endpoint and
    /// the request it got.
    async fn server(status: &'static str, body: &'static str) -> (HttpEndpoint, tokio::task::JoinHandle<String>) {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let task = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.expect("accept");
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = s.read(&mut buf).await.expect("read");
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got);
                if let Some((head, rest)) = text.split_once("\r\n\r\n") {
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length: ").or_else(|| l.strip_prefix("Content-Length: ")))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if rest.len() >= len {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            let answer =
                format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            s.write_all(answer.as_bytes()).await.expect("write");
            String::from_utf8_lossy(&got).into_owned()
        });
        (HttpEndpoint { host: "127.0.0.1".into(), port }, task)
    }

    #[tokio::test]
    async fn a_verdict_is_read_and_the_envelope_sent() {
        let (at, request) = server(
            "200 OK",
            r#"{"action":"add header","score":7.5,"required_score":15,"symbols":{"A":{"score":1.0},"B":{"score":6.5}},"messages":{}}"#,
        )
        .await;
        let env = Envelope {
            ip: Some("203.0.113.9".parse().expect("ip")),
            helo: "mx.outside.test".into(),
            hostname: None,
            from: "a@outside.test".into(),
            rcpts: vec!["b@corp.test".into(), "c@corp.test".into()],
            queue_id: "Q1".into(),
        };
        let scan = scan(&at, Duration::from_secs(5), &env, b"Subject: x\r\n\r\nhi\r\n".to_vec()).await.expect("scan");
        assert_eq!(scan.action, Action::AddHeader);
        assert_eq!(scan.symbols_text(1), "B(6.50) +1 more");
        let request = request.await.expect("request").to_ascii_lowercase();
        assert!(request.starts_with("post /checkv2 http/1.1"), "{request}");
        for h in ["ip: 203.0.113.9", "rcpt: b@corp.test", "rcpt: c@corp.test", "hostname: unknown", "queue-id: q1"] {
            assert!(request.contains(h), "{h} in {request}");
        }
        assert!(request.ends_with("subject: x\r\n\r\nhi\r\n"));
    }

    #[tokio::test]
    async fn what_is_not_a_verdict_says_why() {
        let (at, _) = server("500 Internal Server Error", "oops").await;
        let e = scan(&at, Duration::from_secs(5), &Envelope::default(), Vec::new()).await.expect_err("no verdict");
        assert!(matches!(&e, ScanError::BadAnswer(t) if t.contains("500")), "{e}");
        let (at, _) = server("200 OK", r#"{"action":"explode"}"#).await;
        let e = scan(&at, Duration::from_secs(5), &Envelope::default(), Vec::new()).await.expect_err("no verdict");
        assert!(e.to_string().contains("unknown action"), "{e}");
    }

    #[tokio::test]
    async fn a_silent_filter_times_out_and_a_dead_one_is_unreachable() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let at = HttpEndpoint { host: "127.0.0.1".into(), port: listener.local_addr().expect("addr").port() };
        let e = scan(&at, Duration::from_millis(300), &Envelope::default(), Vec::new()).await.expect_err("silent");
        assert_eq!(e, ScanError::Timeout(0));
        drop(listener);
        let e = ping(&at, Duration::from_secs(2)).await.expect_err("dead");
        assert!(matches!(e, ScanError::Unreachable(..)), "{e}");
    }
}
