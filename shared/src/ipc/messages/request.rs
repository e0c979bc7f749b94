//! What a client asks of the service: one [`Request`] per line, each in a
//! [`super::RequestEnvelope`] with its id.

use serde::{Deserialize, Serialize};

use super::{AutoReply, Forwarding, ListSenders, StorageLimits};
use crate::config::ConfigDraft;

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
    /// One piece of an event, to-do or card to store in a mailbox's calendar or address
    /// book (an iCalendar object of one UID, or one vCard), sent in pieces like
    /// [`Request::ImportMessage`]; the same UID again replaces what is there. Answered
    /// with [`Response::Imported`] (`stored` false when it was there already, the same).
    ImportObject {
        /// The mailbox, by any of its addresses.
        address: String,
        /// `calendars/NAME` or `addressbooks/NAME` (made if missing).
        collection: String,
        /// Where this piece starts in the object.
        offset: u64,
        /// The object's whole size.
        total: u64,
        /// This piece, base64.
        data: String,
    },
    /// The names of a calendar's or address book's objects, from position `start`
    /// (at most 1000).
    ExportObjects {
        /// The mailbox, by any of its addresses.
        address: String,
        /// `calendars/NAME` or `addressbooks/NAME`.
        collection: String,
        /// How many names to skip.
        start: u64,
    },
    /// A piece of one object, from `offset`: at most [`TRANSFER_CHUNK`] bytes,
    /// answered with [`Response::ExportRead`].
    ExportObject {
        /// The mailbox, by any of its addresses.
        address: String,
        /// `calendars/NAME` or `addressbooks/NAME`.
        collection: String,
        /// The object, as [`Response::ExportObjects`] named it.
        name: String,
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
    /// Change a custom recipient; what is `None` stays as it is. The lists that name it
    /// follow a new address.
    UpdateContact {
        /// Its local address now.
        address: String,
        /// A new local address.
        #[serde(default)]
        new_address: Option<String>,
        /// A new display name.
        #[serde(default)]
        display_name: Option<String>,
        /// A new outside address.
        #[serde(default)]
        target: Option<String>,
    },
    /// Hide a recipient (mailbox, shared mailbox, list or custom recipient) from the
    /// address book — the Global Address List that calendar and contacts programs
    /// read, and their search for people — or show it again, as Exchange's "Hide from
    /// address book" did. Mail still reaches it.
    SetHidden {
        /// Any of its addresses.
        address: String,
        /// Hidden.
        hidden: bool,
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
    /// Create a shared mailbox (info@, sales@): no password of its own, nobody logs in
    /// as it; people reach it through the rights they are given
    /// ([`Request::SetPermission`]).
    AddSharedMailbox {
        /// Shown in lists; may be empty.
        #[serde(default)]
        display_name: String,
        /// Primary address first, then aliases.
        addresses: Vec<String>,
    },
    /// The rights given on a mailbox (its Permissions tab): on the whole mailbox and on
    /// each of its folders.
    Permissions {
        /// Any address of the mailbox.
        address: String,
    },
    /// Give a mailbox, a list (every member) or `anyone` rights on a mailbox (or one of
    /// its folders), replacing what it had there; no rights takes them away. Open IMAP
    /// sessions hear of it at once.
    SetPermission {
        /// Any address of the mailbox.
        address: String,
        /// Who: an address of a mailbox or a list, or `anyone`.
        grantee: String,
        /// What: RFC 4314's letters, `S` (Send As), `B` (Send On Behalf Of).
        rights: crate::rights::Rights,
        /// One folder (its name) rather than the whole mailbox.
        #[serde(default)]
        folder: Option<String>,
        /// One calendar or address book rather than the whole mailbox, as its URL
        /// names it: `calendars/NAME` or `addressbooks/NAME`.
        #[serde(default)]
        collection: Option<String>,
    },
    /// The public folders, with their addresses, limits, sizes and permissions.
    PublicFolders,
    /// Make a public folder (and the levels above it); anyone may read it until its
    /// permissions say otherwise.
    AddPublicFolder {
        /// Its name, levels separated by `/`.
        name: String,
        /// Its e-mail address, if mail is to be filed in it.
        #[serde(default)]
        address: Option<String>,
    },
    /// Change a public folder's address and size limit.
    UpdatePublicFolder {
        /// Its name.
        name: String,
        /// The new address; `Some("")` for none; `None` leaves it.
        #[serde(default)]
        address: Option<String>,
        /// The new limit in KB; `Some(0)` for none; `None` leaves it.
        #[serde(default)]
        quota_kb: Option<u64>,
    },
    /// Delete a public folder and its messages (and the folders under it).
    RemovePublicFolder {
        /// Its name.
        name: String,
    },
    /// Give a mailbox, a list or `anyone` rights on a public folder (replacing what
    /// it had there); no rights takes them away.
    SetFolderPermission {
        /// The public folder's name.
        folder: String,
        /// Who: an address of a mailbox or a list, or `anyone`.
        grantee: String,
        /// What: RFC 4314's letters.
        rights: crate::rights::Rights,
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
    Subscribe {
        /// Log lines too ([`Event::Log`]): a busy server writes hundreds a second, so
        /// only a client that shows them asks (and none are made for nobody).
        #[serde(default)]
        logs: bool,
    },
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
        "import_object",
        "export_objects",
        "export_object",
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
        "update_contact",
        "set_hidden",
        "remove_contact",
        "add_mailbox",
        "update_mailbox",
        "add_shared_mailbox",
        "permissions",
        "set_permission",
        "public_folders",
        "add_public_folder",
        "update_public_folder",
        "remove_public_folder",
        "set_folder_permission",
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
