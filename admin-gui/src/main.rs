//! `mailroom-admin`: see the library's documentation.

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
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("Mailroom Administrator")
        .with_app_id("mailroom-admin")
        .with_inner_size([1100.0, 700.0])
        .with_min_inner_size([720.0, 480.0]);
    if let Ok(icon) = eframe::icon_data::from_png_bytes(include_bytes!("../../assets/mailroom-admin.png")) {
        viewport = viewport.with_icon(icon);
    }
    let options = eframe::NativeOptions { viewport, ..Default::default() };
    eframe::run_native(
        "Mailroom Administrator",
        options,
        // Double-clicking the app is enough: it starts the service if none answers.
        Box::new(move |cc| Ok(Box::new(mailroom_admin::AdminApp::new(&cc.egui_ctx, socket).auto_start()))),
    )
}
