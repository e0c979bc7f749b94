//! What the HTTPS listener reads itself never panics or hangs: WebDAV's XML (PROPFIND,
//! REPORT and PROPPATCH bodies, CalDAV filters), an Autodiscover request, and an
//! iCalendar object or vCard put into a calendar or address book. An object accepted
//! has a UID, spans time in order, and its expansion is one calendar. A meeting
//! (iTIP, RFC 5546) read from any text writes messages that read back as the same
//! meeting with their method, and its Schedule-Tag ignores an answer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailroom_service::http::autoconfig::autodiscover_request;
use mailroom_service::http::dav::{filter, objects, xml};
use mailroom_service::itip;

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
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = itip::FreeBusyRequest::read(text);
        if let Some(m) = itip::Meeting::read(text) {
            let request = itip::message(text, "REQUEST");
            let again = itip::Meeting::read(&request).expect("a request is a meeting");
            assert_eq!(again.method.as_deref(), Some("REQUEST"));
            assert_eq!(again.uid, m.uid, "the same meeting");
            if let Some(a) = m.attendees.first() {
                let reply = itip::reply(text, &a.address, "ACCEPTED");
                let answered = itip::Meeting::read(&reply).expect("a reply is a meeting");
                assert_eq!(answered.partstat(&a.address), Some("ACCEPTED"));
                let tag = itip::schedule_tag(text);
                assert_eq!(tag, itip::schedule_tag(&itip::with_partstat(text, &a.address, "DECLINED")));
            }
            let _ = itip::cancelled(text);
            let _ = itip::with_method(text, None);
        }
    }
    if let Ok(card) = objects::card("x.vcf", data) {
        assert!(!card.uid.is_empty());
        let _ = objects::card_values(data, "EMAIL");
    }
});
