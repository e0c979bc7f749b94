//! How the commands that change one setting (`set …`, `routing reroute|add|remove`,
//! `certificate acme`) change a configuration draft: pure functions, no I/O. `run.rs`
//! reads the saved draft, applies one of these, and saves the result with the revision
//! it read, so a change made meanwhile elsewhere is reported rather than overwritten.

use mailroom_shared::config::{AcmeChallenge, ConfigDraft, RouteEntryDraft, RouteKey};

use crate::Failure;
use crate::args::{RoutingCmd, Setting};

/// `none` (any case) for "off" or "empty", as the command line writes it.
fn none_to_empty(s: String) -> String {
    if s.eq_ignore_ascii_case("none") { String::new() } else { s }
}

/// `set …`.
pub fn setting(d: &mut ConfigDraft, setting: Setting) {
    match setting {
        Setting::SmtpListen { addr } => d.connections.smtp_listen = addr,
        Setting::Pop3Listen { addr } => d.pop3.listen = addr,
        Setting::SubmissionsListen { addr } => d.connections.submissions_listen = none_to_empty(addr),
        Setting::SubmissionListen { addr } => d.connections.submission_listen = none_to_empty(addr),
        Setting::HttpsListen { addr } => d.connections.https_listen = none_to_empty(addr),
        Setting::Pop3sListen { addr } => d.pop3.pop3s_listen = none_to_empty(addr),
        Setting::ImapListen { addr } => d.imap4.listen = addr,
        Setting::JunkDomains { domains } => {
            d.filtering.junk_domains =
                none_to_empty(domains).split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
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
}

/// `routing reroute|add|remove`.
///
/// # Errors
/// [`Failure::Usage`] for a malformed domain; [`Failure::Refused`] for an entry that is
/// there already (add) or is not (remove).
pub fn routing(d: &mut ConfigDraft, action: RoutingCmd) -> Result<(), Failure> {
    let key = |domain: &str| RouteKey::parse(domain).map_err(|e| Failure::Usage(format!("'{domain}' {e}")));
    match action {
        RoutingCmd::Reroute { state } => d.routing.reroute = state == "on",
        RoutingCmd::Add { domain, reroute_to, .. } => {
            let key = key(&domain)?;
            if d.routing.table.iter().any(|e| RouteKey::parse(&e.sent_to).is_ok_and(|k| k == key)) {
                return Err(Failure::Refused(format!(
                    "the routing table already has an entry for {key}; remove it first"
                )));
            }
            d.routing.table.push(RouteEntryDraft { sent_to: domain, reroute_to });
        }
        RoutingCmd::Remove { domain } => {
            let key = key(&domain)?;
            let before = d.routing.table.len();
            d.routing.table.retain(|e| RouteKey::parse(&e.sent_to).map_or(true, |k| k != key));
            if d.routing.table.len() == before {
                return Err(Failure::Refused(format!("the routing table has no entry for {key}")));
            }
        }
        // Not edits: `run.rs` answers them itself.
        RoutingCmd::List | RoutingCmd::CatchAll { .. } => {}
    }
    Ok(())
}

/// What `certificate acme` asks for; `None`s and an empty `names` keep what is saved.
#[derive(Debug, Default)]
pub struct Acme {
    /// The certificate's names.
    pub names: Vec<String>,
    /// The account's contact address.
    pub email: Option<String>,
    /// The CA's directory URL.
    pub directory: Option<String>,
    /// `tls-alpn-01` or `http-01`.
    pub challenge: Option<String>,
    /// Where to answer the CA's check.
    pub challenge_listen: Option<String>,
    /// Add the set-up names (autoconfig., autodiscover.).
    pub setup_names: Option<bool>,
    /// Stop using the ACME CA.
    pub off: bool,
}

/// `certificate acme`.
pub fn acme(d: &mut ConfigDraft, acme: Acme) {
    let a = &mut d.security.acme;
    a.enabled = !acme.off;
    if !acme.names.is_empty() {
        a.names = acme.names.join(", ");
    }
    if let Some(email) = acme.email {
        a.email = email;
    }
    if let Some(url) = acme.directory {
        a.directory_url = url;
    }
    if let Some(c) = acme.challenge {
        a.challenge = if c == "http-01" { AcmeChallenge::Http01 } else { AcmeChallenge::TlsAlpn01 };
    }
    if let Some(addr) = acme.challenge_listen {
        a.challenge_listen = addr;
    }
    if let Some(on) = acme.setup_names {
        a.setup_names = on;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_turns_a_listener_off_and_an_address_sets_it() {
        let mut d = ConfigDraft::default();
        setting(&mut d, Setting::SubmissionListen { addr: "127.0.0.1:587".into() });
        assert_eq!(d.connections.submission_listen, "127.0.0.1:587");
        setting(&mut d, Setting::SubmissionListen { addr: "NONE".into() });
        assert_eq!(d.connections.submission_listen, "");
        setting(&mut d, Setting::JunkDomains { domains: " a.test, ,b.test".into() });
        assert_eq!(d.filtering.junk_domains, ["a.test", "b.test"]);
    }

    #[test]
    fn a_routing_entry_is_added_once_and_removed_once() {
        let mut d = ConfigDraft::default();
        let add = || RoutingCmd::Add { domain: "corp.test".into(), inbound: true, reroute_to: None };
        routing(&mut d, add()).expect("added");
        assert!(matches!(routing(&mut d, add()), Err(Failure::Refused(_))));
        let remove = || RoutingCmd::Remove { domain: "corp.test".into() };
        routing(&mut d, remove()).expect("removed");
        assert!(matches!(routing(&mut d, remove()), Err(Failure::Refused(_))));
        let bad = RoutingCmd::Add { domain: "corp..test".into(), inbound: true, reroute_to: None };
        assert!(matches!(routing(&mut d, bad), Err(Failure::Usage(_))));
    }

    #[test]
    fn acme_off_keeps_the_rest() {
        let mut d = ConfigDraft::default();
        acme(&mut d, Acme { names: vec!["a.test".into(), "b.test".into()], ..Acme::default() });
        assert!(d.security.acme.enabled);
        assert_eq!(d.security.acme.names, "a.test, b.test");
        acme(&mut d, Acme { off: true, ..Acme::default() });
        assert!(!d.security.acme.enabled);
        assert_eq!(d.security.acme.names, "a.test, b.test");
    }
}
