//! The Internet Mail Service configuration, one struct per property page.
//!
//! Two forms of every page exist:
//!
//! - the **draft** (`GeneralDraft`, …): plain strings, numbers and flags, exactly what
//!   an editor holds while a person types; anything may be in it;
//! - the **validated** page (`General`, …): built only through
//!   [`Config::from_draft`], which checks every field and returns *all* problems with
//!   the field they belong to. Its fields are validated types, and invariants that
//!   span fields (no duplicate routing entries, no silent open relay) are kept by
//!   types whose contents cannot be changed from outside.
//!
//! Both forms serialize to the same JSON shape: the draft is the wire format, and a
//! [`Config`] deserializes by validating it.

mod backup;
mod connections;
mod delivery;
mod diagnostics;
mod filtering;
mod general;
mod imap4;
mod pop3;
mod routing;
mod security;
mod validate;

pub use backup::*;
pub use connections::*;
pub use delivery::*;
pub use diagnostics::*;
pub use filtering::*;
pub use general::*;
pub use imap4::*;
pub use pop3::*;
pub use routing::*;
pub use security::*;
pub use validate::{ConfigError, Problem};

use serde::{Deserialize, Serialize};

/// A property page of the Internet Mail Service, as listed in `pending_restart`
/// reports and in the GUI's tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Page {
    /// Host name, administrator's mailbox, size limit, drain timeout.
    General,
    /// Listener, transfer mode, limits, message delivery, who may connect.
    Connections,
    /// The reroute switch and the routing table.
    Routing,
    /// Who may relay.
    RoutingRestrictions,
    /// Retry schedule and expiry.
    Delivery,
    /// Authentication and TLS.
    Security,
    /// POP3 settings.
    Pop3,
    /// IMAP4 settings.
    Imap4,
    /// DNS lists, greylisting, the content filter, the quarantine, sending limits.
    Filtering,
    /// Logging levels and message tracking.
    Diagnostics,
    /// Scheduled backups.
    Backup,
}

impl Page {
    /// Every page, in tab order.
    pub const ALL: [Page; 11] = [
        Page::General,
        Page::Connections,
        Page::Routing,
        Page::RoutingRestrictions,
        Page::Delivery,
        Page::Security,
        Page::Pop3,
        Page::Imap4,
        Page::Filtering,
        Page::Diagnostics,
        Page::Backup,
    ];

    /// The page's title as shown to people.
    pub fn title(self) -> &'static str {
        match self {
            Page::General => "General",
            Page::Connections => "Connections",
            Page::Routing => "Routing",
            Page::RoutingRestrictions => "Routing Restrictions",
            Page::Delivery => "Delivery",
            Page::Security => "Security",
            Page::Pop3 => "POP3",
            Page::Imap4 => "IMAP4",
            Page::Filtering => "Message Filtering",
            Page::Diagnostics => "Diagnostics Logging",
            Page::Backup => "Backup",
        }
    }
}

/// The whole configuration as an editor holds it: unvalidated.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default, deny_unknown_fields)]
pub struct ConfigDraft {
    /// General page.
    pub general: GeneralDraft,
    /// Connections page.
    pub connections: ConnectionsDraft,
    /// Routing page.
    pub routing: RoutingDraft,
    /// Routing Restrictions dialog.
    pub routing_restrictions: RoutingRestrictionsDraft,
    /// Delivery page.
    pub delivery: DeliveryDraft,
    /// Security page.
    pub security: SecurityDraft,
    /// POP3 settings.
    pub pop3: Pop3Draft,
    /// IMAP4 settings.
    pub imap4: Imap4Draft,
    /// Message Filtering page.
    pub filtering: FilteringDraft,
    /// Diagnostics Logging page.
    pub diagnostics: DiagnosticsDraft,
    /// Backup page.
    pub backup: BackupDraft,
}

/// A complete, valid configuration. See the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ConfigDraft", into = "ConfigDraft")]
pub struct Config {
    /// General page.
    pub general: General,
    /// Connections page.
    pub connections: Connections,
    /// Routing page.
    pub routing: Routing,
    /// Routing Restrictions dialog.
    pub routing_restrictions: RoutingRestrictions,
    /// Delivery page.
    pub delivery: Delivery,
    /// Security page.
    pub security: Security,
    /// POP3 settings.
    pub pop3: Pop3,
    /// IMAP4 settings.
    pub imap4: Imap4,
    /// Message Filtering page.
    pub filtering: Filtering,
    /// Diagnostics Logging page.
    pub diagnostics: Diagnostics,
    /// Backup page.
    pub backup: Backup,
}

/// Every problem found in a draft, in page order. Never empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}
impl std::error::Error for ConfigErrors {}

impl Config {
    /// The certificate to obtain from an ACME CA, if any: its names, with the set-up
    /// names (`autoconfig.` and `autodiscover.` of each inbound domain) when they are
    /// asked for and HTTPS is on.
    pub fn acme(&self) -> Option<Acme> {
        let mut acme = self.security.acme.clone()?;
        if acme.setup_names && self.connections.https_listen.is_some() {
            for domain in self.routing.table.inbound_domains() {
                for prefix in ["autoconfig", "autodiscover"] {
                    if let Ok(name) = crate::address::Domain::parse(&format!("{prefix}.{domain}"))
                        && !acme.names.contains(&name)
                    {
                        acme.names.push(name);
                    }
                }
            }
        }
        Some(acme)
    }

    /// Validates a draft.
    ///
    /// # Errors
    /// Every problem found, each naming its field (`routing.table[1].sent_to`).
    pub fn from_draft(draft: &ConfigDraft) -> Result<Config, ConfigErrors> {
        let mut v = validate::Validator::default();
        let general = General::validate(&draft.general, &mut v);
        let connections = Connections::validate(&draft.connections, &mut v);
        let routing = Routing::validate(&draft.routing, &mut v);
        let routing_restrictions = RoutingRestrictions::validate(&draft.routing_restrictions, &mut v);
        let delivery = Delivery::validate(&draft.delivery, &mut v);
        let security = Security::validate(&draft.security, general.as_ref().map(|g| &g.host_name), &mut v);
        let pop3 = Pop3::validate(&draft.pop3, &mut v);
        let imap4 = Imap4::validate(&draft.imap4, &mut v);
        let filtering = Filtering::validate(&draft.filtering, &mut v);
        let diagnostics = Diagnostics::validate(&draft.diagnostics, &mut v);
        let backup = Backup::validate(&draft.backup, &mut v);
        if let (Some(c), Some(p), Some(i), Some(d)) = (&connections, &pop3, &imap4, &diagnostics) {
            distinct_listeners(c, p, i, d, &mut v);
        }
        match (
            general,
            connections,
            routing,
            routing_restrictions,
            delivery,
            security,
            pop3,
            imap4,
            filtering,
            diagnostics,
            backup,
        ) {
            (
                Some(general),
                Some(connections),
                Some(routing),
                Some(routing_restrictions),
                Some(delivery),
                Some(security),
                Some(pop3),
                Some(imap4),
                Some(filtering),
                Some(diagnostics),
                Some(backup),
            ) if v.errors.is_empty() => Ok(Config {
                general,
                connections,
                routing,
                routing_restrictions,
                delivery,
                security,
                pop3,
                imap4,
                filtering,
                diagnostics,
                backup,
            }),
            _ => Err(ConfigErrors(v.errors)),
        }
    }

    /// The draft form, for editing.
    pub fn to_draft(&self) -> ConfigDraft {
        ConfigDraft {
            general: self.general.to_draft(),
            connections: self.connections.to_draft(),
            routing: self.routing.to_draft(),
            routing_restrictions: self.routing_restrictions.to_draft(),
            delivery: self.delivery.to_draft(),
            security: self.security.to_draft(),
            pop3: self.pop3.to_draft(),
            imap4: self.imap4.to_draft(),
            filtering: self.filtering.to_draft(),
            diagnostics: self.diagnostics.to_draft(),
            backup: self.backup.to_draft(),
        }
    }

    /// The pages on which `self` and `other` differ, in tab order.
    pub fn changed_pages(&self, other: &Config) -> Vec<Page> {
        Page::ALL
            .into_iter()
            .filter(|page| match page {
                Page::General => self.general != other.general,
                Page::Connections => self.connections != other.connections,
                Page::Routing => self.routing != other.routing,
                Page::RoutingRestrictions => self.routing_restrictions != other.routing_restrictions,
                Page::Delivery => self.delivery != other.delivery,
                Page::Security => self.security != other.security,
                Page::Pop3 => self.pop3 != other.pop3,
                Page::Imap4 => self.imap4 != other.imap4,
                Page::Filtering => self.filtering != other.filtering,
                Page::Diagnostics => self.diagnostics != other.diagnostics,
                Page::Backup => self.backup != other.backup,
            })
            .collect()
    }

    /// Mailbox addresses whose domain would not be delivered locally under this
    /// configuration while rerouting is on: their mail would be relayed away. The GUI
    /// and `mailroomctl` warn about these (MODEL.md, Routing tab semantics).
    pub fn mailboxes_not_inbound<'a>(
        &self,
        addresses: impl IntoIterator<Item = &'a crate::address::EmailAddress>,
    ) -> Vec<&'a crate::address::EmailAddress> {
        if !self.routing.reroute {
            return Vec::new();
        }
        addresses.into_iter().filter(|a| !self.routing.table.is_inbound(a.domain())).collect()
    }
}

/// Two listeners on one address would fail at start ("address in use"); say so while
/// editing instead. Port 0 (the system chooses) never collides.
fn distinct_listeners(c: &Connections, p: &Pop3, i: &Imap4, d: &Diagnostics, v: &mut validate::Validator) {
    let listeners = [
        ("connections.smtp_listen", Some(c.smtp_listen)),
        ("connections.submissions_listen", c.submissions_listen),
        ("connections.submission_listen", c.submission_listen),
        ("connections.https_listen", c.https_listen),
        ("pop3.listen", Some(p.listen)),
        ("pop3.pop3s_listen", p.pop3s_listen),
        ("imap4.listen", Some(i.listen)),
        ("imap4.imaps_listen", i.imaps_listen),
        ("diagnostics.metrics_listen", d.metrics_listen),
    ];
    for (i, (field, addr)) in listeners.iter().enumerate() {
        let Some(addr) = addr.filter(|a| a.port() != 0) else { continue };
        let clash = listeners[..i].iter().find(|(_, other)| {
            other.is_some_and(|o| {
                o.port() == addr.port()
                    && (o.ip() == addr.ip() || o.ip().is_unspecified() || addr.ip().is_unspecified())
            })
        });
        if let Some((other, _)) = clash {
            v.push(*field, Problem::Duplicate { other: (*other).to_owned() });
        }
    }
}

impl Default for Config {
    /// The configuration of a fresh install: rerouting off, an empty routing table,
    /// relaying only for authenticated clients, listeners on loopback.
    fn default() -> Config {
        #[expect(clippy::expect_used, reason = "the default draft is checked by a test; it cannot fail")]
        Config::from_draft(&ConfigDraft::default()).expect("the default draft is valid")
    }
}

impl TryFrom<ConfigDraft> for Config {
    type Error = ConfigErrors;
    fn try_from(d: ConfigDraft) -> Result<Config, ConfigErrors> {
        Config::from_draft(&d)
    }
}
impl From<Config> for ConfigDraft {
    fn from(c: Config) -> ConfigDraft {
        c.to_draft()
    }
}

#[cfg(test)]
mod tests;
