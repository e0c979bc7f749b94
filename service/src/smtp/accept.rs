//! Durable acceptance: one store transaction per message.
//!
//! [`commit`] does the I/O around the pure [`super::plan`]: it signs the message (on
//! the blocking pool), looks up what the plan needs (the SRS secret, the recipients'
//! Junk folders), and has the store commit what the plan decided — durably, fsync'd,
//! before this returns; concurrent sessions share that commit — or hold it in the
//! quarantine. After a delivery it starts the automatic replies, and applies meeting
//! messages (iMIP) to the recipients' calendars.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};

use super::plan::{self, Envelope, Given, Plan};
use super::session::Target;
use crate::context::ServiceContext;
use crate::metrics::Counter;
use crate::store::{FilterEvent, StoreResult, now_secs};

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
    let queue_id = queue_id();
    let now = now_secs();
    let cfg = &ctx.config;
    let (signatures, body) = sign(ctx, env, body).await;
    let srs_secret = match plan::forwarding_domain(env.tx) {
        Some(_) => Some(crate::srs::secret(ctx).await?),
        None => None,
    };
    let as_junk = plan::files_as_junk(env, cfg);
    let junk_folders =
        if as_junk { ctx.store.junk_folders(plan::local_mailboxes(env.tx)).await? } else { BTreeMap::new() };
    let given = Given {
        queue_id: &queue_id,
        now,
        signatures: &signatures,
        srs_secret: srs_secret.as_deref(),
        junk_folders: &junk_folders,
    };
    match plan::plan(env, cfg, &body, &given) {
        Plan::Deliver(message) => {
            let delivered = message.mailboxes.clone();
            ctx.store.accept(message).await?;
            ctx.metrics.count(Counter::Delivered, delivered.len() as u64);
            // Automatic replies, when someone is away (most of the time nobody is, and
            // then delivery asks nothing more): the task gets the header (subject,
            // Message-ID, and what says not to answer).
            let sender = &env.tx.from;
            if !delivered.is_empty() && !sender.is_empty() && ctx.store.any_auto_reply().await {
                let header = body[..crate::message::header_len(&body)].to_vec();
                let (id, sender) = (queue_id.clone(), sender.clone());
                ctx.tasks.spawn(crate::autoreply::after_delivery(ctx.clone(), id, delivered.clone(), sender, header));
            }
            // Meeting requests, replies and cancellations by mail reach the calendars
            // of the people they were delivered to (not what is filed as junk).
            if !delivered.is_empty() && !as_junk && crate::itip::may_be_imip(&body) {
                ctx.tasks.spawn(crate::itip::after_delivery(ctx.clone(), delivered, body.clone()));
            }
        }
        Plan::Hold(held) => {
            let reason = held.reason.clone();
            ctx.store.quarantine_hold(held).await?;
            crate::filtering::count(ctx, FilterEvent::Quarantined);
            let _ = ctx.events.send(mailroom_shared::ipc::Event::QuarantineChanged);
            tracing::info!(target: "mailroom_service::filtering", queue_id = %queue_id, reason = %reason, "message held in the quarantine");
        }
    }
    ctx.metrics.count(Counter::Received, 1);
    Ok(queue_id)
}

/// The `DKIM-Signature:` fields for a message a trusted client (an authenticated user,
/// a network allowed to relay) relays, signed for the inbound domain of its `From:`
/// (empty when it is not to be signed), and the message back. Signing is CPU work (an
/// RSA signature takes most of a millisecond), so it runs on the blocking pool, not on
/// the threads that serve sessions.
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
