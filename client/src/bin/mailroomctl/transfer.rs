//! `mailbox import` and `mailbox export`: mail moved between files on this machine (or
//! an old server's POP3) and a mailbox (and `calendar`/`contacts import|export`: .ics
//! and .vcf files), with a progress bar on the terminal. The
//! reading, writing and sending are the library's (`mailroom_client::transfer` and
//! `::migrate`); this is the command line around them.

use std::path::PathBuf;

use mailroom_client::Client;
use mailroom_client::migrate::{self, Pop3Source};
use mailroom_client::objects::{self, Kind};
use mailroom_client::transfer::{self, ExportTarget, TransferError};

use crate::Failure;
use crate::args::ObjectsCmd;
use crate::render::{self, Out};

/// Where `mailbox import` reads from: as given on the command line, one of the three
/// (clap allows only one).
#[derive(Debug)]
pub struct Source {
    /// `--maildir DIR`.
    pub maildir: Option<PathBuf>,
    /// `--mbox FILE`.
    pub mbox: Option<PathBuf>,
    /// `--pop3 HOST:PORT --user USER`, the password read from standard input.
    pub pop3: Option<(String, String)>,
    /// `--tls`, for POP3.
    pub tls: bool,
}

/// A progress bar on the terminal (hidden when standard error is not one).
fn progress_bar(what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} messages ({eta} left)") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

fn transfer_failure(e: TransferError) -> Failure {
    match e {
        TransferError::Service(c) => c.into(),
        other => Failure::Refused(other.to_string()),
    }
}

/// `mailbox import`: reads the source here, sends what the mailbox lacks.
pub async fn import(
    client: &Client,
    out: &mut Out,
    address: &str,
    source: Source,
    password: Option<String>,
) -> Result<(), Failure> {
    let bar = progress_bar("importing");
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let summary = match source {
        Source { maildir: Some(dir), .. } => {
            let messages = transfer::read_maildir(&dir).map_err(transfer_failure)?;
            transfer::import(client, address, &messages, progress).await
        }
        Source { mbox: Some(file), .. } => {
            let messages = transfer::read_mbox(&file).map_err(transfer_failure)?;
            transfer::import(client, address, &messages, progress).await
        }
        Source { pop3: Some((server, user)), tls, .. } => {
            let source = Pop3Source { server, user, password: password.unwrap_or_default(), tls };
            migrate::from_pop3(client, address, &source, progress).await
        }
        _ => return Err(Failure::Usage("name the source: --maildir DIR, --mbox FILE or --pop3 HOST:PORT".into())),
    }
    .map_err(transfer_failure)?;
    bar.finish_and_clear();
    render::imported(out, address, summary)?;
    Ok(())
}

/// `calendar import|export` and `contacts import|export`.
pub async fn objects(client: &Client, out: &mut Out, kind: Kind, action: ObjectsCmd) -> Result<(), Failure> {
    let default = match kind {
        Kind::Calendar => "calendar",
        Kind::AddressBook => "contacts",
    };
    let (what, plural) = match kind {
        Kind::Calendar => ("calendar", "event(s) and to-do(s)"),
        Kind::AddressBook => ("address book", "card(s)"),
    };
    match action {
        ObjectsCmd::Import { address, file, name } => {
            let name = name.unwrap_or_else(|| default.to_owned());
            let summary = objects::import(client, &address, kind, &name, &file).await.map_err(transfer_failure)?;
            let said = format!("{plural} into the {what} {name} of {address}");
            render::objects_imported(out, &said, summary.stored, summary.unchanged)?;
        }
        ObjectsCmd::Export { address, file, name } => {
            let name = name.unwrap_or_else(|| default.to_owned());
            let n = objects::export(client, &address, kind, &name, &file).await.map_err(transfer_failure)?;
            let said = format!("{plural} of the {what} {name} of {address} to {}", file.display());
            render::objects_exported(out, &said, n)?;
        }
    }
    Ok(())
}

/// `mailbox export`: writes every message of the mailbox to a new mbox file or Maildir.
pub async fn export(
    client: &Client,
    out: &mut Out,
    address: &str,
    mbox: Option<PathBuf>,
    maildir: Option<PathBuf>,
) -> Result<(), Failure> {
    let target = match (mbox, maildir) {
        (Some(f), _) => ExportTarget::Mbox(f),
        (None, Some(d)) => ExportTarget::Maildir(d),
        (None, None) => return Err(Failure::Usage("name the target: --mbox FILE or --maildir DIR".into())),
    };
    let bar = progress_bar("exporting");
    let written = transfer::export(client, address, &target, |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .await
    .map_err(transfer_failure)?;
    bar.finish_and_clear();
    render::exported(out, address, written)?;
    Ok(())
}
