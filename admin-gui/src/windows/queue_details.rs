//! Queues → Details: one queued message's envelope, each recipient's state and last
//! error, and its headers.

use crate::model::Model;
use crate::widgets::{ago, count_of, in_secs};

/// The Queued Message Details window; the details are the model's.
#[derive(Debug, Default)]
pub struct QueueDetailsWindow {
    /// The message shown; `None`: closed.
    pub queue_id: Option<String>,
}

impl QueueDetailsWindow {
    /// The details, or a spinner until they arrive.
    pub fn show(&mut self, ctx: &egui::Context, model: &Model) {
        let Some(queue_id) = &self.queue_id else { return };
        let details = model.queue_details.as_ref().filter(|d| d.entry.queue_id == *queue_id);
        let mut open = true;
        egui::Window::new("Queued Message Details").open(&mut open).default_size([560.0, 380.0]).show(ctx, |ui| {
            let Some(d) = details else {
                ui.spinner();
                return;
            };
            let e = &d.entry;
            egui::Grid::new("queued_envelope").num_columns(2).show(ui, |ui| {
                ui.label("Queue id:");
                ui.label(&e.queue_id);
                ui.end_row();
                ui.label("Sender:");
                ui.label(if e.sender.is_empty() { "<>" } else { e.sender.as_str() });
                ui.end_row();
                ui.label("Size:");
                ui.label(format!("{} bytes", e.size));
                ui.end_row();
                ui.label("Arrived:");
                ui.label(ago(e.received_at));
                ui.end_row();
            });
            ui.separator();
            egui::Grid::new("queued_recipients").striped(true).num_columns(4).show(ui, |ui| {
                for h in ["Recipient", "State", "Next attempt", "Last error"] {
                    ui.strong(h);
                }
                ui.end_row();
                for r in &d.recipients {
                    ui.label(&r.address);
                    let tries = usize::try_from(r.attempts).unwrap_or(usize::MAX);
                    ui.label(format!("{} ({})", r.state, count_of(tries, "attempt", "attempts")));
                    ui.label(r.next_attempt.map(in_secs).unwrap_or_default());
                    ui.label(r.last_error.as_deref().unwrap_or(""));
                    ui.end_row();
                }
            });
            ui.separator();
            egui::ScrollArea::vertical().max_height(160.0).show(ui, |ui| {
                ui.monospace(d.headers.trim_end());
            });
        });
        if !open {
            self.queue_id = None;
        }
    }
}
