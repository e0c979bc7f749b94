//! Other people's folders in IMAP: the "Other Users" namespace (RFC 2342) where each
//! person sees what others shared with them, the "Shared Folders" namespace of the
//! organisation's public folders ([`crate::store::public`]), the ACL commands (RFC 4314: MYRIGHTS,
//! GETACL, SETACL, DELETEACL, LISTRIGHTS) and the checks every command makes of the
//! rights the store keeps ([`crate::store::sharing`]).
//!
//! A person's own folders keep their names; a folder of info@ appears to bob@ as
//! `Other Users/info/INBOX` (the owner's local part when the owner's address is in the
//! login's domain, else the whole address). A folder on which someone has no right is
//! not there for them: every command answers as if it did not exist, so names and
//! counts never leak. One with some rights but not the one a command needs is refused
//! with `NO [NOPERM]`, naming the right. Rights are read at SELECT and again whenever
//! the store says they may have changed, so a person removed loses access at their
//! next command, or at once in IDLE.

use imap_next::imap_types::core::Tag;
use imap_next::imap_types::mailbox::Mailbox;
use imap_next::imap_types::response::Code;
use mailroom_shared::rights::Rights;

use super::names;
use super::session::{Flow, Session, State, User};
use crate::store::{Folder, Grantee};

/// The namespace of other people's folders.
pub const OTHER_USERS: &str = "Other Users";

/// The namespace of the organisation's public folders.
pub const SHARED_FOLDERS: &str = "Shared Folders";

/// An ACL command, parsed ([`super::extended`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Acl {
    /// `MYRIGHTS mailbox`.
    MyRights(Mailbox<'static>),
    /// `GETACL mailbox`.
    Get(Mailbox<'static>),
    /// `SETACL mailbox identifier rights` (rights with a leading `+` or `-` add or take
    /// away).
    Set(Mailbox<'static>, String, String),
    /// `DELETEACL mailbox identifier`.
    Delete(Mailbox<'static>, String),
    /// `LISTRIGHTS mailbox identifier`.
    ListRights(Mailbox<'static>, String),
}

/// How a person names another's folder: under [`OTHER_USERS`], by the owner's local
/// part when their address is in `domain`, else by the whole address.
pub fn shared_name(domain: &str, owner: &str, folder: &str) -> String {
    let who = match owner.rsplit_once('@') {
        Some((local, d)) if d.eq_ignore_ascii_case(domain) => local,
        _ => owner,
    };
    format!("{OTHER_USERS}{}{who}{}{folder}", names::DELIMITER, names::DELIMITER)
}

/// Whether a folder name (as a client gives it) is in the other users' namespace or
/// the public folders'.
pub fn is_shared_name(name: &str) -> bool {
    [OTHER_USERS, SHARED_FOLDERS]
        .iter()
        .any(|ns| name.strip_prefix(ns).is_some_and(|rest| rest.is_empty() || rest.starts_with(names::DELIMITER)))
}

/// Whether `wanted` names the folder `listed` (a shared INBOX in any case, as INBOX).
fn same_name(listed: &str, wanted: &str) -> bool {
    if listed == wanted {
        return true;
    }
    match (listed.strip_suffix("INBOX"), wanted.len() == listed.len()) {
        (Some(head), true) => wanted.starts_with(head) && wanted[head.len()..].eq_ignore_ascii_case("INBOX"),
        _ => false,
    }
}

/// The words for a right a command needs, in its refusal.
fn right_words(r: Rights) -> &'static str {
    match r {
        r if r == Rights::READ => "read",
        r if r == Rights::INSERT => "insert (add messages)",
        r if r == Rights::EXPUNGE => "expunge",
        r if r == Rights::DELETE_MESSAGES => "delete messages",
        r if r == Rights::CREATE => "create folders",
        r if r == Rights::DELETE_FOLDER => "delete the folder",
        r if r == Rights::ADMINISTER => "administer",
        r if r == Rights::SEEN => "keep seen",
        r if r == Rights::WRITE => "write",
        _ => "the needed",
    }
}

impl<S: crate::tls::Transport> Session<S> {
    /// The folders the user may reach, with their rights: their own (every right), and
    /// when `others`, those of other people they have any right on, named under
    /// [`OTHER_USERS`].
    pub(super) async fn reachable(
        &mut self,
        user: &User,
        others: bool,
    ) -> crate::store::StoreResult<Vec<(Folder, Rights)>> {
        let mut out: Vec<(Folder, Rights)> =
            self.ctx.store.imap_folders(user.mailbox).await?.into_iter().map(|f| (f, Rights::ALL_IMAP)).collect();
        if others {
            let domain = user.login.rsplit_once('@').map_or("", |(_, d)| d);
            // The epoch first: a change while the folders are read moves it, and they
            // are read again next time.
            let epoch = self.ctx.store.rights_epoch();
            let shares = match &self.shares {
                Some((at, shares)) if *at == epoch => std::sync::Arc::clone(shares),
                _ => {
                    let shares = std::sync::Arc::new(self.ctx.store.shared_folders(user.mailbox).await?);
                    self.shares = Some((epoch, std::sync::Arc::clone(&shares)));
                    shares
                }
            };
            for shared in shares.iter().cloned() {
                let mut folder = shared.folder;
                folder.name = if shared.public {
                    format!("{SHARED_FOLDERS}{}{}", names::DELIMITER, folder.name)
                } else {
                    shared_name(domain, &shared.owner, &folder.name)
                };
                out.push((folder, shared.rights.imap()));
            }
        }
        Ok(out)
    }

    /// The folder a mailbox argument names and the user's rights on it, or a
    /// `NO [NONEXISTENT]` sent (for a folder the user has no right on too).
    pub(super) async fn folder(
        &mut self,
        tag: &Tag<'static>,
        user: &User,
        name: &Mailbox<'_>,
    ) -> Option<(Folder, Rights)> {
        let wanted = names::folder_name(name);
        match self.reachable(user, is_shared_name(&wanted)).await {
            Ok(folders) => {
                let found = folders.into_iter().find(|(f, _)| same_name(&f.name, &wanted));
                if found.is_none() {
                    self.no(
                        tag.clone(),
                        Some(Code::Other(super::code("NONEXISTENT"))),
                        &format!("There is no folder named {wanted}"),
                    );
                }
                found
            }
            Err(e) => {
                self.store_failed(tag.clone(), &e);
                None
            }
        }
    }

    /// Where a name under [`OTHER_USERS`] goes (CREATE, RENAME's new name): the
    /// owner's mailbox and the name in it, when the user has `needed` there (on the
    /// parent folder, or on the whole mailbox for a top level). `Ok(None)` for a name
    /// of the user's own; `Err(())` when a refusal was sent.
    pub(super) async fn others_place(
        &mut self,
        tag: &Tag<'static>,
        user: &User,
        shown: &str,
        needed: Rights,
    ) -> Result<Option<(i64, String)>, ()> {
        if !is_shared_name(shown) {
            return Ok(None);
        }
        let folders = match self.reachable(user, true).await {
            Ok(f) => f,
            Err(e) => {
                self.store_failed(tag.clone(), &e);
                return Err(());
            }
        };
        let (prefix, name) = if let Some(rest) = shown.strip_prefix(SHARED_FOLDERS) {
            let name = rest.trim_start_matches(names::DELIMITER);
            if name.is_empty() {
                self.no(tag.clone(), Some(Code::Other(super::code("CANNOT"))), "Name a folder under Shared Folders/");
                return Err(());
            }
            (format!("{SHARED_FOLDERS}{}", names::DELIMITER), name)
        } else {
            let rest = shown[OTHER_USERS.len()..].trim_start_matches(names::DELIMITER);
            let Some((who, name)) = rest.split_once(names::DELIMITER).filter(|(w, n)| !w.is_empty() && !n.is_empty())
            else {
                let why =
                    format!("Folders under {OTHER_USERS} belong to someone: name one under {OTHER_USERS}/<person>/");
                self.no(tag.clone(), Some(Code::Other(super::code("CANNOT"))), &why);
                return Err(());
            };
            (format!("{OTHER_USERS}{}{who}{}", names::DELIMITER, names::DELIMITER), name)
        };
        let owner = folders.iter().find(|(f, _)| f.mailbox != user.mailbox && f.name.starts_with(&prefix));
        let Some(owner) = owner.map(|(f, _)| f.mailbox) else {
            let why = format!("You cannot make folders under {prefix}");
            self.no(tag.clone(), Some(Code::Other(super::code("NOPERM"))), &why);
            return Err(());
        };
        let parent = names::parents(name).last().map(|p| format!("{prefix}{p}"));
        let rights = match parent.as_ref().and_then(|p| folders.iter().find(|(f, _)| &f.name == p)) {
            Some((_, r)) => *r,
            None => match self.ctx.store.rights(user.mailbox, owner, None).await {
                Ok(r) => r.imap(),
                Err(e) => {
                    self.store_failed(tag.clone(), &e);
                    return Err(());
                }
            },
        };
        if self.lacks(tag, rights, needed, parent.as_deref().unwrap_or(prefix.trim_end_matches(names::DELIMITER))) {
            return Err(());
        }
        Ok(Some((owner, name.to_owned())))
    }

    /// Gives a folder just made in `mailbox` the grants of the folder above it (none
    /// for a top level: the mailbox's own apply).
    pub(super) async fn inherit_grants(&self, mailbox: i64, name: &str, folder: i64) -> crate::store::StoreResult<()> {
        let Some(parent) = names::parents(name).last() else { return Ok(()) };
        let store = &self.ctx.store;
        let Some(parent) = store.imap_folders(mailbox).await?.into_iter().find(|f| f.name == parent) else {
            return Ok(());
        };
        for g in store.grants(mailbox).await?.into_iter().filter(|g| g.folder == Some(parent.id)) {
            store.set_grant(mailbox, Some(folder), g.grantee, g.rights).await?;
        }
        Ok(())
    }

    /// `NO [NOPERM]` for a command that needs `needed` on `folder`; true when refused.
    pub(super) fn lacks(&mut self, tag: &Tag<'static>, rights: Rights, needed: Rights, folder: &str) -> bool {
        if rights.has(needed) {
            return false;
        }
        let why = format!("You do not have the {} right on {folder}", right_words(needed));
        self.no(tag.clone(), Some(Code::Other(super::code("NOPERM"))), &why);
        true
    }

    /// Whether the user may still read the selected folder (always, on their own): when
    /// the store says rights may have changed, they are read again and kept. False
    /// when the folder is someone else's and the user may no longer read it.
    pub(super) async fn access_holds(&mut self) -> bool {
        let epoch = self.ctx.store.rights_epoch();
        let State::Selected(user, sel) = &self.state else { return true };
        if sel.folder.mailbox == user.mailbox || sel.rights_epoch == epoch {
            return true;
        }
        let (viewer, owner, folder) = (user.mailbox, sel.folder.mailbox, sel.folder.id);
        let Ok(rights) = self.ctx.store.rights(viewer, owner, Some(folder)).await else { return true };
        let State::Selected(_, sel) = &mut self.state else { return true };
        sel.rights = rights.imap();
        sel.rights_epoch = epoch;
        rights.has(Rights::READ)
    }

    /// Closes the selected folder whose access was taken away: the session is back in
    /// the authenticated state and the command is refused.
    pub(super) fn access_lost(&mut self, tag: Tag<'static>) -> Flow {
        let State::Selected(user, sel) = &self.state else { return Flow::Continue };
        let name = sel.folder.name.clone();
        self.state = State::Authenticated(user.clone());
        self.untagged_ok(Some(Code::Other(super::code("CLOSED"))), &format!("Your access to {name} was removed"));
        self.no(tag, Some(Code::Other(super::code("NOPERM"))), &format!("You may no longer read {name}"));
        Flow::Continue
    }

    /// The ACL commands.
    pub(super) async fn acl(&mut self, tag: Tag<'static>, command: Acl) -> Flow {
        let Some(user) = self.user() else { return Flow::Continue };
        let name = match &command {
            Acl::MyRights(m) | Acl::Get(m) | Acl::Set(m, ..) | Acl::Delete(m, _) | Acl::ListRights(m, _) => m.clone(),
        };
        let Some((folder, rights)) = self.folder(&tag, &user, &name).await else { return Flow::Continue };
        let wire = quoted(&self.wire_name(&folder.name));
        if let Acl::MyRights(_) = command {
            self.raw(format!("* MYRIGHTS {wire} {}\r\n", rights.imap_letters()).into_bytes());
            self.ok(tag, None, "MYRIGHTS completed");
            return Flow::Continue;
        }
        if self.lacks(&tag, rights, Rights::ADMINISTER, &folder.name) {
            return Flow::Continue;
        }
        let owner = match self.ctx.store.mailbox_addresses(folder.mailbox).await {
            Ok(a) => a.into_iter().next().unwrap_or_default(),
            Err(e) => return self.store_failed(tag, &e),
        };
        match command {
            Acl::MyRights(_) => Flow::Continue,
            Acl::Get(_) => {
                let grants = match self.ctx.store.grants(folder.mailbox).await {
                    Ok(g) => g,
                    Err(e) => return self.store_failed(tag, &e),
                };
                // Per grantee, the folder's own grant, or else the mailbox's.
                let mut effective: std::collections::BTreeMap<String, Rights> = std::collections::BTreeMap::new();
                for g in grants.iter().filter(|g| g.folder.is_none()) {
                    effective.insert(g.name.clone(), g.rights.imap());
                }
                for g in grants.iter().filter(|g| g.folder == Some(folder.id)) {
                    effective.insert(g.name.clone(), g.rights.imap());
                }
                let mut line = format!("* ACL {wire} {} {}", quoted(&owner), Rights::ALL_IMAP.imap_letters());
                for (who, r) in effective.iter().filter(|(_, r)| !r.is_empty()) {
                    line.push_str(&format!(" {} {}", quoted(who), r.imap_letters()));
                }
                line.push_str("\r\n");
                self.raw(line.into_bytes());
                self.ok(tag, None, "GETACL completed");
                Flow::Continue
            }
            Acl::ListRights(_, who) => {
                let line = if who.eq_ignore_ascii_case(&owner) {
                    format!("* LISTRIGHTS {wire} {} {}\r\n", quoted(&who), Rights::ALL_IMAP.imap_letters())
                } else {
                    // Nothing is always granted; each right may be given on its own.
                    let each: Vec<String> = Rights::ALL_IMAP.imap_letters().chars().map(String::from).collect();
                    format!("* LISTRIGHTS {wire} {} \"\" {}\r\n", quoted(&who), each.join(" "))
                };
                self.raw(line.into_bytes());
                self.ok(tag, None, "LISTRIGHTS completed");
                Flow::Continue
            }
            Acl::Set(_, who, letters) => self.set_acl(tag, &folder, &owner, &who, Some(&letters)).await,
            Acl::Delete(_, who) => self.set_acl(tag, &folder, &owner, &who, None).await,
        }
    }

    /// SETACL (rights given) and DELETEACL (none).
    async fn set_acl(
        &mut self,
        tag: Tag<'static>,
        folder: &Folder,
        owner: &str,
        who: &str,
        letters: Option<&str>,
    ) -> Flow {
        if who.starts_with('-') {
            self.no(tag, Some(Code::Other(super::code("CANNOT"))), "Negative rights are not supported");
            return Flow::Continue;
        }
        if who.eq_ignore_ascii_case(owner) {
            self.no(tag, Some(Code::Other(super::code("CANNOT"))), "The owner always has every right");
            return Flow::Continue;
        }
        let grantee = match self.ctx.store.grantee_named(who).await {
            Ok(Some(g)) => g,
            Ok(None) => {
                self.no(tag, None, &format!("There is no mailbox or list named {who}"));
                return Flow::Continue;
            }
            Err(e) => return self.store_failed(tag, &e),
        };
        if grantee == Grantee::Mailbox(folder.mailbox) {
            self.no(tag, Some(Code::Other(super::code("CANNOT"))), "The owner always has every right");
            return Flow::Continue;
        }
        let (change, letters) = match letters {
            None => (None, ""),
            Some(l) => match l.strip_prefix('+') {
                Some(rest) => (Some(true), rest),
                None => match l.strip_prefix('-') {
                    Some(rest) => (Some(false), rest),
                    None => (None, l),
                },
            },
        };
        let given = match Rights::parse(letters) {
            Ok(r) if r.imap() == r => r,
            Ok(_) | Err(_) => {
                self.bad(tag, &format!("{letters} is not a set of rights (RFC 4314: lrswipkxtea)"));
                return Flow::Continue;
            }
        };
        let rights = match change {
            None => given,
            Some(adding) => {
                let now = match self.ctx.store.grants(folder.mailbox).await {
                    Ok(grants) => {
                        let mine = grants.iter().find(|g| g.grantee == grantee && g.folder == Some(folder.id));
                        let whole = grants.iter().find(|g| g.grantee == grantee && g.folder.is_none());
                        mine.or(whole).map_or(Rights::NONE, |g| g.rights.imap())
                    }
                    Err(e) => return self.store_failed(tag, &e),
                };
                if adding { now.with(given) } else { now.without(given) }
            }
        };
        match self.ctx.store.set_grant(folder.mailbox, Some(folder.id), grantee, rights).await {
            Ok(()) => {
                self.ok(
                    tag,
                    None,
                    if letters.is_empty() && change.is_none() { "DELETEACL completed" } else { "SETACL completed" },
                );
            }
            Err(e) => return self.store_failed(tag, &e),
        }
        Flow::Continue
    }
}

/// A string as an IMAP quoted string.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn others_folders_are_named_by_local_part_in_the_same_domain() {
        assert_eq!(shared_name("corp.test", "info@corp.test", "INBOX"), "Other Users/info/INBOX");
        assert_eq!(shared_name("CORP.test", "info@corp.test", "Sent"), "Other Users/info/Sent");
        assert_eq!(shared_name("other.test", "info@corp.test", "INBOX"), "Other Users/info@corp.test/INBOX");
        assert!(is_shared_name("Other Users/info/INBOX"));
        assert!(is_shared_name("Other Users"));
        assert!(!is_shared_name("Other Usersx/a"));
    }

    #[test]
    fn a_shared_inbox_is_named_in_any_case() {
        assert!(same_name("Other Users/info/INBOX", "Other Users/info/inbox"));
        assert!(!same_name("Other Users/info/INBOX", "Other Users/INFO/inbox"));
        assert!(same_name("Sent", "Sent"));
        assert!(!same_name("Sent", "sent"));
    }
}
