//! The control plane's side of message filtering: the quarantine (list, read,
//! release, delete), the content filter's test button, the accounts held by a
//! sending limit, and today's counts for Service Status.

use std::time::{Duration, Instant};

use mailroom_shared::config::HttpEndpoint;
use mailroom_shared::ipc::{Event, FilteringStatus, IpcError, QuarantineEntry, Response, SendingHoldInfo};

use crate::lifecycle::Manager;
use crate::store::{FilterEvent, Quarantined, SendingHold, TrackEvent, TrackingRecord};

/// Most of a quarantined message's text sent over the control socket.
const MAX_TEXT: usize = 1024 * 1024;

fn entry(q: Quarantined) -> QuarantineEntry {
    QuarantineEntry {
        id: q.id,
        queue_id: q.queue_id,
        held_at: q.held_at,
        sender: q.sender,
        recipients: q.recipients,
        subject: q.subject,
        score: q.score,
        reason: q.reason,
        client: q.client,
        size: q.size,
    }
}

fn hold(h: SendingHold) -> SendingHoldInfo {
    SendingHoldInfo { account: h.account, since: h.since, reason: h.reason }
}

/// The quarantine, newest first.
pub(super) async fn list(manager: &Manager) -> Result<Response, IpcError> {
    let messages = manager.store().quarantine_list().await?;
    Ok(Response::Quarantine { messages: messages.into_iter().map(entry).collect() })
}

/// One quarantined message with its text.
pub(super) async fn message(manager: &Manager, id: i64) -> Result<Response, IpcError> {
    let (q, data) = manager.store().quarantine_message(id).await?;
    let shown = &data[..data.len().min(MAX_TEXT)];
    Ok(Response::QuarantineMessage { entry: entry(q), text: String::from_utf8_lossy(shown).into_owned() })
}

/// Tracking records for what the administrator did to a quarantined message.
fn records(manager: &Manager, q: &Quarantined, event: TrackEvent, detail: &str) -> Vec<TrackingRecord> {
    if !manager.saved_config().0.diagnostics.message_tracking {
        return Vec::new();
    }
    q.recipients
        .iter()
        .map(|r| TrackingRecord {
            queue_id: Some(q.queue_id.clone()),
            sender: Some(q.sender.clone()),
            recipient: Some(r.clone()),
            detail: Some(detail.to_owned()),
            ..TrackingRecord::now(event)
        })
        .collect()
}

/// Delivers a quarantined message after all.
pub(super) async fn release(manager: &Manager, id: i64) -> Result<Response, IpcError> {
    let (q, _) = manager.store().quarantine_message(id).await?;
    let tracking = records(manager, &q, TrackEvent::Released, "released from the quarantine by the administrator");
    let (q, queued) = manager.store().quarantine_release(id, tracking).await?;
    tracing::info!(target: "mailroom_service::filtering", id, queue_id = %q.queue_id, "quarantined message released");
    if queued {
        manager.wake_queue();
        manager.emit(Event::QueueChanged);
    }
    manager.emit(Event::QuarantineChanged);
    manager.emit(Event::MailboxesChanged);
    Ok(Response::Done)
}

/// Deletes a quarantined message.
pub(super) async fn delete(manager: &Manager, id: i64) -> Result<Response, IpcError> {
    let q = manager.store().quarantine_delete(id).await?;
    let tracking = records(manager, &q, TrackEvent::Discarded, "deleted from the quarantine by the administrator");
    if let Err(e) = manager.store().track(tracking).await {
        tracing::warn!(error = %e, "cannot record a quarantine deletion in message tracking");
    }
    tracing::info!(target: "mailroom_service::filtering", id, queue_id = %q.queue_id, "quarantined message deleted");
    manager.emit(Event::QuarantineChanged);
    Ok(Response::Done)
}

/// Asks rspamd at `url` (or the saved address) whether it is there.
pub(super) async fn test_filter(manager: &Manager, url: Option<String>) -> Result<Response, IpcError> {
    let at = match url {
        Some(u) => HttpEndpoint::parse(&u).map_err(|message| IpcError::InvalidArgument {
            field: "url".into(),
            message: format!("'{u}': {message}"),
        })?,
        None => manager.saved_config().0.filtering.rspamd_url.clone(),
    };
    let started = Instant::now();
    crate::filtering::rspamd::ping(&at, Duration::from_secs(5))
        .await
        .map_err(|e| IpcError::Failed { message: e.to_string(), field: None })?;
    Ok(Response::FilterTest {
        message: format!("rspamd at {at} answered in {} ms", started.elapsed().as_millis().max(1)),
    })
}

/// The accounts held by a sending limit.
pub(super) async fn holds(manager: &Manager) -> Result<Response, IpcError> {
    let holds = manager.store().sending_holds().await?;
    Ok(Response::SendingHolds { holds: holds.into_iter().map(hold).collect() })
}

/// Lets a held account send again.
pub(super) async fn unlock(manager: &Manager, account: &str) -> Result<Response, IpcError> {
    manager.store().sending_unlock(account.trim().to_owned()).await?;
    tracing::info!(target: "mailroom_service::filtering", account, "sending hold lifted by the administrator");
    Ok(Response::Done)
}

/// What the defences did today, what is in the quarantine and who is held; `None`
/// when the store cannot say.
pub(super) async fn status(manager: &Manager) -> Option<FilteringStatus> {
    let store = manager.store();
    let counts = store.filter_counts(crate::filtering::today()).await.ok()?;
    let count = |e: FilterEvent| counts.iter().find(|(what, _)| what == e.as_str()).map_or(0, |(_, n)| *n);
    Some(FilteringStatus {
        dns_listed: count(FilterEvent::DnsList),
        early_talkers: count(FilterEvent::EarlyTalker),
        greylisted: count(FilterEvent::Greylisted),
        filter_rejected: count(FilterEvent::FilterRejected),
        quarantined: count(FilterEvent::Quarantined),
        sending_limited: count(FilterEvent::SendingLimit),
        in_quarantine: store.quarantine_list().await.ok()?.len() as u64,
        held_accounts: store.sending_holds().await.ok()?.into_iter().map(hold).collect(),
    })
}
