//! IMAP4rev2 (RFC 9051) and IMAP4rev1 (RFC 3501) side by side, for every modern mail
//! client: folders, flags, push (IDLE, NOTIFY), resynchronisation (QRESYNC).
//!
//! - imap-next (on imap-codec) frames the protocol; [`session`] holds a session's
//!   state and replies, `driver.rs` runs it over any stream and dispatches commands by
//!   state: `auth.rs` (not authenticated), `folders.rs` (authenticated), `selected.rs`
//!   (a folder selected), with `expunge.rs` for what takes messages away.
//! - What imap-codec does not parse comes to `extended.rs` (with `syntax.rs`, a small
//!   reader of IMAP's tokens) and `objectid.rs`; what imap-types cannot write is
//!   written by `esearch.rs` (ESEARCH, CONTEXT), `listext.rs` (LIST-EXTENDED),
//!   `notify.rs` (NOTIFY) and `objectid.rs`, through [`session`]'s `raw`. `append.rs`
//!   is APPEND in all its forms (MULTIAPPEND, CATENATE).
//! - Pure parts, apart from any I/O: [`names`] (folder names, LIST wildcards),
//!   [`sequence`] (sequence sets), [`mime`] (a message's parts), [`fetch`]
//!   (sections, ENVELOPE, BODYSTRUCTURE), [`search`] (SEARCH keys) and [`sort`] (SORT
//!   keys and the THREAD algorithms). [`shared`] keeps the message lists sessions
//!   share.
//! - This module says what IMAP is to the shared listener ([`crate::listener::serve`]):
//!   plain IMAP with STARTTLS, and imaps with implicit TLS. It shares the store with
//!   POP3: POP3 sees INBOX.
//!
//! Extensions: IDLE, UIDPLUS, MOVE, NAMESPACE, ENABLE, LITERAL+, SPECIAL-USE, ID,
//! UNSELECT, SASL-IR, CONDSTORE, QRESYNC, CHILDREN, BINARY, WITHIN, STATUS=SIZE,
//! SORT, SORT=DISPLAY, THREAD=ORDEREDSUBJECT, THREAD=REFERENCES, QUOTA (`quota.rs`),
//! ESEARCH, ESORT, CONTEXT=SEARCH, CONTEXT=SORT, SEARCHRES, LIST-EXTENDED,
//! LIST-STATUS, MULTIAPPEND, CATENATE, NOTIFY, OBJECTID, SAVEDATE, UTF8=ACCEPT and
//! COMPRESS=DEFLATE (the connection's, in [`crate::line`]). Failed logins are counted
//! with SMTP's and POP3's, in [`crate::throttle`].

mod acl;
mod append;
mod auth;
mod driver;
mod esearch;
mod expunge;
mod extended;
pub mod fetch;
mod folders;
mod listext;
pub mod mime;
pub mod names;
mod notify;
mod objectid;
mod quota;
pub mod search;
mod selected;
pub mod sequence;
pub mod session;
pub mod shared;
pub mod sort;
mod syntax;

use imap_next::imap_types::response::CodeOther;

use crate::context::ServiceContext;
use crate::listener::{Accepted, LineProtocol};

/// Runs a command's bytes through every reader of the extensions imap-codec does not
/// parse — [`extended`]'s commands and `$`, [`objectid`]'s items and keys — as the
/// driver does for a command imap-codec refused; for the `imap_extended` fuzz target.
/// Panics only where a reader breaks its own promise (the fuzzer's finding).
#[doc(hidden)]
pub fn fuzz_extended(bytes: &[u8]) {
    let _ = extended::parse(bytes);
    let numbered = |uid: u32| (!uid.is_multiple_of(3)).then_some(uid / 2 + 1);
    for saved in [&[][..], &[1, 2, 3, 10][..], &[u32::MAX][..]] {
        if let Some(with) = extended::with_saved(bytes, saved, numbered) {
            let _ = extended::parse(&with);
        }
    }
    if let Some((without, _)) = objectid::take_items(bytes) {
        let _ = extended::parse(&without);
        assert!(objectid::take_items(&without).is_none_or(|(again, _)| again.len() < without.len()));
    }
    let keys = objectid::keys(bytes);
    let mut last = 0;
    for (range, _) in &keys {
        assert!(range.start >= last && range.end <= bytes.len() && range.start < range.end, "{range:?}");
        last = range.end;
    }
    let put: Vec<_> = keys.into_iter().map(|(r, _)| (r, "ALL".to_owned())).collect();
    let _ = objectid::put_keys(bytes, put);
    // A name beyond ASCII, encoded, reads back (an ASCII one is taken as encoded).
    let text = String::from_utf8_lossy(bytes);
    if !text.is_ascii() {
        assert_eq!(names::from_modified_utf7(&names::modified_utf7(&text)), text, "modified UTF-7 reads back");
    }
}

/// A response code of RFC 5530 (and the like) that imap-types does not name.
pub(crate) fn code(name: &'static str) -> CodeOther<'static> {
    CodeOther::unvalidated(name.as_bytes())
}

/// IMAP on a listener: plain (with STARTTLS), or imaps with implicit TLS.
pub(crate) struct Imap {
    /// True on the imaps listener.
    pub implicit_tls: bool,
}

impl LineProtocol for Imap {
    fn name(&self) -> &'static str {
        if self.implicit_tls { "imaps" } else { "imap" }
    }

    fn busy(&self, _: &ServiceContext) -> String {
        "* BYE [UNAVAILABLE] Too many connections, try again later\r\n".to_owned()
    }

    async fn session(&self, a: Accepted) {
        session::Session::new(a.conn, a.peer, a.ctx, a.limits, a.slot).run().await;
    }
}
