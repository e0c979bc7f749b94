//! The Windows build of the Administrator and `mailroomctl` (`x86_64-pc-windows-gnu`,
//! made from Linux with mingw-w64), run under Wine: their own test suites (the
//! Administrator's model, actions and window without a service; the client; the
//! contract), `mailroomctl.exe` administering a real `mailroomd` over "SSH", and the
//! Administrator's `.exe` drawing its window on Xvfb and administering that service.
//!
//! Under Wine a Windows program cannot hand its pipes to a Linux `ssh`, and Debian has
//! no Windows one; so a small Windows program, the client crate's `relay_ssh` example,
//! stands in for `ssh.exe`, and this file's relay plays sshd: it records the command
//! line ssh was given and runs the remote command (`mailroomctl bridge`) on Linux.
//!
//! The cross build has a target directory of its own (`target/windows`): a cross
//! build puts its build scripts in the host's `target/debug`, which the `cargo test`
//! running this file holds locked. Wine's prefixes are `target/windows/wine` and, for the
//! window, `target/windows/wine-window`.
#![expect(clippy::expect_used, reason = "a test helper fails the test at once, saying what it expected")]

use std::io::BufRead as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use mailroom_tests::{Daemon, Killed, Xvfb, require};

const TARGET: &str = "x86_64-pc-windows-gnu";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace").to_path_buf()
}

fn target_dir() -> PathBuf {
    root().join("target").join("windows")
}

/// A program of the Windows build.
fn exe(name: &str) -> PathBuf {
    target_dir().join(TARGET).join("debug").join(name)
}

/// `program` under Wine, in the tests' own prefix.
fn wine(program: &Path) -> Command {
    wine_in(program, &target_dir().join("wine"))
}

/// `program` under Wine, in `prefix`. The window test has a prefix of its own: Wine
/// gives a prefix's desktop the X display of the first program that makes it, and
/// programs run with none (the other tests') would leave the window none.
fn wine_in(program: &Path, prefix: &Path) -> Command {
    let mut c = Command::new(root().join("tests/windows/wine-run.sh"));
    c.arg(program).env("MAILROOM_WINEPREFIX", prefix);
    c
}

/// Runs the Windows build's test suites under Wine, once for the whole file (building
/// every program of the three crates on the way); what they printed.
fn windows_suites() -> &'static str {
    static SUITES: OnceLock<String> = OnceLock::new();
    SUITES.get_or_init(|| {
        require("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64");
        require("/usr/lib/wine/wine64", "wine64");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = Command::new(cargo)
            .current_dir(root())
            .args([
                "test",
                "--target",
                TARGET,
                "-p",
                "mailroom-shared",
                "-p",
                "mailroom-client",
                "-p",
                "mailroom-admin",
            ])
            .arg("--no-fail-fast")
            .env("CARGO_TARGET_DIR", target_dir())
            .env("CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER", root().join("tests/windows/wine-run.sh"))
            .env("MAILROOM_WINEPREFIX", target_dir().join("wine"))
            .output()
            .expect("cargo");
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(
            out.status.success(),
            "the Windows build or its tests failed (is the target installed? `rustup target add {TARGET}`):\n{said}"
        );
        said
    })
}

#[test]
fn the_windows_build_passes_its_own_tests_under_wine() {
    let said = windows_suites();
    let (mut passed, mut failed) = (0, 0);
    for line in said.lines().filter(|l| l.starts_with("test result:")) {
        let count = |what: &str| {
            line.split(';').find_map(|p| p.trim().strip_suffix(what)?.rsplit(' ').next()?.parse::<u32>().ok())
        };
        passed += count(" passed").unwrap_or(0);
        failed += count(" failed").unwrap_or(0);
    }
    assert_eq!(failed, 0, "{said}");
    // The contract's, the client's and the Administrator's own (the window with no
    // service among them), not a suite that ran nothing.
    assert!(passed >= 90, "only {passed} tests ran:\n{said}");
    assert!(said.contains("Running tests/windows.rs") && said.contains("mailroom_shared"), "{said}");
}

/// sshd's part, played by the system Python (its sockets and pipes carry the bytes
/// as they come): takes the connections of `relay_ssh.exe`, prints each one's command
/// line, runs the remote command in it (a Linux shell command) with its standard input
/// and output carried over the connection, and prints how many bytes came back.
const RELAY: &str = r#"
import socket, subprocess, sys, threading
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen()
print(listener.getsockname()[1], flush=True)
def serve(conn):
    f = conn.makefile("rb")
    line = f.readline().decode().strip()
    print("command", line, flush=True)
    remote = line.split(" -- ", 1)[1].split(" ", 1)[1]
    p = subprocess.Popen(["sh", "-c", remote], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    def up():
        while b := f.read1(65536):
            p.stdin.write(b)
            p.stdin.flush()
        p.stdin.close()
    threading.Thread(target=up, daemon=True).start()
    while b := p.stdout.read1(65536):
        conn.sendall(b)
        print("answered", len(b), flush=True)
    conn.close()
    p.wait()
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
"#;

/// The relay, and what it said so far.
struct Relay {
    port: u16,
    said: Arc<Mutex<Vec<String>>>,
    _child: Killed,
}

impl Relay {
    /// The command lines ssh was given.
    fn commands(&self) -> Vec<String> {
        let said = self.said.lock().expect("lock");
        said.iter().filter_map(|l| l.strip_prefix("command ").map(str::to_owned)).collect()
    }

    /// How many bytes the remote commands sent back.
    fn answered(&self) -> usize {
        let said = self.said.lock().expect("lock");
        said.iter().filter_map(|l| l.strip_prefix("answered ")?.parse::<usize>().ok()).sum()
    }
}

fn relay() -> Relay {
    let mut child =
        Command::new("/usr/bin/python3").arg("-c").arg(RELAY).stdout(Stdio::piped()).spawn().expect("python3");
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let port = lines.next().and_then(Result::ok).and_then(|l| l.trim().parse().ok()).expect("the relay's port");
    let said = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&said);
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            s.lock().expect("lock").push(line);
        }
    });
    Relay { port, said, _child: Killed(child) }
}

/// A Windows path to `path` (Wine's drive Z: is the Unix root).
fn windows_path(path: &Path) -> String {
    format!("Z:{}", path.display()).replace('/', "\\")
}

/// The remote command that reaches `d`.
fn bridge(d: &Daemon) -> String {
    format!("{} bridge --socket {}", mailroom_tests::bin("mailroomctl").display(), d.socket.display())
}

#[tokio::test(flavor = "multi_thread")]
async fn mailroomctl_exe_administers_a_linux_service_over_ssh() {
    windows_suites();
    let d = Daemon::start().await;
    d.add_mailbox("far@corp.test", "far-pw-2026");
    let relay = relay();
    let out = wine(&exe("mailroomctl.exe"))
        .env("MAILROOM_SSH", windows_path(&exe("examples/relay_ssh.exe")))
        .env("MAILROOM_TEST_SSH_RELAY", format!("127.0.0.1:{}", relay.port))
        .args(["--ssh", "admin@mail.corp.test", "--ssh-port", "2222", "--ssh-command", &bridge(&d), "mailbox", "list"])
        .output()
        .expect("wine");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.contains("far@corp.test"), "{said}");
    let commands = relay.commands();
    assert_eq!(commands.len(), 1, "{commands:?}");
    assert!(commands[0].contains("BatchMode=yes") && commands[0].contains("-p 2222 -- admin@mail.corp.test "));

    // A computer ssh cannot reach: exit 3, with ssh's own words.
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    let out = wine(&exe("mailroomctl.exe"))
        .env("MAILROOM_SSH", windows_path(&exe("examples/relay_ssh.exe")))
        .env("MAILROOM_TEST_SSH_RELAY", closed.to_string())
        .args(["--ssh", "admin@mail.corp.test", "status"])
        .output()
        .expect("wine");
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{said}");
    assert!(said.contains("over SSH: ssh: connect to host"), "{said}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_administrator_exe_draws_its_window_and_administers_the_server_used_last() {
    require("xdotool", "xdotool");
    windows_suites();
    let d = Daemon::start().await;
    let relay = relay();
    // The server used last, where the Windows Administrator keeps it (%APPDATA%).
    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
    let prefix = target_dir().join("wine-window");
    let settings = prefix.join("drive_c/users").join(&user).join("AppData/Roaming/Mailroom/mailroom/config");
    std::fs::create_dir_all(&settings).expect("settings");
    std::fs::write(settings.join("recent-servers"), format!("admin@mail.corp.test\t\t{}\n", bridge(&d)))
        .expect("recent-servers");

    let xvfb = Xvfb::start();
    let display = xvfb.display.clone();
    let _app = Killed(
        wine_in(&exe("mailroom-admin.exe"), &prefix)
            .env("DISPLAY", &display)
            .env("MAILROOM_SSH", windows_path(&exe("examples/relay_ssh.exe")))
            .env("MAILROOM_TEST_SSH_RELAY", format!("127.0.0.1:{}", relay.port))
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("wine"),
    );
    // It opens on the server used last: its title names it, and the service answers
    // what the window asks (its status, configuration and recipients).
    let found = Command::new("timeout")
        .args(["60", "xdotool", "search", "--sync", "--name", "^Mailroom Administrator — admin@mail.corp.test$"])
        .env("DISPLAY", &display)
        .output()
        .expect("xdotool");
    assert!(!found.stdout.is_empty(), "no window appeared: {}", String::from_utf8_lossy(&found.stderr));
    let deadline = Instant::now() + Duration::from_secs(30);
    while relay.answered() < 2000 {
        assert!(Instant::now() < deadline, "the service was not asked: {:?}", relay.commands());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(relay.commands()[0].ends_with(&format!("-- admin@mail.corp.test {}", bridge(&d))));
}

#[test]
fn the_windows_package_is_a_zip_and_an_installer_with_a_start_menu_shortcut_that_uninstalls() {
    windows_suites();
    let out_dir = target_dir().join("package");
    let made = Command::new(root().join("assets/windows/package.sh"))
        .args(["--debug", "--no-build", "--fast", "--target-dir"])
        .arg(target_dir())
        .arg("--out")
        .arg(&out_dir)
        .output()
        .expect("package.sh");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let version = env!("CARGO_PKG_VERSION");
    let zip = out_dir.join(format!("mailroom-windows-{version}.zip"));
    let listed = Command::new("/usr/bin/python3")
        .args(["-c", "import sys, zipfile; print(*sorted(zipfile.ZipFile(sys.argv[1]).namelist()))"])
        .arg(&zip)
        .output()
        .expect("python3");
    assert_eq!(String::from_utf8_lossy(&listed.stdout).trim(), "README.txt mailroom-admin.exe mailroomctl.exe");

    // Installed silently into a prefix of its own, as an administrator would.
    let prefix = target_dir().join("wine-install");
    let _ = std::fs::remove_dir_all(prefix.join("drive_c/Mailroom"));
    let setup = out_dir.join(format!("mailroom-admin-setup-{version}.exe"));
    let ran = wine_in(&setup, &prefix).args(["/S", "/D=C:\\Mailroom"]).output().expect("wine");
    assert!(ran.status.success(), "{}", String::from_utf8_lossy(&ran.stderr));
    let installed = prefix.join("drive_c/Mailroom");
    for file in ["mailroom-admin.exe", "mailroomctl.exe", "README.txt", "Uninstall.exe"] {
        assert!(installed.join(file).is_file(), "{file} is not installed");
    }
    let shortcut =
        prefix.join("drive_c/ProgramData/Microsoft/Windows/Start Menu/Programs/Mailroom/Mailroom Administrator.lnk");
    assert!(shortcut.is_file(), "no Start-menu shortcut");
    let version_said = wine_in(Path::new("C:\\Mailroom\\mailroomctl.exe"), &prefix).arg("--version").output();
    let version_said = version_said.expect("wine");
    assert!(String::from_utf8_lossy(&version_said.stdout).contains(version), "the installed mailroomctl runs");
    let registered = wine_in(Path::new("reg"), &prefix)
        .args(["query", "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\Mailroom"])
        .output()
        .expect("wine");
    assert!(String::from_utf8_lossy(&registered.stdout).contains("Mailroom Administrator"), "not in Apps & features");

    // The uninstaller (it runs from a copy of itself, after this returns) takes it all away.
    let ran = wine_in(&installed.join("Uninstall.exe"), &prefix).arg("/S").output().expect("wine");
    assert!(ran.status.success(), "{}", String::from_utf8_lossy(&ran.stderr));
    let deadline = Instant::now() + Duration::from_secs(60);
    while installed.exists() || shortcut.exists() {
        assert!(Instant::now() < deadline, "the uninstaller left {}", installed.display());
        std::thread::sleep(Duration::from_millis(200));
    }
}
