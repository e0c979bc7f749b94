//! Extended SEARCH and SORT results: `* ESEARCH` with MIN, MAX, COUNT, ALL and
//! PARTIAL (RFC 4731, RFC 5267's ESORT, RFC 9394), the MODSEQ of what is returned
//! (RFC 4731 §3.2 with CONDSTORE), and searches and sorts kept up to date
//! (CONTEXT=SEARCH and CONTEXT=SORT, RFC 5267 §4): after each command, and in IDLE,
//! ADDTO and REMOVEFROM tell the client how a kept result changed (a sort's with the
//! positions), until CANCELUPDATE or the folder is closed.
//!
//! imap-types has no ESEARCH response, so these lines are written here and sent in
//! order with the rest ([`Session::raw`]).

use imap_next::imap_types::command::CommandBody;
use imap_next::imap_types::core::Tag;
use imap_next::imap_types::extensions::sort::SortCriterion;
use imap_next::imap_types::search::SearchKey;

use super::extended::ReturnOptions;
use super::session::{Flow, Session, State};

/// A search kept up to date (RFC 5267 §4.4).
#[derive(Debug, Clone)]
pub(super) struct Update {
    /// The tag of the SEARCH that started it.
    pub tag: String,
    pub keys: Vec<SearchKey<'static>>,
    /// Results in UIDs rather than message numbers.
    pub uid: bool,
    /// A SORT's criteria (CONTEXT=SORT): positions then count in its order.
    pub sort: Option<Vec<SortCriterion>>,
    /// The UIDs of the messages in its result as last told: ascending for a SEARCH,
    /// in the SORT's order for a SORT.
    pub result: Vec<u32>,
}

/// Positions (1-based) in a sorted result, with the UID at each.
type Positions = Vec<(usize, u32)>;

/// The REMOVEFROM and ADDTO pairs that turn a sorted result `old` into `new` (both
/// UIDs in order): each removed one at its position, highest first, so that every
/// position is right as the client applies them in turn; then each added one at its
/// position in `new`, lowest first, for the same reason.
fn sorted_changes(old: &[u32], new: &[u32]) -> (Positions, Positions) {
    let in_new: std::collections::HashSet<u32> = new.iter().copied().collect();
    let in_old: std::collections::HashSet<u32> = old.iter().copied().collect();
    let mut removed: Vec<(usize, u32)> =
        old.iter().enumerate().filter(|(_, u)| !in_new.contains(u)).map(|(i, u)| (i + 1, *u)).collect();
    removed.reverse();
    let added = new.iter().enumerate().filter(|(_, u)| !in_old.contains(u)).map(|(i, u)| (i + 1, *u)).collect();
    (removed, added)
}

/// `numbers` as a sequence set, in the order given: ascending runs become ranges.
pub(super) fn sequence_set(numbers: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < numbers.len() {
        let start = numbers[i];
        let mut end = start;
        while i + 1 < numbers.len() && end.checked_add(1) == Some(numbers[i + 1]) {
            i += 1;
            end = numbers[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if end == start {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

/// A tag as an IMAP string.
fn quoted(tag: &str) -> String {
    format!("\"{}\"", tag.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The positions `from..=to` (1-based; negative from the end) of a result of `len`,
/// as a slice range.
fn partial_slice((from, to): (i64, i64), len: usize) -> std::ops::Range<usize> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let (a, b) = if from > 0 { (from - 1, to) } else { (len + to, len + from + 1) };
    let clamp = |n: i64| usize::try_from(n.clamp(0, len)).unwrap_or(0);
    clamp(a)..clamp(b).max(clamp(a))
}

/// The ESEARCH response for `answers` (in result order) with their mod-sequences.
/// For a SORT (`sorted`), MIN and MAX are the first and last in its order (RFC 5267
/// §3.1); for a SEARCH, the lowest and highest.
pub(super) fn response(
    tag: &str,
    uid: bool,
    ret: &ReturnOptions,
    answers: &[(u32, u64)],
    modseq: bool,
    sorted: bool,
) -> String {
    let mut out = format!("* ESEARCH (TAG {})", quoted(tag));
    if uid {
        out.push_str(" UID");
    }
    let mut returned: Vec<u64> = Vec::new();
    let (first, last) = if sorted {
        (answers.first(), answers.last())
    } else {
        (answers.iter().min_by_key(|a| a.0), answers.iter().max_by_key(|a| a.0))
    };
    if ret.min
        && let Some(min) = first
    {
        out.push_str(&format!(" MIN {}", min.0));
        returned.push(min.1);
    }
    if ret.max
        && let Some(max) = last
    {
        out.push_str(&format!(" MAX {}", max.0));
        returned.push(max.1);
    }
    if ret.count {
        out.push_str(&format!(" COUNT {}", answers.len()));
        returned.extend(answers.iter().map(|a| a.1));
    }
    if ret.all && !answers.is_empty() {
        let numbers: Vec<u32> = answers.iter().map(|a| a.0).collect();
        out.push_str(&format!(" ALL {}", sequence_set(&numbers)));
        returned.extend(answers.iter().map(|a| a.1));
    }
    if let Some(range) = ret.partial {
        let slice = &answers[partial_slice(range, answers.len())];
        let numbers: Vec<u32> = slice.iter().map(|a| a.0).collect();
        let set = if numbers.is_empty() { "NIL".to_owned() } else { sequence_set(&numbers) };
        out.push_str(&format!(" PARTIAL ({}:{} {set})", range.0, range.1));
        returned.extend(slice.iter().map(|a| a.1));
    }
    if modseq && let Some(highest) = returned.into_iter().max() {
        out.push_str(&format!(" MODSEQ {highest}"));
    }
    out.push_str("\r\n");
    out
}

impl<S: crate::tls::Transport> Session<S> {
    /// SEARCH or SORT with RETURN options.
    pub(super) async fn extended_search(
        &mut self,
        tag: Tag<'static>,
        ret: ReturnOptions,
        body: CommandBody<'static>,
    ) -> Flow {
        let (uid, sorted, keys) = match body {
            CommandBody::Search { criteria, uid, .. } => (uid, None, criteria.into_inner()),
            CommandBody::Sort { sort_criteria, search_criteria, uid, .. } => {
                (uid, Some(sort_criteria), search_criteria.into_inner())
            }
            _ => {
                self.bad(tag, "Not a search");
                return Flow::Continue;
            }
        };
        let found = match self.matching(&keys).await {
            Ok(found) => found,
            Err(e) => return self.store_failed(tag, &e),
        };
        let mut answers: Vec<(u32, u64)> =
            found.iter().map(|(n, m)| (if uid { m.uid } else { *n }, m.modseq)).collect();
        let mut order_uids = Vec::new();
        if let Some(criteria) = &sorted {
            let keys = match self.sort_keys(&keys, uid).await {
                Ok(k) => k,
                Err(e) => return self.store_failed(tag, &e),
            };
            let order = super::sort::sort(keys, criteria.as_ref());
            let uid_of: std::collections::HashMap<u32, u32> = found.iter().map(|(n, m)| (*n, m.uid)).collect();
            order_uids = order.iter().map(|a| if uid { *a } else { uid_of.get(a).copied().unwrap_or(0) }).collect();
            let modseqs: std::collections::HashMap<u32, u64> = answers.iter().copied().collect();
            answers = order.into_iter().map(|a| (a, modseqs.get(&a).copied().unwrap_or(0))).collect();
        }
        let modseq = super::selected::keys_have_modseq(&keys);
        if modseq {
            self.enable_condstore();
        }
        // SAVE alone asks for no response (RFC 5182 §2.1).
        let only_saved = ret == ReturnOptions { save: true, ..ReturnOptions::default() };
        if !only_saved {
            self.raw(response(tag.as_ref(), uid, &ret, &answers, modseq, sorted.is_some()).into_bytes());
        }
        if let State::Selected(_, sel) = &mut self.state {
            let mut uids: Vec<u32> = found.iter().map(|(_, m)| m.uid).collect();
            uids.sort_unstable();
            if ret.save {
                sel.saved = uids.clone();
            }
            if ret.update {
                let sort = sorted.as_ref().map(|c| c.as_ref().to_vec());
                let result = if sort.is_some() { order_uids.clone() } else { uids };
                sel.updates.retain(|u| u.tag != tag.as_ref());
                sel.updates.push(Update { tag: tag.as_ref().to_owned(), keys, uid, sort, result });
            }
        }
        let what = match (sorted.is_some(), uid) {
            (false, false) => "SEARCH completed",
            (false, true) => "UID SEARCH completed",
            (true, false) => "SORT completed",
            (true, true) => "UID SORT completed",
        };
        self.ok(tag, None, what);
        Flow::Continue
    }

    /// CANCELUPDATE: stops reporting the searches these tags started.
    pub(super) fn cancel_update(&mut self, tag: Tag<'static>, tags: Vec<String>) -> Flow {
        let State::Selected(_, sel) = &mut self.state else {
            self.bad(tag, "Select a folder first");
            return Flow::Continue;
        };
        if let Some(unknown) = tags.iter().find(|t| !sel.updates.iter().any(|u| &u.tag == *t)) {
            let why = format!("No search is kept for tag {unknown}");
            self.no(tag, None, &why);
            return Flow::Continue;
        }
        sel.updates.retain(|u| !tags.contains(&u.tag));
        self.ok(tag, None, "CANCELUPDATE completed");
        Flow::Continue
    }

    /// Tells the client how each kept search's result changed (ADDTO, REMOVEFROM).
    pub(super) async fn refresh_updates(&mut self) {
        let updates = match &self.state {
            State::Selected(_, sel) if !sel.updates.is_empty() => sel.updates.clone(),
            _ => return,
        };
        for (i, update) in updates.into_iter().enumerate() {
            if let Some(criteria) = &update.sort {
                self.refresh_sorted(i, &update, criteria).await;
                continue;
            }
            let Ok(found) = self.matching(&update.keys).await else { continue };
            let mut now: Vec<(u32, u32)> = found.iter().map(|(n, m)| (m.uid, *n)).collect();
            now.sort_unstable();
            let answer = |(uid, n): &(u32, u32)| if update.uid { *uid } else { *n };
            let State::Selected(_, sel) = &self.state else { return };
            let number_of = |uid: u32| sel.messages.binary_search_by_key(&uid, |m| m.uid).ok().map(|i| i as u32 + 1);
            let mut removed: Vec<u32> = update
                .result
                .iter()
                .filter(|u| now.binary_search_by_key(*u, |x| x.0).is_err())
                .filter_map(|&u| if update.uid { Some(u) } else { number_of(u) })
                .collect();
            let mut added: Vec<u32> =
                now.iter().filter(|x| update.result.binary_search(&x.0).is_err()).map(answer).collect();
            removed.sort_unstable();
            added.sort_unstable();
            let head = format!("* ESEARCH (TAG {}){}", quoted(&update.tag), if update.uid { " UID" } else { "" });
            if !removed.is_empty() {
                self.raw(format!("{head} REMOVEFROM (0 {})\r\n", sequence_set(&removed)).into_bytes());
            }
            if !added.is_empty() {
                self.raw(format!("{head} ADDTO (0 {})\r\n", sequence_set(&added)).into_bytes());
            }
            if let State::Selected(_, sel) = &mut self.state
                && let Some(u) = sel.updates.get_mut(i)
            {
                u.result = now.iter().map(|x| x.0).collect();
            }
        }
    }

    /// A kept SORT's changes (CONTEXT=SORT): REMOVEFROM and ADDTO with positions.
    async fn refresh_sorted(&mut self, i: usize, update: &Update, criteria: &[SortCriterion]) {
        let Ok(keys) = self.sort_keys(&update.keys, true).await else { return };
        let now = super::sort::sort(keys, criteria);
        let (removed, added) = sorted_changes(&update.result, &now);
        let State::Selected(_, sel) = &self.state else { return };
        let answer = |uid: u32| {
            if update.uid {
                Some(uid)
            } else {
                sel.messages.binary_search_by_key(&uid, |m| m.uid).ok().and_then(|i| u32::try_from(i + 1).ok())
            }
        };
        let pairs = |changes: &[(usize, u32)]| -> String {
            changes.iter().filter_map(|(p, u)| answer(*u).map(|a| format!("{p} {a}"))).collect::<Vec<_>>().join(" ")
        };
        let (removed, added) = (pairs(&removed), pairs(&added));
        let head = format!("* ESEARCH (TAG {}){}", quoted(&update.tag), if update.uid { " UID" } else { "" });
        if !removed.is_empty() {
            self.raw(format!("{head} REMOVEFROM ({removed})\r\n").into_bytes());
        }
        if !added.is_empty() {
            self.raw(format!("{head} ADDTO ({added})\r\n").into_bytes());
        }
        if let State::Selected(_, sel) = &mut self.state
            && let Some(u) = sel.updates.get_mut(i)
        {
            u.result = now;
        }
    }

    /// Before messages leave the client's view: REMOVEFROM for the kept searches
    /// they were in, numbered as the client still knows them.
    pub(super) fn expunging(&mut self, gone: &[u32]) {
        let State::Selected(_, sel) = &mut self.state else { return };
        if sel.updates.is_empty() {
            return;
        }
        let mut lines = Vec::new();
        let messages = &sel.messages;
        for u in &mut sel.updates {
            if u.sort.is_some() {
                // Positions in the sorted result, highest first.
                let pairs: Vec<String> = u
                    .result
                    .iter()
                    .enumerate()
                    .rev()
                    .filter(|(_, uid)| gone.contains(uid))
                    .filter_map(|(p, &uid)| {
                        let answer = if u.uid {
                            Some(uid)
                        } else {
                            messages.binary_search_by_key(&uid, |m| m.uid).ok().map(|i| i as u32 + 1)
                        };
                        answer.map(|a| format!("{} {a}", p + 1))
                    })
                    .collect();
                u.result.retain(|uid| !gone.contains(uid));
                if !pairs.is_empty() {
                    lines.push(format!(
                        "* ESEARCH (TAG {}){} REMOVEFROM ({})\r\n",
                        quoted(&u.tag),
                        if u.uid { " UID" } else { "" },
                        pairs.join(" ")
                    ));
                }
                continue;
            }
            let mut out: Vec<u32> = u
                .result
                .iter()
                .filter(|uid| gone.contains(uid))
                .filter_map(|&uid| {
                    if u.uid {
                        Some(uid)
                    } else {
                        messages.binary_search_by_key(&uid, |m| m.uid).ok().map(|i| i as u32 + 1)
                    }
                })
                .collect();
            u.result.retain(|uid| !gone.contains(uid));
            if out.is_empty() {
                continue;
            }
            out.sort_unstable();
            lines.push(format!(
                "* ESEARCH (TAG {}){} REMOVEFROM (0 {})\r\n",
                quoted(&u.tag),
                if u.uid { " UID" } else { "" },
                sequence_set(&out)
            ));
        }
        for line in lines {
            self.raw(line.into_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sorted_results_changes_keep_every_position_right_as_applied() {
        let (removed, added) = sorted_changes(&[5, 3, 9, 1], &[7, 5, 1, 2]);
        assert_eq!(removed, [(3, 9), (2, 3)], "highest position first");
        assert_eq!(added, [(1, 7), (4, 2)], "lowest first, at their final place");
        // Applying them gives the new order.
        let mut list = vec![5, 3, 9, 1];
        for (p, _) in &removed {
            list.remove(p - 1);
        }
        for (p, u) in &added {
            list.insert(p - 1, *u);
        }
        assert_eq!(list, [7, 5, 1, 2]);
    }

    #[test]
    fn results_become_ranges_where_they_ascend() {
        assert_eq!(sequence_set(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(sequence_set(&[5, 4, 3]), "5,4,3");
        assert_eq!(sequence_set(&[]), "");
        assert_eq!(sequence_set(&[u32::MAX - 1, u32::MAX]), format!("{}:{}", u32::MAX - 1, u32::MAX));
    }

    #[test]
    fn partial_ranges_count_from_either_end_and_stay_inside_the_result() {
        assert_eq!(partial_slice((1, 1), 5), 0..1);
        assert_eq!(partial_slice((2, 4), 5), 1..4);
        assert_eq!(partial_slice((1, 6), 5), 0..5);
        assert_eq!(partial_slice((6, 6), 5), 5..5);
        assert_eq!(partial_slice((-1, -2), 5), 3..5);
        assert_eq!(partial_slice((-5, -9), 3), 0..0);
    }

    #[test]
    fn an_empty_result_gives_only_its_count() {
        let ret = ReturnOptions { min: true, max: true, all: true, count: true, ..Default::default() };
        assert_eq!(response("a", true, &ret, &[], true, false), "* ESEARCH (TAG \"a\") UID COUNT 0\r\n");
        let got = response("a", false, &ret, &[(1, 10), (2, 30), (4, 20)], true, false);
        assert_eq!(got, "* ESEARCH (TAG \"a\") MIN 1 MAX 4 COUNT 3 ALL 1:2,4 MODSEQ 30\r\n");
        let min = ReturnOptions { min: true, ..Default::default() };
        assert_eq!(
            response("a", false, &min, &[(1, 10), (2, 30)], true, false),
            "* ESEARCH (TAG \"a\") MIN 1 MODSEQ 10\r\n"
        );
        // A SORT's MIN is its first.
        assert_eq!(response("a", false, &min, &[(2, 30), (1, 10)], false, true), "* ESEARCH (TAG \"a\") MIN 2\r\n");
    }
}
