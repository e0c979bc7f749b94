//! Printing the service's answers: one function per kind of answer, each writing it
//! for people, or — with `--json` — as the service sent it (the typed value put back
//! into its [`Response`], so the JSON is the reply's own).

use mailroom_client::transfer::ImportSummary;
use mailroom_client::{AddressTest, CertificateStatus, Mailboxes};
use mailroom_shared::config::{ConfigDraft, Page, RoutingDraft};
use mailroom_shared::ipc::{
    AcmeState, BackupManifest, ContactInfo, DnsRecord, Event, ListInfo, LockoutInfo, MailboxInfo, MonitorMinute,
    QuarantineEntry, QueueDetails, QueueEntry, RecordCheck, Response, SendingHoldInfo, StatusReport, TrackingEvent,
};
use mailroom_shared::time::{format_local, format_utc, local_hm};

/// Where answers go, and in which form.
pub struct Out {
    /// Print the service's replies as JSON (`--json`).
    pub json: bool,
}

impl Out {
    /// Prints `value` as pretty JSON.
    fn json<T: serde::Serialize>(&mut self, value: &T) {
        match serde_json::to_string_pretty(value) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("mailroomctl: {e}"),
        }
    }

    /// Prints `value` as JSON on one line (a stream of events).
    fn json_line<T: serde::Serialize>(&mut self, value: &T) {
        match serde_json::to_string(value) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("mailroomctl: {e}"),
        }
    }
}

/// A request that answers nothing but that it was done.
pub fn done(out: &mut Out) {
    if out.json {
        return out.json(&Response::Done);
    }
    println!("OK");
}

/// The service's state (also the answer to start, stop and restart).
pub fn status(out: &mut Out, s: &StatusReport) {
    if out.json {
        return out.json(s);
    }
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
        println!("pending restart: yes ({})", titles(&s.pending_pages));
    } else {
        println!("pending restart: no");
    }
    if let Some(e) = &s.last_error {
        println!("last error:      {e}");
    }
    println!("data directory:  {}", s.data_dir);
    status_backups(s);
    status_storage(s);
    status_filtering(s);
    println!("version:         mailroomd {} (pid {})", s.version, s.pid);
}

fn status_backups(s: &StatusReport) {
    let Some(b) = &s.backups else { return };
    let next = b.next_at.map(format_local).unwrap_or_else(|| "-".into());
    println!("backups:         daily into {} (keeping {}), next {next}", b.directory, b.keep);
    match (&b.last_error, &b.last_file, b.last_at) {
        (Some(e), _, Some(at)) => println!("last backup:     FAILED at {}: {e}", format_local(at)),
        (None, Some(f), _) => println!("last backup:     {f}"),
        _ => {}
    }
}

fn status_storage(s: &StatusReport) {
    let Some(d) = &s.storage else { return };
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

fn status_filtering(s: &StatusReport) {
    let Some(f) = &s.filtering else { return };
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

/// The pages' titles, comma-separated.
fn titles(pages: &[Page]) -> String {
    pages.iter().map(|p| p.title()).collect::<Vec<_>>().join(", ")
}

/// The last `shown` minutes of traffic, as a table.
pub fn monitor(out: &mut Out, minutes: Vec<MonitorMinute>, shown: usize) {
    if out.json {
        return out.json(&Response::Monitor { minutes });
    }
    let shown = &minutes[minutes.len().saturating_sub(shown.clamp(1, 60))..];
    println!("MINUTE  RECEIVED DELIVERED  RELAYED DEFERRED  BOUNCED  REFUSED   QUEUE  SMTP  POP3  IMAP");
    for m in shown {
        println!(
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
        );
    }
}

/// What a backup holds.
pub fn backup(out: &mut Out, m: BackupManifest) {
    if out.json {
        return out.json(&Response::Backup(m));
    }
    println!(
        "backed up: {} mailboxes, {} messages, {} queued; schema {}, {} bytes, SHA-256 {}",
        m.mailboxes, m.messages, m.queued, m.schema, m.database_bytes, m.sha256
    );
}

/// The whole saved configuration, always as JSON (it is edited as JSON).
pub fn config(out: &mut Out, draft: &ConfigDraft) {
    out.json(draft);
}

/// A saved configuration: its revision, and what waits for a restart.
pub fn config_saved(out: &mut Out, revision: u64, pending_pages: Vec<Page>) {
    if out.json {
        return out.json(&Response::ConfigSaved { revision, pending_pages });
    }
    println!("Saved (revision {revision}).");
    if !pending_pages.is_empty() {
        println!(
            "These changes take effect when the Internet Mail Service is restarted ({}): mailroomctl restart",
            titles(&pending_pages)
        );
    }
}

/// The Routing tab: the reroute switch and the routing table.
pub fn routing(out: &mut Out, routing: &RoutingDraft) {
    if out.json {
        return out.json(routing);
    }
    println!("Reroute incoming SMTP mail: {}", if routing.reroute { "on" } else { "off" });
    println!("{:<40} ROUTE TO", "SENT TO");
    for e in &routing.table {
        println!("{:<40} {}", e.sent_to, e.reroute_to.as_deref().unwrap_or("<inbound>"));
    }
}

/// Every mailbox, list and custom recipient, the catch-alls, and the warnings.
pub fn mailboxes(out: &mut Out, all: Mailboxes) {
    if out.json {
        return out.json(&Response::from(all));
    }
    println!("{:<32} {:<24} {:>8} {:>12}", "ADDRESS", "NAME", "MESSAGES", "BYTES");
    for m in &all.mailboxes {
        mailbox_row(m);
    }
    for l in all.lists {
        let hidden = if l.hide_members { ", members hidden" } else { "" };
        println!(
            "{:<32} {:<24} list: {} member(s), senders: {}{hidden}",
            l.address,
            l.display_name,
            l.members.len(),
            l.senders.name()
        );
    }
    for c in all.contacts {
        println!("{:<32} {:<24} custom recipient → {}", c.address, c.display_name, c.target);
    }
    for (domain, mailbox) in all.catch_all {
        println!("catch-all for {domain}: {mailbox}");
    }
    for w in all.warnings {
        println!("warning: {w}");
    }
}

/// One mailbox of the list, with its aliases, folders and options under it.
fn mailbox_row(m: &MailboxInfo) {
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

/// A mailbox as a change left it.
pub fn mailbox(out: &mut Out, m: MailboxInfo) {
    if out.json {
        return out.json(&Response::Mailbox(Box::new(m)));
    }
    println!("Mailbox {} ({})", m.addresses.join(", "), m.display_name);
}

/// A distribution list as a change left it, with its members.
pub fn list(out: &mut Out, l: ListInfo) {
    if out.json {
        return out.json(&Response::List(l));
    }
    let hidden = if l.hide_members { " (members hidden)" } else { "" };
    println!("list {} ({}): senders {}{hidden}", l.address, l.display_name, l.senders.name());
    for m in &l.members {
        println!("  member {m}");
    }
}

/// A new custom recipient.
pub fn contact(out: &mut Out, c: ContactInfo) {
    if out.json {
        return out.json(&Response::Contact(c));
    }
    println!("custom recipient {} → {}", c.address, c.target);
}

/// The address tester's answer: now, and after a restart when that differs.
pub fn address_test(out: &mut Out, t: AddressTest) {
    if out.json {
        return out.json(&Response::from(t));
    }
    match t.after_restart {
        None => println!("{}", t.explanation),
        Some(after) => {
            println!("Now (running configuration): {}", t.explanation);
            println!("After a restart (saved configuration): {after}");
        }
    }
}

/// The outbound queue.
pub fn queue(out: &mut Out, messages: Vec<QueueEntry>) {
    if out.json {
        return out.json(&Response::Queue { messages });
    }
    println!("{:<20} {:<28} {:>8} {:<12} RECIPIENTS / LAST ERROR", "QUEUE ID", "SENDER", "SIZE", "NEXT TRY");
    for m in &messages {
        let next = m.next_attempt.map(|t| format!("in {}s", (t - now()).max(0))).unwrap_or_else(|| "-".into());
        println!("{:<20} {:<28} {:>8} {next:<12} {}", m.queue_id, sender(&m.sender), m.size, m.recipients.join(", "));
        if let Some(e) = &m.last_error {
            println!("{:<20} {e}", "");
        }
    }
    println!("{} message(s)", messages.len());
}

/// One queued message: envelope, each recipient's state, headers.
pub fn queue_message(out: &mut Out, d: QueueDetails) {
    if out.json {
        return out.json(&Response::QueueMessage(Box::new(d)));
    }
    let e = &d.entry;
    println!(
        "queue id: {}\nsender:   <{}>\nsize:     {} bytes\narrived:  {} s ago",
        e.queue_id,
        e.sender,
        e.size,
        now() - e.received_at
    );
    for r in &d.recipients {
        let next = r.next_attempt.map(|t| format!(", next attempt in {}s", (t - now()).max(0))).unwrap_or_default();
        println!("  {} [{}] {} attempt(s){next}", r.address, r.state, r.attempts);
        if let Some(err) = &r.last_error {
            println!("      last error: {err}");
        }
    }
    println!("\n{}", d.headers.trim_end());
}

/// Message tracking's events.
pub fn tracking(out: &mut Out, events: Vec<TrackingEvent>) {
    if out.json {
        return out.json(&Response::Tracking { events });
    }
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

/// The lock-outs after failed logins.
pub fn lockouts(out: &mut Out, lockouts: Vec<LockoutInfo>) {
    if out.json {
        return out.json(&Response::Lockouts { lockouts });
    }
    println!("{:<40} {:<8} {:>8}  UNTIL", "LOCKED OUT", "KIND", "FAILURES");
    for l in &lockouts {
        let kind = if l.is_address { "address" } else { "login" };
        println!("{:<40} {kind:<8} {:>8}  {}", l.client, l.failures, format_utc(l.until));
    }
    println!("{} lock-out(s)", lockouts.len());
}

/// The certificate the service presents, and its ACME renewal.
pub fn certificate(out: &mut Out, status: CertificateStatus) {
    if out.json {
        return out.json(&Response::from(status));
    }
    let CertificateStatus { certificate, acme } = status;
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
    let Some(a) = acme else { return };
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

/// The DNS records to publish, by domain, each with what DNS says when checked.
pub fn dns_records(out: &mut Out, records: Vec<DnsRecord>) {
    if out.json {
        return out.json(&Response::DnsRecords { records });
    }
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
        println!("No inbound domains: add one to the routing table (mailroomctl routing add DOMAIN --inbound).");
    }
}

/// New DKIM keys: what to do, then the records to publish.
pub fn dkim_rotated(out: &mut Out, records: Vec<DnsRecord>) {
    if !out.json {
        println!("New keys made; mail is signed with them from now on. Publish their records now:");
    }
    dns_records(out, records);
}

/// The quarantine.
pub fn quarantine(out: &mut Out, messages: Vec<QuarantineEntry>) {
    if out.json {
        return out.json(&Response::Quarantine { messages });
    }
    println!("{:>6} {:<25} {:<28} {:>7}  SUBJECT / WHY", "ID", "HELD", "SENDER", "SCORE");
    for m in &messages {
        let score = m.score.map(|s| format!("{s:.2}")).unwrap_or_else(|| "-".into());
        println!("{:>6} {:<25} {:<28} {score:>7}  {}", m.id, format_local(m.held_at), sender(&m.sender), m.subject);
        println!("{:>6} to {}: {}", "", m.recipients.join(", "), m.reason);
    }
    println!("{} message(s) held", messages.len());
}

/// One quarantined message: why it is held, and its text.
pub fn quarantine_message(out: &mut Out, entry: QuarantineEntry, text: String) {
    if out.json {
        return out.json(&Response::QuarantineMessage { entry, text });
    }
    println!("id:       {}  (queue id {})", entry.id, entry.queue_id);
    println!("held:     {}", format_local(entry.held_at));
    println!("sender:   {}  from {}", sender(&entry.sender), entry.client.as_deref().unwrap_or("-"));
    println!("to:       {}", entry.recipients.join(", "));
    println!("why:      {}", entry.reason);
    println!("\n{}", text.trim_end());
}

/// The accounts held for going over a sending limit.
pub fn sending_holds(out: &mut Out, holds: Vec<SendingHoldInfo>) {
    if out.json {
        return out.json(&Response::SendingHolds { holds });
    }
    println!("{:<32} {:<17} WHY", "ACCOUNT", "SINCE");
    for h in &holds {
        println!("{:<32} {:<17} {}", h.account, format_local(h.since), h.reason);
    }
    println!("{} account(s) held", holds.len());
}

/// The content filter's answer.
pub fn filter_test(out: &mut Out, message: String) {
    if out.json {
        return out.json(&Response::FilterTest { message });
    }
    println!("{message}");
}

/// One event, as a line of JSON (`events` prints nothing else).
pub fn event(out: &mut Out, event: &Event) {
    out.json_line(event);
}

/// What an import did.
pub fn imported(out: &mut Out, address: &str, summary: ImportSummary) {
    if out.json {
        return out.json(&serde_json::json!({ "imported": summary.stored, "skipped": summary.skipped }));
    }
    println!("imported {} message(s) into {address}; {} imported before, skipped", summary.stored, summary.skipped);
}

/// What an export did.
pub fn exported(out: &mut Out, address: &str, written: u64) {
    if out.json {
        return out.json(&serde_json::json!({ "exported": written }));
    }
    println!("exported {written} message(s) of {address}");
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
