//! Line framing for the control protocol, apart from any I/O.
//!
//! [`LineBuffer`] accumulates bytes as they arrive and hands out complete lines. A line
//! longer than the limit is reported once as [`FrameError::TooLong`] and then skipped
//! up to its newline, so one bad request does not end the connection.

/// A framing problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A line exceeded the limit; its bytes were discarded.
    #[error("line longer than {limit} bytes")]
    TooLong {
        /// The limit.
        limit: usize,
    },
}

/// Accumulates bytes and yields newline-terminated lines (the newline, and a `\r`
/// before it, removed).
#[derive(Debug)]
pub struct LineBuffer {
    buf: Vec<u8>,
    /// Bytes at the front of `buf` already searched for a newline.
    scanned: usize,
    limit: usize,
    /// True while discarding the rest of an over-long line.
    skipping: bool,
}

impl LineBuffer {
    /// A buffer that refuses lines over `limit` bytes.
    pub fn new(limit: usize) -> LineBuffer {
        LineBuffer { buf: Vec::new(), scanned: 0, limit, skipping: false }
    }

    /// Appends received bytes.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete line, `Ok(None)` when more bytes are needed.
    ///
    /// # Errors
    /// [`FrameError::TooLong`] once for each over-long line.
    pub fn next_line(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        loop {
            let newline = self.buf[self.scanned..].iter().position(|&b| b == b'\n').map(|p| p + self.scanned);
            match newline {
                Some(end) if self.skipping => {
                    self.buf.drain(..=end);
                    self.scanned = 0;
                    self.skipping = false;
                }
                Some(end) if end > self.limit => {
                    self.buf.drain(..=end);
                    self.scanned = 0;
                    return Err(FrameError::TooLong { limit: self.limit });
                }
                Some(end) => {
                    let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                    self.scanned = 0;
                    line.pop();
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    return Ok(Some(line));
                }
                None if self.buf.len() > self.limit => {
                    self.buf.clear();
                    self.scanned = 0;
                    let first = !self.skipping;
                    self.skipping = true;
                    if first {
                        return Err(FrameError::TooLong { limit: self.limit });
                    }
                    return Ok(None);
                }
                None => {
                    self.scanned = self.buf.len();
                    return Ok(None);
                }
            }
        }
    }
}

/// Serializes `value` as one protocol line, newline included.
///
/// # Errors
/// When `value` cannot be serialized (the protocol's own types are tested to
/// serialize, but a new variant of an internally tagged enum can break that).
pub fn encode_line<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut v = serde_json::to_vec(value)?;
    v.push(b'\n');
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lines_across_reads() {
        let mut b = LineBuffer::new(100);
        b.extend(b"{\"a\":1}\r\n{\"b\"");
        assert_eq!(b.next_line(), Ok(Some(b"{\"a\":1}".to_vec())));
        assert_eq!(b.next_line(), Ok(None));
        b.extend(b":2}\n");
        assert_eq!(b.next_line(), Ok(Some(b"{\"b\":2}".to_vec())));
        assert_eq!(b.next_line(), Ok(None));
    }

    #[test]
    fn over_long_line_is_reported_once_and_skipped() {
        let mut b = LineBuffer::new(8);
        b.extend(b"0123456789");
        assert_eq!(b.next_line(), Err(FrameError::TooLong { limit: 8 }));
        b.extend(b"abcdef");
        assert_eq!(b.next_line(), Ok(None));
        b.extend(b"xyz\nok\n");
        assert_eq!(b.next_line(), Ok(Some(b"ok".to_vec())));
    }

    #[test]
    fn over_long_line_arriving_whole() {
        let mut b = LineBuffer::new(4);
        b.extend(b"123456\nfine\n");
        assert_eq!(b.next_line(), Err(FrameError::TooLong { limit: 4 }));
        assert_eq!(b.next_line(), Ok(Some(b"fine".to_vec())));
    }

    #[test]
    fn line_of_exactly_the_limit_passes() {
        let mut b = LineBuffer::new(4);
        b.extend(b"1234\n");
        assert_eq!(b.next_line(), Ok(Some(b"1234".to_vec())));
    }
}
