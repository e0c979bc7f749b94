//! The POP3 tab: on or off, the listeners, the idle time-out, and whether a password
//! may travel in clear.

use mailroom_shared::config::{ConfigDraft, ConfigError, PlainTextAuth};

use crate::widgets::{combo, number_row, text_row};

/// Draws the tab over `d`.
pub fn ui(ui: &mut egui::Ui, d: &mut ConfigDraft, errors: &[ConfigError]) {
    crate::widgets::form_grid("pop3").show(ui, |ui| {
        ui.label("");
        ui.checkbox(&mut d.pop3.enabled, "Enable POP3");
        ui.end_row();
        text_row(ui, "POP3 listens on (IP:port):", &mut d.pop3.listen, errors, "pop3.listen");
        text_row(ui, "POP3 over TLS, port 995 (empty: off):", &mut d.pop3.pop3s_listen, errors, "pop3.pop3s_listen");
        number_row(ui, "Idle time-out:", &mut d.pop3.idle_timeout_secs, "seconds", errors, "pop3.idle_timeout_secs");
        combo(
            ui,
            "Clear-text login:",
            &mut d.pop3.plain_text_login,
            &[
                (PlainTextAuth::Never, "Only over TLS"),
                (PlainTextAuth::LoopbackOnly, "Also without TLS on loopback connections"),
                (PlainTextAuth::Always, "Always (not recommended)"),
            ],
        );
    });
}
