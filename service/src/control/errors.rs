//! The service's errors as the control protocol's: what every handler answers when
//! the store or the lifecycle fails. A leaf, so that each area's handlers can share it.

use mailroom_shared::ipc::IpcError;

use crate::lifecycle::{LifecycleError, SaveError};
use crate::store::StoreError;

/// Store failures as protocol errors. Failures of the store itself (not the caller's
/// mistake) are logged here, once, and reported without internals.
impl From<StoreError> for IpcError {
    fn from(e: StoreError) -> IpcError {
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
}

impl From<LifecycleError> for IpcError {
    fn from(e: LifecycleError) -> IpcError {
        match e {
            LifecycleError::Start { message, field } => IpcError::Failed { message, field },
        }
    }
}

impl From<SaveError> for IpcError {
    fn from(e: SaveError) -> IpcError {
        match e {
            SaveError::Invalid(errors) => IpcError::InvalidConfig { errors: errors.0 },
            SaveError::Store(e) => e.into(),
        }
    }
}

/// A DKIM key that could not be made is the service's failure, not the caller's.
impl From<crate::mailauth::keys::KeyError> for IpcError {
    fn from(e: crate::mailauth::keys::KeyError) -> IpcError {
        match e {
            crate::mailauth::keys::KeyError::Store(e) => e.into(),
            other => {
                tracing::error!(target: "mailroom_service::mailauth", error = %other, "cannot make DKIM keys");
                IpcError::Internal { message: other.to_string() }
            }
        }
    }
}
