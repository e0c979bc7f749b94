//! The Diagnostics Logging page: log levels per category, message tracking and its
//! retention, and the metrics endpoint.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::validate::Validator;

/// A Diagnostics Logging level, as Exchange named them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    /// Errors only.
    None,
    /// Warnings and errors, plus service events.
    #[default]
    Minimum,
    /// One line per session and per message.
    Medium,
    /// Everything, including protocol traces.
    Maximum,
}

impl LogLevel {
    /// Every level, lowest first.
    pub const ALL: [LogLevel; 4] = [LogLevel::None, LogLevel::Minimum, LogLevel::Medium, LogLevel::Maximum];

    /// The `tracing` filter directive for this level.
    pub fn directive(self) -> &'static str {
        match self {
            LogLevel::None => "error",
            LogLevel::Minimum => "info",
            LogLevel::Medium => "debug",
            LogLevel::Maximum => "trace",
        }
    }
}

/// Diagnostics Logging page, as edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default, deny_unknown_fields)]
pub struct DiagnosticsDraft {
    /// SMTP protocol.
    pub smtp: LogLevel,
    /// POP3 protocol.
    pub pop3: LogLevel,
    /// IMAP4 protocol.
    pub imap4: LogLevel,
    /// Routing decisions.
    pub routing: LogLevel,
    /// Outbound delivery and the queue.
    pub delivery: LogLevel,
    /// Message authentication: DKIM signing, SPF/DKIM/DMARC/ARC verdicts.
    pub authentication: LogLevel,
    /// The service itself: lifecycle, control socket, store.
    pub service: LogLevel,
    /// Message tracking is on.
    pub message_tracking: bool,
    /// Message tracking records and daily log files are removed after this many days
    /// (Exchange's "remove log files older than").
    pub keep_days: u64,
    /// Where a Prometheus scraper reads the service's counters (`IP:port`, served at
    /// `/metrics`); empty for off.
    pub metrics_listen: String,
}

impl Default for DiagnosticsDraft {
    fn default() -> Self {
        DiagnosticsDraft {
            smtp: LogLevel::Minimum,
            pop3: LogLevel::Minimum,
            imap4: LogLevel::Minimum,
            routing: LogLevel::Minimum,
            delivery: LogLevel::Minimum,
            authentication: LogLevel::Minimum,
            service: LogLevel::Minimum,
            message_tracking: true,
            keep_days: 30,
            metrics_listen: String::new(),
        }
    }
}

/// Diagnostics Logging page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics {
    /// SMTP protocol.
    pub smtp: LogLevel,
    /// POP3 protocol.
    pub pop3: LogLevel,
    /// IMAP4 protocol.
    pub imap4: LogLevel,
    /// Routing decisions.
    pub routing: LogLevel,
    /// Outbound delivery and the queue.
    pub delivery: LogLevel,
    /// Message authentication.
    pub authentication: LogLevel,
    /// The service itself.
    pub service: LogLevel,
    /// Message tracking is on.
    pub message_tracking: bool,
    /// Days tracking records and log files are kept.
    pub keep_days: u64,
    /// The Prometheus endpoint's address, when on.
    pub metrics_listen: Option<SocketAddr>,
}

impl Diagnostics {
    pub(super) fn validate(d: &DiagnosticsDraft, v: &mut Validator) -> Option<Diagnostics> {
        let keep = v.range("diagnostics.keep_days", d.keep_days, 1, 3650);
        let metrics_listen = v.optional_listen("diagnostics.metrics_listen", &d.metrics_listen);
        Some(Diagnostics {
            smtp: d.smtp,
            pop3: d.pop3,
            imap4: d.imap4,
            routing: d.routing,
            delivery: d.delivery,
            authentication: d.authentication,
            service: d.service,
            message_tracking: d.message_tracking,
            keep_days: keep?,
            metrics_listen: metrics_listen?,
        })
    }
    pub(super) fn to_draft(&self) -> DiagnosticsDraft {
        DiagnosticsDraft {
            smtp: self.smtp,
            pop3: self.pop3,
            imap4: self.imap4,
            routing: self.routing,
            delivery: self.delivery,
            authentication: self.authentication,
            service: self.service,
            message_tracking: self.message_tracking,
            keep_days: self.keep_days,
            metrics_listen: self.metrics_listen.map(|a| a.to_string()).unwrap_or_default(),
        }
    }
}
