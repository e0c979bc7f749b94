//! The Security tab: clear-text SMTP authentication, the TLS certificate and key (from
//! files, or from an ACME CA such as Let's Encrypt, with its status and *Renew Now*),
//! the certificate the running service presents (with the fingerprint a client shows),
//! and message authentication (DKIM signing, SPF/DKIM/DMARC checks and their policy).

use mailroom_shared::config::{AcmeChallenge, ConfigDraft, ConfigError, PlainTextAuth, QuarantineAction};
use mailroom_shared::ipc::{AcmeState, AcmeStatus, CertificateInfo};

use crate::actions::Action;
use crate::backend::Command;
use crate::model::Model;
use crate::widgets::{combo, field_errors, now, text_row};

/// Draws the tab over `d`, with the certificate in use and the ACME client's state from
/// `model`; *Renew Now* asks for an action.
pub fn ui(ui: &mut egui::Ui, d: &mut ConfigDraft, errors: &[ConfigError], model: &Model) -> Option<Action> {
    crate::widgets::form_grid("security").show(ui, |ui| {
        combo(
            ui,
            "Clear-text SMTP authentication:",
            &mut d.security.plain_text_auth,
            &[
                (PlainTextAuth::Never, "Only over TLS"),
                (PlainTextAuth::LoopbackOnly, "Also without TLS on loopback connections"),
                (PlainTextAuth::Always, "Always (not recommended)"),
            ],
        );
        text_row(
            ui,
            "TLS certificate (PEM file):",
            &mut d.security.tls_certificate,
            errors,
            "security.tls_certificate",
        );
        text_row(ui, "TLS private key (PEM file):", &mut d.security.tls_key, errors, "security.tls_key");
    });
    ui.add_space(6.0);
    ui.label(
        "Leave both files empty to use a certificate from an ACME CA (below), or a self-signed one made by Mailroom for the host name.",
    );
    // The certificate in use first, where the tab opens: what clients see now.
    ui.add_space(10.0);
    certificate_ui(ui, model.certificate.as_ref());
    ui.add_space(10.0);
    let action = acme_ui(ui, d, errors, model);
    ui.add_space(10.0);
    message_authentication_ui(ui, d);
    action
}

/// The *Certificate from an ACME CA* group: what to ask for, and how it goes.
fn acme_ui(ui: &mut egui::Ui, d: &mut ConfigDraft, errors: &[ConfigError], model: &Model) -> Option<Action> {
    ui.strong("Certificate from an ACME CA");
    ui.separator();
    let a = &mut d.security.acme;
    ui.checkbox(&mut a.enabled, "Obtain a certificate for these names from an ACME CA (such as Let's Encrypt)");
    field_errors(ui, errors, "security.acme.enabled");
    ui.add_enabled_ui(a.enabled, |ui| {
        crate::widgets::form_grid("acme").show(ui, |ui| {
            text_row(ui, "Names (comma-separated):", &mut a.names, errors, "security.acme.names");
            text_row(ui, "CA directory URL:", &mut a.directory_url, errors, "security.acme.directory_url");
            text_row(ui, "Account e-mail (optional):", &mut a.email, errors, "security.acme.email");
            combo(
                ui,
                "The CA checks the names by:",
                &mut a.challenge,
                &[
                    (AcmeChallenge::TlsAlpn01, "Connecting to port 443 (tls-alpn-01)"),
                    (AcmeChallenge::Http01, "Fetching a web page on port 80 (http-01)"),
                ],
            );
            text_row(
                ui,
                "Answer the check on (IP:port):",
                &mut a.challenge_listen,
                errors,
                "security.acme.challenge_listen",
            );
        });
        ui.checkbox(
            &mut a.setup_names,
            "Add the names mail programs set themselves up from (autoconfig. and autodiscover. of each inbound domain, while HTTPS is on)",
        );
        ui.label(format!(
            "Empty names: the host name. Empty address: {}. The names must point at this server in DNS, and the port must be reachable from the Internet while a certificate is obtained.",
            a.challenge.default_listen()
        ));
    });
    let Some(status) = &model.acme else {
        if a.enabled {
            ui.label("Save and restart the service to obtain the certificate.");
        }
        return None;
    };
    acme_status_ui(ui, status, model.renewing)
}

/// How the ACME client fares, with *Renew Now*.
fn acme_status_ui(ui: &mut egui::Ui, status: &AcmeStatus, renewing: bool) -> Option<Action> {
    let mut action = None;
    ui.add_space(4.0);
    egui::Grid::new("acme_status").num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
        ui.label("Status:");
        match status.state {
            AcmeState::Valid => ui.label("The certificate from the CA is in use"),
            AcmeState::Obtaining => ui.label("Obtaining a certificate from the CA…"),
            AcmeState::Failed => ui.colored_label(ui.visuals().error_fg_color, "The last attempt failed"),
        };
        ui.end_row();
        if let Some(e) = &status.last_error {
            ui.label("Reason:");
            ui.add(egui::Label::new(e.as_str()).wrap());
            ui.end_row();
        }
        if let Some(t) = status.next_attempt {
            ui.label(if status.state == AcmeState::Failed { "Next try:" } else { "Renewal:" });
            ui.label(mailroom_shared::time::format_utc(t));
            ui.end_row();
        }
        ui.label("");
        ui.horizontal(|ui| {
            let busy = renewing || status.state == AcmeState::Obtaining;
            if ui.add_enabled(!busy, egui::Button::new("Renew Now")).clicked() {
                action = Some(Action::Send(Command::RenewCertificate));
            }
            if busy {
                ui.spinner();
            }
        });
        ui.end_row();
    });
    action
}

/// The *Message Authentication* group.
fn message_authentication_ui(ui: &mut egui::Ui, d: &mut ConfigDraft) {
    ui.strong("Message authentication");
    ui.separator();
    let m = &mut d.security.message_authentication;
    ui.checkbox(
        &mut m.sign_outbound,
        "Sign outgoing mail with DKIM (publish the keys: see DNS Records under Configuration)",
    );
    ui.checkbox(&mut m.check_inbound, "Check SPF, DKIM and DMARC on mail from outside");
    ui.add_enabled_ui(m.check_inbound, |ui| {
        ui.indent("policy", |ui| {
            ui.checkbox(&mut m.dmarc_reject, "Refuse mail whose domain's DMARC policy says reject");
            ui.checkbox(
                &mut m.protect_own_domains,
                "Refuse mail from outside that claims to be from our own domains without proof",
            );
            crate::widgets::form_grid("quarantine").show(ui, |ui| {
                combo(
                    ui,
                    "When DMARC says quarantine:",
                    &mut m.dmarc_quarantine,
                    &[
                        (QuarantineAction::Quarantine, "Hold in the quarantine"),
                        (QuarantineAction::TagSubject, "Deliver with [Suspicious] before the subject"),
                        (QuarantineAction::Deliver, "Deliver as it is"),
                    ],
                );
            });
        });
    });
}

/// The certificate the running service presents: who it names, who issued it, how
/// long it is valid, and the fingerprint to compare with what a client shows.
fn certificate_ui(ui: &mut egui::Ui, cert: Option<&CertificateInfo>) {
    ui.strong("Certificate in use");
    ui.separator();
    let Some(c) = cert else {
        ui.label("None: the Internet Mail Service is not running, or could not set up TLS.");
        return;
    };
    egui::Grid::new("certificate").num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
        ui.label("Issued to:");
        ui.label(&c.subject);
        ui.end_row();
        ui.label("Issued by:");
        ui.label(if c.self_signed { format!("{} (self-signed)", c.issuer) } else { c.issuer.clone() });
        ui.end_row();
        ui.label("Valid for:");
        ui.label(c.names.join(", "));
        ui.end_row();
        ui.label("Valid:");
        let validity = format!(
            "{} to {}",
            mailroom_shared::time::format_utc(c.not_before),
            mailroom_shared::time::format_utc(c.not_after)
        );
        if now() > c.not_after {
            ui.colored_label(ui.visuals().error_fg_color, format!("{validity} (expired)"));
        } else {
            ui.label(validity);
        }
        ui.end_row();
        ui.label("File:");
        ui.label(&c.path);
        ui.end_row();
        let l = ui.label("SHA-256 fingerprint:");
        ui.vertical(|ui| {
            // Two lines of 16 bytes: readable, and easy to compare with a client's.
            let (a, b) = c.sha256_fingerprint.split_at(c.sha256_fingerprint.len().min(48));
            ui.monospace(a.trim_end_matches(':')).labelled_by(l.id);
            ui.monospace(b);
            if ui.button("Copy fingerprint").clicked() {
                ui.ctx().copy_text(c.sha256_fingerprint.clone());
            }
        });
        ui.end_row();
    });
}
