//! OBJECTID (RFC 8474) and SAVEDATE (RFC 8514): the FETCH items EMAILID, THREADID
//! and SAVEDATE, the STATUS item MAILBOXID, and the search keys EMAILID, THREADID,
//! SAVEDBEFORE, SAVEDON, SAVEDSINCE and SAVEDATESUPPORTED — none of which imap-codec
//! knows. A command asking for them is given to imap-codec without them (items taken
//! out; keys put as the UID sets they stand for), and the answers are spliced into
//! the responses imap-types writes.
//!
//! The ids: a folder's MAILBOXID is `F` and its id (its UIDVALIDITY, kept across
//! RENAME, never reused); a message's EMAILID is `M` and its stored content's id, which
//! every copy of it shares (COPY, MOVE, the same message delivered to several
//! mailboxes); THREADID is NIL (threads are worked out per command, not stored).

use imap_next::imap_types::response::{Data, Response};

/// The OBJECTID and SAVEDATE items a FETCH or STATUS asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct ObjectItems {
    pub emailid: bool,
    pub threadid: bool,
    pub savedate: bool,
    pub mailboxid: bool,
    /// The items were only these: a stand-in (UID, MESSAGES) was put in their place,
    /// to be left out of the answer.
    pub stand_in: bool,
}

impl ObjectItems {
    /// Whether any is asked for.
    pub fn any(&self) -> bool {
        self.emailid || self.threadid || self.savedate || self.mailboxid
    }
}

/// A word of a command: where it is, and whether it is a quoted string (its range
/// then includes the quotes).
#[derive(Debug, Clone, Copy)]
struct Word {
    start: usize,
    end: usize,
    quoted: bool,
}

/// The words and quoted strings of a command outside literals and brackets — what
/// the rewrites below look at.
fn words(bytes: &[u8]) -> Vec<Word> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut bracket = 0usize;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(bytes.len());
                if bracket == 0 {
                    out.push(Word { start, end: i, quoted: true });
                }
            }
            b'{' => {
                let close = bytes[i..].iter().position(|&c| c == b'}').map(|c| c + i);
                let n = close.and_then(|c| {
                    std::str::from_utf8(&bytes[i + 1..c]).ok()?.trim_end_matches('+').parse::<usize>().ok()
                });
                match (close, n) {
                    (Some(c), Some(n)) => {
                        let data = c + 1 + if bytes[c + 1..].starts_with(b"\r\n") { 2 } else { 1 };
                        i = data.saturating_add(n);
                    }
                    _ => i += 1,
                }
            }
            b'[' => {
                bracket += 1;
                i += 1;
            }
            b']' => {
                bracket = bracket.saturating_sub(1);
                i += 1;
            }
            b' ' | b'(' | b')' | b'\r' | b'\n' => i += 1,
            _ => {
                let start = i;
                while i < bytes.len() && !matches!(bytes[i], b' ' | b'(' | b')' | b'\r' | b'\n' | b'"' | b'[' | b']') {
                    i += 1;
                }
                if bracket == 0 {
                    out.push(Word { start, end: i, quoted: false });
                }
            }
        }
    }
    out
}

/// The command's name (FETCH, STATUS, SEARCH…) in upper case, and whether it is a
/// UID command.
pub(super) fn command_name(bytes: &[u8]) -> (String, bool) {
    let w = words(bytes);
    let word = |i: usize| w.get(i).map(|w| String::from_utf8_lossy(&bytes[w.start..w.end]).to_ascii_uppercase());
    match word(1) {
        Some(uid) if uid == "UID" => (word(2).unwrap_or_default(), true),
        Some(name) => (name, false),
        None => (String::new(), false),
    }
}

/// A FETCH or STATUS with its OBJECTID and SAVEDATE items taken out (a stand-in put
/// where nothing else was asked), and what they were; `None` when it asks for none.
pub(super) fn take_items(bytes: &[u8]) -> Option<(Vec<u8>, ObjectItems)> {
    let (name, _) = command_name(bytes);
    let fetch = name == "FETCH";
    if !fetch && name != "STATUS" {
        return None;
    }
    let mut items = ObjectItems::default();
    let mut cut = Vec::new();
    for Word { start: a, end: b, quoted } in words(bytes) {
        if quoted {
            continue;
        }
        let word = bytes[a..b].to_ascii_uppercase();
        let hit = match word.as_slice() {
            b"EMAILID" if fetch => &mut items.emailid,
            b"THREADID" if fetch => &mut items.threadid,
            b"SAVEDATE" if fetch => &mut items.savedate,
            b"MAILBOXID" if !fetch => &mut items.mailboxid,
            _ => continue,
        };
        *hit = true;
        cut.push((a, b));
    }
    if cut.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    for (a, b) in cut {
        // The word and the space before it (or, first in a list, after it).
        let (mut a, mut b) = (a, b);
        if a > 0 && bytes[a - 1] == b' ' && at < a {
            a -= 1;
        } else if bytes.get(b) == Some(&b' ') {
            b += 1;
        }
        out.extend_from_slice(&bytes[at..a]);
        at = b;
    }
    out.extend_from_slice(&bytes[at..]);
    let stand_in = if fetch { "UID" } else { "MESSAGES" };
    let text = String::from_utf8_lossy(&out).into_owned();
    let fixed = if text.contains("()") {
        items.stand_in = true;
        text.replacen("()", &format!("({stand_in})"), 1)
    } else if fetch && text.trim_end().split(' ').count() < 4 + usize::from(command_name(bytes).1) {
        // `FETCH 1 EMAILID`: the set was all that was left.
        items.stand_in = true;
        format!("{} {stand_in}\r\n", text.trim_end())
    } else {
        text
    };
    Some((fixed.into_bytes(), items))
}

/// The OBJECTID and SAVEDATE items of one message, as they go in its FETCH response.
pub(super) fn fetch_items(items: ObjectItems, content: Option<i64>, saved_at: Option<i64>) -> String {
    let mut out = String::new();
    if items.emailid {
        match content {
            Some(c) => out.push_str(&format!(" EMAILID (M{c})")),
            None => out.push_str(" EMAILID NIL"),
        }
    }
    if items.threadid {
        out.push_str(" THREADID NIL");
    }
    if items.savedate {
        match saved_at.and_then(|s| chrono::DateTime::from_timestamp(s, 0)) {
            Some(d) => out.push_str(&d.format(" SAVEDATE \"%d-%b-%Y %H:%M:%S +0000\"").to_string()),
            None => out.push_str(" SAVEDATE NIL"),
        }
    }
    out
}

/// A response as imap-types writes it with `extra` put before its closing
/// parenthesis (a FETCH's items, a STATUS's).
pub(super) fn spliced(data: Data<'static>, extra: &str) -> Vec<u8> {
    use imap_codec::ResponseCodec;
    use imap_codec::encode::Encoder;
    let mut bytes = ResponseCodec::default().encode(&Response::Data(data)).dump();
    if let Some(close) = bytes.iter().rposition(|&b| b == b')') {
        let extra = if bytes[close - 1] == b'(' { extra.trim_start() } else { extra };
        bytes.splice(close..close, extra.bytes());
    }
    bytes
}

/// The search keys of OBJECTID and SAVEDATE in a SEARCH, SORT or THREAD, each with
/// the words it spans: what [`put_keys`] replaces.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Key {
    EmailId(String),
    ThreadId,
    SavedBefore(chrono::NaiveDate),
    SavedOn(chrono::NaiveDate),
    SavedSince(chrono::NaiveDate),
    SaveDateSupported,
}

/// The OBJECTID and SAVEDATE keys of a search command, with the byte range each
/// spans; empty for other commands. A key with a bad argument is left for imap-codec
/// to refuse.
pub(super) fn keys(bytes: &[u8]) -> Vec<(std::ops::Range<usize>, Key)> {
    let (name, _) = command_name(bytes);
    if !matches!(name.as_str(), "SEARCH" | "SORT" | "THREAD") {
        return Vec::new();
    }
    let w = words(bytes);
    let argument = |i: usize| -> Option<(usize, String)> {
        let arg = w.get(i + 1)?;
        let text = if arg.quoted {
            &bytes[arg.start + 1..arg.end.saturating_sub(1).max(arg.start + 1)]
        } else {
            &bytes[arg.start..arg.end]
        };
        Some((arg.end, String::from_utf8_lossy(text).into_owned()))
    };
    let date = |s: &str| chrono::NaiveDate::parse_from_str(s, "%d-%b-%Y").ok();
    let mut out = Vec::new();
    for (i, word) in w.iter().enumerate() {
        if word.quoted {
            continue;
        }
        let (a, b) = (&word.start, &word.end);
        let word = bytes[*a..*b].to_ascii_uppercase();
        let key = match word.as_slice() {
            b"SAVEDATESUPPORTED" => Some((*b, Key::SaveDateSupported)),
            b"THREADID" => argument(i).map(|(end, _)| (end, Key::ThreadId)),
            b"EMAILID" => argument(i).map(|(end, id)| (end, Key::EmailId(id))),
            b"SAVEDBEFORE" => argument(i).and_then(|(end, d)| Some((end, Key::SavedBefore(date(&d)?)))),
            b"SAVEDON" => argument(i).and_then(|(end, d)| Some((end, Key::SavedOn(date(&d)?)))),
            b"SAVEDSINCE" => argument(i).and_then(|(end, d)| Some((end, Key::SavedSince(date(&d)?)))),
            _ => None,
        };
        if let Some((end, key)) = key {
            out.push((*a..end, key));
        }
    }
    out
}

/// The command with each key replaced by the search it stands for (`UID set`, `ALL`).
pub(super) fn put_keys(bytes: &[u8], keys: Vec<(std::ops::Range<usize>, String)>) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    for (range, text) in keys {
        out.extend_from_slice(&bytes[at..range.start]);
        out.extend_from_slice(text.as_bytes());
        at = range.end;
    }
    out.extend_from_slice(&bytes[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taken(c: &str) -> Option<(String, ObjectItems)> {
        take_items(c.as_bytes()).map(|(b, i)| (String::from_utf8(b).unwrap(), i))
    }

    #[test]
    fn object_items_are_taken_out_of_fetch_and_status() {
        let (c, i) = taken("a FETCH 1:* (UID EMAILID FLAGS THREADID)\r\n").unwrap();
        assert_eq!(c, "a FETCH 1:* (UID FLAGS)\r\n");
        assert!(i.emailid && i.threadid && !i.savedate && !i.stand_in);
        let (c, i) = taken("a UID FETCH 1 (EMAILID SAVEDATE)\r\n").unwrap();
        assert_eq!(c, "a UID FETCH 1 (UID)\r\n");
        assert!(i.stand_in && i.savedate);
        let (c, i) = taken("a FETCH 1 EMAILID\r\n").unwrap();
        assert_eq!(c, "a FETCH 1 UID\r\n");
        assert!(i.stand_in);
        let (c, i) = taken("a STATUS INBOX (MAILBOXID MESSAGES)\r\n").unwrap();
        assert_eq!(c, "a STATUS INBOX (MESSAGES)\r\n");
        assert!(i.mailboxid && !i.stand_in);
        assert_eq!(taken("a FETCH 1 (BODY[HEADER.FIELDS (EMAILID)])\r\n"), None, "a header's name");
        assert_eq!(taken("a FETCH 1 (FLAGS)\r\n"), None);
    }

    #[test]
    fn object_and_savedate_keys_are_found_with_their_arguments() {
        let c = b"a UID SEARCH EMAILID M12 SAVEDSINCE \"1-Feb-2026\" NOT SAVEDATESUPPORTED\r\n";
        let found = keys(c);
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].1, Key::EmailId("M12".into()));
        assert_eq!(&c[found[0].0.clone()], b"EMAILID M12");
        assert_eq!(&c[found[1].0.clone()], b"SAVEDSINCE \"1-Feb-2026\"");
        let put = put_keys(c, vec![(found[0].0.clone(), "UID 3".into()), (found[1].0.clone(), "ALL".into())]);
        assert_eq!(put, b"a UID SEARCH UID 3 ALL NOT SAVEDATESUPPORTED\r\n");
        assert!(keys(b"a FETCH 1 (EMAILID)\r\n").is_empty());
    }

    #[test]
    fn items_are_spliced_before_the_closing_parenthesis() {
        use imap_next::imap_types::core::Vec1;
        use imap_next::imap_types::fetch::MessageDataItem;
        let data = Data::Fetch {
            seq: std::num::NonZeroU32::MIN,
            items: Vec1::from(MessageDataItem::Uid(std::num::NonZeroU32::MIN)),
        };
        let extra = fetch_items(ObjectItems { emailid: true, threadid: true, ..Default::default() }, Some(7), None);
        assert_eq!(spliced(data, &extra), b"* 1 FETCH (UID 1 EMAILID (M7) THREADID NIL)\r\n");
    }
}
