//! The DATA receiver must never panic, must never consume more than it was given, and
//! must find the same end of message however the input is split into reads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailroom_service::smtp::data::{DataReceiver, Progress};

fn run(chunks: &[&[u8]]) -> (Progress, Vec<u8>, usize) {
    let mut r = DataReceiver::new(Some(64 * 1024));
    let mut total = 0;
    for c in chunks {
        let (used, p) = r.feed(c);
        assert!(used <= c.len());
        total += used;
        if p != Progress::More {
            return (p, r.into_body(), total);
        }
    }
    (Progress::More, r.into_body(), total)
}

fuzz_target!(|data: &[u8]| {
    let whole = run(&[data]);
    let split = data.len() / 2;
    let halves = run(&[&data[..split], &data[split..]]);
    let bytes: Vec<&[u8]> = data.chunks(1).collect();
    let single = run(&bytes);
    assert_eq!(whole, halves);
    assert_eq!(whole, single);
});
