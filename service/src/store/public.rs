//! Public folders, as Exchange had them: a folder tree for the whole organisation,
//! everyone reading it unless its rights say otherwise, a folder with an e-mail address
//! of its own receiving mail (Exchange's archives of lists), and a size limit per
//! folder.
//!
//! They are the folders of one mailbox of kind `public`, made with the first public
//! folder: it has no address and no password and is listed with no recipient, and its
//! INBOX is not a public folder. Rights are grants on its folders
//! ([`super::sharing`]); a new folder gives anyone `lrs` (read, with their own read
//! state).

use mailroom_shared::address::EmailAddress;
use mailroom_shared::rights::Rights;

use super::{Backend, Folder, Grantee, Store, StoreError, StoreResult, dispatch};

/// A public folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicFolder {
    /// The folder (its `mailbox` is the public folders' mailbox).
    pub folder: Folder,
    /// Its e-mail address, if it has one.
    pub address: Option<String>,
    /// Its size limit, in KB, if it has one.
    pub quota_kb: Option<u64>,
    /// Messages in it.
    pub messages: u64,
    /// Their size.
    pub bytes: u64,
}

/// The rights a new public folder gives anyone: read, with one's own read state.
pub const DEFAULT_RIGHTS: Rights = Rights::LOOKUP.with(Rights::READ).with(Rights::SEEN);

impl Store {
    /// The public folders' mailbox, made (with no folder but its INBOX, which is no
    /// public folder) when there is none yet.
    ///
    /// Write, atomic (a read when it exists).
    ///
    /// # Errors
    /// Store failures.
    pub async fn public_mailbox(&self) -> StoreResult<i64> {
        if let Some(id) = dispatch!(self, b => b.public_mailbox(false).await)? {
            return Ok(id);
        }
        dispatch!(self, b => b.public_mailbox(true).await)?
            .ok_or_else(|| StoreError::Internal("the public folders' mailbox was not made".into()))
    }

    /// Every public folder, by name; none before the first is made.
    ///
    /// Read, one snapshot.
    ///
    /// # Errors
    /// Store failures.
    pub async fn public_folders(&self) -> StoreResult<Vec<PublicFolder>> {
        dispatch!(self, b => b.public_folders().await)
    }

    /// Makes a public folder (and the levels above it that are not yet), with an
    /// address if given; anyone may read it ([`DEFAULT_RIGHTS`]).
    ///
    /// Write, atomic: the folder, its address and its grant, or nothing.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when a folder has the name or a recipient the address;
    /// [`StoreError::Invalid`] for a name that cannot be a folder's.
    pub async fn add_public_folder(&self, name: &str, address: Option<&EmailAddress>) -> StoreResult<PublicFolder> {
        let name = name.trim().trim_matches('/').to_owned();
        if name.is_empty() || name.eq_ignore_ascii_case("INBOX") || name.contains("//") {
            return Err(StoreError::Invalid {
                field: "name".into(),
                message: format!("'{name}' cannot name a public folder"),
            });
        }
        let mailbox = self.public_mailbox().await?;
        let address = address.map(EmailAddress::canonical);
        let folder = dispatch!(self, b => b.add_public_folder(mailbox, name, address).await)?;
        self.folders_changed();
        self.set_grant(mailbox, Some(folder), Grantee::Anyone, DEFAULT_RIGHTS).await?;
        self.public_folders()
            .await?
            .into_iter()
            .find(|f| f.folder.id == folder)
            .ok_or_else(|| StoreError::NotFound("the new public folder is gone".into()))
    }

    /// Changes a public folder's address (`Some(None)`: none) and size limit
    /// (`Some(None)`: none); `None` leaves each as it is.
    ///
    /// Write, atomic.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when it is gone; [`StoreError::Conflict`] when a
    /// recipient has the address.
    pub async fn update_public_folder(
        &self,
        folder: i64,
        address: Option<Option<&EmailAddress>>,
        quota_kb: Option<Option<u64>>,
    ) -> StoreResult<()> {
        let mailbox = self.public_mailbox().await?;
        let address = address.map(|a| a.map(EmailAddress::canonical));
        dispatch!(self, b => b.update_public_folder(mailbox, folder, address, quota_kb).await)
    }
}
