//! The app: it takes in the backend's updates, draws the main window, its views and
//! windows from the model, then applies the actions they returned.
//!
//! This is the only module that imports the others, and the only place where things
//! happen: a request is sent, a window opens, a node is selected, `mailroomd` is
//! launched.

use std::path::PathBuf;
use std::sync::mpsc;

use mailroom_shared::ipc::Event;

use crate::actions::Action;
use crate::backend::{self, Command, Update};
use crate::main_window;
use crate::model::{Connection, Model, Restart};
use crate::nav::{Node, Tab};
use crate::properties::PropertiesWindow;
use crate::views::Views;
use crate::windows::Windows;

/// The program: the model, the views' and windows' state, and the channels to the
/// backend thread.
pub struct AdminApp {
    /// What the GUI knows of the service; changed only by the app, from updates and
    /// the requests it sends.
    pub model: Model,
    /// The selected tree node.
    pub selected: Node,
    /// A server connected to over SSH, remembered in the recent list once it answers
    /// (one that never did is not kept).
    remember_when_connected: Option<crate::actions::Recent>,
    /// The tree's containers that are closed.
    collapsed: std::collections::BTreeSet<crate::nav::Container>,
    /// The tree has the keyboard (it was the last pane clicked): the arrow keys walk it.
    tree_keys: bool,
    views: Views,
    windows: Windows,
    /// Internet Mail Service Properties, when open.
    properties: Option<PropertiesWindow>,
    /// The control socket (shown when no service answers, and given to a launched
    /// `mailroomd`).
    socket: PathBuf,
    /// To the backend; dropping it ends the backend thread.
    commands: tokio::sync::mpsc::UnboundedSender<Command>,
    /// From the backend, drained at the start of each frame.
    updates: mpsc::Receiver<Update>,
    /// The `mailroomd` that Start Service runs; `None`: beside this executable, else
    /// on `PATH`.
    daemon: Option<PathBuf>,
    /// Start the service by itself the first time none answers (the program's
    /// default; off for embedding and tests).
    auto_start: bool,
    /// Results told in passing ("Saved", "Restarted — running in 0.4 s"), in a corner.
    toasts: egui_notify::Toasts,
    /// Every toast shown, in order (what a test or a screen reader can read back).
    pub toasts_shown: Vec<String>,
    /// A save was sent that a restart must follow once it is answered.
    restart_after_save: bool,
    /// The service administered: this computer's, or another's over SSH.
    pub target: backend::Target,
    /// The `ssh` program Connect to Server runs.
    ssh_program: PathBuf,
    /// This computer can run the service (Linux); on Windows the Administrator only
    /// reaches servers over SSH.
    local_service: bool,
    /// Whether someone works in the window, for the backend; and when they last did.
    attended: backend::Attended,
    last_input: std::time::Instant,
    /// View → Toolbar.
    show_toolbar: bool,
    /// View → Status Bar.
    show_status_bar: bool,
}

impl AdminApp {
    /// Creates the app and starts its backend thread.
    pub fn new(ctx: &egui::Context, socket: PathBuf) -> AdminApp {
        // Exchange Administrator was a light, businesslike Windows program.
        ctx.set_theme(egui::Theme::Light);
        // Scroll bars that are always drawn where there is more to see, as in a Windows
        // program (egui's thin floating ones show only under the pointer, and a view
        // wider than the window then looked cut off).
        ctx.all_styles_mut(|style| style.spacing.scroll = egui::style::ScrollStyle::solid());
        let target = backend::Target::Local(socket.clone());
        let attended = backend::Attended::default();
        let (commands, updates) = backend::spawn(ctx.clone(), target.clone(), attended.clone());
        AdminApp {
            model: Model::default(),
            selected: Node::InternetMailService,
            collapsed: std::collections::BTreeSet::new(),
            remember_when_connected: None,
            tree_keys: true,
            views: Views::default(),
            windows: Windows::with_settings(mailroom_shared::paths::config_dir()),
            properties: None,
            socket,
            commands,
            updates,
            daemon: None,
            auto_start: false,
            // Above the status bar, not on it.
            toasts: egui_notify::Toasts::default()
                .with_anchor(egui_notify::Anchor::BottomRight)
                .with_margin(egui::vec2(12.0, 40.0)),
            toasts_shown: Vec::new(),
            restart_after_save: false,
            target,
            // As mailroomctl --ssh: $MAILROOM_SSH, else ssh on the PATH.
            ssh_program: mailroom_client::ssh::default_program(),
            local_service: true,
            attended,
            last_input: std::time::Instant::now(),
            show_toolbar: true,
            show_status_bar: true,
        }
    }

    /// For a computer that runs no Mailroom service (Windows): no Start Service, and
    /// the Administrator opens on the server connected to last, or asks for one in
    /// Connect to Server with "Another computer" chosen.
    pub fn remote_only(mut self, ctx: &egui::Context) -> AdminApp {
        self.local_service = false;
        self.auto_start = false;
        self.windows.connect.local = false;
        match crate::windows::connect::load_recent(self.windows.connect.settings.as_deref()).into_iter().next() {
            Some(last) => self.apply(Action::ConnectSsh(last), ctx),
            None => self.windows.connect.show_dialog(),
        }
        self
    }

    /// Keeps the Administrator's settings (the servers connected to lately) in `dir`
    /// rather than the user's settings directory.
    pub fn with_settings_dir(mut self, dir: PathBuf) -> AdminApp {
        self.windows.connect.settings = Some(dir);
        self
    }

    /// Uses `program` as `ssh` for Connect to Server (the tests give one with their key).
    pub fn with_ssh_program(mut self, program: PathBuf) -> AdminApp {
        self.ssh_program = program;
        self
    }

    /// Leaves the service administered for `target`: the window's title names it.
    fn switch_to(&mut self, target: backend::Target, ctx: &egui::Context) {
        let title = match &target {
            backend::Target::Local(_) => "Mailroom Administrator".to_owned(),
            backend::Target::Ssh(t) => format!("Mailroom Administrator — {}", t.host),
        };
        ctx.send_viewport_cmd(egui::ViewportCommand::Title(title));
        self.properties = None;
        self.remember_when_connected = None;
        self.model = Model { server: target.label(), ..Model::default() };
        self.target = target.clone();
        self.send(Command::Connect(target));
    }

    /// Tells a result in passing.
    fn toast(&mut self, text: String, ok: bool) {
        // The crate's own icons are emoji the bundled fonts lack: ours are plain.
        let level = if ok {
            egui_notify::ToastLevel::Custom("✔".into(), crate::main_window::OK_GREEN)
        } else {
            egui_notify::ToastLevel::Custom("!".into(), egui::Color32::from_rgb(190, 30, 30))
        };
        self.toasts
            .add(egui_notify::Toast::custom(text.clone(), level))
            .duration(Some(std::time::Duration::from_secs(4)));
        self.toasts_shown.push(text);
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

    /// True when editing is possible (connected to a service).
    pub fn connected(&self) -> bool {
        self.model.connected()
    }

    /// Takes in the backend's updates, all of them but for a restart's: there, each
    /// state the service reports gets a frame of its own, so the banner shows every step
    /// even when the next ones (and the answer) came in the same instant.
    fn drain_updates(&mut self, ctx: &egui::Context) {
        while let Ok(update) = self.updates.try_recv() {
            let step = self.model.restarting() && matches!(update, Update::Event(Event::ServiceState { .. }));
            // Once a service answered, never launch one by ourselves; the first time
            // none answers, launch one (the program's default).
            match &update {
                Update::Connected(_) => self.auto_start = false,
                Update::Disconnected(_) if std::mem::take(&mut self.auto_start) && self.model.launch.is_none() => {
                    self.start_service();
                }
                _ => {}
            }
            let restarting = self.model.restarting();
            let told = match &update {
                Update::Saved { .. } => Some(("Saved".to_owned(), true)),
                Update::LifecycleDone(Err(_)) if restarting => Some(("The restart failed".to_owned(), false)),
                _ => None,
            };
            let restarted = restarting && matches!(update, Update::LifecycleDone(Ok(())));
            match &update {
                Update::RenewDone(Ok(())) => self.toast("The new certificate is in use".to_owned(), true),
                Update::RenewDone(Err(e)) => self.toast(format!("No new certificate: {e}"), false),
                _ => {}
            }
            // A save the guided fix made: restart once saved; if refused, say so (no
            // property sheet is open to show it).
            let mut restart_now = false;
            if matches!(update, Update::Saved { .. } | Update::SaveFailed(_))
                && std::mem::take(&mut self.restart_after_save)
            {
                match &update {
                    Update::SaveFailed(e) => self.toast(format!("The change could not be saved: {e}"), false),
                    _ => restart_now = true,
                }
            }
            self.model.apply(update);
            if let Some((text, ok)) = told {
                self.toast(text, ok);
            }
            if restart_now {
                self.send(Command::Lifecycle(crate::backend::Lifecycle::Restart));
            }
            if restarted && let Some(Restart::Done { took, .. }) = &self.model.restart {
                let text = format!("Restarted — running in {}", crate::main_window::seconds(*took));
                self.toast(text, true);
            }
            if step {
                // The rest waits for the next frame.
                ctx.request_repaint();
                return;
            }
        }
    }

    /// Applies one action.
    fn apply(&mut self, action: Action, ctx: &egui::Context) {
        match action {
            Action::Send(command) => self.send(command),
            Action::SendAll(commands) => {
                for command in commands {
                    self.send(command);
                }
            }
            Action::Select(node) => self.selected = node,
            Action::OpenProperties(tab) => self.open_properties(tab, ctx),
            Action::OpenSelectedProperties => {
                // On Recipients with one selected, its own Properties (as Alt+Enter and
                // Enter in the list); elsewhere the node's page.
                if !(self.selected == Node::Recipients && self.views.recipients.open_selected()) {
                    self.open_properties(self.selected.properties_tab(), ctx);
                }
            }
            Action::ChangeField { field, why } => {
                self.open_properties(Tab::holding(&field), ctx);
                if let Some(p) = &mut self.properties {
                    p.notice(field.clone(), why);
                }
                crate::widgets::focus_field(ctx, &field);
            }
            Action::Open(window) => self.windows.open(window),
            Action::ShowQueueDetails(queue_id) => {
                self.windows.queue_details.queue_id = Some(queue_id.clone());
                self.send(Command::QueueDetails(queue_id));
            }
            Action::ShowQuarantined(id) => {
                self.windows.quarantined.id = Some(id);
                self.send(Command::QuarantineMessage(id));
            }
            Action::Help(topic) => self.windows.help.show_topic(ctx, topic),
            Action::GuidedFix => {
                self.selected = Node::InternetMailService;
                self.views.ims.open_fix();
            }
            Action::SaveThenRestart(save) => {
                self.restart_after_save = true;
                self.send(save);
            }
            Action::StartService if self.local_service => self.start_service(),
            Action::StartService => self.windows.connect.show_dialog(),
            Action::OpenConnect => self.windows.connect.show_dialog(),
            Action::ImportMail(address) => self.windows.import.open_for(address),
            Action::ClientSetup(address) => self.windows.setup.open_for(address),
            Action::BackUpNow => match self.model.status.as_ref().map(|s| s.data_dir.clone()) {
                // Proposed: the service's own data directory, on its machine, named by
                // the time.
                Some(dir) => {
                    let stamp = mailroom_shared::time::local_stamp(crate::widgets::now());
                    self.model.backup = None;
                    self.windows.backup.open_with(format!("{dir}/mailroom-backup-{stamp}.tar.gz"));
                }
                None => self.toast("No service to back up".to_owned(), false),
            },
            Action::ConnectLocal => self.switch_to(backend::Target::Local(self.socket.clone()), ctx),
            Action::ConnectSsh(server) => {
                let target = backend::Target::Ssh(backend::SshTarget {
                    host: server.host.clone(),
                    port: server.port,
                    command: server.command.clone(),
                    program: self.ssh_program.clone(),
                });
                self.switch_to(target, ctx);
                self.remember_when_connected = Some(server);
            }
            Action::New(kind) => {
                self.selected = Node::Recipients;
                self.views.recipients.open_new(kind);
            }
            Action::Edit(edit) => self.views.edit(self.selected, edit, ctx),
            Action::ToggleToolbar => self.show_toolbar = !self.show_toolbar,
            Action::ToggleStatusBar => self.show_status_bar = !self.show_status_bar,
            Action::Exit => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
        }
    }

    /// Sends a command to the backend, noting in the model what waits for its answer.
    fn send(&mut self, command: Command) {
        self.model.sent(&command);
        // Only fails once the backend thread is gone, which the status bar shows.
        let _ = self.commands.send(command);
    }

    /// Opens Internet Mail Service Properties on the saved configuration, at `tab`; an
    /// open window keeps its edits and only turns to `tab`.
    fn open_properties(&mut self, tab: Tab, ctx: &egui::Context) {
        match (&mut self.properties, &self.model.config) {
            (Some(p), _) => p.tab = tab,
            (None, Some((config, revision))) => {
                self.properties = Some(PropertiesWindow::new(config, *revision, tab));
                // Typing goes to the first field at once.
                crate::widgets::focus_field(ctx, crate::widgets::FIRST_FIELD);
            }
            (None, None) => {}
        }
    }

    /// Launches `mailroomd` detached with the default data directory (and our
    /// socket); the backend connects once it answers.
    fn start_service(&mut self) {
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
        // Its own process group: a Ctrl+C in the terminal the Administrator was started
        // from does not reach the service.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        self.model.launch = Some(match cmd.spawn() {
            Ok(mut child) => {
                // Waited for, so that once it ends it does not linger as a zombie
                // for as long as this window is open. (Without a thread for it, the
                // child is only left unreaped, as before.)
                let _ = std::thread::Builder::new().name("mailroomd-reaper".into()).spawn(move || child.wait());
                format!("Starting {}…", exe.display())
            }
            Err(e) => format!("Cannot start {}: {e}", exe.display()),
        });
    }
}

impl eframe::App for AdminApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        if ui.input(|i| !i.events.is_empty()) {
            self.last_input = std::time::Instant::now();
        }
        self.attended.set(self.last_input.elapsed() < backend::UNATTENDED_AFTER);
        self.drain_updates(ui.ctx());
        if self.model.connected()
            && let Some(server) = self.remember_when_connected.take()
        {
            crate::windows::connect::remember(self.windows.connect.settings.as_deref(), &server);
        }
        let model = &self.model;
        let mut actions: Vec<Action> = Vec::new();
        // While Properties is open the main window waits for it, as a property sheet
        // is modal in Exchange Administrator: the keyboard's Tab stays in the sheet.
        let main = self.properties.is_none();
        let selected = self.selected;
        let chrome =
            main_window::Chrome { node: selected, toolbar: self.show_toolbar, status_bar: self.show_status_bar };
        egui::Panel::top("menu").show(ui, |ui| {
            ui.add_enabled_ui(main, |ui| actions.extend(main_window::menu_ui(ui, chrome)));
        });
        if chrome.toolbar {
            egui::Panel::top("toolbar").show(ui, |ui| {
                ui.add_enabled_ui(main, |ui| actions.extend(main_window::toolbar_ui(ui, model, chrome)));
            });
        }
        if chrome.status_bar {
            egui::Panel::bottom("status_bar").show(ui, |ui| main_window::status_bar_ui(ui, model));
        }
        let collapsed = &mut self.collapsed;
        let pressed = ui.input(|i| i.pointer.any_pressed());
        let mut tree_keys = self.tree_keys;
        egui::Panel::left("tree").resizable(true).default_size(250.0).size_range(150.0..=600.0).show(ui, |ui| {
            // A click in a pane gives it the keyboard, as in a Windows window.
            if pressed && ui.rect_contains_pointer(ui.max_rect()) {
                tree_keys = true;
            }
            ui.visuals_mut().selection = main_window::pane_selection(tree_keys, ui.visuals());
            ui.add_enabled_ui(main, |ui| {
                // Filling the pane, so that dragging its edge resizes it (a pane that
                // only used its labels' width snapped back).
                egui::ScrollArea::vertical()
                    .auto_shrink([false, false])
                    .show(ui, |ui| actions.extend(main_window::tree_ui(ui, selected, model, collapsed)));
            });
        });
        egui::CentralPanel::default().show(ui, |ui| {
            if pressed && ui.rect_contains_pointer(ui.max_rect()) {
                tree_keys = false;
            }
            ui.add_enabled_ui(main, |ui| {
                actions.extend(main_window::banner_ui(ui, model));
                if let Connection::Down(reason) = &model.connection {
                    actions.extend(main_window::no_service_ui(ui, model, &self.target, reason, self.local_service));
                } else {
                    // A view wider than the window (a small screen) scrolls sideways, so
                    // that no column or button is out of reach.
                    let list_keys = !tree_keys;
                    egui::ScrollArea::horizontal().id_salt(("view", self.selected)).auto_shrink([false, false]).show(
                        ui,
                        |ui| {
                            ui.visuals_mut().selection = main_window::pane_selection(list_keys, ui.visuals());
                            actions.extend(self.views.ui(self.selected, ui, model));
                        },
                    );
                }
            });
        });
        let ctx = ui.ctx().clone();
        if let Some(p) = &mut self.properties {
            let can_start = self.local_service && matches!(self.target, backend::Target::Local(_));
            actions.extend(p.show(&ctx, model, can_start));
            if !p.is_open() {
                self.properties = None;
            }
        }
        // F1: help on what is in front of the user (the open tab, else the node).
        if ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::F1)) {
            let topic = match &self.properties {
                Some(p) => crate::help::Topic::Tab(p.tab),
                None => self
                    .views
                    .help_topic()
                    .or_else(|| self.windows.help_topic(&ctx))
                    .unwrap_or_else(|| crate::help::Topic::of_node(selected)),
            };
            actions.push(Action::Help(topic));
        }
        self.windows.show(&ctx, model, &mut actions);
        // Escape closes the windows that only show things, unless a dialog (or the
        // property sheet, whose Cancel it is) has the keyboard.
        if self.properties.is_none()
            && !self.windows.connect.open
            && !self.views.has_dialog()
            && ctx.input(|i| i.key_pressed(egui::Key::Escape))
        {
            self.windows.close_info();
        }
        // F6 moves the keys between the tree and the view, as between a Windows
        // window's panes.
        if main
            && !self.windows.any_open()
            && !self.views.has_dialog()
            && ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::F6))
        {
            tree_keys = !tree_keys;
            ctx.memory_mut(|m| m.stop_text_input());
            // Drawn again, with the selection of the pane that now has the keys.
            ctx.request_repaint();
        }
        self.tree_keys = tree_keys;
        self.views.recipients.list_keys = !tree_keys;
        self.views.queues.list_keys = !tree_keys;
        self.views.quarantine.list_keys = !tree_keys;
        if main && !self.windows.any_open() && !self.views.has_dialog() {
            let tree = self.tree_keys.then_some((self.selected, &mut self.collapsed));
            actions.extend(main_window::keys(&ctx, &self.model, tree));
        }
        for action in actions {
            self.apply(action, &ctx);
        }
        self.toasts.show(&ctx);
    }
}
