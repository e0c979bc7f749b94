//! NOTIFY (RFC 5465): a client says which folders it wants to hear of, and of what
//! (new mail, expunges, flag changes, folders made, deleted or renamed, subscriptions
//! changed), and is told at once — between commands too, not only in IDLE — by
//! `* STATUS` for folders other than the selected one and `* LIST` for names and
//! subscriptions. The selected folder's own changes are reported as without NOTIFY
//! (EXISTS and FETCH at the next command or in IDLE, EXPUNGE only while a command
//! runs).
//!
//! What the client was last told is kept per folder, so a notice of the store (a
//! mailbox changed) becomes a STATUS only where the counts the client asked about
//! moved.

use std::collections::{BTreeMap, BTreeSet};

use imap_next::imap_types::core::Tag;
use imap_next::imap_types::response::{Code, CodeOther};
use imap_next::imap_types::status::StatusDataItemName;

use super::extended::{Events, Mailboxes, Notify};
use super::names;
use super::session::{Flow, Session, State};
use crate::store::{Folder, FolderCounts};

/// What a session asked to hear of, and what it has been told.
#[derive(Debug, Clone)]
pub(super) struct Watching {
    filters: Vec<(Mailboxes, Events)>,
    /// Each watched folder's counts as last told (or as they were at NOTIFY).
    told: BTreeMap<i64, FolderCounts>,
    /// The folder names as last known (MailboxName).
    names: BTreeSet<String>,
    /// The subscriptions as last known (SubscriptionChange).
    subscriptions: BTreeSet<String>,
}

/// The events asked for `folder`: the first filter that names it (RFC 5465 §6), or
/// none. The selected folder is left to the usual reports.
fn events_for(filters: &[(Mailboxes, Events)], folder: &Folder, selected: Option<i64>) -> Option<Events> {
    if Some(folder.id) == selected {
        return None;
    }
    filters.iter().find_map(|(which, events)| {
        let named = match which {
            Mailboxes::Selected => false,
            Mailboxes::Inboxes => folder.name == "INBOX" || folder.special_use.as_deref() == Some("\\Junk"),
            Mailboxes::Personal => true,
            Mailboxes::Subscribed => folder.subscribed,
            Mailboxes::Subtree(roots) => roots.iter().any(|r| {
                folder.name == *r
                    || folder.name.strip_prefix(r.as_str()).is_some_and(|rest| rest.starts_with(names::DELIMITER))
            }),
            Mailboxes::Names(list) => list.contains(&folder.name),
        };
        named.then_some(*events)
    })
}

/// The STATUS items the events are about (RFC 5465 §5.1–5.3).
fn items_for(events: Events) -> Vec<StatusDataItemName> {
    let mut items = Vec::new();
    if events.message_new || events.message_expunge {
        items.push(StatusDataItemName::Messages);
    }
    if events.message_new {
        items.push(StatusDataItemName::UidNext);
    }
    if events.message_new || events.flag_change {
        items.push(StatusDataItemName::UidValidity);
    }
    if events.flag_change {
        items.push(StatusDataItemName::HighestModSeq);
    }
    items
}

/// Whether what the events are about moved between `before` and `now`.
fn moved(events: Events, before: &FolderCounts, now: &FolderCounts) -> bool {
    (events.message_new && (before.uidnext != now.uidnext || before.messages != now.messages))
        || (events.message_expunge && before.messages != now.messages)
        || (events.flag_change && before.highest_modseq != now.highest_modseq)
}

/// A LIST line for a name as the client reads names (NOTIFY's MailboxName and
/// SubscriptionChange).
fn list_line(attributes: &str, name: &str) -> Vec<u8> {
    let wire = name.replace('\\', "\\\\").replace('"', "\\\"");
    format!("* LIST ({attributes}) \"{}\" \"{wire}\"\r\n", names::DELIMITER).into_bytes()
}

impl<S: crate::tls::Transport> Session<S> {
    /// NOTIFY SET or NONE.
    pub(super) async fn notify(&mut self, tag: Tag<'static>, notify: Notify) -> Flow {
        let Some(user) = self.user() else { return Flow::Continue };
        let (status, filters) = match notify {
            Notify::None => {
                self.notify = None;
                self.ok(tag, None, "NOTIFY completed");
                return Flow::Continue;
            }
            Notify::Set { unsupported: true, .. } => {
                let code = "BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange)";
                self.no(tag, Some(Code::Other(CodeOther::unvalidated(code.as_bytes()))), "Event not offered");
                return Flow::Continue;
            }
            Notify::Set { status, filters, .. } => (status, filters),
        };
        let folders = match self.ctx.store.imap_folders(user.mailbox).await {
            Ok(f) => f,
            Err(e) => return self.store_failed(tag, &e),
        };
        let subscriptions = match self.ctx.store.imap_subscriptions(user.mailbox).await {
            Ok(s) => s.into_iter().collect(),
            Err(e) => return self.store_failed(tag, &e),
        };
        let selected = self.selected_folder();
        let mut told = BTreeMap::new();
        for f in &folders {
            let Some(events) = events_for(&filters, f, selected) else { continue };
            let items = items_for(events);
            if items.is_empty() {
                continue;
            }
            match self.ctx.store.imap_folder_counts(user.mailbox, f.id).await {
                Ok(c) => {
                    told.insert(f.id, c);
                }
                Err(e) => return self.store_failed(tag, &e),
            }
            if status && let Err(e) = self.status_of(user.mailbox, f.id, &f.name, items).await {
                return self.store_failed(tag, &e);
            }
        }
        let names = folders.into_iter().map(|f| f.name).collect();
        self.notify = Some(Watching { filters, told, names, subscriptions });
        self.ok(tag, None, "NOTIFY completed");
        Flow::Continue
    }

    /// The selected folder's id.
    fn selected_folder(&self) -> Option<i64> {
        match &self.state {
            State::Selected(_, sel) => Some(sel.folder.id),
            _ => None,
        }
    }

    /// After a notice for the user's mailbox: STATUS for each watched folder whose
    /// counts moved, LIST for names made or gone and subscriptions changed.
    pub(super) async fn notify_changes(&mut self) {
        let (Some(user), Some(watching)) = (self.user(), self.notify.clone()) else { return };
        let Ok(folders) = self.ctx.store.imap_folders(user.mailbox).await else { return };
        let Ok(subscriptions) = self.ctx.store.imap_subscriptions(user.mailbox).await else { return };
        let subscriptions: BTreeSet<String> = subscriptions.into_iter().collect();
        let selected = self.selected_folder();
        let names_asked = watching.filters.iter().any(|(_, e)| e.mailbox_name);
        let subscriptions_asked = watching.filters.iter().any(|(_, e)| e.subscription_change);
        let now_names: BTreeSet<String> = folders.iter().map(|f| f.name.clone()).collect();
        if names_asked {
            for gone in watching.names.difference(&now_names) {
                self.raw(list_line("\\NonExistent", &self.wire_name(gone)));
            }
            for made in now_names.difference(&watching.names) {
                self.raw(list_line("", &self.wire_name(made)));
            }
        }
        if subscriptions_asked {
            for added in subscriptions.difference(&watching.subscriptions) {
                self.raw(list_line("\\Subscribed", &self.wire_name(added)));
            }
            for removed in watching.subscriptions.difference(&subscriptions) {
                self.raw(list_line("", &self.wire_name(removed)));
            }
        }
        let mut told = BTreeMap::new();
        for f in &folders {
            let Some(events) = events_for(&watching.filters, f, selected) else { continue };
            let items = items_for(events);
            if items.is_empty() {
                continue;
            }
            let Ok(now) = self.ctx.store.imap_folder_counts(user.mailbox, f.id).await else { continue };
            let changed = watching.told.get(&f.id).is_none_or(|before| moved(events, before, &now));
            if changed && self.status_of(user.mailbox, f.id, &f.name, items).await.is_err() {
                continue;
            }
            told.insert(f.id, now);
        }
        self.notify = Some(Watching { filters: watching.filters, told, names: now_names, subscriptions });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(id: i64, name: &str) -> Folder {
        Folder { id, mailbox: 1, name: name.into(), special_use: None, subscribed: id % 2 == 0 }
    }

    #[test]
    fn the_first_filter_naming_a_folder_gives_its_events_and_the_selected_one_is_left_out() {
        let new = Events { message_new: true, ..Events::default() };
        let flags = Events { flag_change: true, ..Events::default() };
        let filters = vec![(Mailboxes::Subtree(vec!["Work".into()]), new), (Mailboxes::Personal, flags)];
        assert_eq!(events_for(&filters, &folder(1, "Work/2026"), None), Some(new));
        assert_eq!(events_for(&filters, &folder(3, "Workshop"), None), Some(flags), "not under Work");
        assert_eq!(events_for(&filters, &folder(1, "Work"), Some(1)), None, "selected");
        assert_eq!(
            items_for(new),
            [StatusDataItemName::Messages, StatusDataItemName::UidNext, StatusDataItemName::UidValidity]
        );
        assert_eq!(items_for(flags), [StatusDataItemName::UidValidity, StatusDataItemName::HighestModSeq]);
    }
}
