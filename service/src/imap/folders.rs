//! The authenticated state: folders (LIST, LSUB, CREATE, DELETE, RENAME, SUBSCRIBE,
//! STATUS, SELECT and EXAMINE), ENABLE and NAMESPACE.

use std::borrow::Cow;

use imap_next::imap_types::command::SelectParameter;
use imap_next::imap_types::core::{IString, QuotedChar, Tag, Vec1};
use imap_next::imap_types::extensions::enable::CapabilityEnable;
use imap_next::imap_types::fetch::MessageDataItem;
use imap_next::imap_types::flag::{Flag, FlagNameAttribute};
use imap_next::imap_types::mailbox::{ListMailbox, Mailbox};
use imap_next::imap_types::response::{Code, CodeOther, Data};
use imap_next::imap_types::sequence::SequenceSet;
use imap_next::imap_types::status::{StatusDataItem, StatusDataItemName};

use super::names;
use super::session::{Flow, Selected, Session, State, User, atom, folder_flags, nz, nz64};
use crate::store::imap::{ImapMessage, flags};
use crate::store::{Folder, StoreError};
use mailroom_shared::rights::Rights;

/// Flags given by a client, as stored: system flags and keywords (`\Recent` and
/// unknown system flags ignored).
pub(super) fn flags_of(list: &[Flag<'_>]) -> (u8, Vec<String>) {
    let mut bits = 0;
    let mut keywords = Vec::new();
    for f in list {
        match f {
            Flag::Seen => bits |= flags::SEEN,
            Flag::Answered => bits |= flags::ANSWERED,
            Flag::Flagged => bits |= flags::FLAGGED,
            Flag::Deleted => bits |= flags::DELETED,
            Flag::Draft => bits |= flags::DRAFT,
            Flag::Keyword(k) => keywords.push(k.as_ref().to_owned()),
            Flag::Extension(_) => {}
        }
    }
    (bits, keywords)
}

/// The LIST attributes of a folder: special use, and children or none.
fn attributes(folder: &Folder, all: &[Folder]) -> Vec<FlagNameAttribute<'static>> {
    let mut out = Vec::new();
    let prefix = format!("{}{}", folder.name, names::DELIMITER);
    let children = all.iter().any(|f| f.name.starts_with(&prefix));
    out.push(FlagNameAttribute::from(atom(if children { "HasChildren" } else { "HasNoChildren" })));
    match folder.special_use.as_deref() {
        Some("\\Sent") => out.push(FlagNameAttribute::from(atom("Sent"))),
        Some("\\Drafts") => out.push(FlagNameAttribute::from(atom("Drafts"))),
        Some("\\Trash") => out.push(FlagNameAttribute::from(atom("Trash"))),
        Some("\\Junk") => out.push(FlagNameAttribute::from(atom("Junk"))),
        _ => {}
    }
    out
}

/// A folder name as a mailbox on the wire.
fn mailbox_of(name: &str) -> Option<Mailbox<'static>> {
    use imap_next::imap_types::core::AString;
    use imap_next::imap_types::extensions::utf8::QuotedUtf8;
    if !name.is_ascii()
        && let Ok(quoted) = QuotedUtf8::try_from(name.to_owned())
    {
        // A UTF-8 name (IMAP4rev2, UTF8=ACCEPT) as a quoted string, as RFC 6855 §3
        // writes them, rather than the literal imap-codec would choose.
        return Some(Mailbox::from(AString::String(IString::QuotedUtf8(quoted))));
    }
    Mailbox::try_from(name.to_owned()).ok()
}

impl<S: crate::tls::Transport> Session<S> {
    /// Who is logged in (every command here runs after login).
    pub(super) fn user(&self) -> Option<User> {
        match &self.state {
            State::Authenticated(u) | State::Selected(u, _) => Some(u.clone()),
            State::NotAuthenticated => None,
        }
    }

    /// ENABLE (RFC 5161): CONDSTORE, QRESYNC, IMAP4rev2 and UTF8=ACCEPT; anything else
    /// is ignored, as the RFC asks.
    pub(super) fn enable(&mut self, tag: Tag<'static>, capabilities: Vec1<CapabilityEnable<'static>>) -> Flow {
        let mut enabled = Vec::new();
        for c in capabilities.into_inner() {
            let name = c.to_string().to_ascii_uppercase();
            match &c {
                CapabilityEnable::CondStore if !self.condstore => {
                    self.condstore = true;
                    enabled.push(c);
                }
                CapabilityEnable::Other(_) if name == "IMAP4REV2" && !self.rev2 => {
                    // RFC 9051: ESEARCH answers SEARCH, no \Recent, names in UTF-8.
                    self.rev2 = true;
                    self.utf8_names = true;
                    enabled.push(c);
                }
                CapabilityEnable::Utf8(_) if name == "UTF8=ACCEPT" && !self.utf8_names => {
                    // RFC 6855: names (and messages) in UTF-8.
                    self.utf8_names = true;
                    enabled.push(c);
                }
                CapabilityEnable::Other(_) if name == "QRESYNC" && !self.qresync => {
                    // QRESYNC implies CONDSTORE (RFC 7162 §3.2.3).
                    self.qresync = true;
                    self.condstore = true;
                    enabled.push(c);
                }
                _ => {}
            }
        }
        self.data(Data::Enabled { capabilities: enabled });
        self.ok(tag, None, "ENABLE completed");
        Flow::Continue
    }

    /// NAMESPACE (RFC 2342): one's own folders, other people's under `Other Users/`,
    /// and the public folders under `Shared Folders/`, `/`-delimited.
    pub(super) fn namespace(&mut self, tag: Tag<'static>) -> Flow {
        use imap_next::imap_types::extensions::namespace::Namespace;
        let namespace = |prefix: String| {
            IString::try_from(prefix).ok().map(|prefix| Namespace {
                prefix,
                delimiter: QuotedChar::try_from(names::DELIMITER).ok(),
                extensions: Vec::new(),
            })
        };
        let other = format!("{}{}", super::acl::OTHER_USERS, names::DELIMITER);
        let shared = format!("{}{}", super::acl::SHARED_FOLDERS, names::DELIMITER);
        if let (Some(personal), Some(other), Some(shared)) =
            (namespace(String::new()), namespace(other), namespace(shared))
        {
            self.data(Data::Namespace { personal: vec![personal], other: vec![other], shared: vec![shared] });
        }
        self.ok(tag, None, "NAMESPACE completed");
        Flow::Continue
    }

    /// LIST and LSUB. Levels above a folder that are not folders themselves are shown
    /// as `\Noselect`, as `%` requires.
    pub(super) async fn list(
        &mut self,
        tag: Tag<'static>,
        reference: Mailbox<'static>,
        wildcard: ListMailbox<'static>,
        lsub: bool,
    ) -> Flow {
        let Some(user) = self.user() else { return Flow::Continue };
        let pattern = names::pattern(&reference, &wildcard);
        let delimiter = QuotedChar::try_from(names::DELIMITER).ok();
        if pattern.is_empty() && !lsub {
            // The hierarchy delimiter and root (RFC 9051 §6.3.9).
            if let Ok(root) = Mailbox::try_from(String::new()) {
                self.data(Data::List { items: vec![FlagNameAttribute::Noselect], delimiter, mailbox: root });
            }
            self.ok(tag, None, "LIST completed");
            return Flow::Continue;
        }
        // Others' folders too, those the user may look up (RFC 4314's `l`).
        let folders: Vec<Folder> = match self.reachable(&user, true).await {
            Ok(f) => f.into_iter().filter(|(_, r)| r.has(Rights::LOOKUP)).map(|(f, _)| f).collect(),
            Err(e) => return self.store_failed(tag, &e),
        };
        let mut seen = std::collections::BTreeSet::new();
        for f in &folders {
            if lsub && !f.subscribed {
                continue;
            }
            if names::matches(&pattern, &f.name) {
                if let Some(mb) = mailbox_of(&self.wire_name(&f.name)) {
                    let items = attributes(f, &folders);
                    self.data(if lsub {
                        Data::Lsub { items, delimiter, mailbox: mb }
                    } else {
                        Data::List { items, delimiter, mailbox: mb }
                    });
                }
                seen.insert(f.name.clone());
            }
            // Levels above that are not listed themselves: for LIST those that do not
            // exist, for LSUB those not subscribed (RFC 3501 §6.3.9: `LSUB "" %` with
            // only `foo/bar` subscribed gives `foo`, \Noselect).
            for parent in names::parents(&f.name) {
                let listed = folders.iter().any(|g| g.name == parent && (!lsub || g.subscribed));
                if !seen.contains(parent) && !listed && names::matches(&pattern, parent) {
                    seen.insert(parent.to_owned());
                    if let Some(mb) = mailbox_of(&self.wire_name(parent)) {
                        let items = vec![FlagNameAttribute::Noselect, FlagNameAttribute::from(atom("HasChildren"))];
                        self.data(if lsub {
                            Data::Lsub { items, delimiter, mailbox: mb }
                        } else {
                            Data::List { items, delimiter, mailbox: mb }
                        });
                    }
                }
            }
        }
        if lsub {
            // Subscriptions whose folder was deleted stay listed until removed.
            let subscriptions = match self.ctx.store.imap_subscriptions(user.mailbox).await {
                Ok(s) => s,
                Err(e) => return self.store_failed(tag, &e),
            };
            for name in subscriptions {
                if !seen.contains(&name)
                    && !folders.iter().any(|f| f.name == name)
                    && names::matches(&pattern, &name)
                    && let Some(mb) = mailbox_of(&self.wire_name(&name))
                {
                    self.data(Data::Lsub { items: Vec::new(), delimiter, mailbox: mb });
                }
            }
        }
        self.ok(tag, None, if lsub { "LSUB completed" } else { "LIST completed" });
        Flow::Continue
    }

    /// CREATE.
    pub(super) async fn create(&mut self, tag: Tag<'static>, name: Mailbox<'static>) -> Flow {
        let Some(user) = self.user() else { return Flow::Continue };
        let shown = names::folder_name(&name);
        if shown == "INBOX" {
            self.no(tag, Some(Code::Other(super::code("ALREADYEXISTS"))), "INBOX always exists");
            return Flow::Continue;
        }
        // In another's mailbox: with the right to create there.
        let (mailbox, name) = match self.others_place(&tag, &user, &shown, Rights::CREATE).await {
            Err(()) => return Flow::Continue,
            Ok(Some(place)) => place,
            Ok(None) => (user.mailbox, shown.clone()),
        };
        if let Some(why) = names::invalid(&name).or((name == "INBOX").then_some("INBOX always exists")) {
            self.no(tag, Some(Code::Other(super::code("CANNOT"))), why);
            return Flow::Continue;
        }
        // The levels above are made too (RFC 9051 §6.3.4).
        for parent in names::parents(&name) {
            if parent != "INBOX" {
                match self.ctx.store.imap_create(mailbox, parent.to_owned()).await {
                    Ok(_) | Err(StoreError::Conflict(_)) => {}
                    Err(e) => return self.store_failed(tag, &e),
                }
            }
        }
        match self.ctx.store.imap_create(mailbox, name.clone()).await {
            Ok(id) => {
                // In another's mailbox, the new folder has its parent's rights (as
                // Dovecot gives it), so that whoever could see the parent sees it.
                if mailbox != user.mailbox
                    && let Err(e) = self.inherit_grants(mailbox, &name, id).await
                {
                    return self.store_failed(tag, &e);
                }
                // OBJECTID (RFC 8474 §4.1): the new folder's MAILBOXID.
                let code = Code::Other(CodeOther::unvalidated(format!("MAILBOXID (F{id})").into_bytes()));
                self.ok(tag, Some(code), "CREATE completed");
            }
            Err(StoreError::Conflict(_)) => {
                self.no(tag, Some(Code::Other(super::code("ALREADYEXISTS"))), &format!("{shown} already exists"));
            }
            Err(e) => return self.store_failed(tag, &e),
        }
        Flow::Continue
    }

    /// DELETE: the folder and its messages (not INBOX, not the selected folder).
    pub(super) async fn delete(&mut self, tag: Tag<'static>, name: Mailbox<'static>) -> Flow {
        let Some(user) = self.user() else { return Flow::Continue };
        let Some((folder, rights)) = self.folder(&tag, &user, &name).await else { return Flow::Continue };
        if self.lacks(&tag, rights, Rights::DELETE_FOLDER, &folder.name) {
            return Flow::Continue;
        }
        if folder.name == "INBOX" {
            self.no(tag, Some(Code::Other(super::code("CANNOT"))), "INBOX cannot be deleted");
            return Flow::Continue;
        }
        if matches!(&self.state, State::Selected(_, s) if s.folder.id == folder.id) {
            self.state = State::Authenticated(user.clone());
        }
        match self.ctx.store.imap_delete(folder.mailbox, folder.id).await {
            Ok(()) => self.ok(tag, None, "DELETE completed"),
            Err(StoreError::Invalid { .. }) => {
                self.no(tag, Some(Code::Other(super::code("CANNOT"))), "An INBOX cannot be deleted");
            }
            Err(e) => return self.store_failed(tag, &e),
        }
        Flow::Continue
    }

    /// RENAME (with the folders under it; INBOX's messages move, INBOX stays).
    pub(super) async fn rename(&mut self, tag: Tag<'static>, from: Mailbox<'static>, to: Mailbox<'static>) -> Flow {
        let Some(user) = self.user() else { return Flow::Continue };
        let Some((folder, rights)) = self.folder(&tag, &user, &from).await else { return Flow::Continue };
        if self.lacks(&tag, rights, Rights::DELETE_FOLDER, &folder.name) {
            return Flow::Continue;
        }
        let shown = names::folder_name(&to);
        let (mailbox, to) = match self.others_place(&tag, &user, &shown, Rights::CREATE).await {
            Err(()) => return Flow::Continue,
            Ok(Some(place)) => place,
            Ok(None) => (user.mailbox, shown.clone()),
        };
        if mailbox != folder.mailbox {
            self.no(tag, Some(Code::Other(super::code("CANNOT"))), "A folder can only be renamed within its mailbox");
            return Flow::Continue;
        }
        if let Some(why) = names::invalid(&to).or((to == "INBOX").then_some("INBOX always exists")) {
            self.no(tag, Some(Code::Other(super::code("CANNOT"))), why);
            return Flow::Continue;
        }
        match self.ctx.store.imap_rename(folder.mailbox, folder.id, to.clone()).await {
            Ok(()) => self.ok(tag, None, "RENAME completed"),
            Err(StoreError::Conflict(_)) => {
                self.no(tag, Some(Code::Other(super::code("ALREADYEXISTS"))), &format!("{shown} already exists"));
            }
            Err(e) => return self.store_failed(tag, &e),
        }
        Flow::Continue
    }

    /// SUBSCRIBE and UNSUBSCRIBE.
    pub(super) async fn subscribe(&mut self, tag: Tag<'static>, name: Mailbox<'static>, on: bool) -> Flow {
        let Some(user) = self.user() else { return Flow::Continue };
        if super::acl::is_shared_name(&names::folder_name(&name)) {
            // Others' folders are listed as subscribed while they are shared.
            if self.folder(&tag, &user, &name).await.is_some() {
                self.ok(tag, None, if on { "SUBSCRIBE completed" } else { "UNSUBSCRIBE completed" });
            }
            return Flow::Continue;
        }
        let name = names::folder_name(&name);
        match self.ctx.store.imap_subscribe(user.mailbox, name.clone(), on).await {
            Ok(()) => self.ok(tag, None, if on { "SUBSCRIBE completed" } else { "UNSUBSCRIBE completed" }),
            Err(StoreError::NotFound(_)) => {
                self.no(
                    tag,
                    Some(Code::Other(super::code("NONEXISTENT"))),
                    &format!("There is no folder named {name}"),
                );
            }
            Err(e) => return self.store_failed(tag, &e),
        }
        Flow::Continue
    }

    /// STATUS.
    pub(super) async fn status(
        &mut self,
        tag: Tag<'static>,
        name: Mailbox<'static>,
        items: Vec<StatusDataItemName>,
    ) -> Flow {
        let asked = std::mem::take(&mut self.object_items);
        let mut items = items;
        if asked.stand_in {
            items.clear();
        }
        let Some(user) = self.user() else { return Flow::Continue };
        let Some((folder, rights)) = self.folder(&tag, &user, &name).await else { return Flow::Continue };
        if self.lacks(&tag, rights, Rights::READ, &folder.name) {
            return Flow::Continue;
        }
        self.object_items = asked;
        let at = crate::store::Access::new(folder.mailbox, user.mailbox);
        let status = self.status_of(at, folder.id, &folder.name, items).await;
        self.object_items = super::objectid::ObjectItems::default();
        if let Err(e) = status {
            return self.store_failed(tag, &e);
        }
        self.ok(tag, None, "STATUS completed");
        Flow::Continue
    }

    /// The `* STATUS` response for a folder.
    pub(super) async fn status_of(
        &mut self,
        at: impl Into<crate::store::Access>,
        folder: i64,
        name: &str,
        items: Vec<StatusDataItemName>,
    ) -> crate::store::StoreResult<()> {
        let c = self.ctx.store.imap_folder_counts(at, folder).await?;
        let mut out = Vec::new();
        for item in items {
            out.push(match item {
                StatusDataItemName::Messages => StatusDataItem::Messages(c.messages),
                StatusDataItemName::Recent => StatusDataItem::Recent(c.recent),
                StatusDataItemName::UidNext => StatusDataItem::UidNext(nz(c.uidnext)),
                StatusDataItemName::UidValidity => StatusDataItem::UidValidity(nz(c.uidvalidity)),
                StatusDataItemName::Unseen => StatusDataItem::Unseen(c.unseen),
                StatusDataItemName::Deleted => StatusDataItem::Deleted(c.deleted),
                StatusDataItemName::DeletedStorage => StatusDataItem::DeletedStorage(c.deleted_size),
                StatusDataItemName::Size => StatusDataItem::Size(c.size),
                StatusDataItemName::HighestModSeq => {
                    self.enable_condstore();
                    StatusDataItem::HighestModSeq(c.highest_modseq)
                }
            });
        }
        if let Some(mb) = mailbox_of(&self.wire_name(name)) {
            let status = Data::Status { mailbox: mb, items: Cow::Owned(out) };
            if self.object_items.mailboxid {
                // OBJECTID's MAILBOXID, which imap-types' STATUS has no place for.
                self.raw(super::objectid::spliced(status, &format!(" MAILBOXID (F{folder})")));
            } else {
                self.data(status);
            }
        }
        Ok(())
    }

    /// SELECT and EXAMINE.
    pub(super) async fn select(
        &mut self,
        tag: Tag<'static>,
        name: Mailbox<'static>,
        read_only: bool,
        parameters: Vec<SelectParameter>,
    ) -> Flow {
        let Some(user) = self.user() else { return Flow::Continue };
        let mut resync = None;
        for p in parameters {
            match p {
                SelectParameter::CondStore => self.condstore = true,
                SelectParameter::QResync { .. } if !self.qresync => {
                    self.bad(tag, "QRESYNC needs ENABLE QRESYNC first");
                    return Flow::Continue;
                }
                SelectParameter::QResync { uid_validity, mod_sequence_value, known_uids, .. } => {
                    resync = Some((uid_validity.get(), mod_sequence_value.get(), known_uids));
                }
            }
        }
        // A failed SELECT leaves no folder selected (RFC 9051 §6.3.2).
        if matches!(self.state, State::Selected(..)) {
            self.state = State::Authenticated(user.clone());
            self.untagged_ok(Some(Code::Other(super::code("CLOSED"))), "Previous folder closed");
        }
        let rights_epoch = self.ctx.store.rights_epoch();
        let Some((folder, rights)) = self.folder(&tag, &user, &name).await else { return Flow::Continue };
        if self.lacks(&tag, rights, Rights::READ, &folder.name) {
            return Flow::Continue;
        }
        // Read-only without any right to change something (RFC 4314 §4).
        let read_only = read_only
            || !rights.any(
                Rights::SEEN
                    .with(Rights::WRITE)
                    .with(Rights::INSERT)
                    .with(Rights::DELETE_MESSAGES)
                    .with(Rights::EXPUNGE),
            );
        let at = crate::store::Access::new(folder.mailbox, user.mailbox);
        // The folder's state, and its messages from the list sessions share when one
        // of that state is held (else from the store).
        let head = match self.ctx.store.imap_folder_head(folder.mailbox, folder.id).await {
            Ok(h) => h,
            Err(e) => return self.store_failed(tag, &e),
        };
        let lists = &self.ctx.imap_lists;
        let key = super::shared::key(at, folder.id);
        let state = match lists.get(key, head.highest_modseq, head.uidnext, head.messages) {
            Some(messages) => super::session::SharedState {
                folder: head.folder,
                uidnext: head.uidnext,
                highest_modseq: head.highest_modseq,
                recent_from: head.recent_from,
                messages,
            },
            None => match self.ctx.store.imap_folder_state(at, folder.id).await {
                Ok(s) => super::session::SharedState {
                    messages: lists.share(key, s.highest_modseq, s.uidnext, s.messages),
                    folder: s.folder,
                    uidnext: s.uidnext,
                    highest_modseq: s.highest_modseq,
                    recent_from: s.recent_from,
                },
                Err(e) => return self.store_failed(tag, &e),
            },
        };
        let keywords: std::collections::BTreeSet<String> =
            state.messages.iter().flat_map(ImapMessage::keyword_list).map(str::to_owned).collect();
        let (flags, permanent) = folder_flags(&keywords, read_only);
        self.data(Data::Flags(flags));
        self.data(Data::Exists(u32::try_from(state.messages.len()).unwrap_or(u32::MAX)));
        // SELECT takes what no session has seen as \Recent yet; EXAMINE shows it and
        // leaves it for the next SELECT.
        // (Nothing to claim, no write: a SELECT of a folder without new mail stays a read.)
        // IMAP4rev2 has no \Recent: its sessions leave it to the rev1 ones.
        let recent = if self.rev2 {
            0..0
        } else if read_only || state.recent_from >= state.uidnext {
            state.recent_from..state.uidnext
        } else {
            match self.ctx.store.imap_claim_recent(folder.mailbox, folder.id).await {
                Ok((from, to)) => from..to,
                Err(e) => return self.store_failed(tag, &e),
            }
        };
        let recent_count = state.messages.iter().filter(|m| recent.contains(&m.uid)).count();
        if !self.rev2 {
            self.data(Data::Recent(u32::try_from(recent_count).unwrap_or(u32::MAX)));
        }
        if let Some(first) = state.messages.iter().position(|m| m.flags & flags::SEEN == 0)
            && !self.rev2
        {
            self.untagged_ok(Some(Code::Unseen(nz(u32::try_from(first + 1).unwrap_or(u32::MAX)))), "First unseen");
        }
        self.untagged_ok(Some(Code::PermanentFlags(permanent)), "Flags permitted");
        self.untagged_ok(Some(Code::UidValidity(nz(u32::try_from(folder.id).unwrap_or(u32::MAX)))), "UIDs valid");
        self.untagged_ok(Some(Code::UidNext(nz(state.uidnext))), "Predicted next UID");
        self.untagged_ok(Some(Code::HighestModSeq(nz64(state.highest_modseq))), "Highest");
        let id = Code::Other(CodeOther::unvalidated(format!("MAILBOXID (F{})", folder.id).into_bytes()));
        self.untagged_ok(Some(id), "Ok");
        let selected = Selected {
            // As the user names it (another's under Other Users).
            folder: Folder { name: folder.name, ..state.folder },
            read_only,
            messages: state.messages,
            uidnext: state.uidnext,
            highest_modseq: state.highest_modseq,
            keywords,
            recent: if recent.is_empty() { Vec::new() } else { vec![recent] },
            saved: Vec::new(),
            updates: Vec::new(),
            rights,
            rights_epoch,
        };
        // QRESYNC (RFC 7162 §3.2.5): what the client's copy lacks, when it is of this
        // UIDVALIDITY: the UIDs gone, and the messages changed since its mod-sequence.
        if let Some((validity, since, known)) = resync
            && i64::from(validity) == selected.folder.id
        {
            let known = known.unwrap_or_else(|| SequenceSet::from(..));
            let gone = super::expunge::vanished_uids(&known, &selected);
            if let Ok(known_uids) = SequenceSet::try_from(gone.as_str()) {
                self.data(Data::Vanished { earlier: true, known_uids });
            }
            for (i, m) in selected.messages.iter().enumerate().filter(|(_, m)| m.modseq > since) {
                let recent = selected.is_recent(m.uid);
                let items = vec![
                    MessageDataItem::Uid(nz(m.uid)),
                    MessageDataItem::Flags(super::session::flag_list(m, recent)),
                    MessageDataItem::ModSeq(nz64(m.modseq)),
                ];
                if let Ok(items) = Vec1::try_from(items) {
                    self.data(Data::Fetch { seq: nz(u32::try_from(i + 1).unwrap_or(u32::MAX)), items });
                }
            }
        }
        self.state = State::Selected(user, Box::new(selected));
        self.dirty = false;
        if read_only {
            self.ok(tag, Some(Code::ReadOnly), "EXAMINE completed");
        } else {
            self.ok(tag, Some(Code::ReadWrite), "SELECT completed");
        }
        Flow::Continue
    }
}
