//! What the service benchmarks share: a real `mailroomd` (this bench's build) on a
//! temporary data directory, with a control connection to it.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mailroom_client::Client;

/// A running daemon; killed on drop.
pub struct Daemon {
    pub child: Child,
    pub client: Client,
    /// Its data directory (not every bench looks at it).
    #[allow(dead_code)]
    pub data_dir: PathBuf,
    /// Keeps the data directory for the daemon's lifetime.
    _dir: tempfile::TempDir,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `mailroomd --no-start` (this build's, or the one named by `MAILROOMD`, to
/// compare with another build) and connects to it.
pub async fn start() -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("admin.sock");
    let data_dir = dir.path().join("data");
    let exe =
        std::env::var_os("MAILROOMD").map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_mailroomd")), PathBuf::from);
    let child = Command::new(exe)
        .arg("--data-dir")
        .arg(&data_dir)
        .arg("--socket")
        .arg(&socket)
        .arg("--no-start")
        .env("MAILROOM_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let client = loop {
        match Client::connect(&socket, "bench").await {
            Ok(c) => break c,
            Err(e) if Instant::now() > deadline => panic!("mailroomd did not come up: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
    Daemon { child, client, data_dir, _dir: dir }
}
