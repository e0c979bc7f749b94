//! SEARCH keys (RFC 9051 §6.4.4) evaluated on one message: its flags, dates, size,
//! and, when a key needs them, its header fields and text. Pure, apart from any I/O.
//!
//! SUBJECT, FROM, TO, CC and BCC look in the fields the store keeps for each message
//! ([`SearchFields`]: unfolded, decoded, lower case), so they match encoded words
//! and letters beyond ASCII in any case; HEADER looks in the raw header, ignoring
//! ASCII case.

use imap_next::imap_types::search::SearchKey;

use super::mime;
use super::sequence;
use crate::message::{SearchField, SearchFields};
use crate::store::ImapMessage;
use crate::store::imap::flags;

/// What a message is searched on.
pub struct Candidate<'a> {
    /// Its message number.
    pub number: u32,
    /// The message.
    pub message: &'a ImapMessage,
    /// Its bytes, when a key needs them.
    pub raw: Option<&'a [u8]>,
    /// The folder's message count and largest UID (`*` in sets).
    pub largest: (u32, u32),
    /// Its searchable fields as the store keeps them, when read.
    stored: Option<&'a SearchFields>,
    /// Its searchable fields worked out from its bytes, on first use when not stored.
    worked_out: std::cell::OnceCell<SearchFields>,
    /// Its header's fields, unfolded, read once when a key first needs them.
    fields: std::cell::OnceCell<Vec<(String, String)>>,
    /// `\Recent` in the session searching.
    recent: bool,
}

impl<'a> Candidate<'a> {
    /// A candidate whose header fields are read on first use.
    pub fn new(number: u32, message: &'a ImapMessage, raw: Option<&'a [u8]>, largest: (u32, u32)) -> Candidate<'a> {
        Candidate {
            number,
            message,
            raw,
            largest,
            stored: None,
            worked_out: std::cell::OnceCell::new(),
            fields: std::cell::OnceCell::new(),
            recent: false,
        }
    }

    /// The same, `\Recent` or not in the session searching.
    pub fn recent(mut self, recent: bool) -> Candidate<'a> {
        self.recent = recent;
        self
    }

    /// The same, with its searchable fields as stored.
    pub fn with_fields(mut self, fields: Option<&'a SearchFields>) -> Candidate<'a> {
        self.stored = fields;
        self
    }

    /// Its header's fields (none without its bytes).
    fn fields(&self) -> &[(String, String)] {
        self.fields.get_or_init(|| {
            self.raw.map(|raw| mime::fields(&raw[..crate::message::header_len(raw)])).unwrap_or_default()
        })
    }

    /// Its searchable fields: as stored, else from its bytes (empty without either).
    fn search_fields(&self) -> &SearchFields {
        self.stored
            .unwrap_or_else(|| self.worked_out.get_or_init(|| self.raw.map(SearchFields::of).unwrap_or_default()))
    }
}

/// How much of a message a search (or a fetch) needs to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Needs {
    /// What the store lists: flags, dates, sizes.
    Nothing,
    /// The searchable fields the store keeps ([`SearchFields`]).
    Fields,
    /// The header.
    Header,
    /// All of it.
    Everything,
}

/// What `keys` need to read of each message.
pub fn needs(keys: &[SearchKey<'_>]) -> Needs {
    keys.iter()
        .map(|k| match k {
            SearchKey::And(ks) => needs(ks.as_ref()),
            SearchKey::Not(k) => needs(std::slice::from_ref(k)),
            SearchKey::Or(a, b) => needs(std::slice::from_ref(a)).max(needs(std::slice::from_ref(b))),
            SearchKey::Body(_) | SearchKey::Text(_) => Needs::Everything,
            SearchKey::Bcc(_) | SearchKey::Cc(_) | SearchKey::From(_) | SearchKey::Subject(_) | SearchKey::To(_) => {
                Needs::Fields
            }
            SearchKey::Header(..) | SearchKey::SentBefore(_) | SearchKey::SentOn(_) | SearchKey::SentSince(_) => {
                Needs::Header
            }
            _ => Needs::Nothing,
        })
        .max()
        .unwrap_or(Needs::Nothing)
}

/// Case-insensitive substring (ASCII case; the RFC leaves the rest to the server).
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() {
        return true;
    }
    haystack.len() >= needle.len() && haystack.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

/// The message's day (UTC) for BEFORE/ON/SINCE.
fn day_of(secs: i64) -> Option<chrono::NaiveDate> {
    chrono::DateTime::from_timestamp(secs, 0).map(|d| d.date_naive())
}

/// The day of its Date: header, for SENTBEFORE and the like.
fn sent_day(fields: &[(String, String)]) -> Option<chrono::NaiveDate> {
    let date = mime::field(fields, "date")?;
    let header = format!("Date: {date}\r\n\r\n");
    let parsed = mail_parser::MessageParser::new().parse_headers(header.as_bytes())?;
    let d = parsed.date()?;
    chrono::NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
}

/// Whether a value of header field `name` in `raw` (a header, or a whole message whose
/// header ends at its first empty line) contains `needle`, its folded lines joined by
/// a space. Scans the bytes once, copying only the values of that field.
fn header_contains(raw: &[u8], name: &str, needle: &[u8]) -> bool {
    let mut value: Vec<u8> = Vec::new();
    let mut in_field = false;
    for line in raw.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if matches!(line[0], b' ' | b'\t') {
            if in_field {
                value.push(b' ');
                value.extend_from_slice(line.trim_ascii());
            }
            continue;
        }
        if in_field && contains(&value, needle) {
            return true;
        }
        value.clear();
        in_field = line
            .iter()
            .position(|&b| b == b':')
            .is_some_and(|colon| line[..colon].trim_ascii().eq_ignore_ascii_case(name.as_bytes()));
        if in_field && let Some(colon) = line.iter().position(|&b| b == b':') {
            value.extend_from_slice(line[colon + 1..].trim_ascii());
        }
    }
    in_field && contains(&value, needle)
}

/// Whether a value of header field `name` contains `needle` once its encoded words
/// are decoded (RFC 2047), comparing in any case: `HEADER Subject München` finds
/// `Subject: =?utf-8?q?M=C3=BCnchen?=`.
fn decoded_header_contains(raw: &[u8], name: &str, needle: &[u8]) -> bool {
    let header = &raw[..crate::message::header_len(raw)];
    if memchr::memmem::find(header, b"=?").is_none() {
        return false;
    }
    let needle = String::from_utf8_lossy(needle).to_lowercase();
    mime::fields(header).iter().filter(|(n, _)| n == name).any(|(_, value)| {
        // Any field's value read as unstructured text, as Subject's is.
        let one = format!("Subject: {value}\r\n\r\n");
        mail_parser::MessageParser::new()
            .parse_headers(one.as_bytes())
            .and_then(|m| m.subject().map(|s| s.to_lowercase().contains(&needle)))
            .unwrap_or(false)
    })
}

/// Whether the message's text contains `needle` once decoded — its text parts'
/// transfer encodings and charsets undone, and with `header`, its header fields' encoded
/// words — comparing in any case: `TEXT grüße` finds a quoted-printable Latin-1 body.
fn decoded_contains(raw: &[u8], needle: &[u8], header: bool) -> bool {
    let needle = String::from_utf8_lossy(needle).to_lowercase();
    let Some(message) = mail_parser::MessageParser::default().parse(raw) else { return false };
    let found = |text: &str| text.to_lowercase().contains(&needle);
    let in_header = header
        && message.headers().iter().any(|h| match &h.value {
            mail_parser::HeaderValue::Text(t) => found(t),
            mail_parser::HeaderValue::TextList(l) => l.iter().any(|t| found(t)),
            mail_parser::HeaderValue::Address(a) => {
                a.iter().any(|a| a.name.as_deref().is_some_and(found) || a.address.as_deref().is_some_and(found))
            }
            _ => false,
        });
    in_header || message.parts.iter().any(|p| p.text_contents().is_some_and(found))
}

/// Words every match must have in its header: those of the top-level HEADER keys,
/// which the keys are ANDed with. Folding only breaks a value at white space, so each
/// word stays whole in the raw header; words with bytes beyond ASCII are left out, and
/// the store keeps a header with encoded words (`=?`) whatever its raw words.
pub fn header_words(keys: &[SearchKey<'_>]) -> Vec<String> {
    let mut out = Vec::new();
    for k in keys {
        let value: &[u8] = match k {
            SearchKey::And(ks) => {
                out.extend(header_words(ks.as_ref()));
                continue;
            }
            SearchKey::Header(_, v) => v.as_ref(),
            _ => continue,
        };
        for word in value.split(|b| b.is_ascii_whitespace()).filter(|w| !w.is_empty()) {
            if word.is_ascii() {
                out.push(String::from_utf8_lossy(word).into_owned());
            }
        }
    }
    out
}

/// The searchable field and the text, in lower case, a SUBJECT, FROM, TO, CC or BCC
/// key looks for.
fn field_key<'k>(k: &'k SearchKey<'_>) -> Option<(SearchField, &'k [u8])> {
    match k {
        SearchKey::Subject(v) => Some((SearchField::Subject, v.as_ref())),
        SearchKey::From(v) => Some((SearchField::From, v.as_ref())),
        SearchKey::To(v) => Some((SearchField::To, v.as_ref())),
        SearchKey::Cc(v) => Some((SearchField::Cc, v.as_ref())),
        SearchKey::Bcc(v) => Some((SearchField::Bcc, v.as_ref())),
        _ => None,
    }
}

/// Text a key looks for, as the stored fields are kept (UTF-8, lower case).
fn lower(text: &[u8]) -> String {
    String::from_utf8_lossy(text).to_lowercase()
}

/// What every match must have in its searchable fields: the top-level SUBJECT, FROM,
/// TO, CC and BCC keys, which the keys are ANDed with, for the store to filter on.
pub fn field_filters(keys: &[SearchKey<'_>]) -> Vec<(SearchField, String)> {
    let mut out = Vec::new();
    for k in keys {
        if let SearchKey::And(ks) = k {
            out.extend(field_filters(ks.as_ref()));
        } else if let Some((field, text)) = field_key(k) {
            out.push((field, lower(text)));
        }
    }
    out
}

/// Whether `c` matches every key of `keys`.
pub fn matches(keys: &[SearchKey<'_>], c: &Candidate<'_>) -> bool {
    keys.iter().all(|k| key(k, c))
}

fn key(k: &SearchKey<'_>, c: &Candidate<'_>) -> bool {
    let m = c.message;
    let has = |bit: u8| m.flags & bit != 0;
    let field = |name: &str, needle: &[u8]| c.raw.is_some_and(|raw| header_contains(raw, name, needle));
    let day = day_of(m.received_at);
    let sent = || sent_day(c.fields());
    match k {
        SearchKey::And(ks) => ks.as_ref().iter().all(|k| key(k, c)),
        SearchKey::SequenceSet(set) => sequence::contains(set, c.number, c.largest.0),
        SearchKey::Uid(set) => sequence::contains(set, m.uid, c.largest.1),
        SearchKey::All => true,
        SearchKey::Answered => has(flags::ANSWERED),
        SearchKey::Unanswered => !has(flags::ANSWERED),
        SearchKey::Deleted => has(flags::DELETED),
        SearchKey::Undeleted => !has(flags::DELETED),
        SearchKey::Draft => has(flags::DRAFT),
        SearchKey::Undraft => !has(flags::DRAFT),
        SearchKey::Flagged => has(flags::FLAGGED),
        SearchKey::Unflagged => !has(flags::FLAGGED),
        SearchKey::Seen => has(flags::SEEN),
        SearchKey::Unseen => !has(flags::SEEN),
        SearchKey::Recent => c.recent,
        SearchKey::New => c.recent && !has(flags::SEEN),
        SearchKey::Old => !c.recent,
        SearchKey::Keyword(k) => m.keyword_list().any(|w| w.eq_ignore_ascii_case(k.as_ref())),
        SearchKey::Unkeyword(k) => !m.keyword_list().any(|w| w.eq_ignore_ascii_case(k.as_ref())),
        SearchKey::Larger(n) => m.size > u64::from(*n),
        SearchKey::Smaller(n) => m.size < u64::from(*n),
        SearchKey::Before(d) => day.is_some_and(|day| day < *d.as_ref()),
        SearchKey::On(d) => day.is_some_and(|day| day == *d.as_ref()),
        SearchKey::Since(d) => day.is_some_and(|day| day >= *d.as_ref()),
        SearchKey::SentBefore(d) => sent().is_some_and(|day| day < *d.as_ref()),
        SearchKey::SentOn(d) => sent().is_some_and(|day| day == *d.as_ref()),
        SearchKey::SentSince(d) => sent().is_some_and(|day| day >= *d.as_ref()),
        SearchKey::Bcc(_) | SearchKey::Cc(_) | SearchKey::From(_) | SearchKey::To(_) | SearchKey::Subject(_) => {
            field_key(k).is_some_and(|(field, text)| c.search_fields().contains(field, &lower(text)))
        }
        SearchKey::Header(name, s) => {
            let name = String::from_utf8_lossy(name.as_ref()).to_ascii_lowercase();
            field(&name, s.as_ref()) || c.raw.is_some_and(|raw| decoded_header_contains(raw, &name, s.as_ref()))
        }
        SearchKey::Body(s) => c.raw.is_some_and(|raw| {
            contains(&raw[mime::parse(raw).body], s.as_ref()) || decoded_contains(raw, s.as_ref(), false)
        }),
        SearchKey::Text(s) => {
            c.raw.is_some_and(|raw| contains(raw, s.as_ref()) || decoded_contains(raw, s.as_ref(), true))
        }
        SearchKey::Not(k) => !key(k, c),
        SearchKey::Or(a, b) => key(a, c) || key(b, c),
        SearchKey::ModSequence { modseq, .. } => m.modseq >= *modseq,
        // WITHIN (RFC 5032): arrived at least / at most so many seconds ago.
        SearchKey::Older(secs) => m.received_at <= crate::store::now_secs() - i64::from(secs.get()),
        SearchKey::Younger(secs) => m.received_at >= crate::store::now_secs() - i64::from(secs.get()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (issue 24, item 9): `TEXT grüße` and `HEADER Subject München` found
    /// nothing when the words were in a quoted-printable Latin-1 body and an encoded
    /// word; Dovecot finds both.
    #[test]
    fn text_and_header_keys_look_in_the_decoded_message() {
        let raw: &[u8] = b"Subject: =?utf-8?q?M=C3=BCnchen_im_Winter?=\r\nX-Note: =?iso-8859-1?q?Gr=FC=DFe?=\r\n\
Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nViele Gr=FC=DFe\r\n";
        let m = ImapMessage { id: 1, uid: 1, flags: 0, keywords: String::new(), modseq: 1, size: 1, received_at: 0 };
        let c = Candidate::new(1, &m, Some(raw), (1, 1));
        let astring = |s: &str| imap_next::imap_types::core::AString::try_from(s.to_owned()).expect("astring");
        let header = |name: &str, v: &str| SearchKey::Header(astring(name), astring(v));
        assert!(key(&header("subject", "münchen"), &c));
        assert!(key(&header("X-Note", "GRÜSSE"), &c) || key(&header("X-Note", "grüße"), &c));
        assert!(!key(&header("subject", "berlin"), &c));
        assert!(key(&SearchKey::Text(astring("grüße")), &c));
        assert!(key(&SearchKey::Body(astring("GRÜßE")), &c));
        assert!(!key(&SearchKey::Body(astring("münchen")), &c), "BODY is not the header");
        assert!(key(&SearchKey::Text(astring("münchen")), &c), "TEXT is");
    }

    #[test]
    fn flags_sizes_and_text_are_searched() {
        let raw: &[u8] = b"From: Ann <ann@corp.test>\r\nSubject: Budget 2027\r\nDate: Fri, 27 Nov 2026 09:00:00 +0000\r\n\r\nThe numbers.\r\n";
        let m = ImapMessage {
            id: 1,
            uid: 5,
            flags: flags::SEEN,
            keywords: "$Work ".into(),
            modseq: 3,
            size: raw.len() as u64,
            received_at: 1_795_856_400,
        };
        let c = Candidate::new(1, &m, Some(raw), (1, 5));
        let yes = |k: SearchKey<'_>| assert!(key(&k, &c), "{k:?}");
        let no = |k: SearchKey<'_>| assert!(!key(&k, &c), "{k:?}");
        yes(SearchKey::Seen);
        no(SearchKey::Unseen);
        yes(SearchKey::Keyword("$work".try_into().expect("atom")));
        yes(SearchKey::Subject("budget".try_into().expect("astring")));
        no(SearchKey::Subject("holiday".try_into().expect("astring")));
        yes(SearchKey::From("ann@CORP".try_into().expect("astring")));
        yes(SearchKey::Body("numbers".try_into().expect("astring")));
        no(SearchKey::Body("Budget".try_into().expect("astring")));
        yes(SearchKey::Larger(10));
        yes(SearchKey::Uid("5".try_into().expect("set")));
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
        yes(SearchKey::SentOn(day.try_into().expect("date")));
        assert_eq!(
            needs(&[SearchKey::Not(Box::new(SearchKey::Text("x".try_into().expect("astring"))))]),
            Needs::Everything
        );
        assert_eq!(needs(&[SearchKey::Seen, SearchKey::From("a".try_into().expect("astring"))]), Needs::Fields);
        assert_eq!(
            needs(&[
                SearchKey::From("a".try_into().expect("astring")),
                SearchKey::SentOn(day.try_into().expect("date"))
            ]),
            Needs::Header
        );
        assert_eq!(needs(&[SearchKey::Seen]), Needs::Nothing);
        let words = header_words(&[
            SearchKey::Header("X-Tag".try_into().expect("astring"), "budget 2027".try_into().expect("astring")),
            SearchKey::Not(Box::new(SearchKey::Header(
                "X".try_into().expect("astring"),
                "x".try_into().expect("astring"),
            ))),
        ]);
        assert_eq!(words, ["budget", "2027"], "positive top-level keys only, word by word");
        let filters = field_filters(&[
            SearchKey::Subject("Budget 2027".try_into().expect("astring")),
            SearchKey::Or(
                Box::new(SearchKey::From("x".try_into().expect("astring"))),
                Box::new(SearchKey::To("y".try_into().expect("astring"))),
            ),
        ]);
        assert_eq!(filters, [(SearchField::Subject, "budget 2027".to_owned())], "positive top-level keys, lower case");
        let folded: &[u8] = b"Subject: Budget\r\n 2027\r\nTo: x@y\r\n\r\nSubject: not a field";
        assert!(header_contains(folded, "subject", b"budget 2027"), "folded lines are joined");
        assert!(!header_contains(folded, "subject", b"not a field"), "the body is not the header");
        assert!(header_contains(folded, "to", b"X@Y") && !header_contains(folded, "cc", b""));
    }
}
