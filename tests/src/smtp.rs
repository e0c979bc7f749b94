//! SMTP clients for exact bytes: a raw session, and one whole transaction that
//! reports rather than panics.

use std::time::{Duration, Instant};

/// A raw SMTP client over a real socket, for exact bytes.
pub struct Smtp {
    stream: std::net::TcpStream,
    reader: std::io::BufReader<std::net::TcpStream>,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp").finish_non_exhaustive()
    }
}

impl Smtp {
    /// Connects and reads the greeting.
    ///
    /// # Panics
    /// When the greeting is not `220`.
    pub fn connect(addr: std::net::SocketAddr) -> Smtp {
        let mut s = Smtp::connect_raw(addr);
        let greeting = s.reply();
        assert!(greeting.starts_with("220 "), "{greeting}");
        s
    }

    /// Connects without reading anything.
    pub fn connect_raw(addr: std::net::SocketAddr) -> Smtp {
        let stream = std::net::TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
        let reader = std::io::BufReader::new(stream.try_clone().expect("clone"));
        Smtp { stream, reader }
    }

    /// Connects from the local address `source` (127.0.0.2, say: SPF, the DNS lists
    /// and greylisting see another client) without reading anything.
    pub async fn connect_raw_from(addr: std::net::SocketAddr, source: std::net::IpAddr) -> Smtp {
        let socket = if source.is_ipv4() { tokio::net::TcpSocket::new_v4() } else { tokio::net::TcpSocket::new_v6() }
            .expect("socket");
        socket.bind(std::net::SocketAddr::new(source, 0)).expect("bind the source address");
        let stream = socket.connect(addr).await.expect("connect").into_std().expect("std stream");
        stream.set_nonblocking(false).expect("blocking");
        stream.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
        let reader = std::io::BufReader::new(stream.try_clone().expect("clone"));
        Smtp { stream, reader }
    }

    /// Like [`Smtp::connect_raw_from`], reading the greeting.
    ///
    /// # Panics
    /// When the greeting is not `220`.
    pub async fn connect_from(addr: std::net::SocketAddr, source: std::net::IpAddr) -> Smtp {
        let mut s = Smtp::connect_raw_from(addr, source).await;
        let greeting = s.reply();
        assert!(greeting.starts_with("220 "), "{greeting}");
        s
    }

    /// Sends raw bytes.
    pub fn send(&mut self, bytes: &[u8]) {
        use std::io::Write as _;
        self.stream.write_all(bytes).expect("write");
    }

    /// Reads one (possibly multi-line) reply; returns it whole, lines joined by `\n`.
    /// Empty when the server closed the connection.
    pub fn reply(&mut self) -> String {
        use std::io::BufRead as _;
        let mut all = String::new();
        loop {
            let mut line = String::new();
            match self.reader.read_line(&mut line) {
                Ok(0) | Err(_) => return all,
                Ok(_) => {}
            }
            let done = line.as_bytes().get(3) != Some(&b'-');
            all.push_str(line.trim_end_matches(['\r', '\n']));
            if done {
                return all;
            }
            all.push('\n');
        }
    }

    /// Sends a command line (CRLF added) and returns the reply.
    pub fn cmd(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes());
        self.reply()
    }

    /// Sends a command and asserts the reply starts with `expect` (`"250 2.1.0"`).
    ///
    /// # Panics
    /// When it does not.
    pub fn expect(&mut self, line: &str, expect: &str) -> String {
        let r = self.cmd(line);
        assert!(r.starts_with(expect), "{line:?} → {r:?}, expected {expect:?}");
        r
    }

    /// True when the server has closed the connection.
    pub fn closed(&mut self) -> bool {
        use std::io::Read as _;
        let mut b = [0u8; 1];
        matches!(self.reader.read(&mut b), Ok(0) | Err(_))
    }
}

/// One whole SMTP transaction on a new connection — EHLO, MAIL, RCPT `rcpt`, DATA,
/// QUIT — without panicking: its time, or the first reply that was not what it should
/// be (or the connection error), for tests that count failures under load.
///
/// # Errors
/// The failure, in words.
pub fn try_send(addr: std::net::SocketAddr, rcpt: &str) -> Result<Duration, String> {
    use std::io::{BufRead as _, Write as _};
    let t = Instant::now();
    let stream = std::net::TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(|e| e.to_string())?;
    let mut w = stream.try_clone().map_err(|e| e.to_string())?;
    let mut r = std::io::BufReader::new(stream);
    let mut expect = |code: &str| -> Result<(), String> {
        loop {
            let mut line = String::new();
            r.read_line(&mut line).map_err(|e| format!("read: {e}"))?;
            if !line.starts_with(code) {
                return Err(format!("expected {code}, got {line:?}"));
            }
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok(());
            }
        }
    };
    expect("220")?;
    for (line, code) in [
        ("EHLO client.test\r\n".to_owned(), "250"),
        ("MAIL FROM:<sender@outside.test>\r\n".to_owned(), "250"),
        (format!("RCPT TO:<{rcpt}>\r\n"), "250"),
        ("DATA\r\n".to_owned(), "354"),
        ("Subject: one of many\r\n\r\na plain send\r\n.\r\n".to_owned(), "250"),
        ("QUIT\r\n".to_owned(), "221"),
    ] {
        w.write_all(line.as_bytes()).map_err(|e| format!("write: {e}"))?;
        expect(code)?;
    }
    Ok(t.elapsed())
}
