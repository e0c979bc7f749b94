//! Recipients besides mailboxes, as Exchange's Recipients container held them:
//! distribution lists and custom recipients, and what an address names.
//!
//! A list's members are addresses, resolved when mail arrives: a mailbox, a custom
//! recipient, another list (nested; a change that would make a loop is refused, and
//! expansion visits each list once whatever is stored), or an outside address. An
//! address belongs to one recipient of one kind.

use std::collections::{BTreeSet, HashSet};

use mailroom_shared::ipc::ListSenders;

use super::{Backend, Store, StoreError, StoreResult, dispatch};

/// A distribution list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List {
    /// Row id.
    pub id: i64,
    /// Its canonical address.
    pub address: String,
    /// Display name.
    pub display_name: String,
    /// Who may send to it.
    pub senders: ListSenders,
    /// Hide its members from explanations.
    pub hide_members: bool,
    /// Its members (canonical addresses), sorted.
    pub members: Vec<String>,
}

/// A custom recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// Its canonical local address.
    pub address: String,
    /// Display name.
    pub display_name: String,
    /// The outside address its mail goes to.
    pub target: String,
}

/// What a local address names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Named {
    /// A mailbox (store id).
    Mailbox(i64),
    /// A distribution list.
    List(List),
    /// A custom recipient.
    Contact(Contact),
    /// A public folder with an address: mail to it is filed there.
    Folder {
        /// The public folders' mailbox.
        mailbox: i64,
        /// The folder.
        folder: i64,
        /// Its name.
        name: String,
        /// At or over its size limit: mail to it is refused.
        full: bool,
    },
}

/// A list's members, followed through nested lists and custom recipients.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expansion {
    /// Mailboxes: (store id, the member address that named it), each once.
    pub mailboxes: Vec<(i64, String)>,
    /// Outside addresses (custom recipients' targets and outside members), each once.
    pub outside: Vec<String>,
    /// Every address that counts as a member: the members as written at every level,
    /// and every address of each member mailbox (for "members only").
    pub member_addresses: BTreeSet<String>,
    /// Lists met again while expanding (a loop stored before it could be refused).
    pub loops: Vec<String>,
}

/// What an address resolves to when a list is followed, in the order [`Store::named`]
/// looks: a mailbox, then a list, then a custom recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::store) enum Member {
    /// A mailbox (store id).
    Mailbox(i64),
    /// A distribution list (store id).
    List(i64),
    /// A custom recipient, with the outside address its mail goes to.
    Contact(String),
}

/// The lookups that following a list needs, answered by a backend inside one read or
/// write (so that the lists it sees do not change under it; a SQLite read does not
/// keep this yet: see [`Store::expand`]). The rules of following —
/// each list once, each mailbox and outside address once, what counts as a member, how
/// a loop is found — are this module's, in [`expand`] and [`loop_path`], the same for
/// every backend.
pub(in crate::store) trait Directory {
    /// A list's members (canonical addresses), sorted.
    fn members(&mut self, list: i64) -> StoreResult<Vec<String>>;
    /// What `address` names, if anything.
    fn resolve(&mut self, address: &str) -> StoreResult<Option<Member>>;
    /// A mailbox's addresses.
    fn addresses(&mut self, mailbox: i64) -> StoreResult<Vec<String>>;
}

/// Follows `list`'s members through nested lists and custom recipients: each list is
/// visited once (a list met again is reported as a loop), each mailbox and each outside
/// address (case-insensitively for a custom recipient's target) counted once.
pub(in crate::store) fn expand(dir: &mut impl Directory, list: i64) -> StoreResult<Expansion> {
    let mut out = Expansion::default();
    let mut visited = HashSet::from([list]);
    let mut stack = vec![list];
    let mut seen_outside = HashSet::new();
    let mut seen_mailboxes = HashSet::new();
    while let Some(id) = stack.pop() {
        for member in dir.members(id)? {
            out.member_addresses.insert(member.clone());
            match dir.resolve(&member)? {
                Some(Member::Mailbox(m)) => {
                    if seen_mailboxes.insert(m) {
                        out.member_addresses.extend(dir.addresses(m)?);
                        out.mailboxes.push((m, member));
                    }
                }
                Some(Member::List(l)) => {
                    if visited.insert(l) {
                        stack.push(l);
                    } else {
                        out.loops.push(member);
                    }
                }
                Some(Member::Contact(target)) => {
                    if seen_outside.insert(target.to_ascii_lowercase()) {
                        out.outside.push(target);
                    }
                }
                None => {
                    if seen_outside.insert(member.clone()) {
                        out.outside.push(member);
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The chain of list addresses by which list `from` reaches list `to` through nested
/// members, if it does: adding `from` to `to` would then make a loop.
pub(in crate::store) fn loop_path(dir: &mut impl Directory, from: i64, to: i64) -> StoreResult<Option<Vec<String>>> {
    let mut stack: Vec<(i64, Vec<String>)> = vec![(from, Vec::new())];
    let mut visited = HashSet::new();
    while let Some((id, path)) = stack.pop() {
        if !visited.insert(id) {
            continue;
        }
        for member in dir.members(id)? {
            if let Some(Member::List(next)) = dir.resolve(&member)? {
                let mut p = path.clone();
                p.push(member);
                if next == to {
                    return Ok(Some(p));
                }
                stack.push((next, p));
            }
        }
    }
    Ok(None)
}

/// The refusal for adding `member` to `list` (by address) when `path` leads from the
/// member back to the list.
pub(in crate::store) fn loop_refusal(list: &str, member: &str, path: Vec<String>) -> StoreError {
    let chain = [list.to_owned(), member.to_owned()].into_iter().chain(path);
    StoreError::Conflict(format!("adding {member} to {list} makes a loop: {}", chain.collect::<Vec<_>>().join(" -> ")))
}

/// A change to a list's settings.
#[derive(Debug, Clone, Default)]
pub struct ListChange {
    /// New display name.
    pub display_name: Option<String>,
    /// Who may send.
    pub senders: Option<ListSenders>,
    /// Hide members.
    pub hide_members: Option<bool>,
}

impl Store {
    /// What the canonical address `address` names, if anything.
    ///
    /// Read, not one snapshot: a mailbox, then a list (with its members), then a custom
    /// recipient, each looked up in turn.
    ///
    /// # Errors
    /// Store failures.
    pub async fn named(&self, address: &str) -> StoreResult<Option<Named>> {
        dispatch!(self, b => b.named(address.to_owned()).await)
    }

    /// Creates a list, without members.
    ///
    /// Write, atomic: the check that no mailbox, list or custom recipient has the
    /// address, and the list.
    ///
    /// # Errors
    /// `Conflict` when the address is taken.
    pub async fn add_list(
        &self,
        address: String,
        display_name: String,
        senders: ListSenders,
        hide_members: bool,
    ) -> StoreResult<List> {
        dispatch!(self, b => b.add_list(address, display_name, senders, hide_members).await)
    }

    /// Changes a list's settings.
    ///
    /// Write, atomic: every change given, or none.
    ///
    /// # Errors
    /// `NotFound` when there is no such list.
    pub async fn update_list(&self, address: String, change: ListChange) -> StoreResult<List> {
        dispatch!(self, b => b.update_list(address, change).await)
    }

    /// Adds and removes members (canonical addresses).
    ///
    /// Write, atomic: removals first, then additions, each checked for a loop against
    /// the lists as this transaction sees them; all or nothing. Adding a member there
    /// already, or removing one that is not, is no error.
    ///
    /// # Errors
    /// `NotFound` for no such list; `Conflict` when a member is the list itself or
    /// would make a loop (the loop named).
    pub async fn change_members(&self, address: String, add: Vec<String>, remove: Vec<String>) -> StoreResult<List> {
        let list = dispatch!(self, b => b.change_members(address, add, remove).await)?;
        // Members have the list's rights.
        self.rights_changed();
        Ok(list)
    }

    /// Deletes a list and its members. Lists that name it keep its address as a member.
    ///
    /// Write, atomic.
    ///
    /// # Errors
    /// `NotFound` when there is no such list.
    pub async fn remove_list(&self, address: String) -> StoreResult<()> {
        dispatch!(self, b => b.remove_list(address).await)?;
        self.rights_changed();
        Ok(())
    }

    /// Every list, by address.
    ///
    /// Read, not one snapshot: each list's members are read on their own.
    ///
    /// # Errors
    /// Store failures.
    pub async fn lists(&self) -> StoreResult<Vec<List>> {
        dispatch!(self, b => b.lists().await)
    }

    /// Creates a custom recipient.
    ///
    /// Write, atomic: the check that no mailbox, list or custom recipient has the
    /// address, and the custom recipient.
    ///
    /// # Errors
    /// `Conflict` when the address is taken.
    pub async fn add_contact(&self, address: String, display_name: String, target: String) -> StoreResult<Contact> {
        dispatch!(self, b => b.add_contact(address, display_name, target).await)
    }

    /// Changes a custom recipient: its address here (`new_address`, which may be the
    /// same), its display name and its outside address. The lists that name it follow
    /// a new address; it stays hidden or shown as it was.
    ///
    /// Write, atomic: the check that the new address is free, the change and the lists'.
    ///
    /// # Errors
    /// `NotFound` when there is none at `address`; `Conflict` when the new address is
    /// another recipient's.
    pub async fn update_contact(
        &self,
        address: String,
        new_address: String,
        display_name: String,
        target: String,
    ) -> StoreResult<Contact> {
        dispatch!(self, b => b.update_contact(address, new_address, display_name, target).await)
    }

    /// Deletes a custom recipient.
    ///
    /// Write.
    ///
    /// # Errors
    /// `NotFound` when there is none.
    pub async fn remove_contact(&self, address: String) -> StoreResult<()> {
        dispatch!(self, b => b.remove_contact(address).await)
    }

    /// Hides the recipient `address` names (a mailbox by any of its addresses, a list,
    /// a custom recipient) from the address book, or shows it again.
    ///
    /// Write, atomic.
    ///
    /// # Errors
    /// [`super::StoreError::NotFound`] when no recipient has the address.
    pub async fn set_hidden(&self, address: &str, hidden: bool) -> StoreResult<()> {
        dispatch!(self, b => b.set_hidden(address.trim().to_ascii_lowercase(), hidden).await)
    }

    /// The addresses hidden from the address book: every address of a hidden mailbox,
    /// and hidden lists' and custom recipients'.
    ///
    /// Read, one snapshot.
    ///
    /// # Errors
    /// Store failures.
    pub async fn hidden_addresses(&self) -> StoreResult<std::collections::BTreeSet<String>> {
        dispatch!(self, b => b.hidden_addresses().await)
    }

    /// Every custom recipient, by address.
    ///
    /// Read, one snapshot.
    ///
    /// # Errors
    /// Store failures.
    pub async fn contacts(&self) -> StoreResult<Vec<Contact>> {
        dispatch!(self, b => b.contacts().await)
    }

    /// A list's members, followed through nested lists and custom recipients (an
    /// empty expansion for no such list).
    ///
    /// Read, not yet one snapshot: each lookup is a read of its own, so a change
    /// committed meanwhile may show in part. Each list is still visited once.
    ///
    /// # Errors
    /// Store failures.
    pub async fn expand(&self, list: i64) -> StoreResult<Expansion> {
        dispatch!(self, b => b.expand(list).await)
    }

    /// A secret of the store by name (`srs`), made (random, 32 bytes in hex) the first
    /// time it is asked for.
    ///
    /// Write, atomic insert-if-absent: the first call makes it, durably, before
    /// answering; every later call, and any made at the same time, gets the same value.
    ///
    /// # Errors
    /// Store failures.
    pub async fn secret(&self, name: &str) -> StoreResult<String> {
        dispatch!(self, b => b.secret(name.to_owned()).await)
    }
}
