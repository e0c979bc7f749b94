//! Server → Queues: the outbound queue as a sortable table, with Details, Retry Now
//! and Delete.

use crate::actions::Action;
use crate::backend::Command;
use crate::model::Model;
use crate::widgets::{Sort, count_of, queue_table};

/// The Queues view.
#[derive(Debug)]
pub struct QueuesView {
    /// The selected message, by queue id.
    selected: Option<String>,
    sort: Sort,
}

impl Default for QueuesView {
    fn default() -> QueuesView {
        // By arrival, oldest first.
        QueuesView { selected: None, sort: Sort::by(3) }
    }
}

impl QueuesView {
    /// The buttons, the count, and the table.
    pub fn ui(&mut self, ui: &mut egui::Ui, model: &Model) -> Option<Action> {
        let connected = model.connected();
        // The selection only counts while the message is still queued.
        let selected = self.selected.clone().filter(|id| model.queue.iter().any(|m| m.queue_id == *id));
        let mut action = None;
        ui.horizontal(|ui| {
            ui.heading("Queues");
            if ui.add_enabled(connected && selected.is_some(), egui::Button::new("Details…")).clicked()
                && let Some(queue_id) = selected.clone()
            {
                action = Some(Action::ShowQueueDetails(queue_id));
            }
            if ui.add_enabled(connected, egui::Button::new("Retry Now")).clicked() {
                action = Some(Action::Send(Command::RetryQueue(selected.clone())));
            }
            if ui.add_enabled(connected && selected.is_some(), egui::Button::new("Delete (with NDR)")).clicked()
                && let Some(queue_id) = selected.clone()
            {
                action = Some(Action::Send(Command::DeleteQueued { queue_id, ndr: true }));
            }
            if ui.add_enabled(connected, egui::Button::new("Refresh")).clicked() {
                action = Some(Action::Send(Command::Refresh));
            }
        });
        ui.label(format!("{} waiting", count_of(model.queue.len(), "message", "messages")));
        if let Some(clicked) = queue_table(ui, &model.queue, selected.as_deref(), &mut self.sort) {
            self.selected = Some(clicked);
        }
        action
    }
}
