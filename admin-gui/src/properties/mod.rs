//! Internet Mail Service Properties: tabs over one configuration draft, with OK,
//! Cancel and Apply.
//!
//! Every field is validated as it is typed (with `shared`'s validation), and errors
//! from the service are shown next to the field they name. The window owns the draft;
//! each tab is drawn by its own file (`general.rs`, `routing.rs`…), which edits the
//! draft it is handed and keeps its own state (a selection, an open dialog). A save is
//! an [`Action`]; its answer is read from [`Model::save`].

mod backup;
mod connections;
mod delivery;
mod diagnostics;
mod filtering;
mod general;
mod imap4;
mod pop3;
mod routing;
mod security;

use mailroom_client::ClientError;
use mailroom_shared::config::{Config, ConfigDraft, ConfigError};
use mailroom_shared::ipc::IpcError;

use crate::actions::Action;
use crate::backend::Command;
use crate::model::{Model, Save};
use crate::nav::Tab;
use crate::widgets::{DialogKey, FIRST_FIELD, Sort, count_of, dialog_key, focus_field, queue_table};

/// The open properties window.
#[derive(Debug)]
pub struct PropertiesWindow {
    /// The tab shown.
    pub tab: Tab,
    /// The configuration as edited.
    pub draft: ConfigDraft,
    /// The configuration as last saved, to tell whether there is anything to apply.
    original: ConfigDraft,
    /// The revision the edit started from (the service refuses a save on a stale one).
    base_revision: u64,
    /// Errors the service gave for the last Apply.
    server_errors: Vec<ConfigError>,
    /// Another refusal (conflict…).
    server_message: Option<String>,
    /// Why the service could not use a field's value (an address it cannot listen
    /// on), shown next to the field until the next save; it does not block one.
    notice: Option<ConfigError>,
    /// The draft (as JSON) when the service's errors or the notice were given: an
    /// error goes once its field no longer holds the value it was about.
    errors_against: Option<serde_json::Value>,
    /// Apply or OK was clicked; waiting for the answer in the model.
    saving: bool,
    /// OK was clicked: close once saved.
    close_after_save: bool,
    /// False once closed; the app then drops the window.
    open: bool,
    routing: routing::RoutingTab,
    delivery: delivery::DeliveryTab,
    filtering: filtering::FilteringTab,
    queue_sort: Sort,
}

impl PropertiesWindow {
    /// Opens on the saved configuration, at `tab`.
    pub fn new(config: &Config, revision: u64, tab: Tab) -> PropertiesWindow {
        let draft = config.to_draft();
        PropertiesWindow {
            tab,
            delivery: delivery::DeliveryTab::new(&draft),
            original: draft.clone(),
            draft,
            base_revision: revision,
            server_errors: Vec::new(),
            server_message: None,
            notice: None,
            errors_against: None,
            saving: false,
            close_after_save: false,
            open: true,
            routing: routing::RoutingTab::default(),
            filtering: filtering::FilteringTab::default(),
            queue_sort: Sort::by(3),
        }
    }

    /// Shows `why` next to `field` (which the service could not use) until the next
    /// save.
    pub fn notice(&mut self, field: String, why: String) {
        self.notice = Some(ConfigError { field, problem: mailroom_shared::config::Problem::inconsistent(why) });
        self.errors_against = serde_json::to_value(&self.draft).ok();
    }

    /// Lets go of the service's errors and the notice whose field has been changed
    /// since they were given: they were about a value that is not there any more.
    fn forget_changed_errors(&mut self) {
        if self.server_errors.is_empty() && self.notice.is_none() {
            self.errors_against = None;
            return;
        }
        let Some(before) = &self.errors_against else { return };
        let Ok(now) = serde_json::to_value(&self.draft) else { return };
        if &now == before {
            return;
        }
        let changed = |field: &str| value_at(before, field) != value_at(&now, field);
        self.server_errors.retain(|e| !changed(&e.field));
        if self.notice.as_ref().is_some_and(|n| changed(&n.field)) {
            self.notice = None;
        }
    }

    /// False once OK, Cancel or the close button closed it.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Validation errors of the draft as it stands, then the service's.
    pub fn errors(&self) -> Vec<ConfigError> {
        let mut errors = Config::from_draft(&self.draft).err().map(|e| e.0).unwrap_or_default();
        errors.extend(self.server_errors.iter().cloned());
        errors
    }

    fn dirty(&self) -> bool {
        self.draft != self.original
    }

    /// Takes in the answer to the save in flight, once it is in the model.
    fn answer_ui(&mut self, save: &Save) {
        if !self.saving {
            return;
        }
        match save {
            Save::Saved { revision } => {
                self.saving = false;
                self.base_revision = *revision;
                self.original = self.draft.clone();
                self.server_errors.clear();
                self.server_message = None;
                self.notice = None;
                if self.close_after_save {
                    self.open = false;
                }
            }
            Save::Failed(e) => {
                self.saving = false;
                self.close_after_save = false;
                match e {
                    ClientError::Remote(IpcError::InvalidConfig { errors }) => {
                        self.server_errors.clone_from(errors);
                        self.errors_against = serde_json::to_value(&self.draft).ok();
                    }
                    other => self.server_message = Some(other.to_string()),
                }
            }
            Save::Idle | Save::InFlight => {}
        }
    }

    fn save(&mut self) -> Action {
        self.saving = true;
        Action::Send(Command::SaveConfig { draft: Box::new(self.draft.clone()), base_revision: self.base_revision })
    }

    /// Draws the window and the routing dialogs; Apply and OK ask for a save. When the
    /// service stops answering the sheet says so and why, keeps the edit (the fields
    /// stay editable, only saving waits) and, where `can_start`, offers Start Service.
    pub fn show(&mut self, ctx: &egui::Context, model: &Model, can_start: bool) -> Option<Action> {
        self.answer_ui(&model.save);
        let mut action = None;
        let mut ok = false;
        let mut open = self.open;
        let connected = model.connected();
        egui::Window::new("Internet Mail Service Properties")
            .open(&mut open)
            .collapsible(false)
            .resizable(true)
            .default_size([920.0, 600.0])
            // One size for every tab (a short tab does not shrink the sheet, nor move
            // its buttons), small enough for an 800×600 screen.
            .min_size([760.0, 520.0])
            .show(ctx, |ui| {
                ui.horizontal_wrapped(|ui| {
                    for tab in Tab::ALL {
                        if ui.selectable_value(&mut self.tab, tab, tab.title()).clicked() {
                            focus_field(ui.ctx(), FIRST_FIELD);
                        }
                    }
                });
                // Ctrl+Tab and Ctrl+Shift+Tab turn the tabs, as in a Windows property
                // sheet; the new tab's first field takes the focus.
                let turn = ui.input_mut(|i| {
                    if i.consume_key(egui::Modifiers::COMMAND | egui::Modifiers::SHIFT, egui::Key::Tab) {
                        Some(Tab::ALL.len() - 1)
                    } else if i.consume_key(egui::Modifiers::COMMAND, egui::Key::Tab) {
                        Some(1)
                    } else {
                        None
                    }
                });
                if let Some(step) = turn {
                    let at = Tab::ALL.iter().position(|t| *t == self.tab).unwrap_or(0);
                    self.tab = Tab::ALL[(at + step) % Tab::ALL.len()];
                    focus_field(ui.ctx(), FIRST_FIELD);
                }
                ui.separator();
                if let Some(a) = not_answering_ui(ui, model, can_start) {
                    action = Some(a);
                }
                self.forget_changed_errors();
                let errors = self.errors();
                let shown: Vec<ConfigError> = errors.iter().chain(&self.notice).cloned().collect();
                // Each tab scrolls on its own, and opens at its top (one shared offset
                // opened Message Filtering half-way down).
                egui::ScrollArea::vertical()
                    .id_salt(self.tab.title())
                    .auto_shrink([false, false])
                    .max_height(ui.available_height() - 40.0)
                    .show(ui, |ui| {
                        let tab = ui.add_enabled_ui(!self.saving, |ui| self.tab_ui(ui, model, &shown));
                        if tab.inner.is_some() {
                            action = tab.inner;
                        }
                    });
                if let Some(m) = &self.server_message {
                    ui.colored_label(ui.visuals().error_fg_color, m);
                }
                ui.separator();
                ui.horizontal(|ui| {
                    if !errors.is_empty() {
                        ui.colored_label(
                            ui.visuals().error_fg_color,
                            format!("{} to correct before saving.", count_of(errors.len(), "problem", "problems")),
                        );
                    }
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        let can_save = connected && errors.is_empty() && !self.saving;
                        if ui.button("Help").clicked() {
                            action = Some(Action::Help(crate::help::Topic::Tab(self.tab)));
                        }
                        if ui.add_enabled(can_save && self.dirty(), egui::Button::new("Apply")).clicked() {
                            action = Some(self.save());
                        }
                        if ui.button("Cancel").clicked() {
                            self.open = false;
                        }
                        if ui.add_enabled(can_save, egui::Button::new("OK")).clicked() {
                            ok = true;
                        }
                        if self.saving {
                            ui.spinner();
                        }
                        // Enter is OK and Escape Cancel, unless a dialog of the tab
                        // has the keyboard.
                        if !self.routing.has_dialog() {
                            match dialog_key(ui) {
                                Some(DialogKey::Default) if can_save => ok = true,
                                Some(DialogKey::Cancel) => self.open = false,
                                _ => {}
                            }
                        }
                    });
                });
            });
        if ok {
            if self.dirty() {
                self.close_after_save = true;
                action = Some(self.save());
            } else {
                self.open = false;
            }
        }
        // The dialogs are drawn after the window, so that they come on top of it.
        self.routing.dialogs_ui(ctx, &mut self.draft);
        self.open &= open;
        action
    }

    /// Draws the tab shown; a tab's own button (the filter's Test) may ask for an action.
    fn tab_ui(&mut self, ui: &mut egui::Ui, model: &Model, errors: &[ConfigError]) -> Option<Action> {
        let d = &mut self.draft;
        match self.tab {
            Tab::Filtering => return self.filtering.ui(ui, d, errors, model),
            Tab::General => general::ui(ui, d, errors),
            Tab::Connections => connections::ui(ui, d, errors),
            Tab::Routing => self.routing.ui(ui, d, errors),
            Tab::Delivery => self.delivery.ui(ui, d, errors),
            Tab::Security => return security::ui(ui, d, errors, model),
            Tab::Pop3 => pop3::ui(ui, d, errors),
            Tab::Imap4 => imap4::ui(ui, d, errors),
            Tab::Queues => {
                // Read-only here: clicks do nothing.
                let _ = queue_table(ui, &model.queue, None, false, &mut self.queue_sort, &[]);
            }
            Tab::Diagnostics => diagnostics::ui(ui, d, errors),
            Tab::Backup => {
                return backup::ui(ui, d, errors, model.status.as_ref().and_then(|s| s.backups.as_ref()));
            }
        }
        None
    }
}

/// The notice at the sheet's top while the service does not answer: why, that the
/// edit is kept, and Start Service (or its progress) where the service is this
/// computer's.
fn not_answering_ui(ui: &mut egui::Ui, model: &Model, can_start: bool) -> Option<Action> {
    let crate::model::Connection::Down(reason) = &model.connection else { return None };
    let mut action = None;
    egui::Frame::group(ui.style()).fill(ui.visuals().faint_bg_color).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.colored_label(ui.visuals().warn_fg_color, "The Internet Mail Service is not answering.");
        ui.add(egui::Label::new(egui::RichText::new(reason).weak()).wrap());
        ui.label("What you changed here is kept: OK and Apply save it once the service answers again.");
        ui.horizontal(|ui| {
            if let Some(s) = &model.launch {
                ui.spinner();
                ui.label(s);
            } else if can_start && ui.button("Start Service").clicked() {
                action = Some(Action::StartService);
            } else if !can_start {
                ui.weak("Trying again every few seconds.");
            }
        });
    });
    ui.add_space(4.0);
    action
}

/// The value at a configuration field's path (`routing.table[2].domain`) in the
/// draft's JSON; `None` when the path names nothing there.
fn value_at<'a>(value: &'a serde_json::Value, field: &str) -> Option<&'a serde_json::Value> {
    let mut at = value;
    for part in field.split('.') {
        let mut pieces = part.split('[');
        let name = pieces.next().unwrap_or_default();
        if !name.is_empty() {
            at = at.get(name)?;
        }
        for index in pieces {
            at = at.get(index.strip_suffix(']')?.parse::<usize>().ok()?)?;
        }
    }
    Some(at)
}

#[cfg(test)]
mod value_tests {
    use super::value_at;

    #[test]
    fn a_fields_path_names_its_value_in_the_draft() {
        let draft = serde_json::json!({"routing": {"table": [{"domain": "a"}, {"domain": "b"}]}, "general": {"host_name": "h"}});
        assert_eq!(value_at(&draft, "routing.table[1].domain"), Some(&serde_json::json!("b")));
        assert_eq!(value_at(&draft, "general.host_name"), Some(&serde_json::json!("h")));
        assert_eq!(value_at(&draft, "routing.table[5].domain"), None);
        assert_eq!(value_at(&draft, "nothing.here"), None);
    }
}
