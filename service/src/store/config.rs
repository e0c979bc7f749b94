//! The saved configuration: one document, with a revision that increases on every save.

use mailroom_shared::config::Config;

use super::{Backend, Store, StoreResult, dispatch};

impl Store {
    /// The saved configuration and its revision; the defaults at revision 0 when nothing
    /// was ever saved.
    ///
    /// # Errors
    /// [`super::StoreError::Corrupt`] when the stored configuration no longer
    /// validates (with the validation errors); other store failures.
    pub async fn load_config(&self) -> StoreResult<(Config, u64)> {
        dispatch!(self, b => b.load_config().await)
    }

    /// Saves `config` and returns its new revision.
    ///
    /// # Errors
    /// [`super::StoreError::Conflict`] when `base_revision` is given and another save
    /// happened since; other store failures.
    pub async fn save_config(&self, config: &Config, base_revision: Option<u64>) -> StoreResult<u64> {
        dispatch!(self, b => b.save_config(config, base_revision).await)
    }
}
