//! Shared mailboxes, permissions and public folders over the control socket (the
//! Administrator's New Shared Mailbox, Permissions tab and Public Folders;
//! `mailroomctl mailbox share|permissions`, `mailroomctl folder public …`): the names
//! given (mailbox, grantee, folder) resolved here, the store keeping the grants.

use mailroom_shared::address::EmailAddress;
use mailroom_shared::ipc::{IpcError, PermissionInfo, PublicFolderInfo, Response};
use mailroom_shared::rights::Rights;

use crate::lifecycle::Manager;
use crate::store::dav::DavKind;

/// The mailbox an address names.
async fn mailbox(manager: &Manager, address: &str) -> Result<i64, IpcError> {
    let key = address.trim().to_ascii_lowercase();
    manager
        .store()
        .mailbox_of(&key)
        .await?
        .ok_or_else(|| IpcError::NotFound { message: format!("no mailbox has the address {address}") })
}

/// The grants on a mailbox, for the client: folder ids as names.
async fn permissions(manager: &Manager, id: i64) -> Result<Response, IpcError> {
    let store = manager.store();
    let folders = store.imap_folders(id).await?;
    let mut permissions: Vec<PermissionInfo> = store
        .grants(id)
        .await?
        .into_iter()
        .filter(|g| !g.rights.is_empty())
        .map(|g| PermissionInfo {
            grantee: g.name,
            folder: g
                .folder
                .map(|f| folders.iter().find(|x| x.id == f).map_or_else(|| f.to_string(), |x| x.name.clone())),
            collection: None,
            rights: g.rights,
        })
        .collect();
    // Then each calendar's and address book's own (an empty one is kept: it takes
    // away there what the mailbox's grant gives).
    for kind in [DavKind::Calendar, DavKind::AddressBook] {
        for c in store.dav_collections(id, kind).await? {
            for g in store.dav_grants(c.id).await? {
                permissions.push(PermissionInfo {
                    grantee: g.name,
                    folder: None,
                    collection: Some(collection_path(kind, &c.name)),
                    rights: g.rights,
                });
            }
        }
    }
    Ok(Response::Permissions { permissions })
}

/// The calendar or address book `collection` names (`calendars/NAME`,
/// `addressbooks/NAME`).
pub(super) fn collection_named(collection: &str) -> Result<(DavKind, String), IpcError> {
    let invalid = |message: String| IpcError::InvalidArgument { field: "collection".into(), message };
    match collection.trim().trim_matches('/').split_once('/') {
        Some(("calendars", name)) if !name.is_empty() && !name.contains('/') => Ok((DavKind::Calendar, name.into())),
        Some(("addressbooks", name)) if !name.is_empty() && !name.contains('/') => {
            Ok((DavKind::AddressBook, name.into()))
        }
        _ => Err(invalid(format!(
            "'{collection}' names no calendar or address book: calendars/NAME or addressbooks/NAME"
        ))),
    }
}

/// How a calendar or address book is named to clients: as its URL does.
fn collection_path(kind: DavKind, name: &str) -> String {
    match kind {
        DavKind::Calendar => format!("calendars/{name}"),
        DavKind::AddressBook => format!("addressbooks/{name}"),
    }
}

/// Gives (or, with no rights, takes away) a grantee's rights on one calendar or
/// address book of a mailbox; the mailbox's grants as they now are.
pub(super) async fn set_collection(
    manager: &Manager,
    address: &str,
    grantee: &str,
    rights: Rights,
    collection: &str,
) -> Result<Response, IpcError> {
    let id = mailbox(manager, address).await?;
    let store = manager.store();
    let who = store.grantee_named(grantee).await?.ok_or_else(|| IpcError::InvalidArgument {
        field: "grantee".into(),
        message: format!("'{grantee}' is neither a mailbox, a distribution list nor anyone"),
    })?;
    let (kind, name) = collection_named(collection)?;
    let found = store.dav_collection(id, kind, &name).await?.filter(|c| c.name != crate::itip::INBOX);
    let Some(c) = found else {
        let what = if kind == DavKind::Calendar { "calendar" } else { "address book" };
        let message = format!("{address} has no {what} named {name}");
        return Err(IpcError::InvalidArgument { field: "collection".into(), message });
    };
    if rights.any(Rights::SEND_AS.with(Rights::SEND_ON_BEHALF)) {
        return Err(IpcError::InvalidArgument {
            field: "rights".into(),
            message: "Send As and Send On Behalf Of are given on the whole mailbox, not on a calendar".into(),
        });
    }
    match store.dav_set_grant(c.id, who, rights).await {
        Err(crate::store::StoreError::Invalid { message, .. }) => {
            return Err(IpcError::InvalidArgument { field: "grantee".into(), message });
        }
        other => other?,
    }
    permissions(manager, id).await
}

/// Each mailbox's grants, for the list of mailboxes (folder ids as names).
pub(super) async fn fill_permissions(
    manager: &Manager,
    mailboxes: &mut [mailroom_shared::ipc::MailboxInfo],
) -> Result<(), IpcError> {
    let store = manager.store();
    let mut folders: std::collections::HashMap<i64, Vec<crate::store::Folder>> = std::collections::HashMap::new();
    for (owner, g) in store.all_grants().await? {
        if g.rights.is_empty() {
            continue;
        }
        let folder = match g.folder {
            None => None,
            Some(f) => {
                let names = match folders.entry(owner) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => e.insert(store.imap_folders(owner).await?),
                };
                Some(names.iter().find(|x| x.id == f).map_or_else(|| f.to_string(), |x| x.name.clone()))
            }
        };
        if let Some(m) = mailboxes.iter_mut().find(|m| m.id == owner) {
            m.permissions.push(PermissionInfo { grantee: g.name, folder, collection: None, rights: g.rights });
        }
    }
    for (owner, kind, name, g) in store.dav_all_grants().await? {
        if let Some(m) = mailboxes.iter_mut().find(|m| m.id == owner) {
            let collection = Some(collection_path(kind, &name));
            m.permissions.push(PermissionInfo { grantee: g.name, folder: None, collection, rights: g.rights });
        }
    }
    Ok(())
}

/// The rights given on a mailbox.
pub(super) async fn list(manager: &Manager, address: &str) -> Result<Response, IpcError> {
    let id = mailbox(manager, address).await?;
    permissions(manager, id).await
}

/// Gives (or, with no rights, takes away) a grantee's rights on a mailbox or one of its
/// folders; the grants as they now are.
pub(super) async fn set(
    manager: &Manager,
    address: &str,
    grantee: &str,
    rights: Rights,
    folder: Option<&str>,
) -> Result<Response, IpcError> {
    let id = mailbox(manager, address).await?;
    let store = manager.store();
    let who = store.grantee_named(grantee).await?.ok_or_else(|| IpcError::InvalidArgument {
        field: "grantee".into(),
        message: format!("'{grantee}' is neither a mailbox, a distribution list nor anyone"),
    })?;
    let folder = match folder.map(str::trim).filter(|f| !f.is_empty()) {
        None => None,
        Some(name) => {
            let folders = store.imap_folders(id).await?;
            let found =
                folders.iter().find(|f| f.name == name || (name.eq_ignore_ascii_case("inbox") && f.name == "INBOX"));
            match found {
                Some(f) => Some(f.id),
                None => {
                    return Err(IpcError::InvalidArgument {
                        field: "folder".into(),
                        message: format!("{address} has no folder named {name}"),
                    });
                }
            }
        }
    };
    if folder.is_some() && rights.any(Rights::SEND_AS.with(Rights::SEND_ON_BEHALF)) {
        return Err(IpcError::InvalidArgument {
            field: "rights".into(),
            message: "Send As and Send On Behalf Of are given on the whole mailbox, not on a folder".into(),
        });
    }
    store.set_grant(id, folder, who, rights).await?;
    permissions(manager, id).await
}

/// Every public folder, with its permissions, for the client.
pub(super) async fn public_folders(manager: &Manager) -> Result<Response, IpcError> {
    let store = manager.store();
    let folders = store.public_folders().await?;
    let grants = if folders.is_empty() { Vec::new() } else { store.grants(store.public_mailbox().await?).await? };
    let folders = folders
        .into_iter()
        .map(|f| PublicFolderInfo {
            permissions: grants
                .iter()
                .filter(|g| g.folder == Some(f.folder.id) && !g.rights.is_empty())
                .map(|g| PermissionInfo { grantee: g.name.clone(), folder: None, collection: None, rights: g.rights })
                .collect(),
            name: f.folder.name,
            address: f.address,
            quota_kb: f.quota_kb,
            messages: f.messages,
            bytes: f.bytes,
        })
        .collect();
    Ok(Response::PublicFolders { folders })
}

/// The public folder named `name`.
async fn public_folder(manager: &Manager, name: &str) -> Result<crate::store::public::PublicFolder, IpcError> {
    let name = name.trim().trim_matches('/');
    manager
        .store()
        .public_folders()
        .await?
        .into_iter()
        .find(|f| f.folder.name == name)
        .ok_or_else(|| IpcError::NotFound { message: format!("there is no public folder named {name}") })
}

/// An address given for a public folder, checked.
fn folder_address(address: &str) -> Result<EmailAddress, IpcError> {
    EmailAddress::parse(address.trim())
        .map_err(|e| IpcError::InvalidArgument { field: "address".into(), message: format!("'{address}' {e}") })
}

/// Makes a public folder.
pub(super) async fn add_public_folder(
    manager: &Manager,
    name: &str,
    address: Option<&str>,
) -> Result<Response, IpcError> {
    let address = address.map(str::trim).filter(|a| !a.is_empty()).map(folder_address).transpose()?;
    manager.store().add_public_folder(name, address.as_ref()).await?;
    public_folders(manager).await
}

/// Changes a public folder's address (empty: none) and limit (0: none).
pub(super) async fn update_public_folder(
    manager: &Manager,
    name: &str,
    address: Option<&str>,
    quota_kb: Option<u64>,
) -> Result<Response, IpcError> {
    let folder = public_folder(manager, name).await?;
    let address = match address.map(str::trim) {
        None => None,
        Some("") => Some(None),
        Some(a) => Some(Some(folder_address(a)?)),
    };
    let quota = quota_kb.map(|q| (q > 0).then_some(q));
    manager.store().update_public_folder(folder.folder.id, address.as_ref().map(Option::as_ref), quota).await?;
    public_folders(manager).await
}

/// Deletes a public folder, its messages and the folders under it.
pub(super) async fn remove_public_folder(manager: &Manager, name: &str) -> Result<Response, IpcError> {
    let folder = public_folder(manager, name).await?;
    let store = manager.store();
    let below = format!("{}/", folder.folder.name);
    let mut doomed: Vec<_> =
        store.public_folders().await?.into_iter().filter(|f| f.folder.name.starts_with(&below)).collect();
    doomed.sort_by(|a, b| b.folder.name.cmp(&a.folder.name));
    for f in doomed.into_iter().chain(std::iter::once(folder)) {
        store.imap_delete(f.folder.mailbox, f.folder.id).await?;
    }
    public_folders(manager).await
}

/// Gives (or takes away) a grantee's rights on a public folder.
pub(super) async fn set_folder_permission(
    manager: &Manager,
    name: &str,
    grantee: &str,
    rights: Rights,
) -> Result<Response, IpcError> {
    let folder = public_folder(manager, name).await?;
    let store = manager.store();
    let who = store.grantee_named(grantee).await?.ok_or_else(|| IpcError::InvalidArgument {
        field: "grantee".into(),
        message: format!("'{grantee}' is neither a mailbox, a distribution list nor anyone"),
    })?;
    if rights.any(Rights::SEND_AS.with(Rights::SEND_ON_BEHALF)) {
        return Err(IpcError::InvalidArgument {
            field: "rights".into(),
            message: "Send As and Send On Behalf Of are given on mailboxes, not on public folders".into(),
        });
    }
    store.set_grant(folder.folder.mailbox, Some(folder.folder.id), who, rights).await?;
    public_folders(manager).await
}
