//! What FETCH returns for one message: sections of its bytes, ENVELOPE and
//! BODYSTRUCTURE, built from [`super::mime`]. Pure, apart from any I/O.

use std::num::NonZeroU32;

use imap_next::imap_types::body::{BasicFields, Body, BodyStructure, SpecificFields};
use imap_next::imap_types::core::{IString, Literal, LiteralMode, NString, NString8, Quoted, Vec1};
use imap_next::imap_types::envelope::{Address, Envelope};
use imap_next::imap_types::extensions::binary::Literal8;
use imap_next::imap_types::fetch::{Part as SectionPart, Section};

use super::mime::{self, Kind, Part};

/// A string for the wire: quoted when it can be, a literal otherwise.
fn istring(bytes: &[u8]) -> IString<'static> {
    IString::try_from(bytes.to_vec())
        .or_else(|_| IString::try_from(bytes.iter().filter(|&&b| b != 0).copied().collect::<Vec<u8>>()))
        .unwrap_or_else(|_| IString::Quoted(Quoted::unvalidated("")))
}

/// An nstring: NIL for none.
fn nstring(value: Option<&str>) -> NString<'static> {
    NString(value.map(|v| istring(v.as_bytes())))
}

/// Bytes as an nstring (a section's content).
pub fn data(bytes: &[u8]) -> NString<'static> {
    NString(Some(istring(bytes)))
}

/// Bytes as an nstring, taking them: a literal when they have line breaks or are long
/// (a quoted string cannot hold a line break, and trying one first would copy them).
pub fn data_owned(bytes: Vec<u8>) -> NString<'static> {
    if memchr::memchr(0, &bytes).is_some() {
        // A NUL byte, which no IMAP string may hold: sent without it.
        return data(&bytes);
    }
    if bytes.len() > 256 || memchr::memchr2(b'\r', b'\n', &bytes).is_some() {
        // A literal may hold any byte but NUL, which memchr has just ruled out (far
        // faster than the crate's own byte-by-byte check, a quarter of the CPU of a
        // FETCH of whole messages).
        NString(Some(IString::Literal(Literal::unvalidated(bytes))))
    } else {
        data(&bytes)
    }
}

/// The bytes `section` names in `raw` (None when the part does not exist), before
/// any partial range.
pub fn section(raw: &[u8], structure: &Part, section: Option<&Section<'_>>) -> Option<Vec<u8>> {
    let path = |p: &Option<SectionPart>| -> Vec<u32> {
        p.as_ref().map(|p| p.0.as_ref().iter().map(|n: &NonZeroU32| n.get()).collect()).unwrap_or_default()
    };
    // The message a HEADER/TEXT section is about: the whole one, or a message/rfc822
    // part's.
    let message_at = |p: &Option<SectionPart>| -> Option<&Part> {
        let at = structure.find(&path(p))?;
        if p.is_none() {
            return Some(at);
        }
        match &at.kind {
            Kind::Message(inner) => Some(inner),
            _ => None,
        }
    };
    match section {
        None => Some(raw.to_vec()),
        Some(Section::Part(p)) => {
            let part = structure.find(&p.0.as_ref().iter().map(|n| n.get()).collect::<Vec<_>>())?;
            Some(raw[part.body.clone()].to_vec())
        }
        Some(Section::Header(p)) => Some(raw[message_at(p)?.header.clone()].to_vec()),
        Some(Section::Text(p)) => Some(raw[message_at(p)?.body.clone()].to_vec()),
        Some(Section::Mime(p)) => {
            let part = structure.find(&p.0.as_ref().iter().map(|n| n.get()).collect::<Vec<_>>())?;
            Some(raw[part.header.clone()].to_vec())
        }
        Some(Section::HeaderFields(p, names)) => {
            let names: Vec<String> =
                names.as_ref().iter().map(|n| String::from_utf8_lossy(n.as_ref()).to_ascii_lowercase()).collect();
            Some(header_lines(&raw[message_at(p)?.header.clone()], |name| names.contains(&name)))
        }
        Some(Section::HeaderFieldsNot(p, names)) => {
            let names: Vec<String> =
                names.as_ref().iter().map(|n| String::from_utf8_lossy(n.as_ref()).to_ascii_lowercase()).collect();
            Some(header_lines(&raw[message_at(p)?.header.clone()], |name| !names.contains(&name)))
        }
    }
}

/// The header's fields (with their folded lines) whose lower-case name `keep`
/// accepts, then the empty line.
fn header_lines(header: &[u8], keep: impl Fn(String) -> bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut keeping = false;
    for line in header.split_inclusive(|&b| b == b'\n') {
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        if !matches!(line.first(), Some(b' ' | b'\t')) {
            keeping = line
                .iter()
                .position(|&b| b == b':')
                .is_some_and(|c| keep(String::from_utf8_lossy(&line[..c]).trim().to_ascii_lowercase()));
        }
        if keeping {
            out.extend_from_slice(line);
            if !line.ends_with(b"\n") {
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// `<origin.length>` of a partial fetch.
pub fn partial(bytes: Vec<u8>, range: Option<(u32, NonZeroU32)>) -> Vec<u8> {
    match range {
        None => bytes,
        Some((start, len)) => {
            let start = usize::try_from(start).unwrap_or(usize::MAX).min(bytes.len());
            let end = start.saturating_add(usize::try_from(len.get()).unwrap_or(usize::MAX)).min(bytes.len());
            bytes[start..end].to_vec()
        }
    }
}

/// `BINARY[section]` (RFC 3516): the whole message for an empty section, else the
/// part's body with its transfer encoding (base64, quoted-printable) undone. `None`
/// when there is no such part; `Err` with the encoding when it is one we cannot undo.
pub fn binary(raw: &[u8], structure: &Part, section: &[NonZeroU32]) -> Option<Result<Vec<u8>, String>> {
    if section.is_empty() {
        return Some(Ok(raw.to_vec()));
    }
    let path: Vec<u32> = section.iter().map(|n| n.get()).collect();
    let part = structure.find(&path)?;
    let body = &raw[part.body.clone()];
    Some(match part.encoding.as_str() {
        "7BIT" | "8BIT" | "BINARY" => Ok(body.to_vec()),
        "BASE64" => {
            let compact: Vec<u8> = body.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
            Ok(mail_parser::decoders::base64::base64_decode(&compact).unwrap_or_default())
        }
        "QUOTED-PRINTABLE" => {
            Ok(mail_parser::decoders::quoted_printable::quoted_printable_decode(body).unwrap_or_default())
        }
        other => Err(other.to_owned()),
    })
}

/// Bytes as an nstring8: a literal8 (`~{n}`) when they hold a NUL, which no other
/// string may.
pub fn data8(bytes: Vec<u8>) -> NString8<'static> {
    if memchr::memchr(0, &bytes).is_some() {
        NString8::Literal8(Literal8 { data: std::borrow::Cow::Owned(bytes), mode: LiteralMode::Sync })
    } else {
        NString8::NString(data_owned(bytes))
    }
}

/// The addresses of a header field, as ENVELOPE lists them.
fn addresses(header: &[u8], name: &str) -> Vec<Address<'static>> {
    let fields = mime::fields(header);
    let Some(value) = mime::field(&fields, name) else { return Vec::new() };
    let header = format!("To: {value}\r\n\r\n");
    let parsed = mail_parser::MessageParser::new().parse_headers(header.as_bytes());
    let Some(parsed) = parsed else { return Vec::new() };
    let Some(list) = parsed.to() else { return Vec::new() };
    let mut out = Vec::new();
    let one = |a: &mail_parser::Addr<'_>| {
        let address = a.address.as_deref().unwrap_or("");
        let (mailbox, host) = address.rsplit_once('@').unwrap_or((address, ""));
        // An obsolete source route (`<@hop:user@domain>`) is the at-domain-list.
        let (adl, mailbox) = match mailbox.split_once(':') {
            Some((route, local)) if route.starts_with('@') => (nstring(Some(route)), local),
            _ => (NString::NIL, mailbox),
        };
        Address {
            name: nstring(a.name.as_deref()),
            adl,
            mailbox: nstring(Some(mailbox)),
            host: nstring((!host.is_empty()).then_some(host)),
        }
    };
    match list {
        mail_parser::Address::List(list) => out.extend(list.iter().map(one)),
        mail_parser::Address::Group(groups) => {
            // RFC 9051 §7.5.2: a group is its name as a mailbox with no host, its
            // members, and an address with neither to end it. Addresses outside any
            // group come as a group without a name.
            for g in groups {
                match &g.name {
                    Some(name) => {
                        out.push(Address {
                            name: NString::NIL,
                            adl: NString::NIL,
                            mailbox: nstring(Some(name)),
                            host: NString::NIL,
                        });
                        // A comment alone (`group: (note) ;`) is not a member.
                        out.extend(
                            g.addresses.iter().filter(|a| a.address.as_deref().is_some_and(|a| !a.is_empty())).map(one),
                        );
                        out.push(Address {
                            name: NString::NIL,
                            adl: NString::NIL,
                            mailbox: NString::NIL,
                            host: NString::NIL,
                        });
                    }
                    None => out.extend(g.addresses.iter().map(one)),
                }
            }
        }
    }
    out
}

/// ENVELOPE of the message whose header is `header`. Dates, subjects and ids are as
/// written (unfolded); From stands in for a missing Sender and Reply-To.
pub fn envelope(header: &[u8]) -> Envelope<'static> {
    let fields = mime::fields(header);
    let get = |name: &str| mime::field(&fields, name);
    let from = addresses(header, "from");
    let sender = match addresses(header, "sender") {
        s if s.is_empty() => from.clone(),
        s => s,
    };
    let reply_to = match addresses(header, "reply-to") {
        r if r.is_empty() => from.clone(),
        r => r,
    };
    Envelope {
        date: nstring(get("date")),
        subject: nstring(get("subject")),
        from,
        sender,
        reply_to,
        to: addresses(header, "to"),
        cc: addresses(header, "cc"),
        bcc: addresses(header, "bcc"),
        in_reply_to: nstring(get("in-reply-to")),
        message_id: nstring(get("message-id")),
    }
}

/// BODYSTRUCTURE (or BODY, which is the same here: no extension data is sent).
pub fn body_structure(raw: &[u8], part: &Part) -> BodyStructure<'static> {
    if let Kind::Multipart(children) = &part.kind
        && let Ok(bodies) = Vec1::try_from(children.iter().map(|c| body_structure(raw, c)).collect::<Vec<_>>())
    {
        return BodyStructure::Multi {
            bodies,
            subtype: istring(part.media.1.to_ascii_uppercase().as_bytes()),
            extension_data: None,
        };
    }
    let size = u32::try_from(part.body.len()).unwrap_or(u32::MAX);
    let basic = BasicFields {
        parameter_list: part
            .params
            .iter()
            .map(|(k, v)| (istring(k.to_ascii_uppercase().as_bytes()), istring(v.as_bytes())))
            .collect(),
        id: nstring(part.id.as_deref()),
        description: nstring(part.description.as_deref()),
        content_transfer_encoding: istring(part.encoding.as_bytes()),
        size,
    };
    let (t, s) = (&part.media.0, &part.media.1);
    let specific = match &part.kind {
        Kind::Message(inner) => SpecificFields::Message {
            envelope: Box::new(envelope(&raw[inner.header.clone()])),
            body_structure: Box::new(body_structure(raw, inner)),
            number_of_lines: part.lines(raw),
        },
        _ if t == "text" => SpecificFields::Text {
            subtype: istring(s.to_ascii_uppercase().as_bytes()),
            number_of_lines: part.lines(raw),
        },
        _ => SpecificFields::Basic {
            r#type: istring(t.to_ascii_uppercase().as_bytes()),
            subtype: istring(s.to_ascii_uppercase().as_bytes()),
        },
    };
    BodyStructure::Single { body: Body { basic, specific }, extension_data: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &[u8] = b"From: Ann Example <ann@corp.test>\r\nTo: bob@outside.test, \"Carl\" <carl@outside.test>\r\n\
Subject: Quarterly\r\n figures\r\nMessage-ID: <1@corp.test>\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nplain\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--b--\r\n";

    #[test]
    fn sections_are_cut_from_the_bytes() {
        let s = mime::parse(RAW);
        assert_eq!(section(RAW, &s, None).as_deref(), Some(RAW));
        let one = Section::Part(SectionPart(Vec1::from(NonZeroU32::MIN)));
        assert_eq!(section(RAW, &s, Some(&one)).as_deref(), Some(&b"plain"[..]));
        let fields = Section::HeaderFields(
            None,
            Vec1::from(imap_next::imap_types::core::AString::try_from("subject").expect("astring")),
        );
        assert_eq!(section(RAW, &s, Some(&fields)).as_deref(), Some(&b"Subject: Quarterly\r\n figures\r\n\r\n"[..]));
        let header = section(RAW, &s, Some(&Section::Header(None))).expect("header");
        assert!(header.starts_with(b"From:") && header.ends_with(b"boundary=b\r\n\r\n"));
        assert_eq!(partial(b"0123456789".to_vec(), Some((2, NonZeroU32::new(3).expect("3")))), b"234");
        assert_eq!(partial(b"0123".to_vec(), Some((9, NonZeroU32::MIN))), b"");
    }

    #[test]
    fn the_envelope_names_everyone() {
        let s = mime::parse(RAW);
        let e = envelope(&RAW[s.header.clone()]);
        assert_eq!(e.to.len(), 2);
        assert_eq!(e.from[0].host, nstring(Some("corp.test")));
        assert_eq!(e.from[0].name, nstring(Some("Ann Example")));
        assert_eq!(e.sender, e.from);
        assert_eq!(e.subject, nstring(Some("Quarterly figures")));
        assert_eq!(e.message_id, nstring(Some("<1@corp.test>")));
    }

    /// Regression (issue 24, item 5): `To: group: a@b, c@d;` came out as plain
    /// addresses, and an empty group as a bogus address.
    #[test]
    fn the_envelope_keeps_address_groups() {
        let e = envelope(
            b"To: Team: a@b.test, Carl <c@d.test>;, solo@e.test\r\nCc: undisclosed-recipients:;, g2: (note) ;\r\n\r\n",
        );
        let shape: Vec<(NString<'_>, NString<'_>)> = e.to.iter().map(|a| (a.mailbox.clone(), a.host.clone())).collect();
        assert_eq!(
            shape,
            [
                (nstring(Some("Team")), NString::NIL),
                (nstring(Some("a")), nstring(Some("b.test"))),
                (nstring(Some("c")), nstring(Some("d.test"))),
                (NString::NIL, NString::NIL),
                (nstring(Some("solo")), nstring(Some("e.test"))),
            ]
        );
        let cc: Vec<(NString<'_>, NString<'_>)> = e.cc.iter().map(|a| (a.mailbox.clone(), a.host.clone())).collect();
        let group = |name| [(nstring(Some(name)), NString::NIL), (NString::NIL, NString::NIL)];
        let routed = envelope(b"From: <@hop.test:user@domain.test>\r\n\r\n");
        assert_eq!(
            (routed.from[0].adl.clone(), routed.from[0].mailbox.clone()),
            (nstring(Some("@hop.test")), nstring(Some("user")))
        );
        assert_eq!(cc, [group("undisclosed-recipients"), group("g2")].concat(), "a comment is not a member");
    }

    #[test]
    fn the_body_structure_follows_the_parts() {
        let s = mime::parse(RAW);
        let BodyStructure::Multi { bodies, subtype, .. } = body_structure(RAW, &s) else { panic!("multipart") };
        assert_eq!(subtype, istring(b"ALTERNATIVE"));
        assert_eq!(bodies.as_ref().len(), 2);
    }
}
