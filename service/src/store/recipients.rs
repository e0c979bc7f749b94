//! Recipients besides mailboxes, as Exchange's Recipients container held them:
//! distribution lists and custom recipients, and what an address names.
//!
//! A list's members are addresses, resolved when mail arrives: a mailbox, a custom
//! recipient, another list (nested; a change that would make a loop is refused, and
//! expansion visits each list once whatever is stored), or an outside address. An
//! address belongs to one recipient of one kind.

use std::collections::BTreeSet;

use mailroom_shared::ipc::ListSenders;

use super::{Backend, Store, StoreResult, dispatch};

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
    /// # Errors
    /// Store failures.
    pub async fn named(&self, address: &str) -> StoreResult<Option<Named>> {
        dispatch!(self, b => b.named(address.to_owned()).await)
    }

    /// Creates a list.
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
    /// # Errors
    /// `NotFound` when there is no such list.
    pub async fn update_list(&self, address: String, change: ListChange) -> StoreResult<List> {
        dispatch!(self, b => b.update_list(address, change).await)
    }

    /// Adds and removes members (canonical addresses).
    ///
    /// # Errors
    /// `NotFound` for no such list; `Conflict` when a member would make a loop (the
    /// loop named).
    pub async fn change_members(&self, address: String, add: Vec<String>, remove: Vec<String>) -> StoreResult<List> {
        dispatch!(self, b => b.change_members(address, add, remove).await)
    }

    /// Deletes a list.
    ///
    /// # Errors
    /// `NotFound` when there is no such list.
    pub async fn remove_list(&self, address: String) -> StoreResult<()> {
        dispatch!(self, b => b.remove_list(address).await)
    }

    /// Every list, by address.
    ///
    /// # Errors
    /// Store failures.
    pub async fn lists(&self) -> StoreResult<Vec<List>> {
        dispatch!(self, b => b.lists().await)
    }

    /// Creates a custom recipient.
    ///
    /// # Errors
    /// `Conflict` when the address is taken.
    pub async fn add_contact(&self, address: String, display_name: String, target: String) -> StoreResult<Contact> {
        dispatch!(self, b => b.add_contact(address, display_name, target).await)
    }

    /// Deletes a custom recipient.
    ///
    /// # Errors
    /// `NotFound` when there is none.
    pub async fn remove_contact(&self, address: String) -> StoreResult<()> {
        dispatch!(self, b => b.remove_contact(address).await)
    }

    /// Every custom recipient, by address.
    ///
    /// # Errors
    /// Store failures.
    pub async fn contacts(&self) -> StoreResult<Vec<Contact>> {
        dispatch!(self, b => b.contacts().await)
    }

    /// A list's members, followed through nested lists and custom recipients.
    ///
    /// # Errors
    /// Store failures.
    pub async fn expand(&self, list: i64) -> StoreResult<Expansion> {
        dispatch!(self, b => b.expand(list).await)
    }

    /// A secret of the store by name (`srs`), made (random, 32 bytes in hex) the first
    /// time it is asked for.
    ///
    /// # Errors
    /// Store failures.
    pub async fn secret(&self, name: &str) -> StoreResult<String> {
        dispatch!(self, b => b.secret(name.to_owned()).await)
    }
}
