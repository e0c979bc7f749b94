//! File → Back Up Now…: a backup of the whole store into one file on the service's
//! computer, named in the dialog (proposed in its data directory, by the time), and
//! what came of it said there, with the file to keep — not in a toast that fades.

use crate::actions::Action;
use crate::backend::Command;
use crate::model::Model;
use crate::widgets::{DialogKey, count_of, dialog_key};

/// The Back Up Now dialog.
#[derive(Debug, Default)]
pub struct BackupWindow {
    /// Shown.
    pub open: bool,
    /// The file the backup goes into, on the service's computer.
    path: String,
    /// The field has had its first focus.
    focused: bool,
}

impl BackupWindow {
    /// Opens it proposing `path`.
    pub fn open_with(&mut self, path: String) {
        self.open = true;
        self.path = path;
        self.focused = false;
    }

    /// The file, Back Up, and what happened, in a modal dialog.
    pub fn show(&mut self, ctx: &egui::Context, model: &Model) -> Option<Action> {
        if !self.open {
            return None;
        }
        let mut action = None;
        let busy = model.backing_up;
        egui::Modal::new(egui::Id::unique("back_up_now")).show(ctx, |ui| {
            ui.set_width(560.0);
            ui.heading("Back Up Now");
            ui.label(
                "A copy of the whole store (mailboxes, messages, calendars, settings and keys) as one file on the \
                 service's computer:",
            );
            ui.add_space(4.0);
            ui.add_enabled_ui(!busy, |ui| {
                ui.horizontal(|ui| {
                    let l = ui.label("Into the file:");
                    let field =
                        ui.add(egui::TextEdit::singleline(&mut self.path).desired_width(440.0)).labelled_by(l.id);
                    if !std::mem::replace(&mut self.focused, true) {
                        field.request_focus();
                    }
                });
            });
            if busy {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Backing up…");
                });
            }
            match &model.backup {
                Some(Ok((path, m))) if !busy => {
                    ui.label(format!(
                        "Backed up {} and {} to:",
                        count_of(m.mailboxes as usize, "mailbox", "mailboxes"),
                        count_of(m.messages as usize, "message", "messages")
                    ));
                    ui.horizontal(|ui| {
                        ui.add(egui::Label::new(egui::RichText::new(path).monospace()).selectable(true));
                        if ui.small_button("Copy").on_hover_text("Copy the file's name").clicked() {
                            ui.ctx().copy_text(path.clone());
                        }
                    });
                    ui.weak(format!(
                        "Keep it off this computer. To restore: mailroomd --restore {path} --data-dir DIRECTORY."
                    ));
                }
                Some(Err(e)) if !busy => {
                    ui.colored_label(ui.visuals().error_fg_color, format!("The backup failed: {e}"));
                }
                _ => {}
            }
            ui.separator();
            let mut start = false;
            let mut close = false;
            ui.horizontal(|ui| {
                start |= ui.add_enabled(!busy && model.connected(), egui::Button::new("Back Up")).clicked();
                close |= ui.add_enabled(!busy, egui::Button::new("Close")).clicked();
            });
            match dialog_key(ui) {
                Some(DialogKey::Default) if !busy => start = true,
                Some(DialogKey::Cancel) if !busy => close = true,
                _ => {}
            }
            if start && !self.path.trim().is_empty() {
                action = Some(Action::Send(Command::Backup(self.path.trim().to_owned())));
            }
            if close {
                self.open = false;
            }
        });
        action
    }
}
