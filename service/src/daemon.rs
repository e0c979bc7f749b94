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
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use mailroom_shared::paths;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::lifecycle::Manager;
use crate::store::Store;

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
#[allow(clippy::print_stdout)] // the command's answer, not a log line
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
pub async fn run(args: Args) -> anyhow::Result<()> {
    let data_dir = args.data_dir.unwrap_or_else(paths::default_data_dir);
    create_private_dir(&data_dir)?;
    let _lock = lock_data_dir(&data_dir)?;
    if let Some(file) = &args.restore {
        let m = crate::backup::restore(file, &data_dir)?;
        say_restored(&data_dir, &m);
        return Ok(());
    }
    let socket = args.socket.unwrap_or_else(|| paths::default_socket(&data_dir));

    let (events, _) = broadcast::channel(1024);
    let log_dir = data_dir.join("logs");
    create_private_dir(&log_dir)?;
    let logs = Arc::new(crate::logging::init(Some(&log_dir), events.clone()));
    tracing::info!(version = env!("CARGO_PKG_VERSION"), data_dir = %data_dir.display(), "mailroomd starting");

    let db = data_dir.join("mailroom.db");
    let store = tokio::task::spawn_blocking(move || Store::open(&db))
        .await?
        .with_context(|| format!("cannot open the store in {}", data_dir.display()))?;
    let apply_logs = Arc::clone(&logs);
    let manager = Manager::new(store, events, data_dir.clone(), Box::new(move |c| apply_logs.apply(&c.diagnostics)))
        .await
        .context("cannot load the saved configuration")?;

    let group =
        args.admin_group.as_deref().map(crate::control::AdminGroup::lookup).transpose().map_err(anyhow::Error::msg)?;
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

    let mut hup = signal(SignalKind::hangup())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
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

/// Creates `dir` (and parents) and makes it private to its owner.
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot make {} private", dir.display()))?;
    Ok(())
}

/// Takes the data directory's lock for the life of the process.
fn lock_data_dir(dir: &Path) -> anyhow::Result<File> {
    let path = dir.join("mailroomd.lock");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .read(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let pid = std::fs::read_to_string(&path).unwrap_or_default();
            bail!("another mailroomd (pid {}) is already using the data directory {}", pid.trim(), dir.display());
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("cannot lock {}", path.display()));
        }
    }
    file.set_len(0)?;
    write!(file, "{}", std::process::id())?;
    Ok(file)
}
