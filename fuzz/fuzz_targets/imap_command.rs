//! The IMAP command path after the framing: any command imap-codec accepts from a
//! client goes through Mailroom's own handling of its parts — folder names (canonical
//! form, validity, parents), LIST patterns and their matching, sequence sets against
//! folders of any size, SEARCH keys (what to read, the words and fields to look for),
//! and FETCH sections and partials cut from a real multipart message — without a
//! panic, and with canonical names a fixed point.
#![no_main]

use imap_codec::CommandCodec;
use imap_codec::decode::Decoder as _;
use imap_codec::imap_types::command::CommandBody;
use imap_codec::imap_types::fetch::{MacroOrMessageDataItemNames, MessageDataItemName};
use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::sequence::SequenceSet;
use libfuzzer_sys::fuzz_target;
use mailroom_service::imap::{fetch, mime, names, search, sequence};

const MESSAGE: &[u8] = b"From: Ann <ann@corp.test>\r\nTo: bob@corp.test\r\nSubject: =?utf-8?q?Caf=C3=A9?=\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\npreamble\r\n--b\r\n\
Content-Type: text/plain\r\n\r\nHello.\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n\
Subject: inner\r\n\r\nInner body.\r\n--b--\r\n";

const FOLDERS: &[&str] = &["INBOX", "INBOX/sub", "Sent", "Work/2026/q1", "Ünïcode", "a%b*c"];

fn folder(mailbox: &Mailbox<'_>) {
    let name = names::folder_name(mailbox);
    let _ = names::invalid(&name);
    let canonical = names::canonical(&name);
    assert_eq!(names::canonical(&canonical), canonical, "canonical names are a fixed point");
    for parent in names::parents(&canonical) {
        assert!(canonical.starts_with(parent), "{parent} is a prefix of {canonical}");
    }
}

fn set(set: &SequenceSet) {
    for largest in [0, 1, 7, 1000, u32::MAX] {
        let _ = sequence::out_of_range(set, largest);
        for n in [1, 3, largest] {
            let _ = sequence::contains(set, n, largest);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok((_, command)) = CommandCodec::default().decode(data) else { return };
    match command.body {
        CommandBody::Select { mailbox, .. }
        | CommandBody::Examine { mailbox, .. }
        | CommandBody::Create { mailbox }
        | CommandBody::Delete { mailbox }
        | CommandBody::Subscribe { mailbox }
        | CommandBody::Unsubscribe { mailbox }
        | CommandBody::Status { mailbox, .. }
        | CommandBody::Append { mailbox, .. } => folder(&mailbox),
        CommandBody::Rename { from, to } => {
            folder(&from);
            folder(&to);
        }
        CommandBody::Copy { sequence_set, mailbox, .. } | CommandBody::Move { sequence_set, mailbox, .. } => {
            set(&sequence_set);
            folder(&mailbox);
        }
        CommandBody::List { reference, mailbox_wildcard } | CommandBody::Lsub { reference, mailbox_wildcard } => {
            let pattern = names::pattern(&reference, &mailbox_wildcard);
            for name in FOLDERS {
                let _ = names::matches(&pattern, name);
            }
        }
        CommandBody::Search { criteria, .. } => {
            let keys = criteria.into_inner();
            let _ = search::needs(&keys);
            let _ = search::header_words(&keys);
            let _ = search::field_filters(&keys);
        }
        CommandBody::Store { sequence_set, .. } | CommandBody::ExpungeUid { sequence_set } => set(&sequence_set),
        CommandBody::Fetch { sequence_set, macro_or_item_names, .. } => {
            set(&sequence_set);
            // The macros (ALL, FAST, FULL) name no sections.
            let MacroOrMessageDataItemNames::MessageDataItemNames(items) = macro_or_item_names else { return };
            let top = mime::parse(MESSAGE);
            for item in items {
                if let MessageDataItemName::BodyExt { section, partial, .. } = item {
                    let bytes = fetch::section(MESSAGE, &top, section.as_ref()).unwrap_or_default();
                    let cut = fetch::partial(bytes.clone(), partial);
                    assert!(cut.len() <= bytes.len(), "a partial is never longer than its section");
                }
            }
        }
        _ => {}
    }
});
