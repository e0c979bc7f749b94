//! Connect to Server over SSH, end to end: a real `sshd` on loopback (a throwaway host
//! key, an authorized key, a port of its own), a real `mailroomd` as "the other
//! computer", and the Administrator running `ssh … mailroomctl bridge` to administer
//! it. A key the server does not know is refused, and the window says why; `mailroomctl
//! bridge` run by a user the service does not accept is refused like any client.
#![cfg(unix)] // A real mailroomd, which runs on Unix.
#![expect(clippy::expect_used, reason = "a test helper fails the test at once, saying what it expected")]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mailroom_admin::AdminApp;
use mailroom_admin::model::Connection;
use mailroom_tests::{Daemon, require, require_root};

/// A throwaway sshd on 127.0.0.1; killed when dropped.
struct Sshd {
    child: Child,
    port: u16,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keygen(path: &Path) {
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen")
        .success();
    assert!(ok, "ssh-keygen failed");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port()
}

/// Starts sshd letting in the holder of `dir/client`'s key, as the user running the
/// tests.
fn sshd(dir: &Path) -> Sshd {
    require("/usr/sbin/sshd", "openssh-server");
    require("ssh", "openssh-client");
    require("ssh-keygen", "openssh-client");
    keygen(&dir.join("host"));
    keygen(&dir.join("client"));
    std::fs::copy(dir.join("client.pub"), dir.join("authorized_keys")).expect("authorized_keys");
    // sshd's privilege separation directory.
    std::fs::create_dir_all("/run/sshd").expect("/run/sshd");
    let port = free_port();
    let config = dir.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {host}\nAuthorizedKeysFile {keys}\nPidFile {pid}\n\
             StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PermitRootLogin prohibit-password\nPubkeyAuthentication yes\nLogLevel ERROR\n",
            host = dir.join("host").display(),
            keys = dir.join("authorized_keys").display(),
            pid = dir.join("sshd.pid").display(),
        ),
    )
    .expect("config");
    let child = Command::new("/usr/sbin/sshd")
        .args(["-D", "-e", "-f"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sshd (Debian's openssh-server)");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "sshd did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Sshd { child, port }
}

/// An `ssh` that uses `key` and trusts whatever host key it meets (a throwaway one).
fn ssh_with_key(dir: &Path, key: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let script = dir.join(format!("ssh-{}", key.file_name().and_then(|n| n.to_str()).unwrap_or("key")));
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nexec ssh -i '{}' -o IdentitiesOnly=yes -o StrictHostKeyChecking=no \
             -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \"$@\"\n",
            key.display()
        ),
    )
    .expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    script
}

fn user() -> String {
    String::from_utf8_lossy(&Command::new("id").arg("-un").output().expect("id").stdout).trim().to_owned()
}

/// The Administrator on `socket`, running `ssh` as given and keeping its settings in
/// `settings` (not the user's).
fn harness_with_ssh(socket: PathBuf, ssh: PathBuf, settings: PathBuf) -> Harness<'static, AdminApp> {
    Harness::builder()
        .with_size(egui::vec2(1100.0, 720.0))
        .build_eframe(move |cc| AdminApp::new(&cc.egui_ctx, socket).with_ssh_program(ssh).with_settings_dir(settings))
}

/// Connect to Server… as a user would: the SSH choice, the host, the port and the
/// command, Connect.
fn connect_over_ssh(h: &mut Harness<'_, AdminApp>, host: &str, port: u16, command: &str) {
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label("Connect to Server…").click();
    h.run_steps(3);
    h.get_by_label("Another computer, over SSH").click();
    h.run_steps(2);
    type_into(h, "Computer (user@host):", host);
    type_into(h, "SSH port (empty: 22):", &port.to_string());
    replace_text(h, "Command there:", command);
    h.get_by_label("Connect").click();
    h.run_steps(3);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_administrator_administers_another_computer_over_ssh() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sshd = sshd(dir.path());
    // "The other computer": a service whose socket is not the one the window starts on.
    let far = Daemon::start().await;
    let near = Daemon::start().await;
    let ssh = ssh_with_key(dir.path(), &dir.path().join("client"));
    let socket = near.socket.clone();
    let mut h = harness_with_ssh(socket, ssh, dir.path().join("settings"));
    connected(&mut h);
    let host = format!("{}@127.0.0.1", user());
    let command = format!("{} bridge --socket {}", mailroom_tests::bin("mailroomctl").display(), far.socket.display());
    connect_over_ssh(&mut h, &host, sshd.port, &command);
    wait(&mut h, "the service over SSH", |a| a.connected() && a.model.status.is_some() && a.model.server == host);
    h.get_by_label_contains(&format!("on {host}"));
    // It is the far service that answers: a mailbox made in the window is made there.
    h.get_by_label("Recipients").click();
    h.run_steps(2);
    h.get_by_label("New Mailbox…").click();
    h.run_steps(3);
    type_into(&mut h, "Display name:", "Far Away");
    type_into(&mut h, "E-mail addresses:", "far@corp.test");
    type_into(&mut h, "Password:", "far-pw-2026");
    type_into(&mut h, "Confirm password:", "far-pw-2026");
    h.get_by_label("Create").click();
    wait(&mut h, "the new mailbox", |a| a.model.mailboxes.iter().any(|m| m.addresses == ["far@corp.test"]));
    assert!(far.ctl_ok(&["mailbox", "list"]).contains("far@corp.test"), "made on the far service");
    assert!(!near.ctl_ok(&["mailbox", "list"]).contains("far@corp.test"), "not on this computer's");
    // The server is remembered for next time, and This computer comes back.
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label("Connect to Server…").click();
    h.run_steps(3);
    h.get_by_label(&format!("{host} (port {})", sshd.port));
    h.get_by_label("This computer").click();
    h.run_steps(2);
    h.get_by_label("Connect").click();
    wait(&mut h, "this computer's service", |a| a.connected() && a.model.server == "this computer");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_key_is_refused_and_the_window_says_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sshd = sshd(dir.path());
    let far = Daemon::start().await;
    keygen(&dir.path().join("stranger"));
    let ssh = ssh_with_key(dir.path(), &dir.path().join("stranger"));
    let socket = far.socket.clone();
    let mut h = harness_with_ssh(socket, ssh, dir.path().join("settings"));
    connected(&mut h);
    let host = format!("{}@127.0.0.1", user());
    connect_over_ssh(&mut h, &host, sshd.port, "mailroomctl bridge");
    wait(
        &mut h,
        "the refusal",
        |a| matches!(&a.model.connection, Connection::Down(why) if why.contains("Permission denied")),
    );
    h.get_by_label_contains("Cannot reach the Mailroom service on");
    h.get_by_label_contains("Permission denied");
    // Walk defect 20: a server that never answered is not kept among the recent ones.
    let recent = std::fs::read_to_string(dir.path().join("settings").join("recent-servers")).unwrap_or_default();
    assert!(!recent.contains("127.0.0.1"), "{recent}");
}

/// The bridge is a client like any other: the service refuses one run by a user that
/// may not administer it.
#[tokio::test(flavor = "multi_thread")]
async fn a_bridge_run_by_another_user_is_refused() {
    require_root("to run the bridge as another user");
    require("runuser", "util-linux");
    let d = Daemon::start().await;
    let out = Command::new("runuser")
        .args(["-u", "nobody", "--"])
        .arg(mailroom_tests::bin("mailroomctl"))
        .arg("bridge")
        .arg("--socket")
        .arg(&d.socket)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            if let Some(stdin) = child.stdin.as_mut() {
                let _ = stdin.write_all(b"{\"hello\":{\"version\":1,\"client\":\"intruder\"}}\n");
            }
            child.wait_with_output()
        })
        .expect("runuser");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!said.contains("welcome"), "the service welcomed another user: {said}");
    assert!(said.contains("error") || said.contains("Permission denied") || !out.status.success(), "{said}");
}

/// `mailroomctl --ssh`: the command line administers another computer the way the
/// Administrator does (the same client code), on Linux as on Windows.
#[tokio::test(flavor = "multi_thread")]
async fn mailroomctl_administers_another_computer_over_ssh() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sshd = sshd(dir.path());
    let far = Daemon::start().await;
    let ssh = ssh_with_key(dir.path(), &dir.path().join("client"));
    let host = format!("{}@127.0.0.1", user());
    let bridge = format!("{} bridge --socket {}", mailroom_tests::bin("mailroomctl").display(), far.socket.display());
    let ctl = |args: &[&str]| {
        Command::new(mailroom_tests::bin("mailroomctl"))
            .env("MAILROOM_SSH", &ssh)
            // Nothing answers here: what answers is the far service.
            .env("MAILROOM_SOCKET", dir.path().join("no-service-here.sock"))
            .args(["--ssh", &host, "--ssh-port", &sshd.port.to_string(), "--ssh-command", &bridge])
            .args(args)
            .output()
            .expect("mailroomctl")
    };
    far.add_mailbox("far@corp.test", "far-pw-2026");
    let out = ctl(&["mailbox", "list"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("far@corp.test"), "the far service's mailboxes");
    let out = ctl(&["status"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("state:           running"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A computer ssh cannot reach: exit 3, with ssh's own words.
    let out = Command::new(mailroom_tests::bin("mailroomctl"))
        .env("MAILROOM_SSH", &ssh)
        .args(["--ssh", &host, "--ssh-port", &free_port().to_string(), "status"])
        .output()
        .expect("mailroomctl");
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{said}");
    assert!(said.contains("over SSH") && said.contains("refused"), "{said}");
}
