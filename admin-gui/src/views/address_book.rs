//! The address book, as Exchange Administrator opened it wherever people are chosen
//! (a list's members, who has permissions): every recipient by name, address and
//! kind, found as one types, several chosen at once (Ctrl, Shift, Ctrl+A), a
//! double-click adding one at once. A modal dialog over the one that opened it.

use egui_extras::{Column, TableBuilder};

use crate::model::Model;
use crate::selection::Selection;
use crate::widgets::{cell, found};

/// One recipient the address book offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// What is added: its (primary) address, or `anyone`.
    pub address: String,
    /// Its display name (the address when it has none).
    pub name: String,
    /// Its kind, in words.
    pub kind: &'static str,
}

impl Entry {
    fn new(address: &str, name: &str, kind: &'static str) -> Entry {
        let name = if name.trim().is_empty() { address } else { name };
        Entry { address: address.to_owned(), name: name.to_owned(), kind }
    }
}

/// Every recipient: mailboxes (shared ones too), distribution lists and custom
/// recipients, by name.
pub fn everyone(model: &Model) -> Vec<Entry> {
    let mut all: Vec<Entry> = model
        .mailboxes
        .iter()
        .map(|m| Entry::new(&m.addresses[0], &m.display_name, if m.shared { "Shared mailbox" } else { "Mailbox" }))
        .chain(model.lists.iter().map(|l| Entry::new(&l.address, &l.display_name, "Distribution list")))
        .chain(model.contacts.iter().map(|c| Entry::new(&c.address, &c.display_name, "Custom recipient")))
        .collect();
    all.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then_with(|| a.address.cmp(&b.address)));
    all
}

/// The address book dialog's state: closed, or open with what is typed and chosen.
#[derive(Debug, Default)]
pub struct AddressBook {
    /// Its title ("Add Members"); `None` while closed.
    title: Option<String>,
    query: String,
    selection: Selection<String>,
    /// The field has had its first focus.
    focused: bool,
}

impl AddressBook {
    /// Opens it, titled `title`.
    pub fn open(&mut self, title: &str) {
        *self = AddressBook { title: Some(title.to_owned()), ..AddressBook::default() };
    }

    /// Whether it is open.
    pub fn is_open(&self) -> bool {
        self.title.is_some()
    }

    /// Draws it over `entries` (those in `taken` left out); the addresses chosen once
    /// Add (or Enter, or a double-click) closes it, nothing while it is open or after
    /// Cancel.
    pub fn show(&mut self, ctx: &egui::Context, entries: &[Entry], taken: &[String]) -> Option<Vec<String>> {
        let title = self.title.clone()?;
        let shown: Vec<&Entry> = entries
            .iter()
            .filter(|e| !taken.contains(&e.address))
            .filter(|e| found(self.query.trim(), &[&e.name, &e.address]))
            .collect();
        let order: Vec<String> = shown.iter().map(|e| e.address.clone()).collect();
        self.selection.retain(|a| order.contains(a));
        let mut chosen = None;
        let mut close = false;
        egui::Modal::new(egui::Id::unique("address_book")).show(ctx, |ui| {
            ui.set_width(600.0);
            ui.heading(format!("Address Book: {title}"));
            let l = ui.label("Type a name or an address, or select from the list:");
            let field = ui.add(egui::TextEdit::singleline(&mut self.query).desired_width(580.0)).labelled_by(l.id);
            if !std::mem::replace(&mut self.focused, true) {
                field.request_focus();
            }
            // Down from the field goes to the list, as in Windows' address book.
            if field.has_focus() && ui.input(|i| i.key_pressed(egui::Key::ArrowDown)) {
                field.surrender_focus();
            }
            let name = |a: &String| shown.iter().find(|e| e.address == *a).map(|e| e.name.clone()).unwrap_or_default();
            let moved_to = self.selection.input(ui, true, &order, name);
            let modifiers = crate::selection::click_modifiers(ui);
            let mut clicked = None;
            let mut table = TableBuilder::new(ui)
                .id_salt("address_book_rows")
                .striped(true)
                .sense(egui::Sense::CLICK)
                .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
                .column(Column::initial(190.0).clip(true))
                .column(Column::initial(250.0).clip(true))
                .column(Column::remainder())
                .min_scrolled_height(240.0)
                .max_scroll_height(240.0);
            if let Some(to) = moved_to {
                table = table.scroll_to_row(to, None);
            }
            let selection = &self.selection;
            table
                .header(20.0, |mut h| {
                    for title in ["Name", "E-mail Address", "Type"] {
                        h.col(|ui| {
                            ui.strong(title);
                        });
                    }
                })
                .body(|body| {
                    body.rows(20.0, shown.len(), |mut row| {
                        let e = shown[row.index()];
                        row.set_selected(selection.contains(&e.address));
                        row.col(|ui| cell(ui, e.name.as_str()));
                        row.col(|ui| cell(ui, e.address.as_str()));
                        row.col(|ui| cell(ui, e.kind));
                        let r = row.response();
                        if r.double_clicked() {
                            clicked = Some((e.address.clone(), true));
                        } else if r.clicked() {
                            clicked = Some((e.address.clone(), false));
                        }
                    });
                });
            match clicked {
                Some((address, true)) => chosen = Some(vec![address]),
                Some((address, false)) => self.selection.click(address, modifiers, &order),
                None => {}
            }
            if shown.is_empty() {
                ui.weak("Nobody found.");
            }
            ui.separator();
            let mut add = false;
            ui.horizontal(|ui| {
                let any = !self.selection.is_empty() || shown.len() == 1;
                add |= ui.add_enabled(any, egui::Button::new("Add")).clicked();
                close |= ui.button("Cancel").clicked();
                ui.weak(format!("{} selected", self.selection.len()));
            });
            match crate::widgets::dialog_key(ui) {
                Some(crate::widgets::DialogKey::Default) => add = true,
                Some(crate::widgets::DialogKey::Cancel) => close = true,
                None => {}
            }
            if add && chosen.is_none() {
                let picked: Vec<String> = if self.selection.is_empty() {
                    // One found and nothing selected: Enter means that one.
                    order.iter().take(usize::from(order.len() == 1)).cloned().collect()
                } else {
                    order.iter().filter(|a| self.selection.contains(a)).cloned().collect()
                };
                if !picked.is_empty() {
                    chosen = Some(picked);
                }
            }
        });
        if close || chosen.is_some() {
            self.title = None;
        }
        chosen
    }
}
