//! The Connections tab: transfer mode, the SMTP listeners, the smart host, DNS, who may
//! connect and submit, and the connection limits and time-outs.

use mailroom_shared::config::{AcceptFrom, ConfigDraft, ConfigError, TransferMode};

use crate::widgets::{combo, field_errors, number_row, text_row};

/// Draws the tab over `d`.
pub fn ui(ui: &mut egui::Ui, d: &mut ConfigDraft, errors: &[ConfigError]) {
    let c = &mut d.connections;
    crate::widgets::form_grid("connections").show(ui, |ui| {
        combo(
            ui,
            "Transfer mode:",
            &mut c.transfer_mode,
            &[
                (TransferMode::InboundAndOutbound, "Inbound & Outbound"),
                (TransferMode::InboundOnly, "Inbound only"),
                (TransferMode::OutboundOnly, "Outbound only"),
                (TransferMode::None, "None (flush queues)"),
            ],
        );
        text_row(ui, "SMTP listens on (IP:port):", &mut c.smtp_listen, errors, "connections.smtp_listen");
        text_row(
            ui,
            "SMTP over TLS, port 465 (empty: off):",
            &mut c.submissions_listen,
            errors,
            "connections.submissions_listen",
        );
        text_row(
            ui,
            "Submission, port 587 (empty: off):",
            &mut c.submission_listen,
            errors,
            "connections.submission_listen",
        );
        text_row(ui, "HTTPS (set-up, calendars), port 443:", &mut c.https_listen, errors, "connections.https_listen");
        text_row(ui, "Forward all mail to host (empty: use DNS):", &mut c.smart_host, errors, "connections.smart_host");
        ui.label("");
        ui.vertical(|ui| {
            // Only meaningful with a smart host; left enabled while ticked so that a
            // ticked box can always be cleared.
            let enabled = !c.smart_host.trim().is_empty() || c.smart_host_requires_tls;
            ui.add_enabled(
                enabled,
                egui::Checkbox::new(
                    &mut c.smart_host_requires_tls,
                    "The host requires TLS (STARTTLS with a certificate valid for its name)",
                ),
            );
            field_errors(ui, errors, "connections.smart_host_requires_tls");
        });
        ui.end_row();
        text_row(ui, "DNS server (empty: system):", &mut c.dns_server, errors, "connections.dns_server");
        combo(
            ui,
            "Accept connections from:",
            &mut c.accept_from,
            &[
                (AcceptFrom::Any, "Any client"),
                (AcceptFrom::MustAuthenticate, "Only clients that authenticate"),
                (AcceptFrom::MustAuthenticateAndEncrypt, "Only clients that authenticate and encrypt"),
            ],
        );
        ui.label("");
        ui.checkbox(
            &mut c.sender_must_match_account,
            "Clients can only submit if the authenticated account matches the sender",
        );
        ui.end_row();
        number_row(ui, "Maximum connections:", &mut c.max_connections, "", errors, "connections.max_connections");
        number_row(
            ui,
            "Maximum connections per IP:",
            &mut c.max_connections_per_ip,
            "",
            errors,
            "connections.max_connections_per_ip",
        );
        number_row(
            ui,
            "Maximum recipients per message:",
            &mut c.max_recipients,
            "",
            errors,
            "connections.max_recipients",
        );
        number_row(
            ui,
            "Command timeout:",
            &mut c.command_timeout_secs,
            "seconds",
            errors,
            "connections.command_timeout_secs",
        );
        number_row(ui, "Data timeout:", &mut c.data_timeout_secs, "seconds", errors, "connections.data_timeout_secs");
    });
    field_errors(ui, errors, "connections.domain_forwards");
}
