//! The contract between Mailroom's programs.
//!
//! `mailroomd` (the service), `mailroomctl` and the admin GUI agree on three things,
//! and all three live here so that they cannot drift apart:
//!
//! - [`config`]: the configuration, one typed struct per property page of the
//!   Internet Mail Service. Every value is validated when it is built, so an invalid
//!   configuration cannot exist in memory. Editors work on a [`config::ConfigDraft`]
//!   (plain strings and numbers, as typed in a form) and turn it into a
//!   [`config::Config`] with [`config::Config::from_draft`], which names the field of
//!   every problem.
//! - [`routing`]: the routing decision, a pure function from recipient, client
//!   situation and configuration to what Mailroom does with the recipient.
//! - [`ipc`]: the control protocol spoken over the local socket (one JSON object per
//!   line, versioned handshake, request ids, typed errors, pushed events).
//!
//! It is plain data and pure functions: no tokio, no sockets. The side that speaks the
//! protocol as a client is the `mailroom-client` crate; the side that serves it is the
//! daemon's `control` module.
#![deny(missing_docs)]

pub mod address;
pub mod config;
pub mod ipc;
pub mod password;
pub mod paths;
pub mod rights;
pub mod routing;
pub mod time;
