//! Configuration → Connections → Internet Mail Service: what the service does now, at
//! a glance, and the way into its Properties.

use crate::actions::Action;
use crate::model::Model;
use crate::nav::Tab;

/// The Internet Mail Service view (it keeps no state of its own).
#[derive(Debug, Default)]
pub struct ImsView;

impl ImsView {
    /// Host name, rerouting, the routing table, the SMTP address; Properties….
    pub fn ui(&mut self, ui: &mut egui::Ui, model: &Model) -> Option<Action> {
        ui.heading("Internet Mail Service");
        let Some((config, _)) = &model.config else {
            ui.spinner();
            return None;
        };
        egui::Grid::new("ims_summary").num_columns(2).spacing([16.0, 6.0]).show(ui, |ui| {
            ui.label("Host name:");
            ui.label(config.general.host_name.to_string());
            ui.end_row();
            ui.label("Reroute incoming SMTP mail:");
            ui.label(if config.routing.reroute {
                "Yes"
            } else {
                "No — mail to outside domains is returned to its sender"
            });
            ui.end_row();
            ui.label("Routing table:");
            let entries = config.routing.table.entries();
            ui.label(if entries.is_empty() {
                "(empty)".to_owned()
            } else {
                entries.iter().map(|e| format!("{} to {}", e.sent_to, e.route_to)).collect::<Vec<_>>().join(", ")
            });
            ui.end_row();
            if let Some(s) = &model.status {
                ui.label("SMTP:");
                ui.label(s.smtp_addr.as_deref().unwrap_or("—"));
                ui.end_row();
            }
        });
        ui.add_space(8.0);
        let clicked = ui.add_enabled(model.connected(), egui::Button::new("Properties…")).clicked();
        clicked.then_some(Action::OpenProperties(Tab::General))
    }
}
