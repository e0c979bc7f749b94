//! Recipients, as in Exchange Administrator's container: mailboxes, distribution
//! lists and custom recipients in one sortable table (an icon and a type for each
//! kind), and the dialogs that change them — New Mailbox, New Distribution List, New
//! Custom Recipient, New Shared Mailbox; Mailbox Properties (General, Delivery
//! Options, Limits, Automatic Replies, Permissions), List Properties (General, Members, Delivery Restrictions); and the
//! confirmation before Delete.

use egui_extras::{Column, TableBuilder};
use mailroom_shared::ipc::Request;

use crate::actions::Action;
use crate::backend::Command;
use crate::model::Model;
use crate::selection::Selection;
use crate::widgets::{Sort, cell, confirm_ui, count_of, find_box, found, icon, sortable_header};

mod contact;
mod list;
mod mailbox;

use contact::{ContactForm, contact_form_ui};
use list::{ListForm, list_form_ui};
use mailbox::{MailboxForm, mailbox_form_ui};

/// The Recipients view and its dialogs.
#[derive(Debug)]
pub struct RecipientsView {
    /// The recipients selected, by primary address (an index would go stale when the
    /// list changes).
    selection: Selection<String>,
    sort: Sort,
    /// The Find box's text: the rows shown are those it finds.
    find: String,
    /// The list has the keyboard (the last pane clicked): the arrow keys move the
    /// selection. Set by the window each frame.
    pub list_keys: bool,
    /// New Mailbox, when open.
    new_mailbox: Option<MailboxForm>,
    /// Mailbox Properties, when open: the mailbox's primary address and the form.
    edit_mailbox: Option<(String, MailboxForm)>,
    /// The delete confirmation, when open: the recipients' addresses and kinds.
    confirm_delete: Option<Vec<(String, Kind)>>,
    /// New Distribution List or List Properties, when open.
    list: Option<ListForm>,
    /// New Custom Recipient or its properties, when open.
    contact: Option<ContactForm>,
    /// The selected recipient's Properties were asked for from outside the view (the
    /// toolbar, File → Properties): opened at the next frame.
    open_requested: bool,
    /// An Edit menu command for the list, done at the next frame.
    pub requested: Option<crate::actions::Edit>,
}

/// The three kinds of recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A mailbox.
    Mailbox,
    /// A distribution list.
    List,
    /// A custom recipient.
    Contact,
}

impl Kind {
    fn icon(self) -> &'static str {
        match self {
            Kind::Mailbox => "✉",
            Kind::List => "👥",
            Kind::Contact => "🌐",
        }
    }

    fn words(self) -> &'static str {
        match self {
            Kind::Mailbox => "Mailbox",
            Kind::List => "Distribution list",
            Kind::Contact => "Custom recipient",
        }
    }
}

/// One row of the table, whatever its kind.
struct Row<'a> {
    kind: Kind,
    name: &'a str,
    addresses: String,
    key: &'a str,
    messages: Option<u64>,
    bytes: Option<u64>,
    detail: String,
}

impl Default for RecipientsView {
    fn default() -> RecipientsView {
        RecipientsView {
            selection: Selection::default(),
            // By address.
            sort: Sort::by(1),
            find: String::new(),
            list_keys: false,
            new_mailbox: None,
            edit_mailbox: None,
            confirm_delete: None,
            list: None,
            contact: None,
            open_requested: false,
            requested: None,
        }
    }
}

/// How a row was clicked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowClick {
    /// With the primary button (and maybe Ctrl or Shift).
    Click,
    /// With the secondary button, before its menu.
    Secondary,
    /// Twice.
    Double,
}

/// What a row of the table asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowAction {
    /// Its properties (double-click, the context menu).
    Open,
    /// To delete it (the context menu).
    Delete,
    /// To import mail into it (the context menu).
    Import,
    /// To show how its programs are set up (the context menu).
    Setup,
}

impl RecipientsView {
    /// True while one of its dialogs is open (the main window's keys then wait).
    pub fn has_dialog(&self) -> bool {
        self.new_mailbox.is_some()
            || self.edit_mailbox.is_some()
            || self.confirm_delete.is_some()
            || self.list.is_some()
            || self.contact.is_some()
    }

    /// The help page of the open dialog: the mailbox's tab in front, lists, custom
    /// recipients.
    pub fn help_topic(&self) -> Option<crate::help::Topic> {
        use crate::help::Topic;
        if let Some(form) = self.new_mailbox.as_ref().or(self.edit_mailbox.as_ref().map(|(_, f)| f)) {
            return Some(form.help_topic());
        }
        if self.list.is_some() {
            return Some(Topic::DistributionLists);
        }
        if self.contact.is_some() {
            return Some(Topic::CustomRecipients);
        }
        self.confirm_delete.is_some().then_some(Topic::Recipients)
    }

    /// Opens File → New's dialog.
    pub fn open_new(&mut self, kind: crate::actions::NewRecipient) {
        use crate::actions::NewRecipient;
        if self.has_dialog() {
            return;
        }
        match kind {
            NewRecipient::Mailbox => self.new_mailbox = Some(MailboxForm::default()),
            NewRecipient::SharedMailbox => self.new_mailbox = Some(MailboxForm::new_shared()),
            NewRecipient::List => self.list = Some(ListForm::default()),
            NewRecipient::Contact => self.contact = Some(ContactForm::default()),
        }
    }

    /// Opens the selected recipient's Properties (at the next frame); false when none
    /// is selected.
    pub fn open_selected(&mut self) -> bool {
        self.open_requested = self.selection.single().is_some();
        self.open_requested
    }

    /// The toolbar, the warnings, the table, and whichever dialog is open.
    pub fn ui(&mut self, ui: &mut egui::Ui, model: &Model) -> Option<Action> {
        let connected = model.connected();
        self.selection.retain(|key| kind_of(model, key).is_some());
        let selected = self.selection.single().cloned().and_then(|key| kind_of(model, &key).map(|k| (key, k)));
        let any = !self.selection.is_empty();
        let mut open = std::mem::take(&mut self.open_requested);
        let mut delete = self.requested == Some(crate::actions::Edit::Delete);
        let mut import = false;
        let mut setup = false;
        ui.horizontal_wrapped(|ui| {
            ui.heading("Recipients");
            if ui.add_enabled(connected, egui::Button::new("New Mailbox…")).clicked() {
                self.new_mailbox = Some(MailboxForm::default());
            }
            if ui.add_enabled(connected, egui::Button::new("New Shared Mailbox…")).clicked() {
                self.new_mailbox = Some(MailboxForm::new_shared());
            }
            if ui.add_enabled(connected, egui::Button::new("New Distribution List…")).clicked() {
                self.list = Some(ListForm::default());
            }
            if ui.add_enabled(connected, egui::Button::new("New Custom Recipient…")).clicked() {
                self.contact = Some(ContactForm::default());
            }
            open |= ui.add_enabled(connected && selected.is_some(), egui::Button::new("Properties…")).clicked();
            delete |= ui.add_enabled(connected && any, egui::Button::new("Delete")).clicked();
            let mailbox = matches!(selected, Some((_, Kind::Mailbox)));
            import |= ui.add_enabled(connected && mailbox, egui::Button::new("Import Mail…")).clicked();
            setup |= ui.add_enabled(connected && mailbox, egui::Button::new("Client Setup…")).clicked();
        });
        let mut fix = false;
        if !model.mailbox_warnings.is_empty() {
            ui.horizontal_wrapped(|ui| {
                ui.vertical(|ui| {
                    for w in &model.mailbox_warnings {
                        ui.colored_label(ui.visuals().warn_fg_color, format!("Warning: {w}"));
                    }
                });
                fix = ui
                    .add_enabled(connected, egui::Button::new("Fix…"))
                    .on_hover_text("Add the domains to the routing table as inbound, and restart")
                    .clicked();
            });
        }
        let dialog = self.has_dialog();
        let query = find_box(ui, &mut self.find, "name or address", dialog);
        match self.table_ui(ui, model, &query) {
            Some(RowAction::Open) => open = true,
            Some(RowAction::Delete) => delete = true,
            Some(RowAction::Import) => import = true,
            Some(RowAction::Setup) => setup = true,
            None => {}
        }
        // Enter opens the selected recipient's properties, Delete asks to delete those
        // selected.
        if !self.selection.is_empty() && !self.has_dialog() && ui.memory(|m| m.focused().is_none()) {
            ui.input_mut(|i| {
                open |= i.consume_key(egui::Modifiers::NONE, egui::Key::Enter);
                delete |= i.consume_key(egui::Modifiers::NONE, egui::Key::Delete);
            });
        }
        // The selection as it stands after this frame's clicks.
        let selected = self.selection.single().cloned().and_then(|key| kind_of(model, &key).map(|k| (key, k)));
        if connected && delete && !self.selection.is_empty() {
            let chosen: Vec<(String, Kind)> =
                self.selection.keys().filter_map(|k| kind_of(model, k).map(|kind| (k.clone(), kind))).collect();
            self.confirm_delete = Some(chosen);
        }
        let mut opened_import = None;
        if connected && let Some((key, kind)) = selected {
            if import && kind == Kind::Mailbox {
                opened_import = Some(Action::ImportMail(key));
            } else if setup && kind == Kind::Mailbox {
                opened_import = Some(Action::ClientSetup(key));
            } else if open {
                match kind {
                    Kind::Mailbox => {
                        if let Some(m) = model.mailboxes.iter().find(|m| m.addresses[0] == key) {
                            // A catch-all is offered for the domains whose mail is ours.
                            let ours = |d: &str| {
                                model.config.as_ref().is_some_and(|(c, _)| {
                                    mailroom_shared::address::Domain::parse(d)
                                        .is_ok_and(|d| d == c.general.host_name || c.routing.table.is_inbound(&d))
                                })
                            };
                            // Rights go to the other mailboxes, the lists, or anyone.
                            let candidates = super::permissions::candidates(model, Some(m.id));
                            self.edit_mailbox = Some((key, MailboxForm::of(m, &model.catch_all, ours, candidates)));
                        }
                    }
                    Kind::List => {
                        if let Some(l) = model.lists.iter().find(|l| l.address == key) {
                            self.list = Some(ListForm::of(l));
                        }
                    }
                    Kind::Contact => {
                        if let Some(c) = model.contacts.iter().find(|c| c.address == key) {
                            self.contact = Some(ContactForm::of(c));
                        }
                    }
                }
            }
        }
        let ctx = ui.ctx().clone();
        if fix {
            return Some(Action::GuidedFix);
        }
        opened_import
            .or_else(|| self.edit_mailbox_dialog(&ctx, model))
            .or_else(|| self.new_mailbox_dialog(&ctx, model))
            .or_else(|| self.list_dialog(&ctx, model))
            .or_else(|| self.contact_dialog(&ctx, model))
            .or_else(|| self.delete_dialog(&ctx))
    }

    /// Every recipient, a row each: a click anywhere on a row selects it, a
    /// double-click opens it, a right-click offers what can be done with it.
    fn table_ui(&mut self, ui: &mut egui::Ui, model: &Model, query: &str) -> Option<RowAction> {
        let sort = self.sort;
        let mut rows: Vec<Row<'_>> = model
            .mailboxes
            .iter()
            .map(|m| Row {
                kind: Kind::Mailbox,
                name: &m.display_name,
                addresses: m.addresses.join(", "),
                key: &m.addresses[0],
                messages: Some(m.message_count),
                bytes: Some(m.total_bytes),
                detail: [
                    m.shared.then(|| "shared".to_owned()),
                    m.forwarding.as_ref().map(|f| format!("forwards to {}", f.to)),
                    m.auto_reply.as_ref().map(|_| "out of office".to_owned()),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", "),
            })
            .chain(model.lists.iter().map(|l| Row {
                kind: Kind::List,
                name: &l.display_name,
                addresses: l.address.clone(),
                key: &l.address,
                messages: None,
                bytes: None,
                detail: count_of(l.members.len(), "member", "members"),
            }))
            .chain(model.contacts.iter().map(|c| Row {
                kind: Kind::Contact,
                name: &c.display_name,
                addresses: c.address.clone(),
                key: &c.address,
                messages: None,
                bytes: None,
                detail: format!("to {}", c.target),
            }))
            .collect();
        let all = rows.len();
        rows.retain(|r| found(query, &[r.name, &r.addresses]));
        if !query.is_empty() {
            ui.label(format!("{} of {all} found", rows.len()));
        }
        rows.sort_by(|a, b| {
            sort.order(match sort.column {
                0 => a.name.cmp(b.name),
                2 => a.kind.words().cmp(b.kind.words()),
                3 => a.messages.cmp(&b.messages),
                4 => a.bytes.cmp(&b.bytes),
                _ => a.addresses.cmp(&b.addresses),
            })
        });
        let mut clicked_header = None;
        let mut clicked_row = None;
        let mut action = None;
        // The keys of a Windows list view (while the list has the keyboard and no
        // field does): the arrows, Home, End, Page Up and Down (with Shift, extending),
        // Ctrl+A, and a letter for the next name starting with it.
        let order: Vec<String> = rows.iter().map(|r| r.key.to_owned()).collect();
        let name_of = |key: &String| {
            rows.iter()
                .find(|r| r.key == key)
                .map(|r| if r.name.is_empty() { r.key } else { r.name })
                .unwrap_or_default()
                .to_owned()
        };
        let active = self.list_keys && !self.has_dialog();
        let moved_to = self.selection.input(ui, active, &order, name_of);
        if self.requested.take() == Some(crate::actions::Edit::SelectAll) {
            self.selection.select_all(&order);
        }
        let modifiers = crate::selection::click_modifiers(ui);
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
            .column(Column::initial(180.0).resizable(true))
            .column(Column::initial(250.0).resizable(true))
            .column(Column::initial(200.0).resizable(true))
            .column(Column::initial(80.0))
            .column(Column::remainder().at_least(70.0))
            .header(22.0, |mut h| {
                let names = ["Display Name", "E-mail Addresses", "Type", "Messages", "Size"];
                clicked_header = sortable_header(&mut h, &names, sort);
            })
            .body(|body| {
                body.rows(20.0, rows.len(), |mut row| {
                    let r = &rows[row.index()];
                    row.set_selected(selection.contains(&r.key.to_owned()));
                    row.col(|ui| {
                        icon(ui, r.kind.icon(), ui.visuals().weak_text_color());
                        cell(ui, r.name.to_owned());
                    });
                    row.col(|ui| cell(ui, r.addresses.clone()));
                    row.col(|ui| {
                        let words = if r.detail.is_empty() {
                            r.kind.words().to_owned()
                        } else {
                            format!("{} ({})", r.kind.words(), r.detail)
                        };
                        cell(ui, words);
                    });
                    row.col(|ui| cell(ui, r.messages.map(|n| n.to_string()).unwrap_or_default()));
                    row.col(|ui| cell(ui, r.bytes.map(|b| format!("{} KB", b.div_ceil(1024))).unwrap_or_default()));
                    let resp = row.response();
                    if resp.clicked() {
                        // The arrow keys stay the list's, not egui's focus moves.
                        resp.surrender_focus();
                        clicked_row = Some((r.key.to_owned(), RowClick::Click));
                    }
                    if resp.secondary_clicked() {
                        clicked_row = Some((r.key.to_owned(), RowClick::Secondary));
                    }
                    if resp.double_clicked() {
                        clicked_row = Some((r.key.to_owned(), RowClick::Double));
                        action = Some(RowAction::Open);
                    }
                    resp.context_menu(|ui| {
                        if ui.button("Properties…").clicked() {
                            action = Some(RowAction::Open);
                            ui.close();
                        }
                        if ui.button("Delete…").clicked() {
                            action = Some(RowAction::Delete);
                            ui.close();
                        }
                        if r.kind == Kind::Mailbox && ui.button("Import Mail…").clicked() {
                            action = Some(RowAction::Import);
                            ui.close();
                        }
                        if r.kind == Kind::Mailbox && ui.button("Client Setup…").clicked() {
                            action = Some(RowAction::Setup);
                            ui.close();
                        }
                    });
                });
            });
        if let Some(i) = clicked_header {
            self.sort.clicked(i);
        }
        match clicked_row {
            Some((key, RowClick::Click)) => self.selection.click(key, modifiers, &order),
            // A right-click on a row not selected selects it alone; on a selected one,
            // its menu acts on the whole selection.
            Some((key, RowClick::Secondary)) if !self.selection.contains(&key) => self.selection.select_only(key),
            Some((key, RowClick::Double)) => self.selection.select_only(key),
            _ => {}
        }
        action
    }

    fn new_mailbox_dialog(&mut self, ctx: &egui::Context, model: &Model) -> Option<Action> {
        let form = self.new_mailbox.as_mut()?;
        if form.pending.answered(model) == Some(true) {
            self.new_mailbox = None;
            return None;
        }
        let title = if form.shared { "New Shared Mailbox" } else { "New Mailbox" };
        let confirmed = mailbox_form_ui(ctx, "new_mailbox", title, form, true, (&[], &[]))?;
        if !confirmed {
            self.new_mailbox = None;
            return None;
        }
        // The dialog stays, its input kept, until the service answers: a refusal is
        // shown beside its field.
        form.pending.sent(model);
        let request = if form.shared {
            Request::AddSharedMailbox { display_name: form.name.clone(), addresses: form.address_list() }
        } else {
            Request::AddMailbox {
                display_name: form.name.clone(),
                addresses: form.address_list(),
                password: form.password.clone(),
            }
        };
        Some(Action::Send(Command::FromDialog(vec![request])))
    }

    /// Mailbox Properties: General (display name, addresses, a new password, what each
    /// folder holds), Delivery Options, Limits and Automatic Replies. OK sends what
    /// changed, the options first (by the address the mailbox has now).
    fn edit_mailbox_dialog(&mut self, ctx: &egui::Context, model: &Model) -> Option<Action> {
        let (address, form) = self.edit_mailbox.as_mut()?;
        if form.pending.answered(model) == Some(true) {
            self.edit_mailbox = None;
            return None;
        }
        let title = format!("Mailbox Properties: {address}");
        let held = model
            .mailboxes
            .iter()
            .find(|m| m.addresses.first() == Some(address))
            .map_or((&[][..], &[][..]), |m| (m.folders.as_slice(), m.collections.as_slice()));
        let confirmed = mailbox_form_ui(ctx, "mailbox_properties", &title, form, false, held)?;
        if !confirmed {
            self.edit_mailbox = None;
            return None;
        }
        let (address, form) = self.edit_mailbox.as_mut()?;
        let address = address.clone();
        form.pending.sent(model);
        let form = &*form;
        Some({
            let mut requests = Vec::new();
            let (forwarding, reply, limits) = form.before.clone().unwrap_or_default();
            if form.forwarding() != forwarding {
                requests.push(Request::SetForwarding { address: address.clone(), forwarding: form.forwarding() });
            }
            if form.auto_reply() != reply {
                requests.push(Request::SetAutoReply { address: address.clone(), reply: form.auto_reply() });
            }
            if form.limits != limits {
                requests.push(Request::SetLimits { address: address.clone(), limits: form.limits });
            }
            for (grantee, rights) in form.permissions.changes() {
                requests.push(Request::SetPermission {
                    address: address.clone(),
                    grantee,
                    rights,
                    folder: None,
                    collection: None,
                });
            }
            for (domain, now, mine) in &form.catch_all {
                let was_mine = now.as_deref() == Some(address.as_str());
                if *mine != was_mine {
                    let mailbox = mine.then(|| address.clone());
                    requests.push(Request::SetCatchAll { domain: domain.clone(), mailbox });
                }
            }
            if form.hidden != form.hidden_before {
                requests.push(Request::SetHidden { address: address.clone(), hidden: form.hidden });
            }
            requests.push(Request::UpdateMailbox {
                address,
                display_name: Some(form.name.clone()),
                addresses: Some(form.address_list()),
                password: (!form.password.is_empty()).then(|| form.password.clone()),
            });
            Action::Send(Command::FromDialog(requests))
        })
    }

    /// New Distribution List, or a list's properties: General, Members, Delivery
    /// Restrictions.
    fn list_dialog(&mut self, ctx: &egui::Context, model: &Model) -> Option<Action> {
        let form = self.list.as_mut()?;
        if form.pending.answered(model) == Some(true) {
            self.list = None;
            return None;
        }
        let everyone = crate::views::address_book::everyone(model);
        let confirmed = list_form_ui(ctx, form, &everyone)?;
        if !confirmed {
            self.list = None;
            return None;
        }
        form.pending.sent(model);
        Some(Action::Send(Command::FromDialog(form.requests())))
    }

    /// New Custom Recipient, or one's properties: its name, both addresses and whether
    /// the address book shows it, changed in place.
    fn contact_dialog(&mut self, ctx: &egui::Context, model: &Model) -> Option<Action> {
        let form = self.contact.as_mut()?;
        if form.pending.answered(model) == Some(true) {
            self.contact = None;
            return None;
        }
        let confirmed = contact_form_ui(ctx, form)?;
        if !confirmed {
            self.contact = None;
            return None;
        }
        let requests = form.requests();
        if requests.is_empty() {
            self.contact = None;
            return None;
        }
        form.pending.sent(model);
        Some(Action::Send(Command::FromDialog(requests)))
    }

    /// The confirmation before deleting the recipients selected; Delete sends a
    /// request for each.
    fn delete_dialog(&mut self, ctx: &egui::Context) -> Option<Action> {
        let chosen = self.confirm_delete.as_ref()?;
        let (title, text) = match chosen.as_slice() {
            [(address, Kind::Mailbox)] => {
                ("Delete Mailbox", format!("Delete the mailbox {address} and all its messages? This cannot be undone."))
            }
            [(address, Kind::List)] => {
                ("Delete Distribution List", format!("Delete the distribution list {address}? Its members stay."))
            }
            [(address, Kind::Contact)] => {
                ("Delete Custom Recipient", format!("Delete the custom recipient {address}?"))
            }
            many => {
                let mailboxes = many.iter().filter(|(_, k)| *k == Kind::Mailbox).count();
                let with = if mailboxes > 0 {
                    format!(", {} and all their messages", count_of(mailboxes, "mailbox", "mailboxes"))
                } else {
                    String::new()
                };
                ("Delete Recipients", format!("Delete these {} recipients{with}? This cannot be undone.", many.len()))
            }
        };
        let answer = confirm_ui(ctx, "confirm_delete", title, &text, "Delete");
        let chosen = self.confirm_delete.take_if(|_| answer.is_some())?;
        answer.filter(|yes| *yes).map(|_| {
            self.selection.clear();
            let requests = chosen
                .into_iter()
                .map(|(address, kind)| match kind {
                    Kind::Mailbox => Request::RemoveMailbox { address },
                    Kind::List => Request::RemoveList { address },
                    Kind::Contact => Request::RemoveContact { address },
                })
                .collect();
            Action::Send(Command::Recipients(requests))
        })
    }
}

/// The kind of the recipient whose (primary) address is `key`.
fn kind_of(model: &Model, key: &str) -> Option<Kind> {
    if model.mailboxes.iter().any(|m| m.addresses[0] == key) {
        Some(Kind::Mailbox)
    } else if model.lists.iter().any(|l| l.address == key) {
        Some(Kind::List)
    } else if model.contacts.iter().any(|c| c.address == key) {
        Some(Kind::Contact)
    } else {
        None
    }
}

/// A dialog's requests in flight (it stays open, its input kept, until the service
/// answers) and the service's refusal of the last, shown in the dialog until its
/// form changes.
#[derive(Debug, Default)]
pub(super) struct Pending {
    /// The count of dialog answers when the requests were sent.
    pub waiting: Option<u64>,
    pub refused: Option<crate::backend::DialogError>,
}

impl Pending {
    /// Notes that the dialog's requests are being sent now.
    pub fn sent(&mut self, model: &Model) {
        self.waiting = Some(model.dialog_answers);
        self.refused = None;
    }

    /// Whether the service has answered what was sent: `Some(true)` to close the
    /// dialog (done), `Some(false)` once a refusal is taken in, `None` while there is
    /// nothing new.
    pub fn answered(&mut self, model: &Model) -> Option<bool> {
        let sent = self.waiting?;
        if !model.connected() {
            self.waiting = None;
            self.refused = Some(crate::backend::DialogError {
                field: None,
                message: "the connection to the service was lost before it answered; try again once connected"
                    .to_owned(),
            });
            return Some(false);
        }
        if model.dialog_answers <= sent {
            return None;
        }
        self.waiting = None;
        match &model.dialog_answer {
            Some(Err(refused)) => {
                self.refused = Some(refused.clone());
                Some(false)
            }
            _ => Some(true),
        }
    }

    /// The refusal (when not shown beside a field) and "Waiting…" above a dialog's
    /// buttons; true while waiting, when the buttons are disabled.
    pub fn ui(&self, ui: &mut egui::Ui, shown_beside: bool) -> bool {
        if let Some(r) = self.refused.as_ref().filter(|_| !shown_beside) {
            ui.colored_label(ui.visuals().error_fg_color, crate::widgets::sentence(&r.message));
        }
        if self.waiting.is_some() {
            ui.weak("Waiting for the service…");
        }
        self.waiting.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_names_its_first_problem() {
        let mut f = MailboxForm { addresses: "ann@corp.test; bad@@x".into(), ..MailboxForm::default() };
        assert_eq!(f.address_list(), ["ann@corp.test", "bad@@x"]);
        assert!(f.problem(true).is_some_and(|p| p.starts_with("'bad@@x'")));
        f.addresses = "ann@corp.test".into();
        assert_eq!(f.problem(true).as_deref(), Some("Type a password."));
        assert_eq!(f.problem(false), None);
        f.password = "pw".into();
        assert_eq!(f.problem(true).as_deref(), Some("Use at least 8 characters (this one has 2)."));
        f.password = "long-enough-pw".into();
        assert_eq!(f.problem(true).as_deref(), Some("The two passwords are not the same."));
    }
}
