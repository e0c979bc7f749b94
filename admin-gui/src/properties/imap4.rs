//! The IMAP4 tab: on or off, the listeners, the idle time-out, and whether a password
//! may travel in clear.

use mailroom_shared::config::{ConfigDraft, ConfigError, PlainTextAuth};

use crate::widgets::{combo, number_row, text_row};

/// Draws the tab over `d`.
pub fn ui(ui: &mut egui::Ui, d: &mut ConfigDraft, errors: &[ConfigError]) {
    crate::widgets::form_grid("imap4").show(ui, |ui| {
        ui.label("");
        ui.checkbox(&mut d.imap4.enabled, "Enable IMAP4 (mail kept on the server, for phones and every device)");
        ui.end_row();
        text_row(ui, "IMAP4 listens on (IP:port):", &mut d.imap4.listen, errors, "imap4.listen");
        text_row(ui, "IMAP4 over TLS, port 993 (empty: off):", &mut d.imap4.imaps_listen, errors, "imap4.imaps_listen");
        number_row(
            ui,
            "Idle time-out (at least 30 minutes):",
            &mut d.imap4.idle_timeout_secs,
            "seconds",
            errors,
            "imap4.idle_timeout_secs",
        );
        combo(
            ui,
            "Clear-text login:",
            &mut d.imap4.plain_text_login,
            &[
                (PlainTextAuth::Never, "Only over TLS"),
                (PlainTextAuth::LoopbackOnly, "Also without TLS on loopback connections"),
                (PlainTextAuth::Always, "Always (not recommended)"),
            ],
        );
    });
}
