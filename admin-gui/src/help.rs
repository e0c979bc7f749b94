//! Help in plain words, built in and offline: a page for each property tab, each node
//! of the tree, each recipient dialog's tab and each window of the Tools, and a
//! contents page with the founding fix as its example. The pages are text files in
//! `help/`, compiled in; [`Topic`] names them, and F1 opens the one in front.

use crate::nav::{Node, Tab};

/// A help page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// What the program is, the founding fix, the keys.
    Contents,
    /// A Properties tab.
    Tab(Tab),
    /// Recipients.
    Recipients,
    /// Public Folders.
    PublicFolders,
    /// Server → Quarantine.
    Quarantine,
    /// Configuration → DNS Records.
    DnsRecords,
    /// Server → Service Status.
    ServiceStatus,
    /// Server → Monitor.
    Monitor,
    /// Mailbox Properties → General (and New Mailbox).
    MailboxGeneral,
    /// Mailbox Properties → Delivery Options.
    MailboxDelivery,
    /// Mailbox Properties → Limits.
    MailboxLimits,
    /// Mailbox Properties → Automatic Replies.
    MailboxReplies,
    /// Mailbox Properties → Permissions.
    MailboxPermissions,
    /// New Distribution List and its Properties.
    DistributionLists,
    /// New Custom Recipient and its Properties.
    CustomRecipients,
    /// Recipients → Import Mail.
    ImportMail,
    /// Recipients → Client Setup.
    ClientSetup,
    /// File → Connect to Server.
    ConnectToServer,
    /// Tools → Track Message.
    MessageTracking,
    /// Tools → Test Address.
    TestAddress,
}

impl Topic {
    /// Every page, in the order Contents lists them.
    pub const ALL: [Topic; 30] = [
        Topic::Contents,
        Topic::Tab(Tab::General),
        Topic::Tab(Tab::Connections),
        Topic::Tab(Tab::Routing),
        Topic::Tab(Tab::Delivery),
        Topic::Tab(Tab::Security),
        Topic::Tab(Tab::Pop3),
        Topic::Tab(Tab::Imap4),
        Topic::Tab(Tab::Queues),
        Topic::Tab(Tab::Filtering),
        Topic::Tab(Tab::Diagnostics),
        Topic::Tab(Tab::Backup),
        Topic::Recipients,
        Topic::MailboxGeneral,
        Topic::MailboxDelivery,
        Topic::MailboxLimits,
        Topic::MailboxReplies,
        Topic::MailboxPermissions,
        Topic::DistributionLists,
        Topic::CustomRecipients,
        Topic::ImportMail,
        Topic::ClientSetup,
        Topic::PublicFolders,
        Topic::Quarantine,
        Topic::DnsRecords,
        Topic::ServiceStatus,
        Topic::Monitor,
        Topic::ConnectToServer,
        Topic::MessageTracking,
        Topic::TestAddress,
    ];

    /// The page about what a tree node shows.
    pub fn of_node(node: Node) -> Topic {
        match node {
            Node::InternetMailService => Topic::Tab(Tab::Routing),
            Node::Pop3 => Topic::Tab(Tab::Pop3),
            Node::Imap4 => Topic::Tab(Tab::Imap4),
            Node::Queues => Topic::Tab(Tab::Queues),
            Node::DnsRecords => Topic::DnsRecords,
            Node::Recipients => Topic::Recipients,
            Node::PublicFolders => Topic::PublicFolders,
            Node::Quarantine => Topic::Quarantine,
            Node::ServiceStatus => Topic::ServiceStatus,
            Node::Monitor => Topic::Monitor,
            Node::Container(_) => Topic::Contents,
        }
    }

    /// Its title.
    pub fn title(self) -> &'static str {
        match self {
            Topic::Contents => "Contents",
            Topic::Tab(tab) => tab.title(),
            Topic::Recipients => "Recipients",
            Topic::PublicFolders => "Public Folders",
            Topic::Quarantine => "Quarantine",
            Topic::DnsRecords => "DNS Records",
            Topic::ServiceStatus => "Service Status",
            Topic::Monitor => "Monitor",
            Topic::MailboxGeneral => "Mailbox: General",
            Topic::MailboxDelivery => "Mailbox: Delivery Options",
            Topic::MailboxLimits => "Mailbox: Limits",
            Topic::MailboxReplies => "Mailbox: Automatic Replies",
            Topic::MailboxPermissions => "Mailbox: Permissions",
            Topic::DistributionLists => "Distribution Lists",
            Topic::CustomRecipients => "Custom Recipients",
            Topic::ImportMail => "Import Mail",
            Topic::ClientSetup => "Client Setup",
            Topic::ConnectToServer => "Connect to Server",
            Topic::MessageTracking => "Message Tracking",
            Topic::TestAddress => "Test Address",
        }
    }

    /// Its text: paragraphs, `# ` headings and `- ` list items.
    pub fn text(self) -> &'static str {
        match self {
            Topic::Contents => include_str!("../help/contents.md"),
            Topic::Tab(Tab::General) => include_str!("../help/general.md"),
            Topic::Tab(Tab::Connections) => include_str!("../help/connections.md"),
            Topic::Tab(Tab::Routing) => include_str!("../help/routing.md"),
            Topic::Tab(Tab::Delivery) => include_str!("../help/delivery.md"),
            Topic::Tab(Tab::Security) => include_str!("../help/security.md"),
            Topic::Tab(Tab::Pop3) => include_str!("../help/pop3.md"),
            Topic::Tab(Tab::Imap4) => include_str!("../help/imap4.md"),
            Topic::Tab(Tab::Queues) => include_str!("../help/queues.md"),
            Topic::Tab(Tab::Filtering) => include_str!("../help/filtering.md"),
            Topic::Tab(Tab::Diagnostics) => include_str!("../help/diagnostics.md"),
            Topic::Tab(Tab::Backup) => include_str!("../help/backup.md"),
            Topic::Recipients => include_str!("../help/recipients.md"),
            Topic::PublicFolders => include_str!("../help/public-folders.md"),
            Topic::Quarantine => include_str!("../help/quarantine.md"),
            Topic::DnsRecords => include_str!("../help/dns-records.md"),
            Topic::ServiceStatus => include_str!("../help/service-status.md"),
            Topic::Monitor => include_str!("../help/monitor.md"),
            Topic::MailboxGeneral => include_str!("../help/mailbox-general.md"),
            Topic::MailboxDelivery => include_str!("../help/mailbox-delivery.md"),
            Topic::MailboxLimits => include_str!("../help/mailbox-limits.md"),
            Topic::MailboxReplies => include_str!("../help/mailbox-replies.md"),
            Topic::MailboxPermissions => include_str!("../help/mailbox-permissions.md"),
            Topic::DistributionLists => include_str!("../help/distribution-lists.md"),
            Topic::CustomRecipients => include_str!("../help/custom-recipients.md"),
            Topic::ImportMail => include_str!("../help/import-mail.md"),
            Topic::ClientSetup => include_str!("../help/client-setup.md"),
            Topic::ConnectToServer => include_str!("../help/connect.md"),
            Topic::MessageTracking => include_str!("../help/tracking.md"),
            Topic::TestAddress => include_str!("../help/test-address.md"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tab_and_node_has_a_page_with_text() {
        for tab in Tab::ALL {
            assert!(Topic::ALL.contains(&Topic::Tab(tab)), "{tab:?} has no page");
        }
        for topic in Topic::ALL {
            let text = topic.text();
            assert!(text.starts_with("# ") && text.len() > 200, "{topic:?}: {text}");
        }
        assert!(Topic::Tab(Tab::Routing).text().contains("Reroute incoming SMTP mail"));
        // The pages are drawn in egui's own font, which has no arrows: a "→" was a box.
        for topic in Topic::ALL {
            let odd: Vec<char> = topic.text().chars().filter(|c| !c.is_ascii() && !"…—".contains(*c)).collect();
            assert!(odd.is_empty(), "{topic:?} has characters the font may lack: {odd:?}");
        }
        let titles: std::collections::HashSet<&str> = Topic::ALL.iter().map(|t| t.title()).collect();
        assert_eq!(titles.len(), Topic::ALL.len(), "each page has its own title");
    }
}
