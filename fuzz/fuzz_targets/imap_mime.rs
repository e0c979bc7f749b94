//! A message's MIME structure as IMAP numbers it: parsing never panics, every part's
//! header and body lie inside the message and in order, BODYSTRUCTURE and ENVELOPE can
//! be built for anything, and every numbered part can be cut out.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailroom_service::imap::{fetch, mime};

fn check(raw: &[u8], part: &mime::Part, path: &mut Vec<u32>, top: &mime::Part) {
    assert!(part.header.start <= part.header.end && part.header.end <= part.body.start);
    assert!(part.body.start <= part.body.end && part.body.end <= raw.len());
    match &part.kind {
        mime::Kind::Multipart(children) => {
            for (i, child) in children.iter().enumerate() {
                assert!(child.header.start >= part.body.start && child.body.end <= part.body.end);
                path.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
                assert!(top.find(path).is_some(), "part {path:?} is found by its number");
                check(raw, child, path, top);
                path.pop();
            }
        }
        mime::Kind::Message(inner) => {
            assert!(inner.header.start >= part.body.start && inner.body.end <= part.body.end);
        }
        mime::Kind::Single => {}
    }
}

fuzz_target!(|raw: &[u8]| {
    let top = mime::parse(raw);
    check(raw, &top, &mut Vec::new(), &top);
    let _ = fetch::body_structure(raw, &top);
    let _ = fetch::envelope(&raw[top.header.clone()]);
    for n in 1..4u32 {
        if let Some(p) = top.find(&[n]) {
            let _ = &raw[p.body.clone()];
        }
    }
});
