//! Committing messages, and the message-tracking log.
//!
//! [`NewMessage`] is what every message that enters Mailroom becomes — a message
//! accepted over SMTP, an NDR Mailroom writes — and [`Store::accept`] is the one path
//! that stores it: its content once, a copy row in each local mailbox, and (when some
//! recipients are not local) one outbound queue entry with those recipients, with its
//! tracking records, in one durable transaction.

use super::{Backend, Store, StoreResult, dispatch};

/// A message to store.
#[derive(Debug, Clone, Default)]
pub struct NewMessage {
    /// Queue id, shown to people and in tracking.
    pub queue_id: String,
    /// Arrival, Unix seconds.
    pub received_at: i64,
    /// The message as it will be delivered (with its `Received:` header), stored once
    /// and shared by every copy below.
    pub content: Vec<u8>,
    /// Local mailboxes that get a copy (store ids, each once).
    pub mailboxes: Vec<i64>,
    /// Header lines put before the content in each mailbox copy (`Return-Path:`);
    /// kept per copy, so the content stays shared.
    pub local_prefix: Vec<u8>,
    /// The outbound queue entry, when some recipients are not local.
    pub outbound: Option<Outbound>,
    /// A second queue entry (queue id with `-F`) for the copies forwarded on behalf of
    /// local addresses, whose envelope sender SRS rewrote.
    pub forwarded: Option<Outbound>,
    /// Tracking records written in the same transaction.
    pub tracking: Vec<TrackingRecord>,
    /// The authenticated account that sent it and how many outside recipients it
    /// has, counted for the sending limits in the same transaction.
    pub sent_by: Option<SentBy>,
    /// The folder a mailbox's copy is filed in, where it is not INBOX (spam filed in
    /// the mailbox's Junk folder): mailbox id → folder id, a folder of that mailbox.
    pub folders: std::collections::BTreeMap<i64, i64>,
}

/// Who sent a message to outside recipients, for the sending limits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SentBy {
    /// The login.
    pub account: String,
    /// Its outside recipients.
    pub recipients: u64,
}

/// A message's outbound queue entry.
#[derive(Debug, Clone, Default)]
pub struct Outbound {
    /// Envelope sender; empty for `<>`.
    pub sender: String,
    /// DSN ENVID.
    pub envid: Option<String>,
    /// DSN RET (`FULL` / `HDRS`).
    pub ret: Option<&'static str>,
    /// The client declared BODY=8BITMIME.
    pub body_8bit: bool,
    /// The client's address, for the record.
    pub client: Option<String>,
    /// The recipients.
    pub recipients: Vec<OutboundRecipient>,
}

/// One recipient of an outbound queue entry.
#[derive(Debug, Clone, Default)]
pub struct OutboundRecipient {
    /// The address.
    pub address: String,
    /// DSN ORCPT, as given.
    pub orcpt: Option<String>,
    /// DSN NOTIFY, as given.
    pub notify: Option<String>,
    /// Set when the recipient fails at once (no route): it is stored failed, and its
    /// NDR is written by the queue.
    pub failed: Option<Failure>,
}

/// A permanent failure known at acceptance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Enhanced status code (`5.4.4`).
    pub status: String,
    /// Why, in words.
    pub reason: String,
}

/// What happened, in a message-tracking record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackEvent {
    /// A message was accepted over SMTP.
    Accepted,
    /// Delivered to a local mailbox.
    Delivered,
    /// Queued for delivery elsewhere.
    Queued,
    /// Accepted by the next hop.
    Relayed,
    /// A temporary failure; to be retried.
    Deferred,
    /// A permanent failure.
    Failed,
    /// A recipient refused at RCPT.
    Refused,
    /// Retrieved over POP3.
    Pop3Retrieved,
    /// Deleted over POP3.
    Pop3Deleted,
    /// A login over IMAP.
    ImapLogin,
    /// Held in the quarantine instead of delivered.
    Quarantined,
    /// Released from the quarantine by the administrator.
    Released,
    /// Deleted from the quarantine, by the administrator or after its keep.
    Discarded,
}

impl TrackEvent {
    /// The name stored and shown (`mailroomctl track`, the GUI).
    pub fn as_str(self) -> &'static str {
        match self {
            TrackEvent::Accepted => "accepted",
            TrackEvent::Delivered => "delivered",
            TrackEvent::Queued => "queued",
            TrackEvent::Relayed => "relayed",
            TrackEvent::Deferred => "deferred",
            TrackEvent::Failed => "failed",
            TrackEvent::Refused => "refused",
            TrackEvent::Pop3Retrieved => "pop3_retrieved",
            TrackEvent::Pop3Deleted => "pop3_deleted",
            TrackEvent::ImapLogin => "imap_login",
            TrackEvent::Quarantined => "quarantined",
            TrackEvent::Released => "released",
            TrackEvent::Discarded => "discarded",
        }
    }
}

/// One message-tracking record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingRecord {
    /// When, Unix seconds.
    pub at: i64,
    /// What happened.
    pub event: TrackEvent,
    /// The queue id, if the record is about a message Mailroom holds.
    pub queue_id: Option<String>,
    /// The message's `Message-ID:`, if known.
    pub message_id: Option<String>,
    /// The envelope sender, if known.
    pub sender: Option<String>,
    /// The recipient (or POP3 login).
    pub recipient: Option<String>,
    /// Anything more, in words.
    pub detail: Option<String>,
}

impl TrackingRecord {
    /// A record of `event` now, with every other field empty.
    pub fn now(event: TrackEvent) -> TrackingRecord {
        TrackingRecord {
            at: super::now_secs(),
            event,
            queue_id: None,
            message_id: None,
            sender: None,
            recipient: None,
            detail: None,
        }
    }
}

impl Store {
    /// Stores a message — its content once, its mailbox copies, its queue entry and
    /// its tracking records — in one durable transaction.
    ///
    /// Write, atomic: the content (kept only if something uses it), every copy (each
    /// with its folder's next UID and a new mod-sequence), the queue entries
    /// (`outbound` and `forwarded`), the tracking records and the sending count. The
    /// watchers hear of each mailbox after the commit.
    ///
    /// # Errors
    /// Any failure ([`super::StoreError::NotFound`] when a mailbox or its folder does
    /// not exist); then nothing of the message was kept.
    pub async fn accept(&self, message: NewMessage) -> StoreResult<()> {
        let mailboxes = message.mailboxes.clone();
        dispatch!(self, b => b.accept(message).await)?;
        for mailbox in mailboxes {
            self.changed(mailbox);
        }
        Ok(())
    }

    /// Appends records to the message-tracking log.
    ///
    /// Write, atomic: all the records or none.
    ///
    /// # Errors
    /// Any failure; then none was written.
    pub async fn track(&self, records: Vec<TrackingRecord>) -> StoreResult<()> {
        if records.is_empty() {
            return Ok(());
        }
        dispatch!(self, b => b.track(records).await)
    }
}
