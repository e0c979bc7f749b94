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
    /// Public Folders: the organisation's shared folder tree.
    PublicFolders,
    /// Server → Queues.
    Queues,
    /// Server → Quarantine: messages held by the content filter or DMARC.
    Quarantine,
    /// Server → Monitor: the last hour of traffic as charts.
    Monitor,
    /// Server → Service Status.
    ServiceStatus,
}

impl Node {
    /// The Properties tab that opens for this node (Enter, double-click, the toolbar's
    /// Properties): the page about what the node shows.
    pub fn properties_tab(self) -> Tab {
        match self {
            Node::Pop3 => Tab::Pop3,
            Node::Imap4 => Tab::Imap4,
            Node::Queues => Tab::Queues,
            Node::Quarantine => Tab::Filtering,
            Node::DnsRecords => Tab::Security,
            Node::ServiceStatus | Node::Monitor => Tab::Diagnostics,
            Node::InternetMailService | Node::Recipients | Node::PublicFolders => Tab::General,
        }
    }
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
    /// Scheduled backups.
    Backup,
}

impl Tab {
    /// Every tab, in the order shown.
    pub const ALL: [Tab; 11] = [
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
        Tab::Backup,
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
            Tab::Backup => "Backup",
        }
    }

    /// The tab on which a configuration field (`connections.smtp_listen`,
    /// `pop3.listen`…, as validation names fields) is edited.
    pub fn holding(field: &str) -> Tab {
        match field.split(['.', '[']).next().unwrap_or_default() {
            "connections" => Tab::Connections,
            "routing" | "routing_restrictions" => Tab::Routing,
            "delivery" => Tab::Delivery,
            "security" => Tab::Security,
            "pop3" => Tab::Pop3,
            "imap4" => Tab::Imap4,
            "filtering" => Tab::Filtering,
            "diagnostics" => Tab::Diagnostics,
            "backup" => Tab::Backup,
            _ => Tab::General,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_field_is_on_its_tab() {
        assert_eq!(Tab::holding("connections.smtp_listen"), Tab::Connections);
        assert_eq!(Tab::holding("imap4.imaps_listen"), Tab::Imap4);
        assert_eq!(Tab::holding("routing.table[2].sent_to"), Tab::Routing);
        assert_eq!(Tab::holding("general.host_name"), Tab::General);
    }
}
