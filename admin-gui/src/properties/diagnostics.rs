//! The Diagnostics Logging tab: how much each part of the service logs, message
//! tracking, how long both are kept, and the Prometheus endpoint.

use mailroom_shared::config::{ConfigDraft, ConfigError, LogLevel};

use crate::widgets::{combo, number_row, text_row};

/// Draws the tab over `d`.
pub fn ui(ui: &mut egui::Ui, d: &mut ConfigDraft, errors: &[ConfigError]) {
    let levels = [
        (LogLevel::None, "None"),
        (LogLevel::Minimum, "Minimum"),
        (LogLevel::Medium, "Medium"),
        (LogLevel::Maximum, "Maximum"),
    ];
    crate::widgets::form_grid("diagnostics").show(ui, |ui| {
        let g = &mut d.diagnostics;
        combo(ui, "SMTP protocol:", &mut g.smtp, &levels);
        combo(ui, "POP3:", &mut g.pop3, &levels);
        combo(ui, "IMAP4:", &mut g.imap4, &levels);
        combo(ui, "Routing:", &mut g.routing, &levels);
        combo(ui, "Delivery:", &mut g.delivery, &levels);
        combo(ui, "Message authentication:", &mut g.authentication, &levels);
        combo(ui, "Service:", &mut g.service, &levels);
        ui.label("");
        ui.checkbox(&mut g.message_tracking, "Enable message tracking");
        ui.end_row();
        number_row(ui, "Keep tracking and log files for:", &mut g.keep_days, "days", errors, "diagnostics.keep_days");
        text_row(
            ui,
            "Metrics for Prometheus (IP:port, empty: off):",
            &mut g.metrics_listen,
            errors,
            "diagnostics.metrics_listen",
        );
    });
}
