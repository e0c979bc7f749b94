//! Calendars and address books moved in and out of a mailbox: an `.ics` file (one
//! calendar, as Outlook, Thunderbird, Google and Apple export them) is cut into
//! objects of one UID each — a recurring event with its exceptions stays whole, with
//! the time zones it names — and a `.vcf` file into cards; each goes to the service in
//! pieces ([`mailroom_shared::ipc::TRANSFER_CHUNK`]). An export puts them together
//! again: one calendar, its time zones once; the cards one after another.
//!
//! The text is cut by its lines (RFC 5545 §3.1, RFC 6350 §3.2), not rewritten: what
//! the service keeps is what the file held.

use std::collections::BTreeMap;
use std::path::Path;

use mailroom_shared::ipc::TRANSFER_CHUNK;

use crate::transfer::TransferError;
use crate::{Client, ClientError, Imported};

/// A calendar or an address book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `.ics`, into `calendars/NAME`.
    Calendar,
    /// `.vcf`, into `addressbooks/NAME`.
    AddressBook,
}

impl Kind {
    /// The collection `name` of this kind, as the service names it.
    pub fn collection(self, name: &str) -> String {
        match self {
            Kind::Calendar => format!("calendars/{name}"),
            Kind::AddressBook => format!("addressbooks/{name}"),
        }
    }
}

/// The logical lines of `text` (folded lines joined back, RFC 5545 §3.1), each with
/// the physical text it came from (with its line ends).
fn logical_lines(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for physical in text.split_inclusive('\n') {
        let bare = physical.trim_end_matches(['\r', '\n']);
        match (bare.strip_prefix([' ', '\t']), out.last_mut()) {
            (Some(more), Some((logical, raw))) => {
                logical.push_str(more);
                raw.push_str(physical);
            }
            _ if bare.is_empty() => {}
            _ => out.push((bare.to_owned(), physical.to_owned())),
        }
    }
    out
}

/// A property's name and value (parameters aside), upper-cased name.
fn name_value(line: &str) -> (String, &str) {
    let mut quoted = false;
    let mut name_end = None;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' if name_end.is_none() && !quoted => name_end = Some(i),
            ':' if !quoted => {
                let name = &line[..name_end.unwrap_or(i)];
                return (name.trim().to_ascii_uppercase(), &line[i + 1..]);
            }
            _ => {}
        }
    }
    (line.trim().to_ascii_uppercase(), "")
}

/// Ensures CRLF line ends.
fn crlf(raw: &str) -> String {
    let bare = raw.trim_end_matches(['\r', '\n']);
    let mut out = String::with_capacity(raw.len() + 1);
    for (i, line) in bare.split('\n').enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        out.push_str(line.trim_end_matches('\r'));
    }
    out.push_str("\r\n");
    out
}

/// Cuts an `.ics` text into calendar objects of one UID each, in the order their UIDs
/// first appear, each with the calendar's own properties (VERSION, PRODID…) and the
/// time zones it names.
///
/// # Errors
/// A text with no VCALENDAR, or a component without a UID, in words.
pub fn split_ics(text: &str) -> Result<Vec<String>, String> {
    let lines = logical_lines(text);
    let mut header = String::new();
    let mut zones: BTreeMap<String, String> = BTreeMap::new();
    let mut objects: Vec<(String, String, Vec<String>)> = Vec::new(); // uid, text, tzids
    let mut depth = 0usize;
    let mut seen_calendar = false;
    let mut current: Option<(String, String, Option<String>, Vec<String>)> = None; // kind, raw, uid, tzids
    for (logical, raw) in &lines {
        let (name, value) = name_value(logical);
        let value = value.trim();
        match name.as_str() {
            "BEGIN" if depth == 0 => {
                if !value.eq_ignore_ascii_case("VCALENDAR") {
                    return Err(format!("the file begins with {value}, not VCALENDAR"));
                }
                seen_calendar = true;
                depth = 1;
                continue;
            }
            "BEGIN" if depth == 1 => {
                current = Some((value.to_ascii_uppercase(), String::new(), None, Vec::new()));
            }
            "END" if depth == 1 => {
                // The end of a calendar; another may follow in the same file.
                depth = 0;
                continue;
            }
            _ => {}
        }
        if depth == 1 && current.is_none() {
            if !matches!(name.as_str(), "METHOD") {
                header.push_str(&crlf(raw));
            }
            continue;
        }
        let Some((kind, text, uid, tzids)) = current.as_mut() else { continue };
        text.push_str(&crlf(raw));
        match name.as_str() {
            "BEGIN" => depth += 1,
            "END" => depth -= 1,
            "UID" if uid.is_none() && depth == 2 => *uid = Some(value.to_owned()),
            "TZID" if kind == "VTIMEZONE" && depth == 2 => *uid = Some(value.to_owned()),
            _ => {}
        }
        if let Some(at) = logical.find("TZID=").filter(|_| kind != "VTIMEZONE") {
            let rest = &logical[at + 5..];
            let tz = rest.trim_start_matches('"').split(['"', ';', ':']).next().unwrap_or("").to_owned();
            if !tz.is_empty() && !tzids.contains(&tz) {
                tzids.push(tz);
            }
        }
        if depth == 1 {
            let (kind, text, uid, tzids) = current.take().unwrap_or_default();
            match kind.as_str() {
                "VTIMEZONE" => {
                    zones.insert(uid.unwrap_or_default(), text);
                }
                "VEVENT" | "VTODO" | "VJOURNAL" => {
                    let uid = uid.ok_or_else(|| format!("a {kind} without a UID"))?;
                    match objects.iter_mut().find(|(u, _, _)| *u == uid) {
                        Some((_, all, zs)) => {
                            all.push_str(&text);
                            zs.extend(tzids.into_iter().filter(|t| !zs.contains(t)).collect::<Vec<_>>());
                        }
                        None => objects.push((uid, text, tzids)),
                    }
                }
                // Anything else at the top (VFREEBUSY, X- components) is not kept.
                _ => {}
            }
        }
    }
    if !seen_calendar {
        return Err("no BEGIN:VCALENDAR in it".into());
    }
    if !header.to_ascii_uppercase().contains("VERSION:") {
        header.insert_str(0, "VERSION:2.0\r\n");
    }
    Ok(objects
        .into_iter()
        .map(|(_, body, tzids)| {
            let zones: String = tzids.iter().filter_map(|t| zones.get(t)).cloned().collect();
            format!("BEGIN:VCALENDAR\r\n{header}{zones}{body}END:VCALENDAR\r\n")
        })
        .collect())
}

/// Puts calendar objects together as one calendar: the first's own properties, each
/// time zone once, then every component.
pub fn join_ics(objects: &[Vec<u8>]) -> String {
    let mut header = String::new();
    let mut zones: Vec<(String, String)> = Vec::new();
    let mut body = String::new();
    for (i, o) in objects.iter().enumerate() {
        let text = String::from_utf8_lossy(o);
        let mut depth = 0usize;
        let mut current: Option<(bool, String, String)> = None; // timezone, tzid, text
        for (logical, raw) in logical_lines(&text) {
            let (name, value) = name_value(&logical);
            match (name.as_str(), depth) {
                ("BEGIN", 0) | ("END", 1) => {
                    depth = if name == "BEGIN" { 1 } else { 0 };
                    continue;
                }
                ("BEGIN", 1) => {
                    current = Some((value.trim().eq_ignore_ascii_case("VTIMEZONE"), String::new(), String::new()))
                }
                _ => {}
            }
            match current.as_mut() {
                None if depth == 1 && i == 0 && name != "METHOD" => header.push_str(&crlf(&raw)),
                None => {}
                Some((zone, tzid, part)) => {
                    part.push_str(&crlf(&raw));
                    match name.as_str() {
                        "BEGIN" => depth += 1,
                        "END" => depth -= 1,
                        "TZID" if *zone && depth == 2 => *tzid = value.trim().to_owned(),
                        _ => {}
                    }
                    if depth == 1 {
                        let (zone, tzid, part) = current.take().unwrap_or_default();
                        if !zone {
                            body.push_str(&part);
                        } else if !zones.iter().any(|(t, _)| *t == tzid) {
                            zones.push((tzid, part));
                        }
                    }
                }
            }
        }
    }
    let zones: String = zones.into_iter().map(|(_, z)| z).collect();
    format!("BEGIN:VCALENDAR\r\n{header}{zones}{body}END:VCALENDAR\r\n")
}

/// Cuts a `.vcf` text into cards.
///
/// # Errors
/// A text with no card in it, or one cut short.
pub fn split_vcf(text: &str) -> Result<Vec<String>, String> {
    let mut cards = Vec::new();
    let mut current: Option<String> = None;
    for (logical, raw) in logical_lines(text) {
        let (name, value) = name_value(&logical);
        match (name.as_str(), current.as_mut()) {
            ("BEGIN", None) if value.trim().eq_ignore_ascii_case("VCARD") => current = Some(crlf(&raw)),
            ("END", Some(card)) if value.trim().eq_ignore_ascii_case("VCARD") => {
                card.push_str(&crlf(&raw));
                cards.extend(current.take());
            }
            (_, Some(card)) => card.push_str(&crlf(&raw)),
            (_, None) => return Err(format!("a line outside any card: {logical}")),
        }
    }
    if current.is_some() {
        return Err("the last card is cut short (no END:VCARD)".into());
    }
    if cards.is_empty() {
        return Err("no BEGIN:VCARD in it".into());
    }
    Ok(cards)
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ObjectSummary {
    /// Objects stored (new, or changed).
    pub stored: u64,
    /// Objects that were there already, the same.
    pub unchanged: u64,
}

/// Sends one object, in pieces; true when it was stored (false: there, the same).
///
/// # Errors
/// The service's refusal (with why the object is refused).
pub async fn send_object(client: &Client, address: &str, collection: &str, object: &[u8]) -> Result<bool, ClientError> {
    let mut offset = 0usize;
    loop {
        let end = (offset + TRANSFER_CHUNK).min(object.len());
        match client.import_object_piece(address, collection, object, offset..end).await? {
            Imported { complete: true, stored } => return Ok(stored),
            Imported { complete: false, .. } if end < object.len() => offset = end,
            Imported { complete: false, .. } => {
                return Err(ClientError::Protocol("the service wants more of an object that has ended".into()));
            }
        }
    }
}

/// Imports the `.ics` or `.vcf` file at `path` into the collection `name` of the
/// mailbox `address` (made if missing).
///
/// # Errors
/// A file that cannot be read or cut, the first object the service refuses (those
/// before it stay stored).
pub async fn import(
    client: &Client,
    address: &str,
    kind: Kind,
    name: &str,
    path: &Path,
) -> Result<ObjectSummary, TransferError> {
    let bytes =
        std::fs::read(path).map_err(|source| TransferError::File { path: path.display().to_string(), source })?;
    let text = String::from_utf8(bytes).map_err(|_| TransferError::Other(format!("{}: not UTF-8", path.display())))?;
    let objects = match kind {
        Kind::Calendar => split_ics(&text),
        Kind::AddressBook => split_vcf(&text),
    }
    .map_err(|e| TransferError::Other(format!("{}: {e}", path.display())))?;
    let collection = kind.collection(name);
    let mut summary = ObjectSummary::default();
    for o in &objects {
        if send_object(client, address, &collection, o.as_bytes()).await? {
            summary.stored += 1;
        } else {
            summary.unchanged += 1;
        }
    }
    Ok(summary)
}

/// Every object of a collection, read in pieces.
///
/// # Errors
/// The service's refusal.
pub async fn read_all(client: &Client, address: &str, collection: &str) -> Result<Vec<Vec<u8>>, ClientError> {
    let mut names = Vec::new();
    loop {
        let (page, total) = client.export_objects(address, collection, names.len() as u64).await?;
        let done = page.is_empty() || names.len() + page.len() >= usize::try_from(total).unwrap_or(usize::MAX);
        names.extend(page);
        if done {
            break;
        }
    }
    let mut all = Vec::with_capacity(names.len());
    for name in names {
        let mut data = Vec::new();
        loop {
            let piece = match client.export_object(address, collection, name.as_str(), data.len() as u64).await {
                Ok(p) => p,
                // Deleted since it was listed: nothing to export.
                Err(ClientError::Remote(mailroom_shared::ipc::IpcError::NotFound { .. })) => break,
                Err(e) => return Err(e),
            };
            if piece.data.is_empty() && (data.len() as u64) < piece.total {
                return Err(ClientError::Protocol("an object ended early".into()));
            }
            data.extend_from_slice(&piece.data);
            if data.len() as u64 >= piece.total {
                all.push(data);
                break;
            }
        }
    }
    Ok(all)
}

/// Writes the collection `name` of `address` to a new file at `path` (`.ics` or
/// `.vcf`); how many objects it holds.
///
/// # Errors
/// An existing file, one that cannot be written, the service's refusal.
pub async fn export(client: &Client, address: &str, kind: Kind, name: &str, path: &Path) -> Result<u64, TransferError> {
    let objects = read_all(client, address, &kind.collection(name)).await?;
    let text = match kind {
        Kind::Calendar => join_ics(&objects),
        Kind::AddressBook => objects.iter().map(|o| crlf(&String::from_utf8_lossy(o))).collect(),
    };
    let file_error = |source| TransferError::File { path: path.display().to_string(), source };
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(file_error)?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(file_error)?;
    file.sync_all().map_err(file_error)?;
    Ok(objects.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CALENDAR: &str = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Example//EN\nMETHOD:PUBLISH\n\
        BEGIN:VTIMEZONE\nTZID:Europe/Paris\nBEGIN:STANDARD\nDTSTART:19701025T030000\nTZOFFSETFROM:+0200\n\
        TZOFFSETTO:+0100\nEND:STANDARD\nEND:VTIMEZONE\n\
        BEGIN:VTIMEZONE\nTZID:Unused/Zone\nBEGIN:STANDARD\nDTSTART:19700101T000000\nTZOFFSETFROM:+0000\n\
        TZOFFSETTO:+0000\nEND:STANDARD\nEND:VTIMEZONE\n\
        BEGIN:VEVENT\nUID:weekly\nDTSTART;TZID=Europe/Paris:20270104T090000\nRRULE:FREQ=WEEKLY\nSUMMARY:Stand-up\n\x20meeting\n\
        BEGIN:VALARM\nACTION:DISPLAY\nTRIGGER:-PT5M\nEND:VALARM\nEND:VEVENT\n\
        BEGIN:VEVENT\nUID:single\nDTSTART:20270105T100000Z\nSUMMARY:Lunch\nEND:VEVENT\n\
        BEGIN:VEVENT\nUID:weekly\nRECURRENCE-ID;TZID=Europe/Paris:20270111T090000\n\
        DTSTART;TZID=Europe/Paris:20270111T100000\nSUMMARY:Moved\nEND:VEVENT\n\
        END:VCALENDAR\n";

    #[test]
    fn a_calendar_is_cut_by_uid_with_its_exceptions_and_the_zones_it_names() {
        let objects = split_ics(CALENDAR).expect("cut");
        assert_eq!(objects.len(), 2);
        let weekly = &objects[0];
        assert!(weekly.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//EN\r\n"), "{weekly}");
        assert!(!weekly.contains("METHOD"), "a calendar object has no METHOD: {weekly}");
        assert_eq!(weekly.matches("BEGIN:VEVENT").count(), 2, "the series and its exception");
        assert!(weekly.contains("TZID:Europe/Paris") && !weekly.contains("Unused/Zone"), "{weekly}");
        assert!(weekly.contains("SUMMARY:Stand-up\r\n meeting\r\n"), "folded lines kept: {weekly}");
        assert!(weekly.contains("BEGIN:VALARM"));
        assert!(!objects[1].contains("VTIMEZONE") && objects[1].contains("UID:single"), "{}", objects[1]);
        assert!(objects.iter().all(|o| o.ends_with("END:VCALENDAR\r\n") && !o.contains("\r\r")));
        assert!(split_ics("BEGIN:VCARD\nEND:VCARD\n").is_err());
        assert!(split_ics("BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT\nEND:VCALENDAR\n").is_err());
    }

    #[test]
    fn joined_again_a_calendar_has_each_zone_once_and_every_event() {
        let objects: Vec<Vec<u8>> = split_ics(CALENDAR).expect("cut").into_iter().map(String::into_bytes).collect();
        let joined = join_ics(&objects);
        assert_eq!(joined.matches("BEGIN:VCALENDAR").count(), 1);
        assert_eq!(joined.matches("TZID:Europe/Paris").count(), 1, "{joined}");
        assert_eq!(joined.matches("BEGIN:VEVENT").count(), 3);
        let again = split_ics(&joined).expect("cut again");
        assert_eq!(again, split_ics(CALENDAR).expect("cut"), "a round trip changes nothing");
    }

    #[test]
    fn an_address_book_is_cut_into_cards() {
        let text = "BEGIN:VCARD\nVERSION:3.0\nUID:a\nFN:Ann\nEND:VCARD\n\nBEGIN:VCARD\r\nVERSION:4.0\r\nUID:b\r\nFN:Bob\r\n Builder\r\nEND:VCARD\r\n";
        let cards = split_vcf(text).expect("cards");
        assert_eq!(cards.len(), 2);
        assert_eq!(cards[0], "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:a\r\nFN:Ann\r\nEND:VCARD\r\n");
        assert!(cards[1].contains("FN:Bob\r\n Builder\r\n"));
        assert!(split_vcf("BEGIN:VCARD\nFN:x\n").is_err());
        assert!(split_vcf("").is_err());
    }
}
