//! Configuration → DNS Records: for each inbound domain, the records to publish with the
//! domain's DNS provider so that other servers deliver to it and trust its mail (MX,
//! SPF, the DKIM keys, DMARC, SRV for mail clients), each with a Copy button and, after
//! *Check DNS*, whether it is published as it should be.

use egui_extras::{Column, TableBuilder};
use mailroom_shared::ipc::{DnsRecord, RecordCheck};

use crate::actions::Action;
use crate::backend::Command;
use crate::model::Model;
use crate::widgets::confirm_ui;

/// The DNS Records view: which domain's key rotation waits for confirmation.
#[derive(Debug, Default)]
pub struct DnsView {
    /// A domain whose DKIM keys the administrator asked to rotate, until confirmed.
    confirm_rotate: Option<String>,
}

/// A check's outcome in words, and whether it is good news.
fn status_words(check: Option<&RecordCheck>) -> (String, Option<bool>) {
    match check {
        None => ("not checked".into(), None),
        Some(RecordCheck::Published) => ("Published".into(), Some(true)),
        Some(RecordCheck::Missing) => ("Missing".into(), Some(false)),
        Some(RecordCheck::Different { found }) => (format!("Different: {}", found.join(" | ")), Some(false)),
        Some(RecordCheck::Failed { error }) => (format!("Lookup failed: {error}"), None),
    }
}

impl DnsView {
    /// The records by domain, Check DNS, Copy, and Rotate DKIM keys.
    pub fn ui(&mut self, ui: &mut egui::Ui, model: &Model) -> Option<Action> {
        ui.heading("DNS Records");
        ui.label(
            "Publish these records with each domain's DNS provider, so that other servers deliver mail for it \
             here and trust the mail it sends.",
        );
        let mut action = None;
        ui.horizontal(|ui| {
            let enabled = model.connected() && !model.dns_busy;
            if ui.add_enabled(enabled, egui::Button::new("Check DNS")).clicked() {
                action = Some(Action::Send(Command::DnsRecords { check: true }));
            }
            if model.dns_busy {
                ui.spinner();
                ui.label("Asking DNS…");
            }
        });
        ui.add_space(6.0);
        let records = match &model.dns_records {
            None => {
                if model.connected() && !model.dns_busy {
                    action = Some(Action::Send(Command::DnsRecords { check: false }));
                }
                ui.spinner();
                return action;
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, format!("The records could not be read: {e}"));
                return action;
            }
            Some(Ok(records)) => records,
        };
        if records.is_empty() {
            ui.label(
                "No inbound domains yet. Add your organisation's domain on the Routing tab of the Internet Mail \
                 Service's properties, as \"inbound\".",
            );
            return action;
        }
        let mut domains: Vec<&str> = records.iter().map(|r| r.domain.as_str()).collect();
        domains.dedup();
        egui::ScrollArea::vertical().show(ui, |ui| {
            for domain in domains {
                let rows: Vec<&DnsRecord> = records.iter().filter(|r| r.domain == domain).collect();
                ui.horizontal(|ui| {
                    ui.strong(domain);
                    if ui.small_button("Rotate DKIM keys…").clicked() {
                        self.confirm_rotate = Some(domain.to_owned());
                    }
                });
                records_table(ui, domain, &rows);
                ui.add_space(10.0);
            }
        });
        if let Some(a) = self.confirm_ui(ui.ctx()) {
            action = Some(a);
        }
        action
    }

    /// The rotation's confirmation: new keys sign at once, so their records must be
    /// published first.
    fn confirm_ui(&mut self, ctx: &egui::Context) -> Option<Action> {
        let domain = self.confirm_rotate.clone()?;
        let text = format!(
            "New keys will be made for {domain} and will sign its mail from now on. Publish their two new DKIM \
             records at once; the old keys stay listed until you retire them."
        );
        let answer = confirm_ui(ctx, "confirm_rotate", "Rotate DKIM Keys", &text, "Rotate")?;
        self.confirm_rotate = None;
        answer.then_some(Action::Send(Command::DkimRotate(domain)))
    }
}

/// One domain's records: status, type, name, the value with its Copy button before it
/// (whole, and reached with the value), what for.
fn records_table(ui: &mut egui::Ui, domain: &str, rows: &[&DnsRecord]) {
    ui.push_id(domain, |ui| {
        TableBuilder::new(ui)
            .striped(true)
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::exact(150.0))
            .column(Column::exact(44.0))
            .column(Column::initial(240.0).resizable(true).clip(true))
            .column(Column::initial(380.0).resizable(true).clip(true))
            .column(Column::remainder().at_least(160.0).clip(true))
            .header(20.0, |mut h| {
                for title in ["Status", "Type", "Name", "Value", "For"] {
                    h.col(|ui| {
                        ui.strong(title);
                    });
                }
            })
            .body(|mut body| {
                for r in rows {
                    body.row(24.0, |mut row| {
                        row.col(|ui| {
                            let (words, good) = status_words(r.check.as_ref());
                            let color = match good {
                                Some(true) => egui::Color32::from_rgb(0, 120, 40),
                                Some(false) => ui.visuals().error_fg_color,
                                None => ui.visuals().weak_text_color(),
                            };
                            ui.colored_label(color, &words).on_hover_text(&words);
                        });
                        row.col(|ui| {
                            ui.label(&r.kind);
                        });
                        row.col(|ui| {
                            ui.label(&r.name).on_hover_text(&r.name);
                        });
                        row.col(|ui| {
                            if ui.button("Copy").on_hover_text("Copy the value").clicked() {
                                ui.ctx().copy_text(r.value.clone());
                            }
                            ui.monospace(&r.value).on_hover_text(&r.value);
                        });
                        row.col(|ui| {
                            ui.label(&r.purpose).on_hover_text(&r.purpose);
                        });
                    });
                }
            });
    });
}
