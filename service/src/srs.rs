//! The Sender Rewriting Scheme, for mail Mailroom forwards (custom recipients, outside
//! members of distribution lists): the envelope sender becomes
//! `SRS0=hash=tt=domain=local@our-domain`, so that the next server's SPF check sees
//! our domain, which our SPF record covers; a bounce to that address comes back here,
//! is checked (an HMAC keyed by a secret in the store, and a timestamp no older than
//! [`WINDOW_DAYS`]) and goes on to the original sender. A forged or stale one is
//! refused. mailrs-srs does the encoding.

use crate::context::ServiceContext;

/// How many days a rewritten address is accepted back.
pub const WINDOW_DAYS: u32 = 21;

/// The secret that signs our SRS addresses: made at first use, kept in the store.
///
/// # Errors
/// Store failures.
pub async fn secret(ctx: &ServiceContext) -> Result<String, crate::store::StoreError> {
    ctx.srs.get_or_try_init(|| ctx.store.secret("srs")).await.cloned()
}

/// `sender` rewritten to an address in `domain`; `<>` stays `<>`. Domains and local
/// parts are lower-cased first, so that a server that lower-cases the bounce's
/// recipient still gets it back here.
pub fn rewrite(sender: &str, domain: &str, secret: &str) -> String {
    if sender.is_empty() {
        return String::new();
    }
    mailrs_srs::rewrite(&sender.to_ascii_lowercase(), &domain.to_ascii_lowercase(), secret)
}

/// True when `address`'s local part is an SRS0 address (whatever its case).
pub fn is_srs(address: &str) -> bool {
    address.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("srs0="))
}

/// The original sender an SRS address of ours stands for; `None` when the signature
/// or the timestamp does not check out.
pub fn reverse(address: &str, secret: &str) -> Option<String> {
    let rest = address.get(5..)?;
    let normalized = format!("SRS0={}", rest.to_ascii_lowercase());
    mailrs_srs::reverse(&normalized, secret, WINDOW_DAYS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewritten_sender_comes_back_and_a_forged_one_does_not() {
        let r = rewrite("Bob@Outside.Test", "corp.test", "k");
        assert!(r.starts_with("SRS0=") && r.ends_with("@corp.test"), "{r}");
        assert_eq!(reverse(&r, "k").as_deref(), Some("bob@outside.test"));
        assert_eq!(reverse(&r.to_ascii_uppercase(), "k").as_deref(), Some("bob@outside.test"), "any case");
        assert_eq!(reverse(&r, "other key"), None);
        assert_eq!(reverse("SRS0=00000000=123=outside.test=bob@corp.test", "k"), None);
        assert_eq!(rewrite("", "corp.test", "k"), "", "<> stays <>");
        assert!(is_srs("srs0=x=y@z") && !is_srs("bob@x"));
    }
}
