//! The main window: menu bar, toolbar, the tree on the left, the selected container's
//! contents on the right, and a status bar.

use std::path::PathBuf;
use std::sync::mpsc;

use mailroom_shared::config::{Config, Page};
use mailroom_shared::ipc::{
    CertificateInfo, Event, LockoutInfo, MailboxInfo, QueueEntry, ServiceState, StatusReport, TrackingEvent,
};

use crate::backend::{self, Command, Lifecycle, Update};
use crate::properties::PropertiesState;
use crate::views;

/// The tree's nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    /// Configuration → Connections → Internet Mail Service.
    InternetMailService,
    /// Protocols → POP3.
    Pop3,
    /// Recipients.
    Recipients,
    /// Server → Queues.
    Queues,
    /// Server → Service Status.
    ServiceStatus,
}

/// The connection to the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// Not yet known.
    Connecting,
    /// Connected, to this server.
    Connected(String),
    /// No service answers (why).
    Down(String),
}

/// Everything the window shows, plus the channels to the backend.
pub struct AdminApp {
    pub(crate) socket: PathBuf,
    pub(crate) commands: tokio::sync::mpsc::UnboundedSender<Command>,
    updates: mpsc::Receiver<Update>,
    /// The connection.
    pub connection: Connection,
    /// Last status.
    pub status: Option<StatusReport>,
    /// Saved configuration and revision.
    pub config: Option<(Config, u64)>,
    /// Mailboxes and warnings.
    pub mailboxes: (Vec<MailboxInfo>, Vec<String>),
    /// The queue.
    pub queue: Vec<QueueEntry>,
    /// The TLS certificate the running service presents.
    pub certificate: Option<CertificateInfo>,
    /// Clients and logins locked out after failed logins.
    pub lockouts: Vec<LockoutInfo>,
    /// Tracking results.
    pub(crate) tracking: Vec<TrackingEvent>,
    /// Selected tree node.
    pub selected: Node,
    /// The Internet Mail Service Properties window, when open.
    pub(crate) properties: Option<PropertiesState>,
    /// Pages saved since the last restart (the banner).
    pub pending: Vec<Page>,
    /// Restart in progress, with the states seen so far.
    pub(crate) restart: Option<Vec<String>>,
    /// The last lifecycle failure, in the service's words.
    pub lifecycle_error: Option<String>,
    /// Other errors, for the status bar.
    pub(crate) error: Option<String>,
    pub(crate) windows: views::Windows,
    /// Start Service was clicked and the service is starting.
    pub starting_service: Option<String>,
    /// The `mailroomd` that Start Service runs; `None`: beside this executable, else
    /// on `PATH`.
    daemon: Option<PathBuf>,
    /// Start the service by itself the first time none answers (the program's
    /// default; off for embedding and tests).
    auto_start: bool,
}

impl AdminApp {
    /// Creates the app and starts its backend thread.
    pub fn new(ctx: &egui::Context, socket: PathBuf) -> AdminApp {
        // Exchange Administrator was a light, businesslike Windows program.
        ctx.set_theme(egui::Theme::Light);
        let (commands, updates) = backend::spawn(ctx.clone(), socket.clone());
        AdminApp {
            socket,
            commands,
            updates,
            connection: Connection::Connecting,
            status: None,
            config: None,
            mailboxes: (Vec::new(), Vec::new()),
            queue: Vec::new(),
            certificate: None,
            lockouts: Vec::new(),
            tracking: Vec::new(),
            selected: Node::InternetMailService,
            properties: None,
            pending: Vec::new(),
            restart: None,
            lifecycle_error: None,
            error: None,
            windows: views::Windows::default(),
            starting_service: None,
            daemon: None,
            auto_start: false,
        }
    }

    /// Starts the service automatically, once, if none answers at launch.
    pub fn auto_start(mut self) -> AdminApp {
        self.auto_start = true;
        self
    }

    /// Uses `path` as the `mailroomd` that Start Service launches.
    pub fn with_daemon(mut self, path: PathBuf) -> AdminApp {
        self.daemon = Some(path);
        self
    }

    /// Sends a command to the backend.
    pub(crate) fn send(&self, cmd: Command) {
        let _ = self.commands.send(cmd);
    }

    /// True when editing is possible (connected to a service).
    pub fn connected(&self) -> bool {
        matches!(self.connection, Connection::Connected(_))
    }

    fn drain_updates(&mut self) {
        while let Ok(u) = self.updates.try_recv() {
            match u {
                Update::Connected(server) => {
                    self.auto_start = false;
                    self.connection = Connection::Connected(server);
                    self.starting_service = None;
                }
                Update::Disconnected(reason) => {
                    self.connection = Connection::Down(reason);
                    if std::mem::take(&mut self.auto_start) && self.starting_service.is_none() {
                        self.start_service();
                    }
                }
                Update::Status(s) => {
                    self.pending = s.pending_pages.clone();
                    self.status = Some(*s);
                }
                Update::Config(c, rev) => self.config = Some((*c, rev)),
                Update::Saved { revision } => {
                    if let Some(p) = &mut self.properties {
                        p.saved(revision);
                    }
                }
                Update::SaveFailed(e) => {
                    if let Some(p) = &mut self.properties {
                        p.save_failed(e);
                    }
                }
                Update::Mailboxes(m, w) => self.mailboxes = (m, w),
                Update::Queue(q) => self.queue = q,
                Update::Certificate(c) => self.certificate = c.map(|c| *c),
                Update::Lockouts(l) => self.lockouts = l,
                Update::QueueDetails(d) => self.windows.queue_details = Some(*d),
                Update::Tracking(t) => self.tracking = t,
                Update::AddressTest(r) => self.windows.tester.result = Some(r),
                Update::LifecycleDone(r) => {
                    self.lifecycle_error = r.err();
                    if self.lifecycle_error.is_none() {
                        self.restart = None;
                    }
                }
                Update::Event(Event::ServiceState { state, error }) => {
                    if let Some(progress) = &mut self.restart {
                        progress.push(match &error {
                            Some(e) => format!("{state}: {e}"),
                            None => state.to_string(),
                        });
                    }
                    if let Some(e) = error {
                        self.lifecycle_error = Some(e);
                    }
                }
                Update::Event(_) => {}
                Update::Error(e) => self.error = Some(e),
            }
        }
    }

    /// Asks the service to restart, showing progress in the banner.
    pub(crate) fn restart_service(&mut self) {
        self.restart = Some(Vec::new());
        self.lifecycle_error = None;
        self.send(Command::Lifecycle(Lifecycle::Restart));
    }

    /// Launches `mailroomd` detached with the default data directory (and our
    /// socket); the backend connects once it answers.
    pub(crate) fn start_service(&mut self) {
        let exe = self.daemon.clone().unwrap_or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|p| p.parent().map(|d| d.join("mailroomd")))
                .filter(|p| p.exists())
                .unwrap_or_else(|| PathBuf::from("mailroomd"))
        });
        let mut cmd = std::process::Command::new(&exe);
        cmd.arg("--socket")
            .arg(&self.socket)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        self.starting_service = Some(match cmd.spawn() {
            Ok(_) => format!("Starting {}…", exe.display()),
            Err(e) => format!("Cannot start {}: {e}", exe.display()),
        });
    }

    fn menu_ui(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Connect…").clicked() {
                    self.send(Command::Refresh);
                }
                if ui.button("Exit").clicked() {
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
            ui.menu_button("Tools", |ui| {
                if ui.button("Track Message…").clicked() {
                    self.windows.tracking_open = true;
                }
                if ui.button("Test Address…").clicked() {
                    self.windows.tester.open = true;
                }
            });
            ui.menu_button("Help", |ui| {
                if ui.button("About Mailroom Administrator").clicked() {
                    self.windows.about_open = true;
                }
            });
        });
    }

    fn toolbar_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let connected = self.connected();
            if ui.add_enabled(connected && self.config.is_some(), egui::Button::new("Properties")).clicked() {
                self.open_properties();
            }
            if ui.add_enabled(connected, egui::Button::new("Restart Service")).clicked() {
                self.restart_service();
            }
            if ui.add_enabled(connected, egui::Button::new("Refresh")).clicked() {
                self.send(Command::Refresh);
            }
        });
    }

    /// Opens the Internet Mail Service Properties on the saved configuration.
    pub(crate) fn open_properties(&mut self) {
        if let Some((config, revision)) = &self.config {
            self.properties = Some(PropertiesState::new(config, *revision));
        }
    }

    fn tree_ui(&mut self, ui: &mut egui::Ui) {
        let mut item = |ui: &mut egui::Ui, node: Node, label: &str| {
            if ui.selectable_label(self.selected == node, label).clicked() {
                self.selected = node;
            }
        };
        egui::CollapsingHeader::new("Organization").default_open(true).show(ui, |ui| {
            egui::CollapsingHeader::new("Site").default_open(true).show(ui, |ui| {
                egui::CollapsingHeader::new("Configuration").default_open(true).show(ui, |ui| {
                    egui::CollapsingHeader::new("Connections").default_open(true).show(ui, |ui| {
                        item(ui, Node::InternetMailService, "Internet Mail Service");
                    });
                    egui::CollapsingHeader::new("Protocols").default_open(true).show(ui, |ui| {
                        item(ui, Node::Pop3, "POP3");
                    });
                });
                item(ui, Node::Recipients, "Recipients");
                egui::CollapsingHeader::new("Server").default_open(true).show(ui, |ui| {
                    item(ui, Node::Queues, "Queues");
                    item(ui, Node::ServiceStatus, "Service Status");
                });
            });
        });
    }

    fn status_bar_ui(&self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            match &self.connection {
                Connection::Connecting => {
                    ui.spinner();
                    ui.label("Connecting…");
                }
                Connection::Connected(server) => {
                    ui.label(format!("Connected to {server}"));
                }
                Connection::Down(_) => {
                    ui.label("Not connected");
                }
            }
            if let Some(s) = &self.status {
                ui.separator();
                ui.label(format!("Internet Mail Service: {}", state_words(s.state)));
                if let Some(up) = s.uptime_secs {
                    ui.separator();
                    ui.label(format!("Up {}:{:02}:{:02}", up / 3600, up / 60 % 60, up % 60));
                }
            }
            if let Some(e) = &self.error {
                ui.separator();
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
        });
    }

    /// The "saved, restart needed" banner, and restart progress.
    fn banner_ui(&mut self, ui: &mut egui::Ui) {
        let restarting = self.restart.clone();
        if self.pending.is_empty() && restarting.is_none() && self.lifecycle_error.is_none() {
            return;
        }
        egui::Frame::new()
            .fill(egui::Color32::from_rgb(255, 248, 214))
            .stroke(egui::Stroke::new(1.0, egui::Color32::from_rgb(214, 190, 110)))
            .inner_margin(egui::Margin::symmetric(10, 6))
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    if let Some(steps) = &restarting {
                        ui.spinner();
                        let shown = if steps.is_empty() { "Restarting…".to_owned() } else { steps.join(", ") };
                        ui.label(format!("Restarting the Internet Mail Service: {shown}"));
                    } else if !self.pending.is_empty() {
                        let pages: Vec<&str> = self.pending.iter().map(|p| p.title()).collect();
                        ui.label(format!(
                            "Saved. These changes take effect when the Internet Mail Service is restarted: {}.",
                            pages.join(", ")
                        ));
                        if ui.add_enabled(self.connected(), egui::Button::new("Restart Service")).clicked() {
                            self.restart_service();
                        }
                    }
                    if let Some(e) = &self.lifecycle_error {
                        ui.colored_label(ui.visuals().error_fg_color, format!("The service reports: {e}"));
                    }
                });
            });
    }

    fn no_service_ui(&mut self, ui: &mut egui::Ui, reason: &str) {
        ui.add_space(24.0);
        ui.vertical_centered(|ui| {
            ui.heading("No Mailroom service is running");
            ui.label(format!("Nothing answers on {}.", self.socket.display()));
            ui.weak(reason);
            ui.add_space(8.0);
            if ui.button("Start Service").clicked() {
                self.start_service();
            }
            if let Some(s) = &self.starting_service {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(s);
                });
            }
        });
    }
}

/// A state in the words the GUI uses.
pub fn state_words(s: ServiceState) -> &'static str {
    match s {
        ServiceState::Running => "Running",
        ServiceState::Stopped => "Stopped",
        ServiceState::Starting => "Starting…",
        ServiceState::Stopping => "Stopping…",
    }
}

impl eframe::App for AdminApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.drain_updates();
        egui::Panel::top("menu").show(ui, |ui| self.menu_ui(ui));
        egui::Panel::top("toolbar").show(ui, |ui| self.toolbar_ui(ui));
        egui::Panel::bottom("status_bar").show(ui, |ui| self.status_bar_ui(ui));
        egui::Panel::left("tree").resizable(true).default_size(250.0).show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| self.tree_ui(ui));
        });
        egui::CentralPanel::default().show(ui, |ui| {
            self.banner_ui(ui);
            if let Connection::Down(reason) = &self.connection {
                let reason = reason.clone();
                self.no_service_ui(ui, &reason);
                return;
            }
            match self.selected {
                Node::InternetMailService => views::ims_ui(self, ui),
                Node::Pop3 => views::pop3_ui(self, ui),
                Node::Recipients => views::recipients_ui(self, ui),
                Node::Queues => views::queues_ui(self, ui),
                Node::ServiceStatus => views::status_ui(self, ui),
            }
        });
        let ctx = ui.ctx().clone();
        crate::properties::properties_window(self, &ctx);
        views::windows(self, &ctx);
    }
}
