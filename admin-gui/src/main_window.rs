//! The main window's frame around the views: menu bar, toolbar, the tree on the left,
//! the status bar, the "restart needed" banner with a restart's progress, and the page
//! shown when no service answers.
//!
//! Each part draws from the model and returns the [`Action`] its controls ask for.

use std::time::Duration;

use crate::actions::{Action, Window};
use crate::backend::{Command, Lifecycle, Target};
use crate::model::{Connection, Failure, Model, Restart, Step};
use crate::nav::{Container, Node};
use crate::widgets::{dot, icon, state_color, state_words};

/// The colour of a success.
pub const OK_GREEN: egui::Color32 = egui::Color32::from_rgb(0, 110, 40);

/// A duration as people read it: "0.4 s".
pub fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// How long the banner says a restart went through.
const RESTARTED_NOTICE: Duration = Duration::from_secs(5);

/// What the menus and the toolbar need to know of the window.
#[derive(Debug, Clone, Copy)]
pub struct Chrome {
    /// The node shown.
    pub node: Node,
    /// The toolbar is shown.
    pub toolbar: bool,
    /// The status bar is shown.
    pub status_bar: bool,
}

impl Chrome {
    /// Whether the view shown is a list the Edit menu works on (delete, select all,
    /// find).
    fn list(self) -> bool {
        matches!(self.node, Node::Recipients | Node::Queues | Node::Quarantine)
    }
}

/// File, Edit, View, Tools and Help, as in Exchange Administrator; the menus name the
/// keys of their commands.
pub fn menu_ui(ui: &mut egui::Ui, chrome: Chrome) -> Option<Action> {
    use crate::actions::{Edit, NewRecipient};
    let mut action = None;
    // A menu item: clicked, it closes its menu and its action is taken.
    let item = |ui: &mut egui::Ui, enabled: bool, text: &str, keys: &str, what: Action, action: &mut Option<Action>| {
        let button =
            if keys.is_empty() { egui::Button::new(text) } else { egui::Button::new(text).shortcut_text(keys) };
        if ui.add_enabled(enabled, button).clicked() {
            *action = Some(what);
            ui.close();
        }
    };
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            ui.menu_button("New", |ui| {
                item(ui, true, "Mailbox…", "Ctrl+N", Action::New(NewRecipient::Mailbox), &mut action);
                item(ui, true, "Shared Mailbox…", "", Action::New(NewRecipient::SharedMailbox), &mut action);
                item(ui, true, "Distribution List…", "", Action::New(NewRecipient::List), &mut action);
                item(ui, true, "Custom Recipient…", "", Action::New(NewRecipient::Contact), &mut action);
            });
            ui.separator();
            item(ui, true, "Properties", "Alt+Enter", Action::OpenSelectedProperties, &mut action);
            item(
                ui,
                true,
                "Restart Service",
                "Ctrl+R",
                Action::Send(Command::Lifecycle(Lifecycle::Restart)),
                &mut action,
            );
            item(ui, true, "Back Up Now…", "", Action::BackUpNow, &mut action);
            ui.separator();
            item(ui, true, "Connect to Server…", "", Action::OpenConnect, &mut action);
            item(ui, true, "Exit", "", Action::Exit, &mut action);
        });
        ui.menu_button("Edit", |ui| {
            let list = chrome.list();
            item(ui, list, "Delete", "Del", Action::Edit(Edit::Delete), &mut action);
            item(ui, list, "Select All", "Ctrl+A", Action::Edit(Edit::SelectAll), &mut action);
            ui.separator();
            item(ui, list, "Find…", "Ctrl+F", Action::Edit(Edit::Find), &mut action);
        });
        ui.menu_button("View", |ui| {
            let mut toolbar = chrome.toolbar;
            if ui.checkbox(&mut toolbar, "Toolbar").clicked() {
                action = Some(Action::ToggleToolbar);
                ui.close();
            }
            let mut status_bar = chrome.status_bar;
            if ui.checkbox(&mut status_bar, "Status Bar").clicked() {
                action = Some(Action::ToggleStatusBar);
                ui.close();
            }
            ui.separator();
            if ui.add(egui::Button::new("Refresh").shortcut_text("F5")).clicked() {
                action = Some(Action::Send(Command::Refresh));
                ui.close();
            }
        });
        ui.menu_button("Tools", |ui| {
            if ui.button("Track Message…").clicked() {
                action = Some(Action::Open(Window::Tracking));
            }
            if ui.button("Test Address…").clicked() {
                action = Some(Action::Open(Window::Tester));
            }
        });
        ui.menu_button("Help", |ui| {
            if ui.add(egui::Button::new("Contents").shortcut_text("F1")).clicked() {
                action = Some(Action::Help(crate::help::Topic::Contents));
            }
            if ui.button("About Mailroom Administrator").clicked() {
                action = Some(Action::Open(Window::About));
            }
        });
    });
    action
}

/// The toolbar, as Exchange Administrator's: New Mailbox, Properties (of the
/// selection), Delete and Find (on a list), Restart Service, Refresh, Help; each with
/// its picture and its name.
pub fn toolbar_ui(ui: &mut egui::Ui, model: &Model, chrome: Chrome) -> Option<Action> {
    use crate::actions::{Edit, NewRecipient};
    let mut action = None;
    ui.horizontal(|ui| {
        let connected = model.connected();
        let mut tool = |ui: &mut egui::Ui, enabled: bool, glyph: &str, text: &str, hint: &str, what: Action| {
            let b = ui.add_enabled(enabled, egui::Button::new(format!("{glyph} {text}"))).on_hover_text(hint);
            // Named by its words alone (for screen readers, and the tests that find it).
            b.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, enabled, text));
            if b.clicked() {
                action = Some(what);
            }
        };
        let mailbox = Action::New(NewRecipient::Mailbox);
        tool(ui, connected, "✉", "New Mailbox", "A new mailbox (Ctrl+N)", mailbox);
        let properties = Action::OpenSelectedProperties;
        tool(
            ui,
            connected && model.config.is_some(),
            "🗋",
            "Properties",
            "Properties of the selection (Alt+Enter)",
            properties,
        );
        let list = connected && chrome.list();
        tool(ui, list, "🗑", "Delete", "Delete what is selected (Del)", Action::Edit(Edit::Delete));
        tool(ui, list, "🔍", "Find", "Find in the list (Ctrl+F)", Action::Edit(Edit::Find));
        ui.separator();
        let restart = Action::Send(Command::Lifecycle(Lifecycle::Restart));
        tool(ui, connected, "⟲", "Restart Service", "Restart the Internet Mail Service (Ctrl+R)", restart);
        tool(ui, connected, "⟳", "Refresh", "Read everything again (F5)", Action::Send(Command::Refresh));
        ui.separator();
        tool(
            ui,
            true,
            "❓",
            "Help",
            "Help on what is shown (F1)",
            Action::Help(crate::help::Topic::of_node(chrome.node)),
        );
    });
    action
}

/// The organisation's tree, `selected` highlighted, the containers in `collapsed`
/// closed; the quarantine says how many messages it holds. A click selects a node
/// (a container too: its page lists what it holds), `+`/`-` opens or closes a
/// container, a double-click opens a node's Properties or a container, and the
/// right-click menu offers both.
pub fn tree_ui(
    ui: &mut egui::Ui,
    selected: Node,
    model: &Model,
    collapsed: &mut std::collections::BTreeSet<Container>,
) -> Option<Action> {
    let mut action = None;
    let mut toggle = None;
    for (depth, node) in crate::nav::visible(collapsed) {
        let label = match node {
            Node::Quarantine if !model.quarantine.is_empty() => format!("Quarantine ({})", model.quarantine.len()),
            _ => node.label().to_owned(),
        };
        let r = ui
            .horizontal(|ui| {
                ui.spacing_mut().item_spacing.x = 4.0;
                ui.add_space(depth as f32 * 14.0);
                match node {
                    Node::Container(c) => {
                        let closed = collapsed.contains(&c);
                        let sign = if closed { "+" } else { "-" };
                        let what = if closed { "Expand" } else { "Collapse" };
                        let b = ui.small_button(sign).on_hover_text(format!("{what} {}", c.title()));
                        if b.clicked() {
                            // The keys stay the tree's (a focused button would take the
                            // arrows for moving the focus).
                            b.surrender_focus();
                            toggle = Some(c);
                        }
                    }
                    _ => {
                        ui.add_space(18.0);
                    }
                }
                icon(ui, node_icon(node), ui.visuals().text_color());
                ui.selectable_label(selected == node, label)
            })
            .inner;
        if r.clicked() || r.double_clicked() {
            r.surrender_focus();
        }
        if r.double_clicked() {
            action = Some(match node {
                Node::Container(c) => {
                    toggle = Some(c);
                    Action::Select(node)
                }
                _ => Action::OpenProperties(node.properties_tab()),
            });
        } else if r.clicked() || r.secondary_clicked() {
            action = Some(Action::Select(node));
        }
        r.context_menu(|ui| {
            match node {
                Node::Container(c) => {
                    let what = if collapsed.contains(&c) { "Expand" } else { "Collapse" };
                    if ui.button(what).clicked() {
                        toggle = Some(c);
                        ui.close();
                    }
                }
                _ => {
                    if ui.button("Properties…").clicked() {
                        action = Some(Action::OpenProperties(node.properties_tab()));
                        ui.close();
                    }
                }
            }
            if ui.button("Help").clicked() {
                action = Some(Action::Help(crate::help::Topic::of_node(node)));
                ui.close();
            }
        });
    }
    if let Some(c) = toggle
        && !collapsed.remove(&c)
    {
        collapsed.insert(c);
    }
    action
}

/// The glyph drawn before a tree node.
fn node_icon(node: Node) -> &'static str {
    match node {
        Node::InternetMailService => "🌐",
        Node::Pop3 => "📥",
        Node::Imap4 => "📂",
        Node::DnsRecords => "📋",
        Node::Recipients => "👥",
        Node::PublicFolders => "📁",
        Node::Queues => "📤",
        Node::Quarantine => "🛡",
        Node::ServiceStatus => "📊",
        Node::Monitor => "📈",
        Node::Container(Container::Organization) => "🏢",
        Node::Container(Container::Site) => "🏠",
        Node::Container(Container::Configuration) => "⚙",
        Node::Container(Container::Connections) => "🔌",
        Node::Container(Container::Protocols) => "📨",
        Node::Container(Container::Server) => "🖥",
    }
}

/// The selection's look in a pane: the window's own while the pane has the keys, a
/// grey one while the other pane has them, as Windows draws a pane's selection when
/// the keys are elsewhere, so that it shows where the arrow keys go.
pub fn pane_selection(has_keys: bool, visuals: &egui::Visuals) -> egui::style::Selection {
    if has_keys {
        visuals.selection
    } else {
        egui::style::Selection {
            bg_fill: visuals.widgets.inactive.weak_bg_fill,
            stroke: egui::Stroke::new(visuals.selection.stroke.width, visuals.text_color()),
        }
    }
}

/// The uptime in the status bar's words ("Up 42 s", "Up 17 min", "Up 3 h 05 min",
/// "Up 2 days 4 h"), and in how many seconds they change.
pub fn uptime_words(up: u64) -> (String, u64) {
    const MIN: u64 = 60;
    const HOUR: u64 = 60 * MIN;
    const DAY: u64 = 24 * HOUR;
    match up {
        0..MIN => (format!("Up {up} s"), 1),
        MIN..HOUR => (format!("Up {} min", up / MIN), MIN - up % MIN),
        HOUR..DAY => (format!("Up {} h {:02} min", up / HOUR, up % HOUR / MIN), MIN - up % MIN),
        _ => {
            let days = up / DAY;
            let unit = if days == 1 { "day" } else { "days" };
            (format!("Up {days} {unit} {} h", up % DAY / HOUR), HOUR - up % HOUR)
        }
    }
}

/// Connection, service state, uptime, and the last error.
pub fn status_bar_ui(ui: &mut egui::Ui, model: &Model) {
    ui.horizontal(|ui| {
        match &model.connection {
            Connection::Connecting => {
                ui.spinner();
                ui.label("Connecting…");
            }
            Connection::Connected(server) => {
                ui.label(format!("Connected to {server} on {}", model.server));
            }
            Connection::Down(_) => {
                ui.label("Not connected");
            }
        }
        // (The status is dropped with the connection: a dead service is not shown.)
        if let Some(s) = &model.status {
            ui.separator();
            // The dot is the state's (a service running its old settings after a failed
            // restart is running); the failure is said beside it.
            dot(ui, state_color(s.state));
            ui.label(format!("Internet Mail Service: {}", state_words(s.state)));
            if let Some(up) = s.uptime_secs {
                let since = model.status_at.map_or(0, |at| at.elapsed().as_secs());
                let (words, next) = uptime_words(up.saturating_add(since));
                ui.separator();
                ui.label(words);
                // Painted again when the words change, not before.
                ui.ctx().request_repaint_after(std::time::Duration::from_secs(next));
            }
            if model.lifecycle_error.is_some() {
                ui.separator();
                let what = if s.state == mailroom_shared::ipc::ServiceState::Running { "restart" } else { "start" };
                if model.failure_saved_over() {
                    ui.colored_label(ui.visuals().warn_fg_color, format!("Changed since the last {what} failed"));
                } else {
                    ui.colored_label(ui.visuals().error_fg_color, format!("The last {what} failed"));
                }
            }
        }
        if let Some(e) = &model.error {
            ui.separator();
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
    });
}

/// The states of a restart, in order: "Stopping…, Stopped, Starting…, Running".
fn steps_words(steps: &[Step]) -> String {
    let words: Vec<String> = steps
        .iter()
        .map(|s| match &s.error {
            Some(e) => format!("{} ({e})", state_words(s.state)),
            None => state_words(s.state).to_owned(),
        })
        .collect();
    words.join(", ")
}

/// The main window's keys, when no window is open: Enter and Alt+Enter open the
/// selection's Properties (unless a control has the focus), F5 refreshes, Ctrl+R
/// restarts the service; while the tree has the keyboard (`tree`, the last pane
/// clicked), the arrow keys, Home and End walk it as a Windows tree view and a letter
/// selects the next node that starts with it.
pub fn keys(
    ctx: &egui::Context,
    model: &Model,
    tree: Option<(Node, &mut std::collections::BTreeSet<Container>)>,
) -> Option<Action> {
    let focused = ctx.memory(|m| m.focused()).is_some();
    if !focused && let Some((selected, collapsed)) = tree {
        use egui::Key;
        for key in [Key::ArrowUp, Key::ArrowDown, Key::Home, Key::End, Key::ArrowLeft, Key::ArrowRight] {
            if ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, key))
                && let Some((node, change)) = crate::nav::tree_key(key, selected, collapsed)
            {
                match change {
                    Some((c, true)) => {
                        collapsed.remove(&c);
                    }
                    Some((c, false)) => {
                        collapsed.insert(c);
                    }
                    None => {}
                }
                return (node != selected).then_some(Action::Select(node));
            }
        }
        let letter = ctx.input(|i| {
            i.events.iter().find_map(|e| match e {
                egui::Event::Text(t) if !i.modifiers.ctrl && !i.modifiers.alt => {
                    t.chars().next().filter(char::is_ascii_alphanumeric)
                }
                _ => None,
            })
        });
        if let Some(node) = letter.and_then(|l| crate::nav::type_ahead(l, selected, collapsed)) {
            return Some(Action::Select(node));
        }
    }
    ctx.input_mut(|i| {
        if i.consume_key(egui::Modifiers::ALT, egui::Key::Enter)
            || (!focused && i.consume_key(egui::Modifiers::NONE, egui::Key::Enter))
        {
            model.config.is_some().then_some(Action::OpenSelectedProperties)
        } else if i.consume_key(egui::Modifiers::NONE, egui::Key::F5) {
            model.connected().then_some(Action::Send(Command::Refresh))
        } else if i.consume_key(egui::Modifiers::COMMAND, egui::Key::R) {
            model.connected().then_some(Action::Send(Command::Lifecycle(Lifecycle::Restart)))
        } else if i.consume_key(egui::Modifiers::COMMAND, egui::Key::N) {
            model.connected().then_some(Action::New(crate::actions::NewRecipient::Mailbox))
        } else {
            None
        }
    })
}

/// The banner over the view: a restart's progress while it runs; otherwise the pages
/// saved that wait for a restart, with Restart Service; otherwise, for a few seconds,
/// that a restart went through. A lifecycle failure is shown in any case.
pub fn banner_ui(ui: &mut egui::Ui, model: &Model) -> Option<Action> {
    let restarted = match &model.restart {
        Some(Restart::Done { steps, at, took }) => {
            let left = RESTARTED_NOTICE.saturating_sub(at.elapsed());
            ui.ctx().request_repaint_after(left);
            (!left.is_zero()).then_some((steps, *took))
        }
        _ => None,
    };
    let in_flight = match &model.restart {
        Some(Restart::InFlight { steps, .. }) => Some(steps),
        _ => None,
    };
    if in_flight.is_none() && restarted.is_none() && model.pending.is_empty() && model.lifecycle_error.is_none() {
        return None;
    }
    let mut action = None;
    egui::Frame::new()
        .fill(egui::Color32::from_rgb(255, 248, 214))
        .stroke(egui::Stroke::new(1.0, egui::Color32::from_rgb(214, 190, 110)))
        .inner_margin(egui::Margin::symmetric(10, 6))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal_wrapped(|ui| {
                if let Some(steps) = in_flight {
                    ui.spinner();
                    if steps.is_empty() {
                        ui.label("Restarting the Internet Mail Service…");
                    } else {
                        ui.label(format!("Restarting the Internet Mail Service: {}", steps_words(steps)));
                    }
                } else if let Some((steps, took)) = restarted {
                    let running = steps.last().is_none_or(|s| s.state == mailroom_shared::ipc::ServiceState::Running);
                    let done = if running { "restarted and is running" } else { "restarted" };
                    let shown = if steps.is_empty() {
                        format!("The Internet Mail Service {done} ({}).", seconds(took))
                    } else {
                        format!("The Internet Mail Service {done} ({}): {}.", seconds(took), steps_words(steps))
                    };
                    ui.label(egui::RichText::new(shown).color(OK_GREEN));
                } else if !model.pending.is_empty() {
                    let pages: Vec<&str> = model.pending.iter().map(|p| p.title()).collect();
                    ui.label(format!(
                        "Saved. These changes take effect when the Internet Mail Service is restarted: {}.",
                        pages.join(", ")
                    ));
                    if model.lifecycle_error.is_none()
                        && ui.add_enabled(model.connected(), egui::Button::new("Restart Service")).clicked()
                    {
                        action = Some(Action::Send(Command::Lifecycle(Lifecycle::Restart)));
                    }
                }
            });
            if let (Some(failure), None) = (&model.lifecycle_error, in_flight) {
                action = failure_ui(ui, model, failure).or(action.take());
            }
        });
    action
}

/// A failed start or restart: the service's words, wrapped, in red, and what to do
/// next: change the field that caused it (when one did), or try again.
fn failure_ui(ui: &mut egui::Ui, model: &Model, failure: &Failure) -> Option<Action> {
    let mut action = None;
    let running = model.status.as_ref().is_some_and(|s| s.state == mailroom_shared::ipc::ServiceState::Running);
    let what = if running { "could not restart" } else { "could not start" };
    if model.failure_saved_over() {
        // The settings were saved since: say what waits, not the old error alone.
        let next = if running { "Retry restarts it" } else { "Start Service starts it" };
        ui.add(
            egui::Label::new(
                egui::RichText::new(format!(
                    "The settings were saved since the Internet Mail Service {what} ({}). {next} with them.",
                    failure.message
                ))
                .color(ui.visuals().warn_fg_color),
            )
            .wrap(),
        );
    } else {
        ui.add(
            egui::Label::new(
                egui::RichText::new(format!("The Internet Mail Service {what}: {}.", failure.message))
                    .color(ui.visuals().error_fg_color),
            )
            .wrap(),
        );
    }
    ui.horizontal(|ui| {
        if let Some(field) = &failure.field {
            let label = if field.ends_with("listen") { "Change Listen Address…" } else { "Change Setting…" };
            if ui.add_enabled(model.config.is_some(), egui::Button::new(label)).clicked() {
                action = Some(Action::ChangeField { field: field.clone(), why: failure.message.clone() });
            }
        }
        let retry = if running { "Retry" } else { "Start Service" };
        if ui.add_enabled(model.connected(), egui::Button::new(retry)).clicked() {
            let command = if running { Lifecycle::Restart } else { Lifecycle::Start };
            action = Some(Action::Send(Command::Lifecycle(command)));
        }
    });
    action
}

/// What the window shows when no service answers: why, and what can be done — Start
/// Service on this computer (where it can run one: `local_service`), or another server
/// to connect to.
pub fn no_service_ui(
    ui: &mut egui::Ui,
    model: &Model,
    target: &Target,
    reason: &str,
    local_service: bool,
) -> Option<Action> {
    let mut action = None;
    ui.add_space(24.0);
    ui.vertical_centered(|ui| {
        let starting = model.launch.is_some();
        match target {
            Target::Local(_) if !local_service => {
                ui.heading("Not connected to a Mailroom server");
                ui.label("The Mailroom service runs on a Linux server: Connect to Server reaches it over SSH.");
            }
            Target::Local(_) if starting => {
                ui.heading("Starting the Mailroom service…");
            }
            Target::Local(socket) => {
                ui.heading("No Mailroom service is running");
                ui.label(format!("Nothing answers on {}.", socket.display()));
            }
            Target::Ssh(t) => {
                ui.heading(format!("Cannot reach the Mailroom service on {}", t.host));
                ui.label("Trying again every few seconds.");
            }
        }
        // The system's words for "no socket there" or "nobody listening" say no more than
        // the heading (and, while the service is starting, are expected).
        let says_nothing_more = ["os error 2)", "os error 111)", "No such file or directory", "Connection refused"]
            .iter()
            .any(|w| reason.contains(w));
        if !(starting || (says_nothing_more || !local_service) && matches!(target, Target::Local(_))) {
            ui.add(egui::Label::new(egui::RichText::new(reason).weak()).wrap());
        }
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            if local_service && matches!(target, Target::Local(_)) && ui.button("Start Service").clicked() {
                action = Some(Action::StartService);
            }
            if ui.button("Connect to Server…").clicked() {
                action = Some(Action::OpenConnect);
            }
        });
        if let Some(s) = &model.launch {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(s);
            });
        }
    });
    action
}

#[cfg(test)]
mod tests {
    use super::uptime_words;

    /// Walk defect 2's "visible focus": both panes drew their selection alike, so
    /// nothing showed where the arrow keys would go. The pane without them greys its.
    #[test]
    fn the_pane_without_the_keys_greys_its_selection() {
        let v = egui::Visuals::light();
        assert_eq!(super::pane_selection(true, &v), v.selection);
        let grey = super::pane_selection(false, &v);
        assert_ne!(grey.bg_fill, v.selection.bg_fill);
        assert_ne!(grey.stroke.color, v.selection.stroke.color);
    }

    #[test]
    fn the_uptime_is_said_to_the_minute_and_repainted_when_its_words_change() {
        assert_eq!(uptime_words(0), ("Up 0 s".to_owned(), 1));
        assert_eq!(uptime_words(59), ("Up 59 s".to_owned(), 1));
        assert_eq!(uptime_words(60), ("Up 1 min".to_owned(), 60));
        assert_eq!(uptime_words(17 * 60 + 42), ("Up 17 min".to_owned(), 18));
        assert_eq!(uptime_words(3 * 3600 + 5 * 60 + 1), ("Up 3 h 05 min".to_owned(), 59));
        assert_eq!(uptime_words(86_400 + 4 * 3600 + 30), ("Up 1 day 4 h".to_owned(), 3570));
        assert_eq!(uptime_words(3 * 86_400), ("Up 3 days 0 h".to_owned(), 3600));
    }
}
