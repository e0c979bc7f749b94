//! Server → Quarantine: the messages the content filter or a DMARC policy held, as a
//! sortable table, with Details, Release (deliver after all) and Delete (after a
//! confirmation).

use egui_extras::{Column, TableBuilder};
use mailroom_shared::ipc::QuarantineEntry;

use crate::actions::Action;
use crate::backend::Command;
use crate::model::Model;
use crate::widgets::{RowClick, Sort, ago, cell, confirm_ui, count_of, find_box, found, row_click, sortable_header};

/// A held message's right-click menu.
const MENU: [&str; 3] = ["Details…", "Release", "Delete…"];

/// The Quarantine view.
#[derive(Debug)]
pub struct QuarantineView {
    /// The selected message, by quarantine id.
    selected: Option<i64>,
    sort: Sort,
    /// The Find box's text (sender, recipient, subject or reason).
    find: String,
    /// The delete confirmation, when open: the message's id and subject.
    confirm_delete: Option<(i64, String)>,
}

impl Default for QuarantineView {
    fn default() -> QuarantineView {
        // Newest first.
        QuarantineView {
            selected: None,
            sort: Sort { column: 0, ascending: false },
            find: String::new(),
            confirm_delete: None,
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
        // The selection only counts while the message is still held.
        let selected = self.selected.and_then(|id| model.quarantine.iter().find(|m| m.id == id));
        let mut action = None;
        ui.horizontal(|ui| {
            ui.heading("Quarantine");
            let one = connected && selected.is_some();
            if ui.add_enabled(one, egui::Button::new("Details…")).clicked()
                && let Some(m) = selected
            {
                action = Some(Action::ShowQuarantined(m.id));
            }
            if ui.add_enabled(one, egui::Button::new("Release")).on_hover_text("Deliver it to its recipients").clicked()
                && let Some(m) = selected
            {
                action = Some(Action::Send(Command::QuarantineRelease(m.id)));
            }
            if ui.add_enabled(one, egui::Button::new("Delete…")).clicked()
                && let Some(m) = selected
            {
                self.confirm_delete = Some((m.id, subject(m).to_owned()));
            }
            if ui.add_enabled(connected, egui::Button::new("Refresh")).clicked() {
                action = Some(Action::Send(Command::Refresh));
            }
        });
        let keep = model.config.as_ref().map(|(c, _)| c.filtering.quarantine_keep.as_secs() / 86_400);
        ui.label(match keep {
            Some(days) => format!(
                "{} held. Release delivers one to its recipients; held messages are deleted after {days} days.",
                count_of(model.quarantine.len(), "message", "messages")
            ),
            None => format!("{} held.", count_of(model.quarantine.len(), "message", "messages")),
        });
        let dialog = self.has_dialog();
        let query = find_box(ui, &mut self.find, "sender, recipient, subject or reason", dialog);
        if let Some((id, click)) = self.table_ui(ui, &model.quarantine, &query) {
            self.selected = Some(id);
            match click {
                RowClick::Open | RowClick::Menu(0) => action = Some(Action::ShowQuarantined(id)),
                RowClick::Menu(1) => action = Some(Action::Send(Command::QuarantineRelease(id))),
                RowClick::Menu(_) => {
                    if let Some(m) = model.quarantine.iter().find(|m| m.id == id) {
                        self.confirm_delete = Some((m.id, subject(m).to_owned()));
                    }
                }
                RowClick::Select => {}
            }
        }
        let ctx = ui.ctx().clone();
        action.or_else(|| self.delete_dialog(&ctx))
    }

    /// The table; returns the id of the row clicked and what the click asked for.
    fn table_ui(&mut self, ui: &mut egui::Ui, held: &[QuarantineEntry], query: &str) -> Option<(i64, RowClick)> {
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
        let mut clicked = None;
        let mut clicked_header = None;
        let selected = self.selected;
        TableBuilder::new(ui)
            .striped(true)
            .sense(egui::Sense::click())
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
                    row.set_selected(selected == Some(m.id));
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
        clicked
    }

    fn delete_dialog(&mut self, ctx: &egui::Context) -> Option<Action> {
        let (_, subject) = self.confirm_delete.as_ref()?;
        let text = format!("Delete \"{subject}\" without delivering it? This cannot be undone.");
        let answer = confirm_ui(ctx, "confirm_quarantine_delete", "Delete Held Message", &text, "Delete");
        let (id, _) = self.confirm_delete.take_if(|_| answer.is_some())?;
        answer.filter(|yes| *yes).map(|_| {
            self.selected = None;
            Action::Send(Command::QuarantineDelete(id))
        })
    }
}
