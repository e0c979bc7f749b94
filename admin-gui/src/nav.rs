//! Where the administrator is: the tree's nodes and the properties window's tabs.
//!
//! A leaf module, so that [`crate::actions`] can name a place ("select this node",
//! "open Properties on that tab") without importing the code that draws it.

/// The tree's nodes; the selected one decides the view on the right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// A node that holds others (Organization, Site, Configuration…): its summary
    /// page lists them.
    Container(Container),
}

/// The tree's nodes that hold others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Container {
    /// The root.
    Organization,
    /// The one site.
    Site,
    /// Configuration: connections, protocols, DNS records.
    Configuration,
    /// Configuration → Connections.
    Connections,
    /// Configuration → Protocols.
    Protocols,
    /// Server: the queue, the quarantine, status and charts.
    Server,
}

impl Container {
    /// Its label in the tree.
    pub fn title(self) -> &'static str {
        match self {
            Container::Organization => "Organization",
            Container::Site => "Site",
            Container::Configuration => "Configuration",
            Container::Connections => "Connections",
            Container::Protocols => "Protocols",
            Container::Server => "Server",
        }
    }
}

/// The whole tree, in the order drawn: each node with its depth.
pub const TREE: [(usize, Node); 16] = [
    (0, Node::Container(Container::Organization)),
    (1, Node::Container(Container::Site)),
    (2, Node::Container(Container::Configuration)),
    (3, Node::Container(Container::Connections)),
    (4, Node::InternetMailService),
    (3, Node::Container(Container::Protocols)),
    (4, Node::Pop3),
    (4, Node::Imap4),
    (3, Node::DnsRecords),
    (2, Node::Recipients),
    (2, Node::PublicFolders),
    (2, Node::Container(Container::Server)),
    (3, Node::Queues),
    (3, Node::Quarantine),
    (3, Node::ServiceStatus),
    (3, Node::Monitor),
];

/// The nodes shown with the containers in `collapsed` closed, in order, with their
/// depths.
pub fn visible(collapsed: &std::collections::BTreeSet<Container>) -> Vec<(usize, Node)> {
    let mut out = Vec::with_capacity(TREE.len());
    // While inside a closed container: its depth.
    let mut hidden_below: Option<usize> = None;
    for (depth, node) in TREE {
        if hidden_below.is_some_and(|d| depth > d) {
            continue;
        }
        hidden_below = None;
        out.push((depth, node));
        if let Node::Container(c) = node
            && collapsed.contains(&c)
        {
            hidden_below = Some(depth);
        }
    }
    out
}

/// The node holding `node` (none for the root).
pub fn parent(node: Node) -> Option<Node> {
    let at = TREE.iter().position(|(_, n)| *n == node)?;
    let depth = TREE[at].0;
    TREE[..at].iter().rev().find(|(d, _)| *d < depth).map(|(_, n)| *n)
}

/// What a tree key does: the node selected after it, and a container to open
/// (`Some(true)`) or close (`Some(false)`). Up and Down move through the nodes shown,
/// Home and End to the first and last; Right opens a closed container, or goes into
/// an open one; Left closes an open container, or goes to the node holding this one.
pub fn tree_key(
    key: egui::Key,
    selected: Node,
    collapsed: &std::collections::BTreeSet<Container>,
) -> Option<(Node, Option<(Container, bool)>)> {
    let shown = visible(collapsed);
    let at = shown.iter().position(|(_, n)| *n == selected).unwrap_or(0);
    let open = |n: Node| matches!(n, Node::Container(c) if !collapsed.contains(&c));
    Some(match key {
        egui::Key::ArrowDown => (shown.get(at + 1).map_or(selected, |(_, n)| *n), None),
        egui::Key::ArrowUp => (shown[at.saturating_sub(1)].1, None),
        egui::Key::Home => (shown[0].1, None),
        egui::Key::End => (shown[shown.len() - 1].1, None),
        egui::Key::ArrowRight => match selected {
            Node::Container(c) if collapsed.contains(&c) => (selected, Some((c, true))),
            Node::Container(_) => (shown.get(at + 1).map_or(selected, |(_, n)| *n), None),
            _ => return None,
        },
        egui::Key::ArrowLeft => match selected {
            Node::Container(c) if open(selected) => (selected, Some((c, false))),
            _ => (parent(selected).unwrap_or(selected), None),
        },
        _ => return None,
    })
}

/// Type-ahead: the next node shown after `selected` whose label starts with `letter`
/// (around to the top).
pub fn type_ahead(letter: char, selected: Node, collapsed: &std::collections::BTreeSet<Container>) -> Option<Node> {
    let shown = visible(collapsed);
    let at = shown.iter().position(|(_, n)| *n == selected).unwrap_or(0);
    let starts = |n: &Node| n.label().chars().next().is_some_and(|c| c.eq_ignore_ascii_case(&letter));
    shown.iter().cycle().skip(at + 1).take(shown.len()).map(|(_, n)| *n).find(starts)
}

impl Node {
    /// Its label in the tree.
    pub fn label(self) -> &'static str {
        match self {
            Node::InternetMailService => "Internet Mail Service",
            Node::Pop3 => "POP3",
            Node::Imap4 => "IMAP4",
            Node::DnsRecords => "DNS Records",
            Node::Recipients => "Recipients",
            Node::PublicFolders => "Public Folders",
            Node::Queues => "Queues",
            Node::Quarantine => "Quarantine",
            Node::Monitor => "Monitor",
            Node::ServiceStatus => "Service Status",
            Node::Container(c) => c.title(),
        }
    }

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
            Node::InternetMailService | Node::Recipients | Node::PublicFolders | Node::Container(_) => Tab::General,
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
    fn the_keys_walk_the_tree_as_a_windows_tree_view() {
        use egui::Key;
        let mut closed = std::collections::BTreeSet::new();
        let server = Node::Container(Container::Server);
        assert_eq!(tree_key(Key::ArrowDown, Node::Recipients, &closed), Some((Node::PublicFolders, None)));
        assert_eq!(tree_key(Key::ArrowUp, Node::Pop3, &closed), Some((Node::Container(Container::Protocols), None)));
        assert_eq!(
            tree_key(Key::Home, Node::Monitor, &closed).map(|k| k.0),
            Some(Node::Container(Container::Organization))
        );
        assert_eq!(tree_key(Key::End, Node::Pop3, &closed).map(|k| k.0), Some(Node::Monitor));
        // Left closes an open container, then goes up; Right opens, then goes in.
        assert_eq!(tree_key(Key::ArrowLeft, server, &closed), Some((server, Some((Container::Server, false)))));
        closed.insert(Container::Server);
        assert_eq!(tree_key(Key::ArrowDown, Node::PublicFolders, &closed), Some((server, None)));
        assert_eq!(tree_key(Key::ArrowDown, server, &closed), Some((server, None)), "nothing below");
        assert_eq!(tree_key(Key::ArrowRight, server, &closed), Some((server, Some((Container::Server, true)))));
        closed.clear();
        assert_eq!(tree_key(Key::ArrowRight, server, &closed), Some((Node::Queues, None)));
        assert_eq!(tree_key(Key::ArrowLeft, Node::Quarantine, &closed), Some((server, None)));
        assert_eq!(visible(&closed).len(), TREE.len());
        // Type-ahead: the next node with that letter.
        assert_eq!(type_ahead('q', Node::Recipients, &closed), Some(Node::Queues));
        assert_eq!(type_ahead('q', Node::Queues, &closed), Some(Node::Quarantine));
        assert_eq!(type_ahead('Q', Node::Quarantine, &closed), Some(Node::Queues), "around to the top");
    }

    #[test]
    fn each_field_is_on_its_tab() {
        assert_eq!(Tab::holding("connections.smtp_listen"), Tab::Connections);
        assert_eq!(Tab::holding("imap4.imaps_listen"), Tab::Imap4);
        assert_eq!(Tab::holding("routing.table[2].sent_to"), Tab::Routing);
        assert_eq!(Tab::holding("general.host_name"), Tab::General);
    }
}
