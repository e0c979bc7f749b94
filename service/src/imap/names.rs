//! Folder names: what a client's mailbox argument means, which names are valid to
//! create, and LIST's wildcards (RFC 9051 §6.3.9). Pure functions, apart from any I/O.
//!
//! Names are kept in modified UTF-7 (RFC 3501 §5.1.3), as IMAP4rev1 clients send and
//! expect them; a name a client sends in UTF-8 (a quoted string or a literal with
//! 8-bit bytes) is the same name, encoded, so one folder has one name whichever way it
//! was written. `/` is the hierarchy delimiter; `INBOX` is matched without regard to
//! case.

use imap_next::imap_types::mailbox::{ListMailbox, Mailbox};

/// The hierarchy delimiter.
pub const DELIMITER: char = '/';

/// The folder name a mailbox argument names: `INBOX` in any case is `INBOX`, and so is
/// `inbox/…`'s first level.
pub fn folder_name(mailbox: &Mailbox<'_>) -> String {
    match mailbox {
        Mailbox::Inbox => "INBOX".to_owned(),
        Mailbox::Other(other) => canonical(&modified_utf7(&String::from_utf8_lossy(other.as_ref()))),
    }
}

/// `name` in modified UTF-7 (RFC 3501 §5.1.3): printable ASCII as it is (`&` as
/// `&-`), every other run of characters as `&`, their UTF-16 in base64 with `,` for
/// `/` and no padding, and `-`. A name already in it (all ASCII) is unchanged.
pub fn modified_utf7(name: &str) -> String {
    use base64::Engine as _;
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
    if name.is_ascii() {
        return name.to_owned();
    }
    let engine = base64::alphabet::Alphabet::new(ALPHABET)
        .map(|a| base64::engine::GeneralPurpose::new(&a, base64::engine::general_purpose::NO_PAD));
    let Ok(engine) = engine else { return name.to_owned() };
    let mut out = String::with_capacity(name.len() * 2);
    let mut run: Vec<u16> = Vec::new();
    let flush = |run: &mut Vec<u16>, out: &mut String| {
        if !run.is_empty() {
            let bytes: Vec<u8> = run.iter().flat_map(|u| u.to_be_bytes()).collect();
            out.push('&');
            out.push_str(&engine.encode(bytes));
            out.push('-');
            run.clear();
        }
    };
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut run, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            run.extend(c.encode_utf16(&mut [0; 2]).iter());
        }
    }
    flush(&mut run, &mut out);
    out
}

/// A stored name (modified UTF-7) in UTF-8, for clients that take UTF-8 names
/// (IMAP4rev2, UTF8=ACCEPT). A name that is not valid modified UTF-7 is given as it
/// is.
pub fn from_modified_utf7(name: &str) -> String {
    use base64::Engine as _;
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
    if !name.contains('&') {
        return name.to_owned();
    }
    let engine = base64::alphabet::Alphabet::new(ALPHABET).map(|a| {
        let config = base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone);
        base64::engine::GeneralPurpose::new(&a, config)
    });
    let Ok(engine) = engine else { return name.to_owned() };
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let Some(end) = after.find('-') else { return name.to_owned() };
        if end == 0 {
            out.push('&');
        } else {
            let Ok(bytes) = engine.decode(&after[..end]) else { return name.to_owned() };
            if bytes.len() % 2 != 0 {
                return name.to_owned();
            }
            let units = bytes.chunks(2).map(|p| u16::from_be_bytes([p[0], p[1]]));
            match char::decode_utf16(units).collect::<Result<String, _>>() {
                Ok(text) => out.push_str(&text),
                Err(_) => return name.to_owned(),
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// `name` with an `INBOX` first level in upper case, and without the one trailing
/// delimiter that says a folder is meant to hold others (`Archive/` is `Archive`). A
/// name ending in two is left as it is, for [`invalid`] to refuse its empty level:
/// taking off one would give a different name the next time round.
pub fn canonical(name: &str) -> String {
    let name = match name.strip_suffix(DELIMITER) {
        Some(stem) if !stem.ends_with(DELIMITER) => stem,
        _ => name,
    };
    match name.split_once(DELIMITER) {
        Some((first, rest)) if first.eq_ignore_ascii_case("INBOX") => format!("INBOX{DELIMITER}{rest}"),
        None if name.eq_ignore_ascii_case("INBOX") => "INBOX".to_owned(),
        _ => name.to_owned(),
    }
}

/// Why a name cannot be created, or `None` when it can.
pub fn invalid(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("A folder needs a name")
    } else if name.split(DELIMITER).any(str::is_empty) {
        Some("A folder name cannot have an empty level")
    } else if name.chars().any(|c| c.is_control() || c == '*' || c == '%') {
        Some("A folder name cannot contain control characters, '*' or '%'")
    } else if name.len() > 512 {
        Some("The folder name is too long")
    } else {
        None
    }
}

/// The pattern of a LIST or LSUB: the reference and the mailbox argument joined.
pub fn pattern(reference: &Mailbox<'_>, wildcard: &ListMailbox<'_>) -> String {
    let reference = match reference {
        Mailbox::Inbox => "INBOX".to_owned(),
        Mailbox::Other(o) => String::from_utf8_lossy(o.as_ref()).into_owned(),
    };
    let wildcard = match wildcard {
        ListMailbox::Token(t) => String::from_utf8_lossy(t.as_ref()).into_owned(),
        ListMailbox::String(s) => String::from_utf8_lossy(s.as_ref()).into_owned(),
    };
    let (reference, wildcard) = (modified_utf7(&reference), modified_utf7(&wildcard));
    if wildcard.starts_with(DELIMITER) || reference.is_empty() {
        wildcard
    } else if reference.ends_with(DELIMITER) {
        format!("{reference}{wildcard}")
    } else {
        format!("{reference}{DELIMITER}{wildcard}")
    }
}

/// Whether `name` matches `pattern`: `*` matches anything, `%` anything but the
/// delimiter; `INBOX` matches without regard to case.
pub fn matches(pattern: &str, name: &str) -> bool {
    let pattern = if name == "INBOX" || name.starts_with("INBOX/") { canonical(pattern) } else { pattern.to_owned() };
    glob(pattern.as_bytes(), name.as_bytes())
}

/// Whether pattern `p` matches all of `n`, in O(|p|·|n|) steps whatever the pattern:
/// after each pattern byte, the name prefixes it can have matched. (Trying each
/// wildcard's every length in turn took exponential time: `LIST "" "*a*a*a…*b"` held
/// a core for minutes — found by the imap_command fuzz target.)
fn glob(p: &[u8], n: &[u8]) -> bool {
    let mut reach = vec![false; n.len() + 1];
    reach[0] = true;
    let mut next = vec![false; n.len() + 1];
    for &c in p {
        match c {
            // Any run: a prefix reached before extends to every longer one.
            b'*' => {
                let mut any = false;
                for j in 0..=n.len() {
                    any |= reach[j];
                    next[j] = any;
                }
            }
            // Any run within one level: a delimiter ends it.
            b'%' => {
                let mut any = false;
                for j in 0..=n.len() {
                    if j > 0 && n[j - 1] == DELIMITER as u8 {
                        any = false;
                    }
                    any |= reach[j];
                    next[j] = any;
                }
            }
            c => {
                next[0] = false;
                for j in 1..=n.len() {
                    next[j] = reach[j - 1] && n[j - 1] == c;
                }
            }
        }
        std::mem::swap(&mut reach, &mut next);
        if !reach.contains(&true) {
            return false;
        }
    }
    reach[n.len()]
}

/// The levels above `name` (`a/b/c` → `a`, `a/b`), which LIST shows as `\Noselect`
/// when they are not folders themselves.
pub fn parents(name: &str) -> impl Iterator<Item = &str> {
    name.match_indices(DELIMITER).map(move |(i, _)| &name[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modified_utf7_names_read_back_as_they_were_written() {
        for name in ["Entwürfe", "日本語/メモ", "a&b", "plain", "Ünï & cödé/x"] {
            assert_eq!(from_modified_utf7(&modified_utf7(name)), name, "{name}");
        }
        assert_eq!(from_modified_utf7("Entw&APw-rfe"), "Entwürfe");
        assert_eq!(from_modified_utf7("broken&AP"), "broken&AP", "not modified UTF-7: as it is");
        assert_eq!(from_modified_utf7("odd&AA-"), "odd&AA-");
    }

    #[test]
    fn inbox_is_inbox_in_any_case() {
        assert_eq!(canonical("inbox"), "INBOX");
        assert_eq!(canonical("Inbox/Receipts"), "INBOX/Receipts");
        assert_eq!(canonical("Archive/"), "Archive");
        assert_eq!(canonical("InboxOld"), "InboxOld");
    }

    /// Found by the imap_command fuzz target: `a//` became `a/`, then `a`, so a name
    /// was not the same after a second look.
    #[test]
    fn canonical_names_are_a_fixed_point_even_with_trailing_delimiters() {
        for name in ["a//", "inbox//", "a/b//", "//", "/", "a///"] {
            let once = canonical(name);
            assert_eq!(canonical(&once), once, "{name}");
        }
        assert!(invalid(&canonical("a//")).is_some(), "an empty level stays refused");
    }

    #[test]
    fn wildcards_match_as_rfc_9051_says() {
        assert!(matches("*", "Projects/2026/Q1"));
        assert!(matches("%", "Sent"));
        assert!(!matches("%", "Projects/2026"));
        assert!(matches("Projects/%", "Projects/2026"));
        assert!(!matches("Projects/%", "Projects/2026/Q1"));
        assert!(matches("Projects/*", "Projects/2026/Q1"));
        assert!(matches("inbox", "INBOX"));
        assert!(matches("S%t", "Sent"));
        assert!(!matches("Sent", "Sent/Old"));
        assert!(matches("", "") && !matches("", "Sent"));
    }

    /// Found by the imap_command fuzz target: a pattern of many `*` and `%` took time
    /// exponential in their number (each tried at every length).
    #[test]
    fn a_pattern_of_many_wildcards_is_matched_in_linear_passes() {
        let name = "a".repeat(200);
        let pattern = format!("{}b", "*a%".repeat(40));
        assert!(!matches(&pattern, &name));
        assert!(matches(&format!("{}a", "*a%".repeat(40)), &name));
        assert!(!matches("%/%", &name) && matches("*", "x/y/z") && !matches("%", "x/y"));
    }

    /// Regression (issue 24, item 8): the same name sent in UTF-8 made a second folder
    /// beside its modified UTF-7 twin.
    #[test]
    fn a_name_in_utf8_is_the_same_as_in_modified_utf7() {
        assert_eq!(modified_utf7("Entwürfe"), "Entw&APw-rfe");
        assert_eq!(modified_utf7("台北"), "&U,BTFw-");
        assert_eq!(modified_utf7("~peter/mail/日本語/台北"), "~peter/mail/&ZeVnLIqe-/&U,BTFw-");
        assert_eq!(modified_utf7("Tom & Jerry é"), "Tom &- Jerry &AOk-");
        assert_eq!(modified_utf7("Entw&APw-rfe"), "Entw&APw-rfe", "already encoded: as it is");
        assert_eq!(modified_utf7("😀"), "&2D3eAA-");
    }

    #[test]
    fn a_bad_name_is_named() {
        assert!(invalid("a//b").is_some());
        assert!(invalid("a*").is_some());
        assert!(invalid("").is_some());
        assert_eq!(invalid("Projects/2026"), None);
        assert_eq!(parents("a/b/c").collect::<Vec<_>>(), ["a", "a/b"]);
    }
}
