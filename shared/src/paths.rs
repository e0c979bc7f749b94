//! Where Mailroom keeps its data and its control socket by default.
//!
//! The service, `mailroomctl` and the GUI must agree on the default socket without
//! talking to each other, so the rule lives here: `$XDG_RUNTIME_DIR/mailroom/admin.sock`
//! when the session has a runtime directory, else `admin.sock` inside the data directory.
//! A client (the GUI, `mailroomctl`) looks for the system service's socket first
//! ([`SYSTEM_SOCKET`], present while the packaged service runs), then that one.

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

/// The control socket of the system service the Debian package installs (its unit's
/// `RuntimeDirectory=mailroom`); systemd removes it when the service stops.
pub const SYSTEM_SOCKET: &str = "/run/mailroom/admin.sock";

/// The socket a client uses when none is named: the system service's while it exists,
/// else the per-user default. `MAILROOM_SOCKET` names one explicitly.
pub fn client_socket() -> PathBuf {
    if let Some(s) = std::env::var_os("MAILROOM_SOCKET").filter(|s| !s.is_empty()) {
        return PathBuf::from(s);
    }
    let system = Path::new(SYSTEM_SOCKET);
    if std::fs::symlink_metadata(system).is_ok() {
        return system.to_path_buf();
    }
    default_socket(&default_data_dir())
}
