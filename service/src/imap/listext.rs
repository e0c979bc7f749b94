//! LIST-EXTENDED (RFC 5258) and LIST-STATUS (RFC 5819): LIST with selection options
//! (SUBSCRIBED, RECURSIVEMATCH, SPECIAL-USE, REMOTE), several patterns, and RETURN
//! options (SUBSCRIBED, CHILDREN, SPECIAL-USE, STATUS). Subscriptions are names:
//! one whose folder was deleted is listed as `\NonExistent`.
//!
//! imap-types' LIST response has no place for the extended data (`CHILDINFO`), so
//! these lines are written here ([`Session::raw`]).

use std::collections::BTreeMap;

use imap_next::imap_types::core::Tag;

use super::extended::ListExtended;
use super::names;
use super::session::{Flow, Session};
use crate::store::Folder;
use mailroom_shared::rights::Rights;

/// One name a LIST-EXTENDED may show.
#[derive(Debug, Default, Clone)]
struct Entry {
    /// A folder of that name exists (else it is a subscription or a level above).
    exists: bool,
    subscribed: bool,
    special_use: Option<String>,
}

/// A name as an IMAP string in a response (as the client reads names), quoted.
fn quoted_name(wire: &str) -> String {
    format!("\"{}\"", wire.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The LIST lines (without STATUS) for `list` over `entries` (every folder,
/// subscription and level above them), with the names each line is about.
fn lines(
    list: &ListExtended,
    patterns: &[String],
    entries: &BTreeMap<String, Entry>,
    wire: impl Fn(&str) -> String,
) -> Vec<(String, String)> {
    let matches = |name: &str| patterns.iter().any(|p| names::matches(p, name));
    let selects = |e: &Entry| {
        (if list.subscribed { e.subscribed } else { e.exists }) && (!list.special_use || e.special_use.is_some())
    };
    let prefix_of = |name: &str| format!("{name}{}", names::DELIMITER);
    let mut out = Vec::new();
    // INBOX first, then by name.
    let order = entries.iter().filter(|(n, _)| *n == "INBOX").chain(entries.iter().filter(|(n, _)| *n != "INBOX"));
    for (name, e) in order {
        if !matches(name) {
            continue;
        }
        let prefix = prefix_of(name);
        let below = entries.range(prefix.clone()..).take_while(|(n, _)| n.starts_with(&prefix));
        let mut has_children = false;
        let mut childinfo = false;
        for (child, c) in below {
            has_children |= c.exists;
            // RFC 5258 §3.5: a child that is selected but not listed itself.
            childinfo |= list.recursive && selects(c) && !matches(child);
        }
        let selected = selects(e) || (!list.subscribed && !list.special_use && has_children);
        if !selected && !childinfo {
            continue;
        }
        let mut attributes: Vec<&str> = Vec::new();
        if !e.exists {
            attributes.push(if list.subscribed || list.special_use || !has_children {
                "\\NonExistent"
            } else {
                "\\Noselect"
            });
        }
        attributes.push(if has_children { "\\HasChildren" } else { "\\HasNoChildren" });
        if let Some(special) = &e.special_use {
            attributes.push(special);
        }
        if e.subscribed && (list.subscribed || list.return_subscribed) {
            attributes.push("\\Subscribed");
        }
        let mut line =
            format!("* LIST ({}) \"{}\" {}", attributes.join(" "), names::DELIMITER, quoted_name(&wire(name)));
        if childinfo {
            line.push_str(" (\"CHILDINFO\" (\"SUBSCRIBED\"))");
        }
        line.push_str("\r\n");
        out.push((name.clone(), line));
    }
    out
}

impl<S: crate::tls::Transport> Session<S> {
    /// LIST with RFC 5258's selection and return options, and several patterns.
    pub(super) async fn list_extended(&mut self, tag: Tag<'static>, list: ListExtended) -> Flow {
        let Some(user) = self.user() else { return Flow::Continue };
        let patterns: Vec<String> = list.patterns.iter().map(|p| names::pattern(&list.reference, p)).collect();
        if patterns.iter().all(String::is_empty) && !list.subscribed && !list.special_use {
            // The hierarchy delimiter and root (RFC 9051 §6.3.9).
            self.raw(format!("* LIST (\\Noselect) \"{}\" \"\"\r\n", names::DELIMITER).into_bytes());
            self.ok(tag, None, "LIST completed");
            return Flow::Continue;
        }
        // Others' folders too, those the user may look up (RFC 4314's `l`); they count
        // as subscribed while shared.
        let (folders, subscriptions) =
            match (self.reachable(&user, true).await, self.ctx.store.imap_subscriptions(user.mailbox).await) {
                (Ok(f), Ok(s)) => (f.into_iter().filter(|(_, r)| r.has(Rights::LOOKUP)).collect::<Vec<_>>(), s),
                (Err(e), _) | (_, Err(e)) => return self.store_failed(tag, &e),
            };
        let mut entries: BTreeMap<String, Entry> = BTreeMap::new();
        for (f, _) in &folders {
            let e = entries.entry(f.name.clone()).or_default();
            e.exists = true;
            e.special_use.clone_from(&f.special_use);
            e.subscribed |= f.mailbox != user.mailbox;
        }
        for s in subscriptions {
            entries.entry(s).or_default().subscribed = true;
        }
        let named: Vec<String> = entries.keys().cloned().collect();
        for name in &named {
            for parent in names::parents(name) {
                entries.entry(parent.to_owned()).or_default();
            }
        }
        let found: BTreeMap<&str, (&Folder, Rights)> =
            folders.iter().map(|(f, r)| (f.name.as_str(), (f, *r))).collect();
        let utf8 = self.utf8_names;
        let wire = |n: &str| if utf8 { names::from_modified_utf7(n) } else { n.to_owned() };
        for (name, line) in lines(&list, &patterns, &entries, wire) {
            self.raw(line.into_bytes());
            let Some(&(folder, rights)) = found.get(name.as_str()) else { continue };
            if let Some(items) = &list.status
                && rights.has(Rights::READ)
            {
                let items = items.clone();
                let at = crate::store::Access::new(folder.mailbox, user.mailbox);
                if let Err(e) = self.status_of(at, folder.id, &name, items).await {
                    return self.store_failed(tag, &e);
                }
            }
            if list.myrights {
                // RFC 8440: the user's rights, after the LIST line.
                let line = format!("* MYRIGHTS {} {}\r\n", quoted_name(&wire(&name)), rights.imap_letters());
                self.raw(line.into_bytes());
            }
        }
        self.ok(tag, None, "LIST completed");
        Flow::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_next::imap_types::mailbox::{ListMailbox, Mailbox};

    fn entries(folders: &[&str], subscribed: &[&str]) -> BTreeMap<String, Entry> {
        let mut out: BTreeMap<String, Entry> = BTreeMap::new();
        for f in folders {
            out.entry((*f).to_owned()).or_default().exists = true;
        }
        for s in subscribed {
            out.entry((*s).to_owned()).or_default().subscribed = true;
        }
        let names: Vec<String> = out.keys().cloned().collect();
        for n in &names {
            for p in names::parents(n) {
                out.entry(p.to_owned()).or_default();
            }
        }
        out
    }

    fn list(subscribed: bool, recursive: bool, patterns: &[&str]) -> (ListExtended, Vec<String>) {
        let l = ListExtended {
            subscribed,
            recursive,
            special_use: false,
            reference: Mailbox::try_from("").expect("mailbox"),
            patterns: patterns.iter().map(|p| ListMailbox::try_from((*p).to_owned()).expect("pattern")).collect(),
            return_subscribed: false,
            return_special_use: false,
            status: None,
            myrights: false,
        };
        let p = patterns.iter().map(|p| (*p).to_owned()).collect();
        (l, p)
    }

    #[test]
    fn recursivematch_marks_parents_of_subscribed_children_the_patterns_miss() {
        let all = entries(&["a", "a/x", "a/y", "b", "b/x"], &["a/x", "b/x", "gone"]);
        let (l, p) = list(true, true, &["%"]);
        let got: Vec<String> = lines(&l, &p, &all, str::to_owned).into_iter().map(|(_, line)| line).collect();
        assert_eq!(
            got,
            [
                "* LIST (\\HasChildren) \"/\" \"a\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n",
                "* LIST (\\HasChildren) \"/\" \"b\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n",
                "* LIST (\\NonExistent \\HasNoChildren \\Subscribed) \"/\" \"gone\"\r\n",
            ]
        );
        // A child the pattern lists itself gives its parent no CHILDINFO.
        let (l, p) = list(true, true, &["*x"]);
        let got: Vec<String> = lines(&l, &p, &all, str::to_owned).into_iter().map(|(n, _)| n).collect();
        assert_eq!(got, ["a/x", "b/x"]);
    }

    #[test]
    fn several_patterns_list_each_folder_once() {
        let all = entries(&["a", "a/b", "c"], &[]);
        let (l, p) = list(false, false, &["*", "a"]);
        let got: Vec<String> = lines(&l, &p, &all, str::to_owned).into_iter().map(|(n, _)| n).collect();
        assert_eq!(got, ["a", "a/b", "c"]);
    }
}
