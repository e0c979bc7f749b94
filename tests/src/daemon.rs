//! The real `mailroomd` under test: started on a temporary data directory, driven
//! with `mailroomctl` and its control socket, its database read directly.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use mailroom_client::Client;
use mailroom_shared::ipc::{Request, Response, StatusReport};

use crate::{bin, free_bytes, move_fixture_clock_to_now, require, require_root};

/// A running `mailroomd` with its own temporary data directory and socket. Killed (and
/// its directory removed) on drop.
pub struct Daemon {
    child: Option<Child>,
    /// Extra environment for the daemon's processes.
    env: Vec<(String, String)>,
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
        Daemon::start_with_env(&[]).await
    }

    /// Like [`Daemon::start`], with extra environment variables for `mailroomd`
    /// (`MAILROOM_LOG`, `SSL_CERT_FILE`…).
    pub async fn start_with_env(env: &[(&str, &str)]) -> Daemon {
        let d = Daemon::spawn_idle_with_env(env);
        d.wait_for_socket().await;
        d.ctl_ok(&["set", "smtp-listen", "127.0.0.1:0"]);
        d.ctl_ok(&["set", "pop3-listen", "127.0.0.1:0"]);
        d.ctl_ok(&["set", "imap-listen", "127.0.0.1:0"]);
        d.ctl_ok(&["start"]);
        d
    }

    /// Spawns `mailroomd --no-start` in a fresh temporary directory without waiting.
    pub fn spawn_idle() -> Daemon {
        Daemon::spawn_idle_with_env(&[])
    }

    /// Like [`Daemon::start`], on a copy of the database file `db` (a database made
    /// earlier in the same test, a restored backup say).
    pub async fn start_from_database(db: &Path) -> Daemon {
        Daemon::start_from_copy(db, |_| ()).await
    }

    /// Like [`Daemon::start_from_database`], for a fixture an earlier release wrote on
    /// some day in the past: the copy's clock is moved to now first (see
    /// [`move_fixture_clock_to_now`]), so what the service does with it (retry, expire
    /// and bounce queued mail) does not depend on the day the test runs.
    pub async fn start_from_fixture(db: &Path) -> Daemon {
        Daemon::start_from_copy(db, move_fixture_clock_to_now).await
    }

    async fn start_from_copy(db: &Path, prepare: impl FnOnce(&Path)) -> Daemon {
        let staged = tempfile::tempdir().expect("tempdir");
        let copy = staged.path().join("mailroom.db");
        std::fs::copy(db, &copy).expect("copy the database");
        prepare(&copy);
        let d = Daemon::spawn_idle_with(&[], Some(&copy));
        d.wait_for_socket().await;
        d.ctl_ok(&["set", "smtp-listen", "127.0.0.1:0"]);
        d.ctl_ok(&["set", "pop3-listen", "127.0.0.1:0"]);
        d.ctl_ok(&["set", "imap-listen", "127.0.0.1:0"]);
        d.ctl_ok(&["start"]);
        d
    }

    fn spawn_idle_with_env(env: &[(&str, &str)]) -> Daemon {
        Daemon::spawn_idle_with(env, None)
    }

    fn spawn_idle_with(env: &[(&str, &str)], db: Option<&Path>) -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let data_dir = dir.path().join("data");
        if let Some(db) = db {
            std::fs::create_dir_all(&data_dir).expect("data directory");
            std::fs::copy(db, data_dir.join("mailroom.db")).expect("copy the database");
        }
        let socket = dir.path().join("run").join("admin.sock");
        let env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let mut d = Daemon { child: None, env, dir, data_dir, socket };
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
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            // A file, not a pipe: nobody reads a pipe while the test runs, and a full
            // one would block the daemon's logging.
            .stderr(self.log_file())
            .spawn()
            .expect("spawn mailroomd")
    }

    fn log_file(&self) -> std::fs::File {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("mailroomd.log"))
            .expect("open the daemon's log file")
    }

    /// What the daemon(s) of this directory wrote to stderr.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mailroomd.log")).unwrap_or_default()
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
        require("kill", "procps");
        let pid = self.child().id().to_string();
        let ok = Command::new("kill").args(["-s", sig, &pid]).status().expect("kill").success();
        assert!(ok, "kill -s {sig} {pid}");
    }

    /// Stops the daemon (SIGTERM) and starts a new process on the same data directory
    /// and socket, waiting until its service runs again.
    pub async fn restart_process(&mut self) {
        self.signal("TERM");
        let (status, log) = self.wait_exit();
        assert!(status.success(), "mailroomd exited with {status}:\n{log}");
        self.child = Some(self.spawn(&[]));
        self.wait_for_socket().await;
        self.wait_running().await;
    }

    /// Waits until the service runs (a process just started answers on its socket a
    /// moment before its service is up).
    ///
    /// # Panics
    /// After 10 s.
    pub async fn wait_running(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.status().await.state != mailroom_shared::ipc::ServiceState::Running {
            assert!(Instant::now() < deadline, "the service did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The daemon's CPU time so far (user and system), from `/proc`.
    pub fn cpu_time(&mut self) -> Duration {
        let pid = self.child().id();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
        // The fields after the command name (which is in parentheses).
        let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap_or(0) + fields[12].parse::<u64>().unwrap_or(0);
        Duration::from_millis(ticks * 10)
    }

    /// The daemon's resident memory, in KiB.
    pub fn rss_kib(&mut self) -> u64 {
        let pid = self.child().id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// Fills the data directory's disk with a file (`filler`) until at most `leave`
    /// bytes are free; returns its path, to remove when the disk should have room again.
    pub fn fill_disk(&self, leave: u64) -> PathBuf {
        use std::io::Write as _;
        let path = self.data_dir.join("filler");
        let mut f = std::fs::File::create(&path).expect("create the filler");
        let chunk = vec![0u8; 64 * 1024];
        loop {
            let free = free_bytes(&self.data_dir);
            if free <= leave {
                break;
            }
            let n = usize::try_from((free - leave).min(chunk.len() as u64)).unwrap_or(chunk.len());
            if f.write_all(&chunk[..n]).and_then(|()| f.sync_data()).is_err() {
                break;
            }
        }
        path
    }

    /// Waits for the daemon to exit and returns the log of this directory's daemons.
    ///
    /// # Panics
    /// After 20 s.
    pub fn wait_exit(&mut self) -> (std::process::ExitStatus, String) {
        let mut child = self.child.take().expect("daemon process");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                return (status, self.log());
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
        // Unmount a tmpfs data directory, if it is one; harmless otherwise.
        let _ = Command::new("umount").arg(&self.data_dir).stderr(Stdio::null()).status();
    }
}

impl Daemon {
    /// Edits the saved configuration as JSON (`mailroomctl config show` / `config load`).
    ///
    /// # Panics
    /// When the service refuses the result.
    pub fn edit_config(&self, edit: impl FnOnce(&mut serde_json::Value)) {
        let mut v: serde_json::Value = serde_json::from_str(&self.ctl_ok(&["config", "show"])).expect("config JSON");
        edit(&mut v);
        let path = self.dir.path().join("edited-config.json");
        std::fs::write(&path, serde_json::to_vec(&v).expect("json")).expect("write config");
        self.ctl_ok(&["config", "load", path.to_str().expect("utf-8 path")]);
    }

    /// Creates a mailbox.
    pub fn add_mailbox(&self, address: &str, password: &str) {
        let out = self.ctl_with_input(&["mailbox", "add", address, "--password-stdin"], &format!("{password}\n"));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

    /// The SMTP address the service is bound to.
    pub async fn smtp_addr(&self) -> std::net::SocketAddr {
        self.status().await.smtp_addr.expect("SMTP bound").parse().expect("address")
    }

    /// The POP3 address the service is bound to.
    pub async fn pop3_addr(&self) -> std::net::SocketAddr {
        self.status().await.pop3_addr.expect("POP3 bound").parse().expect("address")
    }

    /// The IMAP address the service is bound to.
    pub async fn imap_addr(&self) -> std::net::SocketAddr {
        self.status().await.imap_addr.expect("IMAP bound").parse().expect("address")
    }

    /// Everything the daemon logged: its standard error and its daily log files.
    pub fn all_logs(&self) -> String {
        let mut all = self.log();
        if let Ok(dir) = std::fs::read_dir(self.data_dir.join("logs")) {
            for entry in dir.flatten() {
                all.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
            }
        }
        all
    }

    /// A read-only connection to the service's database, for checking what was stored.
    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open_with_flags(
            self.data_dir.join("mailroom.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("open the store")
    }

    /// The messages of the mailbox that has `address` (any of its addresses), oldest
    /// first, each exactly as POP3 serves it: its own header lines, then the content it
    /// shares with the other copies.
    pub fn messages_of(&self, address: &str) -> Vec<Vec<u8>> {
        self.messages_where("m.mailbox_id = (SELECT mailbox_id FROM addresses WHERE address = ?1)", address)
    }

    /// Every stored mailbox message, by mailbox and UID, as [`Daemon::messages_of`].
    pub fn all_messages(&self) -> Vec<Vec<u8>> {
        self.messages_where("?1 = ?1", "")
    }

    fn messages_where(&self, condition: &str, arg: &str) -> Vec<Vec<u8>> {
        let db = self.db();
        let mut stmt = db
            .prepare(&format!(
                "SELECT m.prefix, c.data FROM messages m JOIN contents c ON c.id = m.content_id
                 WHERE {condition} ORDER BY m.mailbox_id, m.uid"
            ))
            .expect("query");
        stmt.query_map([arg], |r| Ok([r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?].concat()))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("content")
    }

    /// Number of rows `sql` counts.
    pub fn count(&self, sql: &str) -> i64 {
        self.db().query_row(sql, [], |r| r.get(0)).expect("count query")
    }
}

impl Daemon {
    /// Like [`Daemon::start`], with the data directory on a fresh tmpfs of `size_kib`
    /// KiB (a disk that can really fill up).
    ///
    /// # Panics
    /// When tmpfs cannot be mounted here: not root, or a sandbox that forbids it.
    pub async fn start_on_small_disk(size_kib: u32) -> Daemon {
        require_root("to mount a small tmpfs as a disk that fills up");
        let dir = tempfile::tempdir().expect("tempdir");
        let data_dir = dir.path().join("data");
        std::fs::create_dir(&data_dir).expect("mkdir");
        let mount = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_kib}k,mode=0700"), "tmpfs"])
            .arg(&data_dir)
            .output()
            .expect("mount");
        assert!(
            mount.status.success(),
            "cannot mount a tmpfs here (a container without CAP_SYS_ADMIN?): {}",
            String::from_utf8_lossy(&mount.stderr)
        );
        let socket = dir.path().join("run").join("admin.sock");
        let mut d = Daemon { child: None, env: Vec::new(), dir, data_dir, socket };
        d.child = Some(d.spawn(&["--no-start"]));
        d.wait_for_socket().await;
        d.ctl_ok(&["set", "smtp-listen", "127.0.0.1:0"]);
        d.ctl_ok(&["set", "pop3-listen", "127.0.0.1:0"]);
        d.ctl_ok(&["set", "imap-listen", "127.0.0.1:0"]);
        d.ctl_ok(&["start"]);
        d
    }
}
