//! CalDAV scheduling (RFC 6638) on the DAV side: Schedule-Tags and their
//! precondition, and the scheduling outbox's free-busy requests, which tell a
//! colleague's busy time (never what fills it) to anyone of the organisation planning
//! a meeting, as Exchange's free/busy did. What a saved meeting sends is
//! [`crate::itip`]'s.

use super::*;
use crate::itip::FreeBusyRequest;

/// The Schedule-Tag of object `data` in `c`, when it is a scheduling object (one with
/// an organiser) in a calendar.
pub(super) fn tag_of(c: &Collection, data: &[u8]) -> Option<String> {
    if c.kind != DavKind::Calendar || is_inbox(c) {
        return None;
    }
    let text = std::str::from_utf8(data).ok()?;
    crate::itip::is_scheduling_object(text).then(|| crate::itip::schedule_tag(text))
}

/// Adds the `Schedule-Tag` header (RFC 6638 §3.2.10).
pub(super) fn add_tag(r: &mut Answer, tag: Option<String>) {
    if let Some(v) = tag.and_then(|t| HeaderValue::from_str(&format!("\"{t}\"")).ok()) {
        r.headers_mut().insert("Schedule-Tag", v);
    }
}

/// The answer to a PUT whose `If-Schedule-Tag-Match` (RFC 6638 §3.2.10) does not
/// hold for what is there.
pub(super) fn tag_mismatch(parts: &Parts, c: &Collection, old: Option<&DavObject>) -> Option<Answer> {
    let given = parts.headers.get("If-Schedule-Tag-Match")?.to_str().ok()?.trim().trim_matches('"').to_owned();
    let current = old.and_then(|o| tag_of(c, &o.data));
    (current.as_deref() != Some(given.as_str()))
        .then(|| text(StatusCode::PRECONDITION_FAILED, "The meeting has been changed by its organiser meanwhile."))
}

/// UTC as iCalendar writes it.
pub(super) fn stamp(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).map(|d| d.format("%Y%m%dT%H%M%SZ").to_string()).unwrap_or_default()
}

/// A VFREEBUSY of `periods` within `[start, end)`; `extra` holds the lines a reply
/// adds (METHOD goes in the calendar, the people in the component).
pub(super) fn vfreebusy(start: i64, end: i64, mut periods: Vec<(i64, i64, &str)>, method: &str, extra: &str) -> String {
    periods.sort_unstable();
    let mut ics = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Mailroom//CalDAV//EN\r\n{method}BEGIN:VFREEBUSY\r\n\
         DTSTAMP:{}\r\nDTSTART:{}\r\nDTEND:{}\r\n{extra}",
        stamp(crate::store::now_secs()),
        stamp(start),
        stamp(end)
    );
    for (s, e, kind) in periods {
        ics.push_str(&format!("FREEBUSY;FBTYPE={kind}:{}/{}\r\n", stamp(s), stamp(e)));
    }
    ics.push_str("END:VFREEBUSY\r\nEND:VCALENDAR\r\n");
    ics
}

impl Dav<'_> {
    /// A POST: a free-busy request to the person's own scheduling outbox, or a
    /// collection shared (`CS:share`, `share.rs`).
    pub(super) async fn post(&self, target: &Target, body: &[u8]) -> crate::store::StoreResult<Answer> {
        if let Target::Collection(kind, _, name) = target
            && name != OUTBOX
            && let Some(request) = xml::parse(body).filter(|r| r.is(CS, "share"))
        {
            let Some(c) = self.collection(*kind, name).await? else {
                return Ok(text(StatusCode::NOT_FOUND, "No such collection."));
            };
            return self.share(&c, &request).await;
        }
        let outbox = matches!(target, Target::Collection(DavKind::Calendar, _, name) if name == OUTBOX);
        if self.shared.is_some() {
            return Ok(not_allowed());
        }
        if !outbox {
            return Ok(text(StatusCode::METHOD_NOT_ALLOWED, "Free-busy requests are POSTed to the scheduling outbox."));
        }
        let Some(request) = std::str::from_utf8(body).ok().and_then(FreeBusyRequest::read) else {
            return Ok(precondition(StatusCode::BAD_REQUEST, CALDAV, "valid-scheduling-message", ""));
        };
        let own = self.ctx.store.mailbox_addresses(self.user.mailbox).await?;
        if !request.organizer.as_ref().is_some_and(|o| own.contains(o)) {
            return Ok(precondition(StatusCode::FORBIDDEN, CALDAV, "organizer-allowed", ""));
        }
        let (Some(start), Some(end)) = (filter::utc_time(&request.start), filter::utc_time(&request.end)) else {
            return Ok(precondition(StatusCode::BAD_REQUEST, CALDAV, "valid-scheduling-message", ""));
        };
        if start >= end || request.attendees.is_empty() || request.attendees.len() > 100 {
            return Ok(precondition(StatusCode::BAD_REQUEST, CALDAV, "valid-scheduling-message", ""));
        }
        let organizer = request.organizer.clone().unwrap_or_default();
        let mut out = String::from(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<c:schedule-response xmlns:d=\"DAV:\" \
             xmlns:c=\"urn:ietf:params:xml:ns:caldav\">",
        );
        for who in &request.attendees {
            let recipient = element(CALDAV, "recipient", &element(DAV, "href", &escape(&format!("mailto:{who}"))));
            let mailbox = match self.ctx.store.named(who).await? {
                Some(crate::store::recipients::Named::Mailbox(id)) => Some(id),
                _ => None,
            };
            let Some(mailbox) = mailbox else {
                out.push_str(&element(
                    CALDAV,
                    "response",
                    &(recipient + &element(CALDAV, "request-status", "3.7;Invalid calendar user")),
                ));
                continue;
            };
            let mut periods = Vec::new();
            for c in self.ctx.store.dav_collections(mailbox, DavKind::Calendar).await? {
                if is_inbox(&c) {
                    continue;
                }
                for o in self.ctx.store.dav_in_range(c.id, Some(start), Some(end)).await? {
                    // A meeting they declined leaves them free; one they have not
                    // answered (or answered tentatively) is tentative, as Exchange
                    // shows an unanswered request.
                    let answer = std::str::from_utf8(&o.data)
                        .ok()
                        .and_then(crate::itip::Meeting::read)
                        .and_then(|m| m.partstat(who).map(str::to_owned));
                    match answer.as_deref() {
                        Some("DECLINED") => {}
                        Some("NEEDS-ACTION" | "TENTATIVE") => periods.extend(
                            objects::busy(&o.data, start, end).into_iter().map(|(s, e, _)| (s, e, "BUSY-TENTATIVE")),
                        ),
                        _ => periods.extend(objects::busy(&o.data, start, end)),
                    }
                }
            }
            let uid = request.uid.as_deref().map(|u| format!("UID:{u}\r\n")).unwrap_or_default();
            let people = format!("{uid}ORGANIZER:mailto:{organizer}\r\nATTENDEE:mailto:{who}\r\n");
            let ics = vfreebusy(start, end, periods, "METHOD:REPLY\r\n", &people);
            out.push_str(&element(
                CALDAV,
                "response",
                &(recipient
                    + &element(CALDAV, "request-status", "2.0;Success")
                    + &element(CALDAV, "calendar-data", &escape(&ics))),
            ));
        }
        out.push_str("</c:schedule-response>\n");
        Ok(respond(StatusCode::OK, "application/xml; charset=utf-8", out))
    }
}
