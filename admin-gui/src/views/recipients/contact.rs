//! The custom recipient dialogs: New Custom Recipient and its properties.

use mailroom_shared::ipc::ContactInfo;

use crate::widgets::{dialog_foot, dialog_key, form_row};

/// The custom recipient form.
#[derive(Debug, Default)]
pub(super) struct ContactForm {
    pub(super) existing: Option<ContactInfo>,
    pub(super) name: String,
    pub(super) address: String,
    pub(super) target: String,
    /// Hidden from the address book (the one thing Properties change).
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
        ui.checkbox(&mut d.hidden, "Hide from address book")
            .on_hover_text("Not in the Global Address List calendar and contacts programs show; mail still reaches it.");
        ui.weak("Mail to the address here is relayed to the outside address, its sender rewritten (SRS) so that it passes SPF.");
        if !new {
            ui.weak("To change its addresses, delete it and create it again.");
        }
        d.show_problem |= changed;
        if changed {
            d.pending.refused = None;
        }
        if new {
            let waiting = d.pending.ui(ui, false);
            answer = ui
                .add_enabled_ui(!waiting, |ui| dialog_foot(ui, problem.as_deref(), &mut d.show_problem, "Create", true))
                .inner;
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
