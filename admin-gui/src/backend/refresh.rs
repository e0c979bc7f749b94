//! Refreshes: what the GUI's picture of the service needs fetched again ([`Wants`]),
//! gathered from events and answered commands into one refresh at a time
//! ([`Refresh`]), and the fetch itself ([`fetch`]), its requests side by side.

use std::sync::Arc;
use std::time::Duration;

use mailroom_client::{Client, QueueFilter};
use mailroom_shared::ipc::Event;
use tokio::time::Instant;

use super::{Replies, Update};

/// What a refresh fetches. Events and answered commands each call for some of it; a
/// burst of them adds up to one refresh.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Wants {
    status: bool,
    config: bool,
    certificate: bool,
    lockouts: bool,
    mailboxes: bool,
    queue: bool,
    quarantine: bool,
    monitor: bool,
}

impl Wants {
    pub(super) const ALL: Wants = Wants {
        status: true,
        config: true,
        certificate: true,
        lockouts: true,
        mailboxes: true,
        queue: true,
        quarantine: true,
        monitor: true,
    };
    pub(super) const NOTHING: Wants = Wants {
        status: false,
        config: false,
        certificate: false,
        lockouts: false,
        mailboxes: false,
        queue: false,
        quarantine: false,
        monitor: false,
    };
    pub(super) const STATUS: Wants = Wants { status: true, ..Wants::NOTHING };
    pub(super) const MAILBOXES: Wants = Wants { mailboxes: true, ..Wants::NOTHING };
    pub(super) const QUEUE: Wants = Wants { queue: true, ..Wants::NOTHING };
    pub(super) const LOCKOUTS: Wants = Wants { lockouts: true, ..Wants::NOTHING };
    /// What goes stale by itself (uptime ticks, lock-outs expire): polled.
    pub(super) const POLLED: Wants = Wants { lockouts: true, ..Wants::STATUS };
    /// The quarantine, and the status that counts it.
    pub(super) const QUARANTINE: Wants = Wants { quarantine: true, ..Wants::STATUS };

    /// What an event makes stale.
    pub(super) fn after(event: &Event) -> Wants {
        match event {
            // A restart changes the state, the listeners, the certificate, and starts
            // with no lock-outs.
            Event::ServiceState { .. } => Wants { certificate: true, lockouts: true, ..Wants::STATUS },
            Event::ConfigSaved { .. } => Wants { config: true, certificate: true, ..Wants::STATUS },
            Event::MailboxesChanged => Wants::MAILBOXES,
            Event::QueueChanged => Wants::QUEUE,
            Event::QuarantineChanged => Wants::QUARANTINE,
            Event::MonitorChanged => Wants { monitor: true, ..Wants::NOTHING },
            Event::Lagged { .. } => Wants::ALL,
            Event::Log { .. } => Wants::NOTHING,
        }
    }

    fn and(self, o: Wants) -> Wants {
        Wants {
            status: self.status || o.status,
            config: self.config || o.config,
            certificate: self.certificate || o.certificate,
            lockouts: self.lockouts || o.lockouts,
            mailboxes: self.mailboxes || o.mailboxes,
            queue: self.queue || o.queue,
            quarantine: self.quarantine || o.quarantine,
            monitor: self.monitor || o.monitor,
        }
    }
}

/// Refreshes asked for and not yet sent: what, and by when.
#[derive(Debug, Default)]
pub(super) struct Refresh {
    wants: Wants,
    /// When to send them; `None`: nothing asked for.
    pub(super) due: Option<Instant>,
}

impl Refresh {
    /// Asks for `wants` within `within` (sooner if already due sooner).
    pub(super) fn ask(&mut self, wants: Wants, within: Duration) {
        if wants == Wants::NOTHING {
            return;
        }
        self.wants = self.wants.and(wants);
        let at = Instant::now() + within;
        self.due = Some(self.due.map_or(at, |due| due.min(at)));
    }

    /// What is asked for, leaving nothing.
    pub(super) fn take(&mut self) -> Wants {
        self.due = None;
        std::mem::take(&mut self.wants)
    }
}

/// Fetches what `wants` asks for, the requests side by side. A request that fails says
/// nothing (the next refresh tries again), but for the status, whose failure the
/// status bar shows.
pub(super) async fn fetch(client: Arc<Client>, wants: Wants, replies: Replies) {
    let c = &*client;
    let replies = &replies;
    tokio::join!(
        async {
            if wants.status {
                status(c, replies).await;
            }
        },
        async {
            if wants.config
                && let Ok((config, revision)) = c.get_config().await
            {
                replies.update(Update::Config(Box::new(config), revision));
            }
        },
        async {
            if wants.certificate
                && let Ok(status) = c.certificate().await
            {
                replies.update(Update::Certificate(status.certificate, status.acme));
            }
        },
        async {
            if wants.lockouts
                && let Ok(lockouts) = c.lockouts().await
            {
                replies.update(Update::Lockouts(lockouts));
            }
        },
        async {
            if wants.mailboxes
                && let Ok(mailboxes) = c.list_mailboxes().await
            {
                replies.update(Update::Mailboxes(mailboxes));
            }
            // The public folders change with the recipients (the same event).
            if wants.mailboxes
                && let Ok(folders) = c.public_folders().await
            {
                replies.update(Update::PublicFolders(folders));
            }
        },
        async {
            if wants.queue
                && let Ok(messages) = c.queue_list(QueueFilter::default()).await
            {
                replies.update(Update::Queue(messages));
            }
        },
        async {
            if wants.quarantine
                && let Ok(messages) = c.quarantine_list().await
            {
                replies.update(Update::Quarantine(messages));
            }
        },
        async {
            if wants.monitor
                && let Ok(minutes) = c.monitor().await
            {
                replies.update(Update::Monitor(minutes));
            }
        },
    );
}

async fn status(client: &Client, replies: &Replies) {
    match client.status().await {
        Ok(s) => replies.update(Update::Status(Box::new(s))),
        Err(e) => replies.update(Update::Error(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::COALESCE;

    #[test]
    fn a_burst_of_events_adds_up_to_one_refresh_due_at_the_first_plus_the_window() {
        let mut r = Refresh::default();
        let start = Instant::now();
        r.ask(Wants::after(&Event::QueueChanged), COALESCE);
        r.ask(Wants::after(&Event::MailboxesChanged), COALESCE);
        r.ask(Wants::after(&Event::Log { level: "info".into(), target: "t".into(), message: "m".into() }), COALESCE);
        let due = r.due.expect("due");
        assert!(due >= start + COALESCE && due <= Instant::now() + COALESCE);
        assert_eq!(r.take(), Wants { mailboxes: true, queue: true, ..Wants::NOTHING });
        assert_eq!((r.due, r.wants), (None, Wants::NOTHING));
    }

    #[test]
    fn an_urgent_ask_brings_the_refresh_forward_and_nothing_asks_for_nothing() {
        let mut r = Refresh::default();
        r.ask(Wants::NOTHING, Duration::ZERO);
        assert_eq!(r.due, None);
        r.ask(Wants::QUEUE, COALESCE);
        r.ask(Wants::STATUS, Duration::ZERO);
        assert!(r.due.expect("due") <= Instant::now());
    }
}
