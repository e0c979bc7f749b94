//! What the service answers a request with, when it succeeds.

use serde::{Deserialize, Serialize};

use super::{
    AcmeStatus, BackupManifest, CertificateInfo, ContactInfo, DnsRecord, ExportEntry, ListInfo, LockoutInfo,
    MailboxInfo, MonitorMinute, PermissionInfo, PublicFolderInfo, QuarantineEntry, QueueDetails, QueueEntry,
    SendingHoldInfo, StatusReport, TrackingEvent,
};
use crate::config::{Config, Page};
use crate::routing::Decision;

/// Successful answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Response {
    /// To [`Request::Ping`].
    Pong,
    /// To [`Request::Backup`]: what the backup holds.
    Backup(BackupManifest),
    /// To [`Request::ImportMessage`].
    Imported {
        /// True once the last piece arrived.
        complete: bool,
        /// True when the message was stored; false while incomplete, and when the
        /// mailbox had imported its key before.
        stored: bool,
    },
    /// To [`Request::ImportCheck`]: the keys imported before.
    ImportCheck {
        /// Those of the asked keys the mailbox has seen.
        known: Vec<String>,
    },
    /// To [`Request::ExportList`].
    ExportList {
        /// The messages, in id order; fewer than asked when the end is reached.
        messages: Vec<ExportEntry>,
    },
    /// To [`Request::ExportRead`].
    ExportRead {
        /// The piece, base64.
        data: String,
        /// The message's whole size.
        total: u64,
    },
    /// To [`Request::ExportObjects`].
    ExportObjects {
        /// Object names, in order; fewer than 1000 when the end is reached.
        names: Vec<String>,
        /// How many the collection holds.
        total: u64,
    },
    /// To [`Request::Monitor`].
    Monitor {
        /// The last 60 minutes, oldest first; the last is the minute under way.
        minutes: Vec<MonitorMinute>,
    },
    /// To [`Request::Status`], and to start/stop/restart once they are done.
    Status(Box<StatusReport>),
    /// To [`Request::GetConfig`].
    Config {
        /// The saved configuration.
        config: Box<Config>,
        /// Its revision (increases with every save).
        revision: u64,
    },
    /// To [`Request::SetConfig`].
    ConfigSaved {
        /// The new revision.
        revision: u64,
        /// Pages that differ from what the running service uses.
        pending_pages: Vec<Page>,
    },
    /// To [`Request::ListMailboxes`].
    Mailboxes {
        /// Every mailbox, by primary address.
        mailboxes: Vec<MailboxInfo>,
        /// Every distribution list, by address.
        #[serde(default)]
        lists: Vec<ListInfo>,
        /// Every custom recipient, by address.
        #[serde(default)]
        contacts: Vec<ContactInfo>,
        /// Each domain's catch-all mailbox: (domain, the mailbox's primary address).
        #[serde(default)]
        catch_all: Vec<(String, String)>,
        /// Addresses whose mail would be relayed away because their domain is not
        /// inbound while rerouting is on.
        warnings: Vec<String>,
    },
    /// To a mailbox change: the mailbox as it now is.
    Mailbox(Box<MailboxInfo>),
    /// To [`Request::PublicFolders`] and each change of a public folder: every public
    /// folder, by name.
    PublicFolders {
        /// The folders.
        folders: Vec<PublicFolderInfo>,
    },
    /// To [`Request::Permissions`] and [`Request::SetPermission`]: the rights given on
    /// the mailbox, the whole mailbox's first, then by folder, each by grantee.
    Permissions {
        /// The grants.
        permissions: Vec<PermissionInfo>,
    },
    /// To a list change: the list as it now is.
    List(ListInfo),
    /// To a new custom recipient.
    Contact(ContactInfo),
    /// To [`Request::TestAddress`].
    AddressTest {
        /// The decision under the running configuration (the saved one when the
        /// service is stopped): what mail gets now.
        decision: Decision,
        /// The decision in words.
        explanation: String,
        /// What the saved configuration would decide once the service restarts, in
        /// words, when that differs.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after_restart: Option<String>,
    },
    /// To [`Request::QueueList`].
    Queue {
        /// The messages, oldest first.
        messages: Vec<QueueEntry>,
    },
    /// To [`Request::QueueMessage`].
    QueueMessage(Box<QueueDetails>),
    /// To [`Request::Track`].
    Tracking {
        /// The events, newest first.
        events: Vec<TrackingEvent>,
    },
    /// To [`Request::Lockouts`].
    Lockouts {
        /// Every current lock-out, the latest first.
        lockouts: Vec<LockoutInfo>,
    },
    /// To [`Request::Certificate`].
    Certificate {
        /// `None` while the service is not running, or runs without TLS.
        certificate: Option<Box<CertificateInfo>>,
        /// The ACME client's state, when the Security page asks for a certificate from
        /// an ACME CA.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        acme: Option<Box<AcmeStatus>>,
    },
    /// To [`Request::DnsRecords`] and [`Request::DkimRotate`].
    DnsRecords {
        /// The records, by domain.
        records: Vec<DnsRecord>,
    },
    /// To [`Request::QuarantineList`].
    Quarantine {
        /// The held messages, newest first.
        messages: Vec<QuarantineEntry>,
    },
    /// To [`Request::QuarantineMessage`].
    QuarantineMessage {
        /// The message as listed.
        entry: QuarantineEntry,
        /// Its text (at most the first MiB, invalid UTF-8 replaced).
        text: String,
    },
    /// To [`Request::TestFilter`]: the filter answered.
    FilterTest {
        /// What it said, in words (`rspamd at http://127.0.0.1:11333 answered in 3 ms`).
        message: String,
    },
    /// To [`Request::SendingHolds`].
    SendingHolds {
        /// The held accounts, oldest first.
        holds: Vec<SendingHoldInfo>,
    },
    /// Done, nothing to report (remove, subscribe).
    Done,
}
