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

mod ical;
use crate::store::dav::{DavKind, NewObject, Precondition};
use crate::store::{NewMessage, Outbound, OutboundRecipient, StoreError, StoreResult, now_secs};
pub use ical::*;

/// The most attendees one change sends messages to (a mistake, or a mass mailing,
/// beyond it).
const MAX_ATTENDEES: usize = 200;

/// The name of the collection holding a person's scheduling inbox (RFC 6638 §2.2).
pub const INBOX: &str = "inbox";

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
