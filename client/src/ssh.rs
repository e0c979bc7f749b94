//! The control protocol to another computer over SSH: `ssh HOST mailroomctl bridge`,
//! whose standard output and input carry it (the bridge relays it to that computer's
//! control socket, where the service checks the SSH login's user as it checks any
//! local client). The Administrator and `mailroomctl --ssh` both connect this way, on
//! Linux and on Windows (whose OpenSSH client, `ssh.exe`, ships with Windows 10 and
//! later). A failure is put in words a person can act on: ssh's own last words when
//! it has some.

use std::path::PathBuf;
use std::time::Duration;

use crate::Client;

/// The remote command the Administrator and `mailroomctl --ssh` run by default.
pub const DEFAULT_COMMAND: &str = "mailroomctl bridge";

/// The ssh program to run: `$MAILROOM_SSH`, else `ssh` from the path (on Windows, the
/// OpenSSH client Windows 10 and later include).
pub fn default_program() -> PathBuf {
    std::env::var_os("MAILROOM_SSH").map_or_else(|| PathBuf::from("ssh"), PathBuf::from)
}

/// Another computer, as `ssh` reaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    /// `host` or `user@host`.
    pub host: String,
    /// The SSH port, when not 22.
    pub port: Option<u16>,
    /// What runs there: `mailroomctl bridge` (with `--socket` when not the default).
    pub command: String,
    /// The `ssh` program (the tests give theirs).
    pub program: PathBuf,
}

/// A connection over SSH: the client, and the `ssh` that carries it (killed when
/// dropped).
pub struct SshConnection {
    /// The client, over ssh's pipes.
    pub client: Client,
    /// The `ssh` process carrying it; dropping it kills ssh (keep it as long as the
    /// client).
    pub ssh: tokio::process::Child,
}

/// What `ssh` needs that a host name must not look like: an option, or more than one
/// word. `None` when `host` will do.
pub fn host_problem(host: &str) -> Option<String> {
    let host = host.trim();
    if host.is_empty() {
        Some("Type the computer's name, as ssh knows it (user@host).".to_owned())
    } else if host.starts_with('-') || host.contains(char::is_whitespace) {
        Some(format!("'{host}' is not a host name ssh can use."))
    } else {
        None
    }
}

/// Connects to the service on `target`, naming this client `name` in the handshake;
/// the error in words a person can act on.
///
/// # Errors
/// `ssh` cannot be run, or it (or the bridge behind it) fails before the handshake
/// ends: its last line on standard error says why.
pub async fn connect(target: &SshTarget, name: &str) -> Result<SshConnection, String> {
    if let Some(problem) = host_problem(&target.host) {
        return Err(problem);
    }
    let mut cmd = tokio::process::Command::new(&target.program);
    // Keys only: nobody is there to type a password to ssh.
    cmd.args(["-o", "BatchMode=yes", "-o", "ServerAliveInterval=15", "-o", "ConnectTimeout=10"]);
    if let Some(port) = target.port {
        cmd.arg("-p").arg(port.to_string());
    }
    cmd.arg("--").arg(target.host.trim()).arg(&target.command);
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    // A console program started from a windowed one gets a console window of its own
    // on Windows unless told not to.
    #[cfg(windows)]
    {
        const CREATE_NO_WINDOW: u32 = 0x0800_0000;
        cmd.creation_flags(CREATE_NO_WINDOW);
    }
    let mut child = cmd.spawn().map_err(|e| format!("cannot run {}: {e}", target.program.display()))?;
    let (Some(stdout), Some(stdin), stderr) = (child.stdout.take(), child.stdin.take(), child.stderr.take()) else {
        return Err("ssh gave no pipes".to_owned());
    };
    match Client::over(Box::new(stdout), Box::new(stdin), name).await {
        Ok(client) => Ok(SshConnection { client, ssh: child }),
        Err(e) => {
            // ssh (or the bridge) says why on its standard error.
            let mut said = String::new();
            if let Some(mut err) = stderr {
                use tokio::io::AsyncReadExt as _;
                let _ = tokio::time::timeout(Duration::from_secs(2), err.read_to_string(&mut said)).await;
            }
            let said = said.lines().rfind(|l| !l.trim().is_empty()).unwrap_or_default().to_owned();
            let host = target.host.trim();
            Err(if said.is_empty() {
                format!("cannot reach the Mailroom service on {host} over SSH: {e}")
            } else {
                format!("cannot reach the Mailroom service on {host} over SSH: {said}")
            })
        }
    }
}
