//! Store changes as control-socket events: when mail is delivered, read over IMAP or
//! deleted over POP3, the mailboxes' counts change, and the Administrator's Recipients
//! list should follow. The store's notices of changed mailboxes become
//! [`Event::MailboxesChanged`], at most one a second, so that a burst of deliveries is
//! one refresh.

use std::time::Duration;

use mailroom_shared::ipc::Event;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use crate::context::ServiceContext;

/// The least time between two events.
const EVERY: Duration = Duration::from_secs(1);

/// Forwards the store's notices for the run until it drains.
pub async fn run(ctx: ServiceContext) {
    let mut watch = ctx.store.watch();
    loop {
        tokio::select! {
            notice = watch.recv() => match notice {
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
            () = ctx.shutdown.draining() => return,
        }
        // Whatever else changes meanwhile is told by the same event.
        tokio::select! {
            () = tokio::time::sleep(EVERY) => {}
            () = ctx.shutdown.draining() => return,
        }
        while !matches!(watch.try_recv(), Err(TryRecvError::Empty | TryRecvError::Closed)) {}
        let _ = ctx.events.send(Event::MailboxesChanged);
    }
}
