//! Where Mailroom keeps its data and its control socket by default.
//!
//! The service, `mailroomctl` and the GUI must agree on the default socket without
//! talking to each other, so the rule lives here: `$XDG_RUNTIME_DIR/mailroom/admin.sock`
//! when the session has a runtime directory, else `admin.sock` inside the data directory.

use std::path::{Path, PathBuf};

/// The default data directory: the platform's data directory for Mailroom
/// (`~/.local/share/mailroom` on Linux), or `./mailroom-data` when no home directory
/// can be found.
pub fn default_data_dir() -> PathBuf {
    std::env::var_os("MAILROOM_DATA_DIR").map(PathBuf::from).unwrap_or_else(|| {
        directories::ProjectDirs::from("org", "Mailroom", "mailroom")
            .map(|d| d.data_dir().to_path_buf())
            .unwrap_or_else(|| PathBuf::from("mailroom-data"))
    })
}

/// The Administrator's own settings directory (`~/.config/mailroom` on Linux): the
/// servers it connected to lately. `None` when there is no home directory.
pub fn config_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("org", "Mailroom", "mailroom").map(|d| d.config_dir().to_path_buf())
}

/// The default control socket for a service using `data_dir`.
pub fn default_socket(data_dir: &Path) -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(run) => PathBuf::from(run).join("mailroom").join("admin.sock"),
        None => data_dir.join("admin.sock"),
    }
}
