//! The IMAP commands imap-codec refuses and Mailroom reads itself: ESEARCH's and
//! ESORT's RETURN options, LIST-EXTENDED, MULTIAPPEND and CATENATE, NOTIFY,
//! CANCELUPDATE, SEARCHRES's `$`, OBJECTID's and SAVEDATE's items and keys — any bytes,
//! no panic, no read out of bounds, key ranges in order inside the command, and folder
//! names read back from modified UTF-7.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mailroom_service::imap::fuzz_extended(data);
});
