//! The service's errors as the control protocol's: what every handler answers when
//! the store or the lifecycle fails. A leaf, so that each area's handlers can share it.

use mailroom_shared::ipc::IpcError;

use crate::lifecycle::{LifecycleError, SaveError};
use crate::store::StoreError;

/// Store failures as protocol errors. Failures of the store itself (not the caller's
/// mistake) are logged here, once, and reported without internals.
pub(super) fn store_error(e: StoreError) -> IpcError {
    match e {
        StoreError::NotFound(message) => IpcError::NotFound { message },
        StoreError::Conflict(message) => IpcError::Conflict { message },
        StoreError::Invalid { field, message } => IpcError::InvalidArgument { field, message },
        other => {
            tracing::error!(error = %other, "store operation failed");
            IpcError::Internal { message: other.to_string() }
        }
    }
}

pub(super) fn lifecycle_error(e: LifecycleError) -> IpcError {
    match e {
        LifecycleError::Start { message, field } => IpcError::Failed { message, field },
    }
}

pub(super) fn save_error(e: SaveError) -> IpcError {
    match e {
        SaveError::Invalid(errors) => IpcError::InvalidConfig { errors: errors.0 },
        SaveError::Store(e) => store_error(e),
    }
}
