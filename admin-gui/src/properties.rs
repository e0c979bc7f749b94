//! Internet Mail Service Properties: tabs over one configuration draft, with OK,
//! Cancel and Apply. Every field is validated as it is typed (with `shared`'s
//! validation), and errors from the service are shown next to the field they name.

use mailroom_shared::config::{AcceptFrom, Config, ConfigDraft, ConfigError, LogLevel, PlainTextAuth, TransferMode};
use mailroom_shared::ipc::client::ClientError;
use mailroom_shared::ipc::{CertificateInfo, IpcError};

use crate::app::AdminApp;
use crate::backend::Command;
use crate::routing::{self, EntryDialog, RestrictionsDialog};

/// The tabs, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    General,
    Connections,
    Routing,
    Delivery,
    Security,
    Pop3,
    Queues,
    Diagnostics,
}

impl Tab {
    const ALL: [Tab; 8] = [
        Tab::General,
        Tab::Connections,
        Tab::Routing,
        Tab::Delivery,
        Tab::Security,
        Tab::Pop3,
        Tab::Queues,
        Tab::Diagnostics,
    ];
    fn title(self) -> &'static str {
        match self {
            Tab::General => "General",
            Tab::Connections => "Connections",
            Tab::Routing => "Routing",
            Tab::Delivery => "Delivery",
            Tab::Security => "Security",
            Tab::Pop3 => "POP3",
            Tab::Queues => "Queues",
            Tab::Diagnostics => "Diagnostics Logging",
        }
    }
}

/// The open properties window.
pub struct PropertiesState {
    pub tab: Tab,
    pub draft: ConfigDraft,
    original: ConfigDraft,
    base_revision: u64,
    /// Errors the service gave for the last Apply.
    server_errors: Vec<ConfigError>,
    /// Other refusal (conflict…).
    server_message: Option<String>,
    saving: bool,
    close_after_save: bool,
    pub selected_entry: Option<usize>,
    pub entry_dialog: Option<EntryDialog>,
    pub restrictions: Option<RestrictionsDialog>,
    /// Text of the retry schedule field.
    retry_text: String,
}

impl PropertiesState {
    /// Opens on the saved configuration.
    pub fn new(config: &Config, revision: u64) -> PropertiesState {
        let draft = config.to_draft();
        let retry_text = retry_to_text(&draft.delivery.retry_intervals_secs);
        PropertiesState {
            tab: Tab::General,
            original: draft.clone(),
            draft,
            base_revision: revision,
            server_errors: Vec::new(),
            server_message: None,
            saving: false,
            close_after_save: false,
            selected_entry: None,
            entry_dialog: None,
            restrictions: None,
            retry_text,
        }
    }

    /// The save went through.
    pub fn saved(&mut self, revision: u64) {
        self.saving = false;
        self.base_revision = revision;
        self.original = self.draft.clone();
        self.server_errors.clear();
        self.server_message = None;
    }

    /// The service refused the save.
    pub fn save_failed(&mut self, e: ClientError) {
        self.saving = false;
        self.close_after_save = false;
        match e {
            ClientError::Remote(IpcError::InvalidConfig { errors }) => self.server_errors = errors,
            other => self.server_message = Some(other.to_string()),
        }
    }

    /// Validation errors of the draft as it stands, then the service's.
    pub fn errors(&self) -> Vec<ConfigError> {
        let mut errors = Config::from_draft(&self.draft).err().map(|e| e.0).unwrap_or_default();
        errors.extend(self.server_errors.iter().cloned());
        errors
    }

    fn dirty(&self) -> bool {
        self.draft != self.original
    }
}

fn retry_to_text(v: &[u64]) -> String {
    v.iter().map(|s| (s / 60).to_string()).collect::<Vec<_>>().join(", ")
}

/// Shows the errors whose field starts with `field`, in red, under the control.
pub fn field_errors(ui: &mut egui::Ui, errors: &[ConfigError], field: &str) {
    for e in errors.iter().filter(|e| {
        e.field == field || e.field.starts_with(&format!("{field}.")) || e.field.starts_with(&format!("{field}["))
    }) {
        ui.colored_label(ui.visuals().error_fg_color, e.problem.to_string());
    }
}

/// A labelled single-line text field in a two-column grid.
pub fn text_row(ui: &mut egui::Ui, label: &str, value: &mut String, errors: &[ConfigError], field: &str) {
    let l = ui.label(label);
    ui.vertical(|ui| {
        ui.add(egui::TextEdit::singleline(value).desired_width(280.0)).labelled_by(l.id);
        field_errors(ui, errors, field);
    });
    ui.end_row();
}

/// A labelled number field.
fn number_row(ui: &mut egui::Ui, label: &str, value: &mut u64, suffix: &str, errors: &[ConfigError], field: &str) {
    let l = ui.label(label);
    ui.vertical(|ui| {
        ui.horizontal(|ui| {
            ui.add(egui::DragValue::new(value).range(0..=u64::MAX)).labelled_by(l.id);
            ui.label(suffix);
        });
        field_errors(ui, errors, field);
    });
    ui.end_row();
}

fn combo<T: PartialEq + Copy>(ui: &mut egui::Ui, label: &str, value: &mut T, options: &[(T, &str)]) {
    let l = ui.label(label);
    let current = options.iter().find(|(v, _)| v == value).map_or("", |(_, n)| n);
    egui::ComboBox::from_id_salt(label)
        .selected_text(current)
        .show_ui(ui, |ui| {
            for (v, name) in options {
                ui.selectable_value(value, *v, *name);
            }
        })
        .response
        .labelled_by(l.id);
    ui.end_row();
}

/// Draws the window, if open, and applies its buttons.
pub fn properties_window(app: &mut AdminApp, ctx: &egui::Context) {
    let Some(mut p) = app.properties.take() else { return };
    let mut open = true;
    let mut close = false;
    let connected = app.connected();
    egui::Window::new("Internet Mail Service Properties")
        .open(&mut open)
        .collapsible(false)
        .resizable(true)
        .default_size([660.0, 500.0])
        .show(ctx, |ui| {
            ui.horizontal_wrapped(|ui| {
                for tab in Tab::ALL {
                    ui.selectable_value(&mut p.tab, tab, tab.title());
                }
            });
            ui.separator();
            let errors = p.errors();
            egui::ScrollArea::vertical().max_height(ui.available_height() - 40.0).show(ui, |ui| {
                ui.add_enabled_ui(connected && !p.saving, |ui| match p.tab {
                    Tab::General => general_tab(ui, &mut p.draft, &errors),
                    Tab::Connections => connections_tab(ui, &mut p.draft, &errors),
                    Tab::Routing => routing::routing_tab(ui, &mut p, &errors),
                    Tab::Delivery => delivery_tab(ui, &mut p, &errors),
                    Tab::Security => security_tab(ui, &mut p.draft, &errors, app.certificate.as_ref()),
                    Tab::Pop3 => pop3_tab(ui, &mut p.draft, &errors),
                    Tab::Queues => crate::views::queue_table(ui, &app.queue, &mut None, &mut None),
                    Tab::Diagnostics => diagnostics_tab(ui, &mut p.draft),
                });
            });
            if let Some(m) = &p.server_message {
                ui.colored_label(ui.visuals().error_fg_color, m);
            }
            ui.separator();
            ui.horizontal(|ui| {
                if !errors.is_empty() {
                    ui.colored_label(ui.visuals().error_fg_color, format!("{} problem(s) to correct", errors.len()));
                }
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    let can_apply = connected && errors.is_empty() && p.dirty() && !p.saving;
                    if ui.add_enabled(can_apply, egui::Button::new("Apply")).clicked() {
                        p.saving = true;
                        app.send(Command::SaveConfig {
                            draft: Box::new(p.draft.clone()),
                            base_revision: p.base_revision,
                        });
                    }
                    if ui.button("Cancel").clicked() {
                        close = true;
                    }
                    if ui.add_enabled(connected && errors.is_empty() && !p.saving, egui::Button::new("OK")).clicked() {
                        if p.dirty() {
                            p.saving = true;
                            p.close_after_save = true;
                            app.send(Command::SaveConfig {
                                draft: Box::new(p.draft.clone()),
                                base_revision: p.base_revision,
                            });
                        } else {
                            close = true;
                        }
                    }
                    if p.saving {
                        ui.spinner();
                    }
                });
            });
        });
    routing::dialogs(ctx, &mut p);
    if p.close_after_save && !p.saving && !p.dirty() {
        close = true;
    }
    if open && !close {
        app.properties = Some(p);
    }
}

fn general_tab(ui: &mut egui::Ui, d: &mut ConfigDraft, errors: &[ConfigError]) {
    egui::Grid::new("general").num_columns(2).spacing([12.0, 8.0]).show(ui, |ui| {
        text_row(ui, "Host name:", &mut d.general.host_name, errors, "general.host_name");
        text_row(
            ui,
            "Administrator's mailbox:",
            &mut d.general.administrator_mailbox,
            errors,
            "general.administrator_mailbox",
        );
        ui.label("Message size:");
        ui.vertical(|ui| {
            let mut limited = d.general.max_message_size_kb.is_some();
            ui.horizontal(|ui| {
                ui.radio_value(&mut limited, false, "No limit");
                let maximum = ui.radio_value(&mut limited, true, "Maximum (K):");
                let mut kb = d.general.max_message_size_kb.unwrap_or(25_600);
                ui.add_enabled(limited, egui::DragValue::new(&mut kb).range(0..=u64::MAX)).labelled_by(maximum.id);
                d.general.max_message_size_kb = limited.then_some(kb);
            });
            field_errors(ui, errors, "general.max_message_size_kb");
        });
        ui.end_row();
        number_row(
            ui,
            "Drain timeout on restart:",
            &mut d.general.drain_timeout_secs,
            "seconds",
            errors,
            "general.drain_timeout_secs",
        );
    });
}

fn connections_tab(ui: &mut egui::Ui, d: &mut ConfigDraft, errors: &[ConfigError]) {
    let c = &mut d.connections;
    egui::Grid::new("connections").num_columns(2).spacing([12.0, 8.0]).show(ui, |ui| {
        combo(
            ui,
            "Transfer mode:",
            &mut c.transfer_mode,
            &[
                (TransferMode::InboundAndOutbound, "Inbound & Outbound"),
                (TransferMode::InboundOnly, "Inbound only"),
                (TransferMode::OutboundOnly, "Outbound only"),
                (TransferMode::None, "None (flush queues)"),
            ],
        );
        text_row(ui, "SMTP listens on (IP:port):", &mut c.smtp_listen, errors, "connections.smtp_listen");
        text_row(
            ui,
            "SMTP over TLS, port 465 (empty: off):",
            &mut c.submissions_listen,
            errors,
            "connections.submissions_listen",
        );
        text_row(ui, "Forward all mail to host (empty: use DNS):", &mut c.smart_host, errors, "connections.smart_host");
        ui.label("");
        ui.vertical(|ui| {
            // Only meaningful with a smart host; left enabled while ticked so that a
            // ticked box can always be cleared.
            let enabled = !c.smart_host.trim().is_empty() || c.smart_host_requires_tls;
            ui.add_enabled(
                enabled,
                egui::Checkbox::new(
                    &mut c.smart_host_requires_tls,
                    "The host requires TLS (STARTTLS with a certificate valid for its name)",
                ),
            );
            field_errors(ui, errors, "connections.smart_host_requires_tls");
        });
        ui.end_row();
        text_row(ui, "DNS server (empty: system):", &mut c.dns_server, errors, "connections.dns_server");
        combo(
            ui,
            "Accept connections from:",
            &mut c.accept_from,
            &[
                (AcceptFrom::Any, "Any client"),
                (AcceptFrom::MustAuthenticate, "Only clients that authenticate"),
                (AcceptFrom::MustAuthenticateAndEncrypt, "Only clients that authenticate and encrypt"),
            ],
        );
        ui.label("");
        ui.checkbox(
            &mut c.sender_must_match_account,
            "Clients can only submit if the authenticated account matches the sender",
        );
        ui.end_row();
        number_row(ui, "Maximum connections:", &mut c.max_connections, "", errors, "connections.max_connections");
        number_row(
            ui,
            "Maximum connections per IP:",
            &mut c.max_connections_per_ip,
            "",
            errors,
            "connections.max_connections_per_ip",
        );
        number_row(
            ui,
            "Maximum recipients per message:",
            &mut c.max_recipients,
            "",
            errors,
            "connections.max_recipients",
        );
        number_row(
            ui,
            "Command timeout:",
            &mut c.command_timeout_secs,
            "seconds",
            errors,
            "connections.command_timeout_secs",
        );
        number_row(ui, "Data timeout:", &mut c.data_timeout_secs, "seconds", errors, "connections.data_timeout_secs");
    });
    field_errors(ui, errors, "connections.domain_forwards");
}

fn delivery_tab(ui: &mut egui::Ui, p: &mut PropertiesState, errors: &[ConfigError]) {
    egui::Grid::new("delivery").num_columns(2).spacing([12.0, 8.0]).show(ui, |ui| {
        let l = ui.label("Retry intervals (minutes, the last repeats):");
        ui.vertical(|ui| {
            if ui.add(egui::TextEdit::singleline(&mut p.retry_text).desired_width(200.0)).labelled_by(l.id).changed() {
                p.draft.delivery.retry_intervals_secs =
                    p.retry_text.split(',').map(|s| s.trim().parse::<u64>().map(|m| m * 60).unwrap_or(0)).collect();
            }
            field_errors(ui, errors, "delivery.retry_intervals_secs");
        });
        ui.end_row();
        let mut hours = p.draft.delivery.expire_after_secs / 3600;
        let l = ui.label("Return undeliverable mail after:");
        ui.vertical(|ui| {
            ui.horizontal(|ui| {
                if ui.add(egui::DragValue::new(&mut hours).range(1..=720)).labelled_by(l.id).changed() {
                    p.draft.delivery.expire_after_secs = hours * 3600;
                }
                ui.label("hours");
            });
            field_errors(ui, errors, "delivery.expire_after_secs");
        });
        ui.end_row();
        number_row(
            ui,
            "Outbound connections at once:",
            &mut p.draft.delivery.max_concurrent,
            "",
            errors,
            "delivery.max_concurrent",
        );
        number_row(
            ui,
            "… to one destination:",
            &mut p.draft.delivery.max_per_destination,
            "",
            errors,
            "delivery.max_per_destination",
        );
    });
}

fn security_tab(ui: &mut egui::Ui, d: &mut ConfigDraft, errors: &[ConfigError], cert: Option<&CertificateInfo>) {
    egui::Grid::new("security").num_columns(2).spacing([12.0, 8.0]).show(ui, |ui| {
        combo(
            ui,
            "Clear-text SMTP authentication:",
            &mut d.security.plain_text_auth,
            &[
                (PlainTextAuth::Never, "Only over TLS"),
                (PlainTextAuth::LoopbackOnly, "Also without TLS on loopback connections"),
                (PlainTextAuth::Always, "Always (not recommended)"),
            ],
        );
        text_row(
            ui,
            "TLS certificate (PEM file):",
            &mut d.security.tls_certificate,
            errors,
            "security.tls_certificate",
        );
        text_row(ui, "TLS private key (PEM file):", &mut d.security.tls_key, errors, "security.tls_key");
    });
    ui.add_space(6.0);
    ui.label("Leave both files empty to use a self-signed certificate made by Mailroom for the host name.");
    ui.add_space(10.0);
    certificate_ui(ui, cert);
}

/// The certificate the running service presents: who it names, who issued it, how
/// long it is valid, and the fingerprint to compare with what a client shows.
fn certificate_ui(ui: &mut egui::Ui, cert: Option<&CertificateInfo>) {
    ui.strong("Certificate in use");
    ui.separator();
    let Some(c) = cert else {
        ui.label("None: the Internet Mail Service is not running, or could not set up TLS.");
        return;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    egui::Grid::new("certificate").num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
        ui.label("Issued to:");
        ui.label(&c.subject);
        ui.end_row();
        ui.label("Issued by:");
        ui.label(if c.self_signed { format!("{} (self-signed)", c.issuer) } else { c.issuer.clone() });
        ui.end_row();
        ui.label("Valid for:");
        ui.label(c.names.join(", "));
        ui.end_row();
        ui.label("Valid:");
        let validity = format!(
            "{} to {}",
            mailroom_shared::time::format_utc(c.not_before),
            mailroom_shared::time::format_utc(c.not_after)
        );
        if now > c.not_after {
            ui.colored_label(ui.visuals().error_fg_color, format!("{validity} (expired)"));
        } else {
            ui.label(validity);
        }
        ui.end_row();
        ui.label("File:");
        ui.label(&c.path);
        ui.end_row();
        let l = ui.label("SHA-256 fingerprint:");
        ui.vertical(|ui| {
            // Two lines of 16 bytes: readable, and easy to compare with a client's.
            let (a, b) = c.sha256_fingerprint.split_at(c.sha256_fingerprint.len().min(48));
            ui.monospace(a.trim_end_matches(':')).labelled_by(l.id);
            ui.monospace(b);
            if ui.button("Copy fingerprint").clicked() {
                ui.ctx().copy_text(c.sha256_fingerprint.clone());
            }
        });
        ui.end_row();
    });
}

fn pop3_tab(ui: &mut egui::Ui, d: &mut ConfigDraft, errors: &[ConfigError]) {
    egui::Grid::new("pop3").num_columns(2).spacing([12.0, 8.0]).show(ui, |ui| {
        ui.label("");
        ui.checkbox(&mut d.pop3.enabled, "Enable POP3");
        ui.end_row();
        text_row(ui, "POP3 listens on (IP:port):", &mut d.pop3.listen, errors, "pop3.listen");
        text_row(ui, "POP3 over TLS, port 995 (empty: off):", &mut d.pop3.pop3s_listen, errors, "pop3.pop3s_listen");
        number_row(ui, "Idle time-out:", &mut d.pop3.idle_timeout_secs, "seconds", errors, "pop3.idle_timeout_secs");
        combo(
            ui,
            "Clear-text login:",
            &mut d.pop3.plain_text_login,
            &[
                (PlainTextAuth::Never, "Only over TLS"),
                (PlainTextAuth::LoopbackOnly, "Also without TLS on loopback connections"),
                (PlainTextAuth::Always, "Always (not recommended)"),
            ],
        );
    });
}

fn diagnostics_tab(ui: &mut egui::Ui, d: &mut ConfigDraft) {
    let levels: Vec<(LogLevel, &str)> = vec![
        (LogLevel::None, "None"),
        (LogLevel::Minimum, "Minimum"),
        (LogLevel::Medium, "Medium"),
        (LogLevel::Maximum, "Maximum"),
    ];
    egui::Grid::new("diagnostics").num_columns(2).spacing([12.0, 8.0]).show(ui, |ui| {
        let g = &mut d.diagnostics;
        combo(ui, "SMTP protocol:", &mut g.smtp, &levels);
        combo(ui, "POP3:", &mut g.pop3, &levels);
        combo(ui, "Routing:", &mut g.routing, &levels);
        combo(ui, "Delivery:", &mut g.delivery, &levels);
        combo(ui, "Service:", &mut g.service, &levels);
        ui.label("");
        ui.checkbox(&mut g.message_tracking, "Enable message tracking");
        ui.end_row();
    });
}
