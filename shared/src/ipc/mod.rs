//! The control protocol between `mailroomd` and its clients.
//!
//! Transport: a local socket (a Unix domain socket, private to its owner). Framing:
//! one JSON object per line, UTF-8, at most [`MAX_LINE`] bytes ([`framing`]).
//!
//! A session:
//! 1. the client sends [`ClientHello`]; the server answers [`ServerMessage::Welcome`]
//!    or an error and closes (version mismatch);
//! 2. the client sends [`RequestEnvelope`]s, each with its own id; the server answers
//!    each with a [`ServerMessage::Reply`] carrying the same id (replies to lines that
//!    could not be read carry no id);
//! 3. after [`Request::Subscribe`], the server also pushes [`ServerMessage::Event`]s.
//!
//! This module is plain data: no tokio, no GUI types. The async client is the
//! `mailroom-client` crate's.

pub mod framing;
mod messages;

pub use messages::*;

/// Protocol version, checked in the handshake. Bump on any incompatible change.
pub const PROTOCOL_VERSION: u32 = 1;

/// Longest line either side accepts, in bytes (newline excluded).
pub const MAX_LINE: usize = 1024 * 1024;
