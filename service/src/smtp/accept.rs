//! Durable acceptance: one store transaction per message.
//!
//! The message gets a `Received:` header and becomes a [`NewMessage`]: its content
//! stored once, a copy in each local mailbox (each with its `Return-Path:`), plus one
//! outbound queue entry whose recipients are the relayed ones and those that failed at
//! once (rerouting off: the delivery side turns those into an NDR), and its tracking
//! records. The store commits all of it durably — fsync'd — before this returns;
//! concurrent sessions share that commit.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};

use super::command::Ret;
use super::session::{Target, Transaction};
use crate::context::ServiceContext;
use crate::metrics::Counter;
use crate::store::{
    Failure, FilterEvent, Held, NewMessage, Outbound, OutboundRecipient, SentBy, StoreResult, TrackEvent,
    TrackingRecord, now_secs,
};

/// What is known about a message besides its content.
pub(super) struct Envelope<'a> {
    pub tx: &'a Transaction,
    pub client: SocketAddr,
    pub helo: &'a str,
    pub extended: bool,
    pub auth: Option<&'a str>,
    /// The client authenticated or is in a network allowed to relay: mail it relays
    /// from one of our domains is our organisation's, and is signed.
    pub trusted: bool,
    /// The TLS protocol version in use, if the session is encrypted.
    pub tls: Option<&'a str>,
    /// For mail from outside: the `Authentication-Results:` header field and the
    /// verdict in a few words.
    pub authentication: Option<(String, String)>,
    /// For mail the content filter scanned: its `X-Spam-*` header fields and its
    /// verdict in a few words.
    pub filter: Option<(String, String)>,
    /// Set when the message goes to the quarantine instead of its recipients.
    pub hold: Option<Hold>,
}

/// Why a message is held in the quarantine.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Hold {
    /// In words, as the quarantine lists it.
    pub reason: String,
    /// The content filter's score, if it scanned the message.
    pub score: Option<f64>,
}

/// A queue id: time in microseconds and a per-process counter, in hex. Unique within
/// a data directory, which only one process uses at a time.
fn queue_id() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let micros =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros()).unwrap_or_default();
    format!("{micros:X}{:04X}", COUNTER.fetch_add(1, Ordering::Relaxed) & 0xFFFF)
}

/// Commits the message; returns its queue id.
///
/// # Errors
/// Any store failure; then nothing of the message was kept.
pub(super) async fn commit(ctx: &ServiceContext, env: &Envelope<'_>, body: Vec<u8>) -> StoreResult<String> {
    let id = queue_id();
    let now = now_secs();
    let cfg = &ctx.config;
    // RFC 3848: S for TLS, A for an authenticated client.
    let protocol = match (env.extended, env.tls.is_some(), env.auth.is_some()) {
        (false, _, _) => "SMTP",
        (true, false, false) => "ESMTP",
        (true, false, true) => "ESMTPA",
        (true, true, false) => "ESMTPS",
        (true, true, true) => "ESMTPSA",
    };
    let tls = env.tls.map(|v| format!(" (using {v})")).unwrap_or_default();
    let rcpts = &env.tx.rcpts;
    let for_clause = match rcpts.as_slice() {
        [only] => format!("\r\n\tfor <{}>", only.address),
        _ => String::new(),
    };
    // RFC 5321 §4.1.3: an IPv6 address literal is tagged.
    let literal = match env.client.ip() {
        std::net::IpAddr::V4(ip) => ip.to_string(),
        std::net::IpAddr::V6(ip) => format!("IPv6:{ip}"),
    };
    let received = format!(
        "Received: from {} ([{literal}])\r\n\tby {} (Mailroom) with {protocol}{tls} id {id}{for_clause};\r\n\t{}\r\n",
        sanitize(env.helo),
        cfg.general.host_name,
        crate::message::date(now),
    );
    let (signatures, body) = sign(ctx, env, body).await;
    let results = env.authentication.as_ref().map(|(header, _)| header.as_str()).unwrap_or_default();
    let spam = env.filter.as_ref().map(|(headers, _)| headers.as_str()).unwrap_or_default();
    let mut content = Vec::with_capacity(signatures.len() + results.len() + spam.len() + received.len() + body.len());
    content.extend_from_slice(&signatures);
    content.extend_from_slice(results.as_bytes());
    content.extend_from_slice(spam.as_bytes());
    content.extend_from_slice(received.as_bytes());
    content.extend_from_slice(&body);
    let mailboxes: Vec<i64> = rcpts
        .iter()
        .filter_map(|r| match r.target {
            Target::Mailbox(m) => Some(m),
            _ => None,
        })
        .collect::<BTreeSet<i64>>()
        .into_iter()
        .collect();
    let sender = env.tx.from.clone();
    let client = env.client.ip().to_string();
    let recipients: Vec<OutboundRecipient> = rcpts
        .iter()
        .filter_map(|r| {
            let failed = match &r.target {
                // Lists were expanded into their members at RCPT; forwards go below.
                Target::Mailbox(_) | Target::Forward { .. } | Target::List(_) => return None,
                Target::Relay => None,
                // A recipient without a route fails at once: 5.4.4, unable to route.
                Target::Fail(why) => Some(Failure { status: "5.4.4".into(), reason: why.clone() }),
            };
            Some(OutboundRecipient {
                address: r.address.clone(),
                orcpt: r.orcpt.clone(),
                notify: r.notify.clone(),
                failed,
            })
        })
        .collect();
    let entry = |sender: String, recipients: Vec<OutboundRecipient>| Outbound {
        sender,
        envid: env.tx.envid.clone(),
        ret: env.tx.ret.map(|r| match r {
            Ret::Full => "FULL",
            Ret::Headers => "HDRS",
        }),
        body_8bit: env.tx.body == super::command::Body::EightBitMime,
        client: Some(client.clone()),
        recipients,
    };
    let outbound = (!recipients.is_empty()).then(|| entry(sender.clone(), recipients));
    // Copies forwarded on behalf of a local address (a custom recipient, a list's
    // outside member) leave with the sender rewritten by SRS in that address's
    // domain, so that SPF at the next server checks our domain.
    let forwards: Vec<(OutboundRecipient, &str)> = rcpts
        .iter()
        .filter_map(|r| match &r.target {
            Target::Forward { domain } => Some((
                OutboundRecipient {
                    address: r.address.clone(),
                    orcpt: r.orcpt.clone(),
                    notify: r.notify.clone(),
                    failed: None,
                },
                domain.as_str(),
            )),
            _ => None,
        })
        .collect();
    let forwarded = match forwards.first() {
        None => None,
        Some((_, domain)) => {
            let secret = crate::srs::secret(ctx).await?;
            let srs = crate::srs::rewrite(&sender, domain, &secret);
            Some(entry(srs, forwards.into_iter().map(|(r, _)| r).collect()))
        }
    };
    let mut tracking = Vec::new();
    if cfg.diagnostics.message_tracking {
        let message_id = crate::message::message_id(&body);
        let record = |event, recipient: Option<String>, detail: Option<String>| TrackingRecord {
            at: now,
            event,
            queue_id: Some(id.clone()),
            message_id: message_id.clone(),
            sender: Some(sender.clone()),
            recipient,
            detail,
        };
        let mut detail = format!("from {client}");
        for (_, summary) in env.authentication.iter().chain(env.filter.iter()) {
            detail.push_str("; ");
            detail.push_str(summary);
        }
        tracking.push(record(TrackEvent::Accepted, None, Some(detail)));
        for r in rcpts {
            let (event, detail) = match (&env.hold, &r.target) {
                (Some(hold), _) => (TrackEvent::Quarantined, Some(hold.reason.clone())),
                (None, Target::Mailbox(_)) => (TrackEvent::Delivered, None),
                (None, Target::Relay) => (TrackEvent::Queued, None),
                (None, Target::Fail(why)) => (TrackEvent::Failed, Some(why.clone())),
                (None, Target::Forward { .. }) => (TrackEvent::Queued, Some("forwarded".to_owned())),
                (None, Target::List(_)) => continue,
            };
            tracking.push(record(event, Some(r.address.clone()), detail));
        }
    }
    let local_prefix =
        if mailboxes.is_empty() { Vec::new() } else { format!("Return-Path: <{}>\r\n", env.tx.from).into_bytes() };
    // Our own users' outside recipients count toward their sending limits.
    let sent_by = env.auth.map(|account| SentBy {
        account: account.to_owned(),
        recipients: rcpts.iter().filter(|r| matches!(r.target, Target::Relay | Target::Forward { .. })).count() as u64,
    });
    let message = NewMessage {
        queue_id: id.clone(),
        received_at: now,
        content,
        mailboxes,
        local_prefix,
        outbound,
        forwarded,
        tracking,
        sent_by,
        junk: false,
    };
    // Spam for domains whose users sort their own goes to their Junk folders, when
    // every recipient is such a user; otherwise the whole message is held.
    let junk = env.hold.is_some()
        && !rcpts.is_empty()
        && rcpts.iter().all(|r| {
            matches!(r.target, Target::Mailbox(_))
                && r.address.rsplit_once('@').is_some_and(|(_, d)| {
                    cfg.filtering.junk_domains.iter().any(|j| j.to_string().eq_ignore_ascii_case(d))
                })
        });
    let mut message = message;
    if junk {
        message.junk = true;
        for t in &mut message.tracking {
            if t.event == TrackEvent::Quarantined {
                t.event = TrackEvent::Delivered;
                t.detail = t.detail.take().map(|why| format!("to the Junk folder: {why}"));
            }
        }
    }
    // Spam for Junk folders is delivered; other spam is held.
    match env.hold.as_ref().filter(|_| !junk) {
        None => {
            let copies = message.mailboxes.len() as u64;
            let delivered = message.mailboxes.clone();
            ctx.store.accept(message).await?;
            ctx.metrics.count(Counter::Delivered, copies);
            // Automatic replies, when someone is away (most of the time nobody is, and
            // then delivery asks nothing more): the task gets the header (subject,
            // Message-ID, and what says not to answer).
            if !delivered.is_empty() && !sender.is_empty() && ctx.store.any_auto_reply().await {
                let header = body[..crate::message::header_len(&body)].to_vec();
                let (id, sender) = (id.clone(), sender.clone());
                ctx.tasks.spawn(crate::autoreply::after_delivery(ctx.clone(), id, delivered, sender, header));
            }
        }
        Some(hold) => {
            let held = Held {
                sender: sender.clone(),
                recipients: rcpts.iter().map(|r| r.address.clone()).collect(),
                subject: crate::message::subject(&body).unwrap_or_default(),
                score: hold.score,
                reason: hold.reason.clone(),
                client: Some(client),
                message,
            };
            ctx.store.quarantine_hold(held).await?;
            crate::filtering::count(ctx, FilterEvent::Quarantined);
            let _ = ctx.events.send(mailroom_shared::ipc::Event::QuarantineChanged);
            tracing::info!(target: "mailroom_service::filtering", queue_id = %id, reason = %hold.reason, "message held in the quarantine");
        }
    }
    ctx.metrics.count(Counter::Received, 1);
    Ok(id)
}

/// The `DKIM-Signature:` fields for a message a trusted client (an authenticated user,
/// a network allowed to relay) relays, signed
/// for the inbound domain of its `From:` (empty when it is not to be signed), and the
/// message back. Signing is CPU work (an RSA signature takes most of a millisecond),
/// so it runs on the blocking pool, not on the threads that serve sessions.
async fn sign(ctx: &ServiceContext, env: &Envelope<'_>, body: Vec<u8>) -> (Vec<u8>, Vec<u8>) {
    let relayed = env.tx.rcpts.iter().any(|r| r.target == Target::Relay);
    if !env.trusted || !relayed || !ctx.config.security.message_authentication.sign_outbound {
        return (Vec::new(), body);
    }
    let Some(domain) =
        crate::message::from_domain(&body).and_then(|d| ctx.config.routing.table.inbound_domain_of(&d).cloned())
    else {
        return (Vec::new(), body);
    };
    let mailauth = std::sync::Arc::clone(&ctx.mailauth);
    // The task gets a copy (cheap beside the signature), so that the message survives
    // whatever happens to the task.
    let copy = body.clone();
    match tokio::task::spawn_blocking(move || mailauth.keys.sign(&domain.to_string(), &copy)).await {
        Ok(signatures) => (signatures, body),
        Err(e) => {
            tracing::error!(target: "mailroom_service::mailauth", error = %e, "the signing task failed; sent unsigned");
            (Vec::new(), body)
        }
    }
}

/// Keeps a client-supplied name from breaking the header it is put in.
fn sanitize(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_graphic()).take(255).collect()
}
