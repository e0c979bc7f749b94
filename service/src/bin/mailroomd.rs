//! `mailroomd`: the Mailroom mail server daemon. See `mailroom_service::daemon`.

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let args = mailroom_service::daemon::Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mailroomd: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(mailroom_service::daemon::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mailroomd: {e}");
            ExitCode::FAILURE
        }
    }
}
