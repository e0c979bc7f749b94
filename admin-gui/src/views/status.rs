//! Server → Service Status: the service's state, addresses, certificate and version,
//! the disk (in red, with what to do, when it is low), Start, Stop and Restart, and the
//! addresses and logins locked out after failed logins, each with Unlock, what the
//! message filtering defences did today, and the accounts held for going over a
//! sending limit, each with Unlock.

use mailroom_shared::ipc::ServiceState;

use crate::actions::Action;
use crate::backend::{Command, Lifecycle};
use crate::model::Model;
use crate::widgets::state_words;

/// A size in the units people read: `512 KB`, `3.4 MB`, `12.0 GB`.
fn bytes(n: u64) -> String {
    const K: f64 = 1024.0;
    let n = n as f64;
    if n < K * K {
        format!("{:.0} KB", n / K)
    } else if n < K * K * K {
        format!("{:.1} MB", n / (K * K))
    } else {
        format!("{:.1} GB", n / (K * K * K))
    }
}

/// The Service Status view (it keeps no state of its own).
#[derive(Debug, Default)]
pub struct StatusView;

impl StatusView {
    /// The status grid, the lifecycle buttons, and the lock-outs.
    pub fn ui(&mut self, ui: &mut egui::Ui, model: &Model) -> Option<Action> {
        ui.heading("Service Status");
        let Some(s) = &model.status else {
            ui.spinner();
            return None;
        };
        egui::Grid::new("status").num_columns(2).spacing([16.0, 6.0]).show(ui, |ui| {
            ui.label("Internet Mail Service:");
            ui.label(state_words(s.state));
            ui.end_row();
            ui.label("SMTP:");
            ui.label(s.smtp_addr.as_deref().unwrap_or("—"));
            ui.end_row();
            if let Some(a) = &s.submissions_addr {
                ui.label("SMTP over TLS:");
                ui.label(a);
                ui.end_row();
            }
            if let Some(a) = &s.submission_addr {
                ui.label("Submission:");
                ui.label(a);
                ui.end_row();
            }
            ui.label("POP3:");
            ui.label(s.pop3_addr.as_deref().unwrap_or("—"));
            ui.end_row();
            if let Some(a) = &s.pop3s_addr {
                ui.label("POP3 over TLS:");
                ui.label(a);
                ui.end_row();
            }
            ui.label("IMAP4:");
            ui.label(s.imap_addr.as_deref().unwrap_or("—"));
            ui.end_row();
            if let Some(a) = &s.imaps_addr {
                ui.label("IMAP4 over TLS:");
                ui.label(a);
                ui.end_row();
            }
            if let Some(c) = &model.certificate {
                ui.label("TLS certificate:");
                ui.label(format!(
                    "{} — SHA-256 {}…",
                    c.subject,
                    &c.sha256_fingerprint[..c.sha256_fingerprint.len().min(23)]
                ));
                ui.end_row();
            }
            ui.label("Data directory:");
            ui.label(&s.data_dir);
            ui.end_row();
            if let Some(d) = &s.storage {
                ui.label("Disk:");
                let free = format!(
                    "{} free of {} (keeping {} free for deliveries and deletions)",
                    bytes(d.free_bytes),
                    bytes(d.total_bytes),
                    bytes(d.reserve_bytes)
                );
                if d.low {
                    ui.vertical(|ui| {
                        ui.colored_label(ui.visuals().error_fg_color, format!("Low on space: {free}"));
                        ui.colored_label(
                            ui.visuals().error_fg_color,
                            "New mail is refused until there is room (senders retry later). Free space on \
                             this disk, or delete old mail.",
                        );
                    });
                } else {
                    ui.label(free);
                }
                ui.end_row();
                ui.label("Kept on it:");
                ui.label(format!(
                    "database {}, log files {}; tracking and logs kept {} days",
                    bytes(d.database_bytes),
                    bytes(d.log_bytes),
                    d.keep_days
                ));
                ui.end_row();
            }
            ui.label("Version:");
            ui.label(format!("mailroomd {} (pid {})", s.version, s.pid));
            ui.end_row();
            if let Some(e) = &s.last_error {
                ui.label("Last error:");
                ui.colored_label(ui.visuals().error_fg_color, e);
                ui.end_row();
            }
        });
        let mut action = None;
        ui.horizontal(|ui| {
            let c = model.connected();
            let mut lifecycle = |op| action = Some(Action::Send(Command::Lifecycle(op)));
            if ui.add_enabled(c && s.state == ServiceState::Stopped, egui::Button::new("Start")).clicked() {
                lifecycle(Lifecycle::Start);
            }
            if ui.add_enabled(c && s.state == ServiceState::Running, egui::Button::new("Stop")).clicked() {
                lifecycle(Lifecycle::Stop);
            }
            if ui.add_enabled(c, egui::Button::new("Restart Service")).clicked() {
                lifecycle(Lifecycle::Restart);
            }
        });
        ui.add_space(16.0);
        let action = lockouts_ui(ui, model).or(action);
        ui.add_space(16.0);
        filtering_ui(ui, model).or(action)
    }
}

/// What the filtering defences did today, and the accounts held for going over a
/// sending limit, each with Unlock.
fn filtering_ui(ui: &mut egui::Ui, model: &Model) -> Option<Action> {
    let f = model.status.as_ref()?.filtering.as_ref()?;
    ui.strong("Message filtering today");
    ui.separator();
    egui::Grid::new("filtering_counts").num_columns(2).spacing([16.0, 4.0]).show(ui, |ui| {
        let mut row = |label: &str, n: u64| {
            ui.label(label);
            ui.label(n.to_string());
            ui.end_row();
        };
        row("Clients refused, on a DNS blocklist:", f.dns_listed);
        row("Clients refused, talking before the greeting:", f.early_talkers);
        row("Recipients greylisted:", f.greylisted);
        row("Messages refused by the content filter:", f.filter_rejected);
        row("Messages quarantined:", f.quarantined);
        row("Recipients refused by a sending limit:", f.sending_limited);
        row("Messages in the quarantine now:", f.in_quarantine);
    });
    ui.add_space(12.0);
    ui.strong("Accounts held for going over a sending limit");
    ui.separator();
    if f.held_accounts.is_empty() {
        ui.label("No account is held.");
        return None;
    }
    ui.label("A held account cannot send outside until unlocked. Change its password first if it may be stolen.");
    let mut action = None;
    egui::Grid::new("held_accounts").num_columns(4).striped(true).spacing([16.0, 6.0]).show(ui, |ui| {
        for heading in ["Account", "Held since", "Why", ""] {
            ui.strong(heading);
        }
        ui.end_row();
        for h in &f.held_accounts {
            ui.label(&h.account);
            ui.label(mailroom_shared::time::format_utc(h.since));
            ui.label(&h.reason);
            if ui.add_enabled(model.connected(), egui::Button::new(format!("Unlock {}", h.account))).clicked() {
                action = Some(Action::Send(Command::SendingUnlock(h.account.clone())));
            }
            ui.end_row();
        }
    });
    action
}

/// Addresses locked out after too many failed logins (for one account or for all),
/// and accounts under attack, each with Unlock.
fn lockouts_ui(ui: &mut egui::Ui, model: &Model) -> Option<Action> {
    ui.strong("Locked out after failed logins");
    ui.separator();
    if model.lockouts.is_empty() {
        ui.label("None.");
        return None;
    }
    let mut action = None;
    egui::Grid::new("lockouts").num_columns(5).striped(true).spacing([16.0, 6.0]).show(ui, |ui| {
        for heading in ["Address or login", "What", "Failures", "Until", ""] {
            ui.strong(heading);
        }
        ui.end_row();
        for l in &model.lockouts {
            ui.label(&l.client);
            ui.label(match (&l.account, l.is_address, l.slowed) {
                (Some(account), _, _) => format!("Locked out for {account}"),
                (None, true, _) => "Locked out for every account".to_owned(),
                (None, false, true) => "Under attack: unknown addresses slowed".to_owned(),
                (None, false, false) => "Locked out".to_owned(),
            });
            ui.label(l.failures.to_string());
            ui.label(mailroom_shared::time::format_utc(l.until));
            if ui.add_enabled(model.connected(), egui::Button::new(format!("Unlock {}", l.client))).clicked() {
                action = Some(Action::Send(Command::Unlock(l.client.clone())));
            }
            ui.end_row();
        }
    });
    action
}
