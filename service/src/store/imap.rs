//! What IMAP needs from the store: a mailbox's folders, a folder's messages with their
//! flags, and the changes a session makes (append, flags, copy and move, expunge).
//!
//! Every write that changes a folder's messages gives it a new mod-sequence (RFC 7162)
//! and tells the store's watchers after the commit, so other sessions of the mailbox
//! (in IDLE) hear of it at once; a folder's UIDs and mod-sequences increase in commit
//! order. Creating and subscribing change no message and tell nobody. A copy or move
//! never copies a byte of a message: the new row points at the same content.

use super::{Access, Backend, Store, StoreError, StoreResult, dispatch};
use crate::message::{SearchField, SearchFields};

/// The name of the folder every mailbox has, where mail is delivered and POP3 looks
/// (RFC 9051 §5.1: case-insensitive on the wire, stored in this form).
pub const INBOX: &str = "INBOX";

/// IMAP's system flags, as a bit set. `\Recent` is not one of them: it belongs to a
/// session, not to a message ([`Store::imap_claim_recent`]).
pub mod flags {
    /// `\Seen`.
    pub const SEEN: u8 = 1;
    /// `\Answered`.
    pub const ANSWERED: u8 = 2;
    /// `\Flagged`.
    pub const FLAGGED: u8 = 4;
    /// `\Deleted`.
    pub const DELETED: u8 = 8;
    /// `\Draft`.
    pub const DRAFT: u8 = 16;
    /// Every flag, in the order `FLAGS` lists them, with its name.
    pub const ALL: [(u8, &str); 5] = [
        (ANSWERED, "\\Answered"),
        (FLAGGED, "\\Flagged"),
        (DELETED, "\\Deleted"),
        (SEEN, "\\Seen"),
        (DRAFT, "\\Draft"),
    ];
}

/// What IMAP's OBJECTID (RFC 8474) and SAVEDATE (RFC 8514) tell of a copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectIds {
    /// The copy.
    pub id: i64,
    /// Its content, shared by every copy of the message: its EMAILID.
    pub content: i64,
    /// When it was saved into its folder (unknown for mail stored before schema 14).
    pub saved_at: Option<i64>,
}

/// A message to append: its content as given, flags and internal date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub content: Vec<u8>,
    /// Bits of [`flags`].
    pub flags: u8,
    /// Keywords as [`keyword_text`] writes them.
    pub keywords: String,
    /// The internal date, seconds since the epoch.
    pub received_at: i64,
}

/// One folder of a mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    /// Its id, which is also its UIDVALIDITY.
    pub id: i64,
    /// The mailbox it belongs to.
    pub mailbox: i64,
    /// Its full name, levels separated by `/`; `INBOX` for the inbox.
    pub name: String,
    /// `\Sent`, `\Drafts`, `\Trash`, `\Junk`, or none.
    pub special_use: Option<String>,
    /// Subscribed (LSUB, `LIST (SUBSCRIBED)`).
    pub subscribed: bool,
}

/// One message as an IMAP session sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapMessage {
    /// Row id, to fetch and change it.
    pub id: i64,
    /// Its UID in the folder.
    pub uid: u32,
    /// System flags ([`flags`]).
    pub flags: u8,
    /// Keywords, each followed by a space.
    pub keywords: String,
    /// Its mod-sequence.
    pub modseq: u64,
    /// Octets (RFC822.SIZE).
    pub size: u64,
    /// INTERNALDATE, Unix seconds.
    pub received_at: i64,
}

impl ImapMessage {
    /// Its keywords, one by one.
    pub fn keyword_list(&self) -> impl Iterator<Item = &str> {
        self.keywords.split(' ').filter(|k| !k.is_empty())
    }
}

/// A folder and its messages, meant to be read at one instant (today they are not:
/// see [`Store::imap_folder_state`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderState {
    /// The folder.
    pub folder: Folder,
    /// The UID its next message will get.
    pub uidnext: u32,
    /// The highest mod-sequence in it.
    pub highest_modseq: u64,
    /// The first UID no session has yet claimed as `\Recent`.
    pub recent_from: u32,
    /// Its messages, by UID.
    pub messages: Vec<ImapMessage>,
}

/// A folder's state without its messages ([`FolderState`] less the list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderHead {
    pub folder: Folder,
    pub uidnext: u32,
    pub highest_modseq: u64,
    pub recent_from: u32,
    /// How many messages it holds.
    pub messages: usize,
}

/// What STATUS reports of a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FolderCounts {
    /// Messages.
    pub messages: u32,
    /// Messages without `\Seen`.
    pub unseen: u32,
    /// Messages with `\Deleted`.
    pub deleted: u32,
    /// Messages no session has yet seen as `\Recent`.
    pub recent: u32,
    /// Octets of all its messages.
    pub size: u64,
    /// Octets of its messages with `\Deleted` (what an EXPUNGE would free).
    pub deleted_size: u64,
    /// The UID its next message will get.
    pub uidnext: u32,
    /// Its UIDVALIDITY.
    pub uidvalidity: u32,
    /// The highest mod-sequence in it.
    pub highest_modseq: u64,
}

/// How STORE changes flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagChange {
    /// `+FLAGS`.
    Add,
    /// `-FLAGS`.
    Remove,
    /// `FLAGS`.
    Replace,
}

/// A STORE: which flags and keywords, how, and the CONDSTORE condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagUpdate {
    /// Add, remove or replace.
    pub change: FlagChange,
    /// System flags.
    pub flags: u8,
    /// Keywords.
    pub keywords: Vec<String>,
    /// `UNCHANGEDSINCE`: messages changed after this mod-sequence are left alone.
    pub unchanged_since: Option<u64>,
    /// Only these system flags may change, and keywords only when true (a person's
    /// rights on another's folder); `None`: everything.
    pub within: Option<(u8, bool)>,
}

/// What a STORE did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stored {
    /// The messages whose flags are now as listed (changed, or already so).
    pub messages: Vec<ImapMessage>,
    /// Row ids left alone because they changed after `UNCHANGEDSINCE`.
    pub modified: Vec<i64>,
}

/// Keywords normalised: each once, each followed by a space.
pub(crate) fn keyword_text<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for w in words {
        if !w.is_empty() && !out.split(' ').any(|k| k.eq_ignore_ascii_case(w)) {
            out.push_str(w);
            out.push(' ');
        }
    }
    out
}

impl Store {
    /// A mailbox's folders, INBOX first, then by name.
    ///
    /// Read, one snapshot.
    ///
    /// # Errors
    /// Store failures.
    pub async fn imap_folders(&self, mailbox: i64) -> StoreResult<Vec<Folder>> {
        dispatch!(self, b => b.imap_folders(mailbox).await)
    }

    /// The folder of special use `\Junk` (RFC 6154) of each of `mailboxes` that has one
    /// (the first made, if several): mailbox id → folder id.
    ///
    /// Read, not one snapshot: each mailbox is looked up on its own.
    ///
    /// # Errors
    /// Store failures.
    pub async fn junk_folders(&self, mailboxes: Vec<i64>) -> StoreResult<std::collections::BTreeMap<i64, i64>> {
        dispatch!(self, b => b.special_use_folders(mailboxes, "\\Junk").await)
    }

    /// A folder's state without its messages: what a SELECT needs when it already
    /// holds the message list of that state.
    ///
    /// Read.
    ///
    /// # Errors
    /// [`super::StoreError::NotFound`] when the folder is gone.
    pub async fn imap_folder_head(&self, mailbox: i64, folder: i64) -> StoreResult<FolderHead> {
        dispatch!(self, b => b.imap_folder_head(mailbox, folder).await)
    }

    /// A folder and its messages, by UID.
    ///
    /// Read, not yet one snapshot: the folder (its UIDNEXT and HIGHESTMODSEQ) and its
    /// messages are read one after the other, so a change committed in between can
    /// show a message at or past `uidnext`, or above `highest_modseq`.
    ///
    /// # Errors
    /// [`super::StoreError::NotFound`] when the folder is gone.
    pub async fn imap_folder_state(&self, at: impl Into<Access>, folder: i64) -> StoreResult<FolderState> {
        let at = at.into();
        dispatch!(self, b => b.imap_folder_state(at, folder).await)
    }

    /// The header of several messages (each copy's own lines, then its content's header
    /// up to and including the empty line), read without their bodies; messages that
    /// are gone are left out.
    ///
    /// Read, not one snapshot: each message is read on its own (a copy's header never
    /// changes), in the order given. The mailbox is not checked: pass only ids the
    /// store gave for it.
    ///
    /// # Errors
    /// Store failures.
    pub async fn messages_headers(&self, ids: Vec<i64>) -> StoreResult<Vec<(i64, Vec<u8>)>> {
        dispatch!(self, b => b.messages_headers(ids).await)
    }

    /// The headers of the messages of a folder that contain every word of `words`
    /// (ASCII letters in any case), or any RFC 2047 encoded word (`=?`, which may hide
    /// them), in one read: SEARCH on header fields. A message left out cannot match a
    /// search that needs those words.
    ///
    /// Read, one snapshot; in no set order.
    ///
    /// # Errors
    /// Store failures.
    pub async fn imap_folder_headers(
        &self,
        mailbox: i64,
        folder: i64,
        words: Vec<String>,
    ) -> StoreResult<Vec<(i64, Vec<u8>)>> {
        dispatch!(self, b => b.imap_folder_headers(mailbox, folder, words).await)
    }

    /// The searchable header fields ([`SearchFields`]) of the messages of a folder
    /// whose field contains the text, for each `(field, text)` of `filters` (`text` in
    /// lower case), in one read: SEARCH on SUBJECT, FROM, TO, CC and BCC. A message
    /// left out cannot match a search that needs those texts.
    ///
    /// Read, one snapshot; in no set order.
    ///
    /// # Errors
    /// Store failures.
    pub async fn imap_folder_fields(
        &self,
        mailbox: i64,
        folder: i64,
        filters: Vec<(SearchField, String)>,
    ) -> StoreResult<Vec<(i64, SearchFields)>> {
        dispatch!(self, b => b.imap_folder_fields(mailbox, folder, filters).await)
    }

    /// A folder's counts, for STATUS.
    ///
    /// Read, not yet one snapshot: UIDNEXT and HIGHESTMODSEQ, then the counts, so a
    /// change committed in between can make them disagree.
    ///
    /// # Errors
    /// [`super::StoreError::NotFound`] when the folder is gone.
    pub async fn imap_folder_counts(&self, at: impl Into<Access>, folder: i64) -> StoreResult<FolderCounts> {
        let at = at.into();
        dispatch!(self, b => b.imap_folder_counts(at, folder).await)
    }

    /// Creates a folder, not subscribed; returns its id, which is its UIDVALIDITY and
    /// is never reused.
    ///
    /// Write, atomic: the name check and the folder. The watchers hear of the mailbox
    /// after the commit (NOTIFY's MailboxName).
    ///
    /// # Errors
    /// [`super::StoreError::Conflict`] when one by that name exists (or the mailbox
    /// does not).
    pub async fn imap_create(&self, mailbox: i64, name: String) -> StoreResult<i64> {
        let id = dispatch!(self, b => b.imap_create(mailbox, name).await)?;
        self.folders_changed();
        self.changed(mailbox);
        Ok(id)
    }

    /// Deletes a folder and its messages (not INBOX); a content goes with its last
    /// copy.
    ///
    /// Write, atomic; the watchers hear of the mailbox after the commit. Whether it is
    /// INBOX is read before the write: safe, since INBOX keeps its id for good.
    ///
    /// # Errors
    /// [`super::StoreError::NotFound`] when it is gone; [`StoreError::Invalid`] for
    /// INBOX.
    pub async fn imap_delete(&self, mailbox: i64, folder: i64) -> StoreResult<()> {
        if self.is_inbox(mailbox, folder).await? {
            return Err(StoreError::Invalid { field: "folder".into(), message: "INBOX cannot be deleted".into() });
        }
        dispatch!(self, b => b.imap_delete(mailbox, folder).await)?;
        self.folders_changed();
        self.changed(mailbox);
        Ok(())
    }

    /// Renames a folder and the folders under it. Renaming INBOX moves its messages to
    /// a new folder of that name and leaves INBOX empty (RFC 9051 §6.3.6).
    ///
    /// Write, atomic: every folder renamed, or none. INBOX's messages keep their UIDs,
    /// flags and mod-sequences (the new folder has its own UIDVALIDITY and INBOX's
    /// UIDNEXT); INBOX gets a new mod-sequence and its subfolders stay. The watchers
    /// hear of the mailbox after the commit.
    ///
    /// # Errors
    /// [`super::StoreError::NotFound`] when the folder is gone;
    /// [`super::StoreError::Conflict`] when the new name (or one under it) is taken.
    pub async fn imap_rename(&self, mailbox: i64, folder: i64, to: String) -> StoreResult<()> {
        if self.is_inbox(mailbox, folder).await? {
            dispatch!(self, b => b.imap_move_all(mailbox, folder, to).await)?;
        } else {
            dispatch!(self, b => b.imap_rename(mailbox, folder, to).await)?;
        }
        self.folders_changed();
        self.changed(mailbox);
        Ok(())
    }

    /// True when `folder` is `mailbox`'s INBOX. (INBOX keeps its id for good: it can be
    /// neither deleted nor renamed away, so this holds until the folder is gone.)
    async fn is_inbox(&self, mailbox: i64, folder: i64) -> StoreResult<bool> {
        let folders = self.imap_folders(mailbox).await?;
        let f = folders
            .iter()
            .find(|f| f.id == folder)
            .ok_or_else(|| StoreError::NotFound(format!("folder {folder} of mailbox {mailbox}")))?;
        Ok(f.name == INBOX)
    }

    /// Claims the messages of `folder` that no session has yet seen as `\Recent`
    /// (IMAP4rev1, RFC 3501 §2.3.2): returns the UIDs `from..to` that are recent for
    /// the caller, and no later caller gets them.
    ///
    /// Write, atomic: two sessions claiming at once get ranges that do not overlap.
    /// The watchers are not told (no message changes).
    ///
    /// # Errors
    /// [`super::StoreError::NotFound`] when the folder is gone.
    pub async fn imap_claim_recent(&self, mailbox: i64, folder: i64) -> StoreResult<(u32, u32)> {
        dispatch!(self, b => b.imap_claim_recent(mailbox, folder).await)
    }

    /// Subscribes to a folder or unsubscribes from a name (whether or not its folder
    /// still exists).
    ///
    /// Write; the watchers hear of the mailbox after the commit (NOTIFY's
    /// SubscriptionChange).
    ///
    /// # Errors
    /// [`super::StoreError::NotFound`] when subscribing to no folder, or unsubscribing
    /// from a name that is neither a folder nor subscribed.
    pub async fn imap_subscribe(&self, mailbox: i64, name: String, subscribed: bool) -> StoreResult<()> {
        dispatch!(self, b => b.imap_subscribe(mailbox, name, subscribed).await)?;
        self.changed(mailbox);
        Ok(())
    }

    /// The content id and save date of the copies `ids` in a folder (those still
    /// there), or of all its copies in UID order when `ids` is `None`.
    ///
    /// Read.
    ///
    /// # Errors
    /// [`super::StoreError::NotFound`] when the folder is gone.
    pub async fn imap_objects(&self, mailbox: i64, folder: i64, ids: Option<Vec<i64>>) -> StoreResult<Vec<ObjectIds>> {
        dispatch!(self, b => b.imap_objects(mailbox, folder, ids).await)
    }

    /// The names subscribed to, folders or not (a deleted folder's subscription stays
    /// until it is removed), in name order.
    ///
    /// Read.
    pub async fn imap_subscriptions(&self, mailbox: i64) -> StoreResult<Vec<String>> {
        dispatch!(self, b => b.imap_subscriptions(mailbox).await)
    }

    /// Appends messages to a folder (contents stored as given); its UIDVALIDITY and
    /// their UIDs, in order.
    ///
    /// Write, atomic: all the messages or none (MULTIAPPEND, RFC 3502 §6.3.11), each
    /// content and copy with the folder's next UID and a new mod-sequence. The watchers
    /// hear of the mailbox after the commit.
    ///
    /// # Errors
    /// [`super::StoreError::NotFound`] when the folder is gone.
    pub async fn imap_append(
        &self,
        at: impl Into<Access>,
        folder: i64,
        messages: Vec<Appended>,
    ) -> StoreResult<(u32, Vec<u32>)> {
        let at = at.into();
        let appended = dispatch!(self, b => b.imap_append(at, folder, messages).await)?;
        self.changed(at.mailbox);
        Ok(appended)
    }

    /// Changes the flags of messages of a folder; ids not in the folder are skipped.
    ///
    /// Write, atomic: the `UNCHANGEDSINCE` check and the change are one transaction;
    /// every message changed gets the same new mod-sequence, and those already as asked
    /// keep theirs. The watchers hear of the mailbox after the commit.
    ///
    /// # Errors
    /// [`super::StoreError::NotFound`] when the folder is gone; store failures; then
    /// nothing changed.
    pub async fn imap_store(
        &self,
        at: impl Into<Access>,
        folder: i64,
        ids: Vec<i64>,
        update: FlagUpdate,
    ) -> StoreResult<Stored> {
        let at = at.into();
        let stored = dispatch!(self, b => b.imap_store(at, folder, ids, update).await)?;
        self.changed(at.mailbox);
        Ok(stored)
    }

    /// Copies (or moves) messages to another folder (of the same mailbox or another),
    /// sharing their content; returns the destination's UIDVALIDITY and each (source
    /// UID, destination UID), in the order given; ids not in the source are skipped.
    /// The copies have the flags the viewer sees (their own `\Seen` where it is theirs
    /// apart), kept as the viewer's own in the destination when it is not theirs.
    /// `to` is the destination's mailbox and folder.
    ///
    /// Write, atomic: each copy takes the destination's next UID and a new
    /// mod-sequence; a move removes the sources in the same transaction and gives the
    /// source folder a new mod-sequence. The watchers hear of the mailbox after the
    /// commit.
    ///
    /// # Errors
    /// [`super::StoreError::NotFound`] when either folder is gone; then nothing changed.
    pub async fn imap_copy(
        &self,
        at: impl Into<Access>,
        from: i64,
        ids: Vec<i64>,
        to: (i64, i64),
        moving: bool,
    ) -> StoreResult<(u32, Vec<(u32, u32)>)> {
        let at = at.into();
        let copied = dispatch!(self, b => b.imap_copy(at, from, ids, to, moving).await)?;
        self.changed(at.mailbox);
        if to.0 != at.mailbox {
            self.changed(to.0);
        }
        Ok(copied)
    }

    /// Removes the messages of a folder marked `\Deleted` (of `only` when given);
    /// returns the row ids removed, by UID.
    ///
    /// Write, atomic: the messages go under one new mod-sequence of the folder, a
    /// content with its last copy. The watchers hear of the mailbox after the commit
    /// when any went.
    ///
    /// # Errors
    /// [`super::StoreError::NotFound`] when the folder is gone; store failures; then
    /// nothing was removed.
    pub async fn imap_expunge(&self, mailbox: i64, folder: i64, only: Option<Vec<i64>>) -> StoreResult<Vec<i64>> {
        let gone = dispatch!(self, b => b.imap_expunge(mailbox, folder, only).await)?;
        if !gone.is_empty() {
            self.changed(mailbox);
        }
        Ok(gone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_kept_once_each_followed_by_a_space() {
        assert_eq!(keyword_text(["$Junk", "work", "$junk", ""]), "$Junk work ");
        let m = ImapMessage { id: 1, uid: 1, flags: 0, keywords: "a b ".into(), modseq: 1, size: 1, received_at: 0 };
        assert_eq!(m.keyword_list().collect::<Vec<_>>(), ["a", "b"]);
    }
}
