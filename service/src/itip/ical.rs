//! The iCalendar side of meetings: content lines read and written as the client
//! wrote them (RFC 5545 §3.1), what scheduling needs to know of an object
//! ([`Meeting`]), and the objects iTIP sends made from it (a request, a cancellation,
//! a reply; RFC 5546). Pure text in, text out: sending and applying them is the
//! parent module's.

/// One content line: its name (upper case), parameters and value, unfolded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Line {
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
pub(super) fn address(uri: &str) -> Option<String> {
    let uri = uri.trim();
    let rest = uri.get(..7).filter(|p| p.eq_ignore_ascii_case("mailto:")).map(|_| &uri[7..])?;
    let rest = percent_encoding::percent_decode_str(rest).decode_utf8().ok()?;
    rest.contains('@').then(|| rest.to_lowercase())
}

/// The content lines of `text`, unfolded, with how deep in components each is (1
/// inside VCALENDAR, 2 inside an event, …; BEGIN and END lines at their parent's).
pub(super) fn lines(text: &str) -> Vec<(usize, Line)> {
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

pub(super) fn write(lines: &[(usize, Line)]) -> String {
    lines.iter().map(|(_, l)| l.write()).collect()
}

/// The components that make a meeting (or a task given to someone).
pub(super) fn is_main(value: &str) -> bool {
    ["VEVENT", "VTODO", "VJOURNAL"].iter().any(|c| value.eq_ignore_ascii_case(c))
}

/// Keeps only the parts of `lines` not inside a VALARM (an organiser's reminders are
/// theirs).
pub(super) fn without_alarms(lines: Vec<(usize, Line)>) -> Vec<(usize, Line)> {
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
pub(super) fn cancelled_lines(all: Vec<(usize, Line)>, bump: bool) -> Vec<(usize, Line)> {
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
