//! What the HTTPS listener reads itself never panics or hangs: WebDAV's XML (PROPFIND,
//! REPORT and PROPPATCH bodies, CalDAV filters), an Autodiscover request, and an
//! iCalendar object or vCard put into a calendar or address book. An object accepted
//! has a UID, spans time in order, and its expansion is one calendar.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailroom_service::http::autoconfig::autodiscover_request;
use mailroom_service::http::dav::{filter, objects, xml};

fuzz_target!(|data: &[u8]| {
    if let Some(e) = xml::parse(data) {
        if let Some(f) = e.child(xml::CALDAV, "comp-filter").and_then(filter::CompFilter::read) {
            let _ = f.narrowing();
            let _ = f.matches(data);
        }
    }
    let _ = autodiscover_request(data);
    if let Ok(o) = objects::calendar_object("x.ics", data) {
        assert!(!o.uid.is_empty());
        if let (Some(start), Some(end)) = (o.starts, o.ends) {
            assert!(start <= end, "a span ends after it starts");
        }
        if let Some(expanded) = objects::expand(data, 0, 4_102_444_800) {
            let text = String::from_utf8(expanded).expect("an expansion is text");
            assert!(text.starts_with("BEGIN:VCALENDAR\r\n") && text.ends_with("END:VCALENDAR\r\n"));
        }
        let _ = objects::busy(data, 0, 4_102_444_800);
    }
    if let Ok(card) = objects::card("x.vcf", data) {
        assert!(!card.uid.is_empty());
        let _ = objects::card_values(data, "EMAIL");
    }
});
