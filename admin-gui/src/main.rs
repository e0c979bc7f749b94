//! Mailroom Administrator: the desktop program that configures and controls `mailroomd`.
//!
//! The UI thread never waits on the service: a background thread ([`backend`]) owns
//! the IPC client and its tokio runtime; the UI sends it [`backend::Command`]s and
//! drains [`backend::Update`]s at the start of every frame. The backend calls
//! `request_repaint()` whenever it has something new.

mod app;
mod backend;

use std::path::PathBuf;

fn main() -> eframe::Result {
    let mut socket: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--socket" => socket = args.next().map(PathBuf::from),
            "--help" | "-h" => {
                eprintln!("usage: mailroom-admin [--socket PATH]");
                return Ok(());
            }
            other => {
                eprintln!("mailroom-admin: unknown argument '{other}' (try --help)");
                std::process::exit(2);
            }
        }
    }
    let socket =
        socket.unwrap_or_else(|| mailroom_shared::paths::default_socket(&mailroom_shared::paths::default_data_dir()));
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Mailroom Administrator")
            .with_inner_size([960.0, 640.0])
            .with_min_inner_size([640.0, 420.0]),
        ..Default::default()
    };
    eframe::run_native(
        "Mailroom Administrator",
        options,
        Box::new(move |cc| {
            // Exchange Administrator was a light, businesslike Windows program.
            cc.egui_ctx.set_theme(egui::Theme::Light);
            Ok(Box::new(app::AdminApp::new(cc.egui_ctx.clone(), socket)))
        }),
    )
}
