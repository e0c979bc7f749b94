//! A reader for the parts of IMAP's command grammar that imap-codec does not parse:
//! the tokens of a whole command (its literals in it), as imap-next hands over a
//! command its codec refused. [`super::extended`] reads ESEARCH's and ESORT's RETURN
//! options, LIST-EXTENDED, MULTIAPPEND, CATENATE and CANCELUPDATE with it, and gives
//! the rest of a command back to imap-codec where the rest is standard.

use std::borrow::Cow;

/// A syntax error: what was wrong, for the client's BAD.
pub(super) type Syntax<T> = Result<T, &'static str>;

/// A cursor over one command's bytes (tag to CRLF, literals included).
pub(super) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

/// Whether `b` may appear in an atom (RFC 9051 ATOM-CHAR, with `]` as ASTRING-CHAR
/// allows it).
fn atom_char(b: u8) -> bool {
    b > b' ' && b < 0x7f && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\')
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, at: 0 }
    }

    /// The next byte, not taken.
    pub fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// The bytes not yet read.
    pub fn rest(&self) -> &'a [u8] {
        &self.bytes[self.at..]
    }

    /// Takes `b` when it is next.
    pub fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// One space.
    pub fn sp(&mut self) -> Syntax<()> {
        if self.eat(b' ') { Ok(()) } else { Err("Expected a space") }
    }

    /// Takes `b` or fails with `why`.
    pub fn expect(&mut self, b: u8, why: &'static str) -> Syntax<()> {
        if self.eat(b) { Ok(()) } else { Err(why) }
    }

    /// The end of the command: CRLF (or a bare LF, as the session accepts) and nothing
    /// after it.
    pub fn end(&mut self) -> Syntax<()> {
        let rest = self.rest();
        if rest == b"\r\n" || rest == b"\n" || rest.is_empty() {
            self.at = self.bytes.len();
            Ok(())
        } else {
            Err("Unexpected text at the end of the command")
        }
    }

    /// Whether the command ends here.
    pub fn at_end(&self) -> bool {
        matches!(self.rest(), b"\r\n" | b"\n" | b"")
    }

    /// The atom-like word that follows (up to a space, a parenthesis or the end),
    /// wildcards and backslashes allowed (flags, list patterns, keywords).
    pub fn word(&mut self) -> Syntax<&'a str> {
        let start = self.at;
        while let Some(b) = self.peek() {
            if b <= b' ' || b >= 0x7f || matches!(b, b'(' | b')' | b'{' | b'"') {
                break;
            }
            self.at += 1;
        }
        if self.at == start {
            return Err("Expected a word");
        }
        std::str::from_utf8(&self.bytes[start..self.at]).map_err(|_| "Expected a word")
    }

    /// Takes `keyword` (any case) when it is the next word.
    pub fn keyword(&mut self, keyword: &str) -> bool {
        let rest = self.rest();
        let n = keyword.len();
        let ends = rest.get(n).is_none_or(|b| !atom_char(*b) || *b == b']');
        if rest.len() >= n && rest[..n].eq_ignore_ascii_case(keyword.as_bytes()) && ends {
            self.at += n;
            true
        } else {
            false
        }
    }

    /// A number.
    pub fn number(&mut self) -> Syntax<u64> {
        let start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        std::str::from_utf8(&self.bytes[start..self.at]).ok().and_then(|s| s.parse().ok()).ok_or("Expected a number")
    }

    /// A quoted string.
    fn quoted(&mut self) -> Syntax<Cow<'a, [u8]>> {
        self.expect(b'"', "Expected a string")?;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None | Some(b'\r' | b'\n') => return Err("Unterminated quoted string"),
                Some(b'"') => {
                    self.at += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    self.at += 1;
                    match self.peek() {
                        Some(b @ (b'"' | b'\\')) => out.push(b),
                        _ => return Err("Bad escape in a quoted string"),
                    }
                    self.at += 1;
                }
                Some(b) => {
                    out.push(b);
                    self.at += 1;
                }
            }
        }
    }

    /// A literal (`{n}`, `{n+}`, or with `binary` also `~{n}`): its bytes.
    pub fn literal(&mut self, binary: bool) -> Syntax<&'a [u8]> {
        if binary {
            self.eat(b'~');
        }
        self.expect(b'{', "Expected a literal")?;
        let n = usize::try_from(self.number()?).map_err(|_| "Literal too long")?;
        self.eat(b'+');
        self.expect(b'}', "Bad literal")?;
        self.eat(b'\r');
        self.expect(b'\n', "Bad literal")?;
        let end = self.at.checked_add(n).filter(|e| *e <= self.bytes.len()).ok_or("Literal cut short")?;
        let data = &self.bytes[self.at..end];
        self.at = end;
        Ok(data)
    }

    /// A string: quoted or a literal.
    pub fn string(&mut self) -> Syntax<Cow<'a, [u8]>> {
        match self.peek() {
            Some(b'"') => self.quoted(),
            Some(b'{') => self.literal(false).map(Cow::Borrowed),
            _ => Err("Expected a string"),
        }
    }

    /// An astring, or with `wildcards` a list-mailbox (`%` and `*` in the atom).
    pub fn astring(&mut self, wildcards: bool) -> Syntax<Cow<'a, [u8]>> {
        match self.peek() {
            Some(b'"' | b'{') => self.string(),
            _ => {
                let start = self.at;
                while self.peek().is_some_and(|b| atom_char(b) || (wildcards && matches!(b, b'%' | b'*'))) {
                    self.at += 1;
                }
                if self.at == start {
                    return Err("Expected a string or an atom");
                }
                Ok(Cow::Borrowed(&self.bytes[start..self.at]))
            }
        }
    }

    /// A parenthesised list of items read by `item`, separated by single spaces
    /// (empty allowed).
    pub fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> Syntax<T>) -> Syntax<Vec<T>> {
        self.expect(b'(', "Expected a parenthesised list")?;
        let mut out = Vec::new();
        if self.eat(b')') {
            return Ok(out);
        }
        loop {
            out.push(item(self)?);
            if self.eat(b')') {
                return Ok(out);
            }
            self.sp()?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_literals_and_lists_are_read_as_sent() {
        let mut r = Reader::new(b"a \"x\\\"y\" {3}\r\nabc ~{2}\r\n\0b (A B) atom]x%\r\n");
        assert_eq!(r.word().unwrap(), "a");
        r.sp().unwrap();
        assert_eq!(r.astring(false).unwrap().as_ref(), b"x\"y");
        r.sp().unwrap();
        assert_eq!(r.string().unwrap().as_ref(), b"abc");
        r.sp().unwrap();
        assert_eq!(r.literal(true).unwrap(), b"\0b");
        r.sp().unwrap();
        assert_eq!(r.list(|r| r.word().map(str::to_owned)).unwrap(), ["A", "B"]);
        r.sp().unwrap();
        assert_eq!(r.astring(true).unwrap().as_ref(), b"atom]x%");
        r.end().unwrap();
    }

    #[test]
    fn a_literal_longer_than_the_command_is_an_error_not_a_panic() {
        assert!(Reader::new(b"{10}\r\nabc").literal(false).is_err());
        assert!(Reader::new(b"{99999999999999999999}\r\n").literal(false).is_err());
        assert!(Reader::new(b"\"abc").string().is_err());
    }

    #[test]
    fn keywords_match_whole_words_in_any_case() {
        let mut r = Reader::new(b"returnx RETURN (");
        assert!(!r.keyword("RETURN"));
        r.word().unwrap();
        r.sp().unwrap();
        assert!(r.keyword("return"));
    }
}
