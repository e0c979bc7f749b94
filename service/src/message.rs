//! What SMTP, POP3 and the queue share about messages as bytes: dot-stuffing for the
//! wire, the header values Mailroom reads (parsed by mail-parser, so folding and
//! encoded words are handled as RFC 5322 and RFC 2047 say), the header fields IMAP
//! SEARCH looks in (worked out once, when a message is stored), and the date format
//! of the headers it writes.

use mail_parser::MessageParser;

pub use mailroom_shared::time::rfc5322 as date;

/// Appends `content` dot-stuffed (RFC 5321 §4.5.2, RFC 1939 §3), ending with CRLF,
/// without the final `.` line.
pub fn dot_stuff(content: &[u8], out: &mut Vec<u8>) {
    out.reserve(content.len() + content.len() / 64 + 8);
    let mut start = 0;
    if content.first() == Some(&b'.') {
        out.push(b'.');
    }
    for pos in memchr::memmem::find_iter(content, b"\n.") {
        out.extend_from_slice(&content[start..=pos]);
        out.push(b'.');
        start = pos + 1;
    }
    out.extend_from_slice(&content[start..]);
    if !content.is_empty() && !content.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
}

/// The message's `Message-ID:`, with its angle brackets, if it has one.
pub fn message_id(message: &[u8]) -> Option<String> {
    let parsed = MessageParser::new().parse_headers(message)?;
    parsed.message_id().map(|id| format!("<{id}>"))
}

/// The message's `Subject:`, decoded, if it has one.
pub fn subject(message: &[u8]) -> Option<String> {
    let parsed = MessageParser::new().parse_headers(message)?;
    parsed.subject().map(str::to_owned)
}

/// The domain of the message's (first) `From:` address, if it has a valid one.
pub fn from_domain(message: &[u8]) -> Option<mailroom_shared::address::Domain> {
    let parsed = MessageParser::new().parse_headers(message)?;
    let address = parsed.from()?.first()?.address()?;
    let (_, domain) = address.rsplit_once('@')?;
    mailroom_shared::address::Domain::parse(domain).ok()
}

/// The header fields IMAP SEARCH's SUBJECT, FROM, TO, CC and BCC keys look in, each
/// ready to be searched: every value of the field, unfolded, as written and (where it
/// differs) decoded (RFC 2047 words, addresses as `name <address>`), one per line, in
/// lower case. Worked out when a message is stored, so that a search reads a few
/// short strings a message instead of its header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchFields {
    /// `Subject:`.
    pub subject: String,
    /// `From:`.
    pub from: String,
    /// `To:`.
    pub to: String,
    /// `Cc:`.
    pub cc: String,
    /// `Bcc:`.
    pub bcc: String,
}

/// One of [`SearchFields`]' fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchField {
    /// `Subject:`.
    Subject,
    /// `From:`.
    From,
    /// `To:`.
    To,
    /// `Cc:`.
    Cc,
    /// `Bcc:`.
    Bcc,
}

impl SearchField {
    /// Every field, in [`SearchFields`]' order.
    pub const ALL: [SearchField; 5] =
        [SearchField::Subject, SearchField::From, SearchField::To, SearchField::Cc, SearchField::Bcc];
}

impl SearchFields {
    /// The fields of a message (or of its header alone).
    pub fn of(message: &[u8]) -> SearchFields {
        let header = headers(message);
        let mut out = SearchFields::default();
        let Some(parsed) = MessageParser::new().parse_headers(header) else { return out };
        for h in parsed.headers() {
            let field = match h.name {
                mail_parser::HeaderName::Subject => SearchField::Subject,
                mail_parser::HeaderName::From => SearchField::From,
                mail_parser::HeaderName::To => SearchField::To,
                mail_parser::HeaderName::Cc => SearchField::Cc,
                mail_parser::HeaderName::Bcc => SearchField::Bcc,
                _ => continue,
            };
            let raw = header.get(h.offset_start as usize..h.offset_end as usize).unwrap_or_default();
            let written = unfold(raw);
            let decoded = match &h.value {
                mail_parser::HeaderValue::Text(t) => t.to_string(),
                mail_parser::HeaderValue::TextList(list) => list.join(", "),
                mail_parser::HeaderValue::Address(a) => a
                    .iter()
                    .map(|addr| match (addr.name(), addr.address()) {
                        (Some(name), Some(address)) => format!("{name} <{address}>"),
                        (name, address) => name.or(address).unwrap_or_default().to_owned(),
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => String::new(),
            };
            let slot = out.get_mut(field);
            for value in [written.as_str(), decoded.as_str()] {
                let value = value.trim().to_lowercase();
                if value.is_empty() || slot.lines().any(|l| l == value) {
                    continue;
                }
                if !slot.is_empty() {
                    slot.push('\n');
                }
                slot.push_str(&value);
            }
        }
        out
    }

    /// The field's text.
    pub fn get(&self, field: SearchField) -> &str {
        match field {
            SearchField::Subject => &self.subject,
            SearchField::From => &self.from,
            SearchField::To => &self.to,
            SearchField::Cc => &self.cc,
            SearchField::Bcc => &self.bcc,
        }
    }

    fn get_mut(&mut self, field: SearchField) -> &mut String {
        match field {
            SearchField::Subject => &mut self.subject,
            SearchField::From => &mut self.from,
            SearchField::To => &mut self.to,
            SearchField::Cc => &mut self.cc,
            SearchField::Bcc => &mut self.bcc,
        }
    }

    /// Whether `field` contains `needle`, which must be in lower case already
    /// ([`str::to_lowercase`]).
    pub fn contains(&self, field: SearchField, needle: &str) -> bool {
        self.get(field).contains(needle)
    }
}

/// A field's raw value with its folding undone (RFC 5322 §2.2.3): line breaks before
/// white space removed; bytes that are not UTF-8 replaced.
fn unfold(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    text.replace("\r\n", "").replace('\n', "")
}

/// The headers of a message, up to and including the blank line that ends them (all
/// of it when there is no body).
pub fn headers(message: &[u8]) -> &[u8] {
    &message[..header_len(message)]
}

/// Where a message's header ends: after the empty line that ends it (CRLF or, in
/// mail appended over IMAP, a bare LF), or at the end when there is none. A message
/// that starts with its empty line has an empty header.
pub fn header_len(message: &[u8]) -> usize {
    if message.starts_with(b"\r\n") {
        return 2;
    }
    if message.starts_with(b"\n") {
        return 1;
    }
    let crlf = memchr::memmem::find(message, b"\r\n\r\n").map(|i| i + 4);
    let lf = memchr::memmem::find(message, b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(message.len()),
    }
}

/// `message` without the header fields for which `remove(name, value)` is true (the
/// body untouched). Borrowed when none is removed.
pub fn strip_fields<'m>(message: &'m [u8], remove: impl Fn(&str, &str) -> bool) -> std::borrow::Cow<'m, [u8]> {
    let end = memchr::memmem::find(message, b"\r\n\r\n").map_or(message.len(), |p| p + 2);
    let mut fields = Vec::new();
    let mut start = 0;
    for line in memchr::memmem::find_iter(&message[..end], b"\r\n").map(|p| p + 2) {
        let next = message.get(line).copied();
        if !matches!(next, Some(b' ' | b'\t')) {
            fields.push(start..line);
            start = line;
        }
    }
    let goes = |f: &[u8]| {
        let text = String::from_utf8_lossy(f);
        text.split_once(':').is_some_and(|(name, value)| remove(name.trim(), value))
    };
    if !fields.iter().any(|f| goes(&message[f.clone()])) {
        return std::borrow::Cow::Borrowed(message);
    }
    let mut out = Vec::with_capacity(message.len());
    for f in fields.into_iter().filter(|f| !goes(&message[f.clone()])) {
        out.extend_from_slice(&message[f]);
    }
    out.extend_from_slice(&message[end..]);
    std::borrow::Cow::Owned(out)
}

/// `message` with `tag` before its subject (a `Subject:` added when it has none).
pub fn tag_subject(message: &[u8], tag: &str) -> Vec<u8> {
    let end = memchr::memmem::find(message, b"\r\n\r\n").map_or(message.len(), |p| p + 2);
    let mut at = 0;
    let found = loop {
        if message.len() >= at + 8 && message[at..at + 8].eq_ignore_ascii_case(b"subject:") {
            break Some(at + 8);
        }
        match memchr::memmem::find(&message[at..end], b"\r\n") {
            Some(p) if at + p + 2 < end => at += p + 2,
            _ => break None,
        }
    };
    let mut out = Vec::with_capacity(message.len() + tag.len() + 16);
    match found {
        Some(value) => {
            out.extend_from_slice(&message[..value]);
            out.push(b' ');
            out.extend_from_slice(tag.as_bytes());
            out.extend_from_slice(&message[value..]);
        }
        None => {
            out.extend_from_slice(format!("Subject: {tag}\r\n").as_bytes());
            out.extend_from_slice(message);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values() {
        let m =
            b"Subject: =?utf-8?q?caf=C3=A9?=\r\n lunch\r\nMessage-ID:\r\n <a@b>\r\n\r\nMessage-ID: <not@header>\r\n";
        assert_eq!(message_id(m).as_deref(), Some("<a@b>"));
        assert_eq!(subject(m).as_deref(), Some("café lunch"));
        assert_eq!(message_id(b"Subject: x\r\n\r\nbody\r\n"), None);
        let from = from_domain(b"From: \"Ann\" <ann@Corp.Test>\r\n\r\n").map(|d| d.to_string());
        assert_eq!(from.as_deref(), Some("corp.test"));
        assert_eq!(from_domain(b"From: nobody\r\n\r\n"), None);
        assert_eq!(headers(m), &m[..m.windows(4).position(|w| w == b"\r\n\r\n").expect("blank line") + 4]);
    }

    #[test]
    fn search_fields_are_unfolded_decoded_and_lower_case() {
        let m = b"Subject: =?utf-8?q?Caf=C3=A9?=\r\n Lunch\r\nFrom: \"Smith, Ann\" <Ann@Corp.Test>\r\n\
                  To: bob@corp.test,\r\n\tcarol@corp.test\r\nCc: =?iso-8859-1?q?Jos=E9?= <jose@x.test>\r\n\
                  X-Other: no\r\n\r\nSubject: body\r\n";
        let f = SearchFields::of(m);
        assert_eq!(f.subject, "=?utf-8?q?caf=c3=a9?= lunch\ncafé lunch");
        assert!(f.contains(SearchField::Subject, "café lunch") && !f.contains(SearchField::Subject, "body"));
        assert!(
            f.contains(SearchField::From, "\"smith, ann\"") && f.contains(SearchField::From, "smith, ann <ann@corp")
        );
        assert!(f.contains(SearchField::To, "bob@corp.test,\tcarol") && f.contains(SearchField::To, "carol@corp.test"));
        assert!(f.contains(SearchField::Cc, "josé <jose@x.test>"));
        assert_eq!(f.bcc, "");
        assert_eq!(SearchFields::of(b"no header at all"), SearchFields::default());
    }

    #[test]
    fn dot_stuffing() {
        let mut out = Vec::new();
        dot_stuff(b".a\r\n..b\r\nc.\r\n.\r\n", &mut out);
        assert_eq!(out, b"..a\r\n...b\r\nc.\r\n..\r\n");
        let mut out = Vec::new();
        dot_stuff(b"no final newline", &mut out);
        assert_eq!(out, b"no final newline\r\n");
    }

    #[test]
    fn dates() {
        assert_eq!(date(1_795_688_400), "Thu, 26 Nov 2026 10:20:00 +0000");
    }
}
