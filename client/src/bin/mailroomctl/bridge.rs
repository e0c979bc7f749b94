//! `mailroomctl bridge`: the control protocol relayed between standard input and
//! output and the service's socket, byte for byte. The Administrator runs it over SSH
//! (`ssh HOST mailroomctl bridge`) to administer another machine; the service checks
//! this process's user as it checks any client's, and nothing new listens on the
//! network.

use std::io;
use std::path::Path;

use interprocess::local_socket::tokio::Stream;
use interprocess::local_socket::traits::tokio::Stream as _;
use interprocess::local_socket::{GenericFilePath, ToFsName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::Failure;

/// Copies `from` to `to` until `from` ends, flushing after every read: the protocol is
/// lines a person (or program) waits on.
async fn pump(mut from: impl AsyncRead + Unpin, mut to: impl AsyncWrite + Unpin) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            return to.flush().await;
        }
        to.write_all(&buf[..n]).await?;
        to.flush().await?;
    }
}

/// Closes the sending side of the connection, so the service reads its end while this
/// side still reads the answers. (The stream's own `shutdown` does nothing.)
#[cfg(unix)]
fn half_close(stream: &Stream) -> io::Result<()> {
    let Stream::UdSocket(socket) = stream;
    rustix::net::shutdown(socket, rustix::net::Shutdown::Write).map_err(io::Error::from)
}

/// A named pipe (Windows) has no half-close; the service runs on Unix, where the bridge
/// runs beside it, so a bridge on Windows has no service to relay to anyway.
#[cfg(not(unix))]
fn half_close(_stream: &Stream) -> io::Result<()> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "the bridge runs on the service's (Unix) computer"))
}

/// Copies the control protocol both ways between standard input/output and the socket
/// at `socket`. When the input ends first, the service is told (a half-close) and what
/// it still says is relayed until it has answered everything asked and closed; when
/// the service closes first, the bridge is done (and `main` does not wait for the read
/// of standard input still pending).
pub async fn relay(socket: &Path) -> Result<(), Failure> {
    let unreachable = |e: io::Error| {
        Failure::Unreachable(format!("cannot connect to the Mailroom service at {}: {e}", socket.display()))
    };
    let name = socket.to_fs_name::<GenericFilePath>().map_err(unreachable)?;
    let stream = Stream::connect(name).await.map_err(unreachable)?;
    // `&Stream` reads and writes: one borrow each way.
    let to_service = pump(tokio::io::stdin(), &stream);
    let from_service = pump(&stream, tokio::io::stdout());
    tokio::pin!(from_service);
    let result = tokio::select! {
        r = to_service => match r.and_then(|()| half_close(&stream)) {
            Ok(()) => from_service.await,
            Err(e) => Err(e),
        },
        r = &mut from_service => r,
    };
    result.map_err(|e| Failure::Refused(format!("the bridge failed: {e}")))
}
