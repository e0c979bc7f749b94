//! `mailroomctl`: the command-line client of `mailroomd`'s control socket.
//!
//! Everything the admin GUI can do is reachable here too. Exit codes: 0 done; 1 the
//! service refused (its message is printed); 2 usage error; 3 cannot reach the service.
//! Output into a pipe whose reader has gone (`mailroomctl status | head -1`) ends the
//! program quietly, with 0, as other Unix tools do.
//!
//! The program is split by concern: `args` (the command line), `run` (what each
//! command asks the service, through `mailroom_client`'s typed methods), `edit`
//! (configuration changes, pure), `render` (printing the answers), `transfer` (import
//! and export with progress bars) and `bridge` (the relay `ssh … mailroomctl bridge`
//! runs).
mod args;
mod bridge;
mod edit;
mod render;
mod run;
mod transfer;

use std::io;
use std::process::ExitCode;

use clap::Parser as _;
use mailroom_client::ClientError;
use mailroom_shared::ipc::IpcError;

/// Why a command did not do what was asked, by exit code.
#[derive(Debug)]
pub enum Failure {
    /// The service (or this program, for what it checks itself) refused: exit 1.
    Refused(String),
    /// The command line or a file named on it is wrong: exit 2.
    Usage(String),
    /// The service cannot be reached: exit 3.
    Unreachable(String),
    /// Standard output cannot be written: exit 0, saying nothing, when its reader has
    /// gone (the rest was not wanted); otherwise exit 1.
    Output(io::Error),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        Failure::Output(e)
    }
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Failure {
        match e {
            ClientError::Remote(IpcError::InvalidConfig { errors }) => Failure::Refused(format!(
                "the service refused the configuration:\n{}",
                errors.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n")
            )),
            ClientError::Remote(e) => Failure::Refused(e.to_string()),
            other => Failure::Unreachable(other.to_string()),
        }
    }
}

impl Failure {
    /// Says what went wrong on standard error; the exit code that tells it.
    fn report(self) -> ExitCode {
        match self {
            Failure::Refused(m) => {
                eprintln!("mailroomctl: {m}");
                ExitCode::from(1)
            }
            Failure::Usage(m) => {
                eprintln!("mailroomctl: {m}");
                ExitCode::from(2)
            }
            Failure::Unreachable(m) => {
                eprintln!("mailroomctl: {m}");
                eprintln!("Is mailroomd running? Start it with `mailroomd` (see README).");
                ExitCode::from(3)
            }
            Failure::Output(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            Failure::Output(e) => {
                eprintln!("mailroomctl: cannot write the output: {e}");
                ExitCode::from(1)
            }
        }
    }
}

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mailroomctl: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(run::run(cli));
    // The bridge reads standard input on a thread that cannot be interrupted (tokio's
    // stdin); when the service closed first, that read may never end. The work is
    // done: leave without waiting for it.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}
