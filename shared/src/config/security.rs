//! The Security page: when passwords may travel in clear text, the TLS certificate (or
//! one from an ACME CA), and how mail is signed and checked (DKIM, SPF, DMARC, ARC).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::validate::{Problem, Validator};
use crate::address::{Domain, EmailAddress};

/// When a password may be sent without TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum PlainTextAuth {
    /// Only over TLS.
    Never,
    /// Without TLS only on loopback connections (the default).
    #[default]
    LoopbackOnly,
    /// Always (not recommended).
    Always,
}

impl PlainTextAuth {
    /// True when a clear-text password may be accepted from `client` over a connection
    /// that is or is not encrypted.
    pub fn permits(self, client: std::net::IpAddr, encrypted: bool) -> bool {
        encrypted
            || match self {
                PlainTextAuth::Never => false,
                PlainTextAuth::LoopbackOnly => client.is_loopback(),
                PlainTextAuth::Always => true,
            }
    }
}

/// Security page, as edited.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default, deny_unknown_fields)]
pub struct SecurityDraft {
    /// When SMTP AUTH may be used without TLS.
    pub plain_text_auth: PlainTextAuth,
    /// PEM certificate chain; empty for a self-signed certificate.
    pub tls_certificate: String,
    /// PEM private key; empty for a self-signed certificate.
    pub tls_key: String,
    /// Message authentication (DKIM, SPF, DMARC, ARC); every combination is valid.
    pub message_authentication: MessageAuthentication,
    /// A certificate from an ACME CA (Let's Encrypt) instead of files.
    pub acme: AcmeDraft,
}

/// Let's Encrypt's production directory, the default ACME CA.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// How an ACME CA checks that we control the certificate's names (RFC 8555 §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum AcmeChallenge {
    /// `tls-alpn-01` (RFC 8737): the CA connects to port 443 asking for `acme-tls/1`.
    #[default]
    TlsAlpn01,
    /// `http-01`: the CA fetches `http://NAME/.well-known/acme-challenge/TOKEN` on port 80.
    Http01,
}

impl AcmeChallenge {
    /// Where the answer is served when no address is given: all addresses, the port the
    /// CA connects to.
    pub fn default_listen(self) -> std::net::SocketAddr {
        let port = match self {
            AcmeChallenge::TlsAlpn01 => 443,
            AcmeChallenge::Http01 => 80,
        };
        std::net::SocketAddr::from(([0, 0, 0, 0], port))
    }
}

/// The Security page's *Certificate from an ACME CA* group, as edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default, deny_unknown_fields)]
pub struct AcmeDraft {
    /// Obtain (and renew) the certificate from the CA.
    pub enabled: bool,
    /// The CA's directory URL.
    pub directory_url: String,
    /// The account's contact address (optional).
    pub email: String,
    /// The certificate's names, separated by commas or spaces; empty for the host name.
    pub names: String,
    /// How the CA checks the names.
    pub challenge: AcmeChallenge,
    /// Where the challenge's answer is served; empty for the challenge's standard port.
    pub challenge_listen: String,
    /// Add the names mail programs set themselves up from: `autoconfig.` and
    /// `autodiscover.` of each inbound domain, while HTTPS is on.
    pub setup_names: bool,
}

impl Default for AcmeDraft {
    fn default() -> Self {
        AcmeDraft {
            enabled: false,
            directory_url: LETS_ENCRYPT.into(),
            email: String::new(),
            names: String::new(),
            challenge: AcmeChallenge::default(),
            challenge_listen: String::new(),
            setup_names: false,
        }
    }
}

/// A certificate from an ACME CA, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acme {
    /// The CA's directory URL (`https://`).
    pub directory_url: String,
    /// The account's contact address, if any.
    pub email: Option<EmailAddress>,
    /// The certificate's names (at least one; the first is its subject).
    pub names: Vec<Domain>,
    /// How the CA checks the names.
    pub challenge: AcmeChallenge,
    /// Where the challenge's answer is served.
    pub challenge_listen: std::net::SocketAddr,
    /// Add the set-up names (see [`AcmeDraft::setup_names`];
    /// [`crate::config::Config::acme`] adds them).
    pub setup_names: bool,
}

impl Acme {
    fn validate(d: &AcmeDraft, host_name: Option<&Domain>, v: &mut Validator) -> Option<Acme> {
        let before = v.errors.len();
        let url = d.directory_url.trim();
        if url.is_empty() {
            v.push("security.acme.directory_url", Problem::Empty);
        } else if !url.starts_with("https://") || url.len() <= "https://".len() || url.contains(char::is_whitespace) {
            v.push(
                "security.acme.directory_url",
                Problem::inconsistent(format!("'{url}' is not an https:// URL (Let's Encrypt's is {LETS_ENCRYPT})")),
            );
        }
        let email = if d.email.trim().is_empty() {
            None
        } else {
            v.parse("security.acme.email", &d.email, EmailAddress::parse, |value, reason| Problem::InvalidAddress {
                value,
                reason,
            })
        };
        let mut names = Vec::new();
        for name in d.names.split(|c: char| c == ',' || c.is_whitespace()).filter(|n| !n.is_empty()) {
            if name.starts_with("*.") {
                v.push(
                    "security.acme.names",
                    Problem::inconsistent(format!(
                        "'{name}': a wildcard needs the DNS challenge, which Mailroom does not answer; name each host"
                    )),
                );
                continue;
            }
            if name.parse::<std::net::IpAddr>().is_ok() {
                v.push(
                    "security.acme.names",
                    Problem::inconsistent(format!("'{name}' is an IP address; name the host")),
                );
                continue;
            }
            match Domain::parse(name) {
                Ok(d) if !names.contains(&d) => names.push(d),
                Ok(_) => {}
                Err(e) => {
                    v.push("security.acme.names", Problem::InvalidHostName { value: name.to_owned(), reason: e.0 })
                }
            }
        }
        if names.is_empty() && d.names.trim().is_empty() {
            names.extend(host_name.cloned());
        }
        let challenge_listen = if d.challenge_listen.trim().is_empty() {
            Some(d.challenge.default_listen())
        } else {
            v.listen("security.acme.challenge_listen", &d.challenge_listen)
        };
        (v.errors.len() == before).then(|| Acme {
            directory_url: url.to_owned(),
            email,
            names,
            challenge: d.challenge,
            challenge_listen: challenge_listen.unwrap_or_else(|| d.challenge.default_listen()),
            setup_names: d.setup_names,
        })
    }

    fn to_draft(&self) -> AcmeDraft {
        AcmeDraft {
            enabled: true,
            directory_url: self.directory_url.clone(),
            email: self.email.as_ref().map(ToString::to_string).unwrap_or_default(),
            names: self.names.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
            challenge: self.challenge,
            challenge_listen: if self.challenge_listen == self.challenge.default_listen() {
                String::new()
            } else {
                self.challenge_listen.to_string()
            },
            setup_names: self.setup_names,
        }
    }
}

/// What p=quarantine in a sender's DMARC policy does to a message that fails it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum QuarantineAction {
    /// Hold it in the quarantine (Message Filtering) until the administrator releases
    /// or deletes it.
    #[default]
    Quarantine,
    /// Deliver it with `[Suspicious]` before its subject.
    TagSubject,
    /// Deliver it as it is (the `Authentication-Results:` header still says).
    Deliver,
}

/// The Security page's *Message Authentication* group: signing what we send, and
/// checking what arrives, so that the world trusts our mail and staff can trust theirs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default, deny_unknown_fields)]
pub struct MessageAuthentication {
    /// DKIM-sign mail relayed for our users and the messages Mailroom writes, for the
    /// inbound domain of their `From:` (RSA and Ed25519).
    pub sign_outbound: bool,
    /// Check SPF, DKIM, DMARC and ARC on mail from outside and record the verdict in an
    /// `Authentication-Results:` header.
    pub check_inbound: bool,
    /// Refuse mail failing DMARC when its domain's policy is `p=reject`.
    pub dmarc_reject: bool,
    /// What `p=quarantine` does.
    pub dmarc_quarantine: QuarantineAction,
    /// Refuse mail from outside whose `From:` is one of our inbound domains when it
    /// passes neither SPF nor our DKIM (the "mail from the CEO" fraud).
    pub protect_own_domains: bool,
}

impl Default for MessageAuthentication {
    fn default() -> Self {
        MessageAuthentication {
            sign_outbound: true,
            check_inbound: true,
            dmarc_reject: true,
            dmarc_quarantine: QuarantineAction::Quarantine,
            protect_own_domains: true,
        }
    }
}

/// Security page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Security {
    /// When SMTP AUTH may be used without TLS.
    pub plain_text_auth: PlainTextAuth,
    /// Certificate and key files, both or neither.
    pub tls_files: Option<(PathBuf, PathBuf)>,
    /// Message authentication.
    pub message_authentication: MessageAuthentication,
    /// The certificate from an ACME CA, when the administrator asked for one.
    pub acme: Option<Acme>,
}

impl Security {
    pub(super) fn validate(d: &SecurityDraft, host_name: Option<&Domain>, v: &mut Validator) -> Option<Security> {
        let cert = d.tls_certificate.trim();
        let key = d.tls_key.trim();
        let tls_files = match (cert.is_empty(), key.is_empty()) {
            (true, true) => None,
            (false, false) => Some((PathBuf::from(cert), PathBuf::from(key))),
            (true, false) => {
                v.push("security.tls_certificate", Problem::inconsistent("a key needs a certificate"));
                return None;
            }
            (false, true) => {
                v.push("security.tls_key", Problem::inconsistent("a certificate needs its key"));
                return None;
            }
        };
        let acme = if d.acme.enabled {
            if tls_files.is_some() {
                v.push(
                    "security.acme.enabled",
                    Problem::inconsistent("a certificate from files and one from an ACME CA cannot both be used: clear the two files, or untick this"),
                );
                return None;
            }
            Some(Acme::validate(&d.acme, host_name, v)?)
        } else {
            None
        };
        Some(Security {
            plain_text_auth: d.plain_text_auth,
            tls_files,
            message_authentication: d.message_authentication.clone(),
            acme,
        })
    }

    pub(super) fn to_draft(&self) -> SecurityDraft {
        let (c, k) = self
            .tls_files
            .as_ref()
            .map(|(c, k)| (c.display().to_string(), k.display().to_string()))
            .unwrap_or_default();
        SecurityDraft {
            plain_text_auth: self.plain_text_auth,
            tls_certificate: c,
            tls_key: k,
            message_authentication: self.message_authentication.clone(),
            acme: self.acme.as_ref().map(Acme::to_draft).unwrap_or_default(),
        }
    }
}
