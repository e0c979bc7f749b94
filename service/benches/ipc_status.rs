//! Benchmark: the latency of one `status` round trip over the control socket.
//!
//! Starts the real `mailroomd` (the build of this bench's profile) on a temporary data
//! directory, connects one client, warms up, then times sequential `status` requests
//! and prints the median, 90th and 99th percentiles. Run with
//! `cargo bench -p mailroom-service --bench ipc_status`.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::time::Instant;

use mailroom_shared::ipc::Request;

mod common;

const WARMUP: usize = 1_000;
const SAMPLES: usize = 20_000;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let daemon = common::start().await;
    let client = &daemon.client;
    for _ in 0..WARMUP {
        client.request(Request::Status).await.unwrap();
    }
    let mut samples = Vec::with_capacity(SAMPLES);
    let all = Instant::now();
    for _ in 0..SAMPLES {
        let t = Instant::now();
        client.request(Request::Status).await.unwrap();
        samples.push(t.elapsed());
    }
    let total = all.elapsed();
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    println!("ipc status round trip over {SAMPLES} requests (one connection, sequential):");
    println!("  median {:>8.1} µs", pct(0.50).as_secs_f64() * 1e6);
    println!("  p90    {:>8.1} µs", pct(0.90).as_secs_f64() * 1e6);
    println!("  p99    {:>8.1} µs", pct(0.99).as_secs_f64() * 1e6);
    println!("  max    {:>8.1} µs", samples[samples.len() - 1].as_secs_f64() * 1e6);
    println!("  rate   {:>8.0} requests/s", SAMPLES as f64 / total.as_secs_f64());
    drop(daemon);
}
