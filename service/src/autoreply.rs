//! Automatic replies ("out of office"), as RFC 3834 asks of a responder: sent from
//! `<>` with `Auto-Submitted: auto-replied`, `In-Reply-To:` and `References:`, at most
//! once per sender in the mailbox's window (7 days by default), and never to `<>`, to
//! mailing lists (`List-Id:`, `Precedence: bulk/list/junk`), to anything itself
//! automatic (`Auto-Submitted:` other than `no`), to a message that asks for none
//! (`X-Auto-Response-Suppress:`), nor to the mailbox itself. The reply's subject may
//! carry the answered message's (`{subject}`). It is DKIM-signed as the mailbox's
//! domain when signing is on. It runs after the message is committed: the `250`
//! never waits for it.

use mail_builder::headers::raw::Raw;

use crate::context::ServiceContext;
use crate::store::{NewMessage, Outbound, OutboundRecipient, TrackEvent, TrackingRecord, now_secs};

/// Answers, where due, for each mailbox the message `content` from `sender` was
/// delivered to.
pub async fn after_delivery(
    ctx: ServiceContext,
    queue_id: String,
    mailboxes: Vec<i64>,
    sender: String,
    content: Vec<u8>,
) {
    // Most servers have no one away: then no more is asked of the store.
    if sender.is_empty() || !ctx.store.any_auto_reply().await || !wants_reply(&content) {
        return;
    }
    let sender = sender.to_ascii_lowercase();
    for mailbox in mailboxes {
        if let Err(e) = answer(&ctx, &queue_id, mailbox, &sender, &content).await {
            tracing::warn!(error = %e, mailbox, "cannot send an automatic reply");
        }
    }
}

/// False for what RFC 3834 says not to answer.
fn wants_reply(content: &[u8]) -> bool {
    let Some(m) = mail_parser::MessageParser::new().parse_headers(content) else { return false };
    let header = |name: &str| m.header_raw(name).map(|v| v.trim().to_ascii_lowercase());
    if header("Auto-Submitted").is_some_and(|v| !v.starts_with("no")) {
        return false;
    }
    if header("Precedence").is_some_and(|v| ["bulk", "list", "junk"].iter().any(|p| v.starts_with(p))) {
        return false;
    }
    if header("List-Id").is_some() || header("List-Unsubscribe").is_some() {
        return false;
    }
    if header("X-Auto-Response-Suppress").is_some_and(|v| v.contains("all") || v.contains("oof")) {
        return false;
    }
    true
}

async fn answer(
    ctx: &ServiceContext,
    queue_id: &str,
    mailbox: i64,
    sender: &str,
    content: &[u8],
) -> Result<(), crate::store::StoreError> {
    let options = ctx.store.mailbox_options(mailbox).await?;
    let Some(reply) = options.auto_reply else { return Ok(()) };
    let now = now_secs();
    if reply.start.is_some_and(|s| now < s) || reply.end.is_some_and(|e| now > e) {
        return Ok(());
    }
    let own = ctx.store.mailbox_addresses(mailbox).await?;
    if own.iter().any(|a| a == sender) {
        return Ok(());
    }
    if !ctx.store.auto_reply_due(mailbox, sender.to_owned(), reply.days, now).await? {
        tracing::debug!(mailbox = %options.address, %sender, "answered within the window; no automatic reply");
        return Ok(());
    }
    let original = mail_parser::MessageParser::new().parse_headers(content);
    let subject = original.as_ref().and_then(|m| m.subject().map(str::to_owned)).unwrap_or_default();
    let message_id = original.as_ref().and_then(|m| m.message_id().map(str::to_owned));
    let host = &ctx.config.general.host_name;
    let mut builder = mail_builder::MessageBuilder::new()
        .from(options.address.as_str())
        .to(sender)
        .subject(reply.subject.replace("{subject}", &subject))
        .date(now)
        .message_id(format!("auto.{now}.{mailbox}@{host}"))
        .header("Auto-Submitted", Raw::new("auto-replied"))
        .text_body(reply.body.replace('\n', "\r\n").replace("\r\r\n", "\r\n"));
    if let Some(id) = &message_id {
        builder = builder.in_reply_to(id.as_str()).references(id.as_str());
    }
    let body = builder.write_to_vec().map_err(|e| crate::store::StoreError::Internal(e.to_string()))?;
    // Signed as the mailbox's domain, when it is one of ours and signing is on.
    let domain = options.address.rsplit_once('@').map(|(_, d)| d.to_owned()).unwrap_or_default();
    let signed = if ctx.config.security.message_authentication.sign_outbound {
        let mailauth = std::sync::Arc::clone(&ctx.mailauth);
        let copy = body.clone();
        tokio::task::spawn_blocking(move || mailauth.keys.sign(&domain, &copy)).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut full = signed;
    full.extend_from_slice(&body);
    let local = match ctx.store.named(sender).await? {
        Some(crate::store::recipients::Named::Mailbox(id)) => Some(id),
        _ => None,
    };
    let tracking = ctx.config.diagnostics.message_tracking.then(|| TrackingRecord {
        recipient: Some(sender.to_owned()),
        sender: Some(String::new()),
        detail: Some(format!("automatic reply from {}", options.address)),
        ..TrackingRecord::now(if local.is_some() { TrackEvent::Delivered } else { TrackEvent::Queued })
    });
    let message = NewMessage {
        queue_id: format!("{queue_id}.AR{mailbox}"),
        received_at: now,
        content: full,
        mailboxes: local.into_iter().collect(),
        local_prefix: if local.is_some() { b"Return-Path: <>\r\n".to_vec() } else { Vec::new() },
        outbound: local.is_none().then(|| Outbound {
            sender: String::new(),
            recipients: vec![OutboundRecipient { address: sender.to_owned(), ..OutboundRecipient::default() }],
            ..Outbound::default()
        }),
        tracking: tracking.into_iter().collect(),
        ..NewMessage::default()
    };
    ctx.store.accept(message).await?;
    if local.is_none() {
        ctx.queue.notify_one();
    }
    tracing::info!(mailbox = %options.address, to = %sender, "automatic reply sent");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_bulk_and_automatic_mail_get_no_reply() {
        assert!(wants_reply(b"Subject: hi\r\n\r\nx\r\n"));
        assert!(wants_reply(b"Auto-Submitted: no\r\nSubject: hi\r\n\r\nx\r\n"));
        assert!(!wants_reply(b"Auto-Submitted: auto-replied\r\n\r\nx\r\n"));
        assert!(!wants_reply(b"Precedence: bulk\r\n\r\nx\r\n"));
        assert!(!wants_reply(b"Precedence: list\r\n\r\nx\r\n"));
        assert!(!wants_reply(b"List-Id: <rust.lists.example>\r\n\r\nx\r\n"));
        assert!(!wants_reply(b"X-Auto-Response-Suppress: OOF\r\n\r\nx\r\n"));
    }
}
