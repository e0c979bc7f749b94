//! The connection every line protocol's session talks through: SMTP, POP3 and IMAP
//! today, ManageSieve and HTTP next.
//!
//! A [`LineConn`] owns the stream, the bytes read and not yet used, and the replies
//! queued and not yet sent. Sessions queue replies as they go and the connection sends
//! them only when it must wait for the client ([`LineConn::fill`] flushes first): a
//! client that pipelines a group of commands gets its replies together (RFC 2920,
//! RFC 2449), and one that waits for each reply gets it at once.
//!
//! Every wait for a client is the same race, written once here ([`Wait`]): its bytes,
//! against a deadline (for a whole command however the client spreads its bytes, not a
//! timeout per read), the service's stop signal (at the stage that concerns the
//! session: an idle session leaves when the service stops, one mid-transaction only
//! when the drain runs out), and — while the session waits for a command from a client
//! it may drop — being closed to make room for a new connection
//! ([`crate::limits::Limits`]). The session is told why a wait ended ([`Ended`]) and
//! says goodbye in its own protocol's words.
//!
//! After a TLS upgrade ([`LineConn::start_tls`]) plaintext the client pipelined behind
//! the command is discarded unread (the CVE-2011-0411 class of injection).

use std::future::Future;
use std::io;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;

use crate::limits::{Slot, Waiting};
use crate::shutdown::Shutdown;
use crate::tls::Transport;

/// How much room is made in the input buffer before each read: enough for a pipelined
/// group of commands or a good piece of a message, little enough that an idle session
/// costs a few KiB.
const READ_ROOM: usize = 8 * 1024;

/// Which stage of the stop signal ends a wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The run ends, for a restart or a stop: the session has not begun (a client not
    /// yet greeted), and is simply closed.
    Draining,
    /// The service stops: the session has nothing under way and leaves at once.
    Stopping,
    /// The drain timeout ran out: the session is inside a transaction, which it is
    /// left to finish until then.
    Aborted,
}

/// What a session waits for its client against: built for one wait (a command line,
/// the rest of a message, the next IMAP input) and borrowed by each read of it.
#[derive(Debug)]
pub(crate) struct Wait<'a> {
    /// When what is awaited must have arrived, whole.
    until: Instant,
    stop: Stop,
    /// The session's place in its limits, and its mark as waiting for its client there
    /// (held for the whole wait, so that a client trickling bytes counts as waiting
    /// since it began): the session may be closed to make room for a new connection.
    evictable: Option<(&'a Slot, Waiting)>,
}

impl<'a> Wait<'a> {
    /// A wait until `until` that ends when the service reaches `stop`.
    pub(crate) fn until(until: Instant, stop: Stop) -> Wait<'a> {
        Wait { until, stop, evictable: None }
    }

    /// The same wait, during which the session counts as waiting for its client in its
    /// limits and may be closed to make room ([`Ended::Evicted`]).
    pub(crate) fn evictable(mut self, slot: &'a Slot) -> Wait<'a> {
        self.evictable = Some((slot, slot.waiting()));
        self
    }
}

/// Why a wait for the client ended without bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    /// The client closed the connection, or it failed (nothing can be said to it).
    Closed,
    /// The deadline passed.
    TimedOut,
    /// The service is stopping (or the drain timeout ran out).
    Stopping,
    /// The session was closed to make room for a new connection.
    Evicted,
}

/// A line read by [`LineConn::read_line`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// A whole line, its line ending included.
    Whole(Vec<u8>),
    /// A line over the limit, read to its end and discarded.
    TooLong,
}

/// What a wait with something else to watch ([`LineConn::fill_or`]) brought.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Filled<T> {
    /// The client's bytes, added to the input.
    Input,
    /// The other thing happened first.
    Other(T),
}

/// A session's connection: the stream, its input and its queued output.
pub(crate) struct LineConn<S> {
    stream: S,
    /// Bytes read and not yet used by the session.
    input: Vec<u8>,
    /// Replies queued and not yet sent.
    output: Vec<u8>,
    /// The run's stop signal, raced by every wait.
    shutdown: Shutdown,
    /// DEFLATE both ways, once started (IMAP's COMPRESS, RFC 4978).
    deflate: Option<Box<Deflate>>,
}

/// Most bytes inflated from the client per read: a small compressed input cannot
/// make a session hold much more than this at once.
const INFLATE_AT_MOST: usize = 256 * 1024;

/// A compressed connection's two streams (raw DEFLATE, RFC 1951) and the compressed
/// bytes read and not yet inflated.
struct Deflate {
    compress: flate2::Compress,
    decompress: flate2::Decompress,
    raw_in: Vec<u8>,
}

impl Deflate {
    /// `plain`, compressed and sync-flushed (RFC 4978 §4: whole responses reach the
    /// client at once).
    fn compress(&mut self, plain: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(plain.len() / 2 + 64);
        let mut at = 0;
        loop {
            out.reserve(4096);
            let before = self.compress.total_in();
            self.compress
                .compress_vec(&plain[at..], &mut out, flate2::FlushCompress::Sync)
                .map_err(|e| io::Error::other(e.to_string()))?;
            at += usize::try_from(self.compress.total_in() - before).unwrap_or(0);
            // Done once all is in and the output was not cut short by its room.
            if at >= plain.len() && out.len() < out.capacity() {
                return Ok(out);
            }
        }
    }

    /// Inflates what was read into `input`, at most [`INFLATE_AT_MOST`] bytes; the
    /// rest waits in `raw_in`.
    fn inflate(&mut self, input: &mut Vec<u8>) -> io::Result<()> {
        let limit = input.len() + INFLATE_AT_MOST;
        while !self.raw_in.is_empty() && input.len() < limit {
            input.reserve(16 * 1024);
            let (before_in, before_out) = (self.decompress.total_in(), self.decompress.total_out());
            self.decompress
                .decompress_vec(&self.raw_in, input, flate2::FlushDecompress::Sync)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
            let used = usize::try_from(self.decompress.total_in() - before_in).unwrap_or(0);
            self.raw_in.drain(..used);
            if used == 0 && self.decompress.total_out() == before_out {
                break;
            }
        }
        Ok(())
    }
}

impl<S: Transport> LineConn<S> {
    /// A connection on `stream`, which stops waiting when `shutdown` says so.
    pub(crate) fn new(stream: S, shutdown: Shutdown) -> LineConn<S> {
        LineConn { stream, input: Vec::with_capacity(1024), output: Vec::with_capacity(1024), shutdown, deflate: None }
    }

    /// Queues bytes to send.
    pub(crate) fn queue(&mut self, bytes: &[u8]) {
        self.output.extend_from_slice(bytes);
    }

    /// The queued output, to write replies into in place.
    pub(crate) fn output(&mut self) -> &mut Vec<u8> {
        &mut self.output
    }

    /// The bytes read and not yet used, for a session that parses them itself (the
    /// DATA receiver, IMAP's protocol state).
    pub(crate) fn input(&mut self) -> &mut Vec<u8> {
        &mut self.input
    }

    /// True when the connection is encrypted.
    pub(crate) fn is_tls(&self) -> bool {
        self.stream.is_tls()
    }

    /// The TLS version in use (`TLSv1.3`), once encrypted.
    pub(crate) fn tls_version(&self) -> Option<&'static str> {
        self.stream.tls_version()
    }

    /// Sends what is queued.
    ///
    /// # Errors
    /// When the client cannot be written to; the output is then kept.
    pub(crate) async fn flush(&mut self) -> io::Result<()> {
        if !self.output.is_empty() {
            match &mut self.deflate {
                Some(d) => {
                    let compressed = d.compress(&self.output)?;
                    self.stream.write_all(&compressed).await?;
                }
                None => self.stream.write_all(&self.output).await?,
            }
            self.stream.flush().await?;
            self.output.clear();
        }
        Ok(())
    }

    /// Compresses the connection both ways from here on, after the session's go-ahead
    /// is sent as it is (IMAP's COMPRESS DEFLATE).
    ///
    /// # Errors
    /// When the go-ahead cannot be sent.
    pub(crate) async fn start_deflate(&mut self) -> io::Result<()> {
        self.flush().await?;
        self.deflate = Some(Box::new(Deflate {
            compress: flate2::Compress::new(flate2::Compression::default(), false),
            decompress: flate2::Decompress::new(false),
            raw_in: Vec::new(),
        }));
        Ok(())
    }

    /// True once the connection is compressed.
    pub(crate) fn is_deflated(&self) -> bool {
        self.deflate.is_some()
    }

    /// Sends what is queued once it reaches `size` bytes (a long multi-line reply
    /// is sent as it is written, not held whole).
    ///
    /// # Errors
    /// When the client cannot be written to.
    pub(crate) async fn flush_over(&mut self, size: usize) -> io::Result<()> {
        if self.output.len() >= size { self.flush().await } else { Ok(()) }
    }

    /// Sends what is queued and closes the sending side; errors are of no interest
    /// any more.
    pub(crate) async fn close(&mut self) {
        let _ = self.flush().await;
        let _ = self.stream.shutdown().await;
    }

    /// Sends what is queued, then reads more of the client's bytes into the input.
    ///
    /// # Errors
    /// Why the wait ended without bytes.
    pub(crate) async fn fill(&mut self, wait: &Wait<'_>) -> Result<(), Ended> {
        match self.fill_or(wait, std::future::pending::<()>()).await? {
            Filled::Input | Filled::Other(()) => Ok(()),
        }
    }

    /// Like [`LineConn::fill`], also watching `other` (IMAP's IDLE watches for changes
    /// to report): whichever comes first.
    ///
    /// # Errors
    /// Why the wait ended without bytes.
    pub(crate) async fn fill_or<T>(
        &mut self,
        wait: &Wait<'_>,
        other: impl Future<Output = T>,
    ) -> Result<Filled<T>, Ended> {
        self.flush().await.map_err(|_| Ended::Closed)?;
        if let Some(d) = &mut self.deflate
            && !d.raw_in.is_empty()
        {
            // Compressed bytes left from the last read, inflated before reading more.
            let had = self.input.len();
            d.inflate(&mut self.input).map_err(|_| Ended::Closed)?;
            if self.input.len() > had {
                return Ok(Filled::Input);
            }
        }
        self.input.reserve(READ_ROOM);
        let buffer = match &mut self.deflate {
            Some(d) => {
                d.raw_in.reserve(READ_ROOM);
                &mut d.raw_in
            }
            None => &mut self.input,
        };
        let shutdown = &self.shutdown;
        let stop = async {
            match wait.stop {
                Stop::Draining => shutdown.draining().await,
                Stop::Stopping => shutdown.stopping().await,
                Stop::Aborted => shutdown.aborted().await,
            }
        };
        let evicted = async {
            match &wait.evictable {
                Some((slot, _)) => slot.evicted().await,
                None => std::future::pending().await,
            }
        };
        let filled = tokio::select! {
            read = tokio::time::timeout_at(wait.until.into(), self.stream.read_buf(buffer)) => match read {
                Ok(Ok(0) | Err(_)) => Err(Ended::Closed),
                Ok(Ok(_)) => Ok(Filled::Input),
                Err(_) => Err(Ended::TimedOut),
            },
            () = stop => Err(Ended::Stopping),
            () = evicted => Err(Ended::Evicted),
            t = other => Ok(Filled::Other(t)),
        };
        if let (Ok(Filled::Input), Some(d)) = (&filled, &mut self.deflate) {
            // A client whose stream does not inflate is gone: nothing it says can be read.
            d.inflate(&mut self.input).map_err(|_| Ended::Closed)?;
        }
        filled
    }

    /// The next line of at most `limit` bytes (its line ending included), read within
    /// `wait`. A longer line is read to its end and reported as [`Line::TooLong`].
    ///
    /// # Errors
    /// Why the wait ended before the line did.
    pub(crate) async fn read_line(&mut self, limit: usize, wait: &Wait<'_>) -> Result<Line, Ended> {
        let mut discarding = false;
        let mut scanned = 0;
        loop {
            if let Some(pos) = memchr::memchr(b'\n', &self.input[scanned..]).map(|p| p + scanned) {
                let line: Vec<u8> = self.input.drain(..=pos).collect();
                return Ok(if discarding || line.len() > limit { Line::TooLong } else { Line::Whole(line) });
            }
            if self.input.len() > limit {
                self.input.clear();
                discarding = true;
            }
            scanned = self.input.len();
            self.fill(wait).await?;
        }
    }

    /// Upgrades the connection to TLS after the session has queued its go-ahead: the
    /// go-ahead is sent, plaintext the client pipelined behind its command is discarded
    /// unread, and the handshake runs.
    ///
    /// # Errors
    /// When the go-ahead cannot be sent or the handshake fails; the connection is then
    /// unusable.
    pub(crate) async fn start_tls(&mut self, acceptor: &TlsAcceptor) -> io::Result<()> {
        self.flush().await?;
        self.input.clear();
        self.stream.start_tls(acceptor).await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::AsyncWriteExt as _;

    #[test]
    fn a_small_compressed_input_is_inflated_in_bounded_steps() {
        let plain = vec![b'a'; 8 * 1024 * 1024];
        let mut packer = flate2::Compress::new(flate2::Compression::best(), false);
        let mut packed = Vec::with_capacity(1024 * 1024);
        packer.compress_vec(&plain, &mut packed, flate2::FlushCompress::Sync).expect("compress");
        assert!(packed.len() < 64 * 1024, "a bomb: {} bytes", packed.len());
        let mut d = Deflate { compress: packer, decompress: flate2::Decompress::new(false), raw_in: packed };
        let mut input = Vec::new();
        d.inflate(&mut input).expect("inflate");
        assert!(!input.is_empty() && input.len() < 4 * INFLATE_AT_MOST, "{} bytes at once", input.len());
        assert!(!d.raw_in.is_empty(), "the rest waits");
        let mut total = input.len();
        while !d.raw_in.is_empty() {
            input.clear();
            d.inflate(&mut input).expect("inflate");
            total += input.len();
        }
        assert_eq!(total, plain.len());
    }

    use super::*;

    fn conn() -> (LineConn<tokio::io::DuplexStream>, tokio::io::DuplexStream, Shutdown) {
        let (server, client) = tokio::io::duplex(64 * 1024);
        let shutdown = Shutdown::default();
        (LineConn::new(server, shutdown.clone()), client, shutdown)
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(5)
    }

    #[tokio::test]
    async fn lines_come_whole_whatever_the_client_sends_at_once_and_long_ones_are_discarded_to_their_end() {
        let (mut c, mut client, _s) = conn();
        client.write_all(b"ONE\r\nTW").await.expect("write");
        let wait = Wait::until(soon(), Stop::Stopping);
        assert_eq!(c.read_line(16, &wait).await, Ok(Line::Whole(b"ONE\r\n".to_vec())));
        client.write_all(b"O\r\n").await.expect("write");
        assert_eq!(c.read_line(16, &wait).await, Ok(Line::Whole(b"TWO\r\n".to_vec())));
        client.write_all(&[b'x'; 40]).await.expect("write");
        client.write_all(b"\r\nAFTER\r\n").await.expect("write");
        assert_eq!(c.read_line(16, &wait).await, Ok(Line::TooLong));
        assert_eq!(c.read_line(16, &wait).await, Ok(Line::Whole(b"AFTER\r\n".to_vec())));
        drop(client);
        assert_eq!(c.read_line(16, &wait).await, Err(Ended::Closed));
    }

    #[tokio::test]
    async fn queued_replies_are_sent_before_waiting() {
        let (mut c, mut client, _s) = conn();
        c.queue(b"+OK hello\r\n");
        let wait = Wait::until(soon(), Stop::Stopping);
        let reading = tokio::spawn(async move {
            let mut buf = [0u8; 11];
            tokio::io::AsyncReadExt::read_exact(&mut client, &mut buf).await.expect("read");
            client.write_all(b"QUIT\r\n").await.expect("write");
            (buf, client)
        });
        assert_eq!(c.read_line(64, &wait).await, Ok(Line::Whole(b"QUIT\r\n".to_vec())));
        let (said, _client) = reading.await.expect("join");
        assert_eq!(&said, b"+OK hello\r\n");
    }

    #[tokio::test]
    async fn a_deadline_is_for_the_whole_line_not_each_read() {
        let (mut c, mut client, _s) = conn();
        let wait = Wait::until(Instant::now() + Duration::from_millis(300), Stop::Stopping);
        let trickle = tokio::spawn(async move {
            for _ in 0..20 {
                if client.write_all(b"x").await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        assert_eq!(c.read_line(64, &wait).await, Err(Ended::TimedOut));
        trickle.abort();
    }

    #[tokio::test]
    async fn an_idle_wait_ends_when_the_service_stops_and_a_busy_one_only_at_the_abort() {
        let (mut c, _client, shutdown) = conn();
        shutdown.stop();
        let busy = Wait::until(Instant::now() + Duration::from_millis(200), Stop::Aborted);
        assert_eq!(c.fill(&busy).await, Err(Ended::TimedOut), "a transaction is left to finish");
        assert_eq!(c.fill(&Wait::until(soon(), Stop::Stopping)).await, Err(Ended::Stopping));
        shutdown.abort();
        assert_eq!(c.fill(&Wait::until(soon(), Stop::Aborted)).await, Err(Ended::Stopping));
    }

    #[tokio::test]
    async fn an_evictable_wait_gives_its_place_to_a_new_connection() {
        let (mut c, _client, _s) = conn();
        let limits = crate::limits::Limits::new(1, 1, std::sync::Arc::default());
        let ip: std::net::IpAddr = "192.0.2.1".parse().expect("ip");
        let slot = limits.admit(ip).expect("a place");
        let wait = Wait::until(soon(), Stop::Stopping).evictable(&slot);
        let other: std::net::IpAddr = "192.0.2.2".parse().expect("ip");
        let newcomer = limits.admit(other);
        assert!(newcomer.is_some(), "the waiting session makes room");
        assert_eq!(c.fill(&wait).await, Err(Ended::Evicted));
    }

    #[tokio::test]
    async fn something_else_to_watch_can_end_the_wait_first() {
        let (mut c, _client, _s) = conn();
        let wait = Wait::until(soon(), Stop::Stopping);
        assert_eq!(c.fill_or(&wait, async { 7 }).await, Ok(Filled::Other(7)));
    }
}
