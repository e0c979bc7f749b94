//! Moving mail in and out of a mailbox over the control socket: `mailroomctl mailbox
//! import` and `export` (and the Administrator) read and write the files on their own
//! machine — which may be the administrator's desktop, over SSH — and pass messages in
//! pieces of at most [`TRANSFER_CHUNK`] bytes, so that no line grows past the socket's
//! limit whatever a message's size.
//!
//! A message being imported is put together here from its pieces (in order, each
//! checked against what came before) and stored once whole; pieces left waiting by a
//! client that went away are dropped after [`UPLOAD_TTL`].

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use mailroom_shared::address::EmailAddress;
use mailroom_shared::ipc::{ExportEntry, IpcError, Response, TRANSFER_CHUNK};

use crate::lifecycle::Manager;
use crate::store::imap::flags;
use crate::store::import::Imported;

/// How long a partly sent message waits for its next piece.
const UPLOAD_TTL: Duration = Duration::from_secs(600);
/// The largest message an import takes when the General page sets no limit.
const MAX_IMPORT: u64 = 256 * 1024 * 1024;
/// The most keys one check or messages one list page takes.
const MAX_PAGE: usize = 1000;

/// Messages being put together: (mailbox, key) → the bytes so far, and when the last
/// piece came.
type Uploads = HashMap<(i64, String), (Vec<u8>, Instant)>;
static UPLOADS: LazyLock<Mutex<Uploads>> = LazyLock::new(Mutex::default);

/// The mailbox an address names.
async fn mailbox(manager: &Manager, address: &str) -> Result<i64, IpcError> {
    let parsed = EmailAddress::parse(address.trim())
        .map_err(|e| IpcError::InvalidArgument { field: "address".into(), message: e.0 })?;
    manager
        .store()
        .mailbox_of(&parsed.canonical())
        .await?
        .ok_or_else(|| IpcError::NotFound { message: format!("no mailbox has the address {address}") })
}

fn flag_bits(names: &[String]) -> Result<u8, IpcError> {
    let mut bits = 0;
    for name in names {
        let (bit, _) = flags::ALL.iter().find(|(_, n)| n.eq_ignore_ascii_case(name)).ok_or_else(|| {
            IpcError::InvalidArgument { field: "flags".into(), message: format!("{name} is not an IMAP system flag") }
        })?;
        bits |= bit;
    }
    Ok(bits)
}

fn flag_names(bits: u8) -> Vec<String> {
    flags::ALL.iter().filter(|(b, _)| bits & b != 0).map(|(_, n)| (*n).to_owned()).collect()
}

/// One piece of a message to import.
#[expect(clippy::too_many_arguments, reason = "the request's fields, one by one")]
pub(super) async fn import(
    manager: &Manager,
    address: &str,
    folder: String,
    key: String,
    flag_list: &[String],
    received_at: Option<i64>,
    (offset, total): (u64, u64),
    data: &str,
) -> Result<Response, IpcError> {
    let mailbox = mailbox(manager, address).await?;
    let invalid = |field: &str, message: String| IpcError::InvalidArgument { field: field.into(), message };
    let folder = folder.trim().to_owned();
    if folder.is_empty() || folder.contains(['\r', '\n']) {
        return Err(invalid("folder", "a folder name is one line of text".into()));
    }
    if key.is_empty() || key.len() > 512 {
        return Err(invalid("key", "a key is 1 to 512 bytes".into()));
    }
    let bits = flag_bits(flag_list)?;
    let (config, _) = manager.saved_config();
    let limit = config.general.max_message_size.unwrap_or(MAX_IMPORT).min(MAX_IMPORT);
    if total > limit {
        return Err(invalid("total", format!("the message has {total} bytes; this server takes at most {limit}")));
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
        let id = (mailbox, key.clone());
        let so_far = uploads.remove(&id).map(|(b, _)| b).unwrap_or_default();
        if offset != so_far.len() as u64 {
            return Err(invalid(
                "offset",
                format!("expected the piece at {}, got one at {offset}; send the message again from 0", so_far.len()),
            ));
        }
        let mut bytes = so_far;
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
    if whole.is_empty() {
        return Err(invalid("data", "an empty message".into()));
    }
    let message = Imported {
        mailbox,
        folder,
        key,
        content: whole,
        flags: bits,
        received_at: received_at.unwrap_or_else(crate::store::now_secs),
    };
    let stored = manager.store().import_message(message).await?;
    Ok(Response::Imported { complete: true, stored })
}

/// Which keys a mailbox has imported.
pub(super) async fn check(manager: &Manager, address: &str, keys: Vec<String>) -> Result<Response, IpcError> {
    if keys.len() > MAX_PAGE {
        return Err(IpcError::InvalidArgument { field: "keys".into(), message: format!("at most {MAX_PAGE} at once") });
    }
    let mailbox = mailbox(manager, address).await?;
    let known = manager.store().imported_keys(mailbox, keys).await?;
    Ok(Response::ImportCheck { known })
}

/// A page of a mailbox's messages.
pub(super) async fn list(manager: &Manager, address: &str, after: i64, limit: u32) -> Result<Response, IpcError> {
    let mailbox = mailbox(manager, address).await?;
    let limit = limit.clamp(1, u32::try_from(MAX_PAGE).unwrap_or(u32::MAX));
    let page = manager.store().export_list(mailbox, after, limit).await?;
    let messages = page
        .into_iter()
        .map(|m| ExportEntry {
            id: m.id,
            folder: m.folder,
            flags: flag_names(m.flags),
            received_at: m.received_at,
            size: m.size,
        })
        .collect();
    Ok(Response::ExportList { messages })
}

/// A piece of one message.
pub(super) async fn read(manager: &Manager, address: &str, id: i64, offset: u64) -> Result<Response, IpcError> {
    let mailbox = mailbox(manager, address).await?;
    let text = manager
        .store()
        .export_read(mailbox, id)
        .await?
        .ok_or_else(|| IpcError::NotFound { message: format!("message {id} is not in that mailbox (deleted?)") })?;
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(text.len());
    let end = (start + TRANSFER_CHUNK).min(text.len());
    Ok(Response::ExportRead {
        data: base64::engine::general_purpose::STANDARD.encode(&text[start..end]),
        total: text.len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_go_both_ways_and_unknown_ones_are_refused() {
        let bits = flag_bits(&["\\Seen".into(), "\\flagged".into()]).expect("flags");
        assert_eq!(bits, flags::SEEN | flags::FLAGGED);
        assert_eq!(flag_names(bits), vec!["\\Flagged".to_owned(), "\\Seen".to_owned()]);
        assert!(flag_bits(&["\\Recent".into()]).is_err());
    }
}
