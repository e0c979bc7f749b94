//! Checking mail from outside: SPF at `MAIL FROM`, then DKIM, ARC and DMARC once the
//! message is in, the verdict as an `Authentication-Results:` header (RFC 8601), and
//! the Security page's policy as an answer.
//!
//! Which mail is checked: a client that has not authenticated, is not in a network
//! allowed to relay (Routing Restrictions), and is not this machine talking to itself
//! (its address is the one it connected to, as OpenDKIM's default internal hosts).
//!
//! The policy, in order:
//! 1. a DNS failure on the way to a verdict defers the message (`451 4.7.x`), never
//!    passes it unchecked;
//! 2. mail whose `From:` is one of our own inbound domains must pass SPF for it or
//!    carry its valid DKIM signature, else it is refused (the forged-CEO case);
//! 3. DMARC `p=reject` refuses a failing message, `p=quarantine` holds it in the
//!    quarantine (or tags its subject, as the Security page says).

use std::net::IpAddr;

use mail_auth::common::headers::HeaderWriter as _;
use mail_auth::dkim::DkimError;
use mail_auth::dmarc::Policy;
use mail_auth::{
    AuthenticatedMessage, AuthenticationResults, DkimOutput, DkimResult, DmarcResult, IprevOutput, SpfOutput,
    SpfResult, dmarc::verify::DmarcParameters, spf::verify::SpfParameters,
};
use mailroom_shared::address::Domain;
use mailroom_shared::config::{Config, QuarantineAction};

use super::MailAuth;

/// What a subject tag says.
pub const SUSPICIOUS: &str = "[Suspicious]";

/// The SPF verdict on a transaction, taken at `MAIL FROM` and used again at the end of
/// the data.
#[derive(Debug, Clone)]
pub struct Spf {
    output: SpfOutput,
    ip: IpAddr,
    helo: String,
    mail_from: String,
}

pub use crate::refusal::Refusal;

/// What to do with a checked message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Accept it.
    Accept,
    /// Accept it with its subject tagged (DMARC `p=quarantine`).
    Tag,
    /// Hold it in the quarantine (DMARC `p=quarantine`).
    Quarantine,
    /// Refuse it.
    Refuse(Refusal),
}

/// The verdict on a message.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The `Authentication-Results:` header field, CRLF included.
    pub header: String,
    /// The answer.
    pub action: Action,
    /// The results in a few words (`spf=pass dkim=pass dmarc=pass`), for tracking.
    pub summary: String,
}

/// True when mail from a client is checked: not authenticated, not allowed to relay by
/// network, not this machine itself (`peer` equal to the address it reached, `local`).
pub fn applies(config: &Config, authenticated: bool, relay_allowed: bool, peer: IpAddr, local: IpAddr) -> bool {
    config.security.message_authentication.check_inbound && !authenticated && !relay_allowed && peer != local
}

impl MailAuth {
    /// The SPF verdict for a transaction (the HELO identity, then `MAIL FROM`'s).
    ///
    /// # Errors
    /// A `451` when DNS failed (the client should try again), or when there is no
    /// resolver at all.
    pub async fn spf(&self, ip: IpAddr, helo: &str, mail_from: &str) -> Result<Spf, Refusal> {
        let Some(authenticator) = &self.authenticator else {
            return Err(dns_unavailable());
        };
        let output = authenticator.verify_spf(SpfParameters::verify(ip, helo, &self.host, mail_from)).await;
        if output.result() == SpfResult::TempError {
            tracing::info!(target: "mailroom_service::mailauth", %ip, helo, mail_from, "SPF check failed temporarily");
            return Err(Refusal {
                code: 451,
                status: "4.7.24",
                text: "SPF check failed temporarily (DNS); try again later".into(),
            });
        }
        Ok(Spf { output, ip, helo: helo.to_owned(), mail_from: mail_from.to_owned() })
    }

    /// The verdict on `message` (as received, before our own headers), with the SPF
    /// verdict of its transaction and the client's reverse DNS verdict when it was
    /// looked up, under `config`'s policy.
    pub async fn check(&self, message: &[u8], spf: &Spf, config: &Config, iprev: Option<&IprevOutput>) -> Verdict {
        let Some(authenticator) = &self.authenticator else {
            return Verdict {
                header: String::new(),
                action: Action::Refuse(dns_unavailable()),
                summary: String::new(),
            };
        };
        let policy = &config.security.message_authentication;
        let Some(parsed) = AuthenticatedMessage::parse(message) else {
            let header =
                format!("Authentication-Results: {}; none (the header section cannot be parsed)\r\n", self.host);
            return Verdict { header, action: Action::Accept, summary: "unparseable".into() };
        };
        // A body that no longer matches its signature failed verification: RFC 8601
        // §2.7.1 calls that `fail` (mail-auth says `neutral`).
        let dkim: Vec<_> = authenticator
            .verify_dkim(&parsed)
            .await
            .into_iter()
            .map(|d| {
                let signed = d.signature().and_then(|s| parsed.dkim_headers.iter().find(|h| h.header.b == s.b));
                match (d.result(), signed) {
                    (DkimResult::Neutral(e @ mail_auth::Error::Dkim(DkimError::FailedBodyHashMatch)), Some(h)) => {
                        DkimOutput::fail(e.clone()).with_signature(&h.header)
                    }
                    _ => d,
                }
            })
            .collect();
        let arc = authenticator.verify_arc(&parsed).await;
        let mail_from_domain = spf.mail_from.rsplit_once('@').map_or(spf.helo.as_str(), |(_, d)| d);
        let dmarc =
            authenticator.verify_dmarc(DmarcParameters::new(&parsed, &dkim, mail_from_domain, &spf.output)).await;
        let from = parsed.from().to_owned();
        let mut results = AuthenticationResults::new(&self.host);
        if let Some(iprev) = iprev {
            results = results.with_iprev_result(iprev, spf.ip);
        }
        let header = results
            .with_dkim_results(&dkim, &from)
            .with_spf_mailfrom_result(&spf.output, spf.ip, &spf.mail_from, &spf.helo)
            .with_arc_result(&arc, spf.ip)
            .with_dmarc_result(&dmarc)
            .to_header();
        // An unsigned message is reported as such (RFC 8601 §2.7.1, `dkim=none`).
        let header = if dkim.is_empty() {
            let host = format!("Authentication-Results: {};", self.host);
            header.replacen(&host, &format!("{host}\r\n\tdkim=none (no signature);"), 1)
        } else {
            header
        };
        let dkim_word = if dkim.iter().any(|d| d.result() == &DkimResult::Pass) {
            "pass"
        } else if dkim.is_empty() {
            "none"
        } else {
            "fail"
        };
        let summary =
            format!("spf={} dkim={dkim_word} dmarc={}", spf_word(spf.output.result()), dmarc_word(&dmarc.result()));
        let from_domain = from.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_default();

        // 1. DNS trouble that matters to the verdict defers.
        let aligned = |d: &str| same_or_under(&from_domain, d) || same_or_under(d, &from_domain);
        let dkim_temp = dkim
            .iter()
            .any(|d| matches!(d.result(), DkimResult::TempError(_)) && d.signature().is_some_and(|s| aligned(&s.d)));
        if matches!(dmarc.result(), DmarcResult::TempError(_)) || dkim_temp {
            let text = "DKIM or DMARC check failed temporarily (DNS); try again later".to_owned();
            return Verdict { header, action: Action::Refuse(Refusal::new(451, "4.7.5", text)), summary };
        }

        // 2. Our own domains cannot be claimed from outside without proof.
        let ours = Domain::parse(&from_domain).ok().and_then(|d| config.routing.table.inbound_domain_of(&d).cloned());
        if let (true, Some(ours)) = (policy.protect_own_domains, ours) {
            let ours = ours.to_string();
            let spf_ok = spf.output.result() == SpfResult::Pass && same_or_under(mail_from_domain, &ours);
            let dkim_ok = dkim
                .iter()
                .any(|d| d.result() == &DkimResult::Pass && d.signature().is_some_and(|s| same_or_under(&s.d, &ours)));
            if !spf_ok && !dkim_ok {
                let text = format!(
                    "Message refused: it says it is from {from_domain}, which is ours, but it comes from outside \
                     without SPF or DKIM proof from {ours}"
                );
                return Verdict { header, action: Action::Refuse(Refusal::new(550, "5.7.1", text)), summary };
            }
        }

        // 3. The sender's own DMARC policy.
        let failed = matches!(dmarc.result(), DmarcResult::Fail(_));
        let action = match dmarc.policy() {
            Policy::Reject if failed && policy.dmarc_reject => Action::Refuse(Refusal {
                code: 550,
                status: "5.7.1",
                text: std::borrow::Cow::Owned(format!(
                    "Message refused: the DMARC policy of {} says to reject mail that fails its checks \
                     (SPF {}, DKIM {dkim_word})",
                    dmarc.domain(),
                    spf_word(spf.output.result())
                )),
            }),
            Policy::Quarantine if failed => match policy.dmarc_quarantine {
                QuarantineAction::Quarantine => Action::Quarantine,
                QuarantineAction::TagSubject => Action::Tag,
                QuarantineAction::Deliver => Action::Accept,
            },
            _ => Action::Accept,
        };
        Verdict { header, action, summary }
    }
}

fn dns_unavailable() -> Refusal {
    Refusal::new(451, "4.7.5", "Sender checks are unavailable (no DNS); try again later")
}

/// True when `domain` is `parent` or a subdomain of it (relaxed alignment, without the
/// public suffix list: enough for our own domains and the sender's own records).
fn same_or_under(domain: &str, parent: &str) -> bool {
    let (domain, parent) = (domain.to_ascii_lowercase(), parent.to_ascii_lowercase());
    !parent.is_empty() && (domain == parent || domain.ends_with(&format!(".{parent}")))
}

fn spf_word(r: SpfResult) -> &'static str {
    match r {
        SpfResult::Pass => "pass",
        SpfResult::Fail => "fail",
        SpfResult::SoftFail => "softfail",
        SpfResult::Neutral => "neutral",
        SpfResult::TempError => "temperror",
        SpfResult::PermError => "permerror",
        SpfResult::None => "none",
    }
}

fn dmarc_word(r: &DmarcResult) -> &'static str {
    match r {
        DmarcResult::Pass => "pass",
        DmarcResult::Fail(_) => "fail",
        DmarcResult::TempError(_) => "temperror",
        DmarcResult::PermError(_) => "permerror",
        DmarcResult::None => "none",
    }
}

/// `message` without the `Authentication-Results:` fields that claim to be ours
/// (RFC 8601 §5: a receiver removes them before adding its own, since only it may
/// write them). Borrowed when there are none.
pub fn strip_our_results<'m>(message: &'m [u8], host: &str) -> std::borrow::Cow<'m, [u8]> {
    crate::message::strip_fields(message, |name, value| {
        let id = value.trim_start().split([';', ' ', '\t', '\r', '\n']).next().unwrap_or("");
        name.eq_ignore_ascii_case("Authentication-Results") && id.eq_ignore_ascii_case(host)
    })
}

/// `message` with `[Suspicious]` before its subject (a `Subject:` added when it has
/// none).
pub fn tag_subject(message: &[u8]) -> Vec<u8> {
    crate::message::tag_subject(message, SUSPICIOUS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_claiming_to_be_ours_are_removed() {
        let m = b"Authentication-Results: mail.corp.test;\r\n\tdkim=pass\r\nAuthentication-Results: other.test; spf=fail\r\n\
                  Subject: x\r\n\r\nAuthentication-Results: mail.corp.test; body text\r\n";
        let stripped = strip_our_results(m, "MAIL.corp.test");
        assert_eq!(
            &*stripped,
            &b"Authentication-Results: other.test; spf=fail\r\nSubject: x\r\n\r\nAuthentication-Results: mail.corp.test; body text\r\n"[..]
        );
        assert!(matches!(strip_our_results(b"Subject: x\r\n\r\nb\r\n", "h"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn subjects_are_tagged() {
        assert_eq!(
            tag_subject(b"To: a\r\nSubject: hi\r\n\r\nb\r\n"),
            b"To: a\r\nSubject: [Suspicious] hi\r\n\r\nb\r\n"
        );
        assert_eq!(
            tag_subject(b"To: a\r\n\r\nSubject: body\r\n"),
            b"Subject: [Suspicious]\r\nTo: a\r\n\r\nSubject: body\r\n"
        );
    }

    #[test]
    fn alignment_on_whole_labels() {
        assert!(same_or_under("mail.corp.test", "corp.test"));
        assert!(same_or_under("corp.test", "CORP.test"));
        assert!(!same_or_under("acorp.test", "corp.test"));
        assert!(!same_or_under("corp.test", ""));
    }
}
