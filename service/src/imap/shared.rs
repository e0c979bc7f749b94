//! Selected folders' message lists, shared between the sessions that see a folder as
//! it is: an office's ten phones and desktops with INBOX open hold one list of its
//! 10,000 messages, not ten. A session takes the shared list at SELECT and each time
//! it has caught up with the folder (its changes reported); its own change copies the
//! list first (`Arc::make_mut`), until it catches up again.
//!
//! The latest list of recently opened folders is kept a while after its last session
//! is gone (up to [`KEEP_MESSAGES`] messages in all), so that opening a folder again
//! reads only its state from the store, as Dovecot's index spares it the folder.
//!
//! A folder's state is named by its HIGHESTMODSEQ, UIDNEXT and message count: every
//! change to its messages moves one of them (flags and keywords a new mod-sequence,
//! new mail UIDNEXT, an expunge the count).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use crate::store::{Access, ImapMessage};

/// Which list: a folder, as its owner sees it (`0`) or as another person does (their
/// mailbox: their own `\Seen`).
pub type Key = (i64, i64);

/// The list `at` sees of `folder`.
pub fn key(at: Access, folder: i64) -> Key {
    (folder, if at.private_seen() { at.viewer } else { 0 })
}

/// Most messages in the lists kept with no session holding them.
pub const KEEP_MESSAGES: usize = 100_000;

/// A folder's state as [`SharedLists`] tells states apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Marker {
    modseq: u64,
    uidnext: u32,
    len: usize,
}

/// A folder's latest list: held by its sessions, and kept here too while there is
/// room.
#[derive(Debug)]
struct Held {
    marker: Marker,
    list: Weak<Vec<ImapMessage>>,
    kept: Option<Arc<Vec<ImapMessage>>>,
    /// When it was last taken (a counter), to let go of the longest unused first.
    used: u64,
}

/// The latest list of each folder some session holds or held lately.
#[derive(Debug, Default)]
pub struct SharedLists {
    lists: Mutex<(HashMap<Key, Held>, u64)>,
}

impl SharedLists {
    /// The list of `folder` in the state named by `modseq`, `uidnext` and its length,
    /// if one is held.
    pub fn get(&self, folder: Key, modseq: u64, uidnext: u32, len: usize) -> Option<Arc<Vec<ImapMessage>>> {
        let marker = Marker { modseq, uidnext, len };
        let mut guard = self.lists.lock().ok()?;
        let (lists, clock) = &mut *guard;
        *clock += 1;
        let held = lists.get_mut(&folder).filter(|h| h.marker == marker)?;
        held.used = *clock;
        held.list.upgrade()
    }

    /// The list of `folder` in the state named by `modseq` and `uidnext`: the one
    /// another session holds if it is of that state, else `list`, kept for the next.
    pub fn share(&self, folder: Key, modseq: u64, uidnext: u32, list: Vec<ImapMessage>) -> Arc<Vec<ImapMessage>> {
        let marker = Marker { modseq, uidnext, len: list.len() };
        if let Some(shared) = self.get(folder, modseq, uidnext, list.len()) {
            return shared;
        }
        let shared = Arc::new(list);
        let Ok(mut guard) = self.lists.lock() else { return shared };
        let (lists, clock) = &mut *guard;
        *clock += 1;
        lists.insert(
            folder,
            Held { marker, list: Arc::downgrade(&shared), kept: Some(Arc::clone(&shared)), used: *clock },
        );
        // Within the budget: let go of the longest unused, and forget folders whose
        // list nobody holds.
        let mut kept: usize = lists.values().filter_map(|h| h.kept.as_ref()).map(|l| l.len()).sum();
        while kept > KEEP_MESSAGES {
            let Some(oldest) = lists.values_mut().filter(|h| h.kept.is_some()).min_by_key(|h| h.used) else { break };
            kept -= oldest.kept.take().map_or(0, |l| l.len());
        }
        lists.retain(|_, h| h.list.strong_count() > 0);
        shared
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(n: u32) -> Vec<ImapMessage> {
        (1..=n)
            .map(|uid| ImapMessage {
                id: i64::from(uid),
                uid,
                flags: 0,
                keywords: String::new(),
                modseq: 1,
                size: 10,
                received_at: 0,
            })
            .collect()
    }

    #[test]
    fn sessions_that_see_one_state_hold_one_list() {
        let lists = SharedLists::default();
        let a = lists.share((7, 0), 5, 3, messages(2));
        let b = lists.share((7, 0), 5, 3, messages(2));
        assert!(Arc::ptr_eq(&a, &b), "the same state: one list");
        let c = lists.share((7, 0), 6, 3, messages(2));
        assert!(!Arc::ptr_eq(&a, &c), "a newer state: its own");
        let d = lists.share((8, 0), 5, 3, messages(2));
        assert!(!Arc::ptr_eq(&c, &d), "another folder: its own");
        assert!(lists.get((7, 0), 5, 3, 2).is_none(), "the older state is not the folder's any more");
        assert!(lists.get((7, 0), 6, 3, 1).is_none(), "another length, another state");
    }

    #[test]
    fn a_list_is_kept_after_its_sessions_within_a_budget() {
        let lists = SharedLists::default();
        drop(lists.share((1, 0), 1, 1, messages(10)));
        assert!(lists.get((1, 0), 1, 1, 10).is_some(), "kept for the next SELECT");
        let big = u32::try_from(KEEP_MESSAGES).expect("fits");
        drop(lists.share((2, 0), 1, 1, messages(big)));
        assert!(lists.get((1, 0), 1, 1, 10).is_none(), "the longest unused went first");
        assert!(lists.get((2, 0), 1, 1, KEEP_MESSAGES).is_some());
    }
}
