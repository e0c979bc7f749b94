//! Benchmark: one message to many local mailboxes (single-instance storage).
//!
//! Starts the real `mailroomd` on a temporary data directory, creates 100 mailboxes,
//! and sends 5 messages of 1 MiB, each to all 100, over SMTP on loopback. Reports, per
//! message, how much the database grew (after a WAL checkpoint, so that only the
//! database file counts) and the time from the client's final `.` to the `250`
//! (which Mailroom sends only after the fsync'd commit).
//!
//! Run: `cargo bench -p mailroom-service --bench single_instance`. `MAILROOMD=path`
//! runs another build instead, to compare.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mailroom_shared::ipc::{Request, Response};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

mod common;

const RECIPIENTS: usize = 100;
const MESSAGES: usize = 5;
const SIZE: usize = 1024 * 1024;

async fn expect(r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>, code: &str) {
    loop {
        let mut line = String::new();
        assert!(r.read_line(&mut line).await.unwrap() > 0, "connection closed");
        assert!(line.starts_with(code), "expected {code}, got {line}");
        if line.as_bytes().get(3) == Some(&b' ') {
            return;
        }
    }
}

/// Bytes the database file holds after a checkpoint moved the WAL into it.
fn database_bytes(data_dir: &std::path::Path) -> u64 {
    let path = data_dir.join("mailroom.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
    std::fs::metadata(&path).unwrap().len()
}

#[tokio::main]
async fn main() {
    let daemon = common::start().await;
    let client = &daemon.client;
    let Response::Config { config, .. } = client.request(Request::GetConfig).await.unwrap() else { panic!() };
    let mut draft = config.to_draft();
    draft.connections.smtp_listen = "127.0.0.1:0".into();
    draft.pop3.listen = "127.0.0.1:0".into();
    draft.connections.max_recipients = RECIPIENTS as u64;
    client.request(Request::SetConfig { config: Box::new(draft), base_revision: None }).await.unwrap();
    for i in 0..RECIPIENTS {
        client
            .request(Request::AddMailbox {
                display_name: String::new(),
                addresses: vec![format!("user{i}@bench.test")],
                password: "x".into(),
            })
            .await
            .unwrap();
    }
    let Response::Status(s) = client.request(Request::Start).await.unwrap() else { panic!() };
    let addr: SocketAddr = s.smtp_addr.unwrap().parse().unwrap();

    let mut body = b"From: sender@outside.test\r\nSubject: to everyone\r\n\r\n".to_vec();
    while body.len() < SIZE {
        body.extend_from_slice(b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\r\n");
    }
    let stream = TcpStream::connect(addr).await.unwrap();
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    expect(&mut r, "220").await;
    w.write_all(b"EHLO bench.test\r\n").await.unwrap();
    expect(&mut r, "250").await;
    let start_bytes = database_bytes(&daemon.data_dir);
    let mut growth = Vec::new();
    let mut latency = Vec::new();
    for _ in 0..MESSAGES {
        let before = database_bytes(&daemon.data_dir);
        w.write_all(b"MAIL FROM:<sender@outside.test>\r\n").await.unwrap();
        expect(&mut r, "250").await;
        for i in 0..RECIPIENTS {
            w.write_all(format!("RCPT TO:<user{i}@bench.test>\r\n").as_bytes()).await.unwrap();
            expect(&mut r, "250").await;
        }
        w.write_all(b"DATA\r\n").await.unwrap();
        expect(&mut r, "354").await;
        w.write_all(&body).await.unwrap();
        let t = Instant::now();
        w.write_all(b".\r\n").await.unwrap();
        expect(&mut r, "250").await;
        latency.push(t.elapsed());
        growth.push(database_bytes(&daemon.data_dir) - before);
    }
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!("{MESSAGES} messages of {} bytes, each to {RECIPIENTS} local mailboxes:", body.len());
    for (i, (g, t)) in growth.iter().zip(&latency).enumerate() {
        println!(
            "  message {}: database grew {:.2} MiB, end of data → 250 {:.1} ms",
            i + 1,
            mib(*g),
            t.as_secs_f64() * 1e3
        );
    }
    println!(
        "  in all: {:.2} MiB for {:.2} MiB of mail ({:.2} MiB per message)",
        mib(database_bytes(&daemon.data_dir) - start_bytes),
        mib((MESSAGES * body.len()) as u64),
        mib((database_bytes(&daemon.data_dir) - start_bytes) / MESSAGES as u64)
    );
    w.write_all(b"QUIT\r\n").await.unwrap();
}
