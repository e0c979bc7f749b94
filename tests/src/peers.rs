//! Third-party servers the tests start on loopback, each in a throwaway directory that
//! touches nothing in `/etc`: a relaying Postfix (a real MTA that queues and retries),
//! and rspamd (a real content filter). A test that starts one on a machine without its
//! Debian package fails, saying which to install (`tests/setup` installs both).

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::require::{is_root, require, require_root};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

fn listening(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], port)), Duration::from_millis(200)).is_ok()
}

/// A Postfix that relays everything it is given to one next hop, retrying deferred
/// mail every second or two (instead of Postfix's minutes). Stopped on drop.
#[derive(Debug)]
pub struct Postfix {
    dir: tempfile::TempDir,
    /// Its SMTP port on 127.0.0.1.
    pub port: u16,
}

impl Postfix {
    /// Starts a Postfix relaying all mail to `next_hop`.
    ///
    /// # Panics
    /// When Postfix is not installed, this is not root (Postfix's daemons need it), or
    /// it does not come up.
    #[track_caller]
    pub fn start(next_hop: SocketAddr) -> Postfix {
        require("postfix", "postfix");
        require_root("Postfix's master runs as root");
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        std::fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
        for sub in ["conf", "spool", "data"] {
            std::fs::create_dir_all(d.join(sub)).expect("mkdir");
        }
        let chown = Command::new("chown").args(["-R", "postfix"]).arg(d.join("data")).status().expect("chown");
        assert!(chown.success(), "chown postfix: {chown} (no user postfix?)");
        let port = free_port();
        let hop = match next_hop {
            SocketAddr::V4(a) => format!("[{}]:{}", a.ip(), a.port()),
            SocketAddr::V6(a) => format!("[ipv6:{}]:{}", a.ip(), a.port()),
        };
        let main_cf = format!(
            "compatibility_level = 3.6
myhostname = postfix.peer.test
mydomain = peer.test
myorigin = $myhostname
queue_directory = {q}
data_directory = {data}
meta_directory = /etc/postfix
daemon_directory = /usr/lib/postfix/sbin
command_directory = /usr/sbin
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
local_transport = error:no local delivery
alias_maps =
alias_database =
smtputf8_enable = no
maillog_file = {d}/maillog
maillog_file_prefixes = /var, /dev/stdout, {d}
relayhost = {hop}
smtp_dns_support_level = disabled
disable_dns_lookups = yes
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtp_tls_security_level = none
smtpd_tls_security_level = none
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
",
            q = d.join("spool").display(),
            data = d.join("data").display(),
            d = d.display(),
        );
        std::fs::write(d.join("conf/main.cf"), main_cf).expect("main.cf");
        let master_cf = format!(
            "127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"
        );
        std::fs::write(d.join("conf/master.cf"), master_cf).expect("master.cf");
        let started = Command::new("postfix").arg("-c").arg(d.join("conf")).arg("start").output().expect("postfix");
        assert!(started.status.success(), "postfix did not start: {}", String::from_utf8_lossy(&started.stderr));
        let postfix = Postfix { dir, port };
        let until = Instant::now() + Duration::from_secs(10);
        while !listening(port) {
            assert!(Instant::now() < until, "postfix did not listen:\n{}", postfix.log());
            std::thread::sleep(Duration::from_millis(100));
        }
        postfix
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Asks it to try all its deferred and incoming mail now (`postqueue -f`), time
    /// stamps ignored. Postfix's queue manager puts a message it finds still locked by
    /// the delivery agent that just deferred it ("skipped, still being delivered")
    /// back for 60 s, whatever the back-off settings say; a test waiting for a retry
    /// flushes instead of waiting out that race.
    pub fn flush(&self) {
        let _ = Command::new("postqueue").arg("-c").arg(self.dir.path().join("conf")).arg("-f").output();
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("maillog")).unwrap_or_default()
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = Command::new("postfix").arg("-c").arg(self.dir.path().join("conf")).arg("stop").output();
    }
}

/// A throwaway rspamd: its normal worker on a port of 127.0.0.1, its DNS pointed at a
/// server of the test's (so it makes no outside lookups), no controller, no proxy.
/// Stopped on drop.
#[derive(Debug)]
pub struct Rspamd {
    child: Option<Child>,
    dir: tempfile::TempDir,
    /// Its normal worker's port on 127.0.0.1.
    pub port: u16,
}

impl Rspamd {
    /// Starts rspamd, asking `dns_port` on 127.0.0.1 for DNS.
    ///
    /// # Panics
    /// When rspamd is not installed, or does not come up within a minute.
    #[track_caller]
    pub fn start(dns_port: u16) -> Rspamd {
        require("rspamd", "rspamd");
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        std::fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
        for sub in ["local/local.d", "local/override.d", "db", "run", "log"] {
            std::fs::create_dir_all(d.join(sub)).expect("mkdir");
        }
        let port = free_port();
        let write = |p: &str, s: String| std::fs::write(d.join(p), s).unwrap_or_else(|e| panic!("{p}: {e}"));
        write(
            "local/override.d/worker-normal.inc",
            format!("bind_socket = \"127.0.0.1:{port}\";\nmime = true;\ncount = 1;\n"),
        );
        write("local/override.d/worker-controller.inc", "enabled = false;\n".into());
        write("local/override.d/worker-proxy.inc", "enabled = false;\n".into());
        write(
            "local/local.d/options.inc",
            format!(
                "dns {{\n  nameserver = [\"127.0.0.1:{dns_port}\"];\n  timeout = 1s;\n  retransmits = 1;\n}}\n\
                 enable_test_patterns = true;\n"
            ),
        );
        let mut command = Command::new("rspamd");
        command.arg("-f");
        if is_root() {
            let chown = Command::new("chown").args(["-R", "_rspamd"]).arg(d).status().expect("chown");
            assert!(chown.success(), "chown _rspamd: {chown} (no user _rspamd?)");
            command.args(["-u", "_rspamd", "-g", "_rspamd"]);
        }
        let var = |name: &str, sub: &str| format!("--var={name}={}", d.join(sub).display());
        let child = command
            .args([var("LOCAL_CONFDIR", "local"), var("DBDIR", "db"), var("RUNDIR", "run"), var("LOGDIR", "log")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("rspamd");
        let rspamd = Rspamd { child: Some(child), dir, port };
        let until = Instant::now() + Duration::from_secs(60);
        while !rspamd.pings() {
            assert!(Instant::now() < until, "rspamd did not come up:\n{}", rspamd.log());
            std::thread::sleep(Duration::from_millis(200));
        }
        rspamd
    }

    /// Its address, as the Message Filtering page takes it.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// True when it answers `/ping`.
    pub fn pings(&self) -> bool {
        use std::io::{Read as _, Write as _};
        let Ok(mut s) = std::net::TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], self.port))) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        if s.write_all(b"GET /ping HTTP/1.0\r\n\r\n").is_err() {
            return false;
        }
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        answer.contains("pong")
    }

    /// Asks it to try all its deferred and incoming mail now (`postqueue -f`), time
    /// stamps ignored. Postfix's queue manager puts a message it finds still locked by
    /// the delivery agent that just deferred it ("skipped, still being delivered")
    /// back for 60 s, whatever the back-off settings say; a test waiting for a retry
    /// flushes instead of waiting out that race.
    pub fn flush(&self) {
        let _ = Command::new("postqueue").arg("-c").arg(self.dir.path().join("conf")).arg("-f").output();
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log/rspamd.log")).unwrap_or_default()
    }

    /// Stops it (its main process, which stops its workers), and waits.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            let until = Instant::now() + Duration::from_secs(10);
            while Instant::now() < until {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Where its files are.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Rspamd {
    fn drop(&mut self) {
        self.stop();
    }
}
