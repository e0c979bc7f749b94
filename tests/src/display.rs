//! A throwaway X display for the tests that look at real windows: Xvfb on a display
//! number it picks itself (one of our own could meet a stale lock or socket of an
//! earlier run), and a guard that kills a child process when the test ends, however it
//! ends.

use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};

use crate::require::require;

/// Kills a child when dropped (the test ended, passed or not), and reaps it.
#[derive(Debug)]
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running Xvfb, 1280×800×24, stopped on drop.
#[derive(Debug)]
pub struct Xvfb {
    _server: Killed,
    /// Its display, `:N`, for `DISPLAY`.
    pub display: String,
}

impl Xvfb {
    /// Starts one and waits until it accepts clients.
    ///
    /// # Panics
    /// When Xvfb is not installed, or says no display.
    #[track_caller]
    pub fn start() -> Xvfb {
        require("Xvfb", "xvfb");
        let mut xvfb = Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb");
        // It writes the display's number once it accepts clients.
        let mut line = String::new();
        std::io::BufReader::new(xvfb.stdout.take().expect("stdout")).read_line(&mut line).expect("Xvfb's display");
        let display = format!(":{}", line.trim());
        assert!(display.len() > 1, "Xvfb said no display");
        Xvfb { _server: Killed(xvfb), display }
    }
}
