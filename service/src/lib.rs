//! `mailroomd`, the Mailroom mail server, as a library.
//!
//! The process is a **control plane** that is always up — the local control socket
//! ([`control`]) — plus the **Internet Mail Service**, whose lifecycle
//! ([`lifecycle`]) goes Stopped → Starting → Running → Stopping and back, driven by
//! requests on the socket and by signals. The running service holds an immutable
//! snapshot of the saved configuration; a restart swaps it.
//!
//! Everything persistent lives in the [`store`], a SQLite database written by one
//! thread with group commit.
//!
//! The binary `mailroomd` is thin: see [`daemon`] for its start-up sequence. Its
//! clients (`mailroomctl`, the Administrator) are built on the `mailroom-client` crate.
#![deny(missing_docs)]

mod acme;
mod autoreply;
mod backup;
mod context;
mod control;
pub mod daemon;
mod disk;
mod dns;
mod exporter;
mod files;
mod filtering;
mod housekeeping;
pub mod http;
pub mod imap;
pub mod itip;
mod lifecycle;
mod limits;
mod line;
mod listener;
pub mod logging;
pub mod mailauth;
mod message;
mod metrics;
mod notices;
mod passwords;
pub mod pop3;
mod queue;
mod quota;
mod refusal;
mod shutdown;
pub mod smtp;
mod srs;
mod store;
#[cfg(test)]
mod testing;
mod throttle;
mod tls;
