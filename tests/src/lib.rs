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
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use mailroom_client::Client;
use mailroom_shared::ipc::{Request, Response, StatusReport};

mod peers;
mod require;
pub use peers::{Postfix, Rspamd};
pub use require::{is_root, require, require_perl, require_python, require_root};

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

/// Every time a fixture database holds (seconds since the epoch), with the table and
/// column it lives in. A column a fixture's schema lacks is skipped.
const FIXTURE_TIMES: &[(&str, &str)] = &[
    ("queue_messages", "received_at"),
    ("queue_recipients", "next_attempt"),
    ("queue_recipients", "updated_at"),
    ("messages", "received_at"),
    ("mailboxes", "created_at"),
    ("tracking", "at"),
];

/// Shifts every time in the fixture database at `db` by the same amount, so that its
/// newest message arrived now: the fixture's state keeps its shape (a recipient deferred
/// 15 minutes after its message arrived stays so) whatever day the test runs. Without
/// it, a message queued on the day the fixture was made expires (48 h) on any later run
/// and the upgraded service bounces it at start.
pub fn move_fixture_clock_to_now(db: &Path) {
    let conn = rusqlite::Connection::open(db).expect("open the fixture");
    let has_column =
        |table: &str, column: &str| -> bool { conn.prepare(&format!("SELECT {column} FROM {table} LIMIT 0")).is_ok() };
    let newest = ["queue_messages", "messages"]
        .iter()
        .filter(|t| has_column(t, "received_at"))
        .map(|t| conn.query_row(&format!("SELECT COALESCE(MAX(received_at), 0) FROM {t}"), [], |r| r.get::<_, i64>(0)))
        .map(|r| r.expect("newest time"))
        .max()
        .unwrap_or(0);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let shift = i64::try_from(now).expect("seconds") - newest;
    for (table, column) in FIXTURE_TIMES {
        if has_column(table, column) {
            conn.execute(&format!("UPDATE {table} SET {column} = {column} + ?1 WHERE {column} IS NOT NULL"), [shift])
                .expect("move the fixture's clock");
        }
    }
}

/// Bytes free on the file system holding `dir` (`df`'s "Available").
pub fn free_bytes(dir: &Path) -> u64 {
    let out = Command::new("df").args(["--output=avail", "-B1"]).arg(dir).output().expect("df");
    String::from_utf8_lossy(&out.stdout).lines().nth(1).and_then(|l| l.trim().parse().ok()).unwrap_or(0)
}

/// A raw SMTP client over a real socket, for exact bytes.
pub struct Smtp {
    stream: std::net::TcpStream,
    reader: std::io::BufReader<std::net::TcpStream>,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp").finish_non_exhaustive()
    }
}

impl Smtp {
    /// Connects and reads the greeting.
    ///
    /// # Panics
    /// When the greeting is not `220`.
    pub fn connect(addr: std::net::SocketAddr) -> Smtp {
        let mut s = Smtp::connect_raw(addr);
        let greeting = s.reply();
        assert!(greeting.starts_with("220 "), "{greeting}");
        s
    }

    /// Connects without reading anything.
    pub fn connect_raw(addr: std::net::SocketAddr) -> Smtp {
        let stream = std::net::TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
        let reader = std::io::BufReader::new(stream.try_clone().expect("clone"));
        Smtp { stream, reader }
    }

    /// Connects from the local address `source` (127.0.0.2, say: SPF, the DNS lists
    /// and greylisting see another client) without reading anything.
    pub async fn connect_raw_from(addr: std::net::SocketAddr, source: std::net::IpAddr) -> Smtp {
        let socket = if source.is_ipv4() { tokio::net::TcpSocket::new_v4() } else { tokio::net::TcpSocket::new_v6() }
            .expect("socket");
        socket.bind(std::net::SocketAddr::new(source, 0)).expect("bind the source address");
        let stream = socket.connect(addr).await.expect("connect").into_std().expect("std stream");
        stream.set_nonblocking(false).expect("blocking");
        stream.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
        let reader = std::io::BufReader::new(stream.try_clone().expect("clone"));
        Smtp { stream, reader }
    }

    /// Like [`Smtp::connect_raw_from`], reading the greeting.
    ///
    /// # Panics
    /// When the greeting is not `220`.
    pub async fn connect_from(addr: std::net::SocketAddr, source: std::net::IpAddr) -> Smtp {
        let mut s = Smtp::connect_raw_from(addr, source).await;
        let greeting = s.reply();
        assert!(greeting.starts_with("220 "), "{greeting}");
        s
    }

    /// Sends raw bytes.
    pub fn send(&mut self, bytes: &[u8]) {
        use std::io::Write as _;
        self.stream.write_all(bytes).expect("write");
    }

    /// Reads one (possibly multi-line) reply; returns it whole, lines joined by `\n`.
    /// Empty when the server closed the connection.
    pub fn reply(&mut self) -> String {
        use std::io::BufRead as _;
        let mut all = String::new();
        loop {
            let mut line = String::new();
            match self.reader.read_line(&mut line) {
                Ok(0) | Err(_) => return all,
                Ok(_) => {}
            }
            let done = line.as_bytes().get(3) != Some(&b'-');
            all.push_str(line.trim_end_matches(['\r', '\n']));
            if done {
                return all;
            }
            all.push('\n');
        }
    }

    /// Sends a command line (CRLF added) and returns the reply.
    pub fn cmd(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes());
        self.reply()
    }

    /// Sends a command and asserts the reply starts with `expect` (`"250 2.1.0"`).
    ///
    /// # Panics
    /// When it does not.
    pub fn expect(&mut self, line: &str, expect: &str) -> String {
        let r = self.cmd(line);
        assert!(r.starts_with(expect), "{line:?} → {r:?}, expected {expect:?}");
        r
    }

    /// True when the server has closed the connection.
    pub fn closed(&mut self) -> bool {
        use std::io::Read as _;
        let mut b = [0u8; 1];
        matches!(self.reader.read(&mut b), Ok(0) | Err(_))
    }
}

/// One whole SMTP transaction on a new connection — EHLO, MAIL, RCPT `rcpt`, DATA,
/// QUIT — without panicking: its time, or the first reply that was not what it should
/// be (or the connection error), for tests that count failures under load.
///
/// # Errors
/// The failure, in words.
pub fn try_send(addr: std::net::SocketAddr, rcpt: &str) -> Result<Duration, String> {
    use std::io::{BufRead as _, Write as _};
    let t = Instant::now();
    let stream = std::net::TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(|e| e.to_string())?;
    let mut w = stream.try_clone().map_err(|e| e.to_string())?;
    let mut r = std::io::BufReader::new(stream);
    let mut expect = |code: &str| -> Result<(), String> {
        loop {
            let mut line = String::new();
            r.read_line(&mut line).map_err(|e| format!("read: {e}"))?;
            if !line.starts_with(code) {
                return Err(format!("expected {code}, got {line:?}"));
            }
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok(());
            }
        }
    };
    expect("220")?;
    for (line, code) in [
        ("EHLO client.test\r\n".to_owned(), "250"),
        ("MAIL FROM:<sender@outside.test>\r\n".to_owned(), "250"),
        (format!("RCPT TO:<{rcpt}>\r\n"), "250"),
        ("DATA\r\n".to_owned(), "354"),
        ("Subject: one of many\r\n\r\na plain send\r\n.\r\n".to_owned(), "250"),
        ("QUIT\r\n".to_owned(), "221"),
    ] {
        w.write_all(line.as_bytes()).map_err(|e| format!("write: {e}"))?;
        expect(code)?;
    }
    Ok(t.elapsed())
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

/// A message a [`Sink`] received.
#[derive(Debug, Clone)]
pub struct Received {
    /// MAIL FROM.
    pub from: String,
    /// Accepted RCPT TOs.
    pub to: Vec<String>,
    /// The data, dot-unstuffed.
    pub data: Vec<u8>,
}

/// Where a [`Sink`] stops answering, as a next hop that hangs would: it keeps the
/// connection open and reads (and drops) whatever comes, but says nothing more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stall {
    /// Never sends its `220` greeting.
    Greeting,
    /// No reply to MAIL FROM.
    Mail,
    /// No reply to RCPT TO.
    Rcpt,
    /// No reply to DATA.
    Data,
    /// Stops reading after `354`: the client's writes of the message fill the socket
    /// buffers and block.
    DataBlock,
    /// No reply after the final `.`.
    Dot,
    /// Closes the connection after the final `.`, without a reply (not a hang: a
    /// dropped connection).
    CloseAfterDot,
}

/// A scriptable SMTP server on loopback, a real peer for delivery tests: recipients
/// containing `reject` get `550 5.1.1`; those containing `tempfail` get `451 4.3.0`
/// the first `tempfails` times; everything else is accepted and recorded. A sink
/// made with [`Sink::stalling`] hangs at one stage of every session.
#[derive(Debug, Clone)]
pub struct Sink {
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    /// What it received.
    pub received: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
    tempfails: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// Offers STARTTLS, says `220`, then sends garbage instead of a TLS handshake.
    broken_tls: bool,
    /// Where every session hangs, if anywhere.
    stall: Option<Stall>,
    /// When set, replies after the final `.` wait until the gate opens.
    gate: Option<std::sync::Arc<tokio::sync::watch::Sender<bool>>>,
    /// Sessions that reached their stall.
    pub stalled: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Sink {
    /// Starts a sink on `127.0.0.1:0` (or `bind`) in the current tokio runtime.
    pub async fn start(bind: &str, tempfails: usize) -> Sink {
        Sink::start_with(bind, tempfails, false, None).await
    }

    /// A sink that offers STARTTLS but breaks every handshake: a client that insists
    /// on TLS can never deliver to it.
    pub async fn start_with_broken_tls() -> Sink {
        Sink::start_with("127.0.0.1:0", 0, true, None).await
    }

    /// A sink on `127.0.0.1:0` that holds its reply after each message's final `.`
    /// until [`Sink::open_gate`]: deliveries stay in flight as long as a test needs.
    pub async fn gated() -> Sink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind sink");
        let (gate, _) = tokio::sync::watch::channel(false);
        let sink = Sink {
            addr: listener.local_addr().expect("addr"),
            received: Default::default(),
            tempfails: Default::default(),
            broken_tls: false,
            stall: None,
            stalled: Default::default(),
            gate: Some(std::sync::Arc::new(gate)),
        };
        let s = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(s.clone().session(stream));
            }
        });
        sink
    }

    /// Lets the replies held by a [`Sink::gated`] sink go, now and from now on.
    pub fn open_gate(&self) {
        if let Some(g) = &self.gate {
            g.send_replace(true);
        }
    }

    /// A sink on `127.0.0.1:0` whose every session hangs at `stage`.
    pub async fn stalling(stage: Stall) -> Sink {
        Sink::start_with("127.0.0.1:0", 0, false, Some(stage)).await
    }

    async fn start_with(bind: &str, tempfails: usize, broken_tls: bool, stall: Option<Stall>) -> Sink {
        let listener = if stall == Some(Stall::DataBlock) {
            // A small receive buffer (inherited by accepted connections), so that a
            // client writing a message the sink does not read blocks soon: with the
            // kernel's autotuning, loopback buffers hold tens of megabytes.
            let addr: std::net::SocketAddr = bind.parse().expect("address");
            let socket = tokio::net::TcpSocket::new_v4().expect("socket");
            socket.set_recv_buffer_size(64 * 1024).expect("SO_RCVBUF");
            socket.bind(addr).expect("bind sink");
            socket.listen(64).expect("listen")
        } else {
            tokio::net::TcpListener::bind(bind).await.expect("bind sink")
        };
        let sink = Sink {
            addr: listener.local_addr().expect("addr"),
            received: Default::default(),
            tempfails: std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(tempfails)),
            broken_tls,
            stall,
            stalled: Default::default(),
            gate: None,
        };
        let s = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(s.clone().session(stream));
            }
        });
        sink
    }

    /// Messages received so far.
    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    /// Waits until at least `n` messages arrived.
    ///
    /// # Panics
    /// After `secs` seconds.
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let m = self.messages();
            if m.len() >= n {
                return m;
            }
            assert!(Instant::now() < deadline, "sink got {} of {n} messages", m.len());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Hangs: keeps the connection, reads and drops what comes (unless told to stop
    /// reading), answers nothing.
    async fn hang(&self, mut r: impl tokio::io::AsyncRead + Unpin, keep_reading: bool) {
        use tokio::io::AsyncReadExt;
        self.stalled.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if !keep_reading {
            std::future::pending::<()>().await;
        }
        let mut buf = [0u8; 4096];
        while r.read(&mut buf).await.is_ok_and(|n| n > 0) {}
    }

    async fn session(self, stream: tokio::net::TcpStream) {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let (r, mut w) = stream.into_split();
        let mut r = BufReader::new(r);
        if self.stall == Some(Stall::Greeting) {
            return self.hang(r, true).await;
        }
        let _ = w.write_all(b"220 sink.test ESMTP test sink\r\n").await;
        let (mut from, mut to) = (String::new(), Vec::new());
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let upper = line.to_ascii_uppercase();
            let stage = match &upper {
                u if u.starts_with("MAIL FROM:") => Some(Stall::Mail),
                u if u.starts_with("RCPT TO:") => Some(Stall::Rcpt),
                u if u.starts_with("DATA") => Some(Stall::Data),
                _ => None,
            };
            if stage.is_some() && stage == self.stall {
                return self.hang(r, true).await;
            }
            let reply: String = if upper.starts_with("EHLO") {
                let tls = if self.broken_tls { "250-STARTTLS\r\n" } else { "" };
                format!("250-sink.test\r\n{tls}250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 10000000\r\n")
            } else if upper.starts_with("STARTTLS") && self.broken_tls {
                let _ = w.write_all(b"220 2.0.0 go ahead\r\n").await;
                let _ = w.write_all(b"this is not a TLS server hello\r\n").await;
                return;
            } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
                "250 ok\r\n".into()
            } else if upper.starts_with("RSET") {
                from.clear();
                to.clear();
                "250 ok\r\n".into()
            } else if upper.starts_with("MAIL FROM:") {
                from = line[10..].trim().split(' ').next().unwrap_or("").trim_matches(['<', '>']).to_owned();
                to.clear();
                "250 2.1.0 ok\r\n".into()
            } else if upper.starts_with("RCPT TO:") {
                let rcpt = line[8..].trim().split(' ').next().unwrap_or("").trim_matches(['<', '>']).to_owned();
                if rcpt.contains("reject") {
                    "550 5.1.1 no such user here\r\n".into()
                } else if rcpt.contains("tempfail")
                    && self
                        .tempfails
                        .fetch_update(std::sync::atomic::Ordering::SeqCst, std::sync::atomic::Ordering::SeqCst, |n| {
                            n.checked_sub(1)
                        })
                        .is_ok()
                {
                    "451 4.3.0 try again later\r\n".into()
                } else {
                    to.push(rcpt);
                    "250 2.1.5 ok\r\n".into()
                }
            } else if upper.starts_with("DATA") {
                let _ = w.write_all(b"354 go ahead\r\n").await;
                if self.stall == Some(Stall::DataBlock) {
                    return self.hang(r, false).await;
                }
                let mut data = Vec::new();
                loop {
                    let mut l = Vec::new();
                    if r.read_until(b'\n', &mut l).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if l == b".\r\n" {
                        break;
                    }
                    let l = if l.starts_with(b".") { &l[1..] } else { &l[..] };
                    data.extend_from_slice(l);
                }
                if self.stall == Some(Stall::Dot) {
                    return self.hang(r, true).await;
                }
                if self.stall == Some(Stall::CloseAfterDot) {
                    self.stalled.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    return;
                }
                if let Some(gate) = &self.gate {
                    self.stalled.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let _ = gate.subscribe().wait_for(|open| *open).await;
                }
                self.received.lock().expect("lock").push(Received {
                    from: from.clone(),
                    to: std::mem::take(&mut to),
                    data,
                });
                "250 2.0.0 queued\r\n".into()
            } else if upper.starts_with("QUIT") {
                let _ = w.write_all(b"221 bye\r\n").await;
                return;
            } else {
                "500 5.5.2 what\r\n".into()
            };
            if w.write_all(reply.as_bytes()).await.is_err() {
                return;
            }
        }
    }
}

/// A certificate authority made for one test, and the server certificates it issues,
/// as PEM files in a temporary directory: what an administrator would get from a real
/// CA, so that clients can verify the whole chain and the host name.
pub struct TestCa {
    dir: tempfile::TempDir,
    issuer: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
    /// The CA certificate, for clients to trust (`cafile`, `--cacert`, `SSL_CERT_FILE`).
    pub cert: PathBuf,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").field("cert", &self.cert).finish_non_exhaustive()
    }
}

impl TestCa {
    /// A new CA, "Mailroom Test CA".
    pub fn new() -> TestCa {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
        let dir = tempfile::tempdir().expect("tempdir");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, "Mailroom Test CA");
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("CA");
        let cert = dir.path().join("ca.pem");
        std::fs::write(&cert, issuer.pem()).expect("write CA");
        TestCa { dir, issuer, cert }
    }

    /// A server certificate for `names` (DNS names or IP addresses; the first is also
    /// the common name): the paths of its certificate and key files.
    pub fn issue(&self, names: &[&str]) -> (PathBuf, PathBuf) {
        use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair};
        let mut params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).expect("params");
        params.distinguished_name.push(DnType::CommonName, names[0]);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &self.issuer).expect("sign");
        let stem = names[0].replace(['.', ':'], "_");
        let (cert_path, key_path) =
            (self.dir.path().join(format!("{stem}.crt.pem")), self.dir.path().join(format!("{stem}.key.pem")));
        std::fs::write(&cert_path, cert.pem()).expect("write certificate");
        std::fs::write(&key_path, key.serialize_pem()).expect("write key");
        (cert_path, key_path)
    }
}

impl Default for TestCa {
    fn default() -> Self {
        TestCa::new()
    }
}

/// A non-loopback IPv4 address of this machine, for what clients off loopback get.
/// When the machine has none, one from TEST-NET-2 is added to `lo` (needs root).
///
/// # Panics
/// When there is none and none can be added.
pub fn non_loopback_ip() -> std::net::Ipv4Addr {
    require("ip", "iproute2");
    let out = Command::new("ip").args(["-4", "-o", "addr", "show", "scope", "global"]).output().expect("ip addr");
    let found = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .skip_while(|w| *w != "inet")
        .nth(1)
        .and_then(|cidr| cidr.split('/').next().and_then(|a| a.parse::<std::net::Ipv4Addr>().ok()));
    if let Some(ip) = found {
        return ip;
    }
    let ip = std::net::Ipv4Addr::new(198, 51, 100, 25);
    let out = Command::new("ip").args(["addr", "add", &format!("{ip}/32"), "dev", "lo"]).output().expect("ip addr add");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() || err.contains("exists"), "no non-loopback address, and none can be added: {err}");
    ip
}

/// A dnsmasq on loopback answering for the test domains (its arguments: records), killed
/// on drop.
#[derive(Debug)]
pub struct Dns {
    child: Child,
    /// Its UDP and TCP port on 127.0.0.1.
    pub port: u16,
}

impl Drop for Dns {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Dns {
    /// Starts dnsmasq with `args` (`--txt-record=…`, `--mx-host=…`…).
    ///
    /// # Panics
    /// When dnsmasq is not installed, or does not come up.
    #[track_caller]
    pub fn start(args: &[&str]) -> Dns {
        require("dnsmasq", "dnsmasq-base");
        // The port is one the system just gave out for UDP; its TCP twin may be taken
        // by another test's listener, and dnsmasq (which binds both) then exits. Try
        // another port when it does.
        for _ in 0..5 {
            let port =
                std::net::UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).expect("a UDP port").port();
            let child = Command::new("dnsmasq")
                .args(["--keep-in-foreground", "--no-resolv", "--no-hosts", "--conf-file=/dev/null", "--pid-file="])
                .args(["--listen-address=127.0.0.1", "--bind-interfaces", &format!("--port={port}")])
                .args(args)
                .stderr(Stdio::null())
                .spawn()
                .expect("dnsmasq");
            let mut dns = Dns { child, port };
            // Ready when it accepts on its TCP port and still runs. A fixed wait was too
            // short on a loaded machine: the first lookups of a test then timed out, and
            // SPF said "try again later".
            let until = Instant::now() + Duration::from_secs(10);
            loop {
                if !matches!(dns.child.try_wait(), Ok(None)) {
                    break;
                }
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    std::thread::sleep(Duration::from_millis(20));
                    if matches!(dns.child.try_wait(), Ok(None)) {
                        return dns;
                    }
                    break;
                }
                assert!(Instant::now() < until, "dnsmasq did not answer on port {port} within 10 s");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("dnsmasq exited at start five times (its ports taken?), with {args:?}");
    }

    /// A server publishing `records` (the `records` array of `mailroomctl dns-records
    /// --json`), with an address for each MX host.
    ///
    /// # Panics
    /// As [`Dns::start`], and on a record it cannot publish.
    #[track_caller]
    pub fn publishing(records: &serde_json::Value) -> Dns {
        let mut args = vec!["--local=/test/".to_owned()];
        for r in records.as_array().expect("an array of records") {
            let field = |f: &str| r[f].as_str().unwrap_or_else(|| panic!("a record without {f}: {r}"));
            let (name, value) = (field("name"), field("value"));
            let word = |i: usize| value.split(' ').nth(i).unwrap_or_else(|| panic!("a short {name} record: {value}"));
            match field("kind") {
                "TXT" => args.push(Dns::txt(name, value)),
                "MX" => {
                    let host = word(1);
                    args.push(format!("--mx-host={name},{host},10"));
                    args.push(format!("--host-record={host},127.0.0.1"));
                }
                "SRV" => {
                    args.push(format!("--srv-host={name},{},{},{},{}", word(3), word(2), word(0), word(1)));
                }
                other => panic!("a {other} record cannot be published here: {r}"),
            }
        }
        args.dedup();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Dns::start(&args)
    }

    /// Its address, as `mailroomctl set dns-server` takes it.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// A `--txt-record` argument for `name` with `value`, split into strings of at most
    /// 255 bytes as DNS requires (a 2048-bit DKIM key is longer). On dnsmasq's command
    /// line, commas separate the strings and quotes would be kept: `value` must not
    /// contain a comma.
    pub fn txt(name: &str, value: &str) -> String {
        assert!(!value.contains(','), "a TXT value for dnsmasq's command line cannot hold a comma: {value}");
        let parts: Vec<String> =
            value.as_bytes().chunks(255).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        format!("--txt-record={name},{}", parts.join(","))
    }
}
