//! Server → Monitor: the last hour of traffic as live charts, minute by minute —
//! messages received, delivered here, relayed, deferred and refused; the queue and the
//! open sessions — from the figures the service keeps and announces as they change.

use egui_plot::{Legend, Line, Plot, PlotPoints};
use mailroom_shared::ipc::MonitorMinute;

use crate::actions::Action;
use crate::model::Model;

/// The Monitor view (it keeps no state of its own).
#[derive(Debug, Default)]
pub struct MonitorView;

/// A series: its name and how to read it from a minute.
type Series = (&'static str, fn(&MonitorMinute) -> u64);

const TRAFFIC: [Series; 6] = [
    ("Received", |m| m.received),
    ("Delivered here", |m| m.delivered),
    ("Relayed", |m| m.relayed),
    ("Deferred", |m| m.deferred),
    ("Bounced", |m| m.bounced),
    ("Refused", |m| m.refused),
];

const LOAD: [Series; 4] = [
    ("Queued messages", |m| m.queued),
    ("SMTP sessions", |m| m.smtp_sessions),
    ("POP3 sessions", |m| m.pop3_sessions),
    ("IMAP sessions", |m| m.imap_sessions),
];

impl MonitorView {
    /// The minute under way in words, and the two charts.
    pub fn ui(&mut self, ui: &mut egui::Ui, model: &Model) -> Option<Action> {
        ui.heading("Monitor");
        let Some(now) = model.monitor.last() else {
            ui.label("Waiting for the service's figures…");
            return None;
        };
        ui.label(format!(
            "This minute: {} received, {} delivered here, {} relayed, {} deferred, {} bounced, {} refused; \
             {} in the queue; sessions: SMTP {}, POP3 {}, IMAP {}.",
            now.received,
            now.delivered,
            now.relayed,
            now.deferred,
            now.bounced,
            now.refused,
            now.queued,
            now.smtp_sessions,
            now.pop3_sessions,
            now.imap_sessions
        ));
        ui.add_space(4.0);
        let height = ((ui.available_height() - 40.0) / 2.0).max(120.0);
        chart(ui, "monitor_traffic", "Messages per minute", &model.monitor, &TRAFFIC, height);
        chart(ui, "monitor_load", "Queue and sessions", &model.monitor, &LOAD, height);
        None
    }
}

/// One chart of `series` over the hour: minutes ago along the bottom, 0 being now.
fn chart(ui: &mut egui::Ui, id: &str, title: &str, minutes: &[MonitorMinute], series: &[Series], height: f32) {
    ui.strong(title);
    let last = minutes.len() as f64 - 1.0;
    Plot::new(id)
        .height(height)
        .legend(Legend::default())
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .include_y(0.0)
        .include_y(5.0)
        .include_x(-59.0)
        .include_x(0.0)
        .x_axis_label("minutes ago")
        .show(ui, |plot| {
            for (name, read) in series {
                let points: PlotPoints<'_> =
                    minutes.iter().enumerate().map(|(i, m)| [i as f64 - last, read(m) as f64]).collect();
                plot.line(Line::new(*name, points));
            }
        });
}
