//! SORT and THREAD (RFC 5256, with SORT=DISPLAY from RFC 5957): the keys each message
//! is ordered by, read once from its header, the base subject with its reply and
//! forward markers taken off, and the two threading algorithms — ORDEREDSUBJECT and
//! REFERENCES. Pure, apart from any I/O: the session finds the messages a command
//! names and hands their headers here.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use imap_next::imap_types::extensions::sort::{SortCriterion, SortKey};

/// What a message is sorted and threaded by.
#[derive(Debug, Clone, Default)]
pub struct Keys {
    /// Its message number (the last tie-breaker, and what SORT answers by default).
    pub number: u32,
    /// What the answer names it by: its number or its UID.
    pub answer: u32,
    /// INTERNALDATE, Unix seconds.
    pub arrival: i64,
    /// The Date field in UTC, or INTERNALDATE when there is none that parses.
    pub sent: i64,
    /// RFC822.SIZE.
    pub size: u64,
    /// What its header says, read once ([`HeaderKeys::cached`]).
    pub h: Arc<HeaderKeys>,
}

/// The keys a message's header gives: the same for as long as the message exists.
#[derive(Debug, Clone, Default)]
pub struct HeaderKeys {
    /// The Date field in UTC, when it parses.
    pub sent: Option<i64>,
    /// The base subject (RFC 5256 §2.1).
    pub subject: String,
    /// Whether the subject was a reply or forward ("Re:", "Fwd:", "[fwd: …]").
    pub reply: bool,
    /// The mailbox (local part) of the first From, To and Cc address (a group's name
    /// when the field starts with one), upper case.
    pub from: String,
    /// See `from`.
    pub to: String,
    /// See `from`.
    pub cc: String,
    /// The display name of the first From and To address, or its address when it has
    /// none (RFC 5957), upper case.
    pub display_from: String,
    /// See `display_from`.
    pub display_to: String,
    /// Its Message-ID without the angle brackets.
    pub message_id: Option<String>,
    /// The message ids of References, or else the first of In-Reply-To, oldest first.
    pub references: Vec<String>,
}

/// Header keys already read, by message row id (a row's header never changes): SORT
/// and THREAD over a large folder parse each header once, not once per command. Shared
/// by every session; emptied when it grows past [`CACHED`] entries.
static CACHE: std::sync::LazyLock<Mutex<HashMap<i64, Arc<HeaderKeys>>>> = std::sync::LazyLock::new(Mutex::default);

/// How many messages' header keys [`CACHE`] holds at most (some 300 bytes each).
const CACHED: usize = 200_000;

impl HeaderKeys {
    /// The cached keys of the messages of `ids` that have them.
    pub fn cached(ids: &[i64]) -> HashMap<i64, Arc<HeaderKeys>> {
        let cache = CACHE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        ids.iter().filter_map(|id| cache.get(id).map(|k| (*id, Arc::clone(k)))).collect()
    }

    /// Reads the keys of the message `id` from its header, and keeps them.
    pub fn read(id: i64, header: &[u8]) -> Arc<HeaderKeys> {
        let keys = Arc::new(HeaderKeys::of(header));
        let mut cache = CACHE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() >= CACHED {
            cache.clear();
        }
        cache.insert(id, Arc::clone(&keys));
        keys
    }

    /// The keys `header` gives.
    pub fn of(header: &[u8]) -> HeaderKeys {
        let parsed = mail_parser::MessageParser::new().parse_headers(header);
        let Some(m) = parsed else { return HeaderKeys::default() };
        // Compared as RFC 5256 says (i;ascii-casemap): in upper case.
        let mailbox = |a: &First<'_>| match a {
            First::Addr(a) => {
                let address = a.address.as_deref().unwrap_or("");
                address.rsplit_once('@').map_or(address, |(local, _)| local).to_uppercase()
            }
            First::Group(name) => name.to_uppercase(),
            First::None => String::new(),
        };
        let display = |a: &First<'_>| match a {
            First::Addr(a) => match a.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
                Some(name) => name.to_uppercase(),
                None => a.address.as_deref().unwrap_or("").to_uppercase(),
            },
            First::Group(name) => name.to_uppercase(),
            First::None => String::new(),
        };
        let (from, to, cc) = (first(m.from()), first(m.to()), first(m.cc()));
        let (subject, reply) = base_subject(m.subject().unwrap_or(""));
        let ids = |v: &mail_parser::HeaderValue<'_>| -> Vec<String> {
            v.as_text_list()
                .map(|l| l.iter().map(|s| s.trim_matches(['<', '>']).to_owned()).collect())
                .unwrap_or_default()
        };
        let mut references: Vec<String> = ids(m.references()).into_iter().filter(|r| !r.is_empty()).collect();
        if references.is_empty() {
            references = ids(m.in_reply_to()).into_iter().filter(|r| !r.is_empty()).take(1).collect();
        }
        HeaderKeys {
            sent: m.date().map(mail_parser::DateTime::to_timestamp),
            subject,
            reply,
            from: mailbox(&from),
            to: mailbox(&to),
            cc: mailbox(&cc),
            display_from: display(&from),
            display_to: display(&to),
            message_id: m.message_id().map(|id| id.trim_matches(['<', '>']).to_owned()).filter(|id| !id.is_empty()),
            references,
        }
    }
}

impl Keys {
    /// The keys of a message: its own, and its header's.
    pub fn new(number: u32, answer: u32, arrival: i64, size: u64, h: Arc<HeaderKeys>) -> Keys {
        Keys { number, answer, arrival, sent: h.sent.unwrap_or(arrival), size, h }
    }

    /// The keys of the message whose header is `header` (not cached).
    pub fn of(number: u32, answer: u32, arrival: i64, size: u64, header: &[u8]) -> Keys {
        Keys::new(number, answer, arrival, size, Arc::new(HeaderKeys::of(header)))
    }
}

/// The first address of an address field as ENVELOPE lists it: an address, or the
/// name of the group it starts with.
enum First<'a> {
    Addr(&'a mail_parser::Addr<'a>),
    Group(&'a str),
    None,
}

fn first<'a>(field: Option<&'a mail_parser::Address<'a>>) -> First<'a> {
    match field {
        Some(mail_parser::Address::List(list)) => list.first().map_or(First::None, First::Addr),
        Some(mail_parser::Address::Group(groups)) => match groups.first() {
            Some(g) => match (&g.name, g.addresses.first()) {
                (Some(name), _) => First::Group(name),
                (None, Some(a)) => First::Addr(a),
                (None, None) => First::None,
            },
            None => First::None,
        },
        None => First::None,
    }
}

/// The base subject of `subject` (RFC 5256 §2.1), already decoded: whitespace runs
/// made one space, trailing "(fwd)", leading "Re:", "Fw:", "Fwd:" (with a `[blob]`
/// each may carry) and `[blob]`s, and a "[fwd: …]" wrapper taken off, over and over
/// until none is left; and whether any reply or forward marker was taken off.
pub fn base_subject(subject: &str) -> (String, bool) {
    let mut s: String = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut reply = false;
    loop {
        // (2) Trailing "(fwd)" and spaces.
        loop {
            let trimmed = s.trim_end();
            let lower = trimmed.to_ascii_lowercase();
            if lower.ends_with("(fwd)") {
                s = trimmed[..trimmed.len() - 5].to_owned();
                reply = true;
            } else {
                s = trimmed.to_owned();
                break;
            }
        }
        // (3)–(5) Leading "re:"/"fw:"/"fwd:" with an optional blob, and blobs.
        loop {
            let before = s.clone();
            s = s.trim_start().to_owned();
            if let Some(rest) = strip_refwd(&s) {
                s = rest;
                reply = true;
            }
            if let Some(rest) = strip_blob(&s)
                && !rest.trim().is_empty()
            {
                s = rest;
            }
            if s == before {
                break;
            }
        }
        // (6) "[fwd: …]".
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("[fwd:") && s.ends_with(']') {
            s = s[5..s.len() - 1].to_owned();
            reply = true;
            continue;
        }
        break;
    }
    (s.trim().to_owned(), reply)
}

/// `s` without a leading `subj-refwd` ("re", "fw" or "fwd", spaces, an optional blob,
/// and a colon), if it has one.
fn strip_refwd(s: &str) -> Option<String> {
    let lower = s.to_ascii_lowercase();
    let prefix = ["fwd", "fw", "re"].iter().find(|p| lower.starts_with(**p))?;
    let mut rest = s[prefix.len()..].trim_start().to_owned();
    if rest.starts_with('[') {
        rest = strip_blob(&rest)?;
    }
    rest.strip_prefix(':').map(str::to_owned)
}

/// `s` without a leading `subj-blob` (`[` text without brackets `]` and spaces).
fn strip_blob(s: &str) -> Option<String> {
    let rest = s.strip_prefix('[')?;
    let end = rest.find([']', '['])?;
    (rest.as_bytes()[end] == b']').then(|| rest[end + 1..].trim_start().to_owned())
}

/// How `a` and `b` compare under SORT's criteria, the message number breaking ties.
fn compare(a: &Keys, b: &Keys, criteria: &[SortCriterion]) -> Ordering {
    for c in criteria {
        let o = match c.key {
            SortKey::Arrival => a.arrival.cmp(&b.arrival),
            SortKey::Date => a.sent.cmp(&b.sent),
            SortKey::Size => a.size.cmp(&b.size),
            SortKey::Subject => a.h.subject.to_uppercase().cmp(&b.h.subject.to_uppercase()),
            SortKey::From => a.h.from.cmp(&b.h.from),
            SortKey::To => a.h.to.cmp(&b.h.to),
            SortKey::Cc => a.h.cc.cmp(&b.h.cc),
            SortKey::DisplayFrom => a.h.display_from.cmp(&b.h.display_from),
            SortKey::DisplayTo => a.h.display_to.cmp(&b.h.display_to),
        };
        let o = if c.reverse { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.number.cmp(&b.number)
}

/// SORT: the messages in the order `criteria` say.
pub fn sort(mut messages: Vec<Keys>, criteria: &[SortCriterion]) -> Vec<u32> {
    messages.sort_by(|a, b| compare(a, b, criteria));
    messages.into_iter().map(|k| k.answer).collect()
}

/// A thread: a message (or, in REFERENCES, a placeholder for one that is not here)
/// and its replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The message, by the number or UID the answer uses; `None` for a placeholder.
    pub message: Option<u32>,
    /// Its replies, in order.
    pub children: Vec<Node>,
}

/// THREAD=ORDEREDSUBJECT (RFC 5256 §3): messages grouped by base subject, each group
/// in sent-date order under its first message, the groups ordered by that message.
pub fn ordered_subject(mut messages: Vec<Keys>) -> Vec<Node> {
    messages.sort_by(|a, b| {
        a.h.subject
            .to_lowercase()
            .cmp(&b.h.subject.to_lowercase())
            .then(a.sent.cmp(&b.sent))
            .then(a.number.cmp(&b.number))
    });
    let mut threads: Vec<(i64, u32, Node)> = Vec::new();
    let mut current: Option<String> = None;
    for m in messages {
        let subject = m.h.subject.to_lowercase();
        match threads.last_mut() {
            Some((_, _, root)) if current.as_deref() == Some(subject.as_str()) => {
                root.children.push(Node { message: Some(m.answer), children: Vec::new() });
            }
            _ => {
                threads.push((m.sent, m.number, Node { message: Some(m.answer), children: Vec::new() }));
                current = Some(subject);
            }
        }
    }
    threads.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    threads.into_iter().map(|(_, _, node)| node).collect()
}

/// One container of the REFERENCES algorithm: a message id, the message with it if
/// there is one here, and its place in the tree.
#[derive(Debug, Default)]
struct Container {
    message: Option<usize>,
    parent: Option<usize>,
    children: Vec<usize>,
}

/// THREAD=REFERENCES (RFC 5256 §3, after Jamie Zawinski's algorithm): messages linked
/// by their References (or In-Reply-To), placeholders for the missing ones pruned,
/// roots with the same base subject gathered, every level in sent-date order.
pub fn references(messages: Vec<Keys>) -> Vec<Node> {
    let mut arena: Vec<Container> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    fn container(arena: &mut Vec<Container>, by_id: &mut HashMap<String, usize>, id: &str) -> usize {
        *by_id.entry(id.to_owned()).or_insert_with(|| {
            arena.push(Container::default());
            arena.len() - 1
        })
    }
    // Is `ancestor` above `node` (or the same)?
    fn reaches(arena: &[Container], ancestor: usize, mut node: usize) -> bool {
        loop {
            if node == ancestor {
                return true;
            }
            match arena[node].parent {
                Some(p) => node = p,
                None => return false,
            }
        }
    }
    fn unlink(arena: &mut [Container], child: usize) {
        if let Some(p) = arena[child].parent.take() {
            arena[p].children.retain(|&c| c != child);
        }
    }
    fn link(arena: &mut [Container], parent: usize, child: usize) {
        unlink(arena, child);
        arena[child].parent = Some(parent);
        arena[parent].children.push(child);
    }
    // (1) Containers, linked along each message's references.
    for (i, m) in messages.iter().enumerate() {
        let own = match &m.h.message_id {
            Some(id) if by_id.get(id).is_none_or(|&c| arena[c].message.is_none()) => {
                container(&mut arena, &mut by_id, id)
            }
            // No Message-ID, or one already taken: a container of its own.
            _ => {
                arena.push(Container::default());
                arena.len() - 1
            }
        };
        arena[own].message = Some(i);
        let mut previous: Option<usize> = None;
        for r in &m.h.references {
            let c = container(&mut arena, &mut by_id, r);
            if let Some(p) = previous
                && arena[c].parent.is_none()
                && !reaches(&arena, c, p)
            {
                link(&mut arena, p, c);
            }
            previous = Some(c);
        }
        // The last reference is the parent, unless that makes a loop.
        match previous {
            Some(p) if p != own && !reaches(&arena, own, p) => link(&mut arena, p, own),
            _ => unlink(&mut arena, own),
        }
    }
    // (2) The roots.
    let roots: Vec<usize> = (0..arena.len()).filter(|&c| arena[c].parent.is_none()).collect();
    // (4) Placeholders pruned: one without replies goes; one with replies gives way to
    // them, except at the top with more than one.
    fn prune(arena: &[Container], c: usize, top: bool) -> Vec<Tree> {
        let children: Vec<Tree> = arena[c].children.iter().flat_map(|&k| prune(arena, k, false)).collect();
        match arena[c].message {
            Some(m) => vec![Tree { message: Some(m), children }],
            None if children.is_empty() => Vec::new(),
            None if top && children.len() > 1 => vec![Tree { message: None, children }],
            None => children,
        }
    }
    let mut trees: Vec<Tree> = roots.iter().flat_map(|&r| prune(&arena, r, true)).collect();
    // A placeholder promoted to the top by pruning needs its own children.
    let date = |t: &Tree| -> (i64, u32) {
        let first = t.first_message();
        first.map_or((i64::MAX, u32::MAX), |m| (messages[m].sent, messages[m].number))
    };
    // (5) Roots by date, so that (6) keeps the earliest of each subject.
    for t in &mut trees {
        t.sort(&date);
    }
    trees.sort_by_key(|t| date(t));
    // (6) Roots with the same base subject gathered.
    let subject_of = |t: &Tree| -> Option<(String, bool)> {
        let m = t.first_message()?;
        let k = &messages[m];
        let s = k.h.subject.to_lowercase();
        (!s.is_empty()).then(|| (s, t.message.is_some() && k.h.reply))
    };
    let mut table: HashMap<String, usize> = HashMap::new();
    for (i, t) in trees.iter().enumerate() {
        let Some((subject, reply)) = subject_of(t) else { continue };
        match table.get(&subject) {
            None => {
                table.insert(subject, i);
            }
            Some(&j) => {
                let old = &trees[j];
                let old_reply = old.message.is_some() && subject_of(old).is_some_and(|(_, r)| r);
                if (t.message.is_none() && old.message.is_some()) || (old_reply && !reply) {
                    table.insert(subject, i);
                }
            }
        }
    }
    let mut merged: Vec<Option<Tree>> = trees.into_iter().map(Some).collect();
    for i in 0..merged.len() {
        let Some((subject, reply)) = merged[i].as_ref().and_then(subject_of) else { continue };
        let Some(&j) = table.get(&subject) else { continue };
        if i == j {
            continue;
        }
        let (Some(this), Some(that)) = (merged[i].take(), merged[j].take()) else { continue };
        let that_reply = that.message.is_some() && subject_of(&that).is_some_and(|(_, r)| r);
        // In place: a subject shared by thousands of roots must not copy the children
        // gathered so far at each one.
        let joined = match (this.message.is_none(), that.message.is_none()) {
            // Both placeholders: one holds both's children.
            (true, true) => {
                let mut that = that;
                that.children.extend(this.children);
                that
            }
            // The table's is a placeholder: this one joins it.
            (false, true) => {
                let mut that = that;
                that.children.push(this);
                that
            }
            // This one is a placeholder: the table's joins it.
            (true, false) => {
                let mut this = this;
                this.children.push(that);
                this
            }
            // The table's is not a reply and this one is: this one becomes its reply.
            (false, false) if reply && !that_reply => {
                let mut that = that;
                that.children.push(this);
                that
            }
            // Otherwise both go under a new placeholder.
            _ => Tree { message: None, children: vec![that, this] },
        };
        merged[j] = Some(joined);
    }
    let mut trees: Vec<Tree> = merged.into_iter().flatten().collect();
    // (7) Every level by date.
    for t in &mut trees {
        t.sort(&date);
    }
    trees.sort_by_key(|t| date(t));
    trees.into_iter().map(|t| t.into_node(&messages)).collect()
}

/// A thread being built: messages by their index in the input.
#[derive(Debug, Clone)]
struct Tree {
    message: Option<usize>,
    children: Vec<Tree>,
}

impl Tree {
    /// The message that stands for the tree: its own, or its first child's.
    fn first_message(&self) -> Option<usize> {
        self.message.or_else(|| self.children.first().and_then(Tree::first_message))
    }

    /// Sorts every level by `date`.
    fn sort(&mut self, date: &dyn Fn(&Tree) -> (i64, u32)) {
        for c in &mut self.children {
            c.sort(date);
        }
        self.children.sort_by_key(|t| date(t));
    }

    fn into_node(self, messages: &[Keys]) -> Node {
        Node {
            message: self.message.map(|m| messages[m].answer),
            children: self.children.into_iter().map(|c| c.into_node(messages)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(number: u32, header: &str) -> Keys {
        Keys::of(number, number, i64::from(number), 100, header.replace('\n', "\r\n").as_bytes())
    }

    #[test]
    fn base_subjects_lose_their_reply_and_forward_markers() {
        assert_eq!(base_subject("Re: hello"), ("hello".to_owned(), true));
        assert_eq!(base_subject("RE: [list] Fwd: hello (fwd)"), ("hello".to_owned(), true));
        assert_eq!(base_subject("[fwd: Re: hello]"), ("hello".to_owned(), true));
        assert_eq!(base_subject("re[2]: hello   world"), ("hello world".to_owned(), true));
        assert_eq!(base_subject("[list] hello"), ("hello".to_owned(), false));
        assert_eq!(base_subject("[only a blob]"), ("[only a blob]".to_owned(), false));
        assert_eq!(base_subject("Reply: x"), ("Reply: x".to_owned(), false));
        assert_eq!(base_subject(""), (String::new(), false));
    }

    #[test]
    fn sort_orders_by_each_key_in_turn_then_by_number() {
        let a = keys(1, "From: Zed <z@x>\nSubject: b\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n\n");
        let b = keys(2, "From: Amy <a@x>\nSubject: Re: a\nDate: Mon, 1 Jan 2024 09:00:00 +0000\n\n");
        let c = keys(3, "From: amy <a@x>\nSubject: a\nDate: Mon, 1 Jan 2024 11:00:00 +0000\n\n");
        let by = |key, reverse| vec![SortCriterion { reverse, key }];
        let all = || vec![a.clone(), b.clone(), c.clone()];
        assert_eq!(sort(all(), &by(SortKey::Date, false)), [2, 1, 3]);
        assert_eq!(sort(all(), &by(SortKey::Subject, false)), [2, 3, 1]);
        assert_eq!(sort(all(), &by(SortKey::From, true)), [1, 2, 3], "ties keep number order");
        assert_eq!(sort(all(), &by(SortKey::DisplayFrom, false)), [2, 3, 1]);
        assert_eq!(sort(all(), &by(SortKey::Arrival, true)), [3, 2, 1]);
    }

    #[test]
    fn references_follow_the_chain_and_gather_subjects() {
        let m = vec![
            keys(1, "Message-ID: <1@x>\nSubject: plan\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n\n"),
            keys(
                2,
                "Message-ID: <2@x>\nIn-Reply-To: <1@x>\nSubject: Re: plan\nDate: Mon, 1 Jan 2024 11:00:00 +0000\n\n",
            ),
            keys(
                3,
                "Message-ID: <3@x>\nReferences: <1@x> <2@x>\nSubject: Re: plan\nDate: Mon, 1 Jan 2024 12:00:00 +0000\n\n",
            ),
            keys(4, "Message-ID: <4@x>\nSubject: other\nDate: Mon, 1 Jan 2024 09:00:00 +0000\n\n"),
            // Its parent is missing, but its subject is the plan's.
            keys(
                5,
                "Message-ID: <5@x>\nReferences: <gone@x>\nSubject: Re: plan\nDate: Mon, 1 Jan 2024 13:00:00 +0000\n\n",
            ),
        ];
        let threads = references(m);
        let leaf = |n| Node { message: Some(n), children: vec![] };
        assert_eq!(threads[0], leaf(4));
        assert_eq!(
            threads[1],
            Node { message: Some(1), children: vec![Node { message: Some(2), children: vec![leaf(3)] }, leaf(5)] }
        );
        assert_eq!(threads.len(), 2);
    }

    #[test]
    fn ordered_subject_puts_each_subject_under_its_first_message() {
        let m = vec![
            keys(1, "Subject: b\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n\n"),
            keys(2, "Subject: Re: a\nDate: Mon, 1 Jan 2024 12:00:00 +0000\n\n"),
            keys(3, "Subject: a\nDate: Mon, 1 Jan 2024 09:00:00 +0000\n\n"),
        ];
        let leaf = |n| Node { message: Some(n), children: vec![] };
        assert_eq!(ordered_subject(m), [Node { message: Some(3), children: vec![leaf(2)] }, leaf(1)]);
    }
}
