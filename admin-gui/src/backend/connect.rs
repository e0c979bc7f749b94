//! Connecting to a service: this computer's control socket, or another computer's
//! through `ssh HOST mailroomctl bridge`, whose standard output and input carry the
//! control protocol. A failure is put in words a person can act on (ssh's own last
//! words when it has some).

use std::time::Duration;

use mailroom_client::Client;

use super::Target;

/// A connection: the client, and the `ssh` that carries it, if any (killed when
/// dropped).
pub(super) struct Connection {
    /// The client, over the socket or over ssh's pipes.
    pub(super) client: Client,
    /// The `ssh` process carrying it; dropping it kills ssh.
    pub(super) _ssh: Option<tokio::process::Child>,
}

/// Connects to `target`; the error in words a person can act on.
pub(super) async fn connect(target: &Target) -> Result<Connection, String> {
    let name = concat!("mailroom-admin ", env!("CARGO_PKG_VERSION"));
    match target {
        Target::Local(socket) => Client::connect(socket, name)
            .await
            .map(|client| Connection { client, _ssh: None })
            .map_err(|e| e.to_string()),
        Target::Ssh(t) => {
            let mut cmd = tokio::process::Command::new(&t.program);
            // Keys only: nobody is there to type a password to ssh.
            cmd.args(["-o", "BatchMode=yes", "-o", "ServerAliveInterval=15", "-o", "ConnectTimeout=10"]);
            if let Some(port) = t.port {
                cmd.arg("-p").arg(port.to_string());
            }
            cmd.arg("--").arg(&t.host).arg(&t.command);
            cmd.stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .kill_on_drop(true);
            let mut child = cmd.spawn().map_err(|e| format!("cannot run {}: {e}", t.program.display()))?;
            let (Some(stdout), Some(stdin), stderr) = (child.stdout.take(), child.stdin.take(), child.stderr.take())
            else {
                return Err("ssh gave no pipes".to_owned());
            };
            match Client::over(Box::new(stdout), Box::new(stdin), name).await {
                Ok(client) => Ok(Connection { client, _ssh: Some(child) }),
                Err(e) => {
                    // ssh (or the bridge) says why on its standard error.
                    let mut said = String::new();
                    if let Some(mut err) = stderr {
                        use tokio::io::AsyncReadExt as _;
                        let _ = tokio::time::timeout(Duration::from_secs(2), err.read_to_string(&mut said)).await;
                    }
                    let said = said.lines().rfind(|l| !l.trim().is_empty()).unwrap_or_default().to_owned();
                    Err(if said.is_empty() {
                        format!("cannot reach the Mailroom service on {} over SSH: {e}", t.host)
                    } else {
                        format!("cannot reach the Mailroom service on {} over SSH: {said}", t.host)
                    })
                }
            }
        }
    }
}
