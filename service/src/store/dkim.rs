//! DKIM signing keys: per inbound domain, the active pair (RSA and Ed25519) signs, and
//! every key stays published until the administrator retires it.

use super::{Backend, Store, StoreResult, dispatch};

/// A DKIM key's algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DkimAlgorithm {
    /// RSA, 2048 bits (`k=rsa`, signing `rsa-sha256`).
    Rsa,
    /// Ed25519 (`k=ed25519`, RFC 8463).
    Ed25519,
}

impl DkimAlgorithm {
    /// The name stored, and the `k=` tag of the DNS record.
    pub fn as_str(self) -> &'static str {
        match self {
            DkimAlgorithm::Rsa => "rsa",
            DkimAlgorithm::Ed25519 => "ed25519",
        }
    }

    /// The stored name back.
    pub fn parse(s: &str) -> Option<DkimAlgorithm> {
        match s {
            "rsa" => Some(DkimAlgorithm::Rsa),
            "ed25519" => Some(DkimAlgorithm::Ed25519),
            _ => None,
        }
    }
}

/// One DKIM key.
#[derive(Clone, PartialEq, Eq)]
pub struct DkimKey {
    /// The domain it signs for (`d=`).
    pub domain: String,
    /// Its selector (`s=`).
    pub selector: String,
    /// Its algorithm.
    pub algorithm: DkimAlgorithm,
    /// The private key, PKCS#8 DER. Never logged, never sent over the control socket.
    pub private_key: Vec<u8>,
    /// The public key as DNS publishes it after `p=` (base64).
    pub public_key: String,
    /// When it was made, Unix seconds.
    pub created_at: i64,
    /// It signs (the newest pair of its domain); otherwise it is only published.
    pub active: bool,
}

impl std::fmt::Debug for DkimKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DkimKey")
            .field("domain", &self.domain)
            .field("selector", &self.selector)
            .field("algorithm", &self.algorithm)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Every DKIM key, by domain, then oldest first.
    ///
    /// Read, one snapshot.
    ///
    /// # Errors
    /// Store failures.
    pub async fn dkim_keys(&self) -> StoreResult<Vec<DkimKey>> {
        dispatch!(self, b => b.dkim_keys().await)
    }

    /// Adds `keys` as the active keys of their domain: the domain's other keys stop
    /// signing but stay published.
    ///
    /// Write, atomic: every key added and the older ones quietened, or nothing.
    ///
    /// # Errors
    /// [`super::StoreError::Conflict`] when a selector is taken (then none is added);
    /// store failures.
    pub async fn dkim_add(&self, keys: Vec<DkimKey>) -> StoreResult<()> {
        dispatch!(self, b => b.dkim_add(keys).await)
    }

    /// Retires a key: it is no longer published (nor used).
    ///
    /// Write, atomic: the check that it is not active and its deletion.
    ///
    /// # Errors
    /// [`super::StoreError::NotFound`] when there is no such key;
    /// [`super::StoreError::Conflict`] when it is an active key.
    pub async fn dkim_retire(&self, domain: String, selector: String) -> StoreResult<()> {
        dispatch!(self, b => b.dkim_retire(domain, selector).await)
    }
}
