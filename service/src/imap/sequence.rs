//! Sequence sets (`1:5,7,*`) over a folder's messages, by message number or by UID.
//! Pure, apart from any I/O.

use imap_next::imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};

use crate::store::ImapMessage;

/// The value `*` or a number stands for, given the largest.
fn value(s: &SeqOrUid, largest: u32) -> u32 {
    match s {
        SeqOrUid::Value(n) => n.get(),
        SeqOrUid::Asterisk => largest,
    }
}

/// Whether `n` is in `set`, `*` being `largest`. A range's ends may come in either
/// order, and `n:*` includes the largest even when it is below `n` (RFC 9051 §6.4.8).
pub fn contains(set: &SequenceSet, n: u32, largest: u32) -> bool {
    set.0.as_ref().iter().any(|s| match s {
        Sequence::Single(v) => value(v, largest) == n,
        Sequence::Range(a, b) => {
            let (a, b) = (value(a, largest), value(b, largest));
            a.min(b) <= n && n <= a.max(b)
        }
    })
}

/// The messages of `messages` (in folder order) that `set` names, with their message
/// numbers; by UID when `uid`.
pub fn select<'a>(set: &SequenceSet, uid: bool, messages: &'a [ImapMessage]) -> Vec<(u32, &'a ImapMessage)> {
    let numbered = messages.iter().enumerate().map(|(i, m)| (u32::try_from(i + 1).unwrap_or(u32::MAX), m));
    if uid {
        let largest = messages.last().map_or(0, |m| m.uid);
        numbered.filter(|(_, m)| contains(set, m.uid, largest)).collect()
    } else {
        let largest = u32::try_from(messages.len()).unwrap_or(u32::MAX);
        numbered.filter(|(n, _)| contains(set, *n, largest)).collect()
    }
}

/// Whether a message-number set names a number beyond the folder (a client error,
/// RFC 9051 §6.4.8 allows UID sets to, not sequence sets).
pub fn out_of_range(set: &SequenceSet, count: u32) -> bool {
    set.0.as_ref().iter().any(|s| match s {
        Sequence::Single(SeqOrUid::Value(n)) => n.get() > count,
        Sequence::Range(a, b) => [a, b].iter().any(|v| matches!(v, SeqOrUid::Value(n) if n.get() > count)),
        Sequence::Single(SeqOrUid::Asterisk) => count == 0,
    })
}

/// UIDs as a compact set (`3:5,9`), for COPYUID and the like.
pub fn uid_ranges(mut uids: Vec<u32>) -> Vec<(u32, u32)> {
    uids.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::new();
    for u in uids {
        match out.last_mut() {
            Some((_, end)) if *end + 1 == u => *end = u,
            _ => out.push((u, u)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(s: &str) -> SequenceSet {
        SequenceSet::try_from(s).expect("a sequence set")
    }

    fn msgs(uids: &[u32]) -> Vec<ImapMessage> {
        uids.iter()
            .map(|&uid| ImapMessage {
                id: i64::from(uid),
                uid,
                flags: 0,
                keywords: String::new(),
                modseq: 1,
                size: 1,
                received_at: 0,
            })
            .collect()
    }

    #[test]
    fn numbers_and_uids_select_as_the_rfc_says() {
        let m = msgs(&[3, 7, 8, 20]);
        let nums =
            |set: &str, uid: bool| select(&super::tests::set(set), uid, &m).iter().map(|(n, _)| *n).collect::<Vec<_>>();
        assert_eq!(nums("1:2", false), [1, 2]);
        assert_eq!(nums("*", false), [4]);
        assert_eq!(nums("3:*", false), [3, 4]);
        assert_eq!(nums("7:8", true), [2, 3]);
        assert_eq!(nums("8:*", true), [3, 4]);
        // "n:*" includes the last even when n is above it.
        assert_eq!(nums("50:*", true), [4]);
        assert_eq!(nums("4:1", false), [1, 2, 3, 4]);
        assert!(out_of_range(&set("5"), 4) && !out_of_range(&set("1:4"), 4));
        assert!(!out_of_range(&set("100"), 100));
        assert_eq!(uid_ranges(vec![9, 3, 4, 5]), [(3, 5), (9, 9)]);
    }
}
