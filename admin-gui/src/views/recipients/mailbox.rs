//! The mailbox dialogs: New Mailbox, New Shared Mailbox and Mailbox Properties
//! (General, Delivery Options with "Give Send On Behalf Of permission to", Limits,
//! Automatic Replies, Permissions), one form for all three.

use super::super::permissions::Permissions;
use mailroom_shared::ipc::{
    AutoReply, CollectionUsage, FolderUsage, Forwarding, MailboxInfo, PermissionInfo, StorageLimits,
};
use mailroom_shared::rights::Rights;

use mailroom_shared::password::weakness;

use crate::backend::DialogError;
use crate::widgets::{count_of, dialog_foot, form_row};

/// The mailbox form, shared by New Mailbox and Mailbox Properties.
#[derive(Debug, Default)]
pub(super) struct MailboxForm {
    pub(super) name: String,
    pub(super) addresses: String,
    pub(super) password: String,
    pub(super) confirm: String,
    /// Properties only: the tab shown.
    pub(super) tab: MailboxTab,
    /// Delivery Options: forward, to where, keeping a copy.
    pub(super) forward: bool,
    pub(super) forward_to: String,
    pub(super) forward_keep: bool,
    /// Limits: each `None` follows the organisation's.
    pub(super) limits: StorageLimits,
    /// Automatic Replies.
    pub(super) reply_on: bool,
    pub(super) reply_subject: String,
    pub(super) reply_text: String,
    pub(super) reply_days: u64,
    /// Catch-all, per domain of the mailbox's addresses: (domain, the mailbox that has
    /// it now, ticked for this one).
    pub(super) catch_all: Vec<(String, Option<String>, bool)>,
    /// Not before / not after, `YYYY-MM-DD` (empty: no bound).
    pub(super) reply_from: String,
    pub(super) reply_until: String,
    /// What the mailbox had when the dialog opened, to send only what changed.
    pub(super) before: Option<(Option<Forwarding>, Option<AutoReply>, StorageLimits)>,
    /// The first field has taken the focus (done once, when the dialog opens).
    pub(super) focused: bool,
    /// Problems are shown once something was typed or OK was tried, not before.
    pub(super) show_problem: bool,
    /// What was sent to the service, and its refusal, if any.
    pub(super) pending: super::Pending,
    /// A shared mailbox: no password (New Shared Mailbox, or one's Properties).
    pub(super) shared: bool,
    /// Permissions on the whole mailbox, as edited (Send On Behalf Of among them).
    pub(super) permissions: Permissions,
    /// Rights given on single folders (set from mail programs), shown.
    pub(super) folder_permissions: Vec<PermissionInfo>,
    /// Hidden from the address book, as edited and as it was.
    pub(super) hidden: bool,
    pub(super) hidden_before: bool,
}

/// A refusal's sentence beside the field it is about, as a row of the form's grid.
fn refusal_row(ui: &mut egui::Ui, refused: Option<&DialogError>, about: &[&str]) {
    if let Some(r) = refused.filter(|r| r.field.as_deref().is_some_and(|f| about.iter().any(|a| f.contains(a)))) {
        ui.label("");
        // Wrapped within the field's width, so that a long reason does not widen the
        // dialog.
        let text = egui::RichText::new(crate::widgets::sentence(&r.message)).color(ui.visuals().error_fg_color);
        ui.scope(|ui| {
            ui.set_max_width(300.0);
            ui.add(egui::Label::new(text).wrap());
        });
        ui.end_row();
    }
}

/// Mailbox Properties' tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum MailboxTab {
    #[default]
    General,
    DeliveryOptions,
    Limits,
    AutomaticReplies,
    Permissions,
}

impl MailboxForm {
    /// The form for an existing mailbox, with the domains' catch-alls, and whom rights
    /// may be given to.
    pub(super) fn of(
        m: &MailboxInfo,
        catch_all: &[(String, String)],
        ours: impl Fn(&str) -> bool,
        candidates: Vec<crate::views::address_book::Entry>,
    ) -> MailboxForm {
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
            shared: m.shared,
            permissions: Permissions::new(whole_mailbox(&m.permissions), candidates),
            folder_permissions: m
                .permissions
                .iter()
                .filter(|p| p.folder.is_some() || p.collection.is_some())
                .cloned()
                .collect(),
            hidden: m.hidden,
            hidden_before: m.hidden,
            ..MailboxForm::default()
        }
    }

    /// A new shared mailbox's form.
    pub(super) fn new_shared() -> MailboxForm {
        MailboxForm { shared: true, ..MailboxForm::default() }
    }

    pub(super) fn forwarding(&self) -> Option<Forwarding> {
        self.forward.then(|| Forwarding { to: self.forward_to.trim().to_owned(), keep: self.forward_keep })
    }

    pub(super) fn auto_reply(&self) -> Option<AutoReply> {
        self.reply_on.then(|| AutoReply {
            subject: self.reply_subject.trim().to_owned(),
            body: self.reply_text.clone(),
            start: parse_day(&self.reply_from, false).ok().flatten(),
            end: parse_day(&self.reply_until, true).ok().flatten(),
            days: u32::try_from(self.reply_days).unwrap_or(7),
        })
    }

    /// The help page of the tab in front.
    pub(super) fn help_topic(&self) -> crate::help::Topic {
        use crate::help::Topic;
        match self.tab {
            MailboxTab::General => Topic::MailboxGeneral,
            MailboxTab::DeliveryOptions => Topic::MailboxDelivery,
            MailboxTab::Limits => Topic::MailboxLimits,
            MailboxTab::AutomaticReplies => Topic::MailboxReplies,
            MailboxTab::Permissions => Topic::MailboxPermissions,
        }
    }

    /// What is wrong with the Delivery Options, Limits or Automatic Replies tab.
    pub(super) fn options_problem(&self) -> Option<String> {
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
    pub(super) fn address_list(&self) -> Vec<String> {
        self.addresses.split([',', ' ', ';']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
    }

    /// What is wrong with the form, if anything; a new mailbox needs a password.
    pub(super) fn problem(&self, password_required: bool) -> Option<String> {
        let addresses = self.address_list();
        let bad = addresses
            .iter()
            .find_map(|a| mailroom_shared::address::EmailAddress::parse(a).err().map(|e| format!("'{a}' {e}")));
        if addresses.is_empty() {
            Some("Type at least one e-mail address.".to_owned())
        } else if bad.is_some() {
            bad.map(|b| b + ".")
        } else if self.shared {
            None
        } else if password_required && self.password.is_empty() {
            Some("Type a password.".to_owned())
        } else if let Some(weak) = Some(&self.password).filter(|p| !p.is_empty()).and_then(|p| weakness(p)) {
            Some(weak)
        } else if self.password != self.confirm {
            Some("The two passwords are not the same.".to_owned())
        } else {
            None
        }
    }
}

/// The grants on the whole mailbox, by grantee.
/// A calendar or address book as a grant names it (`calendars/NAME`), in words.
fn collection_words(path: &str) -> String {
    match path.split_once('/') {
        Some(("calendars", name)) => format!("calendar {name}"),
        Some(("addressbooks", name)) => format!("address book {name}"),
        _ => path.to_owned(),
    }
}

fn whole_mailbox(permissions: &[PermissionInfo]) -> Vec<(String, Rights)> {
    let mut out: Vec<(String, Rights)> = permissions
        .iter()
        .filter(|p| p.folder.is_none() && p.collection.is_none())
        .map(|p| (p.grantee.clone(), p.rights))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// A day in local time, `YYYY-MM-DD`, from Unix seconds.
pub(super) fn day_of(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .map(|ts| ts.to_zoned_datetime(jiff::tz::TimeZone::system()).strftime("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// `YYYY-MM-DD` as the start (or, with `end`, the last second) of that local day;
/// `Ok(None)` for an empty field.
pub(super) fn parse_day(text: &str, end: bool) -> Result<Option<i64>, ()> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let date: jiff::civil::Date = text.parse().map_err(|_| ())?;
    let at = if end { date.at(23, 59, 59, 0) } else { date.at(0, 0, 0, 0) };
    jiff::tz::TimeZone::system().to_timestamp(at).map(|t| Some(t.as_second())).map_err(|_| ())
}

/// The mailbox form as a modal: `Some(true)` when confirmed, `Some(false)` when
/// cancelled, `None` while open.
pub(super) fn mailbox_form_ui(
    ctx: &egui::Context,
    id: &str,
    title: &str,
    d: &mut MailboxForm,
    new: bool,
    (folders, collections): (&[FolderUsage], &[CollectionUsage]),
) -> Option<bool> {
    let problem = d.problem(new).or_else(|| d.options_problem());
    let shared = d.shared;
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
                ui.selectable_value(&mut d.tab, MailboxTab::Permissions, "Permissions");
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
                    refusal_row(ui, d.pending.refused.as_ref(), &["display_name", "name"]);
                    changed |=
                        form_row(ui, "E-mail addresses:", &mut d.addresses, "ann@corp.test, sales@corp.test").changed();
                    refusal_row(ui, d.pending.refused.as_ref(), &["address"]);
                    if !shared {
                        let l = ui.label(password);
                        changed |= ui
                            .add(egui::TextEdit::singleline(&mut d.password).password(true))
                            .labelled_by(l.id)
                            .changed();
                        ui.end_row();
                        refusal_row(ui, d.pending.refused.as_ref(), &["password"]);
                        let l = ui.label(confirm);
                        changed |= ui
                            .add(egui::TextEdit::singleline(&mut d.confirm).password(true))
                            .labelled_by(l.id)
                            .changed();
                        ui.end_row();
                    }
                });
                if !new {
                    changed |= ui
                        .checkbox(&mut d.hidden, "Hide from address book")
                        .on_hover_text(
                            "Not in the Global Address List calendar and contacts programs show; mail still reaches it.",
                        )
                        .changed();
                }
                if shared {
                    ui.weak("A shared mailbox has no password: nobody logs in as it. Give people permissions on it (Permissions tab) and it appears in their mail program under Other Users.");
                }
                if !folders.is_empty() {
                    ui.add_space(6.0);
                    ui.strong("Folders, calendars and contacts");
                    egui::Grid::new((id, "folders")).num_columns(3).striped(true).spacing([16.0, 4.0]).show(ui, |ui| {
                        let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
                        for f in folders {
                            ui.label(&f.name);
                            ui.label(count_of(count(f.messages), "message", "messages"));
                            ui.label(format!("{} KB", f.bytes.div_ceil(1024)));
                            ui.end_row();
                        }
                        // What the person keeps in calendar and contacts programs
                        // (CalDAV, CardDAV).
                        for c in collections {
                            let (kind, one, many) =
                                if c.calendar { ("calendar", "item", "items") } else { ("address book", "card", "cards") };
                            ui.label(format!("{} ({kind})", c.display_name));
                            ui.label(count_of(count(c.objects), one, many));
                            ui.label(format!("{} KB", c.bytes.div_ceil(1024)));
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
                ui.add_space(8.0);
                changed |= d.permissions.on_behalf_ui(ui, id);
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
            MailboxTab::Permissions => {
                changed |= d.permissions.ui(ui, id, "this mailbox", true);
                if !d.folder_permissions.is_empty() {
                    ui.add_space(6.0);
                    ui.strong("Set on single folders, calendars and address books");
                    for p in &d.folder_permissions {
                        let on = match (&p.folder, &p.collection) {
                            (Some(folder), _) => folder.clone(),
                            (None, Some(c)) => collection_words(c),
                            (None, None) => String::new(),
                        };
                        ui.label(format!("{} on {on}: {}", p.grantee, super::super::permissions::words(p.rights)));
                    }
                }
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
        if changed {
            d.pending.refused = None;
        }
        if !new {
            ui.add_space((380.0 - (ui.cursor().top() - top)).max(0.0));
        }
        // A refusal about no field of General (or seen from another tab) is said here.
        let beside = d.tab == MailboxTab::General
            && d.pending.refused.as_ref().is_some_and(|r| {
                r.field.as_deref().is_some_and(|f| ["name", "address", "password"].iter().any(|a| f.contains(a)))
            });
        let waiting = d.pending.ui(ui, beside);
        let ok = if new { "Create" } else { "OK" };
        answer = ui.add_enabled_ui(!waiting && !d.permissions.book_open(), |ui| dialog_foot(ui, problem.as_deref(), &mut d.show_problem, ok, true)).inner;
    });
    answer
}
