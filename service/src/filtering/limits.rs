//! Sending limits for our own users: a stolen password is the usual way a small
//! organisation's server ends up on a blocklist, and a limit on outside recipients
//! per hour and per day, far above what an office sends, stops the flood early.
//!
//! Past a limit the account is **held**: every outside recipient gets `451 4.7.1`
//! (the client keeps the mail and may try again; nothing is lost) until the
//! administrator unlocks it, who is told once per episode by a message to the
//! administrator's mailbox and on Service Status. Held rather than merely slowed
//! because the limits are set where only a compromised account goes.
//!
//! The counts are the outside recipients of messages accepted, kept in the store by
//! the same transaction that accepts each message, so a restart forgets nothing.

use mail_builder::MessageBuilder;

use crate::context::ServiceContext;
use crate::refusal::Refusal;
use crate::store::{FilterEvent, NewMessage, TrackEvent, TrackingRecord, now_secs};

/// Whether `account` may send to one more outside recipient, `pending` of them being
/// in its current transaction already. A store failure defers (`451 4.3.0`): the
/// limit is not skipped because it could not be read.
///
/// # Errors
/// The reply that refuses the recipient.
pub async fn check(ctx: &ServiceContext, account: &str, pending: u64) -> Result<(), Refusal> {
    let cfg = &ctx.config.filtering;
    if !cfg.sending_limits {
        return Ok(());
    }
    let now = now_secs();
    let counts = ctx.store.sent_counts(account.to_owned(), now).await.map_err(|e| {
        tracing::error!(target: "mailroom_service::filtering", error = %e, "cannot read the sending counts");
        Refusal::new(451, "4.3.0", "Temporary lookup failure, try again later")
    })?;
    let held = Refusal::new(
        451,
        "4.7.1",
        format!(
            "{account} is held for going over its sending limit; the administrator has been told and can unlock it"
        ),
    );
    if counts.held {
        return Err(held);
    }
    let over = if counts.hour + pending + 1 > cfg.max_recipients_per_hour {
        Some(format!("more than {} outside recipients in an hour", cfg.max_recipients_per_hour))
    } else if counts.day + pending + 1 > cfg.max_recipients_per_day {
        Some(format!("more than {} outside recipients in a day", cfg.max_recipients_per_day))
    } else {
        None
    };
    let Some(reason) = over else { return Ok(()) };
    crate::filtering::count(ctx, FilterEvent::SendingLimit);
    match ctx.store.sending_hold(account.to_owned(), reason.clone(), now).await {
        Ok(true) => {
            tracing::warn!(target: "mailroom_service::filtering", %account, %reason, "account held for going over its sending limit");
            tell_administrator(ctx, account, &reason).await;
        }
        Ok(false) => {}
        Err(e) => {
            tracing::error!(target: "mailroom_service::filtering", error = %e, %account, "cannot record a sending hold")
        }
    }
    Err(held)
}

/// Writes to the administrator's mailbox that `account` is held, and why.
async fn tell_administrator(ctx: &ServiceContext, account: &str, reason: &str) {
    let cfg = &ctx.config;
    let Some(admin) = &cfg.general.administrator_mailbox else {
        tracing::warn!(target: "mailroom_service::filtering", %account, "no administrator's mailbox is set to tell of the sending hold");
        return;
    };
    let mailbox = match ctx.store.mailbox_of(&admin.canonical()).await {
        Ok(Some(id)) => id,
        Ok(None) => {
            tracing::warn!(target: "mailroom_service::filtering", %admin, "the administrator's mailbox does not exist; cannot tell of the sending hold");
            return;
        }
        Err(e) => {
            tracing::error!(target: "mailroom_service::filtering", error = %e, "cannot look up the administrator's mailbox");
            return;
        }
    };
    let now = now_secs();
    let host = &cfg.general.host_name;
    // Short lines, so that the text stays readable as it is (no quoted-printable).
    let text = format!(
        "Mailroom is holding the mail this account sends to the outside:\r\n\r\n\
         \x20   {account}\r\n\r\n\
         It tried to send to {reason}.\r\n\
         Its mail client is asked to try again later: nothing is lost.\r\n\r\n\
         An account that suddenly sends this much has usually had its\r\n\
         password stolen. Change the password, then unlock the account:\r\n\
         in the administrator program, Service Status, Accounts held,\r\n\
         Unlock; or with\r\n\r\n\
         \x20   mailroomctl sending unlock {account}\r\n"
    );
    let postmaster = format!("postmaster@{host}");
    let content = MessageBuilder::new()
        .from(("Mailroom", postmaster.as_str()))
        .to(admin.to_string())
        .subject(format!("Mailroom is holding the mail of {account}"))
        .date(now)
        .message_id(format!("hold.{now}.{}@{host}", account.replace(['@', ' '], ".")))
        .header("Auto-Submitted", mail_builder::headers::raw::Raw::new("auto-generated"))
        .text_body(text)
        .write_to_vec();
    let Ok(content) = content else { return };
    let tracking = vec![TrackingRecord {
        recipient: Some(admin.to_string()),
        detail: Some(format!("the administrator told that {account} is held: {reason}")),
        ..TrackingRecord::now(TrackEvent::Delivered)
    }];
    let message = NewMessage {
        queue_id: format!("hold.{now}"),
        received_at: now,
        content,
        mailboxes: vec![mailbox],
        local_prefix: format!("Return-Path: <{postmaster}>\r\n").into_bytes(),
        tracking: if cfg.diagnostics.message_tracking { tracking } else { Vec::new() },
        ..NewMessage::default()
    };
    if let Err(e) = ctx.store.accept(message).await {
        tracing::error!(target: "mailroom_service::filtering", error = %e, "cannot tell the administrator of a sending hold");
    }
}
