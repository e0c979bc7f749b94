//! Configuration → Protocols → IMAP4: whether IMAP4 is on, where it listens, and the
//! way into its Properties tab.

use crate::actions::Action;
use crate::model::Model;
use crate::nav::Tab;

/// The IMAP4 view (it keeps no state of its own).
#[derive(Debug, Default)]
pub struct Imap4View;

impl Imap4View {
    /// Enabled, addresses, idle time-out; Properties… on the IMAP4 tab.
    pub fn ui(&mut self, ui: &mut egui::Ui, model: &Model) -> Option<Action> {
        ui.heading("IMAP4");
        if let Some((config, _)) = &model.config {
            let status = model.status.as_ref();
            egui::Grid::new("imap4_summary").num_columns(2).spacing([16.0, 6.0]).show(ui, |ui| {
                ui.label("Enabled:");
                ui.label(if config.imap4.enabled { "Yes" } else { "No" });
                ui.end_row();
                ui.label("Listens on:");
                ui.label(status.and_then(|s| s.imap_addr.clone()).unwrap_or_else(|| config.imap4.listen.to_string()));
                ui.end_row();
                ui.label("Over TLS (imaps):");
                ui.label(
                    status
                        .and_then(|s| s.imaps_addr.clone())
                        .or_else(|| config.imap4.imaps_listen.map(|a| a.to_string()))
                        .unwrap_or_else(|| "off".to_owned()),
                );
                ui.end_row();
                ui.label("Idle time-out:");
                ui.label(format!("{} min", config.imap4.idle_timeout.as_secs() / 60));
                ui.end_row();
            });
            ui.add_space(6.0);
            ui.label(
                "Mail clients set up with IMAP keep mail on the server: every device sees the same folders, \
                 and new mail appears at once. POP3 clients see the Inbox.",
            );
        }
        let clicked = ui.add_enabled(model.connected(), egui::Button::new("Properties…")).clicked();
        clicked.then_some(Action::OpenProperties(Tab::Imap4))
    }
}
