//! The HTTPS listener: mail programs that set themselves up (Thunderbird's autoconfig,
//! Microsoft's Autodiscover, Apple's configuration profile), on the mail certificate,
//! HTTP/1.1 and HTTP/2 (hyper, negotiated by ALPN). It is one more listener of the
//! run: admitted to the same per-address connection limits as mail, its logins
//! checked by the same throttle and lock-outs, drained by a restart like the others
//! (a connection finishes its request; nothing is refused).
//!
//! Every answer is the same for every address of a domain kept here, so that nothing
//! tells whether an account exists; only the profile, which needs a login, is
//! personal.

pub mod autoconfig;
pub mod dav;
pub(crate) mod setup;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use hyper::http::request::Parts;
use hyper::{Method, Request, Response, StatusCode};
use mailroom_shared::address::EmailAddress;

use crate::context::ServiceContext;
use crate::limits::Limits;
use crate::throttle::Checked;
use setup::Setup;

/// The most a request body may hold (an Autodiscover request is a few hundred bytes).
const MAX_BODY: usize = 64 * 1024;
/// How long a client has to send a request's headers, and how long an idle
/// connection is kept.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest a connection lives, however busy.
const CONNECTION_LIMIT: Duration = Duration::from_secs(600);
/// How long a draining run lets a connection finish the request under way.
const DRAIN_GRACE: Duration = Duration::from_secs(10);

/// The HTTPS listener of one run.
#[derive(Clone)]
pub(crate) struct Http {
    acceptor: tokio_rustls::TlsAcceptor,
    limits: Limits,
    setup: Arc<Setup>,
}

impl Http {
    /// The listener of a run with `acceptor` (offering h2 and http/1.1), admitting
    /// connections to `limits`, telling mail programs `setup`.
    pub(crate) fn new(acceptor: tokio_rustls::TlsAcceptor, limits: Limits, setup: Arc<Setup>) -> Http {
        Http { acceptor, limits, setup }
    }

    /// Serves `listener` until the run drains.
    pub(crate) async fn serve(self, listener: Arc<tokio::net::TcpListener>, ctx: ServiceContext) {
        crate::listener::accept_loop("https", listener, ctx, move |stream, peer, ctx| {
            let this = self.clone();
            async move { this.connection(stream, peer, ctx).await }
        })
        .await;
    }

    async fn connection(self, stream: tokio::net::TcpStream, peer: SocketAddr, ctx: ServiceContext) {
        let Some(_slot) = self.limits.admit(peer.ip()) else {
            tracing::info!(%peer, listener = "https", "connection refused: too many connections");
            return;
        };
        let Some(stream) = crate::tls::accept(stream, peer, Some(&self.acceptor), &ctx.shutdown).await else {
            return;
        };
        let (setup, c, session) = (Arc::clone(&self.setup), ctx.clone(), dav::session());
        let service = hyper::service::service_fn(move |request| {
            let (setup, ctx, session) = (Arc::clone(&setup), c.clone(), Arc::clone(&session));
            async move { Ok::<_, Infallible>(answer(request, peer, &setup, &ctx, &session).await) }
        });
        let mut builder = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
        builder.http1().timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(HEADER_TIMEOUT);
        builder
            .http2()
            .timer(hyper_util::rt::TokioTimer::new())
            .keep_alive_interval(HEADER_TIMEOUT)
            .max_concurrent_streams(32);
        let connection = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        tokio::pin!(connection);
        tokio::select! {
            result = tokio::time::timeout(CONNECTION_LIMIT, connection.as_mut()) => {
                if let Ok(Err(e)) = result {
                    tracing::debug!(%peer, error = %e, "HTTPS connection ended");
                }
            }
            () = ctx.shutdown.draining() => {
                connection.as_mut().graceful_shutdown();
                let _ = tokio::time::timeout(DRAIN_GRACE, connection).await;
            }
        }
    }
}

type Answer = Response<Full<Bytes>>;

/// A response of `status` with `body` of `content_type`.
fn respond(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Answer {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// A plain-text error a person can read.
fn error(status: StatusCode, text: &str) -> Answer {
    respond(status, "text/plain; charset=utf-8", format!("{text}\n"))
}

fn not_allowed(allow: &'static str) -> Answer {
    let mut r = error(StatusCode::METHOD_NOT_ALLOWED, &format!("Use {allow} here."));
    r.headers_mut().insert(ALLOW, HeaderValue::from_static(allow));
    r
}

/// A query parameter, decoded (`name` matched without regard to case, as the
/// Autodiscover clients spell it either way).
fn query(request: &Parts, name: &str) -> Option<String> {
    let q = request.uri.query()?;
    form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.into_owned())
}

/// Answers one request.
async fn answer(
    request: Request<Incoming>,
    peer: SocketAddr,
    setup: &Setup,
    ctx: &ServiceContext,
    session: &dav::Session,
) -> Answer {
    let (request, body) = request.into_parts();
    // Calendars and contacts; a client given only the host name asks its root.
    let root_propfind = request.uri.path() == "/" && matches!(request.method.as_str(), "PROPFIND" | "REPORT");
    if request.uri.path() == "/dav" || request.uri.path().starts_with("/dav/") || root_propfind {
        return dav::answer(request, body, peer, ctx, session).await;
    }
    let path = request.uri.path().to_ascii_lowercase();
    let get = matches!(request.method, Method::GET | Method::HEAD);
    if path == "/autodiscover/autodiscover.xml" && request.method == Method::POST {
        return autodiscover_v1(body, setup).await;
    }
    // Whatever else was sent is read (up to a limit) before the answer, which an
    // HTTP/2 client would otherwise see cut off by a reset of its stream.
    if Limited::new(body, MAX_BODY).collect().await.is_err() {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "The request's body is too large.");
    }
    match path.as_str() {
        "/.well-known/caldav" | "/.well-known/carddav" => dav::well_known(),
        "/mail/config-v1.1.xml" | "/.well-known/autoconfig/mail/config-v1.1.xml" => {
            if !get {
                return not_allowed("GET");
            }
            let address = match query(&request, "emailaddress") {
                None => None,
                Some(a) => match EmailAddress::parse(a.trim()) {
                    Ok(a) if setup.serves(&a) => Some(a),
                    Ok(_) => return error(StatusCode::NOT_FOUND, "Mail for that domain is not kept here."),
                    Err(_) => return error(StatusCode::BAD_REQUEST, "The emailaddress parameter is not an address."),
                },
            };
            respond(StatusCode::OK, "text/xml; charset=utf-8", autoconfig::thunderbird(setup, address.as_ref()))
        }
        "/autodiscover/autodiscover.xml" => not_allowed("POST"),
        p if p == "/autodiscover/autodiscover.json" || p.starts_with("/autodiscover/autodiscover.json/") => {
            if !get {
                return not_allowed("GET");
            }
            autodiscover_v2(&request, setup)
        }
        "/mobileconfig" | "/apple.mobileconfig" => {
            if !get {
                return not_allowed("GET");
            }
            profile(&request, peer, setup, ctx).await
        }
        "/" => {
            if !get {
                return not_allowed("GET");
            }
            respond(StatusCode::OK, "text/html; charset=utf-8", index(setup))
        }
        _ => error(StatusCode::NOT_FOUND, "Nothing here."),
    }
}

/// Autodiscover v1 (POX): the request's address, answered with the settings when its
/// domain is kept here; Exchange's error 600 for a request that is not one, 601 for a
/// response schema other than Outlook's.
async fn autodiscover_v1(body: Incoming, setup: &Setup) -> Answer {
    let xml = "text/xml; charset=utf-8";
    let Ok(body) = Limited::new(body, MAX_BODY).collect().await.map(|b| b.to_bytes()) else {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "The request is larger than an Autodiscover request can be.");
    };
    let Some(req) = autoconfig::autodiscover_request(&body) else {
        return respond(StatusCode::OK, xml, autoconfig::autodiscover_error(600, "Invalid Request"));
    };
    if !req.schema.is_empty() && req.schema != autoconfig::OUTLOOK_SCHEMA {
        return respond(StatusCode::OK, xml, autoconfig::autodiscover_error(601, "Provider is not available"));
    }
    match EmailAddress::parse(&req.address) {
        Ok(a) if setup.serves(&a) => respond(StatusCode::OK, xml, autoconfig::autodiscover(setup, &a)),
        Ok(_) => respond(StatusCode::OK, xml, autoconfig::autodiscover_error(600, "Invalid Request")),
        Err(_) => respond(StatusCode::OK, xml, autoconfig::autodiscover_error(600, "Invalid Request")),
    }
}

/// Autodiscover v2: `/autodiscover/autodiscover.json/v1.0/{address}?Protocol=…`, or
/// the address as `Email=`.
fn autodiscover_v2(request: &Parts, setup: &Setup) -> Answer {
    let json = "application/json; charset=utf-8";
    let from_path = request.uri.path().rsplit_once('/').map(|(_, last)| last.to_owned());
    let address = query(request, "email").or(from_path.filter(|a| a.contains('@')));
    let address = address.and_then(|a| percent_decoded(&a)).and_then(|a| EmailAddress::parse(a.trim()).ok());
    if !address.is_some_and(|a| setup.serves(&a)) {
        let body = serde_json::json!({"ErrorCode": "InvalidUser", "ErrorMessage": "No address of a domain kept here was given."});
        return respond(StatusCode::NOT_FOUND, json, body.to_string());
    }
    let protocol = query(request, "protocol").unwrap_or_default();
    match autoconfig::autodiscover_v2(setup, &protocol) {
        Ok(body) => respond(StatusCode::OK, json, body.to_string()),
        Err(body) => respond(StatusCode::BAD_REQUEST, json, body.to_string()),
    }
}

fn percent_decoded(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s).decode_utf8().ok().map(std::borrow::Cow::into_owned)
}

/// The Apple profile of whoever logs in (HTTP Basic over TLS, through the login
/// throttle): asked for a login (401) until one is given, refused alike for a wrong
/// password and an unknown account.
async fn profile(request: &Parts, peer: SocketAddr, setup: &Setup, ctx: &ServiceContext) -> Answer {
    let ask = || {
        let mut r = error(StatusCode::UNAUTHORIZED, "Log in with your e-mail address and password.");
        r.headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"Mailroom\", charset=\"UTF-8\""));
        r
    };
    let Some((login, password)) = basic_credentials(request) else { return ask() };
    match ctx.throttle.check_login(&ctx.store, peer.ip(), &login, password).await {
        Checked::Mailbox(_) => {}
        Checked::Refused { .. } => {
            tracing::info!(%peer, login = %login, "HTTPS login failed");
            return ask();
        }
        Checked::LockedOut => {
            let mut r = error(StatusCode::TOO_MANY_REQUESTS, "Too many failed logins; try again later.");
            r.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static("900"));
            return r;
        }
        Checked::Unavailable => return error(StatusCode::SERVICE_UNAVAILABLE, "Temporary failure; try again later."),
    }
    let Ok(address) = EmailAddress::parse(&login) else {
        return error(StatusCode::BAD_REQUEST, "Log in with your e-mail address.");
    };
    let mut r =
        respond(StatusCode::OK, "application/x-apple-aspen-config", autoconfig::mobileconfig(setup, &address, ""));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}.mobileconfig\"", address.local())) {
        r.headers_mut().insert(hyper::header::CONTENT_DISPOSITION, v);
    }
    r
}

/// The login and password of an `Authorization: Basic` header.
fn basic_credentials(request: &Parts) -> Option<(String, String)> {
    use base64::Engine as _;
    let value = request.headers.get(hyper::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let (login, password) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((login.to_owned(), password.to_owned()))
}

/// The page at `/`: what is here, for a person who opens it in a browser.
fn index(setup: &Setup) -> String {
    let host = quick_xml::escape::escape(setup.host.as_str()).into_owned();
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Mail set-up for {host}</title></head>\n\
         <body><h1>Mail set-up for {host}</h1>\n\
         <p>Thunderbird, Outlook and most mail programs set themselves up from your e-mail address and password.</p>\n\
         <p>On an iPhone, iPad or Mac: <a href=\"/mobileconfig\">download the profile</a> (log in with your e-mail address and password), then install it in Settings.</p>\n\
         </body></html>\n"
    )
}
