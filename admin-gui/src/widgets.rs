//! The controls and words that several views and tabs share.
//!
//! Form rows for a two-column grid that show a field's validation errors next to it
//! (the sentence, in red, under the control), number rows, combo boxes, sortable table
//! headers, the queue table, and how times and service states are worded. A leaf
//! module: it knows egui and `shared`'s types, nothing of the app.

use std::cmp::Ordering;

use egui_extras::{Column, TableBuilder, TableRow};
use mailroom_shared::config::ConfigError;
use mailroom_shared::ipc::{QueueEntry, ServiceState};

/// A state in the words the GUI uses.
pub fn state_words(s: ServiceState) -> &'static str {
    match s {
        ServiceState::Running => "Running",
        ServiceState::Stopped => "Stopped",
        ServiceState::Starting => "Starting…",
        ServiceState::Stopping => "Stopping…",
    }
}

/// Draws a small icon (a glyph of the bundled emoji font) in a square of its own: a
/// picture for the eye only, so it adds no name for screen readers or tests to read.
pub fn icon(ui: &mut egui::Ui, glyph: &str, color: egui::Color32) {
    let size = ui.text_style_height(&egui::TextStyle::Body) + 2.0;
    let (rect, _) = ui.allocate_exact_size(egui::vec2(size, size), egui::Sense::hover());
    ui.painter().text(rect.center(), egui::Align2::CENTER_CENTER, glyph, egui::FontId::proportional(size - 3.0), color);
}

/// A filled circle in a colour: a state at a glance.
pub fn dot(ui: &mut egui::Ui, color: egui::Color32) {
    let size = ui.text_style_height(&egui::TextStyle::Body);
    let (rect, _) = ui.allocate_exact_size(egui::vec2(size, size), egui::Sense::hover());
    ui.painter().circle_filled(rect.center(), size * 0.3, color);
}

/// The colour a service state is shown in: green running, amber on the way, grey
/// stopped.
pub fn state_color(s: ServiceState) -> egui::Color32 {
    match s {
        ServiceState::Running => egui::Color32::from_rgb(0, 140, 60),
        ServiceState::Starting | ServiceState::Stopping => egui::Color32::from_rgb(200, 140, 0),
        ServiceState::Stopped => egui::Color32::from_rgb(130, 130, 130),
    }
}

/// Seconds since the Unix epoch, now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// How long ago `t` (Unix seconds) was: "12 s ago", "3 min ago", "2 h ago".
pub fn ago(t: i64) -> String {
    let s = (now() - t).max(0);
    match s {
        0..60 => format!("{s} s ago"),
        60..3600 => format!("{} min ago", s / 60),
        _ => format!("{} h ago", s / 3600),
    }
}

/// When `t` (Unix seconds) comes: "in 42 s", "in 14 min 52 s", "in 2 h 5 min".
pub fn in_secs(t: i64) -> String {
    format!("in {}", duration_words((t - now()).max(0)))
}

/// A span of `s` seconds as a person says it: "42 s", "14 min 52 s", "2 h 5 min".
pub fn duration_words(s: i64) -> String {
    match s {
        ..60 => format!("{s} s"),
        60..3600 if s % 60 == 0 => format!("{} min", s / 60),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ if s % 3600 < 60 => format!("{} h", s / 3600),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// Shows the errors whose field is `field` or inside it, in red, under the control.
pub fn field_errors(ui: &mut egui::Ui, errors: &[ConfigError], field: &str) {
    let inside = |e: &ConfigError| {
        e.field == field || e.field.strip_prefix(field).is_some_and(|rest| rest.starts_with(['.', '[']))
    };
    for e in errors.iter().filter(|e| inside(e)) {
        ui.colored_label(ui.visuals().error_fg_color, sentence(&e.problem.to_string()));
    }
}

/// Words as a sentence: a capital first letter and a full stop ("must not be empty"
/// becomes "Must not be empty.").
pub fn sentence(words: &str) -> String {
    let words = words.trim();
    let mut chars = words.chars();
    let Some(first) = chars.next() else { return String::new() };
    let mut out: String = first.to_uppercase().chain(chars).collect();
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// Where the field to focus next is kept (egui's memory), until its row is drawn.
fn focus_id() -> egui::Id {
    egui::Id::unique("mailroom.focus_field")
}

/// What [`focus_field`] takes to mean the first field drawn.
pub const FIRST_FIELD: &str = "*";

/// Asks the row of configuration field `field` ([`FIRST_FIELD`]: the first row drawn)
/// to take the keyboard focus when it is next drawn.
pub fn focus_field(ctx: &egui::Context, field: &str) {
    ctx.data_mut(|d| d.insert_temp(focus_id(), field.to_owned()));
}

/// Gives `response` the focus if its field's row (or the first row) was asked to take
/// it.
pub fn take_focus(ui: &egui::Ui, response: &egui::Response, field: &str) {
    let asked = ui.data(|d| d.get_temp::<String>(focus_id()));
    if asked.as_deref().is_some_and(|f| f == field || f == FIRST_FIELD) {
        response.request_focus();
        // A field named (a problem to correct) is brought into view; a tab's first
        // field is not, so that the tab opens at its top (walk defect 14: Message
        // Filtering opened half-way down, at its first field that was not ticked off).
        if asked.as_deref() == Some(field) {
            response.scroll_to_me(Some(egui::Align::Center));
        }
        ui.data_mut(|d| d.remove::<String>(focus_id()));
    }
}

/// A key that ends a dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogKey {
    /// Enter, with no button focused: the default button.
    Default,
    /// Escape: Cancel.
    Cancel,
}

/// What the keyboard asks of the dialog just drawn: Enter presses the default button
/// unless a button has the focus (then Enter presses that one), Escape cancels. Read
/// after the dialog's controls: a one-line field gives up the focus on Enter. The key
/// is taken: a dialog that closes on it leaves nothing for the window behind (which
/// would open the selection's Properties on the same Enter). A disabled `ui` reads no
/// key.
pub fn dialog_key(ui: &egui::Ui) -> Option<DialogKey> {
    // A disabled foot (waiting for the service, or under a dialog it opened) leaves
    // the keys to what is in front.
    if !ui.is_enabled() {
        return None;
    }
    let focused = ui.memory(|m| m.focused()).is_some();
    ui.input_mut(|i| {
        if i.key_pressed(egui::Key::Escape) {
            let modifiers = i.modifiers;
            i.consume_key(modifiers, egui::Key::Escape);
            Some(DialogKey::Cancel)
        } else if !focused && i.modifiers.is_none() && i.consume_key(egui::Modifiers::NONE, egui::Key::Enter) {
            Some(DialogKey::Default)
        } else {
            None
        }
    })
}

/// A dialog's problem line: the sentence in red once `shown`, else an empty line of
/// the same height, so that the buttons below never move.
pub fn problem_line(ui: &mut egui::Ui, problem: Option<&str>, shown: bool) {
    match problem.filter(|_| shown) {
        Some(p) => {
            ui.colored_label(ui.visuals().error_fg_color, p);
        }
        None => {
            ui.label(" ");
        }
    }
}

/// A list's Find box: "Find:" and a field filtering as one types (Ctrl+F reaches it
/// unless a dialog is open; Escape in it clears it). Returns the query, trimmed.
pub fn find_box(ui: &mut egui::Ui, query: &mut String, hint: &str, dialog_open: bool) -> String {
    ui.horizontal(|ui| {
        let l = ui.label("Find:");
        let field = ui.add(egui::TextEdit::singleline(query).hint_text(hint).desired_width(240.0)).labelled_by(l.id);
        let asked = ui.data_mut(|d| d.remove_temp::<bool>(egui::Id::unique(FIND_REQUESTED)).unwrap_or(false));
        if !dialog_open && (asked || ui.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::F))) {
            field.request_focus();
        }
        // (Escape also takes the focus from the field, in the same frame.)
        if (field.has_focus() || field.lost_focus()) && ui.input(|i| i.key_pressed(egui::Key::Escape)) {
            query.clear();
        }
        if !query.is_empty() && ui.small_button("Clear").on_hover_text("Show all").clicked() {
            query.clear();
        }
    });
    query.trim().to_owned()
}

/// Where Edit → Find leaves its request for the Find box of the list shown.
const FIND_REQUESTED: &str = "find_requested";

/// Edit → Find: the Find box of the list shown takes the keyboard at its next frame.
pub fn request_find(ctx: &egui::Context) {
    ctx.data_mut(|d| d.insert_temp(egui::Id::unique(FIND_REQUESTED), true));
}

/// Whether every word of `query` is found, ignoring case, in one of `fields` (an
/// empty query finds everything).
pub fn found(query: &str, fields: &[&str]) -> bool {
    let fields: Vec<String> = fields.iter().map(|f| f.to_lowercase()).collect();
    query.split_whitespace().all(|word| {
        let word = word.to_lowercase();
        fields.iter().any(|f| f.contains(&word))
    })
}

/// The width of the label column of every property tab's form: the fields of every tab
/// start at one x, as on a Windows property sheet.
pub const LABEL_COLUMN: f32 = 300.0;

/// A property tab's form: two columns, labels [`LABEL_COLUMN`] wide.
pub fn form_grid(id: &str) -> egui::Grid {
    egui::Grid::new(id).num_columns(2).spacing([12.0, 8.0]).min_col_width(LABEL_COLUMN)
}

/// A labelled one-line field in a two-column grid (the row ended), with a hint shown
/// while it is empty; its response, to see whether it changed or to focus it.
pub fn form_row(ui: &mut egui::Ui, label: &str, value: &mut String, hint: &str) -> egui::Response {
    let l = ui.label(label);
    let field = ui.add(egui::TextEdit::singleline(value).hint_text(hint)).labelled_by(l.id);
    ui.end_row();
    field
}

/// A dialog's foot: its problem line (once `shown`), the default button `ok` and
/// Cancel, and the keys (Enter, when `enter`, presses `ok`; Escape cancels).
/// `Some(true)` when confirmed, `Some(false)` when cancelled, `None` while open;
/// confirming with a problem shows it (sets `shown`) instead.
pub fn dialog_foot(ui: &mut egui::Ui, problem: Option<&str>, shown: &mut bool, ok: &str, enter: bool) -> Option<bool> {
    problem_line(ui, problem, *shown);
    let mut answer = None;
    ui.horizontal(|ui| {
        if ui.add_enabled(problem.is_none() || !*shown, egui::Button::new(ok)).clicked() {
            answer = Some(true);
        }
        if ui.button("Cancel").clicked() {
            answer = Some(false);
        }
    });
    match dialog_key(ui) {
        Some(DialogKey::Default) if enter => answer = Some(true),
        Some(DialogKey::Cancel) => answer = Some(false),
        _ => {}
    }
    if answer == Some(true) && problem.is_some() {
        *shown = true;
        return None;
    }
    answer
}

/// A confirmation before something that cannot be undone, as a modal: `Some(true)`
/// when `act` (the dangerous button: "Delete", "Rotate") is pressed, `Some(false)` on
/// Cancel or Escape, `None` while open. Cancel comes first and keeps the focus unless
/// the user moves it, so Enter means Cancel.
pub fn confirm_ui(ctx: &egui::Context, id: &str, title: &str, text: &str, act: &str) -> Option<bool> {
    let mut answer = None;
    egui::Modal::new(egui::Id::unique(id)).show(ctx, |ui| {
        ui.set_max_width(460.0);
        ui.heading(title);
        ui.add(egui::Label::new(text).wrap());
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            let cancel = ui.button("Cancel");
            if ui.memory(|m| m.focused().is_none()) {
                cancel.request_focus();
            }
            if cancel.clicked() {
                answer = Some(false);
            }
            if ui.button(act).clicked() {
                answer = Some(true);
            }
        });
        if dialog_key(ui) == Some(DialogKey::Cancel) {
            answer = Some(false);
        }
    });
    answer
}

/// "1 problem", "2 problems".
pub fn count_of(n: usize, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

/// A labelled single-line text field in a two-column grid, with its errors.
pub fn text_row(ui: &mut egui::Ui, label: &str, value: &mut String, errors: &[ConfigError], field: &str) {
    let l = ui.label(label);
    ui.vertical(|ui| {
        let r = ui.add(egui::TextEdit::singleline(value).desired_width(280.0)).labelled_by(l.id);
        take_focus(ui, &r, field);
        field_errors(ui, errors, field);
    });
    ui.end_row();
}

/// A labelled number field with its unit (`suffix`), and its errors.
pub fn number_row(ui: &mut egui::Ui, label: &str, value: &mut u64, suffix: &str, errors: &[ConfigError], field: &str) {
    let l = ui.label(label);
    ui.vertical(|ui| {
        ui.horizontal(|ui| {
            ui.add(egui::DragValue::new(value).range(0..=u64::MAX)).labelled_by(l.id);
            ui.label(suffix);
        });
        field_errors(ui, errors, field);
    });
    ui.end_row();
}

/// A labelled number that may be left unset, in a two-column grid: a radio for `None`
/// (`unset`), a radio for a number (`set`) with its field (starting at `default`), an
/// optional hint below, and the field's errors.
pub fn optional_number_row(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut Option<u64>,
    (unset, set, default): (&str, &str, u64),
    hint: Option<&str>,
    errors: &[ConfigError],
    field: &str,
) {
    ui.label(label);
    ui.vertical(|ui| {
        let mut is_set = value.is_some();
        ui.horizontal(|ui| {
            ui.radio_value(&mut is_set, false, unset);
            let number = ui.radio_value(&mut is_set, true, set);
            let mut n = value.unwrap_or(default);
            ui.add_enabled(is_set, egui::DragValue::new(&mut n).range(0..=u64::MAX)).labelled_by(number.id);
            *value = is_set.then_some(n);
        });
        if let Some(hint) = hint {
            ui.weak(hint);
        }
        field_errors(ui, errors, field);
    });
    ui.end_row();
}

/// A labelled choice among `options` (value and words), in a two-column grid.
pub fn combo<T: PartialEq + Copy>(ui: &mut egui::Ui, label: &str, value: &mut T, options: &[(T, &str)]) {
    let l = ui.label(label);
    let current = options.iter().find(|(v, _)| v == value).map_or("", |(_, n)| n);
    egui::ComboBox::from_id_salt(label)
        .selected_text(current)
        .show_ui(ui, |ui| {
            for (v, name) in options {
                ui.selectable_value(value, *v, *name);
            }
        })
        .response
        .labelled_by(l.id);
    ui.end_row();
}

/// A table's sort order: a column, and which way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    /// The column sorted on.
    pub column: usize,
    /// Smallest first.
    pub ascending: bool,
}

impl Sort {
    /// Ascending on `column`.
    pub fn by(column: usize) -> Sort {
        Sort { column, ascending: true }
    }

    /// `o`, turned around when descending.
    pub fn order(self, o: Ordering) -> Ordering {
        if self.ascending { o } else { o.reverse() }
    }

    /// A click on `column`'s header: the same column turns around, another sorts
    /// ascending.
    pub fn clicked(&mut self, column: usize) {
        *self = if self.column == column { Sort { column, ascending: !self.ascending } } else { Sort::by(column) };
    }
}

/// A table cell's text: plain (not selectable, not a button), cut to one line, so
/// that every column lines up and the row takes the clicks.
pub fn cell(ui: &mut egui::Ui, text: impl Into<egui::WidgetText>) {
    ui.add(egui::Label::new(text).selectable(false).truncate());
}

/// What a click on a table row asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowClick {
    /// Select it (a click).
    Select,
    /// A right-click, before its menu: selects the row unless it is selected already.
    Secondary,
    /// Open it (a double-click).
    Open,
    /// The command of its right-click menu at this index.
    Menu(usize),
}

/// Reads a row's response: a click selects, a double-click opens, a right-click
/// selects and offers `menu` (its items, in order).
pub fn row_click(response: &egui::Response, menu: &[&str]) -> Option<RowClick> {
    let mut out = None;
    if response.clicked() {
        out = Some(RowClick::Select);
    }
    if response.secondary_clicked() {
        out = Some(RowClick::Secondary);
    }
    if response.double_clicked() {
        out = Some(RowClick::Open);
    }
    if menu.is_empty() {
        return out;
    }
    response.context_menu(|ui| {
        for (i, item) in menu.iter().enumerate() {
            if ui.button(*item).clicked() {
                out = Some(RowClick::Menu(i));
                ui.close();
            }
        }
    });
    out
}

/// A sortable table's header: a button per column, the sorted one marked "(up)" or
/// "(down)". Returns the column clicked.
pub fn sortable_header(header: &mut TableRow<'_, '_>, names: &[&str], sort: Sort) -> Option<usize> {
    let mut clicked = None;
    for (i, name) in names.iter().enumerate() {
        header.col(|ui| {
            let arrow = match (sort.column == i, sort.ascending) {
                (false, _) => "",
                (true, true) => " (up)",
                (true, false) => " (down)",
            };
            if ui.button(format!("{name}{arrow}")).clicked() {
                clicked = Some(i);
            }
        });
    }
    clicked
}

/// The queue's right-click menu.
pub const QUEUE_MENU: [&str; 3] = ["Details…", "Retry Now", "Delete (with NDR)…"];

/// The queue as a table, sorted by `sort` (a click on a header changes it). Returns
/// the queue id of the row clicked and what the click asked for (`menu`'s items for a
/// right-click: [`QUEUE_MENU`], or none where the table is read-only). With a
/// `selection`, clicks and (when `keys`) the list's keys change it, several rows at
/// once as in a Windows list view; without one nothing is selected.
pub fn queue_table(
    ui: &mut egui::Ui,
    queue: &[QueueEntry],
    selection: Option<&mut crate::selection::Selection<String>>,
    keys: bool,
    sort: &mut Sort,
    menu: &[&str],
) -> Option<(String, RowClick)> {
    let by = *sort;
    let mut order: Vec<&QueueEntry> = queue.iter().collect();
    order.sort_by(|a, b| {
        by.order(match by.column {
            0 => a.sender.cmp(&b.sender),
            1 => a.recipients.cmp(&b.recipients),
            2 => a.size.cmp(&b.size),
            4 => a.next_attempt.cmp(&b.next_attempt),
            5 => a.last_error.cmp(&b.last_error),
            _ => a.received_at.cmp(&b.received_at),
        })
    });
    let ids: Vec<String> = order.iter().map(|m| m.queue_id.clone()).collect();
    let name = |id: &String| order.iter().find(|m| m.queue_id == *id).map(|m| m.sender.clone()).unwrap_or_default();
    let mut selection = selection;
    let moved_to = selection.as_deref_mut().and_then(|s| s.input(ui, keys, &ids, name));
    let modifiers = crate::selection::click_modifiers(ui);
    let mut clicked = None;
    let mut clicked_header = None;
    let mut table = TableBuilder::new(ui);
    if let Some(to) = moved_to {
        table = table.scroll_to_row(to, None);
    }
    let shown = selection.as_deref();
    table
        .striped(true)
        // Clicks, but no Tab stop per row: the list has the keys as a whole (F6).
        .sense(egui::Sense::CLICK)
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .column(Column::initial(160.0).resizable(true))
        .column(Column::initial(180.0).resizable(true))
        .column(Column::initial(60.0))
        .column(Column::initial(80.0))
        .column(Column::initial(80.0))
        .column(Column::remainder())
        .header(22.0, |mut h| {
            let names = ["From", "To", "Size", "Arrived", "Next Retry", "Last Error"];
            clicked_header = sortable_header(&mut h, &names, by);
        })
        .body(|body| {
            body.rows(20.0, order.len(), |mut row| {
                let m = order[row.index()];
                row.set_selected(shown.is_some_and(|s| s.contains(&m.queue_id)));
                row.col(|ui| cell(ui, if m.sender.is_empty() { "<>" } else { m.sender.as_str() }));
                row.col(|ui| cell(ui, m.recipients.join(", ")));
                row.col(|ui| cell(ui, format!("{} KB", m.size.div_ceil(1024))));
                row.col(|ui| cell(ui, ago(m.received_at)));
                row.col(|ui| cell(ui, m.next_attempt.map(in_secs).unwrap_or_default()));
                // One line per row: long errors are cut, whole in Details.
                row.col(|ui| cell(ui, m.last_error.as_deref().unwrap_or("")));
                if let Some(click) = row_click(&row.response(), menu) {
                    clicked = Some((m.queue_id.clone(), click));
                }
            });
        });
    if let Some(i) = clicked_header {
        sort.clicked(i);
    }
    if let (Some(s), Some((id, click))) = (selection, &clicked) {
        s.apply_click(id.clone(), *click, modifiers, &ids);
    }
    clicked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_click_turns_the_same_column_around_and_sorts_another_ascending() {
        let mut s = Sort::by(1);
        s.clicked(1);
        assert_eq!(s, Sort { column: 1, ascending: false });
        assert_eq!(s.order(Ordering::Less), Ordering::Greater);
        s.clicked(3);
        assert_eq!(s, Sort::by(3));
    }

    #[test]
    fn words_become_sentences_and_counts_agree() {
        assert_eq!(sentence("must not be empty"), "Must not be empty.");
        assert_eq!(sentence("'ä' is odd."), "'ä' is odd.");
        assert_eq!(sentence(""), "");
        assert_eq!(count_of(1, "problem", "problems"), "1 problem");
        assert_eq!(count_of(0, "message", "messages"), "0 messages");
    }

    /// Walk defect 20: the next attempt was "in 892 s".
    #[test]
    fn a_wait_is_said_in_minutes_and_hours_not_hundreds_of_seconds() {
        assert_eq!(duration_words(42), "42 s");
        assert_eq!(duration_words(892), "14 min 52 s");
        assert_eq!(duration_words(600), "10 min");
        assert_eq!(duration_words(7200), "2 h");
        assert_eq!(duration_words(7530), "2 h 5 min");
    }

    #[test]
    fn find_wants_every_word_somewhere_whatever_its_case() {
        assert!(found("", &["anything"]));
        assert!(found("ann CORP", &["Ann Archer", "ann@corp.test"]));
        assert!(!found("ann bob", &["Ann Archer", "ann@corp.test"]));
    }
}
