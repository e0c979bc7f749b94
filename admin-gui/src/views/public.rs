//! Public Folders, as Exchange Administrator's node of that name: the organisation's
//! shared folders in a sortable table (name, e-mail address, messages, size, limit),
//! New Folder…, Properties (General: address and size limit; Permissions), and Delete
//! after a confirmation. Mail programs show them under Shared Folders.

use egui_extras::{Column, TableBuilder};
use mailroom_shared::ipc::{PublicFolderInfo, Request};

use super::permissions::Permissions;
use super::recipients::Pending;
use crate::actions::Action;
use crate::backend::Command;
use crate::model::Model;
use crate::widgets::{RowClick, Sort, cell, confirm_ui, count_of, dialog_foot, form_row, row_click, sortable_header};

/// A folder's right-click menu.
const MENU: [&str; 2] = ["Properties…", "Delete…"];

/// The folder dialog's tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum FolderTab {
    #[default]
    General,
    Permissions,
}

/// New Folder, or a folder's properties.
#[derive(Debug, Default)]
struct FolderForm {
    /// The folder's name when it exists (it is not renamed here).
    existing: Option<String>,
    name: String,
    address: String,
    /// A size limit, in KB.
    limited: bool,
    limit_kb: u64,
    tab: FolderTab,
    permissions: Permissions,
    /// What it had when the dialog opened.
    before: (String, Option<u64>),
    focused: bool,
    show_problem: bool,
    pending: Pending,
}

impl FolderForm {
    fn of(f: &PublicFolderInfo, candidates: Vec<crate::views::address_book::Entry>) -> FolderForm {
        let given = f.permissions.iter().map(|p| (p.grantee.clone(), p.rights)).collect();
        let address = f.address.clone().unwrap_or_default();
        FolderForm {
            existing: Some(f.name.clone()),
            name: f.name.clone(),
            address: address.clone(),
            limited: f.quota_kb.is_some(),
            limit_kb: f.quota_kb.unwrap_or(100_000),
            permissions: Permissions::new(given, candidates),
            before: (address, f.quota_kb),
            show_problem: true,
            ..FolderForm::default()
        }
    }

    fn problem(&self) -> Option<String> {
        let name = self.name.trim().trim_matches('/');
        if name.is_empty() {
            return Some("Type the folder's name.".to_owned());
        }
        if name.eq_ignore_ascii_case("INBOX") || name.contains("//") {
            return Some(format!("'{name}' cannot name a public folder."));
        }
        let address = self.address.trim();
        if !address.is_empty()
            && let Err(e) = mailroom_shared::address::EmailAddress::parse(address)
        {
            return Some(format!("The e-mail address: '{address}' {e}."));
        }
        None
    }

    /// What OK sends: the folder (new) or its changes, then the permissions changed.
    fn requests(&self) -> Vec<Request> {
        let name = self.name.trim().trim_matches('/').to_owned();
        let address = self.address.trim().to_owned();
        let limit = self.limited.then_some(self.limit_kb);
        let mut out = Vec::new();
        match &self.existing {
            None => {
                out.push(Request::AddPublicFolder { name: name.clone(), address: Some(address.clone()) });
                if limit.is_some() {
                    out.push(Request::UpdatePublicFolder { name: name.clone(), address: None, quota_kb: limit });
                }
            }
            Some(_) => {
                let (was_address, was_limit) = &self.before;
                let address = (address != *was_address).then_some(address);
                let quota_kb = (limit != *was_limit).then_some(limit.unwrap_or(0));
                if address.is_some() || quota_kb.is_some() {
                    out.push(Request::UpdatePublicFolder { name: name.clone(), address, quota_kb });
                }
            }
        }
        for (grantee, rights) in self.permissions.changes() {
            out.push(Request::SetFolderPermission { folder: name.clone(), grantee, rights });
        }
        out
    }
}

/// The Public Folders view and its dialogs.
#[derive(Debug)]
pub struct PublicFoldersView {
    /// The selected folder, by name.
    selected: Option<String>,
    sort: Sort,
    form: Option<FolderForm>,
    confirm_delete: Option<String>,
}

impl Default for PublicFoldersView {
    fn default() -> PublicFoldersView {
        PublicFoldersView { selected: None, sort: Sort::by(0), form: None, confirm_delete: None }
    }
}

impl PublicFoldersView {
    /// True while one of its dialogs is open.
    pub fn has_dialog(&self) -> bool {
        self.form.is_some() || self.confirm_delete.is_some()
    }

    /// The buttons, the table, and whichever dialog is open.
    pub fn ui(&mut self, ui: &mut egui::Ui, model: &Model) -> Option<Action> {
        let connected = model.connected();
        let selected = self.selected.clone().filter(|s| model.public_folders.iter().any(|f| f.name == *s));
        let (mut open, mut delete) = (false, false);
        ui.horizontal_wrapped(|ui| {
            ui.heading("Public Folders");
            if ui.add_enabled(connected, egui::Button::new("New Folder…")).clicked() {
                let candidates = super::permissions::candidates(model, None);
                let mut form =
                    FolderForm { permissions: Permissions::new(Vec::new(), candidates), ..FolderForm::default() };
                form.limit_kb = 100_000;
                self.form = Some(form);
            }
            open |= ui.add_enabled(connected && selected.is_some(), egui::Button::new("Properties…")).clicked();
            delete |= ui.add_enabled(connected && selected.is_some(), egui::Button::new("Delete")).clicked();
        });
        ui.label(format!(
            "{}, under Shared Folders in every mail program. Anyone may read a new folder until its permissions say otherwise.",
            count_of(model.public_folders.len(), "folder", "folders")
        ));
        if let Some((name, click)) = self.table_ui(ui, &model.public_folders) {
            self.selected = Some(name);
            match click {
                RowClick::Open | RowClick::Menu(0) => open = true,
                RowClick::Menu(_) => delete = true,
                RowClick::Select | RowClick::Secondary => {}
            }
        }
        if self.selected.is_some() && !self.has_dialog() && ui.memory(|m| m.focused().is_none()) {
            ui.input_mut(|i| {
                open |= i.consume_key(egui::Modifiers::NONE, egui::Key::Enter);
                delete |= i.consume_key(egui::Modifiers::NONE, egui::Key::Delete);
            });
        }
        let chosen = self.selected.clone().and_then(|s| model.public_folders.iter().find(|f| f.name == s));
        if connected && let Some(f) = chosen {
            if open {
                self.form = Some(FolderForm::of(f, super::permissions::candidates(model, None)));
            } else if delete {
                self.confirm_delete = Some(f.name.clone());
            }
        }
        let ctx = ui.ctx().clone();
        self.form_dialog(&ctx, model).or_else(|| self.delete_dialog(&ctx))
    }

    /// The table; returns the name of the row clicked and what the click asked for.
    fn table_ui(&mut self, ui: &mut egui::Ui, folders: &[PublicFolderInfo]) -> Option<(String, RowClick)> {
        let by = self.sort;
        let mut rows: Vec<&PublicFolderInfo> = folders.iter().collect();
        rows.sort_by(|a, b| {
            by.order(match by.column {
                1 => a.address.cmp(&b.address),
                2 => a.messages.cmp(&b.messages),
                3 => a.bytes.cmp(&b.bytes),
                4 => a.quota_kb.cmp(&b.quota_kb),
                _ => a.name.cmp(&b.name),
            })
        });
        let mut clicked = None;
        let mut clicked_header = None;
        let selected = self.selected.as_deref();
        TableBuilder::new(ui)
            .striped(true)
            // Clicks, but no Tab stop per row: the list has the keys as a whole (F6).
            .sense(egui::Sense::CLICK)
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::initial(220.0).resizable(true))
            .column(Column::initial(240.0).resizable(true))
            .column(Column::initial(80.0))
            .column(Column::initial(90.0))
            .column(Column::remainder())
            .header(22.0, |mut h| {
                let names = ["Folder", "E-mail Address", "Messages", "Size", "Limit"];
                clicked_header = sortable_header(&mut h, &names, by);
            })
            .body(|body| {
                body.rows(20.0, rows.len(), |mut row| {
                    let f = rows[row.index()];
                    row.set_selected(selected == Some(f.name.as_str()));
                    row.col(|ui| cell(ui, &f.name));
                    row.col(|ui| cell(ui, f.address.as_deref().unwrap_or("")));
                    row.col(|ui| cell(ui, f.messages.to_string()));
                    row.col(|ui| cell(ui, format!("{} KB", f.bytes.div_ceil(1024))));
                    row.col(|ui| cell(ui, f.quota_kb.map(|k| format!("{k} KB")).unwrap_or_default()));
                    if let Some(click) = row_click(&row.response(), &MENU) {
                        clicked = Some((f.name.clone(), click));
                    }
                });
            });
        if let Some(i) = clicked_header {
            self.sort.clicked(i);
        }
        clicked
    }

    /// New Folder or a folder's properties: General (name, address, limit) and
    /// Permissions.
    fn form_dialog(&mut self, ctx: &egui::Context, model: &Model) -> Option<Action> {
        let form = self.form.as_mut()?;
        if form.pending.answered(model) == Some(true) {
            self.form = None;
            return None;
        }
        let new = form.existing.is_none();
        let title = form
            .existing
            .as_ref()
            .map_or_else(|| "New Public Folder".to_owned(), |n| format!("Public Folder Properties: {n}"));
        let problem = form.problem();
        let mut answer = None;
        egui::Modal::new(egui::Id::unique("public_folder")).show(ctx, |ui| {
            ui.set_width(460.0);
            let top = ui.cursor().top();
            ui.heading(&title);
            ui.horizontal(|ui| {
                ui.selectable_value(&mut form.tab, FolderTab::General, "General");
                ui.selectable_value(&mut form.tab, FolderTab::Permissions, "Permissions");
            });
            ui.separator();
            let mut changed = false;
            match form.tab {
                FolderTab::General => {
                    egui::Grid::new("public_folder_general").num_columns(2).spacing([10.0, 6.0]).show(ui, |ui| {
                        if new {
                            let first = form_row(ui, "Folder name:", &mut form.name, "Archive/Sales");
                            if !std::mem::replace(&mut form.focused, true) {
                                first.request_focus();
                            }
                            changed |= first.changed();
                        } else {
                            ui.label("Folder name:");
                            ui.label(&form.name);
                            ui.end_row();
                        }
                        changed |=
                            form_row(ui, "E-mail address (optional):", &mut form.address, "sales-archive@corp.test")
                                .changed();
                        changed |= ui.checkbox(&mut form.limited, "Size limit (KB):").changed();
                        changed |= ui
                            .add_enabled(form.limited, egui::DragValue::new(&mut form.limit_kb).range(1..=u64::MAX))
                            .changed();
                        ui.end_row();
                    });
                    ui.weak("Mail to the folder's address is filed in it; above its limit, that mail is refused.");
                }
                FolderTab::Permissions => changed |= form.permissions.ui(ui, "public_folder", "this folder", false),
            }
            form.show_problem |= changed;
            if changed {
                form.pending.refused = None;
            }
            ui.add_space((340.0 - (ui.cursor().top() - top)).max(0.0));
            let waiting = form.pending.ui(ui, false);
            let ok = if new { "Create" } else { "OK" };
            answer = ui
                .add_enabled_ui(!waiting && !form.permissions.book_open(), |ui| {
                    dialog_foot(ui, problem.as_deref(), &mut form.show_problem, ok, true)
                })
                .inner;
        });
        match answer? {
            false => {
                self.form = None;
                None
            }
            true => {
                let requests = form.requests();
                if requests.is_empty() {
                    self.form = None;
                    return None;
                }
                form.pending.sent(model);
                Some(Action::Send(Command::FromDialog(requests)))
            }
        }
    }

    fn delete_dialog(&mut self, ctx: &egui::Context) -> Option<Action> {
        let name = self.confirm_delete.as_ref()?;
        let text = format!(
            "Delete the public folder {name}, the folders under it and all their messages? This cannot be undone."
        );
        let answer = confirm_ui(ctx, "confirm_delete_folder", "Delete Public Folder", &text, "Delete");
        let name = self.confirm_delete.take_if(|_| answer.is_some())?;
        answer.filter(|yes| *yes).map(|_| {
            self.selected = None;
            Action::Send(Command::Recipients(vec![Request::RemovePublicFolder { name }]))
        })
    }
}
