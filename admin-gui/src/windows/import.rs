//! Recipients → Import Mail…: moves a Maildir or an mbox file from this computer into
//! a mailbox (the service may be on another machine: the files are read here), with a
//! progress bar and what was done. Run again, it adds only what is new. Browse… lists
//! this computer's folders inside the dialog (a Maildir marked so); a click picks the
//! path and its kind.

use std::path::{Path, PathBuf};

use crate::actions::Action;
use crate::backend::{Command, ImportSource};
use crate::model::Model;
use crate::widgets::{DialogKey, dialog_key};

/// What kind of source the path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    /// A Maildir directory (with Maildir++ folders).
    #[default]
    Maildir,
    /// An mbox file.
    Mbox,
}

/// The Import Mail window.
#[derive(Debug, Default)]
pub struct ImportWindow {
    /// The mailbox mail goes into; `None` while closed.
    pub address: Option<String>,
    kind: Kind,
    path: String,
    problem: Option<String>,
    /// The path field has had its first focus.
    focused: bool,
    /// The folder Browse… shows, when open.
    browser: Option<Browser>,
}

/// What Browse… shows: one folder's folders and files.
#[derive(Debug)]
struct Browser {
    dir: PathBuf,
    entries: Vec<Entry>,
    /// Why the folder could not be read.
    error: Option<String>,
}

/// A folder or file in [`Browser`].
#[derive(Debug)]
struct Entry {
    name: String,
    path: PathBuf,
    folder: bool,
    /// A folder with `cur/` and `new/`.
    maildir: bool,
}

/// Whether `dir` is a Maildir.
fn is_maildir(dir: &Path) -> bool {
    dir.join("cur").is_dir() && dir.join("new").is_dir()
}

impl Browser {
    /// The folder to start in for what the path field holds: the folder itself, a
    /// file's or a Maildir's folder, else the home folder.
    fn starting_at(typed: &str) -> Browser {
        let typed = Path::new(typed.trim());
        let dir = if typed.is_dir() && !is_maildir(typed) {
            Some(typed.to_path_buf())
        } else {
            typed.parent().filter(|p| p.is_dir()).map(Path::to_path_buf)
        };
        let home = || std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE")).map(PathBuf::from);
        Browser::of(dir.or_else(home).unwrap_or_else(|| PathBuf::from("/")))
    }

    /// `dir`'s folders, then its files, each by name; hidden ones left out.
    fn of(dir: PathBuf) -> Browser {
        let mut entries = Vec::new();
        let error = match std::fs::read_dir(&dir) {
            Ok(list) => {
                for e in list.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if name.starts_with('.') {
                        continue;
                    }
                    let path = e.path();
                    let folder = path.is_dir();
                    let maildir = folder && is_maildir(&path);
                    entries.push(Entry { name, path, folder, maildir });
                }
                entries.sort_by(|a, b| {
                    b.folder.cmp(&a.folder).then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
                });
                None
            }
            Err(e) => Some(format!("{} cannot be read: {e}", dir.display())),
        };
        Browser { dir, entries, error }
    }

    /// The list, Up and Open; a click on an entry is returned (to fill in the path),
    /// a double-click or Open on a folder goes into it.
    fn ui(&mut self, ui: &mut egui::Ui, picked: &str) -> Option<(PathBuf, Option<Kind>)> {
        let mut choice = None;
        let mut go = None;
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                let parent = self.dir.parent().map(Path::to_path_buf);
                if ui.add_enabled(parent.is_some(), egui::Button::new("Up")).clicked() {
                    go = parent;
                }
                let selected = self.entries.iter().find(|e| e.folder && e.path.as_os_str() == picked.trim());
                if ui
                    .add_enabled(selected.is_some(), egui::Button::new("Open"))
                    .on_hover_text("Go into the folder")
                    .clicked()
                {
                    go = selected.map(|e| e.path.clone());
                }
                ui.label(format!("Look in: {}", self.dir.display()));
            });
            if let Some(e) = &self.error {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            egui::ScrollArea::vertical().id_salt("import_browser").max_height(180.0).auto_shrink([false, true]).show(
                ui,
                |ui| {
                    for e in &self.entries {
                        let text = match (e.folder, e.maildir) {
                            (true, true) => format!("📁 {}   (a Maildir)", e.name),
                            (true, false) => format!("📁 {}", e.name),
                            (false, _) => format!("     {}", e.name),
                        };
                        let r = ui.selectable_label(e.path.as_os_str() == picked.trim(), text);
                        if r.double_clicked() && e.folder && !e.maildir {
                            go = Some(e.path.clone());
                        } else if r.clicked() {
                            let kind = match (e.folder, e.maildir) {
                                (false, _) => Some(Kind::Mbox),
                                (true, true) => Some(Kind::Maildir),
                                (true, false) => None,
                            };
                            choice = Some((e.path.clone(), kind));
                        }
                    }
                    if self.entries.is_empty() && self.error.is_none() {
                        ui.weak("(empty)");
                    }
                },
            );
        });
        if let Some(dir) = go {
            *self = Browser::of(dir);
        }
        choice
    }
}

impl ImportWindow {
    /// Opens it for a mailbox.
    pub fn open_for(&mut self, address: String) {
        self.address = Some(address);
        self.problem = None;
        self.browser = None;
    }

    /// The form, Import, the progress and the outcome, in a modal dialog: the main
    /// window waits while mail moves.
    pub fn show(&mut self, ctx: &egui::Context, model: &Model) -> Option<Action> {
        let address = self.address.clone()?;
        let mut action = None;
        let mut close = false;
        let busy = model.import.running.is_some();
        egui::Modal::new(egui::Id::unique("import_mail")).show(ctx, |ui| {
            ui.set_width(520.0);
            ui.heading("Import Mail");
            ui.label(format!("Into the mailbox {address}, from this computer:"));
            ui.add_space(4.0);
            ui.add_enabled_ui(!busy, |ui| {
                ui.horizontal(|ui| {
                    ui.radio_value(&mut self.kind, Kind::Maildir, "A Maildir folder");
                    ui.radio_value(&mut self.kind, Kind::Mbox, "An mbox file");
                });
                egui::Grid::new("import").num_columns(3).show(ui, |ui| {
                    let l = ui.label("Path:");
                    let hint =
                        if self.kind == Kind::Maildir { "/home/ann/Maildir" } else { "/home/ann/mail/inbox.mbox" };
                    let field = ui
                        .add(egui::TextEdit::singleline(&mut self.path).hint_text(hint).desired_width(360.0))
                        .labelled_by(l.id);
                    if !std::mem::replace(&mut self.focused, true) {
                        field.request_focus();
                    }
                    if ui.button("Browse…").on_hover_text("Pick the folder or file on this computer").clicked() {
                        self.browser = match self.browser {
                            Some(_) => None,
                            None => Some(Browser::starting_at(&self.path)),
                        };
                    }
                    ui.end_row();
                });
                if let Some(b) = &mut self.browser
                    && let Some((path, kind)) = b.ui(ui, &self.path)
                {
                    self.path = path.display().to_string();
                    if let Some(kind) = kind {
                        self.kind = kind;
                    }
                }
            });
            if let Some(p) = &self.problem {
                ui.colored_label(ui.visuals().error_fg_color, p);
            }
            if let Some((done, total)) = model.import.running {
                let fraction = if total == 0 { 0.0 } else { done as f32 / total as f32 };
                ui.add(egui::ProgressBar::new(fraction).text(format!("{done} of {total} messages")));
            }
            match &model.import.outcome {
                Some(Ok(s)) if !busy => {
                    ui.label(format!(
                        "Imported {} message(s); {} had been imported before and were skipped.",
                        s.stored, s.skipped
                    ));
                }
                Some(Err(e)) if !busy => {
                    ui.colored_label(ui.visuals().error_fg_color, format!("The import stopped: {e}"));
                }
                _ => {}
            }
            ui.separator();
            let mut start = false;
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                close |= ui.add_enabled(!busy, egui::Button::new("Close")).clicked();
                start |= ui.add_enabled(!busy && model.connected(), egui::Button::new("Import")).clicked();
                if busy {
                    ui.spinner();
                }
            });
            match dialog_key(ui) {
                Some(DialogKey::Default) if !busy => start = true,
                Some(DialogKey::Cancel) if !busy => close = true,
                _ => {}
            }
            if start {
                let path = std::path::PathBuf::from(self.path.trim());
                if self.path.trim().is_empty() {
                    self.problem = Some("Name the Maildir folder or mbox file to import.".into());
                } else {
                    self.problem = None;
                    let source =
                        if self.kind == Kind::Maildir { ImportSource::Maildir(path) } else { ImportSource::Mbox(path) };
                    action = Some(Action::Send(Command::Import { address: address.clone(), source }));
                }
            }
        });
        if close {
            self.address = None;
            self.focused = false;
        }
        action
    }
}
