//! Selected folders' message lists, shared between the sessions that see a folder as
//! it is: an office's ten phones and desktops with INBOX open hold one list of its
//! 10,000 messages, not ten. A session takes the shared list at SELECT and each time
//! it has caught up with the folder (its changes reported); its own change copies the
//! list first (`Arc::make_mut`), until it catches up again.
//!
//! A folder's state is named by its HIGHESTMODSEQ, UIDNEXT and message count: every
//! change to its messages moves one of them (flags and keywords a new mod-sequence,
//! new mail UIDNEXT, an expunge the count).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use crate::store::ImapMessage;

/// A folder's state as [`SharedLists`] tells states apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Marker {
    modseq: u64,
    uidnext: u32,
    len: usize,
}

/// A folder's latest list, held by its sessions (not by this).
type Held = (Marker, Weak<Vec<ImapMessage>>);

/// The latest list of each folder some session holds.
#[derive(Debug, Default)]
pub struct SharedLists {
    lists: Mutex<HashMap<i64, Held>>,
}

impl SharedLists {
    /// The list of `folder` in the state named by `modseq` and `uidnext`: the one
    /// another session holds if it is of that state, else `list`, kept for the next.
    pub fn share(&self, folder: i64, modseq: u64, uidnext: u32, list: Vec<ImapMessage>) -> Arc<Vec<ImapMessage>> {
        let marker = Marker { modseq, uidnext, len: list.len() };
        let Ok(mut lists) = self.lists.lock() else { return Arc::new(list) };
        if let Some((m, held)) = lists.get(&folder)
            && *m == marker
            && let Some(shared) = held.upgrade()
        {
            return shared;
        }
        let shared = Arc::new(list);
        if lists.len() >= 256 {
            // Folders nobody has open any more.
            lists.retain(|_, (_, held)| held.strong_count() > 0);
        }
        lists.insert(folder, (marker, Arc::downgrade(&shared)));
        shared
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(uid: u32) -> ImapMessage {
        ImapMessage { id: i64::from(uid), uid, flags: 0, keywords: String::new(), modseq: 1, size: 10, received_at: 0 }
    }

    #[test]
    fn sessions_that_see_one_state_hold_one_list() {
        let lists = SharedLists::default();
        let a = lists.share(7, 5, 3, vec![message(1), message(2)]);
        let b = lists.share(7, 5, 3, vec![message(1), message(2)]);
        assert!(Arc::ptr_eq(&a, &b), "the same state: one list");
        let c = lists.share(7, 6, 3, vec![message(1), message(2)]);
        assert!(!Arc::ptr_eq(&a, &c), "a newer state: its own");
        let d = lists.share(8, 5, 3, vec![message(1), message(2)]);
        assert!(!Arc::ptr_eq(&c, &d), "another folder: its own");
        drop((a, b, c));
        let e = lists.share(7, 6, 3, vec![message(1)]);
        assert_eq!(e.len(), 1, "nobody held the old one: the given list is kept");
    }
}
