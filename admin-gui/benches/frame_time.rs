//! Benchmark: the time to build one frame of the main window with 10,000 queue
//! entries and 1,000 mailboxes, for the Queues and Recipients views, and with the
//! Monitor's two charts of an hour of busy traffic.
//!
//! Uses egui_kittest (no GPU: this times the UI code, layout and tessellation input,
//! which is what grows with the lists). Run:
//! `cargo bench -p mailroom-admin --bench frame_time`.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mailroom_admin::AdminApp;
use mailroom_admin::model::Connection;
use mailroom_shared::ipc::{MailboxInfo, MonitorMinute, QueueEntry};

fn main() {
    let dir = std::env::temp_dir().join("mailroom-frame-bench.sock");
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |cc| AdminApp::new(&cc.egui_ctx, dir));
    {
        let app = h.state_mut();
        app.model.connection = Connection::Connected("bench".into());
        app.model.queue = (0..10_000)
            .map(|i| QueueEntry {
                queue_id: format!("Q{i:08}"),
                sender: format!("sender{i}@corp.test"),
                recipients: vec![format!("friend{i}@outside{}.test", i % 97)],
                size: 10_240 + i,
                received_at: 1_795_000_000 + i as i64,
                next_attempt: Some(1_795_000_900 + i as i64),
                last_error: Some("451 4.3.0 try again later".into()),
            })
            .collect();
        app.model.mailboxes = (0..1_000)
            .map(|i| MailboxInfo {
                id: i,
                display_name: format!("User {i}"),
                addresses: vec![format!("user{i}@corp.test"), format!("alias{i}@corp.test")],
                message_count: i as u64 % 50,
                total_bytes: (i as u64 % 50) * 10_240,
                folders: Vec::new(),
                forwarding: None,
                auto_reply: None,
                limits: Default::default(),
                shared: false,
                permissions: Vec::new(),
                collections: Vec::new(),
                hidden: false,
            })
            .collect();
        app.model.monitor = (0..60)
            .map(|i| MonitorMinute {
                at: 1_795_000_000 + i * 60,
                received: 3_000 + (i as u64 * 37) % 500,
                delivered: 2_000 + (i as u64 * 53) % 400,
                relayed: 900 + (i as u64 * 17) % 100,
                deferred: (i as u64 * 7) % 30,
                bounced: i as u64 % 3,
                refused: 200 + (i as u64 * 11) % 90,
                queued: 40 + i as u64,
                smtp_sessions: 20,
                pop3_sessions: 3,
                imap_sessions: 12,
            })
            .collect();
    }
    let views = [("Queues", "10000 messages waiting"), ("Recipients", "E-mail Addresses"), ("Monitor", "This minute:")];
    for (view, shown) in views {
        h.get_by_label(view).click();
        // The backend finds no service on the fake socket; keep the views showing.
        h.state_mut().model.connection = Connection::Connected("bench".into());
        h.run_steps(5);
        h.state_mut().model.connection = Connection::Connected("bench".into());
        h.step();
        h.get_by_label_contains(shown);
        let mut times = Vec::new();
        for _ in 0..200 {
            h.state_mut().model.connection = Connection::Connected("bench".into());
            let t = Instant::now();
            h.step();
            times.push(t.elapsed());
        }
        h.get_by_label_contains(shown);
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{view}: frame median {:.2} ms, p95 {:.2} ms, max {:.2} ms (200 frames)",
            ms(times[100]),
            ms(times[190]),
            ms(times[199])
        );
    }
}
