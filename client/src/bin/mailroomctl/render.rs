//! Printing the service's answers: one function per kind of answer, each writing it
//! for people, or — with `--json` — as the service sent it (the typed value put back
//! into its [`Response`], so the JSON is the reply's own).

use std::io::{self, Write};

use mailroom_client::transfer::ImportSummary;
use mailroom_client::{AddressTest, CertificateStatus, Mailboxes};
use mailroom_shared::config::{ConfigDraft, Page, RoutingDraft};
use mailroom_shared::ipc::{
    AcmeState, BackupManifest, ContactInfo, DnsRecord, Event, ListInfo, LockoutInfo, MailboxInfo, MonitorMinute,
    PermissionInfo, PublicFolderInfo, QuarantineEntry, QueueDetails, QueueEntry, RecordCheck, Response,
    SendingHoldInfo, StatusReport, TrackingEvent,
};
use mailroom_shared::rights::Rights;
use mailroom_shared::time::{format_local, format_utc, local_hm};

/// Where answers go, and in which form: standard output, as text or JSON.
///
/// Writing fails when standard output does (a closed pipe: `mailroomctl status | head
/// -1`); every function here hands that error up, so that the program can stop at
/// once — quietly, for a pipe whose reader has gone.
pub struct Out {
    /// Print the service's replies as JSON (`--json`).
    json: bool,
    stdout: io::Stdout,
}

impl Out {
    /// Standard output; `json` for `--json`.
    pub fn new(json: bool) -> Out {
        Out { json, stdout: io::stdout() }
    }

    /// Prints `value` as pretty JSON.
    fn json<T: serde::Serialize>(&mut self, value: &T) -> io::Result<()> {
        match serde_json::to_string_pretty(value) {
            Ok(s) => writeln!(self, "{s}"),
            Err(e) => {
                eprintln!("mailroomctl: {e}");
                Ok(())
            }
        }
    }

    /// Prints `value` as JSON on one line (a stream of events).
    fn json_line<T: serde::Serialize>(&mut self, value: &T) -> io::Result<()> {
        match serde_json::to_string(value) {
            Ok(s) => writeln!(self, "{s}"),
            Err(e) => {
                eprintln!("mailroomctl: {e}");
                Ok(())
            }
        }
    }
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stdout.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stdout.flush()
    }
}

/// A request that answers nothing but that it was done.
pub fn done(out: &mut Out) -> io::Result<()> {
    if out.json {
        return out.json(&Response::Done);
    }
    writeln!(out, "OK")
}

/// The service's state (also the answer to start, stop and restart).
pub fn status(out: &mut Out, s: &StatusReport) -> io::Result<()> {
    if out.json {
        return out.json(s);
    }
    writeln!(out, "state:           {}", s.state)?;
    writeln!(out, "smtp:            {}", s.smtp_addr.as_deref().unwrap_or("-"))?;
    if let Some(a) = &s.submissions_addr {
        writeln!(out, "submissions:     {a} (implicit TLS)")?;
    }
    if let Some(a) = &s.submission_addr {
        writeln!(out, "submission:      {a} (STARTTLS, login required)")?;
    }
    if let Some(a) = &s.metrics_addr {
        writeln!(out, "metrics:         http://{a}/metrics")?;
    }
    writeln!(out, "pop3:            {}", s.pop3_addr.as_deref().unwrap_or("-"))?;
    if let Some(a) = &s.pop3s_addr {
        writeln!(out, "pop3s:           {a} (implicit TLS)")?;
    }
    writeln!(out, "imap:            {}", s.imap_addr.as_deref().unwrap_or("-"))?;
    if let Some(a) = &s.imaps_addr {
        writeln!(out, "imaps:           {a} (implicit TLS)")?;
    }
    if let Some(up) = s.uptime_secs {
        writeln!(out, "uptime:          {up}s")?;
    }
    if s.pending_restart {
        writeln!(out, "pending restart: yes ({})", titles(&s.pending_pages))?;
    } else {
        writeln!(out, "pending restart: no")?;
    }
    if let Some(e) = &s.last_error {
        writeln!(out, "last error:      {e}")?;
    }
    writeln!(out, "data directory:  {}", s.data_dir)?;
    status_backups(out, s)?;
    status_storage(out, s)?;
    status_filtering(out, s)?;
    writeln!(out, "version:         mailroomd {} (pid {})", s.version, s.pid)
}

fn status_backups(out: &mut Out, s: &StatusReport) -> io::Result<()> {
    let Some(b) = &s.backups else { return Ok(()) };
    let next = b.next_at.map(format_local).unwrap_or_else(|| "-".into());
    writeln!(out, "backups:         daily into {} (keeping {}), next {next}", b.directory, b.keep)?;
    match (&b.last_error, &b.last_file, b.last_at) {
        (Some(e), _, Some(at)) => writeln!(out, "last backup:     FAILED at {}: {e}", format_local(at))?,
        (None, Some(f), _) => writeln!(out, "last backup:     {f}")?,
        _ => {}
    }
    Ok(())
}

fn status_storage(out: &mut Out, s: &StatusReport) -> io::Result<()> {
    let Some(d) = &s.storage else { return Ok(()) };
    let mib = |b: u64| b / (1024 * 1024);
    let low = if d.low { "  LOW: new mail is refused until there is room" } else { "" };
    writeln!(
        out,
        "disk:            {} MiB free of {} MiB, {} MiB kept free{low}",
        mib(d.free_bytes),
        mib(d.total_bytes),
        mib(d.reserve_bytes)
    )?;
    writeln!(
        out,
        "kept on it:      database {} MiB, logs {} MiB, for {} days",
        mib(d.database_bytes),
        mib(d.log_bytes),
        d.keep_days
    )
}

fn status_filtering(out: &mut Out, s: &StatusReport) -> io::Result<()> {
    let Some(f) = &s.filtering else { return Ok(()) };
    writeln!(
        out,
        "filtering today: {} on DNS blocklists, {} early talkers, {} greylisted, {} refused by the filter, \
         {} quarantined, {} over a sending limit",
        f.dns_listed, f.early_talkers, f.greylisted, f.filter_rejected, f.quarantined, f.sending_limited
    )?;
    writeln!(out, "quarantine:      {} message(s) held", f.in_quarantine)?;
    for h in &f.held_accounts {
        writeln!(
            out,
            "held account:    {} since {} ({}): mailroomctl sending unlock {}",
            h.account,
            format_local(h.since),
            h.reason,
            h.account
        )?;
    }
    Ok(())
}

/// The pages' titles, comma-separated.
fn titles(pages: &[Page]) -> String {
    pages.iter().map(|p| p.title()).collect::<Vec<_>>().join(", ")
}

/// The last `shown` minutes of traffic, as a table.
pub fn monitor(out: &mut Out, minutes: Vec<MonitorMinute>, shown: usize) -> io::Result<()> {
    if out.json {
        return out.json(&Response::Monitor { minutes });
    }
    let shown = &minutes[minutes.len().saturating_sub(shown.clamp(1, 60))..];
    writeln!(out, "MINUTE  RECEIVED DELIVERED  RELAYED DEFERRED  BOUNCED  REFUSED   QUEUE  SMTP  POP3  IMAP")?;
    for m in shown {
        writeln!(
            out,
            "{:<6} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>7} {:>5} {:>5} {:>5}",
            local_hm(m.at),
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
        )?;
    }
    Ok(())
}

/// What a backup holds.
pub fn backup(out: &mut Out, m: BackupManifest) -> io::Result<()> {
    if out.json {
        return out.json(&Response::Backup(m));
    }
    writeln!(
        out,
        "backed up: {} mailboxes, {} messages, {} queued; schema {}, {} bytes, SHA-256 {}",
        m.mailboxes, m.messages, m.queued, m.schema, m.database_bytes, m.sha256
    )
}

/// The whole saved configuration, always as JSON (it is edited as JSON).
pub fn config(out: &mut Out, draft: &ConfigDraft) -> io::Result<()> {
    out.json(draft)
}

/// A saved configuration: its revision, and what waits for a restart.
pub fn config_saved(out: &mut Out, revision: u64, pending_pages: Vec<Page>) -> io::Result<()> {
    if out.json {
        return out.json(&Response::ConfigSaved { revision, pending_pages });
    }
    writeln!(out, "Saved (revision {revision}).")?;
    if !pending_pages.is_empty() {
        writeln!(
            out,
            "These changes take effect when the Internet Mail Service is restarted ({}): mailroomctl restart",
            titles(&pending_pages)
        )?;
    }
    Ok(())
}

/// The Routing tab: the reroute switch and the routing table.
pub fn routing(out: &mut Out, routing: &RoutingDraft) -> io::Result<()> {
    if out.json {
        return out.json(routing);
    }
    writeln!(out, "Reroute incoming SMTP mail: {}", if routing.reroute { "on" } else { "off" })?;
    writeln!(out, "{:<40} ROUTE TO", "SENT TO")?;
    for e in &routing.table {
        writeln!(out, "{:<40} {}", e.sent_to, e.reroute_to.as_deref().unwrap_or("<inbound>"))?;
    }
    Ok(())
}

/// Every mailbox, list and custom recipient, the catch-alls, and the warnings.
pub fn mailboxes(out: &mut Out, all: Mailboxes) -> io::Result<()> {
    if out.json {
        return out.json(&Response::from(all));
    }
    writeln!(out, "{:<32} {:<24} {:>8} {:>12}", "ADDRESS", "NAME", "MESSAGES", "BYTES")?;
    for m in &all.mailboxes {
        mailbox_row(out, m)?;
    }
    for l in all.lists {
        let hidden = if l.hide_members { ", members hidden" } else { "" };
        writeln!(
            out,
            "{:<32} {:<24} list: {} member(s), senders: {}{hidden}",
            l.address,
            l.display_name,
            l.members.len(),
            l.senders.name()
        )?;
    }
    for c in all.contacts {
        writeln!(out, "{:<32} {:<24} custom recipient → {}", c.address, c.display_name, c.target)?;
    }
    for (domain, mailbox) in all.catch_all {
        writeln!(out, "catch-all for {domain}: {mailbox}")?;
    }
    for w in all.warnings {
        writeln!(out, "warning: {w}")?;
    }
    Ok(())
}

/// One mailbox of the list, with its aliases, folders and options under it.
fn mailbox_row(out: &mut Out, m: &MailboxInfo) -> io::Result<()> {
    let first = m.addresses.first().cloned().unwrap_or_default();
    writeln!(out, "{first:<32} {:<24} {:>8} {:>12}", m.display_name, m.message_count, m.total_bytes)?;
    if m.shared {
        writeln!(out, "  shared mailbox (no password; see mailroomctl mailbox permissions {first})")?;
    }
    for alias in m.addresses.iter().skip(1) {
        writeln!(out, "  alias {alias}")?;
    }
    for f in m.folders.iter().filter(|f| f.messages > 0 && f.name != "INBOX") {
        writeln!(out, "  folder {:<23} {:>24} {:>12}", f.name, f.messages, f.bytes)?;
    }
    if let Some(f) = &m.forwarding {
        let keep = if f.keep { ", keeping a copy" } else { "" };
        writeln!(out, "  forwards to {}{keep}", f.to)?;
    }
    if let Some(r) = &m.auto_reply {
        writeln!(out, "  automatic reply: {}", r.subject)?;
    }
    let l = m.limits;
    if l != Default::default() {
        let kb = |v: Option<u64>| v.map_or_else(|| "default".to_owned(), |k| format!("{k} KB"));
        writeln!(out, "  limits: warn {}, send {}, receive {}", kb(l.warn_kb), kb(l.send_kb), kb(l.receive_kb))?;
    }
    Ok(())
}

/// The rights given on a mailbox: who, where, what (the role's name when the rights
/// are one).
pub fn permissions(out: &mut Out, address: &str, permissions: Vec<PermissionInfo>) -> io::Result<()> {
    if out.json {
        return out.json(&Response::Permissions { permissions });
    }
    if permissions.is_empty() {
        return writeln!(out, "Nobody has been given rights on {address}.");
    }
    writeln!(out, "{:<32} {:<22} {:<18} RIGHTS", "GRANTEE", "FOLDER", "ROLE")?;
    for p in permissions {
        let role = p.rights.role().map_or("custom", |r| r.label());
        let mut extra = Vec::new();
        if p.rights.has(Rights::SEND_AS) {
            extra.push("Send As");
        }
        if p.rights.has(Rights::SEND_ON_BEHALF) {
            extra.push("Send On Behalf Of");
        }
        let role = if p.rights.imap().is_empty() { "-" } else { role };
        let folder = p.collection.as_deref().or(p.folder.as_deref()).unwrap_or("(all)");
        let extra = if extra.is_empty() { String::new() } else { format!(" + {}", extra.join(", ")) };
        let role = if p.collection.is_some() && p.rights.imap().is_empty() { "none" } else { role };
        writeln!(out, "{:<32} {folder:<22} {role:<18} {}{extra}", p.grantee, p.rights.imap_letters())?;
    }
    Ok(())
}

/// The public folders: name, address, messages, size, limit.
pub fn public_folders(out: &mut Out, folders: Vec<PublicFolderInfo>) -> io::Result<()> {
    if out.json {
        return out.json(&Response::PublicFolders { folders });
    }
    if folders.is_empty() {
        return writeln!(out, "There are no public folders.");
    }
    writeln!(out, "{:<28} {:<28} {:>8} {:>10} {:>10}", "FOLDER", "ADDRESS", "MESSAGES", "SIZE", "LIMIT")?;
    for f in folders {
        let limit = f.quota_kb.map_or_else(|| "-".to_owned(), |k| format!("{k} KB"));
        writeln!(
            out,
            "{:<28} {:<28} {:>8} {:>10} {:>10}",
            f.name,
            f.address.as_deref().unwrap_or("-"),
            f.messages,
            format!("{} KB", f.bytes.div_ceil(1024)),
            limit
        )?;
    }
    Ok(())
}

/// A mailbox as a change left it.
pub fn mailbox(out: &mut Out, m: MailboxInfo) -> io::Result<()> {
    if out.json {
        return out.json(&Response::Mailbox(Box::new(m)));
    }
    writeln!(out, "Mailbox {} ({})", m.addresses.join(", "), m.display_name)
}

/// A distribution list as a change left it, with its members.
pub fn list(out: &mut Out, l: ListInfo) -> io::Result<()> {
    if out.json {
        return out.json(&Response::List(l));
    }
    let hidden = if l.hide_members { " (members hidden)" } else { "" };
    writeln!(out, "list {} ({}): senders {}{hidden}", l.address, l.display_name, l.senders.name())?;
    for m in &l.members {
        writeln!(out, "  member {m}")?;
    }
    Ok(())
}

/// A new custom recipient.
pub fn contact(out: &mut Out, c: ContactInfo) -> io::Result<()> {
    if out.json {
        return out.json(&Response::Contact(c));
    }
    writeln!(out, "custom recipient {} → {}", c.address, c.target)
}

/// The address tester's answer: now, and after a restart when that differs.
pub fn address_test(out: &mut Out, t: AddressTest) -> io::Result<()> {
    if out.json {
        return out.json(&Response::from(t));
    }
    match t.after_restart {
        None => writeln!(out, "{}", t.explanation)?,
        Some(after) => {
            writeln!(out, "Now (running configuration): {}", t.explanation)?;
            writeln!(out, "After a restart (saved configuration): {after}")?;
        }
    }
    Ok(())
}

/// The outbound queue.
pub fn queue(out: &mut Out, messages: Vec<QueueEntry>) -> io::Result<()> {
    if out.json {
        return out.json(&Response::Queue { messages });
    }
    writeln!(out, "{:<20} {:<28} {:>8} {:<12} RECIPIENTS / LAST ERROR", "QUEUE ID", "SENDER", "SIZE", "NEXT TRY")?;
    for m in &messages {
        let next = m.next_attempt.map(|t| format!("in {}s", (t - now()).max(0))).unwrap_or_else(|| "-".into());
        writeln!(
            out,
            "{:<20} {:<28} {:>8} {next:<12} {}",
            m.queue_id,
            sender(&m.sender),
            m.size,
            m.recipients.join(", ")
        )?;
        if let Some(e) = &m.last_error {
            writeln!(out, "{:<20} {e}", "")?;
        }
    }
    writeln!(out, "{} message(s)", messages.len())
}

/// One queued message: envelope, each recipient's state, headers.
pub fn queue_message(out: &mut Out, d: QueueDetails) -> io::Result<()> {
    if out.json {
        return out.json(&Response::QueueMessage(Box::new(d)));
    }
    let e = &d.entry;
    writeln!(
        out,
        "queue id: {}\nsender:   <{}>\nsize:     {} bytes\narrived:  {} s ago",
        e.queue_id,
        e.sender,
        e.size,
        now() - e.received_at
    )?;
    for r in &d.recipients {
        let next = r.next_attempt.map(|t| format!(", next attempt in {}s", (t - now()).max(0))).unwrap_or_default();
        writeln!(out, "  {} [{}] {} attempt(s){next}", r.address, r.state, r.attempts)?;
        if let Some(err) = &r.last_error {
            writeln!(out, "      last error: {err}")?;
        }
    }
    writeln!(out, "\n{}", d.headers.trim_end())
}

/// Message tracking's events.
pub fn tracking(out: &mut Out, events: Vec<TrackingEvent>) -> io::Result<()> {
    if out.json {
        return out.json(&Response::Tracking { events });
    }
    for e in &events {
        writeln!(
            out,
            "{} {:<15} {:<20} {} -> {} {}",
            format_local(e.at),
            e.event,
            e.queue_id.as_deref().unwrap_or("-"),
            e.sender.as_deref().unwrap_or("-"),
            e.recipient.as_deref().unwrap_or("-"),
            e.detail.as_deref().unwrap_or("")
        )?;
    }
    writeln!(out, "{} event(s)", events.len())
}

/// The lock-outs after failed logins.
pub fn lockouts(out: &mut Out, lockouts: Vec<LockoutInfo>) -> io::Result<()> {
    if out.json {
        return out.json(&Response::Lockouts { lockouts });
    }
    writeln!(out, "{:<40} {:<48} {:>8}  UNTIL", "LOCKED OUT", "WHAT", "FAILURES")?;
    for l in &lockouts {
        let what = lockout_words(l);
        writeln!(out, "{:<40} {what:<48} {:>8}  {}", l.client, l.failures, format_utc(l.until))?;
    }
    writeln!(out, "{} lock-out(s)", lockouts.len())
}

/// What a lock-out closes, in words.
fn lockout_words(l: &LockoutInfo) -> String {
    match (&l.account, l.is_address, l.slowed) {
        (Some(account), _, _) => format!("address, for {account}"),
        (None, true, _) => "address, for every account".to_owned(),
        (None, false, true) => "account under attack: unknown addresses slowed".to_owned(),
        (None, false, false) => "login".to_owned(),
    }
}

/// The certificate the service presents, and its ACME renewal.
pub fn certificate(out: &mut Out, status: CertificateStatus) -> io::Result<()> {
    if out.json {
        return out.json(&Response::from(status));
    }
    let CertificateStatus { certificate, acme } = status;
    match certificate {
        None => writeln!(out, "No certificate: the Internet Mail Service is not running, or runs without TLS.")?,
        Some(c) => {
            let kind = match (c.self_signed, &acme) {
                (true, _) => "self-signed, made by Mailroom",
                (false, Some(_)) => "from the ACME CA",
                (false, None) => "from the Security page",
            };
            writeln!(out, "certificate: {} ({kind})", c.path)?;
            writeln!(out, "subject:     {}", c.subject)?;
            writeln!(out, "issuer:      {}", c.issuer)?;
            writeln!(out, "names:       {}", c.names.join(", "))?;
            writeln!(out, "valid:       {} to {}", format_utc(c.not_before), format_utc(c.not_after))?;
            writeln!(out, "SHA-256:     {}", c.sha256_fingerprint)?;
        }
    }
    let Some(a) = acme else { return Ok(()) };
    let state = match a.state {
        AcmeState::Obtaining => "obtaining a certificate",
        AcmeState::Valid => "certificate in use",
        AcmeState::Failed => "the last attempt failed",
    };
    writeln!(out, "ACME CA:     {} for {}", a.directory_url, a.names.join(", "))?;
    writeln!(out, "ACME state:  {state}")?;
    if let Some(t) = a.last_attempt {
        writeln!(out, "last try:    {}", format_utc(t))?;
    }
    if let Some(e) = &a.last_error {
        writeln!(out, "error:       {e}")?;
    }
    if let Some(t) = a.next_attempt {
        let what = if a.state == AcmeState::Failed { "next try" } else { "renewal" };
        writeln!(out, "{:<13}{}", format!("{what}:"), format_utc(t))?;
    }
    Ok(())
}

/// The DNS records to publish, by domain, each with what DNS says when checked.
pub fn dns_records(out: &mut Out, records: Vec<DnsRecord>) -> io::Result<()> {
    if out.json {
        return out.json(&Response::DnsRecords { records });
    }
    let mut domain = "";
    for r in &records {
        if r.domain != domain {
            domain = &r.domain;
            writeln!(out, "{domain}:")?;
        }
        let check = match &r.check {
            None => String::new(),
            Some(RecordCheck::Published) => "  [published]".into(),
            Some(RecordCheck::Missing) => "  [MISSING]".into(),
            Some(RecordCheck::Different { found }) => format!("  [DIFFERENT: found {}]", found.join(" | ")),
            Some(RecordCheck::Failed { error }) => format!("  [lookup failed: {error}]"),
        };
        writeln!(out, "  {:<40} {:<4} {}{check}\n      {}", r.name, r.kind, r.value, r.purpose)?;
    }
    if records.is_empty() {
        writeln!(out, "No inbound domains: add one to the routing table (mailroomctl routing add DOMAIN --inbound).")?;
    }
    Ok(())
}

/// New DKIM keys: what to do, then the records to publish.
pub fn dkim_rotated(out: &mut Out, records: Vec<DnsRecord>) -> io::Result<()> {
    if !out.json {
        writeln!(out, "New keys made; mail is signed with them from now on. Publish their records now:")?;
    }
    dns_records(out, records)
}

/// The quarantine.
pub fn quarantine(out: &mut Out, messages: Vec<QuarantineEntry>) -> io::Result<()> {
    if out.json {
        return out.json(&Response::Quarantine { messages });
    }
    writeln!(out, "{:>6} {:<25} {:<28} {:>7}  SUBJECT / WHY", "ID", "HELD", "SENDER", "SCORE")?;
    for m in &messages {
        let score = m.score.map(|s| format!("{s:.2}")).unwrap_or_else(|| "-".into());
        writeln!(
            out,
            "{:>6} {:<25} {:<28} {score:>7}  {}",
            m.id,
            format_local(m.held_at),
            sender(&m.sender),
            m.subject
        )?;
        writeln!(out, "{:>6} to {}: {}", "", m.recipients.join(", "), m.reason)?;
    }
    writeln!(out, "{} message(s) held", messages.len())
}

/// One quarantined message: why it is held, and its text.
pub fn quarantine_message(out: &mut Out, entry: QuarantineEntry, text: String) -> io::Result<()> {
    if out.json {
        return out.json(&Response::QuarantineMessage { entry, text });
    }
    writeln!(out, "id:       {}  (queue id {})", entry.id, entry.queue_id)?;
    writeln!(out, "held:     {}", format_local(entry.held_at))?;
    writeln!(out, "sender:   {}  from {}", sender(&entry.sender), entry.client.as_deref().unwrap_or("-"))?;
    writeln!(out, "to:       {}", entry.recipients.join(", "))?;
    writeln!(out, "why:      {}", entry.reason)?;
    writeln!(out, "\n{}", text.trim_end())
}

/// The accounts held for going over a sending limit.
pub fn sending_holds(out: &mut Out, holds: Vec<SendingHoldInfo>) -> io::Result<()> {
    if out.json {
        return out.json(&Response::SendingHolds { holds });
    }
    writeln!(out, "{:<32} {:<17} WHY", "ACCOUNT", "SINCE")?;
    for h in &holds {
        writeln!(out, "{:<32} {:<17} {}", h.account, format_local(h.since), h.reason)?;
    }
    writeln!(out, "{} account(s) held", holds.len())
}

/// The content filter's answer.
pub fn filter_test(out: &mut Out, message: String) -> io::Result<()> {
    if out.json {
        return out.json(&Response::FilterTest { message });
    }
    writeln!(out, "{message}")
}

/// One event, as a line of JSON (`events` prints nothing else).
pub fn event(out: &mut Out, event: &Event) -> io::Result<()> {
    out.json_line(event)
}

/// What an import did.
pub fn imported(out: &mut Out, address: &str, summary: ImportSummary) -> io::Result<()> {
    if out.json {
        return out.json(&serde_json::json!({ "imported": summary.stored, "skipped": summary.skipped }));
    }
    writeln!(out, "imported {} message(s) into {address}; {} imported before, skipped", summary.stored, summary.skipped)
}

/// What a calendar or contacts import did (`said`: what, into where).
pub fn objects_imported(out: &mut Out, said: &str, stored: u64, unchanged: u64) -> io::Result<()> {
    if out.json {
        return out.json(&serde_json::json!({ "imported": stored, "unchanged": unchanged }));
    }
    writeln!(out, "imported {stored} {said}; {unchanged} there already, the same")
}

/// What a calendar or contacts export did.
pub fn objects_exported(out: &mut Out, said: &str, written: u64) -> io::Result<()> {
    if out.json {
        return out.json(&serde_json::json!({ "exported": written }));
    }
    writeln!(out, "exported {written} {said}")
}

/// What an export did.
pub fn exported(out: &mut Out, address: &str, written: u64) -> io::Result<()> {
    if out.json {
        return out.json(&serde_json::json!({ "exported": written }));
    }
    writeln!(out, "exported {written} message(s) of {address}")
}

/// An envelope sender as shown: `<>` for the null sender.
fn sender(s: &str) -> &str {
    if s.is_empty() { "<>" } else { s }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(0))
        .unwrap_or(0)
}
