//! One typed method per request of the control protocol.
//!
//! Each method builds its [`Request`], sends it, and takes its answer out of the one
//! [`Response`] variant that answers it. Which variant that is gets decided here, once:
//! every method goes through [`Client::call`], the only place a reply of another kind
//! is turned into an error ([`ClientError::Unexpected`]). Callers get plain values —
//! a [`StatusReport`], the mailboxes, a queue listing — and never match on a
//! `Response`.
//!
//! Values that the protocol sends as several fields of one variant come back as small
//! structs ([`Mailboxes`], [`AddressTest`], [`CertificateStatus`]…); each converts back
//! into its `Response` (`From`), so that `mailroomctl --json` prints a reply exactly as
//! the service sent it.

use std::ops::Range;

use base64::Engine as _;
use mailroom_shared::config::{Config, ConfigDraft, Page};
use mailroom_shared::ipc::{
    AcmeStatus, AutoReply, BackupManifest, CertificateInfo, ContactInfo, DnsRecord, ExportEntry, Forwarding, ListInfo,
    ListSenders, LockoutInfo, MailboxInfo, MonitorMinute, PermissionInfo, PublicFolderInfo, QuarantineEntry,
    QueueDetails, QueueEntry, Request, Response, SendingHoldInfo, StatusReport, StorageLimits, TrackingEvent,
};
use mailroom_shared::rights::Rights;
use mailroom_shared::routing::Decision;

use crate::connection::{Client, ClientError};
use crate::transfer::SourceMessage;

/// Sends a request and takes the value out of the reply variant that answers it:
/// `call!(self, Request::Status, Response::Status(s) => *s)`.
macro_rules! call {
    ($client:expr, $request:expr, $answer:pat => $value:expr) => {
        $client
            .call($request, |response| match response {
                $answer => Ok($value),
                other => Err(Box::new(other)),
            })
            .await
    };
}

/// Every mailbox, distribution list and custom recipient ([`Client::list_mailboxes`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mailboxes {
    /// Every mailbox, by primary address.
    pub mailboxes: Vec<MailboxInfo>,
    /// Every distribution list, by address.
    pub lists: Vec<ListInfo>,
    /// Every custom recipient, by address.
    pub contacts: Vec<ContactInfo>,
    /// Each domain's catch-all mailbox: (domain, the mailbox's primary address).
    pub catch_all: Vec<(String, String)>,
    /// Addresses whose mail would be relayed away because their domain is not inbound
    /// while rerouting is on.
    pub warnings: Vec<String>,
}

impl From<Mailboxes> for Response {
    fn from(m: Mailboxes) -> Response {
        let Mailboxes { mailboxes, lists, contacts, catch_all, warnings } = m;
        Response::Mailboxes { mailboxes, lists, contacts, catch_all, warnings }
    }
}

/// What a change to a mailbox changes ([`Client::update_mailbox`]); `None` keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailboxChange {
    /// A new display name.
    pub display_name: Option<String>,
    /// A new address list, primary first.
    pub addresses: Option<Vec<String>>,
    /// A new password.
    pub password: Option<String>,
}

/// The address tester's answer ([`Client::test_address`]).
#[derive(Debug, Clone, PartialEq)]
pub struct AddressTest {
    /// What the running service decides (the saved configuration's decision while it
    /// is stopped).
    pub decision: Decision,
    /// That, in words.
    pub explanation: String,
    /// What the saved configuration would decide once the service restarts, in words,
    /// when that differs.
    pub after_restart: Option<String>,
}

impl From<AddressTest> for Response {
    fn from(t: AddressTest) -> Response {
        Response::AddressTest { decision: t.decision, explanation: t.explanation, after_restart: t.after_restart }
    }
}

/// Which queued messages to list ([`Client::queue_list`]); `None` matches all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueFilter {
    /// Only recipients in this state (`scheduled`, `in_flight`, `deferred`, `failed`).
    pub state: Option<String>,
    /// Only messages whose sender contains this text.
    pub sender: Option<String>,
    /// Only messages with a recipient containing this text.
    pub recipient: Option<String>,
}

/// Which tracking events to list ([`Client::track`]); each given criterion must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrackQuery {
    /// Sender contains this text.
    pub sender: Option<String>,
    /// Recipient contains this text.
    pub recipient: Option<String>,
    /// Message-ID header or queue id equals this.
    pub message_id: Option<String>,
    /// Not before, Unix seconds.
    pub since: Option<i64>,
    /// Not after, Unix seconds.
    pub until: Option<i64>,
}

/// The certificate the running service presents and how its ACME renewal goes
/// ([`Client::certificate`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertificateStatus {
    /// `None` while the service is not running, or runs without TLS.
    pub certificate: Option<Box<CertificateInfo>>,
    /// The ACME client's state, when the Security page asks for a certificate from an
    /// ACME CA.
    pub acme: Option<Box<AcmeStatus>>,
}

impl From<CertificateStatus> for Response {
    fn from(c: CertificateStatus) -> Response {
        Response::Certificate { certificate: c.certificate, acme: c.acme }
    }
}

/// What the service did with one piece of an imported message ([`Client::import_piece`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    /// True once the last piece arrived.
    pub complete: bool,
    /// True when the message was stored; false while incomplete, and when the mailbox
    /// had imported its key before.
    pub stored: bool,
}

/// One piece of an exported message ([`Client::export_read`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportPiece {
    /// The piece's bytes.
    pub data: Vec<u8>,
    /// The message's whole size.
    pub total: u64,
}

impl Client {
    /// Sends `request` and takes its answer out of the reply with `pick`, which hands
    /// back a reply of any other kind: the one place such a reply becomes an error.
    async fn call<T>(
        &self,
        request: Request,
        pick: impl FnOnce(Response) -> Result<T, Box<Response>>,
    ) -> Result<T, ClientError> {
        let response = self.request(request).await?;
        pick(response).map_err(ClientError::Unexpected)
    }

    /// Checks that the service answers.
    ///
    /// # Errors
    /// A connection error (every method also fails with the service's refusal,
    /// [`ClientError::Remote`], and [`ClientError::Unexpected`] on a reply of another
    /// kind).
    pub async fn ping(&self) -> Result<(), ClientError> {
        call!(self, Request::Ping, Response::Pong => ())
    }

    /// The service's state, bound addresses and pending changes.
    ///
    /// # Errors
    /// A connection error.
    pub async fn status(&self) -> Result<StatusReport, ClientError> {
        call!(self, Request::Status, Response::Status(s) => *s)
    }

    /// Starts the Internet Mail Service; answers once it runs.
    ///
    /// # Errors
    /// [`ClientError::Remote`] with why it could not start.
    pub async fn start(&self) -> Result<StatusReport, ClientError> {
        call!(self, Request::Start, Response::Status(s) => *s)
    }

    /// Stops the Internet Mail Service, letting in-flight work drain; answers once it
    /// is stopped.
    ///
    /// # Errors
    /// A connection error, or the service's refusal.
    pub async fn stop(&self) -> Result<StatusReport, ClientError> {
        call!(self, Request::Stop, Response::Status(s) => *s)
    }

    /// Stops the service, loads the saved configuration and starts again; answers once
    /// it is done.
    ///
    /// # Errors
    /// [`ClientError::Remote`] with why the new configuration could not start.
    pub async fn restart(&self) -> Result<StatusReport, ClientError> {
        call!(self, Request::Restart, Response::Status(s) => *s)
    }

    /// The last hour of traffic, minute by minute, oldest first.
    ///
    /// # Errors
    /// A connection error.
    pub async fn monitor(&self) -> Result<Vec<MonitorMinute>, ClientError> {
        call!(self, Request::Monitor, Response::Monitor { minutes } => minutes)
    }

    /// Writes a consistent backup of the whole store to `path`, a new file on the
    /// service's machine (an absolute path); returns what it holds.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when the file cannot be written.
    pub async fn backup(&self, path: impl Into<String>) -> Result<BackupManifest, ClientError> {
        call!(self, Request::Backup { path: path.into() }, Response::Backup(m) => m)
    }

    /// The saved configuration and its revision.
    ///
    /// # Errors
    /// A connection error.
    pub async fn get_config(&self) -> Result<(Config, u64), ClientError> {
        call!(self, Request::GetConfig, Response::Config { config, revision } => (*config, revision))
    }

    /// Validates and saves a configuration, which takes effect at the next restart.
    /// With `base_revision`, the save is refused when someone else saved since. Returns
    /// the new revision and the pages that now differ from the running service.
    ///
    /// # Errors
    /// [`ClientError::Remote`] with every problem of the configuration
    /// ([`IpcError::InvalidConfig`](mailroom_shared::ipc::IpcError::InvalidConfig)), or
    /// a stale revision (`Conflict`).
    pub async fn save_config(
        &self,
        draft: ConfigDraft,
        base_revision: Option<u64>,
    ) -> Result<(u64, Vec<Page>), ClientError> {
        let request = Request::SetConfig { config: Box::new(draft), base_revision };
        call!(self, request, Response::ConfigSaved { revision, pending_pages } => (revision, pending_pages))
    }

    /// Every mailbox, distribution list and custom recipient.
    ///
    /// # Errors
    /// A connection error.
    pub async fn list_mailboxes(&self) -> Result<Mailboxes, ClientError> {
        call!(self, Request::ListMailboxes, Response::Mailboxes { mailboxes, lists, contacts, catch_all, warnings } => {
            Mailboxes { mailboxes, lists, contacts, catch_all, warnings }
        })
    }

    /// Creates a mailbox (`addresses`: the primary first); returns it as it now is.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when an address is malformed or taken.
    pub async fn add_mailbox(
        &self,
        display_name: impl Into<String>,
        addresses: Vec<String>,
        password: impl Into<String>,
    ) -> Result<MailboxInfo, ClientError> {
        let request = Request::AddMailbox { display_name: display_name.into(), addresses, password: password.into() };
        call!(self, request, Response::Mailbox(m) => *m)
    }

    /// Changes the mailbox that has `address`; returns it as it now is.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when there is no such mailbox or an address is taken.
    pub async fn update_mailbox(
        &self,
        address: impl Into<String>,
        change: MailboxChange,
    ) -> Result<MailboxInfo, ClientError> {
        let MailboxChange { display_name, addresses, password } = change;
        let request = Request::UpdateMailbox { address: address.into(), display_name, addresses, password };
        call!(self, request, Response::Mailbox(m) => *m)
    }

    /// Creates a shared mailbox (no password; people reach it through rights).
    ///
    /// # Errors
    /// [`ClientError::Remote`] when an address is taken or invalid.
    pub async fn add_shared_mailbox(
        &self,
        display_name: impl Into<String>,
        addresses: Vec<String>,
    ) -> Result<MailboxInfo, ClientError> {
        let request = Request::AddSharedMailbox { display_name: display_name.into(), addresses };
        call!(self, request, Response::Mailbox(m) => *m)
    }

    /// The rights given on the mailbox that has `address`.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when there is no such mailbox.
    pub async fn permissions(&self, address: impl Into<String>) -> Result<Vec<PermissionInfo>, ClientError> {
        call!(self, Request::Permissions { address: address.into() }, Response::Permissions { permissions } => permissions)
    }

    /// Gives `grantee` (a mailbox's or list's address, or `anyone`) `rights` on the
    /// mailbox that has `address`, or on one of its folders; no rights takes them
    /// away. Returns the rights given on the mailbox as they now are.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when there is no such mailbox, grantee or folder.
    pub async fn set_permission(
        &self,
        address: impl Into<String>,
        grantee: impl Into<String>,
        rights: Rights,
        folder: Option<String>,
    ) -> Result<Vec<PermissionInfo>, ClientError> {
        let request = Request::SetPermission {
            address: address.into(),
            grantee: grantee.into(),
            rights,
            folder,
            collection: None,
        };
        call!(self, request, Response::Permissions { permissions } => permissions)
    }

    /// Gives `grantee` `rights` on one calendar or address book of the mailbox
    /// (`calendars/NAME`, `addressbooks/NAME`), standing instead of the mailbox's
    /// grant there; the mailbox's grants as they now are.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when there is no such mailbox, grantee or collection.
    pub async fn set_collection_permission(
        &self,
        address: impl Into<String>,
        grantee: impl Into<String>,
        rights: Rights,
        collection: impl Into<String>,
    ) -> Result<Vec<PermissionInfo>, ClientError> {
        let request = Request::SetPermission {
            address: address.into(),
            grantee: grantee.into(),
            rights,
            folder: None,
            collection: Some(collection.into()),
        };
        call!(self, request, Response::Permissions { permissions } => permissions)
    }

    /// The public folders.
    ///
    /// # Errors
    /// [`ClientError::Remote`] on a store failure.
    pub async fn public_folders(&self) -> Result<Vec<PublicFolderInfo>, ClientError> {
        call!(self, Request::PublicFolders, Response::PublicFolders { folders } => folders)
    }

    /// Sends one public-folder change; the public folders as they now are.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when the folder, the grantee or the address is refused.
    pub async fn public_folder_change(&self, change: Request) -> Result<Vec<PublicFolderInfo>, ClientError> {
        call!(self, change, Response::PublicFolders { folders } => folders)
    }

    /// Deletes the mailbox that has `address`, and its messages.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when there is no such mailbox.
    pub async fn remove_mailbox(&self, address: impl Into<String>) -> Result<(), ClientError> {
        call!(self, Request::RemoveMailbox { address: address.into() }, Response::Done => ())
    }

    /// Forwards a mailbox's mail to an outside address, keeping a copy or not; `None`
    /// stops forwarding.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when there is no such mailbox or the target is refused.
    pub async fn set_forwarding(
        &self,
        address: impl Into<String>,
        forwarding: Option<Forwarding>,
    ) -> Result<(), ClientError> {
        call!(self, Request::SetForwarding { address: address.into(), forwarding }, Response::Done => ())
    }

    /// Sets a mailbox's automatic reply; `None` turns it off.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when there is no such mailbox.
    pub async fn set_auto_reply(
        &self,
        address: impl Into<String>,
        reply: Option<AutoReply>,
    ) -> Result<(), ClientError> {
        call!(self, Request::SetAutoReply { address: address.into(), reply }, Response::Done => ())
    }

    /// Sets a mailbox's storage limits.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when there is no such mailbox.
    pub async fn set_limits(&self, address: impl Into<String>, limits: StorageLimits) -> Result<(), ClientError> {
        call!(self, Request::SetLimits { address: address.into(), limits }, Response::Done => ())
    }

    /// Delivers mail for unknown addresses of an inbound domain to the mailbox that has
    /// `mailbox`; `None` stops it.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when the domain is not inbound or there is no such mailbox.
    pub async fn set_catch_all(&self, domain: impl Into<String>, mailbox: Option<String>) -> Result<(), ClientError> {
        call!(self, Request::SetCatchAll { domain: domain.into(), mailbox }, Response::Done => ())
    }

    /// Creates a distribution list; returns it.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when the address is malformed or taken.
    pub async fn add_list(
        &self,
        address: impl Into<String>,
        display_name: impl Into<String>,
        senders: ListSenders,
        hide_members: bool,
    ) -> Result<ListInfo, ClientError> {
        let request =
            Request::AddList { address: address.into(), display_name: display_name.into(), senders, hide_members };
        call!(self, request, Response::List(l) => l)
    }

    /// Changes a list's display name, who may send to it, and whether its members are
    /// hidden (`None` keeps each); returns it.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when there is no such list.
    pub async fn update_list(
        &self,
        address: impl Into<String>,
        display_name: Option<String>,
        senders: Option<ListSenders>,
        hide_members: Option<bool>,
    ) -> Result<ListInfo, ClientError> {
        let request = Request::UpdateList { address: address.into(), display_name, senders, hide_members };
        call!(self, request, Response::List(l) => l)
    }

    /// Adds and removes members of a list; returns it.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when there is no such list, or a change would make a loop.
    pub async fn list_members(
        &self,
        address: impl Into<String>,
        add: Vec<String>,
        remove: Vec<String>,
    ) -> Result<ListInfo, ClientError> {
        call!(self, Request::ListMembers { address: address.into(), add, remove }, Response::List(l) => l)
    }

    /// Deletes a list.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when there is no such list.
    pub async fn remove_list(&self, address: impl Into<String>) -> Result<(), ClientError> {
        call!(self, Request::RemoveList { address: address.into() }, Response::Done => ())
    }

    /// Creates a custom recipient: mail to `address` is relayed to `target`.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when an address is malformed or taken.
    pub async fn add_contact(
        &self,
        address: impl Into<String>,
        display_name: impl Into<String>,
        target: impl Into<String>,
    ) -> Result<ContactInfo, ClientError> {
        let request =
            Request::AddContact { address: address.into(), display_name: display_name.into(), target: target.into() };
        call!(self, request, Response::Contact(c) => c)
    }

    /// Changes a custom recipient: a new local address, display name or outside
    /// address (`None`: as it is). The lists that name it follow a new address.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when there is no such custom recipient, an address is
    /// malformed, or the new one is taken.
    pub async fn update_contact(
        &self,
        address: impl Into<String>,
        new_address: Option<String>,
        display_name: Option<String>,
        target: Option<String>,
    ) -> Result<ContactInfo, ClientError> {
        let request = Request::UpdateContact { address: address.into(), new_address, display_name, target };
        call!(self, request, Response::Contact(c) => c)
    }

    /// Deletes a custom recipient.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when there is no such custom recipient.
    pub async fn remove_contact(&self, address: impl Into<String>) -> Result<(), ClientError> {
        call!(self, Request::RemoveContact { address: address.into() }, Response::Done => ())
    }

    /// Hides a recipient (any of its addresses) from the address book, or shows it
    /// again.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when no recipient has the address.
    pub async fn set_hidden(&self, address: impl Into<String>, hidden: bool) -> Result<(), ClientError> {
        call!(self, Request::SetHidden { address: address.into(), hidden }, Response::Done => ())
    }

    /// What would happen to `recipient` sent by a client at `client_ip`, authenticated
    /// as `authenticated_as` or not.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when an argument is malformed.
    pub async fn test_address(
        &self,
        recipient: impl Into<String>,
        authenticated_as: Option<String>,
        client_ip: impl Into<String>,
    ) -> Result<AddressTest, ClientError> {
        let request =
            Request::TestAddress { recipient: recipient.into(), authenticated_as, client_ip: client_ip.into() };
        call!(self, request, Response::AddressTest { decision, explanation, after_restart } => {
            AddressTest { decision, explanation, after_restart }
        })
    }

    /// The messages in the outbound queue that `filter` matches, oldest first.
    ///
    /// # Errors
    /// A connection error.
    pub async fn queue_list(&self, filter: QueueFilter) -> Result<Vec<QueueEntry>, ClientError> {
        let QueueFilter { state, sender, recipient } = filter;
        call!(self, Request::QueueList { state, sender, recipient }, Response::Queue { messages } => messages)
    }

    /// One queued message in detail.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when there is no such message.
    pub async fn queue_message(&self, queue_id: impl Into<String>) -> Result<QueueDetails, ClientError> {
        call!(self, Request::QueueMessage { queue_id: queue_id.into() }, Response::QueueMessage(d) => *d)
    }

    /// Makes waiting recipients due now: of one message, or (`None`) of all.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when there is no such message.
    pub async fn queue_retry(&self, queue_id: Option<String>) -> Result<(), ClientError> {
        call!(self, Request::QueueRetry { queue_id }, Response::Done => ())
    }

    /// Removes a message from the queue, with an NDR to its sender or not.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when there is no such message, or nothing left to delete.
    pub async fn queue_delete(&self, queue_id: impl Into<String>, ndr: bool) -> Result<(), ClientError> {
        call!(self, Request::QueueDelete { queue_id: queue_id.into(), ndr }, Response::Done => ())
    }

    /// Message tracking: the events `query` matches, newest first.
    ///
    /// # Errors
    /// A connection error.
    pub async fn track(&self, query: TrackQuery) -> Result<Vec<TrackingEvent>, ClientError> {
        let TrackQuery { sender, recipient, message_id, since, until } = query;
        let request = Request::Track { sender, recipient, message_id, since, until };
        call!(self, request, Response::Tracking { events } => events)
    }

    /// The certificate the running service presents, and how its ACME renewal goes.
    ///
    /// # Errors
    /// A connection error.
    pub async fn certificate(&self) -> Result<CertificateStatus, ClientError> {
        call!(self, Request::Certificate, Response::Certificate { certificate, acme } => {
            CertificateStatus { certificate, acme }
        })
    }

    /// Obtains a new certificate from the ACME CA now; answers once it is in use.
    ///
    /// # Errors
    /// [`ClientError::Remote`] with why the CA did not issue it.
    pub async fn renew_certificate(&self) -> Result<CertificateStatus, ClientError> {
        call!(self, Request::RenewCertificate, Response::Certificate { certificate, acme } => {
            CertificateStatus { certificate, acme }
        })
    }

    /// Client addresses and login names locked out after too many failed logins.
    ///
    /// # Errors
    /// A connection error.
    pub async fn lockouts(&self) -> Result<Vec<LockoutInfo>, ClientError> {
        call!(self, Request::Lockouts, Response::Lockouts { lockouts } => lockouts)
    }

    /// Lifts a lock-out (an address or login name, as listed).
    ///
    /// # Errors
    /// [`ClientError::Remote`] when it is not locked out.
    pub async fn unlock(&self, client: impl Into<String>) -> Result<(), ClientError> {
        call!(self, Request::Unlock { client: client.into() }, Response::Done => ())
    }

    /// The DNS records the inbound domains (or one of them) should publish; with
    /// `check`, each looked up.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when the domain is not inbound.
    pub async fn dns_records(&self, domain: Option<String>, check: bool) -> Result<Vec<DnsRecord>, ClientError> {
        call!(self, Request::DnsRecords { domain, check }, Response::DnsRecords { records } => records)
    }

    /// Makes new DKIM keys for an inbound domain; returns the domain's records.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when the domain is not inbound.
    pub async fn dkim_rotate(&self, domain: impl Into<String>) -> Result<Vec<DnsRecord>, ClientError> {
        call!(self, Request::DkimRotate { domain: domain.into() }, Response::DnsRecords { records } => records)
    }

    /// Stops publishing an old DKIM key.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when there is no such key, or it still signs.
    pub async fn dkim_retire(&self, domain: impl Into<String>, selector: impl Into<String>) -> Result<(), ClientError> {
        call!(self, Request::DkimRetire { domain: domain.into(), selector: selector.into() }, Response::Done => ())
    }

    /// The messages held in the quarantine, newest first.
    ///
    /// # Errors
    /// A connection error.
    pub async fn quarantine_list(&self) -> Result<Vec<QuarantineEntry>, ClientError> {
        call!(self, Request::QuarantineList, Response::Quarantine { messages } => messages)
    }

    /// One quarantined message, and its text.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when there is no such message.
    pub async fn quarantine_message(&self, id: i64) -> Result<(QuarantineEntry, String), ClientError> {
        call!(self, Request::QuarantineMessage { id }, Response::QuarantineMessage { entry, text } => (entry, text))
    }

    /// Delivers a quarantined message to its recipients after all.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when there is no such message.
    pub async fn quarantine_release(&self, id: i64) -> Result<(), ClientError> {
        call!(self, Request::QuarantineRelease { id }, Response::Done => ())
    }

    /// Deletes a quarantined message.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when there is no such message.
    pub async fn quarantine_delete(&self, id: i64) -> Result<(), ClientError> {
        call!(self, Request::QuarantineDelete { id }, Response::Done => ())
    }

    /// Asks the content filter at `url` (the saved address when `None`) whether it is
    /// there; returns its answer in words.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when it does not answer.
    pub async fn test_filter(&self, url: Option<String>) -> Result<String, ClientError> {
        call!(self, Request::TestFilter { url }, Response::FilterTest { message } => message)
    }

    /// The accounts held for going over a sending limit, oldest first.
    ///
    /// # Errors
    /// A connection error.
    pub async fn sending_holds(&self) -> Result<Vec<SendingHoldInfo>, ClientError> {
        call!(self, Request::SendingHolds, Response::SendingHolds { holds } => holds)
    }

    /// Lets a held account send again.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when it is not held.
    pub async fn sending_unlock(&self, account: impl Into<String>) -> Result<(), ClientError> {
        call!(self, Request::SendingUnlock { account: account.into() }, Response::Done => ())
    }

    /// Which of `keys` (at most 1000) the mailbox that has `address` imported before.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when there is no such mailbox.
    pub async fn import_check(
        &self,
        address: impl Into<String>,
        keys: Vec<String>,
    ) -> Result<Vec<String>, ClientError> {
        call!(self, Request::ImportCheck { address: address.into(), keys }, Response::ImportCheck { known } => known)
    }

    /// Sends the bytes `range` of `message` to the mailbox that has `address`: one
    /// piece of an import, at most [`TRANSFER_CHUNK`](mailroom_shared::ipc::TRANSFER_CHUNK)
    /// long, in order.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when there is no such mailbox, or the message is refused.
    pub async fn import_piece(
        &self,
        address: impl Into<String>,
        message: &SourceMessage,
        range: Range<usize>,
    ) -> Result<Imported, ClientError> {
        let request = Request::ImportMessage {
            address: address.into(),
            folder: message.folder.clone(),
            key: message.key.clone(),
            flags: message.flags.clone(),
            received_at: message.received_at,
            offset: range.start as u64,
            total: message.content.len() as u64,
            data: base64::engine::general_purpose::STANDARD.encode(&message.content[range]),
        };
        call!(self, request, Response::Imported { complete, stored } => Imported { complete, stored })
    }

    /// The next messages (at most `limit`, capped at 1000) of the mailbox that has
    /// `address`, after the id `after` (0 to begin), in id order.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when there is no such mailbox.
    pub async fn export_list(
        &self,
        address: impl Into<String>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<ExportEntry>, ClientError> {
        let request = Request::ExportList { address: address.into(), after, limit };
        call!(self, request, Response::ExportList { messages } => messages)
    }

    /// A piece of one message of the mailbox that has `address`, from `offset`.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when the message is gone; [`ClientError::Protocol`] when
    /// the piece is not base64.
    pub async fn export_read(
        &self,
        address: impl Into<String>,
        id: i64,
        offset: u64,
    ) -> Result<ExportPiece, ClientError> {
        let request = Request::ExportRead { address: address.into(), id, offset };
        let (data, total) = call!(self, request, Response::ExportRead { data, total } => (data, total))?;
        let data = base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|e| ClientError::Protocol(format!("a piece that is not base64: {e}")))?;
        Ok(ExportPiece { data, total })
    }

    /// Sends the piece `range` of the object `object` (an iCalendar object of one UID,
    /// or one vCard) for the collection `collection` (`calendars/NAME`,
    /// `addressbooks/NAME`) of the mailbox that has `address`.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when the mailbox does not exist or the object is refused
    /// (with why).
    pub async fn import_object_piece(
        &self,
        address: impl Into<String>,
        collection: impl Into<String>,
        object: &[u8],
        range: Range<usize>,
    ) -> Result<Imported, ClientError> {
        let request = Request::ImportObject {
            address: address.into(),
            collection: collection.into(),
            offset: range.start as u64,
            total: object.len() as u64,
            data: base64::engine::general_purpose::STANDARD.encode(&object[range]),
        };
        call!(self, request, Response::Imported { complete, stored } => Imported { complete, stored })
    }

    /// The names of a collection's objects from position `start` (at most 1000), and
    /// how many it holds.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when there is no such mailbox or collection.
    pub async fn export_objects(
        &self,
        address: impl Into<String>,
        collection: impl Into<String>,
        start: u64,
    ) -> Result<(Vec<String>, u64), ClientError> {
        let request = Request::ExportObjects { address: address.into(), collection: collection.into(), start };
        call!(self, request, Response::ExportObjects { names, total } => (names, total))
    }

    /// A piece of one object of a collection, from `offset`.
    ///
    /// # Errors
    /// [`ClientError::Remote`] when the object is gone.
    pub async fn export_object(
        &self,
        address: impl Into<String>,
        collection: impl Into<String>,
        name: impl Into<String>,
        offset: u64,
    ) -> Result<ExportPiece, ClientError> {
        let request =
            Request::ExportObject { address: address.into(), collection: collection.into(), name: name.into(), offset };
        let (data, total) = call!(self, request, Response::ExportRead { data, total } => (data, total))?;
        let data = base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|e| ClientError::Protocol(format!("a piece that is not base64: {e}")))?;
        Ok(ExportPiece { data, total })
    }
}
