//! The client side of Mailroom's control protocol.
//!
//! `mailroom-shared` says what the control protocol *is* (its messages and framing);
//! this crate *speaks* it, for every program that administers a `mailroomd`: the
//! Administrator (the GUI), `mailroomctl` (this crate's binary), the end-to-end tests
//! and the benchmarks. The daemon itself does not depend on it.
//!
//! - [`Client`]: one connection to the control socket, or over any pair of byte
//!   streams (an `ssh … mailroomctl bridge`), carrying concurrent requests. It has one
//!   typed method per request (`status()`, `save_config(…)`, `queue_list(…)`…), so that
//!   a reply of the wrong kind is handled in one place and surfaces as
//!   [`ClientError::Unexpected`]; [`Client::request`] stays for callers that want the
//!   raw [`Response`](mailroom_shared::ipc::Response).
//! - [`transfer`]: Maildir and mbox files read and written on the client's machine,
//!   and messages sent to or fetched from a mailbox in pieces.
//! - [`ssh`]: the connection to another computer's service, over `ssh … mailroomctl
//!   bridge`.
//! - [`migrate`]: a mailbox copied from an old server over POP3.
//! - [`objects`]: calendars (`.ics`) and address books (`.vcf`) read and written on
//!   the client's machine, one event or card at a time to and from a mailbox.
#![deny(missing_docs)]

mod connection;
pub mod migrate;
pub mod objects;
mod requests;
pub mod ssh;
pub mod transfer;

pub use connection::{Client, ClientError};
pub use requests::{
    AddressTest, CertificateStatus, ExportPiece, Imported, MailboxChange, Mailboxes, QueueFilter, TrackQuery,
};
