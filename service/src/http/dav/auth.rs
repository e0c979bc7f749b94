//! Who is asking, and whose calendars they reach: HTTP Basic logins through the mail
//! service's throttle and lock-outs (remembered for the connection), the body of a
//! refused request read so the connection carries the next one, and the rights that
//! let a person into another's calendars and address books.

use std::sync::{Arc, Mutex};

use hyper::StatusCode;
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::http::request::Parts;

use super::*;
/// Who a connection logged in as: the login, a hash of the password given, the
/// mailbox. A request with the same credentials is not checked again.
#[derive(Default)]
pub struct Session(Mutex<Option<(String, [u8; 32], i64)>>);

/// One person, as the URLs name them.
#[derive(Debug, Clone)]
pub(super) struct User {
    pub(super) login: String,
    pub(super) mailbox: i64,
}

/// How much of a request's body is read before refusing a login: a client's small
/// PROPFIND or REPORT is taken in so that the kept-alive connection carries its next
/// request (the one with the password); a larger body is not read for someone not
/// logged in, and the connection closes after the answer.
pub(super) const UNREAD_LIMIT: usize = 64 * 1024;

/// `answer`, sent once the request's `body` (of `declared` length, if said) has been
/// read, when it is small: HTTP/1.1 cannot carry another request on the connection
/// before the body is past, and hyper closes one whose body it could not skip at
/// once, which the client learns only when its next request (the same one, now with
/// the password) meets a closed connection. Larger or slower bodies get `answer`
/// with `Connection: close`, which says so.
pub(super) async fn finish_unread(answer: Answer, body: Incoming, declared: Option<usize>) -> Answer {
    if declared.is_some_and(|n| n > UNREAD_LIMIT) {
        return closing(answer);
    }
    let read = Limited::new(body, UNREAD_LIMIT).collect();
    match tokio::time::timeout(std::time::Duration::from_secs(10), read).await {
        Ok(Ok(_)) => answer,
        _ => closing(answer),
    }
}

/// `answer` saying the connection closes after it (HTTP/1.1; HTTP/2 ignores it).
pub(super) fn closing(mut answer: Answer) -> Answer {
    answer.headers_mut().insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
    answer
}

/// The person logging in, or the answer that asks them to (or turns them away).
pub(super) async fn login(
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
    let Some((login, password)) = crate::http::basic_credentials(parts) else { return Err(ask()) };
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

/// Whose collections `target` names, and (when they are someone else's) the ones
/// `viewer` may read with their rights there; or the answer that turns them away.
pub(super) async fn whose(
    ctx: &ServiceContext,
    viewer: &User,
    parts: &Parts,
    target: &Target,
) -> crate::store::StoreResult<Result<(User, Option<Vec<SharedCollection>>), Answer>> {
    let (kind, login) = match target {
        Target::Root => return Ok(Ok((viewer.clone(), None))),
        Target::Principal(u) => {
            // Another person's principal: their directory entry only.
            let directory = matches!(parts.method.as_str(), "PROPFIND" | "REPORT");
            if !directory && !u.eq_ignore_ascii_case(&viewer.login) {
                return Ok(Err(text(StatusCode::FORBIDDEN, "These are someone else's.")));
            }
            return Ok(Ok((viewer.clone(), None)));
        }
        Target::Home(kind, u) | Target::Collection(kind, u, _) | Target::Object(kind, u, _, _) => (*kind, u),
    };
    if login.eq_ignore_ascii_case(&viewer.login) {
        return Ok(Ok((viewer.clone(), None)));
    }
    let refused = || Ok(Err(text(StatusCode::FORBIDDEN, "These are someone else's.")));
    let Some(crate::store::recipients::Named::Mailbox(mailbox)) = ctx.store.named(login).await? else {
        return refused();
    };
    if mailbox == viewer.mailbox {
        return Ok(Ok((viewer.clone(), None)));
    }
    let shared: Vec<SharedCollection> = ctx
        .store
        .dav_shared(viewer.mailbox, kind)
        .await?
        .into_iter()
        .filter(|s| s.collection.mailbox == mailbox)
        .collect();
    if shared.is_empty() {
        return refused();
    }
    Ok(Ok((User { login: login.to_ascii_lowercase(), mailbox }, Some(shared))))
}

/// A session for one connection.
pub(crate) fn session() -> Arc<Session> {
    Arc::default()
}
