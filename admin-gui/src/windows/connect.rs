//! File → Connect to Server…, Exchange Administrator's first dialog: administer the
//! service on this computer, or one on another computer over SSH. Over SSH the
//! Administrator runs `ssh HOST mailroomctl bridge` and speaks the control protocol
//! through it, so the login is the administrator's SSH key and nothing new listens on
//! the network. The servers connected to lately are remembered.

use std::path::{Path, PathBuf};

use crate::actions::Action;
use crate::widgets::{DialogKey, dialog_key, problem_line};

/// What runs on the other computer unless told otherwise.
pub use mailroom_client::ssh::DEFAULT_COMMAND;

/// Servers remembered at most.
const RECENT: usize = 8;

pub use crate::actions::Recent;

/// The Connect to Server window.
#[derive(Debug)]
pub struct ConnectWindow {
    /// Shown.
    pub open: bool,
    /// "This computer" can be chosen: false where no service runs here (Windows).
    pub local: bool,
    /// "Another computer" is chosen.
    remote: bool,
    host: String,
    port: String,
    command: String,
    recent: Vec<Recent>,
    focus: bool,
    show_problem: bool,
    /// Where the servers connected to lately are kept (the Administrator's settings
    /// directory); `None`: nowhere.
    pub settings: Option<PathBuf>,
}

impl Default for ConnectWindow {
    fn default() -> ConnectWindow {
        ConnectWindow {
            open: false,
            local: true,
            remote: false,
            host: String::new(),
            port: String::new(),
            command: String::new(),
            recent: Vec::new(),
            focus: false,
            show_problem: false,
            settings: None,
        }
    }
}

impl ConnectWindow {
    /// Opens it, with the servers remembered.
    pub fn show_dialog(&mut self) {
        self.open = true;
        self.remote |= !self.local;
        self.focus = true;
        self.show_problem = false;
        self.recent = load_recent(self.settings.as_deref());
        if self.command.is_empty() {
            self.command = DEFAULT_COMMAND.to_owned();
        }
    }

    /// What is wrong with the form, as a sentence.
    fn problem(&self) -> Option<String> {
        if !self.remote {
            return None;
        }
        if let Some(problem) = mailroom_client::ssh::host_problem(&self.host) {
            return Some(problem);
        }
        if !self.port.trim().is_empty() && self.port.trim().parse::<u16>().map_or(true, |p| p == 0) {
            return Some(format!("'{}' is not a port from 1 to 65535.", self.port.trim()));
        }
        if self.command.trim().is_empty() {
            return Some("Type the command that runs there (mailroomctl bridge).".to_owned());
        }
        None
    }

    /// The form; Connect asks to switch.
    pub fn show(&mut self, ctx: &egui::Context) -> Option<Action> {
        if !self.open {
            return None;
        }
        let mut action = None;
        let mut answer: Option<bool> = None;
        let problem = self.problem();
        egui::Modal::new(egui::Id::unique("connect_to_server")).show(ctx, |ui| {
            ui.set_width(460.0);
            ui.heading("Connect to Server");
            ui.add_enabled_ui(self.local, |ui| {
                ui.radio_value(&mut self.remote, false, "This computer")
                    .on_disabled_hover_text("The Mailroom service runs on Linux; this computer has none.");
            });
            ui.radio_value(&mut self.remote, true, "Another computer, over SSH");
            ui.add_enabled_ui(self.remote, |ui| {
                egui::Grid::new("connect_form").num_columns(2).spacing([10.0, 6.0]).show(ui, |ui| {
                    let l = ui.label("Computer (user@host):");
                    let host = ui.add(egui::TextEdit::singleline(&mut self.host).hint_text("admin@mail.corp.test"));
                    let host = host.labelled_by(l.id);
                    if self.remote && std::mem::take(&mut self.focus) {
                        host.request_focus();
                    }
                    let mut changed = host.changed();
                    ui.end_row();
                    let l = ui.label("SSH port (empty: 22):");
                    changed |= ui.text_edit_singleline(&mut self.port).labelled_by(l.id).changed();
                    ui.end_row();
                    let l = ui.label("Command there:");
                    changed |= ui.text_edit_singleline(&mut self.command).labelled_by(l.id).changed();
                    ui.end_row();
                    self.show_problem |= changed;
                });
                ui.add(
                    egui::Label::new(
                        "Your SSH key is the login: the account must be allowed to administer Mailroom there.",
                    )
                    .wrap(),
                );
                if !self.recent.is_empty() {
                    ui.add_space(4.0);
                    ui.label("Lately:");
                    for r in self.recent.clone() {
                        let shown = match r.port {
                            Some(p) => format!("{} (port {p})", r.host),
                            None => r.host.clone(),
                        };
                        if ui.selectable_label(self.host == r.host, shown).clicked() {
                            self.host = r.host;
                            self.port = r.port.map(|p| p.to_string()).unwrap_or_default();
                            self.command = r.command;
                        }
                    }
                }
            });
            problem_line(ui, problem.as_deref(), self.show_problem);
            ui.horizontal(|ui| {
                if ui.button("Connect").clicked() {
                    answer = Some(true);
                }
                if ui.button("Cancel").clicked() {
                    answer = Some(false);
                }
            });
            match dialog_key(ui) {
                Some(DialogKey::Default) => answer = Some(true),
                Some(DialogKey::Cancel) => answer = Some(false),
                None => {}
            }
        });
        match answer {
            Some(true) if problem.is_some() => self.show_problem = true,
            Some(true) => {
                self.open = false;
                action = Some(if self.remote {
                    Action::ConnectSsh(Recent {
                        host: self.host.trim().to_owned(),
                        port: self.port.trim().parse().ok(),
                        command: self.command.trim().to_owned(),
                    })
                } else {
                    Action::ConnectLocal
                });
            }
            Some(false) => self.open = false,
            None => {}
        }
        action
    }
}

/// The file in `settings` that keeps the servers connected to lately.
fn recent_file(settings: Option<&Path>) -> Option<PathBuf> {
    settings.map(|d| d.join("recent-servers"))
}

/// The servers connected to lately, newest first (none when the file is missing).
pub fn load_recent(settings: Option<&Path>) -> Vec<Recent> {
    let Some(text) = recent_file(settings).and_then(|f| std::fs::read_to_string(f).ok()) else { return Vec::new() };
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, '\t');
            let host = parts.next()?.trim().to_owned();
            let port = parts.next()?.trim().parse().ok();
            let command = parts.next().unwrap_or(DEFAULT_COMMAND).trim().to_owned();
            (!host.is_empty()).then_some(Recent { host, port, command })
        })
        .take(RECENT)
        .collect()
}

/// Puts `server` first among the servers remembered in `settings`. Failing to write
/// only means it is not remembered.
pub fn remember(settings: Option<&Path>, server: &Recent) {
    let Some(file) = recent_file(settings) else { return };
    let mut all = load_recent(settings);
    all.retain(|r| r != server);
    all.insert(0, server.clone());
    all.truncate(RECENT);
    let text: String = all
        .iter()
        .map(|r| format!("{}\t{}\t{}\n", r.host, r.port.map(|p| p.to_string()).unwrap_or_default(), r.command))
        .collect();
    if let Some(dir) = file.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = std::fs::write(file, text);
}
