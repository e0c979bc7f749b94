//! Shared mailboxes and permissions over the control socket (the Administrator's New
//! Shared Mailbox and Permissions tab, `mailroomctl mailbox share|permissions`): the
//! names given (mailbox, grantee, folder) resolved here, the store keeping the grants.

use mailroom_shared::ipc::{IpcError, PermissionInfo, Response};
use mailroom_shared::rights::Rights;

use crate::lifecycle::Manager;

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
    let permissions = store
        .grants(id)
        .await?
        .into_iter()
        .filter(|g| !g.rights.is_empty())
        .map(|g| PermissionInfo {
            grantee: g.name,
            folder: g
                .folder
                .map(|f| folders.iter().find(|x| x.id == f).map_or_else(|| f.to_string(), |x| x.name.clone())),
            rights: g.rights,
        })
        .collect();
    Ok(Response::Permissions { permissions })
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
            m.permissions.push(PermissionInfo { grantee: g.name, folder, rights: g.rights });
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
