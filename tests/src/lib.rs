//! Helpers for Mailroom's end-to-end suite: run the real `mailroomd` and `mailroomctl`
//! binaries against a temporary data directory, and talk to them over real sockets.
//!
//! The binaries are the ones cargo built for this workspace (`target/<profile>/`, next
//! to the test executable's `deps/` directory); `MAILROOM_BIN_DIR` overrides that.
//! `cargo test --workspace` builds them, because `mailroom-service` has integration
//! tests of its own.
#![deny(missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use mailroom_shared::ipc::client::Client;
use mailroom_shared::ipc::{Request, Response, StatusReport};

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

/// A running `mailroomd` with its own temporary data directory and socket. Killed (and
/// its directory removed) on drop.
pub struct Daemon {
    child: Option<Child>,
    /// Holds the temporary directory for the daemon's lifetime.
    pub dir: tempfile::TempDir,
    /// The data directory.
    pub data_dir: PathBuf,
    /// The control socket.
    pub socket: PathBuf,
}

impl std::fmt::Debug for Daemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Daemon").field("socket", &self.socket).finish_non_exhaustive()
    }
}

impl Daemon {
    /// Starts `mailroomd` with the control socket only, moves its listeners to
    /// ephemeral loopback ports (so tests can run in parallel), and starts the service.
    pub async fn start() -> Daemon {
        let d = Daemon::spawn_idle();
        d.wait_for_socket().await;
        d.ctl_ok(&["set", "smtp-listen", "127.0.0.1:0"]);
        d.ctl_ok(&["set", "pop3-listen", "127.0.0.1:0"]);
        d.ctl_ok(&["start"]);
        d
    }

    /// Spawns `mailroomd --no-start` in a fresh temporary directory without waiting.
    pub fn spawn_idle() -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let data_dir = dir.path().join("data");
        let socket = dir.path().join("run").join("admin.sock");
        let mut d = Daemon { child: None, dir, data_dir, socket };
        d.child = Some(d.spawn(&["--no-start"]));
        d
    }

    /// Spawns another `mailroomd` process on this daemon's data directory and socket,
    /// with extra arguments.
    pub fn spawn(&self, extra: &[&str]) -> Child {
        Command::new(bin("mailroomd"))
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--socket")
            .arg(&self.socket)
            .args(extra)
            .env("MAILROOM_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn mailroomd")
    }

    /// Waits until the control socket answers a ping.
    ///
    /// # Panics
    /// After 10 s.
    pub async fn wait_for_socket(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(c) = Client::connect(&self.socket, "test").await
                && matches!(c.request(Request::Ping).await, Ok(Response::Pong))
            {
                return;
            }
            assert!(Instant::now() < deadline, "mailroomd did not open {}", self.socket.display());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A new control connection.
    pub async fn client(&self) -> Client {
        Client::connect(&self.socket, "test").await.expect("connect to mailroomd")
    }

    /// The service status.
    pub async fn status(&self) -> StatusReport {
        match self.client().await.request(Request::Status).await.expect("status") {
            Response::Status(s) => *s,
            other => panic!("unexpected reply {other:?}"),
        }
    }

    /// Runs `mailroomctl --socket S ARGS…`.
    pub fn ctl(&self, args: &[&str]) -> Output {
        self.ctl_with_input(args, "")
    }

    /// Runs `mailroomctl` with `input` on its standard input.
    pub fn ctl_with_input(&self, args: &[&str], input: &str) -> Output {
        use std::io::Write as _;
        let mut child = Command::new(bin("mailroomctl"))
            .arg("--socket")
            .arg(&self.socket)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn mailroomctl");
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(input.as_bytes()).expect("write stdin");
        }
        child.wait_with_output().expect("mailroomctl output")
    }

    /// Runs `mailroomctl` and asserts it succeeded; returns its standard output.
    ///
    /// # Panics
    /// When it exits non-zero.
    pub fn ctl_ok(&self, args: &[&str]) -> String {
        let out = self.ctl(args);
        assert!(
            out.status.success(),
            "mailroomctl {args:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The daemon process.
    pub fn child(&mut self) -> &mut Child {
        self.child.as_mut().expect("daemon process")
    }

    /// Sends a signal to the daemon.
    pub fn signal(&mut self, sig: &str) {
        let pid = self.child().id().to_string();
        let ok = Command::new("kill").args(["-s", sig, &pid]).status().expect("kill").success();
        assert!(ok, "kill -s {sig} {pid}");
    }

    /// Waits for the daemon to exit and returns its stderr.
    ///
    /// # Panics
    /// After 20 s.
    pub fn wait_exit(&mut self) -> (std::process::ExitStatus, String) {
        let mut child = self.child.take().expect("daemon process");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                let out = child.wait_with_output().expect("output");
                return (status, String::from_utf8_lossy(&out.stderr).into_owned());
            }
            assert!(Instant::now() < deadline, "mailroomd did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
