//! `mailroom-admin`: see the library's documentation.
// A Windows program with a window opens no console beside it.
#![cfg_attr(windows, windows_subsystem = "windows")]

use std::path::PathBuf;

/// The program's name for the desktop: its launcher's file name and `StartupWMClass`.
const APP_ID: &str = "mailroom-admin";

/// The app, whose X11 window gets a whole WM_CLASS on the first frame. egui-winit gives
/// winit the app id as the class with an empty instance (Wayland's naming), so X11 had
/// `WM_CLASS = "", "mailroom-admin"`, and desktops that match the launcher's
/// `StartupWMClass` against the instance found nothing.
struct Classed {
    app: mailroom_admin::AdminApp,
    /// Until when the class is set again at each frame: winit may set its own after
    /// our first frame (when the window is mapped), so setting it once lost the race
    /// now and then.
    until: std::time::Instant,
}

impl eframe::App for Classed {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        if std::time::Instant::now() < self.until {
            set_wm_class(frame);
            ui.ctx().request_repaint_after(std::time::Duration::from_millis(250));
        }
        self.app.ui(ui, frame);
    }
}

/// Sets the window's WM_CLASS to the app id twice (instance and class), when it is an
/// X11 window; nothing otherwise, or when the X server cannot be reached.
#[cfg(target_os = "linux")]
fn set_wm_class(frame: &eframe::Frame) {
    use raw_window_handle::{HasWindowHandle as _, RawWindowHandle};
    use x11rb::connection::Connection as _;
    use x11rb::protocol::xproto::{AtomEnum, PropMode};
    use x11rb::wrapper::ConnectionExt as _;
    let Ok(handle) = frame.window_handle() else { return };
    let window = match handle.as_raw() {
        RawWindowHandle::Xlib(h) => u32::try_from(h.window).unwrap_or(0),
        RawWindowHandle::Xcb(h) => h.window.get(),
        _ => return,
    };
    let Ok((conn, _)) = x11rb::connect(None) else { return };
    let class = format!("{APP_ID}\0{APP_ID}\0");
    let set = conn.change_property8(PropMode::REPLACE, window, AtomEnum::WM_CLASS, AtomEnum::STRING, class.as_bytes());
    if set.is_ok() {
        let _ = conn.flush();
    }
}

#[cfg(not(target_os = "linux"))]
fn set_wm_class(_frame: &eframe::Frame) {}

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
    let socket = socket.unwrap_or_else(mailroom_shared::paths::client_socket);
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("Mailroom Administrator")
        .with_inner_size([1100.0, 700.0])
        .with_min_inner_size([720.0, 480.0]);
    // The app id names the window for Wayland's compositor (and X11's WM_CLASS class;
    // its instance is set once the window exists, see `Classed`).
    viewport = viewport.with_app_id(APP_ID);
    if let Ok(icon) = eframe::icon_data::from_png_bytes(include_bytes!("../../assets/mailroom-admin.png")) {
        viewport = viewport.with_icon(icon);
    }
    let options = eframe::NativeOptions { viewport, ..Default::default() };
    eframe::run_native(
        "Mailroom Administrator",
        options,
        // Double-clicking the app is enough: it starts the service if none answers. On
        // Windows, where no service runs, it goes to the server used last (over SSH), or
        // asks for one.
        Box::new(move |cc| {
            let app = mailroom_admin::AdminApp::new(&cc.egui_ctx, socket);
            let app = if cfg!(unix) { app.auto_start() } else { app.remote_only(&cc.egui_ctx) };
            let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
            Ok(Box::new(Classed { app, until }))
        }),
    )
}
