//! Calendars and address books (CalDAV, RFC 4791; CardDAV, RFC 6352): each person's
//! collections, the iCalendar and vCard objects in them, and what changed since a
//! client last looked (RFC 6578's sync tokens).
//!
//! A collection counts its changes: every object stored or removed takes the
//! collection's next number, which is also the object's (an ETag-like "when"), and a
//! removal leaves a tombstone with its number, so that "what changed since N" is the
//! objects and tombstones numbered above N. The number is the sync token clients
//! keep. An object's ETag is a hash of its bytes, so the same bytes keep their ETag.
//!
//! Each object is kept once, in its collection, however many people see it through
//! the collection's rights. The time an event covers (recurrences included, open
//! when it has no end) is kept beside it, so that a time-range query reads only
//! the events that can match.

use super::{Backend, Store, StoreResult, dispatch};

/// What a collection holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DavKind {
    /// iCalendar events and to-dos (CalDAV).
    Calendar,
    /// vCards (CardDAV).
    AddressBook,
}

impl DavKind {
    /// The name stored.
    pub fn as_str(self) -> &'static str {
        match self {
            DavKind::Calendar => "calendar",
            DavKind::AddressBook => "addressbook",
        }
    }

    /// The collection every person has from the start: its URL name and its display
    /// name.
    pub fn default_collection(self) -> (&'static str, &'static str) {
        match self {
            DavKind::Calendar => ("calendar", "Calendar"),
            DavKind::AddressBook => ("contacts", "Contacts"),
        }
    }
}

/// A calendar or an address book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collection {
    /// Its id.
    pub id: i64,
    /// Whose it is.
    pub mailbox: i64,
    /// What it holds.
    pub kind: DavKind,
    /// Its name in URLs (one path segment).
    pub name: String,
    /// The name shown (DAV:displayname).
    pub display_name: String,
    /// Its colour (Apple's calendar-color, `#RRGGBB`), if set.
    pub color: String,
    /// Its description.
    pub description: String,
    /// The kinds of component a calendar takes (`VEVENT`, `VTODO`, `VJOURNAL`).
    pub components: Vec<String>,
    /// The properties clients set that the server only keeps: (namespace, name,
    /// text).
    pub dead: Vec<(String, String, String)>,
    /// Its latest change's number: the sync token (1 when new: 0 is never given, and
    /// means "from the start").
    pub sync: u64,
    /// How many objects it holds and their bytes.
    pub objects: u64,
    /// See `objects`.
    pub bytes: u64,
}

/// The properties a collection is made with or changed to (`None`: left as is).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollectionProps {
    /// DAV:displayname.
    pub display_name: Option<String>,
    /// The colour.
    pub color: Option<String>,
    /// The description.
    pub description: Option<String>,
    /// A calendar's kinds of component (set when it is made; all when `None`).
    pub components: Option<Vec<String>>,
    /// Properties only kept: (namespace, name, text); an empty text removes one.
    pub dead: Vec<(String, String, String)>,
}

/// An object as listed: its name, ETag and change number, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Its name in the collection (one path segment).
    pub name: String,
    /// Its ETag (quoted when sent).
    pub etag: String,
    /// The change that made it as it is.
    pub sync: u64,
}

/// An object with its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DavObject {
    /// Its name in the collection.
    pub name: String,
    /// Its ETag.
    pub etag: String,
    /// The iCalendar or vCard text.
    pub data: Vec<u8>,
}

/// An object to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewObject {
    /// Its name in the collection.
    pub name: String,
    /// Its UID (unique in the collection).
    pub uid: String,
    /// Its main component (`VEVENT`, `VTODO`, `VCARD`).
    pub component: String,
    /// The text.
    pub data: Vec<u8>,
    /// When it starts (Unix seconds), if it is in time.
    pub starts: Option<i64>,
    /// When its last occurrence ends; `None` with `starts` set: never.
    pub ends: Option<i64>,
}

/// What a write must find first (HTTP's conditional requests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// Anything.
    None,
    /// Nothing by that name (`If-None-Match: *`).
    Absent,
    /// Something by that name, whatever its ETag (`If-Match: *`).
    Exists,
    /// The object with this ETag (`If-Match`).
    Etag(String),
}

/// How a store of an object went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Put {
    /// Stored, with its new ETag; `created` when there was none by its name.
    Stored {
        /// The new ETag.
        etag: String,
        /// A new object rather than a replaced one.
        created: bool,
    },
    /// The precondition did not hold; nothing changed.
    PreconditionFailed,
    /// Another object of the collection has the UID (CalDAV's `no-uid-conflict`).
    UidConflict {
        /// The other object's name.
        name: String,
    },
}

/// What changed in a collection since a sync token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    /// The token to give next time.
    pub token: u64,
    /// Objects stored since (names and ETags).
    pub changed: Vec<ObjectInfo>,
    /// Names removed since, with the change that removed each.
    pub removed: Vec<(String, u64)>,
}

/// The ETag of `data`: a hash of its bytes.
pub fn etag_of(data: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    d.as_ref()[..12].iter().map(|b| format!("{b:02x}")).collect()
}

impl Store {
    /// `mailbox`'s collections of `kind`; the default one is made when there is none.
    ///
    /// Read (a write the first time).
    ///
    /// # Errors
    /// Store failures.
    pub async fn dav_collections(&self, mailbox: i64, kind: DavKind) -> StoreResult<Vec<Collection>> {
        let found = dispatch!(self, b => b.dav_collections(mailbox, kind).await)?;
        if !found.is_empty() {
            return Ok(found);
        }
        let (name, display) = kind.default_collection();
        let props = CollectionProps { display_name: Some(display.into()), ..CollectionProps::default() };
        match dispatch!(self, b => b.dav_create_collection(mailbox, kind, name.into(), props).await) {
            Ok(_) | Err(super::StoreError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
        dispatch!(self, b => b.dav_collections(mailbox, kind).await)
    }

    /// `mailbox`'s collection of `kind` named `name`, if any.
    ///
    /// # Errors
    /// Store failures.
    pub async fn dav_collection(&self, mailbox: i64, kind: DavKind, name: &str) -> StoreResult<Option<Collection>> {
        Ok(self.dav_collections(mailbox, kind).await?.into_iter().find(|c| c.name == name))
    }

    /// Makes a collection.
    ///
    /// Write, atomic.
    ///
    /// # Errors
    /// [`super::StoreError::Conflict`] when one of that name exists.
    pub async fn dav_create_collection(
        &self,
        mailbox: i64,
        kind: DavKind,
        name: &str,
        props: CollectionProps,
    ) -> StoreResult<Collection> {
        dispatch!(self, b => b.dav_create_collection(mailbox, kind, name.to_owned(), props).await)
    }

    /// Changes a collection's properties.
    ///
    /// # Errors
    /// [`super::StoreError::NotFound`] when it is gone.
    pub async fn dav_update_collection(&self, id: i64, props: CollectionProps) -> StoreResult<()> {
        dispatch!(self, b => b.dav_update_collection(id, props).await)
    }

    /// Removes a collection and everything in it.
    ///
    /// # Errors
    /// [`super::StoreError::NotFound`] when it is gone.
    pub async fn dav_delete_collection(&self, id: i64) -> StoreResult<()> {
        dispatch!(self, b => b.dav_delete_collection(id).await)
    }

    /// The objects of a collection, by name, without their bytes.
    ///
    /// # Errors
    /// Store failures.
    pub async fn dav_objects(&self, collection: i64) -> StoreResult<Vec<ObjectInfo>> {
        dispatch!(self, b => b.dav_objects(collection).await)
    }

    /// The objects of `names` that exist, with their bytes.
    ///
    /// # Errors
    /// Store failures.
    pub async fn dav_get(&self, collection: i64, names: Vec<String>) -> StoreResult<Vec<DavObject>> {
        dispatch!(self, b => b.dav_get(collection, names).await)
    }

    /// The objects that may fall in `[start, end)` (Unix seconds; either open): those
    /// whose kept time span meets it, and those with none (which the caller looks at).
    ///
    /// # Errors
    /// Store failures.
    pub async fn dav_in_range(
        &self,
        collection: i64,
        start: Option<i64>,
        end: Option<i64>,
    ) -> StoreResult<Vec<DavObject>> {
        dispatch!(self, b => b.dav_in_range(collection, start, end).await)
    }

    /// Stores an object if `when` holds.
    ///
    /// Write, atomic.
    ///
    /// # Errors
    /// [`super::StoreError::NotFound`] when the collection is gone.
    pub async fn dav_put(&self, collection: i64, object: NewObject, when: Precondition) -> StoreResult<Put> {
        dispatch!(self, b => b.dav_put(collection, object, when).await)
    }

    /// Removes an object if `when` holds; `Ok(false)` when it did not (or there was no
    /// such object: [`super::StoreError::NotFound`]).
    ///
    /// # Errors
    /// [`super::StoreError::NotFound`] when there is no such object.
    pub async fn dav_delete(&self, collection: i64, name: &str, when: Precondition) -> StoreResult<bool> {
        dispatch!(self, b => b.dav_delete(collection, name.to_owned(), when).await)
    }

    /// The object of UID `uid` in `mailbox`'s calendars, with the collection holding
    /// it: where an invitation or a reply for that meeting goes. The scheduling inbox
    /// (a collection of messages, not of events) is not looked in.
    ///
    /// # Errors
    /// Store failures.
    pub async fn dav_find_uid(&self, mailbox: i64, uid: &str) -> StoreResult<Option<(i64, DavObject)>> {
        dispatch!(self, b => b.dav_find_uid(mailbox, uid.to_owned()).await)
    }

    /// What changed since `token` (0: everything there is).
    ///
    /// # Errors
    /// [`super::StoreError::Invalid`] for a token the collection never gave.
    pub async fn dav_changes(&self, collection: i64, token: u64) -> StoreResult<Changes> {
        dispatch!(self, b => b.dav_changes(collection, token).await)
    }
}
