//! CalDAV's `calendar-query` filter (RFC 4791 §9.7): component filters nested as the
//! components are (VCALENDAR, then VEVENT, then VALARM…), each with a time range,
//! property filters (defined or not, a text match under a collation, parameter
//! filters) and further component filters; every test of a filter must hold.
//! Evaluated on the object as `calcard` reads it; time ranges over its occurrences,
//! recurrences and time zones expanded ([`super::objects::in_range`]).

use calcard::icalendar::{ICalendar, ICalendarComponent, ICalendarEntry};

use super::xml::{CALDAV, Element};

/// A text match (RFC 4791 §9.7.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextMatch {
    text: String,
    /// `i;octet`: byte for byte; else `i;ascii-casemap`, ASCII letters alike in case.
    octet: bool,
    negate: bool,
}

impl TextMatch {
    fn read(e: &Element) -> Option<TextMatch> {
        let collation = e.attribute("collation").unwrap_or("i;ascii-casemap");
        let octet = match collation {
            "i;octet" => true,
            "i;ascii-casemap" | "i;unicode-casemap" => false,
            _ => return None,
        };
        Some(TextMatch { text: e.text.clone(), octet, negate: e.attribute("negate-condition") == Some("yes") })
    }

    /// Whether `value` holds the text (a substring match, as the RFC asks).
    pub fn matches(&self, value: &str) -> bool {
        let hit = if self.octet {
            value.contains(&self.text)
        } else {
            value.to_ascii_lowercase().contains(&self.text.to_ascii_lowercase())
        };
        hit != self.negate
    }
}

/// A time range: start and end, either open.
type Range = (Option<i64>, Option<i64>);

/// A parameter filter.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ParamFilter {
    name: String,
    not_defined: bool,
    text: Option<TextMatch>,
}

/// A property filter.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PropFilter {
    name: String,
    not_defined: bool,
    text: Option<TextMatch>,
    params: Vec<ParamFilter>,
}

/// A component filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompFilter {
    name: String,
    not_defined: bool,
    range: Option<Range>,
    props: Vec<PropFilter>,
    comps: Vec<CompFilter>,
}

/// An iCalendar UTC time (`20260105T090000Z`) as Unix seconds.
pub fn utc_time(s: &str) -> Option<i64> {
    let t = chrono::NaiveDateTime::parse_from_str(s.trim().strip_suffix('Z')?, "%Y%m%dT%H%M%S").ok()?;
    Some(t.and_utc().timestamp())
}

fn range(e: &Element) -> Option<Range> {
    let at = |name: &str| e.attribute(name).map(utc_time);
    let (start, end) = (at("start"), at("end"));
    // A time given but not understood makes the filter invalid.
    if matches!(start, Some(None)) || matches!(end, Some(None)) {
        return None;
    }
    let (start, end) = (start.flatten(), end.flatten());
    (start.is_some() || end.is_some()).then_some((start, end))
}

impl CompFilter {
    /// Reads a `comp-filter`; `None` when it is not one this server understands
    /// (CalDAV's `valid-filter`).
    pub fn read(e: &Element) -> Option<CompFilter> {
        let mut f = CompFilter {
            name: e.attribute("name")?.to_ascii_uppercase(),
            not_defined: false,
            range: None,
            props: Vec::new(),
            comps: Vec::new(),
        };
        for c in &e.children {
            match (c.ns.as_str(), c.name.as_str()) {
                (CALDAV, "is-not-defined") => f.not_defined = true,
                (CALDAV, "time-range") => f.range = Some(range(c)?),
                (CALDAV, "comp-filter") => f.comps.push(CompFilter::read(c)?),
                (CALDAV, "prop-filter") => f.props.push(PropFilter::read(c)?),
                _ => return None,
            }
        }
        Some(f)
    }

    /// The time range of the component filter under the VCALENDAR one, and its
    /// component's name: what the store can narrow the candidates by.
    pub fn narrowing(&self) -> (Option<&str>, Range) {
        match self.comps.first() {
            Some(inner) if self.comps.len() == 1 => (Some(inner.name.as_str()), inner.range.unwrap_or((None, None))),
            _ => (None, (None, None)),
        }
    }

    /// Whether the object `data` passes the filter (which is for its VCALENDAR).
    pub fn matches(&self, data: &[u8]) -> bool {
        let Some(ical) = std::str::from_utf8(data).ok().and_then(|t| ICalendar::parse(t).ok()) else {
            return false;
        };
        let Some(root) = ical.components.first() else { return false };
        if !root.component_type.as_str().eq_ignore_ascii_case(&self.name) {
            return self.not_defined;
        }
        self.holds(&ical, root, None, data)
    }

    /// The tests of this filter, on `c` (a component of its name, under `parent`).
    fn holds(
        &self,
        ical: &ICalendar,
        c: &ICalendarComponent,
        parent: Option<&ICalendarComponent>,
        data: &[u8],
    ) -> bool {
        if let Some((start, end)) = self.range {
            let met = if self.name == "VALARM" {
                parent.is_some_and(|p| alarm_in_range(data, p, c, start, end))
            } else {
                super::objects::in_range(data, &self.name, start, end)
            };
            if !met {
                return false;
            }
        }
        let props = |p: &PropFilter| {
            // Under VCALENDAR itself a property filter also looks into its
            // components (a query that names no kind of component), which hold the
            // properties such a query is after.
            if self.name != "VCALENDAR" {
                return p.holds(c);
            }
            let children = || c.component_ids.iter().filter_map(|id| ical.component_by_id(*id));
            if p.not_defined {
                p.holds(c) && children().all(|k| p.holds(k))
            } else {
                p.holds(c) || children().any(|k| p.holds(k))
            }
        };
        self.props.iter().all(props) && self.comps.iter().all(|f| f.holds_under(ical, c, data))
    }

    /// This filter, on the children of `parent`.
    fn holds_under(&self, ical: &ICalendar, parent: &ICalendarComponent, data: &[u8]) -> bool {
        let mut children = parent
            .component_ids
            .iter()
            .filter_map(|id| ical.component_by_id(*id))
            .filter(|c| c.component_type.as_str().eq_ignore_ascii_case(&self.name));
        if self.not_defined {
            return children.next().is_none();
        }
        children.any(|c| self.holds(ical, c, Some(parent), data))
    }
}

impl PropFilter {
    fn read(e: &Element) -> Option<PropFilter> {
        let mut f = PropFilter {
            name: e.attribute("name")?.to_ascii_uppercase(),
            not_defined: false,
            text: None,
            params: Vec::new(),
        };
        for c in &e.children {
            match (c.ns.as_str(), c.name.as_str()) {
                (CALDAV, "is-not-defined") => f.not_defined = true,
                (CALDAV, "text-match") => f.text = Some(TextMatch::read(c)?),
                (CALDAV, "param-filter") => f.params.push(ParamFilter::read(c)?),
                // A time range on a property is not kept apart: it passes.
                (CALDAV, "time-range") => {}
                _ => return None,
            }
        }
        Some(f)
    }

    fn holds(&self, c: &ICalendarComponent) -> bool {
        let mut entries = c.entries.iter().filter(|e| e.name.as_str().eq_ignore_ascii_case(&self.name));
        if self.not_defined {
            return entries.next().is_none();
        }
        entries.any(|e| {
            self.text.as_ref().is_none_or(|t| {
                let values = values(e);
                // Each value alone (one of several CATEGORIES), or all as written.
                values.iter().any(|v| t.matches(v)) || (values.len() > 1 && t.matches(&values.join(",")))
            }) && self.params.iter().all(|p| p.holds(e))
        })
    }
}

impl ParamFilter {
    fn read(e: &Element) -> Option<ParamFilter> {
        let mut f = ParamFilter { name: e.attribute("name")?.to_ascii_uppercase(), not_defined: false, text: None };
        for c in &e.children {
            match (c.ns.as_str(), c.name.as_str()) {
                (CALDAV, "is-not-defined") => f.not_defined = true,
                (CALDAV, "text-match") => f.text = Some(TextMatch::read(c)?),
                _ => return None,
            }
        }
        Some(f)
    }

    fn holds(&self, e: &ICalendarEntry) -> bool {
        let mut params = e.params.iter().filter(|p| p.name.as_str().eq_ignore_ascii_case(&self.name));
        if self.not_defined {
            return params.next().is_none();
        }
        params.any(|p| self.text.as_ref().is_none_or(|t| p.value.as_text().is_some_and(|v| t.matches(v))))
    }
}

/// Whether `alarm` (of the event or to-do `owner`) goes off in `[start, end)` for one
/// of the object's occurrences (RFC 4791 §9.9): its TRIGGER, a time or a duration
/// from the start (or the end, with RELATED=END).
fn alarm_in_range(
    data: &[u8],
    owner: &ICalendarComponent,
    alarm: &ICalendarComponent,
    start: Option<i64>,
    end: Option<i64>,
) -> bool {
    use calcard::icalendar::{ICalendarParameterName, ICalendarValue};
    let Some(trigger) = alarm.entries.iter().find(|e| e.name.as_str().eq_ignore_ascii_case("TRIGGER")) else {
        return false;
    };
    let in_range = |t: i64| start.is_none_or(|s| t >= s) && end.is_none_or(|e| t < e);
    match trigger.values.first() {
        Some(ICalendarValue::PartialDateTime(at)) => at.to_timestamp().is_some_and(in_range),
        Some(ICalendarValue::Duration(d)) => {
            let seconds = i64::from(d.weeks) * 604_800
                + i64::from(d.days) * 86_400
                + i64::from(d.hours) * 3600
                + i64::from(d.minutes) * 60
                + i64::from(d.seconds);
            let offset = if d.neg { -seconds } else { seconds };
            let from_end = trigger.params.iter().any(|p| {
                p.name == ICalendarParameterName::Related
                    && p.value.as_text().is_some_and(|v| v.eq_ignore_ascii_case("END"))
            });
            super::objects::occurrences(data, owner.component_type.as_str())
                .into_iter()
                .any(|(s, e)| in_range(if from_end { e } else { s } + offset))
        }
        _ => false,
    }
}

/// A property's values as text.
fn values(e: &ICalendarEntry) -> Vec<String> {
    e.values.iter().filter_map(|v| v.as_text().map(str::to_owned)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:e1\r\nDTSTAMP:20260101T000000Z\r\n\
        DTSTART:20260105T090000Z\r\nDTEND:20260105T100000Z\r\nSUMMARY:Budget Review\r\nCATEGORIES:work,finance\r\n\
        ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@corp.test\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n\
        END:VEVENT\r\nEND:VCALENDAR\r\n";

    fn filter(inner: &str) -> CompFilter {
        let xml = format!(
            r#"<c:filter xmlns:c="urn:ietf:params:xml:ns:caldav"><c:comp-filter name="VCALENDAR">{inner}</c:comp-filter></c:filter>"#
        );
        let e = super::super::xml::parse(xml.as_bytes()).expect("XML");
        CompFilter::read(e.child(CALDAV, "comp-filter").expect("comp-filter")).expect("a filter")
    }

    fn matches(inner: &str) -> bool {
        filter(inner).matches(EVENT.as_bytes())
    }

    #[test]
    fn text_matches_are_substrings_under_their_collation_and_every_test_must_hold() {
        let summary = |m: &str, attrs: &str| {
            format!(
                r#"<c:comp-filter name="VEVENT"><c:prop-filter name="SUMMARY"><c:text-match{attrs}>{m}</c:text-match></c:prop-filter></c:comp-filter>"#
            )
        };
        assert!(matches(&summary("budget", "")), "ASCII letters alike in case");
        assert!(!matches(&summary("budget", r#" collation="i;octet""#)), "i;octet is exact");
        assert!(matches(&summary("Budget", r#" collation="i;octet""#)));
        assert!(!matches(&summary("budget", r#" negate-condition="yes""#)));
        let category = r#"<c:comp-filter name="VEVENT"><c:prop-filter name="CATEGORIES"><c:text-match>finance</c:text-match></c:prop-filter></c:comp-filter>"#;
        assert!(matches(category));
        let both = r#"<c:comp-filter name="VEVENT"><c:prop-filter name="SUMMARY"><c:text-match>review</c:text-match></c:prop-filter>
            <c:prop-filter name="CATEGORIES"><c:text-match>holiday</c:text-match></c:prop-filter></c:comp-filter>"#;
        assert!(!matches(both), "all of them");
    }

    #[test]
    fn undefined_properties_components_and_parameters_are_found() {
        let undefined = |p: &str| {
            format!(
                r#"<c:comp-filter name="VEVENT"><c:prop-filter name="{p}"><c:is-not-defined/></c:prop-filter></c:comp-filter>"#
            )
        };
        assert!(matches(&undefined("CLASS")));
        assert!(!matches(&undefined("DTEND")));
        assert!(!matches(
            r#"<c:comp-filter name="VEVENT"><c:comp-filter name="VALARM"><c:is-not-defined/></c:comp-filter></c:comp-filter>"#
        ));
        assert!(matches(r#"<c:comp-filter name="VTODO"><c:is-not-defined/></c:comp-filter>"#));
        assert!(!matches(r#"<c:comp-filter name="VTODO"/>"#));
        let partstat = r#"<c:comp-filter name="VEVENT"><c:prop-filter name="ATTENDEE"><c:param-filter name="PARTSTAT"><c:text-match>accepted</c:text-match></c:param-filter></c:prop-filter></c:comp-filter>"#;
        assert!(matches(partstat));
        // The alarm goes off at 08:45, fifteen minutes before the start.
        let alarm = |from: &str, to: &str| {
            format!(
                r#"<c:comp-filter name="VEVENT"><c:comp-filter name="VALARM"><c:time-range start="{from}" end="{to}"/></c:comp-filter></c:comp-filter>"#
            )
        };
        assert!(matches(&alarm("20260105T084000Z", "20260105T085000Z")));
        assert!(!matches(&alarm("20260105T090000Z", "20260105T091500Z")));
        // A property filter right under VCALENDAR looks into its components.
        assert!(matches(r#"<c:prop-filter name="SUMMARY"><c:text-match>budget</c:text-match></c:prop-filter>"#));
        assert!(!matches(r#"<c:prop-filter name="SUMMARY"><c:is-not-defined/></c:prop-filter>"#));
        let range = r#"<c:comp-filter name="VEVENT"><c:time-range start="20260105T093000Z" end="20260106T000000Z"/></c:comp-filter>"#;
        assert!(matches(range));
        assert_eq!(filter(range).narrowing(), (Some("VEVENT"), (Some(1_767_605_400), Some(1_767_657_600))));
        let bad = r#"<c:filter xmlns:c="urn:ietf:params:xml:ns:caldav"><c:comp-filter name="VCALENDAR"><c:time-range start="tomorrow"/></c:comp-filter></c:filter>"#;
        let e = super::super::xml::parse(bad.as_bytes()).expect("XML");
        assert_eq!(CompFilter::read(e.child(CALDAV, "comp-filter").expect("comp-filter")), None);
    }
}
