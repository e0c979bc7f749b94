//! The right-hand side of the main window: one view per tree node.
//!
//! Each view owns its state (selection, sort order, open dialogs) in its own file and
//! draws with `fn ui(&mut self, ui, model) -> Option<Action>`; [`Views`] holds them all
//! and draws the one the tree selects.

pub mod address_book;
pub mod containers;
pub mod dns;
pub mod imap4;
pub mod ims;
pub mod monitor;
pub mod permissions;
pub mod pop3;
pub mod public;
pub mod quarantine;
pub mod queues;
pub mod recipients;
pub mod status;

use crate::actions::Action;
use crate::model::Model;
use crate::nav::Node;

/// Every view's state, kept while another view is shown.
#[derive(Debug, Default)]
pub struct Views {
    /// Internet Mail Service.
    pub ims: ims::ImsView,
    /// Protocols → POP3.
    pub pop3: pop3::Pop3View,
    /// Protocols → IMAP4.
    pub imap4: imap4::Imap4View,
    /// Configuration → DNS Records.
    pub dns: dns::DnsView,
    /// Recipients, with the mailbox dialogs.
    pub recipients: recipients::RecipientsView,
    /// Public Folders, with the folder dialogs.
    pub public: public::PublicFoldersView,
    /// Server → Queues.
    pub queues: queues::QueuesView,
    /// Server → Quarantine.
    pub quarantine: quarantine::QuarantineView,
    /// Server → Service Status.
    pub status: status::StatusView,
    /// Server → Monitor.
    pub monitor: monitor::MonitorView,
    /// The containers' pages.
    pub containers: containers::ContainersView,
}

impl Views {
    /// True while a view's dialog is open (it then takes the keyboard).
    pub fn has_dialog(&self) -> bool {
        self.recipients.has_dialog()
            || self.public.has_dialog()
            || self.quarantine.has_dialog()
            || self.ims.has_dialog()
            || self.queues.has_dialog()
    }

    /// The help page of the view's open dialog, if one is open.
    pub fn help_topic(&self) -> Option<crate::help::Topic> {
        if self.public.has_dialog() {
            return Some(crate::help::Topic::PublicFolders);
        }
        if self.ims.has_dialog() {
            return Some(crate::help::Topic::Tab(crate::nav::Tab::Routing));
        }
        self.recipients.help_topic()
    }

    /// An Edit menu command on the list `node` shows.
    pub fn edit(&mut self, node: Node, edit: crate::actions::Edit, ctx: &egui::Context) {
        use crate::actions::Edit;
        if edit == Edit::Find {
            crate::widgets::request_find(ctx);
            return;
        }
        let list = match node {
            Node::Recipients => &mut self.recipients.requested,
            Node::Queues => &mut self.queues.requested,
            Node::Quarantine => &mut self.quarantine.requested,
            _ => return,
        };
        *list = Some(edit);
    }

    /// Draws the view of `node`.
    pub fn ui(&mut self, node: Node, ui: &mut egui::Ui, model: &Model) -> Option<Action> {
        match node {
            Node::InternetMailService => self.ims.ui(ui, model),
            Node::Pop3 => self.pop3.ui(ui, model),
            Node::Imap4 => self.imap4.ui(ui, model),
            Node::DnsRecords => self.dns.ui(ui, model),
            Node::Recipients => self.recipients.ui(ui, model),
            Node::PublicFolders => self.public.ui(ui, model),
            Node::Queues => self.queues.ui(ui, model),
            Node::Quarantine => self.quarantine.ui(ui, model),
            Node::ServiceStatus => self.status.ui(ui, model),
            Node::Monitor => self.monitor.ui(ui, model),
            Node::Container(c) => self.containers.ui(c, ui, model),
        }
    }
}
