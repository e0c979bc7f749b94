//! What the service tells subscribed clients without being asked.

use serde::{Deserialize, Serialize};

use super::ServiceState;
use crate::config::Page;

/// Something the service reports on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The service changed state.
    ServiceState {
        /// The new state.
        state: ServiceState,
        /// Why, when it stopped because of a failure.
        #[serde(default)]
        error: Option<String>,
        /// The configuration field whose value caused the failure (an address that
        /// cannot be listened on: `connections.smtp_listen`…), when one did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        field: Option<String>,
    },
    /// A configuration was saved.
    ConfigSaved {
        /// Its revision.
        revision: u64,
        /// Pages that now differ from the running service.
        pending_pages: Vec<Page>,
    },
    /// Mailboxes were added, changed or removed.
    MailboxesChanged,
    /// The outbound queue changed.
    QueueChanged,
    /// A message was held in, released from or deleted from the quarantine.
    QuarantineChanged,
    /// The traffic figures of [`Request::Monitor`] changed (sent at most every two
    /// seconds).
    MonitorChanged,
    /// A log line.
    Log {
        /// `error`, `warn`, `info`, `debug` or `trace`.
        level: String,
        /// Where it came from (`mailroom_service::smtp`).
        target: String,
        /// The message.
        message: String,
    },
    /// Events were dropped because this client read too slowly.
    Lagged {
        /// How many.
        missed: u64,
    },
}

impl Event {
    /// Whether the event comes of mail moving (deliveries, the queue, the quarantine,
    /// the monitor's figures), which a busy server reports many times a second, rather
    /// than of the service's state or an administrator's change.
    pub fn is_traffic(&self) -> bool {
        matches!(self, Event::MailboxesChanged | Event::QueueChanged | Event::QuarantineChanged | Event::MonitorChanged)
    }
}
