//! Smoke test of the binaries' command lines. Its presence also makes
//! `cargo test --workspace` build `mailroomd` and `mailroomctl`, which the end-to-end
//! suite in `tests/` runs.

use std::process::Command;

#[test]
fn both_binaries_print_their_version() {
    for exe in [env!("CARGO_BIN_EXE_mailroomd"), env!("CARGO_BIN_EXE_mailroomctl")] {
        let out = Command::new(exe).arg("--version").output().expect("run");
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
    }
}
