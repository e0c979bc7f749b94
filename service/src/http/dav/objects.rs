//! What a calendar or address book accepts, read with `calcard`: an iCalendar object
//! is one UID's events or to-dos (with their time zones), a vCard is one card with a
//! UID; each is checked before anything is stored. Events are expanded (time zones
//! and recurrences) to the time they span, and to the occurrences a time-range query
//! asks about.

use calcard::common::timezone::Tz;
use calcard::icalendar::{ICalendar, ICalendarComponentType};
use calcard::vcard::VCard;

use crate::store::dav::NewObject;

/// The largest object accepted (CalDAV's and CardDAV's `max-resource-size`).
pub const MAX_SIZE: usize = 1 << 20;
/// The most occurrences of a recurring event looked at: one past it, the event is
/// taken to go on for ever.
const MAX_OCCURRENCES: usize = 3000;

/// The occurrences of `ical`'s components, time zones and recurrences expanded (at
/// most `limit` of a series), floating times taken as UTC. Each SEQUENCE is left
/// out first: calcard pairs an exception with its series by sequence number too, so
/// an exception edited more often than its series (a higher SEQUENCE, as every
/// client writes) would not replace the occurrence it moves.
fn expand_dates(ical: &ICalendar, limit: usize) -> calcard::icalendar::dates::CalendarExpand {
    let mut plain = ical.clone();
    for c in &mut plain.components {
        c.entries.retain(|e| !e.name.as_str().eq_ignore_ascii_case("SEQUENCE"));
    }
    plain.expand_dates(Tz::UTC, limit)
}

/// Why an object was refused: the DAV precondition, and words for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The precondition's element (`valid-calendar-data`…), in CalDAV's or CardDAV's
    /// namespace.
    pub precondition: &'static str,
    /// What is wrong.
    pub reason: String,
}

fn refused(precondition: &'static str, reason: impl Into<String>) -> Refused {
    Refused { precondition, reason: reason.into() }
}

/// Whether `text` is one `root` component with its BEGIN and END lines properly
/// nested and nothing after it (calcard reads liberally, completing what is cut
/// short; a client that sends half an object must hear so).
fn well_formed(text: &str, root: &str) -> Result<(), String> {
    let mut stack: Vec<String> = Vec::new();
    let mut closed = false;
    for line in text.split('\n').map(|l| l.trim_end_matches('\r')) {
        if line.is_empty() || line.starts_with([' ', '\t']) {
            continue;
        }
        if closed {
            return Err(format!("something after END:{root}"));
        }
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.trim().to_ascii_uppercase();
        if name.eq_ignore_ascii_case("BEGIN") {
            if stack.is_empty() && value != root {
                return Err(format!("it begins with {value}, not {root}"));
            }
            stack.push(value);
        } else if name.eq_ignore_ascii_case("END") {
            match stack.pop() {
                Some(open) if open == value => closed = stack.is_empty(),
                Some(open) => return Err(format!("END:{value} closes BEGIN:{open}")),
                None => return Err(format!("END:{value} with nothing begun")),
            }
        } else if stack.is_empty() {
            return Err(format!("a line outside BEGIN:{root}"));
        }
    }
    if !closed {
        return Err(format!("cut short: no END:{root}"));
    }
    Ok(())
}

/// Reads an iCalendar object for a calendar, named `name`.
///
/// # Errors
/// CalDAV's preconditions: `valid-calendar-data` (not iCalendar, or not one UID),
/// `valid-calendar-object-resource`, `supported-calendar-component`,
/// `max-resource-size`.
pub fn calendar_object(name: &str, data: &[u8]) -> Result<NewObject, Refused> {
    if data.len() > MAX_SIZE {
        return Err(refused("max-resource-size", format!("{} bytes, more than {MAX_SIZE}", data.len())));
    }
    let text = std::str::from_utf8(data).map_err(|_| refused("valid-calendar-data", "not UTF-8"))?;
    well_formed(text, "VCALENDAR").map_err(|e| refused("valid-calendar-data", e))?;
    let ical = ICalendar::parse(text).map_err(|e| refused("valid-calendar-data", format!("not iCalendar: {e:?}")))?;
    let main: Vec<_> = ical
        .components
        .iter()
        .filter(|c| {
            !matches!(
                c.component_type,
                ICalendarComponentType::VCalendar
                    | ICalendarComponentType::VTimezone
                    | ICalendarComponentType::Standard
                    | ICalendarComponentType::Daylight
                    | ICalendarComponentType::VAlarm
            )
        })
        .collect();
    let Some(first) = main.first() else {
        return Err(refused("valid-calendar-object-resource", "no event or to-do in it"));
    };
    let component = first.component_type.clone();
    if !matches!(
        component,
        ICalendarComponentType::VEvent | ICalendarComponentType::VTodo | ICalendarComponentType::VJournal
    ) {
        return Err(refused(
            "supported-calendar-component",
            format!("{} is not kept in calendars", component.as_str()),
        ));
    }
    if main.iter().any(|c| c.component_type != component) {
        return Err(refused("valid-calendar-object-resource", "components of more than one kind"));
    }
    let uid = first.uid().ok_or_else(|| refused("valid-calendar-object-resource", "no UID"))?.to_owned();
    if main.iter().any(|c| c.uid() != Some(uid.as_str())) {
        return Err(refused("valid-calendar-object-resource", "more than one UID"));
    }
    let (starts, ends) = span(&ical);
    Ok(NewObject {
        name: name.to_owned(),
        uid,
        component: component.as_str().to_owned(),
        data: data.to_vec(),
        starts,
        ends,
    })
}

/// The time an object's occurrences span: the first start, and the last end (`None`
/// with a start: it recurs for ever, or further than is worth expanding); nothing
/// when it has no time.
fn span(ical: &ICalendar) -> (Option<i64>, Option<i64>) {
    let expanded = expand_dates(ical, MAX_OCCURRENCES);
    let times: Vec<(i64, i64)> = expanded.events.iter().map(|e| e.timestamps()).collect();
    let Some(first) = times.iter().map(|t| t.0).min() else { return (None, None) };
    if times.len() + 1 >= MAX_OCCURRENCES {
        return (Some(first), None);
    }
    (Some(first), times.iter().map(|t| t.1.max(t.0)).max())
}

/// Whether an occurrence of `data`'s `component` meets `[start, end)` (either open),
/// RFC 4791 §9.9: an event of no length meets it when it starts in it.
pub fn in_range(data: &[u8], component: &str, start: Option<i64>, end: Option<i64>) -> bool {
    let Ok(ical) = std::str::from_utf8(data).map_err(|_| ()).and_then(|t| ICalendar::parse(t).map_err(|_| ())) else {
        return false;
    };
    if !ical.components.iter().any(|c| c.component_type.as_str().eq_ignore_ascii_case(component)) {
        return false;
    }
    let expanded = expand_dates(&ical, MAX_OCCURRENCES * 10);
    if expanded.events.is_empty() {
        // Without a time (a to-do with no dates) it is in every range (RFC 4791 §9.9).
        return true;
    }
    expanded.events.iter().map(|e| e.timestamps()).any(|(s, e)| {
        let before_end = end.is_none_or(|end| s < end);
        let after_start = start.is_none_or(|start| if e > s { e > start } else { s >= start });
        before_end && after_start
    })
}

/// `data` with its recurrences expanded within `[start, end)` (RFC 4791 §9.6.5): each
/// occurrence a component of its own, its times in UTC, with a RECURRENCE-ID when it
/// is one of a series, and no rule left; time zones are no longer needed and go.
/// `None` when it cannot be read.
pub fn expand(data: &[u8], start: i64, end: i64) -> Option<Vec<u8>> {
    use std::fmt::Write as _;
    let ical = ICalendar::parse(std::str::from_utf8(data).ok()?).ok()?;
    let root = ical.components.first()?;
    let utc = |t: i64| chrono::DateTime::from_timestamp(t, 0).map(|d| d.format("%Y%m%dT%H%M%SZ").to_string());
    let is = |e: &calcard::icalendar::ICalendarEntry, names: &[&str]| {
        names.iter().any(|n| e.name.as_str().eq_ignore_ascii_case(n))
    };
    let mut out = String::from("BEGIN:VCALENDAR\r\n");
    for e in &root.entries {
        e.write_to(&mut out).ok()?;
    }
    let mut occurrences: Vec<(i64, i64, u32)> = expand_dates(&ical, MAX_OCCURRENCES * 10)
        .events
        .iter()
        .map(|e| {
            let (s, t) = e.timestamps();
            (s, t, e.comp_id)
        })
        .filter(|(s, t, _)| *s < end && (*t > start || (*t == *s && *s >= start)))
        .collect();
    occurrences.sort_unstable();
    for (s, t, id) in occurrences {
        let c = ical.component_by_id(id)?;
        let series = c.entries.iter().any(|e| is(e, &["RRULE", "RDATE"]));
        let kind = c.component_type.as_str();
        write!(out, "BEGIN:{kind}\r\n").ok()?;
        for e in
            c.entries.iter().filter(|e| !is(e, &["RRULE", "RDATE", "EXDATE", "EXRULE", "DTSTART", "DTEND", "DURATION"]))
        {
            e.write_to(&mut out).ok()?;
        }
        write!(out, "DTSTART:{}\r\n", utc(s)?).ok()?;
        if t > s {
            write!(out, "DTEND:{}\r\n", utc(t)?).ok()?;
        }
        if series {
            write!(out, "RECURRENCE-ID:{}\r\n", utc(s)?).ok()?;
        }
        for child in c.component_ids.iter().filter_map(|i| ical.component_by_id(*i)) {
            write!(out, "BEGIN:{}\r\n", child.component_type.as_str()).ok()?;
            for e in &child.entries {
                e.write_to(&mut out).ok()?;
            }
            write!(out, "END:{}\r\n", child.component_type.as_str()).ok()?;
        }
        write!(out, "END:{kind}\r\n").ok()?;
    }
    out.push_str("END:VCALENDAR\r\n");
    Some(out.into_bytes())
}

/// The occurrences (start, end; Unix seconds) of `data`'s components of `kind`.
pub fn occurrences(data: &[u8], kind: &str) -> Vec<(i64, i64)> {
    let Some(ical) = std::str::from_utf8(data).ok().and_then(|t| ICalendar::parse(t).ok()) else {
        return Vec::new();
    };
    expand_dates(&ical, MAX_OCCURRENCES * 10)
        .events
        .iter()
        .filter(|e| {
            ical.component_by_id(e.comp_id).is_some_and(|c| c.component_type.as_str().eq_ignore_ascii_case(kind))
        })
        .map(|e| e.timestamps())
        .collect()
}

/// The busy time of `data`'s events within `[start, end)`: each occurrence that is
/// not transparent or cancelled, clipped to the range, with its FBTYPE (tentative
/// events are BUSY-TENTATIVE), for a free-busy query (RFC 4791 §7.10).
pub fn busy(data: &[u8], start: i64, end: i64) -> Vec<(i64, i64, &'static str)> {
    let Some(ical) = std::str::from_utf8(data).ok().and_then(|t| ICalendar::parse(t).ok()) else {
        return Vec::new();
    };
    let text_of = |c: &calcard::icalendar::ICalendarComponent, name: &str| {
        c.entries
            .iter()
            .find(|e| e.name.as_str().eq_ignore_ascii_case(name))
            .and_then(|e| e.values.first())
            .and_then(|v| v.as_text())
            .map(str::to_ascii_uppercase)
    };
    let expanded = expand_dates(&ical, MAX_OCCURRENCES * 10);
    let mut out = Vec::new();
    for e in &expanded.events {
        let Some(c) = ical.component_by_id(e.comp_id) else { continue };
        if c.component_type != ICalendarComponentType::VEvent
            || text_of(c, "TRANSP").as_deref() == Some("TRANSPARENT")
            || text_of(c, "STATUS").as_deref() == Some("CANCELLED")
        {
            continue;
        }
        let (s, e) = e.timestamps();
        if s < end && e > start && e > s {
            let kind = if text_of(c, "STATUS").as_deref() == Some("TENTATIVE") { "BUSY-TENTATIVE" } else { "BUSY" };
            out.push((s.max(start), e.min(end), kind));
        }
    }
    out
}

/// Reads a vCard for an address book, named `name`.
///
/// # Errors
/// CardDAV's preconditions: `valid-address-data`, `max-resource-size`.
pub fn card(name: &str, data: &[u8]) -> Result<NewObject, Refused> {
    if data.len() > MAX_SIZE {
        return Err(refused("max-resource-size", format!("{} bytes, more than {MAX_SIZE}", data.len())));
    }
    let text = std::str::from_utf8(data).map_err(|_| refused("valid-address-data", "not UTF-8"))?;
    well_formed(text, "VCARD").map_err(|e| refused("valid-address-data", e))?;
    let card = VCard::parse(text).map_err(|e| refused("valid-address-data", format!("not a vCard: {e:?}")))?;
    let uid = card.uid().ok_or_else(|| refused("valid-address-data", "no UID"))?.to_owned();
    Ok(NewObject {
        name: name.to_owned(),
        uid,
        component: "VCARD".into(),
        data: data.to_vec(),
        starts: None,
        ends: None,
    })
}

/// The values of a vCard's `property` (unfolded, group prefix aside), for a text
/// match.
pub fn card_values(data: &[u8], property: &str) -> Vec<String> {
    let text = String::from_utf8_lossy(data).replace("\r\n ", "").replace("\r\n\t", "").replace("\n ", "");
    text.lines()
        .filter_map(|line| {
            let (head, value) = line.split_once(':')?;
            let name = head.split(';').next()?;
            let name = name.rsplit('.').next()?;
            name.eq_ignore_ascii_case(property).then(|| value.trim_end_matches('\r').to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const WEEKLY: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:w1\r\nDTSTAMP:20260101T000000Z\r\n\
        DTSTART:20260105T090000Z\r\nDTEND:20260105T100000Z\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\nEXDATE:20260112T090000Z\r\nSUMMARY:Weekly\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    fn ts(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s).expect("time").timestamp()
    }

    #[test]
    fn a_weekly_event_spans_its_occurrences_and_meets_the_weeks_it_happens_in() {
        let o = calendar_object("w.ics", WEEKLY.as_bytes()).expect("valid");
        assert_eq!((o.uid.as_str(), o.component.as_str()), ("w1", "VEVENT"));
        assert_eq!((o.starts, o.ends), (Some(ts("2026-01-05T09:00:00Z")), Some(ts("2026-01-26T10:00:00Z"))));
        let week = |day: &str| (Some(ts(&format!("{day}T00:00:00Z"))), Some(ts(&format!("{day}T23:59:59Z"))));
        let (s, e) = week("2026-01-19");
        assert!(in_range(WEEKLY.as_bytes(), "VEVENT", s, e));
        let (s, e) = week("2026-01-12");
        assert!(!in_range(WEEKLY.as_bytes(), "VEVENT", s, e), "the excluded date");
        let (s, e) = week("2026-02-02");
        assert!(!in_range(WEEKLY.as_bytes(), "VEVENT", s, e), "after the fourth");
        assert!(!in_range(WEEKLY.as_bytes(), "VTODO", None, None));
    }

    #[test]
    fn an_endless_event_has_an_open_end_and_bad_objects_name_their_precondition() {
        let endless = WEEKLY.replace(";COUNT=4", "");
        let o = calendar_object("e.ics", endless.as_bytes()).expect("valid");
        assert_eq!(o.ends, None);
        let refusal = |data: &str| calendar_object("x.ics", data.as_bytes()).expect_err("refused").precondition;
        assert_eq!(refusal("not a calendar"), "valid-calendar-data");
        assert_eq!(refusal(&WEEKLY.replace("UID:w1\r\n", "")), "valid-calendar-object-resource");
        assert_eq!(refusal(&WEEKLY[..WEEKLY.len() - 20]), "valid-calendar-data");
        let two = WEEKLY.replace(
            "END:VCALENDAR",
            "BEGIN:VEVENT\r\nUID:other\r\nDTSTART:20260101T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR",
        );
        assert_eq!(refusal(&two), "valid-calendar-object-resource");
        let nested = WEEKLY.replace("END:VEVENT\r\nEND:VCALENDAR", "END:VCALENDAR\r\nEND:VEVENT");
        assert_eq!(refusal(&nested), "valid-calendar-data");
        assert_eq!(refusal(&(WEEKLY.to_owned() + WEEKLY)), "valid-calendar-data", "two objects in one");
        let huge = WEEKLY.replace("SUMMARY:Weekly", &format!("SUMMARY:{}", "x".repeat(MAX_SIZE)));
        assert_eq!(refusal(&huge), "max-resource-size");
    }

    #[test]
    fn busy_time_is_each_occurrence_clipped_to_the_range_and_transparent_events_are_free() {
        let (start, end) = (ts("2026-01-01T00:00:00Z"), ts("2026-01-20T00:00:00Z"));
        let busy = busy(WEEKLY.as_bytes(), start, end);
        let expected: Vec<(i64, i64, &str)> = ["2026-01-05", "2026-01-19"]
            .iter()
            .map(|d| (ts(&format!("{d}T09:00:00Z")), ts(&format!("{d}T10:00:00Z")), "BUSY"))
            .collect();
        assert_eq!(busy, expected, "the 12th is excluded; the 26th is after the range");
        let free = WEEKLY.replace("SUMMARY:Weekly", "SUMMARY:Weekly\r\nTRANSP:TRANSPARENT");
        assert!(super::busy(free.as_bytes(), start, end).is_empty());
    }

    #[test]
    fn an_expanded_series_is_one_component_per_occurrence_in_utc_without_its_rule() {
        let (start, end) = (ts("2026-01-10T00:00:00Z"), ts("2026-02-01T00:00:00Z"));
        let text = String::from_utf8(expand(WEEKLY.as_bytes(), start, end).expect("expanded")).expect("UTF-8");
        assert_eq!(text.matches("BEGIN:VEVENT").count(), 2, "the 19th and the 26th:\n{text}");
        assert!(text.contains("RECURRENCE-ID:20260119T090000Z") && text.contains("DTSTART:20260126T090000Z"), "{text}");
        assert!(!text.contains("RRULE") && !text.contains("EXDATE"), "{text}");
        assert!(calendar_object("x.ics", text.as_bytes()).is_ok(), "still a calendar object:\n{text}");
    }

    #[test]
    fn an_exception_with_a_higher_sequence_still_replaces_its_occurrence() {
        let moved = WEEKLY.replace(
            "END:VCALENDAR",
            "BEGIN:VEVENT\r\nUID:w1\r\nSEQUENCE:2\r\nDTSTAMP:20260101T000000Z\r\nRECURRENCE-ID:20260119T090000Z\r\n\
             DTSTART:20260119T140000Z\r\nDTEND:20260119T150000Z\r\nEND:VEVENT\r\nEND:VCALENDAR",
        );
        let day = occurrences(moved.as_bytes(), "VEVENT")
            .into_iter()
            .filter(|(s, _)| (ts("2026-01-19T00:00:00Z")..ts("2026-01-20T00:00:00Z")).contains(s))
            .collect::<Vec<_>>();
        assert_eq!(day, [(ts("2026-01-19T14:00:00Z"), ts("2026-01-19T15:00:00Z"))], "moved, not doubled");
    }

    #[test]
    fn a_card_needs_a_uid_and_its_values_are_found_by_property() {
        let v = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c1\r\nFN:Ann Example\r\nitem1.EMAIL;TYPE=work:ann@corp.test\r\nEND:VCARD\r\n";
        assert_eq!(card("c.vcf", v.as_bytes()).expect("valid").uid, "c1");
        assert_eq!(card_values(v.as_bytes(), "email"), ["ann@corp.test"]);
        assert_eq!(
            card("c.vcf", v.replace("UID:c1\r\n", "").as_bytes()).expect_err("no uid").precondition,
            "valid-address-data"
        );
        assert_eq!(
            card("c.vcf", b"BEGIN:VCARD\r\nFN:x\r\n").expect_err("truncated").precondition,
            "valid-address-data"
        );
    }
}
