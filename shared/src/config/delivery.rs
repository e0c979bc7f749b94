//! The Delivery page: the retry schedule, the expiry of undeliverable mail and the
//! outbound timeouts.

use serde::{Deserialize, Serialize};

use super::validate::{Problem, Validator};

/// Delivery page, as edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default, deny_unknown_fields)]
pub struct DeliveryDraft {
    /// Waits between attempts, seconds; the last one repeats.
    pub retry_intervals_secs: Vec<u64>,
    /// After this long without success a message is returned with an NDR, seconds.
    pub expire_after_secs: u64,
    /// Outbound connections at once, overall.
    pub max_concurrent: u64,
    /// Outbound connections at once to one destination.
    pub max_per_destination: u64,
    /// How long to wait for a next hop's `220` greeting, seconds (RFC 5321 §4.5.3.2.1:
    /// 5 minutes).
    pub greeting_timeout_secs: u64,
    /// How long to wait for the reply to MAIL FROM, seconds (5 minutes).
    pub mail_timeout_secs: u64,
    /// How long to wait for the reply to each RCPT TO, seconds (5 minutes).
    pub rcpt_timeout_secs: u64,
    /// How long to wait for the `354` after DATA, seconds (2 minutes).
    pub data_timeout_secs: u64,
    /// How long writing one block of the message may take, seconds (3 minutes).
    pub data_block_timeout_secs: u64,
    /// How long to wait for the reply after the final `.`, seconds (10 minutes).
    pub final_dot_timeout_secs: u64,
}

impl Default for DeliveryDraft {
    fn default() -> Self {
        DeliveryDraft {
            retry_intervals_secs: vec![15 * 60, 30 * 60, 3600, 4 * 3600],
            expire_after_secs: 48 * 3600,
            max_concurrent: 50,
            max_per_destination: 10,
            greeting_timeout_secs: 300,
            mail_timeout_secs: 300,
            rcpt_timeout_secs: 300,
            data_timeout_secs: 120,
            data_block_timeout_secs: 180,
            final_dot_timeout_secs: 600,
        }
    }
}

/// How long outbound SMTP waits at each stage (RFC 5321 §4.5.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboundTimeouts {
    /// For the `220` greeting (and each EHLO/STARTTLS reply).
    pub greeting: std::time::Duration,
    /// For the reply to MAIL FROM.
    pub mail: std::time::Duration,
    /// For each reply to RCPT TO.
    pub rcpt: std::time::Duration,
    /// For the `354` after DATA.
    pub data: std::time::Duration,
    /// For writing one block of the message.
    pub data_block: std::time::Duration,
    /// For the reply after the final `.`.
    pub final_dot: std::time::Duration,
}

/// Delivery page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Waits between attempts; never empty, the last one repeats.
    pub retry_intervals: Vec<std::time::Duration>,
    /// When an undeliverable message is returned.
    pub expire_after: std::time::Duration,
    /// Outbound connections at once, overall.
    pub max_concurrent: u32,
    /// Outbound connections at once to one destination.
    pub max_per_destination: u32,
    /// How long outbound SMTP waits at each stage.
    pub timeouts: OutboundTimeouts,
}

impl Delivery {
    pub(super) fn validate(d: &DeliveryDraft, v: &mut Validator) -> Option<Delivery> {
        if d.retry_intervals_secs.is_empty() {
            v.push("delivery.retry_intervals_secs", Problem::Empty);
        }
        let mut retry = Vec::new();
        for (i, s) in d.retry_intervals_secs.iter().enumerate() {
            if let Some(s) = v.range(format!("delivery.retry_intervals_secs[{i}]"), *s, 1, 7 * 86_400) {
                retry.push(std::time::Duration::from_secs(s));
            }
        }
        let expire = v.range("delivery.expire_after_secs", d.expire_after_secs, 60, 30 * 86_400);
        let max_concurrent = v.range("delivery.max_concurrent", d.max_concurrent, 1, 10_000);
        let per_dest = v.range("delivery.max_per_destination", d.max_per_destination, 1, 10_000);
        let mut timeout = |field: &str, secs: u64| {
            v.range(format!("delivery.{field}"), secs, 1, 3600).map(std::time::Duration::from_secs)
        };
        let greeting = timeout("greeting_timeout_secs", d.greeting_timeout_secs);
        let mail = timeout("mail_timeout_secs", d.mail_timeout_secs);
        let rcpt = timeout("rcpt_timeout_secs", d.rcpt_timeout_secs);
        let data = timeout("data_timeout_secs", d.data_timeout_secs);
        let data_block = timeout("data_block_timeout_secs", d.data_block_timeout_secs);
        let final_dot = timeout("final_dot_timeout_secs", d.final_dot_timeout_secs);
        if retry.len() != d.retry_intervals_secs.len() || retry.is_empty() {
            return None;
        }
        Some(Delivery {
            retry_intervals: retry,
            expire_after: std::time::Duration::from_secs(expire?),
            max_concurrent: u32::try_from(max_concurrent?).ok()?,
            max_per_destination: u32::try_from(per_dest?).ok()?,
            timeouts: OutboundTimeouts {
                greeting: greeting?,
                mail: mail?,
                rcpt: rcpt?,
                data: data?,
                data_block: data_block?,
                final_dot: final_dot?,
            },
        })
    }

    pub(super) fn to_draft(&self) -> DeliveryDraft {
        DeliveryDraft {
            retry_intervals_secs: self.retry_intervals.iter().map(|d| d.as_secs()).collect(),
            expire_after_secs: self.expire_after.as_secs(),
            max_concurrent: self.max_concurrent.into(),
            max_per_destination: self.max_per_destination.into(),
            greeting_timeout_secs: self.timeouts.greeting.as_secs(),
            mail_timeout_secs: self.timeouts.mail.as_secs(),
            rcpt_timeout_secs: self.timeouts.rcpt.as_secs(),
            data_timeout_secs: self.timeouts.data.as_secs(),
            data_block_timeout_secs: self.timeouts.data_block.as_secs(),
            final_dot_timeout_secs: self.timeouts.final_dot.as_secs(),
        }
    }
}
