//! The custom recipient dialogs: New Custom Recipient and its properties.

use mailroom_shared::ipc::{ContactInfo, Request};

use crate::widgets::{dialog_foot, form_row};

/// The custom recipient form.
#[derive(Debug, Default)]
pub(super) struct ContactForm {
    pub(super) existing: Option<ContactInfo>,
    pub(super) name: String,
    pub(super) address: String,
    pub(super) target: String,
    /// Hidden from the address book.
    pub(super) hidden: bool,
    pub(super) focused: bool,
    pub(super) show_problem: bool,
    /// What was sent to the service, and its refusal, if any.
    pub(super) pending: super::Pending,
}

impl ContactForm {
    pub(super) fn of(c: &ContactInfo) -> ContactForm {
        ContactForm {
            existing: Some(c.clone()),
            name: c.display_name.clone(),
            address: c.address.clone(),
            target: c.target.clone(),
            hidden: c.hidden,
            ..ContactForm::default()
        }
    }

    /// What OK asks of the service: the custom recipient made, or what changed in it.
    pub(super) fn requests(&self) -> Vec<Request> {
        let (name, address, target) =
            (self.name.trim().to_owned(), self.address.trim().to_owned(), self.target.trim().to_owned());
        let Some(c) = &self.existing else {
            let mut made = vec![Request::AddContact { address: address.clone(), display_name: name, target }];
            if self.hidden {
                made.push(Request::SetHidden { address, hidden: true });
            }
            return made;
        };
        let mut out = Vec::new();
        let new_address = (!address.eq_ignore_ascii_case(&c.address)).then(|| address.clone());
        let display_name = (name != c.display_name).then_some(name);
        let target = (target != c.target).then_some(target);
        if new_address.is_some() || display_name.is_some() || target.is_some() {
            out.push(Request::UpdateContact { address: c.address.clone(), new_address, display_name, target });
        }
        if self.hidden != c.hidden {
            out.push(Request::SetHidden { address, hidden: self.hidden });
        }
        out
    }

    pub(super) fn problem(&self) -> Option<String> {
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
pub(super) fn contact_form_ui(ctx: &egui::Context, d: &mut ContactForm) -> Option<bool> {
    let problem = d.problem();
    let mut answer = None;
    let new = d.existing.is_none();
    egui::Modal::new(egui::Id::unique("contact_form")).show(ctx, |ui| {
        ui.set_width(440.0);
        ui.heading(if new { "New Custom Recipient" } else { "Custom Recipient Properties" });
        let mut changed = false;
        egui::Grid::new("contact").num_columns(2).spacing([10.0, 6.0]).show(ui, |ui| {
            let first = form_row(ui, "Display name:", &mut d.name, "Pat Partner");
            if !std::mem::replace(&mut d.focused, true) {
                first.request_focus();
            }
            changed |= first.changed();
            changed |= form_row(ui, "E-mail address here:", &mut d.address, "partner@corp.test").changed();
            changed |= form_row(ui, "Deliver to (outside):", &mut d.target, "someone@elsewhere.example").changed();
        });
        changed |= ui
            .checkbox(&mut d.hidden, "Hide from address book")
            .on_hover_text("Not in the Global Address List calendar and contacts programs show; mail still reaches it.")
            .changed();
        ui.weak("Mail to the address here is relayed to the outside address, its sender rewritten (SRS) so that it passes SPF.");
        if !new {
            ui.weak("A new address here takes effect at once; the lists that name it follow.");
        }
        d.show_problem |= changed;
        if changed {
            d.pending.refused = None;
        }
        let waiting = d.pending.ui(ui, false);
        let ok = if new { "Create" } else { "OK" };
        answer = ui
            .add_enabled_ui(!waiting, |ui| dialog_foot(ui, problem.as_deref(), &mut d.show_problem, ok, true))
            .inner;
    });
    answer
}
