//! Recipients, as in Exchange Administrator's container: mailboxes, distribution
//! lists and custom recipients in one sortable table (an icon and a type for each
//! kind), and the dialogs that change them — New Mailbox, New Distribution List, New
//! Custom Recipient; Mailbox Properties (General, Delivery Options, Limits, Automatic
//! Replies), List Properties (General, Members, Delivery Restrictions); and the
//! confirmation before Delete.

use egui_extras::{Column, TableBuilder};
use mailroom_shared::ipc::{
    AutoReply, ContactInfo, FolderUsage, Forwarding, ListInfo, ListSenders, MailboxInfo, Request, StorageLimits,
};

use crate::actions::Action;
use crate::backend::Command;
use crate::model::Model;
use crate::widgets::{Sort, cell, confirm_ui, count_of, dialog_foot, dialog_key, form_row, icon, sortable_header};

/// The Recipients view and its dialogs.
#[derive(Debug)]
pub struct RecipientsView {
    /// The selected mailbox, by primary address (an index would go stale when the
    /// list changes).
    selected: Option<String>,
    sort: Sort,
    /// New Mailbox, when open.
    new_mailbox: Option<MailboxForm>,
    /// Mailbox Properties, when open: the mailbox's primary address and the form.
    edit_mailbox: Option<(String, MailboxForm)>,
    /// The delete confirmation, when open: the recipient's address and kind.
    confirm_delete: Option<(String, Kind)>,
    /// New Distribution List or List Properties, when open.
    list: Option<ListForm>,
    /// New Custom Recipient or its properties, when open.
    contact: Option<ContactForm>,
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
            selected: None,
            // By address.
            sort: Sort::by(1),
            new_mailbox: None,
            edit_mailbox: None,
            confirm_delete: None,
            list: None,
            contact: None,
        }
    }
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
}

/// The mailbox form, shared by New Mailbox and Mailbox Properties.
#[derive(Debug, Default)]
struct MailboxForm {
    name: String,
    addresses: String,
    password: String,
    confirm: String,
    /// Properties only: the tab shown.
    tab: MailboxTab,
    /// Delivery Options: forward, to where, keeping a copy.
    forward: bool,
    forward_to: String,
    forward_keep: bool,
    /// Limits: each `None` follows the organisation's.
    limits: StorageLimits,
    /// Automatic Replies.
    reply_on: bool,
    reply_subject: String,
    reply_text: String,
    reply_days: u64,
    /// Catch-all, per domain of the mailbox's addresses: (domain, the mailbox that has
    /// it now, ticked for this one).
    catch_all: Vec<(String, Option<String>, bool)>,
    /// Not before / not after, `YYYY-MM-DD` (empty: no bound).
    reply_from: String,
    reply_until: String,
    /// What the mailbox had when the dialog opened, to send only what changed.
    before: Option<(Option<Forwarding>, Option<AutoReply>, StorageLimits)>,
    /// The first field has taken the focus (done once, when the dialog opens).
    focused: bool,
    /// Problems are shown once something was typed or OK was tried, not before.
    show_problem: bool,
}

/// Mailbox Properties' tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum MailboxTab {
    #[default]
    General,
    DeliveryOptions,
    Limits,
    AutomaticReplies,
}

impl MailboxForm {
    /// The form for an existing mailbox, with the domains' catch-alls.
    fn of(m: &MailboxInfo, catch_all: &[(String, String)], ours: impl Fn(&str) -> bool) -> MailboxForm {
        let reply = m.auto_reply.clone();
        let mut domains: Vec<String> =
            m.addresses.iter().filter_map(|a| a.rsplit_once('@').map(|(_, d)| d.to_owned())).collect();
        domains.dedup();
        domains.retain(|d| ours(d));
        let catch_all = domains
            .into_iter()
            .map(|d| {
                let now = catch_all.iter().find(|(domain, _)| *domain == d).map(|(_, a)| a.clone());
                let mine = now.as_deref() == m.addresses.first().map(String::as_str);
                (d, now, mine)
            })
            .collect();
        MailboxForm {
            name: m.display_name.clone(),
            addresses: m.addresses.join(", "),
            show_problem: true,
            forward: m.forwarding.is_some(),
            forward_to: m.forwarding.as_ref().map(|f| f.to.clone()).unwrap_or_default(),
            forward_keep: m.forwarding.as_ref().is_none_or(|f| f.keep),
            limits: m.limits,
            reply_on: reply.is_some(),
            reply_subject: reply.as_ref().map_or_else(|| "Out of office: {subject}".to_owned(), |r| r.subject.clone()),
            reply_text: reply.as_ref().map(|r| r.body.clone()).unwrap_or_default(),
            reply_days: reply.as_ref().map_or(7, |r| u64::from(r.days)),
            reply_from: reply.as_ref().and_then(|r| r.start).map(day_of).unwrap_or_default(),
            reply_until: reply.as_ref().and_then(|r| r.end).map(day_of).unwrap_or_default(),
            before: Some((m.forwarding.clone(), m.auto_reply.clone(), m.limits)),
            catch_all,
            ..MailboxForm::default()
        }
    }

    fn forwarding(&self) -> Option<Forwarding> {
        self.forward.then(|| Forwarding { to: self.forward_to.trim().to_owned(), keep: self.forward_keep })
    }

    fn auto_reply(&self) -> Option<AutoReply> {
        self.reply_on.then(|| AutoReply {
            subject: self.reply_subject.trim().to_owned(),
            body: self.reply_text.clone(),
            start: parse_day(&self.reply_from, false).ok().flatten(),
            end: parse_day(&self.reply_until, true).ok().flatten(),
            days: u32::try_from(self.reply_days).unwrap_or(7),
        })
    }

    /// What is wrong with the Delivery Options, Limits or Automatic Replies tab.
    fn options_problem(&self) -> Option<String> {
        if self.forward && mailroom_shared::address::EmailAddress::parse(self.forward_to.trim()).is_err() {
            return Some("Type the outside address to forward to (Delivery Options).".into());
        }
        if self.reply_on && (self.reply_subject.trim().is_empty() || self.reply_text.trim().is_empty()) {
            return Some("An automatic reply needs a subject and some text (Automatic Replies).".into());
        }
        if self.reply_on {
            for (what, text, end) in [("From", &self.reply_from, false), ("Until", &self.reply_until, true)] {
                if parse_day(text, end).is_err() {
                    return Some(format!(
                        "{what}: '{}' is not a date; write YYYY-MM-DD (Automatic Replies).",
                        text.trim()
                    ));
                }
            }
            if let (Ok(Some(a)), Ok(Some(b))) = (parse_day(&self.reply_from, false), parse_day(&self.reply_until, true))
                && a >= b
            {
                return Some("The automatic reply must end after it starts (Automatic Replies).".into());
            }
        }
        if let (Some(s), Some(r)) = (self.limits.send_kb, self.limits.receive_kb)
            && s > r
        {
            return Some("Sending must stop no later than receiving does (Limits).".into());
        }
        None
    }

    /// The addresses typed, split on commas, spaces and semicolons.
    fn address_list(&self) -> Vec<String> {
        self.addresses.split([',', ' ', ';']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
    }

    /// What is wrong with the form, if anything; a new mailbox needs a password.
    fn problem(&self, password_required: bool) -> Option<String> {
        let addresses = self.address_list();
        let bad = addresses
            .iter()
            .find_map(|a| mailroom_shared::address::EmailAddress::parse(a).err().map(|e| format!("'{a}' {e}")));
        if addresses.is_empty() {
            Some("Type at least one e-mail address.".to_owned())
        } else if bad.is_some() {
            bad.map(|b| b + ".")
        } else if password_required && self.password.is_empty() {
            Some("Type a password.".to_owned())
        } else if self.password != self.confirm {
            Some("The two passwords are not the same.".to_owned())
        } else {
            None
        }
    }
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

    /// The toolbar, the warnings, the table, and whichever dialog is open.
    pub fn ui(&mut self, ui: &mut egui::Ui, model: &Model) -> Option<Action> {
        let connected = model.connected();
        let selected = self.selected.clone().and_then(|key| kind_of(model, &key).map(|k| (key, k)));
        let mut open = false;
        let mut delete = false;
        let mut import = false;
        ui.horizontal_wrapped(|ui| {
            ui.heading("Recipients");
            if ui.add_enabled(connected, egui::Button::new("New Mailbox…")).clicked() {
                self.new_mailbox = Some(MailboxForm::default());
            }
            if ui.add_enabled(connected, egui::Button::new("New Distribution List…")).clicked() {
                self.list = Some(ListForm::default());
            }
            if ui.add_enabled(connected, egui::Button::new("New Custom Recipient…")).clicked() {
                self.contact = Some(ContactForm::default());
            }
            open |= ui.add_enabled(connected && selected.is_some(), egui::Button::new("Properties…")).clicked();
            delete |= ui.add_enabled(connected && selected.is_some(), egui::Button::new("Delete")).clicked();
            let mailbox = matches!(selected, Some((_, Kind::Mailbox)));
            import |= ui.add_enabled(connected && mailbox, egui::Button::new("Import Mail…")).clicked();
        });
        for w in &model.mailbox_warnings {
            ui.colored_label(ui.visuals().warn_fg_color, format!("Warning: {w}"));
        }
        match self.table_ui(ui, model) {
            Some(RowAction::Open) => open = true,
            Some(RowAction::Delete) => delete = true,
            Some(RowAction::Import) => import = true,
            None => {}
        }
        // Enter opens the selected recipient's properties, Delete asks to delete it.
        if self.selected.is_some() && !self.has_dialog() && ui.memory(|m| m.focused().is_none()) {
            ui.input_mut(|i| {
                open |= i.consume_key(egui::Modifiers::NONE, egui::Key::Enter);
                delete |= i.consume_key(egui::Modifiers::NONE, egui::Key::Delete);
            });
        }
        // The selection as it stands after this frame's clicks.
        let selected = self.selected.clone().and_then(|key| kind_of(model, &key).map(|k| (key, k)));
        let mut opened_import = None;
        if connected && let Some((key, kind)) = selected {
            if import && kind == Kind::Mailbox {
                opened_import = Some(Action::ImportMail(key));
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
                            self.edit_mailbox = Some((key, MailboxForm::of(m, &model.catch_all, ours)));
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
            } else if delete {
                self.confirm_delete = Some((key, kind));
            }
        }
        let ctx = ui.ctx().clone();
        opened_import
            .or_else(|| self.edit_mailbox_dialog(&ctx, &model.mailboxes))
            .or_else(|| self.new_mailbox_dialog(&ctx))
            .or_else(|| self.list_dialog(&ctx))
            .or_else(|| self.contact_dialog(&ctx))
            .or_else(|| self.delete_dialog(&ctx))
    }

    /// Every recipient, a row each: a click anywhere on a row selects it, a
    /// double-click opens it, a right-click offers what can be done with it.
    fn table_ui(&mut self, ui: &mut egui::Ui, model: &Model) -> Option<RowAction> {
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
        let selected = self.selected.as_deref();
        TableBuilder::new(ui)
            .striped(true)
            .sense(egui::Sense::click())
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::initial(180.0).resizable(true))
            .column(Column::initial(280.0).resizable(true))
            .column(Column::initial(230.0).resizable(true))
            .column(Column::initial(80.0))
            .column(Column::remainder())
            .header(22.0, |mut h| {
                let names = ["Display Name", "E-mail Addresses", "Type", "Messages", "Size"];
                clicked_header = sortable_header(&mut h, &names, sort);
            })
            .body(|body| {
                body.rows(20.0, rows.len(), |mut row| {
                    let r = &rows[row.index()];
                    row.set_selected(selected == Some(r.key));
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
                    if resp.clicked() || resp.secondary_clicked() {
                        clicked_row = Some(r.key.to_owned());
                    }
                    if resp.double_clicked() {
                        clicked_row = Some(r.key.to_owned());
                        action = Some(RowAction::Open);
                    }
                    resp.context_menu(|ui| {
                        clicked_row = Some(r.key.to_owned());
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
                    });
                });
            });
        if let Some(i) = clicked_header {
            self.sort.clicked(i);
        }
        if clicked_row.is_some() {
            self.selected = clicked_row;
        }
        action
    }

    fn new_mailbox_dialog(&mut self, ctx: &egui::Context) -> Option<Action> {
        let form = self.new_mailbox.as_mut()?;
        let confirmed = mailbox_form_ui(ctx, "new_mailbox", "New Mailbox", form, true, &[])?;
        let form = self.new_mailbox.take()?;
        confirmed.then(|| {
            Action::Send(Command::AddMailbox {
                display_name: form.name.clone(),
                addresses: form.address_list(),
                password: form.password,
            })
        })
    }

    /// Mailbox Properties: General (display name, addresses, a new password, what each
    /// folder holds), Delivery Options, Limits and Automatic Replies. OK sends what
    /// changed, the options first (by the address the mailbox has now).
    fn edit_mailbox_dialog(&mut self, ctx: &egui::Context, mailboxes: &[MailboxInfo]) -> Option<Action> {
        let (address, form) = self.edit_mailbox.as_mut()?;
        let title = format!("Mailbox Properties: {address}");
        let folders =
            mailboxes.iter().find(|m| m.addresses.first() == Some(address)).map_or(&[][..], |m| m.folders.as_slice());
        let confirmed = mailbox_form_ui(ctx, "mailbox_properties", &title, form, false, folders)?;
        let (address, form) = self.edit_mailbox.take()?;
        confirmed.then(|| {
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
            for (domain, now, mine) in &form.catch_all {
                let was_mine = now.as_deref() == Some(address.as_str());
                if *mine != was_mine {
                    let mailbox = mine.then(|| address.clone());
                    requests.push(Request::SetCatchAll { domain: domain.clone(), mailbox });
                }
            }
            requests.push(Request::UpdateMailbox {
                address,
                display_name: Some(form.name.clone()),
                addresses: Some(form.address_list()),
                password: (!form.password.is_empty()).then_some(form.password),
            });
            Action::Send(Command::Recipients(requests))
        })
    }

    /// New Distribution List, or a list's properties: General, Members, Delivery
    /// Restrictions.
    fn list_dialog(&mut self, ctx: &egui::Context) -> Option<Action> {
        let form = self.list.as_mut()?;
        let confirmed = list_form_ui(ctx, form)?;
        let form = self.list.take()?;
        confirmed.then(|| Action::Send(Command::Recipients(form.requests())))
    }

    /// New Custom Recipient, or one's properties (shown; to change one, delete it and
    /// make it again).
    fn contact_dialog(&mut self, ctx: &egui::Context) -> Option<Action> {
        let form = self.contact.as_mut()?;
        let confirmed = contact_form_ui(ctx, form)?;
        let form = self.contact.take()?;
        (confirmed && form.existing.is_none()).then(|| {
            Action::Send(Command::Recipients(vec![Request::AddContact {
                address: form.address.trim().to_owned(),
                display_name: form.name.trim().to_owned(),
                target: form.target.trim().to_owned(),
            }]))
        })
    }

    fn delete_dialog(&mut self, ctx: &egui::Context) -> Option<Action> {
        let (address, kind) = self.confirm_delete.as_ref()?;
        let (title, text) = match kind {
            Kind::Mailbox => {
                ("Delete Mailbox", format!("Delete the mailbox {address} and all its messages? This cannot be undone."))
            }
            Kind::List => {
                ("Delete Distribution List", format!("Delete the distribution list {address}? Its members stay."))
            }
            Kind::Contact => ("Delete Custom Recipient", format!("Delete the custom recipient {address}?")),
        };
        let answer = confirm_ui(ctx, "confirm_delete", title, &text, "Delete");
        let (address, kind) = self.confirm_delete.take_if(|_| answer.is_some())?;
        answer.filter(|yes| *yes).map(|_| {
            self.selected = None;
            match kind {
                Kind::Mailbox => Action::Send(Command::RemoveMailbox(address)),
                Kind::List => Action::Send(Command::Recipients(vec![Request::RemoveList { address }])),
                Kind::Contact => Action::Send(Command::Recipients(vec![Request::RemoveContact { address }])),
            }
        })
    }
}

/// A day in local time, `YYYY-MM-DD`, from Unix seconds.
fn day_of(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .map(|ts| ts.to_zoned_datetime(jiff::tz::TimeZone::system()).strftime("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// `YYYY-MM-DD` as the start (or, with `end`, the last second) of that local day;
/// `Ok(None)` for an empty field.
fn parse_day(text: &str, end: bool) -> Result<Option<i64>, ()> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let date: jiff::civil::Date = text.parse().map_err(|_| ())?;
    let at = if end { date.at(23, 59, 59, 0) } else { date.at(0, 0, 0, 0) };
    jiff::tz::TimeZone::system().to_timestamp(at).map(|t| Some(t.as_second())).map_err(|_| ())
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

/// Who may send to a list, in words.
const SENDERS: [(ListSenders, &str); 3] = [
    (ListSenders::Anyone, "Anyone"),
    (ListSenders::Authenticated, "Only our own users (authenticated)"),
    (ListSenders::Members, "Only its members"),
];

/// The list form: new, or an existing list's properties.
#[derive(Debug)]
struct ListForm {
    /// The list's address when it exists (the address cannot be changed).
    existing: Option<ListInfo>,
    name: String,
    address: String,
    senders: ListSenders,
    hide_members: bool,
    members: Vec<String>,
    new_member: String,
    tab: ListTab,
    focused: bool,
    show_problem: bool,
}

impl Default for ListForm {
    fn default() -> ListForm {
        ListForm {
            existing: None,
            name: String::new(),
            address: String::new(),
            senders: ListSenders::Anyone,
            hide_members: false,
            members: Vec::new(),
            new_member: String::new(),
            tab: ListTab::General,
            focused: false,
            show_problem: false,
        }
    }
}

/// A list's property tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListTab {
    General,
    Members,
    DeliveryRestrictions,
}

impl ListForm {
    fn of(l: &ListInfo) -> ListForm {
        ListForm {
            existing: Some(l.clone()),
            name: l.display_name.clone(),
            address: l.address.clone(),
            senders: l.senders,
            hide_members: l.hide_members,
            members: l.members.clone(),
            show_problem: true,
            ..ListForm::default()
        }
    }

    fn problem(&self) -> Option<String> {
        if let Err(e) = mailroom_shared::address::EmailAddress::parse(self.address.trim()) {
            return Some(format!("The list's address: '{}' {e}.", self.address.trim()));
        }
        self.members
            .iter()
            .find_map(|m| mailroom_shared::address::EmailAddress::parse(m).err().map(|e| format!("Member '{m}' {e}.")))
    }

    /// What OK sends: the list (new, or its changed settings), then its members.
    fn requests(&self) -> Vec<Request> {
        let address = self.address.trim().to_owned();
        let mut out = Vec::new();
        let before: Vec<String> = self.existing.as_ref().map(|l| l.members.clone()).unwrap_or_default();
        match &self.existing {
            None => out.push(Request::AddList {
                address: address.clone(),
                display_name: self.name.trim().to_owned(),
                senders: self.senders,
                hide_members: self.hide_members,
            }),
            Some(l) => {
                if l.display_name != self.name.trim()
                    || l.senders != self.senders
                    || l.hide_members != self.hide_members
                {
                    out.push(Request::UpdateList {
                        address: address.clone(),
                        display_name: Some(self.name.trim().to_owned()),
                        senders: Some(self.senders),
                        hide_members: Some(self.hide_members),
                    });
                }
            }
        }
        let add: Vec<String> = self.members.iter().filter(|m| !before.contains(m)).cloned().collect();
        let remove: Vec<String> = before.iter().filter(|m| !self.members.contains(m)).cloned().collect();
        if !add.is_empty() || !remove.is_empty() {
            out.push(Request::ListMembers { address, add, remove });
        }
        out
    }
}

/// The list dialog: `Some(true)` when confirmed, `Some(false)` when cancelled.
fn list_form_ui(ctx: &egui::Context, d: &mut ListForm) -> Option<bool> {
    let problem = d.problem();
    let mut answer = None;
    let title = match &d.existing {
        None => "New Distribution List".to_owned(),
        Some(l) => format!("Distribution List Properties: {}", l.address),
    };
    egui::Modal::new(egui::Id::unique("list_form")).show(ctx, |ui| {
        // One size for every tab, so that the dialog does not move as they change,
        // its buttons at the bottom.
        ui.set_width(460.0);
        let top = ui.cursor().top();
        ui.heading(title);
        ui.horizontal(|ui| {
            ui.selectable_value(&mut d.tab, ListTab::General, "General");
            ui.selectable_value(&mut d.tab, ListTab::Members, "Members");
            ui.selectable_value(&mut d.tab, ListTab::DeliveryRestrictions, "Delivery Restrictions");
        });
        ui.separator();
        let mut changed = false;
        match d.tab {
            ListTab::General => {
                egui::Grid::new("list_general").num_columns(2).spacing([10.0, 6.0]).show(ui, |ui| {
                    let first = form_row(ui, "Display name:", &mut d.name, "Sales");
                    if !std::mem::replace(&mut d.focused, true) {
                        first.request_focus();
                    }
                    changed |= first.changed();
                    let l = ui.label("E-mail address:");
                    ui.add_enabled_ui(d.existing.is_none(), |ui| {
                        changed |= ui
                            .add(egui::TextEdit::singleline(&mut d.address).hint_text("sales@corp.test"))
                            .labelled_by(l.id)
                            .changed();
                    });
                    ui.end_row();
                });
                if d.members.is_empty() {
                    ui.label("No members yet: add them on the Members tab.");
                } else {
                    ui.label(format!("{} (see the Members tab).", count_of(d.members.len(), "member", "members")));
                }
            }
            ListTab::Members => {
                let mut remove = None;
                egui::ScrollArea::vertical().max_height(200.0).show(ui, |ui| {
                    egui::Grid::new("list_members").num_columns(2).spacing([16.0, 4.0]).striped(true).show(ui, |ui| {
                        for (i, m) in d.members.iter().enumerate() {
                            ui.label(m);
                            if ui.small_button("Remove").on_hover_text(format!("Remove {m} from the list")).clicked() {
                                remove = Some(i);
                            }
                            ui.end_row();
                        }
                    });
                    if d.members.is_empty() {
                        ui.weak("No members yet.");
                    }
                });
                if let Some(i) = remove {
                    d.members.remove(i);
                    changed = true;
                }
                ui.horizontal(|ui| {
                    let l = ui.label("Add member:");
                    let field = ui
                        .add(
                            egui::TextEdit::singleline(&mut d.new_member)
                                .hint_text("ann@corp.test, a list, or outside"),
                        )
                        .labelled_by(l.id);
                    let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                    if (ui.button("Add").clicked() || enter) && !d.new_member.trim().is_empty() {
                        for m in d.new_member.split([',', ' ', ';']).map(str::trim).filter(|m| !m.is_empty()) {
                            let m = m.to_ascii_lowercase();
                            if !d.members.contains(&m) {
                                d.members.push(m);
                            }
                        }
                        d.new_member.clear();
                        changed = true;
                    }
                });
                ui.weak("Members may be mailboxes, custom recipients, other lists, or outside addresses.");
            }
            ListTab::DeliveryRestrictions => {
                egui::Grid::new("list_restrictions").num_columns(2).spacing([10.0, 6.0]).show(ui, |ui| {
                    crate::widgets::combo(ui, "Who may send to it:", &mut d.senders, &SENDERS);
                });
                changed |= ui
                    .checkbox(&mut d.hide_members, "Hide its members (the address tester does not list them)")
                    .changed();
            }
        }
        d.show_problem |= changed;
        ui.add_space((300.0 - (ui.cursor().top() - top)).max(0.0));
        let ok = if d.existing.is_none() { "Create" } else { "OK" };
        // Enter on Members adds the member typed, not the list.
        let enter = d.tab != ListTab::Members;
        answer = dialog_foot(ui, problem.as_deref(), &mut d.show_problem, ok, enter);
    });
    answer
}

/// The custom recipient form.
#[derive(Debug, Default)]
struct ContactForm {
    existing: Option<ContactInfo>,
    name: String,
    address: String,
    target: String,
    focused: bool,
    show_problem: bool,
}

impl ContactForm {
    fn of(c: &ContactInfo) -> ContactForm {
        ContactForm {
            existing: Some(c.clone()),
            name: c.display_name.clone(),
            address: c.address.clone(),
            target: c.target.clone(),
            ..ContactForm::default()
        }
    }

    fn problem(&self) -> Option<String> {
        let parse = mailroom_shared::address::EmailAddress::parse;
        if let Err(e) = parse(self.address.trim()) {
            return Some(format!("The local address: '{}' {e}.", self.address.trim()));
        }
        if let Err(e) = parse(self.target.trim()) {
            return Some(format!("The outside address: '{}' {e}.", self.target.trim()));
        }
        None
    }
}

/// The custom recipient dialog.
fn contact_form_ui(ctx: &egui::Context, d: &mut ContactForm) -> Option<bool> {
    let problem = d.problem();
    let mut answer = None;
    let new = d.existing.is_none();
    egui::Modal::new(egui::Id::unique("contact_form")).show(ctx, |ui| {
        ui.set_width(440.0);
        ui.heading(if new { "New Custom Recipient" } else { "Custom Recipient Properties" });
        let mut changed = false;
        ui.add_enabled_ui(new, |ui| {
            egui::Grid::new("contact").num_columns(2).spacing([10.0, 6.0]).show(ui, |ui| {
                let first = form_row(ui, "Display name:", &mut d.name, "Pat Partner");
                if new && !std::mem::replace(&mut d.focused, true) {
                    first.request_focus();
                }
                changed |= first.changed();
                changed |= form_row(ui, "E-mail address here:", &mut d.address, "partner@corp.test").changed();
                changed |= form_row(ui, "Deliver to (outside):", &mut d.target, "someone@elsewhere.example").changed();
            });
        });
        ui.weak("Mail to the address here is relayed to the outside address, its sender rewritten (SRS) so that it passes SPF.");
        if !new {
            ui.weak("To change one, delete it and create it again.");
        }
        d.show_problem |= changed;
        if new {
            answer = dialog_foot(ui, problem.as_deref(), &mut d.show_problem, "Create", true);
        } else {
            // Shown only: Close, Enter or Escape close it.
            let key = dialog_key(ui).is_some();
            if ui.button("Close").clicked() || key {
                answer = Some(false);
            }
        }
    });
    answer
}

/// The mailbox form as a modal: `Some(true)` when confirmed, `Some(false)` when
/// cancelled, `None` while open.
fn mailbox_form_ui(
    ctx: &egui::Context,
    id: &str,
    title: &str,
    d: &mut MailboxForm,
    new: bool,
    folders: &[FolderUsage],
) -> Option<bool> {
    let problem = d.problem(new).or_else(|| d.options_problem());
    let (password, confirm) = if new {
        ("Password:", "Confirm password:")
    } else {
        ("New password (empty: unchanged):", "Confirm new password:")
    };
    let mut answer = None;
    egui::Modal::new(egui::Id::unique(id)).show(ctx, |ui| {
        ui.set_width(460.0);
        // Properties keep one size for every tab, so that the dialog does not move as
        // they change, its buttons at the bottom.
        let top = ui.cursor().top();
        ui.heading(title);
        let mut changed = false;
        if !new {
            ui.horizontal(|ui| {
                ui.selectable_value(&mut d.tab, MailboxTab::General, "General");
                ui.selectable_value(&mut d.tab, MailboxTab::DeliveryOptions, "Delivery Options");
                ui.selectable_value(&mut d.tab, MailboxTab::Limits, "Limits");
                ui.selectable_value(&mut d.tab, MailboxTab::AutomaticReplies, "Automatic Replies");
            });
            ui.separator();
        }
        match d.tab {
            MailboxTab::General => {
                egui::Grid::new(id).num_columns(2).spacing([10.0, 6.0]).show(ui, |ui| {
                    let first = form_row(ui, "Display name:", &mut d.name, "");
                    if !std::mem::replace(&mut d.focused, true) {
                        first.request_focus();
                    }
                    changed |= first.changed();
                    changed |=
                        form_row(ui, "E-mail addresses:", &mut d.addresses, "ann@corp.test, sales@corp.test").changed();
                    let l = ui.label(password);
                    changed |=
                        ui.add(egui::TextEdit::singleline(&mut d.password).password(true)).labelled_by(l.id).changed();
                    ui.end_row();
                    let l = ui.label(confirm);
                    changed |=
                        ui.add(egui::TextEdit::singleline(&mut d.confirm).password(true)).labelled_by(l.id).changed();
                    ui.end_row();
                });
                if !folders.is_empty() {
                    ui.add_space(6.0);
                    ui.strong("Folders");
                    egui::Grid::new((id, "folders")).num_columns(3).striped(true).spacing([16.0, 4.0]).show(ui, |ui| {
                        for f in folders {
                            ui.label(&f.name);
                            ui.label(count_of(usize::try_from(f.messages).unwrap_or(usize::MAX), "message", "messages"));
                            ui.label(format!("{} KB", f.bytes.div_ceil(1024)));
                            ui.end_row();
                        }
                    });
                }
            }
            MailboxTab::DeliveryOptions => {
                changed |= ui.checkbox(&mut d.forward, "Forward this mailbox's mail").changed();
                ui.add_enabled_ui(d.forward, |ui| {
                    egui::Grid::new((id, "forward")).num_columns(2).spacing([10.0, 6.0]).show(ui, |ui| {
                        let l = ui.label("Forward to (outside address):");
                        changed |= ui
                            .add(egui::TextEdit::singleline(&mut d.forward_to).hint_text("ann@home.example"))
                            .labelled_by(l.id)
                            .changed();
                        ui.end_row();
                    });
                    changed |= ui.checkbox(&mut d.forward_keep, "Deliver to this mailbox too").changed();
                });
                ui.weak("Forwarded mail keeps passing SPF: its sender is rewritten (SRS), and bounces come back to the sender.");
                if !d.catch_all.is_empty() {
                    ui.add_space(8.0);
                    ui.strong("Catch-all");
                    for (domain, now, mine) in &mut d.catch_all {
                        let label = format!("Receive mail for unknown addresses of {domain}");
                        changed |= ui.checkbox(mine, label).changed();
                        if let Some(other) = now.as_ref().filter(|_| !*mine) {
                            ui.weak(format!("Now {other} receives it; ticking moves it here."));
                        }
                    }
                    ui.colored_label(
                        ui.visuals().warn_fg_color,
                        "A catch-all invites spam: every address a spammer guesses lands in this mailbox.",
                    );
                }
            }
            MailboxTab::Limits => {
                ui.label("Storage limits, in KB. Unticked: the organisation's default (General tab of the Internet Mail Service).");
                egui::Grid::new((id, "limits")).num_columns(2).spacing([10.0, 6.0]).show(ui, |ui| {
                    for (label, value) in [
                        ("Issue warning at (KB):", &mut d.limits.warn_kb),
                        ("Prohibit send at (KB):", &mut d.limits.send_kb),
                        ("Prohibit send and receive at (KB):", &mut d.limits.receive_kb),
                    ] {
                        let mut own = value.is_some();
                        if ui.checkbox(&mut own, label).changed() {
                            *value = own.then_some(value.unwrap_or(100_000));
                            changed = true;
                        }
                        let mut n = value.unwrap_or(100_000);
                        if ui.add_enabled(own, egui::DragValue::new(&mut n).range(1..=u64::MAX)).changed() {
                            *value = Some(n);
                            changed = true;
                        }
                        ui.end_row();
                    }
                });
            }
            MailboxTab::AutomaticReplies => {
                changed |= ui.checkbox(&mut d.reply_on, "Send automatic replies (out of office)").changed();
                ui.add_enabled_ui(d.reply_on, |ui| {
                    egui::Grid::new((id, "reply")).num_columns(2).spacing([10.0, 6.0]).show(ui, |ui| {
                        let l = ui.label("Subject:");
                        changed |= ui.text_edit_singleline(&mut d.reply_subject).labelled_by(l.id).changed();
                        ui.end_row();
                        let l = ui.label("Text:");
                        changed |= ui
                            .add(egui::TextEdit::multiline(&mut d.reply_text).desired_rows(4).hint_text("I am away until Monday."))
                            .labelled_by(l.id)
                            .changed();
                        ui.end_row();
                        let l = ui.label("From (YYYY-MM-DD, optional):");
                        changed |= ui.text_edit_singleline(&mut d.reply_from).labelled_by(l.id).changed();
                        ui.end_row();
                        let l = ui.label("Until (YYYY-MM-DD, optional):");
                        changed |= ui.text_edit_singleline(&mut d.reply_until).labelled_by(l.id).changed();
                        ui.end_row();
                        let l = ui.label("Each sender at most once in:");
                        ui.horizontal(|ui| {
                            changed |= ui.add(egui::DragValue::new(&mut d.reply_days).range(1..=365)).labelled_by(l.id).changed();
                            ui.label("days");
                        });
                        ui.end_row();
                    });
                    ui.weak("{subject} in the subject stands for the subject of the message answered. Mailing lists, bulk and automatic mail get no reply.");
                });
            }
        }
        d.show_problem |= changed;
        if !new {
            ui.add_space((380.0 - (ui.cursor().top() - top)).max(0.0));
        }
        let ok = if new { "Create" } else { "OK" };
        answer = dialog_foot(ui, problem.as_deref(), &mut d.show_problem, ok, true);
    });
    answer
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
        assert_eq!(f.problem(true).as_deref(), Some("The two passwords are not the same."));
    }
}
