//! Recipients → Client Setup: what a person needs to set up their mail, calendar and
//! contacts programs, for one mailbox. With HTTPS on (Connections tab) most programs
//! need only the address and password, and a phone scans a QR code of its profile's
//! address; the servers and ports are listed too, for a program that asks. Everything
//! shown comes from the configuration and the listeners the service has open.

use mailroom_shared::ipc::ListenerStatus;

use crate::actions::Action;
use crate::model::Model;

/// The Client Setup window.
#[derive(Debug, Default)]
pub struct ClientSetupWindow {
    /// The mailbox it is for (its first address), while open.
    pub address: Option<String>,
}

/// The port a listener of `protocol` (as status names it) is on, if it listens.
fn port(listeners: &[ListenerStatus], protocol: &str) -> Option<u16> {
    let l = listeners.iter().find(|l| l.protocol == protocol)?;
    l.address.rsplit(':').next()?.parse().ok()
}

/// `host` with `:port` unless it is the scheme's own.
fn authority(host: &str, port: u16, default: u16) -> String {
    if port == default { host.to_owned() } else { format!("{host}:{port}") }
}

/// What Client Setup says for `address`, as (label, value) rows, and the profile's
/// address when HTTPS is on.
pub fn setup_rows(address: &str, host: &str, status: &[ListenerStatus]) -> (Vec<(String, String)>, Option<String>) {
    let mut rows = vec![("E-mail address and user name:".to_owned(), address.to_owned())];
    let https = port(status, "HTTPS");
    let with_port = |p: Option<u16>, what: &str| p.map(|p| format!("{host}, port {p} ({what})"));
    let incoming = with_port(port(status, "IMAP4 over TLS (imaps)"), "SSL/TLS")
        .or_else(|| with_port(port(status, "IMAP4"), "STARTTLS"))
        .unwrap_or_else(|| "IMAP is off (IMAP4 page)".into());
    let outgoing = with_port(port(status, "SMTP over TLS (submissions)"), "SSL/TLS")
        .or_else(|| with_port(port(status, "SMTP submission"), "STARTTLS"))
        .map_or_else(
            || "no submission port is open (Connections tab: 465 or 587)".into(),
            |o| format!("{o}, with the same user name and password"),
        );
    rows.push(("Incoming mail (IMAP):".into(), incoming));
    rows.push(("Outgoing mail (SMTP):".into(), outgoing));
    let Some(https) = https else {
        rows.push((
            "Automatic set-up:".into(),
            "off: give HTTPS an address on the Connections tab, and mail programs set themselves up from the address and password".into(),
        ));
        return (rows, None);
    };
    let base = format!("https://{}", authority(host, https, 443));
    let domain = address.rsplit_once('@').map_or(host, |(_, d)| d);
    rows.push((
        "Thunderbird, Outlook:".into(),
        format!("set up from the address and password alone (https://autoconfig.{domain}/mail/config-v1.1.xml, autodiscover.{domain})"),
    ));
    rows.push(("Calendars and contacts:".into(), format!("{base}/dav/ (CalDAV and CardDAV)")));
    let profile = format!("{base}/mobileconfig");
    rows.push(("iPhone, iPad, Mac:".into(), format!("open {profile} and log in, or scan the code")));
    (rows, Some(profile))
}

/// Draws `text` as a QR code, each module `scale` points wide.
fn qr_code(ui: &mut egui::Ui, text: &str, scale: f32) {
    let Ok(code) = qrcode::QrCode::new(text.as_bytes()) else { return };
    let width = code.width();
    let colors = code.to_colors();
    // A quiet zone of four modules around it, as scanners need.
    let side = (width + 8) as f32 * scale;
    let (rect, _) = ui.allocate_exact_size(egui::vec2(side, side), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, egui::Color32::WHITE);
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (x, y) = ((i % width + 4) as f32, (i / width + 4) as f32);
            let min = rect.min + egui::vec2(x * scale, y * scale);
            painter.rect_filled(egui::Rect::from_min_size(min, egui::vec2(scale, scale)), 0.0, egui::Color32::BLACK);
        }
    }
}

impl ClientSetupWindow {
    /// Opens it for the mailbox `address`.
    pub fn open_for(&mut self, address: String) {
        self.address = Some(address);
    }

    /// Draws it; the Connections tab, when asked for.
    pub fn show(&mut self, ctx: &egui::Context, model: &Model) -> Option<Action> {
        let address = self.address.clone()?;
        let host = model.config.as_ref().map(|(c, _)| c.general.host_name.to_string()).unwrap_or_default();
        let mut open = true;
        let mut action = None;
        egui::Window::new(format!("Client Setup: {address}")).open(&mut open).collapsible(false).resizable(false).show(
            ctx,
            |ui| {
                ui.set_max_width(560.0);
                let Some(status) = model.status.as_ref() else {
                    ui.label("Connect to the service to see how its programs are set up.");
                    return;
                };
                let (rows, profile) = setup_rows(&address, &host, &status.listeners);
                egui::Grid::new("client_setup_rows").num_columns(2).spacing([10.0, 6.0]).show(ui, |ui| {
                    for (label, value) in &rows {
                        ui.label(label);
                        ui.add(egui::Label::new(value).wrap());
                        ui.end_row();
                    }
                });
                match profile {
                    Some(profile) => {
                        ui.add_space(6.0);
                        qr_code(ui, &profile, 3.0);
                        ui.weak("The profile holds no password: the device asks for it.");
                    }
                    None => {
                        if ui.button("Connections…").clicked() {
                            action = Some(Action::ChangeField {
                                field: "connections.https_listen".into(),
                                why: "Give HTTPS an address (port 443) for mail programs to set themselves up.".into(),
                            });
                        }
                    }
                }
            },
        );
        if !open || action.is_some() {
            self.address = None;
        }
        action
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(listeners: &[(&str, &str)]) -> Vec<ListenerStatus> {
        listeners.iter().map(|(p, a)| ListenerStatus { protocol: (*p).into(), address: (*a).into() }).collect()
    }

    #[test]
    fn the_best_listeners_are_named_and_the_profile_offered_only_with_https() {
        let on = status(&[
            ("IMAP4", "0.0.0.0:143"),
            ("IMAP4 over TLS (imaps)", "0.0.0.0:993"),
            ("SMTP submission", "0.0.0.0:587"),
            ("HTTPS", "0.0.0.0:443"),
        ]);
        let (rows, profile) = setup_rows("ann@corp.test", "mail.corp.test", &on);
        assert_eq!(rows[1].1, "mail.corp.test, port 993 (SSL/TLS)");
        assert!(rows[2].1.starts_with("mail.corp.test, port 587 (STARTTLS)"));
        assert_eq!(profile.as_deref(), Some("https://mail.corp.test/mobileconfig"));
        assert!(rows.iter().any(|(_, v)| v.contains("https://autoconfig.corp.test/")));
        let off = status(&[("IMAP4", "127.0.0.1:1143")]);
        let (rows, profile) = setup_rows("ann@corp.test", "mail.corp.test", &off);
        assert_eq!(profile, None);
        assert!(rows.iter().any(|(l, v)| l == "Automatic set-up:" && v.starts_with("off:")));
        assert!(rows[2].1.starts_with("no submission port is open"));
    }
}
