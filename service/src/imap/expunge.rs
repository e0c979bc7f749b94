//! Taking messages away from the selected folder: EXPUNGE and UID EXPUNGE (RFC 4315),
//! CLOSE and UNSELECT, and how a session is told of expunges — `* n EXPUNGE`, highest
//! number first, or `* VANISHED` once QRESYNC is on (RFC 7162), the kept searches
//! hearing of them first — and what QRESYNC's resynchronisation reports as gone.

use imap_next::imap_types::core::Tag;
use imap_next::imap_types::response::{Code, Data};
use imap_next::imap_types::sequence::SequenceSet;

use super::session::{Flow, Session, State, nz};
use crate::store::ImapMessage;
use mailroom_shared::rights::Rights;

impl<S: crate::tls::Transport> Session<S> {
    /// Removes from the session's view the messages `gone` says are gone, sending
    /// EXPUNGE for each (highest number first, so that each number is right).
    pub(super) fn expunged(&mut self, gone: impl Fn(&ImapMessage) -> bool) {
        if let State::Selected(_, sel) = &self.state
            && !sel.updates.is_empty()
        {
            let uids: Vec<u32> = sel.messages.iter().filter(|m| gone(m)).map(|m| m.uid).collect();
            self.expunging(&uids);
        }
        let mut out = Vec::new();
        let mut uids = Vec::new();
        if let State::Selected(_, sel) = &mut self.state {
            let mut i = sel.messages.len();
            while i > 0 {
                i -= 1;
                if gone(&sel.messages[i]) {
                    uids.push(std::sync::Arc::make_mut(&mut sel.messages).remove(i).uid);
                    out.push(Data::Expunge(nz(u32::try_from(i + 1).unwrap_or(u32::MAX))));
                }
            }
        }
        if self.qresync {
            // RFC 7162 §3.2.10: VANISHED in place of EXPUNGE once QRESYNC is on.
            if let Some(d) = vanished(uids) {
                self.data(d);
            }
            return;
        }
        for d in out {
            self.data(d);
        }
    }

    /// EXPUNGE and UID EXPUNGE (RFC 4315): removes the messages marked `\Deleted`.
    pub(super) async fn expunge(&mut self, tag: Tag<'static>, only: Option<SequenceSet>) -> Flow {
        let Some((at, sel)) = self.selected() else { return Flow::Continue };
        let (rights, name) = (sel.rights, sel.folder.name.clone());
        if self.lacks(&tag, rights, Rights::EXPUNGE, &name) {
            return Flow::Continue;
        }
        let Some((_, sel)) = self.selected() else { return Flow::Continue };
        if sel.read_only {
            self.no(tag, Some(Code::Other(super::code("CANNOT"))), "The folder is open read-only (EXAMINE)");
            return Flow::Continue;
        }
        let folder = sel.folder.id;
        let only = only.map(|set| sel.select(&set, true).into_iter().map(|(_, m)| m.id).collect());
        let gone = match self.ctx.store.imap_expunge(at.mailbox, folder, only).await {
            Ok(g) => g,
            Err(e) => return self.store_failed(tag, &e),
        };
        let gone: std::collections::HashSet<i64> = gone.into_iter().collect();
        self.expunged(|m| gone.contains(&m.id));
        self.ok(tag, None, "EXPUNGE completed");
        Flow::Continue
    }

    /// CLOSE (expunges silently, unless read-only) and UNSELECT.
    pub(super) async fn close(&mut self, tag: Tag<'static>, expunge: bool) -> Flow {
        let Some(user) = self.user() else { return Flow::Continue };
        if let Some((at, sel)) = self.selected()
            && expunge
            && !sel.read_only
            && sel.rights.has(Rights::EXPUNGE)
        {
            let folder = sel.folder.id;
            if let Err(e) = self.ctx.store.imap_expunge(at.mailbox, folder, None).await {
                return self.store_failed(tag, &e);
            }
        }
        self.state = State::Authenticated(user);
        self.ok(tag, None, if expunge { "CLOSE completed" } else { "UNSELECT completed" });
        Flow::Continue
    }
}

/// `* VANISHED uids` (none for no UIDs).
pub(super) fn vanished(mut uids: Vec<u32>) -> Option<Data<'static>> {
    uids.sort_unstable();
    let set = SequenceSet::try_from(super::esearch::sequence_set(&uids).as_str()).ok()?;
    Some(Data::Vanished { earlier: false, known_uids: set })
}

/// The UIDs `set` names below the folder's UIDNEXT that are not in it, as a set
/// (empty when there are none): the gaps between its UIDs, cut to the set's ranges.
pub(super) fn vanished_uids(set: &SequenceSet, sel: &super::session::Selected) -> String {
    use imap_next::imap_types::sequence::{SeqOrUid, Sequence};
    let last = sel.uidnext.saturating_sub(1);
    let mut gaps = Vec::new();
    let mut next = 1u32;
    for m in sel.messages.iter() {
        if m.uid > next {
            gaps.push((next, m.uid - 1));
        }
        next = m.uid.saturating_add(1);
    }
    if next <= last {
        gaps.push((next, last));
    }
    let value = |v: &SeqOrUid| match v {
        SeqOrUid::Value(n) => n.get(),
        SeqOrUid::Asterisk => last,
    };
    let asked: Vec<(u32, u32)> = set
        .0
        .as_ref()
        .iter()
        .map(|s| match s {
            Sequence::Single(v) => (value(v), value(v)),
            Sequence::Range(a, b) => (value(a).min(value(b)), value(a).max(value(b))),
        })
        .collect();
    let mut out: Vec<(u32, u32)> = Vec::new();
    for (a, b) in gaps {
        for (lo, hi) in &asked {
            let (from, to) = (a.max(*lo), b.min(*hi));
            if from <= to {
                out.push((from, to));
            }
        }
    }
    out.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::new();
    for (a, b) in out {
        match merged.last_mut() {
            Some((_, end)) if a <= end.saturating_add(1) => *end = (*end).max(b),
            _ => merged.push((a, b)),
        }
    }
    merged.iter().map(|(a, b)| if a == b { a.to_string() } else { format!("{a}:{b}") }).collect::<Vec<_>>().join(",")
}
