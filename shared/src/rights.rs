//! Rights on mailboxes and folders, the one vocabulary of sharing.
//!
//! IMAP's access control lists (RFC 4314) name eleven rights by letter (`l`ookup,
//! `r`ead, keep `s`een, `w`rite flags, `i`nsert, `p`ost, `k` create folders, `x` delete
//! the folder, `t` delete messages, `e`xpunge, `a`dminister). Exchange's Permissions
//! tab named sets of them as roles (Owner, Editor, Author, Reviewer…), and its Send As
//! and "Send On Behalf Of" were rights on the mailbox too. The service enforces
//! [`Rights`], IMAP clients read and write their letters, and the Administrator and
//! `mailroomctl` offer the [`Role`]s; all three use this module so that a role means
//! the same rights everywhere.

use std::fmt;

/// A set of rights.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Rights(u16);

/// The IMAP letters, in the order RFC 4314 lists them and responses show them.
const IMAP_LETTERS: [(char, u16); 11] = [
    ('l', 1),
    ('r', 1 << 1),
    ('s', 1 << 2),
    ('w', 1 << 3),
    ('i', 1 << 4),
    ('p', 1 << 5),
    ('k', 1 << 6),
    ('x', 1 << 7),
    ('t', 1 << 8),
    ('e', 1 << 9),
    ('a', 1 << 10),
];

/// Send As, written `S` (not an IMAP right: submission checks it).
const SEND_AS: u16 = 1 << 11;
/// Send On Behalf Of, written `B`.
const SEND_ON_BEHALF: u16 = 1 << 12;

impl Rights {
    /// No right at all.
    pub const NONE: Rights = Rights(0);
    /// `l`: see the folder in LIST.
    pub const LOOKUP: Rights = Rights(1);
    /// `r`: SELECT, FETCH, SEARCH, COPY from, STATUS.
    pub const READ: Rights = Rights(1 << 1);
    /// `s`: keep `\Seen` (one's own, on a folder not one's own).
    pub const SEEN: Rights = Rights(1 << 2);
    /// `w`: set flags and keywords other than `\Seen` and `\Deleted`.
    pub const WRITE: Rights = Rights(1 << 3);
    /// `i`: APPEND, COPY and MOVE into.
    pub const INSERT: Rights = Rights(1 << 4);
    /// `p`: send mail to the folder's submission address.
    pub const POST: Rights = Rights(1 << 5);
    /// `k`: create folders under it.
    pub const CREATE: Rights = Rights(1 << 6);
    /// `x`: delete or rename the folder.
    pub const DELETE_FOLDER: Rights = Rights(1 << 7);
    /// `t`: set or clear `\Deleted`.
    pub const DELETE_MESSAGES: Rights = Rights(1 << 8);
    /// `e`: EXPUNGE.
    pub const EXPUNGE: Rights = Rights(1 << 9);
    /// `a`: read and change the rights (GETACL, SETACL…).
    pub const ADMINISTER: Rights = Rights(1 << 10);
    /// Send mail as the mailbox (`From:` it).
    pub const SEND_AS: Rights = Rights(SEND_AS);
    /// Send mail on the mailbox's behalf (`From:` it, `Sender:` oneself).
    pub const SEND_ON_BEHALF: Rights = Rights(SEND_ON_BEHALF);
    /// Every IMAP right: what an owner has on their own folders.
    pub const ALL_IMAP: Rights = Rights((1 << 11) - 1);

    /// Both sets.
    #[must_use]
    pub const fn with(self, other: Rights) -> Rights {
        Rights(self.0 | other.0)
    }

    /// This set less `other`.
    #[must_use]
    pub const fn without(self, other: Rights) -> Rights {
        Rights(self.0 & !other.0)
    }

    /// Only the IMAP rights of this set.
    #[must_use]
    pub const fn imap(self) -> Rights {
        Rights(self.0 & Rights::ALL_IMAP.0)
    }

    /// Whether every right of `other` is in this set.
    pub const fn has(self, other: Rights) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any right of `other` is in this set.
    pub const fn any(self, other: Rights) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Parses letters (`lrs`, in any order; `S` and `B` for Send As and Send On
    /// Behalf). RFC 4314 §2.1.1's obsolete `c` means `k` and `d` means `xte`. An empty
    /// string is no right.
    ///
    /// # Errors
    /// The first letter that names no right.
    pub fn parse(letters: &str) -> Result<Rights, char> {
        let mut bits = 0;
        for c in letters.chars() {
            bits |= match c {
                'S' => SEND_AS,
                'B' => SEND_ON_BEHALF,
                'c' => Rights::CREATE.0,
                'd' => Rights::DELETE_FOLDER.0 | Rights::DELETE_MESSAGES.0 | Rights::EXPUNGE.0,
                _ => IMAP_LETTERS.iter().find(|(l, _)| *l == c).map(|(_, b)| *b).ok_or(c)?,
            };
        }
        Ok(Rights(bits))
    }

    /// The IMAP letters of this set, in RFC 4314's order (what MYRIGHTS and GETACL
    /// show).
    pub fn imap_letters(self) -> String {
        IMAP_LETTERS.iter().filter(|(_, b)| self.0 & b != 0).map(|(l, _)| *l).collect()
    }

    /// The role this set is exactly, if it is one.
    pub fn role(self) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.rights() == self.imap())
    }
}

impl fmt::Display for Rights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.imap_letters())?;
        if self.0 & SEND_AS != 0 {
            f.write_str("S")?;
        }
        if self.0 & SEND_ON_BEHALF != 0 {
            f.write_str("B")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Rights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rights({self})")
    }
}

impl TryFrom<String> for Rights {
    type Error = String;
    fn try_from(s: String) -> Result<Rights, String> {
        Rights::parse(&s).map_err(|c| format!("'{c}' names no right"))
    }
}

impl From<Rights> for String {
    fn from(r: Rights) -> String {
        r.to_string()
    }
}

/// Exchange's named sets of rights, as its Permissions tab offered them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including changing the rights.
    Owner,
    /// Everything on messages and folders except the rights.
    PublishingEditor,
    /// Read, write, delete and file messages; no new folders.
    Editor,
    /// Read and add messages, and create folders.
    PublishingAuthor,
    /// Read and add messages.
    Author,
    /// Add messages only (a drop box).
    Contributor,
    /// Read only: their own read state, nothing else changes.
    Reviewer,
}

impl Role {
    /// Every role, most rights first.
    pub const ALL: [Role; 7] = [
        Role::Owner,
        Role::PublishingEditor,
        Role::Editor,
        Role::PublishingAuthor,
        Role::Author,
        Role::Contributor,
        Role::Reviewer,
    ];

    /// Its rights.
    pub const fn rights(self) -> Rights {
        const READER: Rights = Rights::LOOKUP.with(Rights::READ).with(Rights::SEEN);
        const EDITOR: Rights = READER
            .with(Rights::WRITE)
            .with(Rights::INSERT)
            .with(Rights::POST)
            .with(Rights::DELETE_MESSAGES)
            .with(Rights::EXPUNGE);
        match self {
            Role::Owner => Rights::ALL_IMAP,
            Role::PublishingEditor => EDITOR.with(Rights::CREATE).with(Rights::DELETE_FOLDER),
            Role::Editor => EDITOR,
            Role::PublishingAuthor => READER.with(Rights::INSERT).with(Rights::POST).with(Rights::CREATE),
            Role::Author => READER.with(Rights::INSERT).with(Rights::POST),
            Role::Contributor => Rights::LOOKUP.with(Rights::INSERT).with(Rights::POST),
            Role::Reviewer => READER,
        }
    }

    /// Its name as the Administrator shows it.
    pub const fn label(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::PublishingEditor => "Publishing Editor",
            Role::Editor => "Editor",
            Role::PublishingAuthor => "Publishing Author",
            Role::Author => "Author",
            Role::Contributor => "Contributor",
            Role::Reviewer => "Reviewer",
        }
    }

    /// The role a word names (`owner`, `publishing-editor`, `Reviewer`…), as
    /// `mailroomctl` takes it.
    pub fn parse(word: &str) -> Option<Role> {
        let key: String = word.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase();
        Role::ALL.into_iter().find(|r| r.label().replace(' ', "").to_ascii_lowercase() == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_round_trip_in_rfc_order_and_unknown_letters_are_named() {
        let r = Rights::parse("rl").expect("letters");
        assert_eq!(r.to_string(), "lr");
        assert_eq!(Rights::parse("lrswipkxteaSB").expect("all").to_string(), "lrswipkxteaSB");
        assert_eq!(Rights::parse("lq"), Err('q'));
        assert_eq!(Rights::parse("c").expect("obsolete"), Rights::CREATE);
        assert_eq!(Rights::parse("d").expect("obsolete").to_string(), "xte");
        assert!(Rights::parse("").expect("none").is_empty());
    }

    #[test]
    fn roles_are_their_rights_and_are_recognised() {
        assert_eq!(Role::Reviewer.rights().to_string(), "lrs");
        assert_eq!(Role::Owner.rights().to_string(), "lrswipkxtea");
        for role in Role::ALL {
            assert_eq!(role.rights().role(), Some(role));
            assert_eq!(Role::parse(role.label()), Some(role));
        }
        assert_eq!(Role::parse("publishing-editor"), Some(Role::PublishingEditor));
        assert_eq!(Rights::parse("lr").expect("lr").role(), None);
        assert_eq!(Role::Author.rights().with(Rights::SEND_AS).role(), Some(Role::Author), "Send As aside");
    }

    #[test]
    fn rights_travel_as_their_letters() {
        let r = Role::Editor.rights().with(Rights::SEND_ON_BEHALF);
        let json = serde_json::to_string(&r).expect("json");
        assert_eq!(json, "\"lrswipteB\"");
        assert_eq!(serde_json::from_str::<Rights>(&json).expect("back"), r);
        assert!(serde_json::from_str::<Rights>("\"lz\"").is_err());
    }
}
