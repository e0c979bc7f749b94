//! Moving calendars and address books in and out of a mailbox over the control
//! socket: `mailroomctl calendar import|export` and `contacts import|export` read and
//! write `.ics` and `.vcf` files on their own machine and pass each event, to-do or
//! card in pieces of at most [`TRANSFER_CHUNK`] bytes, as mail moves
//! ([`super::transfer`]). An object is checked as a calendar or contacts program's
//! would be, and one whose UID is there already replaces it: importing twice changes
//! nothing the second time.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use mailroom_shared::ipc::{IpcError, Response, TRANSFER_CHUNK};

use super::sharing::collection_named;
use crate::lifecycle::Manager;
use crate::store::dav::{Collection, CollectionProps, DavKind, Precondition, Put};

/// How long a partly sent object waits for its next piece.
const UPLOAD_TTL: Duration = Duration::from_secs(600);
/// The most names one listing gives.
const PAGE: usize = 1000;

/// Objects being put together: (mailbox, collection) → the bytes so far, and when
/// the last piece came (a client imports one object at a time into a collection).
type Uploads = HashMap<(i64, String), (Vec<u8>, Instant)>;
static UPLOADS: LazyLock<Mutex<Uploads>> = LazyLock::new(Mutex::default);

fn invalid(field: &str, message: impl Into<String>) -> IpcError {
    IpcError::InvalidArgument { field: field.into(), message: message.into() }
}

/// The mailbox `address` names, and its collection `collection` names (made, for an
/// import, when missing).
async fn collection(
    manager: &Manager,
    address: &str,
    collection: &str,
    make: bool,
) -> Result<(i64, Collection), IpcError> {
    let store = manager.store();
    let key = address.trim().to_ascii_lowercase();
    let mailbox = store
        .mailbox_of(&key)
        .await?
        .ok_or_else(|| IpcError::NotFound { message: format!("no mailbox has the address {address}") })?;
    let (kind, name) = collection_named(collection)?;
    if name.as_str() == crate::itip::INBOX {
        return Err(invalid("collection", "the scheduling inbox holds meeting messages, not a calendar"));
    }
    if let Some(c) = store.dav_collection(mailbox, kind, &name).await? {
        return Ok((mailbox, c));
    }
    let what = if kind == DavKind::Calendar { "calendar" } else { "address book" };
    if !make {
        return Err(IpcError::NotFound { message: format!("{address} has no {what} named {name}") });
    }
    let props = CollectionProps { display_name: Some(name.clone()), ..CollectionProps::default() };
    match store.dav_create_collection(mailbox, kind, &name, props).await {
        Ok(c) => Ok((mailbox, c)),
        Err(crate::store::StoreError::Conflict(_)) => {
            let c = store.dav_collection(mailbox, kind, &name).await?;
            c.map(|c| (mailbox, c)).ok_or_else(|| IpcError::NotFound { message: format!("no {what} named {name}") })
        }
        Err(e) => Err(e.into()),
    }
}

/// One piece of an object to import.
pub(super) async fn import(
    manager: &Manager,
    address: &str,
    name: &str,
    (offset, total): (u64, u64),
    data: &str,
) -> Result<Response, IpcError> {
    let (mailbox, c) = collection(manager, address, name, true).await?;
    let limit = crate::http::dav::objects::MAX_SIZE as u64;
    if total == 0 || total > limit {
        return Err(invalid("total", format!("an object has 1 to {limit} bytes; this one has {total}")));
    }
    let piece = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| invalid("data", format!("not base64: {e}")))?;
    if piece.len() > TRANSFER_CHUNK {
        return Err(invalid("data", format!("a piece is at most {TRANSFER_CHUNK} bytes")));
    }
    let whole = {
        let mut uploads = UPLOADS.lock().unwrap_or_else(|p| p.into_inner());
        uploads.retain(|_, (_, at)| at.elapsed() < UPLOAD_TTL);
        let id = (mailbox, name.to_owned());
        let mut bytes = uploads.remove(&id).map(|(b, _)| b).unwrap_or_default();
        if offset != bytes.len() as u64 {
            let message =
                format!("expected the piece at {}, got one at {offset}; send the object again from 0", bytes.len());
            return Err(invalid("offset", message));
        }
        bytes.extend_from_slice(&piece);
        if bytes.len() as u64 > total {
            return Err(invalid("total", format!("the pieces add up to more than {total} bytes")));
        }
        if (bytes.len() as u64) < total {
            uploads.insert(id, (bytes, Instant::now()));
            return Ok(Response::Imported { complete: false, stored: false });
        }
        bytes
    };
    let stored = store_object(manager, &c, whole).await?;
    Ok(Response::Imported { complete: true, stored })
}

/// Stores a whole object in `c` under a name made from its UID (or the name its UID
/// has there already); false when the same was there.
async fn store_object(manager: &Manager, c: &Collection, data: Vec<u8>) -> Result<bool, IpcError> {
    use crate::http::dav::objects;
    let read = |name: &str| match c.kind {
        DavKind::Calendar => objects::calendar_object(name, &data),
        DavKind::AddressBook => objects::card(name, &data),
    };
    let object = read("object").map_err(|r| invalid("data", format!("{} ({})", r.reason, r.precondition)))?;
    if c.kind == DavKind::Calendar && !c.components.contains(&object.component) {
        return Err(invalid("data", format!("the calendar {} does not keep {}", c.name, object.component)));
    }
    let suffix = if c.kind == DavKind::Calendar { "ics" } else { "vcf" };
    let mut name = format!("{}.{suffix}", crate::itip::object_name(&object.uid));
    let store = manager.store();
    for _ in 0..2 {
        let etag = crate::store::dav::etag_of(&data);
        if store.dav_get(c.id, vec![name.clone()]).await?.first().is_some_and(|o| o.etag == etag) {
            return Ok(false);
        }
        let named = crate::store::dav::NewObject { name: name.clone(), ..object.clone() };
        match store.dav_put(c.id, named, Precondition::None).await? {
            Put::Stored { .. } => return Ok(true),
            Put::UidConflict { name: there } => name = there,
            Put::PreconditionFailed => break,
        }
    }
    Err(IpcError::Failed { message: format!("could not store the object with UID {}", object.uid), field: None })
}

/// The names of a collection's objects, from `start`.
pub(super) async fn list(manager: &Manager, address: &str, name: &str, start: u64) -> Result<Response, IpcError> {
    let (_, c) = collection(manager, address, name, false).await?;
    let mut names: Vec<String> = manager.store().dav_objects(c.id).await?.into_iter().map(|o| o.name).collect();
    names.sort();
    let total = names.len() as u64;
    let start = usize::try_from(start).unwrap_or(usize::MAX).min(names.len());
    let names = names.into_iter().skip(start).take(PAGE).collect();
    Ok(Response::ExportObjects { names, total })
}

/// A piece of one object, from `offset`.
pub(super) async fn read(
    manager: &Manager,
    address: &str,
    collection_name: &str,
    name: &str,
    offset: u64,
) -> Result<Response, IpcError> {
    let (_, c) = collection(manager, address, collection_name, false).await?;
    let found = manager.store().dav_get(c.id, vec![name.to_owned()]).await?.into_iter().next();
    let o = found
        .ok_or_else(|| IpcError::NotFound { message: format!("{name} is not in {collection_name} (deleted?)") })?;
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(o.data.len());
    let end = (start + TRANSFER_CHUNK).min(o.data.len());
    Ok(Response::ExportRead {
        data: base64::engine::general_purpose::STANDARD.encode(&o.data[start..end]),
        total: o.data.len() as u64,
    })
}
