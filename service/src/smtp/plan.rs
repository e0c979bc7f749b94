//! What an accepted message becomes, decided before anything is written.
//!
//! [`plan`] is a pure function from the envelope, the message and the configuration
//! (and the few things looked up before it: the DKIM signatures, the SRS secret, the
//! mailboxes' Junk folders) to what the store is asked to keep: a [`NewMessage`] — the
//! content with its `Received:` header, a copy in each local mailbox and the folder it
//! is filed in, the outbound queue entry, the forwarded copies' entry with its SRS
//! sender, the tracking records, the sending-limit count — or, for a message the
//! defences hold, the same wrapped as a [`Held`] for the quarantine. Every decision
//! about a message's fate is here, in one place with unit tests of its own; `accept.rs`
//! only does the I/O around it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use mailroom_shared::config::Config;

use super::command::{Body, Ret};
use super::session::{Target, Transaction};
use crate::store::{Failure, Held, NewMessage, Outbound, OutboundRecipient, SentBy, TrackEvent, TrackingRecord};

/// What is known about a message besides its content.
pub(super) struct Envelope<'a> {
    pub tx: &'a Transaction,
    pub client: SocketAddr,
    pub helo: &'a str,
    pub extended: bool,
    pub auth: Option<&'a str>,
    /// The mailbox an authenticated person sent as or on behalf of (its address), when
    /// not their own: its sending limits count the message.
    pub sent_for: Option<&'a str>,
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
    /// Set when the defences judged the message spam: it is held in the quarantine,
    /// or filed in its recipients' Junk folders (see [`files_as_junk`]).
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

/// What the plan is given besides the envelope, the message and the configuration:
/// the queue id and time of acceptance, and what was looked up for it.
pub(super) struct Given<'a> {
    /// The queue id given to the message.
    pub queue_id: &'a str,
    /// When it was accepted, Unix seconds.
    pub now: i64,
    /// The `DKIM-Signature:` fields to put first (empty when not signed).
    pub signatures: &'a [u8],
    /// The SRS secret, when some recipient is forwarded ([`forwarding_domain`]).
    pub srs_secret: Option<&'a str>,
    /// The Junk folder of each recipient mailbox that has one, when the message is
    /// filed as junk ([`files_as_junk`]).
    pub junk_folders: &'a BTreeMap<i64, i64>,
}

/// What to do with an accepted message.
#[derive(Debug)]
pub(super) enum Plan {
    /// Store it: mailbox copies, queue entries, tracking.
    Deliver(NewMessage),
    /// Hold it in the quarantine.
    Hold(Held),
}

/// The mailboxes that get a copy, each once, in order.
pub(super) fn local_mailboxes(tx: &Transaction) -> Vec<i64> {
    tx.rcpts
        .iter()
        .filter_map(|r| match r.target {
            Target::Mailbox(m) | Target::Folder { mailbox: m, .. } => Some(m),
            _ => None,
        })
        .collect::<BTreeSet<i64>>()
        .into_iter()
        .collect()
}

/// The domain in which forwarded copies' envelope sender is rewritten by SRS (that of
/// the first local address forwarding), or `None` when nothing is forwarded.
pub(super) fn forwarding_domain(tx: &Transaction) -> Option<&str> {
    tx.rcpts.iter().find_map(|r| match &r.target {
        Target::Forward { domain } => Some(domain.as_str()),
        _ => None,
    })
}

/// True when spam is filed in its recipients' Junk folders rather than held: every
/// recipient is a local mailbox of a domain whose users sort their own
/// (Message Filtering's Junk domains).
pub(super) fn files_as_junk(env: &Envelope<'_>, cfg: &Config) -> bool {
    let rcpts = &env.tx.rcpts;
    env.hold.is_some()
        && !rcpts.is_empty()
        && rcpts.iter().all(|r| {
            matches!(r.target, Target::Mailbox(_))
                && r.address.rsplit_once('@').is_some_and(|(_, d)| {
                    cfg.filtering.junk_domains.iter().any(|j| j.to_string().eq_ignore_ascii_case(d))
                })
        })
}

/// The `Received:` header field for the message (RFC 5321 §4.4), with the protocol
/// named as RFC 3848 does (S for TLS, A for an authenticated client).
pub(super) fn received(env: &Envelope<'_>, host_name: impl std::fmt::Display, queue_id: &str, now: i64) -> String {
    let protocol = match (env.extended, env.tls.is_some(), env.auth.is_some()) {
        (false, _, _) => "SMTP",
        (true, false, false) => "ESMTP",
        (true, false, true) => "ESMTPA",
        (true, true, false) => "ESMTPS",
        (true, true, true) => "ESMTPSA",
    };
    let tls = env.tls.map(|v| format!(" (using {v})")).unwrap_or_default();
    let for_clause = match env.tx.rcpts.as_slice() {
        [only] => format!("\r\n\tfor <{}>", only.address),
        _ => String::new(),
    };
    // RFC 5321 §4.1.3: an IPv6 address literal is tagged.
    let literal = match env.client.ip() {
        std::net::IpAddr::V4(ip) => ip.to_string(),
        std::net::IpAddr::V6(ip) => format!("IPv6:{ip}"),
    };
    format!(
        "Received: from {} ([{literal}])\r\n\tby {host_name} (Mailroom) with {protocol}{tls} id {queue_id}{for_clause};\r\n\t{}\r\n",
        sanitize(env.helo),
        crate::message::date(now),
    )
}

/// What `body`, received with `env`, becomes under `cfg`.
pub(super) fn plan(env: &Envelope<'_>, cfg: &Config, body: &[u8], given: &Given<'_>) -> Plan {
    let Given { queue_id, now, signatures, srs_secret, junk_folders } = *given;
    let tx = env.tx;
    let rcpts = &tx.rcpts;
    let received = received(env, &cfg.general.host_name, queue_id, now);
    let results = env.authentication.as_ref().map(|(header, _)| header.as_str()).unwrap_or_default();
    let spam = env.filter.as_ref().map(|(headers, _)| headers.as_str()).unwrap_or_default();
    let mut content = Vec::with_capacity(signatures.len() + results.len() + spam.len() + received.len() + body.len());
    content.extend_from_slice(signatures);
    content.extend_from_slice(results.as_bytes());
    content.extend_from_slice(spam.as_bytes());
    content.extend_from_slice(received.as_bytes());
    content.extend_from_slice(body);
    let mailboxes = local_mailboxes(tx);
    let client = env.client.ip().to_string();
    let entry = |sender: String, recipients: Vec<OutboundRecipient>| Outbound {
        sender,
        envid: tx.envid.clone(),
        ret: tx.ret.map(|r| match r {
            Ret::Full => "FULL",
            Ret::Headers => "HDRS",
        }),
        body_8bit: tx.body == Body::EightBitMime,
        client: Some(client.clone()),
        recipients,
    };
    let outbound_recipient = |r: &super::session::Recipient, failed| OutboundRecipient {
        address: r.address.clone(),
        orcpt: r.orcpt.clone(),
        notify: r.notify.clone(),
        failed,
    };
    let relayed: Vec<OutboundRecipient> = rcpts
        .iter()
        .filter_map(|r| match &r.target {
            // Lists were expanded into their members at RCPT; forwards go below.
            Target::Mailbox(_) | Target::Folder { .. } | Target::Forward { .. } | Target::List(_) => None,
            Target::Relay => Some(outbound_recipient(r, None)),
            // A recipient without a route fails at once: 5.4.4, unable to route.
            Target::Fail(why) => {
                Some(outbound_recipient(r, Some(Failure { status: "5.4.4".into(), reason: why.clone() })))
            }
        })
        .collect();
    let outbound = (!relayed.is_empty()).then(|| entry(tx.from.clone(), relayed));
    // Copies forwarded on behalf of a local address (a custom recipient, a list's
    // outside member) leave with the sender rewritten by SRS in that address's
    // domain, so that SPF at the next server checks our domain.
    let forwarded = match (forwarding_domain(tx), srs_secret) {
        (Some(domain), Some(secret)) => {
            let recipients = rcpts
                .iter()
                .filter(|r| matches!(r.target, Target::Forward { .. }))
                .map(|r| outbound_recipient(r, None))
                .collect();
            Some(entry(crate::srs::rewrite(&tx.from, domain, secret), recipients))
        }
        _ => None,
    };
    let junk = files_as_junk(env, cfg);
    let tracking = if cfg.diagnostics.message_tracking { tracking(env, body, queue_id, now, junk) } else { Vec::new() };
    let local_prefix =
        if mailboxes.is_empty() { Vec::new() } else { format!("Return-Path: <{}>\r\n", tx.from).into_bytes() };
    // Our own users' outside recipients count toward their sending limits.
    let sent_by = env.auth.map(|account| env.sent_for.unwrap_or(account)).map(|account| SentBy {
        account: account.to_owned(),
        recipients: rcpts.iter().filter(|r| matches!(r.target, Target::Relay | Target::Forward { .. })).count() as u64,
    });
    // Spam for Junk folders goes to each mailbox's Junk folder (INBOX for a mailbox
    // without one); other spam is held.
    let mut folders: BTreeMap<i64, i64> = if junk {
        mailboxes.iter().filter_map(|m| Some((*m, *junk_folders.get(m)?))).collect()
    } else {
        BTreeMap::new()
    };
    // A public folder's address files the message in that folder (the first such
    // address of the message, when it names several folders).
    for r in rcpts {
        if let Target::Folder { mailbox, folder } = r.target {
            folders.entry(mailbox).or_insert(folder);
        }
    }
    let message = NewMessage {
        queue_id: queue_id.to_owned(),
        received_at: now,
        content,
        mailboxes,
        folders,
        local_prefix,
        outbound,
        forwarded,
        tracking,
        sent_by,
    };
    match env.hold.as_ref().filter(|_| !junk) {
        None => Plan::Deliver(message),
        Some(hold) => Plan::Hold(Held {
            sender: tx.from.clone(),
            recipients: rcpts.iter().map(|r| r.address.clone()).collect(),
            subject: crate::message::subject(body).unwrap_or_default(),
            score: hold.score,
            reason: hold.reason.clone(),
            client: Some(client),
            message,
        }),
    }
}

/// The message-tracking records of an acceptance: one for the message, one per
/// recipient saying where it went.
fn tracking(env: &Envelope<'_>, body: &[u8], queue_id: &str, now: i64, junk: bool) -> Vec<TrackingRecord> {
    let message_id = crate::message::message_id(body);
    let record = |event, recipient: Option<String>, detail: Option<String>| TrackingRecord {
        at: now,
        event,
        queue_id: Some(queue_id.to_owned()),
        message_id: message_id.clone(),
        sender: Some(env.tx.from.clone()),
        recipient,
        detail,
    };
    let mut detail = format!("from {}", env.client.ip());
    // Who really sent it: the login, beside the mailbox it was sent for.
    match (env.auth, env.sent_for) {
        (Some(account), Some(mailbox)) => detail.push_str(&format!("; sent for {mailbox} by {account}")),
        (Some(account), None) => detail.push_str(&format!("; authenticated as {account}")),
        _ => {}
    }
    for (_, summary) in env.authentication.iter().chain(env.filter.iter()) {
        detail.push_str("; ");
        detail.push_str(summary);
    }
    let mut out = vec![record(TrackEvent::Accepted, None, Some(detail))];
    for r in &env.tx.rcpts {
        let (event, detail) = match (&env.hold, &r.target) {
            (Some(hold), _) if junk => (TrackEvent::Delivered, Some(format!("to the Junk folder: {}", hold.reason))),
            (Some(hold), _) => (TrackEvent::Quarantined, Some(hold.reason.clone())),
            (None, Target::Mailbox(_)) => (TrackEvent::Delivered, None),
            (None, Target::Folder { .. }) => (TrackEvent::Delivered, Some("to a public folder".to_owned())),
            (None, Target::Relay) => (TrackEvent::Queued, None),
            (None, Target::Fail(why)) => (TrackEvent::Failed, Some(why.clone())),
            (None, Target::Forward { .. }) => (TrackEvent::Queued, Some("forwarded".to_owned())),
            (None, Target::List(_)) => continue,
        };
        out.push(record(event, Some(r.address.clone()), detail));
    }
    out
}

/// Keeps a client-supplied name from breaking the header it is put in.
fn sanitize(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_graphic()).take(255).collect()
}

#[cfg(test)]
mod tests;
