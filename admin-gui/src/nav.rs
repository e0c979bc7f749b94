//! Where the administrator is: the tree's nodes and the properties window's tabs.
//!
//! A leaf module, so that [`crate::actions`] can name a place ("select this node",
//! "open Properties on that tab") without importing the code that draws it.

/// The tree's nodes; the selected one decides the view on the right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    /// Configuration → Connections → Internet Mail Service.
    InternetMailService,
    /// Protocols → POP3.
    Pop3,
    /// Protocols → IMAP4.
    Imap4,
    /// Configuration → DNS Records: what the inbound domains publish, checked.
    DnsRecords,
    /// Recipients.
    Recipients,
    /// Server → Queues.
    Queues,
    /// Server → Quarantine: messages held by the content filter or DMARC.
    Quarantine,
    /// Server → Service Status.
    ServiceStatus,
}

/// The Internet Mail Service Properties tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Host name, administrator, size limit, drain timeout.
    General,
    /// Listeners, transfer mode, smart host, who may connect, limits.
    Connections,
    /// Reroute switch, routing table, routing restrictions.
    Routing,
    /// Retry schedule and expiry.
    Delivery,
    /// Clear-text authentication and TLS.
    Security,
    /// POP3 settings.
    Pop3,
    /// IMAP4 settings.
    Imap4,
    /// The queue, read-only.
    Queues,
    /// DNS lists, greylisting, the content filter, the quarantine, sending limits.
    Filtering,
    /// Logging levels and message tracking.
    Diagnostics,
}

impl Tab {
    /// Every tab, in the order shown.
    pub const ALL: [Tab; 10] = [
        Tab::General,
        Tab::Connections,
        Tab::Routing,
        Tab::Delivery,
        Tab::Security,
        Tab::Pop3,
        Tab::Imap4,
        Tab::Queues,
        Tab::Filtering,
        Tab::Diagnostics,
    ];

    /// The tab's title.
    pub fn title(self) -> &'static str {
        match self {
            Tab::General => "General",
            Tab::Connections => "Connections",
            Tab::Routing => "Routing",
            Tab::Delivery => "Delivery",
            Tab::Security => "Security",
            Tab::Pop3 => "POP3",
            Tab::Imap4 => "IMAP4",
            Tab::Queues => "Queues",
            Tab::Filtering => "Message Filtering",
            Tab::Diagnostics => "Diagnostics Logging",
        }
    }
}
