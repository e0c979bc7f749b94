//! Benchmark: durable SMTP acceptance into local mailboxes.
//!
//! Starts the real `mailroomd` (this bench's build) on a temporary data directory and
//! measures, on loopback:
//! 1. throughput and latency: 20 concurrent sessions deliver 5,000 messages of 10 KiB
//!    to a local mailbox; latency is from the client writing the final `.` line to
//!    reading the `250` (which Mailroom sends only after the fsync'd commit);
//! 2. memory: the daemon's resident set size with 1,000 idle connections open.
//!
//! Run: `cargo bench -p mailroom-service --bench smtp_accept` (raise `ulimit -n` above
//! 2,100 first). `tests/bench/smtp-vs-postfix.sh` adds Postfix's `smtp-source`, run
//! the same way against Mailroom and the reference Postfix.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mailroom_shared::ipc::{Request, Response};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

mod common;

const SESSIONS: usize = 20;
const MESSAGES: usize = 5_000;
const SIZE: usize = 10 * 1024;
const IDLE: usize = 1_000;

async fn reply(r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> String {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await.unwrap() == 0 {
            panic!("connection closed after {all:?}");
        }
        let last = line.as_bytes().get(3) == Some(&b' ');
        all.push_str(&line);
        if last {
            return all;
        }
    }
}

async fn expect(r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>, code: &str) {
    let got = reply(r).await;
    assert!(got.starts_with(code), "expected {code}, got {got}");
}

/// One session sending `count` messages; returns the latency of each.
async fn session(addr: SocketAddr, count: usize, body: std::sync::Arc<Vec<u8>>) -> Vec<Duration> {
    let stream = TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    expect(&mut r, "220").await;
    w.write_all(b"EHLO bench.test\r\n").await.unwrap();
    expect(&mut r, "250").await;
    let mut latencies = Vec::with_capacity(count);
    for _ in 0..count {
        w.write_all(b"MAIL FROM:<sender@outside.test>\r\n").await.unwrap();
        expect(&mut r, "250").await;
        w.write_all(b"RCPT TO:<user@bench.test>\r\n").await.unwrap();
        expect(&mut r, "250").await;
        w.write_all(b"DATA\r\n").await.unwrap();
        expect(&mut r, "354").await;
        w.write_all(&body).await.unwrap();
        let t = Instant::now();
        w.write_all(b".\r\n").await.unwrap();
        expect(&mut r, "250").await;
        latencies.push(t.elapsed());
    }
    w.write_all(b"QUIT\r\n").await.unwrap();
    latencies
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::main]
async fn main() {
    let daemon = common::start().await;
    let client = &daemon.client;
    let Response::Config { config, .. } = client.request(Request::GetConfig).await.unwrap() else { panic!() };
    let mut draft = config.to_draft();
    draft.connections.smtp_listen = "127.0.0.1:0".into();
    draft.pop3.listen = "127.0.0.1:0".into();
    draft.connections.max_connections = 3000;
    draft.connections.max_connections_per_ip = 3000;
    client.request(Request::SetConfig { config: Box::new(draft), base_revision: None }).await.unwrap();
    client
        .request(Request::AddMailbox {
            display_name: "Bench".into(),
            addresses: vec!["user@bench.test".into()],
            password: "x".into(),
        })
        .await
        .unwrap();
    let Response::Status(s) = client.request(Request::Start).await.unwrap() else { panic!() };
    let addr: SocketAddr = s.smtp_addr.unwrap().parse().unwrap();

    let mut body = b"From: sender@outside.test\r\nTo: user@bench.test\r\nSubject: bench\r\n\r\n".to_vec();
    while body.len() < SIZE {
        body.extend_from_slice(b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\r\n");
    }
    let body = std::sync::Arc::new(body);
    let start = Instant::now();
    let per_session: Vec<usize> =
        (0..SESSIONS).map(|i| (MESSAGES * (i + 1)) / SESSIONS - (MESSAGES * i) / SESSIONS).collect();
    let tasks: Vec<_> = per_session.into_iter().map(|n| tokio::spawn(session(addr, n, body.clone()))).collect();
    let mut latencies = Vec::with_capacity(MESSAGES);
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    let elapsed = start.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!("durable acceptance, {MESSAGES} messages of {} bytes over {SESSIONS} sessions:", body.len());
    println!(
        "  throughput {:>8.0} messages/s ({:.2} s)",
        MESSAGES as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    println!(
        "  end of data → 250: median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        latencies[latencies.len() - 1].as_secs_f64() * 1e3
    );

    let before = rss_kib(daemon.child.id());
    let mut idle = Vec::with_capacity(IDLE);
    for _ in 0..IDLE {
        let s = TcpStream::connect(addr).await.unwrap();
        let (r, w) = s.into_split();
        let mut r = BufReader::new(r);
        expect(&mut r, "220").await;
        idle.push((r, w));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let with_idle = rss_kib(daemon.child.id());
    println!(
        "  resident memory: {:.1} MiB before, {:.1} MiB with {IDLE} idle connections",
        before as f64 / 1024.0,
        with_idle as f64 / 1024.0
    );
    drop(idle);
    drop(daemon);
}
