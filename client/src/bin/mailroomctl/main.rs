//! `mailroomctl`: the command-line client of `mailroomd`'s control socket.
//!
//! Everything the admin GUI can do is reachable here too. Exit codes: 0 done; 1 the
//! service refused (its message is printed); 2 usage error; 3 cannot reach the service.
#![allow(clippy::print_stdout)]

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mailroom_client::transfer;
use mailroom_client::{Client, ClientError};
use mailroom_shared::config::{AcmeChallenge, ConfigDraft, RouteEntryDraft, RouteKey};
use mailroom_shared::ipc::{AcmeState, IpcError, RecordCheck, Request, Response, StatusReport};
use mailroom_shared::paths;
use mailroom_shared::time::{format_local, format_utc};

#[derive(Debug, Parser)]
#[command(name = "mailroomctl", version, about = "Control a running Mailroom service (mailroomd)")]
struct Cli {
    /// Control socket of the service. Default: $MAILROOM_SOCKET, else the system
    /// service's /run/mailroom/admin.sock while it exists, else the per-user socket.
    #[arg(long, global = true, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Data directory of the service, used to find its default socket.
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Print the service's reply as JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Service state, bound addresses and pending changes.
    Status,
    /// Write a consistent backup of the whole store to FILE (a new file) while mail
    /// goes on flowing; `mailroomd --restore FILE --data-dir DIR` brings it back.
    Backup {
        /// Where to write it (on the service's machine).
        file: PathBuf,
    },
    /// Relay the control protocol between standard input and output and the service's
    /// socket: what the Administrator runs over SSH (`ssh HOST mailroomctl bridge`) to
    /// administer another machine. The service checks this process's user as it checks
    /// any client's; nothing new listens on the network.
    Bridge,
    /// The last minutes of traffic: messages received, delivered, relayed, deferred,
    /// bounced and refused per minute, the queue and the open sessions.
    Monitor {
        /// How many minutes to show (at most 60).
        #[arg(long, default_value_t = 10)]
        minutes: usize,
    },
    /// Start the Internet Mail Service and wait until it runs.
    Start,
    /// Stop it (in-flight work drains) and wait until it is stopped.
    Stop,
    /// Stop, load the saved configuration, start; wait until running.
    Restart,
    /// Change one setting (takes effect at the next restart).
    Set {
        #[command(subcommand)]
        setting: Setting,
    },
    /// The Routing tab: reroute switch and routing table.
    Routing {
        #[command(subcommand)]
        action: RoutingCmd,
    },
    /// Mailboxes (take effect immediately).
    Mailbox {
        #[command(subcommand)]
        action: MailboxCmd,
    },
    /// Distribution lists: an address whose mail goes to its members (take effect
    /// immediately).
    List {
        #[command(subcommand)]
        action: ListCmd,
    },
    /// Custom recipients: a local address whose mail is relayed to one outside address.
    Contact {
        #[command(subcommand)]
        action: ContactCmd,
    },
    /// The whole configuration as JSON.
    Config {
        #[command(subcommand)]
        action: ConfigCmd,
    },
    /// What would happen to a recipient, and why.
    TestAddress {
        /// The recipient address.
        recipient: String,
        /// Pretend the client authenticated as this account.
        #[arg(long, value_name = "ACCOUNT")]
        auth: Option<String>,
        /// The client's IP address.
        #[arg(long, default_value = "127.0.0.1")]
        client_ip: String,
    },
    /// The outbound queue.
    Queue {
        #[command(subcommand)]
        action: QueueCmd,
    },
    /// Message tracking: events by sender, recipient, message id or time.
    Track {
        /// Sender contains.
        #[arg(long)]
        sender: Option<String>,
        /// Recipient contains.
        #[arg(long)]
        recipient: Option<String>,
        /// Message-ID header or queue id.
        #[arg(long)]
        message_id: Option<String>,
        /// Not before (Unix seconds).
        #[arg(long)]
        since: Option<i64>,
        /// Not after (Unix seconds).
        #[arg(long)]
        until: Option<i64>,
    },
    /// The TLS certificate the running service presents: names, validity, SHA-256
    /// fingerprint (to compare with what a client shows), and how its renewal from an
    /// ACME CA goes.
    Certificate {
        #[command(subcommand)]
        action: Option<CertificateCmd>,
    },
    /// Client addresses and login names locked out after too many failed logins.
    Lockouts,
    /// Lift a lock-out now (an address or login name, as listed).
    Unlock { client: String },
    /// The DNS records the inbound domains should publish: MX, SPF, DKIM, DMARC, SRV.
    DnsRecords {
        /// Only this inbound domain.
        domain: Option<String>,
        /// Look each record up and say whether it is published as it should be.
        #[arg(long)]
        check: bool,
    },
    /// DKIM keys: rotate a domain's, retire an old one.
    Dkim {
        #[command(subcommand)]
        action: DkimCmd,
    },
    /// The quarantine: messages held as spam (or by DMARC p=quarantine).
    Quarantine {
        #[command(subcommand)]
        action: QuarantineCmd,
    },
    /// Accounts held for going over a sending limit.
    Sending {
        #[command(subcommand)]
        action: SendingCmd,
    },
    /// The content filter (rspamd).
    Filter {
        #[command(subcommand)]
        action: FilterCmd,
    },
    /// Print service events as they happen, until interrupted.
    Events,
}

#[derive(Debug, Subcommand)]
enum QuarantineCmd {
    /// The held messages, newest first.
    List,
    /// One held message: why, and its text.
    Show { id: i64 },
    /// Deliver a held message to its recipients after all.
    Release { id: i64 },
    /// Delete a held message.
    Delete { id: i64 },
}

#[derive(Debug, Subcommand)]
enum SendingCmd {
    /// The accounts held, and why.
    List,
    /// Let a held account send again (change its password first if it was stolen).
    Unlock { account: String },
}

#[derive(Debug, Subcommand)]
enum FilterCmd {
    /// Ask rspamd whether it is there (the saved address, or URL).
    Test { url: Option<String> },
}

#[derive(Debug, Subcommand)]
enum DkimCmd {
    /// Make new keys for a domain; they sign from now on (publish their records), and
    /// the old ones stay published until retired.
    Rotate { domain: String },
    /// Stop publishing an old key (once mail signed with it has been delivered).
    Retire { domain: String, selector: String },
}

#[derive(Debug, Subcommand)]
enum QueueCmd {
    /// Messages waiting.
    List {
        /// Only recipients in this state: scheduled, in_flight, deferred, failed.
        #[arg(long)]
        state: Option<String>,
        /// Sender contains.
        #[arg(long)]
        sender: Option<String>,
        /// A recipient contains.
        #[arg(long)]
        recipient: Option<String>,
    },
    /// One message: envelope, headers, each recipient's state, last error, next attempt.
    Show { queue_id: String },
    /// Try again now (one message, or all).
    Retry { queue_id: Option<String> },
    /// Remove a message; its sender gets an NDR unless --no-ndr.
    Delete {
        queue_id: String,
        /// Remove without telling the sender.
        #[arg(long)]
        no_ndr: bool,
    },
}

#[derive(Debug, Subcommand)]
enum Setting {
    /// SMTP listen address, IP:port (default 127.0.0.1:2525).
    SmtpListen { addr: String },
    /// POP3 listen address, IP:port (default 127.0.0.1:1100).
    Pop3Listen { addr: String },
    /// SMTP over implicit TLS (submissions, usually port 465), IP:port; `none` for off.
    SubmissionsListen { addr: String },
    /// Message submission for mail programs (usually port 587: STARTTLS, then a login
    /// before MAIL), IP:port; `none` for off.
    SubmissionListen { addr: String },
    /// POP3 over implicit TLS (pop3s, usually port 995), IP:port; `none` for off.
    Pop3sListen { addr: String },
    /// IMAP4 listen address, IP:port (default 127.0.0.1:1143).
    ImapListen { addr: String },
    /// Inbound domains whose spam goes to the users' Junk folders instead of the
    /// quarantine, comma-separated; `none` for none.
    JunkDomains { domains: String },
    /// IMAP4 over implicit TLS (imaps, usually port 993), IP:port; `none` for off.
    ImapsListen { addr: String },
    /// Require STARTTLS with a valid certificate when delivering to the smart host.
    SmarthostTls {
        #[arg(value_parser = ["required", "opportunistic"])]
        mode: String,
    },
    /// Send all outbound mail through HOST[:PORT] or [IP]:PORT; `none` for DNS.
    Smarthost { host: String },
    /// Host name used in the SMTP banner and Received: headers.
    HostName { name: String },
    /// DNS server for MX lookups, IP:port; `none` for the system resolver.
    DnsServer { addr: String },
    /// Administrator's mailbox (gets NDR copies); `none` to clear.
    AdminMailbox { address: String },
    /// Scan mail from outside with rspamd at URL (http://host:port); `none` for off.
    Rspamd { url: String },
    /// Greylist mail from unknown clients.
    Greylisting {
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// Refuse clients on the DNS blocklists of the Message Filtering page.
    DnsLists {
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// Seconds the banner waits, refusing clients that talk first; 0 for off.
    GreetDelay { secs: u64 },
    /// Serve the counters to Prometheus at http://IP:port/metrics (keep it on
    /// loopback or a private network); `none` for off.
    MetricsListen { addr: String },
    /// Back up every day at this local time (HH:MM); `off` for no scheduled backups.
    BackupSchedule { time: String },
    /// How many scheduled backups to keep (1–365).
    BackupKeep { count: u64 },
    /// Where scheduled backups go (an absolute path on the service's machine); `none`
    /// for `backups` in the data directory.
    BackupDirectory { dir: String },
}

#[derive(Debug, Subcommand)]
enum ListCmd {
    /// Create a list.
    Add {
        /// Its address.
        address: String,
        /// Display name.
        #[arg(long, default_value = "")]
        name: String,
        /// Who may send to it.
        #[arg(long, default_value = "anyone", value_parser = ["anyone", "authenticated", "members"])]
        senders: String,
        /// Keep the members out of the address tester's explanations.
        #[arg(long)]
        hide_members: bool,
    },
    /// Show a list's members; add or remove some.
    Members {
        /// The list's address.
        address: String,
        /// Members to add (mailboxes, custom recipients, lists, outside addresses).
        #[arg(long, value_name = "ADDRESS")]
        add: Vec<String>,
        /// Members to remove.
        #[arg(long, value_name = "ADDRESS")]
        remove: Vec<String>,
    },
    /// Change who may send to a list, or whether its members are hidden.
    Set {
        /// The list's address.
        address: String,
        /// Who may send to it.
        #[arg(long, value_parser = ["anyone", "authenticated", "members"])]
        senders: Option<String>,
        /// Hide the members (`on`) or not (`off`).
        #[arg(long, value_parser = ["on", "off"])]
        hide_members: Option<String>,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
    },
    /// Delete a list.
    Remove { address: String },
}

#[derive(Debug, Subcommand)]
enum ContactCmd {
    /// Create a custom recipient: mail to ADDRESS is relayed to TARGET.
    Add {
        /// The local address.
        address: String,
        /// The outside address.
        target: String,
        /// Display name.
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Delete a custom recipient.
    Remove { address: String },
}

fn senders(s: &str) -> mailroom_shared::ipc::ListSenders {
    // clap has checked the name against the same three.
    mailroom_shared::ipc::ListSenders::from_name(s).unwrap_or_default()
}

#[derive(Debug, Subcommand)]
enum CertificateCmd {
    /// Obtain a new certificate from the ACME CA now and wait until it is in use.
    Renew,
    /// Obtain the certificate from an ACME CA (Let's Encrypt by default), renewed 30
    /// days before it expires; `--off` to go back to files or a self-signed one. Takes
    /// effect at the next restart.
    Acme {
        /// The certificate's names, comma-separated (default: the host name).
        #[arg(long, value_delimiter = ',')]
        names: Vec<String>,
        /// The account's contact address.
        #[arg(long)]
        email: Option<String>,
        /// The CA's directory URL.
        #[arg(long, value_name = "URL")]
        directory: Option<String>,
        /// How the CA checks the names: tls-alpn-01 (port 443) or http-01 (port 80).
        #[arg(long, value_parser = ["tls-alpn-01", "http-01"])]
        challenge: Option<String>,
        /// Where to answer the CA's check, IP:port (default: 0.0.0.0 and the
        /// challenge's port).
        #[arg(long, value_name = "ADDR")]
        challenge_listen: Option<String>,
        /// Stop using the ACME CA.
        #[arg(long, conflicts_with_all = ["names", "email", "directory", "challenge", "challenge_listen"])]
        off: bool,
    },
}

#[derive(Debug, Subcommand)]
enum RoutingCmd {
    /// "Reroute incoming SMTP mail (required for POP3 support)".
    Reroute {
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// Add a routing table entry (`#domain` matches that domain only).
    Add {
        /// E-mail sent to this domain.
        domain: String,
        /// Should be accepted as "inbound".
        #[arg(long, conflicts_with = "reroute_to", required_unless_present = "reroute_to")]
        inbound: bool,
        /// Should be rerouted to this domain.
        #[arg(long, value_name = "DOMAIN")]
        reroute_to: Option<String>,
    },
    /// Remove the entry for a domain.
    Remove { domain: String },
    /// List the routing table.
    List,
    /// Deliver mail for unknown addresses of an inbound domain to a mailbox (`off`:
    /// refuse them, the default; a catch-all invites spam).
    CatchAll {
        /// The domain.
        domain: String,
        /// Any address of the mailbox, or `off`.
        mailbox: String,
    },
}

#[derive(Debug, Subcommand)]
enum MailboxCmd {
    /// Create a mailbox; the password is read from standard input.
    Add {
        /// Primary address.
        address: String,
        /// Further addresses.
        #[arg(long = "alias", value_name = "ADDRESS")]
        aliases: Vec<String>,
        /// Display name.
        #[arg(long, default_value = "")]
        name: String,
        /// Read the password from standard input (required: never on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Set a mailbox's password, read from standard input.
    Passwd {
        /// Any address of the mailbox.
        address: String,
        /// Read the password from standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List mailboxes.
    List,
    /// Delete a mailbox and its messages.
    Remove { address: String },
    /// Move mail into a mailbox: from a Maildir (with its folders), an mbox file, or
    /// the old server over POP3. Run again, it adds only what is new.
    Import {
        /// Any address of the mailbox.
        address: String,
        /// A Maildir on this machine (Maildir++ subfolders become folders).
        #[arg(long, value_name = "DIR", group = "source")]
        maildir: Option<PathBuf>,
        /// An mbox file on this machine.
        #[arg(long, value_name = "FILE", group = "source")]
        mbox: Option<PathBuf>,
        /// The old server's POP3 service, HOST:PORT.
        #[arg(long, value_name = "HOST:PORT", group = "source", requires_all = ["user", "password_stdin"])]
        pop3: Option<String>,
        /// The login at the old server.
        #[arg(long, requires = "pop3")]
        user: Option<String>,
        /// Read the old server's password from standard input.
        #[arg(long, requires = "pop3")]
        password_stdin: bool,
        /// Use TLS from the start (POP3S, usually port 995), checking the certificate.
        #[arg(long, requires = "pop3")]
        tls: bool,
    },
    /// Forward a mailbox's mail to an outside address (with SRS), keeping a copy or
    /// not; `off` to stop.
    Forward {
        /// Any address of the mailbox.
        address: String,
        /// The outside address, or `off`.
        to: String,
        /// Deliver to the mailbox too.
        #[arg(long)]
        keep: bool,
    },
    /// Set the mailbox's automatic reply (out of office); `--off` to stop it.
    Autoreply {
        /// Any address of the mailbox.
        address: String,
        /// The reply's subject; {subject} stands for the subject answered.
        #[arg(long, required_unless_present = "off")]
        subject: Option<String>,
        /// The reply's text.
        #[arg(long, required_unless_present = "off")]
        text: Option<String>,
        /// Not before this day (YYYY-MM-DD, local time).
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Not after this day (YYYY-MM-DD, local time, the whole day).
        #[arg(long, value_name = "DATE")]
        until: Option<String>,
        /// Answer each sender at most once in this many days.
        #[arg(long, default_value_t = 7)]
        days: u32,
        /// Turn it off.
        #[arg(long, conflicts_with_all = ["subject", "text", "from", "until"])]
        off: bool,
    },
    /// Set the mailbox's storage limits, in KB (`default` for the organisation's).
    Limits {
        /// Any address of the mailbox.
        address: String,
        /// Warn the user, once a day, above this.
        #[arg(long, value_name = "KB|default")]
        warn: Option<String>,
        /// Refuse the user's sending above this.
        #[arg(long, value_name = "KB|default")]
        send: Option<String>,
        /// Refuse mail to the mailbox above this.
        #[arg(long, value_name = "KB|default")]
        receive: Option<String>,
    },
    /// Write a mailbox's messages to a new mbox file or Maildir.
    Export {
        /// Any address of the mailbox.
        address: String,
        /// A new mbox file.
        #[arg(long, value_name = "FILE", group = "target")]
        mbox: Option<PathBuf>,
        /// A new (or empty) Maildir; folders become Maildir++ subfolders.
        #[arg(long, value_name = "DIR", group = "target")]
        maildir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCmd {
    /// Print the saved configuration as JSON.
    Show,
    /// Validate and save a configuration from a JSON file (`-` for standard input).
    Load { file: PathBuf },
}

/// A failure, mapped to an exit code.
enum Failure {
    Refused(String),
    Usage(String),
    Unreachable(String),
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

/// Copies the control protocol both ways between standard input/output and the
/// socket at `socket`, until either side ends.
async fn bridge(socket: &std::path::Path) -> Result<(), Failure> {
    use interprocess::local_socket::tokio::Stream;
    use interprocess::local_socket::traits::tokio::Stream as _;
    use interprocess::local_socket::{GenericFilePath, ToFsName};
    use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

    /// Copies `from` to `to`, flushing after every read: the protocol is lines a
    /// person (or program) waits on.
    async fn pump(mut from: impl AsyncRead + Unpin, mut to: impl AsyncWrite + Unpin) -> std::io::Result<()> {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = from.read(&mut buf).await?;
            if n == 0 {
                return to.shutdown().await;
            }
            to.write_all(&buf[..n]).await?;
            to.flush().await?;
        }
    }

    let unreachable = |e: std::io::Error| {
        Failure::Unreachable(format!("cannot connect to the Mailroom service at {}: {e}", socket.display()))
    };
    let name = socket.to_fs_name::<GenericFilePath>().map_err(unreachable)?;
    let stream = Stream::connect(name).await.map_err(unreachable)?;
    // `&Stream` reads and writes: one borrow each way.
    let result = tokio::select! {
        r = pump(tokio::io::stdin(), &stream) => r,
        r = pump(&stream, tokio::io::stdout()) => r,
    };
    result.map_err(|e| Failure::Refused(format!("the bridge failed: {e}")))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mailroomctl: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Refused(m)) => {
            eprintln!("mailroomctl: {m}");
            ExitCode::from(1)
        }
        Err(Failure::Usage(m)) => {
            eprintln!("mailroomctl: {m}");
            ExitCode::from(2)
        }
        Err(Failure::Unreachable(m)) => {
            eprintln!("mailroomctl: {m}");
            eprintln!("Is mailroomd running? Start it with `mailroomd` (see README).");
            ExitCode::from(3)
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let socket = match (&cli.socket, &cli.data_dir) {
        (Some(s), _) => s.clone(),
        (None, Some(d)) => paths::default_socket(d),
        (None, None) => paths::client_socket(),
    };
    // Read secrets before connecting, so a slow typist does not hold a connection.
    let password = match &cli.command {
        Command::Mailbox { action: MailboxCmd::Add { .. } | MailboxCmd::Passwd { .. } } => Some(read_password()?),
        Command::Mailbox { action: MailboxCmd::Import { password_stdin: true, .. } } => Some(read_password()?),
        _ => None,
    };
    if matches!(cli.command, Command::Bridge) {
        return bridge(&socket).await;
    }
    let client = Client::connect(&socket, concat!("mailroomctl ", env!("CARGO_PKG_VERSION"))).await?;
    let json = cli.json;
    match cli.command {
        Command::Status => show(json, client.request(Request::Status).await?),
        Command::Bridge => Ok(()),
        Command::Backup { file } => {
            let file = std::path::absolute(&file).map_err(|e| Failure::Usage(format!("{}: {e}", file.display())))?;
            show(json, client.request(Request::Backup { path: file.display().to_string() }).await?)
        }
        Command::Monitor { minutes } => match client.request(Request::Monitor).await? {
            Response::Monitor { minutes: all } if !json => {
                let shown = &all[all.len().saturating_sub(minutes.clamp(1, 60))..];
                println!("MINUTE  RECEIVED DELIVERED  RELAYED DEFERRED  BOUNCED  REFUSED   QUEUE  SMTP  POP3  IMAP");
                for m in shown {
                    let at = mailroom_shared::time::local_hm(m.at);
                    println!(
                        "{at:<6} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>7} {:>5} {:>5} {:>5}",
                        m.received,
                        m.delivered,
                        m.relayed,
                        m.deferred,
                        m.bounced,
                        m.refused,
                        m.queued,
                        m.smtp_sessions,
                        m.pop3_sessions,
                        m.imap_sessions
                    );
                }
                Ok(())
            }
            other => show(json, other),
        },
        Command::Start => show(json, client.request(Request::Start).await?),
        Command::Stop => show(json, client.request(Request::Stop).await?),
        Command::Restart => show(json, client.request(Request::Restart).await?),
        Command::Set { setting } => {
            edit_config(&client, json, |d| {
                match setting {
                    Setting::SmtpListen { addr } => d.connections.smtp_listen = addr,
                    Setting::Pop3Listen { addr } => d.pop3.listen = addr,
                    Setting::SubmissionsListen { addr } => d.connections.submissions_listen = none_to_empty(addr),
                    Setting::SubmissionListen { addr } => d.connections.submission_listen = none_to_empty(addr),
                    Setting::Pop3sListen { addr } => d.pop3.pop3s_listen = none_to_empty(addr),
                    Setting::ImapListen { addr } => d.imap4.listen = addr,
                    Setting::JunkDomains { domains } => {
                        d.filtering.junk_domains = none_to_empty(domains)
                            .split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_owned)
                            .collect();
                    }
                    Setting::ImapsListen { addr } => d.imap4.imaps_listen = none_to_empty(addr),
                    Setting::SmarthostTls { mode } => d.connections.smart_host_requires_tls = mode == "required",
                    Setting::Smarthost { host } => d.connections.smart_host = none_to_empty(host),
                    Setting::HostName { name } => d.general.host_name = name,
                    Setting::DnsServer { addr } => d.connections.dns_server = none_to_empty(addr),
                    Setting::AdminMailbox { address } => d.general.administrator_mailbox = none_to_empty(address),
                    Setting::Rspamd { url } => {
                        d.filtering.rspamd_enabled = !url.eq_ignore_ascii_case("none");
                        if d.filtering.rspamd_enabled {
                            d.filtering.rspamd_url = url;
                        }
                    }
                    Setting::Greylisting { state } => d.filtering.greylisting = state == "on",
                    Setting::DnsLists { state } => d.filtering.dns_lists_enabled = state == "on",
                    Setting::GreetDelay { secs } => d.filtering.greet_delay_secs = secs,
                    Setting::MetricsListen { addr } => d.diagnostics.metrics_listen = none_to_empty(addr),
                    Setting::BackupSchedule { time } => {
                        d.backup.scheduled = !time.eq_ignore_ascii_case("off");
                        if d.backup.scheduled {
                            d.backup.time = time;
                        }
                    }
                    Setting::BackupKeep { count } => d.backup.keep = count,
                    Setting::BackupDirectory { dir } => d.backup.directory = none_to_empty(dir),
                }
                Ok(())
            })
            .await
        }
        Command::Routing { action: RoutingCmd::CatchAll { domain, mailbox } } => {
            let mailbox = (!mailbox.eq_ignore_ascii_case("off")).then_some(mailbox);
            show(json, client.request(Request::SetCatchAll { domain, mailbox }).await?)
        }
        Command::Routing { action: RoutingCmd::List } => {
            let (draft, _) = get_config(&client).await?;
            if json {
                print_json(&draft.routing);
            } else {
                println!("Reroute incoming SMTP mail: {}", if draft.routing.reroute { "on" } else { "off" });
                println!("{:<40} ROUTE TO", "SENT TO");
                for e in &draft.routing.table {
                    println!("{:<40} {}", e.sent_to, e.reroute_to.as_deref().unwrap_or("<inbound>"));
                }
            }
            Ok(())
        }
        Command::Routing { action } => {
            edit_config(&client, json, |d| {
                match action {
                    RoutingCmd::Reroute { state } => d.routing.reroute = state == "on",
                    RoutingCmd::Add { domain, reroute_to, .. } => {
                        let key = RouteKey::parse(&domain).map_err(|e| Failure::Usage(format!("'{domain}' {e}")))?;
                        if d.routing.table.iter().any(|e| RouteKey::parse(&e.sent_to).is_ok_and(|k| k == key)) {
                            return Err(Failure::Refused(format!(
                                "the routing table already has an entry for {key}; remove it first"
                            )));
                        }
                        d.routing.table.push(RouteEntryDraft { sent_to: domain, reroute_to });
                    }
                    RoutingCmd::Remove { domain } => {
                        let key = RouteKey::parse(&domain).map_err(|e| Failure::Usage(format!("'{domain}' {e}")))?;
                        let before = d.routing.table.len();
                        d.routing.table.retain(|e| RouteKey::parse(&e.sent_to).map_or(true, |k| k != key));
                        if d.routing.table.len() == before {
                            return Err(Failure::Refused(format!("the routing table has no entry for {key}")));
                        }
                    }
                    RoutingCmd::List | RoutingCmd::CatchAll { .. } => {}
                }
                Ok(())
            })
            .await
        }
        Command::Mailbox { action } => mailbox(&client, json, action, password).await,
        Command::List { action } => {
            let request = match action {
                ListCmd::Add { address, name, senders: s, hide_members } => {
                    Request::AddList { address, display_name: name, senders: senders(&s), hide_members }
                }
                ListCmd::Members { address, add, remove } => Request::ListMembers { address, add, remove },
                ListCmd::Set { address, senders: s, hide_members, name } => Request::UpdateList {
                    address,
                    display_name: name,
                    senders: s.as_deref().map(senders),
                    hide_members: hide_members.map(|h| h == "on"),
                },
                ListCmd::Remove { address } => Request::RemoveList { address },
            };
            show(json, client.request(request).await?)
        }
        Command::Contact { action } => {
            let request = match action {
                ContactCmd::Add { address, target, name } => {
                    Request::AddContact { address, display_name: name, target }
                }
                ContactCmd::Remove { address } => Request::RemoveContact { address },
            };
            show(json, client.request(request).await?)
        }
        Command::Config { action: ConfigCmd::Show } => {
            let (draft, _) = get_config(&client).await?;
            print_json(&draft);
            Ok(())
        }
        Command::Config { action: ConfigCmd::Load { file } } => {
            let text = if file.as_os_str() == "-" {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s).map_err(|e| Failure::Usage(format!("stdin: {e}")))?;
                s
            } else {
                std::fs::read_to_string(&file).map_err(|e| Failure::Usage(format!("{}: {e}", file.display())))?
            };
            let draft: ConfigDraft =
                serde_json::from_str(&text).map_err(|e| Failure::Usage(format!("{}: {e}", file.display())))?;
            show(json, client.request(Request::SetConfig { config: Box::new(draft), base_revision: None }).await?)
        }
        Command::TestAddress { recipient, auth, client_ip } => {
            show(json, client.request(Request::TestAddress { recipient, authenticated_as: auth, client_ip }).await?)
        }
        Command::Queue { action } => {
            let request = match action {
                QueueCmd::List { state, sender, recipient } => Request::QueueList { state, sender, recipient },
                QueueCmd::Show { queue_id } => Request::QueueMessage { queue_id },
                QueueCmd::Retry { queue_id } => Request::QueueRetry { queue_id },
                QueueCmd::Delete { queue_id, no_ndr } => Request::QueueDelete { queue_id, ndr: !no_ndr },
            };
            show(json, client.request(request).await?)
        }
        Command::Track { sender, recipient, message_id, since, until } => {
            show(json, client.request(Request::Track { sender, recipient, message_id, since, until }).await?)
        }
        Command::Certificate { action: None } => show(json, client.request(Request::Certificate).await?),
        Command::Certificate { action: Some(CertificateCmd::Renew) } => {
            show(json, client.request(Request::RenewCertificate).await?)
        }
        Command::Certificate {
            action: Some(CertificateCmd::Acme { names, email, directory, challenge, challenge_listen, off }),
        } => {
            edit_config(&client, json, |d| {
                let a = &mut d.security.acme;
                a.enabled = !off;
                if !names.is_empty() {
                    a.names = names.join(", ");
                }
                if let Some(email) = email {
                    a.email = email;
                }
                if let Some(url) = directory {
                    a.directory_url = url;
                }
                if let Some(c) = challenge {
                    a.challenge = if c == "http-01" { AcmeChallenge::Http01 } else { AcmeChallenge::TlsAlpn01 };
                }
                if let Some(addr) = challenge_listen {
                    a.challenge_listen = addr;
                }
                Ok(())
            })
            .await
        }
        Command::Lockouts => show(json, client.request(Request::Lockouts).await?),
        Command::Unlock { client: who } => show(json, client.request(Request::Unlock { client: who }).await?),
        Command::DnsRecords { domain, check } => {
            show(json, client.request(Request::DnsRecords { domain, check }).await?)
        }
        Command::Dkim { action: DkimCmd::Rotate { domain } } => {
            let response = client.request(Request::DkimRotate { domain }).await?;
            if !json {
                println!("New keys made; mail is signed with them from now on. Publish their records now:");
            }
            show(json, response)
        }
        Command::Dkim { action: DkimCmd::Retire { domain, selector } } => {
            show(json, client.request(Request::DkimRetire { domain, selector }).await?)
        }
        Command::Quarantine { action } => {
            let request = match action {
                QuarantineCmd::List => Request::QuarantineList,
                QuarantineCmd::Show { id } => Request::QuarantineMessage { id },
                QuarantineCmd::Release { id } => Request::QuarantineRelease { id },
                QuarantineCmd::Delete { id } => Request::QuarantineDelete { id },
            };
            show(json, client.request(request).await?)
        }
        Command::Sending { action: SendingCmd::List } => show(json, client.request(Request::SendingHolds).await?),
        Command::Sending { action: SendingCmd::Unlock { account } } => {
            show(json, client.request(Request::SendingUnlock { account }).await?)
        }
        Command::Filter { action: FilterCmd::Test { url } } => {
            show(json, client.request(Request::TestFilter { url }).await?)
        }
        Command::Events => {
            let mut events = client.subscribe().await?;
            while let Some(e) = events.recv().await {
                print_json_line(&e);
            }
            Err(Failure::Unreachable("the service closed the connection".into()))
        }
    }
}

async fn mailbox(client: &Client, json: bool, action: MailboxCmd, password: Option<String>) -> Result<(), Failure> {
    let response = match action {
        MailboxCmd::Add { address, aliases, name, .. } => {
            let addresses = std::iter::once(address).chain(aliases).collect();
            client
                .request(Request::AddMailbox { display_name: name, addresses, password: password.unwrap_or_default() })
                .await?
        }
        MailboxCmd::Passwd { address, .. } => {
            client
                .request(Request::UpdateMailbox {
                    address,
                    display_name: None,
                    addresses: None,
                    password: Some(password.unwrap_or_default()),
                })
                .await?
        }
        MailboxCmd::List => client.request(Request::ListMailboxes).await?,
        MailboxCmd::Remove { address } => client.request(Request::RemoveMailbox { address }).await?,
        MailboxCmd::Import { address, maildir, mbox, pop3, user, tls, .. } => {
            return import(client, json, &address, (maildir, mbox, pop3.zip(user)), password, tls).await;
        }
        MailboxCmd::Forward { address, to, keep } => {
            let forwarding = (!to.eq_ignore_ascii_case("off")).then_some(mailroom_shared::ipc::Forwarding { to, keep });
            client.request(Request::SetForwarding { address, forwarding }).await?
        }
        MailboxCmd::Autoreply { address, subject, text, from, until, days, off } => {
            let reply = if off {
                None
            } else {
                let day = |s: &str, end: bool| -> Result<i64, Failure> {
                    let date: jiff::civil::Date =
                        s.parse().map_err(|e| Failure::Usage(format!("'{s}' is not a date (YYYY-MM-DD): {e}")))?;
                    let time = if end { date.at(23, 59, 59, 0) } else { date.at(0, 0, 0, 0) };
                    jiff::tz::TimeZone::system()
                        .to_timestamp(time)
                        .map(|t| t.as_second())
                        .map_err(|e| Failure::Usage(format!("'{s}': {e}")))
                };
                Some(mailroom_shared::ipc::AutoReply {
                    subject: subject.unwrap_or_default(),
                    body: text.unwrap_or_default(),
                    start: from.as_deref().map(|s| day(s, false)).transpose()?,
                    end: until.as_deref().map(|s| day(s, true)).transpose()?,
                    days,
                })
            };
            client.request(Request::SetAutoReply { address, reply }).await?
        }
        MailboxCmd::Limits { address, warn, send, receive } => {
            let current = match client.request(Request::ListMailboxes).await? {
                Response::Mailboxes { mailboxes, .. } => mailboxes
                    .into_iter()
                    .find(|m| m.addresses.iter().any(|a| a.eq_ignore_ascii_case(&address)))
                    .map(|m| m.limits)
                    .unwrap_or_default(),
                _ => Default::default(),
            };
            let value = |given: Option<String>, now: Option<u64>| -> Result<Option<u64>, Failure> {
                match given.as_deref() {
                    None => Ok(now),
                    Some("default") => Ok(None),
                    Some(n) => n.parse().map(Some).map_err(|_| Failure::Usage(format!("'{n}' is not a number of KB"))),
                }
            };
            let limits = mailroom_shared::ipc::StorageLimits {
                warn_kb: value(warn, current.warn_kb)?,
                send_kb: value(send, current.send_kb)?,
                receive_kb: value(receive, current.receive_kb)?,
            };
            client.request(Request::SetLimits { address, limits }).await?
        }
        MailboxCmd::Export { address, mbox, maildir } => {
            let target = match (mbox, maildir) {
                (Some(f), _) => transfer::ExportTarget::Mbox(f),
                (None, Some(d)) => transfer::ExportTarget::Maildir(d),
                (None, None) => return Err(Failure::Usage("name the target: --mbox FILE or --maildir DIR".into())),
            };
            let bar = progress_bar("exporting");
            let written = transfer::export(client, &address, &target, |done, total| {
                bar.set_length(total);
                bar.set_position(done);
            })
            .await
            .map_err(transfer_failure)?;
            bar.finish_and_clear();
            if json {
                print_json(&serde_json::json!({ "exported": written }));
            } else {
                println!("exported {written} message(s) of {address}");
            }
            return Ok(());
        }
    };
    show(json, response)
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

fn transfer_failure(e: transfer::TransferError) -> Failure {
    match e {
        transfer::TransferError::Service(c) => c.into(),
        other => Failure::Refused(other.to_string()),
    }
}

/// `mailbox import`: reads the source here, sends what the mailbox lacks.
async fn import(
    client: &Client,
    json: bool,
    address: &str,
    source: (Option<PathBuf>, Option<PathBuf>, Option<(String, String)>),
    password: Option<String>,
    tls: bool,
) -> Result<(), Failure> {
    let bar = progress_bar("importing");
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let summary = match source {
        (Some(dir), _, _) => {
            let messages = transfer::read_maildir(&dir).map_err(transfer_failure)?;
            transfer::import(client, address, &messages, progress).await
        }
        (None, Some(file), _) => {
            let messages = transfer::read_mbox(&file).map_err(transfer_failure)?;
            transfer::import(client, address, &messages, progress).await
        }
        (None, None, Some((server, user))) => {
            let source =
                mailroom_client::migrate::Pop3Source { server, user, password: password.unwrap_or_default(), tls };
            mailroom_client::migrate::from_pop3(client, address, &source, progress).await
        }
        _ => return Err(Failure::Usage("name the source: --maildir DIR, --mbox FILE or --pop3 HOST:PORT".into())),
    }
    .map_err(transfer_failure)?;
    bar.finish_and_clear();
    if json {
        print_json(&serde_json::json!({ "imported": summary.stored, "skipped": summary.skipped }));
    } else {
        println!("imported {} message(s) into {address}; {} imported before, skipped", summary.stored, summary.skipped);
    }
    Ok(())
}

fn read_password() -> Result<String, Failure> {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s).map_err(|e| Failure::Usage(format!("cannot read the password: {e}")))?;
    let p = s.strip_suffix('\n').map(|p| p.strip_suffix('\r').unwrap_or(p)).unwrap_or(&s).to_owned();
    if p.is_empty() {
        return Err(Failure::Usage("the password read from standard input is empty".into()));
    }
    Ok(p)
}

fn none_to_empty(s: String) -> String {
    if s.eq_ignore_ascii_case("none") { String::new() } else { s }
}

async fn get_config(client: &Client) -> Result<(ConfigDraft, u64), Failure> {
    match client.request(Request::GetConfig).await? {
        Response::Config { config, revision } => Ok((config.to_draft(), revision)),
        other => Err(Failure::Unreachable(format!("unexpected reply {other:?}"))),
    }
}

/// Reads the configuration, applies `edit`, and saves it with the revision it was read
/// at, so a concurrent change elsewhere is reported rather than overwritten.
async fn edit_config(
    client: &Client,
    json: bool,
    edit: impl FnOnce(&mut ConfigDraft) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let (mut draft, revision) = get_config(client).await?;
    edit(&mut draft)?;
    let reply = client.request(Request::SetConfig { config: Box::new(draft), base_revision: Some(revision) }).await?;
    show(json, reply)
}

fn print_json<T: serde::Serialize>(v: &T) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("mailroomctl: {e}"),
    }
}

fn print_json_line<T: serde::Serialize>(v: &T) {
    match serde_json::to_string(v) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("mailroomctl: {e}"),
    }
}

fn show(json: bool, response: Response) -> Result<(), Failure> {
    if json {
        match &response {
            Response::Status(s) => print_json(s),
            other => print_json(other),
        }
        return Ok(());
    }
    match response {
        Response::Pong | Response::Done => println!("OK"),
        Response::Monitor { minutes } => print_json(&minutes),
        // Parts of `mailbox import|export`, which print their own summary.
        Response::Imported { .. }
        | Response::ImportCheck { .. }
        | Response::ExportList { .. }
        | Response::ExportRead { .. } => print_json(&response),
        Response::Backup(m) => {
            println!(
                "backed up: {} mailboxes, {} messages, {} queued; schema {}, {} bytes, SHA-256 {}",
                m.mailboxes, m.messages, m.queued, m.schema, m.database_bytes, m.sha256
            );
        }
        Response::DnsRecords { records } => {
            let mut domain = "";
            for r in &records {
                if r.domain != domain {
                    domain = &r.domain;
                    println!("{domain}:");
                }
                let check = match &r.check {
                    None => String::new(),
                    Some(RecordCheck::Published) => "  [published]".into(),
                    Some(RecordCheck::Missing) => "  [MISSING]".into(),
                    Some(RecordCheck::Different { found }) => format!("  [DIFFERENT: found {}]", found.join(" | ")),
                    Some(RecordCheck::Failed { error }) => format!("  [lookup failed: {error}]"),
                };
                println!("  {:<40} {:<4} {}{check}\n      {}", r.name, r.kind, r.value, r.purpose);
            }
            if records.is_empty() {
                println!(
                    "No inbound domains: add one to the routing table (mailroomctl routing add DOMAIN --inbound)."
                );
            }
        }
        Response::Status(s) => print_status(&s),
        Response::Config { config, .. } => print_json(&config.to_draft()),
        Response::ConfigSaved { revision, pending_pages } => {
            println!("Saved (revision {revision}).");
            if !pending_pages.is_empty() {
                let pages: Vec<&str> = pending_pages.iter().map(|p| p.title()).collect();
                println!(
                    "These changes take effect when the Internet Mail Service is restarted ({}): mailroomctl restart",
                    pages.join(", ")
                );
            }
        }
        Response::Mailboxes { mailboxes, lists, contacts, catch_all, warnings } => {
            println!("{:<32} {:<24} {:>8} {:>12}", "ADDRESS", "NAME", "MESSAGES", "BYTES");
            for m in mailboxes {
                let first = m.addresses.first().cloned().unwrap_or_default();
                println!("{first:<32} {:<24} {:>8} {:>12}", m.display_name, m.message_count, m.total_bytes);
                for alias in m.addresses.iter().skip(1) {
                    println!("  alias {alias}");
                }
                for f in m.folders.iter().filter(|f| f.messages > 0 && f.name != "INBOX") {
                    println!("  folder {:<23} {:>24} {:>12}", f.name, f.messages, f.bytes);
                }
                if let Some(f) = &m.forwarding {
                    let keep = if f.keep { ", keeping a copy" } else { "" };
                    println!("  forwards to {}{keep}", f.to);
                }
                if let Some(r) = &m.auto_reply {
                    println!("  automatic reply: {}", r.subject);
                }
                let l = m.limits;
                if l != Default::default() {
                    let kb = |v: Option<u64>| v.map_or_else(|| "default".to_owned(), |k| format!("{k} KB"));
                    println!("  limits: warn {}, send {}, receive {}", kb(l.warn_kb), kb(l.send_kb), kb(l.receive_kb));
                }
            }
            for l in lists {
                let hidden = if l.hide_members { ", members hidden" } else { "" };
                println!(
                    "{:<32} {:<24} list: {} member(s), senders: {}{hidden}",
                    l.address,
                    l.display_name,
                    l.members.len(),
                    l.senders.name()
                );
            }
            for c in contacts {
                println!("{:<32} {:<24} custom recipient → {}", c.address, c.display_name, c.target);
            }
            for (domain, mailbox) in catch_all {
                println!("catch-all for {domain}: {mailbox}");
            }
            for w in warnings {
                println!("warning: {w}");
            }
        }
        Response::List(l) => {
            let hidden = if l.hide_members { " (members hidden)" } else { "" };
            println!("list {} ({}): senders {}{hidden}", l.address, l.display_name, l.senders.name());
            for m in &l.members {
                println!("  member {m}");
            }
        }
        Response::Contact(c) => println!("custom recipient {} → {}", c.address, c.target),
        Response::Mailbox(m) => println!("Mailbox {} ({})", m.addresses.join(", "), m.display_name),
        Response::AddressTest { explanation, after_restart: None, .. } => println!("{explanation}"),
        Response::AddressTest { explanation, after_restart: Some(after), .. } => {
            println!("Now (running configuration): {explanation}");
            println!("After a restart (saved configuration): {after}");
        }
        Response::Queue { messages } => {
            println!("{:<20} {:<28} {:>8} {:<12} RECIPIENTS / LAST ERROR", "QUEUE ID", "SENDER", "SIZE", "NEXT TRY");
            for m in &messages {
                let next = m.next_attempt.map(|t| format!("in {}s", (t - now()).max(0))).unwrap_or_else(|| "-".into());
                let sender = if m.sender.is_empty() { "<>" } else { m.sender.as_str() };
                println!("{:<20} {sender:<28} {:>8} {next:<12} {}", m.queue_id, m.size, m.recipients.join(", "));
                if let Some(e) = &m.last_error {
                    println!("{:<20} {e}", "");
                }
            }
            println!("{} message(s)", messages.len());
        }
        Response::QueueMessage(d) => {
            let e = &d.entry;
            println!(
                "queue id: {}\nsender:   <{}>\nsize:     {} bytes\narrived:  {} s ago",
                e.queue_id,
                e.sender,
                e.size,
                now() - e.received_at
            );
            for r in &d.recipients {
                let next =
                    r.next_attempt.map(|t| format!(", next attempt in {}s", (t - now()).max(0))).unwrap_or_default();
                println!("  {} [{}] {} attempt(s){next}", r.address, r.state, r.attempts);
                if let Some(err) = &r.last_error {
                    println!("      last error: {err}");
                }
            }
            println!("\n{}", d.headers.trim_end());
        }
        Response::Lockouts { lockouts } => {
            println!("{:<40} {:<8} {:>8}  UNTIL", "LOCKED OUT", "KIND", "FAILURES");
            for l in &lockouts {
                let kind = if l.is_address { "address" } else { "login" };
                println!("{:<40} {kind:<8} {:>8}  {}", l.client, l.failures, format_utc(l.until));
            }
            println!("{} lock-out(s)", lockouts.len());
        }
        Response::Certificate { certificate, acme } => {
            match certificate {
                None => println!("No certificate: the Internet Mail Service is not running, or runs without TLS."),
                Some(c) => {
                    let kind = match (c.self_signed, &acme) {
                        (true, _) => "self-signed, made by Mailroom",
                        (false, Some(_)) => "from the ACME CA",
                        (false, None) => "from the Security page",
                    };
                    println!("certificate: {} ({kind})", c.path);
                    println!("subject:     {}", c.subject);
                    println!("issuer:      {}", c.issuer);
                    println!("names:       {}", c.names.join(", "));
                    println!("valid:       {} to {}", format_utc(c.not_before), format_utc(c.not_after));
                    println!("SHA-256:     {}", c.sha256_fingerprint);
                }
            }
            if let Some(a) = acme {
                let state = match a.state {
                    AcmeState::Obtaining => "obtaining a certificate",
                    AcmeState::Valid => "certificate in use",
                    AcmeState::Failed => "the last attempt failed",
                };
                println!("ACME CA:     {} for {}", a.directory_url, a.names.join(", "));
                println!("ACME state:  {state}");
                if let Some(t) = a.last_attempt {
                    println!("last try:    {}", format_utc(t));
                }
                if let Some(e) = &a.last_error {
                    println!("error:       {e}");
                }
                if let Some(t) = a.next_attempt {
                    let what = if a.state == AcmeState::Failed { "next try" } else { "renewal" };
                    println!("{:<13}{}", format!("{what}:"), format_utc(t));
                }
            }
        }
        Response::Quarantine { messages } => {
            println!("{:>6} {:<25} {:<28} {:>7}  SUBJECT / WHY", "ID", "HELD", "SENDER", "SCORE");
            for m in &messages {
                let sender = if m.sender.is_empty() { "<>" } else { m.sender.as_str() };
                let score = m.score.map(|s| format!("{s:.2}")).unwrap_or_else(|| "-".into());
                println!("{:>6} {:<25} {sender:<28} {score:>7}  {}", m.id, format_local(m.held_at), m.subject);
                println!("{:>6} to {}: {}", "", m.recipients.join(", "), m.reason);
            }
            println!("{} message(s) held", messages.len());
        }
        Response::QuarantineMessage { entry, text } => {
            let sender = if entry.sender.is_empty() { "<>" } else { entry.sender.as_str() };
            println!("id:       {}  (queue id {})", entry.id, entry.queue_id);
            println!("held:     {}", format_local(entry.held_at));
            println!("sender:   {sender}  from {}", entry.client.as_deref().unwrap_or("-"));
            println!("to:       {}", entry.recipients.join(", "));
            println!("why:      {}", entry.reason);
            println!("\n{}", text.trim_end());
        }
        Response::FilterTest { message } => println!("{message}"),
        Response::SendingHolds { holds } => {
            println!("{:<32} {:<17} WHY", "ACCOUNT", "SINCE");
            for h in &holds {
                println!("{:<32} {:<17} {}", h.account, format_local(h.since), h.reason);
            }
            println!("{} account(s) held", holds.len());
        }
        Response::Tracking { events } => {
            for e in &events {
                println!(
                    "{} {:<15} {:<20} {} -> {} {}",
                    format_local(e.at),
                    e.event,
                    e.queue_id.as_deref().unwrap_or("-"),
                    e.sender.as_deref().unwrap_or("-"),
                    e.recipient.as_deref().unwrap_or("-"),
                    e.detail.as_deref().unwrap_or("")
                );
            }
            println!("{} event(s)", events.len());
        }
    }
    Ok(())
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(0))
        .unwrap_or(0)
}

fn print_status(s: &StatusReport) {
    println!("state:           {}", s.state);
    println!("smtp:            {}", s.smtp_addr.as_deref().unwrap_or("-"));
    if let Some(a) = &s.submissions_addr {
        println!("submissions:     {a} (implicit TLS)");
    }
    if let Some(a) = &s.submission_addr {
        println!("submission:      {a} (STARTTLS, login required)");
    }
    if let Some(a) = &s.metrics_addr {
        println!("metrics:         http://{a}/metrics");
    }
    println!("pop3:            {}", s.pop3_addr.as_deref().unwrap_or("-"));
    if let Some(a) = &s.pop3s_addr {
        println!("pop3s:           {a} (implicit TLS)");
    }
    println!("imap:            {}", s.imap_addr.as_deref().unwrap_or("-"));
    if let Some(a) = &s.imaps_addr {
        println!("imaps:           {a} (implicit TLS)");
    }
    if let Some(up) = s.uptime_secs {
        println!("uptime:          {up}s");
    }
    if s.pending_restart {
        let pages: Vec<&str> = s.pending_pages.iter().map(|p| p.title()).collect();
        println!("pending restart: yes ({})", pages.join(", "));
    } else {
        println!("pending restart: no");
    }
    if let Some(e) = &s.last_error {
        println!("last error:      {e}");
    }
    println!("data directory:  {}", s.data_dir);
    if let Some(b) = &s.backups {
        let next = b.next_at.map(format_local).unwrap_or_else(|| "-".into());
        println!("backups:         daily into {} (keeping {}), next {next}", b.directory, b.keep);
        match (&b.last_error, &b.last_file, b.last_at) {
            (Some(e), _, Some(at)) => println!("last backup:     FAILED at {}: {e}", format_local(at)),
            (None, Some(f), _) => println!("last backup:     {f}"),
            _ => {}
        }
    }
    if let Some(d) = &s.storage {
        let mib = |b: u64| b / (1024 * 1024);
        let low = if d.low { "  LOW: new mail is refused until there is room" } else { "" };
        println!(
            "disk:            {} MiB free of {} MiB, {} MiB kept free{low}",
            mib(d.free_bytes),
            mib(d.total_bytes),
            mib(d.reserve_bytes)
        );
        println!(
            "kept on it:      database {} MiB, logs {} MiB, for {} days",
            mib(d.database_bytes),
            mib(d.log_bytes),
            d.keep_days
        );
    }
    if let Some(f) = &s.filtering {
        println!(
            "filtering today: {} on DNS blocklists, {} early talkers, {} greylisted, {} refused by the filter, \
             {} quarantined, {} over a sending limit",
            f.dns_listed, f.early_talkers, f.greylisted, f.filter_rejected, f.quarantined, f.sending_limited
        );
        println!("quarantine:      {} message(s) held", f.in_quarantine);
        for h in &f.held_accounts {
            println!(
                "held account:    {} since {} ({}): mailroomctl sending unlock {}",
                h.account,
                format_local(h.since),
                h.reason,
                h.account
            );
        }
    }
    println!("version:         mailroomd {} (pid {})", s.version, s.pid);
}
