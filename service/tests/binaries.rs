//! Smoke test of the daemon's command line. Its presence also makes
//! `cargo test --workspace` build `mailroomd`, which the end-to-end suite in `tests/`
//! runs (`mailroom-client`'s own smoke test builds `mailroomctl`).

use std::process::Command;

#[test]
fn mailroomd_prints_its_version() {
    let out = Command::new(env!("CARGO_BIN_EXE_mailroomd")).arg("--version").output().expect("run");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
}
