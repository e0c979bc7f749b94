//! The documents mail programs set themselves up from, written from one [`Setup`]:
//!
//! - Thunderbird's autoconfig (`config-v1.1.xml`, the format of Mozilla's ISPDB), which
//!   Thunderbird, K-9/Thunderbird for Android, Evolution and KMail fetch from
//!   `autoconfig.<domain>`;
//! - Microsoft's Autodiscover: the "POX" v1 exchange (`autodiscover.xml`, a request
//!   naming the address, a response of protocols) and the v2 JSON endpoint that
//!   Outlook and its mobile apps ask first, which points at v1;
//! - Apple's configuration profile (`.mobileconfig`, a property list), which iOS and
//!   macOS install: one mail account, password left for the device to ask.

use mailroom_shared::address::EmailAddress;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use super::setup::{Security, Server, Setup};

type Xml = Writer<Vec<u8>>;

/// `<name>text</name>`.
fn element(w: &mut Xml, name: &str, text: &str) -> std::io::Result<()> {
    w.create_element(name).write_text_content(BytesText::new(text))?;
    Ok(())
}

fn document(root: impl FnOnce(&mut Xml) -> std::io::Result<()>) -> Vec<u8> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing into memory cannot fail.
    let _ = w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None))).and_then(|()| root(&mut w));
    let mut out = w.into_inner();
    out.push(b'\n');
    out
}

/// Thunderbird's autoconfig for `address` (or, without one, for every domain here,
/// the login left as the address the person typed).
pub fn thunderbird(setup: &Setup, address: Option<&EmailAddress>) -> Vec<u8> {
    let domains: Vec<String> = match address {
        Some(a) => vec![a.domain().to_string()],
        None => setup.domains.iter().map(ToString::to_string).collect(),
    };
    let id = domains.first().cloned().unwrap_or_else(|| setup.host.to_string());
    let host = setup.host.to_string();
    let server = |w: &mut Xml, tag: &str, kind: &str, s: &Server| -> std::io::Result<()> {
        w.create_element(tag).with_attribute(("type", kind)).write_inner_content(|w| {
            element(w, "hostname", &host)?;
            element(w, "port", &s.port.to_string())?;
            let socket = match s.security {
                Security::Tls => "SSL",
                Security::StartTls => "STARTTLS",
                Security::None => "plain",
            };
            element(w, "socketType", socket)?;
            element(w, "username", "%EMAILADDRESS%")?;
            element(w, "authentication", "password-cleartext")
        })?;
        Ok(())
    };
    document(|w| {
        w.create_element("clientConfig").with_attribute(("version", "1.1")).write_inner_content(|w| {
            w.create_element("emailProvider").with_attribute(("id", id.as_str())).write_inner_content(|w| {
                for d in &domains {
                    element(w, "domain", d)?;
                }
                element(w, "displayName", &id)?;
                element(w, "displayShortName", &id)?;
                for s in &setup.imap {
                    server(w, "incomingServer", "imap", s)?;
                }
                for s in &setup.pop3 {
                    server(w, "incomingServer", "pop3", s)?;
                }
                for s in &setup.smtp {
                    server(w, "outgoingServer", "smtp", s)?;
                }
                Ok(())
            })?;
            Ok(())
        })?;
        Ok(())
    })
}

/// The Autodiscover v1 request's namespace.
#[cfg(test)]
const REQUEST_SCHEMA: &str = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";
/// The response schema Outlook asks for, the only one answered.
pub const OUTLOOK_SCHEMA: &str = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
/// The outer response's namespace.
const RESPONSE_SCHEMA: &str = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";

/// An Autodiscover v1 request, as far as it matters here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutodiscoverRequest {
    /// `Request/EMailAddress`.
    pub address: String,
    /// `Request/AcceptableResponseSchema`.
    pub schema: String,
}

/// Reads an Autodiscover v1 request; `None` when it is not one (not XML, or without
/// an address).
pub fn autodiscover_request(body: &[u8]) -> Option<AutodiscoverRequest> {
    let mut reader = quick_xml::Reader::from_reader(body);
    reader.config_mut().trim_text(true);
    let (mut address, mut schema) = (String::new(), String::new());
    let mut inside: Option<String> = None;
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => inside = Some(e.local_name().as_ref().to_owned()),
            Event::End(_) => inside = None,
            Event::Text(t) => {
                let text = t.xml10_content();
                match inside.as_deref() {
                    Some("EMailAddress") => address.push_str(&text),
                    Some("AcceptableResponseSchema") => schema.push_str(&text),
                    _ => {}
                }
            }
            Event::GeneralRef(r) => {
                let ch = match r.resolve_char_ref().ok()? {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&r.xml10_content())?.to_owned(),
                };
                match inside.as_deref() {
                    Some("EMailAddress") => address.push_str(&ch),
                    Some("AcceptableResponseSchema") => schema.push_str(&ch),
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    (!address.is_empty())
        .then(|| AutodiscoverRequest { address: address.trim().to_owned(), schema: schema.trim().to_owned() })
}

/// The Autodiscover v1 answer for `address`: its IMAP, POP3 and SMTP settings.
pub fn autodiscover(setup: &Setup, address: &EmailAddress) -> Vec<u8> {
    let host = setup.host.to_string();
    let login = address.to_string();
    let protocol = |w: &mut Xml, kind: &str, s: &Server| -> std::io::Result<()> {
        w.create_element("Protocol").write_inner_content(|w| {
            element(w, "Type", kind)?;
            element(w, "Server", &host)?;
            element(w, "Port", &s.port.to_string())?;
            element(w, "DomainRequired", "off")?;
            element(w, "LoginName", &login)?;
            element(w, "SPA", "off")?;
            // Encryption, where given, stands instead of SSL: TLS is STARTTLS.
            let (ssl, encryption) = match s.security {
                Security::Tls => ("on", "SSL"),
                Security::StartTls => ("on", "TLS"),
                Security::None => ("off", "None"),
            };
            element(w, "SSL", ssl)?;
            element(w, "Encryption", encryption)?;
            element(w, "AuthRequired", "on")
        })?;
        Ok(())
    };
    document(|w| {
        w.create_element("Autodiscover").with_attribute(("xmlns", RESPONSE_SCHEMA)).write_inner_content(|w| {
            w.create_element("Response").with_attribute(("xmlns", OUTLOOK_SCHEMA)).write_inner_content(|w| {
                w.create_element("Account").write_inner_content(|w| {
                    element(w, "AccountType", "email")?;
                    element(w, "Action", "settings")?;
                    for s in &setup.imap {
                        protocol(w, "IMAP", s)?;
                    }
                    for s in &setup.pop3 {
                        protocol(w, "POP3", s)?;
                    }
                    for s in &setup.smtp {
                        protocol(w, "SMTP", s)?;
                    }
                    Ok(())
                })?;
                Ok(())
            })?;
            Ok(())
        })?;
        Ok(())
    })
}

/// An Autodiscover v1 error answer (`600 Invalid Request`, `601` for a schema that is
/// not offered), as Exchange words them.
pub fn autodiscover_error(code: u16, message: &str) -> Vec<u8> {
    document(|w| {
        w.create_element("Autodiscover").with_attribute(("xmlns", RESPONSE_SCHEMA)).write_inner_content(|w| {
            w.create_element("Response").write_inner_content(|w| {
                w.create_element("Error").write_inner_content(|w| {
                    element(w, "ErrorCode", &code.to_string())?;
                    element(w, "Message", message)?;
                    w.create_element("DebugData").write_empty()?;
                    Ok(())
                })?;
                Ok(())
            })?;
            Ok(())
        })?;
        Ok(())
    })
}

/// Autodiscover v2's answer: where v1 is, for the only protocol served here
/// (`AutodiscoverV1`); `Err` with the JSON of Exchange's `InvalidProtocol` error for
/// any other.
pub fn autodiscover_v2(setup: &Setup, protocol: &str) -> Result<serde_json::Value, serde_json::Value> {
    if protocol.eq_ignore_ascii_case("AutodiscoverV1") {
        Ok(serde_json::json!({
            "Protocol": "AutodiscoverV1",
            "Url": format!("{}/autodiscover/autodiscover.xml", setup.base_url()),
        }))
    } else {
        Err(serde_json::json!({
            "ErrorCode": "InvalidProtocol",
            "ErrorMessage": format!(
                "The given protocol value '{protocol}' is invalid. Supported values are 'AutodiscoverV1'"
            ),
        }))
    }
}

/// A UUID made from `seed`: the same person's profile keeps its identity, so that
/// installing it again replaces the old one.
fn uuid(seed: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, seed.as_bytes());
    let b = d.as_ref();
    let hex: String = b[..16].iter().map(|x| format!("{x:02X}")).collect();
    // Version 5 style bits (name-based), variant RFC 4122.
    let (v, r) = (format!("5{}", &hex[13..16]), format!("{:X}{}", 8 | (b[8] & 0x3), &hex[17..20]));
    format!("{}-{}-{v}-{r}-{}", &hex[..8], &hex[8..12], &hex[20..32])
}

/// Apple's configuration profile for `address`: one mail account on the best IMAP
/// (else POP3) server and the best submission server, the password left for the
/// device to ask.
pub fn mobileconfig(setup: &Setup, address: &EmailAddress, name: &str) -> Vec<u8> {
    use plist::{Dictionary, Value};
    let host = setup.host.to_string();
    let login = address.to_string();
    let id = {
        let mut labels: Vec<&str> = setup.host.as_str().split('.').collect();
        labels.reverse();
        labels.join(".")
    };
    let mut mail = Dictionary::new();
    let mut set = |k: &str, v: Value| {
        mail.insert(k.to_owned(), v);
    };
    let (kind, incoming) = match (setup.imap.first(), setup.pop3.first()) {
        (Some(s), _) => ("EmailTypeIMAP", Some(s)),
        (None, Some(s)) => ("EmailTypePOP", Some(s)),
        (None, None) => ("EmailTypeIMAP", None),
    };
    set("EmailAccountType", kind.into());
    set("EmailAccountDescription", login.clone().into());
    set("EmailAccountName", if name.is_empty() { login.clone() } else { name.to_owned() }.into());
    set("EmailAddress", login.clone().into());
    if let Some(s) = incoming {
        set("IncomingMailServerHostName", host.clone().into());
        set("IncomingMailServerPortNumber", u64::from(s.port).into());
        set("IncomingMailServerUseSSL", (s.security != Security::None).into());
        set("IncomingMailServerUsername", login.clone().into());
        set("IncomingMailServerAuthentication", "EmailAuthPassword".into());
    }
    if let Some(s) = setup.smtp.first() {
        set("OutgoingMailServerHostName", host.clone().into());
        set("OutgoingMailServerPortNumber", u64::from(s.port).into());
        set("OutgoingMailServerUseSSL", (s.security != Security::None).into());
        set("OutgoingMailServerUsername", login.clone().into());
        set("OutgoingMailServerAuthentication", "EmailAuthPassword".into());
        set("OutgoingPasswordSameAsIncomingPassword", true.into());
    }
    set("PayloadType", "com.apple.mail.managed".into());
    set("PayloadVersion", 1u64.into());
    set("PayloadIdentifier", format!("{id}.mailroom.mail.{login}").into());
    set("PayloadUUID", uuid(&format!("mail {login} {host}")).into());
    set("PayloadDisplayName", format!("Mail ({login})").into());
    let mut profile = Dictionary::new();
    profile.insert("PayloadContent".into(), Value::Array(vec![Value::Dictionary(mail)]));
    profile.insert("PayloadDisplayName".into(), format!("{login} on {host}").into());
    profile.insert("PayloadDescription".into(), format!("Sets up mail for {login} on {host}.").into());
    profile.insert("PayloadIdentifier".into(), format!("{id}.mailroom.{login}").into());
    profile.insert("PayloadOrganization".into(), host.clone().into());
    profile.insert("PayloadType".into(), "Configuration".into());
    profile.insert("PayloadUUID".into(), uuid(&format!("profile {login} {host}")).into());
    profile.insert("PayloadVersion".into(), 1u64.into());
    profile.insert("PayloadRemovalDisallowed".into(), false.into());
    let mut out = Vec::new();
    // Writing into memory cannot fail.
    let _ = Value::Dictionary(profile).to_writer_xml(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_autodiscover_request_gives_its_address_and_schema_and_nonsense_gives_none() {
        let body = format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="{REQUEST_SCHEMA}"><Request>
<EMailAddress>ann&#64;corp.test</EMailAddress>
<AcceptableResponseSchema>{OUTLOOK_SCHEMA}</AcceptableResponseSchema>
</Request></Autodiscover>"#
        );
        let r = autodiscover_request(body.as_bytes()).expect("a request");
        assert_eq!(r.address, "ann@corp.test");
        assert_eq!(r.schema, OUTLOOK_SCHEMA);
        assert_eq!(autodiscover_request(b"<Autodiscover><Request/></Autodiscover>"), None);
        assert_eq!(autodiscover_request(b"<<<not xml"), None);
        assert_eq!(autodiscover_request(b"\xff\xfe"), None);
    }

    #[test]
    fn a_profile_uuid_is_stable_and_shaped_as_a_uuid() {
        let a = uuid("x");
        assert_eq!(a, uuid("x"));
        assert_ne!(a, uuid("y"));
        let groups: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
        assert!(a.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    }
}
