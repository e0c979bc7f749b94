//! `mailroomctl`'s command line: every command, subcommand and flag, as clap
//! definitions and nothing else. What each one does is in `run.rs`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

// The whole command line. (Plain comments on these types: clap takes doc comments
// as help text.)
#[derive(Debug, Parser)]
#[command(name = "mailroomctl", version, about = "Control a running Mailroom service (mailroomd)")]
pub struct Cli {
    /// Control socket of the service. Default: $MAILROOM_SOCKET, else the system
    /// service's /run/mailroom/admin.sock while it exists, else the per-user socket.
    #[arg(long, global = true, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Data directory of the service, used to find its default socket.
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Administer the service on another computer, through `ssh [USER@]HOST
    /// mailroomctl bridge` (your SSH key is the login; --socket then names the socket
    /// there). The ssh program is $MAILROOM_SSH, else `ssh`.
    #[arg(long, global = true, value_name = "[USER@]HOST")]
    pub ssh: Option<String>,
    /// The SSH port, when not 22 (with --ssh).
    #[arg(long, global = true, value_name = "PORT", requires = "ssh")]
    pub ssh_port: Option<u16>,
    /// The command run there (with --ssh). Default: `mailroomctl bridge`, given
    /// --socket or --data-dir when they are.
    #[arg(long, global = true, value_name = "COMMAND", requires = "ssh")]
    pub ssh_command: Option<String>,
    /// Print the service's reply as JSON.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
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
    /// Folders: the public folders, shared by the whole organisation (take effect
    /// immediately).
    Folder {
        #[command(subcommand)]
        action: FolderCmd,
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
    /// A person's calendars: move events and to-dos in from an .ics file (the same UID
    /// again replaces what is there) or out to one.
    Calendar {
        #[command(subcommand)]
        action: ObjectsCmd,
    },
    /// A person's address books: move cards in from a .vcf file or out to one.
    Contacts {
        #[command(subcommand)]
        action: ObjectsCmd,
    },
    /// The address book (the Global Address List calendar and contacts programs read):
    /// hide a recipient from it, or show it again (mail still reaches it).
    AddressBook {
        #[command(subcommand)]
        action: AddressBookCmd,
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

// `quarantine …`.
#[derive(Debug, Subcommand)]
pub enum QuarantineCmd {
    /// The held messages, newest first.
    List,
    /// One held message: why, and its text.
    Show { id: i64 },
    /// Deliver a held message to its recipients after all.
    Release { id: i64 },
    /// Delete a held message.
    Delete { id: i64 },
}

// `sending …`.
#[derive(Debug, Subcommand)]
pub enum SendingCmd {
    /// The accounts held, and why.
    List,
    /// Let a held account send again (change its password first if it was stolen).
    Unlock { account: String },
}

// `filter …`.
#[derive(Debug, Subcommand)]
pub enum FilterCmd {
    /// Ask rspamd whether it is there (the saved address, or URL).
    Test { url: Option<String> },
}

// `dkim …`.
#[derive(Debug, Subcommand)]
pub enum DkimCmd {
    /// Make new keys for a domain; they sign from now on (publish their records), and
    /// the old ones stay published until retired.
    Rotate { domain: String },
    /// Stop publishing an old key (once mail signed with it has been delivered).
    Retire { domain: String, selector: String },
}

// `queue …`.
#[derive(Debug, Subcommand)]
pub enum QueueCmd {
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

// `set …`: one setting of the configuration each.
#[derive(Debug, Subcommand)]
pub enum Setting {
    /// SMTP listen address, IP:port (default 127.0.0.1:2525).
    SmtpListen { addr: String },
    /// POP3 listen address, IP:port (default 127.0.0.1:1100).
    Pop3Listen { addr: String },
    /// SMTP over implicit TLS (submissions, usually port 465), IP:port; `none` for off.
    SubmissionsListen { addr: String },
    /// Message submission for mail programs (usually port 587: STARTTLS, then a login
    /// before MAIL), IP:port; `none` for off.
    SubmissionListen { addr: String },
    /// HTTPS for mail programs' automatic set-up (autoconfig, Autodiscover, Apple
    /// profiles; usually port 443), IP:port; `none` for off.
    HttpsListen { addr: String },
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

// `list …`: distribution lists.
#[derive(Debug, Subcommand)]
pub enum ListCmd {
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

// `calendar …` and `contacts …`.
#[derive(Debug, Subcommand)]
pub enum ObjectsCmd {
    /// Read FILE (.ics, or .vcf for contacts) on this machine into the mailbox.
    Import {
        /// Any address of the mailbox.
        address: String,
        /// The file.
        file: PathBuf,
        /// Which calendar or address book (made if missing; default: calendar for
        /// calendars, contacts for address books).
        #[arg(long = "into", value_name = "NAME")]
        name: Option<String>,
    },
    /// Write one calendar or address book of the mailbox to FILE (a new file) here.
    Export {
        /// Any address of the mailbox.
        address: String,
        /// The file.
        file: PathBuf,
        /// Which calendar or address book (default: calendar, or contacts).
        #[arg(long = "from", value_name = "NAME")]
        name: Option<String>,
    },
}

// `address-book …`.
#[derive(Debug, Subcommand)]
pub enum AddressBookCmd {
    /// Hide a mailbox, list or custom recipient (any of its addresses).
    Hide { address: String },
    /// Show it again.
    Show { address: String },
}

// `contact …`: custom recipients.
#[derive(Debug, Subcommand)]
pub enum ContactCmd {
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
    /// Change a custom recipient: its address here, its outside address or its name.
    /// Lists that name it follow a new address.
    Set {
        /// Its local address now.
        address: String,
        /// A new local address.
        #[arg(long = "address", value_name = "ADDRESS")]
        new_address: Option<String>,
        /// A new outside address.
        #[arg(long)]
        target: Option<String>,
        /// A new display name.
        #[arg(long)]
        name: Option<String>,
    },
    /// Delete a custom recipient.
    Remove { address: String },
}

// `certificate …`.
#[derive(Debug, Subcommand)]
pub enum CertificateCmd {
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
        /// Add the names mail programs set themselves up from (autoconfig. and
        /// autodiscover. of each inbound domain) while HTTPS is on: on or off.
        #[arg(long, value_parser = ["on", "off"])]
        setup_names: Option<String>,
        /// Stop using the ACME CA.
        #[arg(long, conflicts_with_all = ["names", "email", "directory", "challenge", "challenge_listen", "setup_names"])]
        off: bool,
    },
}

// `routing …`.
#[derive(Debug, Subcommand)]
pub enum RoutingCmd {
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

// `folder …`.
#[derive(Debug, Subcommand)]
pub enum FolderCmd {
    /// The public folders: under "Shared Folders" in every mail program.
    Public {
        #[command(subcommand)]
        action: PublicCmd,
    },
}

// `folder public …`.
#[derive(Debug, Subcommand)]
pub enum PublicCmd {
    /// List the public folders.
    List,
    /// Make a public folder (anyone may read it until its permissions say otherwise).
    Add {
        /// Its name, levels separated by `/` (e.g. Archive/Sales).
        name: String,
        /// An e-mail address: mail to it is filed in the folder.
        #[arg(long)]
        address: Option<String>,
    },
    /// Change a public folder's address or size limit.
    Set {
        /// Its name.
        name: String,
        /// Its e-mail address, or `none`.
        #[arg(long)]
        address: Option<String>,
        /// Its size limit in KB, or `none`.
        #[arg(long, value_name = "KB|none")]
        limit: Option<String>,
    },
    /// Delete a public folder, its messages and the folders under it.
    Remove {
        /// Its name.
        name: String,
    },
    /// Show who may do what in a public folder, or give someone rights there: a role
    /// (owner, editor, author, contributor, reviewer…), rights letters, or `none`.
    Permissions {
        /// Its name.
        name: String,
        /// Who: a mailbox's or list's address, or `anyone`.
        grantee: Option<String>,
        /// A role, rights letters, or `none`.
        #[arg(requires = "grantee")]
        rights: Option<String>,
    },
}

// `mailbox …`.
#[derive(Debug, Subcommand)]
pub enum MailboxCmd {
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
    /// Create a shared mailbox (info@, sales@): no password; give people rights on it
    /// with `mailbox permissions`.
    Share {
        /// Primary address.
        address: String,
        /// Further addresses.
        #[arg(long = "alias", value_name = "ADDRESS")]
        aliases: Vec<String>,
        /// Display name.
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Show the rights given on a mailbox, or give someone rights: a role (owner,
    /// publishing-editor, editor, publishing-author, author, contributor, reviewer),
    /// IMAP rights letters (lrswipkxtea), `none`, and Send As / Send On Behalf Of.
    Permissions {
        /// Any address of the mailbox.
        address: String,
        /// Who: a mailbox's or list's address, or `anyone`.
        grantee: Option<String>,
        /// A role, rights letters, or `none`.
        #[arg(requires = "grantee")]
        rights: Option<String>,
        /// Only this folder of the mailbox (e.g. INBOX).
        #[arg(long, requires = "rights", conflicts_with_all = ["calendar", "address_book"])]
        folder: Option<String>,
        /// Only this calendar of the mailbox (e.g. calendar): reviewer reads it,
        /// author adds to it, editor changes it too.
        #[arg(long, requires = "rights", conflicts_with = "address_book")]
        calendar: Option<String>,
        /// Only this address book of the mailbox (e.g. contacts).
        #[arg(long, requires = "rights")]
        address_book: Option<String>,
        /// With Send As (From: the mailbox).
        #[arg(long, requires = "rights")]
        send_as: bool,
        /// With Send On Behalf Of (From: the mailbox, Sender: the person).
        #[arg(long, requires = "rights")]
        send_on_behalf: bool,
    },
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

// `config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Print the saved configuration as JSON.
    Show,
    /// Validate and save a configuration from a JSON file (`-` for standard input).
    Load { file: PathBuf },
}
