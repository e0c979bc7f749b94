//! WebDAV properties: what a PROPFIND or REPORT asks for, the resources described,
//! each property's value, a multistatus `response`, and which properties a client may
//! set and the server only keeps.

use super::*;

/// A property asked for: namespace and name.
pub(super) type Prop = (String, String);

/// What a PROPFIND or REPORT asks for.
pub(super) enum Wanted {
    /// `allprop` (or no body).
    All,
    /// `propname`.
    Names,
    /// These.
    Props(Vec<Prop>),
}

pub(super) fn wanted(parent: Option<&Element>) -> Wanted {
    let Some(p) = parent else { return Wanted::All };
    if p.child(DAV, "propname").is_some() {
        return Wanted::Names;
    }
    match p.child(DAV, "prop") {
        Some(prop) => Wanted::Props(prop.children.iter().map(|c| (c.ns.clone(), c.name.clone())).collect()),
        None => Wanted::All,
    }
}

/// A resource being described.
pub(super) enum Resource<'a> {
    Root,
    /// A person: their address and the name shown.
    Principal(&'a str, &'a str),
    Home,
    Collection(&'a Collection),
    Object(&'a Collection, &'a ObjectInfo, Option<&'a [u8]>),
}

/// The properties `allprop` gives, per resource.
pub(super) fn all_props(r: &Resource<'_>) -> Vec<Prop> {
    let p = |ns: &str, n: &str| (ns.to_owned(), n.to_owned());
    let mut out = vec![p(DAV, "resourcetype"), p(DAV, "displayname"), p(DAV, "current-user-principal")];
    match r {
        Resource::Collection(c) => {
            out.extend([p(DAV, "sync-token"), p(CS, "getctag"), p(DAV, "owner")]);
            out.extend(c.dead.iter().map(|(ns, name, _)| (ns.clone(), name.clone())));
            match c.kind {
                DavKind::Calendar => out.extend([
                    p(CALDAV, "supported-calendar-component-set"),
                    p(ICAL, "calendar-color"),
                    p(CALDAV, "calendar-description"),
                ]),
                DavKind::AddressBook => out.push(p(CARDDAV, "addressbook-description")),
            }
        }
        Resource::Object(..) => out.extend([p(DAV, "getetag"), p(DAV, "getcontenttype"), p(DAV, "getcontentlength")]),
        Resource::Principal(..) => out.extend([
            p(CALDAV, "calendar-home-set"),
            p(CARDDAV, "addressbook-home-set"),
            p(CALDAV, "calendar-user-address-set"),
            p(CALDAV, "schedule-inbox-URL"),
            p(CALDAV, "schedule-outbox-URL"),
        ]),
        Resource::Root | Resource::Home => {}
    }
    out
}

impl Dav<'_> {
    /// The value of property `(ns, name)` of `r`, as XML; `None` when `r` has none.
    pub(super) fn prop(&self, r: &Resource<'_>, ns: &str, name: &str) -> Option<String> {
        let login = &self.user.login;
        let href = |h: String| element(DAV, "href", &escape(&h));
        let privileges = |rights: Option<Rights>| {
            // RFC 3744's privileges, from the viewer's rights (all of them on their own).
            let has = |need: Rights| rights.is_none_or(|r| r.has(need));
            let mut names = vec!["read", "read-current-user-privilege-set"];
            if has(Rights::INSERT) && has(Rights::WRITE) && has(Rights::DELETE_MESSAGES) {
                names.extend(["write", "write-content"]);
            }
            if has(Rights::DELETE_FOLDER) {
                names.push("write-properties");
            }
            if has(Rights::INSERT) {
                names.push("bind");
            }
            if has(Rights::DELETE_MESSAGES) {
                names.push("unbind");
            }
            names.iter().map(|p| element(DAV, "privilege", &element(DAV, p, ""))).collect::<String>()
        };
        // Whose principal it is, if one.
        let person = match r {
            Resource::Principal(address, _) => Some(*address),
            _ => None,
        };
        Some(match (ns, name) {
            (DAV, "current-user-principal") => href(principal_href(&self.viewer.login)),
            (DAV, "principal-URL") => href(principal_href(person?)),
            (DAV, "owner") => href(principal_href(login)),
            (DAV, "current-user-privilege-set") => match r {
                Resource::Collection(c) | Resource::Object(c, ..) if c.id == GAL_ID => {
                    ["read", "read-current-user-privilege-set"]
                        .iter()
                        .map(|p| element(DAV, "privilege", &element(DAV, p, "")))
                        .collect::<String>()
                }
                // RFC 6638 §6.1: delivering to an inbox, sending from an outbox.
                Resource::Collection(c) if is_inbox(c) => {
                    ["read", "unbind", "read-current-user-privilege-set"]
                        .iter()
                        .map(|p| element(DAV, "privilege", &element(DAV, p, "")))
                        .collect::<String>()
                        + &element(DAV, "privilege", &element(CALDAV, "schedule-deliver", ""))
                }
                Resource::Collection(c) if c.id == OUTBOX_ID => {
                    element(DAV, "privilege", &element(DAV, "read", ""))
                        + &element(DAV, "privilege", &element(CALDAV, "schedule-send", ""))
                }
                Resource::Collection(c) | Resource::Object(c, ..) => privileges(self.rights_on(c)),
                _ => privileges(None),
            },
            (DAV, "resourcetype") => match r {
                Resource::Root | Resource::Home => element(DAV, "collection", ""),
                Resource::Principal(..) => element(DAV, "principal", ""),
                Resource::Collection(c) if is_inbox(c) => {
                    element(DAV, "collection", "") + &element(CALDAV, "schedule-inbox", "")
                }
                Resource::Collection(c) if c.id == OUTBOX_ID => {
                    element(DAV, "collection", "") + &element(CALDAV, "schedule-outbox", "")
                }
                Resource::Collection(c) => {
                    let kind = match c.kind {
                        DavKind::Calendar => element(CALDAV, "calendar", ""),
                        DavKind::AddressBook => element(CARDDAV, "addressbook", ""),
                    };
                    element(DAV, "collection", "") + &kind
                }
                Resource::Object(..) => String::new(),
            },
            (DAV, "displayname") => match r {
                Resource::Collection(c) => escape(&c.display_name),
                Resource::Principal(_, name) => escape(name),
                _ => return None,
            },
            (CALDAV, "calendar-home-set") => href(home_href(DavKind::Calendar, person?)),
            (CARDDAV, "addressbook-home-set") => href(home_href(DavKind::AddressBook, person?)),
            (CALDAV, "calendar-user-address-set") => {
                href(format!("mailto:{}", person?)) + &href(principal_href(person?))
            }
            (CALDAV, "calendar-user-type") => {
                person?;
                "INDIVIDUAL".into()
            }
            (CALDAV, "schedule-inbox-URL") => {
                href(format!("{}{}/", home_href(DavKind::Calendar, person?), crate::itip::INBOX))
            }
            (CALDAV, "schedule-outbox-URL") => href(format!("{}{OUTBOX}/", home_href(DavKind::Calendar, person?))),
            // Apple's clients offer "Share" for what may be shared (its owner's).
            (CS, "allowed-sharing-modes") => match r {
                Resource::Collection(c) if c.id > 0 && !is_inbox(c) && self.shared.is_none() => {
                    element(CS, "can-be-shared", "")
                }
                _ => return None,
            },
            (CALDAV, "schedule-default-calendar-URL") => match r {
                Resource::Collection(c) if is_inbox(c) => {
                    href(format!("{}calendar/", home_href(DavKind::Calendar, login)))
                }
                _ => return None,
            },
            (CALDAV, "schedule-tag") => match r {
                Resource::Object(c, _, Some(d)) if !is_inbox(c) => {
                    let text = std::str::from_utf8(d).ok()?;
                    if !crate::itip::is_scheduling_object(text) {
                        return None;
                    }
                    escape(&format!("\"{}\"", crate::itip::schedule_tag(text)))
                }
                _ => return None,
            },
            (DAV, "principal-collection-set") => href("/dav/principals/".into()),
            (DAV, "supported-report-set") => {
                let report =
                    |ns: &str, n: &str| element(DAV, "supported-report", &element(DAV, "report", &element(ns, n, "")));
                match r {
                    Resource::Collection(c) if c.id == OUTBOX_ID => String::new(),
                    Resource::Collection(c) => {
                        report(DAV, "sync-collection")
                            + &match c.kind {
                                DavKind::Calendar => {
                                    report(CALDAV, "calendar-query") + &report(CALDAV, "calendar-multiget")
                                }
                                DavKind::AddressBook => {
                                    report(CARDDAV, "addressbook-query") + &report(CARDDAV, "addressbook-multiget")
                                }
                            }
                    }
                    _ => return None,
                }
            }
            (DAV, "sync-token") => match r {
                Resource::Collection(c) => escape(&sync_token(c)),
                _ => return None,
            },
            (CS, "getctag") => match r {
                Resource::Collection(c) => escape(&sync_token(c)),
                _ => return None,
            },
            (DAV, "getetag") => match r {
                Resource::Object(_, o, _) => escape(&format!("\"{}\"", o.etag)),
                _ => return None,
            },
            (DAV, "getcontenttype") => match r {
                Resource::Object(c, ..) => match c.kind {
                    DavKind::Calendar => "text/calendar; charset=utf-8".into(),
                    DavKind::AddressBook => "text/vcard; charset=utf-8".into(),
                },
                _ => return None,
            },
            (DAV, "getcontentlength") => match r {
                Resource::Object(_, _, Some(d)) => d.len().to_string(),
                _ => return None,
            },
            (CALDAV, "calendar-data") | (CARDDAV, "address-data") => match r {
                Resource::Object(_, _, Some(d)) => escape(&String::from_utf8_lossy(d)),
                _ => return None,
            },
            (CALDAV, "supported-calendar-component-set") => match r {
                Resource::Collection(c) if c.kind == DavKind::Calendar => {
                    c.components.iter().map(|n| format!("<c:comp name=\"{}\"/>", escape(n))).collect()
                }
                _ => return None,
            },
            (CALDAV, "supported-calendar-data") => match r {
                Resource::Collection(c) if c.kind == DavKind::Calendar => {
                    "<c:calendar-data content-type=\"text/calendar\" version=\"2.0\"/>".into()
                }
                _ => return None,
            },
            (CARDDAV, "supported-address-data") => match r {
                Resource::Collection(c) if c.kind == DavKind::AddressBook => {
                    "<card:address-data-type content-type=\"text/vcard\" version=\"3.0\"/>\
                     <card:address-data-type content-type=\"text/vcard\" version=\"4.0\"/>"
                        .into()
                }
                _ => return None,
            },
            (CALDAV, "max-resource-size") | (CARDDAV, "max-resource-size") => match r {
                Resource::Collection(_) => objects::MAX_SIZE.to_string(),
                _ => return None,
            },
            (ICAL, "calendar-color") => match r {
                Resource::Collection(c) if c.kind == DavKind::Calendar && !c.color.is_empty() => escape(&c.color),
                _ => return None,
            },
            (CALDAV, "calendar-description") | (CARDDAV, "addressbook-description") => match r {
                Resource::Collection(c) if !c.description.is_empty() => escape(&c.description),
                _ => return None,
            },
            _ => match r {
                Resource::Collection(c) => {
                    escape(&c.dead.iter().find(|(n, local, _)| n == ns && local == name).map(|(_, _, v)| v.clone())?)
                }
                _ => return None,
            },
        })
    }

    /// One `response` of a multistatus: `href`, the properties found (200) and not
    /// (404).
    pub(super) fn response(&self, href: &str, r: &Resource<'_>, wanted: &Wanted) -> String {
        let names: Vec<Prop> = match wanted {
            Wanted::All | Wanted::Names => all_props(r),
            Wanted::Props(p) => p.clone(),
        };
        let (mut found, mut missing) = (String::new(), String::new());
        for (ns, name) in &names {
            match self.prop(r, ns, name) {
                Some(_) if matches!(wanted, Wanted::Names) => found.push_str(&element(ns, name, "")),
                Some(v) => found.push_str(&element(ns, name, &v)),
                None => missing.push_str(&element(ns, name, "")),
            }
        }
        let mut out = format!("<d:response><d:href>{}</d:href>", escape(href));
        if !found.is_empty() {
            out.push_str(&format!(
                "<d:propstat><d:prop>{found}</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>"
            ));
        }
        if !missing.is_empty() {
            out.push_str(&format!(
                "<d:propstat><d:prop>{missing}</d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>"
            ));
        }
        out.push_str("</d:response>");
        out
    }
}

/// Whether a property a client sets may be kept as it is given (a dead property):
/// any but those the server computes or keeps itself, and only text.
pub(super) fn dead_property(ns: &str, name: &str) -> bool {
    const LIVE: [(&str, &str); 16] = [
        (DAV, "resourcetype"),
        (DAV, "getetag"),
        (DAV, "getcontenttype"),
        (DAV, "getcontentlength"),
        (DAV, "sync-token"),
        (DAV, "owner"),
        (DAV, "current-user-principal"),
        (DAV, "current-user-privilege-set"),
        (DAV, "supported-report-set"),
        (DAV, "principal-URL"),
        (CS, "getctag"),
        (CALDAV, "supported-calendar-component-set"),
        (CALDAV, "supported-calendar-data"),
        (CALDAV, "max-resource-size"),
        (CARDDAV, "supported-address-data"),
        (CARDDAV, "max-resource-size"),
    ];
    !ns.is_empty() && !LIVE.contains(&(ns, name))
}

pub(super) fn wants_data(wanted: &Wanted) -> bool {
    match wanted {
        Wanted::Props(p) => p.iter().any(|(ns, n)| {
            (ns == CALDAV && (n == "calendar-data" || n == "schedule-tag")) || (ns == CARDDAV && n == "address-data")
        }),
        _ => false,
    }
}
