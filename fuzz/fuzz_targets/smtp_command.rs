//! The SMTP command parser must never panic, whatever the line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailroom_service::smtp::command;

fuzz_target!(|data: &[u8]| {
    let mut line = data.to_vec();
    line.extend_from_slice(b"\r\n");
    let _ = command::parse(&line);
    let _ = command::parse(data);
});
