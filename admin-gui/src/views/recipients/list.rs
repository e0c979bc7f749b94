//! The distribution list dialogs: New Distribution List and List Properties (General,
//! Members, Delivery Restrictions), one form for both.

use mailroom_shared::ipc::{ListInfo, ListSenders, Request};

use crate::views::address_book::{AddressBook, Entry};
use crate::widgets::{count_of, dialog_foot, form_row};

/// Who may send to a list, in words.
pub(super) const SENDERS: [(ListSenders, &str); 3] = [
    (ListSenders::Anyone, "Anyone"),
    (ListSenders::Authenticated, "Only our own users (authenticated)"),
    (ListSenders::Members, "Only its members"),
];

/// The list form: new, or an existing list's properties.
#[derive(Debug)]
pub(super) struct ListForm {
    /// The list's address when it exists (the address cannot be changed).
    pub(super) existing: Option<ListInfo>,
    pub(super) name: String,
    pub(super) address: String,
    pub(super) senders: ListSenders,
    pub(super) hide_members: bool,
    /// Hidden from the address book.
    pub(super) hidden: bool,
    pub(super) members: Vec<String>,
    pub(super) new_member: String,
    /// The address book, when Members' Address Book… opened it.
    pub(super) book: AddressBook,
    pub(super) tab: ListTab,
    pub(super) focused: bool,
    pub(super) show_problem: bool,
    /// What was sent to the service, and its refusal, if any.
    pub(super) pending: super::Pending,
}

impl Default for ListForm {
    fn default() -> ListForm {
        ListForm {
            existing: None,
            name: String::new(),
            address: String::new(),
            senders: ListSenders::Anyone,
            hide_members: false,
            hidden: false,
            members: Vec::new(),
            new_member: String::new(),
            book: AddressBook::default(),
            tab: ListTab::General,
            focused: false,
            show_problem: false,
            pending: super::Pending::default(),
        }
    }
}

/// A list's property tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ListTab {
    General,
    Members,
    DeliveryRestrictions,
}

impl ListForm {
    pub(super) fn of(l: &ListInfo) -> ListForm {
        ListForm {
            existing: Some(l.clone()),
            name: l.display_name.clone(),
            address: l.address.clone(),
            senders: l.senders,
            hide_members: l.hide_members,
            hidden: l.hidden,
            members: l.members.clone(),
            show_problem: true,
            ..ListForm::default()
        }
    }

    pub(super) fn problem(&self) -> Option<String> {
        if let Err(e) = mailroom_shared::address::EmailAddress::parse(self.address.trim()) {
            return Some(format!("The list's address: '{}' {e}.", self.address.trim()));
        }
        self.members
            .iter()
            .find_map(|m| mailroom_shared::address::EmailAddress::parse(m).err().map(|e| format!("Member '{m}' {e}.")))
    }

    /// What OK sends: the list (new, or its changed settings), then its members.
    pub(super) fn requests(&self) -> Vec<Request> {
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
        if self.hidden != self.existing.as_ref().is_some_and(|l| l.hidden) {
            out.push(Request::SetHidden { address: address.clone(), hidden: self.hidden });
        }
        let add: Vec<String> = self.members.iter().filter(|m| !before.contains(m)).cloned().collect();
        let remove: Vec<String> = before.iter().filter(|m| !self.members.contains(m)).cloned().collect();
        if !add.is_empty() || !remove.is_empty() {
            out.push(Request::ListMembers { address, add, remove });
        }
        out
    }
}

/// The list dialog: `Some(true)` when confirmed, `Some(false)` when cancelled; the
/// address book over it offers `everyone`.
pub(super) fn list_form_ui(ctx: &egui::Context, d: &mut ListForm, everyone: &[Entry]) -> Option<bool> {
    let book_open = d.book.is_open();
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
        ui.set_max_width(460.0);
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
                if ui.button("Address Book…").on_hover_text("Choose members from the recipients").clicked() {
                    d.book.open("Add Members");
                }
                ui.add(
                    egui::Label::new(
                        egui::RichText::new(
                            "Members may be mailboxes, custom recipients, other lists, or outside addresses.",
                        )
                        .weak(),
                    )
                    .wrap(),
                );
            }
            ListTab::DeliveryRestrictions => {
                egui::Grid::new("list_restrictions").num_columns(2).spacing([10.0, 6.0]).show(ui, |ui| {
                    crate::widgets::combo(ui, "Who may send to it:", &mut d.senders, &SENDERS);
                });
                changed |= ui
                    .checkbox(&mut d.hide_members, "Hide its members (the address tester does not list them)")
                    .changed();
                changed |= ui
                    .checkbox(&mut d.hidden, "Hide from address book")
                    .on_hover_text(
                        "Not in the Global Address List calendar and contacts programs show; mail still reaches it.",
                    )
                    .changed();
            }
        }
        d.show_problem |= changed;
        if changed {
            d.pending.refused = None;
        }
        ui.add_space((300.0 - (ui.cursor().top() - top)).max(0.0));
        let waiting = d.pending.ui(ui, false);
        let ok = if d.existing.is_none() { "Create" } else { "OK" };
        // Enter on Members adds the member typed, not the list.
        let enter = d.tab != ListTab::Members;
        answer = ui
            .add_enabled_ui(!waiting && !book_open, |ui| {
                dialog_foot(ui, problem.as_deref(), &mut d.show_problem, ok, enter)
            })
            .inner;
    });
    // Over the dialog, when open: those chosen become members.
    // (Not the list itself, nor its members.)
    let mut taken = d.members.clone();
    taken.push(d.address.trim().to_ascii_lowercase());
    if let Some(chosen) = d.book.show(ctx, everyone, &taken) {
        d.members.extend(chosen);
        d.pending.refused = None;
        d.show_problem = true;
    }
    answer
}
