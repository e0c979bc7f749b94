//! The Message Filtering tab: the defences at the door of port 25 (DNS lists, the
//! early-talker wait, reverse DNS), greylisting, the content filter (rspamd, with a
//! Test button), how long the quarantine keeps what it holds, and the sending limits
//! on authenticated accounts.
//!
//! Every group starts with its checkbox, and its settings are greyed out while it is
//! off, so the page reads as a list of defences and what each one is set to.

use mailroom_shared::config::{ConfigDraft, ConfigError, DnsListAnswerDraft, DnsListDraft, SpamHandling};

use crate::actions::Action;
use crate::backend::Command;
use crate::model::Model;
use crate::widgets::{combo, field_errors, number_row, optional_number_row, text_row};

/// The width of the label column of every group's grid, so that the fields of the
/// whole page line up.
/// A grid of the page's, its label column as wide as every tab's.
fn grid(id: &str) -> egui::Grid {
    crate::widgets::form_grid(id)
}

/// The tab's state: each DNS list's answers as typed, one `127.0.0.x meaning` per
/// line (a half-typed line must survive the frames in between).
#[derive(Debug, Default)]
pub struct FilteringTab {
    answers_text: Vec<String>,
    /// The Junk-folder domains as typed, comma-separated.
    junk_text: Option<String>,
}

/// A list's answers as the text the tab edits.
fn answers_to_text(answers: &[DnsListAnswerDraft]) -> String {
    let lines: Vec<String> = answers.iter().map(|a| format!("{} {}", a.answer, a.meaning)).collect();
    lines.join("\n")
}

/// The text back to answers: the first word of each non-empty line is the answer,
/// the rest its meaning. What is not an answer is left for validation to name.
fn text_to_answers(text: &str) -> Vec<DnsListAnswerDraft> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (answer, meaning) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
            DnsListAnswerDraft { answer: answer.to_owned(), meaning: meaning.trim().to_owned() }
        })
        .collect()
}

impl FilteringTab {
    /// The domains whose spam goes to the users' Junk folders instead of the quarantine.
    fn junk_ui(&mut self, ui: &mut egui::Ui, d: &mut ConfigDraft, errors: &[ConfigError]) {
        let text = self.junk_text.get_or_insert_with(|| d.filtering.junk_domains.join(", "));
        grid("junk").show(ui, |ui| {
            let l = ui.label("Junk folder instead, for these domains:");
            ui.vertical(|ui| {
                let edit =
                    egui::TextEdit::singleline(text).desired_width(280.0).hint_text("corp.test, sales.corp.test");
                if ui.add(edit).labelled_by(l.id).changed() {
                    d.filtering.junk_domains =
                        text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
                }
                ui.weak(
                    "Their users find spam in their Junk folder (over IMAP) rather than waiting for you to release it.",
                );
                field_errors(ui, errors, "filtering.junk_domains");
            });
            ui.end_row();
        });
    }

    /// Draws the tab over `d`; the Test button asks for an [`Action`].
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        d: &mut ConfigDraft,
        errors: &[ConfigError],
        model: &Model,
    ) -> Option<Action> {
        if self.answers_text.len() != d.filtering.dns_lists.len() {
            self.answers_text = d.filtering.dns_lists.iter().map(|l| answers_to_text(&l.answers)).collect();
        }
        ui.label(
            "These defences apply to mail from outside on port 25: never to authenticated users, to the \
             networks allowed to relay, or to this machine.",
        );
        ui.add_space(8.0);
        self.connection_ui(ui, d, errors);
        ui.add_space(10.0);
        greylisting_ui(ui, d, errors);
        ui.add_space(10.0);
        let action = content_filter_ui(ui, d, errors, model);
        self.junk_ui(ui, d, errors);
        ui.add_space(10.0);
        sending_limits_ui(ui, d, errors);
        action
    }

    /// DNS lists, the greeting delay, reverse DNS.
    fn connection_ui(&mut self, ui: &mut egui::Ui, d: &mut ConfigDraft, errors: &[ConfigError]) {
        let f = &mut d.filtering;
        ui.strong("Connection defences");
        ui.separator();
        ui.checkbox(&mut f.dns_lists_enabled, "Refuse clients listed on these DNS blocklists");
        let mut remove = None;
        ui.add_enabled_ui(f.dns_lists_enabled, |ui| {
            ui.indent("dns_lists", |ui| {
                egui::Grid::new("dns_lists").num_columns(3).striped(true).spacing([12.0, 6.0]).show(ui, |ui| {
                    let zone_header = ui.strong("Zone");
                    let kind_header = ui.strong("Kind");
                    ui.strong("");
                    ui.end_row();
                    for (i, list) in f.dns_lists.iter_mut().enumerate() {
                        // Straight in the cell: a field in a nested layout would take
                        // the column's width from the header.
                        ui.add(egui::TextEdit::singleline(&mut list.zone).min_size(egui::vec2(220.0, 0.0)))
                            .labelled_by(zone_header.id);
                        egui::ComboBox::from_id_salt(("dns_list_kind", i))
                            .selected_text(if list.allow { "Allowlist" } else { "Blocklist" })
                            .show_ui(ui, |ui| {
                                ui.selectable_value(&mut list.allow, false, "Blocklist");
                                ui.selectable_value(&mut list.allow, true, "Allowlist");
                            })
                            .response
                            .labelled_by(kind_header.id);
                        let zone = if list.zone.is_empty() { "the new list" } else { list.zone.as_str() };
                        if ui.button(format!("Remove {zone}")).clicked() {
                            remove = Some(i);
                        }
                        ui.end_row();
                    }
                });
                for i in 0..f.dns_lists.len() {
                    field_errors(ui, errors, &format!("filtering.dns_lists[{i}].zone"));
                }
                if ui.button("Add DNS List").clicked() {
                    f.dns_lists.push(DnsListDraft::default());
                    self.answers_text.push(String::new());
                }
                ui.weak(
                    "A client on a blocklist is refused with the list's words; one on an allowlist skips the \
                     blocklists and greylisting.",
                );
                for (i, list) in f.dns_lists.iter_mut().enumerate() {
                    let Some(text) = self.answers_text.get_mut(i) else { continue };
                    let title =
                        format!("What {} answers mean", if list.zone.is_empty() { "the new list" } else { &list.zone });
                    egui::CollapsingHeader::new(title).id_salt(("answers", i)).show(ui, |ui| {
                        let l = ui
                            .weak("One answer per line: the address, then what it means (127.0.0.4 an infected host).");
                        let edit = egui::TextEdit::multiline(text).desired_rows(3).desired_width(520.0).code_editor();
                        if ui.add(edit).labelled_by(l.id).changed() {
                            list.answers = text_to_answers(text);
                        }
                        field_errors(ui, errors, &format!("filtering.dns_lists[{i}].answers"));
                    });
                }
            });
        });
        if let Some(i) = remove {
            f.dns_lists.remove(i);
            self.answers_text.remove(i);
        }
        grid("connection_defences").show(ui, |ui| {
            number_row(
                ui,
                "Wait before the greeting:",
                &mut f.greet_delay_secs,
                "seconds (0: off); clients that talk first are refused",
                errors,
                "filtering.greet_delay_secs",
            );
        });
        ui.checkbox(
            &mut f.reverse_dns,
            "Check the client's reverse DNS name (recorded in Authentication-Results, never a refusal on its own)",
        );
    }
}

/// Greylisting and its three durations.
fn greylisting_ui(ui: &mut egui::Ui, d: &mut ConfigDraft, errors: &[ConfigError]) {
    let f = &mut d.filtering;
    ui.strong("Greylisting");
    ui.separator();
    ui.checkbox(
        &mut f.greylisting,
        "Ask unknown senders to try again later (real mail servers do; most spam does not)",
    );
    ui.add_enabled_ui(f.greylisting, |ui| {
        grid("greylisting").show(ui, |ui| {
            number_row(
                ui,
                "Accept the retry after:",
                &mut f.greylist_delay_secs,
                "seconds",
                errors,
                "filtering.greylist_delay_secs",
            );
            // Hours of seconds read badly: the window is edited in minutes.
            let l = ui.label("Forget a first attempt after:");
            ui.vertical(|ui| {
                ui.horizontal(|ui| {
                    let mut minutes = f.greylist_retry_window_secs / 60;
                    if ui.add(egui::DragValue::new(&mut minutes).range(1..=2880)).labelled_by(l.id).changed() {
                        f.greylist_retry_window_secs = minutes * 60;
                    }
                    ui.label("minutes without a retry");
                });
                field_errors(ui, errors, "filtering.greylist_retry_window_secs");
            });
            ui.end_row();
            number_row(
                ui,
                "Let a network that passed through for:",
                &mut f.greylist_pass_days,
                "days",
                errors,
                "filtering.greylist_pass_days",
            );
        });
    });
}

/// rspamd: the switch, its address with Test, the timeout, what its actions do, the
/// quarantine score and tag; then the Quarantine group: how long it keeps messages.
fn content_filter_ui(ui: &mut egui::Ui, d: &mut ConfigDraft, errors: &[ConfigError], model: &Model) -> Option<Action> {
    let f = &mut d.filtering;
    let mut action = None;
    ui.strong("Content filter");
    ui.separator();
    ui.checkbox(&mut f.rspamd_enabled, "Scan mail from outside with rspamd before accepting it");
    ui.add_enabled_ui(f.rspamd_enabled, |ui| {
        grid("content_filter").show(ui, |ui| {
            let l = ui.label("rspamd's address:");
            ui.vertical(|ui| {
                ui.horizontal(|ui| {
                    ui.add(egui::TextEdit::singleline(&mut f.rspamd_url).desired_width(220.0)).labelled_by(l.id);
                    if ui.add_enabled(!model.filter_testing, egui::Button::new("Test")).clicked() {
                        action = Some(Action::Send(Command::TestFilter(Some(f.rspamd_url.trim().to_owned()))));
                    }
                    if model.filter_testing {
                        ui.spinner();
                    }
                });
                match &model.filter_test {
                    Some(Ok(m)) => {
                        ui.label(m);
                    }
                    Some(Err(e)) => {
                        ui.colored_label(ui.visuals().error_fg_color, e);
                        ui.weak("Check that rspamd is running and that its normal worker listens there (port 11333 by default).");
                    }
                    None => {}
                }
                field_errors(ui, errors, "filtering.rspamd_url");
            });
            ui.end_row();
            number_row(
                ui,
                "Accept unscanned after:",
                &mut f.rspamd_timeout_secs,
                "seconds without an answer",
                errors,
                "filtering.rspamd_timeout_secs",
            );
            let choices: Vec<(SpamHandling, &str)> = SpamHandling::ALL.iter().map(|h| (*h, h.label())).collect();
            combo(ui, "When rspamd says \"add header\":", &mut f.on_add_header, &choices);
            combo(ui, "When rspamd says \"rewrite subject\":", &mut f.on_rewrite_subject, &choices);
            optional_number_row(
                ui,
                "Hold in the quarantine:",
                &mut f.quarantine_score,
                ("only as above", "anything scoring at least", 15),
                None,
                errors,
                "filtering.quarantine_score",
            );
            text_row(ui, "Subject tag for spam:", &mut f.spam_tag, errors, "filtering.spam_tag");
        });
        ui.weak("rspamd's \"reject\" is refused with 550; \"soft reject\" and its greylisting ask the sender to retry.");
    });
    ui.add_space(10.0);
    ui.strong("Quarantine");
    ui.separator();
    ui.label("Held here: what the choices above send to the quarantine, and mail whose DMARC policy says quarantine (Security tab).");
    grid("quarantine_keep").show(ui, |ui| {
        number_row(
            ui,
            "Keep quarantined messages for:",
            &mut f.quarantine_keep_days,
            "days, then delete them",
            errors,
            "filtering.quarantine_keep_days",
        );
    });
    action
}

/// The sending limits on authenticated accounts.
fn sending_limits_ui(ui: &mut egui::Ui, d: &mut ConfigDraft, errors: &[ConfigError]) {
    let f = &mut d.filtering;
    ui.strong("Sending limits");
    ui.separator();
    ui.checkbox(&mut f.sending_limits, "Limit how many outside recipients each account may send to");
    ui.add_enabled_ui(f.sending_limits, |ui| {
        grid("sending_limits").show(ui, |ui| {
            number_row(
                ui,
                "In any hour:",
                &mut f.max_recipients_per_hour,
                "recipients",
                errors,
                "filtering.max_recipients_per_hour",
            );
            number_row(
                ui,
                "In any day:",
                &mut f.max_recipients_per_day,
                "recipients",
                errors,
                "filtering.max_recipients_per_day",
            );
        });
        ui.weak(
            "An account that goes over a limit is held (its password may be stolen) until you unlock it under \
             Server, Service Status.",
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_round_trip_through_the_text_and_bad_lines_stay_for_validation() {
        let answers = vec![
            DnsListAnswerDraft { answer: "127.0.0.2".into(), meaning: "a spam source".into() },
            DnsListAnswerDraft { answer: "127.0.0.4".into(), meaning: "an infected host".into() },
        ];
        assert_eq!(text_to_answers(&answers_to_text(&answers)), answers);
        let typed = text_to_answers("  127.0.0.9   hijacked  \n\nnonsense\n");
        assert_eq!(typed[0], DnsListAnswerDraft { answer: "127.0.0.9".into(), meaning: "hijacked".into() });
        assert_eq!(typed[1], DnsListAnswerDraft { answer: "nonsense".into(), meaning: String::new() });
    }
}
