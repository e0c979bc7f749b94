//! The selected state: FETCH, STORE, SEARCH, SORT, THREAD, COPY and MOVE.
//! EXPUNGE, CLOSE and UNSELECT, which take messages away, are in `expunge.rs`.

use std::collections::HashMap;

use imap_next::imap_types::IntoStatic;
use imap_next::imap_types::command::{FetchModifier, StoreModifier};
use imap_next::imap_types::core::{Tag, Vec1, Vec2};
use imap_next::imap_types::datetime::DateTime;
use imap_next::imap_types::extensions::sort::SortCriterion;
use imap_next::imap_types::extensions::thread::{Thread, ThreadingAlgorithm};
use imap_next::imap_types::extensions::uidplus::{UidElement, UidSet};
use imap_next::imap_types::fetch::{MacroOrMessageDataItemNames, MessageDataItem, MessageDataItemName, Section};
use imap_next::imap_types::flag::{Flag, StoreResponse, StoreType};
use imap_next::imap_types::mailbox::Mailbox;
use imap_next::imap_types::response::{Code, Data};
use imap_next::imap_types::search::SearchKey;
use imap_next::imap_types::sequence::SequenceSet;

use super::folders::flags_of;
use super::search::Needs;
use super::session::{Flow, Session, State, flag_list, nz, nz64};
use super::{fetch, mime, search, sequence, sort};
use crate::message::SearchFields;
use crate::store::imap::flags;
use crate::store::{FlagChange, FlagUpdate, ImapMessage};
use mailroom_shared::rights::Rights;

/// How many messages one store read fetches: whole messages may be large, headers are
/// small.
fn batch(needs: Needs) -> usize {
    if needs == Needs::Everything { 64 } else { 1024 }
}

/// A thread as the THREAD response writes it: a chain of single replies is one list
/// (`(1 2 3)`), a message with several replies lists each in parentheses
/// (`(1 (2)(3))`), and a placeholder with several is just their lists (`((1)(2))`).
fn thread(node: sort::Node) -> Option<Thread> {
    let mut prefix = Vec::new();
    let mut node = node;
    loop {
        match node.message {
            Some(m) => prefix.push(nz(m)),
            None if prefix.is_empty() && node.children.len() == 1 => {}
            None => break,
        }
        if node.children.len() == 1 {
            node = node.children.into_iter().next()?;
        } else {
            break;
        }
    }
    let answers: Vec<Thread> = node.children.into_iter().filter_map(thread).collect();
    let answers = Vec2::try_from(answers).ok();
    match Vec1::try_from(prefix) {
        Ok(prefix) => Some(Thread::Members { prefix, answers }),
        Err(_) => answers.map(|answers| Thread::Nested { answers }),
    }
}

/// A UID set for a response code.
fn uid_set(uids: Vec<u32>) -> Option<UidSet> {
    let elements: Vec<UidElement> = sequence::uid_ranges(uids)
        .into_iter()
        .map(|(a, b)| if a == b { UidElement::Single(nz(a)) } else { UidElement::Range(nz(a), nz(b)) })
        .collect();
    Vec1::try_from(elements).ok().map(UidSet)
}

/// An INTERNALDATE.
fn internal_date(secs: i64) -> Option<DateTime> {
    let d = chrono::DateTime::from_timestamp(secs, 0)?.fixed_offset();
    DateTime::try_from(d).ok()
}

/// What the items need to read of each message: nothing beyond the store's list, the
/// header (read without the body), or everything.
fn needs(items: &[MessageDataItemName<'_>]) -> Needs {
    items
        .iter()
        .map(|i| match i {
            MessageDataItemName::Flags
            | MessageDataItemName::Uid
            | MessageDataItemName::InternalDate
            | MessageDataItemName::Rfc822Size
            | MessageDataItemName::ModSeq => Needs::Nothing,
            MessageDataItemName::Envelope | MessageDataItemName::Rfc822Header => Needs::Header,
            MessageDataItemName::BodyExt {
                section:
                    Some(Section::Header(None) | Section::HeaderFields(None, _) | Section::HeaderFieldsNot(None, _)),
                ..
            } => Needs::Header,
            _ => Needs::Everything,
        })
        .max()
        .unwrap_or(Needs::Nothing)
}

/// Whether the items need the message's MIME structure (not for the whole message).
fn needs_structure(items: &[MessageDataItemName<'_>]) -> bool {
    items.iter().any(|i| {
        !matches!(
            i,
            MessageDataItemName::Flags
                | MessageDataItemName::Uid
                | MessageDataItemName::InternalDate
                | MessageDataItemName::Rfc822Size
                | MessageDataItemName::ModSeq
                | MessageDataItemName::Rfc822
                | MessageDataItemName::BodyExt { section: None, .. }
        )
    })
}

impl<S: crate::tls::Transport> Session<S> {
    /// The bytes `needs` asks for of `ids` (none for [`Needs::Nothing`] and
    /// [`Needs::Fields`], which are not bytes).
    pub(super) async fn read(
        &self,
        needs: Needs,
        ids: Vec<i64>,
    ) -> crate::store::StoreResult<std::collections::HashMap<i64, Vec<u8>>> {
        Ok(match needs {
            Needs::Nothing | Needs::Fields => std::collections::HashMap::new(),
            Needs::Header => self.ctx.store.messages_headers(ids).await?.into_iter().collect(),
            Needs::Everything => self.ctx.store.messages_content(ids).await?.into_iter().collect(),
        })
    }
}

/// The system flags `rights` allow changing: `\Seen` with `s`, `\Deleted` with `t`,
/// the others with `w` (RFC 4314 §4).
pub(super) fn permitted_flags(rights: Rights) -> u8 {
    let mut out = 0;
    if rights.has(Rights::SEEN) {
        out |= flags::SEEN;
    }
    if rights.has(Rights::DELETE_MESSAGES) {
        out |= flags::DELETED;
    }
    if rights.has(Rights::WRITE) {
        out |= flags::ANSWERED | flags::FLAGGED | flags::DRAFT;
    }
    out
}

/// Whether the items mark the message `\Seen` (a non-PEEK body section).
fn sets_seen(items: &[MessageDataItemName<'_>]) -> bool {
    items.iter().any(|i| {
        matches!(
            i,
            MessageDataItemName::BodyExt { peek: false, .. }
                | MessageDataItemName::Binary { peek: false, .. }
                | MessageDataItemName::Rfc822
                | MessageDataItemName::Rfc822Text
        )
    })
}

impl<S: crate::tls::Transport> Session<S> {
    /// Whose the selected folder is and who reads it, and the folder, for the commands
    /// of this file.
    pub(super) fn selected(&self) -> Option<(crate::store::Access, &super::session::Selected)> {
        match &self.state {
            State::Selected(user, sel) => Some((crate::store::Access::new(sel.folder.mailbox, user.mailbox), sel)),
            _ => None,
        }
    }

    /// FETCH and UID FETCH.
    pub(super) async fn fetch(
        &mut self,
        tag: Tag<'static>,
        set: SequenceSet,
        names: MacroOrMessageDataItemNames<'static>,
        uid: bool,
        modifiers: Vec<FetchModifier>,
    ) -> Flow {
        let objects_asked = std::mem::take(&mut self.object_items);
        let mut items = match names {
            MacroOrMessageDataItemNames::Macro(m) => m.expand().into_iter().map(|i| i.into_static()).collect(),
            MacroOrMessageDataItemNames::MessageDataItemNames(items) => items,
        };
        let changed_since = modifiers.iter().find_map(|m| match m {
            FetchModifier::ChangedSince(n) => Some(n.get()),
            FetchModifier::Vanished => None,
        });
        let vanished = modifiers.contains(&FetchModifier::Vanished);
        // RFC 7162 §3.2.6: VANISHED needs QRESYNC, a UID FETCH and CHANGEDSINCE.
        if vanished && !(self.qresync && uid && changed_since.is_some()) {
            self.bad(tag, "VANISHED needs ENABLE QRESYNC, UID FETCH and CHANGEDSINCE");
            return Flow::Continue;
        }
        if changed_since.is_some() || items.contains(&MessageDataItemName::ModSeq) {
            self.enable_condstore();
        }
        if uid && !items.contains(&MessageDataItemName::Uid) {
            items.push(MessageDataItemName::Uid);
        }
        // Once CONDSTORE is on, every FETCH response carries MODSEQ (RFC 7162 §3.1.4.1).
        if self.condstore && !items.contains(&MessageDataItemName::ModSeq) {
            items.push(MessageDataItemName::ModSeq);
        }
        let Some((_, sel)) = self.selected() else { return Flow::Continue };
        if !uid && sequence::out_of_range(&set, u32::try_from(sel.messages.len()).unwrap_or(u32::MAX)) {
            self.bad(tag, "Message number out of range");
            return Flow::Continue;
        }
        if vanished {
            // The UIDs asked for that are gone (RFC 7162 §3.2.6): as no expunged UID is
            // kept with its mod-sequence, every one below UIDNEXT that is not here.
            let gone = super::expunge::vanished_uids(&set, sel);
            if let Ok(known_uids) = SequenceSet::try_from(gone.as_str()) {
                self.data(Data::Vanished { earlier: true, known_uids });
            }
        }
        let Some((mailbox, sel)) = self.selected() else { return Flow::Continue };
        // Reading marks \Seen only where the user may keep it (RFC 4314's `s`).
        let read_only = sel.read_only || !sel.rights.has(Rights::SEEN);
        let chosen: Vec<(u32, ImapMessage)> = sel
            .select(&set, uid)
            .into_iter()
            .filter(|(_, m)| changed_since.is_none_or(|since| m.modseq > since))
            .map(|(n, m)| (n, m.clone()))
            .collect();
        let folder = sel.folder.id;
        // Marking \Seen first, so that FETCH reports the flags the message now has.
        let mut seen_now: std::collections::HashMap<i64, ImapMessage> = std::collections::HashMap::new();
        if sets_seen(&items) && !read_only {
            let unseen: Vec<i64> =
                chosen.iter().filter(|(_, m)| m.flags & flags::SEEN == 0).map(|(_, m)| m.id).collect();
            if !unseen.is_empty() {
                let update = FlagUpdate {
                    change: FlagChange::Add,
                    flags: flags::SEEN,
                    keywords: Vec::new(),
                    unchanged_since: None,
                    within: None,
                };
                match self.ctx.store.imap_store(mailbox, folder, unseen, update).await {
                    Ok(stored) => {
                        for m in stored.messages {
                            seen_now.insert(m.id, m);
                        }
                    }
                    Err(e) => return self.store_failed(tag, &e),
                }
                if !items.contains(&MessageDataItemName::Flags) {
                    items.push(MessageDataItemName::Flags);
                }
            }
        }
        if let State::Selected(_, sel) = &mut self.state {
            for m in std::sync::Arc::make_mut(&mut sel.messages).iter_mut() {
                if let Some(n) = seen_now.get(&m.id) {
                    *m = n.clone();
                }
            }
        }
        // OBJECTID's and SAVEDATE's answers, for the messages chosen.
        let mut objects = std::collections::HashMap::new();
        if objects_asked.emailid || objects_asked.savedate {
            let ids = chosen.iter().map(|(_, m)| m.id).collect();
            match self.ctx.store.imap_objects(mailbox.mailbox, folder, Some(ids)).await {
                Ok(found) => objects.extend(found.into_iter().map(|o| (o.id, o))),
                Err(e) => return self.store_failed(tag, &e),
            }
        }
        let reads = needs(&items);
        let structured = needs_structure(&items);
        for batch in chosen.chunks(batch(reads)) {
            let contents = match self.read(reads, batch.iter().map(|(_, m)| m.id).collect()).await {
                Ok(c) => c,
                Err(e) => return self.store_failed(tag, &e),
            };
            for (n, m) in batch {
                let m = seen_now.get(&m.id).unwrap_or(m);
                let raw = contents.get(&m.id).map(Vec::as_slice);
                if reads != Needs::Nothing && raw.is_none() {
                    // Expunged by someone else since: nothing to send (RFC 9051 §7.5.1).
                    continue;
                }
                let out = match self.items(&items, structured, m, raw) {
                    Ok(out) => out,
                    Err(encoding) => {
                        let why = format!("Cannot decode a part's {encoding} transfer encoding");
                        self.no(tag, Some(Code::Other(super::code("UNKNOWN-CTE"))), &why);
                        return Flow::Continue;
                    }
                };
                for item in &out {
                    if let MessageDataItem::Binary { section, .. } = item {
                        let origin = items.iter().find_map(|name| match name {
                            MessageDataItemName::Binary { section: s, partial, .. } if s == section => {
                                Some(partial.map(|(origin, _)| origin))
                            }
                            _ => None,
                        });
                        self.binary_origins.push_back(origin.flatten());
                    }
                }
                if objects_asked.any() {
                    let mut out = out;
                    if objects_asked.stand_in && !uid {
                        out.retain(|i| !matches!(i, MessageDataItem::Uid(_)));
                    }
                    let o = objects.get(&m.id);
                    let extra =
                        super::objectid::fetch_items(objects_asked, o.map(|o| o.content), o.and_then(|o| o.saved_at));
                    let line = match Vec1::try_from(out) {
                        Ok(items) => super::objectid::spliced(Data::Fetch { seq: nz(*n), items }, &extra),
                        Err(_) => format!("* {n} FETCH ({})\r\n", extra.trim_start()).into_bytes(),
                    };
                    let line = super::session::with_origins(line, &mut self.binary_origins);
                    self.raw(line);
                } else if let Ok(out) = Vec1::try_from(out) {
                    self.data(Data::Fetch { seq: nz(*n), items: out });
                }
            }
            // Sent as it goes: a large FETCH is never held whole.
            if !self.pump().await {
                return Flow::Close;
            }
        }
        self.ok(tag, None, if uid { "UID FETCH completed" } else { "FETCH completed" });
        Flow::Continue
    }

    /// The FETCH items of one message; `structured` says whether they need its MIME
    /// structure (worked out once per command, not per message).
    fn items(
        &self,
        names: &[MessageDataItemName<'static>],
        structured: bool,
        m: &ImapMessage,
        raw: Option<&[u8]>,
    ) -> Result<Vec<MessageDataItem<'static>>, String> {
        let structure = raw.filter(|_| structured).map(mime::parse);
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let item = match (name, raw, &structure) {
                (MessageDataItemName::Flags, ..) => MessageDataItem::Flags(flag_list(m, self.is_recent(m.uid))),
                (MessageDataItemName::Uid, ..) => MessageDataItem::Uid(nz(m.uid)),
                (MessageDataItemName::ModSeq, ..) => MessageDataItem::ModSeq(nz64(m.modseq)),
                (MessageDataItemName::Rfc822Size, ..) => {
                    MessageDataItem::Rfc822Size(u32::try_from(m.size).unwrap_or(u32::MAX))
                }
                (MessageDataItemName::InternalDate, ..) => match internal_date(m.received_at) {
                    Some(d) => MessageDataItem::InternalDate(d),
                    None => continue,
                },
                (MessageDataItemName::Envelope, Some(raw), Some(s)) => {
                    MessageDataItem::Envelope(fetch::envelope(&raw[s.header.clone()]))
                }
                (MessageDataItemName::BodyStructure, Some(raw), Some(s)) => {
                    MessageDataItem::BodyStructure(fetch::body_structure(raw, s))
                }
                (MessageDataItemName::Body, Some(raw), Some(s)) => MessageDataItem::Body(fetch::body_structure(raw, s)),
                (MessageDataItemName::BodyExt { section: None, partial, .. }, Some(raw), _) => {
                    MessageDataItem::BodyExt {
                        section: None,
                        origin: partial.map(|(start, _)| start),
                        data: fetch::data_owned(fetch::partial(raw.to_vec(), *partial)),
                    }
                }
                (MessageDataItemName::BodyExt { section, partial, .. }, Some(raw), Some(s)) => {
                    let bytes = fetch::section(raw, s, section.as_ref()).unwrap_or_default();
                    MessageDataItem::BodyExt {
                        section: section.clone(),
                        origin: partial.map(|(start, _)| start),
                        data: fetch::data_owned(fetch::partial(bytes, *partial)),
                    }
                }
                (MessageDataItemName::Binary { section, partial, .. }, Some(raw), Some(s)) => {
                    // A part that is not there is left out; one in an encoding we
                    // cannot undo refuses the FETCH (RFC 3516 §4.2).
                    let Some(bytes) = fetch::binary(raw, s, section) else { continue };
                    let bytes = bytes?;
                    MessageDataItem::Binary {
                        section: section.clone(),
                        value: fetch::data8(fetch::partial(bytes, *partial)),
                    }
                }
                (MessageDataItemName::BinarySize { section }, Some(raw), Some(s)) => {
                    let Some(bytes) = fetch::binary(raw, s, section) else { continue };
                    let bytes = bytes?;
                    MessageDataItem::BinarySize {
                        section: section.clone(),
                        size: u32::try_from(bytes.len()).unwrap_or(u32::MAX),
                    }
                }
                (MessageDataItemName::Rfc822, Some(raw), _) => MessageDataItem::Rfc822(fetch::data_owned(raw.to_vec())),
                (MessageDataItemName::Rfc822Header, Some(raw), Some(s)) => {
                    MessageDataItem::Rfc822Header(fetch::data(&raw[s.header.clone()]))
                }
                (MessageDataItemName::Rfc822Text, Some(raw), Some(s)) => {
                    MessageDataItem::Rfc822Text(fetch::data(&raw[s.body.clone()]))
                }
                _ => continue,
            };
            out.push(item);
        }
        Ok(out)
    }

    /// STORE and UID STORE.
    #[expect(clippy::too_many_arguments, reason = "STORE's parts as imap-types gives them, one by one")]
    pub(super) async fn store(
        &mut self,
        tag: Tag<'static>,
        set: SequenceSet,
        kind: StoreType,
        response: StoreResponse,
        given: Vec<Flag<'static>>,
        uid: bool,
        modifiers: Vec<StoreModifier>,
    ) -> Flow {
        let unchanged_since = modifiers.iter().map(|StoreModifier::UnchangedSince(n)| *n).next();
        if unchanged_since.is_some() {
            self.enable_condstore();
        }
        let Some((mailbox, sel)) = self.selected() else { return Flow::Continue };
        if sel.read_only {
            self.no(tag, Some(Code::Other(super::code("CANNOT"))), "The folder is open read-only (EXAMINE)");
            return Flow::Continue;
        }
        if !uid && sequence::out_of_range(&set, u32::try_from(sel.messages.len()).unwrap_or(u32::MAX)) {
            self.bad(tag, "Message number out of range");
            return Flow::Continue;
        }
        let chosen: Vec<(u32, i64)> = sel.select(&set, uid).into_iter().map(|(n, m)| (n, m.id)).collect();
        let folder = sel.folder.id;
        let (bits, keywords) = flags_of(&given);
        // Only the flags the user may change (RFC 4314 §4): `s` for \Seen, `t` for
        // \Deleted, `w` for the rest; refused when none of those asked may change.
        let rights = sel.rights;
        let within = (rights != Rights::ALL_IMAP).then(|| (permitted_flags(rights), rights.has(Rights::WRITE)));
        if let Some((allowed, keywords_allowed)) = within {
            let asked = bits != 0 || !keywords.is_empty();
            let some_allowed = bits & allowed != 0 || (keywords_allowed && !keywords.is_empty());
            if asked && !some_allowed {
                let name = sel.folder.name.clone();
                let why = format!("You do not have the right to change these flags in {name}");
                self.no(tag, Some(Code::Other(super::code("NOPERM"))), &why);
                return Flow::Continue;
            }
        }
        let change = match kind {
            StoreType::Add => FlagChange::Add,
            StoreType::Remove => FlagChange::Remove,
            StoreType::Replace => FlagChange::Replace,
        };
        let update = FlagUpdate { change, flags: bits, keywords, unchanged_since, within };
        let stored = match self
            .ctx
            .store
            .imap_store(mailbox, folder, chosen.iter().map(|(_, id)| *id).collect(), update)
            .await
        {
            Ok(s) => s,
            Err(e) => return self.store_failed(tag, &e),
        };
        let numbers: std::collections::HashMap<i64, u32> = chosen.iter().map(|(n, id)| (*id, *n)).collect();
        let mut modified_numbers = Vec::new();
        if let State::Selected(_, sel) = &mut self.state {
            for m in &stored.messages {
                // In UID order, as the folder's list is.
                if let Ok(i) = sel.messages.binary_search_by_key(&m.uid, |x| x.uid) {
                    std::sync::Arc::make_mut(&mut sel.messages)[i] = m.clone();
                }
            }
            for id in &stored.modified {
                if let Some(m) = sel.messages.iter().find(|x| x.id == *id) {
                    modified_numbers.push(if uid { m.uid } else { numbers.get(id).copied().unwrap_or(0) });
                }
            }
        }
        // The flags shown are the store's: keywords another session set are in them too.
        let announced = stored.messages.iter().flat_map(ImapMessage::keyword_list).map(str::to_owned).collect();
        self.announce_keywords(announced);
        let silent = matches!(response, StoreResponse::Silent);
        for m in &stored.messages {
            // Silent still reports MODSEQ to a CONDSTORE client (RFC 7162 §3.2).
            if silent && !self.condstore {
                continue;
            }
            let mut items = Vec::new();
            if !silent {
                items.push(MessageDataItem::Flags(flag_list(m, self.is_recent(m.uid))));
            }
            if uid {
                items.push(MessageDataItem::Uid(nz(m.uid)));
            }
            if self.condstore {
                items.push(MessageDataItem::ModSeq(nz64(m.modseq)));
            }
            if let (Ok(items), Some(n)) = (Vec1::try_from(items), numbers.get(&m.id)) {
                self.data(Data::Fetch { seq: nz(*n), items });
            }
        }
        let code = match SequenceSet::try_from(
            modified_numbers.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(",").as_str(),
        ) {
            Ok(set) if !modified_numbers.is_empty() => Some(Code::Modified(set)),
            _ => None,
        };
        if code.is_some() {
            self.ok(tag, code, "Some messages were changed by someone else and were left as they are");
        } else {
            self.ok(tag, None, if uid { "UID STORE completed" } else { "STORE completed" });
        }
        Flow::Continue
    }

    /// The messages of the selected folder that match `keys`, with their numbers, in
    /// folder order.
    pub(super) async fn matching(
        &mut self,
        keys: &[SearchKey<'static>],
    ) -> crate::store::StoreResult<Vec<(u32, ImapMessage)>> {
        let Some((mailbox, sel)) = self.selected() else { return Ok(Vec::new()) };
        let largest = (u32::try_from(sel.messages.len()).unwrap_or(u32::MAX), sel.messages.last().map_or(0, |m| m.uid));
        let messages = std::sync::Arc::clone(&sel.messages);
        let recent = sel.recent.clone();
        let folder = sel.folder.id;
        let reads = search::needs(keys);
        // Searchable fields or header fields only: those of the whole folder in one
        // read, filtered by the store on what every match must contain.
        let mut folder_fields = None;
        let mut folder_headers = None;
        match reads {
            Needs::Fields => {
                let f = self.ctx.store.imap_folder_fields(mailbox.mailbox, folder, search::field_filters(keys)).await?;
                folder_fields = Some(f.into_iter().collect::<HashMap<i64, SearchFields>>());
            }
            Needs::Header => {
                let h = self.ctx.store.imap_folder_headers(mailbox.mailbox, folder, search::header_words(keys)).await?;
                folder_headers = Some(h.into_iter().collect::<HashMap<i64, Vec<u8>>>());
            }
            Needs::Nothing | Needs::Everything => {}
        }
        let mut found = Vec::new();
        let size = batch(reads);
        for (i, batch) in messages.chunks(size).enumerate() {
            let contents = match (&folder_headers, &folder_fields) {
                (None, None) => self.read(reads, batch.iter().map(|m| m.id).collect()).await?,
                _ => HashMap::new(),
            };
            let contents = folder_headers.as_ref().unwrap_or(&contents);
            for (j, m) in batch.iter().enumerate() {
                let number = u32::try_from(i * size + j + 1).unwrap_or(u32::MAX);
                let fields = match &folder_fields {
                    Some(all) => match all.get(&m.id) {
                        Some(f) => Some(f),
                        // Left out by the store's filter: it cannot match.
                        None => continue,
                    },
                    None => None,
                };
                let c = search::Candidate::new(number, m, contents.get(&m.id).map(Vec::as_slice), largest)
                    .with_fields(fields)
                    .recent(recent.iter().any(|r| r.contains(&m.uid)));
                if search::matches(keys, &c) {
                    found.push((number, m.clone()));
                }
            }
        }
        Ok(found)
    }

    /// SEARCH and UID SEARCH.
    pub(super) async fn search(&mut self, tag: Tag<'static>, criteria: Vec1<SearchKey<'static>>, uid: bool) -> Flow {
        let keys = criteria.into_inner();
        let found = match self.matching(&keys).await {
            Ok(found) => found,
            Err(e) => return self.store_failed(tag, &e),
        };
        let modseq_key = keys_have_modseq(&keys);
        let highest = found.iter().map(|(_, m)| m.modseq).max();
        let modseq = highest.filter(|_| modseq_key).map(nz64);
        if modseq_key {
            self.enable_condstore();
        }
        let found = found.into_iter().map(|(n, m)| nz(if uid { m.uid } else { n })).collect();
        self.data(Data::Search(found, modseq));
        self.ok(tag, None, if uid { "UID SEARCH completed" } else { "SEARCH completed" });
        Flow::Continue
    }

    /// The sort and thread keys of the messages matching `keys`, each answered by its
    /// UID when `uid`.
    pub(super) async fn sort_keys(
        &mut self,
        keys: &[SearchKey<'static>],
        uid: bool,
    ) -> crate::store::StoreResult<Vec<sort::Keys>> {
        let found = self.matching(keys).await?;
        let ids: Vec<i64> = found.iter().map(|(_, m)| m.id).collect();
        // Each header is parsed once and kept; only those not seen before are read.
        let mut known = sort::HeaderKeys::cached(&ids);
        let missing: Vec<i64> = ids.into_iter().filter(|id| !known.contains_key(id)).collect();
        if !missing.is_empty() {
            for (id, header) in self.ctx.store.messages_headers(missing).await? {
                known.insert(id, sort::HeaderKeys::read(id, &header));
            }
        }
        Ok(found
            .iter()
            .map(|(n, m)| {
                let h = known.get(&m.id).cloned().unwrap_or_default();
                sort::Keys::new(*n, if uid { m.uid } else { *n }, m.received_at, m.size, h)
            })
            .collect())
    }

    /// SORT and UID SORT (RFC 5256, RFC 5957).
    pub(super) async fn sort(
        &mut self,
        tag: Tag<'static>,
        criteria: Vec1<SortCriterion>,
        search: Vec1<SearchKey<'static>>,
        uid: bool,
    ) -> Flow {
        let keys = match self.sort_keys(search.as_ref(), uid).await {
            Ok(keys) => keys,
            Err(e) => return self.store_failed(tag, &e),
        };
        let sorted = sort::sort(keys, criteria.as_ref()).into_iter().map(nz).collect();
        self.data(Data::Sort(sorted, None));
        self.ok(tag, None, if uid { "UID SORT completed" } else { "SORT completed" });
        Flow::Continue
    }

    /// THREAD and UID THREAD (RFC 5256): ORDEREDSUBJECT and REFERENCES.
    pub(super) async fn thread(
        &mut self,
        tag: Tag<'static>,
        algorithm: ThreadingAlgorithm<'static>,
        search: Vec1<SearchKey<'static>>,
        uid: bool,
    ) -> Flow {
        let by_references = match &algorithm {
            ThreadingAlgorithm::References => true,
            ThreadingAlgorithm::OrderedSubject => false,
            ThreadingAlgorithm::Other(other) => {
                self.bad(tag, &format!("Unknown threading algorithm {}", other.as_ref()));
                return Flow::Continue;
            }
        };
        let keys = match self.sort_keys(search.as_ref(), uid).await {
            Ok(keys) => keys,
            Err(e) => return self.store_failed(tag, &e),
        };
        let nodes = if by_references { sort::references(keys) } else { sort::ordered_subject(keys) };
        self.data(Data::Thread(nodes.into_iter().filter_map(thread).collect()));
        self.ok(tag, None, if uid { "UID THREAD completed" } else { "THREAD completed" });
        Flow::Continue
    }

    /// COPY and MOVE (RFC 6851), with COPYUID (RFC 4315).
    pub(super) async fn copy(
        &mut self,
        tag: Tag<'static>,
        set: SequenceSet,
        to: Mailbox<'static>,
        uid: bool,
        moving: bool,
    ) -> Flow {
        let Some(user) = self.user() else { return Flow::Continue };
        let Some((_, sel)) = self.selected() else { return Flow::Continue };
        let (rights, name) = (sel.rights, sel.folder.name.clone());
        // A move takes the messages away: `t` and `e` on the source (RFC 6851 §3.3).
        if moving
            && (self.lacks(&tag, rights, Rights::DELETE_MESSAGES, &name)
                || self.lacks(&tag, rights, Rights::EXPUNGE, &name))
        {
            return Flow::Continue;
        }
        let Some((mailbox, sel)) = self.selected() else { return Flow::Continue };
        if moving && sel.read_only {
            self.no(tag, Some(Code::Other(super::code("CANNOT"))), "The folder is open read-only (EXAMINE)");
            return Flow::Continue;
        }
        if !uid && sequence::out_of_range(&set, u32::try_from(sel.messages.len()).unwrap_or(u32::MAX)) {
            self.bad(tag, "Message number out of range");
            return Flow::Continue;
        }
        let ids: Vec<i64> = sel.select(&set, uid).into_iter().map(|(_, m)| m.id).collect();
        let from = sel.folder.id;
        let wanted = super::names::folder_name(&to);
        let target = match self.reachable(&user, super::acl::is_shared_name(&wanted)).await {
            Ok(f) => f.into_iter().find(|(f, _)| f.name == wanted),
            Err(e) => return self.store_failed(tag, &e),
        };
        let Some((target, target_rights)) = target else {
            self.no(tag, Some(Code::TryCreate), &format!("There is no folder named {wanted}"));
            return Flow::Continue;
        };
        if self.lacks(&tag, target_rights, Rights::INSERT, &target.name) {
            return Flow::Continue;
        }
        let copied = self.ctx.store.imap_copy(mailbox, from, ids, (target.mailbox, target.id), moving).await;
        let (validity, pairs) = match copied {
            Ok(r) => r,
            Err(e) => return self.store_failed(tag, &e),
        };
        let code = match (uid_set(pairs.iter().map(|p| p.0).collect()), uid_set(pairs.iter().map(|p| p.1).collect())) {
            (Some(source), Some(destination)) => {
                Some(Code::CopyUid { uid_validity: nz(validity), source, destination })
            }
            _ => None,
        };
        if moving {
            // The COPYUID goes first, untagged; then the expunges (RFC 6851 §4.3).
            if let Some(code) = code {
                self.untagged_ok(Some(code), "Moved");
            }
            let moved: std::collections::HashSet<u32> = pairs.iter().map(|p| p.0).collect();
            self.expunged(|m| moved.contains(&m.uid));
            self.ok(tag, None, if uid { "UID MOVE completed" } else { "MOVE completed" });
        } else {
            self.ok(tag, code, if uid { "UID COPY completed" } else { "COPY completed" });
        }
        Flow::Continue
    }
}

/// Whether a MODSEQ search key is among `keys` (the response then carries MODSEQ).
pub(super) fn keys_have_modseq(keys: &[SearchKey<'_>]) -> bool {
    keys.iter().any(|k| match k {
        SearchKey::ModSequence { .. } => true,
        SearchKey::And(ks) => keys_have_modseq(ks.as_ref()),
        SearchKey::Not(k) => keys_have_modseq(std::slice::from_ref(k)),
        SearchKey::Or(a, b) => keys_have_modseq(std::slice::from_ref(a)) || keys_have_modseq(std::slice::from_ref(b)),
        _ => false,
    })
}
