//! `mailroomctl bridge`: the control protocol relayed between standard input and
//! output and the service's socket, byte for byte. The Administrator runs it over SSH
//! (`ssh HOST mailroomctl bridge`) to administer another machine; the service checks
//! this process's user as it checks any client's, and nothing new listens on the
//! network.

use std::path::Path;

use interprocess::local_socket::tokio::Stream;
use interprocess::local_socket::traits::tokio::Stream as _;
use interprocess::local_socket::{GenericFilePath, ToFsName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::Failure;

/// Copies `from` to `to`, flushing after every read: the protocol is lines a person
/// (or program) waits on.
async fn pump(mut from: impl AsyncRead + Unpin, mut to: impl AsyncWrite + Unpin) -> std::io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            return to.shutdown().await;
        }
        to.write_all(&buf[..n]).await?;
        to.flush().await?;
    }
}

/// Copies the control protocol both ways between standard input/output and the socket
/// at `socket`, until either side ends.
pub async fn relay(socket: &Path) -> Result<(), Failure> {
    let unreachable = |e: std::io::Error| {
        Failure::Unreachable(format!("cannot connect to the Mailroom service at {}: {e}", socket.display()))
    };
    let name = socket.to_fs_name::<GenericFilePath>().map_err(unreachable)?;
    let stream = Stream::connect(name).await.map_err(unreachable)?;
    // `&Stream` reads and writes: one borrow each way.
    let result = tokio::select! {
        r = pump(tokio::io::stdin(), &stream) => r,
        r = pump(&stream, tokio::io::stdout()) => r,
    };
    result.map_err(|e| Failure::Refused(format!("the bridge failed: {e}")))
}
