//! DKIM signing: the keys of each inbound domain, made when the domain is added (or
//! rotated on request), and the two signatures every outgoing message of ours gets.
//!
//! Selectors are dated (`20261127-rsa`, `20261127-ed25519`), so a rotation makes new
//! ones while the old stay published until the administrator retires them. Private
//! keys live in the store and, decoded, here; they are never logged nor sent over the
//! control socket.

use std::collections::HashMap;
use std::sync::RwLock;

use base64::Engine as _;
use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter as _;
use mail_auth::dkim::{Canonicalization, DkimSigner, Done, NeedDomain};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::store::{DkimAlgorithm, DkimKey};

/// The headers each signature covers. A name listed twice is over-signed: the
/// signature also covers its absence beyond the copies present, so nobody can add
/// another `From:` or `Subject:` after we signed (RFC 6376 §8.15).
const SIGNED_HEADERS: &[&str] = &[
    "From",
    "From",
    "Reply-To",
    "Reply-To",
    "Subject",
    "Subject",
    "Date",
    "Date",
    "To",
    "To",
    "Cc",
    "Cc",
    "Message-ID",
    "Message-ID",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Sender",
];

/// RSA keys are this long (what the large providers expect, and fits one DNS record
/// split in strings).
const RSA_BITS: usize = 2048;

/// A key that signs, ready to (the signer holds the decoded key and the settings).
enum Signer {
    Rsa(DkimSigner<RsaKey<Sha256>, Done>),
    Ed25519(DkimSigner<Ed25519Key, Done>),
}

impl Signer {
    fn sign(&self, message: &[u8]) -> mail_auth::Result<String> {
        Ok(match self {
            Signer::Rsa(s) => s.sign(message)?.to_header(),
            Signer::Ed25519(s) => s.sign(message)?.to_header(),
        })
    }
}

/// The active signing keys of every domain that has them; shared by the runs, replaced
/// whole when keys are made, rotated or retired.
#[derive(Default)]
pub struct SigningKeys {
    by_domain: RwLock<HashMap<String, Vec<(String, Signer)>>>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let domains: Vec<String> = self.by_domain.read().unwrap_or_else(|p| p.into_inner()).keys().cloned().collect();
        f.debug_struct("SigningKeys").field("domains", &domains).finish()
    }
}

impl SigningKeys {
    /// Takes the active keys of `keys` (all the store holds) as the signing keys.
    pub fn load(&self, keys: &[DkimKey]) {
        let mut by_domain: HashMap<String, Vec<(String, Signer)>> = HashMap::new();
        for k in keys.iter().filter(|k| k.active) {
            let decoded = match k.algorithm {
                DkimAlgorithm::Rsa => RsaKey::<Sha256>::from_key_der(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
                    k.private_key.clone(),
                )))
                .map(|key| Signer::Rsa(settings(DkimSigner::from_key(key), &k.domain, &k.selector))),
                DkimAlgorithm::Ed25519 => Ed25519Key::from_pkcs8_der(&k.private_key)
                    .map(|key| Signer::Ed25519(settings(DkimSigner::from_key(key), &k.domain, &k.selector))),
            };
            match decoded {
                Ok(signer) => by_domain.entry(k.domain.clone()).or_default().push((k.selector.clone(), signer)),
                Err(e) => tracing::error!(
                    target: "mailroom_service::mailauth",
                    domain = %k.domain, selector = %k.selector, error = %e,
                    "a stored DKIM key cannot be read; mail for its domain is not signed with it"
                ),
            }
        }
        *self.by_domain.write().unwrap_or_else(|p| p.into_inner()) = by_domain;
    }

    /// True when `domain` has keys that sign.
    pub fn has(&self, domain: &str) -> bool {
        self.by_domain.read().unwrap_or_else(|p| p.into_inner()).contains_key(domain)
    }

    /// The `DKIM-Signature:` header fields for `message`, signed for `domain`, to put
    /// before it: empty when `domain` has no keys, or a key failed (logged; the mail
    /// goes unsigned rather than not at all).
    pub fn sign(&self, domain: &str, message: &[u8]) -> Vec<u8> {
        let by_domain = self.by_domain.read().unwrap_or_else(|p| p.into_inner());
        let Some(signers) = by_domain.get(domain) else { return Vec::new() };
        let mut out = Vec::new();
        for (selector, signer) in signers {
            match signer.sign(message) {
                Ok(header) => out.extend_from_slice(header.as_bytes()),
                Err(e) => tracing::error!(
                    target: "mailroom_service::mailauth",
                    domain, %selector, error = %e, "DKIM signing failed"
                ),
            }
        }
        out
    }
}

/// A signer with the settings every signature of ours has.
fn settings<T: mail_auth::common::crypto::SigningKey>(
    signer: DkimSigner<T, NeedDomain>,
    domain: &str,
    selector: &str,
) -> DkimSigner<T, Done> {
    signer
        .domain(domain)
        .selector(selector)
        .headers(SIGNED_HEADERS.iter().copied())
        .header_canonicalization(Canonicalization::Relaxed)
        .body_canonicalization(Canonicalization::Relaxed)
}

/// The selector base for keys made at `now`: its UTC date, `20261127`.
fn dated(now: i64) -> String {
    let (y, m, d) = mailroom_shared::time::utc_date(now);
    format!("{y:04}{m:02}{d:02}")
}

/// A new pair of keys for `domain` (RSA and Ed25519), with dated selectors not among
/// `taken`. Slow (RSA key generation): call it on the blocking pool.
///
/// # Errors
/// When key generation fails, in words.
pub fn generate(domain: &str, now: i64, taken: &[String]) -> Result<Vec<DkimKey>, String> {
    let day = dated(now);
    let mut base = day.clone();
    for second in 'b'..='z' {
        if !taken.iter().any(|s| s.starts_with(&format!("{base}-"))) {
            break;
        }
        base = format!("{day}{second}");
    }
    let rsa = {
        use rsa::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
        let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, RSA_BITS)
            .map_err(|e| format!("cannot make an RSA key: {e}"))?;
        let public = rsa::RsaPublicKey::from(&private)
            .to_public_key_der()
            .map_err(|e| format!("cannot encode an RSA public key: {e}"))?;
        let private = private.to_pkcs8_der().map_err(|e| format!("cannot encode an RSA key: {e}"))?;
        DkimKey {
            domain: domain.to_owned(),
            selector: format!("{base}-rsa"),
            algorithm: DkimAlgorithm::Rsa,
            private_key: private.as_bytes().to_vec(),
            public_key: base64::engine::general_purpose::STANDARD.encode(public.as_bytes()),
            created_at: now,
            active: true,
        }
    };
    let ed25519 = {
        let private = Ed25519Key::generate_pkcs8().map_err(|e| format!("cannot make an Ed25519 key: {e}"))?;
        let public =
            Ed25519Key::from_pkcs8_der(&private).map_err(|e| format!("cannot read an Ed25519 key: {e}"))?.public_key();
        DkimKey {
            domain: domain.to_owned(),
            selector: format!("{base}-ed25519"),
            algorithm: DkimAlgorithm::Ed25519,
            private_key: private,
            public_key: base64::engine::general_purpose::STANDARD.encode(public),
            created_at: now,
            active: true,
        }
    };
    Ok(vec![rsa, ed25519])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_pair_signs_twice_with_dated_selectors() {
        let keys = generate("corp.test", 1_795_688_400, &[]).expect("keys");
        assert_eq!(keys.iter().map(|k| k.selector.as_str()).collect::<Vec<_>>(), ["20261126-rsa", "20261126-ed25519"]);
        let again = generate("corp.test", 1_795_688_400, &["20261126-rsa".into()]).expect("keys");
        assert_eq!(again[0].selector, "20261126b-rsa", "a second pair the same day");
        let signing = SigningKeys::default();
        signing.load(&keys);
        assert!(signing.has("corp.test") && !signing.has("other.test"));
        let message = b"From: ann@corp.test\r\nTo: bob@outside.test\r\nSubject: hi\r\n\r\nbody\r\n";
        let headers = String::from_utf8(signing.sign("corp.test", message)).expect("utf-8");
        assert_eq!(headers.matches("DKIM-Signature:").count(), 2, "{headers}");
        assert!(headers.contains("a=rsa-sha256") && headers.contains("a=ed25519-sha256"), "{headers}");
        assert!(headers.contains("c=relaxed/relaxed") && headers.contains("d=corp.test"), "{headers}");
        assert!(headers.contains("s=20261126-rsa") && headers.contains("s=20261126-ed25519"), "{headers}");
        assert!(signing.sign("other.test", message).is_empty());
    }
}
