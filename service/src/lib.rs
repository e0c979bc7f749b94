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

pub mod acme;
pub mod autoreply;
pub mod backup;
pub mod context;
pub mod control;
pub mod daemon;
pub mod disk;
pub mod dns;
pub mod exporter;
pub mod filtering;
pub mod housekeeping;
pub mod imap;
pub mod lifecycle;
mod line;
mod listener;
pub mod logging;
pub mod mailauth;
pub mod message;
pub mod metrics;
pub mod notices;
pub mod passwords;
pub mod pop3;
pub mod queue;
pub mod quota;
pub mod shutdown;
pub mod smtp;
pub mod srs;
pub mod store;
#[cfg(test)]
mod testing;
pub mod throttle;
pub mod tls;
