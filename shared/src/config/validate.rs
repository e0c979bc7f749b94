//! Validation errors, and the collector that turns draft fields into validated values.

use serde::{Deserialize, Serialize};

use crate::address::NameError;

/// One problem with one field of a configuration draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ConfigError {
    /// Path of the field, e.g. `routing.table[2].sent_to`, as the GUI uses to put the
    /// message next to the right control.
    pub field: String,
    /// What is wrong with it.
    pub problem: Problem,
}

/// What is wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// A required value is missing.
    #[error("must not be empty")]
    Empty,
    /// Not a domain name.
    #[error("'{value}' is not a valid domain: {reason}")]
    InvalidDomain {
        /// What was typed.
        value: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// Not a host name.
    #[error("'{value}' is not a valid host name: {reason}")]
    InvalidHostName {
        /// What was typed.
        value: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// Not an e-mail address.
    #[error("'{value}' is not a valid e-mail address: {reason}")]
    InvalidAddress {
        /// What was typed.
        value: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// Not an IP address with an optional mask.
    #[error("'{value}' is not a valid IP address and mask: {reason}")]
    InvalidNetwork {
        /// What was typed.
        value: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// Not `IP:port`.
    #[error("'{value}' is not a listen address; write IP:port, e.g. 127.0.0.1:25 or [::1]:25")]
    InvalidListenAddress {
        /// What was typed.
        value: String,
    },
    /// Not `host[:port]` or `[ip]:port`.
    #[error("'{value}' is not a valid next hop: {reason}")]
    InvalidNextHop {
        /// What was typed.
        value: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// A number outside its allowed range.
    #[error("{value} is out of range; allowed: {min} to {max}")]
    OutOfRange {
        /// The number given.
        value: u64,
        /// Smallest allowed.
        min: u64,
        /// Largest allowed.
        max: u64,
    },
    /// The same entry appears twice.
    #[error("duplicates {other}")]
    Duplicate {
        /// Path of the earlier entry.
        other: String,
    },
    /// A routing entry that reroutes a domain to itself.
    #[error("reroutes '{domain}' to itself")]
    SelfReroute {
        /// The domain.
        domain: String,
    },
    /// A relay configuration that lets anyone relay, without the explicit confirmation.
    #[error(
        "these settings let anyone on the Internet relay mail through this server (an open relay); \
         confirm explicitly if that is really intended"
    )]
    OpenRelayNotConfirmed,
    /// Two settings that only make sense together.
    #[error("{message}")]
    Inconsistent {
        /// What is wrong, in words.
        message: String,
    },
}

impl Problem {
    /// Two settings that only make sense together, or a value no other kind names.
    pub fn inconsistent(message: impl Into<String>) -> Problem {
        Problem::Inconsistent { message: message.into() }
    }
}

/// Collects problems while validating a draft, keeping the first error of each field.
#[derive(Default)]
pub(crate) struct Validator {
    pub(crate) errors: Vec<ConfigError>,
}

impl Validator {
    pub(crate) fn push(&mut self, field: impl Into<String>, problem: Problem) {
        self.errors.push(ConfigError { field: field.into(), problem });
    }

    /// Runs `parse` on `value`, recording `make_problem` on failure.
    pub(crate) fn parse<T>(
        &mut self,
        field: impl Into<String>,
        value: &str,
        parse: impl FnOnce(&str) -> Result<T, NameError>,
        make_problem: impl FnOnce(String, String) -> Problem,
    ) -> Option<T> {
        if value.trim().is_empty() {
            self.push(field, Problem::Empty);
            return None;
        }
        match parse(value.trim()) {
            Ok(v) => Some(v),
            Err(e) => {
                self.push(field, make_problem(value.to_owned(), e.0));
                None
            }
        }
    }

    /// Checks that `value` lies in `min..=max`.
    pub(crate) fn range(&mut self, field: impl Into<String>, value: u64, min: u64, max: u64) -> Option<u64> {
        if (min..=max).contains(&value) {
            Some(value)
        } else {
            self.push(field, Problem::OutOfRange { value, min, max });
            None
        }
    }

    /// Parses `IP:port` (port 0 lets the system choose, which tests rely on).
    pub(crate) fn listen(&mut self, field: impl Into<String>, value: &str) -> Option<std::net::SocketAddr> {
        let field = field.into();
        if value.trim().is_empty() {
            self.push(field, Problem::Empty);
            return None;
        }
        match value.trim().parse() {
            Ok(a) => Some(a),
            Err(_) => {
                self.push(field, Problem::InvalidListenAddress { value: value.to_owned() });
                None
            }
        }
    }

    /// Parses an optional `IP:port`: empty means none.
    pub(crate) fn optional_listen(
        &mut self,
        field: impl Into<String>,
        value: &str,
    ) -> Option<Option<std::net::SocketAddr>> {
        if value.trim().is_empty() { Some(None) } else { self.listen(field, value).map(Some) }
    }
}
