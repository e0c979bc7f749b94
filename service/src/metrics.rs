//! Traffic figures for Server → Monitor (and, later, a metrics endpoint): counters of
//! what the service does — messages received, copies delivered here, recipients
//! relayed, deferred and bounced, commands refused — and gauges of the open sessions,
//! kept for the process's life (across restarts) and remembered minute by minute for
//! the last hour.
//!
//! The counters are atomics that the protocols bump as they go; a task of each run
//! ([`crate::exporter::run`]) looks at them every two seconds, notes the start of each
//! minute, and tells the control socket's subscribers when something changed.
//! [`Metrics::minutes`] turns the notes into what each minute saw. When the Diagnostics
//! page gives it an address, [`crate::exporter::serve`] offers the same figures to
//! Prometheus over HTTP (`/metrics`, in the OpenMetrics text format, encoded by
//! prometheus-client).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use mailroom_shared::ipc::MonitorMinute;

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// A message accepted over SMTP.
    Received,
    /// A copy delivered to a local mailbox.
    Delivered,
    /// A recipient accepted by the next hop.
    Relayed,
    /// A delivery that failed for now.
    Deferred,
    /// A delivery that failed for good.
    Bounced,
    /// A command refused with a 5xx reply.
    Refused,
}

/// Minutes remembered.
const HOUR: usize = 60;

/// The counters' values at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    received: u64,
    delivered: u64,
    relayed: u64,
    deferred: u64,
    bounced: u64,
    refused: u64,
}

/// The gauges at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Gauges {
    queued: u64,
    smtp: u64,
    pop3: u64,
    imap: u64,
}

/// The process's traffic figures.
#[derive(Debug, Default)]
pub struct Metrics {
    received: AtomicU64,
    delivered: AtomicU64,
    relayed: AtomicU64,
    deferred: AtomicU64,
    bounced: AtomicU64,
    refused: AtomicU64,
    /// Open sessions per protocol, kept by the listeners' slots.
    pub smtp_sessions: Arc<AtomicUsize>,
    /// Open POP3 sessions.
    pub pop3_sessions: Arc<AtomicUsize>,
    /// Open IMAP sessions.
    pub imap_sessions: Arc<AtomicUsize>,
    /// Open HTTPS connections.
    pub https_sessions: Arc<AtomicUsize>,
    /// Messages waiting in the outbound queue, as last read from the store.
    queued: AtomicU64,
    /// When the oldest of them arrived (0: none), as last read.
    oldest_queued: std::sync::atomic::AtomicI64,
    /// Refusals by enhanced status code (`5.7.1`).
    refused_by: Mutex<BTreeMap<String, u64>>,
    /// Minute start → the counters and gauges when that minute was first seen.
    marks: Mutex<BTreeMap<i64, (Totals, Gauges)>>,
}

/// What a scrape reads besides [`Metrics`]' own figures.
#[derive(Debug)]
pub struct Live {
    /// The store's commit times.
    pub commit_seconds: prometheus_client::metrics::histogram::Histogram,
    /// Failed logins since the process started.
    pub auth_failures: u64,
}

impl Metrics {
    /// Counts a command refused with a 5xx reply, under its enhanced status code (or
    /// `5.0.0` when it has none).
    pub fn refused(&self, status: &str) {
        self.count(Counter::Refused, 1);
        let status = if is_status_code(status) { status } else { "5.0.0" };
        *self.refused_by.lock().unwrap_or_else(|p| p.into_inner()).entry(status.to_owned()).or_default() += 1;
    }

    /// Notes the queue's length and when its oldest message arrived (0: none).
    pub fn set_queue(&self, waiting: u64, oldest: i64) {
        self.queued.store(waiting, Ordering::Relaxed);
        self.oldest_queued.store(oldest, Ordering::Relaxed);
    }

    /// Counts `n` of `what`.
    pub fn count(&self, what: Counter, n: u64) {
        let counter = match what {
            Counter::Received => &self.received,
            Counter::Delivered => &self.delivered,
            Counter::Relayed => &self.relayed,
            Counter::Deferred => &self.deferred,
            Counter::Bounced => &self.bounced,
            Counter::Refused => &self.refused,
        };
        counter.fetch_add(n, Ordering::Relaxed);
    }

    fn totals(&self) -> Totals {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Totals {
            received: get(&self.received),
            delivered: get(&self.delivered),
            relayed: get(&self.relayed),
            deferred: get(&self.deferred),
            bounced: get(&self.bounced),
            refused: get(&self.refused),
        }
    }

    fn gauges(&self) -> Gauges {
        let get = |c: &AtomicUsize| c.load(Ordering::Relaxed) as u64;
        Gauges {
            queued: self.queued.load(Ordering::Relaxed),
            smtp: get(&self.smtp_sessions),
            pop3: get(&self.pop3_sessions),
            imap: get(&self.imap_sessions),
        }
    }

    /// Notes the moment `now` (Unix seconds): the first look in a minute marks its
    /// start. Returns the counters and gauges as they are.
    pub(crate) fn look(&self, now: i64) -> (Totals, Gauges) {
        let seen = (self.totals(), self.gauges());
        let mut marks = self.marks.lock().unwrap_or_else(|p| p.into_inner());
        marks.entry(now - now.rem_euclid(60)).or_insert(seen);
        while marks.len() > HOUR + 1 {
            marks.pop_first();
        }
        seen
    }

    /// The last hour ending at `now`, minute by minute, oldest first: the minute under
    /// way last. A minute the service did not see (it was not running) is empty.
    pub fn minutes(&self, now: i64) -> Vec<MonitorMinute> {
        let (current, gauges_now) = self.look(now);
        let marks = self.marks.lock().unwrap_or_else(|p| p.into_inner());
        let this = now - now.rem_euclid(60);
        (0..HOUR as i64)
            .rev()
            .map(|back| {
                let at = this - back * 60;
                let Some((start, _)) = marks.get(&at) else { return MonitorMinute { at, ..MonitorMinute::default() } };
                // The next mark ends it (a gap, when the service did not run, adds nothing).
                let (end, gauges) = marks.range(at + 1..).next().map_or((current, gauges_now), |(_, v)| *v);
                MonitorMinute {
                    at,
                    received: end.received.saturating_sub(start.received),
                    delivered: end.delivered.saturating_sub(start.delivered),
                    relayed: end.relayed.saturating_sub(start.relayed),
                    deferred: end.deferred.saturating_sub(start.deferred),
                    bounced: end.bounced.saturating_sub(start.bounced),
                    refused: end.refused.saturating_sub(start.refused),
                    queued: gauges.queued,
                    smtp_sessions: gauges.smtp,
                    pop3_sessions: gauges.pop3,
                    imap_sessions: gauges.imap,
                }
            })
            .collect()
    }
}

impl Metrics {
    /// The figures in the OpenMetrics text format, for a Prometheus scrape.
    pub fn openmetrics(&self, live: &Live) -> String {
        use prometheus_client::metrics::counter::{ConstCounter, Counter as Family1};
        use prometheus_client::metrics::family::Family;
        use prometheus_client::metrics::gauge::ConstGauge;
        use prometheus_client::registry::Registry;
        let t = self.totals();
        let g = self.gauges();
        let mut registry = Registry::with_prefix("mailroom");
        let counters = [
            ("messages_received", "Messages accepted over SMTP", t.received),
            ("deliveries_local", "Copies delivered to local mailboxes", t.delivered),
            ("recipients_relayed", "Recipients accepted by the next hop", t.relayed),
            ("recipients_deferred", "Deliveries that failed for now, to be tried again", t.deferred),
            ("recipients_bounced", "Deliveries that failed for good", t.bounced),
            ("commands_refused", "SMTP commands refused with a 5xx reply", t.refused),
        ];
        for (name, help, value) in counters {
            registry.register(name, help, ConstCounter::new(value));
        }
        let gauges = [
            ("queue_messages", "Messages waiting in the outbound queue", g.queued),
            ("smtp_sessions", "Open SMTP sessions", g.smtp),
            ("pop3_sessions", "Open POP3 sessions", g.pop3),
            ("imap_sessions", "Open IMAP sessions", g.imap),
            ("https_connections", "Open HTTPS connections", self.https_sessions.load(Ordering::Relaxed) as u64),
        ];
        for (name, help, value) in gauges {
            registry.register(name, help, ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX)));
        }
        let oldest = self.oldest_queued.load(Ordering::Relaxed);
        let age = if oldest > 0 { (crate::store::now_secs() - oldest).max(0) } else { 0 };
        registry.register(
            "queue_oldest_age_seconds",
            "Age of the oldest message waiting in the outbound queue (0 when none waits)",
            ConstGauge::new(age),
        );
        let refused: Family<Vec<(String, String)>, Family1> = Family::default();
        for (status, n) in self.refused_by.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            refused.get_or_create(&vec![("status".to_owned(), status.clone())]).inc_by(*n);
        }
        registry.register("refusals", "SMTP commands refused, by enhanced status code", refused);
        let handshakes: Family<Vec<(String, String)>, Family1> = Family::default();
        for (result, i) in [("ok", 0), ("failed", 1)] {
            let n = crate::tls::HANDSHAKES[i].load(Ordering::Relaxed);
            handshakes.get_or_create(&vec![("result".to_owned(), result.to_owned())]).inc_by(n);
        }
        registry.register("tls_handshakes", "TLS handshakes on the listeners", handshakes);
        registry.register(
            "auth_failures",
            "Failed logins (SMTP AUTH, POP3, IMAP)",
            ConstCounter::new(live.auth_failures),
        );
        registry.register(
            "store_commit_seconds",
            "Time to commit a batch of writes to disk (fsync included)",
            live.commit_seconds.clone(),
        );
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &registry).is_err() {
            out.clear();
        }
        out
    }
}

/// True for an enhanced status code (`5.7.1`: class, subject, detail).
fn is_status_code(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 3
        && matches!(parts[0], "2" | "4" | "5")
        && parts[1..].iter().all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_minute_counts_what_happened_in_it() {
        let m = Metrics::default();
        let t0 = 1_800_000_000; // a minute's start
        m.look(t0 + 5);
        m.count(Counter::Received, 3);
        m.count(Counter::Relayed, 2);
        m.look(t0 + 65);
        m.count(Counter::Received, 100);
        m.smtp_sessions.fetch_add(4, Ordering::Relaxed);
        let minutes = m.minutes(t0 + 90);
        assert_eq!(minutes.len(), 60);
        let (before, now) = (&minutes[58], &minutes[59]);
        assert_eq!((before.at, before.received, before.relayed), (t0, 3, 2));
        assert_eq!((now.at, now.received, now.smtp_sessions), (t0 + 60, 100, 4));
        assert_eq!(minutes[0].received, 0, "a minute not seen is empty");
        // An hour on, the old minutes are forgotten.
        let later = m.minutes(t0 + 3 * 3600);
        assert!(later.iter().all(|x| x.received == 0));
        assert!(m.marks.lock().expect("marks").len() <= HOUR + 1);
    }
}
