//! Sharing: who may do what with whose mail (IMAP ACL, RFC 4314; Exchange's
//! Permissions tab and Send As / Send On Behalf Of).
//!
//! A **grant** gives a grantee (a mailbox, a list — every member, members of lists
//! inside it too — or anyone) a set of [`Rights`] on a whole mailbox or on one of its
//! folders. For each grantee a folder's own grant, when it has one, stands instead of
//! the mailbox's; a person's rights on a folder are the union over the grantees they
//! are (themselves, their lists, anyone). An owner has every IMAP right on their own
//! folders and needs no grant. Send As and Send On Behalf Of are rights on the whole
//! mailbox.
//!
//! On a folder that is not their own a person's `\Seen` is their own (kept apart from
//! the owner's), so that each member of info@ has their own read state, as Dovecot
//! and Exchange keep it: the IMAP methods take an [`Access`] naming the owner and the
//! person reading.

use mailroom_shared::rights::Rights;

use super::{ANY_MAILBOX, Backend, Folder, Store, StoreError, StoreResult, dispatch};

/// Whose folder, read or changed by whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// The mailbox the folder belongs to.
    pub mailbox: i64,
    /// The person at work (their mailbox): when not the owner, `\Seen` is their own.
    pub viewer: i64,
}

impl Access {
    /// `viewer` at work in `mailbox`.
    pub fn new(mailbox: i64, viewer: i64) -> Access {
        Access { mailbox, viewer }
    }

    /// Whether `\Seen` is the viewer's own rather than the stored message's.
    pub fn private_seen(self) -> bool {
        self.mailbox != self.viewer
    }
}

impl From<i64> for Access {
    /// The owner at work in their own mailbox.
    fn from(mailbox: i64) -> Access {
        Access { mailbox, viewer: mailbox }
    }
}

/// Who a grant is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grantee {
    /// Everyone who logs in.
    Anyone,
    /// One mailbox (its id).
    Mailbox(i64),
    /// Every member of a list (its id), members of lists inside it too.
    List(i64),
}

impl Grantee {
    /// How the store keys it.
    pub(crate) fn key(self) -> String {
        match self {
            Grantee::Anyone => "anyone".into(),
            Grantee::Mailbox(id) => format!("u{id}"),
            Grantee::List(id) => format!("l{id}"),
        }
    }

    /// Back from [`Grantee::key`].
    pub(crate) fn from_key(key: &str) -> Option<Grantee> {
        if key == "anyone" {
            return Some(Grantee::Anyone);
        }
        let (kind, id) = key.split_at_checked(1)?;
        let id = id.parse().ok()?;
        match kind {
            "u" => Some(Grantee::Mailbox(id)),
            "l" => Some(Grantee::List(id)),
            _ => None,
        }
    }
}

/// One grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The folder, or `None` for the whole mailbox.
    pub folder: Option<i64>,
    /// Who.
    pub grantee: Grantee,
    /// The grantee's name: `anyone`, a mailbox's primary address or a list's address.
    pub name: String,
    /// What.
    pub rights: Rights,
}

/// A folder of another mailbox that someone has rights on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedFolder {
    /// The folder (its `mailbox` is the owner's).
    pub folder: Folder,
    /// The owner's primary address (empty for a public folder).
    pub owner: String,
    /// A public folder.
    pub public: bool,
    /// The person's rights on it.
    pub rights: Rights,
}

impl Store {
    /// Gives `grantee` `rights` on `mailbox` (the whole mailbox when `folder` is
    /// `None`, else that folder of it), replacing what it had there; no rights removes
    /// the grant.
    ///
    /// Write, atomic. Every watcher hears of it ([`ANY_MAILBOX`]) after the commit,
    /// and [`Store::rights_epoch`] moves, so that sessions read their rights again.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the mailbox, the folder (in that mailbox) or the
    /// grantee is gone; [`StoreError::Invalid`] for a grant to the mailbox itself.
    pub async fn set_grant(
        &self,
        mailbox: i64,
        folder: Option<i64>,
        grantee: Grantee,
        rights: Rights,
    ) -> StoreResult<()> {
        if grantee == Grantee::Mailbox(mailbox) {
            return Err(StoreError::Invalid {
                field: "grantee".into(),
                message: "a mailbox's own person has every right on it already".into(),
            });
        }
        dispatch!(self, b => b.set_grant(mailbox, folder, grantee, rights).await)?;
        self.rights_changed();
        Ok(())
    }

    /// The grants on a mailbox and its folders: the whole mailbox's first, then by
    /// folder; each by grantee name.
    ///
    /// Read, one snapshot.
    ///
    /// # Errors
    /// Store failures.
    pub async fn grants(&self, mailbox: i64) -> StoreResult<Vec<Grant>> {
        dispatch!(self, b => b.grants(mailbox).await)
    }

    /// Every grant on every mailbox, by mailbox, as [`Store::grants`] orders each's.
    ///
    /// Read, one snapshot.
    ///
    /// # Errors
    /// Store failures.
    pub async fn all_grants(&self) -> StoreResult<Vec<(i64, Grant)>> {
        dispatch!(self, b => b.all_grants().await)
    }

    /// The folders of other mailboxes `viewer` has any right on, with those rights, by
    /// owner and name.
    ///
    /// Read, one snapshot.
    ///
    /// # Errors
    /// Store failures.
    pub async fn shared_folders(&self, viewer: i64) -> StoreResult<Vec<SharedFolder>> {
        dispatch!(self, b => b.shared_folders(viewer, None).await)
    }

    /// `viewer`'s rights on `folder` of `mailbox` (every IMAP right on their own), or
    /// on the whole mailbox when `folder` is `None` (Send As, Send On Behalf Of, and
    /// what a folder without grants of its own gives).
    ///
    /// Read, one snapshot.
    ///
    /// # Errors
    /// Store failures.
    pub async fn rights(&self, viewer: i64, mailbox: i64, folder: Option<i64>) -> StoreResult<Rights> {
        if viewer == mailbox {
            // Only a person logs in (a shared mailbox has no password).
            return Ok(Rights::ALL_IMAP.with(Rights::SEND_AS));
        }
        dispatch!(self, b => b.rights(viewer, mailbox, folder).await)
    }

    /// The grantee a name names: `anyone`, or an address of a mailbox or of a list.
    ///
    /// Read.
    ///
    /// # Errors
    /// Store failures.
    pub async fn grantee_named(&self, name: &str) -> StoreResult<Option<Grantee>> {
        let name = name.trim().to_ascii_lowercase();
        if name == "anyone" {
            return Ok(Some(Grantee::Anyone));
        }
        dispatch!(self, b => b.grantee_named(name).await)
    }

    /// A number that moves whenever rights, or what they reach, may have changed (a
    /// grant, a list's members, a mailbox or a list removed, a folder made, deleted or
    /// renamed), in this process: a session compares it with the one it read its
    /// rights (and the folders they reach) at.
    ///
    /// Touches no stored data.
    pub fn rights_epoch(&self) -> u64 {
        self.rights_epoch.load(std::sync::atomic::Ordering::Acquire)
    }

    /// After a write that may change rights: moves the epoch and wakes every watcher.
    pub(super) fn rights_changed(&self) {
        self.folders_changed();
        self.changed(ANY_MAILBOX);
    }

    /// After a folder was made, deleted or renamed: moves the epoch (what rights reach
    /// may have changed), waking nobody.
    pub(super) fn folders_changed(&self) {
        self.rights_epoch.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grantees_key_and_come_back() {
        for g in [Grantee::Anyone, Grantee::Mailbox(7), Grantee::List(12)] {
            assert_eq!(Grantee::from_key(&g.key()), Some(g));
        }
        assert_eq!(Grantee::from_key("x3"), None);
        assert_eq!(Grantee::from_key("u"), None);
        assert_eq!(Grantee::from_key(""), None);
    }

    #[test]
    fn only_another_person_keeps_their_own_seen() {
        assert!(!Access::from(3).private_seen());
        assert!(Access::new(3, 4).private_seen());
    }
}

/// A calendar or address book of another mailbox that someone may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedCollection {
    /// The collection (its `mailbox` is the owner's).
    pub collection: super::dav::Collection,
    /// The owner's primary address.
    pub owner: String,
    /// The person's rights on it.
    pub rights: Rights,
}

impl Store {
    /// Gives `grantee` `rights` on one calendar or address book, standing instead of
    /// what the whole mailbox's grant gives them there; no rights removes the grant.
    ///
    /// Write, atomic.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the collection or the grantee is gone;
    /// [`StoreError::Invalid`] for a grant to the collection's own person.
    pub async fn dav_set_grant(&self, collection: i64, grantee: Grantee, rights: Rights) -> StoreResult<()> {
        dispatch!(self, b => b.dav_set_grant(collection, grantee, rights).await)
    }

    /// The grants on one calendar or address book, by grantee name (their `folder` is
    /// `None`).
    ///
    /// Read, one snapshot.
    ///
    /// # Errors
    /// Store failures.
    pub async fn dav_grants(&self, collection: i64) -> StoreResult<Vec<Grant>> {
        dispatch!(self, b => b.dav_grants(collection).await)
    }

    /// Every calendar's and address book's own grants: owner, kind, collection name,
    /// grant (by owner, then collection, then grantee name).
    ///
    /// Read, one snapshot.
    ///
    /// # Errors
    /// Store failures.
    pub async fn dav_all_grants(&self) -> StoreResult<Vec<(i64, super::dav::DavKind, String, Grant)>> {
        dispatch!(self, b => b.dav_all_grants().await)
    }

    /// The calendars or address books of other mailboxes `viewer` may read (`r`), with
    /// their rights there, by owner and name: what a collection's own grant gives, or
    /// else what the mailbox's does.
    ///
    /// Read, one snapshot.
    ///
    /// # Errors
    /// Store failures.
    pub async fn dav_shared(&self, viewer: i64, kind: super::dav::DavKind) -> StoreResult<Vec<SharedCollection>> {
        dispatch!(self, b => b.dav_shared(viewer, kind).await)
    }
}
