//! A stand-in for `ssh` in the tests of the Windows build. Under Wine a Windows program
//! cannot hand its pipes to a Linux `ssh` (Wine's pipes have no Unix descriptor; the
//! Linux program gets /dev/null), and Debian has no Windows `ssh.exe`. This Windows
//! program takes ssh's place: it connects to the test's relay at
//! `$MAILROOM_TEST_SSH_RELAY` (host:port), sends its own command line as the first
//! line — the relay checks it and runs the remote command, as sshd would — and then
//! carries standard input and output both ways, as ssh does.

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpStream};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Ok(relay) = std::env::var("MAILROOM_TEST_SSH_RELAY") else {
        eprintln!("relay_ssh: MAILROOM_TEST_SSH_RELAY is not set");
        return ExitCode::from(255);
    };
    let mut stream = match TcpStream::connect(&relay) {
        Ok(s) => s,
        // ssh's own words for it.
        Err(e) => {
            eprintln!("ssh: connect to host {relay}: {e}");
            return ExitCode::from(255);
        }
    };
    let (Ok(mut up), Ok(_)) = (stream.try_clone(), writeln!(stream, "{}", args.join(" "))) else {
        eprintln!("relay_ssh: the relay's connection failed");
        return ExitCode::from(255);
    };
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut up);
        let _ = up.shutdown(Shutdown::Write);
    });
    let mut out = std::io::stdout().lock();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return ExitCode::SUCCESS,
            Ok(n) => {
                if out.write_all(&buf[..n]).and_then(|()| out.flush()).is_err() {
                    return ExitCode::SUCCESS;
                }
            }
        }
    }
}
