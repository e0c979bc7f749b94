//! The right-hand views for each tree node, and the Tools windows.

use egui_extras::{Column, TableBuilder};
use mailroom_shared::ipc::{MailboxInfo, QueueEntry, ServiceState};
use mailroom_shared::routing::Decision;

use crate::app::{AdminApp, state_words};
use crate::backend::{Command, Lifecycle};

/// State of the secondary windows and dialogs.
#[derive(Default)]
pub struct Windows {
    pub tracking_open: bool,
    pub about_open: bool,
    track_sender: String,
    track_recipient: String,
    pub tester: Tester,
    new_mailbox: Option<NewMailbox>,
    confirm_delete: Option<String>,
    selected_mailbox: Option<usize>,
    selected_queued: Option<usize>,
    /// Column and direction; `None`: by address, ascending.
    mailbox_sort: Option<(usize, bool)>,
    /// Column and direction; `None`: by arrival, oldest first.
    queue_sort: Option<(usize, bool)>,
    /// The queued message shown in Details.
    pub queue_details: Option<mailroom_shared::ipc::QueueDetails>,
    /// Mailbox Properties: the mailbox's primary address and the form.
    edit_mailbox: Option<(String, NewMailbox)>,
}

/// The address tester.
#[derive(Default)]
pub struct Tester {
    pub open: bool,
    recipient: String,
    authenticated_as: String,
    client_ip: String,
    pub result: Option<Result<(Decision, String), String>>,
}

#[derive(Default)]
struct NewMailbox {
    name: String,
    addresses: String,
    password: String,
    confirm: String,
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn ago(t: i64) -> String {
    let s = (now() - t).max(0);
    match s {
        0..60 => format!("{s} s ago"),
        60..3600 => format!("{} min ago", s / 60),
        _ => format!("{} h ago", s / 3600),
    }
}

/// Internet Mail Service: what it does now, at a glance.
pub fn ims_ui(app: &mut AdminApp, ui: &mut egui::Ui) {
    ui.heading("Internet Mail Service");
    let Some((config, _)) = app.config.clone() else {
        ui.spinner();
        return;
    };
    egui::Grid::new("ims_summary").num_columns(2).spacing([16.0, 6.0]).show(ui, |ui| {
        ui.label("Host name:");
        ui.label(config.general.host_name.to_string());
        ui.end_row();
        ui.label("Reroute incoming SMTP mail:");
        ui.label(if config.routing.reroute {
            "Yes"
        } else {
            "No — mail to outside domains is returned to its sender"
        });
        ui.end_row();
        ui.label("Routing table:");
        ui.label(if config.routing.table.entries().is_empty() {
            "(empty)".to_owned()
        } else {
            config
                .routing
                .table
                .entries()
                .iter()
                .map(|e| format!("{} to {}", e.sent_to, e.route_to))
                .collect::<Vec<_>>()
                .join(", ")
        });
        ui.end_row();
        if let Some(s) = &app.status {
            ui.label("SMTP:");
            ui.label(s.smtp_addr.clone().unwrap_or_else(|| "—".into()));
            ui.end_row();
        }
    });
    ui.add_space(8.0);
    if ui.add_enabled(app.connected(), egui::Button::new("Properties…")).clicked() {
        app.open_properties();
    }
}

/// Protocols → POP3.
pub fn pop3_ui(app: &mut AdminApp, ui: &mut egui::Ui) {
    ui.heading("POP3");
    if let Some((config, _)) = &app.config {
        egui::Grid::new("pop3_summary").num_columns(2).spacing([16.0, 6.0]).show(ui, |ui| {
            ui.label("Enabled:");
            ui.label(if config.pop3.enabled { "Yes" } else { "No" });
            ui.end_row();
            ui.label("Listens on:");
            ui.label(
                app.status.as_ref().and_then(|s| s.pop3_addr.clone()).unwrap_or_else(|| config.pop3.listen.to_string()),
            );
            ui.end_row();
            ui.label("Idle time-out:");
            ui.label(format!("{} s", config.pop3.idle_timeout.as_secs()));
            ui.end_row();
        });
    }
    if ui.add_enabled(app.connected(), egui::Button::new("Properties…")).clicked() {
        app.open_properties();
        if let Some(p) = &mut app.properties {
            p.tab = crate::properties::Tab::Pop3;
        }
    }
}

/// Recipients: the mailboxes, sortable, with New Mailbox and Delete.
pub fn recipients_ui(app: &mut AdminApp, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        ui.heading("Recipients");
        if ui.add_enabled(app.connected(), egui::Button::new("New Mailbox…")).clicked() {
            app.windows.new_mailbox = Some(NewMailbox::default());
        }
        let selected_box = app.windows.selected_mailbox.and_then(|i| app.mailboxes.0.get(i)).cloned();
        let selected = selected_box.as_ref().map(|m| m.addresses[0].clone());
        if ui.add_enabled(app.connected() && selected.is_some(), egui::Button::new("Mailbox Properties…")).clicked()
            && let Some(m) = selected_box
        {
            let form =
                NewMailbox { name: m.display_name.clone(), addresses: m.addresses.join(", "), ..Default::default() };
            app.windows.edit_mailbox = Some((m.addresses[0].clone(), form));
        }
        if ui.add_enabled(app.connected() && selected.is_some(), egui::Button::new("Delete")).clicked() {
            app.windows.confirm_delete = selected;
        }
    });
    for w in &app.mailboxes.1 {
        ui.colored_label(ui.visuals().warn_fg_color, format!("Warning: {w}"));
    }
    let (col, asc) = app.windows.mailbox_sort.unwrap_or((1, true));
    let mut rows: Vec<(usize, &MailboxInfo)> = app.mailboxes.0.iter().enumerate().collect();
    rows.sort_by(|a, b| {
        let o = match col {
            0 => a.1.display_name.cmp(&b.1.display_name),
            2 => a.1.message_count.cmp(&b.1.message_count),
            3 => a.1.total_bytes.cmp(&b.1.total_bytes),
            _ => a.1.addresses.cmp(&b.1.addresses),
        };
        if asc { o } else { o.reverse() }
    });
    let mut clicked_header = None;
    let mut clicked_row = None;
    TableBuilder::new(ui)
        .striped(true)
        .sense(egui::Sense::click())
        .column(Column::initial(180.0).resizable(true))
        .column(Column::initial(320.0).resizable(true))
        .column(Column::initial(80.0))
        .column(Column::remainder())
        .header(22.0, |mut h| {
            for (i, name) in ["Display Name", "E-mail Addresses", "Messages", "Size"].into_iter().enumerate() {
                h.col(|ui| {
                    let arrow = if col == i { if asc { " (up)" } else { " (down)" } } else { "" };
                    if ui.button(format!("{name}{arrow}")).clicked() {
                        clicked_header = Some(i);
                    }
                });
            }
        })
        .body(|body| {
            body.rows(20.0, rows.len(), |mut row| {
                let (i, m) = rows[row.index()];
                row.set_selected(app.windows.selected_mailbox == Some(i));
                row.col(|ui| {
                    ui.label(&m.display_name);
                });
                row.col(|ui| {
                    // A selectable label: an accessible control that selects the row.
                    if ui.selectable_label(app.windows.selected_mailbox == Some(i), m.addresses.join(", ")).clicked() {
                        clicked_row = Some(i);
                    }
                });
                row.col(|ui| {
                    ui.label(m.message_count.to_string());
                });
                row.col(|ui| {
                    ui.label(format!("{} KB", m.total_bytes.div_ceil(1024)));
                });
                if row.response().clicked() {
                    clicked_row = Some(i);
                }
            });
        });
    if let Some(i) = clicked_header {
        app.windows.mailbox_sort = Some(if col == i { (i, !asc) } else { (i, true) });
    }
    if let Some(i) = clicked_row {
        app.windows.selected_mailbox = Some(i);
    }
}

/// The queue as a table, sortable by clicking a column header; `selected` tracks
/// the clicked row (an index into `queue`).
pub fn queue_table(
    ui: &mut egui::Ui,
    queue: &[QueueEntry],
    selected: &mut Option<usize>,
    sort: &mut Option<(usize, bool)>,
) {
    let (col, asc) = sort.unwrap_or((3, true));
    let mut order: Vec<usize> = (0..queue.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&queue[a], &queue[b]);
        let o = match col {
            0 => a.sender.cmp(&b.sender),
            1 => a.recipients.cmp(&b.recipients),
            2 => a.size.cmp(&b.size),
            4 => a.next_attempt.cmp(&b.next_attempt),
            5 => a.last_error.cmp(&b.last_error),
            _ => a.received_at.cmp(&b.received_at),
        };
        if asc { o } else { o.reverse() }
    });
    let mut clicked = None;
    let mut clicked_header = None;
    TableBuilder::new(ui)
        .striped(true)
        .sense(egui::Sense::click())
        .column(Column::initial(160.0).resizable(true))
        .column(Column::initial(180.0).resizable(true))
        .column(Column::initial(60.0))
        .column(Column::initial(80.0))
        .column(Column::initial(80.0))
        .column(Column::remainder())
        .header(22.0, |mut h| {
            for (i, name) in ["From", "To", "Size", "Arrived", "Next Retry", "Last Error"].into_iter().enumerate() {
                h.col(|ui| {
                    let arrow = if col == i { if asc { " (up)" } else { " (down)" } } else { "" };
                    if ui.button(format!("{name}{arrow}")).clicked() {
                        clicked_header = Some(i);
                    }
                });
            }
        })
        .body(|body| {
            body.rows(20.0, order.len(), |mut row| {
                let i = order[row.index()];
                let m = &queue[i];
                row.set_selected(*selected == Some(i));
                row.col(|ui| {
                    ui.label(if m.sender.is_empty() { "<>" } else { m.sender.as_str() });
                });
                row.col(|ui| {
                    ui.add(egui::Label::new(m.recipients.join(", ")).truncate());
                });
                row.col(|ui| {
                    ui.label(format!("{} KB", m.size.div_ceil(1024)));
                });
                row.col(|ui| {
                    ui.label(ago(m.received_at));
                });
                row.col(|ui| {
                    ui.label(m.next_attempt.map(|t| format!("in {} s", (t - now()).max(0))).unwrap_or_default());
                });
                row.col(|ui| {
                    // One line per row: long errors are cut, whole in Details and the tooltip.
                    ui.add(egui::Label::new(m.last_error.as_deref().unwrap_or("")).truncate());
                });
                if row.response().clicked() {
                    clicked = Some(i);
                }
            });
        });
    if clicked.is_some() {
        *selected = clicked;
    }
    if let Some(i) = clicked_header {
        *sort = Some(if col == i { (i, !asc) } else { (i, true) });
    }
}

/// Server → Queues.
pub fn queues_ui(app: &mut AdminApp, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        ui.heading("Queues");
        let selected = app.windows.selected_queued.and_then(|i| app.queue.get(i)).map(|m| m.queue_id.clone());
        if ui.add_enabled(app.connected() && selected.is_some(), egui::Button::new("Details…")).clicked()
            && let Some(queue_id) = selected.clone()
        {
            app.send(Command::QueueDetails(queue_id));
        }
        if ui.add_enabled(app.connected(), egui::Button::new("Retry Now")).clicked() {
            app.send(Command::RetryQueue(selected.clone()));
        }
        if ui.add_enabled(app.connected() && selected.is_some(), egui::Button::new("Delete (with NDR)")).clicked()
            && let Some(queue_id) = selected
        {
            app.send(Command::DeleteQueued { queue_id, ndr: true });
        }
        if ui.add_enabled(app.connected(), egui::Button::new("Refresh")).clicked() {
            app.send(Command::Refresh);
        }
    });
    ui.label(format!("{} message(s) waiting", app.queue.len()));
    let queue = std::mem::take(&mut app.queue);
    queue_table(ui, &queue, &mut app.windows.selected_queued, &mut app.windows.queue_sort);
    app.queue = queue;
}

/// Server → Service Status.
pub fn status_ui(app: &mut AdminApp, ui: &mut egui::Ui) {
    ui.heading("Service Status");
    let Some(s) = app.status.clone() else {
        ui.spinner();
        return;
    };
    egui::Grid::new("status").num_columns(2).spacing([16.0, 6.0]).show(ui, |ui| {
        ui.label("Internet Mail Service:");
        ui.label(state_words(s.state));
        ui.end_row();
        ui.label("SMTP:");
        ui.label(s.smtp_addr.clone().unwrap_or_else(|| "—".into()));
        ui.end_row();
        if let Some(a) = &s.submissions_addr {
            ui.label("SMTP over TLS:");
            ui.label(a);
            ui.end_row();
        }
        ui.label("POP3:");
        ui.label(s.pop3_addr.clone().unwrap_or_else(|| "—".into()));
        ui.end_row();
        if let Some(a) = &s.pop3s_addr {
            ui.label("POP3 over TLS:");
            ui.label(a);
            ui.end_row();
        }
        if let Some(c) = &app.certificate {
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
        ui.label("Version:");
        ui.label(format!("mailroomd {} (pid {})", s.version, s.pid));
        ui.end_row();
        if let Some(e) = &s.last_error {
            ui.label("Last error:");
            ui.colored_label(ui.visuals().error_fg_color, e);
            ui.end_row();
        }
    });
    ui.horizontal(|ui| {
        let c = app.connected();
        if ui.add_enabled(c && s.state == ServiceState::Stopped, egui::Button::new("Start")).clicked() {
            app.send(Command::Lifecycle(Lifecycle::Start));
        }
        if ui.add_enabled(c && s.state == ServiceState::Running, egui::Button::new("Stop")).clicked() {
            app.send(Command::Lifecycle(Lifecycle::Stop));
        }
        if ui.add_enabled(c, egui::Button::new("Restart Service")).clicked() {
            app.restart_service();
        }
    });
    ui.add_space(16.0);
    lockouts_ui(app, ui);
}

/// Addresses and logins locked out after too many failed logins, each with Unlock.
fn lockouts_ui(app: &mut AdminApp, ui: &mut egui::Ui) {
    ui.strong("Locked out after failed logins");
    ui.separator();
    if app.lockouts.is_empty() {
        ui.label("None.");
        return;
    }
    let mut unlock = None;
    egui::Grid::new("lockouts").num_columns(4).striped(true).spacing([16.0, 6.0]).show(ui, |ui| {
        for heading in ["Address or login", "Failures", "Until", ""] {
            ui.strong(heading);
        }
        ui.end_row();
        for l in &app.lockouts {
            ui.label(&l.client);
            ui.label(l.failures.to_string());
            ui.label(mailroom_shared::time::format_utc(l.until));
            if ui.add_enabled(app.connected(), egui::Button::new(format!("Unlock {}", l.client))).clicked() {
                unlock = Some(l.client.clone());
            }
            ui.end_row();
        }
    });
    if let Some(who) = unlock {
        app.send(Command::Unlock(who));
    }
}

/// Tools windows and the Recipients dialogs.
pub fn windows(app: &mut AdminApp, ctx: &egui::Context) {
    let connected = app.connected();
    let mut open = app.windows.tracking_open;
    egui::Window::new("Message Tracking").open(&mut open).default_size([640.0, 360.0]).show(ctx, |ui| {
        egui::Grid::new("track_form").num_columns(2).show(ui, |ui| {
            let l = ui.label("Sender contains:");
            ui.text_edit_singleline(&mut app.windows.track_sender).labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Recipient contains:");
            ui.text_edit_singleline(&mut app.windows.track_recipient).labelled_by(l.id);
            ui.end_row();
        });
        if ui.add_enabled(connected, egui::Button::new("Find")).clicked() {
            app.send(Command::Track {
                sender: app.windows.track_sender.clone(),
                recipient: app.windows.track_recipient.clone(),
            });
        }
        egui::ScrollArea::vertical().show(ui, |ui| {
            egui::Grid::new("track_results").striped(true).num_columns(5).show(ui, |ui| {
                for h in ["When", "Event", "Sender", "Recipient", "Detail"] {
                    ui.strong(h);
                }
                ui.end_row();
                for e in &app.tracking {
                    ui.label(ago(e.at));
                    ui.label(&e.event);
                    ui.label(e.sender.as_deref().unwrap_or(""));
                    ui.label(e.recipient.as_deref().unwrap_or(""));
                    ui.label(e.detail.as_deref().unwrap_or(""));
                    ui.end_row();
                }
            });
        });
    });
    app.windows.tracking_open = open;

    let mut open = app.windows.tester.open;
    egui::Window::new("Test Address").open(&mut open).default_size([480.0, 220.0]).show(ctx, |ui| {
        let t = &mut app.windows.tester;
        egui::Grid::new("tester").num_columns(2).show(ui, |ui| {
            let l = ui.label("Recipient:");
            ui.text_edit_singleline(&mut t.recipient).labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Client authenticated as (empty: not):");
            ui.text_edit_singleline(&mut t.authenticated_as).labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Client IP address:");
            ui.add(egui::TextEdit::singleline(&mut t.client_ip).hint_text("127.0.0.1")).labelled_by(l.id);
            ui.end_row();
        });
        if ui.add_enabled(connected, egui::Button::new("Test")).clicked() {
            let ip = if t.client_ip.trim().is_empty() { "127.0.0.1".to_owned() } else { t.client_ip.clone() };
            let cmd = Command::TestAddress {
                recipient: t.recipient.clone(),
                authenticated_as: t.authenticated_as.clone(),
                client_ip: ip,
            };
            t.result = None;
            let _ = app.commands.send(cmd);
        }
        match &app.windows.tester.result {
            Some(Ok((_, explanation))) => {
                ui.label(format!("Mailroom would: {explanation}"));
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            None => {}
        }
    });
    app.windows.tester.open = open;

    let mut open = app.windows.about_open;
    egui::Window::new("About Mailroom Administrator").open(&mut open).collapsible(false).show(ctx, |ui| {
        ui.label(format!("Mailroom Administrator {}", env!("CARGO_PKG_VERSION")));
        ui.label("A mail server for small organisations, administered from the desktop.");
    });
    app.windows.about_open = open;

    let mut details_open = app.windows.queue_details.is_some();
    if let Some(d) = &app.windows.queue_details {
        egui::Window::new("Queued Message Details").open(&mut details_open).default_size([560.0, 380.0]).show(
            ctx,
            |ui| {
                let e = &d.entry;
                egui::Grid::new("queued_envelope").num_columns(2).show(ui, |ui| {
                    ui.label("Queue id:");
                    ui.label(&e.queue_id);
                    ui.end_row();
                    ui.label("Sender:");
                    ui.label(if e.sender.is_empty() { "<>" } else { e.sender.as_str() });
                    ui.end_row();
                    ui.label("Size:");
                    ui.label(format!("{} bytes", e.size));
                    ui.end_row();
                    ui.label("Arrived:");
                    ui.label(ago(e.received_at));
                    ui.end_row();
                });
                ui.separator();
                egui::Grid::new("queued_recipients").striped(true).num_columns(4).show(ui, |ui| {
                    for h in ["Recipient", "State", "Next attempt", "Last error"] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for r in &d.recipients {
                        ui.label(&r.address);
                        ui.label(format!("{} ({} attempts)", r.state, r.attempts));
                        ui.label(r.next_attempt.map(|t| format!("in {} s", (t - now()).max(0))).unwrap_or_default());
                        ui.label(r.last_error.as_deref().unwrap_or(""));
                        ui.end_row();
                    }
                });
                ui.separator();
                egui::ScrollArea::vertical().max_height(160.0).show(ui, |ui| {
                    ui.monospace(d.headers.trim_end());
                });
            },
        );
    }
    if !details_open {
        app.windows.queue_details = None;
    }
    edit_mailbox_dialog(app, ctx);
    new_mailbox_dialog(app, ctx);
    if let Some(address) = app.windows.confirm_delete.clone() {
        let mut answer = None;
        egui::Modal::new(egui::Id::unique("confirm_delete")).show(ctx, |ui| {
            ui.heading("Delete mailbox");
            ui.label(format!("Delete the mailbox {address} and all its messages? This cannot be undone."));
            ui.horizontal(|ui| {
                if ui.button("Delete").clicked() {
                    answer = Some(true);
                }
                if ui.button("Cancel").clicked() {
                    answer = Some(false);
                }
            });
        });
        if let Some(yes) = answer {
            if yes {
                app.send(Command::RemoveMailbox(address));
                app.windows.selected_mailbox = None;
            }
            app.windows.confirm_delete = None;
        }
    }
}

impl NewMailbox {
    /// The addresses typed, split on commas, spaces and semicolons.
    fn address_list(&self) -> Vec<String> {
        self.addresses.split([',', ' ', ';']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
    }

    /// What is wrong with the form, if anything; a new mailbox needs a password.
    fn problem(&self, password_required: bool) -> Option<String> {
        let addresses = self.address_list();
        let bad = addresses
            .iter()
            .find_map(|a| mailroom_shared::address::EmailAddress::parse(a).err().map(|e| format!("'{a}' {e}")));
        if addresses.is_empty() {
            Some("Type at least one address".to_owned())
        } else if bad.is_some() {
            bad
        } else if password_required && self.password.is_empty() {
            Some("Type a password".to_owned())
        } else if self.password != self.confirm {
            Some("The passwords do not match".to_owned())
        } else {
            None
        }
    }
}

/// The mailbox form as a modal: `Some(true)` when confirmed, `Some(false)` when
/// cancelled, `None` while open. Shared by New Mailbox and Mailbox Properties.
fn mailbox_form(ctx: &egui::Context, id: &str, title: &str, d: &mut NewMailbox, new: bool) -> Option<bool> {
    let problem = d.problem(new);
    let (password, confirm) = if new {
        ("Password:", "Confirm password:")
    } else {
        ("New password (empty: unchanged):", "Confirm new password:")
    };
    let mut answer = None;
    egui::Modal::new(egui::Id::unique(id)).show(ctx, |ui| {
        ui.set_width(420.0);
        ui.heading(title);
        egui::Grid::new(id).num_columns(2).spacing([10.0, 6.0]).show(ui, |ui| {
            let l = ui.label("Display name:");
            ui.text_edit_singleline(&mut d.name).labelled_by(l.id);
            ui.end_row();
            let l = ui.label("E-mail addresses:");
            ui.add(egui::TextEdit::singleline(&mut d.addresses).hint_text("ann@corp.test, sales@corp.test"))
                .labelled_by(l.id);
            ui.end_row();
            let l = ui.label(password);
            ui.add(egui::TextEdit::singleline(&mut d.password).password(true)).labelled_by(l.id);
            ui.end_row();
            let l = ui.label(confirm);
            ui.add(egui::TextEdit::singleline(&mut d.confirm).password(true)).labelled_by(l.id);
            ui.end_row();
        });
        if let Some(p) = &problem {
            ui.colored_label(ui.visuals().error_fg_color, p.as_str());
        }
        ui.horizontal(|ui| {
            if ui.add_enabled(problem.is_none(), egui::Button::new(if new { "Create" } else { "OK" })).clicked() {
                answer = Some(true);
            }
            if ui.button("Cancel").clicked() {
                answer = Some(false);
            }
        });
    });
    answer
}

fn new_mailbox_dialog(app: &mut AdminApp, ctx: &egui::Context) {
    let Some(d) = &mut app.windows.new_mailbox else { return };
    match mailbox_form(ctx, "new_mailbox", "New Mailbox", d, true) {
        Some(true) => {
            let cmd = Command::AddMailbox {
                display_name: d.name.clone(),
                addresses: d.address_list(),
                password: d.password.clone(),
            };
            app.windows.new_mailbox = None;
            app.send(cmd);
        }
        Some(false) => app.windows.new_mailbox = None,
        None => {}
    }
}

/// Mailbox Properties: display name, addresses and (optionally) a new password.
fn edit_mailbox_dialog(app: &mut AdminApp, ctx: &egui::Context) {
    let Some((address, d)) = &mut app.windows.edit_mailbox else { return };
    let title = format!("Mailbox Properties: {address}");
    match mailbox_form(ctx, "mailbox_properties", &title, d, false) {
        Some(true) => {
            let cmd = Command::UpdateMailbox {
                address: address.clone(),
                display_name: d.name.clone(),
                addresses: d.address_list(),
                password: (!d.password.is_empty()).then(|| d.password.clone()),
            };
            app.windows.edit_mailbox = None;
            app.send(cmd);
        }
        Some(false) => app.windows.edit_mailbox = None,
        None => {}
    }
}
