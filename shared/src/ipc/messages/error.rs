//! What the service answers a request with, when it fails: typed, so that a client
//! can act on the kind (a configuration refused field by field, a stale revision…).

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;

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
