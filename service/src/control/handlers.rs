//! One function per request: the control plane's behaviour.

use std::net::IpAddr;

use mailroom_shared::address::{Domain, EmailAddress};
use mailroom_shared::ipc::{Event, IpcError, Request, Response};
use mailroom_shared::routing::{self, ClientContext, Decision};

use crate::lifecycle::Manager;
use crate::store::{NewMailbox, QueueFilter, TrackFilter};

/// Runs one request. `Subscribe` is handled by the connection itself.
pub(super) async fn handle(request: Request, manager: &Manager) -> Result<Response, IpcError> {
    match request {
        Request::Ping => Ok(Response::Pong),
        Request::Status => Ok(status(manager, manager.status()).await),
        Request::Monitor => Ok(Response::Monitor { minutes: manager.monitor() }),
        Request::Backup { path } => crate::backup::create(manager.store(), std::path::Path::new(&path))
            .await
            .map(Response::Backup)
            .map_err(|e| IpcError::Failed { message: e.to_string(), field: None }),
        Request::ImportMessage { address, folder, key, flags, received_at, offset, total, data } => {
            super::transfer::import(manager, &address, folder, key, &flags, received_at, (offset, total), &data).await
        }
        Request::ImportCheck { address, keys } => super::transfer::check(manager, &address, keys).await,
        Request::ExportList { address, after, limit } => super::transfer::list(manager, &address, after, limit).await,
        Request::ExportRead { address, id, offset } => super::transfer::read(manager, &address, id, offset).await,
        Request::ImportObject { address, collection, offset, total, data } => {
            super::objects::import(manager, &address, &collection, (offset, total), &data).await
        }
        Request::ExportObjects { address, collection, start } => {
            super::objects::list(manager, &address, &collection, start).await
        }
        Request::ExportObject { address, collection, name, offset } => {
            super::objects::read(manager, &address, &collection, &name, offset).await
        }
        Request::Start => Ok(status(manager, manager.start().await?).await),
        Request::Stop => Ok(status(manager, manager.stop().await?).await),
        Request::Restart => Ok(status(manager, manager.restart().await?).await),
        Request::GetConfig => {
            let (config, revision) = manager.saved_config();
            Ok(Response::Config { config: Box::new((*config).clone()), revision })
        }
        Request::SetConfig { config, base_revision } => {
            let (revision, pending_pages) = manager.save_config(&config, base_revision).await?;
            Ok(Response::ConfigSaved { revision, pending_pages })
        }
        Request::ListMailboxes => list_mailboxes(manager).await,
        Request::AddList { address, display_name, senders, hide_members } => {
            super::recipients::add_list(manager, &address, display_name, senders, hide_members).await
        }
        Request::UpdateList { address, display_name, senders, hide_members } => {
            let change = crate::store::recipients::ListChange { display_name, senders, hide_members };
            super::recipients::update_list(manager, &address, change).await
        }
        Request::ListMembers { address, add, remove } => {
            super::recipients::members(manager, &address, &add, &remove).await
        }
        Request::RemoveList { address } => {
            let address = parse_address("address", &address)?.canonical();
            manager.store().remove_list(address).await?;
            Ok(Response::Done)
        }
        Request::SetForwarding { address, forwarding } => {
            super::recipients::set_forwarding(manager, &address, forwarding).await
        }
        Request::SetAutoReply { address, reply } => super::recipients::set_auto_reply(manager, &address, reply).await,
        Request::SetLimits { address, limits } => super::recipients::set_limits(manager, &address, limits).await,
        Request::SetCatchAll { domain, mailbox } => {
            super::recipients::set_catch_all(manager, &domain, mailbox.as_deref()).await
        }
        Request::AddContact { address, display_name, target } => {
            super::recipients::add_contact(manager, &address, display_name, &target).await
        }
        Request::UpdateContact { address, new_address, display_name, target } => {
            super::recipients::update_contact(manager, &address, new_address, display_name, target).await
        }
        Request::SetHidden { address, hidden } => {
            let address = parse_address("address", &address)?.canonical();
            manager.store().set_hidden(&address, hidden).await?;
            manager.emit(Event::MailboxesChanged);
            Ok(Response::Done)
        }
        Request::RemoveContact { address } => {
            let address = parse_address("address", &address)?.canonical();
            manager.store().remove_contact(address).await?;
            Ok(Response::Done)
        }
        Request::AddMailbox { display_name, addresses, password } => {
            let addresses = parse_addresses("addresses", &addresses)?;
            let m = manager.store().add_mailbox(NewMailbox { display_name, addresses, password }).await?;
            manager.emit(Event::MailboxesChanged);
            Ok(Response::Mailbox(Box::new(m.into())))
        }
        Request::UpdateMailbox { address, display_name, addresses, password } => {
            let address = parse_address("address", &address)?;
            let addresses = addresses.map(|a| parse_addresses("addresses", &a)).transpose()?;
            let m = manager.store().update_mailbox(&address, display_name, addresses, password).await?;
            manager.emit(Event::MailboxesChanged);
            Ok(Response::Mailbox(Box::new(m.into())))
        }
        Request::AddSharedMailbox { display_name, addresses } => {
            let addresses = parse_addresses("addresses", &addresses)?;
            let m = manager.store().add_shared_mailbox(&display_name, &addresses).await?;
            manager.emit(Event::MailboxesChanged);
            Ok(Response::Mailbox(Box::new(m.into())))
        }
        Request::Permissions { address } => super::sharing::list(manager, &address).await,
        Request::SetPermission { address, grantee, rights, folder, collection: Some(collection) } => {
            if folder.is_some() {
                return Err(IpcError::InvalidArgument {
                    field: "collection".into(),
                    message: "a grant is on a folder or on a calendar or address book, not on both".into(),
                });
            }
            let done = super::sharing::set_collection(manager, &address, &grantee, rights, &collection).await?;
            manager.emit(Event::MailboxesChanged);
            Ok(done)
        }
        Request::SetPermission { address, grantee, rights, folder, collection: None } => {
            let done = super::sharing::set(manager, &address, &grantee, rights, folder.as_deref()).await?;
            manager.emit(Event::MailboxesChanged);
            Ok(done)
        }
        Request::PublicFolders => super::sharing::public_folders(manager).await,
        Request::AddPublicFolder { name, address } => {
            let done = super::sharing::add_public_folder(manager, &name, address.as_deref()).await?;
            manager.emit(Event::MailboxesChanged);
            Ok(done)
        }
        Request::UpdatePublicFolder { name, address, quota_kb } => {
            let done = super::sharing::update_public_folder(manager, &name, address.as_deref(), quota_kb).await?;
            manager.emit(Event::MailboxesChanged);
            Ok(done)
        }
        Request::RemovePublicFolder { name } => {
            let done = super::sharing::remove_public_folder(manager, &name).await?;
            manager.emit(Event::MailboxesChanged);
            Ok(done)
        }
        Request::SetFolderPermission { folder, grantee, rights } => {
            let done = super::sharing::set_folder_permission(manager, &folder, &grantee, rights).await?;
            manager.emit(Event::MailboxesChanged);
            Ok(done)
        }
        Request::RemoveMailbox { address } => {
            let address = parse_address("address", &address)?;
            manager.store().remove_mailbox(&address).await?;
            manager.emit(Event::MailboxesChanged);
            Ok(Response::Done)
        }
        Request::TestAddress { recipient, authenticated_as, client_ip } => {
            test_address(manager, &recipient, authenticated_as, &client_ip).await
        }
        Request::QueueList { state, sender, recipient } => {
            let messages = manager.store().queue_list(QueueFilter { state, sender, recipient }).await?;
            Ok(Response::Queue { messages })
        }
        Request::QueueMessage { queue_id } => {
            Ok(Response::QueueMessage(Box::new(manager.store().queue_details(queue_id).await?)))
        }
        Request::QueueRetry { queue_id } => {
            manager.store().queue_retry(queue_id).await?;
            manager.wake_queue();
            Ok(Response::Done)
        }
        Request::QueueDelete { queue_id, ndr } => {
            let n = manager.store().queue_delete(queue_id.clone(), ndr).await?;
            if n == 0 {
                return Err(IpcError::Conflict { message: format!("{queue_id} has no recipient left to delete") });
            }
            manager.wake_queue();
            manager.emit(Event::QueueChanged);
            Ok(Response::Done)
        }
        Request::Track { sender, recipient, message_id, since, until } => {
            let events = manager.store().tracking(TrackFilter { sender, recipient, message_id, since, until }).await?;
            Ok(Response::Tracking { events })
        }
        Request::Certificate => Ok(certificate(manager)),
        Request::RenewCertificate => match manager.renew_certificate().await {
            Ok(()) => Ok(certificate(manager)),
            Err(e) => Err(IpcError::Failed { message: e.to_string(), field: Some("security.acme.enabled".into()) }),
        },
        Request::Lockouts => Ok(Response::Lockouts { lockouts: manager.lockouts() }),
        Request::Unlock { client } => match manager.unlock(&client) {
            true => Ok(Response::Done),
            false => Err(IpcError::NotFound { message: format!("{client} has no failed logins counted") }),
        },
        Request::DnsRecords { domain, check } => dns_records(manager, domain.as_deref(), check).await,
        Request::DkimRotate { domain } => {
            let domain = parse_domain("domain", &domain)?;
            manager.dkim().rotate(&domain.to_string(), &manager.saved_config().0).await?;
            dns_records(manager, Some(&domain.to_string()), false).await
        }
        Request::DkimRetire { domain, selector } => {
            manager.dkim().retire(&domain, &selector).await?;
            Ok(Response::Done)
        }
        Request::QuarantineList => super::filtering::list(manager).await,
        Request::QuarantineMessage { id } => super::filtering::message(manager, id).await,
        Request::QuarantineRelease { id } => super::filtering::release(manager, id).await,
        Request::QuarantineDelete { id } => super::filtering::delete(manager, id).await,
        Request::TestFilter { url } => super::filtering::test_filter(manager, url).await,
        Request::SendingHolds => super::filtering::holds(manager).await,
        Request::SendingUnlock { account } => super::filtering::unlock(manager, &account).await,
        Request::Subscribe { .. } => Ok(Response::Done),
    }
}

/// A status report with what the defences did today.
async fn status(manager: &Manager, mut report: mailroom_shared::ipc::StatusReport) -> Response {
    report.filtering = super::filtering::status(manager).await;
    Response::Status(Box::new(report))
}

fn parse_domain(field: &str, s: &str) -> Result<Domain, IpcError> {
    Domain::parse(s.trim())
        .map_err(|e| IpcError::InvalidArgument { field: field.to_owned(), message: format!("'{s}' {e}") })
}

/// The records the saved configuration's inbound domains should publish, looked up
/// when `check` is set.
async fn dns_records(manager: &Manager, domain: Option<&str>, check: bool) -> Result<Response, IpcError> {
    let (config, _) = manager.saved_config();
    let only = domain.map(|d| parse_domain("domain", d)).transpose()?;
    if let Some(d) = &only
        && !config.routing.table.inbound_domains().contains(&d)
    {
        return Err(IpcError::NotFound { message: format!("{d} is not an inbound domain") });
    }
    let keys = manager.store().dkim_keys().await?;
    let mut records = crate::mailauth::records::wanted(&config, &keys, only.as_ref());
    if check {
        let resolver = crate::dns::resolver(&config.connections)
            .map_err(|e| IpcError::Failed { message: e.to_string(), field: None })?;
        crate::mailauth::records::check(&resolver, &mut records).await;
    }
    Ok(Response::DnsRecords { records })
}

fn parse_address(field: &str, s: &str) -> Result<EmailAddress, IpcError> {
    EmailAddress::parse(s)
        .map_err(|e| IpcError::InvalidArgument { field: field.to_owned(), message: format!("'{s}' {e}") })
}

fn parse_addresses(field: &str, list: &[String]) -> Result<Vec<EmailAddress>, IpcError> {
    list.iter().enumerate().map(|(i, s)| parse_address(&format!("{field}[{i}]"), s)).collect()
}

async fn list_mailboxes(manager: &Manager) -> Result<Response, IpcError> {
    let mailboxes = manager.store().list_mailboxes().await?;
    let (config, _) = manager.saved_config();
    let lists = manager.store().lists().await?;
    let contacts = manager.store().contacts().await?;
    // Every local address: a mailbox's, a list's or a custom recipient's.
    let parsed: Vec<EmailAddress> = mailboxes
        .iter()
        .flat_map(|m| m.addresses.iter())
        .chain(lists.iter().map(|l| &l.address))
        .chain(contacts.iter().map(|c| &c.address))
        .filter_map(|a| EmailAddress::parse(a).ok())
        .collect();
    let warnings = config
        .mailboxes_not_inbound(&parsed)
        .into_iter()
        .map(|a| {
            format!(
                "{a}: rerouting is on but {} is not an inbound domain, so mail to this address would be relayed away",
                a.domain()
            )
        })
        .collect();
    let catch_all = manager.store().catch_alls().await?;
    let mut mailboxes: Vec<mailroom_shared::ipc::MailboxInfo> = mailboxes.into_iter().map(Into::into).collect();
    super::sharing::fill_permissions(manager, &mut mailboxes).await?;
    let hidden = manager.store().hidden_addresses().await?;
    for m in &mut mailboxes {
        m.hidden = m.addresses.first().is_some_and(|a| hidden.contains(a));
    }
    let mut lists: Vec<_> = lists.into_iter().map(super::recipients::list_info).collect();
    for l in &mut lists {
        l.hidden = hidden.contains(&l.address);
    }
    let mut contacts: Vec<_> = contacts.into_iter().map(super::recipients::contact_info).collect();
    for c in &mut contacts {
        c.hidden = hidden.contains(&c.address);
    }
    Ok(Response::Mailboxes { mailboxes, lists, contacts, catch_all, warnings })
}

async fn test_address(
    manager: &Manager,
    recipient: &str,
    authenticated_as: Option<String>,
    client_ip: &str,
) -> Result<Response, IpcError> {
    let recipient = parse_address("recipient", recipient)?;
    let client_ip: IpAddr = client_ip.trim().parse().map_err(|_| IpcError::InvalidArgument {
        field: "client_ip".into(),
        message: format!("'{client_ip}' is not an IP address"),
    })?;
    let (saved, _) = manager.saved_config();
    let addresses = manager.store().all_addresses().await?;
    let key = recipient.canonical();
    let note = super::recipients::explain(manager, &recipient).await?;
    let directory = |a: &EmailAddress| addresses.contains(&a.canonical()) || (a.canonical() == key && note.is_some());
    let verdict = |config: &mailroom_shared::config::Config| {
        let client = ClientContext {
            authenticated_as: authenticated_as.clone().filter(|a| !a.trim().is_empty()),
            client_ip,
            local_ip: config.connections.smtp_listen.ip(),
        };
        let decision = routing::decide(&recipient, &client, &config.routing, &config.routing_restrictions, &directory);
        let mut explanation = decision.explain();
        if let (Decision::Local { address }, Some((note, own_mailbox))) = (decision.outcome(), &note)
            && address.canonical() == key
        {
            if *own_mailbox {
                explanation.push(' ');
                explanation.push_str(note);
            } else {
                // Not a mailbox: the routing's "delivered to the local mailbox" is not so.
                explanation = format!("{address} is handled here. {note}");
            }
        }
        if !matches!(decision.outcome(), Decision::Refused(_)) {
            explanation.push_str(&checks_explained(config, &client));
        }
        (decision, explanation)
    };
    // Mail gets what the running configuration says; a saved one that waits for a
    // restart may say otherwise, and then both are told.
    let running = manager.running_config();
    let (decision, explanation) = verdict(running.as_deref().unwrap_or(&saved));
    let after_restart =
        running.filter(|r| **r != *saved).map(|_| verdict(&saved).1).filter(|after| *after != explanation);
    Ok(Response::AddressTest { decision, explanation, after_restart })
}

/// What the inbound checks would do with this client's mail, in words.
fn checks_explained(config: &mailroom_shared::config::Config, client: &ClientContext) -> String {
    let relay_allowed =
        client.authenticated_as.is_none() && routing::relay_permission(client, &config.routing_restrictions).is_ok();
    let checked = crate::mailauth::inbound::applies(
        config,
        client.authenticated_as.is_some(),
        relay_allowed,
        client.client_ip,
        client.local_ip,
    );
    if !checked {
        return "\nMail from this client is not checked for SPF, DKIM and DMARC (it authenticated, may relay, \
                or is this machine)."
            .into();
    }
    let policy = &config.security.message_authentication;
    let mut out = "\nMail from this client is checked: SPF, DKIM, ARC and DMARC, with the verdict in an \
                   Authentication-Results header."
        .to_owned();
    let ours: Vec<String> = config.routing.table.inbound_domains().iter().map(ToString::to_string).collect();
    if policy.protect_own_domains && !ours.is_empty() {
        out.push_str(&format!(
            " A message from it whose From: is in {} must pass SPF for that domain or carry its DKIM signature, \
             or it is refused.",
            ours.join(", ")
        ));
    }
    if policy.dmarc_reject {
        out.push_str(" A message failing DMARC is refused when its domain's policy says reject.");
    }
    out
}

/// The certificate in use and the ACME client's state.
fn certificate(manager: &Manager) -> Response {
    Response::Certificate {
        certificate: manager.certificate().map(Box::new),
        acme: manager.acme_status().map(Box::new),
    }
}
