//! Benchmark: the latency of one `status` round trip over the control socket.
//!
//! Starts the real `mailroomd` (the build of this bench's profile) on a temporary data
//! directory, connects one client, warms up, then times sequential `status` requests
//! and prints the median, 90th and 99th percentiles. Run with
//! `cargo bench -p mailroom-service --bench ipc_status`.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mailroom_shared::ipc::Request;
use mailroom_shared::ipc::client::Client;

const WARMUP: usize = 1_000;
const SAMPLES: usize = 20_000;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("admin.sock");
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_mailroomd"))
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--socket")
        .arg(&socket)
        .arg("--no-start")
        .env("MAILROOM_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let client = loop {
        match Client::connect(&socket, "bench").await {
            Ok(c) => break c,
            Err(e) if Instant::now() > deadline => panic!("mailroomd did not come up: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
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
    let _ = daemon.kill();
    let _ = daemon.wait();
}
