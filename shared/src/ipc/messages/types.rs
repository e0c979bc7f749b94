//! The data the protocol carries: status reports, queue entries, recipients,
//! certificates, backups, the Monitor's minutes.

use serde::{Deserialize, Serialize};

use crate::config::Page;

/// A message held in the quarantine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuarantineEntry {
    /// Its quarantine id.
    pub id: i64,
    /// The queue id it was given when accepted.
    pub queue_id: String,
    /// When it was held, Unix seconds.
    pub held_at: i64,
    /// Envelope sender (empty for `<>`).
    pub sender: String,
    /// Its recipients.
    pub recipients: Vec<String>,
    /// Its subject.
    pub subject: String,
    /// The content filter's score, if it scanned it.
    pub score: Option<f64>,
    /// Why it is held.
    pub reason: String,
    /// The client that sent it.
    pub client: Option<String>,
    /// Its size, bytes.
    pub size: u64,
}

/// An account held for going over a sending limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendingHoldInfo {
    /// The account's login.
    pub account: String,
    /// Since when, Unix seconds.
    pub since: i64,
    /// Which limit, in words.
    pub reason: String,
}

/// What the Message Filtering page's defences did today, for Service Status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilteringStatus {
    /// Clients refused for being on a DNS blocklist.
    pub dns_listed: u64,
    /// Clients refused for talking before the greeting.
    pub early_talkers: u64,
    /// Recipients greylisted.
    pub greylisted: u64,
    /// Messages refused by the content filter.
    pub filter_rejected: u64,
    /// Messages held in the quarantine.
    pub quarantined: u64,
    /// Recipients refused by a sending limit.
    pub sending_limited: u64,
    /// Messages in the quarantine now.
    pub in_quarantine: u64,
    /// Accounts held for going over a sending limit.
    pub held_accounts: Vec<SendingHoldInfo>,
}

/// A DNS record an inbound domain should publish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsRecord {
    /// The inbound domain it is for.
    pub domain: String,
    /// Its name, without the final dot (`20261127-rsa._domainkey.corp.test`).
    pub name: String,
    /// `MX`, `TXT` or `SRV`.
    pub kind: String,
    /// Its value as published (`10 mail.corp.test`, `v=spf1 mx -all`…).
    pub value: String,
    /// What it is for, in words (`SPF`, `DKIM, RSA, signs`…).
    pub purpose: String,
    /// What DNS says now, when a check was asked for.
    #[serde(default)]
    pub check: Option<RecordCheck>,
}

/// Whether a record is published as it should be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RecordCheck {
    /// Found, with the value it should have.
    Published,
    /// Nothing of its kind at its name.
    Missing,
    /// Found, with other values.
    Different {
        /// What DNS has at that name, of that kind.
        found: Vec<String>,
    },
    /// The lookup failed (the DNS server did not answer, say).
    Failed {
        /// Why.
        error: String,
    },
}

/// A queued message as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueEntry {
    /// Queue id.
    pub queue_id: String,
    /// Envelope sender; empty for `<>`.
    pub sender: String,
    /// Recipients not yet delivered.
    pub recipients: Vec<String>,
    /// Size in bytes.
    pub size: u64,
    /// Arrival, Unix seconds.
    pub received_at: i64,
    /// Next attempt, Unix seconds, if one is scheduled.
    pub next_attempt: Option<i64>,
    /// The last error of any recipient.
    pub last_error: Option<String>,
}

/// One recipient of a queued message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueRecipient {
    /// The address.
    pub address: String,
    /// `scheduled`, `in_flight`, `deferred`, `delivered` or `failed`.
    pub state: String,
    /// Attempts so far.
    pub attempts: u32,
    /// Next attempt, Unix seconds.
    pub next_attempt: Option<i64>,
    /// Last reply or problem.
    pub last_error: Option<String>,
    /// The host that gave it.
    pub remote_mta: Option<String>,
}

/// A queued message in detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueDetails {
    /// The summary.
    pub entry: QueueEntry,
    /// Every recipient, with its state.
    pub recipients: Vec<QueueRecipient>,
    /// The message's header section.
    pub headers: String,
}

/// A message-tracking event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingEvent {
    /// When, Unix seconds.
    pub at: i64,
    /// `accepted`, `delivered`, `queued`, `relayed`, `deferred`, `failed`, `refused`,
    /// `pop3_retrieved`, `pop3_deleted`, `imap_login`, `quarantined`, `released`, `discarded`.
    pub event: String,
    /// Queue id, when known.
    pub queue_id: Option<String>,
    /// Message-ID header, when known.
    pub message_id: Option<String>,
    /// Envelope sender.
    pub sender: Option<String>,
    /// Recipient.
    pub recipient: Option<String>,
    /// Details.
    pub detail: Option<String>,
}

/// The Internet Mail Service's lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceState {
    /// Not running; the control socket still answers.
    Stopped,
    /// Loading configuration and binding listeners.
    Starting,
    /// Serving.
    Running,
    /// Draining in-flight work.
    Stopping,
}

impl std::fmt::Display for ServiceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ServiceState::Stopped => "stopped",
            ServiceState::Starting => "starting",
            ServiceState::Running => "running",
            ServiceState::Stopping => "stopping",
        })
    }
}

/// The service's state as `mailroomctl status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    /// Lifecycle state.
    pub state: ServiceState,
    /// The SMTP address actually bound (so a configured port 0 is usable).
    pub smtp_addr: Option<String>,
    /// The POP3 address actually bound.
    pub pop3_addr: Option<String>,
    /// The SMTP-over-TLS (submissions) address bound, if that listener is on.
    #[serde(default)]
    pub submissions_addr: Option<String>,
    /// Where message submission (port 587) listens, when it does.
    #[serde(default)]
    pub submission_addr: Option<String>,
    /// Where the Prometheus endpoint listens, when it does.
    #[serde(default)]
    pub metrics_addr: Option<String>,
    /// The POP3-over-TLS (pop3s) address bound, if that listener is on.
    #[serde(default)]
    pub pop3s_addr: Option<String>,
    /// The IMAP4 address bound, if that listener is on.
    #[serde(default)]
    pub imap_addr: Option<String>,
    /// The IMAP4-over-TLS (imaps) address bound, if that listener is on.
    #[serde(default)]
    pub imaps_addr: Option<String>,
    /// Every listener of the running service (the addresses above among them).
    #[serde(default)]
    pub listeners: Vec<ListenerStatus>,
    /// The data directory's disk and what Mailroom keeps on it; `None` when the disk
    /// cannot be measured.
    #[serde(default)]
    pub storage: Option<StorageStatus>,
    /// What the defences did today; `None` when it cannot be read.
    #[serde(default)]
    pub filtering: Option<FilteringStatus>,
    /// True when saved configuration differs from what the running service uses.
    pub pending_restart: bool,
    /// Which pages differ.
    pub pending_pages: Vec<Page>,
    /// Why the last start failed, in the service's words, if it did.
    pub last_error: Option<String>,
    /// The configuration field that caused it, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error_field: Option<String>,
    /// Seconds since the service reached Running.
    pub uptime_secs: Option<u64>,
    /// Revision of the saved configuration.
    pub config_revision: u64,
    /// Revision the running service was started with.
    pub running_revision: Option<u64>,
    /// `mailroomd` version.
    pub version: String,
    /// Data directory.
    pub data_dir: String,
    /// Process id of `mailroomd`.
    pub pid: u32,
    /// Scheduled backups: where, when next, how the last one went; `None` when the
    /// Backup page schedules none.
    #[serde(default)]
    pub backups: Option<BackupSchedule>,
}

/// The Backup page's schedule as it runs.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BackupSchedule {
    /// The directory the backups go to, on the service's machine.
    pub directory: String,
    /// How many are kept.
    pub keep: u32,
    /// When the next one is due, Unix seconds.
    pub next_at: Option<i64>,
    /// When the last one was made (or failed), Unix seconds.
    pub last_at: Option<i64>,
    /// The last one's file, when it succeeded.
    pub last_file: Option<String>,
    /// Why the last one failed.
    pub last_error: Option<String>,
}

/// The data directory's disk, and what Mailroom keeps on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageStatus {
    /// Bytes still free (for the service's user).
    pub free_bytes: u64,
    /// The disk's size.
    pub total_bytes: u64,
    /// Bytes kept free: below this, new mail is refused.
    pub reserve_bytes: u64,
    /// Free space is below the reserve: new mail is being refused with `452 4.3.1`.
    pub low: bool,
    /// The database (mail, queue, tracking), with its write-ahead log.
    pub database_bytes: u64,
    /// The daily log files.
    pub log_bytes: u64,
    /// Tracking records and log files are kept this many days.
    pub keep_days: u64,
}

/// One listener of the running service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenerStatus {
    /// What listens there, in words (`SMTP`, `POP3 over TLS (pop3s)`).
    pub protocol: String,
    /// The address actually bound.
    pub address: String,
}

/// A client address or login name locked out after too many failed logins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockoutInfo {
    /// The address (`192.0.2.7`) or login name (`ann@corp.test`).
    pub client: String,
    /// True for an address, false for a login name.
    pub is_address: bool,
    /// For an address locked out for one account only (not for every account): that
    /// account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// For a login name: the account is under attack, and logins to it from addresses
    /// it does not know are slowed (its owner is not locked out).
    #[serde(default)]
    pub slowed: bool,
    /// Failed logins counted within the window.
    pub failures: u32,
    /// Until when, Unix seconds (later if the failures go on).
    pub until: i64,
}

/// The TLS certificate the service presents, for people to check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateInfo {
    /// True for the certificate Mailroom made for itself at first start; false for
    /// the PEM files named on the Security page.
    pub self_signed: bool,
    /// The PEM file it was read from.
    pub path: String,
    /// Subject distinguished name (`CN=mail.corp.test`).
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// DNS names and IP addresses it is valid for (subject alternative names).
    pub names: Vec<String>,
    /// Valid from, Unix seconds.
    pub not_before: i64,
    /// Valid until, Unix seconds.
    pub not_after: i64,
    /// SHA-256 of the DER certificate, upper-case hex pairs joined by colons, as
    /// browsers and `openssl x509 -fingerprint -sha256` show it.
    pub sha256_fingerprint: String,
}

/// The most bytes of a message one import or export request carries (so that a line
/// of base64 stays well within [`super::MAX_LINE`]).
pub const TRANSFER_CHUNK: usize = 512 * 1024;

/// One message of a mailbox, as an export lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportEntry {
    /// Its id (the cursor for the next page, and the handle to read it).
    pub id: i64,
    /// Its folder.
    pub folder: String,
    /// Its IMAP system flags.
    pub flags: Vec<String>,
    /// INTERNALDATE, Unix seconds.
    pub received_at: i64,
    /// Octets.
    pub size: u64,
}

/// Where the ACME client stands, for the Security page and `mailroomctl certificate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcmeStatus {
    /// The CA's directory URL.
    pub directory_url: String,
    /// The names asked for.
    pub names: Vec<String>,
    /// What it is doing.
    pub state: AcmeState,
    /// Why the last attempt failed, in the CA's or the network's words.
    #[serde(default)]
    pub last_error: Option<String>,
    /// When it last tried, Unix seconds.
    #[serde(default)]
    pub last_attempt: Option<i64>,
    /// When the certificate in use will be renewed (30 days before it expires), or
    /// when a failed attempt is retried, Unix seconds.
    #[serde(default)]
    pub next_attempt: Option<i64>,
}

/// The ACME client's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AcmeState {
    /// Asking the CA for a certificate (the service presents its previous or a
    /// self-signed one meanwhile).
    Obtaining,
    /// The certificate from the CA is in use.
    Valid,
    /// The last attempt failed; it is retried later.
    Failed,
}

/// A backup's manifest, kept in the backup file beside the database: what made it,
/// what it holds, and the database's checksum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupManifest {
    /// The mailroomd version that made it.
    pub version: String,
    /// When, Unix seconds.
    pub created_at: i64,
    /// The database's schema version.
    pub schema: i64,
    /// Mailboxes in it.
    pub mailboxes: u64,
    /// Mailbox copies of messages in it.
    pub messages: u64,
    /// Messages in its outbound queue.
    pub queued: u64,
    /// The database's size, bytes.
    pub database_bytes: u64,
    /// SHA-256 of the database, lower-case hex.
    pub sha256: String,
}

/// One minute of traffic, for Server → Monitor: what happened in it, and the queue
/// and sessions as they stood at its end (or now, for the minute under way).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorMinute {
    /// Its start, Unix seconds (a multiple of 60).
    pub at: i64,
    /// Messages accepted over SMTP.
    pub received: u64,
    /// Copies delivered to local mailboxes.
    pub delivered: u64,
    /// Recipients accepted by the next hop.
    pub relayed: u64,
    /// Recipients whose delivery failed for now, to be tried again.
    pub deferred: u64,
    /// Recipients that failed for good (a non-delivery report goes to the sender).
    pub bounced: u64,
    /// Commands refused with a 5xx reply (a recipient, a client on a blocklist…).
    pub refused: u64,
    /// Messages waiting in the outbound queue.
    pub queued: u64,
    /// Open SMTP sessions.
    pub smtp_sessions: u64,
    /// Open POP3 sessions.
    pub pop3_sessions: u64,
    /// Open IMAP sessions.
    pub imap_sessions: u64,
}

/// Who may send to a distribution list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListSenders {
    /// Anyone, inside or out.
    #[default]
    Anyone,
    /// Only our own authenticated users.
    Authenticated,
    /// Only its members (by envelope sender, or the authenticated user's addresses).
    Members,
}

impl ListSenders {
    /// Every setting, each with its name.
    pub const ALL: [(ListSenders, &'static str); 3] = [
        (ListSenders::Anyone, "anyone"),
        (ListSenders::Authenticated, "authenticated"),
        (ListSenders::Members, "members"),
    ];

    /// The setting's name, as `mailroomctl` takes it and the store keeps it.
    pub fn name(self) -> &'static str {
        ListSenders::ALL.iter().find(|(s, _)| *s == self).map_or("anyone", |(_, n)| n)
    }

    /// The setting a name stands for.
    pub fn from_name(name: &str) -> Option<ListSenders> {
        ListSenders::ALL.iter().find(|(_, n)| *n == name).map(|(s, _)| *s)
    }
}

/// A distribution list as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListInfo {
    /// Its address.
    pub address: String,
    /// Its display name.
    pub display_name: String,
    /// Who may send to it.
    pub senders: ListSenders,
    /// Its members are kept from the address tester's explanations.
    pub hide_members: bool,
    /// Its members, as added (addresses), sorted.
    pub members: Vec<String>,
    /// Hidden from the address book.
    #[serde(default)]
    pub hidden: bool,
}

/// A custom recipient as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactInfo {
    /// Its local address.
    pub address: String,
    /// Its display name.
    pub display_name: String,
    /// The outside address its mail goes to.
    pub target: String,
    /// Hidden from the address book.
    #[serde(default)]
    pub hidden: bool,
}

/// A mailbox as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxInfo {
    /// Store id.
    pub id: i64,
    /// Display name.
    pub display_name: String,
    /// Primary address first, then aliases.
    pub addresses: Vec<String>,
    /// Messages waiting.
    pub message_count: u64,
    /// Their total size, bytes.
    pub total_bytes: u64,
    /// Its folders (INBOX first) with what each holds.
    #[serde(default)]
    pub folders: Vec<FolderUsage>,
    /// Where its mail is forwarded, if anywhere.
    #[serde(default)]
    pub forwarding: Option<Forwarding>,
    /// Its automatic reply, when on.
    #[serde(default)]
    pub auto_reply: Option<AutoReply>,
    /// Its own storage limits (`None`s follow the organisation's).
    #[serde(default)]
    pub limits: StorageLimits,
    /// A shared mailbox: no password, reached through the rights people are given.
    #[serde(default)]
    pub shared: bool,
    /// The rights given on it (its Permissions tab; Send On Behalf Of in its Delivery
    /// Options), the whole mailbox's first.
    #[serde(default)]
    pub permissions: Vec<PermissionInfo>,
    /// Its calendars and address books (CalDAV, CardDAV), with what each holds.
    #[serde(default)]
    pub collections: Vec<CollectionUsage>,
    /// Hidden from the address book (the Global Address List).
    #[serde(default)]
    pub hidden: bool,
}

/// A calendar or address book of a mailbox, and what it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionUsage {
    /// A calendar (else an address book).
    pub calendar: bool,
    /// Its name in URLs.
    pub name: String,
    /// The name shown.
    pub display_name: String,
    /// Events and to-dos, or cards, in it.
    pub objects: u64,
    /// Their size, bytes.
    pub bytes: u64,
}

/// A public folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicFolderInfo {
    /// Its name, levels separated by `/` (under "Shared Folders" in mail programs).
    pub name: String,
    /// Its e-mail address, if mail is filed in it.
    #[serde(default)]
    pub address: Option<String>,
    /// Its size limit in KB, if it has one.
    #[serde(default)]
    pub quota_kb: Option<u64>,
    /// Messages in it.
    pub messages: u64,
    /// Their size, bytes.
    pub bytes: u64,
    /// Who may do what in it (`folder` is `None` in each).
    #[serde(default)]
    pub permissions: Vec<PermissionInfo>,
}

/// Rights given on a mailbox or one of its folders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionInfo {
    /// To whom: a mailbox's primary address, a list's address, or `anyone`.
    pub grantee: String,
    /// The folder, or `None` for the whole mailbox.
    #[serde(default)]
    pub folder: Option<String>,
    /// The calendar or address book (`calendars/NAME`, `addressbooks/NAME`), or
    /// `None`.
    #[serde(default)]
    pub collection: Option<String>,
    /// What.
    pub rights: crate::rights::Rights,
}

/// A mailbox's forwarding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forwarding {
    /// The outside address mail goes to.
    pub to: String,
    /// Deliver to the mailbox too.
    pub keep: bool,
}

/// A mailbox's automatic reply (out of office).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoReply {
    /// Its subject; `{subject}` stands for the subject of the message answered.
    pub subject: String,
    /// Its text.
    pub body: String,
    /// Not before (Unix seconds), if set.
    #[serde(default)]
    pub start: Option<i64>,
    /// Not after (Unix seconds), if set.
    #[serde(default)]
    pub end: Option<i64>,
    /// Each sender is answered at most once in this many days.
    #[serde(default = "AutoReply::default_days")]
    pub days: u32,
}

impl AutoReply {
    /// Once a week, as Outlook and Sieve's vacation do.
    pub fn default_days() -> u32 {
        7
    }
}

/// Storage limits, in KB (1,024 bytes); `None` follows the organisation's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StorageLimits {
    /// Tell the user, once a day, above this.
    #[serde(default)]
    pub warn_kb: Option<u64>,
    /// Refuse the user's own sending above this.
    #[serde(default)]
    pub send_kb: Option<u64>,
    /// Refuse mail to the mailbox above this.
    #[serde(default)]
    pub receive_kb: Option<u64>,
}

/// A mailbox folder and what it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderUsage {
    /// Its full name (`INBOX`, `Sent`, `Projects/2026`).
    pub name: String,
    /// Messages in it.
    pub messages: u64,
    /// Their total size, bytes.
    pub bytes: u64,
}
