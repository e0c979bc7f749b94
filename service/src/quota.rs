//! Storage limits, as Exchange's Information Store set them: *Issue warning at*,
//! *Prohibit send at*, *Prohibit send and receive at*, per mailbox or, where a mailbox
//! sets none, the organisation's (General page).
//!
//! - Over *prohibit receive*, mail to the mailbox is refused at RCPT with
//!   `552 5.2.2 Mailbox full`. Permanent, not `452 4.2.2`: the mailbox fills only by
//!   its owner not cleaning it up, which retries from the sending server will not fix
//!   in the days they last, and a prompt bounce tells the sender at once (Exchange
//!   answered 5.2.2 too). The owner can still read and delete.
//! - Over *prohibit send*, the owner's own mail is refused at MAIL FROM with
//!   `552 5.2.2`, saying to delete some mail.
//! - Over *issue warning*, the owner gets a message saying so, at most once a day
//!   (checked when the service starts and every hour).

use std::time::Duration;

use mailroom_shared::ipc::StorageLimits;

use crate::context::ServiceContext;
use crate::store::options::MailboxOptions;
use crate::store::{NewMessage, TrackEvent, TrackingRecord, now_secs};

/// How often the warnings are looked for.
const EVERY: Duration = Duration::from_secs(3600);

/// A mailbox's limits in bytes (warn, send, receive): its own, else the organisation's
/// (`org`, the General page's, in KB).
pub fn effective(
    org: (Option<u64>, Option<u64>, Option<u64>),
    own: &StorageLimits,
) -> (Option<u64>, Option<u64>, Option<u64>) {
    let (w, s, r) = org;
    let kb = |own: Option<u64>, org: Option<u64>| own.or(org).map(|k| k.saturating_mul(1024));
    (kb(own.warn_kb, w), kb(own.send_kb, s), kb(own.receive_kb, r))
}

/// True when the mailbox may receive no more.
pub fn full(ctx: &ServiceContext, options: &MailboxOptions) -> bool {
    effective(ctx.config.general.mailbox_limits, &options.limits).2.is_some_and(|limit| options.bytes >= limit)
}

/// True when the mailbox's owner may send no more.
pub fn may_not_send(ctx: &ServiceContext, options: &MailboxOptions) -> bool {
    effective(ctx.config.general.mailbox_limits, &options.limits).1.is_some_and(|limit| options.bytes >= limit)
}

/// Warns the owners of mailboxes over their warning limit, once a day, until the run
/// drains.
pub async fn run(ctx: ServiceContext) {
    loop {
        warn_all(&ctx).await;
        tokio::select! {
            () = tokio::time::sleep(EVERY) => {}
            () = ctx.shutdown.draining() => return,
        }
    }
}

async fn warn_all(ctx: &ServiceContext) {
    let Ok(ids) = ctx.store.mailbox_ids().await else { return };
    let now = now_secs();
    for id in ids {
        let Ok(options) = ctx.store.mailbox_options(id).await else { continue };
        let Some(limit) = effective(ctx.config.general.mailbox_limits, &options.limits).0 else { continue };
        if options.bytes < limit || options.warned_at.is_some_and(|at| now - at < 86_400) {
            continue;
        }
        match warn(ctx, id, &options, limit, now).await {
            Ok(()) => {
                tracing::info!(mailbox = %options.address, bytes = options.bytes, limit, "told the owner the mailbox is over its warning limit")
            }
            Err(e) => tracing::warn!(mailbox = %options.address, error = %e, "cannot warn of a mailbox's size"),
        }
    }
}

/// Delivers the warning to the mailbox and notes when.
async fn warn(
    ctx: &ServiceContext,
    mailbox: i64,
    options: &MailboxOptions,
    limit: u64,
    now: i64,
) -> Result<(), crate::store::StoreError> {
    let host = &ctx.config.general.host_name;
    let (_, send, receive) = effective(ctx.config.general.mailbox_limits, &options.limits);
    let kb = |b: u64| b.div_ceil(1024);
    let mut text = format!(
        "Your mailbox {} holds {} KB, more than its warning limit of {} KB.\r\n\r\n",
        options.address,
        kb(options.bytes),
        kb(limit)
    );
    if let Some(s) = send {
        text.push_str(&format!("At {} KB you will not be able to send mail.\r\n", kb(s)));
    }
    if let Some(r) = receive {
        text.push_str(&format!("At {} KB mail sent to you will be returned to its senders.\r\n", kb(r)));
    }
    text.push_str("\r\nPlease delete mail you no longer need, and empty Deleted Items or Trash.\r\n");
    let postmaster = format!("postmaster@{host}");
    let content = mail_builder::MessageBuilder::new()
        .from(("System Administrator", postmaster.as_str()))
        .to(options.address.as_str())
        .subject("Your mailbox is almost full")
        .date(now)
        .message_id(format!("quota.{now}.{mailbox}@{host}"))
        .header("Auto-Submitted", mail_builder::headers::raw::Raw::new("auto-generated"))
        .text_body(text)
        .write_to_vec()
        .map_err(|e| crate::store::StoreError::Internal(e.to_string()))?;
    let message = NewMessage {
        queue_id: format!("quota.{now}.{mailbox}"),
        received_at: now,
        content,
        mailboxes: vec![mailbox],
        local_prefix: b"Return-Path: <>\r\n".to_vec(),
        tracking: if ctx.config.diagnostics.message_tracking {
            vec![TrackingRecord {
                recipient: Some(options.address.clone()),
                detail: Some("told the mailbox is over its warning limit".into()),
                ..TrackingRecord::now(TrackEvent::Delivered)
            }]
        } else {
            Vec::new()
        },
        ..NewMessage::default()
    };
    ctx.store.accept(message).await?;
    ctx.store.set_warned(mailbox, now).await
}
