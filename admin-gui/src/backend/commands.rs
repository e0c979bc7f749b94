//! Running the UI's commands: each one's request (through the client's typed methods),
//! the update that answers it, and the refresh it calls for.

use std::future::Future;
use std::sync::Arc;

use mailroom_client::{Client, ClientError, MailboxChange, TrackQuery};
use mailroom_shared::ipc::IpcError;

use super::refresh::Wants;
use super::{AddressVerdict, Command, Failure, ImportSource, Lifecycle, Replies, Update};

/// A request whose only answer is the refresh after it; a failure goes to the status bar.
async fn fire<T>(replies: &Replies, request: impl Future<Output = Result<T, ClientError>>, then: Wants) {
    if let Err(e) = request.await {
        replies.update(Update::Error(e.to_string()));
    }
    replies.refresh(then);
}

/// Runs one command: its request, the update that answers it, and the refresh it
/// calls for (sent to the loop, which coalesces it with the events' own).
pub(super) async fn handle(client: Arc<Client>, cmd: Command, replies: Replies) {
    let client = &*client;
    let replies = &replies;
    match cmd {
        Command::Refresh => replies.refresh(Wants::ALL),
        // Handled by the connection's loop.
        Command::Connect(_) => {}
        Command::Lifecycle(op) => lifecycle(client, op, replies).await,
        Command::SaveConfig { draft, base_revision } => match client.save_config(*draft, Some(base_revision)).await {
            Ok((revision, _)) => {
                replies.update(Update::Saved { revision });
                replies.refresh(Wants::ALL);
            }
            Err(e) => replies.update(Update::SaveFailed(e)),
        },
        Command::AddMailbox { display_name, addresses, password } => {
            fire(replies, client.add_mailbox(display_name, addresses, password), Wants::MAILBOXES).await;
        }
        Command::UpdateMailbox { address, display_name, addresses, password } => {
            let change = MailboxChange { display_name: Some(display_name), addresses: Some(addresses), password };
            fire(replies, client.update_mailbox(address, change), Wants::MAILBOXES).await;
        }
        Command::RemoveMailbox(address) => fire(replies, client.remove_mailbox(address), Wants::MAILBOXES).await,
        Command::FromDialog(requests) => {
            let mut answer = Ok(());
            for request in requests {
                if let Err(e) = client.request(request).await {
                    answer = Err(super::DialogError::of(&e));
                    break;
                }
            }
            replies.update(Update::DialogAnswer(answer));
            replies.refresh(Wants::MAILBOXES);
        }
        Command::Recipients(requests) => {
            for request in requests {
                if let Err(e) = client.request(request).await {
                    replies.update(Update::Error(e.to_string()));
                    break;
                }
            }
            replies.refresh(Wants::MAILBOXES);
        }
        Command::RetryQueue(queue_id) => fire(replies, client.queue_retry(queue_id), Wants::QUEUE).await,
        Command::DeleteQueued { queue_id, ndr } => {
            fire(replies, client.queue_delete(queue_id, ndr), Wants::QUEUE).await
        }
        Command::Unlock(who) => fire(replies, client.unlock(who), Wants::LOCKOUTS).await,
        Command::DnsRecords { check } => {
            let result = client.dns_records(None, check).await.map_err(|e| e.to_string());
            replies.update(Update::DnsRecords(result));
        }
        Command::Import { address, source } => import(client, address, source, replies).await,
        Command::RenewCertificate => match client.renew_certificate().await {
            Ok(status) => {
                replies.update(Update::Certificate(status.certificate, status.acme));
                replies.update(Update::RenewDone(Ok(())));
            }
            Err(e) => {
                replies.update(Update::RenewDone(Err(e.to_string())));
                if let Ok(status) = client.certificate().await {
                    replies.update(Update::Certificate(status.certificate, status.acme));
                }
            }
        },
        Command::Backup(path) => {
            let result = client.backup(path.clone()).await.map(|m| (path, m)).map_err(|e| e.to_string());
            replies.update(Update::BackupDone(result));
        }
        Command::DkimRotate(domain) => {
            if let Err(e) = client.dkim_rotate(domain).await {
                replies.update(Update::Error(e.to_string()));
            }
            let result = client.dns_records(None, false).await.map_err(|e| e.to_string());
            replies.update(Update::DnsRecords(result));
        }
        Command::QuarantineMessage(id) => {
            let result = client.quarantine_message(id).await;
            let result = result.map(|(entry, text)| (Box::new(entry), text)).map_err(|e| e.to_string());
            replies.update(Update::QuarantineMessage(result));
        }
        Command::QuarantineRelease(id) => fire(replies, client.quarantine_release(id), Wants::QUARANTINE).await,
        Command::QuarantineDelete(id) => fire(replies, client.quarantine_delete(id), Wants::QUARANTINE).await,
        Command::SendingUnlock(account) => fire(replies, client.sending_unlock(account), Wants::STATUS).await,
        Command::TestFilter(url) => {
            replies.update(Update::FilterTest(client.test_filter(url).await.map_err(|e| e.to_string())));
        }
        Command::QueueDetails(queue_id) => match client.queue_message(queue_id).await {
            Ok(d) => replies.update(Update::QueueDetails(Box::new(d))),
            Err(e) => replies.update(Update::Error(e.to_string())),
        },
        Command::Track { sender, recipient } => {
            let none_if_empty = |s: String| (!s.trim().is_empty()).then_some(s);
            let query = TrackQuery {
                sender: none_if_empty(sender),
                recipient: none_if_empty(recipient),
                ..TrackQuery::default()
            };
            match client.track(query).await {
                Ok(events) => replies.update(Update::Tracking(events)),
                Err(e) => replies.update(Update::Error(e.to_string())),
            }
        }
        Command::TestAddress { recipient, authenticated_as, client_ip } => {
            let authenticated_as = (!authenticated_as.trim().is_empty()).then_some(authenticated_as);
            let result = client.test_address(recipient, authenticated_as, client_ip).await;
            let result = result
                .map(|t| AddressVerdict { decision: t.decision, now: t.explanation, after_restart: t.after_restart })
                .map_err(|e| e.to_string());
            replies.update(Update::AddressTest(result));
        }
    }
}

/// Start, stop or restart: done (and everything fetched again), or why not.
async fn lifecycle(client: &Client, op: Lifecycle, replies: &Replies) {
    let result = match op {
        Lifecycle::Start => client.start().await,
        Lifecycle::Stop => client.stop().await,
        Lifecycle::Restart => client.restart().await,
    };
    let result = result.map(|_| ()).map_err(|e| match e {
        ClientError::Remote(IpcError::Failed { message, field }) => Failure { message, field },
        other => Failure { message: other.to_string(), field: None },
    });
    replies.update(Update::LifecycleDone(result));
    replies.refresh(Wants::ALL);
}

/// Mail from files on this computer into a mailbox, its progress told as it goes.
async fn import(client: &Client, address: String, source: ImportSource, replies: &Replies) {
    let read = tokio::task::spawn_blocking(move || match source {
        ImportSource::Maildir(dir) => mailroom_client::transfer::read_maildir(&dir),
        ImportSource::Mbox(file) => mailroom_client::transfer::read_mbox(&file),
    })
    .await;
    let result = match read {
        Ok(Ok(messages)) => {
            replies.update(Update::ImportProgress(0, messages.len() as u64));
            mailroom_client::transfer::import(client, &address, &messages, |done, total| {
                replies.update(Update::ImportProgress(done, total));
            })
            .await
            .map_err(|e| e.to_string())
        }
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(format!("reading the files failed: {e}")),
    };
    replies.update(Update::ImportDone(result));
    replies.refresh(Wants::MAILBOXES);
}
