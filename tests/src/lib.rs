//! Helpers for Mailroom's end-to-end suite: run the real `mailroomd` and `mailroomctl`
//! binaries against a temporary data directory, and talk to them over real sockets.
//!
//! The binaries are the ones cargo built for this workspace (`target/<profile>/`, next
//! to the test executable's `deps/` directory); `MAILROOM_BIN_DIR` overrides that.
//! `cargo test --workspace` builds them, because their crates (`mailroom-service`,
//! `mailroom-client`) have integration tests of their own.
#![expect(clippy::expect_used, reason = "a test helper fails the test at once, saying what it expected")]
#![deny(missing_docs)]

use std::path::{Path, PathBuf};

mod ca;
mod daemon;
mod display;
mod dns;
mod fixtures;
mod peers;
mod require;
mod sink;
mod smtp;

pub use ca::TestCa;
pub use daemon::Daemon;
pub use display::{Killed, Xvfb};
pub use dns::{Dns, non_loopback_ip};
pub use fixtures::{free_bytes, move_fixture_clock_to_now};
pub use peers::{Postfix, Rspamd};
pub use require::{is_root, python, require, require_perl, require_python, require_root, require_swaks_tls};
pub use sink::{Received, Sink, Stall};
pub use smtp::{Smtp, try_send};

/// Path of one of the workspace's binaries.
///
/// # Panics
/// When it has not been built.
pub fn bin(name: &str) -> PathBuf {
    let dir = std::env::var_os("MAILROOM_BIN_DIR").map(PathBuf::from).unwrap_or_else(|| {
        let exe = std::env::current_exe().expect("test executable path");
        exe.parent().and_then(Path::parent).expect("target/<profile>/deps").to_path_buf()
    });
    let path = dir.join(name);
    assert!(path.exists(), "{} not built; run `cargo build --workspace` first", path.display());
    path
}
