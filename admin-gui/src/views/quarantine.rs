//! Server → Quarantine: the messages the content filter or a DMARC policy held, as a
//! sortable table, with Details, Release (deliver after all) and Delete (after a
//! confirmation); several can be selected (Ctrl, Shift, Ctrl+A) and released or
//! deleted together.

use egui_extras::{Column, TableBuilder};
use mailroom_shared::ipc::QuarantineEntry;

use crate::actions::Action;
use crate::backend::Command;
use crate::model::Model;
use crate::selection::Selection;
use crate::widgets::{RowClick, Sort, ago, cell, confirm_ui, count_of, find_box, found, row_click, sortable_header};

/// A held message's right-click menu.
const MENU: [&str; 3] = ["Details…", "Release", "Delete…"];

/// The Quarantine view.
#[derive(Debug)]
pub struct QuarantineView {
    /// The messages selected, by quarantine id.
    selection: Selection<i64>,
    sort: Sort,
    /// The Find box's text (sender, recipient, subject or reason).
    find: String,
    /// The list has the keyboard (the last pane clicked). Set by the window each frame.
    pub list_keys: bool,
    /// The delete confirmation, when open: the messages' ids and subjects.
    confirm_delete: Option<Vec<(i64, String)>>,
    /// An Edit menu command for the list, done at the next frame.
    pub requested: Option<crate::actions::Edit>,
}

impl Default for QuarantineView {
    fn default() -> QuarantineView {
        QuarantineView {
            selection: Selection::default(),
            // Newest first.
            sort: Sort { column: 0, ascending: false },
            find: String::new(),
            list_keys: false,
            confirm_delete: None,
            requested: None,
        }
    }
}

/// A subject as listed: `(no subject)` for none.
fn subject(e: &QuarantineEntry) -> &str {
    if e.subject.trim().is_empty() { "(no subject)" } else { e.subject.as_str() }
}

impl QuarantineView {
    /// True while its delete confirmation is open.
    pub fn has_dialog(&self) -> bool {
        self.confirm_delete.is_some()
    }

    /// The buttons, the count, the table, and the delete confirmation.
    pub fn ui(&mut self, ui: &mut egui::Ui, model: &Model) -> Option<Action> {
        let connected = model.connected();
        // The selection only counts while the messages are still held.
        self.selection.retain(|id| model.quarantine.iter().any(|m| m.id == *id));
        let single = self.selection.single().copied();
        let any = connected && !self.selection.is_empty();
        let mut action = None;
        let mut release = false;
        let mut delete = self.requested == Some(crate::actions::Edit::Delete);
        ui.horizontal(|ui| {
            ui.heading("Quarantine");
            if ui.add_enabled(connected && single.is_some(), egui::Button::new("Details…")).clicked()
                && let Some(id) = single
            {
                action = Some(Action::ShowQuarantined(id));
            }
            release |= ui
                .add_enabled(any, egui::Button::new("Release"))
                .on_hover_text("Deliver the messages selected to their recipients")
                .clicked();
            delete |= ui.add_enabled(any, egui::Button::new("Delete…")).clicked();
            if ui.add_enabled(connected, egui::Button::new("Refresh")).clicked() {
                action = Some(Action::Send(Command::Refresh));
            }
        });
        let keep = model.config.as_ref().map(|(c, _)| c.filtering.quarantine_keep.as_secs() / 86_400);
        ui.label(match keep {
            Some(days) => format!(
                "{} held. Release delivers the messages selected to their recipients; held messages are deleted \
                 after {days} days.",
                count_of(model.quarantine.len(), "message", "messages")
            ),
            None => format!("{} held.", count_of(model.quarantine.len(), "message", "messages")),
        });
        let dialog = self.has_dialog();
        let query = find_box(ui, &mut self.find, "sender, recipient, subject or reason", dialog);
        let keys = self.list_keys && !dialog;
        match self.table_ui(ui, &model.quarantine, &query, keys) {
            Some((id, RowClick::Open | RowClick::Menu(0))) => action = Some(Action::ShowQuarantined(id)),
            Some((_, RowClick::Menu(1))) => release = true,
            Some((_, RowClick::Menu(_))) => delete = true,
            _ => {}
        }
        // Enter shows the selected message, Delete asks to delete those selected.
        if keys && any && ui.memory(|m| m.focused().is_none()) {
            ui.input_mut(|i| {
                if i.consume_key(egui::Modifiers::NONE, egui::Key::Enter)
                    && let Some(id) = single
                {
                    action = Some(Action::ShowQuarantined(id));
                }
                delete |= i.consume_key(egui::Modifiers::NONE, egui::Key::Delete);
            });
        }
        if release && !self.selection.is_empty() {
            action = Some(Action::SendAll(self.selection.keys().map(|id| Command::QuarantineRelease(*id)).collect()));
        }
        if delete && !self.selection.is_empty() {
            let chosen = model
                .quarantine
                .iter()
                .filter(|m| self.selection.contains(&m.id))
                .map(|m| (m.id, subject(m).to_owned()))
                .collect();
            self.confirm_delete = Some(chosen);
        }
        let ctx = ui.ctx().clone();
        action.or_else(|| self.delete_dialog(&ctx))
    }

    /// The table; returns the id of the row clicked and what the click asked for.
    fn table_ui(
        &mut self,
        ui: &mut egui::Ui,
        held: &[QuarantineEntry],
        query: &str,
        keys: bool,
    ) -> Option<(i64, RowClick)> {
        let by = self.sort;
        let mut rows: Vec<&QuarantineEntry> = held
            .iter()
            .filter(|m| found(query, &[&m.sender, &m.recipients.join(" "), subject(m), &m.reason]))
            .collect();
        if !query.is_empty() {
            ui.label(format!("{} of {} found", rows.len(), held.len()));
        }
        rows.sort_by(|a, b| {
            by.order(match by.column {
                1 => a.sender.cmp(&b.sender),
                2 => a.recipients.cmp(&b.recipients),
                3 => subject(a).cmp(subject(b)),
                4 => a.score.partial_cmp(&b.score).unwrap_or(std::cmp::Ordering::Equal),
                5 => a.reason.cmp(&b.reason),
                _ => a.held_at.cmp(&b.held_at).then(a.id.cmp(&b.id)),
            })
        });
        let ids: Vec<i64> = rows.iter().map(|m| m.id).collect();
        let name = |id: &i64| rows.iter().find(|m| m.id == *id).map(|m| subject(m).to_owned()).unwrap_or_default();
        let moved_to = self.selection.input(ui, keys, &ids, name);
        if self.requested.take() == Some(crate::actions::Edit::SelectAll) {
            self.selection.select_all(&ids);
        }
        let modifiers = crate::selection::click_modifiers(ui);
        let mut clicked = None;
        let mut clicked_header = None;
        let selection = &self.selection;
        let mut table = TableBuilder::new(ui);
        if let Some(to) = moved_to {
            table = table.scroll_to_row(to, None);
        }
        table
            .striped(true)
            // Clicks, but no Tab stop per row: the list has the keys as a whole (F6).
            .sense(egui::Sense::CLICK)
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::initial(100.0))
            .column(Column::initial(170.0).resizable(true))
            .column(Column::initial(170.0).resizable(true))
            .column(Column::initial(200.0).resizable(true))
            .column(Column::initial(50.0))
            .column(Column::remainder())
            .header(22.0, |mut h| {
                let names = ["Held", "From", "To", "Subject", "Score", "Reason"];
                clicked_header = sortable_header(&mut h, &names, by);
            })
            .body(|body| {
                body.rows(20.0, rows.len(), |mut row| {
                    let m = rows[row.index()];
                    row.set_selected(selection.contains(&m.id));
                    row.col(|ui| cell(ui, ago(m.held_at)));
                    row.col(|ui| cell(ui, if m.sender.is_empty() { "<>" } else { m.sender.as_str() }));
                    row.col(|ui| cell(ui, m.recipients.join(", ")));
                    row.col(|ui| cell(ui, subject(m)));
                    row.col(|ui| cell(ui, m.score.map(|s| format!("{s:.1}")).unwrap_or_default()));
                    row.col(|ui| cell(ui, &m.reason));
                    if let Some(click) = row_click(&row.response(), &MENU) {
                        clicked = Some((m.id, click));
                    }
                });
            });
        if let Some(i) = clicked_header {
            self.sort.clicked(i);
        }
        if let Some((id, click)) = clicked {
            self.selection.apply_click(id, click, modifiers, &ids);
        }
        clicked
    }

    fn delete_dialog(&mut self, ctx: &egui::Context) -> Option<Action> {
        let chosen = self.confirm_delete.as_ref()?;
        let (title, text) = match chosen.as_slice() {
            [(_, subject)] => {
                ("Delete Held Message", format!("Delete \"{subject}\" without delivering it? This cannot be undone."))
            }
            many => (
                "Delete Held Messages",
                format!("Delete these {} messages without delivering them? This cannot be undone.", many.len()),
            ),
        };
        let answer = confirm_ui(ctx, "confirm_quarantine_delete", title, &text, "Delete");
        let chosen = self.confirm_delete.take_if(|_| answer.is_some())?;
        answer.filter(|yes| *yes).map(|_| {
            self.selection.clear();
            Action::SendAll(chosen.into_iter().map(|(id, _)| Command::QuarantineDelete(id)).collect())
        })
    }
}
