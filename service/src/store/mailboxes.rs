//! Mailboxes: a display name, one or more addresses, an argon2 password hash.
//!
//! Addresses are stored in canonical form (lower case), so lookups are
//! case-insensitive in the local part as RFC 5321 permits and users expect.
//! Password hashing is slow on purpose (argon2), so it happens here, on the blocking
//! pool, before a backend is asked to store the hash: never inside a write, where it
//! would hold up every other commit.

use std::collections::HashSet;

use super::{Backend, Store, StoreError, StoreResult, dispatch};
use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use mailroom_shared::address::EmailAddress;
use mailroom_shared::ipc::MailboxInfo;

/// A mailbox as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// Row id.
    pub id: i64,
    /// Display name.
    pub display_name: String,
    /// Canonical addresses, primary first.
    pub addresses: Vec<String>,
    /// Messages stored.
    pub message_count: u64,
    /// Their total size in bytes.
    pub total_bytes: u64,
    /// Its folders, INBOX first: (name, messages, bytes).
    pub folders: Vec<(String, u64, u64)>,
    /// Forwarding, if on.
    pub forwarding: Option<mailroom_shared::ipc::Forwarding>,
    /// The automatic reply, if on.
    pub auto_reply: Option<mailroom_shared::ipc::AutoReply>,
    /// Its own storage limits.
    pub limits: mailroom_shared::ipc::StorageLimits,
    /// A shared mailbox: no password, reached through rights given to people.
    pub shared: bool,
    /// Its calendars and address books, with what each holds.
    pub collections: Vec<mailroom_shared::ipc::CollectionUsage>,
}

impl From<Mailbox> for MailboxInfo {
    fn from(m: Mailbox) -> MailboxInfo {
        MailboxInfo {
            id: m.id,
            display_name: m.display_name,
            addresses: m.addresses,
            message_count: m.message_count,
            total_bytes: m.total_bytes,
            folders: m
                .folders
                .into_iter()
                .map(|(name, messages, bytes)| mailroom_shared::ipc::FolderUsage { name, messages, bytes })
                .collect(),
            forwarding: m.forwarding,
            auto_reply: m.auto_reply,
            limits: m.limits,
            shared: m.shared,
            permissions: Vec::new(),
            collections: m.collections,
            hidden: false,
        }
    }
}

/// A mailbox to create.
#[derive(Debug, Clone)]
pub struct NewMailbox {
    /// Display name; may be empty.
    pub display_name: String,
    /// Primary address first; at least one.
    pub addresses: Vec<EmailAddress>,
    /// Clear-text password; hashed before it reaches the database.
    pub password: String,
}

fn check_password(p: &str) -> StoreResult<()> {
    if p.is_empty() {
        return Err(StoreError::Invalid { field: "password".into(), message: "must not be empty".into() });
    }
    if p.len() > 1024 {
        return Err(StoreError::Invalid { field: "password".into(), message: "is longer than 1024 bytes".into() });
    }
    Ok(())
}

/// Hashes a password with argon2id and a random salt, on the blocking pool.
async fn hash_password(password: String) -> StoreResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| StoreError::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| StoreError::Internal(format!("hashing task failed: {e}")))?
}

/// A hash of no one's password, checked when a login is unknown so that it costs the
/// same time as a known one. Computed once, on first use (on the blocking pool).
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        argon2::Argon2::default().hash_password(b"no such account", &salt).map(|h| h.to_string()).unwrap_or_default()
    })
}

fn canonical_unique(addresses: &[EmailAddress]) -> StoreResult<Vec<String>> {
    if addresses.is_empty() {
        return Err(StoreError::Invalid {
            field: "addresses".into(),
            message: "at least one address is needed".into(),
        });
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(addresses.len());
    for a in addresses {
        let c = a.canonical();
        if !seen.insert(c.clone()) {
            return Err(StoreError::Invalid { field: "addresses".into(), message: format!("{c} is listed twice") });
        }
        out.push(c);
    }
    Ok(out)
}

/// A mailbox's new values, checked and hashed, as a backend stores them.
#[derive(Debug, Clone, Default)]
pub(super) struct MailboxChange {
    /// New display name, trimmed.
    pub display_name: Option<String>,
    /// New canonical addresses, primary first, each once.
    pub addresses: Option<Vec<String>>,
    /// New argon2 password hash.
    pub password_hash: Option<String>,
}

impl Store {
    /// Creates a mailbox, with its INBOX and special-use folders.
    ///
    /// Write, atomic: the address check and the mailbox, its addresses and its folders
    /// are one transaction, so of two creations claiming one address one fails. The
    /// password is checked and hashed before the write.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for no address, a repeated address or an empty (or too
    /// long) password; [`StoreError::Conflict`] when an address belongs to another
    /// mailbox, a list or a custom recipient.
    pub async fn add_mailbox(&self, new: NewMailbox) -> StoreResult<Mailbox> {
        let addresses = canonical_unique(&new.addresses)?;
        check_password(&new.password)?;
        let hash = hash_password(new.password).await?;
        let display_name = new.display_name.trim().to_owned();
        dispatch!(self, b => b.add_mailbox(display_name, addresses, hash, false).await)
    }

    /// Creates a shared mailbox: like [`Store::add_mailbox`], with no password (nobody
    /// logs in as it; people reach it through grants, [`Store::set_grant`]).
    ///
    /// Write, atomic, as [`Store::add_mailbox`].
    ///
    /// # Errors
    /// As [`Store::add_mailbox`].
    pub async fn add_shared_mailbox(&self, display_name: &str, addresses: &[EmailAddress]) -> StoreResult<Mailbox> {
        let addresses = canonical_unique(addresses)?;
        let display_name = display_name.trim().to_owned();
        dispatch!(self, b => b.add_mailbox(display_name, addresses, String::new(), true).await)
    }

    /// Changes a mailbox found by any of its addresses.
    ///
    /// Write, atomic: every change given, or none; the answer is the mailbox as the
    /// write left it.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when no mailbox has `address`; as [`Store::add_mailbox`]
    /// for the new values.
    pub async fn update_mailbox(
        &self,
        address: &EmailAddress,
        display_name: Option<String>,
        addresses: Option<Vec<EmailAddress>>,
        password: Option<String>,
    ) -> StoreResult<Mailbox> {
        let addresses = addresses.as_deref().map(canonical_unique).transpose()?;
        let password_hash = match password {
            Some(p) => {
                check_password(&p)?;
                Some(hash_password(p).await?)
            }
            None => None,
        };
        let change =
            MailboxChange { display_name: display_name.map(|n| n.trim().to_owned()), addresses, password_hash };
        dispatch!(self, b => b.update_mailbox(address.canonical(), change).await)
    }

    /// Deletes a mailbox, its addresses and its messages (their content goes with the
    /// last copy that uses it).
    ///
    /// Write, atomic: with its folders, options, import keys, automatic-reply records
    /// and catch-alls, and the grants it had and was given. Every watcher hears of it
    /// after the commit (rights may have changed).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when no mailbox has `address`.
    pub async fn remove_mailbox(&self, address: &EmailAddress) -> StoreResult<()> {
        dispatch!(self, b => b.remove_mailbox(address.canonical()).await)?;
        // Its grants to others went with it.
        self.rights_changed();
        Ok(())
    }

    /// Every mailbox, ordered by primary address.
    ///
    /// Read, not one snapshot: the mailboxes with their sizes, then each one's options,
    /// then their folders' usage, so a write in between can make them disagree.
    ///
    /// # Errors
    /// Store failures.
    pub async fn list_mailboxes(&self) -> StoreResult<Vec<Mailbox>> {
        dispatch!(self, b => b.list_mailboxes().await)
    }

    /// The mailbox that has `canonical` (a lower-case address) as an address.
    ///
    /// Read.
    ///
    /// # Errors
    /// Store failures.
    pub async fn mailbox_of(&self, canonical: &str) -> StoreResult<Option<i64>> {
        dispatch!(self, b => b.mailbox_of(canonical.to_owned()).await)
    }

    /// A mailbox's canonical addresses, primary first; none for no such mailbox.
    ///
    /// Read, one snapshot.
    ///
    /// # Errors
    /// Store failures.
    pub async fn mailbox_addresses(&self, id: i64) -> StoreResult<Vec<String>> {
        dispatch!(self, b => b.mailbox_addresses(id).await)
    }

    /// Every address that has a mailbox, canonical.
    ///
    /// Read, one snapshot.
    ///
    /// # Errors
    /// Store failures.
    pub async fn all_addresses(&self) -> StoreResult<HashSet<String>> {
        dispatch!(self, b => b.all_addresses().await)
    }

    /// Checks a login (any address of a mailbox) and password; the mailbox id when they
    /// match. An unknown login is checked against a dummy hash, so that it costs the
    /// same time as a known one and gives the same answer: no account enumeration.
    /// The hashing runs on the blocking pool.
    ///
    /// Read (as [`Store::credentials`]).
    ///
    /// # Errors
    /// Store failures (then the caller should answer "try again later", not "wrong").
    pub async fn check_login(&self, login: &str, password: String) -> StoreResult<Option<i64>> {
        let found = self.credentials(login).await?;
        let matches = match found.as_ref() {
            // A shared mailbox has no password: nobody logs in as it.
            Some((_, hash)) if !hash.is_empty() => crate::passwords::verify(hash.clone(), password).await,
            _ => {
                // The same work for an unknown login. The dummy hash is made once, on
                // the blocking pool.
                let dummy = tokio::task::spawn_blocking(|| dummy_hash().to_owned())
                    .await
                    .map_err(|e| StoreError::Internal(format!("password check failed: {e}")))?;
                let _ = crate::passwords::verify(dummy, password).await;
                false
            }
        };
        Ok(found.filter(|_| matches).map(|(id, _)| id))
    }

    /// The mailbox id and password hash for a login name (any of its addresses).
    ///
    /// Read, one snapshot.
    ///
    /// # Errors
    /// Store failures.
    pub async fn credentials(&self, login: &str) -> StoreResult<Option<(i64, String)>> {
        dispatch!(self, b => b.credentials(login.trim().to_ascii_lowercase()).await)
    }
}
