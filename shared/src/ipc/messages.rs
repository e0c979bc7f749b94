//! The messages of the control protocol.

use serde::{Deserialize, Serialize};

use crate::config::{Config, ConfigDraft, ConfigError, Page};
use crate::routing::Decision;

/// First line a client sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientHello {
    /// The handshake itself.
    pub hello: Hello,
}

/// The client's half of the handshake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// [`super::PROTOCOL_VERSION`] of the client.
    pub version: u32,
    /// Who is asking, for the service's log (`mailroomctl 0.1.0`).
    pub client: String,
}

/// A request line: an id chosen by the client, echoed in the reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestEnvelope {
    /// Echoed in the reply.
    pub id: u64,
    /// What is asked.
    pub request: Request,
}

/// What a client can ask.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// Liveness check; answered with [`Response::Pong`].
    Ping,
    /// Service state, bound addresses, pending changes.
    Status,
    /// The last hour of traffic, minute by minute (Server → Monitor).
    Monitor,
    /// Write a consistent backup of the whole store to this file on the server's
    /// machine (a new file; an absolute path), while mail goes on flowing.
    Backup {
        /// Where to write it.
        path: String,
    },
    /// One piece of a message to import into a mailbox (a client sends a message in
    /// pieces of at most [`TRANSFER_CHUNK`] bytes, in order); answered with
    /// [`Response::Imported`].
    ImportMessage {
        /// The mailbox, by any of its addresses.
        address: String,
        /// The folder (`INBOX`; made if missing).
        folder: String,
        /// What identifies the message at its source; a mailbox imports a key once.
        key: String,
        /// IMAP system flags (`\Seen`, `\Answered`, `\Flagged`, `\Draft`).
        #[serde(default)]
        flags: Vec<String>,
        /// IMAP's INTERNALDATE, Unix seconds (default: now).
        #[serde(default)]
        received_at: Option<i64>,
        /// Where this piece starts in the message.
        offset: u64,
        /// The message's whole size.
        total: u64,
        /// This piece, base64.
        data: String,
    },
    /// Which of these keys the mailbox has imported already (at most 1000).
    ImportCheck {
        /// The mailbox, by any of its addresses.
        address: String,
        /// Keys, as given to [`Request::ImportMessage`].
        keys: Vec<String>,
    },
    /// The next messages of a mailbox to export, after the id `after` (0 to begin).
    ExportList {
        /// The mailbox, by any of its addresses.
        address: String,
        /// The last id already listed.
        after: i64,
        /// At most this many (capped at 1000).
        limit: u32,
    },
    /// A piece of one message to export, from `offset`: at most [`TRANSFER_CHUNK`] bytes.
    ExportRead {
        /// The mailbox, by any of its addresses.
        address: String,
        /// The message, as [`Response::ExportList`] named it.
        id: i64,
        /// Where the piece starts.
        offset: u64,
    },
    /// Start the Internet Mail Service; answered when it is running (or failed).
    Start,
    /// Stop it, letting in-flight work drain; answered when stopped.
    Stop,
    /// Stop, load the saved configuration, start; answered when done.
    Restart,
    /// The saved configuration and its revision.
    GetConfig,
    /// Validate and save a configuration. It takes effect at the next restart.
    SetConfig {
        /// The new configuration, as edited.
        config: Box<ConfigDraft>,
        /// The revision the edit started from; when given and no longer current, the
        /// save is refused with [`IpcError::Conflict`] instead of overwriting someone
        /// else's change.
        #[serde(default)]
        base_revision: Option<u64>,
    },
    /// All mailboxes (with the distribution lists and custom recipients).
    ListMailboxes,
    /// Create a distribution list: an address whose mail goes to its members.
    AddList {
        /// Its address.
        address: String,
        /// Shown in lists; may be empty.
        #[serde(default)]
        display_name: String,
        /// Who may send to it.
        #[serde(default)]
        senders: ListSenders,
        /// Keep its members from the address tester's explanations.
        #[serde(default)]
        hide_members: bool,
    },
    /// Change a list's name, who may send to it, and whether its members are shown.
    UpdateList {
        /// Its address.
        address: String,
        /// New display name.
        #[serde(default)]
        display_name: Option<String>,
        /// Who may send.
        #[serde(default)]
        senders: Option<ListSenders>,
        /// Hide the members.
        #[serde(default)]
        hide_members: Option<bool>,
    },
    /// Add and remove members of a list (addresses: mailboxes, custom recipients,
    /// other lists, outside addresses). A change that would make a loop is refused.
    ListMembers {
        /// The list's address.
        address: String,
        /// Members to add.
        #[serde(default)]
        add: Vec<String>,
        /// Members to remove.
        #[serde(default)]
        remove: Vec<String>,
    },
    /// Delete a list (its members are left as they are).
    RemoveList {
        /// Its address.
        address: String,
    },
    /// Create a custom recipient: a local address whose mail is relayed to one
    /// outside address (with the envelope sender rewritten by SRS).
    AddContact {
        /// The local address.
        address: String,
        /// Shown in lists; may be empty.
        #[serde(default)]
        display_name: String,
        /// The outside address mail goes to.
        target: String,
    },
    /// Delete a custom recipient.
    RemoveContact {
        /// Its local address.
        address: String,
    },
    /// Create a mailbox. Takes effect immediately.
    AddMailbox {
        /// Shown in lists; may be empty.
        #[serde(default)]
        display_name: String,
        /// Primary address first, then aliases.
        addresses: Vec<String>,
        /// Clear-text password; the service stores only an argon2 hash.
        password: String,
    },
    /// Change an existing mailbox's display name, addresses and/or password.
    UpdateMailbox {
        /// Any current address of the mailbox.
        address: String,
        /// New display name, if changing.
        #[serde(default)]
        display_name: Option<String>,
        /// New address list (primary first), if changing.
        #[serde(default)]
        addresses: Option<Vec<String>>,
        /// New password, if changing.
        #[serde(default)]
        password: Option<String>,
    },
    /// Delete a mailbox and its messages.
    RemoveMailbox {
        /// Any address of the mailbox.
        address: String,
    },
    /// A mailbox's Delivery Options: forward its mail to an outside address (with
    /// SRS), keeping a copy or not; `None` to stop.
    SetForwarding {
        /// Any address of the mailbox.
        address: String,
        /// Where to, and whether the mailbox keeps a copy.
        forwarding: Option<Forwarding>,
    },
    /// A mailbox's automatic replies (RFC 3834); `None` to turn them off.
    SetAutoReply {
        /// Any address of the mailbox.
        address: String,
        /// The reply.
        reply: Option<AutoReply>,
    },
    /// A mailbox's storage limits (Exchange's "Issue warning at", "Prohibit send at",
    /// "Prohibit send and receive at"); each `None` follows the organisation's default.
    SetLimits {
        /// Any address of the mailbox.
        address: String,
        /// The limits.
        limits: StorageLimits,
    },
    /// Deliver mail for unknown addresses of an inbound domain to a mailbox; `None`
    /// to stop (the default: a catch-all invites spam).
    SetCatchAll {
        /// The domain.
        domain: String,
        /// Any address of the mailbox that receives it.
        mailbox: Option<String>,
    },
    /// What would happen to a recipient in a given client situation, under the saved
    /// configuration.
    TestAddress {
        /// The recipient.
        recipient: String,
        /// Account the client is authenticated as, if any.
        #[serde(default)]
        authenticated_as: Option<String>,
        /// Client IP address.
        client_ip: String,
    },
    /// Messages in the outbound queue, optionally filtered.
    QueueList {
        /// Only recipients in this state (`scheduled`, `in_flight`, `deferred`, `failed`).
        #[serde(default)]
        state: Option<String>,
        /// Only messages whose sender contains this text.
        #[serde(default)]
        sender: Option<String>,
        /// Only messages with a recipient containing this text.
        #[serde(default)]
        recipient: Option<String>,
    },
    /// One queued message in detail.
    QueueMessage {
        /// Its queue id.
        queue_id: String,
    },
    /// Make waiting recipients due now: one message, or every message.
    QueueRetry {
        /// The message; all when absent.
        #[serde(default)]
        queue_id: Option<String>,
    },
    /// Remove a message from the queue, returning it to its sender with an NDR or not.
    QueueDelete {
        /// The message.
        queue_id: String,
        /// Send an NDR for the recipients not yet delivered.
        #[serde(default)]
        ndr: bool,
    },
    /// Message tracking: events matching every given criterion, newest first.
    Track {
        /// Sender contains this text.
        #[serde(default)]
        sender: Option<String>,
        /// Recipient contains this text.
        #[serde(default)]
        recipient: Option<String>,
        /// Message-ID header or queue id equals this.
        #[serde(default)]
        message_id: Option<String>,
        /// Not before, Unix seconds.
        #[serde(default)]
        since: Option<i64>,
        /// Not after, Unix seconds.
        #[serde(default)]
        until: Option<i64>,
    },
    /// The TLS certificate the running service presents, and how its ACME renewal goes.
    Certificate,
    /// Obtain a new certificate from the ACME CA now, whatever the old one's expiry;
    /// answered with [`Response::Certificate`] once the new one is in use.
    RenewCertificate,
    /// Clients and logins locked out after too many failed logins.
    Lockouts,
    /// Lift a lock-out at once.
    Unlock {
        /// The locked-out client address or login name, as listed.
        client: String,
    },
    /// The DNS records the inbound domains should publish (MX, SPF, DKIM, DMARC, SRV).
    DnsRecords {
        /// One inbound domain; `None` for all.
        #[serde(default)]
        domain: Option<String>,
        /// Also look each one up and say whether it is published as it should be.
        #[serde(default)]
        check: bool,
    },
    /// Make new DKIM keys for an inbound domain; they sign from now on, and the old
    /// ones stay published until retired. Answered with the domain's records.
    DkimRotate {
        /// The inbound domain.
        domain: String,
    },
    /// Stop publishing an old DKIM key.
    DkimRetire {
        /// The inbound domain.
        domain: String,
        /// The key's selector.
        selector: String,
    },
    /// The messages held in the quarantine, newest first.
    QuarantineList,
    /// One quarantined message, with its text.
    QuarantineMessage {
        /// Its quarantine id.
        id: i64,
    },
    /// Deliver a quarantined message to its recipients after all.
    QuarantineRelease {
        /// Its quarantine id.
        id: i64,
    },
    /// Delete a quarantined message.
    QuarantineDelete {
        /// Its quarantine id.
        id: i64,
    },
    /// Ask the content filter whether it is there (rspamd's `/ping`).
    TestFilter {
        /// The address to try (`http://host:port`); `None` for the saved one.
        #[serde(default)]
        url: Option<String>,
    },
    /// The accounts held for going over a sending limit.
    SendingHolds,
    /// Let a held account send again, its counts starting from zero.
    SendingUnlock {
        /// The account's login.
        account: String,
    },
    /// Start receiving [`Event`]s on this connection.
    Subscribe,
}

impl Request {
    /// Every request type name, as it appears in the `type` field.
    pub const NAMES: &'static [&'static str] = &[
        "ping",
        "status",
        "monitor",
        "backup",
        "import_message",
        "import_check",
        "export_list",
        "export_read",
        "start",
        "stop",
        "restart",
        "get_config",
        "set_config",
        "list_mailboxes",
        "add_list",
        "update_list",
        "list_members",
        "remove_list",
        "add_contact",
        "remove_contact",
        "add_mailbox",
        "update_mailbox",
        "remove_mailbox",
        "set_forwarding",
        "set_auto_reply",
        "set_limits",
        "set_catch_all",
        "test_address",
        "queue_list",
        "queue_message",
        "queue_retry",
        "queue_delete",
        "track",
        "certificate",
        "renew_certificate",
        "lockouts",
        "unlock",
        "dns_records",
        "dkim_rotate",
        "dkim_retire",
        "quarantine_list",
        "quarantine_message",
        "quarantine_release",
        "quarantine_delete",
        "test_filter",
        "sending_holds",
        "sending_unlock",
        "subscribe",
    ];
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerMessage {
    /// Handshake accepted.
    Welcome {
        /// The server's protocol version.
        version: u32,
        /// Server name and version.
        server: String,
    },
    /// The answer to one request.
    Reply(Reply),
    /// Something happened (after [`Request::Subscribe`]).
    Event(Event),
}

/// The answer to one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// The request's id; `None` when the line could not be read far enough to know it.
    pub id: Option<u64>,
    /// Success or failure.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Success or failure of a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It worked.
    Ok(Response),
    /// It did not.
    Error(IpcError),
}

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

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IpcError {
    /// The line is not a JSON request of the expected shape.
    #[error("malformed request: {message}")]
    Malformed {
        /// What the parser said.
        message: String,
    },
    /// The request type is not one this server knows.
    #[error("unknown request type '{name}'")]
    UnknownRequest {
        /// The type given.
        name: String,
    },
    /// The line exceeded [`super::MAX_LINE`].
    #[error("request line longer than {limit} bytes")]
    LineTooLong {
        /// The limit.
        limit: usize,
    },
    /// The first line was not a usable hello.
    #[error("handshake failed: {message}")]
    Handshake {
        /// What was wrong.
        message: String,
    },
    /// Client and server speak different protocol versions.
    #[error("protocol version mismatch: server speaks {server}, client {client}")]
    VersionMismatch {
        /// Server's version.
        server: u32,
        /// Client's version.
        client: u32,
    },
    /// The configuration is invalid; every problem is listed with its field.
    #[error("invalid configuration: {}", display_errors(errors))]
    InvalidConfig {
        /// The problems.
        errors: Vec<ConfigError>,
    },
    /// An argument of the request is invalid.
    #[error("{field}: {message}")]
    InvalidArgument {
        /// Which argument.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The thing named does not exist.
    #[error("{message}")]
    NotFound {
        /// What was not found.
        message: String,
    },
    /// The request conflicts with the current state (stale revision, address taken).
    #[error("{message}")]
    Conflict {
        /// What conflicts.
        message: String,
    },
    /// The service could not do it (a start that failed to bind, say).
    #[error("{message}")]
    Failed {
        /// The service's own words.
        message: String,
        /// The configuration field whose value caused it (an address that cannot be
        /// listened on), when one did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        field: Option<String>,
    },
    /// Too many control connections or a similar passing condition.
    #[error("busy: {message}")]
    Busy {
        /// Details.
        message: String,
    },
    /// An internal error (store failure…); details are in the service's log.
    #[error("internal error: {message}")]
    Internal {
        /// Details.
        message: String,
    },
}

fn display_errors(errors: &[ConfigError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_configuration_with_every_kind_of_problem_reaches_the_client() {
        use crate::config::{ConfigError, Problem};
        let problems = vec![
            Problem::Empty,
            Problem::inconsistent("a certificate needs its key"),
            Problem::OutOfRange { value: 0, min: 1, max: 365 },
            Problem::OpenRelayNotConfirmed,
        ];
        let errors = problems.into_iter().map(|problem| ConfigError { field: "backup.keep".into(), problem }).collect();
        let reply =
            ServerMessage::Reply(Reply { id: Some(1), outcome: Outcome::Error(IpcError::InvalidConfig { errors }) });
        let line = crate::ipc::framing::encode_line(&reply).expect("a refusal can be sent");
        let back: ServerMessage = serde_json::from_slice(&line).expect("and read");
        assert_eq!(back, reply);
    }

    #[test]
    fn wire_shapes_are_stable() {
        let req = RequestEnvelope { id: 7, request: Request::Status };
        assert_eq!(serde_json::to_string(&req).expect("json"), r#"{"id":7,"request":{"type":"status"}}"#);
        let reply = ServerMessage::Reply(Reply { id: Some(7), outcome: Outcome::Ok(Response::Pong) });
        assert_eq!(serde_json::to_string(&reply).expect("json"), r#"{"reply":{"id":7,"ok":{"type":"pong"}}}"#);
        let err = ServerMessage::Reply(Reply {
            id: None,
            outcome: Outcome::Error(IpcError::UnknownRequest { name: "fly".into() }),
        });
        let json = serde_json::to_string(&err).expect("json");
        assert_eq!(json, r#"{"reply":{"id":null,"error":{"kind":"unknown_request","name":"fly"}}}"#);
        assert_eq!(serde_json::from_str::<ServerMessage>(&json).expect("parses"), err);
    }

    /// Regression: `Certificate(None)` as a newtype variant of an internally tagged
    /// enum could not be serialized, and the service dropped the connection.
    #[test]
    fn replies_serialize_and_round_trip() {
        let certificate = CertificateInfo {
            self_signed: true,
            path: "/data/tls/localhost.crt.pem".into(),
            subject: "CN=localhost".into(),
            issuer: "CN=localhost".into(),
            names: vec!["localhost".into()],
            not_before: 0,
            not_after: 1,
            sha256_fingerprint: "AB:CD".into(),
        };
        for response in [
            Response::Pong,
            Response::Done,
            Response::Certificate { certificate: None, acme: None },
            Response::Lockouts { lockouts: Vec::new() },
            Response::DnsRecords {
                records: vec![DnsRecord {
                    domain: "corp.test".into(),
                    name: "corp.test".into(),
                    kind: "TXT".into(),
                    value: "v=spf1 mx -all".into(),
                    purpose: "SPF".into(),
                    check: Some(RecordCheck::Different { found: vec!["v=spf1 -all".into()] }),
                }],
            },
            Response::Certificate {
                certificate: Some(Box::new(certificate)),
                acme: Some(Box::new(AcmeStatus {
                    directory_url: "https://127.0.0.1:14000/dir".into(),
                    names: vec!["mail.corp.test".into()],
                    state: AcmeState::Failed,
                    last_error: Some("connection refused".into()),
                    last_attempt: Some(1),
                    next_attempt: Some(2),
                })),
            },
            Response::Tracking { events: Vec::new() },
            Response::Queue { messages: Vec::new() },
            Response::ConfigSaved { revision: 3, pending_pages: vec![Page::Security] },
        ] {
            let msg = ServerMessage::Reply(Reply { id: Some(1), outcome: Outcome::Ok(response) });
            let json = serde_json::to_string(&msg).expect("serializes");
            assert_eq!(serde_json::from_str::<ServerMessage>(&json).expect("parses"), msg);
        }
    }

    #[test]
    fn every_request_name_is_listed() {
        let samples = [
            Request::Ping,
            Request::Status,
            Request::Monitor,
            Request::Backup { path: String::new() },
            Request::ImportMessage {
                address: String::new(),
                folder: String::new(),
                key: String::new(),
                flags: Vec::new(),
                received_at: None,
                offset: 0,
                total: 0,
                data: String::new(),
            },
            Request::ImportCheck { address: String::new(), keys: Vec::new() },
            Request::ExportList { address: String::new(), after: 0, limit: 0 },
            Request::ExportRead { address: String::new(), id: 0, offset: 0 },
            Request::Start,
            Request::Stop,
            Request::Restart,
            Request::GetConfig,
            Request::SetConfig { config: Box::default(), base_revision: None },
            Request::ListMailboxes,
            Request::AddList {
                address: String::new(),
                display_name: String::new(),
                senders: ListSenders::Anyone,
                hide_members: false,
            },
            Request::UpdateList { address: String::new(), display_name: None, senders: None, hide_members: None },
            Request::ListMembers { address: String::new(), add: Vec::new(), remove: Vec::new() },
            Request::RemoveList { address: String::new() },
            Request::AddContact { address: String::new(), display_name: String::new(), target: String::new() },
            Request::RemoveContact { address: String::new() },
            Request::AddMailbox { display_name: String::new(), addresses: vec![], password: String::new() },
            Request::UpdateMailbox { address: String::new(), display_name: None, addresses: None, password: None },
            Request::RemoveMailbox { address: String::new() },
            Request::SetForwarding { address: String::new(), forwarding: None },
            Request::SetAutoReply { address: String::new(), reply: None },
            Request::SetLimits { address: String::new(), limits: StorageLimits::default() },
            Request::SetCatchAll { domain: String::new(), mailbox: None },
            Request::TestAddress { recipient: String::new(), authenticated_as: None, client_ip: String::new() },
            Request::QueueList { state: None, sender: None, recipient: None },
            Request::QueueMessage { queue_id: String::new() },
            Request::QueueRetry { queue_id: None },
            Request::QueueDelete { queue_id: String::new(), ndr: false },
            Request::Track { sender: None, recipient: None, message_id: None, since: None, until: None },
            Request::Certificate,
            Request::RenewCertificate,
            Request::Lockouts,
            Request::Unlock { client: String::new() },
            Request::DnsRecords { domain: None, check: false },
            Request::DkimRotate { domain: String::new() },
            Request::DkimRetire { domain: String::new(), selector: String::new() },
            Request::QuarantineList,
            Request::QuarantineMessage { id: 0 },
            Request::QuarantineRelease { id: 0 },
            Request::QuarantineDelete { id: 0 },
            Request::TestFilter { url: None },
            Request::SendingHolds,
            Request::SendingUnlock { account: String::new() },
            Request::Subscribe,
        ];
        let names: Vec<String> = samples
            .iter()
            .map(|r| serde_json::to_value(r).expect("json")["type"].as_str().expect("tagged").to_owned())
            .collect();
        assert_eq!(names, Request::NAMES);
    }
}
