//! Benchmark: what mail authentication costs per message.
//!
//! 1. Signing alone, in process: both DKIM signatures (RSA-2048 and Ed25519) of a
//!    10 KiB message.
//! 2. Durable acceptance of relayed mail from an authenticated user, 20 sessions, 2,000
//!    messages of 10 KiB, with signing on and off (outbound delivery held, so that only
//!    acceptance is measured).
//! 3. Durable acceptance of mail from outside (client bound to 127.0.0.2) with the
//!    inbound checks on and off, against dnsmasq on loopback publishing an SPF record
//!    (skipped when dnsmasq is missing).
//!
//! Run: `cargo bench -p mailroom-service --bench mailauth`.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use mailroom_service::mailauth::signing::{SigningKeys, generate};
use mailroom_shared::ipc::{Request, Response};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

mod common;

const SESSIONS: usize = 20;
const MESSAGES: usize = 2_000;
const SIZE: usize = 10 * 1024;

fn body(from: &str) -> Vec<u8> {
    let mut b =
        format!("From: {from}\r\nTo: far@outside.test\r\nSubject: bench\r\nMessage-ID: <b@x>\r\n\r\n").into_bytes();
    while b.len() < SIZE {
        b.extend_from_slice(b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\r\n");
    }
    b
}

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

/// One session sending `count` messages from `source`, authenticated when `auth`;
/// the latency of each (final `.` to `250`).
async fn session(
    addr: SocketAddr,
    source: IpAddr,
    auth: bool,
    count: usize,
    body: std::sync::Arc<Vec<u8>>,
) -> Vec<Duration> {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(source, 0)).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    expect(&mut r, "220").await;
    w.write_all(b"EHLO bench.outside.test\r\n").await.unwrap();
    expect(&mut r, "250").await;
    let (from, rcpt) = if auth {
        w.write_all(b"AUTH PLAIN AGFubkBjb3JwLnRlc3QAeA==\r\n").await.unwrap();
        expect(&mut r, "235").await;
        ("ann@corp.test", "far@outside.test")
    } else {
        ("bob@outside.test", "ann@corp.test")
    };
    let mut latencies = Vec::with_capacity(count);
    for _ in 0..count {
        w.write_all(format!("MAIL FROM:<{from}>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n").as_bytes()).await.unwrap();
        expect(&mut r, "250").await;
        expect(&mut r, "250").await;
        expect(&mut r, "354").await;
        w.write_all(&body).await.unwrap();
        let t = Instant::now();
        w.write_all(b".\r\n").await.unwrap();
        expect(&mut r, "250").await;
        latencies.push(t.elapsed());
    }
    latencies
}

/// Sends `MESSAGES` over `SESSIONS`; messages per second and median latency.
async fn run(addr: SocketAddr, source: IpAddr, auth: bool, body: Vec<u8>) -> (f64, Duration) {
    let body = std::sync::Arc::new(body);
    let t = Instant::now();
    let tasks: Vec<_> =
        (0..SESSIONS).map(|_| tokio::spawn(session(addr, source, auth, MESSAGES / SESSIONS, body.clone()))).collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let rate = MESSAGES as f64 / t.elapsed().as_secs_f64();
    all.sort();
    (rate, all[all.len() / 2])
}

/// A daemon with corp.test inbound, Ann's mailbox, outbound held, and `edit` applied.
async fn daemon(edit: impl FnOnce(&mut mailroom_shared::config::ConfigDraft)) -> (common::Daemon, SocketAddr) {
    let d = common::start().await;
    let Response::Config { config, .. } = d.client.request(Request::GetConfig).await.unwrap() else { panic!() };
    let mut draft = config.to_draft();
    draft.connections.smtp_listen = "127.0.0.1:0".into();
    draft.pop3.listen = "127.0.0.1:0".into();
    draft.connections.transfer_mode = mailroom_shared::config::TransferMode::InboundOnly;
    draft.routing.reroute = true;
    draft
        .routing
        .table
        .push(mailroom_shared::config::RouteEntryDraft { sent_to: "corp.test".into(), reroute_to: None });
    edit(&mut draft);
    d.client.request(Request::SetConfig { config: Box::new(draft), base_revision: None }).await.unwrap();
    d.client
        .request(Request::AddMailbox {
            display_name: String::new(),
            addresses: vec!["ann@corp.test".into()],
            password: "x".into(),
        })
        .await
        .unwrap();
    let Response::Status(s) = d.client.request(Request::Start).await.unwrap() else { panic!() };
    (d, s.smtp_addr.unwrap().parse().unwrap())
}

#[tokio::main]
async fn main() {
    // 1. Signing alone.
    let keys = SigningKeys::default();
    keys.load(&generate("corp.test", 1_795_688_400, &[]).unwrap());
    let message = body("ann@corp.test");
    let rounds = 500;
    let t = Instant::now();
    for _ in 0..rounds {
        assert!(!keys.sign("corp.test", &message).is_empty());
    }
    println!(
        "DKIM signing (RSA-2048 and Ed25519) of a {} byte message: {:.0} µs",
        message.len(),
        t.elapsed().as_secs_f64() * 1e6 / f64::from(rounds)
    );

    // 2. Relayed mail, signed or not.
    let loopback: IpAddr = "127.0.0.1".parse().unwrap();
    for sign in [false, true] {
        let (d, addr) = daemon(|c| c.security.message_authentication.sign_outbound = sign).await;
        let (rate, median) = run(addr, loopback, true, body("ann@corp.test")).await;
        println!(
            "relayed mail from an authenticated user, signing {}: {rate:.0} messages/s, median end of data → 250 {:.2} ms",
            if sign { "on " } else { "off" },
            median.as_secs_f64() * 1e3
        );
        drop(d);
    }

    // 3. Mail from outside, checked or not.
    let port = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dns = std::process::Command::new("dnsmasq")
        .args(["--keep-in-foreground", "--no-resolv", "--no-hosts", "--conf-file=/dev/null", "--pid-file="])
        .args(["--listen-address=127.0.0.1", "--bind-interfaces", &format!("--port={port}"), "--local=/test/"])
        .arg("--txt-record=outside.test,v=spf1 ip4:127.0.0.2 -all")
        .stderr(std::process::Stdio::null())
        .spawn();
    let Ok(mut dns) = dns else {
        println!("inbound checks: skipped (no dnsmasq)");
        return;
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let outside: IpAddr = "127.0.0.2".parse().unwrap();
    for check in [false, true] {
        let (d, addr) = daemon(|c| {
            c.security.message_authentication.check_inbound = check;
            c.connections.dns_server = format!("127.0.0.1:{port}");
        })
        .await;
        let (rate, median) = run(addr, outside, false, body("bob@outside.test")).await;
        println!(
            "mail from outside (SPF, DKIM, ARC, DMARC against dnsmasq), checks {}: {rate:.0} messages/s, median {:.2} ms",
            if check { "on " } else { "off" },
            median.as_secs_f64() * 1e3
        );
        drop(d);
    }
    let _ = dns.kill();
    let _ = dns.wait();
}
