//! Configuration → Protocols → POP3: whether POP3 is on, where it listens, and the
//! way into its Properties tab.

use crate::actions::Action;
use crate::model::Model;
use crate::nav::Tab;

/// The POP3 view (it keeps no state of its own).
#[derive(Debug, Default)]
pub struct Pop3View;

impl Pop3View {
    /// Enabled, address, idle time-out; Properties… on the POP3 tab.
    pub fn ui(&mut self, ui: &mut egui::Ui, model: &Model) -> Option<Action> {
        ui.heading("POP3");
        if let Some((config, _)) = &model.config {
            egui::Grid::new("pop3_summary").num_columns(2).spacing([16.0, 6.0]).show(ui, |ui| {
                ui.label("Enabled:");
                ui.label(if config.pop3.enabled { "Yes" } else { "No" });
                ui.end_row();
                ui.label("Listens on:");
                ui.label(
                    model
                        .status
                        .as_ref()
                        .and_then(|s| s.pop3_addr.clone())
                        .unwrap_or_else(|| config.pop3.listen.to_string()),
                );
                ui.end_row();
                ui.label("Idle time-out:");
                ui.label(format!("{} s", config.pop3.idle_timeout.as_secs()));
                ui.end_row();
            });
        }
        let clicked = ui.add_enabled(model.connected(), egui::Button::new("Properties…")).clicked();
        clicked.then_some(Action::OpenProperties(Tab::Pop3))
    }
}
