//! Recipients: the mailboxes as a sortable table, and the dialogs that change them
//! (New Mailbox, Mailbox Properties, and the confirmation before Delete).

use egui_extras::{Column, TableBuilder};
use mailroom_shared::ipc::{FolderUsage, MailboxInfo};

use crate::actions::Action;
use crate::backend::Command;
use crate::model::Model;
use crate::widgets::{DialogKey, Sort, cell, confirm_ui, count_of, dialog_key, icon, problem_line, sortable_header};

/// The Recipients view and its dialogs.
#[derive(Debug)]
pub struct RecipientsView {
    /// The selected mailbox, by primary address (an index would go stale when the
    /// list changes).
    selected: Option<String>,
    sort: Sort,
    /// New Mailbox, when open.
    new_mailbox: Option<MailboxForm>,
    /// Mailbox Properties, when open: the mailbox's primary address and the form.
    edit_mailbox: Option<(String, MailboxForm)>,
    /// The delete confirmation, when open: the mailbox's primary address.
    confirm_delete: Option<String>,
}

impl Default for RecipientsView {
    fn default() -> RecipientsView {
        RecipientsView {
            selected: None,
            // By address.
            sort: Sort::by(1),
            new_mailbox: None,
            edit_mailbox: None,
            confirm_delete: None,
        }
    }
}

/// What a row of the table asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowAction {
    /// Its properties (double-click, the context menu).
    Open,
    /// To delete it (the context menu).
    Delete,
    /// To import mail into it (the context menu).
    Import,
}

/// The mailbox form, shared by New Mailbox and Mailbox Properties.
#[derive(Debug, Default)]
struct MailboxForm {
    name: String,
    addresses: String,
    password: String,
    confirm: String,
    /// The first field has taken the focus (done once, when the dialog opens).
    focused: bool,
    /// Problems are shown once something was typed or OK was tried, not before.
    show_problem: bool,
}

impl MailboxForm {
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
            Some("Type at least one e-mail address.".to_owned())
        } else if bad.is_some() {
            bad.map(|b| b + ".")
        } else if password_required && self.password.is_empty() {
            Some("Type a password.".to_owned())
        } else if self.password != self.confirm {
            Some("The two passwords are not the same.".to_owned())
        } else {
            None
        }
    }
}

impl RecipientsView {
    /// True while one of its dialogs is open.
    pub fn has_dialog(&self) -> bool {
        self.new_mailbox.is_some() || self.edit_mailbox.is_some() || self.confirm_delete.is_some()
    }

    /// The toolbar, the warnings, the table, and whichever dialog is open.
    pub fn ui(&mut self, ui: &mut egui::Ui, model: &Model) -> Option<Action> {
        let connected = model.connected();
        let selected = self.selected.as_ref().and_then(|a| model.mailboxes.iter().find(|m| m.addresses[0] == *a));
        let mut open = false;
        let mut delete = false;
        let mut import = false;
        ui.horizontal(|ui| {
            ui.heading("Recipients");
            if ui.add_enabled(connected, egui::Button::new("New Mailbox…")).clicked() {
                self.new_mailbox = Some(MailboxForm::default());
            }
            open |= ui.add_enabled(connected && selected.is_some(), egui::Button::new("Mailbox Properties…")).clicked();
            delete |= ui.add_enabled(connected && selected.is_some(), egui::Button::new("Delete")).clicked();
            import |= ui.add_enabled(connected && selected.is_some(), egui::Button::new("Import Mail…")).clicked();
        });
        for w in &model.mailbox_warnings {
            ui.colored_label(ui.visuals().warn_fg_color, format!("Warning: {w}"));
        }
        match self.table_ui(ui, &model.mailboxes) {
            Some(RowAction::Open) => open = true,
            Some(RowAction::Delete) => delete = true,
            Some(RowAction::Import) => import = true,
            None => {}
        }
        // Enter opens the selected mailbox's properties, Delete asks to delete it.
        if selected.is_some() && !self.has_dialog() && ui.memory(|m| m.focused().is_none()) {
            ui.input_mut(|i| {
                open |= i.consume_key(egui::Modifiers::NONE, egui::Key::Enter);
                delete |= i.consume_key(egui::Modifiers::NONE, egui::Key::Delete);
            });
        }
        // The selection as it stands after this frame's clicks.
        let selected = self.selected.as_ref().and_then(|a| model.mailboxes.iter().find(|m| m.addresses[0] == *a));
        let mut opened_import = None;
        if connected && let Some(m) = selected {
            if import {
                opened_import = Some(Action::ImportMail(m.addresses[0].clone()));
            } else if open {
                let form = MailboxForm {
                    name: m.display_name.clone(),
                    addresses: m.addresses.join(", "),
                    show_problem: true,
                    ..MailboxForm::default()
                };
                self.edit_mailbox = Some((m.addresses[0].clone(), form));
            } else if delete {
                self.confirm_delete = Some(m.addresses[0].clone());
            }
        }
        let ctx = ui.ctx().clone();
        opened_import
            .or_else(|| self.edit_mailbox_dialog(&ctx, &model.mailboxes))
            .or_else(|| self.new_mailbox_dialog(&ctx))
            .or_else(|| self.delete_dialog(&ctx))
    }

    /// The mailboxes, a row each: a click anywhere on a row selects it, a double-click
    /// opens it, a right-click offers what can be done with it.
    fn table_ui(&mut self, ui: &mut egui::Ui, mailboxes: &[MailboxInfo]) -> Option<RowAction> {
        let sort = self.sort;
        let mut rows: Vec<&MailboxInfo> = mailboxes.iter().collect();
        rows.sort_by(|a, b| {
            sort.order(match sort.column {
                0 => a.display_name.cmp(&b.display_name),
                2 => a.message_count.cmp(&b.message_count),
                3 => a.total_bytes.cmp(&b.total_bytes),
                _ => a.addresses.cmp(&b.addresses),
            })
        });
        let mut clicked_header = None;
        let mut clicked_row = None;
        let mut action = None;
        let selected = self.selected.as_deref();
        TableBuilder::new(ui)
            .striped(true)
            .sense(egui::Sense::click())
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::initial(180.0).resizable(true))
            .column(Column::initial(320.0).resizable(true))
            .column(Column::initial(80.0))
            .column(Column::remainder())
            .header(22.0, |mut h| {
                let names = ["Display Name", "E-mail Addresses", "Messages", "Size"];
                clicked_header = sortable_header(&mut h, &names, sort);
            })
            .body(|body| {
                body.rows(20.0, rows.len(), |mut row| {
                    let m = rows[row.index()];
                    row.set_selected(selected == Some(m.addresses[0].as_str()));
                    row.col(|ui| {
                        icon(ui, "✉", ui.visuals().weak_text_color());
                        cell(ui, m.display_name.clone());
                    });
                    row.col(|ui| cell(ui, m.addresses.join(", ")));
                    row.col(|ui| cell(ui, m.message_count.to_string()));
                    row.col(|ui| cell(ui, format!("{} KB", m.total_bytes.div_ceil(1024))));
                    let r = row.response();
                    if r.clicked() || r.secondary_clicked() {
                        clicked_row = Some(m.addresses[0].clone());
                    }
                    if r.double_clicked() {
                        clicked_row = Some(m.addresses[0].clone());
                        action = Some(RowAction::Open);
                    }
                    r.context_menu(|ui| {
                        clicked_row = Some(m.addresses[0].clone());
                        if ui.button("Properties…").clicked() {
                            action = Some(RowAction::Open);
                            ui.close();
                        }
                        if ui.button("Delete…").clicked() {
                            action = Some(RowAction::Delete);
                            ui.close();
                        }
                        if ui.button("Import Mail…").clicked() {
                            action = Some(RowAction::Import);
                            ui.close();
                        }
                    });
                });
            });
        if let Some(i) = clicked_header {
            self.sort.clicked(i);
        }
        if clicked_row.is_some() {
            self.selected = clicked_row;
        }
        action
    }

    fn new_mailbox_dialog(&mut self, ctx: &egui::Context) -> Option<Action> {
        let form = self.new_mailbox.as_mut()?;
        let confirmed = mailbox_form_ui(ctx, "new_mailbox", "New Mailbox", form, true, &[])?;
        let form = self.new_mailbox.take()?;
        confirmed.then(|| {
            Action::Send(Command::AddMailbox {
                display_name: form.name.clone(),
                addresses: form.address_list(),
                password: form.password,
            })
        })
    }

    /// Mailbox Properties: display name, addresses and (optionally) a new password, and
    /// what each of its folders holds.
    fn edit_mailbox_dialog(&mut self, ctx: &egui::Context, mailboxes: &[MailboxInfo]) -> Option<Action> {
        let (address, form) = self.edit_mailbox.as_mut()?;
        let title = format!("Mailbox Properties: {address}");
        let folders =
            mailboxes.iter().find(|m| m.addresses.first() == Some(address)).map_or(&[][..], |m| m.folders.as_slice());
        let confirmed = mailbox_form_ui(ctx, "mailbox_properties", &title, form, false, folders)?;
        let (address, form) = self.edit_mailbox.take()?;
        confirmed.then(|| {
            Action::Send(Command::UpdateMailbox {
                address,
                display_name: form.name.clone(),
                addresses: form.address_list(),
                password: (!form.password.is_empty()).then_some(form.password),
            })
        })
    }

    fn delete_dialog(&mut self, ctx: &egui::Context) -> Option<Action> {
        let address = self.confirm_delete.as_ref()?;
        let text = format!("Delete the mailbox {address} and all its messages? This cannot be undone.");
        let answer = confirm_ui(ctx, "confirm_delete", "Delete Mailbox", &text, "Delete");
        let address = self.confirm_delete.take_if(|_| answer.is_some())?;
        answer.filter(|yes| *yes).map(|_| {
            self.selected = None;
            Action::Send(Command::RemoveMailbox(address))
        })
    }
}

/// The mailbox form as a modal: `Some(true)` when confirmed, `Some(false)` when
/// cancelled, `None` while open.
fn mailbox_form_ui(
    ctx: &egui::Context,
    id: &str,
    title: &str,
    d: &mut MailboxForm,
    new: bool,
    folders: &[FolderUsage],
) -> Option<bool> {
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
        let mut changed = false;
        egui::Grid::new(id).num_columns(2).spacing([10.0, 6.0]).show(ui, |ui| {
            let l = ui.label("Display name:");
            let first = ui.text_edit_singleline(&mut d.name).labelled_by(l.id);
            if !std::mem::replace(&mut d.focused, true) {
                first.request_focus();
            }
            changed |= first.changed();
            ui.end_row();
            let l = ui.label("E-mail addresses:");
            changed |= ui
                .add(egui::TextEdit::singleline(&mut d.addresses).hint_text("ann@corp.test, sales@corp.test"))
                .labelled_by(l.id)
                .changed();
            ui.end_row();
            let l = ui.label(password);
            changed |= ui.add(egui::TextEdit::singleline(&mut d.password).password(true)).labelled_by(l.id).changed();
            ui.end_row();
            let l = ui.label(confirm);
            changed |= ui.add(egui::TextEdit::singleline(&mut d.confirm).password(true)).labelled_by(l.id).changed();
            ui.end_row();
        });
        d.show_problem |= changed;
        problem_line(ui, problem.as_deref(), d.show_problem);
        if !folders.is_empty() {
            ui.add_space(6.0);
            ui.strong("Folders");
            egui::Grid::new((id, "folders")).num_columns(3).striped(true).spacing([16.0, 4.0]).show(ui, |ui| {
                for f in folders {
                    ui.label(&f.name);
                    ui.label(count_of(usize::try_from(f.messages).unwrap_or(usize::MAX), "message", "messages"));
                    ui.label(format!("{} KB", f.bytes.div_ceil(1024)));
                    ui.end_row();
                }
            });
        }
        ui.horizontal(|ui| {
            let ok = if new { "Create" } else { "OK" };
            if ui.add_enabled(problem.is_none() || !d.show_problem, egui::Button::new(ok)).clicked() {
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
    // Confirming with a problem shows it instead.
    if answer == Some(true) && problem.is_some() {
        d.show_problem = true;
        answer = None;
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_names_its_first_problem() {
        let mut f = MailboxForm { addresses: "ann@corp.test; bad@@x".into(), ..MailboxForm::default() };
        assert_eq!(f.address_list(), ["ann@corp.test", "bad@@x"]);
        assert!(f.problem(true).is_some_and(|p| p.starts_with("'bad@@x'")));
        f.addresses = "ann@corp.test".into();
        assert_eq!(f.problem(true).as_deref(), Some("Type a password."));
        assert_eq!(f.problem(false), None);
        f.password = "pw".into();
        assert_eq!(f.problem(true).as_deref(), Some("The two passwords are not the same."));
    }
}
