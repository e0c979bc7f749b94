//! What each command does: which of the client's typed methods it calls, and which
//! `render` function prints the answer. One small function per command group; the
//! dispatcher is one line per command.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use mailroom_client::{Client, MailboxChange, QueueFilter, TrackQuery, ssh};
use mailroom_shared::config::ConfigDraft;
use mailroom_shared::ipc::{AutoReply, Forwarding, ListSenders, Request, StorageLimits};
use mailroom_shared::paths;
use mailroom_shared::rights::{Rights, Role};

use crate::Failure;
use crate::args::{
    AddressBookCmd, CertificateCmd, Cli, Command, ConfigCmd, ContactCmd, DkimCmd, FilterCmd, FolderCmd, ListCmd,
    MailboxCmd, PublicCmd, QuarantineCmd, QueueCmd, RoutingCmd, SendingCmd,
};
use crate::render::{self, Out};
use crate::{bridge, edit, transfer};

/// How this program introduces itself to the service.
const NAME: &str = concat!("mailroomctl ", env!("CARGO_PKG_VERSION"));

/// Runs the command line.
pub async fn run(cli: Cli) -> Result<(), Failure> {
    let socket = match (&cli.socket, &cli.data_dir) {
        (Some(s), _) => s.clone(),
        (None, Some(d)) => paths::default_socket(d),
        (None, None) => paths::client_socket(),
    };
    // Read secrets before connecting, so a slow typist does not hold a connection.
    let password = match &cli.command {
        Command::Mailbox { action: MailboxCmd::Add { .. } | MailboxCmd::Passwd { .. } } => Some(read_password()?),
        Command::Mailbox { action: MailboxCmd::Import { password_stdin: true, .. } } => Some(read_password()?),
        _ => None,
    };
    if matches!(cli.command, Command::Bridge) {
        return bridge::relay(&socket).await;
    }
    let Some(host) = cli.ssh else {
        let client = Client::connect(&socket, NAME).await?;
        return command(&client, &mut Out::new(cli.json), cli.command, password).await;
    };
    // The other computer's socket or data directory, when named (quoted for its
    // shell); its bridge finds the default itself.
    let quoted = |p: &Path| format!("'{}'", p.display().to_string().replace('\'', "'\\''"));
    let remote = match (&cli.socket, &cli.data_dir) {
        _ if cli.ssh_command.is_some() => cli.ssh_command.unwrap_or_default(),
        (Some(s), _) => format!("{} --socket {}", ssh::DEFAULT_COMMAND, quoted(s)),
        (None, Some(d)) => format!("{} --data-dir {}", ssh::DEFAULT_COMMAND, quoted(d)),
        (None, None) => ssh::DEFAULT_COMMAND.to_owned(),
    };
    let target = ssh::SshTarget { host, port: cli.ssh_port, command: remote, program: ssh::default_program() };
    let connection = ssh::connect(&target, NAME).await.map_err(Failure::Unreachable)?;
    command(&connection.client, &mut Out::new(cli.json), cli.command, password).await
}

/// One command, on a connected client.
async fn command(c: &Client, out: &mut Out, command: Command, password: Option<String>) -> Result<(), Failure> {
    match command {
        Command::Status => render::status(out, &c.status().await?)?,
        Command::Bridge => {}
        Command::Backup { file } => backup(c, out, &file).await?,
        Command::Monitor { minutes } => render::monitor(out, c.monitor().await?, minutes)?,
        Command::Start => render::status(out, &c.start().await?)?,
        Command::Stop => render::status(out, &c.stop().await?)?,
        Command::Restart => render::status(out, &c.restart().await?)?,
        Command::Set { setting } => edit_config(c, out, |d| edit::setting(d, setting)).await?,
        Command::Routing { action } => routing(c, out, action).await?,
        Command::Mailbox { action } => mailbox(c, out, action, password).await?,
        Command::Folder { action: FolderCmd::Public { action } } => public_folder(c, out, action).await?,
        Command::List { action } => list(c, out, action).await?,
        Command::Contact { action } => contact(c, out, action).await?,
        Command::Calendar { action } => {
            transfer::objects(c, out, mailroom_client::objects::Kind::Calendar, action).await?
        }
        Command::Contacts { action } => {
            transfer::objects(c, out, mailroom_client::objects::Kind::AddressBook, action).await?;
        }
        Command::AddressBook { action } => {
            match action {
                AddressBookCmd::Hide { address } => c.set_hidden(address, true).await?,
                AddressBookCmd::Show { address } => c.set_hidden(address, false).await?,
            }
            render::done(out)?;
        }
        Command::Config { action } => config(c, out, action).await?,
        Command::TestAddress { recipient, auth, client_ip } => {
            render::address_test(out, c.test_address(recipient, auth, client_ip).await?)?;
        }
        Command::Queue { action } => queue(c, out, action).await?,
        Command::Track { sender, recipient, message_id, since, until } => {
            render::tracking(out, c.track(TrackQuery { sender, recipient, message_id, since, until }).await?)?;
        }
        Command::Certificate { action } => certificate(c, out, action).await?,
        Command::Lockouts => render::lockouts(out, c.lockouts().await?)?,
        Command::Unlock { client } => {
            c.unlock(client).await?;
            render::done(out)?;
        }
        Command::DnsRecords { domain, check } => render::dns_records(out, c.dns_records(domain, check).await?)?,
        Command::Dkim { action } => dkim(c, out, action).await?,
        Command::Quarantine { action } => quarantine(c, out, action).await?,
        Command::Sending { action } => sending(c, out, action).await?,
        Command::Filter { action: FilterCmd::Test { url } } => render::filter_test(out, c.test_filter(url).await?)?,
        Command::Events => return events(c, out).await,
    }
    Ok(())
}

/// `backup FILE`: the path made absolute here, as the service resolves none.
async fn backup(c: &Client, out: &mut Out, file: &Path) -> Result<(), Failure> {
    let file = std::path::absolute(file).map_err(|e| Failure::Usage(format!("{}: {e}", file.display())))?;
    render::backup(out, c.backup(file.display().to_string()).await?)?;
    Ok(())
}

/// The saved configuration as a draft to edit, and its revision.
async fn get_config(c: &Client) -> Result<(ConfigDraft, u64), Failure> {
    let (config, revision) = c.get_config().await?;
    Ok((config.to_draft(), revision))
}

/// Reads the configuration, applies `edit`, and saves it with the revision it was read
/// at, so a concurrent change elsewhere is reported rather than overwritten.
async fn edit_config(c: &Client, out: &mut Out, edit: impl FnOnce(&mut ConfigDraft)) -> Result<(), Failure> {
    try_edit_config(c, out, |d| {
        edit(d);
        Ok(())
    })
    .await
}

/// [`edit_config`] with an edit that may refuse (and then nothing is saved).
async fn try_edit_config(
    c: &Client,
    out: &mut Out,
    edit: impl FnOnce(&mut ConfigDraft) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let (mut draft, revision) = get_config(c).await?;
    edit(&mut draft)?;
    let (revision, pending_pages) = c.save_config(draft, Some(revision)).await?;
    render::config_saved(out, revision, pending_pages)?;
    Ok(())
}

/// `routing …`.
async fn routing(c: &Client, out: &mut Out, action: RoutingCmd) -> Result<(), Failure> {
    match action {
        RoutingCmd::CatchAll { domain, mailbox } => {
            let mailbox = (!mailbox.eq_ignore_ascii_case("off")).then_some(mailbox);
            c.set_catch_all(domain, mailbox).await?;
            render::done(out)?;
        }
        RoutingCmd::List => render::routing(out, &get_config(c).await?.0.routing)?,
        action => try_edit_config(c, out, |d| edit::routing(d, action)).await?,
    }
    Ok(())
}

/// `mailbox …`.
async fn mailbox(c: &Client, out: &mut Out, action: MailboxCmd, password: Option<String>) -> Result<(), Failure> {
    match action {
        MailboxCmd::Add { address, aliases, name, .. } => {
            let addresses = std::iter::once(address).chain(aliases).collect();
            render::mailbox(out, c.add_mailbox(name, addresses, password.unwrap_or_default()).await?)?;
        }
        MailboxCmd::Passwd { address, .. } => {
            let change = MailboxChange { password: Some(password.unwrap_or_default()), ..MailboxChange::default() };
            render::mailbox(out, c.update_mailbox(address, change).await?)?;
        }
        MailboxCmd::List => render::mailboxes(out, c.list_mailboxes().await?)?,
        MailboxCmd::Share { address, aliases, name } => {
            let addresses = std::iter::once(address).chain(aliases).collect();
            render::mailbox(out, c.add_shared_mailbox(name, addresses).await?)?;
        }
        MailboxCmd::Permissions {
            address,
            grantee,
            rights,
            folder,
            calendar,
            address_book,
            send_as,
            send_on_behalf,
        } => {
            let collection = calendar
                .map(|c| format!("calendars/{c}"))
                .or_else(|| address_book.map(|b| format!("addressbooks/{b}")));
            let permissions = match (grantee, rights) {
                (Some(grantee), Some(rights)) => {
                    let mut rights = parse_rights(&rights)?;
                    if send_as {
                        rights = rights.with(Rights::SEND_AS);
                    }
                    if send_on_behalf {
                        rights = rights.with(Rights::SEND_ON_BEHALF);
                    }
                    match collection {
                        Some(collection) => c.set_collection_permission(&address, grantee, rights, collection).await?,
                        None => c.set_permission(&address, grantee, rights, folder).await?,
                    }
                }
                (Some(grantee), None) => {
                    let all = c.permissions(&address).await?;
                    all.into_iter().filter(|p| p.grantee.eq_ignore_ascii_case(&grantee)).collect()
                }
                _ => c.permissions(&address).await?,
            };
            render::permissions(out, &address, permissions)?;
        }
        MailboxCmd::Remove { address } => {
            c.remove_mailbox(address).await?;
            render::done(out)?;
        }
        MailboxCmd::Import { address, maildir, mbox, pop3, user, tls, .. } => {
            let source = transfer::Source { maildir, mbox, pop3: pop3.zip(user), tls };
            return transfer::import(c, out, &address, source, password).await;
        }
        MailboxCmd::Forward { address, to, keep } => {
            let forwarding = (!to.eq_ignore_ascii_case("off")).then_some(Forwarding { to, keep });
            c.set_forwarding(address, forwarding).await?;
            render::done(out)?;
        }
        MailboxCmd::Autoreply { address, subject, text, from, until, days, off } => {
            let reply = if off {
                None
            } else {
                Some(AutoReply {
                    subject: subject.unwrap_or_default(),
                    body: text.unwrap_or_default(),
                    start: from.as_deref().map(|s| day(s, false)).transpose()?,
                    end: until.as_deref().map(|s| day(s, true)).transpose()?,
                    days,
                })
            };
            c.set_auto_reply(address, reply).await?;
            render::done(out)?;
        }
        MailboxCmd::Limits { address, warn, send, receive } => {
            let limits = limits(c, &address, warn, send, receive).await?;
            c.set_limits(address, limits).await?;
            render::done(out)?;
        }
        MailboxCmd::Export { address, mbox, maildir } => {
            return transfer::export(c, out, &address, mbox, maildir).await;
        }
    }
    Ok(())
}

/// `folder public …`.
async fn public_folder(c: &Client, out: &mut Out, action: PublicCmd) -> Result<(), Failure> {
    let folders = match action {
        PublicCmd::List => c.public_folders().await?,
        PublicCmd::Add { name, address } => c.public_folder_change(Request::AddPublicFolder { name, address }).await?,
        PublicCmd::Set { name, address, limit } => {
            let address = address.map(|a| if a.eq_ignore_ascii_case("none") { String::new() } else { a });
            let quota_kb = match limit.as_deref() {
                None => None,
                Some(l) if l.eq_ignore_ascii_case("none") => Some(0),
                Some(l) => Some(
                    l.parse::<u64>()
                        .ok()
                        .filter(|k| *k > 0)
                        .ok_or_else(|| Failure::Usage(format!("'{l}' is not a size in KB (or none)")))?,
                ),
            };
            c.public_folder_change(Request::UpdatePublicFolder { name, address, quota_kb }).await?
        }
        PublicCmd::Remove { name } => c.public_folder_change(Request::RemovePublicFolder { name }).await?,
        PublicCmd::Permissions { name, grantee: Some(grantee), rights: Some(rights) } => {
            let rights = parse_rights(&rights)?;
            c.public_folder_change(Request::SetFolderPermission { folder: name, grantee, rights }).await?
        }
        PublicCmd::Permissions { name, .. } => {
            let folders = c.public_folders().await?;
            let folder = folders
                .into_iter()
                .find(|f| f.name == name.trim_matches('/'))
                .ok_or_else(|| Failure::Usage(format!("there is no public folder named {name}")))?;
            return Ok(render::permissions(out, &name, folder.permissions)?);
        }
    };
    Ok(render::public_folders(out, folders)?)
}

/// Rights as given on the command line: a role, RFC 4314's letters, or `none`.
fn parse_rights(s: &str) -> Result<Rights, Failure> {
    if s.eq_ignore_ascii_case("none") {
        return Ok(Rights::NONE);
    }
    if let Some(role) = Role::parse(s) {
        return Ok(role.rights());
    }
    Rights::parse(s).map_err(|c| {
        Failure::Usage(format!(
            "'{s}' is neither a role (owner, publishing-editor, editor, publishing-author, author, contributor, \
             reviewer), none, nor rights letters ('{c}' is not one of lrswipkxtea)"
        ))
    })
}

/// A day of `--from`/`--until` (YYYY-MM-DD, local time) in Unix seconds: its first
/// second, or with `end` its last.
fn day(s: &str, end: bool) -> Result<i64, Failure> {
    let date: jiff::civil::Date =
        s.parse().map_err(|e| Failure::Usage(format!("'{s}' is not a date (YYYY-MM-DD): {e}")))?;
    let time = if end { date.at(23, 59, 59, 0) } else { date.at(0, 0, 0, 0) };
    jiff::tz::TimeZone::system()
        .to_timestamp(time)
        .map(|t| t.as_second())
        .map_err(|e| Failure::Usage(format!("'{s}': {e}")))
}

/// The mailbox's limits with those given changed (`default`: the organisation's), the
/// others as they are now.
async fn limits(
    c: &Client,
    address: &str,
    warn: Option<String>,
    send: Option<String>,
    receive: Option<String>,
) -> Result<StorageLimits, Failure> {
    let current = c
        .list_mailboxes()
        .await?
        .mailboxes
        .into_iter()
        .find(|m| m.addresses.iter().any(|a| a.eq_ignore_ascii_case(address)))
        .map(|m| m.limits)
        .unwrap_or_default();
    let value = |given: Option<String>, now: Option<u64>| -> Result<Option<u64>, Failure> {
        match given.as_deref() {
            None => Ok(now),
            Some("default") => Ok(None),
            Some(n) => n.parse().map(Some).map_err(|_| Failure::Usage(format!("'{n}' is not a number of KB"))),
        }
    };
    Ok(StorageLimits {
        warn_kb: value(warn, current.warn_kb)?,
        send_kb: value(send, current.send_kb)?,
        receive_kb: value(receive, current.receive_kb)?,
    })
}

/// A `--senders` name (clap has checked it against the same three).
fn senders(s: &str) -> ListSenders {
    ListSenders::from_name(s).unwrap_or_default()
}

/// `list …`.
async fn list(c: &Client, out: &mut Out, action: ListCmd) -> Result<(), Failure> {
    let list = match action {
        ListCmd::Add { address, name, senders: s, hide_members } => {
            c.add_list(address, name, senders(&s), hide_members).await?
        }
        ListCmd::Members { address, add, remove } => c.list_members(address, add, remove).await?,
        ListCmd::Set { address, senders: s, hide_members, name } => {
            let hide_members = hide_members.map(|h| h == "on");
            c.update_list(address, name, s.as_deref().map(senders), hide_members).await?
        }
        ListCmd::Remove { address } => {
            c.remove_list(address).await?;
            render::done(out)?;
            return Ok(());
        }
    };
    render::list(out, list)?;
    Ok(())
}

/// `contact …`.
async fn contact(c: &Client, out: &mut Out, action: ContactCmd) -> Result<(), Failure> {
    match action {
        ContactCmd::Add { address, target, name } => render::contact(out, c.add_contact(address, name, target).await?)?,
        ContactCmd::Set { address, new_address, target, name } => {
            render::contact(out, c.update_contact(address, new_address, name, target).await?)?;
        }
        ContactCmd::Remove { address } => {
            c.remove_contact(address).await?;
            render::done(out)?;
        }
    }
    Ok(())
}

/// `config show|load`.
async fn config(c: &Client, out: &mut Out, action: ConfigCmd) -> Result<(), Failure> {
    match action {
        ConfigCmd::Show => render::config(out, &get_config(c).await?.0)?,
        ConfigCmd::Load { file } => {
            let draft = read_config(&file)?;
            let (revision, pending_pages) = c.save_config(draft, None).await?;
            render::config_saved(out, revision, pending_pages)?;
        }
    }
    Ok(())
}

/// A configuration as JSON from `file`, or standard input for `-`.
fn read_config(file: &PathBuf) -> Result<ConfigDraft, Failure> {
    let text = if file.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| Failure::Usage(format!("stdin: {e}")))?;
        s
    } else {
        std::fs::read_to_string(file).map_err(|e| Failure::Usage(format!("{}: {e}", file.display())))?
    };
    serde_json::from_str(&text).map_err(|e| Failure::Usage(format!("{}: {e}", file.display())))
}

/// `queue …`.
async fn queue(c: &Client, out: &mut Out, action: QueueCmd) -> Result<(), Failure> {
    match action {
        QueueCmd::List { state, sender, recipient } => {
            render::queue(out, c.queue_list(QueueFilter { state, sender, recipient }).await?)?;
        }
        QueueCmd::Show { queue_id } => render::queue_message(out, c.queue_message(queue_id).await?)?,
        QueueCmd::Retry { queue_id } => {
            c.queue_retry(queue_id).await?;
            render::done(out)?;
        }
        QueueCmd::Delete { queue_id, no_ndr } => {
            c.queue_delete(queue_id, !no_ndr).await?;
            render::done(out)?;
        }
    }
    Ok(())
}

/// `certificate [renew|acme]`.
async fn certificate(c: &Client, out: &mut Out, action: Option<CertificateCmd>) -> Result<(), Failure> {
    match action {
        None => render::certificate(out, c.certificate().await?)?,
        Some(CertificateCmd::Renew) => render::certificate(out, c.renew_certificate().await?)?,
        Some(CertificateCmd::Acme { names, email, directory, challenge, challenge_listen, setup_names, off }) => {
            let setup_names = setup_names.map(|s| s == "on");
            let acme = edit::Acme { names, email, directory, challenge, challenge_listen, setup_names, off };
            edit_config(c, out, |d| edit::acme(d, acme)).await?;
        }
    }
    Ok(())
}

/// `dkim rotate|retire`.
async fn dkim(c: &Client, out: &mut Out, action: DkimCmd) -> Result<(), Failure> {
    match action {
        DkimCmd::Rotate { domain } => render::dkim_rotated(out, c.dkim_rotate(domain).await?)?,
        DkimCmd::Retire { domain, selector } => {
            c.dkim_retire(domain, selector).await?;
            render::done(out)?;
        }
    }
    Ok(())
}

/// `quarantine …`.
async fn quarantine(c: &Client, out: &mut Out, action: QuarantineCmd) -> Result<(), Failure> {
    match action {
        QuarantineCmd::List => render::quarantine(out, c.quarantine_list().await?)?,
        QuarantineCmd::Show { id } => {
            let (entry, text) = c.quarantine_message(id).await?;
            render::quarantine_message(out, entry, text)?;
        }
        QuarantineCmd::Release { id } => {
            c.quarantine_release(id).await?;
            render::done(out)?;
        }
        QuarantineCmd::Delete { id } => {
            c.quarantine_delete(id).await?;
            render::done(out)?;
        }
    }
    Ok(())
}

/// `sending list|unlock`.
async fn sending(c: &Client, out: &mut Out, action: SendingCmd) -> Result<(), Failure> {
    match action {
        SendingCmd::List => render::sending_holds(out, c.sending_holds().await?)?,
        SendingCmd::Unlock { account } => {
            c.sending_unlock(account).await?;
            render::done(out)?;
        }
    }
    Ok(())
}

/// `events`: every event as a line of JSON, until the service closes the connection.
async fn events(c: &Client, out: &mut Out) -> Result<(), Failure> {
    let mut events = c.subscribe().await?;
    while let Some(e) = events.recv().await {
        render::event(out, &e)?;
    }
    Err(Failure::Unreachable("the service closed the connection".into()))
}

fn read_password() -> Result<String, Failure> {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s).map_err(|e| Failure::Usage(format!("cannot read the password: {e}")))?;
    let p = s.strip_suffix('\n').map(|p| p.strip_suffix('\r').unwrap_or(p)).unwrap_or(&s).to_owned();
    if p.is_empty() {
        return Err(Failure::Usage("the password read from standard input is empty".into()));
    }
    Ok(p)
}
