//! The Delivery tab: the retry schedule, when undeliverable mail goes back to its
//! sender, how many outbound connections run at once, and how long a next hop may keep
//! us waiting at each stage.

use mailroom_shared::config::{ConfigDraft, ConfigError};

use crate::widgets::{field_errors, number_row};

/// The tab's state: the retry schedule as typed (a list of minutes is edited as text,
/// and a half-typed list must survive the frames in between).
#[derive(Debug)]
pub struct DeliveryTab {
    retry_text: String,
}

impl DeliveryTab {
    /// Starts from the draft's schedule.
    pub fn new(d: &ConfigDraft) -> DeliveryTab {
        let minutes: Vec<String> = d.delivery.retry_intervals_secs.iter().map(|s| (s / 60).to_string()).collect();
        DeliveryTab { retry_text: minutes.join(", ") }
    }

    /// Draws the tab over `d`.
    pub fn ui(&mut self, ui: &mut egui::Ui, d: &mut ConfigDraft, errors: &[ConfigError]) {
        crate::widgets::form_grid("delivery").show(ui, |ui| {
            let l = ui.label("Retry intervals (minutes, the last repeats):");
            ui.vertical(|ui| {
                let edit = egui::TextEdit::singleline(&mut self.retry_text).desired_width(200.0);
                if ui.add(edit).labelled_by(l.id).changed() {
                    // A part that is not a number becomes 0, which validation names.
                    d.delivery.retry_intervals_secs = self
                        .retry_text
                        .split(',')
                        .map(|s| s.trim().parse::<u64>().map(|m| m * 60).unwrap_or(0))
                        .collect();
                }
                field_errors(ui, errors, "delivery.retry_intervals_secs");
            });
            ui.end_row();
            let mut hours = d.delivery.expire_after_secs / 3600;
            let l = ui.label("Return undeliverable mail after:");
            ui.vertical(|ui| {
                ui.horizontal(|ui| {
                    if ui.add(egui::DragValue::new(&mut hours).range(1..=720)).labelled_by(l.id).changed() {
                        d.delivery.expire_after_secs = hours * 3600;
                    }
                    ui.label("hours");
                });
                field_errors(ui, errors, "delivery.expire_after_secs");
            });
            ui.end_row();
            number_row(
                ui,
                "Outbound connections at once:",
                &mut d.delivery.max_concurrent,
                "",
                errors,
                "delivery.max_concurrent",
            );
            number_row(
                ui,
                "… to one destination:",
                &mut d.delivery.max_per_destination,
                "",
                errors,
                "delivery.max_per_destination",
            );
            // One grid for the whole tab, so that every field lines up; an empty row
            // sets the timeouts apart.
            ui.label("");
            ui.end_row();
            ui.strong("Wait for a next hop at most");
            ui.weak("(RFC 5321 suggests the defaults)");
            ui.end_row();
            let t = &mut d.delivery;
            number_row(
                ui,
                "For its greeting:",
                &mut t.greeting_timeout_secs,
                "seconds",
                errors,
                "delivery.greeting_timeout_secs",
            );
            number_row(
                ui,
                "For the reply to MAIL FROM:",
                &mut t.mail_timeout_secs,
                "seconds",
                errors,
                "delivery.mail_timeout_secs",
            );
            number_row(
                ui,
                "For each reply to RCPT TO:",
                &mut t.rcpt_timeout_secs,
                "seconds",
                errors,
                "delivery.rcpt_timeout_secs",
            );
            number_row(
                ui,
                "For the reply to DATA:",
                &mut t.data_timeout_secs,
                "seconds",
                errors,
                "delivery.data_timeout_secs",
            );
            number_row(
                ui,
                "For each block of the message:",
                &mut t.data_block_timeout_secs,
                "seconds",
                errors,
                "delivery.data_block_timeout_secs",
            );
            number_row(
                ui,
                "For the reply after the message:",
                &mut t.final_dot_timeout_secs,
                "seconds",
                errors,
                "delivery.final_dot_timeout_secs",
            );
        });
    }
}
