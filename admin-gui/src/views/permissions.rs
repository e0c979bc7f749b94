//! The permissions editor of Mailbox Properties and of a public folder's properties,
//! as Exchange Administrator's Permissions tab had it: who has which role, a choice of
//! role for each, a way to add someone from the recipients, and (for a mailbox) Send
//! As and "Give Send On Behalf Of permission to". What is edited is sent on OK, only
//! what changed.

use mailroom_shared::rights::{Rights, Role};

use crate::model::Model;
use crate::views::address_book::{AddressBook, Entry};

/// Rights as edited, and as they were when the dialog opened.
#[derive(Debug, Default)]
pub struct Permissions {
    /// (grantee, rights), by grantee.
    now: Vec<(String, Rights)>,
    /// The same when the dialog opened.
    before: Vec<(String, Rights)>,
    /// Whom rights may be given to.
    candidates: Vec<Entry>,
    /// The address book, when "Address Book…" opened it.
    book: AddressBook,
    /// The grantee and role chosen to add.
    add_grantee: String,
    add_role: Option<Role>,
    /// The person chosen to send on behalf.
    add_behalf: String,
    /// Custom rights being typed: the grantee and the letters so far.
    editing: Option<(String, String)>,
}

/// A set of rights in words: its role, "None", or its letters.
pub fn words(r: Rights) -> String {
    match r.role() {
        _ if r.imap().is_empty() => "None".to_owned(),
        Some(role) => role.label().to_owned(),
        None => format!("Custom ({})", r.imap_letters()),
    }
}

/// Whom rights may be given to: the people's mailboxes (not `except`, not shared
/// ones), the distribution lists, and anyone.
pub fn candidates(model: &Model, except: Option<i64>) -> Vec<Entry> {
    let except = model.mailboxes.iter().find(|m| Some(m.id) == except).map(|m| m.addresses[0].clone());
    let shared: Vec<&str> = model.mailboxes.iter().filter(|m| m.shared).map(|m| m.addresses[0].as_str()).collect();
    crate::views::address_book::everyone(model)
        .into_iter()
        .filter(|e| e.kind != "Custom recipient" && !shared.contains(&e.address.as_str()))
        .filter(|e| except.as_ref() != Some(&e.address))
        .chain(std::iter::once(Entry { address: "anyone".into(), name: "Anyone (every user)".into(), kind: "" }))
        .collect()
}

/// RFC 4314's letters as typed, when they are rights (IMAP's only).
fn typed_rights(text: &str) -> Option<Rights> {
    Rights::parse(text.trim()).ok().filter(|r| r.imap() == *r)
}

impl Permissions {
    /// The editor for `given` rights, offering `candidates`.
    pub fn new(mut given: Vec<(String, Rights)>, candidates: Vec<Entry>) -> Permissions {
        given.sort_by(|a, b| a.0.cmp(&b.0));
        Permissions { before: given.clone(), now: given, candidates, ..Permissions::default() }
    }

    /// Whether its address book is open (over the dialog, which then leaves it the
    /// keys).
    pub fn book_open(&self) -> bool {
        self.book.is_open()
    }

    /// The rights as edited.
    pub fn now(&self) -> &[(String, Rights)] {
        &self.now
    }

    /// The changes to send: each grantee whose rights differ from when the dialog
    /// opened (no rights: taken away).
    pub fn changes(&self) -> Vec<(String, Rights)> {
        let mut out = Vec::new();
        for (who, now) in &self.now {
            let before = self.before.iter().find(|(w, _)| w == who).map(|(_, r)| *r);
            if before != Some(*now) {
                out.push((who.clone(), *now));
            }
        }
        for (who, _) in &self.before {
            if !self.now.iter().any(|(w, _)| w == who) {
                out.push((who.clone(), Rights::NONE));
            }
        }
        out
    }

    /// Gives `who` these rights (replacing theirs), or takes them all away.
    pub fn grant(&mut self, who: &str, rights: Rights) {
        self.now.retain(|(w, _)| w != who);
        if !rights.is_empty() {
            self.now.push((who.to_owned(), rights));
            self.now.sort_by(|a, b| a.0.cmp(&b.0));
        }
    }

    /// The rights `who` has now.
    fn of(&self, who: &str) -> Rights {
        self.now.iter().find(|(w, _)| w == who).map_or(Rights::NONE, |(_, r)| *r)
    }

    /// The Permissions tab: each grantee with a role to choose (and Send As, for a
    /// mailbox), Remove, and a way to add someone. True when something changed.
    pub fn ui(&mut self, ui: &mut egui::Ui, id: &str, what: &str, send_as: bool) -> bool {
        let mut changed = false;
        ui.label(format!("People and lists with permissions on {what} (they see it in their mail program):"));
        let mut set: Option<(String, Rights)> = None;
        let columns = if send_as { 5 } else { 4 };
        let mut typed: Option<(String, String)> = None;
        egui::Grid::new((id, "permissions")).num_columns(columns).striped(true).spacing([12.0, 4.0]).show(ui, |ui| {
            ui.strong("Name");
            ui.strong("Role");
            ui.strong("Rights");
            if send_as {
                ui.strong("Send As");
            }
            ui.label("");
            ui.end_row();
            for (who, rights) in &self.now {
                let name = ui.label(who);
                let mut chosen = *rights;
                let keep = rights.without(Rights::ALL_IMAP);
                egui::ComboBox::from_id_salt((id, "role", who.as_str()))
                    .selected_text(words(*rights))
                    .show_ui(ui, |ui| {
                        for role in Role::ALL {
                            ui.selectable_value(&mut chosen, role.rights().with(keep), role.label());
                        }
                        ui.selectable_value(&mut chosen, keep, "None");
                    })
                    .response
                    .labelled_by(name.id);
                // Custom rights: RFC 4314's letters, as a mail program's sharing dialog
                // sets them.
                let mut letters = match &self.editing {
                    Some((w, text)) if w == who => text.clone(),
                    _ => rights.imap_letters(),
                };
                let field = ui.add(egui::TextEdit::singleline(&mut letters).desired_width(90.0)).labelled_by(name.id);
                if field.changed() {
                    if let Some(r) = typed_rights(&letters) {
                        chosen = r.with(keep);
                    }
                    typed = Some((who.clone(), letters));
                }
                if send_as {
                    let mut on = rights.has(Rights::SEND_AS);
                    if ui.checkbox(&mut on, "").labelled_by(name.id).changed() {
                        chosen = if on { chosen.with(Rights::SEND_AS) } else { chosen.without(Rights::SEND_AS) };
                    }
                }
                if ui.button("Remove").on_hover_text(format!("Take every permission away from {who}")).clicked() {
                    chosen = Rights::NONE;
                }
                if chosen != *rights {
                    set = Some((who.clone(), chosen));
                }
                ui.end_row();
            }
        });
        if let Some(t) = typed {
            self.editing = Some(t);
        }
        if let Some((_, letters)) = self.editing.as_ref().filter(|(_, t)| typed_rights(t).is_none()) {
            let why = format!(
                "'{}' are not rights: use the letters l r s w i p k x t e a (lookup, read, seen, write, insert, post, \
                 create, delete folder, delete messages, expunge, administer).",
                letters.trim()
            );
            ui.colored_label(ui.visuals().error_fg_color, why);
        }
        if self.now.is_empty() {
            ui.weak(format!("Nobody has permissions on {what} yet."));
        }
        if let Some((who, rights)) = set {
            // Letters being typed for them give way to a role chosen or a removal.
            if self.editing.as_ref().is_some_and(|(w, t)| *w == who && typed_rights(t) != Some(rights.imap())) {
                self.editing = None;
            }
            self.grant(&who, rights);
            changed = true;
        }
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            let l = ui.label("Give permissions to:");
            let shown = if self.add_grantee.is_empty() { "(choose)".to_owned() } else { self.add_grantee.clone() };
            egui::ComboBox::from_id_salt((id, "add_grantee"))
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    for c in &self.candidates {
                        ui.selectable_value(&mut self.add_grantee, c.address.clone(), &c.address);
                    }
                })
                .response
                .labelled_by(l.id);
            let role = self.add_role.unwrap_or(Role::Reviewer);
            let r = ui.label("as");
            let mut chosen = role;
            egui::ComboBox::from_id_salt((id, "add_role"))
                .selected_text(role.label())
                .show_ui(ui, |ui| {
                    for each in Role::ALL {
                        ui.selectable_value(&mut chosen, each, each.label());
                    }
                })
                .response
                .labelled_by(r.id);
            self.add_role = Some(chosen);
            if ui.add_enabled(!self.add_grantee.is_empty(), egui::Button::new("Add")).clicked() {
                let who = std::mem::take(&mut self.add_grantee);
                let keep = self.of(&who).without(Rights::ALL_IMAP);
                self.grant(&who, chosen.rights().with(keep));
                changed = true;
            }
            if ui.button("Address Book…").on_hover_text("Choose people and lists from the recipients").clicked() {
                self.book.open("Give Permissions");
            }
        });
        // Over the dialog, when open: those chosen get the role chosen beside it.
        let given: Vec<String> = self.now.iter().map(|(w, _)| w.clone()).collect();
        if let Some(chosen_people) = self.book.show(ui.ctx(), &self.candidates, &given) {
            let role = self.add_role.unwrap_or(Role::Reviewer);
            for who in chosen_people {
                let keep = self.of(&who).without(Rights::ALL_IMAP);
                self.grant(&who, role.rights().with(keep));
            }
            changed = true;
        }
        ui.weak(
            "Owner: everything. Editor: read, file, flag and delete. Author: read and add. Reviewer: read only, \
             with their own read/unread state.",
        );
        changed
    }

    /// Delivery Options' "Give Send On Behalf Of permission to": the people who may send
    /// with `From:` the mailbox and `Sender:` themselves. True when something changed.
    pub fn on_behalf_ui(&mut self, ui: &mut egui::Ui, id: &str) -> bool {
        let mut changed = false;
        ui.strong("Give Send On Behalf Of permission to:");
        let holders: Vec<String> =
            self.now.iter().filter(|(_, r)| r.has(Rights::SEND_ON_BEHALF)).map(|(w, _)| w.clone()).collect();
        let mut removed = None;
        egui::Grid::new((id, "on_behalf")).num_columns(2).spacing([12.0, 4.0]).show(ui, |ui| {
            for who in &holders {
                let l = ui.label(who);
                if ui.button("Remove").labelled_by(l.id).clicked() {
                    removed = Some(who.clone());
                }
                ui.end_row();
            }
        });
        if holders.is_empty() {
            ui.weak("Nobody sends on behalf of this mailbox.");
        }
        if let Some(who) = removed {
            let now = self.of(&who);
            self.grant(&who, now.without(Rights::SEND_ON_BEHALF));
            changed = true;
        }
        ui.horizontal(|ui| {
            let l = ui.label("Add:");
            let shown = if self.add_behalf.is_empty() { "(choose)".to_owned() } else { self.add_behalf.clone() };
            egui::ComboBox::from_id_salt((id, "add_behalf"))
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    for c in self.candidates.iter().filter(|c| c.address != "anyone") {
                        ui.selectable_value(&mut self.add_behalf, c.address.clone(), &c.address);
                    }
                })
                .response
                .labelled_by(l.id);
            if ui.add_enabled(!self.add_behalf.is_empty(), egui::Button::new("Add person")).clicked() {
                let who = std::mem::take(&mut self.add_behalf);
                let now = self.of(&who);
                self.grant(&who, now.with(Rights::SEND_ON_BEHALF));
                changed = true;
            }
        });
        ui.weak("Their messages show \"on behalf of\" this mailbox: Mailroom adds them as the Sender:.");
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_changed_is_sent_and_a_removal_is_no_rights() {
        let mut p = Permissions::new(
            vec![("bob@corp.test".into(), Role::Editor.rights()), ("anyone".into(), Role::Reviewer.rights())],
            vec![],
        );
        assert!(p.changes().is_empty());
        p.grant("anyone", Rights::NONE);
        p.grant("carol@corp.test", Role::Author.rights().with(Rights::SEND_AS));
        p.grant("bob@corp.test", Role::Editor.rights());
        assert_eq!(
            p.changes(),
            [
                ("carol@corp.test".to_owned(), Role::Author.rights().with(Rights::SEND_AS)),
                ("anyone".to_owned(), Rights::NONE)
            ]
        );
        assert_eq!(words(Role::Author.rights().with(Rights::SEND_AS)), "Author");
        assert_eq!(words(Rights::SEND_ON_BEHALF), "None");
        assert_eq!(words(Rights::LOOKUP.with(Rights::INSERT)), "Custom (li)");
    }
}
