//! The Security tab: clear-text SMTP authentication, the TLS certificate and key, the
//! certificate the running service presents (with the fingerprint a client shows), and
//! message authentication (DKIM signing, SPF/DKIM/DMARC checks and their policy).

use mailroom_shared::config::{ConfigDraft, ConfigError, PlainTextAuth, QuarantineAction};
use mailroom_shared::ipc::CertificateInfo;

use crate::widgets::{combo, now, text_row};

/// Draws the tab over `d`, and `cert`, the certificate in use.
pub fn ui(ui: &mut egui::Ui, d: &mut ConfigDraft, errors: &[ConfigError], cert: Option<&CertificateInfo>) {
    egui::Grid::new("security").num_columns(2).spacing([12.0, 8.0]).show(ui, |ui| {
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
    ui.label("Leave both files empty to use a self-signed certificate made by Mailroom for the host name.");
    ui.add_space(10.0);
    message_authentication_ui(ui, d);
    ui.add_space(10.0);
    certificate_ui(ui, cert);
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
            egui::Grid::new("quarantine").num_columns(2).spacing([12.0, 8.0]).show(ui, |ui| {
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
