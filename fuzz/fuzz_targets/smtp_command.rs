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
        let shown = logged.strip_suffix(" ****").unwrap_or_else(|| panic!("not masked: {logged:?}"));
        // What may be shown is the verb and the mechanism, escaped; unless the secret
        // happens to be part of those, it must not be shown at all.
        let allowed: String = format!("{verb} {mechanism}").chars().flat_map(char::escape_debug).collect();
        if secret.len() > 4 && !allowed.contains(secret) {
            assert!(!shown.contains(secret), "{logged:?} shows {secret:?}");
        }
    }
    if let Ok(path) = std::str::from_utf8(data) {
        let _ = command::routing_syntax(path);
    }
});
