//! Recipients → Import Mail…: moves a Maildir or an mbox file from this computer into
//! a mailbox (the service may be on another machine: the files are read here), with a
//! progress bar and what was done. Run again, it adds only what is new.

use crate::actions::Action;
use crate::backend::{Command, ImportSource};
use crate::model::Model;
use crate::widgets::{DialogKey, dialog_key};

/// What kind of source the path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    /// A Maildir directory (with Maildir++ folders).
    #[default]
    Maildir,
    /// An mbox file.
    Mbox,
}

/// The Import Mail window.
#[derive(Debug, Default)]
pub struct ImportWindow {
    /// The mailbox mail goes into; `None` while closed.
    pub address: Option<String>,
    kind: Kind,
    path: String,
    problem: Option<String>,
    /// The path field has had its first focus.
    focused: bool,
}

impl ImportWindow {
    /// Opens it for a mailbox.
    pub fn open_for(&mut self, address: String) {
        self.address = Some(address);
        self.problem = None;
    }

    /// The form, Import, the progress and the outcome, in a modal dialog: the main
    /// window waits while mail moves.
    pub fn show(&mut self, ctx: &egui::Context, model: &Model) -> Option<Action> {
        let address = self.address.clone()?;
        let mut action = None;
        let mut close = false;
        let busy = model.import.running.is_some();
        egui::Modal::new(egui::Id::unique("import_mail")).show(ctx, |ui| {
            ui.set_width(520.0);
            ui.heading("Import Mail");
            ui.label(format!("Into the mailbox {address}, from this computer:"));
            ui.add_space(4.0);
            ui.add_enabled_ui(!busy, |ui| {
                ui.horizontal(|ui| {
                    ui.radio_value(&mut self.kind, Kind::Maildir, "A Maildir folder");
                    ui.radio_value(&mut self.kind, Kind::Mbox, "An mbox file");
                });
                egui::Grid::new("import").num_columns(2).show(ui, |ui| {
                    let l = ui.label("Path:");
                    let hint =
                        if self.kind == Kind::Maildir { "/home/ann/Maildir" } else { "/home/ann/mail/inbox.mbox" };
                    let field = ui
                        .add(egui::TextEdit::singleline(&mut self.path).hint_text(hint).desired_width(400.0))
                        .labelled_by(l.id);
                    if !std::mem::replace(&mut self.focused, true) {
                        field.request_focus();
                    }
                    ui.end_row();
                });
            });
            if let Some(p) = &self.problem {
                ui.colored_label(ui.visuals().error_fg_color, p);
            }
            if let Some((done, total)) = model.import.running {
                let fraction = if total == 0 { 0.0 } else { done as f32 / total as f32 };
                ui.add(egui::ProgressBar::new(fraction).text(format!("{done} of {total} messages")));
            }
            match &model.import.outcome {
                Some(Ok(s)) if !busy => {
                    ui.label(format!(
                        "Imported {} message(s); {} had been imported before and were skipped.",
                        s.stored, s.skipped
                    ));
                }
                Some(Err(e)) if !busy => {
                    ui.colored_label(ui.visuals().error_fg_color, format!("The import stopped: {e}"));
                }
                _ => {}
            }
            ui.separator();
            let mut start = false;
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                close |= ui.add_enabled(!busy, egui::Button::new("Close")).clicked();
                start |= ui.add_enabled(!busy && model.connected(), egui::Button::new("Import")).clicked();
                if busy {
                    ui.spinner();
                }
            });
            match dialog_key(ui) {
                Some(DialogKey::Default) if !busy => start = true,
                Some(DialogKey::Cancel) if !busy => close = true,
                _ => {}
            }
            if start {
                let path = std::path::PathBuf::from(self.path.trim());
                if self.path.trim().is_empty() {
                    self.problem = Some("Name the Maildir folder or mbox file to import.".into());
                } else {
                    self.problem = None;
                    let source =
                        if self.kind == Kind::Maildir { ImportSource::Maildir(path) } else { ImportSource::Mbox(path) };
                    action = Some(Action::Send(Command::Import { address: address.clone(), source }));
                }
            }
        });
        if close {
            self.address = None;
            self.focused = false;
        }
        action
    }
}
