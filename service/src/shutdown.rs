//! The stop signal given to every component of a running service, in three stages.
//!
//! **Draining** comes first, whenever a run ends — replaced by a restart, or stopped:
//! listeners stop accepting and no new background work starts (the queue claims
//! nothing more). Sessions already open carry on under their run's configuration.
//! **Stopping** follows at once when the service stops (not when it restarts): idle
//! sessions say goodbye (`421 4.3.2` in SMTP, `-ERR` in POP3), while sessions inside a
//! transaction and deliveries in progress are left to finish. **Aborted** comes when
//! the drain timeout runs out: whatever is still in flight is abandoned (it was never
//! acknowledged) and put back where the next run finds it. Only the lifecycle fires
//! them.

use tokio_util::sync::CancellationToken;

/// The stop signal of one run; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Shutdown {
    drain: CancellationToken,
    stop: CancellationToken,
    abort: CancellationToken,
}

impl Shutdown {
    /// Resolves when the run ends: accept nothing new, start no new work.
    pub async fn draining(&self) {
        self.drain.cancelled().await;
    }

    /// Resolves when the service stops: idle clients leave now.
    pub async fn stopping(&self) {
        self.stop.cancelled().await;
    }

    /// Resolves when the drain timeout has run out: abandon in-flight work now (it must
    /// not have been acknowledged).
    pub async fn aborted(&self) {
        self.abort.cancelled().await;
    }

    /// Ends the run for a restart: it drains; its sessions carry on until done.
    pub(crate) fn drain(&self) {
        self.drain.cancel();
    }

    /// Ends the run for a stop: it drains, and idle sessions leave.
    pub(crate) fn stop(&self) {
        self.drain.cancel();
        self.stop.cancel();
    }

    /// Aborts what is still in flight; implies the rest.
    pub(crate) fn abort(&self) {
        self.stop();
        self.abort.cancel();
    }
}
