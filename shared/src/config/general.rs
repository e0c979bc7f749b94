//! The General page: the host name, the administrator's mailbox, the message size limit
//! and the drain timeout.

use serde::{Deserialize, Serialize};

use super::validate::{Problem, Validator};
use crate::address::{Domain, EmailAddress};

/// General page, as edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default, deny_unknown_fields)]
pub struct GeneralDraft {
    /// Host name announced in the SMTP banner, EHLO and `Received:` headers.
    pub host_name: String,
    /// Mailbox that receives copies of non-delivery reports and `postmaster@` mail;
    /// empty for none.
    pub administrator_mailbox: String,
    /// Largest message accepted, in KiB; `None` for "No limit".
    pub max_message_size_kb: Option<u64>,
    /// How long a stop or restart lets in-flight work finish, in seconds.
    pub drain_timeout_secs: u64,
    /// Disk space kept free for deliveries, NDRs and deletions: below it, new mail is
    /// refused (`452 4.3.1`), as Postfix's `queue_minfree`. In MiB; `None` for
    /// automatic (twice the message size limit, at least 100 MiB); 0 for none.
    pub min_free_space_mb: Option<u64>,
    /// Every mailbox's storage limits unless its own say otherwise (Exchange's
    /// Information Store defaults), in KB; `None` for no limit.
    pub mailbox_warn_kb: Option<u64>,
    /// Refuse a user's own sending above this, KB.
    pub mailbox_send_kb: Option<u64>,
    /// Refuse mail to a mailbox above this, KB.
    pub mailbox_receive_kb: Option<u64>,
}

impl Default for GeneralDraft {
    fn default() -> Self {
        GeneralDraft {
            host_name: "localhost".into(),
            administrator_mailbox: String::new(),
            max_message_size_kb: Some(25_600),
            drain_timeout_secs: 30,
            min_free_space_mb: None,
            mailbox_warn_kb: None,
            mailbox_send_kb: None,
            mailbox_receive_kb: None,
        }
    }
}

/// General page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct General {
    /// Host name announced in the SMTP banner, EHLO and `Received:` headers.
    pub host_name: Domain,
    /// Mailbox that receives copies of NDRs and `postmaster@` mail.
    pub administrator_mailbox: Option<EmailAddress>,
    /// Largest message accepted, in bytes; `None` for no limit.
    pub max_message_size: Option<u64>,
    /// How long a stop or restart lets in-flight work finish.
    pub drain_timeout: std::time::Duration,
    /// Disk space to keep free, in bytes; `None` for automatic.
    pub min_free_space: Option<u64>,
    /// Every mailbox's storage limits (KB) unless its own say otherwise: warn, send,
    /// receive.
    pub mailbox_limits: (Option<u64>, Option<u64>, Option<u64>),
}

impl General {
    /// The disk space kept free, in bytes: as set, or twice the message size limit and
    /// at least 100 MiB.
    pub fn free_space_reserve(&self) -> u64 {
        const AT_LEAST: u64 = 100 * 1024 * 1024;
        self.min_free_space.unwrap_or_else(|| self.max_message_size.map_or(AT_LEAST, |m| (2 * m).max(AT_LEAST)))
    }

    pub(super) fn validate(d: &GeneralDraft, v: &mut Validator) -> Option<General> {
        let host_name = v.parse("general.host_name", &d.host_name, Domain::parse, |value, reason| {
            Problem::InvalidHostName { value, reason }
        });
        let administrator_mailbox = if d.administrator_mailbox.trim().is_empty() {
            Some(None)
        } else {
            v.parse("general.administrator_mailbox", &d.administrator_mailbox, EmailAddress::parse, |value, reason| {
                Problem::InvalidAddress { value, reason }
            })
            .map(Some)
        };
        let max_message_size = match d.max_message_size_kb {
            None => Some(None),
            Some(kb) => v.range("general.max_message_size_kb", kb, 1, 2 * 1024 * 1024).map(|kb| Some(kb * 1024)),
        };
        let drain = v.range("general.drain_timeout_secs", d.drain_timeout_secs, 1, 3600);
        let min_free_space = match d.min_free_space_mb {
            None => Some(None),
            Some(mb) => v.range("general.min_free_space_mb", mb, 0, 1024 * 1024).map(|mb| Some(mb * 1024 * 1024)),
        };
        let limit = |v: &mut Validator, field: &str, kb: Option<u64>| match kb {
            None => Some(None),
            Some(kb) => v.range(field, kb, 1, 1 << 40).map(Some),
        };
        let warn = limit(v, "general.mailbox_warn_kb", d.mailbox_warn_kb);
        let send = limit(v, "general.mailbox_send_kb", d.mailbox_send_kb);
        let receive = limit(v, "general.mailbox_receive_kb", d.mailbox_receive_kb);
        if let (Some(Some(s)), Some(Some(r))) = (send, receive)
            && s > r
        {
            v.push("general.mailbox_send_kb", Problem::inconsistent("sending must stop no later than receiving does"));
            return None;
        }
        Some(General {
            host_name: host_name?,
            administrator_mailbox: administrator_mailbox?,
            max_message_size: max_message_size?,
            drain_timeout: std::time::Duration::from_secs(drain?),
            min_free_space: min_free_space?,
            mailbox_limits: (warn?, send?, receive?),
        })
    }

    pub(super) fn to_draft(&self) -> GeneralDraft {
        GeneralDraft {
            host_name: self.host_name.to_string(),
            administrator_mailbox: self.administrator_mailbox.as_ref().map(ToString::to_string).unwrap_or_default(),
            max_message_size_kb: self.max_message_size.map(|b| b / 1024),
            drain_timeout_secs: self.drain_timeout.as_secs(),
            min_free_space_mb: self.min_free_space.map(|b| b / (1024 * 1024)),
            mailbox_warn_kb: self.mailbox_limits.0,
            mailbox_send_kb: self.mailbox_limits.1,
            mailbox_receive_kb: self.mailbox_limits.2,
        }
    }
}
