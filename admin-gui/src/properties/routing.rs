//! The Routing tab — the design's centre — and its two dialogs: Edit Routing Table
//! Entry, and Routing Restrictions (which asks for explicit confirmation before any
//! setting that would let anyone relay).
//!
//! The tab edits the draft it is handed; its selection and open dialogs are its own.

use mailroom_shared::address::{Domain, IpNet};
use mailroom_shared::config::{
    ConfigDraft, ConfigError, RouteEntryDraft, RouteKey, RoutingRestrictions, RoutingRestrictionsDraft,
};

use crate::widgets::{DialogKey, dialog_key, field_errors, problem_line, take_focus};

/// The Routing tab's state.
#[derive(Debug, Default)]
pub struct RoutingTab {
    /// The routing table's selected row.
    selected_entry: Option<usize>,
    /// Edit Routing Table Entry, when open.
    entry_dialog: Option<EntryDialog>,
    /// Routing Restrictions, when open.
    restrictions: Option<RestrictionsDialog>,
}

/// The Edit Routing Table Entry dialog (Add opens it empty).
#[derive(Debug)]
struct EntryDialog {
    /// Entry being edited; `None` for a new one.
    index: Option<usize>,
    sent_to: String,
    inbound: bool,
    reroute_to: String,
    /// Its first field still has to take the focus (the dialog just opened).
    focus: bool,
    /// Problems are shown once something was typed or OK was tried, not before.
    show_problem: bool,
}

impl EntryDialog {
    fn new(index: Option<usize>, sent_to: String, reroute_to: Option<String>) -> EntryDialog {
        EntryDialog {
            index,
            sent_to,
            inbound: reroute_to.is_none(),
            reroute_to: reroute_to.unwrap_or_default(),
            focus: true,
            show_problem: index.is_some(),
        }
    }
}

/// The Routing Restrictions dialog, on a copy of the page.
#[derive(Debug)]
struct RestrictionsDialog {
    draft: RoutingRestrictionsDraft,
    new_client: String,
    new_internal: String,
    new_never: String,
    /// The open-relay warning is showing.
    warning: bool,
    /// The warning's Cancel still has to take the focus (it just opened).
    warning_focus: bool,
}

/// The inbound domains of the table that are a single label (`corp`): valid, but no
/// mail from the Internet can be addressed to them.
fn private_inbound_names(draft: &ConfigDraft) -> Vec<String> {
    draft
        .routing
        .table
        .iter()
        .filter(|e| e.reroute_to.is_none())
        .map(|e| e.sent_to.trim().trim_start_matches('#').trim_end_matches('.').to_owned())
        .filter(|d| !d.is_empty() && !d.contains('.') && mailroom_shared::address::Domain::parse(d).is_ok())
        .collect()
}

impl RoutingTab {
    /// Draws the tab over `draft`.
    pub fn ui(&mut self, ui: &mut egui::Ui, draft: &mut ConfigDraft, errors: &[ConfigError]) {
        let reroute = ui.checkbox(&mut draft.routing.reroute, "Reroute incoming SMTP mail (required for POP3 support)");
        take_focus(ui, &reroute, "routing.reroute");
        ui.add_space(6.0);
        ui.add_enabled_ui(draft.routing.reroute, |ui| {
            ui.label("Routing:");
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.set_min_height(160.0);
                ui.set_width(ui.available_width());
                // A table whose rows are selected whole (a click anywhere on one), and
                // opened for editing by a double-click, as a Windows list view.
                let mut open = None;
                egui_extras::TableBuilder::new(ui)
                    .id_salt("routing_table")
                    .striped(true)
                    // Clicks, but no Tab stop per row (Tab goes on to Add…).
                    .sense(egui::Sense::CLICK)
                    .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
                    .column(egui_extras::Column::initial(240.0))
                    .column(egui_extras::Column::remainder())
                    .min_scrolled_height(140.0)
                    .header(20.0, |mut h| {
                        h.col(|ui| {
                            ui.strong("Sent To");
                        });
                        h.col(|ui| {
                            ui.strong("Route To");
                        });
                    })
                    .body(|body| {
                        body.rows(20.0, draft.routing.table.len(), |mut row| {
                            let i = row.index();
                            let e = &draft.routing.table[i];
                            row.set_selected(self.selected_entry == Some(i));
                            row.col(|ui| crate::widgets::cell(ui, e.sent_to.as_str()));
                            row.col(|ui| crate::widgets::cell(ui, e.reroute_to.as_deref().unwrap_or("<inbound>")));
                            let r = row.response();
                            if r.clicked() {
                                self.selected_entry = Some(i);
                            }
                            if r.double_clicked() {
                                self.selected_entry = Some(i);
                                open = Some(i);
                            }
                        });
                    });
                if let Some(i) = open {
                    let e = &draft.routing.table[i];
                    self.entry_dialog = Some(EntryDialog::new(Some(i), e.sent_to.clone(), e.reroute_to.clone()));
                }
            });
            field_errors(ui, errors, "routing.table");
            for name in private_inbound_names(draft) {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!(
                        "'{name}' is not a public name: mail from the Internet cannot reach it (only your own \
                         network can). Use the domain people write after @, such as {name}.example.com."
                    ),
                );
            }
            ui.horizontal(|ui| {
                if ui.button("Add…").clicked() {
                    self.entry_dialog = Some(EntryDialog::new(None, String::new(), None));
                }
                let selected = self.selected_entry.filter(|i| *i < draft.routing.table.len());
                if ui.add_enabled(selected.is_some(), egui::Button::new("Edit…")).clicked()
                    && let Some(i) = selected
                {
                    let e = &draft.routing.table[i];
                    self.entry_dialog = Some(EntryDialog::new(Some(i), e.sent_to.clone(), e.reroute_to.clone()));
                }
                if ui.add_enabled(selected.is_some(), egui::Button::new("Remove")).clicked()
                    && let Some(i) = selected
                {
                    draft.routing.table.remove(i);
                    self.selected_entry = None;
                }
            });
        });
        ui.add_space(6.0);
        if ui.button("Routing Restrictions…").clicked() {
            self.restrictions = Some(RestrictionsDialog {
                draft: draft.routing_restrictions.clone(),
                new_client: String::new(),
                new_internal: String::new(),
                new_never: String::new(),
                warning: false,
                warning_focus: false,
            });
        }
        field_errors(ui, errors, "routing_restrictions");
    }

    /// True while one of its dialogs is open (it then takes the keyboard).
    pub fn has_dialog(&self) -> bool {
        self.entry_dialog.is_some() || self.restrictions.is_some()
    }

    /// Shows whichever dialog is open; OK puts its result in `draft`.
    pub fn dialogs_ui(&mut self, ctx: &egui::Context, draft: &mut ConfigDraft) {
        self.entry_dialog_ui(ctx, draft);
        self.restrictions_dialog_ui(ctx, draft);
    }

    fn entry_dialog_ui(&mut self, ctx: &egui::Context, draft: &mut ConfigDraft) {
        let Some(d) = &mut self.entry_dialog else { return };
        let problem = entry_problem(d, &draft.routing.table);
        let mut result: Option<bool> = None;
        egui::Modal::new(egui::Id::unique("edit_routing_entry")).show(ctx, |ui| {
            ui.set_width(420.0);
            ui.heading("Edit Routing Table Entry");
            ui.add_space(8.0);
            let l = ui.label("E-mail sent to this domain:");
            let field =
                ui.add(egui::TextEdit::singleline(&mut d.sent_to).desired_width(f32::INFINITY)).labelled_by(l.id);
            if std::mem::take(&mut d.focus) {
                field.request_focus();
            }
            ui.add_space(6.0);
            ui.radio_value(&mut d.inbound, true, "Should be accepted as \"inbound\"");
            let reroute = ui.radio_value(&mut d.inbound, false, "Should be rerouted to this domain:");
            let mut changed = field.changed();
            ui.indent("reroute_to", |ui| {
                changed |= ui
                    .add_enabled(!d.inbound, egui::TextEdit::singleline(&mut d.reroute_to).desired_width(f32::INFINITY))
                    .labelled_by(reroute.id)
                    .changed();
            });
            d.show_problem |= changed;
            problem_line(ui, problem.as_deref(), d.show_problem);
            ui.add_space(4.0);
            ui.horizontal(|ui| {
                if ui.add_enabled(problem.is_none() || !d.show_problem, egui::Button::new("OK")).clicked() {
                    result = Some(true);
                }
                if ui.button("Cancel").clicked() {
                    result = Some(false);
                }
            });
            match dialog_key(ui) {
                Some(DialogKey::Default) => result = Some(true),
                Some(DialogKey::Cancel) => result = Some(false),
                None => {}
            }
        });
        // OK with a problem shows it instead of closing.
        if result == Some(true) && problem.is_some() {
            d.show_problem = true;
            result = None;
        }
        match result {
            Some(true) => {
                let entry = RouteEntryDraft {
                    sent_to: d.sent_to.trim().to_owned(),
                    reroute_to: (!d.inbound).then(|| d.reroute_to.trim().to_owned()),
                };
                match d.index {
                    Some(i) if i < draft.routing.table.len() => draft.routing.table[i] = entry,
                    _ => draft.routing.table.push(entry),
                }
                self.entry_dialog = None;
            }
            Some(false) => self.entry_dialog = None,
            None => {}
        }
    }

    fn restrictions_dialog_ui(&mut self, ctx: &egui::Context, draft: &mut ConfigDraft) {
        let Some(d) = &mut self.restrictions else { return };
        let mut result: Option<bool> = None;
        egui::Modal::new(egui::Id::unique("routing_restrictions")).show(ctx, |ui| {
            ui.set_width(520.0);
            ui.heading("Routing Restrictions");
            ui.label("Hosts and clients that can route mail (any ticked condition is enough):");
            let r = &mut d.draft;
            ui.checkbox(&mut r.allow_authenticated, "Hosts and clients that successfully authenticate");
            ui.checkbox(&mut r.allow_listed_clients, "Hosts and clients with these IP addresses:");
            network_list(
                ui,
                "clients",
                "Client network:",
                &mut r.client_networks,
                &mut d.new_client,
                r.allow_listed_clients,
            );
            ui.checkbox(&mut r.allow_internal_addresses, "Hosts and clients connecting to these internal addresses:");
            network_list(
                ui,
                "internal",
                "Internal address:",
                &mut r.internal_networks,
                &mut d.new_internal,
                r.allow_internal_addresses,
            );
            ui.label("Hosts and clients that can NEVER route mail:");
            network_list(ui, "never", "Refused network:", &mut r.never_networks, &mut d.new_never, true);
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                if ui.button("OK").clicked() {
                    result = Some(true);
                }
                if ui.button("Cancel").clicked() {
                    result = Some(false);
                }
            });
            // The warning, when shown, takes the keys.
            if !d.warning {
                match dialog_key(ui) {
                    Some(DialogKey::Default) => result = Some(true),
                    Some(DialogKey::Cancel) => result = Some(false),
                    None => {}
                }
            }
        });
        if d.warning {
            let mut answer: Option<bool> = None;
            egui::Modal::new(egui::Id::unique("open_relay_warning")).show(ctx, |ui| {
                ui.set_width(440.0);
                ui.heading("Warning: open relay");
                ui.label(
                    "With these settings anyone on the Internet can send mail through this server to anywhere. \
                 Spammers find open relays within hours, and the server's address will be blacklisted.",
                );
                ui.label("Allow relaying for anyone?");
                ui.horizontal(|ui| {
                    // The safe answer comes first, has the focus and is what Enter means.
                    let cancel = ui.button("Cancel");
                    if std::mem::take(&mut d.warning_focus) {
                        cancel.request_focus();
                    }
                    if cancel.clicked() {
                        answer = Some(false);
                    }
                    if ui.button("Allow open relay").clicked() {
                        answer = Some(true);
                    }
                });
                if dialog_key(ui).is_some() {
                    answer = Some(false);
                }
            });
            match answer {
                Some(true) => {
                    d.draft.open_relay_confirmed = true;
                    draft.routing_restrictions = d.draft.clone();
                    self.restrictions = None;
                }
                Some(false) => d.warning = false,
                None => {}
            }
            return;
        }
        match result {
            Some(true) => {
                if RoutingRestrictions::draft_is_open_relay(&d.draft) && !d.draft.open_relay_confirmed {
                    d.warning = true;
                    d.warning_focus = true;
                } else {
                    if !RoutingRestrictions::draft_is_open_relay(&d.draft) {
                        d.draft.open_relay_confirmed = false;
                    }
                    draft.routing_restrictions = d.draft.clone();
                    self.restrictions = None;
                }
            }
            Some(false) => self.restrictions = None,
            None => {}
        }
    }
}

/// The problem with the dialog's input, if any, as a sentence.
fn entry_problem(d: &EntryDialog, table: &[RouteEntryDraft]) -> Option<String> {
    let key = match RouteKey::parse(&d.sent_to) {
        Ok(k) => k,
        Err(_) if d.sent_to.trim().is_empty() => return Some("Type the domain this entry is for.".into()),
        Err(e) => return Some(format!("'{}' {e}.", d.sent_to.trim())),
    };
    let duplicate = table
        .iter()
        .enumerate()
        .any(|(i, e)| Some(i) != d.index && RouteKey::parse(&e.sent_to).is_ok_and(|k| k == key));
    if duplicate {
        return Some(format!("The table already has an entry for {key}."));
    }
    if !d.inbound {
        match Domain::parse(&d.reroute_to) {
            Err(_) if d.reroute_to.trim().is_empty() => return Some("Type the domain to reroute to.".into()),
            Err(e) => return Some(format!("The domain to reroute to, '{}', {e}.", d.reroute_to.trim())),
            Ok(to) if to == *key.domain() => return Some("A domain cannot be rerouted to itself.".into()),
            Ok(_) => {}
        }
    }
    None
}

fn network_list(ui: &mut egui::Ui, id: &str, label: &str, list: &mut Vec<String>, new: &mut String, enabled: bool) {
    ui.add_enabled_ui(enabled, |ui| {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(ui.available_width());
            let mut remove = None;
            for (i, n) in list.iter().enumerate() {
                ui.horizontal(|ui| {
                    ui.label(n);
                    if ui.small_button("Remove").on_hover_text(format!("Remove {n} from the list")).clicked() {
                        remove = Some(i);
                    }
                });
            }
            if let Some(i) = remove {
                list.remove(i);
            }
            ui.horizontal(|ui| {
                let l = ui.label(label);
                ui.add(
                    egui::TextEdit::singleline(new)
                        .id_salt(id)
                        .hint_text("192.168.1.0/255.255.255.0")
                        .desired_width(200.0),
                )
                .labelled_by(l.id);
                let valid = IpNet::parse(new).is_ok();
                let add = ui.add_enabled(valid, egui::Button::new("Add")).on_hover_text("Add it to the list above");
                if add.clicked() {
                    list.push(std::mem::take(new).trim().to_owned());
                }
                if !new.trim().is_empty()
                    && let Err(e) = IpNet::parse(new)
                {
                    ui.colored_label(ui.visuals().error_fg_color, e.to_string());
                }
            });
        });
    });
}

#[cfg(test)]
mod private_name_tests {
    use super::*;

    /// Walk defect 19: a bare `corp` was accepted as an inbound domain without a word.
    #[test]
    fn a_single_label_inbound_domain_is_named_for_its_warning() {
        let mut draft = ConfigDraft::default();
        for (sent_to, reroute_to) in [("corp", None), ("#lan.", None), ("corp.com", None), ("other", Some("corp.com"))]
        {
            draft.routing.table.push(mailroom_shared::config::RouteEntryDraft {
                sent_to: sent_to.to_owned(),
                reroute_to: reroute_to.map(str::to_owned),
            });
        }
        assert_eq!(private_inbound_names(&draft), ["corp", "lan"]);
    }
}
