//! The content filter's verdict as an answer: what rspamd's action means under the
//! Message Filtering page's settings, and the `X-Spam-*` headers that record it.
//!
//! - reject: refused, `550 5.7.1`, with rspamd's own reason when it gives one;
//! - soft reject: deferred, `451 4.7.1`;
//! - greylist: deferred until the sender retries after the greylisting delay (our own
//!   greylisting keeps the triplet; rspamd only says the message deserves it);
//! - rewrite subject / add header: as the page says — delivered with headers, tagged,
//!   or held in the quarantine; and any message scoring at least the quarantine score
//!   is held;
//! - no action: delivered, with headers.
//!
//! When rspamd cannot answer in time the message is accepted unscanned and tracked as
//! such: a dead filter must not stop the mail.

use mailroom_shared::config::{Filtering, SpamHandling};

use super::rspamd::{self, Action, Scan};
use crate::context::ServiceContext;
use crate::refusal::Refusal;
use crate::store::{FilterEvent, Greylist, GreylistTimes, now_secs};

/// What becomes of a scanned message.
#[derive(Debug, Clone, PartialEq)]
pub enum Disposition {
    /// Deliver it.
    Deliver,
    /// Deliver it with the spam tag before its subject.
    Tag,
    /// Hold it in the quarantine, for this reason.
    Quarantine(String),
    /// Refuse it with this reply.
    Refuse(Refusal),
}

/// The content filter's outcome for one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// `X-Spam-*` header fields to add, CRLF included (empty when unscanned).
    pub headers: String,
    /// What to do.
    pub disposition: Disposition,
    /// The verdict in a few words, for tracking (`rspamd: add header, score 7.50`).
    pub summary: String,
    /// The score, when scanned.
    pub score: Option<f64>,
}

/// The header fields the filter writes; any a message arrives with are removed first,
/// so that no sender can vouch for itself.
pub fn is_spam_field(name: &str) -> bool {
    name.len() >= 6 && name[..6].eq_ignore_ascii_case("X-Spam")
}

/// Scans `message` (its headers as they will be delivered, our
/// `Authentication-Results:` included, so the filter sees our verdict) when the page
/// turns rspamd on; `None` when it does not.
pub async fn scan(ctx: &ServiceContext, env: rspamd::Envelope, network: String, message: Vec<u8>) -> Option<Outcome> {
    let cfg = &ctx.config.filtering;
    let at = cfg.rspamd.as_ref()?;
    let sender = env.from.clone();
    let scan = match rspamd::scan(at, cfg.rspamd_timeout, &env, message).await {
        Ok(s) => s,
        Err(e) => {
            crate::logging::repeated("rspamd-unavailable", |n| {
                tracing::warn!(target: "mailroom_service::filtering", error = %e, repeats = n, "message accepted unscanned");
            });
            return Some(Outcome {
                headers: String::new(),
                disposition: Disposition::Deliver,
                summary: format!("unscanned: {e}"),
                score: None,
            });
        }
    };
    // rspamd's greylist action, kept by our own greylisting: the retry after the delay
    // passes.
    let retried = if scan.action == Action::Greylist {
        let times = GreylistTimes {
            delay: secs(cfg.greylist_delay),
            window: secs(cfg.greylist_retry_window),
            pass: secs(cfg.greylist_pass),
        };
        match ctx.store.greylist(network, sender, "(content filter)".into(), now_secs(), times).await {
            Ok(Greylist::Pass) => true,
            Ok(_) => false,
            Err(e) => {
                tracing::error!(target: "mailroom_service::filtering", error = %e, "cannot greylist; the message is accepted");
                true
            }
        }
    } else {
        false
    };
    let outcome = decide(&scan, cfg, retried);
    match &outcome.disposition {
        Disposition::Refuse(r) if r.code >= 500 => super::count(ctx, FilterEvent::FilterRejected),
        Disposition::Refuse(_) => super::count(ctx, FilterEvent::Greylisted),
        _ => {}
    }
    Some(outcome)
}

fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// The outcome of `scan` under `cfg`; `retried` when a greylisted message's retry came
/// after the delay.
pub fn decide(scan: &Scan, cfg: &Filtering, retried: bool) -> Outcome {
    let score = scan.score;
    let over_threshold = cfg.quarantine_score.is_some_and(|t| score >= t as f64);
    let handling = |h: SpamHandling, why: &str| match h {
        SpamHandling::Deliver => Disposition::Deliver,
        SpamHandling::TagSubject => Disposition::Tag,
        SpamHandling::Quarantine => Disposition::Quarantine(why.to_owned()),
    };
    let why = format!("rspamd: {}, score {score:.2} of {:.2}", scan.action.as_str(), scan.required);
    let disposition = match scan.action {
        Action::Reject => Disposition::Refuse(Refusal::new(
            550,
            "5.7.1",
            match &scan.smtp_message {
                Some(m) => format!("Message refused as spam: {m}"),
                None => format!("Message refused as spam (score {score:.2})"),
            },
        )),
        Action::SoftReject => {
            Disposition::Refuse(Refusal::new(451, "4.7.1", "Message deferred by the content filter; try again later"))
        }
        Action::Greylist if !retried => Disposition::Refuse(Refusal::new(
            451,
            "4.7.1",
            format!("Greylisted; please try again in {} seconds", cfg.greylist_delay.as_secs()),
        )),
        _ if over_threshold => Disposition::Quarantine(format!("{why} (at least the quarantine score)")),
        Action::RewriteSubject => handling(cfg.on_rewrite_subject, &why),
        Action::AddHeader => handling(cfg.on_add_header, &why),
        Action::Greylist | Action::Clean => Disposition::Deliver,
    };
    let spam = matches!(scan.action, Action::AddHeader | Action::RewriteSubject | Action::Reject | Action::SoftReject)
        || over_threshold;
    let mut headers = format!(
        "X-Spam-Status: {}, score={score:.2} required={:.2} action=\"{}\"\r\nX-Spam-Score: {score:.2}\r\n",
        if spam { "Yes" } else { "No" },
        scan.required,
        scan.action.as_str()
    );
    if !scan.symbols.is_empty() {
        headers.push_str(&format!("X-Spam-Symbols: {}\r\n", fold(&scan.symbols_text(30))));
    }
    if spam {
        headers.push_str("X-Spam: Yes\r\n");
    }
    Outcome { headers, disposition, summary: why, score: Some(score) }
}

/// `text` folded into lines under 78 characters, continued with a tab.
fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut line = 16; // "X-Spam-Symbols: "
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            if line + 1 + word.len() > 76 {
                out.push_str("\r\n\t");
                line = 1;
            } else {
                out.push(' ');
                line += 1;
            }
        }
        out.push_str(word);
        line += word.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(action: Action, score: f64) -> Scan {
        Scan {
            action,
            score,
            required: 15.0,
            symbols: vec![("GTUBE".into(), 15.0)],
            smtp_message: (action == Action::Reject).then(|| "Gtube pattern".into()),
        }
    }

    #[test]
    fn rspamd_actions_become_answers() {
        let cfg = mailroom_shared::config::Config::default().filtering;
        let reject = decide(&scan(Action::Reject, 15.0), &cfg, false);
        assert_eq!(
            reject.disposition,
            Disposition::Refuse(Refusal::new(550, "5.7.1", "Message refused as spam: Gtube pattern"))
        );
        let soft = decide(&scan(Action::SoftReject, 9.0), &cfg, false);
        assert!(matches!(soft.disposition, Disposition::Refuse(Refusal { code: 451, .. })));
        assert!(matches!(decide(&scan(Action::Greylist, 5.0), &cfg, false).disposition, Disposition::Refuse(_)));
        assert_eq!(decide(&scan(Action::Greylist, 5.0), &cfg, true).disposition, Disposition::Deliver);
        let header = decide(&scan(Action::AddHeader, 7.0), &cfg, false);
        assert_eq!(header.disposition, Disposition::Deliver, "the default for add header");
        assert!(header.headers.starts_with("X-Spam-Status: Yes, score=7.00 required=15.00 action=\"add header\"\r\n"));
        assert!(header.headers.ends_with("X-Spam: Yes\r\n"));
        assert_eq!(decide(&scan(Action::RewriteSubject, 8.0), &cfg, false).disposition, Disposition::Tag);
        let clean = decide(&scan(Action::Clean, 1.0), &cfg, false);
        assert_eq!(clean.disposition, Disposition::Deliver);
        assert!(clean.headers.starts_with("X-Spam-Status: No,") && !clean.headers.contains("X-Spam: Yes"));
    }

    #[test]
    fn the_page_can_hold_spam_instead() {
        let mut cfg = mailroom_shared::config::Config::default().filtering;
        cfg.on_add_header = SpamHandling::Quarantine;
        cfg.quarantine_score = Some(5);
        assert!(matches!(decide(&scan(Action::AddHeader, 7.0), &cfg, false).disposition, Disposition::Quarantine(_)));
        let by_score = decide(&scan(Action::Clean, 5.5), &cfg, false);
        assert!(matches!(&by_score.disposition, Disposition::Quarantine(why) if why.contains("quarantine score")));
        assert!(by_score.headers.contains("X-Spam: Yes"));
        assert_eq!(decide(&scan(Action::Clean, 4.9), &cfg, false).disposition, Disposition::Deliver);
    }

    #[test]
    fn long_symbol_lists_are_folded() {
        let f = fold(&["SYMBOL_NUMBER_ONE(1.00)"; 8].join(" "));
        assert!(f.split("\r\n").all(|l| l.len() < 78), "{f}");
        assert!(f.contains("\r\n\t"));
    }

    #[test]
    fn spam_fields_are_recognised() {
        assert!(is_spam_field("X-Spam-Status") && is_spam_field("x-spam") && !is_spam_field("X-Spa"));
    }
}
