//! The SMTP command parser must never panic, whatever the line; nor may the routing
//! syntax check or the log formatter, and the latter must never show the initial
//! response of an AUTH command (a password, in base64).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailroom_service::logging::loggable_line;
use mailroom_service::smtp::command;

fuzz_target!(|data: &[u8]| {
    let mut line = data.to_vec();
    line.extend_from_slice(b"\r\n");
    let _ = command::parse(&line);
    let _ = command::parse(data);
    let logged = loggable_line(&line);
    assert!(!logged.contains(['\r', '\n', '\0']), "a log line must stay one line: {logged:?}");
    let text = String::from_utf8_lossy(data);
    let mut words = text.splitn(3, ' ');
    if let Some(verb) = words.next().filter(|v| v.eq_ignore_ascii_case("AUTH"))
        && let (Some(mechanism), Some(secret)) = (words.next(), words.next())
    {
        let secret = secret.trim_end_matches(['\r', '\n']);
        // Unless the secret also appears in the words that are shown, it must not
        // appear at all.
        if secret.len() > 4 && !format!("{verb} {mechanism}").contains(secret) {
            assert!(!logged.contains(secret), "{logged:?} shows {secret:?}");
        }
        assert!(logged.ends_with(" ****"), "{logged:?}");
    }
    if let Ok(path) = std::str::from_utf8(data) {
        let _ = command::routing_syntax(path);
    }
});
