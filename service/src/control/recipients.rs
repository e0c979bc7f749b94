//! Distribution lists and custom recipients over the control socket: each request's
//! addresses checked and made canonical here, the store doing the rest (an address
//! taken, a loop, a list that does not exist come back as its typed errors).

use mailroom_shared::address::EmailAddress;
use mailroom_shared::ipc::{ContactInfo, Event, IpcError, ListInfo, ListSenders, Response};

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
        hidden: false,
    }
}

/// A custom recipient for the client.
pub(super) fn contact_info(c: Contact) -> ContactInfo {
    ContactInfo { address: c.address, display_name: c.display_name, target: c.target, hidden: false }
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
    let list = manager.store().add_list(address, display_name.trim().to_owned(), senders, hide_members).await?;
    Ok(Response::List(list_info(list)))
}

/// Changes a list's settings.
pub(super) async fn update_list(manager: &Manager, address: &str, change: ListChange) -> Result<Response, IpcError> {
    let address = canonical("address", address)?;
    let list = manager.store().update_list(address, change).await?;
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
    let list = manager.store().change_members(address, add, remove).await?;
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
    let target = outside_target(manager, target).await?;
    let contact = manager.store().add_contact(address, display_name.trim().to_owned(), target).await?;
    Ok(Response::Contact(contact_info(contact)))
}

/// Changes a custom recipient: what is given replaces what it had, with the same
/// checks as when it was made.
pub(super) async fn update_contact(
    manager: &Manager,
    address: &str,
    new_address: Option<String>,
    display_name: Option<String>,
    target: Option<String>,
) -> Result<Response, IpcError> {
    let address = canonical("address", address)?;
    let contact = manager
        .store()
        .contacts()
        .await?
        .into_iter()
        .find(|c| c.address == address)
        .ok_or_else(|| IpcError::NotFound { message: format!("there is no custom recipient {address}") })?;
    let new_address = match new_address {
        Some(a) => canonical("new_address", &a)?,
        None => contact.address.clone(),
    };
    let target = match target {
        Some(t) => outside_target(manager, &t).await?,
        None => contact.target,
    };
    let display_name = display_name.map_or(contact.display_name, |n| n.trim().to_owned());
    let changed = manager.store().update_contact(address, new_address, display_name, target).await?;
    manager.emit(Event::MailboxesChanged);
    Ok(Response::Contact(contact_info(changed)))
}

/// A custom recipient's outside address, checked: well formed, and not a recipient here
/// (a local address is a mailbox's alias, not a custom recipient).
async fn outside_target(manager: &Manager, target: &str) -> Result<String, IpcError> {
    let target_address = EmailAddress::parse(target.trim())
        .map_err(|e| IpcError::InvalidArgument { field: "target".into(), message: format!("'{target}' {e}") })?;
    if manager.store().named(&target_address.canonical()).await?.is_some() {
        return Err(IpcError::InvalidArgument {
            field: "target".into(),
            message: format!("{target_address} is a recipient here; give the mailbox an alias instead"),
        });
    }
    Ok(target_address.to_string())
}

/// The mailbox an address names.
async fn mailbox_id(manager: &Manager, address: &str) -> Result<i64, IpcError> {
    let key = canonical("address", address)?;
    manager
        .store()
        .mailbox_of(&key)
        .await?
        .ok_or_else(|| IpcError::NotFound { message: format!("no mailbox has the address {address}") })
}

fn invalid(field: &str, message: impl Into<String>) -> IpcError {
    IpcError::InvalidArgument { field: field.to_owned(), message: message.into() }
}

/// A mailbox's forwarding: to an outside address only (a local one is an alias).
pub(super) async fn set_forwarding(
    manager: &Manager,
    address: &str,
    forwarding: Option<mailroom_shared::ipc::Forwarding>,
) -> Result<Response, IpcError> {
    let id = mailbox_id(manager, address).await?;
    let forwarding = match forwarding {
        None => None,
        Some(f) => {
            let to = EmailAddress::parse(f.to.trim()).map_err(|e| invalid("to", format!("'{}' {e}", f.to)))?;
            if manager.store().named(&to.canonical()).await?.is_some() {
                return Err(invalid(
                    "to",
                    format!("{to} is a recipient here; give that mailbox this address as an alias instead"),
                ));
            }
            Some(mailroom_shared::ipc::Forwarding { to: to.to_string(), keep: f.keep })
        }
    };
    manager.store().set_forwarding(id, forwarding).await?;
    Ok(Response::Done)
}

/// A mailbox's automatic reply.
pub(super) async fn set_auto_reply(
    manager: &Manager,
    address: &str,
    reply: Option<mailroom_shared::ipc::AutoReply>,
) -> Result<Response, IpcError> {
    let id = mailbox_id(manager, address).await?;
    if let Some(r) = &reply {
        if r.subject.trim().is_empty() {
            return Err(invalid("subject", "an automatic reply needs a subject"));
        }
        if r.subject.contains(['\r', '\n']) {
            return Err(invalid("subject", "a subject is one line"));
        }
        if r.body.trim().is_empty() {
            return Err(invalid("body", "an automatic reply needs some text"));
        }
        if !(1..=365).contains(&r.days) {
            return Err(invalid("days", format!("{} is out of range; allowed: 1 to 365", r.days)));
        }
        if let (Some(s), Some(e)) = (r.start, r.end)
            && s >= e
        {
            return Err(invalid("end", "the end must come after the start"));
        }
    }
    manager.store().set_auto_reply(id, reply).await?;
    Ok(Response::Done)
}

/// A mailbox's own storage limits.
pub(super) async fn set_limits(
    manager: &Manager,
    address: &str,
    limits: mailroom_shared::ipc::StorageLimits,
) -> Result<Response, IpcError> {
    let id = mailbox_id(manager, address).await?;
    for (field, kb) in [("warn_kb", limits.warn_kb), ("send_kb", limits.send_kb), ("receive_kb", limits.receive_kb)] {
        if kb == Some(0) {
            return Err(invalid(field, "a limit is at least 1 KB; leave it unset for the organisation's"));
        }
    }
    if let (Some(s), Some(r)) = (limits.send_kb, limits.receive_kb)
        && s > r
    {
        return Err(invalid("send_kb", "sending must stop no later than receiving does"));
    }
    manager.store().set_limits(id, limits).await?;
    Ok(Response::Done)
}

/// A domain's catch-all mailbox: only for a domain whose mail is ours.
pub(super) async fn set_catch_all(
    manager: &Manager,
    domain: &str,
    mailbox: Option<&str>,
) -> Result<Response, IpcError> {
    let parsed = mailroom_shared::address::Domain::parse(domain.trim())
        .map_err(|e| invalid("domain", format!("'{domain}' {}", e.0)))?;
    let (config, _) = manager.saved_config();
    let ours = parsed == config.general.host_name || config.routing.table.is_inbound(&parsed);
    if mailbox.is_some() && !ours {
        return Err(invalid("domain", format!("{parsed} is not an inbound domain; add it on the Routing tab first")));
    }
    let id = match mailbox {
        Some(a) => Some(mailbox_id(manager, a).await?),
        None => None,
    };
    manager.store().set_catch_all(parsed.to_string(), id).await?;
    Ok(Response::Done)
}

/// What the address tester adds about a local address: what kind of recipient it is
/// and where its mail goes (a list's members unless hidden, a custom recipient's
/// target, a mailbox's forwarding, automatic reply and fullness, the domain's
/// catch-all); `None` when it names nobody and no catch-all takes it. The flag says
/// whether the address is a mailbox's own (else the routing's "delivered to the local
/// mailbox" would be wrong, and the note says instead where its mail goes).
pub(super) async fn explain(manager: &Manager, address: &EmailAddress) -> Result<Option<(String, bool)>, IpcError> {
    use crate::store::recipients::Named;
    let store = manager.store();
    let named = store.named(&address.canonical()).await?;
    let mailbox = |id: i64| async move {
        let o = store.mailbox_options(id).await?;
        let mut words = if o.shared {
            format!("It is the shared mailbox {}: nobody logs in as it;", o.address)
        } else {
            format!("It is the mailbox {}.", o.address)
        };
        // Who reads it besides its owner, and who sends for it.
        let grants = store.grants(id).await?;
        let readers: Vec<String> = grants
            .iter()
            .filter(|g| g.folder.is_none() && g.rights.has(mailroom_shared::rights::Rights::READ))
            .map(|g| match g.rights.role() {
                Some(role) => format!("{} ({})", g.name, role.label()),
                None => format!("{} ({})", g.name, g.rights.imap_letters()),
            })
            .collect();
        match (o.shared, readers.is_empty()) {
            (true, true) => words.push_str(" nobody has been given rights on it yet, so its mail waits unread."),
            (true, false) => words.push_str(&format!(" {} read it under Other Users.", readers.join(", "))),
            (false, false) => words.push_str(&format!(" Shared with {}.", readers.join(", "))),
            (false, true) => {}
        }
        let senders: Vec<&str> = grants
            .iter()
            .filter(|g| {
                g.rights
                    .any(mailroom_shared::rights::Rights::SEND_AS.with(mailroom_shared::rights::Rights::SEND_ON_BEHALF))
            })
            .map(|g| g.name.as_str())
            .collect();
        if !senders.is_empty() {
            words.push_str(&format!(" {} may send for it.", senders.join(", ")));
        }
        if let Some(f) = &o.forwarding {
            let keep = if f.keep { ", keeping a copy" } else { " (no copy is kept)" };
            words.push_str(&format!(" Its mail is forwarded to {}{keep}, the envelope sender rewritten by SRS.", f.to));
        }
        if o.auto_reply.is_some() {
            words.push_str(" Its automatic reply is on.");
        }
        let (config, _) = manager.saved_config();
        let (warn, send, receive) = crate::quota::effective(config.general.mailbox_limits, &o.limits);
        let over = |limit: Option<u64>| limit.is_some_and(|limit| o.bytes >= limit);
        if over(receive) {
            words.push_str(" It is full: mail to it is refused (552 5.2.2).");
        } else if over(send) {
            words.push_str(" It is over its sending limit: its owner may not send.");
        } else if over(warn) {
            words.push_str(" It is over its warning limit.");
        }
        Ok::<_, IpcError>(words)
    };
    match named {
        Some(Named::Mailbox(id)) => Ok(Some((mailbox(id).await?, true))),
        Some(Named::List(list)) => {
            let senders = match list.senders {
                ListSenders::Anyone => "anyone may send to it",
                ListSenders::Authenticated => "only our authenticated users may send to it",
                ListSenders::Members => "only its members may send to it",
            };
            let members = if list.hide_members {
                format!("{} member(s), hidden", list.members.len())
            } else {
                let e = store.expand(list.id).await?;
                let mut all: Vec<String> = e.mailboxes.into_iter().map(|(_, a)| a).collect();
                all.extend(e.outside.into_iter().map(|o| format!("{o} (forwarded)")));
                format!("delivered to {}", all.join(", "))
            };
            Ok(Some((format!("It is a distribution list ({senders}), {members}; each member gets one copy."), false)))
        }
        Some(Named::Contact(c)) => Ok(Some((
            format!(
                "It is a custom recipient: its mail is relayed to {}, the envelope sender rewritten by SRS.",
                c.target
            ),
            false,
        ))),
        Some(Named::Folder { folder, name, full, .. }) => {
            let public = store.public_folders().await?;
            let everyone = store
                .grants(store.public_mailbox().await?)
                .await?
                .into_iter()
                .find(|g| g.folder == Some(folder) && g.grantee == crate::store::Grantee::Anyone)
                .is_some_and(|g| g.rights.has(mailroom_shared::rights::Rights::READ));
            let size = public.iter().find(|f| f.folder.id == folder).map_or(0, |f| f.messages);
            let mut words = format!(
                "It is the public folder {name}: its mail is filed there ({size} message(s) now), read under Shared Folders by {}.",
                if everyone { "everyone" } else { "those given the right" }
            );
            if full {
                words.push_str(" It is full: mail to it is refused (552 5.2.2).");
            }
            Ok(Some((words, false)))
        }
        None => match store.catch_all(&address.domain().to_string()).await? {
            Some(id) => {
                let words = mailbox(id).await?;
                Ok(Some((
                    format!("No recipient has this address; {}'s catch-all takes it. {words}", address.domain()),
                    false,
                )))
            }
            None => Ok(None),
        },
    }
}
