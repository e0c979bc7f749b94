//! Connecting to a service: this computer's control socket, or another computer's
//! through `ssh HOST mailroomctl bridge` (the client crate's [`mailroom_client::ssh`]),
//! whose standard output and input carry the control protocol. A failure is put in
//! words a person can act on.

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
            mailroom_client::ssh::connect(t, name).await.map(|c| Connection { client: c.client, _ssh: Some(c.ssh) })
        }
    }
}
