//! The *Message Filtering* page: the defences at the door of port 25 (DNS lists, the
//! early-talker test, greylisting), the content filter (rspamd), the quarantine, and
//! the sending limits that keep a stolen password from putting the organisation on a
//! blocklist.
//!
//! None of it applies to authenticated clients, to the networks allowed to relay, or
//! to this machine talking to itself: it is for strangers. Every defence is a checkbox
//! with a safe default: the ones that can delay or refuse good mail (DNS lists,
//! greylisting, rspamd, the early-talker wait) start off; the sending limits start on,
//! at numbers a real office never reaches.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::validate::{Problem, Validator};
use crate::address::Domain;

/// One answer of a DNS list and what it means (`127.0.0.4` = "XBL: exploited host").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(deny_unknown_fields)]
pub struct DnsListAnswerDraft {
    /// The address the list answers, `127.0.0.x`.
    pub answer: String,
    /// What it means, in words, as the refusal names it.
    pub meaning: String,
}

/// A DNS list (RFC 5782), as edited.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default, deny_unknown_fields)]
pub struct DnsListDraft {
    /// The list's zone, e.g. `zen.spamhaus.org`.
    pub zone: String,
    /// An allowlist (`list.dnswl.org`): a listed client skips the blocklists and
    /// greylisting. Otherwise a blocklist: a listed client is refused.
    pub allow: bool,
    /// The meaning of each answer, for the refusal and the tracking log. Answers not
    /// named count as listed all the same (any `127.0.0.0/8` answer but the lists'
    /// error codes `127.255.255.x`).
    pub answers: Vec<DnsListAnswerDraft>,
}

/// A DNS list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DnsList {
    /// The list's zone.
    pub zone: Domain,
    /// An allowlist rather than a blocklist.
    pub allow: bool,
    /// The meaning of each named answer.
    pub answers: Vec<(Ipv4Addr, String)>,
}

impl DnsList {
    /// What `answer` means on this list, or `None` when it is no listing at all
    /// (outside `127.0.0.0/8`, or one of the error codes `127.255.255.x` a list gives
    /// to queries it refuses).
    pub fn meaning(&self, answer: Ipv4Addr) -> Option<String> {
        let [a, b, c, _] = answer.octets();
        if a != 127 || (b == 255 && c == 255) {
            return None;
        }
        Some(
            self.answers
                .iter()
                .find(|(ip, _)| *ip == answer)
                .map_or_else(|| format!("listed ({answer})"), |(_, meaning)| meaning.clone()),
        )
    }
}

/// What becomes of a message the content filter marks as spam without rejecting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum SpamHandling {
    /// Delivered, with the filter's verdict in `X-Spam-*` headers.
    #[default]
    Deliver,
    /// Delivered, with the spam tag before its subject as well.
    TagSubject,
    /// Held in the quarantine until the administrator releases or deletes it.
    Quarantine,
}

impl SpamHandling {
    /// Every choice, in the order the GUI lists them.
    pub const ALL: [SpamHandling; 3] = [SpamHandling::Deliver, SpamHandling::TagSubject, SpamHandling::Quarantine];

    /// In words, for the GUI and `mailroomctl`.
    pub fn label(self) -> &'static str {
        match self {
            SpamHandling::Deliver => "Deliver with X-Spam headers",
            SpamHandling::TagSubject => "Deliver and tag the subject",
            SpamHandling::Quarantine => "Hold in the quarantine",
        }
    }
}

/// Message Filtering page, as edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default, deny_unknown_fields)]
pub struct FilteringDraft {
    /// Look clients up in the DNS lists below when they connect to port 25.
    pub dns_lists_enabled: bool,
    /// The DNS lists, block and allow.
    pub dns_lists: Vec<DnsListDraft>,
    /// Seconds the banner waits, refusing clients that talk before it (Postfix
    /// postscreen's pregreet test); 0 for off.
    pub greet_delay_secs: u64,
    /// Look up the client's reverse DNS name and check that it resolves back (iprev,
    /// RFC 8601), for the `Authentication-Results:` header and the content filter's
    /// score; never a refusal on its own.
    pub reverse_dns: bool,
    /// Greylist unknown (client network, sender, recipient) triplets (RFC 6647).
    pub greylisting: bool,
    /// How long a new triplet must wait before its retry passes, seconds.
    pub greylist_delay_secs: u64,
    /// How long a triplet waits for its retry before it counts as new again, seconds.
    pub greylist_retry_window_secs: u64,
    /// How long a client network that passed stays allowed without greylisting, days.
    pub greylist_pass_days: u64,
    /// Limit how many outside recipients each authenticated account may send to.
    pub sending_limits: bool,
    /// Outside recipients per account per hour.
    pub max_recipients_per_hour: u64,
    /// Outside recipients per account per day.
    pub max_recipients_per_day: u64,
    /// Scan mail from outside with rspamd before accepting it.
    pub rspamd_enabled: bool,
    /// rspamd's normal worker, `http://host:port`.
    pub rspamd_url: String,
    /// How long a scan may take before the message is accepted unscanned, seconds.
    pub rspamd_timeout_secs: u64,
    /// What rspamd's "add header" action does.
    pub on_add_header: SpamHandling,
    /// What rspamd's "rewrite subject" action does.
    pub on_rewrite_subject: SpamHandling,
    /// Hold messages scoring at least this much, whatever rspamd's action; `None` for
    /// no such threshold.
    pub quarantine_score: Option<u64>,
    /// Put before the subject of tagged spam.
    pub spam_tag: String,
    /// Days a quarantined message is kept before it is deleted.
    pub quarantine_keep_days: u64,
    /// Inbound domains whose users sort their own spam: what would be held in the
    /// quarantine for them goes to each recipient's Junk folder instead (IMAP users
    /// see it there).
    pub junk_domains: Vec<String>,
}

impl Default for FilteringDraft {
    fn default() -> Self {
        let answer =
            |answer: &str, meaning: &str| DnsListAnswerDraft { answer: answer.into(), meaning: meaning.into() };
        FilteringDraft {
            dns_lists_enabled: false,
            dns_lists: vec![
                DnsListDraft {
                    zone: "zen.spamhaus.org".into(),
                    allow: false,
                    answers: vec![
                        answer("127.0.0.2", "Spamhaus SBL: a known spam source"),
                        answer("127.0.0.3", "Spamhaus SBL CSS: a snowshoe spam source"),
                        answer("127.0.0.4", "Spamhaus XBL: an exploited or infected host"),
                        answer("127.0.0.9", "Spamhaus DROP: a hijacked network"),
                        answer("127.0.0.10", "Spamhaus PBL: an address that should not send mail directly"),
                        answer("127.0.0.11", "Spamhaus PBL: an address that should not send mail directly"),
                    ],
                },
                DnsListDraft { zone: "list.dnswl.org".into(), allow: true, answers: Vec::new() },
            ],
            greet_delay_secs: 0,
            reverse_dns: true,
            greylisting: false,
            greylist_delay_secs: 300,
            greylist_retry_window_secs: 4 * 3600,
            greylist_pass_days: 36,
            sending_limits: true,
            max_recipients_per_hour: 500,
            max_recipients_per_day: 2000,
            rspamd_enabled: false,
            rspamd_url: "http://127.0.0.1:11333".into(),
            rspamd_timeout_secs: 5,
            on_add_header: SpamHandling::Deliver,
            on_rewrite_subject: SpamHandling::TagSubject,
            quarantine_score: None,
            spam_tag: "[SPAM]".into(),
            quarantine_keep_days: 30,
            junk_domains: Vec::new(),
        }
    }
}

/// Where rspamd listens: plain HTTP on a host and port (it runs beside the mail
/// server; its protocol has no TLS of its own).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HttpEndpoint {
    /// Host name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl HttpEndpoint {
    /// Parses `http://host[:port][/]` (port 80 when none).
    ///
    /// # Errors
    /// Why it is not such an address, in words.
    pub fn parse(s: &str) -> Result<HttpEndpoint, String> {
        let s = s.trim();
        let rest = match s.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some((scheme, _)) => return Err(format!("{scheme}:// is not supported; rspamd speaks http://")),
            None => return Err("write it as http://host:port, e.g. http://127.0.0.1:11333".into()),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('/') || rest.contains('?') || rest.contains('@') {
            return Err("only http://host:port, without a path".into());
        }
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (ip, after) = v6.split_once(']').ok_or("an IPv6 address needs its closing ]")?;
            ip.parse::<std::net::Ipv6Addr>().map_err(|_| format!("'{ip}' is not an IPv6 address"))?;
            (format!("[{ip}]"), after.strip_prefix(':'))
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), Some(p)),
                None => (rest.to_owned(), None),
            }
        };
        if host.is_empty() {
            return Err("the host is missing".into());
        }
        if !host.starts_with('[') && host.parse::<Ipv4Addr>().is_err() {
            Domain::parse(&host).map_err(|e| format!("'{host}' is not a host name: {}", e.0))?;
        }
        let port = match port {
            None => 80,
            Some(p) => p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| format!("'{p}' is not a port"))?,
        };
        Ok(HttpEndpoint { host, port })
    }
}

impl std::fmt::Display for HttpEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "http://{}:{}", self.host, self.port)
    }
}

/// Message Filtering page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filtering {
    /// Look clients up in the DNS lists.
    pub dns_lists_enabled: bool,
    /// The DNS lists.
    pub dns_lists: Vec<DnsList>,
    /// How long the banner waits; zero for off.
    pub greet_delay: std::time::Duration,
    /// Check the client's reverse DNS name (iprev).
    pub reverse_dns: bool,
    /// Greylisting is on.
    pub greylisting: bool,
    /// How long a new triplet waits.
    pub greylist_delay: std::time::Duration,
    /// How long a triplet waits for its retry.
    pub greylist_retry_window: std::time::Duration,
    /// How long a client network that passed stays allowed.
    pub greylist_pass: std::time::Duration,
    /// Sending limits are on.
    pub sending_limits: bool,
    /// Outside recipients per account per hour.
    pub max_recipients_per_hour: u64,
    /// Outside recipients per account per day.
    pub max_recipients_per_day: u64,
    /// rspamd, when scanning is on.
    pub rspamd: Option<HttpEndpoint>,
    /// rspamd's address as configured, kept while scanning is off.
    pub rspamd_url: HttpEndpoint,
    /// How long a scan may take.
    pub rspamd_timeout: std::time::Duration,
    /// What "add header" does.
    pub on_add_header: SpamHandling,
    /// What "rewrite subject" does.
    pub on_rewrite_subject: SpamHandling,
    /// Hold messages scoring at least this much.
    pub quarantine_score: Option<u64>,
    /// Put before the subject of tagged spam.
    pub spam_tag: String,
    /// How long a quarantined message is kept.
    pub quarantine_keep: std::time::Duration,
    /// Domains whose spam goes to the recipients' Junk folders, not the quarantine.
    pub junk_domains: Vec<Domain>,
}

const DAY: u64 = 86_400;

impl Filtering {
    pub(super) fn validate(d: &FilteringDraft, v: &mut Validator) -> Option<Filtering> {
        let mut lists = Some(Vec::new());
        for (i, l) in d.dns_lists.iter().enumerate() {
            let field = format!("filtering.dns_lists[{i}]");
            let zone = v.parse(format!("{field}.zone"), &l.zone, Domain::parse, |value, reason| {
                Problem::InvalidDomain { value, reason }
            });
            let mut answers = Some(Vec::new());
            for (j, a) in l.answers.iter().enumerate() {
                let parsed = a.answer.trim().parse::<Ipv4Addr>().ok().filter(|ip| ip.octets()[0] == 127);
                match parsed {
                    Some(ip) => {
                        if let Some(list) = answers.as_mut() {
                            list.push((ip, a.meaning.trim().to_owned()));
                        }
                    }
                    None => {
                        v.push(
                            format!("{field}.answers[{j}].answer"),
                            Problem::inconsistent(format!(
                                "'{}' is not a DNS list answer; lists answer 127.0.0.x",
                                a.answer
                            )),
                        );
                        answers = None;
                    }
                }
            }
            match (zone, answers, lists.as_mut()) {
                (Some(zone), Some(answers), Some(out)) => {
                    if let Some(j) = out.iter().position(|o: &DnsList| o.zone == zone) {
                        v.push(
                            format!("{field}.zone"),
                            Problem::Duplicate { other: format!("filtering.dns_lists[{j}]") },
                        );
                        lists = None;
                    } else {
                        out.push(DnsList { zone, allow: l.allow, answers });
                    }
                }
                _ => lists = None,
            }
        }
        let greet = v.range("filtering.greet_delay_secs", d.greet_delay_secs, 0, 30);
        let delay = v.range("filtering.greylist_delay_secs", d.greylist_delay_secs, 1, 3600);
        let window = v.range("filtering.greylist_retry_window_secs", d.greylist_retry_window_secs, 60, 2 * DAY);
        if let (Some(delay), Some(window)) = (delay, window)
            && window <= delay
        {
            v.push(
                "filtering.greylist_retry_window_secs",
                Problem::inconsistent("the retry window must be longer than the greylisting delay"),
            );
        }
        let pass = v.range("filtering.greylist_pass_days", d.greylist_pass_days, 1, 365);
        let per_hour = v.range("filtering.max_recipients_per_hour", d.max_recipients_per_hour, 1, 1_000_000);
        let per_day = v.range("filtering.max_recipients_per_day", d.max_recipients_per_day, 1, 10_000_000);
        if let (Some(h), Some(day)) = (per_hour, per_day)
            && day < h
        {
            v.push(
                "filtering.max_recipients_per_day",
                Problem::inconsistent("the daily limit cannot be below the hourly one"),
            );
        }
        let url = match HttpEndpoint::parse(&d.rspamd_url) {
            Ok(u) => Some(u),
            Err(reason) => {
                v.push(
                    "filtering.rspamd_url",
                    Problem::inconsistent(format!("'{}' is not rspamd's address: {reason}", d.rspamd_url)),
                );
                None
            }
        };
        let timeout = v.range("filtering.rspamd_timeout_secs", d.rspamd_timeout_secs, 1, 120);
        let score = match d.quarantine_score {
            None => Some(None),
            Some(s) => v.range("filtering.quarantine_score", s, 1, 1000).map(Some),
        };
        let tag = d.spam_tag.trim();
        if tag.chars().any(char::is_control) || tag.len() > 40 {
            v.push("filtering.spam_tag", Problem::inconsistent("the tag must be one line of at most 40 characters"));
        }
        let keep = v.range("filtering.quarantine_keep_days", d.quarantine_keep_days, 1, 3650);
        let mut junk_domains = Some(Vec::new());
        for (i, name) in d.junk_domains.iter().enumerate() {
            let parsed = v.parse(format!("filtering.junk_domains[{i}]"), name, Domain::parse, |value, reason| {
                Problem::InvalidDomain { value, reason }
            });
            match (parsed, junk_domains.as_mut()) {
                (Some(domain), Some(list)) => list.push(domain),
                _ => junk_domains = None,
            }
        }
        let url = url?;
        Some(Filtering {
            dns_lists_enabled: d.dns_lists_enabled,
            dns_lists: lists?,
            greet_delay: std::time::Duration::from_secs(greet?),
            reverse_dns: d.reverse_dns,
            greylisting: d.greylisting,
            greylist_delay: std::time::Duration::from_secs(delay?),
            greylist_retry_window: std::time::Duration::from_secs(window?),
            greylist_pass: std::time::Duration::from_secs(pass? * DAY),
            sending_limits: d.sending_limits,
            max_recipients_per_hour: per_hour?,
            max_recipients_per_day: per_day?,
            rspamd: d.rspamd_enabled.then(|| url.clone()),
            rspamd_url: url,
            rspamd_timeout: std::time::Duration::from_secs(timeout?),
            on_add_header: d.on_add_header,
            on_rewrite_subject: d.on_rewrite_subject,
            quarantine_score: score?,
            spam_tag: tag.to_owned(),
            quarantine_keep: std::time::Duration::from_secs(keep? * DAY),
            junk_domains: junk_domains?,
        })
    }

    pub(super) fn to_draft(&self) -> FilteringDraft {
        FilteringDraft {
            dns_lists_enabled: self.dns_lists_enabled,
            dns_lists: self
                .dns_lists
                .iter()
                .map(|l| DnsListDraft {
                    zone: l.zone.to_string(),
                    allow: l.allow,
                    answers: l
                        .answers
                        .iter()
                        .map(|(ip, meaning)| DnsListAnswerDraft { answer: ip.to_string(), meaning: meaning.clone() })
                        .collect(),
                })
                .collect(),
            greet_delay_secs: self.greet_delay.as_secs(),
            reverse_dns: self.reverse_dns,
            greylisting: self.greylisting,
            greylist_delay_secs: self.greylist_delay.as_secs(),
            greylist_retry_window_secs: self.greylist_retry_window.as_secs(),
            greylist_pass_days: self.greylist_pass.as_secs() / DAY,
            sending_limits: self.sending_limits,
            max_recipients_per_hour: self.max_recipients_per_hour,
            max_recipients_per_day: self.max_recipients_per_day,
            rspamd_enabled: self.rspamd.is_some(),
            rspamd_url: self.rspamd_url.to_string(),
            rspamd_timeout_secs: self.rspamd_timeout.as_secs(),
            on_add_header: self.on_add_header,
            on_rewrite_subject: self.on_rewrite_subject,
            quarantine_score: self.quarantine_score,
            spam_tag: self.spam_tag.clone(),
            quarantine_keep_days: self.quarantine_keep.as_secs() / DAY,
            junk_domains: self.junk_domains.iter().map(ToString::to_string).collect(),
        }
    }
}
