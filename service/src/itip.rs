//! Meetings: iTIP (RFC 5546) between the people of the organisation and over mail
//! with everyone else (iMIP, RFC 6047), as CalDAV's scheduling (RFC 6638) asks of a
//! server.
//!
//! A person who saves a meeting they organise (an event with an `ORGANIZER` that is
//! one of their addresses, and attendees) sends a `REQUEST` to every attendee; one who
//! removes attendees, or the meeting, sends those a `CANCEL`; an attendee who answers
//! (changes their `PARTSTAT`) or deletes the meeting sends the organiser a `REPLY`.
//! [`changed`] works out which, from the object before and after.
//!
//! Every message goes by mail (`text/calendar; method=…`, DKIM-signed like other mail
//! the server writes), so that it lands in the recipient's inbox, as Exchange's meeting
//! requests did. For a recipient of the organisation it is also applied at once
//! ([`deliver`]): an invitation lands in their calendar, tentative until they answer
//! (`PARTSTAT=NEEDS-ACTION`), a cancellation marks it `CANCELLED`, a reply sets the
//! attendee's answer in the organiser's copy; and the message itself is kept in their
//! scheduling inbox. The same happens to iMIP mail that arrives from outside
//! ([`after_delivery`]), but only as its `From:` allows: a request or a cancellation
//! only from the meeting's organiser, a reply only from the attendee it answers for.
//!
//! The iCalendar text is changed line by line (content lines, RFC 5545 §3.1) so that
//! everything else in it — time zones, alarms, properties unknown here — stays as the
//! client wrote it.

use mail_builder::MessageBuilder;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::MimePart;
use mail_parser::MimeHeaders as _;

use crate::context::ServiceContext;
use crate::store::dav::{DavKind, NewObject, Precondition};
use crate::store::{NewMessage, Outbound, OutboundRecipient, StoreError, StoreResult, now_secs};

/// The most attendees one change sends messages to (a mistake, or a mass mailing,
/// beyond it).
const MAX_ATTENDEES: usize = 200;

/// The name of the collection holding a person's scheduling inbox (RFC 6638 §2.2).
pub const INBOX: &str = "inbox";

/// One content line: its name (upper case), parameters and value, unfolded.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    name: String,
    params: Vec<(String, String)>,
    value: String,
}

impl Line {
    /// Reads an unfolded content line; `None` for one that is not.
    fn parse(text: &str) -> Option<Line> {
        let mut chars = text.char_indices().peekable();
        let mut name_end = text.len();
        while let Some(&(i, c)) = chars.peek() {
            if c == ';' || c == ':' {
                name_end = i;
                break;
            }
            chars.next();
        }
        let name = text[..name_end].trim().to_ascii_uppercase();
        if name.is_empty() || name_end == text.len() {
            return None;
        }
        let mut params = Vec::new();
        let mut rest = &text[name_end..];
        while let Some(after) = rest.strip_prefix(';') {
            let eq = after.find('=')?;
            let pname = after[..eq].trim().to_ascii_uppercase();
            let mut value = String::new();
            let mut i = eq + 1;
            let bytes = after.as_bytes();
            let mut quoted = false;
            while i < after.len() {
                let b = bytes[i];
                if b == b'"' {
                    quoted = !quoted;
                } else if !quoted && (b == b';' || b == b':') {
                    break;
                }
                i += 1;
            }
            value.push_str(&after[eq + 1..i]);
            params.push((pname, value));
            rest = &after[i..];
        }
        let value = rest.strip_prefix(':')?.to_owned();
        Some(Line { name, params, value })
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim_matches('"'))
    }

    fn set_param(&mut self, name: &str, value: &str) {
        match self.params.iter_mut().find(|(n, _)| n == name) {
            Some(p) => p.1 = value.to_owned(),
            None => self.params.push((name.to_owned(), value.to_owned())),
        }
    }

    /// The line folded at 75 octets (RFC 5545 §3.1), with its CRLF.
    fn write(&self) -> String {
        let mut flat = self.name.clone();
        for (n, v) in &self.params {
            flat.push_str(&format!(";{n}={v}"));
        }
        flat.push(':');
        flat.push_str(&self.value);
        let mut out = String::with_capacity(flat.len() + 8);
        let mut width = 0;
        for c in flat.chars() {
            if width + c.len_utf8() > 75 {
                out.push_str("\r\n ");
                width = 1;
            }
            out.push(c);
            width += c.len_utf8();
        }
        out.push_str("\r\n");
        out
    }

    /// A calendar user's address (`mailto:`), lower case.
    fn address(&self) -> Option<String> {
        address(&self.value)
    }
}

/// The address of a `mailto:` URI, lower case.
fn address(uri: &str) -> Option<String> {
    let uri = uri.trim();
    let rest = uri.get(..7).filter(|p| p.eq_ignore_ascii_case("mailto:")).map(|_| &uri[7..])?;
    let rest = percent_encoding::percent_decode_str(rest).decode_utf8().ok()?;
    rest.contains('@').then(|| rest.to_lowercase())
}

/// The content lines of `text`, unfolded, with how deep in components each is (1
/// inside VCALENDAR, 2 inside an event, …; BEGIN and END lines at their parent's).
fn lines(text: &str) -> Vec<(usize, Line)> {
    let mut unfolded: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match (raw.strip_prefix(' ').or_else(|| raw.strip_prefix('\t')), unfolded.last_mut()) {
            (Some(more), Some(last)) => last.push_str(more),
            _ if raw.is_empty() => {}
            _ => unfolded.push(raw.to_owned()),
        }
    }
    let mut depth = 0usize;
    let mut out = Vec::with_capacity(unfolded.len());
    for l in unfolded {
        let Some(line) = Line::parse(&l) else { continue };
        match line.name.as_str() {
            "BEGIN" => {
                out.push((depth, line));
                depth += 1;
            }
            "END" => {
                depth = depth.saturating_sub(1);
                out.push((depth, line));
            }
            _ => out.push((depth, line)),
        }
    }
    out
}

fn write(lines: &[(usize, Line)]) -> String {
    lines.iter().map(|(_, l)| l.write()).collect()
}

/// The components that make a meeting (or a task given to someone).
fn is_main(value: &str) -> bool {
    ["VEVENT", "VTODO", "VJOURNAL"].iter().any(|c| value.eq_ignore_ascii_case(c))
}

/// Keeps only the parts of `lines` not inside a VALARM (an organiser's reminders are
/// theirs).
fn without_alarms(lines: Vec<(usize, Line)>) -> Vec<(usize, Line)> {
    let mut out = Vec::with_capacity(lines.len());
    let mut inside: Option<usize> = None;
    for (depth, line) in lines {
        if inside.is_none() && line.name == "BEGIN" && line.value.eq_ignore_ascii_case("VALARM") {
            inside = Some(depth);
            continue;
        }
        if let Some(d) = inside {
            // The END that closes it, whatever it names (depths count BEGINs and ENDs).
            if line.name == "END" && depth == d {
                inside = None;
            }
            continue;
        }
        out.push((depth, line));
    }
    out
}

/// An attendee of a meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendee {
    /// Their address, lower case.
    pub address: String,
    /// Their answer (`NEEDS-ACTION` when none is given).
    pub partstat: String,
    /// Whether their client, not the server, sends them messages (`SCHEDULE-AGENT`).
    pub by_client: bool,
}

/// What scheduling needs to know of an iCalendar object.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Meeting {
    /// The iTIP method, for a message (`REQUEST`, `REPLY`, `CANCEL`…).
    pub method: Option<String>,
    /// The UID.
    pub uid: String,
    /// The organiser's address, lower case.
    pub organizer: Option<String>,
    /// The attendees (of every component: the series and its exceptions).
    pub attendees: Vec<Attendee>,
    /// SEQUENCE (of the series).
    pub sequence: i64,
    /// DTSTAMP (of the series), as written.
    pub stamp: String,
    /// SUMMARY (of the series).
    pub summary: String,
}

impl Meeting {
    /// Reads `text`; `None` when it has no event, to-do or journal with a UID.
    pub fn read(text: &str) -> Option<Meeting> {
        let mut m = Meeting::default();
        let mut seen_main = false;
        let mut in_master = false;
        for (depth, line) in lines(text) {
            match (depth, line.name.as_str()) {
                (1, "METHOD") => m.method = Some(line.value.trim().to_ascii_uppercase()),
                (1, "BEGIN") if is_main(&line.value) => {
                    in_master = !seen_main;
                    seen_main = true;
                }
                (2, "RECURRENCE-ID") if in_master => in_master = false,
                (2, "UID") if m.uid.is_empty() => m.uid = line.value.trim().to_owned(),
                (2, "ORGANIZER") if m.organizer.is_none() => m.organizer = line.address(),
                (2, "ATTENDEE") => {
                    let Some(address) = line.address() else { continue };
                    if m.attendees.iter().any(|a| a.address == address) {
                        continue;
                    }
                    m.attendees.push(Attendee {
                        partstat: line.param("PARTSTAT").unwrap_or("NEEDS-ACTION").to_ascii_uppercase(),
                        by_client: line.param("SCHEDULE-AGENT").is_some_and(|a| !a.eq_ignore_ascii_case("SERVER")),
                        address,
                    });
                }
                (2, "SEQUENCE") if in_master => m.sequence = line.value.trim().parse().unwrap_or(0),
                (2, "DTSTAMP") if in_master => m.stamp = line.value.trim().to_owned(),
                (2, "SUMMARY") if in_master => m.summary = line.value.replace("\\,", ",").replace("\\;", ";"),
                _ => {}
            }
        }
        (seen_main && !m.uid.is_empty()).then_some(m)
    }

    /// `address`'s answer, if they are an attendee.
    pub fn partstat(&self, address: &str) -> Option<&str> {
        self.attendees.iter().find(|a| a.address == address).map(|a| a.partstat.as_str())
    }

    /// Whether this is newer than `other` (RFC 5546 §2.1.5: SEQUENCE, then DTSTAMP).
    pub fn newer_than(&self, other: &Meeting) -> bool {
        (self.sequence, self.stamp.as_str()) > (other.sequence, other.stamp.as_str())
    }
}

/// `text` with its METHOD replaced by `method` (or removed): a calendar object keeps
/// none (RFC 4791 §4.1), a message must have one.
pub fn with_method(text: &str, method: Option<&str>) -> String {
    let mut all: Vec<(usize, Line)> =
        lines(text).into_iter().filter(|(d, l)| !(*d == 1 && l.name == "METHOD")).collect();
    if let Some(method) = method
        && let Some(at) = all.iter().position(|(d, l)| *d == 0 && l.name == "BEGIN")
    {
        all.insert(at + 1, (1, Line { name: "METHOD".into(), params: Vec::new(), value: method.into() }));
    }
    write(&all)
}

/// The message an organiser sends attendees: `REQUEST` (the meeting, without the
/// organiser's alarms) or `CANCEL` (the same, `STATUS:CANCELLED` and SEQUENCE up one).
pub fn message(text: &str, method: &str) -> String {
    let mut all = without_alarms(lines(text));
    for (_, l) in &mut all {
        if l.name == "ATTENDEE" || l.name == "ORGANIZER" {
            l.params.retain(|(n, _)| n != "SCHEDULE-STATUS" && n != "SCHEDULE-FORCE-SEND");
        }
    }
    let mut out = if method == "CANCEL" { cancelled_lines(all, true) } else { all };
    out.retain(|(d, l)| !(*d == 1 && l.name == "METHOD"));
    if let Some(at) = out.iter().position(|(d, l)| *d == 0 && l.name == "BEGIN") {
        out.insert(at + 1, (1, Line { name: "METHOD".into(), params: Vec::new(), value: method.into() }));
    }
    write(&out)
}

/// Marks every event of `lines` cancelled; with `bump`, its SEQUENCE goes up one.
fn cancelled_lines(all: Vec<(usize, Line)>, bump: bool) -> Vec<(usize, Line)> {
    let mut out = Vec::with_capacity(all.len() + 4);
    let mut sequence_seen = false;
    for (depth, mut line) in all {
        if depth == 2 && line.name == "STATUS" {
            continue;
        }
        if depth == 2 && line.name == "SEQUENCE" {
            sequence_seen = true;
            if bump {
                line.value = (line.value.trim().parse::<i64>().unwrap_or(0) + 1).to_string();
            }
        }
        if depth == 1 && line.name == "END" && is_main(&line.value) {
            out.push((2, Line { name: "STATUS".into(), params: Vec::new(), value: "CANCELLED".into() }));
            if bump && !sequence_seen {
                out.push((2, Line { name: "SEQUENCE".into(), params: Vec::new(), value: "1".into() }));
            }
            sequence_seen = false;
        }
        out.push((depth, line));
    }
    out
}

/// `text` (a calendar object) with every event marked `CANCELLED`.
pub fn cancelled(text: &str) -> String {
    write(&cancelled_lines(lines(text), false))
}

/// `text` with `who`'s answer set to `partstat` wherever they attend.
pub fn with_partstat(text: &str, who: &str, partstat: &str) -> String {
    let mut all = lines(text);
    for (depth, l) in &mut all {
        if *depth == 2 && l.name == "ATTENDEE" && l.address().as_deref() == Some(who) {
            l.set_param("PARTSTAT", partstat);
            l.params.retain(|(n, _)| n != "SCHEDULE-STATUS" && n != "RSVP");
        }
    }
    write(&all)
}

/// `who`'s `REPLY` to the meeting `text`: the meeting with only their own attendance,
/// answered `partstat`.
pub fn reply(text: &str, who: &str, partstat: &str) -> String {
    let all = without_alarms(lines(&with_partstat(text, who, partstat)));
    let kept: Vec<(usize, Line)> = all
        .into_iter()
        .filter(|(d, l)| !(*d == 2 && l.name == "ATTENDEE" && l.address().as_deref() != Some(who)))
        .collect();
    message(&write(&kept), "REPLY")
}

/// The Schedule-Tag of a scheduling object (RFC 6638 §3.2): it changes when what the
/// organiser decides changes (times, recurrence, place, people, status), not when an
/// attendee's answer or a client's own property does.
pub fn schedule_tag(text: &str) -> String {
    const DECIDED: [&str; 16] = [
        "UID",
        "DTSTART",
        "DTEND",
        "DURATION",
        "DUE",
        "RRULE",
        "RDATE",
        "EXDATE",
        "RECURRENCE-ID",
        "SUMMARY",
        "LOCATION",
        "DESCRIPTION",
        "ORGANIZER",
        "ATTENDEE",
        "SEQUENCE",
        "STATUS",
    ];
    let mut all = String::new();
    for (depth, l) in without_alarms(lines(text)) {
        if depth == 2 && DECIDED.contains(&l.name.as_str()) {
            all.push_str(&l.name);
            all.push(':');
            match l.name.as_str() {
                "ATTENDEE" | "ORGANIZER" => all.push_str(&l.address().unwrap_or_default()),
                _ => {
                    for (n, v) in &l.params {
                        all.push_str(&format!(";{n}={v}"));
                    }
                    all.push_str(&l.value);
                }
            }
            all.push('\n');
        } else if depth == 1 && (l.name == "BEGIN" || l.name == "END") {
            all.push_str(&l.value);
            all.push('\n');
        }
    }
    crate::store::dav::etag_of(all.as_bytes())
}

/// Whether `text` is a scheduling object (RFC 6638 §3.1: it has an organiser).
pub fn is_scheduling_object(text: &str) -> bool {
    Meeting::read(text).is_some_and(|m| m.organizer.is_some())
}

/// A free-busy request (RFC 6638 §5.1: `METHOD:REQUEST` with a VFREEBUSY), as POSTed
/// to a scheduling outbox.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FreeBusyRequest {
    /// The organiser's address, lower case.
    pub organizer: Option<String>,
    /// The people asked about, lower case.
    pub attendees: Vec<String>,
    /// DTSTART and DTEND, as written (UTC).
    pub start: String,
    /// DTEND.
    pub end: String,
    /// The UID, when given.
    pub uid: Option<String>,
}

impl FreeBusyRequest {
    /// Reads `text`; `None` when it is no free-busy request.
    pub fn read(text: &str) -> Option<FreeBusyRequest> {
        let mut r = FreeBusyRequest::default();
        let (mut method, mut freebusy) = (None, false);
        for (depth, line) in lines(text) {
            match (depth, line.name.as_str()) {
                (1, "METHOD") => method = Some(line.value.trim().to_ascii_uppercase()),
                (1, "BEGIN") if line.value.eq_ignore_ascii_case("VFREEBUSY") => freebusy = true,
                (2, "ORGANIZER") if freebusy => r.organizer = line.address(),
                (2, "ATTENDEE") if freebusy => r.attendees.extend(line.address()),
                (2, "DTSTART") if freebusy => r.start = line.value.trim().to_owned(),
                (2, "DTEND") if freebusy => r.end = line.value.trim().to_owned(),
                (2, "UID") if freebusy => r.uid = Some(line.value.trim().to_owned()),
                _ => {}
            }
        }
        (method.as_deref() == Some("REQUEST") && freebusy).then_some(r)
    }
}

/// Sends what a change of one of `mailbox`'s calendar objects (from `old` to `new`;
/// `None`: absent) means to the others: requests and cancellations when the mailbox
/// organises it, a reply when it attends. Failures are logged: the change itself
/// stands.
pub async fn changed(ctx: &ServiceContext, mailbox: i64, old: Option<&str>, new: Option<&str>) {
    if let Err(e) = schedule(ctx, mailbox, old, new).await {
        tracing::warn!(error = %e, mailbox, "cannot send a meeting's messages");
    }
}

async fn schedule(ctx: &ServiceContext, mailbox: i64, old: Option<&str>, new: Option<&str>) -> StoreResult<()> {
    let before = old.and_then(Meeting::read);
    let after = new.and_then(Meeting::read);
    let Some(organizer) = after.as_ref().or(before.as_ref()).and_then(|m| m.organizer.clone()) else { return Ok(()) };
    let own = ctx.store.mailbox_addresses(mailbox).await?;
    if own.contains(&organizer) {
        let invited = |m: &Meeting| -> Vec<String> {
            m.attendees
                .iter()
                .filter(|a| a.address != organizer && !a.by_client)
                .map(|a| a.address.clone())
                .take(MAX_ATTENDEES)
                .collect()
        };
        let was = before.as_ref().map(&invited).unwrap_or_default();
        match (&after, new) {
            (Some(a), Some(text)) => {
                // Only what the organiser decides is news (not an answer recorded).
                let same = old.is_some_and(|o| schedule_tag(o) == schedule_tag(text));
                if !same {
                    let request = message(text, "REQUEST");
                    for to in invited(a) {
                        send(ctx, &organizer, &to, "REQUEST", &a.summary, &request).await?;
                    }
                }
                let now = invited(a);
                if let Some(o) = old.filter(|_| was.iter().any(|w| !now.contains(w))) {
                    let cancel = message(o, "CANCEL");
                    for to in was.iter().filter(|w| !now.contains(w)) {
                        send(ctx, &organizer, to, "CANCEL", &a.summary, &cancel).await?;
                    }
                }
            }
            _ => {
                if let (Some(o), Some(b)) = (old, &before) {
                    let cancel = message(o, "CANCEL");
                    for to in &was {
                        send(ctx, &organizer, to, "CANCEL", &b.summary, &cancel).await?;
                    }
                }
            }
        }
        return Ok(());
    }
    // An attendee: an answer changed (or the meeting was deleted: declined).
    let me = own.iter().find(|a| after.as_ref().or(before.as_ref()).is_some_and(|m| m.partstat(a).is_some()));
    let Some(me) = me else { return Ok(()) };
    let was = before.as_ref().and_then(|m| m.partstat(me)).unwrap_or("NEEDS-ACTION").to_owned();
    let (text, answer, summary) = match (&after, new) {
        (Some(a), Some(text)) => (text, a.partstat(me).unwrap_or("NEEDS-ACTION").to_owned(), a.summary.clone()),
        _ => match (old, &before) {
            (Some(o), Some(b)) => (o, "DECLINED".to_owned(), b.summary.clone()),
            _ => return Ok(()),
        },
    };
    if answer == was && after.is_some() || answer == "NEEDS-ACTION" || (after.is_none() && was == "DECLINED") {
        return Ok(());
    }
    if before.as_ref().and_then(|b| b.attendees.iter().find(|a| a.address == *me)).is_some_and(|a| a.by_client) {
        return Ok(());
    }
    send(ctx, me, &organizer, "REPLY", &summary, &reply(text, me, &answer)).await
}

/// Sends iTIP message `itip` from `from` to `to`: applied at once when `to` is a
/// mailbox here, and by mail in any case.
async fn send(ctx: &ServiceContext, from: &str, to: &str, method: &str, summary: &str, itip: &str) -> StoreResult<()> {
    let local = match ctx.store.named(to).await? {
        Some(crate::store::recipients::Named::Mailbox(id)) => Some(id),
        _ => None,
    };
    if let Some(id) = local {
        deliver(ctx, id, from, itip).await?;
    }
    mail(ctx, from, to, local, method, summary, itip).await?;
    tracing::info!(%from, %to, method, "meeting message sent");
    Ok(())
}

/// The subject of a meeting message, as Outlook words them.
fn subject(method: &str, summary: &str, itip: &str, from: &str) -> String {
    let summary = if summary.trim().is_empty() { "(no subject)" } else { summary.trim() };
    match method {
        "CANCEL" => format!("Cancelled: {summary}"),
        "REPLY" => {
            let answer = Meeting::read(itip).and_then(|m| m.partstat(from).map(str::to_owned)).unwrap_or_default();
            match answer.as_str() {
                "ACCEPTED" => format!("Accepted: {summary}"),
                "DECLINED" => format!("Declined: {summary}"),
                "TENTATIVE" => format!("Tentative: {summary}"),
                _ => format!("Reply: {summary}"),
            }
        }
        _ => format!("Invitation: {summary}"),
    }
}

/// Writes the iMIP message (RFC 6047) and hands it to the store: to the mailbox
/// `local`, or to the queue.
async fn mail(
    ctx: &ServiceContext,
    from: &str,
    to: &str,
    local: Option<i64>,
    method: &str,
    summary: &str,
    itip: &str,
) -> StoreResult<()> {
    let now = now_secs();
    let host = &ctx.config.general.host_name;
    let subject = subject(method, summary, itip, from);
    let words =
        format!("{subject}\r\n\r\nThis is a meeting message; a calendar program shows it with its details.\r\n");
    let calendar = MimePart::new(
        ContentType::new("text/calendar").attribute("method", method).attribute("charset", "utf-8"),
        itip.as_bytes().to_vec(),
    );
    let body = MimePart::new("multipart/alternative", vec![MimePart::new("text/plain", words), calendar]);
    let counter = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let content = MessageBuilder::new()
        .from(from)
        .to(to)
        .subject(subject)
        .date(now)
        .message_id(format!("itip.{now}.{counter}@{host}"))
        .header("Auto-Submitted", Raw::new("auto-generated"))
        .body(body)
        .write_to_vec()
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    let domain = from.rsplit_once('@').map(|(_, d)| d.to_owned()).unwrap_or_default();
    let signed = if local.is_none() && ctx.config.security.message_authentication.sign_outbound {
        let mailauth = std::sync::Arc::clone(&ctx.mailauth);
        let copy = content.clone();
        tokio::task::spawn_blocking(move || mailauth.keys.sign(&domain, &copy)).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut full = signed;
    full.extend_from_slice(&content);
    let message = NewMessage {
        queue_id: format!("{now:X}I{counter:04X}"),
        received_at: now,
        content: full,
        mailboxes: local.into_iter().collect(),
        local_prefix: if local.is_some() { format!("Return-Path: <{from}>\r\n").into_bytes() } else { Vec::new() },
        outbound: local.is_none().then(|| Outbound {
            sender: from.to_owned(),
            recipients: vec![OutboundRecipient { address: to.to_owned(), ..OutboundRecipient::default() }],
            ..Outbound::default()
        }),
        ..NewMessage::default()
    };
    ctx.store.accept(message).await?;
    if local.is_none() {
        ctx.queue.notify_one();
    }
    Ok(())
}

static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// What [`deliver`] did with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The calendar changed (and the message was kept in the scheduling inbox).
    Changed,
    /// Nothing to do: an older or repeated message, or one the mailbox is not party
    /// to, or one its sender may not send.
    Ignored,
}

/// Applies iTIP message `itip`, sent by `from`, to `mailbox`'s calendars, and keeps it
/// in the mailbox's scheduling inbox.
///
/// # Errors
/// Store failures.
pub async fn deliver(ctx: &ServiceContext, mailbox: i64, from: &str, itip: &str) -> StoreResult<Applied> {
    let Some(m) = Meeting::read(itip) else { return Ok(Applied::Ignored) };
    let from = from.to_lowercase();
    let own = ctx.store.mailbox_addresses(mailbox).await?;
    let existing = ctx.store.dav_find_uid(mailbox, &m.uid).await?;
    let current = existing.as_ref().and_then(|(_, o)| std::str::from_utf8(&o.data).ok()).map(str::to_owned);
    let updated = match m.method.as_deref() {
        Some("REQUEST" | "ADD") => {
            if m.organizer.as_deref() != Some(from.as_str()) || !own.iter().any(|a| m.partstat(a).is_some()) {
                return Ok(Applied::Ignored);
            }
            if current.as_deref().and_then(Meeting::read).is_some_and(|c| !m.newer_than(&c)) {
                return Ok(Applied::Ignored);
            }
            with_method(itip, None)
        }
        Some("CANCEL") => {
            let Some(c) = current.as_deref() else { return Ok(Applied::Ignored) };
            if m.organizer.as_deref() != Some(from.as_str())
                || Meeting::read(c).and_then(|c| c.organizer).as_deref() != Some(from.as_str())
            {
                return Ok(Applied::Ignored);
            }
            cancelled(c)
        }
        Some("REPLY") => {
            let Some(c) = current.as_deref() else { return Ok(Applied::Ignored) };
            let organised = Meeting::read(c).and_then(|c| c.organizer).is_some_and(|o| own.contains(&o));
            let Some(answer) = m.partstat(&from).filter(|_| organised) else { return Ok(Applied::Ignored) };
            if Meeting::read(c).and_then(|c| c.partstat(&from).map(str::to_owned)).is_none() {
                return Ok(Applied::Ignored);
            }
            with_partstat(c, &from, answer)
        }
        _ => return Ok(Applied::Ignored),
    };
    let (collection, name, when) = match &existing {
        Some((collection, o)) => (*collection, o.name.clone(), Precondition::Etag(o.etag.clone())),
        None => {
            let Some(calendar) = default_calendar(ctx, mailbox).await? else { return Ok(Applied::Ignored) };
            (calendar, format!("{}.ics", object_name(&m.uid)), Precondition::Absent)
        }
    };
    let Ok(object) = crate::http::dav::objects::calendar_object(&name, updated.as_bytes()) else {
        return Ok(Applied::Ignored);
    };
    ctx.store.dav_put(collection, object, when).await?;
    keep_in_inbox(ctx, mailbox, &m.uid, itip).await?;
    Ok(Applied::Changed)
}

/// A name for an object from its UID: letters, digits and `-_.@` kept, the rest
/// hashed (a UID may hold anything).
pub(crate) fn object_name(uid: &str) -> String {
    let plain = uid.chars().all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c)) && uid.len() <= 100;
    if plain { uid.to_owned() } else { crate::store::dav::etag_of(uid.as_bytes()) }
}

/// The calendar invitations land in: the first that takes events (the default one,
/// `calendar`, when it does).
async fn default_calendar(ctx: &ServiceContext, mailbox: i64) -> StoreResult<Option<i64>> {
    let calendars = ctx.store.dav_collections(mailbox, DavKind::Calendar).await?;
    let takes = |c: &&crate::store::dav::Collection| c.name != INBOX && c.components.iter().any(|k| k == "VEVENT");
    Ok(calendars.iter().filter(takes).find(|c| c.name == "calendar").or(calendars.iter().find(takes)).map(|c| c.id))
}

/// `mailbox`'s scheduling inbox (made the first time).
///
/// # Errors
/// Store failures.
pub async fn inbox(ctx: &ServiceContext, mailbox: i64) -> StoreResult<crate::store::dav::Collection> {
    if let Some(c) = ctx.store.dav_collection(mailbox, DavKind::Calendar, INBOX).await? {
        return Ok(c);
    }
    let props =
        crate::store::dav::CollectionProps { display_name: Some("Scheduling Inbox".into()), ..Default::default() };
    match ctx.store.dav_create_collection(mailbox, DavKind::Calendar, INBOX, props).await {
        Ok(c) => Ok(c),
        Err(StoreError::Conflict(_)) => ctx
            .store
            .dav_collection(mailbox, DavKind::Calendar, INBOX)
            .await?
            .ok_or_else(|| StoreError::NotFound("scheduling inbox".into())),
        Err(e) => Err(e),
    }
}

/// Keeps the latest message about `uid` in the scheduling inbox.
async fn keep_in_inbox(ctx: &ServiceContext, mailbox: i64, uid: &str, itip: &str) -> StoreResult<()> {
    let inbox = inbox(ctx, mailbox).await?;
    let name = format!("{}.ics", crate::store::dav::etag_of(uid.as_bytes()));
    let object = NewObject {
        name,
        uid: uid.to_owned(),
        component: "VEVENT".into(),
        data: itip.as_bytes().to_vec(),
        starts: None,
        ends: None,
    };
    ctx.store.dav_put(inbox.id, object, Precondition::None).await?;
    Ok(())
}

/// Applies the iMIP message `content` (delivered to `mailboxes`) to their calendars:
/// the first `text/calendar` part with a method, sent by the `From:` address.
pub async fn after_delivery(ctx: ServiceContext, mailboxes: Vec<i64>, content: Vec<u8>) {
    let Some((from, itip)) = imip(&content) else { return };
    for mailbox in mailboxes {
        match deliver(&ctx, mailbox, &from, &itip).await {
            Ok(Applied::Changed) => tracing::info!(mailbox, %from, "meeting message applied to a calendar"),
            Ok(Applied::Ignored) => {}
            Err(e) => tracing::warn!(error = %e, mailbox, "cannot apply a meeting message"),
        }
    }
}

/// Whether `content` may be an iMIP message (cheap, before it is parsed).
pub fn may_be_imip(content: &[u8]) -> bool {
    content.windows(13).any(|w| w.eq_ignore_ascii_case(b"text/calendar"))
}

/// The sender and the iTIP message of an iMIP mail.
fn imip(content: &[u8]) -> Option<(String, String)> {
    let message = mail_parser::MessageParser::new().parse(content)?;
    let from = message.from()?.first()?.address()?.to_lowercase();
    let itip = message.parts.iter().find_map(|p| {
        let ct = p.content_type()?;
        let calendar =
            ct.ctype().eq_ignore_ascii_case("text") && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("calendar"));
        let text = calendar.then(|| p.text_contents()).flatten()?;
        Meeting::read(text).filter(|m| m.method.is_some()).map(|_| text.to_owned())
    })?;
    Some((from, itip))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEETING: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n\
        UID:m1@corp.test\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20270105T090000Z\r\nDTEND:20270105T100000Z\r\n\
        SUMMARY:Plans\\, for 2027\r\nORGANIZER;CN=Ann:mailto:Ann@corp.test\r\n\
        ATTENDEE;PARTSTAT=ACCEPTED:mailto:ann@corp.test\r\n\
        ATTENDEE;CN=\"Bob; the builder\";RSVP=TRUE;PARTSTAT=NEEDS-ACTION:mailto:bob@corp.test\r\n\
        ATTENDEE;CN=Zoe;PARTSTAT=NEEDS-ACTION:MAILTO:zoe@example.net\r\n\
        BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nDESCRIPTION:soon\r\nEND:VALARM\r\n\
        END:VEVENT\r\nEND:VCALENDAR\r\n";

    #[test]
    fn a_meeting_is_read_with_its_organiser_attendees_and_answers() {
        let m = Meeting::read(MEETING).expect("a meeting");
        assert_eq!(m.uid, "m1@corp.test");
        assert_eq!(m.organizer.as_deref(), Some("ann@corp.test"));
        assert_eq!(m.summary, "Plans, for 2027");
        let who: Vec<_> = m.attendees.iter().map(|a| (a.address.as_str(), a.partstat.as_str())).collect();
        assert_eq!(
            who,
            [("ann@corp.test", "ACCEPTED"), ("bob@corp.test", "NEEDS-ACTION"), ("zoe@example.net", "NEEDS-ACTION")]
        );
        assert!(Meeting::read("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n").is_none());
    }

    #[test]
    fn a_request_has_its_method_and_not_the_organisers_alarms() {
        let r = message(MEETING, "REQUEST");
        assert!(r.contains("\r\nMETHOD:REQUEST\r\n") && !r.contains("VALARM"), "{r}");
        assert_eq!(Meeting::read(&r).and_then(|m| m.method).as_deref(), Some("REQUEST"));
        // The quoted parameter with a `;` in it survives.
        assert!(r.contains("CN=\"Bob; the builder\""), "{r}");
        assert!(!with_method(&r, None).contains("METHOD"));
        let c = message(MEETING, "CANCEL");
        assert!(c.contains("STATUS:CANCELLED\r\n") && c.contains("SEQUENCE:1\r\n"), "{c}");
    }

    #[test]
    fn a_reply_carries_only_the_answering_attendee() {
        let r = reply(MEETING, "bob@corp.test", "ACCEPTED");
        let m = Meeting::read(&r).expect("reply");
        assert_eq!(m.method.as_deref(), Some("REPLY"));
        assert_eq!(m.attendees.len(), 1);
        assert_eq!(m.partstat("bob@corp.test"), Some("ACCEPTED"));
        assert!(!r.contains("RSVP"), "{r}");
    }

    #[test]
    fn the_schedule_tag_ignores_answers_and_alarms_but_not_the_time() {
        let tag = schedule_tag(MEETING);
        assert_eq!(tag, schedule_tag(&with_partstat(MEETING, "bob@corp.test", "ACCEPTED")));
        assert_eq!(tag, schedule_tag(&MEETING.replace("TRIGGER:-PT15M", "TRIGGER:-PT5M")));
        assert_ne!(tag, schedule_tag(&MEETING.replace("T090000Z", "T110000Z")));
        assert_ne!(tag, schedule_tag(&cancelled(MEETING)));
    }

    #[test]
    fn long_lines_are_folded_and_read_back_whole() {
        let long = "x".repeat(200);
        let text = MEETING.replace("SUMMARY:Plans\\, for 2027", &format!("SUMMARY:{long}"));
        let out = with_method(&text, Some("REQUEST"));
        assert!(out.split("\r\n").all(|l| l.len() <= 75), "{out}");
        assert_eq!(Meeting::read(&out).expect("read").summary, long);
    }

    #[test]
    fn newer_means_a_higher_sequence_then_a_later_stamp() {
        let m = Meeting::read(MEETING).expect("m");
        let later = Meeting::read(&MEETING.replace("DTSTAMP:20270101", "DTSTAMP:20270102")).expect("later");
        let resequenced =
            Meeting::read(&MEETING.replace("DTSTAMP:20270101T000000Z", "DTSTAMP:20260101T000000Z\r\nSEQUENCE:2"))
                .expect("re");
        assert!(later.newer_than(&m) && !m.newer_than(&later) && !m.newer_than(&m));
        assert!(resequenced.newer_than(&later));
    }

    #[test]
    fn a_free_busy_request_names_its_organiser_people_and_range() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VFREEBUSY\r\nUID:fb1\r\n\
            DTSTAMP:20270101T000000Z\r\nDTSTART:20270109T000000Z\r\nDTEND:20270110T000000Z\r\n\
            ORGANIZER:mailto:ann@corp.test\r\nATTENDEE:mailto:Bob@corp.test\r\nATTENDEE:mailto:zoe@example.net\r\n\
            END:VFREEBUSY\r\nEND:VCALENDAR\r\n";
        let r = FreeBusyRequest::read(text).expect("a request");
        assert_eq!(r.organizer.as_deref(), Some("ann@corp.test"));
        assert_eq!(r.attendees, ["bob@corp.test", "zoe@example.net"]);
        assert_eq!((r.start.as_str(), r.end.as_str()), ("20270109T000000Z", "20270110T000000Z"));
        assert!(FreeBusyRequest::read(&text.replace("METHOD:REQUEST", "METHOD:PUBLISH")).is_none());
        assert!(FreeBusyRequest::read(MEETING).is_none());
    }

    #[test]
    fn an_alarm_closed_by_the_wrong_end_takes_nothing_after_it_away() {
        // Found by fuzzing: an alarm at the top, closed by END:VEVENT.
        let text = "BEGIN:VCALENDAR\r\nBEGIN:VALARM\r\nTRIGGER:-PT15M\r\nEND:VEVENT\r\n\
            BEGIN:VEVENT\r\nUID:w1\r\nDTSTART:20260119T140000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let request = message(text, "REQUEST");
        assert_eq!(Meeting::read(&request).map(|m| m.uid), Some("w1".to_owned()), "{request}");
    }

    #[test]
    fn imip_mail_gives_its_sender_and_calendar() {
        let mail = format!(
            "From: Zoe <Zoe@example.net>\r\nTo: ann@corp.test\r\nSubject: Accepted\r\nMIME-Version: 1.0\r\n\
             Content-Type: text/calendar; method=REPLY; charset=utf-8\r\n\r\n{}",
            reply(MEETING, "zoe@example.net", "ACCEPTED")
        );
        assert!(may_be_imip(mail.as_bytes()));
        let (from, itip) = imip(mail.as_bytes()).expect("imip");
        assert_eq!(from, "zoe@example.net");
        assert_eq!(Meeting::read(&itip).and_then(|m| m.method).as_deref(), Some("REPLY"));
        assert!(imip(b"From: a@b.c\r\nContent-Type: text/plain\r\n\r\ntext/calendar").is_none());
    }
}
