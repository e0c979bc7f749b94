//! The commands imap-codec refuses but IMAP4rev2 and its extensions define: SEARCH and
//! SORT with RETURN options (ESEARCH RFC 4731, ESORT and CONTEXT RFC 5267, PARTIAL
//! RFC 9394), LIST-EXTENDED (RFC 5258) and LIST-STATUS (RFC 5819), APPEND of several
//! messages (MULTIAPPEND RFC 3502) and of pieces (CATENATE RFC 4469), and
//! CANCELUPDATE.
//!
//! imap-next frames a command (its literals accepted) before imap-codec parses it,
//! and hands over the whole command's bytes when the parse fails; the driver gives
//! them here. Only the extension's own syntax is read with [`super::syntax`]: what is
//! standard inside it (search keys, sort criteria, flags, STATUS items) is given back
//! to imap-codec as a standard command, so both grammars stay in one place each.

use imap_codec::CommandCodec;
use imap_codec::decode::Decoder;
use imap_next::imap_types::IntoStatic;
use imap_next::imap_types::command::{Command, CommandBody};
use imap_next::imap_types::core::Tag;
use imap_next::imap_types::flag::Flag;
use imap_next::imap_types::mailbox::{ListMailbox, Mailbox};
use imap_next::imap_types::status::StatusDataItemName;

use super::syntax::{Reader, Syntax};

/// A command of the extensions above, parsed.
#[derive(Debug)]
pub(super) enum Extended {
    /// SEARCH or SORT (UID or not, in `body`) with RETURN options.
    Search { ret: ReturnOptions, body: CommandBody<'static> },
    /// LIST with selection options, several patterns or RETURN options.
    List(ListExtended),
    /// APPEND of several messages, or of pieces.
    Append { mailbox: Mailbox<'static>, messages: Vec<AppendMessage> },
    /// CANCELUPDATE of the searches these tags started.
    CancelUpdate { tags: Vec<String> },
    /// NOTIFY (RFC 5465).
    Notify(Notify),
    /// An ACL command (RFC 4314).
    Acl(super::acl::Acl),
}

/// A NOTIFY command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Notify {
    /// `NOTIFY NONE`: no more notifications.
    None,
    /// `NOTIFY SET [STATUS] (filter events)…`.
    Set {
        /// Send each watched folder's STATUS now.
        status: bool,
        filters: Vec<(Mailboxes, Events)>,
        /// An event named that is not offered (the answer is `NO [BADEVENT]`).
        unsupported: bool,
    },
}

/// The folders a NOTIFY filter names (RFC 5465 §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Mailboxes {
    /// The selected folder (`SELECTED`, `SELECTED-DELAYED`).
    Selected,
    /// Where mail is delivered: INBOX and Junk.
    Inboxes,
    /// Every folder of the user's.
    Personal,
    /// Every subscribed folder.
    Subscribed,
    /// These folders and those under them.
    Subtree(Vec<String>),
    /// These folders.
    Names(Vec<String>),
}

/// The events a NOTIFY filter asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Events {
    pub message_new: bool,
    pub message_expunge: bool,
    pub flag_change: bool,
    pub mailbox_name: bool,
    pub subscription_change: bool,
}

/// What an extended SEARCH or SORT returns (RFC 4731 §3.1, RFC 5267 §4, RFC 9394).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct ReturnOptions {
    pub min: bool,
    pub max: bool,
    pub all: bool,
    pub count: bool,
    /// Keep the result for `$` (SEARCHRES, RFC 5182).
    pub save: bool,
    /// Keep the search and report its changes (CONTEXT=SEARCH).
    pub update: bool,
    /// The result's positions from..=to, 1-based; negative counts from the end.
    pub partial: Option<(i64, i64)>,
}

/// A LIST-EXTENDED command (RFC 5258).
#[derive(Debug)]
pub(super) struct ListExtended {
    /// Selection: only subscribed names (existing or not).
    pub subscribed: bool,
    /// Selection: also parents of selected names the patterns do not match.
    pub recursive: bool,
    /// Selection: only folders with a special use.
    pub special_use: bool,
    pub reference: Mailbox<'static>,
    pub patterns: Vec<ListMailbox<'static>>,
    /// Return `\Subscribed`.
    pub return_subscribed: bool,
    /// Return special-use attributes.
    pub return_special_use: bool,
    /// Return a STATUS response for each selectable folder listed (RFC 5819).
    pub status: Option<Vec<StatusDataItemName>>,
    /// Return a MYRIGHTS response for each folder listed (RFC 8440).
    pub myrights: bool,
}

/// One message of an APPEND.
#[derive(Debug)]
pub(super) struct AppendMessage {
    pub flags: Vec<Flag<'static>>,
    /// The internal date given, as seconds since the epoch.
    pub received: Option<i64>,
    /// Its content: one literal, or the pieces of a CATENATE.
    pub parts: Vec<Piece>,
}

/// A piece of an appended message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Piece {
    /// Bytes sent in the command.
    Text(Vec<u8>),
    /// A message or part already stored, named by an IMAP URL (RFC 5092).
    Url(String),
}

/// Parses a command imap-codec refused: `None` when it is none of the above (or its
/// tag cannot be read), else its tag and the command or what is wrong with it.
pub(super) fn parse(bytes: &[u8]) -> Option<(Tag<'static>, Syntax<Extended>)> {
    let mut r = Reader::new(bytes);
    let tag = Tag::try_from(r.word().ok()?.to_owned()).ok()?;
    r.sp().ok()?;
    let uid = r.keyword("UID");
    if uid {
        r.sp().ok()?;
    }
    let name = r.word().ok()?.to_ascii_uppercase();
    let parsed = match name.as_str() {
        "SEARCH" | "SORT" if r.rest().len() > 7 && r.rest()[1..7].eq_ignore_ascii_case(b"RETURN") => {
            search(&mut r, &tag, uid, &name)
        }
        "LIST" if !uid => list(&mut r),
        "APPEND" if !uid => append(&mut r),
        "CANCELUPDATE" if !uid => cancel_update(&mut r),
        "NOTIFY" if !uid => notify(&mut r),
        "MYRIGHTS" | "GETACL" | "SETACL" | "DELETEACL" | "LISTRIGHTS" if !uid => acl(&mut r, &name),
        _ => return None,
    };
    Some((tag, parsed))
}

/// A UID no message has (the largest there is): what an empty saved result becomes.
const NO_UID: &str = "4294967295";

/// A command with each `$` (the saved search result, SEARCHRES RFC 5182) put as the
/// set it stands for, or `None` when it has none: the command's own sequence set as
/// UIDs in a UID command and as message numbers otherwise, and inside search keys as
/// UIDs after the `UID` key and message numbers elsewhere. `uids` is the saved
/// result; `number_of` gives a UID's message number (none once it is expunged). An
/// empty result names nothing: a UID no message has (the command made a UID command
/// where its own set was `$`).
pub(super) fn with_saved(bytes: &[u8], uids: &[u32], number_of: impl Fn(u32) -> Option<u32>) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len() + 16);
    let mut i = 0;
    let mut words = 0usize;
    let mut previous: &[u8] = b"";
    let mut uid_command = false;
    let mut name_at = 0usize;
    let mut searching = false;
    let mut found = false;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'"' {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'"' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(bytes.len());
            out.extend_from_slice(&bytes[i..end]);
            i = end;
            words += 1;
            previous = b"";
            continue;
        }
        if b == b'{'
            && let Some(close) = bytes[i..].iter().position(|&c| c == b'}')
            && let Ok(n) =
                std::str::from_utf8(&bytes[i + 1..i + close]).unwrap_or("").trim_end_matches('+').parse::<usize>()
        {
            let data = i + close + 1 + if bytes[i + close + 1..].starts_with(b"\r\n") { 2 } else { 1 };
            let end = data.saturating_add(n).min(bytes.len());
            out.extend_from_slice(&bytes[i..end]);
            i = end;
            words += 1;
            previous = b"";
            continue;
        }
        if matches!(b, b' ' | b'(' | b')' | b'\r' | b'\n') {
            out.push(b);
            i += 1;
            continue;
        }
        // A word: this byte (a `{` that opens no literal is one too) and what follows
        // up to a delimiter.
        let start = i;
        i += 1;
        while i < bytes.len() && !matches!(bytes[i], b' ' | b'(' | b')' | b'\r' | b'\n' | b'"' | b'{') {
            i += 1;
        }
        let word = &bytes[start..i];
        words += 1;
        if words == 2 && word.eq_ignore_ascii_case(b"UID") {
            uid_command = true;
        }
        if words == 2 || (words == 3 && uid_command) {
            name_at = out.len();
            searching = [&b"SEARCH"[..], b"SORT", b"THREAD"].iter().any(|n| word.eq_ignore_ascii_case(n));
        }
        // The set a FETCH, STORE, COPY, MOVE or UID EXPUNGE acts on (a search's
        // arguments are all keys).
        let first_argument = !searching && words == if uid_command { 4 } else { 3 };
        if word == b"$" && words > 2 {
            found = true;
            let as_uids = if first_argument { uid_command } else { previous.eq_ignore_ascii_case(b"UID") };
            let mut set: Vec<u32> =
                if as_uids { uids.to_vec() } else { uids.iter().filter_map(|u| number_of(*u)).collect() };
            set.sort_unstable();
            if !set.is_empty() {
                out.extend_from_slice(super::esearch::sequence_set(&set).as_bytes());
            } else if first_argument && !uid_command {
                out.splice(name_at..name_at, b"UID ".iter().copied());
                out.extend_from_slice(NO_UID.as_bytes());
            } else if first_argument || as_uids {
                out.extend_from_slice(NO_UID.as_bytes());
            } else {
                out.extend_from_slice(format!("UID {NO_UID}").as_bytes());
            }
        } else {
            out.extend_from_slice(word);
        }
        previous = word;
    }
    found.then_some(out)
}

/// Decodes a standard command made of pieces; what imap-codec says is wrong, if not.
fn standard(bytes: &[u8]) -> Syntax<CommandBody<'static>> {
    match CommandCodec::default().decode(bytes) {
        Ok((&[], Command { body, .. })) => Ok(body.into_static()),
        _ => Err("Syntax error in the command"),
    }
}

/// `SEARCH RETURN (…) keys` and `SORT RETURN (…) (criteria) charset keys`.
fn search(r: &mut Reader<'_>, tag: &Tag<'_>, uid: bool, name: &str) -> Syntax<Extended> {
    r.sp()?;
    r.keyword("RETURN");
    r.sp()?;
    let mut ret = ReturnOptions::default();
    let options = r.list(|r| {
        let word = r.word()?.to_ascii_uppercase();
        match word.as_str() {
            "MIN" => ret.min = true,
            "MAX" => ret.max = true,
            "ALL" => ret.all = true,
            "COUNT" => ret.count = true,
            "SAVE" => ret.save = true,
            "UPDATE" => ret.update = true,
            // RFC 5267 §4.2: a hint that the result will be asked for again.
            "CONTEXT" => {}
            "PARTIAL" => {
                r.sp()?;
                ret.partial = Some(partial_range(r)?);
            }
            _ => return Err("Unknown RETURN option"),
        }
        Ok(())
    })?;
    if options.is_empty() {
        // RFC 4731 §3.1: `RETURN ()` is `RETURN (ALL)`.
        ret.all = true;
    }
    if ret.partial.is_some() && ret.all {
        return Err("PARTIAL and ALL cannot be asked together");
    }
    let mut rebuilt = format!("{} {}{}", tag.as_ref(), if uid { "UID " } else { "" }, name).into_bytes();
    rebuilt.extend_from_slice(r.rest());
    Ok(Extended::Search { ret, body: standard(&rebuilt)? })
}

/// A PARTIAL range: `n:m` of non-zero numbers of one sign, put in order.
fn partial_range(r: &mut Reader<'_>) -> Syntax<(i64, i64)> {
    let word = r.word()?;
    let (a, b) = word.split_once(':').ok_or("PARTIAL needs a range n:m")?;
    let number = |s: &str| -> Syntax<i64> {
        let n: i64 = s.parse().map_err(|_| "PARTIAL needs numbers")?;
        if n == 0 || n.unsigned_abs() > u64::from(u32::MAX) { Err("PARTIAL needs non-zero numbers") } else { Ok(n) }
    };
    let (a, b) = (number(a)?, number(b)?);
    if (a < 0) != (b < 0) {
        return Err("PARTIAL's range must be all positive or all negative");
    }
    Ok(if a.abs() <= b.abs() { (a, b) } else { (b, a) })
}

/// A mailbox name as sent (UTF-8, or modified UTF-7, which imap-types keeps as sent).
fn mailbox(bytes: &[u8]) -> Syntax<Mailbox<'static>> {
    let s = String::from_utf8(bytes.to_vec()).map_err(|_| "A mailbox name must be UTF-8")?;
    Mailbox::try_from(s).map_err(|_| "Bad mailbox name")
}

/// `LIST [(selection)] reference (pattern | (patterns)) [RETURN (options)]`.
fn list(r: &mut Reader<'_>) -> Syntax<Extended> {
    r.sp()?;
    let mut l = ListExtended {
        subscribed: false,
        recursive: false,
        special_use: false,
        reference: Mailbox::Inbox,
        patterns: Vec::new(),
        return_subscribed: false,
        return_special_use: false,
        status: None,
        myrights: false,
    };
    if r.peek() == Some(b'(') {
        let mut remote = false;
        r.list(|r| {
            match r.word()?.to_ascii_uppercase().as_str() {
                "SUBSCRIBED" => l.subscribed = true,
                "REMOTE" => remote = true,
                "RECURSIVEMATCH" => l.recursive = true,
                "SPECIAL-USE" => l.special_use = true,
                _ => return Err("Unknown LIST selection option"),
            }
            Ok(())
        })?;
        // RFC 5258 §3.1: RECURSIVEMATCH needs another option that selects.
        if l.recursive && !l.subscribed && !l.special_use {
            return Err("RECURSIVEMATCH needs SUBSCRIBED");
        }
        r.sp()?;
    }
    l.reference = mailbox(&r.astring(false)?)?;
    r.sp()?;
    let pattern = |r: &mut Reader<'_>| -> Syntax<ListMailbox<'static>> {
        let p = String::from_utf8(r.astring(true)?.into_owned()).map_err(|_| "A pattern must be UTF-8")?;
        ListMailbox::try_from(p).map_err(|_| "Bad pattern")
    };
    if r.peek() == Some(b'(') {
        l.patterns = r.list(pattern)?;
        if l.patterns.is_empty() {
            return Err("Give at least one pattern");
        }
    } else {
        l.patterns.push(pattern(r)?);
    }
    if !r.at_end() {
        r.sp()?;
        if !r.keyword("RETURN") {
            return Err("Expected RETURN");
        }
        r.sp()?;
        r.list(|r| {
            match r.word()?.to_ascii_uppercase().as_str() {
                "SUBSCRIBED" => l.return_subscribed = true,
                // Children are always returned.
                "CHILDREN" => {}
                "SPECIAL-USE" => l.return_special_use = true,
                "MYRIGHTS" => l.myrights = true,
                "STATUS" => {
                    r.sp()?;
                    let start = r.rest();
                    r.list(|r| r.word().map(|_| ()))?;
                    let items = &start[..start.len() - r.rest().len()];
                    let mut command = b"x STATUS INBOX ".to_vec();
                    command.extend_from_slice(items);
                    command.extend_from_slice(b"\r\n");
                    match standard(&command)? {
                        CommandBody::Status { item_names, .. } => l.status = Some(item_names.into_owned()),
                        _ => return Err("Bad STATUS items"),
                    }
                }
                _ => return Err("Unknown LIST return option"),
            }
            Ok(())
        })?;
    }
    r.end()?;
    Ok(Extended::List(l))
}

/// A flag list, read by imap-codec as a STORE's.
fn flag_list(r: &mut Reader<'_>) -> Syntax<Vec<Flag<'static>>> {
    let start = r.rest();
    r.list(|r| r.word().map(|_| ()))?;
    let list = &start[..start.len() - r.rest().len()];
    let mut command = b"x STORE 1 FLAGS ".to_vec();
    command.extend_from_slice(list);
    command.extend_from_slice(b"\r\n");
    match standard(&command) {
        Ok(CommandBody::Store { flags, .. }) => Ok(flags),
        // `()`, which a STORE may not give.
        _ if list == b"()" => Ok(Vec::new()),
        _ => Err("Bad flag list"),
    }
}

/// An APPEND's date-time (`"dd-Mon-yyyy hh:mm:ss +zzzz"`, the day perhaps
/// space-padded), as seconds since the epoch.
fn date_time(r: &mut Reader<'_>) -> Syntax<i64> {
    let s = r.string()?;
    let s = std::str::from_utf8(&s).map_err(|_| "Bad date-time")?;
    chrono::DateTime::parse_from_str(s.trim_start(), "%d-%b-%Y %H:%M:%S %z")
        .map(|d| d.timestamp())
        .map_err(|_| "Bad date-time")
}

/// `APPEND mailbox 1*(SP [flags SP] [date-time SP] (literal | CATENATE (parts)))`.
fn append(r: &mut Reader<'_>) -> Syntax<Extended> {
    r.sp()?;
    let mailbox = mailbox(&r.astring(false)?)?;
    let mut messages = Vec::new();
    while !r.at_end() {
        r.sp()?;
        let mut m = AppendMessage { flags: Vec::new(), received: None, parts: Vec::new() };
        if r.peek() == Some(b'(') {
            m.flags = flag_list(r)?;
            r.sp()?;
        }
        if r.peek() == Some(b'"') {
            m.received = Some(date_time(r)?);
            r.sp()?;
        }
        if r.keyword("UTF8") {
            // RFC 6855 §4: a message with UTF-8 headers, as a literal8 in parentheses.
            r.sp()?;
            r.expect(b'(', "UTF8 takes a parenthesised literal")?;
            m.parts.push(Piece::Text(r.literal(true)?.to_vec()));
            r.expect(b')', "UTF8 takes a parenthesised literal")?;
        } else if r.keyword("CATENATE") {
            r.sp()?;
            m.parts = r.list(|r| {
                if r.keyword("TEXT") {
                    r.sp()?;
                    // RFC 4469 §5: TEXT takes a literal (a NUL-free one, and
                    // literal8 where BINARY is offered).
                    Ok(Piece::Text(r.literal(true)?.to_vec()))
                } else if r.keyword("URL") {
                    r.sp()?;
                    let url = String::from_utf8(r.astring(false)?.into_owned()).map_err(|_| "Bad URL")?;
                    Ok(Piece::Url(url))
                } else {
                    Err("CATENATE takes TEXT and URL parts")
                }
            })?;
            if m.parts.is_empty() {
                return Err("CATENATE needs at least one part");
            }
        } else {
            m.parts.push(Piece::Text(r.literal(true)?.to_vec()));
        }
        messages.push(m);
    }
    if messages.is_empty() {
        return Err("APPEND needs a message");
    }
    Ok(Extended::Append { mailbox, messages })
}

/// The ACL commands (RFC 4314 §3): a mailbox, then an identifier and rights as
/// each command takes them.
fn acl(r: &mut Reader<'_>, name: &str) -> Syntax<Extended> {
    use super::acl::Acl;
    r.sp()?;
    let mb = mailbox(&r.astring(false)?)?;
    let word = |r: &mut Reader<'_>| -> Syntax<String> {
        r.sp()?;
        String::from_utf8(r.astring(false)?.into_owned()).map_err(|_| "An identifier must be UTF-8")
    };
    let command = match name {
        "MYRIGHTS" => Acl::MyRights(mb),
        "GETACL" => Acl::Get(mb),
        "SETACL" => {
            let who = word(r)?;
            Acl::Set(mb, who, word(r)?)
        }
        "DELETEACL" => Acl::Delete(mb, word(r)?),
        _ => Acl::ListRights(mb, word(r)?),
    };
    r.end()?;
    Ok(Extended::Acl(command))
}

/// `NOTIFY NONE` or `NOTIFY SET [STATUS] 1*(SP "(" filter SP events ")")`.
fn notify(r: &mut Reader<'_>) -> Syntax<Extended> {
    r.sp()?;
    if r.keyword("NONE") {
        r.end()?;
        return Ok(Extended::Notify(Notify::None));
    }
    if !r.keyword("SET") {
        return Err("NOTIFY takes SET or NONE");
    }
    let mut status = false;
    let mut filters = Vec::new();
    let mut unsupported = false;
    while !r.at_end() {
        r.sp()?;
        if filters.is_empty() && !status && r.keyword("STATUS") {
            status = true;
            continue;
        }
        r.expect(b'(', "Expected a NOTIFY filter")?;
        let kind = r.word()?.to_ascii_uppercase();
        let names = |r: &mut Reader<'_>| -> Syntax<Vec<String>> {
            r.sp()?;
            let one = |r: &mut Reader<'_>| mailbox(&r.astring(false)?).map(|m| super::names::folder_name(&m));
            if r.peek() == Some(b'(') { r.list(one) } else { Ok(vec![one(r)?]) }
        };
        let mailboxes = match kind.as_str() {
            "SELECTED" | "SELECTED-DELAYED" => Mailboxes::Selected,
            "INBOXES" => Mailboxes::Inboxes,
            "PERSONAL" => Mailboxes::Personal,
            "SUBSCRIBED" => Mailboxes::Subscribed,
            "SUBTREE" => Mailboxes::Subtree(names(r)?),
            "MAILBOXES" => Mailboxes::Names(names(r)?),
            _ => return Err("Unknown NOTIFY filter"),
        };
        r.sp()?;
        let mut events = Events::default();
        if !r.keyword("NONE") {
            r.list(|r| {
                match r.word()?.to_ascii_uppercase().as_str() {
                    "MESSAGENEW" => {
                        events.message_new = true;
                        // The FETCH items to send with new mail: EXISTS is sent instead.
                        if r.peek() == Some(b' ') && r.rest().get(1) == Some(&b'(') {
                            r.sp()?;
                            r.list(|r| r.astring(false).map(|_| ()))?;
                        }
                    }
                    "MESSAGEEXPUNGE" => events.message_expunge = true,
                    "FLAGCHANGE" => events.flag_change = true,
                    "MAILBOXNAME" => events.mailbox_name = true,
                    "SUBSCRIPTIONCHANGE" => events.subscription_change = true,
                    "ANNOTATIONCHANGE" | "MAILBOXMETADATACHANGE" | "SERVERMETADATACHANGE" => unsupported = true,
                    _ => return Err("Unknown NOTIFY event"),
                }
                Ok(())
            })?;
        }
        r.expect(b')', "Expected the end of a NOTIFY filter")?;
        filters.push((mailboxes, events));
    }
    if filters.is_empty() {
        return Err("NOTIFY SET needs a filter");
    }
    Ok(Extended::Notify(Notify::Set { status, filters, unsupported }))
}

/// `CANCELUPDATE tag *(SP tag)` (RFC 5267 §4.3).
fn cancel_update(r: &mut Reader<'_>) -> Syntax<Extended> {
    let mut tags = Vec::new();
    while !r.at_end() {
        r.sp()?;
        let t = r.string()?;
        tags.push(String::from_utf8(t.into_owned()).map_err(|_| "Bad tag")?);
    }
    if tags.is_empty() {
        return Err("CANCELUPDATE needs a tag");
    }
    Ok(Extended::CancelUpdate { tags })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(bytes: &[u8]) -> Syntax<Extended> {
        parse(bytes).expect("one of ours").1
    }

    #[test]
    fn search_return_options_are_read_and_the_keys_given_to_imap_codec() {
        let Ok(Extended::Search { ret, body }) = parsed(b"a UID SEARCH RETURN (MIN count) SEEN 1:5\r\n") else {
            panic!("not a search")
        };
        assert!(ret.min && ret.count && !ret.all);
        assert!(matches!(body, CommandBody::Search { uid: true, .. }));
        let Ok(Extended::Search { ret, body }) = parsed(b"a SORT RETURN () (ARRIVAL) US-ASCII ALL\r\n") else {
            panic!("not a sort")
        };
        assert!(ret.all);
        assert!(matches!(body, CommandBody::Sort { uid: false, .. }));
        let Ok(Extended::Search { ret, .. }) = parsed(b"a SEARCH RETURN (PARTIAL 4:2) ALL\r\n") else { panic!() };
        assert_eq!(ret.partial, Some((2, 4)));
    }

    #[test]
    fn bad_return_options_are_syntax_errors() {
        for bad in [
            &b"a SEARCH RETURN (PARTIAL 1) ALL\r\n"[..],
            b"a SEARCH RETURN (PARTIAL 1:*) ALL\r\n",
            b"a SEARCH RETURN (PARTIAL -1:5) ALL\r\n",
            b"a SEARCH RETURN (BOGUS) ALL\r\n",
            b"a SEARCH RETURN (MIN) NOTAKEY\r\n",
        ] {
            assert!(parsed(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn list_extended_reads_selection_patterns_and_return_options() {
        let Ok(Extended::List(l)) = parsed(
            b"t LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (\"a/*\" b%) RETURN (CHILDREN STATUS (MESSAGES UNSEEN))\r\n",
        ) else {
            panic!("not a list")
        };
        assert!(l.subscribed && l.recursive);
        assert_eq!(l.patterns.len(), 2);
        assert_eq!(l.status, Some(vec![StatusDataItemName::Messages, StatusDataItemName::Unseen]));
        assert!(parsed(b"t LIST (RECURSIVEMATCH) \"\" \"\"\r\n").is_err());
        assert!(parsed(b"t LIST (IMAPTEST) \"\" \"\"\r\n").is_err());
        assert!(parsed(b"t LIST \"\" \"\" RETURN (IMAPTEST)\r\n").is_err());
    }

    #[test]
    fn multiappend_and_catenate_are_read_piece_by_piece() {
        let Ok(Extended::Append { messages, .. }) = parsed(
            b"a APPEND Box (\\Seen) \" 7-Feb-1994 21:52:25 -0800\" {2}\r\nhi CATENATE (URL \"/Box/;uid=1\" TEXT {1+}\r\nx) {1}\r\ny\r\n",
        ) else {
            panic!("not an append")
        };
        assert_eq!(messages.len(), 3);
        assert_eq!(messages[0].flags, vec![Flag::Seen]);
        assert_eq!(messages[0].received, Some(760_686_745));
        assert_eq!(messages[1].parts, vec![Piece::Url("/Box/;uid=1".into()), Piece::Text(b"x".to_vec())]);
        assert_eq!(messages[2].parts, vec![Piece::Text(b"y".to_vec())]);
        assert!(parsed(b"a APPEND Box CATENATE ()\r\n").is_err());
    }

    #[test]
    fn the_saved_result_stands_for_each_dollar_as_uids_or_numbers() {
        let number_of = |uid: u32| [10, 20, 30].iter().position(|u| *u == uid).map(|i| i as u32 + 1);
        let saved = [10, 30];
        let put = |c: &[u8], uids: &[u32]| with_saved(c, uids, number_of).map(|b| String::from_utf8(b).unwrap());
        assert_eq!(put(b"a FETCH $ FLAGS\r\n", &saved).as_deref(), Some("a FETCH 1,3 FLAGS\r\n"));
        assert_eq!(put(b"a UID FETCH $ FLAGS\r\n", &saved).as_deref(), Some("a UID FETCH 10,30 FLAGS\r\n"));
        assert_eq!(
            put(b"a UID SEARCH OR $ UID $ \"$\"\r\n", &saved).as_deref(),
            Some("a UID SEARCH OR 1,3 UID 10,30 \"$\"\r\n")
        );
        assert_eq!(put(b"a FETCH $ FLAGS\r\n", &[]).as_deref(), Some("a UID FETCH 4294967295 FLAGS\r\n"));
        assert_eq!(put(b"a SEARCH $ SEEN\r\n", &[]).as_deref(), Some("a SEARCH UID 4294967295 SEEN\r\n"));
        assert_eq!(put(b"a FETCH 1 BODY[]\r\n", &saved), None);
        assert_eq!(put(b"a APPEND x {3}\r\n$ $\r\n", &saved), None, "a literal's bytes are left alone");
    }

    #[test]
    fn notify_reads_filters_and_events() {
        let Ok(Extended::Notify(Notify::Set { status, filters, unsupported })) = parsed(
            b"n NOTIFY SET STATUS (SELECTED (MessageNew (UID FLAGS) MessageExpunge)) (MAILBOXES (Work \"a b\") (FlagChange)) (PERSONAL NONE)\r\n",
        ) else {
            panic!("not a notify")
        };
        assert!(status && !unsupported);
        assert_eq!(filters.len(), 3);
        assert_eq!(filters[1].0, Mailboxes::Names(vec!["Work".into(), "a b".into()]));
        assert!(filters[0].1.message_new && filters[0].1.message_expunge && !filters[0].1.flag_change);
        assert_eq!(filters[2].1, Events::default());
        assert!(matches!(parsed(b"n NOTIFY NONE\r\n"), Ok(Extended::Notify(Notify::None))));
        assert!(matches!(
            parsed(b"n NOTIFY SET (INBOXES (AnnotationChange))\r\n"),
            Ok(Extended::Notify(Notify::Set { unsupported: true, .. }))
        ));
        assert!(parsed(b"n NOTIFY SET (NOWHERE (MessageNew))\r\n").is_err());
        assert!(parsed(b"n NOTIFY SET\r\n").is_err());
    }

    /// Found by the `imap_extended` fuzz target: a `{` that opens no literal stopped
    /// the word scan where it stood, for ever.
    #[test]
    fn a_brace_that_opens_no_literal_is_a_word_not_a_hang() {
        assert_eq!(with_saved(b"\x8a[{\x8a", &[1], Some), None);
        assert_eq!(with_saved(b"a FETCH {x $ FLAGS\r\n", &[1], Some).as_deref(), Some(&b"a FETCH {x 1 FLAGS\r\n"[..]));
    }

    #[test]
    fn other_commands_are_not_ours() {
        assert!(parse(b"a FETCH 1 (FOO)\r\n").is_none());
        assert!(parse(b"a SEARCH FOO\r\n").is_none());
    }
}
