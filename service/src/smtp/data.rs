//! The DATA receiver: turns the bytes after `354` into a message, apart from any I/O.
//!
//! It is strict on purpose (RFC 5321 §2.3.8, §4.1.1.4):
//! - the data ends only at `CRLF . CRLF`;
//! - a bare LF, or a CR not followed by LF, anywhere aborts the transfer. Servers that
//!   accept other endings can be made to see a message end where another server sees
//!   none — SMTP smuggling — so Mailroom accepts exactly one;
//! - a leading dot is removed from each line (dot-unstuffing);
//! - a message containing NUL (which RFC 5321 §2.3.8 and RFC 6152 exclude from mail
//!   text), or over the size limit, is read to its end and then refused, so the session
//!   stays in step with the client.
//!
//! Lines longer than RFC 5321's 1,000 octets are accepted: real mail from badly behaved
//! senders has them, §4.5.3.1 asks servers not to impose such limits where they can
//! avoid it, and Postfix and the large providers accept them. The message size limit
//! bounds them.

/// How a transfer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// A well-formed message.
    Complete,
    /// The message contains a NUL byte.
    Nul,
    /// The message was larger than the limit.
    TooBig,
}

/// A transfer that cannot continue: the client and server no longer agree where the
/// message ends, so the connection must close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Abort {
    /// A LF not preceded by CR.
    #[error("bare LF in message data")]
    BareLf,
    /// A CR not followed by LF.
    #[error("bare CR in message data")]
    BareCr,
}

/// Progress after feeding some bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The terminator has not been seen yet.
    More,
    /// The terminator was seen.
    Done(Finished),
    /// The data is malformed; see [`Abort`].
    Abort(Abort),
}

/// Accumulates one message. See the module docs.
#[derive(Debug)]
pub struct DataReceiver {
    body: Vec<u8>,
    max_size: usize,
    at_line_start: bool,
    /// The current line began with a (removed) dot.
    dot_line: bool,
    /// The last byte was a CR; its LF is awaited.
    pending_cr: bool,
    /// Octets of the current line so far, as transmitted.
    line_len: usize,
    /// A NUL byte was seen.
    nul: bool,
    too_big: bool,
}

impl DataReceiver {
    /// A receiver for a message of at most `max_size` bytes (after unstuffing).
    pub fn new(max_size: Option<u64>) -> DataReceiver {
        DataReceiver {
            body: Vec::with_capacity(16 * 1024),
            max_size: max_size.map_or(usize::MAX, |m| usize::try_from(m).unwrap_or(usize::MAX)),
            at_line_start: true,
            dot_line: false,
            pending_cr: false,
            line_len: 0,
            nul: false,
            too_big: false,
        }
    }

    /// The message received so far (complete once [`Progress::Done`] was returned).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Takes the message.
    pub fn into_body(self) -> Vec<u8> {
        self.body
    }

    fn push(&mut self, bytes: &[u8]) {
        if self.too_big {
            return;
        }
        if self.body.len() + bytes.len() > self.max_size {
            self.too_big = true;
            self.body = Vec::new();
            return;
        }
        self.body.extend_from_slice(bytes);
    }

    /// Feeds bytes; returns how many were consumed (everything, unless the transfer
    /// ended: the rest belongs to the commands that follow) and the progress.
    pub fn feed(&mut self, input: &[u8]) -> (usize, Progress) {
        let mut i = 0;
        while i < input.len() {
            if self.pending_cr {
                if input[i] != b'\n' {
                    return (i, Progress::Abort(Abort::BareCr));
                }
                i += 1;
                self.pending_cr = false;
                if self.dot_line && self.line_len == 1 {
                    let finished = if self.too_big {
                        Finished::TooBig
                    } else if self.nul {
                        Finished::Nul
                    } else {
                        Finished::Complete
                    };
                    return (i, Progress::Done(finished));
                }
                self.push(b"\r\n");
                self.at_line_start = true;
                self.dot_line = false;
                self.line_len = 0;
                continue;
            }
            match input[i] {
                b'\r' => {
                    self.pending_cr = true;
                    i += 1;
                }
                b'\n' => return (i, Progress::Abort(Abort::BareLf)),
                b'.' if self.at_line_start => {
                    self.dot_line = true;
                    self.at_line_start = false;
                    self.line_len = 1;
                    i += 1;
                }
                _ => {
                    // Fast path: copy the run up to the next CR or LF.
                    let run = memchr::memchr2(b'\r', b'\n', &input[i..]).map_or(input.len() - i, |n| n);
                    self.nul |= memchr::memchr(0, &input[i..i + run]).is_some();
                    self.push(&input[i..i + run]);
                    self.line_len += run;
                    self.at_line_start = false;
                    i += run;
                }
            }
        }
        (i, Progress::More)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receive(chunks: &[&[u8]], max: Option<u64>) -> (Progress, Vec<u8>, usize) {
        let mut r = DataReceiver::new(max);
        let mut last = (0, Progress::More);
        for c in chunks {
            last = r.feed(c);
            if last.1 != Progress::More {
                break;
            }
        }
        (last.1, r.into_body(), last.0)
    }

    #[test]
    fn plain_message_and_leftover() {
        let (p, body, used) = receive(&[b"Subject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n"], None);
        assert_eq!(p, Progress::Done(Finished::Complete));
        assert_eq!(body, b"Subject: hi\r\n\r\nbody\r\n");
        assert_eq!(used, b"Subject: hi\r\n\r\nbody\r\n.\r\n".len(), "QUIT is left for the command loop");
    }

    #[test]
    fn empty_message() {
        assert_eq!(receive(&[b".\r\n"], None), (Progress::Done(Finished::Complete), vec![], 3));
    }

    #[test]
    fn terminator_split_across_reads() {
        let (p, body, _) = receive(&[b"a\r", b"\n", b".", b"\r", b"\n"], None);
        assert_eq!((p, body.as_slice()), (Progress::Done(Finished::Complete), &b"a\r\n"[..]));
    }

    #[test]
    fn dot_unstuffing() {
        let (p, body, _) = receive(&[b"..leading\r\n...\r\n.x\r\n.\r\n"], None);
        assert_eq!(p, Progress::Done(Finished::Complete));
        assert_eq!(body, b".leading\r\n..\r\nx\r\n");
    }

    #[test]
    fn smuggling_endings_are_refused() {
        // Each of these ends the message for some lenient server; here each aborts.
        let cases: [(&[u8], Abort); 5] = [
            (b"a\r\n\n.\n", Abort::BareLf),
            (b"a\n.\r\n", Abort::BareLf),
            (b"a\r\n.\n", Abort::BareLf),
            (b"a\r.\r", Abort::BareCr),
            (b"a\rb\r\n.\r\n", Abort::BareCr),
        ];
        for (input, want) in cases {
            assert_eq!(receive(&[input], None).0, Progress::Abort(want), "{:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn long_lines_are_accepted() {
        let mut input = vec![b'x'; 20_000];
        input.extend_from_slice(b"\r\n.\r\n");
        let (p, body, _) = receive(&[&input], None);
        assert_eq!(p, Progress::Done(Finished::Complete));
        assert_eq!(body.len(), 20_002);
    }

    #[test]
    fn nul_bytes_are_refused_after_the_end() {
        let (p, _, used) = receive(&[b"Subject: a\r\n\r\nb\x00dy\r\n", b".\r\nQUIT\r\n"], None);
        assert_eq!(p, Progress::Done(Finished::Nul));
        assert_eq!(used, 3, "the end is found: the session stays in step");
        assert_eq!(receive(&[b"\x00\r\n.\r\n"], None).0, Progress::Done(Finished::Nul));
    }

    #[test]
    fn size_limit() {
        assert_eq!(receive(&[b"12345\r\n.\r\n"], Some(7)).0, Progress::Done(Finished::Complete));
        let (p, body, _) = receive(&[b"12345\r\n", b"6\r\n.\r\n"], Some(7));
        assert_eq!((p, body.len()), (Progress::Done(Finished::TooBig), 0));
    }
}
