//! The Backup tab: a daily backup at a time of day, how many to keep and where (on the
//! service's machine), how the last one went, and *Back Up Now*.

use mailroom_shared::config::{ConfigDraft, ConfigError};
use mailroom_shared::ipc::BackupSchedule;

use crate::actions::Action;
use crate::widgets::{field_errors, number_row, text_row};

/// Draws the tab over `d`, with the running schedule's state; *Back Up Now* asks for an
/// action.
pub fn ui(
    ui: &mut egui::Ui,
    d: &mut ConfigDraft,
    errors: &[ConfigError],
    running: Option<&BackupSchedule>,
) -> Option<Action> {
    let mut action = None;
    let b = &mut d.backup;
    ui.checkbox(&mut b.scheduled, "Back up the whole store every day");
    ui.add_enabled_ui(b.scheduled, |ui| {
        crate::widgets::form_grid("backup").show(ui, |ui| {
            text_row(ui, "At (local time, HH:MM):", &mut b.time, errors, "backup.time");
            number_row(ui, "Keep the newest:", &mut b.keep, "backups", errors, "backup.keep");
            text_row(ui, "Into the directory:", &mut b.directory, errors, "backup.directory");
        });
        ui.label(
            "An absolute path on the service's computer; empty: \"backups\" in its data directory. Older backups beyond the number kept are deleted; other files there are left alone.",
        );
    });
    field_errors(ui, errors, "backup.scheduled");
    ui.add_space(10.0);
    ui.strong("Last and next backup");
    ui.separator();
    egui::Grid::new("backup_status").num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| match running {
        None => {
            ui.label("Schedule:");
            ui.label("None running (save and restart the service to start one).");
            ui.end_row();
        }
        Some(s) => {
            ui.label("Directory:");
            ui.label(&s.directory);
            ui.end_row();
            ui.label("Next:");
            ui.label(s.next_at.map(mailroom_shared::time::format_local).unwrap_or_else(|| "-".into()));
            ui.end_row();
            ui.label("Last:");
            match (&s.last_error, &s.last_file, s.last_at) {
                (Some(e), _, Some(at)) => {
                    let text = format!("Failed at {}: {e}", mailroom_shared::time::format_local(at));
                    ui.colored_label(ui.visuals().error_fg_color, text);
                }
                (None, Some(f), _) => {
                    ui.label(f.as_str());
                }
                _ => {
                    ui.label("None yet");
                }
            }
            ui.end_row();
        }
    });
    ui.add_space(6.0);
    if ui.button("Back Up Now…").on_hover_text("A backup of the whole store now, into a file you name").clicked() {
        action = Some(Action::BackUpNow);
    }
    action
}
