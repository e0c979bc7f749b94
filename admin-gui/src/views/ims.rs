//! Configuration → Connections → Internet Mail Service: what the service does now, at
//! a glance, the way into its Properties, and the guided fix: when mail from the
//! mailboxes' users cannot reach the outside world (rerouting off) or mail to a
//! mailbox would be relayed away (its domain not inbound), the page says so in plain
//! words, and Fix… shows exactly what will change, applies it and restarts.

use std::collections::BTreeSet;

use mailroom_shared::address::{Domain, EmailAddress};
use mailroom_shared::config::{Config, RouteEntryDraft};
use mailroom_shared::ipc::MailboxInfo;

use crate::actions::Action;
use crate::backend::Command;
use crate::model::Model;
use crate::nav::Tab;
use crate::widgets::{DialogKey, dialog_key};

/// The Internet Mail Service view: whether the fix's dialog is open.
#[derive(Debug, Default)]
pub struct ImsView {
    /// Fix… was clicked: its dialog shows.
    fixing: bool,
}

/// What the guided fix changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    /// What is happening now, in words.
    pub problem: String,
    /// Tick "Reroute incoming SMTP mail".
    pub reroute: bool,
    /// Domains of mailboxes to add as inbound.
    pub inbound: Vec<String>,
}

impl Fix {
    /// The fix the saved configuration needs for these mailboxes and the other
    /// recipients' addresses (`others`: distribution lists, custom recipients), if any.
    pub fn needed(config: &Config, mailboxes: &[MailboxInfo], others: &[&str]) -> Option<Fix> {
        if mailboxes.is_empty() && others.is_empty() {
            return None;
        }
        let domains: BTreeSet<Domain> = mailboxes
            .iter()
            .flat_map(|m| m.addresses.iter().map(String::as_str))
            .chain(others.iter().copied())
            .filter_map(|a| EmailAddress::parse(a).ok())
            .map(|a| a.domain().clone())
            .collect();
        let inbound: Vec<String> =
            domains.iter().filter(|d| !config.routing.table.is_inbound(d)).map(ToString::to_string).collect();
        // Rerouting matters to the people who send from a mail program.
        let reroute = !config.routing.reroute && !mailboxes.is_empty();
        let problem = if reroute {
            "Mail from POP3 and IMAP users to outside addresses is being returned to them: rerouting of incoming \
             SMTP mail is off."
                .to_owned()
        } else if !inbound.is_empty() {
            format!(
                "Mail to recipients in {} would be relayed away instead of delivered here: {} not an inbound domain.",
                inbound.join(", "),
                if inbound.len() == 1 { "it is" } else { "they are" }
            )
        } else {
            return None;
        };
        Some(Fix { problem, reroute, inbound })
    }

    /// The changes, one sentence each, as the dialog lists them.
    pub fn steps(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.reroute {
            out.push("Tick \"Reroute incoming SMTP mail\" on the Routing tab.".to_owned());
        }
        for d in &self.inbound {
            out.push(format!("Add {d} to the routing table as \"inbound\"."));
        }
        out.push("Restart the Internet Mail Service.".to_owned());
        out
    }
}

impl ImsView {
    /// Host name, rerouting, the routing table, the SMTP address; Properties…; and the
    /// guided fix when one is needed.
    pub fn ui(&mut self, ui: &mut egui::Ui, model: &Model) -> Option<Action> {
        ui.heading("Internet Mail Service");
        let Some((config, revision)) = &model.config else {
            ui.spinner();
            return None;
        };
        let mut action = None;
        let others: Vec<&str> = model
            .lists
            .iter()
            .map(|l| l.address.as_str())
            .chain(model.contacts.iter().map(|c| c.address.as_str()))
            .collect();
        let fix = Fix::needed(config, &model.mailboxes, &others);
        if let Some(fix) = &fix {
            egui::Frame::new()
                .fill(egui::Color32::from_rgb(253, 236, 234))
                .stroke(egui::Stroke::new(1.0, egui::Color32::from_rgb(210, 140, 130)))
                .inner_margin(egui::Margin::symmetric(10, 6))
                .show(ui, |ui| {
                    ui.set_width(ui.available_width());
                    ui.add(egui::Label::new(&fix.problem).wrap());
                    if ui.add_enabled(model.connected(), egui::Button::new("Fix…")).clicked() {
                        self.fixing = true;
                    }
                });
            ui.add_space(6.0);
        }
        egui::Grid::new("ims_summary").num_columns(2).spacing([16.0, 6.0]).show(ui, |ui| {
            ui.label("Host name:");
            ui.label(config.general.host_name.to_string());
            ui.end_row();
            ui.label("Reroute incoming SMTP mail:");
            ui.label(if config.routing.reroute {
                "Yes"
            } else {
                "No — mail to outside domains is returned to its sender"
            });
            ui.end_row();
            ui.label("Routing table:");
            let entries = config.routing.table.entries();
            ui.label(if entries.is_empty() {
                "(empty)".to_owned()
            } else {
                entries.iter().map(|e| format!("{} to {}", e.sent_to, e.route_to)).collect::<Vec<_>>().join(", ")
            });
            ui.end_row();
            if let Some(s) = &model.status {
                ui.label("SMTP:");
                ui.label(s.smtp_addr.as_deref().unwrap_or("—"));
                ui.end_row();
            }
        });
        ui.add_space(8.0);
        if ui.add_enabled(model.connected(), egui::Button::new("Properties…")).clicked() {
            action = Some(Action::OpenProperties(Tab::General));
        }
        match (&fix, self.fixing) {
            (Some(fix), true) => {
                if let Some(apply) = fix_dialog(ui.ctx(), fix) {
                    self.fixing = false;
                    if apply {
                        let mut draft = config.to_draft();
                        draft.routing.reroute |= fix.reroute;
                        for d in &fix.inbound {
                            draft.routing.table.push(RouteEntryDraft { sent_to: d.clone(), reroute_to: None });
                        }
                        let save = Command::SaveConfig { draft: Box::new(draft), base_revision: *revision };
                        action = Some(Action::SaveThenRestart(save));
                    }
                }
            }
            (None, true) => self.fixing = false,
            _ => {}
        }
        action
    }

    /// True while the fix's dialog is open.
    pub fn has_dialog(&self) -> bool {
        self.fixing
    }

    /// Opens the fix's dialog (Fix… beside a warning elsewhere).
    pub fn open_fix(&mut self) {
        self.fixing = true;
    }
}

/// The fix's dialog: what will change; `Some(true)` to apply it, `Some(false)` to cancel.
fn fix_dialog(ctx: &egui::Context, fix: &Fix) -> Option<bool> {
    let mut answer = None;
    egui::Modal::new(egui::Id::unique("guided_fix")).show(ctx, |ui| {
        ui.set_max_width(460.0);
        ui.heading("Fix Routing");
        ui.add(egui::Label::new(&fix.problem).wrap());
        ui.add_space(4.0);
        ui.label("These changes will be made:");
        for step in fix.steps() {
            ui.horizontal_top(|ui| {
                ui.label("•");
                ui.add(egui::Label::new(step).wrap());
            });
        }
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            let apply = ui.button("Apply and Restart");
            if ui.memory(|m| m.focused().is_none()) {
                apply.request_focus();
            }
            if apply.clicked() {
                answer = Some(true);
            }
            if ui.button("Cancel").clicked() {
                answer = Some(false);
            }
        });
        if dialog_key(ui) == Some(DialogKey::Cancel) {
            answer = Some(false);
        }
    });
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailbox(address: &str) -> MailboxInfo {
        MailboxInfo {
            id: 1,
            display_name: String::new(),
            addresses: vec![address.into()],
            message_count: 0,
            total_bytes: 0,
            folders: Vec::new(),
            forwarding: None,
            auto_reply: None,
            limits: Default::default(),
            shared: false,
            permissions: Vec::new(),
            collections: Vec::new(),
            hidden: false,
        }
    }

    #[test]
    fn the_fix_ticks_rerouting_and_adds_the_mailboxes_domains() {
        let mut config = Config::default();
        assert_eq!(Fix::needed(&config, &[], &[]), None, "no recipients, nothing to fix");
        let boxes = [mailbox("ann@corp.test"), mailbox("bob@corp.test"), mailbox("cy@other.test")];
        let fix = Fix::needed(&config, &boxes, &[]).expect("rerouting is off");
        assert!(fix.reroute && fix.inbound == ["corp.test", "other.test"], "{fix:?}");
        assert_eq!(fix.steps().len(), 4);
        let mut draft = config.to_draft();
        draft.routing.reroute = true;
        draft.routing.table.push(RouteEntryDraft { sent_to: "corp.test".into(), reroute_to: None });
        config = Config::from_draft(&draft).expect("valid");
        let fix = Fix::needed(&config, &boxes, &[]).expect("other.test is not inbound");
        assert!(!fix.reroute && fix.inbound == ["other.test"] && fix.problem.contains("relayed away"), "{fix:?}");
        draft.routing.table.push(RouteEntryDraft { sent_to: "other.test".into(), reroute_to: None });
        config = Config::from_draft(&draft).expect("valid");
        assert_eq!(Fix::needed(&config, &boxes, &[]), None);
        // Walk defect 8: a custom recipient (or list) outside the inbound domains.
        let fix = Fix::needed(&config, &boxes, &["partner@third.test"]).expect("third.test is not inbound");
        assert_eq!(fix.inbound, ["third.test"]);
        assert!(fix.problem.contains("third.test"), "{fix:?}");
    }
}
