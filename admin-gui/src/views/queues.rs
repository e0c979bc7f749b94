//! Server → Queues: the outbound queue as a sortable table, with Details, Retry Now
//! and Delete (asked first); a double-click opens a message's details, a right-click
//! offers the same commands. Several messages can be selected (Ctrl, Shift, Ctrl+A)
//! and retried or deleted together.

use crate::actions::Action;
use crate::backend::Command;
use crate::model::Model;
use crate::selection::Selection;
use crate::widgets::{QUEUE_MENU, RowClick, Sort, confirm_ui, count_of, find_box, found, queue_table};

/// The Queues view.
#[derive(Debug)]
pub struct QueuesView {
    /// The messages selected, by queue id.
    selection: Selection<String>,
    sort: Sort,
    /// The Find box's text (sender, recipient, queue id or error).
    find: String,
    /// The list has the keyboard (the last pane clicked). Set by the window each frame.
    pub list_keys: bool,
    /// Delete was clicked for the selected messages: their confirmation opens.
    asked_delete: bool,
    /// The delete confirmation, when open: the messages' queue ids.
    confirm_delete: Option<Vec<String>>,
    /// An Edit menu command for the list, done at the next frame.
    pub requested: Option<crate::actions::Edit>,
}

impl Default for QueuesView {
    fn default() -> QueuesView {
        QueuesView {
            selection: Selection::default(),
            // By arrival, oldest first.
            sort: Sort::by(3),
            find: String::new(),
            list_keys: false,
            asked_delete: false,
            confirm_delete: None,
            requested: None,
        }
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
        // The selection only counts while the messages are still queued.
        self.selection.retain(|id| model.queue.iter().any(|m| m.queue_id == *id));
        let single = self.selection.single().cloned();
        let any = !self.selection.is_empty();
        let mut action = None;
        ui.horizontal(|ui| {
            ui.heading("Queues");
            if ui.add_enabled(connected && single.is_some(), egui::Button::new("Details…")).clicked()
                && let Some(queue_id) = single.clone()
            {
                action = Some(Action::ShowQueueDetails(queue_id));
            }
            let retry = ui
                .add_enabled(connected, egui::Button::new("Retry Now"))
                .on_hover_text("The messages selected, or every message when none is");
            if retry.clicked() {
                action = Some(self.retry());
            }
            if ui.add_enabled(connected && any, egui::Button::new("Delete (with NDR)…")).clicked() {
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
        match self.requested.take() {
            Some(crate::actions::Edit::SelectAll) => {
                self.selection.select_all(&shown.iter().map(|m| m.queue_id.clone()).collect::<Vec<_>>());
            }
            Some(crate::actions::Edit::Delete) => self.asked_delete = true,
            _ => {}
        }
        let keys = self.list_keys && !dialog;
        let clicked = queue_table(ui, &shown, Some(&mut self.selection), keys, &mut self.sort, &QUEUE_MENU);
        match clicked {
            Some((id, RowClick::Open | RowClick::Menu(0))) => action = Some(Action::ShowQueueDetails(id)),
            Some((_, RowClick::Menu(1))) => action = Some(self.retry()),
            Some((_, RowClick::Menu(_))) => self.asked_delete = true,
            _ => {}
        }
        // Enter shows the selected message, Delete asks to delete those selected.
        if keys && any && ui.memory(|m| m.focused().is_none()) {
            ui.input_mut(|i| {
                if i.consume_key(egui::Modifiers::NONE, egui::Key::Enter)
                    && let Some(id) = self.selection.single()
                {
                    action = Some(Action::ShowQueueDetails(id.clone()));
                }
                self.asked_delete |= i.consume_key(egui::Modifiers::NONE, egui::Key::Delete);
            });
        }
        if std::mem::take(&mut self.asked_delete) && !self.selection.is_empty() {
            self.confirm_delete = Some(self.selection.keys().cloned().collect());
        }
        if let Some(ids) = self.confirm_delete.clone() {
            let text = match ids.as_slice() {
                [id] => format!(
                    "Delete the queued message {id}? Its sender gets a non-delivery report saying it was not delivered."
                ),
                many => format!(
                    "Delete these {} queued messages? Their senders get non-delivery reports saying they were not \
                     delivered.",
                    many.len()
                ),
            };
            let title = if ids.len() == 1 { "Delete Queued Message" } else { "Delete Queued Messages" };
            if let Some(yes) = confirm_ui(ui.ctx(), "confirm_queue_delete", title, &text, "Delete") {
                self.confirm_delete = None;
                if yes {
                    self.selection.clear();
                    let commands =
                        ids.into_iter().map(|queue_id| Command::DeleteQueued { queue_id, ndr: true }).collect();
                    action = Some(Action::SendAll(commands));
                }
            }
        }
        action
    }

    /// Retry Now: the messages selected, or every message when none is.
    fn retry(&self) -> Action {
        if self.selection.is_empty() {
            Action::Send(Command::RetryQueue(None))
        } else {
            Action::SendAll(self.selection.keys().map(|id| Command::RetryQueue(Some(id.clone()))).collect())
        }
    }
}
