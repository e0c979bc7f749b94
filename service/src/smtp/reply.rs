//! SMTP replies: a code, an enhanced status code (RFC 3463) and text.

use std::borrow::Cow;

/// One reply, possibly multi-line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit code.
    pub code: u16,
    /// The enhanced status code (`"5.7.1"`); `None` for the greeting and EHLO.
    pub status: Option<&'static str>,
    /// The lines of text (at least one).
    pub lines: Vec<Cow<'static, str>>,
}

impl Reply {
    /// A one-line reply with an enhanced status code.
    pub fn new(code: u16, status: &'static str, text: impl Into<Cow<'static, str>>) -> Reply {
        Reply { code, status: Some(status), lines: vec![text.into()] }
    }

    /// A reply without an enhanced status code (greeting, EHLO).
    pub fn plain(code: u16, lines: Vec<Cow<'static, str>>) -> Reply {
        Reply { code, status: None, lines }
    }

    /// True for 4xx and 5xx.
    pub fn is_error(&self) -> bool {
        self.code >= 400
    }

    /// Appends the wire form to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let last = self.lines.len().saturating_sub(1);
        for (i, line) in self.lines.iter().enumerate() {
            let sep = if i == last { ' ' } else { '-' };
            out.extend_from_slice(format!("{}{sep}", self.code).as_bytes());
            if let Some(s) = self.status {
                out.extend_from_slice(s.as_bytes());
                out.push(b' ');
            }
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
}

impl From<crate::refusal::Refusal> for Reply {
    fn from(r: crate::refusal::Refusal) -> Reply {
        Reply::new(r.code, r.status, r.text)
    }
}

/// `250 2.0.0 OK`.
pub fn ok() -> Reply {
    Reply::new(250, "2.0.0", "OK")
}

/// `503 5.5.1` bad sequence of commands.
pub fn bad_sequence(text: &'static str) -> Reply {
    Reply::new(503, "5.5.1", text)
}

/// `501 5.5.4` syntax error in parameters.
pub fn syntax(text: impl Into<Cow<'static, str>>) -> Reply {
    Reply::new(501, "5.5.4", text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_formatting() {
        let mut out = Vec::new();
        Reply::plain(250, vec!["mx Hello".into(), "PIPELINING".into(), "HELP".into()]).write_to(&mut out);
        assert_eq!(out, b"250-mx Hello\r\n250-PIPELINING\r\n250 HELP\r\n");
        out.clear();
        Reply::new(550, "5.7.1", "Unable to relay").write_to(&mut out);
        assert_eq!(out, b"550 5.7.1 Unable to relay\r\n");
    }
}
