//! The saved configuration: one document, with a revision that increases on every save.

use mailroom_shared::config::Config;

use super::{Backend, Store, StoreResult, dispatch};

impl Store {
    /// The saved configuration and its revision; the defaults at revision 0 when nothing
    /// was ever saved.
    ///
    /// Read, one snapshot (the configuration and its revision are one row).
    ///
    /// # Errors
    /// [`super::StoreError::Corrupt`] when the stored configuration no longer
    /// validates (with the validation errors); other store failures.
    pub async fn load_config(&self) -> StoreResult<(Config, u64)> {
        dispatch!(self, b => b.load_config().await)
    }

    /// Saves `config` and returns its new revision, one above the last.
    ///
    /// Write, atomic: the revision check and the save are one transaction, so of two
    /// saves from the same `base_revision` one is kept and the other refused. Without
    /// a base revision it overwrites whatever was saved.
    ///
    /// # Errors
    /// [`super::StoreError::Conflict`] when `base_revision` is given and another save
    /// happened since; other store failures.
    pub async fn save_config(&self, config: &Config, base_revision: Option<u64>) -> StoreResult<u64> {
        dispatch!(self, b => b.save_config(config, base_revision).await)
    }
}
