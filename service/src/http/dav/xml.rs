//! WebDAV's XML: request bodies read into a small tree of namespaced elements
//! (quick-xml resolves the namespaces), and the `multistatus` answers written with the
//! prefixes clients expect.

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

/// WebDAV's namespace.
pub const DAV: &str = "DAV:";
/// CalDAV's (RFC 4791).
pub const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";
/// CardDAV's (RFC 6352).
pub const CARDDAV: &str = "urn:ietf:params:xml:ns:carddav";
/// Calendar Server's (getctag).
pub const CS: &str = "http://calendarserver.org/ns/";
/// Apple's iCal (calendar-color).
pub const ICAL: &str = "http://apple.com/ns/ical/";

/// The prefixes the answers use, and their namespaces.
const PREFIXES: [(&str, &str); 5] = [("d", DAV), ("c", CALDAV), ("card", CARDDAV), ("cs", CS), ("ical", ICAL)];

/// An element of a request body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    /// Its namespace (empty when none).
    pub ns: String,
    /// Its local name.
    pub name: String,
    /// Its attributes, by local name.
    pub attributes: Vec<(String, String)>,
    /// Its child elements.
    pub children: Vec<Element>,
    /// Its text.
    pub text: String,
}

impl Element {
    /// True when it is `ns`'s `name`.
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    /// Its first child that is `ns`'s `name`.
    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    /// An attribute's value.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// The deepest nesting a request may have (a PROPFIND is four levels deep).
const MAX_DEPTH: usize = 32;

/// Reads a request body; `None` when it is not well-formed XML.
pub fn parse(body: &[u8]) -> Option<Element> {
    let text = std::str::from_utf8(body).ok()?;
    let mut reader = NsReader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<Element> = Vec::new();
    let element = |ns: ResolveResult<'_>, e: &quick_xml::events::BytesStart<'_>| -> Option<Element> {
        let ns = match ns {
            ResolveResult::Bound(n) => n.0.to_owned(),
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(_) => return None,
        };
        let mut attributes = Vec::new();
        for a in e.attributes() {
            let a = a.ok()?;
            attributes.push((
                a.key.local_name().as_ref().to_owned(),
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok()?.into_owned(),
            ));
        }
        Some(Element { ns, name: e.local_name().as_ref().to_owned(), attributes, ..Element::default() })
    };
    loop {
        let (ns, event) = reader.read_resolved_event().ok()?;
        match event {
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return None;
                }
                stack.push(element(ns, &e)?);
            }
            Event::Empty(e) => {
                let el = element(ns, &e)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Some(el),
                }
            }
            Event::End(_) => {
                let done = stack.pop()?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return Some(done),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t);
                }
            }
            Event::GeneralRef(r) => {
                let ch = match r.resolve_char_ref().ok()? {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&r.xml10_content())?.to_owned(),
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&ch);
                }
            }
            Event::Eof => return None,
            Event::DocType(_) => return None,
            _ => {}
        }
    }
}

/// Text made safe for XML.
pub fn escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// A property's name as written in an answer: `d:getetag` for a namespace with a
/// prefix, else the local name with its own `xmlns`.
pub fn tag(ns: &str, name: &str) -> (String, String) {
    match PREFIXES.iter().find(|(_, n)| *n == ns) {
        Some((p, _)) => (format!("{p}:{name}"), String::new()),
        None => (format!("x:{name}"), format!(" xmlns:x=\"{}\"", escape(ns))),
    }
}

/// `<tag>inner</tag>` (or `<tag/>` when `inner` is empty).
pub fn element(ns: &str, name: &str, inner: &str) -> String {
    let (t, xmlns) = tag(ns, name);
    if inner.is_empty() { format!("<{t}{xmlns}/>") } else { format!("<{t}{xmlns}>{inner}</{t}>") }
}

/// The start of a `multistatus` (or any answer's root), declaring the prefixes.
pub fn root_open(name: &str) -> String {
    let decls: String = PREFIXES.iter().map(|(p, n)| format!(" xmlns:{p}=\"{n}\"")).collect();
    format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:{name}{decls}>")
}

/// A DAV error body naming the precondition that failed (`<d:error><c:…/></d:error>`).
pub fn error(ns: &str, name: &str, inner: &str) -> String {
    format!("{}{}</d:error>\n", root_open("error"), element(ns, name, inner))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_propfind_is_read_with_its_namespaces_and_nonsense_is_refused() {
        let body = br#"<?xml version="1.0"?><A:propfind xmlns:A="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
            <A:prop><A:getetag/><C:calendar-data/><x:odd xmlns:x="urn:other"/></A:prop></A:propfind>"#;
        let p = parse(body).expect("XML");
        assert!(p.is(DAV, "propfind"));
        let names: Vec<(&str, &str)> =
            p.child(DAV, "prop").expect("prop").children.iter().map(|c| (c.ns.as_str(), c.name.as_str())).collect();
        assert_eq!(names, [(DAV, "getetag"), (CALDAV, "calendar-data"), ("urn:other", "odd")]);
        assert_eq!(parse(b"<a><b></a>"), None);
        assert_eq!(parse(b"<x:a/>"), None, "an unknown prefix");
        assert_eq!(parse(b"<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>"), None, "no DTDs");
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert_eq!(parse(deep.as_bytes()), None);
    }

    #[test]
    fn properties_are_written_with_known_prefixes_or_their_own_namespace() {
        assert_eq!(element(DAV, "getetag", "\"x\""), "<d:getetag>\"x\"</d:getetag>");
        assert_eq!(element("urn:other", "odd", ""), "<x:odd xmlns:x=\"urn:other\"/>");
    }
}
