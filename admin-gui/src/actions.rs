//! What the views and windows ask for.
//!
//! Views and windows draw from a read-only [`crate::model::Model`] and return
//! [`Action`]s instead of reaching into the app; [`crate::app::AdminApp`] applies them
//! once the frame is drawn (as egui's `egui_demo_app` and rerun's `CommandSender` do).
//! So a view never needs the app, and the app is the one place where things happen.

use crate::backend::Command;
use crate::nav::{Node, Tab};

/// A secondary window opened from the Tools and Help menus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Tools → Track Message.
    Tracking,
    /// Tools → Test Address.
    Tester,
    /// Help → About.
    About,
}

/// What File → New (and Ctrl+N, New Mailbox) makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewRecipient {
    /// New Mailbox.
    Mailbox,
    /// New Shared Mailbox.
    SharedMailbox,
    /// New Distribution List.
    List,
    /// New Custom Recipient.
    Contact,
}

/// A command of the Edit menu, on the list shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// Delete what is selected (asked first).
    Delete,
    /// Select every row.
    SelectAll,
    /// Go to the Find box.
    Find,
}

/// One thing to do after drawing.
#[derive(Debug)]
pub enum Action {
    /// Send a request to the service; the answer comes back as backend updates.
    Send(Command),
    /// Send several (one per row selected).
    SendAll(Vec<Command>),
    /// Select a node in the tree.
    Select(Node),
    /// Open Internet Mail Service Properties on a tab (or switch tab, when open).
    OpenProperties(Tab),
    /// Properties of what is selected (File → Properties, the toolbar, Alt+Enter): the
    /// selected recipient's on the Recipients page, else the node's page.
    OpenSelectedProperties,
    /// Open Internet Mail Service Properties where this configuration field is edited
    /// (`connections.smtp_listen`…), the field focused and `why` shown next to it.
    ChangeField {
        /// The field, as validation names it.
        field: String,
        /// What is wrong with its value.
        why: String,
    },
    /// Open a Tools or Help window.
    Open(Window),
    /// Open Queued Message Details for this queue id, and fetch them.
    ShowQueueDetails(String),
    /// Open Quarantined Message for this quarantine id, and fetch it.
    ShowQuarantined(i64),
    /// Save a configuration (a `Command::SaveConfig`), then, once it is saved, restart
    /// the service (requests run concurrently, so the restart waits for the answer).
    SaveThenRestart(Command),
    /// Open File → Connect to Server.
    OpenConnect,
    /// File → Back Up Now: a backup of the whole store, into the service's data
    /// directory.
    BackUpNow,
    /// Open Import Mail for this mailbox (by its first address).
    ImportMail(String),
    /// Open Client Setup for this mailbox (by its first address).
    ClientSetup(String),
    /// Administer the service on this computer.
    ConnectLocal,
    /// Administer the service on another computer, over SSH.
    ConnectSsh(Recent),
    /// Open the help on a page.
    Help(crate::help::Topic),
    /// The guided fix of the Internet Mail Service page (Fix… beside a warning
    /// elsewhere): that page, its dialog open.
    GuidedFix,
    /// Launch `mailroomd` (when none answers).
    StartService,
    /// File → New: Recipients, with the dialog open.
    New(NewRecipient),
    /// An Edit menu command on the list shown.
    Edit(Edit),
    /// View → Toolbar: shown or not.
    ToggleToolbar,
    /// View → Status Bar: shown or not.
    ToggleStatusBar,
    /// Close the program.
    Exit,
}

/// A server connected to over SSH (File → Connect to Server keeps the latest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recent {
    /// `host` or `user@host`.
    pub host: String,
    /// The SSH port, when not 22.
    pub port: Option<u16>,
    /// What runs there.
    pub command: String,
}
