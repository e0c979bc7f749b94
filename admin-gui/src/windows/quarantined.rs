//! Quarantine → Details: one held message's envelope, why it is held, its score, and
//! its text as received (headers first), to judge whether to release it.

use crate::actions::Action;
use crate::backend::Command;
use crate::model::Model;
use crate::widgets::ago;

/// The Quarantined Message window; the message is the model's.
#[derive(Debug, Default)]
pub struct QuarantinedWindow {
    /// The message shown, by quarantine id; `None`: closed.
    pub id: Option<i64>,
}

impl QuarantinedWindow {
    /// The message, or a spinner until it arrives; Release delivers it and closes.
    pub fn show(&mut self, ctx: &egui::Context, model: &Model) -> Option<Action> {
        let id = self.id?;
        let mut open = true;
        let mut action = None;
        let mut close = false;
        egui::Window::new("Quarantined Message").open(&mut open).default_size([620.0, 440.0]).show(ctx, |ui| {
            let (e, text) = match &model.quarantine_message {
                None => {
                    ui.spinner();
                    return;
                }
                Some(Err(e)) => {
                    ui.colored_label(ui.visuals().error_fg_color, format!("Cannot show the message: {e}"));
                    return;
                }
                Some(Ok((e, _))) if e.id != id => {
                    ui.spinner();
                    return;
                }
                Some(Ok((e, text))) => (e, text),
            };
            egui::Grid::new("quarantined_envelope").num_columns(2).spacing([12.0, 4.0]).show(ui, |ui| {
                let mut row = |label: &str, value: String| {
                    ui.label(label);
                    ui.label(value);
                    ui.end_row();
                };
                row("From:", if e.sender.is_empty() { "<>".into() } else { e.sender.clone() });
                row("To:", e.recipients.join(", "));
                row("Subject:", e.subject.clone());
                row("Held:", format!("{} ({})", mailroom_shared::time::format_utc(e.held_at), ago(e.held_at)));
                row("Why:", e.reason.clone());
                row("Score:", e.score.map(|s| format!("{s:.2}")).unwrap_or_else(|| "not scanned".into()));
                row("Sent by:", e.client.clone().unwrap_or_default());
                row("Size:", format!("{} bytes", e.size));
                row("Queue id:", e.queue_id.clone());
            });
            ui.horizontal(|ui| {
                let held = model.quarantine.iter().any(|m| m.id == id);
                if ui.add_enabled(model.connected() && held, egui::Button::new("Release")).clicked() {
                    action = Some(Action::Send(Command::QuarantineRelease(id)));
                    close = true;
                }
                if ui.button("Close").clicked() {
                    close = true;
                }
            });
            ui.separator();
            egui::ScrollArea::both().max_height(ui.available_height()).show(ui, |ui| {
                ui.monospace(text.trim_end());
            });
        });
        if !open || close {
            self.id = None;
        }
        action
    }
}
