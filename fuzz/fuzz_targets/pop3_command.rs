//! The POP3 command parser must never panic, and message numbers it returns are never 0.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailroom_service::pop3::command::{self, Command};

fuzz_target!(|data: &[u8]| {
    if let Ok(cmd) = command::parse(data) {
        match cmd {
            Command::List(Some(n))
            | Command::Uidl(Some(n))
            | Command::Retr(n)
            | Command::Dele(n)
            | Command::Top(n, _) => {
                assert!(n > 0)
            }
            _ => {}
        }
    }
});
