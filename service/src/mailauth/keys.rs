//! The DKIM keys' life: made for every inbound domain that has none, rotated and
//! retired on the administrator's word, kept in the store and loaded into the
//! [`SigningKeys`] that every run signs with.
//!
//! Key generation (RSA-2048 takes a good part of a second) runs on the blocking pool.

use std::sync::Arc;

use mailroom_shared::config::Config;

use super::signing::SigningKeys;
use crate::store::{DkimKey, Store, StoreError};

/// The DKIM keys of the service: the store's, and those that sign now. Cheap to clone.
#[derive(Clone)]
pub struct DkimKeys {
    store: Store,
    /// What every run signs with; reloaded after each change.
    signing: Arc<SigningKeys>,
}

impl std::fmt::Debug for DkimKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DkimKeys").finish_non_exhaustive()
    }
}

/// Why keys could not be made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key generation failed (or its task did).
    #[error("key generation failed: {0}")]
    Generation(String),
    /// Storing or reading keys failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DkimKeys {
    /// The keys kept in `store`, none loaded yet.
    pub fn new(store: Store) -> DkimKeys {
        DkimKeys { store, signing: Arc::default() }
    }

    /// What every run signs with.
    pub fn signing(&self) -> Arc<SigningKeys> {
        Arc::clone(&self.signing)
    }

    /// Makes keys for every inbound domain of `config` that has none, and loads the
    /// signing keys.
    ///
    /// # Errors
    /// Store failures. A key that cannot be made is logged and left for next time.
    pub async fn ensure(&self, config: &Config) -> Result<(), StoreError> {
        let mut keys = self.store.dkim_keys().await?;
        for domain in config.routing.table.inbound_domains() {
            let domain = domain.to_string();
            if keys.iter().any(|k| k.domain == domain && k.active) {
                continue;
            }
            match self.make(&domain, &keys).await {
                Ok(new) => {
                    tracing::info!(target: "mailroom_service::mailauth", %domain, "DKIM keys made");
                    keys.extend(new);
                }
                Err(e) => {
                    tracing::error!(target: "mailroom_service::mailauth", %domain, error = %e, "cannot make DKIM keys")
                }
            }
        }
        self.signing.load(&keys);
        Ok(())
    }

    /// Makes new keys for `domain`, an inbound domain of `config`; they sign from now
    /// on, and the old ones stay published until retired.
    ///
    /// # Errors
    /// [`KeyError::Store`] with [`StoreError::NotFound`] when `domain` is not an inbound
    /// domain; generation and store failures.
    pub async fn rotate(&self, domain: &str, config: &Config) -> Result<(), KeyError> {
        if !config.routing.table.inbound_domains().iter().any(|d| d.to_string() == domain) {
            return Err(StoreError::NotFound(format!("{domain} is not an inbound domain")).into());
        }
        let keys = self.store.dkim_keys().await?;
        self.make(domain, &keys).await?;
        self.signing.load(&self.store.dkim_keys().await?);
        tracing::info!(target: "mailroom_service::mailauth", domain, "DKIM keys rotated");
        Ok(())
    }

    /// Stops publishing an old key.
    ///
    /// # Errors
    /// As [`Store::dkim_retire`]: not found, or still the key that signs.
    pub async fn retire(&self, domain: &str, selector: &str) -> Result<(), StoreError> {
        self.store.dkim_retire(domain.to_owned(), selector.to_owned()).await?;
        tracing::info!(target: "mailroom_service::mailauth", domain, selector, "DKIM key retired");
        Ok(())
    }

    /// Makes and stores a new pair of keys for `domain`, with selectors none of
    /// `existing` uses.
    async fn make(&self, domain: &str, existing: &[DkimKey]) -> Result<Vec<DkimKey>, KeyError> {
        let taken: Vec<String> = existing.iter().filter(|k| k.domain == domain).map(|k| k.selector.clone()).collect();
        let d = domain.to_owned();
        let now = crate::store::now_secs();
        let new = tokio::task::spawn_blocking(move || super::signing::generate(&d, now, &taken))
            .await
            .map_err(|e| KeyError::Generation(e.to_string()))?
            .map_err(KeyError::Generation)?;
        self.store.dkim_add(new.clone()).await?;
        Ok(new)
    }
}
