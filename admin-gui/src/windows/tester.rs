//! Tools → Test Address: what the service would do with mail to a recipient, from a
//! client, authenticated or not, explained in words.

use crate::actions::Action;
use crate::backend::Command;
use crate::model::{AddressVerdict, Model};

/// The Test Address window; the answer is the model's.
#[derive(Debug, Default)]
pub struct TesterWindow {
    /// Shown.
    pub open: bool,
    recipient: String,
    authenticated_as: String,
    client_ip: String,
    /// Whether it was shown in the last frame (opening it puts the focus in
    /// Recipient).
    shown: bool,
}

impl TesterWindow {
    /// The form, Test, and the answer. Opening it puts the focus in Recipient; Enter
    /// runs the test, Escape closes it.
    pub fn show(&mut self, ctx: &egui::Context, model: &Model) -> Option<Action> {
        let mut action = None;
        let mut open = self.open;
        let opened = self.open && !self.shown;
        let mut close = false;
        egui::Window::new("Test Address").open(&mut open).default_size([480.0, 220.0]).show(ctx, |ui| {
            egui::Grid::new("tester").num_columns(2).show(ui, |ui| {
                let l = ui.label("Recipient:");
                let recipient = ui.text_edit_singleline(&mut self.recipient).labelled_by(l.id);
                if opened {
                    recipient.request_focus();
                }
                ui.end_row();
                let l = ui.label("Client authenticated as (empty: not):");
                ui.text_edit_singleline(&mut self.authenticated_as).labelled_by(l.id);
                ui.end_row();
                let l = ui.label("Client IP address:");
                ui.add(egui::TextEdit::singleline(&mut self.client_ip).hint_text("127.0.0.1")).labelled_by(l.id);
                ui.end_row();
            });
            let mut test = ui.add_enabled(model.connected(), egui::Button::new("Test")).clicked();
            match crate::widgets::dialog_key(ui) {
                Some(crate::widgets::DialogKey::Default) => test |= model.connected(),
                Some(crate::widgets::DialogKey::Cancel) => close = true,
                None => {}
            }
            if test {
                let ip = if self.client_ip.trim().is_empty() { "127.0.0.1" } else { self.client_ip.as_str() };
                action = Some(Action::Send(Command::TestAddress {
                    recipient: self.recipient.clone(),
                    authenticated_as: self.authenticated_as.clone(),
                    client_ip: ip.to_owned(),
                }));
            }
            match &model.address_test {
                Some(Ok(AddressVerdict { now, after_restart: None, .. })) => {
                    ui.add(egui::Label::new(format!("Mailroom would: {now}")).wrap());
                }
                Some(Ok(AddressVerdict { now, after_restart: Some(after), .. })) => {
                    ui.add(egui::Label::new(format!("Now (running configuration): {now}")).wrap());
                    ui.add(egui::Label::new(format!("After a restart (saved configuration): {after}")).wrap());
                }
                Some(Err(e)) => {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                }
                None => {}
            }
        });
        self.open = open && !close;
        self.shown = self.open;
        action
    }
}
