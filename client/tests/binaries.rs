//! Smoke test of `mailroomctl`'s command line. Its presence also makes
//! `cargo test --workspace` build `mailroomctl`, which the end-to-end suite in `tests/`
//! and the Administrator's tests run.

use std::process::Command;

#[test]
fn mailroomctl_prints_its_version() {
    let out = Command::new(env!("CARGO_BIN_EXE_mailroomctl")).arg("--version").output().expect("run");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
}
