//! The Debian package, installed for real: built by the README's own command (`cargo
//! build --release --workspace && cargo deb -p mailroom-service --no-build`, read from
//! the README and run as it stands), checked by `lintian` (no errors, no warnings),
//! installed with `dpkg -i` (its maintainer script creates the user `mailroom`) with
//! its manual pages and its debug symbols' package, then `mailroomd` started the way
//! its systemd unit starts it — as that user, with the unit's directories and only
//! `CAP_NET_BIND_SERVICE` (through `setpriv`, since a test machine has no systemd as
//! PID 1) — and administered by a member of the group `mailroom` while a stranger is
//! refused. Purge removes the data; remove does not.
//!
//! Needs root (it installs a package and adds users), `cargo-deb`, `lintian`, `man`
//! and `systemd-analyze`; `tests/setup` installs them. The release build takes a while
//! the first time (it is the README's, into the workspace's `target/release`): some 15
//! minutes on two cores, so the test is not in the default run (CI's budget is 30
//! minutes for everything); run it with `cargo test --test package -- --ignored`
//! before a release and after a change to the packaging. It uses
//! the unit's own paths (`/var/lib/mailroom`, `/run/mailroom`), so it refuses to run
//! where a Mailroom system service is installed already.
#![expect(clippy::expect_used, reason = "a test helper fails the test at once, saying what it expected")]

use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use mailroom_tests::{require, require_root};

const ADMIN: &str = "mailroom-test-admin";
const STRANGER: &str = "mailroom-test-stranger";
/// A loopback address of its own, so that port 25 is free whatever else runs here.
const SMTP: &str = "127.0.0.25:25";

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

fn ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_path_buf()
}

/// Where cargo builds: `./target/`, or where `CARGO_TARGET_DIR` says.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace().join("target"), PathBuf::from)
}

/// The README's lines (inside its `sh` blocks) that contain `words`: exactly one.
fn readme_line(words: &str) -> String {
    let readme = std::fs::read_to_string(workspace().join("README.md")).expect("README.md");
    let mut in_block = false;
    let mut found = Vec::new();
    for line in readme.lines() {
        if line.starts_with("```") {
            in_block = line == "```sh";
        } else if in_block && line.contains(words) {
            found.push(line.trim().to_owned());
        }
    }
    assert_eq!(found.len(), 1, "the README should give one command with `{words}`: {found:?}");
    found.remove(0)
}

/// `cmd` with the environment of the shell that ran `cargo test`: without what cargo
/// adds for a test (the package's `CARGO_*` variables, its libraries' path). Build
/// scripts that watch such a variable (ring's watches `CARGO_MANIFEST_DIR`) would
/// otherwise rebuild most of the release build, whose results a person's own
/// `cargo build --release` then rebuilds again.
fn as_from_the_shell(cmd: &mut Command) -> &mut Command {
    let target = target_dir();
    for (key, value) in std::env::vars_os() {
        let key = key.to_string_lossy();
        let set_for_tests = ["CARGO", "CARGO_MANIFEST_DIR", "CARGO_MANIFEST_PATH", "CARGO_CRATE_NAME"]
            .contains(&key.as_ref())
            || ["CARGO_PKG_", "CARGO_BIN_", "CARGO_TARGET_TMPDIR", "CARGO_PRIMARY_PACKAGE"]
                .iter()
                .any(|p| key.starts_with(p));
        if set_for_tests {
            cmd.env_remove(key.as_ref());
        } else if key == "LD_LIBRARY_PATH" {
            let own: Vec<PathBuf> = std::env::split_paths(&value).filter(|p| !p.starts_with(&target)).collect();
            if own.is_empty() {
                cmd.env_remove("LD_LIBRARY_PATH");
            } else {
                cmd.env("LD_LIBRARY_PATH", std::env::join_paths(own).expect("paths"));
            }
        }
    }
    cmd
}

/// Builds the package with the README's command, run as the README gives it, from the
/// workspace; the .deb the README's install line names, and the debug symbols' .ddeb
/// beside it.
fn build_deb_as_the_readme_says(log: &Path) -> (PathBuf, PathBuf) {
    let build = readme_line("cargo deb");
    let output = run(as_from_the_shell(Command::new("sh").args(["-ec", &build]).current_dir(workspace())));
    std::fs::write(log, [&output.stdout[..], &output.stderr[..]].concat()).expect("log");
    assert!(output.status.success(), "the README's `{build}` failed:\n{}", String::from_utf8_lossy(&output.stderr));
    let install = readme_line("apt install ./target/debian/");
    let deb_name = install.rsplit('/').next().expect("a file name");
    let deb = target_dir().join("debian").join(deb_name);
    assert!(deb.exists(), "the README installs {deb_name}, which its build did not make");
    let ddeb = deb.with_file_name(deb_name.replacen("mailroom_", "mailroom-dbgsym_", 1)).with_extension("ddeb");
    assert!(ddeb.exists(), "no debug symbols' package beside it: {}", ddeb.display());
    (deb, ddeb)
}

/// What lintian says of `package`, asserted free of errors and warnings but for the
/// tags `known` names.
fn lintian(package: &Path, known: &[&str]) {
    let out = run(Command::new("lintian").args(["--tag-display-limit", "0"]).arg(package));
    let report = String::from_utf8_lossy(&out.stdout);
    let complaints: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("E:") || l.starts_with("W:"))
        .filter(|l| !known.iter().any(|tag| l.split_whitespace().nth(2) == Some(tag)))
        .collect();
    assert!(
        complaints.is_empty(),
        "lintian on {}:\n{report}{}",
        package.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What cargo-deb writes into every debug symbols' package, which our metadata cannot
/// change: `Priority: extra` (an old name of optional), and no `usr/share/doc` (Debian's
/// own dbgsym packages link it to the main package's, which would carry both files).
const CARGO_DEB_DBGSYM: &[&str] = &["unknown-priority", "no-copyright-file", "no-changelog"];

/// The build id of an ELF file, as `readelf -n` prints it.
fn build_id(path: &str) -> String {
    ok(Command::new("readelf").args(["-n", path]))
        .lines()
        .find_map(|l| l.trim().strip_prefix("Build ID:"))
        .unwrap_or_else(|| panic!("{path} has no build id"))
        .trim()
        .to_owned()
}

/// The users this test adds, removed again whatever happens.
struct Users;

impl Users {
    fn add(gid: u32) -> Users {
        Users::remove();
        ok(Command::new("useradd").args(["--system", "--no-create-home", "--shell", "/usr/sbin/nologin"]).args([
            "--groups",
            &gid.to_string(),
            ADMIN,
        ]));
        ok(Command::new("useradd").args(["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", STRANGER]));
        Users
    }

    fn remove() {
        for u in [ADMIN, STRANGER] {
            let _ = Command::new("userdel").arg(u).stderr(Stdio::null()).status();
        }
    }
}

impl Drop for Users {
    fn drop(&mut self) {
        Users::remove();
    }
}

/// The package, purged again at the end (so a failed run leaves no service behind).
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = Command::new("dpkg")
            .args(["--purge", "mailroom-dbgsym", "mailroom"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all("/run/mailroom");
    }
}

/// The service's process, killed if the test ends early.
struct Service(std::process::Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `KEY=value` lines of the unit's `[Service]` section.
fn unit_value(unit: &str, key: &str) -> String {
    unit.lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        .unwrap_or_else(|| panic!("the unit has no {key}="))
        .trim()
        .to_owned()
}

/// Runs `mailroomctl` as `user` through `runuser`, with a clean environment (no
/// runtime directory, so the client finds the system socket by itself unless told).
fn ctl_as(user: &str, args: &[&str]) -> Output {
    run(Command::new("runuser")
        .args(["-u", user, "--", "/usr/bin/mailroomctl"])
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("HOME", "/nonexistent"))
}

fn uid_of(name: &str) -> u32 {
    ok(Command::new("id").args(["-u", name])).trim().parse().expect("uid")
}

fn gid_of(name: &str) -> u32 {
    ok(Command::new("getent").args(["group", name])).split(':').nth(2).expect("gid field").parse().expect("gid")
}

#[test]
#[ignore = "builds the whole workspace in release as the README does (some 15 minutes on 2 cores, which CI's 30 cannot hold beside the rest): run with `cargo test --test package -- --ignored`"]
fn the_debian_package_installs_a_system_service_administered_by_its_group() {
    require_root("to install a package and add users");
    require("dpkg", "dpkg");
    require("lintian", "lintian");
    require("man", "man-db");
    require("readelf", "binutils");
    require("objcopy", "binutils");
    require("systemd-analyze", "systemd");
    require("setpriv", "util-linux");
    require("runuser", "util-linux");
    require("kill", "procps");
    assert!(
        run(Command::new("cargo").args(["deb", "--version"])).status.success(),
        "needs `cargo deb` (the crate cargo-deb, from crates.io): run tests/setup"
    );
    let installed_before = run(Command::new("dpkg-query").args(["-W", "-f=${Status}", "mailroom"]));
    assert!(
        !String::from_utf8_lossy(&installed_before.stdout).contains("installed")
            && !Path::new("/run/mailroom/admin.sock").exists(),
        "a Mailroom system service is installed on this machine; this test would replace it"
    );
    let work = tempfile::tempdir().expect("tempdir");

    // Build the package as the README does, and check it and its debug symbols'.
    let (deb, ddeb) = build_deb_as_the_readme_says(&work.path().join("build.log"));
    lintian(&deb, &[]);
    lintian(&ddeb, CARGO_DEB_DBGSYM);

    // Install it: the maintainer script creates the user and the data directory.
    let _installed = Installed;
    ok(Command::new("dpkg").arg("-i").arg(&deb).env("DEBIAN_FRONTEND", "noninteractive"));
    for path in ["/usr/bin/mailroomd", "/usr/bin/mailroomctl", "/usr/bin/mailroom-admin"] {
        assert!(Path::new(path).exists(), "{path} installed");
    }
    // Each program has its manual page, which man reads.
    for (program, says) in
        [("mailroomd", "--admin-group"), ("mailroomctl", "mailroomctl mailbox add"), ("mailroom-admin", "--socket")]
    {
        let page = format!("/usr/share/man/man1/{program}.1.gz");
        assert!(Path::new(&page).exists(), "{page} installed");
        let shown = ok(Command::new("man").args(["-l", &page]).env("MANWIDTH", "80"));
        assert!(shown.contains("NAME") && shown.contains(program) && shown.contains(says), "man -l {page}:\n{shown}");
    }
    // The programs are stripped; their symbols install beside them, found by build id.
    ok(Command::new("dpkg").arg("-i").arg(&ddeb).env("DEBIAN_FRONTEND", "noninteractive"));
    for program in ["mailroomd", "mailroomctl", "mailroom-admin"] {
        let id = build_id(&format!("/usr/bin/{program}"));
        let symbols = format!("/usr/lib/debug/.build-id/{}/{}.debug", &id[..2], &id[2..]);
        assert!(Path::new(&symbols).exists(), "{program}'s symbols at {symbols}");
    }
    ok(Command::new("dpkg").args(["-r", "mailroom-dbgsym"]));
    assert!(Path::new("/usr/share/applications/mailroom-admin.desktop").exists(), "the launcher is installed");
    let passwd = ok(Command::new("getent").args(["passwd", "mailroom"]));
    assert!(passwd.contains(":/var/lib/mailroom:"), "a system user with the data directory as home: {passwd}");
    let mailroom_uid = uid_of("mailroom");
    let mailroom_gid = gid_of("mailroom");
    assert!(mailroom_uid < 1000 && mailroom_uid != 0, "a system uid, not root: {mailroom_uid}");
    let data = std::fs::metadata("/var/lib/mailroom").expect("/var/lib/mailroom");
    assert_eq!((data.uid(), data.mode() & 0o777), (mailroom_uid, 0o700), "the data directory is the user's, private");

    // The unit as installed: systemd accepts it, and it says how to start the service.
    let unit_path = "/usr/lib/systemd/system/mailroomd.service";
    let unit = std::fs::read_to_string(unit_path).expect("the unit is installed");
    let verify = run(Command::new("systemd-analyze").args(["verify", unit_path]));
    let complaints = String::from_utf8_lossy(&verify.stderr);
    assert!(
        verify.status.success() && !complaints.contains("mailroomd.service:"),
        "systemd-analyze verify: {complaints}"
    );
    assert_eq!(unit_value(&unit, "Type"), "notify");
    assert_eq!(unit_value(&unit, "User"), "mailroom");
    assert_eq!(unit_value(&unit, "Group"), "mailroom");
    assert_eq!(unit_value(&unit, "AmbientCapabilities"), "CAP_NET_BIND_SERVICE");
    assert_eq!(unit_value(&unit, "CapabilityBoundingSet"), "CAP_NET_BIND_SERVICE");
    let runtime = Path::new("/run").join(unit_value(&unit, "RuntimeDirectory"));
    let runtime_mode = u32::from_str_radix(&unit_value(&unit, "RuntimeDirectoryMode"), 8).expect("mode");
    let exec: Vec<String> = unit_value(&unit, "ExecStart").split_whitespace().map(str::to_owned).collect();
    assert!(exec.windows(2).any(|w| w == ["--admin-group", "mailroom"]), "{exec:?}");

    // What systemd would do: the runtime directory, the readiness socket, then the
    // service as its user with only the one capability.
    std::fs::create_dir_all(&runtime).expect("runtime directory");
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(runtime_mode)).expect("chmod");
    rustix::fs::chown(
        &runtime,
        Some(rustix::fs::Uid::from_raw(mailroom_uid)),
        Some(rustix::fs::Gid::from_raw(mailroom_gid)),
    )
    .expect("chown");
    let notify_dir = tempfile::Builder::new().prefix("notify").tempdir_in("/tmp").expect("tempdir");
    std::fs::set_permissions(notify_dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let notify_path = notify_dir.path().join("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).expect("notify socket");
    std::fs::set_permissions(&notify_path, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    notify.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let log = std::fs::File::create(work.path().join("mailroomd.log")).expect("log");
    let mut daemon = Service(
        Command::new("setpriv")
            .args(["--reuid=mailroom", "--regid=mailroom", "--init-groups", "--no-new-privs"])
            .args(["--inh-caps=-all,+net_bind_service", "--ambient-caps=-all,+net_bind_service"])
            .args(["--bounding-set=-all,+net_bind_service", "--"])
            .args(&exec)
            .arg("--no-start")
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", "/var/lib/mailroom")
            .env("NOTIFY_SOCKET", &notify_path)
            .env("MAILROOM_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("setpriv"),
    );
    let daemon_log = || std::fs::read_to_string(work.path().join("mailroomd.log")).unwrap_or_default();
    let mut ready = [0u8; 512];
    let n = notify.recv(&mut ready).unwrap_or_else(|e| panic!("no readiness notification ({e}):\n{}", daemon_log()));
    assert!(String::from_utf8_lossy(&ready[..n]).contains("READY=1"), "{}", String::from_utf8_lossy(&ready[..n]));

    // The process runs as mailroom, with CAP_NET_BIND_SERVICE and nothing else.
    let status = std::fs::read_to_string(format!("/proc/{}/status", daemon.0.id())).expect("status");
    let field = |name: &str| status.lines().find_map(|l| l.strip_prefix(name)).unwrap_or_default().trim().to_owned();
    assert!(field("Uid:").split_whitespace().all(|u| u == mailroom_uid.to_string()), "{}", field("Uid:"));
    assert_eq!(u64::from_str_radix(&field("CapEff:"), 16).expect("CapEff"), 1 << 10, "only CAP_NET_BIND_SERVICE");

    // The socket: 0660, the group mailroom's.
    let socket = runtime.join("admin.sock");
    let meta = std::fs::metadata(&socket).expect("the control socket");
    assert_eq!((meta.mode() & 0o777, meta.gid()), (0o660, mailroom_gid), "socket mode and group");

    // Root administers it (port 25 for SMTP), and the service binds it without root.
    let root_ctl = |args: &[&str]| {
        ok(Command::new("/usr/bin/mailroomctl").arg("--socket").arg(&socket).args(args));
    };
    root_ctl(&["set", "smtp-listen", SMTP]);
    root_ctl(&["set", "pop3-listen", "127.0.0.1:0"]);
    root_ctl(&["set", "imap-listen", "127.0.0.1:0"]);
    root_ctl(&["start"]);
    let mut banner = String::new();
    let stream = std::net::TcpStream::connect(SMTP).unwrap_or_else(|e| panic!("port 25 ({e}):\n{}", daemon_log()));
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    BufReader::new(&stream).read_line(&mut banner).expect("banner");
    assert!(banner.starts_with("220 "), "{banner}");
    (&stream).write_all(b"QUIT\r\n").expect("quit");

    // A member of the group administers it, finding the system socket by itself.
    let _users = Users::add(mailroom_gid);
    let out = ctl_as(ADMIN, &["status"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("running") || said.contains("Running"), "{said}");
    let out = ctl_as(ADMIN, &["set", "pop3-listen", "127.0.0.1:0"]);
    assert!(out.status.success(), "a member changes settings: {}", String::from_utf8_lossy(&out.stderr));

    // A stranger is refused: by the modes, and by the service itself when the modes are
    // loosened by hand.
    let out = ctl_as(STRANGER, &["--socket", socket.to_str().expect("utf-8"), "status"]);
    assert!(!out.status.success(), "a stranger is refused by the modes");
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let out = ctl_as(STRANGER, &["--socket", socket.to_str().expect("utf-8"), "status"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a stranger is refused by the service");
    assert!(stderr.contains("not the service's user nor a member of the group 'mailroom'"), "{stderr}");
    let out = ctl_as(ADMIN, &["status"]);
    assert!(out.status.success(), "the member still gets in: {}", String::from_utf8_lossy(&out.stderr));

    // Stop as systemd does, then remove (data kept) and purge (data gone).
    ok(Command::new("kill").args(["-TERM", &daemon.0.id().to_string()]));
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(s) = daemon.0.try_wait().expect("wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "mailroomd did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "mailroomd exited with {exit}:\n{}", daemon_log());
    std::fs::remove_dir_all(&runtime).expect("systemd removes the runtime directory");
    ok(Command::new("dpkg").args(["-r", "mailroom"]));
    assert!(!Path::new("/usr/bin/mailroomd").exists(), "remove removes the programs");
    assert!(Path::new("/var/lib/mailroom/mailroom.db").exists(), "remove keeps the mail");
    ok(Command::new("dpkg").args(["--purge", "mailroom"]));
    assert!(!Path::new("/var/lib/mailroom").exists(), "purge removes the data");
}
