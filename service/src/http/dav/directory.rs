//! The organisation's directory as calendar and contacts programs see it: the people
//! a principal search finds, and the Global Address List, a read-only address book
//! made afresh from the recipients each time (no stored collection holds it), with the
//! collection lookups that put it beside a person's own.

use super::*;

/// The Global Address List's name in every person's address books, and the id it
/// goes by (no stored collection has it).
pub(super) const GAL: &str = "gal";
pub(super) const GAL_ID: i64 = -1;

/// The Global Address List as a collection: its change number a hash of its cards,
/// which changes when any of them does.
pub(super) fn gal_collection(cards: &[DavObject]) -> Collection {
    let mut all = Vec::new();
    for c in cards {
        all.extend_from_slice(c.name.as_bytes());
        all.extend_from_slice(c.etag.as_bytes());
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, &all);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_ref()[..8]);
    Collection {
        id: GAL_ID,
        mailbox: 0,
        kind: DavKind::AddressBook,
        name: GAL.into(),
        display_name: "Global Address List".into(),
        color: String::new(),
        description: "Everyone in the organisation: people, shared mailboxes, lists and custom recipients".into(),
        components: Vec::new(),
        dead: Vec::new(),
        // Never 0 ("from the start").
        sync: (u64::from_be_bytes(first) >> 2).max(1),
        objects: cards.len() as u64,
        bytes: cards.iter().map(|c| c.data.len() as u64).sum(),
    }
}

/// A recipient's card in the Global Address List (vCard 3.0, RFC 2426; a list is a
/// group, as Apple's clients mark one).
pub(super) fn gal_card(address: &str, name: &str, group: bool) -> String {
    let text = |v: &str| v.replace('\\', "\\\\").replace(',', "\\,").replace(';', "\\;").replace(['\r', '\n'], " ");
    let shown = if name.trim().is_empty() { address } else { name.trim() };
    let kind = if group { "X-ADDRESSBOOKSERVER-KIND:group\r\n" } else { "" };
    format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:gal-{uid}\r\nFN:{fn_}\r\nN:{fn_};;;;\r\nEMAIL;TYPE=INTERNET:{address}\r\n{kind}END:VCARD\r\n",
        uid = text(address),
        fn_ = text(shown),
    )
}

/// The scheduling outbox's name (RFC 6638 §2.1), and the id it goes by (it holds
/// nothing: free-busy requests are POSTed to it).
pub(super) const OUTBOX: &str = "outbox";
pub(super) const OUTBOX_ID: i64 = -2;

/// The scheduling outbox as a collection.
pub(super) fn outbox_collection() -> Collection {
    Collection {
        id: OUTBOX_ID,
        mailbox: 0,
        kind: DavKind::Calendar,
        name: OUTBOX.into(),
        display_name: "Scheduling Outbox".into(),
        color: String::new(),
        description: String::new(),
        components: Vec::new(),
        dead: Vec::new(),
        sync: 1,
        objects: 0,
        bytes: 0,
    }
}

/// The name a collection shared by `owner` shows to others: its own, and whose.
pub(super) fn shared_name(c: &Collection, owner: &str) -> String {
    let name = if c.display_name.is_empty() { c.name.as_str() } else { c.display_name.as_str() };
    format!("{name} ({owner})")
}

/// Whether `c` is a scheduling inbox (a calendar collection of messages, not events).
pub(super) fn is_inbox(c: &Collection) -> bool {
    c.kind == DavKind::Calendar && c.name == crate::itip::INBOX
}

/// The answer to a change of the Global Address List, which nobody changes here.
pub(super) fn read_only() -> Answer {
    precondition(StatusCode::FORBIDDEN, DAV, "need-privileges", "")
}

impl Dav<'_> {
    /// The people of the organisation (mailboxes, shared ones included, as rooms and
    /// teams are), as address and name; those whose address or name holds `matching`.
    pub(super) async fn people(&self, matching: Option<&str>) -> crate::store::StoreResult<Vec<(String, String)>> {
        let wanted = matching.map(str::to_lowercase);
        let hidden = self.ctx.store.hidden_addresses().await?;
        Ok(self
            .ctx
            .store
            .list_mailboxes()
            .await?
            .into_iter()
            .filter_map(|m| {
                let address = m.addresses.first().filter(|a| !hidden.contains(*a))?.clone();
                let name = if m.display_name.is_empty() { address.clone() } else { m.display_name.clone() };
                Some((address, name))
            })
            .filter(|(a, n)| {
                wanted.as_ref().is_none_or(|w| a.to_lowercase().contains(w) || n.to_lowercase().contains(w))
            })
            .collect())
    }

    /// DAV:principal-property-search (RFC 3744 §9.4): the people whose properties
    /// searched for hold the text (all of them, without a search).
    pub(super) async fn principal_search(&self, request: &Element) -> crate::store::StoreResult<Answer> {
        let text: Option<String> = request
            .children
            .iter()
            .filter(|e| e.is(DAV, "property-search"))
            .filter_map(|e| e.child(DAV, "match"))
            .map(|m| m.text.trim().to_owned())
            .next();
        // The properties asked for: those under DAV:prop, and any given beside it
        // (as some clients write them), with the two a search needs to be useful.
        let mut props: Vec<Prop> = request
            .children
            .iter()
            .filter(|e| !e.is(DAV, "property-search") && !e.is(DAV, "apply-to-principal-collection-set"))
            .flat_map(|e| if e.is(DAV, "prop") { e.children.iter().collect::<Vec<_>>() } else { vec![e] })
            .map(|e| (e.ns.clone(), e.name.clone()))
            .collect();
        for needed in [(DAV, "displayname"), (CALDAV, "calendar-home-set")] {
            if !props.iter().any(|(ns, n)| ns == needed.0 && n == needed.1) {
                props.push((needed.0.to_owned(), needed.1.to_owned()));
            }
        }
        let wanted = Wanted::Props(props);
        let mut out = xml::root_open("multistatus");
        for (address, name) in self.people(text.as_deref()).await? {
            out.push_str(&self.response(&principal_href(&address), &Resource::Principal(&address, &name), &wanted));
        }
        out.push_str("</d:multistatus>\n");
        Ok(multistatus(out))
    }

    pub(super) async fn collection(&self, kind: DavKind, name: &str) -> crate::store::StoreResult<Option<Collection>> {
        if let Some(shared) = &self.shared {
            return Ok(shared.iter().find(|s| s.collection.kind == kind && s.collection.name == name).map(|s| {
                let mut c = s.collection.clone();
                c.display_name = shared_name(&c, &s.owner);
                c
            }));
        }
        match (kind, name) {
            (DavKind::AddressBook, GAL) => return Ok(Some(gal_collection(&self.gal_cards().await?))),
            (DavKind::Calendar, OUTBOX) => return Ok(Some(outbox_collection())),
            (DavKind::Calendar, crate::itip::INBOX) => {
                return crate::itip::inbox(self.ctx, self.user.mailbox).await.map(Some);
            }
            _ => {}
        }
        self.ctx.store.dav_collection(self.user.mailbox, kind, name).await
    }

    /// A person's collections of `kind`: theirs, and the Global Address List; or
    /// their calendars with the scheduling inbox and outbox.
    pub(super) async fn collections(&self, kind: DavKind) -> crate::store::StoreResult<Vec<Collection>> {
        if let Some(shared) = &self.shared {
            return Ok(shared
                .iter()
                .filter(|s| s.collection.kind == kind)
                .map(|s| {
                    let mut c = s.collection.clone();
                    c.display_name = shared_name(&c, &s.owner);
                    c
                })
                .collect());
        }
        let mut all = self.ctx.store.dav_collections(self.user.mailbox, kind).await?;
        match kind {
            DavKind::AddressBook => all.push(gal_collection(&self.gal_cards().await?)),
            DavKind::Calendar => {
                if !all.iter().any(is_inbox) {
                    all.push(crate::itip::inbox(self.ctx, self.user.mailbox).await?);
                }
                all.push(outbox_collection());
            }
        }
        Ok(all)
    }

    /// The objects of `c`, without their bytes.
    pub(super) async fn objects(&self, c: &Collection) -> crate::store::StoreResult<Vec<ObjectInfo>> {
        if c.id == OUTBOX_ID {
            return Ok(Vec::new());
        }
        if c.id == GAL_ID {
            let cards = self.gal_cards().await?;
            return Ok(cards.into_iter().map(|o| ObjectInfo { name: o.name, etag: o.etag, sync: c.sync }).collect());
        }
        self.ctx.store.dav_objects(c.id).await
    }

    /// The objects of `c` named `names`, with their bytes.
    pub(super) async fn get_objects(
        &self,
        c: &Collection,
        names: Vec<String>,
    ) -> crate::store::StoreResult<Vec<DavObject>> {
        if c.id == OUTBOX_ID {
            return Ok(Vec::new());
        }
        if c.id == GAL_ID {
            return Ok(self.gal_cards().await?.into_iter().filter(|o| names.contains(&o.name)).collect());
        }
        self.ctx.store.dav_get(c.id, names).await
    }

    /// What changed in `c` since `since`. The Global Address List, made afresh each
    /// time, knows only its present: asked since another state, it sends the client
    /// to sync from the start (`Invalid`, answered as `valid-sync-token`).
    pub(super) async fn changes(
        &self,
        c: &Collection,
        since: u64,
    ) -> crate::store::StoreResult<crate::store::dav::Changes> {
        if c.id == OUTBOX_ID {
            return Ok(crate::store::dav::Changes { token: c.sync, changed: Vec::new(), removed: Vec::new() });
        }
        if c.id == GAL_ID {
            let changed = if since == 0 {
                self.objects(c).await?
            } else if since == c.sync {
                Vec::new()
            } else {
                return Err(crate::store::StoreError::Invalid {
                    field: "sync-token".into(),
                    message: "the address list has changed since".into(),
                });
            };
            return Ok(crate::store::dav::Changes { token: c.sync, changed, removed: Vec::new() });
        }
        self.ctx.store.dav_changes(c.id, since).await
    }

    /// The Global Address List's cards: every mailbox (shared ones too), distribution
    /// list and custom recipient of the organisation, with their names, as vCards.
    pub(super) async fn gal_cards(&self) -> crate::store::StoreResult<Vec<DavObject>> {
        let mut entries: Vec<(String, String, bool)> = Vec::new();
        let hidden = self.ctx.store.hidden_addresses().await?;
        for m in self.ctx.store.list_mailboxes().await? {
            if let Some(address) = m.addresses.first() {
                entries.push((address.clone(), m.display_name, false));
            }
        }
        for l in self.ctx.store.lists().await? {
            entries.push((l.address, l.display_name, true));
        }
        for c in self.ctx.store.contacts().await? {
            entries.push((c.address, c.display_name, false));
        }
        entries.retain(|(address, _, _)| !hidden.contains(address));
        entries.sort();
        Ok(entries
            .into_iter()
            .map(|(address, name, group)| {
                let data = gal_card(&address, &name, group).into_bytes();
                DavObject { name: format!("{address}.vcf"), etag: crate::store::dav::etag_of(&data), data }
            })
            .collect())
    }
}
