//! Server → Queues: the outbound queue as a sortable table, with Details, Retry Now
//! and Delete (asked first); a double-click opens a message's details, a right-click
//! offers the same commands.

use crate::actions::Action;
use crate::backend::Command;
use crate::model::Model;
use crate::widgets::{QUEUE_MENU, RowClick, Sort, confirm_ui, count_of, find_box, found, queue_table};

/// The Queues view.
#[derive(Debug)]
pub struct QueuesView {
    /// The selected message, by queue id.
    selected: Option<String>,
    sort: Sort,
    /// The Find box's text (sender, recipient, queue id or error).
    find: String,
    /// Delete was clicked for the selected message: its confirmation opens.
    asked_delete: bool,
    /// The delete confirmation, when open: the message's queue id.
    confirm_delete: Option<String>,
}

impl Default for QueuesView {
    fn default() -> QueuesView {
        // By arrival, oldest first.
        QueuesView { selected: None, sort: Sort::by(3), find: String::new(), asked_delete: false, confirm_delete: None }
    }
}

impl QueuesView {
    /// True while its delete confirmation is open.
    pub fn has_dialog(&self) -> bool {
        self.confirm_delete.is_some()
    }

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
            if ui.add_enabled(connected && selected.is_some(), egui::Button::new("Delete (with NDR)…")).clicked() {
                self.asked_delete = true;
            }
            if ui.add_enabled(connected, egui::Button::new("Refresh")).clicked() {
                action = Some(Action::Send(Command::Refresh));
            }
        });
        ui.label(format!("{} waiting", count_of(model.queue.len(), "message", "messages")));
        let dialog = self.has_dialog();
        let query = find_box(ui, &mut self.find, "sender, recipient, queue id or error", dialog);
        let shown: std::borrow::Cow<'_, [_]> = if query.is_empty() {
            std::borrow::Cow::Borrowed(&model.queue[..])
        } else {
            let found: Vec<_> = model
                .queue
                .iter()
                .filter(|m| {
                    let recipients = m.recipients.join(" ");
                    let error = m.last_error.as_deref().unwrap_or_default();
                    found(&query, &[&m.sender, &recipients, &m.queue_id, error])
                })
                .cloned()
                .collect();
            ui.label(format!("{} of {} found", found.len(), model.queue.len()));
            std::borrow::Cow::Owned(found)
        };
        let mut delete = None;
        if let Some((id, click)) = queue_table(ui, &shown, selected.as_deref(), &mut self.sort, &QUEUE_MENU) {
            self.selected = Some(id.clone());
            match click {
                RowClick::Open | RowClick::Menu(0) => action = Some(Action::ShowQueueDetails(id)),
                RowClick::Menu(1) => action = Some(Action::Send(Command::RetryQueue(Some(id)))),
                RowClick::Menu(_) => delete = Some(id),
                RowClick::Select => {}
            }
        }
        if let Some(id) =
            delete.or_else(|| std::mem::take(&mut self.asked_delete).then_some(selected.clone()).flatten())
        {
            self.confirm_delete = Some(id);
        }
        if let Some(id) = self.confirm_delete.clone() {
            let text = format!(
                "Delete the queued message {id}? Its sender gets a non-delivery report saying it was not delivered."
            );
            if let Some(yes) = confirm_ui(ui.ctx(), "confirm_queue_delete", "Delete Queued Message", &text, "Delete") {
                self.confirm_delete = None;
                if yes {
                    action = Some(Action::Send(Command::DeleteQueued { queue_id: id, ndr: true }));
                }
            }
        }
        action
    }
}
