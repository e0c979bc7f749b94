//! The control protocol's line framing and request parsing must never panic, and a
//! configuration draft that deserializes must either validate or give field errors.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailroom_shared::config::{Config, ConfigDraft};
use mailroom_shared::ipc::RequestEnvelope;
use mailroom_shared::ipc::framing::LineBuffer;

fuzz_target!(|data: &[u8]| {
    let mut lines = LineBuffer::new(4096);
    lines.extend(data);
    while let Ok(Some(line)) = lines.next_line() {
        let _ = serde_json::from_slice::<RequestEnvelope>(&line);
        if let Ok(draft) = serde_json::from_slice::<ConfigDraft>(&line) {
            if let Err(errors) = Config::from_draft(&draft) {
                assert!(!errors.0.is_empty());
            }
        }
    }
});
