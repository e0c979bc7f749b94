//! `mailroomd`'s start-up and shut-down sequence.
//!
//! 1. Create the data directory (mode 0700) and take its lock file, so two services
//!    never share one store.
//! 2. Start logging, open the store (migrating it), load the saved configuration.
//! 3. Bind the control socket (refusing if a live service answers there).
//! 4. Start the Internet Mail Service. A failure here (port in use) is logged and
//!    reported on the control socket; the process stays up so an administrator can
//!    fix the configuration and start it again.
//! 5. Tell systemd we are ready, then wait for signals: SIGHUP restarts the service
//!    (like `postfix reload`), SIGTERM and SIGINT stop it gracefully and exit.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mailroom_shared::paths;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::files::create_private_dir;
use crate::lifecycle::Manager;
use crate::store::{Store, StoreError};

/// Why `mailroomd` could not start (or restore), in words an administrator can act on.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The data directory (or its logs' directory) cannot be made private.
    #[error(transparent)]
    Directory(#[from] crate::files::FileError),
    /// The lock file cannot be opened or written.
    #[error("cannot use the lock file {}: {source}", path.display())]
    LockFile {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Another service holds the data directory.
    #[error("another mailroomd (pid {pid}) is already using the data directory {}", dir.display())]
    Busy {
        /// Its pid, as its lock file says.
        pid: String,
        /// The data directory.
        dir: PathBuf,
    },
    /// The backup could not be restored.
    #[error(transparent)]
    Restore(#[from] crate::backup::BackupError),
    /// The store cannot be opened (or migrated).
    #[error("cannot open the store in {}: {source}", dir.display())]
    Store {
        /// The data directory.
        dir: PathBuf,
        /// Why.
        source: StoreError,
    },
    /// The saved configuration or the queue cannot be read.
    #[error("cannot load the saved configuration: {0}")]
    Config(StoreError),
    /// `--admin-group` cannot be used.
    #[error(transparent)]
    Group(#[from] crate::control::AccessError),
    /// The control socket cannot be bound.
    #[error(transparent)]
    Control(#[from] crate::control::BindError),
    /// The signal handlers cannot be installed.
    #[error("cannot listen for signals: {0}")]
    Signals(std::io::Error),
}

/// Command-line arguments of `mailroomd`.
#[derive(Debug, clap::Parser)]
#[command(name = "mailroomd", version, about = "Mailroom mail server daemon")]
pub struct Args {
    /// Data directory (database, logs, lock). Default: the platform's data directory.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Control socket. Default: $XDG_RUNTIME_DIR/mailroom/admin.sock, else DATA_DIR/admin.sock.
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Let the members of GROUP administer the service too: the control socket is made
    /// 0660 with that group and its members are admitted (the system service's unit
    /// passes `--admin-group mailroom`).
    #[arg(long, value_name = "GROUP")]
    pub admin_group: Option<String>,
    /// Do not start the Internet Mail Service; only the control socket (start it with
    /// `mailroomctl start`).
    #[arg(long)]
    pub no_start: bool,
    /// Restore the backup FILE into the data directory (which must hold no store and
    /// run no service), then exit.
    #[arg(long, value_name = "FILE")]
    pub restore: Option<PathBuf>,
}

/// Tells the administrator who ran `--restore` what was restored.
#[expect(clippy::print_stdout, reason = "the command's answer, not a log line")]
fn say_restored(data_dir: &Path, m: &mailroom_shared::ipc::BackupManifest) {
    println!(
        "restored into {}: {} mailboxes, {} messages, {} queued (backed up by mailroomd {} at {})",
        data_dir.display(),
        m.mailboxes,
        m.messages,
        m.queued,
        m.version,
        mailroom_shared::time::format_local(m.created_at)
    );
}

/// Runs the daemon until SIGTERM/SIGINT.
///
/// # Errors
/// Start-up failures: data directory, lock, store, control socket.
pub async fn run(args: Args) -> Result<(), DaemonError> {
    let data_dir = args.data_dir.unwrap_or_else(paths::default_data_dir);
    create_private_dir(&data_dir, 0o700)?;
    let _lock = lock_data_dir(&data_dir)?;
    if let Some(file) = &args.restore {
        let m = crate::backup::restore(file, &data_dir)?;
        say_restored(&data_dir, &m);
        return Ok(());
    }
    let socket = args.socket.unwrap_or_else(|| paths::default_socket(&data_dir));

    let (events, _) = broadcast::channel(1024);
    let log_dir = data_dir.join("logs");
    create_private_dir(&log_dir, 0o700)?;
    let logs = Arc::new(crate::logging::init(Some(&log_dir), events.clone()));
    tracing::info!(version = env!("CARGO_PKG_VERSION"), data_dir = %data_dir.display(), "mailroomd starting");

    let db = data_dir.join("mailroom.db");
    let store = tokio::task::spawn_blocking(move || Store::open(&db))
        .await
        .unwrap_or_else(|e| Err(StoreError::Internal(e.to_string())))
        .map_err(|source| DaemonError::Store { dir: data_dir.clone(), source })?;
    let apply_logs = Arc::clone(&logs);
    let manager = Manager::new(store, events, data_dir.clone(), Box::new(move |c| apply_logs.apply(&c.diagnostics)))
        .await
        .map_err(DaemonError::Config)?;

    let group = args.admin_group.as_deref().map(crate::control::AdminGroup::lookup).transpose()?;
    let access = crate::control::Access::new(group);
    let listener = crate::control::bind(&socket, &access).await?;
    tracing::info!(socket = %socket.display(), "control socket ready");
    let stop_control = CancellationToken::new();
    let control = tokio::spawn(crate::control::serve(listener, manager.clone(), access, stop_control.clone()));

    if !args.no_start {
        // A failure is already logged and kept in the status for clients to see.
        let _ = manager.start().await;
    }
    if let Err(e) = sd_notify::notify(&[sd_notify::NotifyState::Ready]) {
        tracing::warn!(error = %e, "cannot notify systemd");
    }

    let mut hup = signal(SignalKind::hangup()).map_err(DaemonError::Signals)?;
    let mut term = signal(SignalKind::terminate()).map_err(DaemonError::Signals)?;
    let mut int = signal(SignalKind::interrupt()).map_err(DaemonError::Signals)?;
    loop {
        tokio::select! {
            _ = hup.recv() => {
                tracing::info!("SIGHUP: restarting the service");
                let _ = manager.restart().await;
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    tracing::info!("shutting down");
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    let _ = manager.stop().await;
    stop_control.cancel();
    let _ = control.await;
    tracing::info!("mailroomd stopped");
    Ok(())
}

/// Takes the data directory's lock for the life of the process.
fn lock_data_dir(dir: &Path) -> Result<File, DaemonError> {
    let path = dir.join("mailroomd.lock");
    let failed = |source| DaemonError::LockFile { path: path.clone(), source };
    let mut file =
        std::fs::OpenOptions::new().create(true).truncate(false).write(true).read(true).open(&path).map_err(failed)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let pid = std::fs::read_to_string(&path).unwrap_or_default().trim().to_owned();
            return Err(DaemonError::Busy { pid, dir: dir.to_owned() });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(failed(e)),
    }
    file.set_len(0).map_err(failed)?;
    write!(file, "{}", std::process::id()).map_err(failed)?;
    Ok(file)
}
