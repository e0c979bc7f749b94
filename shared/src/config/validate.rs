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
    #[error("'{}' is not a valid domain: {reason}", shown(value))]
    InvalidDomain {
        /// What was typed.
        value: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// Not a host name.
    #[error("'{}' is not a valid host name: {reason}", shown(value))]
    InvalidHostName {
        /// What was typed.
        value: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// Not an e-mail address.
    #[error("'{}' is not a valid e-mail address: {reason}", shown(value))]
    InvalidAddress {
        /// What was typed.
        value: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// Not an IP address with an optional mask.
    #[error("'{}' is not a valid IP address and mask: {reason}", shown(value))]
    InvalidNetwork {
        /// What was typed.
        value: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// Not `IP:port`.
    #[error("'{}' is not a listen address; write IP:port, e.g. 127.0.0.1:25 or [::1]:25", shown(value))]
    InvalidListenAddress {
        /// What was typed.
        value: String,
    },
    /// Not `host[:port]` or `[ip]:port`.
    #[error("'{}' is not a valid next hop: {reason}", shown(value))]
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

/// What was typed, as an error message quotes it: whole when short, else its start
/// and an ellipsis (a 300-character name is not repeated in full).
pub(crate) fn shown(value: &str) -> String {
    const MOST: usize = 40;
    if value.chars().count() <= MOST {
        value.to_owned()
    } else {
        let start: String = value.chars().take(MOST).collect();
        format!("{start}…")
    }
}

#[cfg(test)]
mod shown_tests {
    use super::*;

    /// Walk defect 19: the error for a 300-character name repeated the whole name.
    #[test]
    fn a_long_value_is_quoted_by_its_start() {
        let long = "a".repeat(300);
        let p =
            Problem::InvalidDomain { value: long, reason: "is 300 characters long; at most 253 are allowed".into() };
        let text = p.to_string();
        assert!(text.len() < 120, "{text}");
        assert!(text.starts_with(&format!("'{}…' is not a valid domain", "a".repeat(40))), "{text}");
        assert_eq!(shown("corp.example"), "corp.example");
    }
}
