//! A scriptable SMTP server on loopback: the next hop that outbound delivery talks
//! to, which can refuse, defer or stall where a test says.

use std::time::{Duration, Instant};

/// A message a [`Sink`] received.
#[derive(Debug, Clone)]
pub struct Received {
    /// MAIL FROM.
    pub from: String,
    /// Accepted RCPT TOs.
    pub to: Vec<String>,
    /// The data, dot-unstuffed.
    pub data: Vec<u8>,
}

/// Where a [`Sink`] stops answering, as a next hop that hangs would: it keeps the
/// connection open and reads (and drops) whatever comes, but says nothing more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stall {
    /// Never sends its `220` greeting.
    Greeting,
    /// No reply to MAIL FROM.
    Mail,
    /// No reply to RCPT TO.
    Rcpt,
    /// No reply to DATA.
    Data,
    /// Stops reading after `354`: the client's writes of the message fill the socket
    /// buffers and block.
    DataBlock,
    /// No reply after the final `.`.
    Dot,
    /// Closes the connection after the final `.`, without a reply (not a hang: a
    /// dropped connection).
    CloseAfterDot,
}

/// A scriptable SMTP server on loopback, a real peer for delivery tests: recipients
/// containing `reject` get `550 5.1.1`; those containing `tempfail` get `451 4.3.0`
/// the first `tempfails` times; everything else is accepted and recorded. A sink
/// made with [`Sink::stalling`] hangs at one stage of every session.
#[derive(Debug, Clone)]
pub struct Sink {
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    /// What it received.
    pub received: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
    tempfails: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// Offers STARTTLS, says `220`, then sends garbage instead of a TLS handshake.
    broken_tls: bool,
    /// Where every session hangs, if anywhere.
    stall: Option<Stall>,
    /// When set, replies after the final `.` wait until the gate opens.
    gate: Option<std::sync::Arc<tokio::sync::watch::Sender<bool>>>,
    /// Sessions that reached their stall.
    pub stalled: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Sink {
    /// Starts a sink on `127.0.0.1:0` (or `bind`) in the current tokio runtime.
    pub async fn start(bind: &str, tempfails: usize) -> Sink {
        Sink::start_with(bind, tempfails, false, None).await
    }

    /// A sink that offers STARTTLS but breaks every handshake: a client that insists
    /// on TLS can never deliver to it.
    pub async fn start_with_broken_tls() -> Sink {
        Sink::start_with("127.0.0.1:0", 0, true, None).await
    }

    /// A sink on `127.0.0.1:0` that holds its reply after each message's final `.`
    /// until [`Sink::open_gate`]: deliveries stay in flight as long as a test needs.
    pub async fn gated() -> Sink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind sink");
        let (gate, _) = tokio::sync::watch::channel(false);
        let sink = Sink {
            addr: listener.local_addr().expect("addr"),
            received: Default::default(),
            tempfails: Default::default(),
            broken_tls: false,
            stall: None,
            stalled: Default::default(),
            gate: Some(std::sync::Arc::new(gate)),
        };
        let s = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(s.clone().session(stream));
            }
        });
        sink
    }

    /// Lets the replies held by a [`Sink::gated`] sink go, now and from now on.
    pub fn open_gate(&self) {
        if let Some(g) = &self.gate {
            g.send_replace(true);
        }
    }

    /// A sink on `127.0.0.1:0` whose every session hangs at `stage`.
    pub async fn stalling(stage: Stall) -> Sink {
        Sink::start_with("127.0.0.1:0", 0, false, Some(stage)).await
    }

    async fn start_with(bind: &str, tempfails: usize, broken_tls: bool, stall: Option<Stall>) -> Sink {
        let listener = if stall == Some(Stall::DataBlock) {
            // A small receive buffer (inherited by accepted connections), so that a
            // client writing a message the sink does not read blocks soon: with the
            // kernel's autotuning, loopback buffers hold tens of megabytes.
            let addr: std::net::SocketAddr = bind.parse().expect("address");
            let socket = tokio::net::TcpSocket::new_v4().expect("socket");
            socket.set_recv_buffer_size(64 * 1024).expect("SO_RCVBUF");
            socket.bind(addr).expect("bind sink");
            socket.listen(64).expect("listen")
        } else {
            tokio::net::TcpListener::bind(bind).await.expect("bind sink")
        };
        let sink = Sink {
            addr: listener.local_addr().expect("addr"),
            received: Default::default(),
            tempfails: std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(tempfails)),
            broken_tls,
            stall,
            stalled: Default::default(),
            gate: None,
        };
        let s = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(s.clone().session(stream));
            }
        });
        sink
    }

    /// Messages received so far.
    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    /// Waits until at least `n` messages arrived.
    ///
    /// # Panics
    /// After `secs` seconds.
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let m = self.messages();
            if m.len() >= n {
                return m;
            }
            assert!(Instant::now() < deadline, "sink got {} of {n} messages", m.len());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Hangs: keeps the connection, reads and drops what comes (unless told to stop
    /// reading), answers nothing.
    async fn hang(&self, mut r: impl tokio::io::AsyncRead + Unpin, keep_reading: bool) {
        use tokio::io::AsyncReadExt;
        self.stalled.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if !keep_reading {
            std::future::pending::<()>().await;
        }
        let mut buf = [0u8; 4096];
        while r.read(&mut buf).await.is_ok_and(|n| n > 0) {}
    }

    async fn session(self, stream: tokio::net::TcpStream) {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let (r, mut w) = stream.into_split();
        let mut r = BufReader::new(r);
        if self.stall == Some(Stall::Greeting) {
            return self.hang(r, true).await;
        }
        let _ = w.write_all(b"220 sink.test ESMTP test sink\r\n").await;
        let (mut from, mut to) = (String::new(), Vec::new());
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let upper = line.to_ascii_uppercase();
            let stage = match &upper {
                u if u.starts_with("MAIL FROM:") => Some(Stall::Mail),
                u if u.starts_with("RCPT TO:") => Some(Stall::Rcpt),
                u if u.starts_with("DATA") => Some(Stall::Data),
                _ => None,
            };
            if stage.is_some() && stage == self.stall {
                return self.hang(r, true).await;
            }
            let reply: String = if upper.starts_with("EHLO") {
                let tls = if self.broken_tls { "250-STARTTLS\r\n" } else { "" };
                format!("250-sink.test\r\n{tls}250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 10000000\r\n")
            } else if upper.starts_with("STARTTLS") && self.broken_tls {
                let _ = w.write_all(b"220 2.0.0 go ahead\r\n").await;
                let _ = w.write_all(b"this is not a TLS server hello\r\n").await;
                return;
            } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
                "250 ok\r\n".into()
            } else if upper.starts_with("RSET") {
                from.clear();
                to.clear();
                "250 ok\r\n".into()
            } else if upper.starts_with("MAIL FROM:") {
                from = line[10..].trim().split(' ').next().unwrap_or("").trim_matches(['<', '>']).to_owned();
                to.clear();
                "250 2.1.0 ok\r\n".into()
            } else if upper.starts_with("RCPT TO:") {
                let rcpt = line[8..].trim().split(' ').next().unwrap_or("").trim_matches(['<', '>']).to_owned();
                if rcpt.contains("reject") {
                    "550 5.1.1 no such user here\r\n".into()
                } else if rcpt.contains("tempfail")
                    && self
                        .tempfails
                        .fetch_update(std::sync::atomic::Ordering::SeqCst, std::sync::atomic::Ordering::SeqCst, |n| {
                            n.checked_sub(1)
                        })
                        .is_ok()
                {
                    "451 4.3.0 try again later\r\n".into()
                } else {
                    to.push(rcpt);
                    "250 2.1.5 ok\r\n".into()
                }
            } else if upper.starts_with("DATA") {
                let _ = w.write_all(b"354 go ahead\r\n").await;
                if self.stall == Some(Stall::DataBlock) {
                    return self.hang(r, false).await;
                }
                let mut data = Vec::new();
                loop {
                    let mut l = Vec::new();
                    if r.read_until(b'\n', &mut l).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if l == b".\r\n" {
                        break;
                    }
                    let l = if l.starts_with(b".") { &l[1..] } else { &l[..] };
                    data.extend_from_slice(l);
                }
                if self.stall == Some(Stall::Dot) {
                    return self.hang(r, true).await;
                }
                if self.stall == Some(Stall::CloseAfterDot) {
                    self.stalled.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    return;
                }
                if let Some(gate) = &self.gate {
                    self.stalled.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let _ = gate.subscribe().wait_for(|open| *open).await;
                }
                self.received.lock().expect("lock").push(Received {
                    from: from.clone(),
                    to: std::mem::take(&mut to),
                    data,
                });
                "250 2.0.0 queued\r\n".into()
            } else if upper.starts_with("QUIT") {
                let _ = w.write_all(b"221 bye\r\n").await;
                return;
            } else {
                "500 5.5.2 what\r\n".into()
            };
            if w.write_all(reply.as_bytes()).await.is_err() {
                return;
            }
        }
    }
}
