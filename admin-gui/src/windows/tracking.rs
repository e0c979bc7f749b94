//! Tools → Track Message: find what happened to mail by sender and recipient.

use crate::actions::Action;
use crate::backend::Command;
use crate::model::Model;
use crate::widgets::ago;

/// The Message Tracking window; the results are the model's.
#[derive(Debug, Default)]
pub struct TrackingWindow {
    /// Shown.
    pub open: bool,
    sender: String,
    recipient: String,
}

impl TrackingWindow {
    /// The search form and the events found.
    pub fn show(&mut self, ctx: &egui::Context, model: &Model) -> Option<Action> {
        let mut action = None;
        let mut open = self.open;
        egui::Window::new("Message Tracking").open(&mut open).default_size([640.0, 360.0]).show(ctx, |ui| {
            egui::Grid::new("track_form").num_columns(2).show(ui, |ui| {
                let l = ui.label("Sender contains:");
                ui.text_edit_singleline(&mut self.sender).labelled_by(l.id);
                ui.end_row();
                let l = ui.label("Recipient contains:");
                ui.text_edit_singleline(&mut self.recipient).labelled_by(l.id);
                ui.end_row();
            });
            if ui.add_enabled(model.connected(), egui::Button::new("Find")).clicked() {
                action = Some(Action::Send(Command::Track {
                    sender: self.sender.clone(),
                    recipient: self.recipient.clone(),
                }));
            }
            egui::ScrollArea::vertical().show(ui, |ui| {
                egui::Grid::new("track_results").striped(true).num_columns(5).show(ui, |ui| {
                    for h in ["When", "Event", "Sender", "Recipient", "Detail"] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for e in &model.tracking {
                        ui.label(ago(e.at));
                        ui.label(&e.event);
                        ui.label(e.sender.as_deref().unwrap_or(""));
                        ui.label(e.recipient.as_deref().unwrap_or(""));
                        ui.label(e.detail.as_deref().unwrap_or(""));
                        ui.end_row();
                    }
                });
            });
        });
        self.open = open;
        action
    }
}
