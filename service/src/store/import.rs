//! Moving mail into and out of a mailbox: messages imported from another server or
//! from Maildir and mbox files (each remembered by a key, so that an import can be run
//! again and adds only what is new), and a mailbox's messages read out for export.

use super::{Backend, Store, StoreResult, dispatch};

/// One message to import.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The mailbox.
    pub mailbox: i64,
    /// The folder (`INBOX`, or a folder made if missing).
    pub folder: String,
    /// What identifies the message at its source (`pop3:UIDL`, `message-id:…`,
    /// `sha256:…`): a message whose key the mailbox has seen is not imported again.
    pub key: String,
    /// The message, CRLF line ends.
    pub content: Vec<u8>,
    /// IMAP system flags (`\Seen`…), as the store keeps them.
    pub flags: u8,
    /// IMAP's INTERNALDATE, Unix seconds.
    pub received_at: i64,
}

/// One message of a mailbox, for export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportEntry {
    /// Its id in the store (the export's cursor).
    pub id: i64,
    /// Its folder.
    pub folder: String,
    /// IMAP system flags.
    pub flags: u8,
    /// INTERNALDATE, Unix seconds.
    pub received_at: i64,
    /// Octets, as POP3 and IMAP count them.
    pub size: u64,
}

impl Store {
    /// Stores an imported message unless the mailbox has seen its key; true when stored.
    ///
    /// Write, atomic: the key check, the folder (made if missing), the content, the
    /// copy (the folder's next UID and a new mod-sequence) and the key, so that a key
    /// is stored once even by two imports at once. When stored, the watchers hear of
    /// the mailbox after the commit.
    ///
    /// # Errors
    /// [`super::StoreError::Conflict`] when the mailbox does not exist; store failures;
    /// then nothing changed.
    pub async fn import_message(&self, message: Imported) -> StoreResult<bool> {
        let mailbox = message.mailbox;
        let stored = dispatch!(self, b => b.import_message(message).await)?;
        if stored {
            self.changed(mailbox);
        }
        Ok(stored)
    }

    /// Which of `keys` the mailbox has imported already, in the order given.
    ///
    /// Read, not one snapshot: each key is looked up on its own.
    ///
    /// # Errors
    /// Store failures.
    pub async fn imported_keys(&self, mailbox: i64, keys: Vec<String>) -> StoreResult<Vec<String>> {
        dispatch!(self, b => b.imported_keys(mailbox, keys).await)
    }

    /// Up to `limit` messages of the mailbox with ids above `after`, in id order.
    ///
    /// Read, one snapshot (of this page; the next page is another read).
    ///
    /// # Errors
    /// Store failures.
    pub async fn export_list(&self, mailbox: i64, after: i64, limit: u32) -> StoreResult<Vec<ExportEntry>> {
        dispatch!(self, b => b.export_list(mailbox, after, limit).await)
    }

    /// The text of one message of the mailbox (as POP3 and IMAP give it); `None` when
    /// it is not there (deleted meanwhile).
    ///
    /// Read.
    ///
    /// # Errors
    /// Store failures.
    pub async fn export_read(&self, mailbox: i64, id: i64) -> StoreResult<Option<Vec<u8>>> {
        dispatch!(self, b => b.export_read(mailbox, id).await)
    }
}
