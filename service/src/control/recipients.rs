//! Distribution lists and custom recipients over the control socket: each request's
//! addresses checked and made canonical here, the store doing the rest (an address
//! taken, a loop, a list that does not exist come back as its typed errors).

use mailroom_shared::address::EmailAddress;
use mailroom_shared::ipc::{ContactInfo, IpcError, ListInfo, ListSenders, Response};

use super::errors::store_error;
use crate::lifecycle::Manager;
use crate::store::recipients::{Contact, List, ListChange};

fn canonical(field: &str, s: &str) -> Result<String, IpcError> {
    EmailAddress::parse(s.trim())
        .map(|a| a.canonical())
        .map_err(|e| IpcError::InvalidArgument { field: field.to_owned(), message: format!("'{s}' {e}") })
}

/// A list for the client.
pub(super) fn list_info(l: List) -> ListInfo {
    ListInfo {
        address: l.address,
        display_name: l.display_name,
        senders: l.senders,
        hide_members: l.hide_members,
        members: l.members,
    }
}

/// A custom recipient for the client.
pub(super) fn contact_info(c: Contact) -> ContactInfo {
    ContactInfo { address: c.address, display_name: c.display_name, target: c.target }
}

/// Creates a list.
pub(super) async fn add_list(
    manager: &Manager,
    address: &str,
    display_name: String,
    senders: ListSenders,
    hide_members: bool,
) -> Result<Response, IpcError> {
    let address = canonical("address", address)?;
    let list = manager
        .store()
        .add_list(address, display_name.trim().to_owned(), senders, hide_members)
        .await
        .map_err(store_error)?;
    Ok(Response::List(list_info(list)))
}

/// Changes a list's settings.
pub(super) async fn update_list(manager: &Manager, address: &str, change: ListChange) -> Result<Response, IpcError> {
    let address = canonical("address", address)?;
    let list = manager.store().update_list(address, change).await.map_err(store_error)?;
    Ok(Response::List(list_info(list)))
}

/// Adds and removes members.
pub(super) async fn members(
    manager: &Manager,
    address: &str,
    add: &[String],
    remove: &[String],
) -> Result<Response, IpcError> {
    let address = canonical("address", address)?;
    let add = add.iter().enumerate().map(|(i, m)| canonical(&format!("add[{i}]"), m)).collect::<Result<Vec<_>, _>>()?;
    let remove =
        remove.iter().enumerate().map(|(i, m)| canonical(&format!("remove[{i}]"), m)).collect::<Result<Vec<_>, _>>()?;
    let list = manager.store().change_members(address, add, remove).await.map_err(store_error)?;
    Ok(Response::List(list_info(list)))
}

/// Creates a custom recipient, whose target must be outside: a local address is a
/// mailbox's alias, not a custom recipient.
pub(super) async fn add_contact(
    manager: &Manager,
    address: &str,
    display_name: String,
    target: &str,
) -> Result<Response, IpcError> {
    let address = canonical("address", address)?;
    let target_address = EmailAddress::parse(target.trim())
        .map_err(|e| IpcError::InvalidArgument { field: "target".into(), message: format!("'{target}' {e}") })?;
    if manager.store().named(&target_address.canonical()).await.map_err(store_error)?.is_some() {
        return Err(IpcError::InvalidArgument {
            field: "target".into(),
            message: format!("{target_address} is a recipient here; give the mailbox an alias instead"),
        });
    }
    let contact = manager
        .store()
        .add_contact(address, display_name.trim().to_owned(), target_address.to_string())
        .await
        .map_err(store_error)?;
    Ok(Response::Contact(contact_info(contact)))
}
