//! What a test needs from the machine, checked before it starts: a tool and the Debian
//! package that brings it, a module of the system Python, root. A test that lacks one
//! fails, naming what to install (`tests/setup` installs all of it); it never passes
//! having tested nothing.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// True when `tool` is an executable file: on `PATH`, or at the absolute path given.
fn installed(tool: &str) -> bool {
    let executable = |p: &Path| p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
    if tool.contains('/') {
        return executable(Path::new(tool));
    }
    std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|dir| executable(&dir.join(tool))))
}

/// Checks that `tool` (a program on `PATH`, or an absolute path) is installed.
///
/// # Panics
/// When it is not: "needs `tool` (Debian package `package`): run tests/setup".
#[track_caller]
pub fn require(tool: &str, package: &str) {
    assert!(installed(tool), "needs `{tool}` (Debian package `{package}`): run tests/setup");
}

/// True when `interpreter -e`/`-c` `program` succeeds.
fn runs(interpreter: &str, flag: &str, program: &str) -> bool {
    Command::new(interpreter)
        .arg(flag)
        .arg(program)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Checks that the system Python (`/usr/bin/python3`, where Debian's packages put
/// their modules) imports every one of `modules`.
///
/// # Panics
/// When one is missing, naming the Debian packages that bring them.
#[track_caller]
pub fn require_python(modules: &[&str], packages: &str) {
    require("/usr/bin/python3", "python3");
    let imported = runs("/usr/bin/python3", "-c", &format!("import {}", modules.join(", ")));
    assert!(
        imported,
        "needs the Python modules {} (Debian packages `{packages}`): run tests/setup",
        modules.join(", ")
    );
}

/// Checks that Perl loads every one of `modules` (what swaks needs for `--tls`).
///
/// # Panics
/// When one is missing, naming the Debian packages that bring them.
#[track_caller]
pub fn require_perl(modules: &[&str], packages: &str) {
    require("perl", "perl");
    let program: String = modules.iter().map(|m| format!("use {m}; ")).collect();
    assert!(
        runs("perl", "-e", &program),
        "needs the Perl modules {} (Debian packages `{packages}`): run tests/setup",
        modules.join(", ")
    );
}

/// True when this process runs as root.
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Checks that the suite runs as root, as CI runs it.
///
/// # Panics
/// When it does not, saying what the test needs root for (`why`).
#[track_caller]
pub fn require_root(why: &str) {
    assert!(is_root(), "needs root ({why}): run the suite as root, as .ci/run does");
}

/// Checks that swaks can talk TLS: swaks, and the Perl modules its `--tls` loads.
///
/// # Panics
/// When one is missing, naming its Debian package.
#[track_caller]
pub fn require_swaks_tls() {
    require("swaks", "swaks");
    require_perl(&["Net::SSLeay", "IO::Socket::SSL"], "libnet-ssleay-perl libio-socket-ssl-perl");
}

/// Runs a Python 3 script with arguments; returns (success, stdout, stderr).
pub fn python(script: &str, args: &[&str]) -> (bool, String, String) {
    require("python3", "python3");
    let out = Command::new("python3").arg("-c").arg(script).args(args).output().expect("python3");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
