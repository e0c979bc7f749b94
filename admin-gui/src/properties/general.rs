//! The General tab: host name, administrator's mailbox, message size limit, the drain
//! timeout a restart gives sessions in the middle of a transaction, and the disk space
//! kept free.

use mailroom_shared::config::{ConfigDraft, ConfigError};

use crate::widgets::{number_row, optional_number_row, text_row};

/// Draws the tab over `d`.
pub fn ui(ui: &mut egui::Ui, d: &mut ConfigDraft, errors: &[ConfigError]) {
    crate::widgets::form_grid("general").show(ui, |ui| {
        text_row(ui, "Host name:", &mut d.general.host_name, errors, "general.host_name");
        text_row(
            ui,
            "Administrator's mailbox:",
            &mut d.general.administrator_mailbox,
            errors,
            "general.administrator_mailbox",
        );
        optional_number_row(
            ui,
            "Message size:",
            &mut d.general.max_message_size_kb,
            ("No limit", "Maximum (K):", 25_600),
            None,
            errors,
            "general.max_message_size_kb",
        );
        number_row(
            ui,
            "Drain timeout on restart:",
            &mut d.general.drain_timeout_secs,
            "seconds",
            errors,
            "general.drain_timeout_secs",
        );
        optional_number_row(
            ui,
            "Keep free on disk:",
            &mut d.general.min_free_space_mb,
            ("Automatic", "At least (MB):", 100),
            Some("Below this, new mail is refused for a while; deliveries and deletions go on."),
            errors,
            "general.min_free_space_mb",
        );
    });
    // Exchange's Information Store defaults: every mailbox's limits unless its own
    // Limits tab says otherwise.
    ui.add_space(10.0);
    ui.strong("Mailbox storage limits (each mailbox's own Limits tab may say otherwise)");
    ui.separator();
    crate::widgets::form_grid("general_limits").show(ui, |ui| {
        for (label, value, field) in [
            ("Issue warning at:", &mut d.general.mailbox_warn_kb, "general.mailbox_warn_kb"),
            ("Prohibit send at:", &mut d.general.mailbox_send_kb, "general.mailbox_send_kb"),
            ("Prohibit send and receive at:", &mut d.general.mailbox_receive_kb, "general.mailbox_receive_kb"),
        ] {
            optional_number_row(ui, label, value, ("No limit", "KB:", 100_000), None, errors, field);
        }
    });
}
