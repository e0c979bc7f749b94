//! The pages of the tree's containers (Organization, Site, Configuration,
//! Connections, Protocols, Server), as Exchange Administrator showed a container's
//! contents on the right: each node it holds, with a line of what it is now (the
//! service's state, how many recipients, messages waiting or held). A double-click or
//! Enter on a row opens it.

use crate::actions::Action;
use crate::model::Model;
use crate::nav::{Container, Node, TREE};
use crate::widgets::{count_of, state_words};

/// The containers' page (it keeps no state of its own).
#[derive(Debug, Default)]
pub struct ContainersView;

/// The nodes `container` holds directly.
fn children(container: Container) -> Vec<Node> {
    let Some(at) = TREE.iter().position(|(_, n)| *n == Node::Container(container)) else { return Vec::new() };
    let depth = TREE[at].0;
    TREE[at + 1..].iter().take_while(|(d, _)| *d > depth).filter(|(d, _)| *d == depth + 1).map(|(_, n)| *n).collect()
}

/// A line about what `node` holds now.
fn summary(node: Node, model: &Model) -> String {
    let config = model.config.as_ref().map(|(c, _)| c);
    match node {
        Node::InternetMailService => model.status.as_ref().map_or_else(
            || "SMTP in and out: routing, delivery, security".to_owned(),
            |s| format!("{}; SMTP on {}", state_words(s.state), s.smtp_addr.as_deref().unwrap_or("—")),
        ),
        Node::Pop3 => match config {
            Some(c) if c.pop3.enabled => format!("On, {}", c.pop3.listen),
            Some(_) => "Off".to_owned(),
            None => String::new(),
        },
        Node::Imap4 => match config {
            Some(c) if c.imap4.enabled => format!("On, {}", c.imap4.listen),
            Some(_) => "Off".to_owned(),
            None => String::new(),
        },
        Node::DnsRecords => "What each inbound domain publishes, checked in DNS".to_owned(),
        Node::Recipients => format!(
            "{}, {}, {}",
            count_of(model.mailboxes.len(), "mailbox", "mailboxes"),
            count_of(model.lists.len(), "distribution list", "distribution lists"),
            count_of(model.contacts.len(), "custom recipient", "custom recipients")
        ),
        Node::PublicFolders => "The organisation's shared folders".to_owned(),
        Node::Queues => format!("{} waiting to be delivered", count_of(model.queue.len(), "message", "messages")),
        Node::Quarantine => format!("{} held", count_of(model.quarantine.len(), "message", "messages")),
        Node::ServiceStatus => model
            .status
            .as_ref()
            .map_or_else(|| "Not connected".to_owned(), |s| format!("Internet Mail Service: {}", state_words(s.state))),
        Node::Monitor => "The last hour of traffic, as charts".to_owned(),
        Node::Container(c) => count_of(children(c).len(), "item", "items"),
    }
}

impl ContainersView {
    /// The page of `container`: a row per node it holds.
    pub fn ui(&mut self, container: Container, ui: &mut egui::Ui, model: &Model) -> Option<Action> {
        ui.heading(container.title());
        ui.weak("Double-click an item, or select it in the tree, to work with it.");
        ui.add_space(4.0);
        let mut action = None;
        egui::Grid::new(("container", container.title())).num_columns(2).striped(true).spacing([24.0, 6.0]).show(
            ui,
            |ui| {
                for node in children(container) {
                    let r = ui.selectable_label(false, node.label());
                    if r.double_clicked() || r.clicked() {
                        action = Some(Action::Select(node));
                    }
                    ui.label(summary(node, model));
                    ui.end_row();
                }
            },
        );
        action
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_container_lists_what_it_holds_directly() {
        assert_eq!(children(Container::Protocols), [Node::Pop3, Node::Imap4]);
        assert_eq!(
            children(Container::Site),
            [
                Node::Container(Container::Configuration),
                Node::Recipients,
                Node::PublicFolders,
                Node::Container(Container::Server)
            ]
        );
        assert_eq!(children(Container::Server).len(), 4);
    }
}
