//! The secondary windows: Connect to Server (File), Message Tracking and Test Address
//! (Tools), About and the help pages (Help), Back Up Now (File), and
//! Queued Message Details (from Queues), Quarantined Message (from Quarantine), Import
//! Mail and Client Setup (from Recipients).
//!
//! Each window owns its state (open or not, what is typed) in its own file and draws
//! with `fn show(&mut self, ctx, model) -> Option<Action>`; [`Windows`] holds them all.

pub mod about;
pub mod backup;
pub mod connect;
pub mod help;
pub mod import;
pub mod quarantined;
pub mod queue_details;
pub mod setup;
pub mod tester;
pub mod tracking;

use crate::actions::{Action, Window};
use crate::help::Topic;
use crate::model::Model;

/// Every secondary window's state.
#[derive(Debug, Default)]
pub struct Windows {
    /// Tools → Track Message.
    pub tracking: tracking::TrackingWindow,
    /// Tools → Test Address.
    pub tester: tester::TesterWindow,
    /// Help → About.
    pub about: about::AboutWindow,
    /// Help → Contents, and F1.
    pub help: help::HelpWindow,
    /// File → Connect to Server.
    pub connect: connect::ConnectWindow,
    /// Queues → Details.
    pub queue_details: queue_details::QueueDetailsWindow,
    /// Quarantine → Details.
    pub quarantined: quarantined::QuarantinedWindow,
    /// Recipients → Import Mail.
    pub import: import::ImportWindow,
    /// Recipients → Client Setup.
    pub setup: setup::ClientSetupWindow,
    /// File → Back Up Now.
    pub backup: backup::BackupWindow,
}

impl Windows {
    /// The windows, with the Administrator's settings kept in `settings` (the servers
    /// connected to lately).
    pub fn with_settings(settings: Option<std::path::PathBuf>) -> Windows {
        let mut windows = Windows::default();
        windows.connect.settings = settings;
        windows
    }

    /// Opens a menu's window.
    pub fn open(&mut self, window: Window) {
        match window {
            Window::Tracking => self.tracking.open = true,
            Window::Tester => self.tester.open = true,
            Window::About => self.about.open = true,
        }
    }

    /// True while any of them is open (the main window's keys then wait).
    pub fn any_open(&self) -> bool {
        self.tracking.open
            || self.tester.open
            || self.about.open
            || self.help.open
            || self.connect.open
            || self.queue_details.queue_id.is_some()
            || self.quarantined.id.is_some()
            || self.import.address.is_some()
            || self.setup.address.is_some()
            || self.backup.open
    }

    /// The help page of the window in front (a dialog first, then the window last
    /// raised), if one is open.
    pub fn help_topic(&self, ctx: &egui::Context) -> Option<Topic> {
        if self.connect.open {
            return Some(Topic::ConnectToServer);
        }
        if self.import.address.is_some() {
            return Some(Topic::ImportMail);
        }
        if self.backup.open {
            return Some(Topic::Tab(crate::nav::Tab::Backup));
        }
        let open = [
            (self.tracking.open, "Message Tracking", Topic::MessageTracking),
            (self.tester.open, "Test Address", Topic::TestAddress),
            (self.queue_details.queue_id.is_some(), "Queued Message Details", Topic::Tab(crate::nav::Tab::Queues)),
            (self.quarantined.id.is_some(), "Quarantined Message", Topic::Quarantine),
        ];
        let top = ctx.top_layer_id();
        let setup = self.setup.address.as_ref().map(|a| (format!("Client Setup: {a}"), Topic::ClientSetup));
        let raised = |title: &str| top.is_some_and(|t| t.id == egui::Id::unique(title));
        if let Some((title, topic)) = &setup
            && raised(title)
        {
            return Some(*topic);
        }
        open.iter()
            .find(|(shown, title, _)| *shown && raised(title))
            .or_else(|| open.iter().find(|(shown, ..)| *shown))
            .map(|(_, _, topic)| *topic)
            .or(setup.map(|(_, topic)| topic))
    }

    /// Closes the windows that only show things (Escape does, when no dialog has the
    /// keyboard): details, help, About, the tester and tracking.
    pub fn close_info(&mut self) {
        self.tracking.open = false;
        self.tester.open = false;
        self.about.open = false;
        self.help.open = false;
        self.queue_details.queue_id = None;
        self.quarantined.id = None;
        self.setup.address = None;
    }

    /// Draws the open windows; what they ask for goes into `actions`.
    pub fn show(&mut self, ctx: &egui::Context, model: &Model, actions: &mut Vec<Action>) {
        actions.extend(self.tracking.show(ctx, model));
        actions.extend(self.tester.show(ctx, model));
        self.about.show(ctx);
        self.help.show(ctx);
        actions.extend(self.connect.show(ctx));
        self.queue_details.show(ctx, model);
        actions.extend(self.quarantined.show(ctx, model));
        actions.extend(self.import.show(ctx, model));
        actions.extend(self.setup.show(ctx, model));
        actions.extend(self.backup.show(ctx, model));
    }
}
