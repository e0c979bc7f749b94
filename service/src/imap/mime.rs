//! A message's MIME structure as IMAP numbers it (RFC 9051 §6.4.5): where each part's
//! header and body lie in the raw bytes, its content type and transfer encoding, and
//! its sub-parts. Pure, apart from any I/O; FETCH builds BODYSTRUCTURE and cuts
//! `BODY[section]` out of the bytes with it.
//!
//! Offsets are into the message exactly as stored, so a section is always a slice of
//! what the client would get with `BODY[]`. A multipart body's parts end before the
//! line break that precedes the next boundary, as RFC 2046 §5.1.1 says that break
//! belongs to the boundary. Nesting stops at a depth of 20.

use std::ops::Range;

/// Deepest nesting followed; deeper parts are leaves.
const MAX_DEPTH: usize = 20;

/// One part of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The part's header, including the empty line that ends it (if any).
    pub header: Range<usize>,
    /// The part's body.
    pub body: Range<usize>,
    /// Lower-case type and subtype (`text`, `plain`).
    pub media: (String, String),
    /// Content-Type parameters (names lower-case).
    pub params: Vec<(String, String)>,
    /// Content-Transfer-Encoding, upper-case (`7BIT` when absent).
    pub encoding: String,
    /// Content-ID.
    pub id: Option<String>,
    /// Content-Description.
    pub description: Option<String>,
    /// What is inside.
    pub kind: Kind,
}

/// What a part holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A leaf.
    Single,
    /// `multipart/*`: its parts.
    Multipart(Vec<Part>),
    /// `message/rfc822` (or `message/global`): the message inside.
    Message(Box<Part>),
}

/// The structure of `raw`, a whole message.
pub fn parse(raw: &[u8]) -> Part {
    part(raw, 0..raw.len(), false, 0)
}

/// Where the header of `range` ends: after the first empty line, or at the end.
fn split_header(raw: &[u8], range: Range<usize>) -> (Range<usize>, Range<usize>) {
    let end = crate::message::header_len(&raw[range.clone()]);
    (range.start..range.start + end, range.start + end..range.end)
}

/// The header's fields, unfolded: (lower-case name, value).
pub fn fields(header: &[u8]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in header.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        if matches!(line[0], b' ' | b'\t') {
            if let Some((_, v)) = out.last_mut() {
                v.push(' ');
                v.push_str(String::from_utf8_lossy(line).trim());
            }
            continue;
        }
        if let Some(colon) = line.iter().position(|&b| b == b':') {
            let name = String::from_utf8_lossy(&line[..colon]).trim().to_ascii_lowercase();
            let value = String::from_utf8_lossy(&line[colon + 1..]).trim().to_owned();
            out.push((name, value));
        }
    }
    out
}

/// The first value of field `name` (lower-case).
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// A Content-Type value: lower-case type and subtype, and parameters.
pub fn content_type(value: &str) -> ((String, String), Vec<(String, String)>) {
    let mut pieces = split_params(value).into_iter();
    let media = pieces.next().unwrap_or_default();
    let (t, s) = media.split_once('/').unwrap_or((&media, ""));
    let (t, s) = (t.trim().to_ascii_lowercase(), s.trim().to_ascii_lowercase());
    let params = pieces
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            let v = v.trim();
            let v = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v);
            Some((k.trim().to_ascii_lowercase(), v.replace("\\\"", "\"").replace("\\\\", "\\")))
        })
        .collect();
    if t.is_empty() || s.is_empty() {
        return (("text".into(), "plain".into()), params);
    }
    ((t, s), params)
}

/// Splits at `;` outside quotes.
fn split_params(value: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let (mut quoted, mut escaped) = (false, false);
    for c in value.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                out.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = out.last_mut() {
            last.push(c);
        }
    }
    out.into_iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
}

fn part(raw: &[u8], range: Range<usize>, in_digest: bool, depth: usize) -> Part {
    let (header, body) = split_header(raw, range);
    let fields = fields(&raw[header.clone()]);
    let ((t, s), params) = match field(&fields, "content-type") {
        Some(v) => content_type(v),
        None if in_digest => (("message".into(), "rfc822".into()), Vec::new()),
        None => (("text".into(), "plain".into()), Vec::new()),
    };
    let encoding =
        field(&fields, "content-transfer-encoding").map_or_else(|| "7BIT".to_owned(), |e| e.to_ascii_uppercase());
    let kind = if depth >= MAX_DEPTH {
        Kind::Single
    } else if t == "multipart" {
        let boundary = params.iter().find(|(k, _)| k == "boundary").map(|(_, v)| v.clone());
        match boundary {
            Some(b) if !b.is_empty() => Kind::Multipart(
                children(raw, body.clone(), b.as_bytes())
                    .into_iter()
                    .map(|r| part(raw, r, s == "digest", depth + 1))
                    .collect(),
            ),
            _ => Kind::Single,
        }
    } else if t == "message" && (s == "rfc822" || s == "global") {
        Kind::Message(Box::new(part(raw, body.clone(), false, depth + 1)))
    } else {
        Kind::Single
    };
    Part {
        header,
        body,
        media: (t, s),
        params,
        encoding,
        id: field(&fields, "content-id").map(str::to_owned),
        description: field(&fields, "content-description").map(str::to_owned),
        kind,
    }
}

/// The ranges of a multipart body's parts: between delimiter lines `--boundary`, each
/// ending before the line break that precedes the next delimiter.
fn children(raw: &[u8], body: Range<usize>, boundary: &[u8]) -> Vec<Range<usize>> {
    let mut delimiter = b"--".to_vec();
    delimiter.extend_from_slice(boundary);
    let bytes = &raw[body.clone()];
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut at = 0;
    while at <= bytes.len() {
        let line_end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i + 1);
        let line = &bytes[at..line_end];
        if line.starts_with(&delimiter) {
            let rest = &line[delimiter.len()..];
            let closing = rest.starts_with(b"--");
            if let Some(s) = start.take() {
                // The break before the delimiter belongs to it.
                let mut end = at;
                if end > s && bytes[end - 1] == b'\n' {
                    end -= 1;
                    if end > s && bytes[end - 1] == b'\r' {
                        end -= 1;
                    }
                }
                out.push(body.start + s..body.start + end.max(s));
            }
            if closing {
                break;
            }
            start = Some(line_end);
        }
        if line_end >= bytes.len() {
            break;
        }
        at = line_end;
    }
    // A part left open by a missing closing delimiter runs to the end.
    if let Some(s) = start {
        out.push(body.start + s..body.end);
    }
    out
}

impl Part {
    /// The part numbered `path` (`[1, 2]` is part 1.2), as IMAP numbers them: the
    /// parts of a multipart, and for a message/rfc822 part those of the message inside.
    /// A non-multipart message has one part, numbered 1: its body.
    pub fn find(&self, path: &[u32]) -> Option<&Part> {
        let Some((&n, rest)) = path.split_first() else { return Some(self) };
        let i = usize::try_from(n).ok()?.checked_sub(1)?;
        let next = match &self.kind {
            Kind::Multipart(parts) => parts.get(i)?,
            // A message that is not multipart has one part, its body, numbered 1 —
            // for a message/rfc822 body, the whole message inside, header included.
            Kind::Message(_) | Kind::Single => (i == 0).then_some(self)?,
        };
        if rest.is_empty() {
            return Some(next);
        }
        match &next.kind {
            Kind::Message(inner) => inner.find_in_message(rest),
            _ => next.find(rest),
        }
    }

    /// Within an encapsulated message: its parts, numbered as a message's. One that is
    /// not multipart has one part, its body; when that body is itself a message,
    /// the parts below are that message's.
    fn find_in_message(&self, path: &[u32]) -> Option<&Part> {
        match (&self.kind, path) {
            (Kind::Multipart(_), _) => self.find(path),
            (_, [1]) => Some(self),
            (Kind::Message(inner), [1, rest @ ..]) => inner.find_in_message(rest),
            _ => None,
        }
    }

    /// Lines of the body (for text parts and messages).
    pub fn lines(&self, raw: &[u8]) -> u32 {
        let body = &raw[self.body.clone()];
        let n = memchr::memchr_iter(b'\n', body).count();
        let extra = usize::from(!body.is_empty() && !body.ends_with(b"\n"));
        u32::try_from(n + extra).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIXED: &[u8] = b"From: a@b\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n\
preamble\r\n--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\nworld\r\n--XX\r\n\
Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n--XX--\r\nepilogue\r\n";

    #[test]
    fn parts_are_found_where_imap_numbers_them() {
        let p = parse(MIXED);
        assert_eq!(p.media, ("multipart".into(), "mixed".into()));
        let text = p.find(&[1]).expect("part 1");
        assert_eq!(&MIXED[text.body.clone()], b"hello\r\nworld");
        assert_eq!(text.params, [("charset".to_owned(), "utf-8".to_owned())]);
        assert_eq!(text.lines(MIXED), 2);
        let message = p.find(&[2]).expect("part 2");
        assert_eq!(message.media, ("message".into(), "rfc822".into()));
        assert_eq!(&MIXED[message.body.clone()], b"Subject: inner\r\n\r\ninner body");
        let inner = p.find(&[2, 1]).expect("part 2.1");
        assert_eq!(&MIXED[inner.body.clone()], b"inner body");
        assert!(p.find(&[3]).is_none());
    }

    #[test]
    fn a_plain_message_is_its_own_part_one() {
        let raw = b"Subject: x\r\n\r\nbody\r\n";
        let p = parse(raw);
        assert_eq!(p.find(&[1]).map(|x| &raw[x.body.clone()]), Some(&b"body\r\n"[..]));
        assert_eq!(&raw[p.header.clone()], b"Subject: x\r\n\r\n");
        assert!(p.find(&[2]).is_none());
    }

    /// Regression (issue 24, item 4): for a message whose whole body is
    /// message/rfc822, part 1 was the inner message's body alone, and 1.HEADER's
    /// message had no header (imaptest: 22 failures).
    #[test]
    fn a_message_whose_body_is_a_message_has_it_whole_as_part_one() {
        let raw = b"Subject: outer\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n";
        let p = parse(raw);
        let one = p.find(&[1]).expect("part 1");
        assert_eq!(&raw[one.body.clone()], b"Subject: inner\r\n\r\ninner body\r\n");
        let Kind::Message(inner) = &one.kind else { panic!("part 1 holds a message") };
        assert_eq!(&raw[inner.header.clone()], b"Subject: inner\r\n\r\n");
        let inner_one = p.find(&[1, 1]).expect("part 1.1");
        assert_eq!(&raw[inner_one.body.clone()], b"inner body\r\n");
        assert!(p.find(&[2]).is_none());
        assert!(p.find(&[1, 1, 1]).is_none(), "a text body has no parts");
        // Two levels (imaptest's fetch-body-message-rfc822-x2): 1.1 is the innermost
        // message whole, 1.1.1 its body.
        let raw =
            b"Content-Type: message/rfc822\r\n\r\nContent-Type: message/rfc822\r\n\r\nSubject: z\r\n\r\nHello\r\n";
        let p = parse(raw);
        let part = |path: &[u32]| p.find(path).map(|x| &raw[x.body.clone()]);
        assert_eq!(part(&[1, 1]), Some(&b"Subject: z\r\n\r\nHello\r\n"[..]));
        assert_eq!(part(&[1, 1, 1]), Some(&b"Hello\r\n"[..]));
    }

    #[test]
    fn content_type_parameters_are_unquoted() {
        let ((t, s), params) = content_type("Text/HTML; charset=\"iso-8859-1\"; name=\"a;b.html\"");
        assert_eq!((t.as_str(), s.as_str()), ("text", "html"));
        assert_eq!(params[1], ("name".to_owned(), "a;b.html".to_owned()));
        assert_eq!(content_type("garbage").0, ("text".to_owned(), "plain".to_owned()));
    }

    #[test]
    fn folded_fields_are_unfolded() {
        let f = fields(b"Subject: a\r\n  long one\r\nTo: x@y\r\n\r\n");
        assert_eq!(field(&f, "subject"), Some("a long one"));
        assert_eq!(field(&f, "to"), Some("x@y"));
    }
}
