//! The program as the desktop sees it: its launcher is valid and names one main
//! category, and the real `mailroom-admin` on a real X server (Xvfb) gives its window
//! the class the launcher's `StartupWMClass` names, so the desktop ties the window to
//! its launcher and icon.
#![cfg(unix)] // A real mailroomd, which runs on Unix.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mailroom_tests::{Daemon, Killed, Xvfb, require};

const LAUNCHER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/mailroom-admin.desktop");

/// Regression: the launcher listed two main categories (Network and System), so menus
/// showed the program twice.
#[test]
fn the_launcher_is_valid_and_in_one_menu() {
    require("desktop-file-validate", "desktop-file-utils");
    let out = Command::new("desktop-file-validate").arg(LAUNCHER).output().expect("desktop-file-validate");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.trim().is_empty(), "{said}");
}

/// Regression: the window's WM_CLASS instance was empty (egui-winit gave X11 the
/// Wayland app id with no instance), so the launcher's StartupWMClass matched nothing.
#[tokio::test(flavor = "multi_thread")]
async fn the_window_class_is_the_launchers() {
    require("xdotool", "xdotool");
    require("xprop", "x11-utils");
    let d = Daemon::start().await;
    let home = tempfile::tempdir().expect("home");
    let xvfb = Xvfb::start();
    let display = xvfb.display.clone();
    let _app = Killed(
        Command::new(env!("CARGO_BIN_EXE_mailroom-admin"))
            .arg("--socket")
            .arg(&d.socket)
            .env("DISPLAY", &display)
            .env_remove("WAYLAND_DISPLAY")
            .env("HOME", home.path())
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mailroom-admin"),
    );
    let found = Command::new("timeout")
        .args(["20", "xdotool", "search", "--sync", "--name", "^Mailroom Administrator$"])
        .env("DISPLAY", &display)
        .output()
        .expect("xdotool");
    let window = String::from_utf8_lossy(&found.stdout).lines().next().unwrap_or_default().to_owned();
    assert!(!window.is_empty(), "no window appeared: {}", String::from_utf8_lossy(&found.stderr));
    let launcher = std::fs::read_to_string(LAUNCHER).expect("launcher");
    let wanted = launcher.lines().find_map(|l| l.strip_prefix("StartupWMClass=")).expect("StartupWMClass");
    // The program sets it at its first frame, which may come a moment after the window.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let class =
            Command::new("xprop").args(["-id", &window, "WM_CLASS"]).env("DISPLAY", &display).output().expect("xprop");
        let class = String::from_utf8_lossy(&class.stdout).into_owned();
        if class.contains(&format!("\"{wanted}\", \"{wanted}\"")) {
            break;
        }
        assert!(Instant::now() < deadline, "WM_CLASS is {class}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
