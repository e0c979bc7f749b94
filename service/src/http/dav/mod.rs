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
//!
//! Here: the paths, the login and the methods. `props.rs` holds the properties and
//! how a resource is described, `report.rs` the REPORTs, `directory.rs` the people
//! and the Global Address List; `objects.rs` and `filter.rs` read what is stored and
//! what is asked, `xml.rs` WebDAV's XML.

mod auth;
mod directory;
pub mod filter;
pub mod objects;
mod props;
mod report;
mod schedule;
mod share;
pub mod xml;

use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, ETAG, HeaderValue, LOCATION};
use hyper::http::request::Parts;
use hyper::{Method, Response, StatusCode};

use crate::context::ServiceContext;
use crate::store::SharedCollection;
use crate::store::dav::{Collection, CollectionProps, DavKind, DavObject, ObjectInfo, Precondition, Put};
use crate::throttle::Checked;
use auth::*;
pub(crate) use auth::{Session, session};
use directory::*;
use mailroom_shared::rights::Rights;
use props::*;
use xml::{CALDAV, CARDDAV, CS, DAV, Element, ICAL, element, escape};

type Answer = Response<Full<Bytes>>;

/// The most a request body may hold: an object at its largest, and room for XML.
const MAX_BODY: usize = objects::MAX_SIZE + 64 * 1024;

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
    h.insert(
        "DAV",
        HeaderValue::from_static(
            "1, 3, calendar-access, calendar-auto-schedule, addressbook, extended-mkcol, calendarserver-sharing",
        ),
    );
    h.insert(
        hyper::header::ALLOW,
        HeaderValue::from_static(
            "OPTIONS, GET, HEAD, POST, PUT, DELETE, PROPFIND, PROPPATCH, REPORT, MKCOL, MKCALENDAR",
        ),
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
    let declared =
        parts.headers.get(hyper::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    let user = match login(&parts, peer, ctx, session).await {
        Ok(u) => u,
        Err(answer) => return finish_unread(*answer, body, declared).await,
    };
    // Too large a body is refused before it is read (HTTP/1.1 clients that wait for
    // `100 Continue` never send it).
    if declared.is_some_and(|n| n > MAX_BODY) {
        return closing(precondition(StatusCode::PAYLOAD_TOO_LARGE, CALDAV, "max-resource-size", ""));
    }
    let Ok(body) = Limited::new(body, MAX_BODY).collect().await.map(|b| b.to_bytes()) else {
        return closing(precondition(StatusCode::PAYLOAD_TOO_LARGE, CALDAV, "max-resource-size", ""));
    };
    let Some(target) = target(parts.uri.path()) else { return text(StatusCode::NOT_FOUND, "Nothing here.") };
    // A person reaches their own calendars and address books, and those of others
    // they have been given rights on.
    let (owner, shared) = match whose(ctx, &user, &parts, &target).await {
        Ok(Ok(found)) => found,
        Ok(Err(answer)) => return answer,
        Err(e) => {
            tracing::warn!(error = %e, "calendar or contacts request failed");
            return text(StatusCode::SERVICE_UNAVAILABLE, "Temporary failure; try again later.");
        }
    };
    let dav = Dav { ctx, user: &owner, viewer: &user, shared };
    let result = match parts.method.as_str() {
        "PROPFIND" => dav.propfind(&parts, &target, &body).await,
        "PROPPATCH" => dav.proppatch(&target, &body).await,
        "REPORT" => dav.report(&target, &body).await,
        "MKCALENDAR" | "MKCOL" => dav.make(&parts.method, &target, &body).await,
        "GET" | "HEAD" => dav.get(&target).await,
        "PUT" => dav.put(&parts, &target, body).await,
        "POST" => dav.post(&target, &body).await,
        "DELETE" => dav.delete(&parts, &target).await,
        _ => Ok(text(StatusCode::METHOD_NOT_ALLOWED, "Not a method calendars and contacts take.")),
    };
    result.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "calendar or contacts request failed");
        text(StatusCode::SERVICE_UNAVAILABLE, "Temporary failure; try again later.")
    })
}

struct Dav<'a> {
    ctx: &'a ServiceContext,
    /// Whose collections: the person logged in, or one who shares theirs with them.
    user: &'a User,
    /// The person logged in.
    viewer: &'a User,
    /// When the collections are someone else's: those the viewer may read, with the
    /// viewer's rights on each.
    shared: Option<Vec<SharedCollection>>,
}

impl Dav<'_> {
    /// The viewer's rights on `c` (`None`: their own, every right).
    fn rights_on(&self, c: &Collection) -> Option<Rights> {
        let shared = self.shared.as_ref()?;
        Some(shared.iter().find(|s| s.collection.id == c.id).map_or(Rights::NONE, |s| s.rights))
    }

    /// Whether the viewer may do what `need` names to `c`.
    fn may(&self, c: &Collection, need: Rights) -> bool {
        self.rights_on(c).is_none_or(|r| r.has(need))
    }

    /// Whether a change the viewer makes to `c` sends the meeting messages it means:
    /// always in their own calendars; in someone else's, only for a delegate (Send As
    /// or Send On Behalf Of), as Exchange had it.
    async fn schedules(&self) -> crate::store::StoreResult<bool> {
        if self.shared.is_none() {
            return Ok(true);
        }
        let r = self.ctx.store.rights(self.viewer.mailbox, self.user.mailbox, None).await?;
        Ok(r.any(Rights::SEND_AS.with(Rights::SEND_ON_BEHALF)))
    }
}

fn not_allowed() -> Answer {
    precondition(StatusCode::FORBIDDEN, DAV, "need-privileges", "")
}

impl Dav<'_> {
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
                    // Others' collections shared with the person, where clients find
                    // them: beside their own (each at its owner's URL).
                    if self.shared.is_none() {
                        for s in self.ctx.store.dav_shared(self.viewer.mailbox, *kind).await? {
                            let mut c = s.collection;
                            c.display_name = shared_name(&c, &s.owner);
                            let href = collection_href(&c, &s.owner);
                            let theirs = Dav {
                                ctx: self.ctx,
                                user: self.user,
                                viewer: self.viewer,
                                shared: Some(vec![SharedCollection {
                                    collection: c.clone(),
                                    owner: s.owner.clone(),
                                    rights: s.rights,
                                }]),
                            };
                            out.push_str(&theirs.response(&href, &Resource::Collection(&c), &wanted));
                        }
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
        if c.id < 0 {
            return Ok(read_only());
        }
        if !self.may(&c, Rights::DELETE_FOLDER) {
            return Ok(not_allowed());
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
        if self.shared.is_some() {
            return Ok(text(StatusCode::FORBIDDEN, "Collections are made by their owner."));
        }
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
        let tag = schedule::tag_of(&c, &o.data);
        let mut r = respond(StatusCode::OK, content_type, o.data);
        if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", o.etag)) {
            r.headers_mut().insert(ETAG, v);
        }
        schedule::add_tag(&mut r, tag);
        Ok(r)
    }

    async fn put(&self, parts: &Parts, target: &Target, body: Bytes) -> crate::store::StoreResult<Answer> {
        let Target::Object(kind, _, coll, name) = target else {
            return Ok(text(StatusCode::METHOD_NOT_ALLOWED, "Objects are put in a calendar or address book."));
        };
        let Some(c) = self.collection(*kind, coll).await? else {
            return Ok(text(StatusCode::CONFLICT, "No such collection: make it first."));
        };
        if c.id < 0 || is_inbox(&c) {
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
        // What was there: for scheduling to tell what changed, and for the rights a
        // change needs (adding, or changing what is there).
        let old = match (kind, &self.shared) {
            (DavKind::AddressBook, None) => None,
            _ => self.get_objects(&c, vec![name.clone()]).await?.into_iter().next(),
        };
        if !self.may(&c, if old.is_some() { Rights::WRITE } else { Rights::INSERT }) {
            return Ok(not_allowed());
        }
        if let Some(answer) = schedule::tag_mismatch(parts, &c, old.as_ref()) {
            return Ok(answer);
        }
        let data = object.data.clone();
        match self.ctx.store.dav_put(c.id, object, when).await? {
            Put::Stored { etag, created } => {
                let status = if created { StatusCode::CREATED } else { StatusCode::NO_CONTENT };
                let mut r = respond(status, "text/plain; charset=utf-8", "");
                if let Ok(v) = HeaderValue::from_str(&format!("\"{etag}\"")) {
                    r.headers_mut().insert(ETAG, v);
                }
                if *kind == DavKind::Calendar && self.schedules().await? {
                    let before = old.as_ref().and_then(|o| std::str::from_utf8(&o.data).ok());
                    let after = std::str::from_utf8(&data).ok();
                    crate::itip::changed(self.ctx, self.user.mailbox, before, after).await;
                    schedule::add_tag(&mut r, schedule::tag_of(&c, &data));
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
                if c.id < 0 || is_inbox(&c) {
                    return Ok(read_only());
                }
                if !self.may(&c, Rights::DELETE_FOLDER) {
                    return Ok(not_allowed());
                }
                self.ctx.store.dav_delete_collection(c.id).await?;
                Ok(text(StatusCode::NO_CONTENT, ""))
            }
            Target::Object(kind, _, coll, name) => {
                let Some(c) = self.collection(*kind, coll).await? else {
                    return Ok(text(StatusCode::NOT_FOUND, "No such collection."));
                };
                if c.id < 0 {
                    return Ok(read_only());
                }
                if !self.may(&c, Rights::DELETE_MESSAGES) {
                    return Ok(not_allowed());
                }
                let old = match kind {
                    DavKind::Calendar if !is_inbox(&c) => {
                        self.get_objects(&c, vec![name.clone()]).await?.into_iter().next()
                    }
                    _ => None,
                };
                match self.ctx.store.dav_delete(c.id, name, conditions(parts)).await {
                    Ok(true) => {
                        let sent = match old.as_ref().and_then(|o| std::str::from_utf8(&o.data).ok()) {
                            Some(o) if self.schedules().await? => Some(o),
                            _ => None,
                        };
                        if let Some(o) = sent {
                            crate::itip::changed(self.ctx, self.user.mailbox, Some(o), None).await;
                        }
                        Ok(text(StatusCode::NO_CONTENT, ""))
                    }
                    Ok(false) => Ok(text(StatusCode::PRECONDITION_FAILED, "The object has changed meanwhile.")),
                    Err(crate::store::StoreError::NotFound(_)) => Ok(text(StatusCode::NOT_FOUND, "No such object.")),
                    Err(e) => Err(e),
                }
            }
            _ => Ok(text(StatusCode::FORBIDDEN, "This cannot be deleted.")),
        }
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
