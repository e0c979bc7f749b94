//! Mail authentication: the world trusts our mail, and staff can trust theirs.
//!
//! - **Outbound** ([`signing`]): mail relayed for an authenticated user, and the
//!   messages Mailroom writes (NDRs), are DKIM-signed for the inbound domain of their
//!   `From:` — twice, RSA-SHA256 and Ed25519-SHA256 (RFC 6376, RFC 8463),
//!   relaxed/relaxed, the identifying headers over-signed — once, at acceptance, before
//!   the message is queued. Keys are made per inbound domain and kept in the store.
//! - **Inbound** ([`inbound`]): mail from outside (not authenticated, not from a network
//!   allowed to relay, not from this host itself) is checked — SPF at `MAIL FROM`,
//!   then DKIM, ARC and DMARC at the end of the data — and the verdict goes into an
//!   `Authentication-Results:` header (RFC 8601), after any header claiming to be ours
//!   is removed. The Security page's policy turns it into an answer: DMARC `p=reject`
//!   refused, `p=quarantine` tagged, our own domains protected from forgery, and a DNS
//!   failure deferred, never passed.
//! - **Records** ([`records`]): what each inbound domain must publish in DNS for the
//!   above to work (MX, SPF, DKIM, DMARC, SRV), and whether it does.
//!
//! The cryptography, the DNS lookups and the policy evaluation are mail-auth's (the
//! library Stalwart uses), with the service's own resolver settings.

pub mod inbound;
pub mod keys;
pub mod records;
pub mod signing;

use std::sync::Arc;

use mail_auth::MessageAuthenticator;
use mailroom_shared::config::Config;

use self::signing::SigningKeys;

/// What a run needs for mail authentication.
pub struct MailAuth {
    /// This server's name: the `authserv-id` of its `Authentication-Results:`.
    pub host: String,
    /// The DNS side of the checks; `None` when no resolver could be set up (then mail
    /// from outside is deferred rather than passed unchecked).
    pub authenticator: Option<MessageAuthenticator>,
    /// The signing keys, shared by every run and updated when keys change.
    pub keys: Arc<SigningKeys>,
}

impl std::fmt::Debug for MailAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailAuth").field("host", &self.host).finish_non_exhaustive()
    }
}

impl MailAuth {
    /// Mail authentication for a run with `config`, signing with `keys`.
    pub fn new(config: &Config, keys: Arc<SigningKeys>) -> MailAuth {
        let authenticator = crate::dns::config(&config.connections)
            .and_then(|(c, o)| MessageAuthenticator::new(c, o).map_err(|e| crate::dns::DnsError::Start(e.to_string())));
        let authenticator = match authenticator {
            Ok(a) => Some(a),
            Err(e) => {
                tracing::error!(target: "mailroom_service::mailauth", error = %e, "no DNS resolver for mail authentication");
                None
            }
        };
        MailAuth { host: config.general.host_name.to_string(), authenticator, keys }
    }

    /// The client's reverse DNS verdict (iprev, RFC 8601 §3): its PTR names, and
    /// whether one of them resolves back to it. `None` without a resolver.
    pub async fn iprev(&self, ip: std::net::IpAddr) -> Option<mail_auth::IprevOutput> {
        Some(self.authenticator.as_ref()?.verify_iprev(ip).await)
    }
}
