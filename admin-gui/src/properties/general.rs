//! The General tab: host name, administrator's mailbox, message size limit, the drain
//! timeout a restart gives sessions in the middle of a transaction, and the disk space
//! kept free.

use mailroom_shared::config::{ConfigDraft, ConfigError};

use crate::widgets::{field_errors, number_row, text_row};

/// Draws the tab over `d`.
pub fn ui(ui: &mut egui::Ui, d: &mut ConfigDraft, errors: &[ConfigError]) {
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
        ui.label("Keep free on disk:");
        ui.vertical(|ui| {
            let mut set = d.general.min_free_space_mb.is_some();
            ui.horizontal(|ui| {
                ui.radio_value(&mut set, false, "Automatic");
                let at_least = ui.radio_value(&mut set, true, "At least (MB):");
                let mut mb = d.general.min_free_space_mb.unwrap_or(100);
                ui.add_enabled(set, egui::DragValue::new(&mut mb).range(0..=u64::MAX)).labelled_by(at_least.id);
                d.general.min_free_space_mb = set.then_some(mb);
            });
            ui.weak("Below this, new mail is refused for a while; deliveries and deletions go on.");
            field_errors(ui, errors, "general.min_free_space_mb");
        });
        ui.end_row();
    });
}
