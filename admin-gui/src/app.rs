//! The main window. For now: the service's status and a Restart Service button; the
//! full Exchange-Administrator-style tree and property pages come with the GUI issue.

use std::path::PathBuf;
use std::sync::mpsc;

use mailroom_shared::ipc::{Event, ServiceState, StatusReport};

use crate::backend::{self, Command, Update};

/// Connection to the service, as the status bar shows it.
enum Connection {
    Connecting,
    Connected { server: String },
    Down { reason: String },
}

/// The application state.
pub struct AdminApp {
    socket: PathBuf,
    commands: tokio::sync::mpsc::UnboundedSender<Command>,
    updates: mpsc::Receiver<Update>,
    connection: Connection,
    status: Option<StatusReport>,
    last_error: Option<String>,
    log: Vec<String>,
}

impl AdminApp {
    /// Creates the app and starts its backend thread.
    pub fn new(ctx: egui::Context, socket: PathBuf) -> AdminApp {
        let (commands, updates) = backend::spawn(ctx, socket.clone());
        AdminApp {
            socket,
            commands,
            updates,
            connection: Connection::Connecting,
            status: None,
            last_error: None,
            log: Vec::new(),
        }
    }

    fn drain_updates(&mut self) {
        while let Ok(u) = self.updates.try_recv() {
            match u {
                Update::Connected { server } => self.connection = Connection::Connected { server },
                Update::Disconnected { reason } => {
                    self.connection = Connection::Down { reason };
                    self.status = None;
                }
                Update::Status(s) => self.status = Some(*s),
                Update::Error(e) => self.last_error = Some(e),
                Update::Event(Event::ServiceState { state, error }) => {
                    self.log.push(match error {
                        Some(e) => format!("Service {state}: {e}"),
                        None => format!("Service {state}"),
                    });
                }
                Update::Event(_) => {}
            }
        }
        let excess = self.log.len().saturating_sub(200);
        self.log.drain(..excess);
    }
}

impl eframe::App for AdminApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.drain_updates();
        egui::Panel::top("toolbar").show(ui, |ui| {
            ui.horizontal(|ui| {
                let connected = matches!(self.connection, Connection::Connected { .. });
                if ui.add_enabled(connected, egui::Button::new("Restart Service")).clicked() {
                    let _ = self.commands.send(Command::Restart);
                }
                if ui.add_enabled(connected, egui::Button::new("Refresh")).clicked() {
                    let _ = self.commands.send(Command::Refresh);
                }
            });
        });
        egui::Panel::bottom("status_bar").show(ui, |ui| {
            ui.horizontal(|ui| match &self.connection {
                Connection::Connecting => {
                    ui.spinner();
                    ui.label("Connecting…");
                }
                Connection::Connected { server } => {
                    ui.label(format!("Connected to {server}"));
                    if let Some(s) = &self.status {
                        ui.separator();
                        ui.label(format!("Service: {}", s.state));
                        if let Some(up) = s.uptime_secs {
                            ui.separator();
                            ui.label(format!("Up {}:{:02}:{:02}", up / 3600, up / 60 % 60, up % 60));
                        }
                    }
                }
                Connection::Down { .. } => {
                    ui.label("Not connected");
                }
            });
        });
        egui::CentralPanel::default().show(ui, |ui| {
            ui.heading("Internet Mail Service");
            ui.add_space(8.0);
            match (&self.connection, &self.status) {
                (Connection::Down { reason }, _) => {
                    ui.label(format!("No Mailroom service answers on {}.", self.socket.display()));
                    ui.label(reason);
                }
                (_, Some(s)) => status_ui(ui, s),
                _ => {
                    ui.spinner();
                }
            }
            if let Some(e) = &self.last_error {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            ui.add_space(8.0);
            for line in self.log.iter().rev().take(10) {
                ui.label(line);
            }
        });
    }
}

fn status_ui(ui: &mut egui::Ui, s: &StatusReport) {
    egui::Grid::new("status").num_columns(2).spacing([16.0, 4.0]).show(ui, |ui| {
        ui.label("State:");
        ui.label(match s.state {
            ServiceState::Running => "Running",
            ServiceState::Stopped => "Stopped",
            ServiceState::Starting => "Starting…",
            ServiceState::Stopping => "Stopping…",
        });
        ui.end_row();
        ui.label("SMTP:");
        ui.label(s.smtp_addr.as_deref().unwrap_or("—"));
        ui.end_row();
        ui.label("POP3:");
        ui.label(s.pop3_addr.as_deref().unwrap_or("—"));
        ui.end_row();
        ui.label("Pending restart:");
        ui.label(if s.pending_restart {
            s.pending_pages.iter().map(|p| p.title()).collect::<Vec<_>>().join(", ")
        } else {
            "No".to_owned()
        });
        ui.end_row();
        if let Some(e) = &s.last_error {
            ui.label("Last error:");
            ui.label(e);
            ui.end_row();
        }
    });
}
