//! CalDAV (RFC 4791) and CardDAV (RFC 6352) on the HTTPS listener: each person's
//! calendars and address books under `/dav/`, found from the bare host name through
//! `/.well-known/caldav` and `/.well-known/carddav` (RFC 6764) and the principal.
//!
//! The URL space:
//!
//! - `/dav/principals/<address>/`: the person (their homes, their `mailto:`);
//! - `/dav/calendars/<address>/` and `/dav/addressbooks/<address>/`: their homes,
//!   holding their collections (`calendar` and `contacts` from the start);
//! - `…/<collection>/<object>`: an iCalendar object or a vCard.
//!
//! Every request logs in (HTTP Basic, through the login throttle; a connection that
//! gave the same login and password before is not checked again), and a person
//! reaches only their own collections. Writes are conditional (ETags, RFC 7232), and
//! a collection tells what changed since a sync token (RFC 6578).

pub mod filter;
pub mod objects;
pub mod xml;

use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, ETAG, HeaderValue, LOCATION};
use hyper::http::request::Parts;
use hyper::{Method, Response, StatusCode};

use crate::context::ServiceContext;
use crate::store::dav::{Collection, CollectionProps, DavKind, DavObject, ObjectInfo, Precondition, Put};
use crate::throttle::Checked;
use xml::{CALDAV, CARDDAV, CS, DAV, Element, ICAL, element, escape};

type Answer = Response<Full<Bytes>>;

/// The most a request body may hold: an object at its largest, and room for XML.
const MAX_BODY: usize = objects::MAX_SIZE + 64 * 1024;

/// Who a connection logged in as: the login, a hash of the password given, the
/// mailbox. A request with the same credentials is not checked again.
#[derive(Default)]
pub struct Session(Mutex<Option<(String, [u8; 32], i64)>>);

/// One person, as the URLs name them.
#[derive(Debug, Clone)]
struct User {
    login: String,
    mailbox: i64,
}

/// What a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// `/dav/`.
    Root,
    /// A person.
    Principal(String),
    /// A person's calendars or address books.
    Home(DavKind, String),
    /// One collection.
    Collection(DavKind, String, String),
    /// One object in a collection.
    Object(DavKind, String, String, String),
}

/// A path segment's name, percent-decoded. `@` and `%40` name the same thing here:
/// RFC 3986 §2.2 makes them two names, but clients (Python's caldav among them)
/// write a path's `@` either way. `None` for an empty or dot segment, a `/`, or one
/// too long.
fn decode(segment: &str) -> Option<String> {
    let s = percent_encoding::percent_decode_str(segment).decode_utf8().ok()?.into_owned();
    (!s.is_empty() && !s.contains('/') && s != "." && s != ".." && s.len() <= 255).then_some(s)
}

/// A name as it goes into a URL.
fn encode(segment: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'@')
        .remove(b'.')
        .remove(b'-')
        .remove(b'_')
        .remove(b'~')
        .remove(b'+');
    percent_encoding::utf8_percent_encode(segment, SET).to_string()
}

/// Reads a path under `/dav/`.
fn target(path: &str) -> Option<Target> {
    if path == "/" {
        return Some(Target::Root);
    }
    let rest = path.strip_prefix("/dav")?;
    let parts: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let kind = |s: &str| match s {
        "calendars" => Some(DavKind::Calendar),
        "addressbooks" => Some(DavKind::AddressBook),
        _ => None,
    };
    Some(match parts.as_slice() {
        [] | ["principals"] => Target::Root,
        ["principals", user] => Target::Principal(decode(user)?),
        [home, user] => Target::Home(kind(home)?, decode(user)?),
        [home, user, coll] => Target::Collection(kind(home)?, decode(user)?, decode(coll)?),
        [home, user, coll, object] => Target::Object(kind(home)?, decode(user)?, decode(coll)?, decode(object)?),
        _ => return None,
    })
}

fn home_segment(kind: DavKind) -> &'static str {
    match kind {
        DavKind::Calendar => "calendars",
        DavKind::AddressBook => "addressbooks",
    }
}

fn principal_href(login: &str) -> String {
    format!("/dav/principals/{}/", encode(login))
}

fn home_href(kind: DavKind, login: &str) -> String {
    format!("/dav/{}/{}/", home_segment(kind), encode(login))
}

fn collection_href(c: &Collection, login: &str) -> String {
    format!("{}{}/", home_href(c.kind, login), encode(&c.name))
}

fn sync_token(c: &Collection) -> String {
    format!("http://mailroom.invalid/sync/{}-{}", c.id, c.sync)
}

/// The number of a sync token given for collection `c`; `None` for one that is not
/// this collection's.
fn token_number(c: &Collection, token: &str) -> Option<u64> {
    let (id, n) = token.strip_prefix("http://mailroom.invalid/sync/")?.split_once('-')?;
    (id.parse::<i64>().ok()? == c.id).then(|| n.parse().ok()).flatten()
}

fn respond(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Answer {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn text(status: StatusCode, words: &str) -> Answer {
    respond(status, "text/plain; charset=utf-8", format!("{words}\n"))
}

fn multistatus(body: String) -> Answer {
    respond(StatusCode::MULTI_STATUS, "application/xml; charset=utf-8", body)
}

fn precondition(status: StatusCode, ns: &str, name: &str, inner: &str) -> Answer {
    respond(status, "application/xml; charset=utf-8", xml::error(ns, name, inner))
}

/// Where `/.well-known/caldav` and `/.well-known/carddav` send clients (RFC 6764).
pub(crate) fn well_known() -> Answer {
    let mut r = text(StatusCode::MOVED_PERMANENTLY, "Calendars and contacts are at /dav/.");
    r.headers_mut().insert(LOCATION, HeaderValue::from_static("/dav/"));
    r
}

/// What the server offers, for `OPTIONS`.
fn options() -> Answer {
    let mut r = text(StatusCode::OK, "");
    let h = r.headers_mut();
    h.insert("DAV", HeaderValue::from_static("1, 3, calendar-access, addressbook, extended-mkcol"));
    h.insert(
        hyper::header::ALLOW,
        HeaderValue::from_static("OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, REPORT, MKCOL, MKCALENDAR"),
    );
    r
}

/// Answers a request under `/dav/`.
pub(crate) async fn answer(
    parts: Parts,
    body: Incoming,
    peer: std::net::SocketAddr,
    ctx: &ServiceContext,
    session: &Session,
) -> Answer {
    if parts.method == Method::OPTIONS {
        return options();
    }
    let user = match login(&parts, peer, ctx, session).await {
        Ok(u) => u,
        Err(answer) => return *answer,
    };
    // Too large a body is refused before it is read (HTTP/1.1 clients that wait for
    // `100 Continue` never send it).
    let declared =
        parts.headers.get(hyper::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        return precondition(StatusCode::PAYLOAD_TOO_LARGE, CALDAV, "max-resource-size", "");
    }
    let Ok(body) = Limited::new(body, MAX_BODY).collect().await.map(|b| b.to_bytes()) else {
        return precondition(StatusCode::PAYLOAD_TOO_LARGE, CALDAV, "max-resource-size", "");
    };
    let Some(target) = target(parts.uri.path()) else { return text(StatusCode::NOT_FOUND, "Nothing here.") };
    // A person reaches their own calendars and address books.
    let owner = match &target {
        Target::Root => None,
        Target::Principal(u) | Target::Home(_, u) | Target::Collection(_, u, _) | Target::Object(_, u, _, _) => Some(u),
    };
    let directory = matches!(target, Target::Principal(_)) && matches!(parts.method.as_str(), "PROPFIND" | "REPORT");
    if !directory && owner.is_some_and(|u| !u.eq_ignore_ascii_case(&user.login)) {
        return text(StatusCode::FORBIDDEN, "These are someone else's.");
    }
    let dav = Dav { ctx, user: &user };
    let result = match parts.method.as_str() {
        "PROPFIND" => dav.propfind(&parts, &target, &body).await,
        "PROPPATCH" => dav.proppatch(&target, &body).await,
        "REPORT" => dav.report(&target, &body).await,
        "MKCALENDAR" | "MKCOL" => dav.make(&parts.method, &target, &body).await,
        "GET" | "HEAD" => dav.get(&target).await,
        "PUT" => dav.put(&parts, &target, body).await,
        "DELETE" => dav.delete(&parts, &target).await,
        _ => Ok(text(StatusCode::METHOD_NOT_ALLOWED, "Not a method calendars and contacts take.")),
    };
    result.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "calendar or contacts request failed");
        text(StatusCode::SERVICE_UNAVAILABLE, "Temporary failure; try again later.")
    })
}

/// The person logging in, or the answer that asks them to (or turns them away).
async fn login(
    parts: &Parts,
    peer: std::net::SocketAddr,
    ctx: &ServiceContext,
    session: &Session,
) -> Result<User, Box<Answer>> {
    let ask = || {
        let mut r = text(StatusCode::UNAUTHORIZED, "Log in with your e-mail address and password.");
        r.headers_mut().insert(
            hyper::header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Mailroom\", charset=\"UTF-8\""),
        );
        Box::new(r)
    };
    let Some((login, password)) = super::basic_credentials(parts) else { return Err(ask()) };
    let hash: [u8; 32] =
        ring::digest::digest(&ring::digest::SHA256, password.as_bytes()).as_ref().try_into().unwrap_or([0; 32]);
    if let Some((l, h, mailbox)) = session.0.lock().unwrap_or_else(|p| p.into_inner()).as_ref()
        && *l == login
        && *h == hash
    {
        return Ok(User { login: login.to_ascii_lowercase(), mailbox: *mailbox });
    }
    match ctx.throttle.check_login(&ctx.store, peer.ip(), &login, password).await {
        Checked::Mailbox(mailbox) => {
            *session.0.lock().unwrap_or_else(|p| p.into_inner()) = Some((login.clone(), hash, mailbox));
            Ok(User { login: login.to_ascii_lowercase(), mailbox })
        }
        Checked::Refused { .. } => {
            tracing::info!(%peer, login = %login, "calendar login failed");
            Err(ask())
        }
        Checked::LockedOut => {
            Err(Box::new(text(StatusCode::TOO_MANY_REQUESTS, "Too many failed logins; try again later.")))
        }
        Checked::Unavailable => {
            Err(Box::new(text(StatusCode::SERVICE_UNAVAILABLE, "Temporary failure; try again later.")))
        }
    }
}

/// The Global Address List's name in every person's address books, and the id it
/// goes by (no stored collection has it).
const GAL: &str = "gal";
const GAL_ID: i64 = -1;

/// The Global Address List as a collection: its change number a hash of its cards,
/// which changes when any of them does.
fn gal_collection(cards: &[DavObject]) -> Collection {
    let mut all = Vec::new();
    for c in cards {
        all.extend_from_slice(c.name.as_bytes());
        all.extend_from_slice(c.etag.as_bytes());
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, &all);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_ref()[..8]);
    Collection {
        id: GAL_ID,
        mailbox: 0,
        kind: DavKind::AddressBook,
        name: GAL.into(),
        display_name: "Global Address List".into(),
        color: String::new(),
        description: "Everyone in the organisation: people, shared mailboxes, lists and custom recipients".into(),
        components: Vec::new(),
        dead: Vec::new(),
        // Never 0 ("from the start").
        sync: (u64::from_be_bytes(first) >> 2).max(1),
        objects: cards.len() as u64,
        bytes: cards.iter().map(|c| c.data.len() as u64).sum(),
    }
}

/// A recipient's card in the Global Address List (vCard 3.0, RFC 2426; a list is a
/// group, as Apple's clients mark one).
fn gal_card(address: &str, name: &str, group: bool) -> String {
    let text = |v: &str| v.replace('\\', "\\\\").replace(',', "\\,").replace(';', "\\;").replace(['\r', '\n'], " ");
    let shown = if name.trim().is_empty() { address } else { name.trim() };
    let kind = if group { "X-ADDRESSBOOKSERVER-KIND:group\r\n" } else { "" };
    format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:gal-{uid}\r\nFN:{fn_}\r\nN:{fn_};;;;\r\nEMAIL;TYPE=INTERNET:{address}\r\n{kind}END:VCARD\r\n",
        uid = text(address),
        fn_ = text(shown),
    )
}

/// The answer to a change of the Global Address List, which nobody changes here.
fn read_only() -> Answer {
    precondition(StatusCode::FORBIDDEN, DAV, "need-privileges", "")
}

/// A property asked for: namespace and name.
type Prop = (String, String);

/// What a PROPFIND or REPORT asks for.
enum Wanted {
    /// `allprop` (or no body).
    All,
    /// `propname`.
    Names,
    /// These.
    Props(Vec<Prop>),
}

fn wanted(parent: Option<&Element>) -> Wanted {
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
enum Resource<'a> {
    Root,
    /// A person: their address and the name shown.
    Principal(&'a str, &'a str),
    Home,
    Collection(&'a Collection),
    Object(&'a Collection, &'a ObjectInfo, Option<&'a [u8]>),
}

struct Dav<'a> {
    ctx: &'a ServiceContext,
    user: &'a User,
}

/// The properties `allprop` gives, per resource.
fn all_props(r: &Resource<'_>) -> Vec<Prop> {
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
        Resource::Principal(..) => out.extend([p(CALDAV, "calendar-home-set"), p(CARDDAV, "addressbook-home-set")]),
        Resource::Root | Resource::Home => {}
    }
    out
}

impl Dav<'_> {
    /// The value of property `(ns, name)` of `r`, as XML; `None` when `r` has none.
    fn prop(&self, r: &Resource<'_>, ns: &str, name: &str) -> Option<String> {
        let login = &self.user.login;
        let href = |h: String| element(DAV, "href", &escape(&h));
        let privileges = || {
            ["read", "write", "write-properties", "write-content", "bind", "unbind", "read-current-user-privilege-set"]
                .iter()
                .map(|p| element(DAV, "privilege", &element(DAV, p, "")))
                .collect::<String>()
        };
        // Whose principal it is, if one.
        let person = match r {
            Resource::Principal(address, _) => Some(*address),
            _ => None,
        };
        Some(match (ns, name) {
            (DAV, "current-user-principal") => href(principal_href(login)),
            (DAV, "principal-URL") => href(principal_href(person?)),
            (DAV, "owner") => href(principal_href(login)),
            (DAV, "current-user-privilege-set") => match r {
                Resource::Collection(c) | Resource::Object(c, ..) if c.id == GAL_ID => {
                    ["read", "read-current-user-privilege-set"]
                        .iter()
                        .map(|p| element(DAV, "privilege", &element(DAV, p, "")))
                        .collect::<String>()
                }
                _ => privileges(),
            },
            (DAV, "resourcetype") => match r {
                Resource::Root | Resource::Home => element(DAV, "collection", ""),
                Resource::Principal(..) => element(DAV, "principal", ""),
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
            (DAV, "principal-collection-set") => href("/dav/principals/".into()),
            (DAV, "supported-report-set") => {
                let report =
                    |ns: &str, n: &str| element(DAV, "supported-report", &element(DAV, "report", &element(ns, n, "")));
                match r {
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
    fn response(&self, href: &str, r: &Resource<'_>, wanted: &Wanted) -> String {
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

    /// The people of the organisation (mailboxes, shared ones included, as rooms and
    /// teams are), as address and name; those whose address or name holds `matching`.
    async fn people(&self, matching: Option<&str>) -> crate::store::StoreResult<Vec<(String, String)>> {
        let wanted = matching.map(str::to_lowercase);
        Ok(self
            .ctx
            .store
            .list_mailboxes()
            .await?
            .into_iter()
            .filter_map(|m| {
                let address = m.addresses.first()?.clone();
                let name = if m.display_name.is_empty() { address.clone() } else { m.display_name.clone() };
                Some((address, name))
            })
            .filter(|(a, n)| {
                wanted.as_ref().is_none_or(|w| a.to_lowercase().contains(w) || n.to_lowercase().contains(w))
            })
            .collect())
    }

    /// DAV:principal-property-search (RFC 3744 §9.4): the people whose properties
    /// searched for hold the text (all of them, without a search).
    async fn principal_search(&self, request: &Element) -> crate::store::StoreResult<Answer> {
        let text: Option<String> = request
            .children
            .iter()
            .filter(|e| e.is(DAV, "property-search"))
            .filter_map(|e| e.child(DAV, "match"))
            .map(|m| m.text.trim().to_owned())
            .next();
        // The properties asked for: those under DAV:prop, and any given beside it
        // (as some clients write them), with the two a search needs to be useful.
        let mut props: Vec<Prop> = request
            .children
            .iter()
            .filter(|e| !e.is(DAV, "property-search") && !e.is(DAV, "apply-to-principal-collection-set"))
            .flat_map(|e| if e.is(DAV, "prop") { e.children.iter().collect::<Vec<_>>() } else { vec![e] })
            .map(|e| (e.ns.clone(), e.name.clone()))
            .collect();
        for needed in [(DAV, "displayname"), (CALDAV, "calendar-home-set")] {
            if !props.iter().any(|(ns, n)| ns == needed.0 && n == needed.1) {
                props.push((needed.0.to_owned(), needed.1.to_owned()));
            }
        }
        let wanted = Wanted::Props(props);
        let mut out = xml::root_open("multistatus");
        for (address, name) in self.people(text.as_deref()).await? {
            out.push_str(&self.response(&principal_href(&address), &Resource::Principal(&address, &name), &wanted));
        }
        out.push_str("</d:multistatus>\n");
        Ok(multistatus(out))
    }

    async fn collection(&self, kind: DavKind, name: &str) -> crate::store::StoreResult<Option<Collection>> {
        if kind == DavKind::AddressBook && name == GAL {
            return Ok(Some(gal_collection(&self.gal_cards().await?)));
        }
        self.ctx.store.dav_collection(self.user.mailbox, kind, name).await
    }

    /// A person's collections of `kind`: theirs, and the Global Address List.
    async fn collections(&self, kind: DavKind) -> crate::store::StoreResult<Vec<Collection>> {
        let mut all = self.ctx.store.dav_collections(self.user.mailbox, kind).await?;
        if kind == DavKind::AddressBook {
            all.push(gal_collection(&self.gal_cards().await?));
        }
        Ok(all)
    }

    /// The objects of `c`, without their bytes.
    async fn objects(&self, c: &Collection) -> crate::store::StoreResult<Vec<ObjectInfo>> {
        if c.id == GAL_ID {
            let cards = self.gal_cards().await?;
            return Ok(cards.into_iter().map(|o| ObjectInfo { name: o.name, etag: o.etag, sync: c.sync }).collect());
        }
        self.ctx.store.dav_objects(c.id).await
    }

    /// The objects of `c` named `names`, with their bytes.
    async fn get_objects(&self, c: &Collection, names: Vec<String>) -> crate::store::StoreResult<Vec<DavObject>> {
        if c.id == GAL_ID {
            return Ok(self.gal_cards().await?.into_iter().filter(|o| names.contains(&o.name)).collect());
        }
        self.ctx.store.dav_get(c.id, names).await
    }

    /// What changed in `c` since `since`. The Global Address List, made afresh each
    /// time, knows only its present: asked since another state, it sends the client
    /// to sync from the start (`Invalid`, answered as `valid-sync-token`).
    async fn changes(&self, c: &Collection, since: u64) -> crate::store::StoreResult<crate::store::dav::Changes> {
        if c.id == GAL_ID {
            let changed = if since == 0 {
                self.objects(c).await?
            } else if since == c.sync {
                Vec::new()
            } else {
                return Err(crate::store::StoreError::Invalid {
                    field: "sync-token".into(),
                    message: "the address list has changed since".into(),
                });
            };
            return Ok(crate::store::dav::Changes { token: c.sync, changed, removed: Vec::new() });
        }
        self.ctx.store.dav_changes(c.id, since).await
    }

    /// The Global Address List's cards: every mailbox (shared ones too), distribution
    /// list and custom recipient of the organisation, with their names, as vCards.
    async fn gal_cards(&self) -> crate::store::StoreResult<Vec<DavObject>> {
        let mut entries: Vec<(String, String, bool)> = Vec::new();
        for m in self.ctx.store.list_mailboxes().await? {
            if let Some(address) = m.addresses.first() {
                entries.push((address.clone(), m.display_name, false));
            }
        }
        for l in self.ctx.store.lists().await? {
            entries.push((l.address, l.display_name, true));
        }
        for c in self.ctx.store.contacts().await? {
            entries.push((c.address, c.display_name, false));
        }
        entries.sort();
        Ok(entries
            .into_iter()
            .map(|(address, name, group)| {
                let data = gal_card(&address, &name, group).into_bytes();
                DavObject { name: format!("{address}.vcf"), etag: crate::store::dav::etag_of(&data), data }
            })
            .collect())
    }

    async fn propfind(&self, parts: &Parts, target: &Target, body: &[u8]) -> crate::store::StoreResult<Answer> {
        let request = if body.iter().all(u8::is_ascii_whitespace) { None } else { xml::parse(body) };
        if request.is_none() && !body.iter().all(u8::is_ascii_whitespace) {
            return Ok(text(StatusCode::BAD_REQUEST, "The body is not well-formed XML."));
        }
        let wanted = wanted(request.as_ref());
        let depth = parts.headers.get("Depth").and_then(|v| v.to_str().ok()).unwrap_or("0").to_owned();
        let deep = depth != "0";
        let login = self.user.login.clone();
        let mut out = xml::root_open("multistatus");
        match target {
            Target::Root => {
                out.push_str(&self.response("/dav/", &Resource::Root, &wanted));
                if deep {
                    out.push_str(&self.response(
                        &principal_href(&login),
                        &Resource::Principal(&login, &login),
                        &wanted,
                    ));
                }
            }
            Target::Principal(who) if !who.eq_ignore_ascii_case(&login) => {
                // Another person of the organisation: their directory entry only.
                let Some((address, name)) =
                    self.people(None).await?.into_iter().find(|(a, _)| a.eq_ignore_ascii_case(who))
                else {
                    return Ok(text(StatusCode::NOT_FOUND, "No such person."));
                };
                out.push_str(&self.response(&principal_href(&address), &Resource::Principal(&address, &name), &wanted));
            }
            Target::Principal(_) => {
                out.push_str(&self.response(&principal_href(&login), &Resource::Principal(&login, &login), &wanted));
            }
            Target::Home(kind, _) => {
                out.push_str(&self.response(&home_href(*kind, &login), &Resource::Home, &wanted));
                if deep {
                    for c in self.collections(*kind).await? {
                        out.push_str(&self.response(&collection_href(&c, &login), &Resource::Collection(&c), &wanted));
                    }
                }
            }
            Target::Collection(kind, _, name) => {
                let Some(c) = self.collection(*kind, name).await? else {
                    return Ok(text(StatusCode::NOT_FOUND, "No such collection."));
                };
                let href = collection_href(&c, &login);
                out.push_str(&self.response(&href, &Resource::Collection(&c), &wanted));
                if deep {
                    let data = wants_data(&wanted);
                    let infos = self.objects(&c).await?;
                    let bytes = if data { self.all_data(&c, &infos).await? } else { Vec::new() };
                    for o in &infos {
                        let d = bytes.iter().find(|b| b.name == o.name).map(|b| b.data.as_slice());
                        let r = Resource::Object(&c, o, d);
                        out.push_str(&self.response(&format!("{href}{}", encode(&o.name)), &r, &wanted));
                    }
                }
            }
            Target::Object(kind, _, coll, name) => {
                let Some(c) = self.collection(*kind, coll).await? else {
                    return Ok(text(StatusCode::NOT_FOUND, "No such collection."));
                };
                let got = self.get_objects(&c, vec![name.clone()]).await?;
                let Some(o) = got.first() else { return Ok(text(StatusCode::NOT_FOUND, "No such object.")) };
                let info = ObjectInfo { name: o.name.clone(), etag: o.etag.clone(), sync: 0 };
                let href = format!("{}{}", collection_href(&c, &login), encode(&o.name));
                out.push_str(&self.response(&href, &Resource::Object(&c, &info, Some(&o.data)), &wanted));
            }
        }
        out.push_str("</d:multistatus>\n");
        Ok(multistatus(out))
    }

    async fn all_data(&self, c: &Collection, infos: &[ObjectInfo]) -> crate::store::StoreResult<Vec<DavObject>> {
        self.get_objects(c, infos.iter().map(|o| o.name.clone()).collect()).await
    }

    async fn proppatch(&self, target: &Target, body: &[u8]) -> crate::store::StoreResult<Answer> {
        let Target::Collection(kind, _, name) = target else {
            return Ok(text(StatusCode::FORBIDDEN, "Only a collection's properties can be changed."));
        };
        let Some(c) = self.collection(*kind, name).await? else {
            return Ok(text(StatusCode::NOT_FOUND, "No such collection."));
        };
        if c.id == GAL_ID {
            return Ok(read_only());
        }
        let Some(request) = xml::parse(body).filter(|r| r.is(DAV, "propertyupdate")) else {
            return Ok(text(StatusCode::BAD_REQUEST, "The body is not a DAV:propertyupdate."));
        };
        let mut props = CollectionProps::default();
        let (mut done, mut refused) = (String::new(), String::new());
        for action in &request.children {
            let remove = action.is(DAV, "remove");
            for p in action.child(DAV, "prop").map(|p| p.children.as_slice()).unwrap_or_default() {
                let value = if remove { String::new() } else { p.text.trim().to_owned() };
                let slot = match (p.ns.as_str(), p.name.as_str()) {
                    (DAV, "displayname") => &mut props.display_name,
                    (ICAL, "calendar-color") => &mut props.color,
                    (CALDAV, "calendar-description") | (CARDDAV, "addressbook-description") => &mut props.description,
                    (ns, name) if dead_property(ns, name) && p.children.is_empty() => {
                        props.dead.push((p.ns.clone(), p.name.clone(), value));
                        done.push_str(&element(&p.ns, &p.name, ""));
                        continue;
                    }
                    _ => {
                        refused.push_str(&element(&p.ns, &p.name, ""));
                        continue;
                    }
                };
                *slot = Some(value);
                done.push_str(&element(&p.ns, &p.name, ""));
            }
        }
        let href = collection_href(&c, &self.user.login);
        let mut out = xml::root_open("multistatus");
        out.push_str(&format!("<d:response><d:href>{}</d:href>", escape(&href)));
        if refused.is_empty() {
            self.ctx.store.dav_update_collection(c.id, props).await?;
            if !done.is_empty() {
                out.push_str(&format!(
                    "<d:propstat><d:prop>{done}</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>"
                ));
            }
        } else {
            // All or nothing (RFC 4918 §9.2): the others failed with them.
            out.push_str(&format!(
                "<d:propstat><d:prop>{refused}</d:prop><d:status>HTTP/1.1 403 Forbidden</d:status></d:propstat>"
            ));
            if !done.is_empty() {
                out.push_str(&format!(
                    "<d:propstat><d:prop>{done}</d:prop><d:status>HTTP/1.1 424 Failed Dependency</d:status></d:propstat>"
                ));
            }
        }
        out.push_str("</d:response></d:multistatus>\n");
        Ok(multistatus(out))
    }

    async fn make(&self, method: &Method, target: &Target, body: &[u8]) -> crate::store::StoreResult<Answer> {
        let Target::Collection(kind, _, name) = target else {
            return Ok(text(StatusCode::FORBIDDEN, "Collections are made in a person's calendars or address books."));
        };
        if method.as_str() == "MKCALENDAR" && *kind != DavKind::Calendar {
            return Ok(text(StatusCode::FORBIDDEN, "Calendars are made under /dav/calendars/."));
        }
        let request = if body.iter().all(u8::is_ascii_whitespace) { None } else { xml::parse(body) };
        if request.is_none() && !body.iter().all(u8::is_ascii_whitespace) {
            return Ok(text(StatusCode::BAD_REQUEST, "The body is not well-formed XML."));
        }
        let mut props = CollectionProps::default();
        let set = request.as_ref().and_then(|r| r.child(DAV, "set")).and_then(|s| s.child(DAV, "prop"));
        for p in set.map(|p| p.children.as_slice()).unwrap_or_default() {
            let value = Some(p.text.trim().to_owned());
            match (p.ns.as_str(), p.name.as_str()) {
                (DAV, "displayname") => props.display_name = value,
                (ICAL, "calendar-color") => props.color = value,
                (CALDAV, "calendar-description") | (CARDDAV, "addressbook-description") => props.description = value,
                (CALDAV, "supported-calendar-component-set") => {
                    let names: Vec<String> = p
                        .children
                        .iter()
                        .filter(|c| c.is(CALDAV, "comp"))
                        .filter_map(|c| c.attribute("name"))
                        .map(str::to_ascii_uppercase)
                        .collect();
                    if names.is_empty() || names.iter().any(|n| !["VEVENT", "VTODO", "VJOURNAL"].contains(&n.as_str()))
                    {
                        return Ok(precondition(StatusCode::FORBIDDEN, CALDAV, "supported-calendar-component", ""));
                    }
                    props.components = Some(names);
                }
                (ns, name) if dead_property(ns, name) && p.children.is_empty() => {
                    props.dead.push((p.ns.clone(), p.name.clone(), p.text.trim().to_owned()));
                }
                (DAV, "resourcetype") => {
                    let wants_calendar = p.child(CALDAV, "calendar").is_some();
                    let wants_book = p.child(CARDDAV, "addressbook").is_some();
                    if (wants_calendar && *kind != DavKind::Calendar) || (wants_book && *kind != DavKind::AddressBook) {
                        return Ok(precondition(StatusCode::FORBIDDEN, DAV, "valid-resourcetype", ""));
                    }
                }
                _ => {}
            }
        }
        if self.collection(*kind, name).await?.is_some() {
            return Ok(precondition(StatusCode::METHOD_NOT_ALLOWED, DAV, "resource-must-be-null", ""));
        }
        match self.ctx.store.dav_create_collection(self.user.mailbox, *kind, name, props).await {
            Ok(_) => Ok(text(StatusCode::CREATED, "Created.")),
            Err(crate::store::StoreError::Conflict(_)) => {
                Ok(precondition(StatusCode::METHOD_NOT_ALLOWED, DAV, "resource-must-be-null", ""))
            }
            Err(e) => Err(e),
        }
    }

    async fn get(&self, target: &Target) -> crate::store::StoreResult<Answer> {
        let Target::Object(kind, _, coll, name) = target else {
            return Ok(text(StatusCode::OK, "A collection: use PROPFIND or REPORT to list it."));
        };
        let Some(c) = self.collection(*kind, coll).await? else {
            return Ok(text(StatusCode::NOT_FOUND, "No such collection."));
        };
        let Some(o) = self.get_objects(&c, vec![name.clone()]).await?.into_iter().next() else {
            return Ok(text(StatusCode::NOT_FOUND, "No such object."));
        };
        let content_type = match kind {
            DavKind::Calendar => "text/calendar; charset=utf-8",
            DavKind::AddressBook => "text/vcard; charset=utf-8",
        };
        let mut r = respond(StatusCode::OK, content_type, o.data);
        if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", o.etag)) {
            r.headers_mut().insert(ETAG, v);
        }
        Ok(r)
    }

    async fn put(&self, parts: &Parts, target: &Target, body: Bytes) -> crate::store::StoreResult<Answer> {
        let Target::Object(kind, _, coll, name) = target else {
            return Ok(text(StatusCode::METHOD_NOT_ALLOWED, "Objects are put in a calendar or address book."));
        };
        let Some(c) = self.collection(*kind, coll).await? else {
            return Ok(text(StatusCode::CONFLICT, "No such collection: make it first."));
        };
        if c.id == GAL_ID {
            return Ok(read_only());
        }
        let (ns, read) = match kind {
            DavKind::Calendar => (CALDAV, objects::calendar_object(name, &body)),
            DavKind::AddressBook => (CARDDAV, objects::card(name, &body)),
        };
        let object = match read {
            Ok(o) => o,
            Err(refused) => {
                tracing::info!(login = %self.user.login, object = %name, reason = %refused.reason, "object refused");
                return Ok(precondition(StatusCode::FORBIDDEN, ns, refused.precondition, ""));
            }
        };
        if *kind == DavKind::Calendar && !c.components.contains(&object.component) {
            return Ok(precondition(StatusCode::FORBIDDEN, CALDAV, "supported-calendar-component", ""));
        }
        let when = conditions(parts);
        match self.ctx.store.dav_put(c.id, object, when).await? {
            Put::Stored { etag, created } => {
                let status = if created { StatusCode::CREATED } else { StatusCode::NO_CONTENT };
                let mut r = respond(status, "text/plain; charset=utf-8", "");
                if let Ok(v) = HeaderValue::from_str(&format!("\"{etag}\"")) {
                    r.headers_mut().insert(ETAG, v);
                }
                Ok(r)
            }
            Put::PreconditionFailed => Ok(text(StatusCode::PRECONDITION_FAILED, "The object has changed meanwhile.")),
            Put::UidConflict { name: other } => {
                let href = element(
                    DAV,
                    "href",
                    &escape(&format!("{}{}", collection_href(&c, &self.user.login), encode(&other))),
                );
                Ok(precondition(StatusCode::FORBIDDEN, ns, "no-uid-conflict", &href))
            }
        }
    }

    async fn delete(&self, parts: &Parts, target: &Target) -> crate::store::StoreResult<Answer> {
        match target {
            Target::Collection(kind, _, name) => {
                let Some(c) = self.collection(*kind, name).await? else {
                    return Ok(text(StatusCode::NOT_FOUND, "No such collection."));
                };
                if c.id == GAL_ID {
                    return Ok(read_only());
                }
                self.ctx.store.dav_delete_collection(c.id).await?;
                Ok(text(StatusCode::NO_CONTENT, ""))
            }
            Target::Object(kind, _, coll, name) => {
                let Some(c) = self.collection(*kind, coll).await? else {
                    return Ok(text(StatusCode::NOT_FOUND, "No such collection."));
                };
                if c.id == GAL_ID {
                    return Ok(read_only());
                }
                match self.ctx.store.dav_delete(c.id, name, conditions(parts)).await {
                    Ok(true) => Ok(text(StatusCode::NO_CONTENT, "")),
                    Ok(false) => Ok(text(StatusCode::PRECONDITION_FAILED, "The object has changed meanwhile.")),
                    Err(crate::store::StoreError::NotFound(_)) => Ok(text(StatusCode::NOT_FOUND, "No such object.")),
                    Err(e) => Err(e),
                }
            }
            _ => Ok(text(StatusCode::FORBIDDEN, "This cannot be deleted.")),
        }
    }

    async fn report(&self, target: &Target, body: &[u8]) -> crate::store::StoreResult<Answer> {
        let Some(request) = xml::parse(body) else {
            return Ok(text(StatusCode::BAD_REQUEST, "The body is not well-formed XML."));
        };
        if request.is(DAV, "principal-property-search") {
            return self.principal_search(&request).await;
        }
        let (kind, coll) = match target {
            Target::Collection(kind, _, coll) => (*kind, coll),
            _ => return Ok(precondition(StatusCode::FORBIDDEN, DAV, "supported-report", "")),
        };
        let Some(c) = self.collection(kind, coll).await? else {
            return Ok(text(StatusCode::NOT_FOUND, "No such collection."));
        };
        let wanted = wanted(Some(&request));
        let href = collection_href(&c, &self.user.login);
        let mut out = xml::root_open("multistatus");
        // calendar-data with expand (RFC 4791 §9.6.5): the occurrences in its range.
        let expand = request
            .child(DAV, "prop")
            .and_then(|p| p.child(CALDAV, "calendar-data"))
            .and_then(|d| d.child(CALDAV, "expand"))
            .map(|e| (e.attribute("start").and_then(filter::utc_time), e.attribute("end").and_then(filter::utc_time)));
        let expand = match expand {
            Some((Some(start), Some(end))) if start < end => Some((start, end)),
            Some(_) => return Ok(text(StatusCode::BAD_REQUEST, "CALDAV:expand needs a start before its end, in UTC.")),
            None => None,
        };
        let push = |o: &DavObject, out: &mut String| {
            let info = ObjectInfo { name: o.name.clone(), etag: o.etag.clone(), sync: 0 };
            let expanded = expand.and_then(|(start, end)| objects::expand(&o.data, start, end));
            let data = expanded.as_deref().unwrap_or(&o.data);
            out.push_str(&self.response(
                &format!("{href}{}", encode(&o.name)),
                &Resource::Object(&c, &info, Some(data)),
                &wanted,
            ));
        };
        match (request.ns.as_str(), request.name.as_str()) {
            (CALDAV, "calendar-multiget") | (CARDDAV, "addressbook-multiget") => {
                let hrefs: Vec<String> =
                    request.children.iter().filter(|e| e.is(DAV, "href")).map(|e| e.text.trim().to_owned()).collect();
                let names: Vec<String> = hrefs.iter().filter_map(|h| h.strip_prefix(&href).and_then(decode)).collect();
                let found = self.get_objects(&c, names).await?;
                for h in &hrefs {
                    match found
                        .iter()
                        .find(|o| h.strip_prefix(&href).and_then(decode).as_deref() == Some(o.name.as_str()))
                    {
                        Some(o) => push(o, &mut out),
                        None => out.push_str(&format!(
                            "<d:response><d:href>{}</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>",
                            escape(h)
                        )),
                    }
                }
            }
            (CALDAV, "calendar-query") if kind == DavKind::Calendar => {
                let Some(filter) = request.child(CALDAV, "filter") else {
                    return Ok(precondition(StatusCode::FORBIDDEN, CALDAV, "valid-filter", ""));
                };
                let Some(filter) = filter.child(CALDAV, "comp-filter").and_then(filter::CompFilter::read) else {
                    return Ok(precondition(StatusCode::FORBIDDEN, CALDAV, "valid-filter", ""));
                };
                // The store narrows by the time range; the filter decides.
                let (_, (start, end)) = filter.narrowing();
                for o in self.ctx.store.dav_in_range(c.id, start, end).await? {
                    if filter.matches(&o.data) {
                        push(&o, &mut out);
                    }
                }
            }
            (CALDAV, "free-busy-query") if kind == DavKind::Calendar => {
                let range = request.child(CALDAV, "time-range");
                let at = |n: &str| range.and_then(|r| r.attribute(n)).and_then(filter::utc_time);
                let (Some(start), Some(end)) = (at("start"), at("end")) else {
                    return Ok(text(
                        StatusCode::BAD_REQUEST,
                        "A free-busy query needs a time range with a start and an end.",
                    ));
                };
                let mut periods = Vec::new();
                for o in self.ctx.store.dav_in_range(c.id, Some(start), Some(end)).await? {
                    periods.extend(objects::busy(&o.data, start, end));
                }
                periods.sort_unstable();
                let stamp = |t: i64| {
                    chrono::DateTime::from_timestamp(t, 0)
                        .map(|d| d.format("%Y%m%dT%H%M%SZ").to_string())
                        .unwrap_or_default()
                };
                let mut ics = format!(
                    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Mailroom//CalDAV//EN\r\nBEGIN:VFREEBUSY\r\n\
                     DTSTAMP:{}\r\nDTSTART:{}\r\nDTEND:{}\r\n",
                    stamp(crate::store::now_secs()),
                    stamp(start),
                    stamp(end)
                );
                for (s, e, kind) in periods {
                    ics.push_str(&format!("FREEBUSY;FBTYPE={kind}:{}/{}\r\n", stamp(s), stamp(e)));
                }
                ics.push_str("END:VFREEBUSY\r\nEND:VCALENDAR\r\n");
                return Ok(respond(StatusCode::OK, "text/calendar; charset=utf-8", ics));
            }
            (CARDDAV, "addressbook-query") if kind == DavKind::AddressBook => {
                let filter = request.child(CARDDAV, "filter");
                let infos = self.objects(&c).await?;
                for o in self.all_data(&c, &infos).await? {
                    if filter.is_none_or(|f| card_matches(f, &o.data)) {
                        push(&o, &mut out);
                    }
                }
            }
            (DAV, "sync-collection") => {
                let given = request.child(DAV, "sync-token").map(|t| t.text.trim().to_owned()).unwrap_or_default();
                let since = if given.is_empty() { Some(0) } else { token_number(&c, &given) };
                let Some(since) = since else {
                    return Ok(precondition(StatusCode::FORBIDDEN, DAV, "valid-sync-token", ""));
                };
                let changes = match self.changes(&c, since).await {
                    Ok(ch) => ch,
                    Err(crate::store::StoreError::Invalid { .. }) => {
                        return Ok(precondition(StatusCode::FORBIDDEN, DAV, "valid-sync-token", ""));
                    }
                    Err(e) => return Err(e),
                };
                // A limit (RFC 6578 §3.7) cuts the changes, oldest first, at a
                // checkpoint: the collection answers 507 and the token given is the
                // last change sent, from which the client asks again.
                let limit = request
                    .child(DAV, "limit")
                    .and_then(|l| l.child(DAV, "nresults"))
                    .map(|n| n.text.trim().parse::<usize>().ok());
                let limit = match limit {
                    Some(None) => return Ok(text(StatusCode::BAD_REQUEST, "DAV:nresults is not a number.")),
                    Some(Some(n)) => Some(n),
                    None => None,
                };
                let mut all: Vec<(u64, Option<&ObjectInfo>, &str)> = changes
                    .changed
                    .iter()
                    .map(|o| (o.sync, Some(o), o.name.as_str()))
                    .chain(changes.removed.iter().map(|(name, sync)| (*sync, None, name.as_str())))
                    .collect();
                all.sort_by_key(|(sync, _, _)| *sync);
                let mut token = changes.token;
                let truncated = limit.is_some_and(|n| all.len() > n);
                if let Some(n) = limit.filter(|_| truncated) {
                    all.truncate(n);
                    token = all.last().map_or(since, |(sync, _, _)| *sync);
                }
                let data = if wants_data(&wanted) {
                    let names = all.iter().filter(|(_, o, _)| o.is_some()).map(|(_, _, n)| (*n).to_owned()).collect();
                    self.get_objects(&c, names).await?
                } else {
                    Vec::new()
                };
                for (_, info, name) in &all {
                    let object_href = format!("{href}{}", encode(name));
                    match info {
                        Some(info) => {
                            let d = data.iter().find(|b| b.name == info.name).map(|b| b.data.as_slice());
                            out.push_str(&self.response(&object_href, &Resource::Object(&c, info, d), &wanted));
                        }
                        None => out.push_str(&format!(
                            "<d:response><d:href>{}</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>",
                            escape(&object_href)
                        )),
                    }
                }
                if truncated {
                    out.push_str(&format!(
                        "<d:response><d:href>{}</d:href><d:status>HTTP/1.1 507 Insufficient Storage</d:status>\
                         <d:error><d:number-of-matches-within-limits/></d:error></d:response>",
                        escape(&href)
                    ));
                }
                let now = Collection { sync: token, ..c.clone() };
                out.push_str(&element(DAV, "sync-token", &escape(&sync_token(&now))));
            }
            _ => return Ok(precondition(StatusCode::FORBIDDEN, DAV, "supported-report", "")),
        }
        out.push_str("</d:multistatus>\n");
        Ok(multistatus(out))
    }
}

/// Whether a property a client sets may be kept as it is given (a dead property):
/// any but those the server computes or keeps itself, and only text.
fn dead_property(ns: &str, name: &str) -> bool {
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

fn wants_data(wanted: &Wanted) -> bool {
    match wanted {
        Wanted::Props(p) => {
            p.iter().any(|(ns, n)| (ns == CALDAV && n == "calendar-data") || (ns == CARDDAV && n == "address-data"))
        }
        _ => false,
    }
}

/// `If-Match` and `If-None-Match: *`, as a store precondition.
fn conditions(parts: &Parts) -> Precondition {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if header("If-None-Match") == Some("*") {
        return Precondition::Absent;
    }
    match header("If-Match") {
        Some("*") => Precondition::Exists,
        Some(tag) => Precondition::Etag(tag.trim_start_matches("W/").trim_matches('"').to_owned()),
        None => Precondition::None,
    }
}

/// Whether a vCard passes an addressbook-query filter (RFC 6352 §10.5): its
/// prop-filters, any or all of them, each a text-match on a property's values.
fn card_matches(filter: &Element, data: &[u8]) -> bool {
    let all = filter.attribute("test").is_some_and(|t| t.eq_ignore_ascii_case("allof"));
    let tests = filter.children.iter().filter(|e| e.is(CARDDAV, "prop-filter")).map(|pf| {
        let Some(property) = pf.attribute("name") else { return false };
        let values = objects::card_values(data, property);
        match pf.child(CARDDAV, "text-match") {
            None if pf.child(CARDDAV, "is-not-defined").is_some() => values.is_empty(),
            None => !values.is_empty(),
            Some(m) => {
                let wanted = m.text.trim().to_lowercase();
                let how = m.attribute("match-type").unwrap_or("contains");
                let hit = values.iter().any(|v| {
                    let v = v.to_lowercase();
                    match how {
                        "equals" => v == wanted,
                        "starts-with" => v.starts_with(&wanted),
                        "ends-with" => v.ends_with(&wanted),
                        _ => v.contains(&wanted),
                    }
                });
                hit != m.attribute("negate-condition").is_some_and(|n| n == "yes")
            }
        }
    });
    let results: Vec<bool> = tests.collect();
    if results.is_empty() {
        return true;
    }
    if all { results.iter().all(|r| *r) } else { results.iter().any(|r| *r) }
}

/// A session for one connection.
pub(crate) fn session() -> Arc<Session> {
    Arc::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_people_collections_and_objects_and_nothing_else() {
        assert_eq!(target("/dav/"), Some(Target::Root));
        assert_eq!(target("/dav/principals/ann@corp.test/"), Some(Target::Principal("ann@corp.test".into())));
        assert_eq!(
            target("/dav/calendars/ann%40corp.test/work/ev%201.ics"),
            Some(Target::Object(DavKind::Calendar, "ann@corp.test".into(), "work".into(), "ev 1.ics".into()))
        );
        assert_eq!(target("/dav/calendars/ann@corp.test/%ff/"), None, "not UTF-8");
        assert_eq!(
            target("/dav/addressbooks/ann@corp.test/"),
            Some(Target::Home(DavKind::AddressBook, "ann@corp.test".into()))
        );
        assert_eq!(target("/dav/calendars/ann@corp.test/%2e%2e/x"), None);
        assert_eq!(target("/dav/elsewhere/ann@corp.test/"), None);
        assert_eq!(target("/other"), None);
    }

    #[test]
    fn a_sync_token_is_its_collections_own() {
        let c = Collection {
            id: 7,
            mailbox: 1,
            kind: DavKind::Calendar,
            name: "calendar".into(),
            display_name: String::new(),
            color: String::new(),
            description: String::new(),
            sync: 12,
            components: Vec::new(),
            dead: Vec::new(),
            objects: 0,
            bytes: 0,
        };
        assert_eq!(token_number(&c, &sync_token(&c)), Some(12));
        assert_eq!(token_number(&c, "http://mailroom.invalid/sync/8-12"), None, "another collection's");
        assert_eq!(token_number(&c, "garbage"), None);
        assert_eq!(filter::utc_time("20260105T090000Z"), Some(1_767_603_600));
        assert_eq!(filter::utc_time("2026-01-05"), None);
    }
}
