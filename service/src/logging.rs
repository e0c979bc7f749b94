//! Logging: `tracing` to stderr, to a daily-rolled file in the data directory, and to
//! control clients that subscribed to events.
//!
//! Levels come from the Diagnostics Logging page, per category, and change whenever
//! the service starts with a new configuration. `MAILROOM_LOG` (an `EnvFilter`
//! directive such as `debug`) overrides them, for debugging.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mailroom_shared::config::Diagnostics;
use mailroom_shared::ipc::Event;
use tokio::sync::broadcast;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry, reload};

/// Keeps the file writer alive and allows changing levels.
pub struct LogControl {
    filter: reload::Handle<EnvFilter, Registry>,
    /// Flushes the log file when dropped (at process exit).
    _file_guard: Option<tracing_appender::non_blocking::WorkerGuard>,
    overridden: bool,
}

impl std::fmt::Debug for LogControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogControl").field("overridden", &self.overridden).finish_non_exhaustive()
    }
}

/// How often a repeated condition is logged again.
const REPEAT_EVERY: Duration = Duration::from_secs(60);

/// Runs `log` for the first occurrence of `key`, then at most once a minute, with the
/// number of occurrences that call stands for. Repeated identical failures — a full
/// disk refusing every message, a store that cannot commit — are logged with a count,
/// not once each.
pub fn repeated(key: &'static str, log: impl FnOnce(u64)) {
    static SEEN: Mutex<Option<HashMap<&'static str, (Instant, u64)>>> = Mutex::new(None);
    let count = {
        let mut seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
        let seen = seen.get_or_insert_with(HashMap::new);
        let now = Instant::now();
        match seen.get_mut(key) {
            Some((last, n)) if now.duration_since(*last) < REPEAT_EVERY => {
                *n += 1;
                None
            }
            Some((last, n)) => {
                let count = *n + 1;
                (*last, *n) = (now, 0);
                Some(count)
            }
            None => {
                seen.insert(key, (now, 0));
                Some(1)
            }
        }
    };
    if let Some(n) = count {
        log(n);
    }
}

/// The filter for a Diagnostics Logging page.
pub fn directives(d: &Diagnostics) -> String {
    format!(
        "warn,mailroom_service={},mailroom_service::smtp={},mailroom_service::pop3={},mailroom_service::imap={},\
         mailroom_service::routing={},mailroom_service::queue={},mailroom_service::mailauth={}",
        d.service.directive(),
        d.smtp.directive(),
        d.pop3.directive(),
        d.imap4.directive(),
        d.routing.directive(),
        d.delivery.directive(),
        d.authentication.directive(),
    )
}

/// Installs the global subscriber. Log files go to `log_dir` when given.
pub fn init(log_dir: Option<&Path>, events: broadcast::Sender<Event>) -> LogControl {
    let env = std::env::var("MAILROOM_LOG").ok().filter(|s| !s.is_empty());
    let initial = env.clone().unwrap_or_else(|| directives(&mailroom_shared::config::Config::default().diagnostics));
    let (filter, handle) = reload::Layer::new(EnvFilter::new(initial));
    let (file_layer, guard) = match log_dir {
        Some(dir) => {
            let appender = tracing_appender::rolling::daily(dir, "mailroomd.log");
            let (writer, guard) = tracing_appender::non_blocking(appender);
            (Some(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(writer)), Some(guard))
        }
        None => (None, None),
    };
    Registry::default()
        .with(filter)
        .with(tracing_subscriber::fmt::layer().with_ansi(std::io::stderr().is_terminal()).with_writer(std::io::stderr))
        .with(file_layer)
        .with(EventLayer { events })
        .init();
    LogControl { filter: handle, _file_guard: guard, overridden: env.is_some() }
}

impl LogControl {
    /// Applies the levels of a Diagnostics Logging page (unless `MAILROOM_LOG` is set).
    pub fn apply(&self, d: &Diagnostics) {
        if self.overridden {
            return;
        }
        if let Err(e) = self.filter.reload(EnvFilter::new(directives(d))) {
            tracing::warn!(error = %e, "cannot change log levels");
        }
    }
}

/// How many control connections asked for log lines.
static LOG_SUBSCRIBERS: AtomicUsize = AtomicUsize::new(0);

/// A control connection's wish for log lines, counted while it lives: with none,
/// log lines are not made into events at all.
#[derive(Debug)]
pub struct LogSubscriber(());

impl LogSubscriber {
    /// Counts one more connection that wants log lines.
    pub fn counted() -> LogSubscriber {
        LOG_SUBSCRIBERS.fetch_add(1, Ordering::Relaxed);
        LogSubscriber(())
    }
}

impl Drop for LogSubscriber {
    fn drop(&mut self) {
        LOG_SUBSCRIBERS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Forwards log lines to event subscribers that asked for them.
struct EventLayer {
    events: broadcast::Sender<Event>,
}

impl<S: tracing::Subscriber> Layer<S> for EventLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if self.events.receiver_count() == 0 || LOG_SUBSCRIBERS.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut v = MessageVisitor::default();
        event.record(&mut v);
        let meta = event.metadata();
        let _ = self.events.send(Event::Log {
            level: meta.level().as_str().to_ascii_lowercase(),
            target: meta.target().to_owned(),
            message: v.text,
        });
    }
}

/// Renders an event as `message key=value …`.
#[derive(Default)]
struct MessageVisitor {
    text: String,
}

impl Visit for MessageVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let rest = std::mem::take(&mut self.text);
            let _ = write!(self.text, "{value:?}{}", if rest.is_empty() { "" } else { " " });
            self.text.push_str(&rest);
        } else {
            if !self.text.is_empty() {
                self.text.push(' ');
            }
            let _ = write!(self.text, "{}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.record_debug(field, &format_args!("{value}"));
        } else {
            if !self.text.is_empty() {
                self.text.push(' ');
            }
            let _ = write!(self.text, "{}={value}", field.name());
        }
    }
}

/// A protocol command line as it may be logged: without its line ending, control
/// characters escaped (a client must not be able to forge log lines), at most 200
/// characters, and with any secret replaced by `****`: the argument of `PASS`, and
/// the initial response of `AUTH` (base64 of a password, in PLAIN and LOGIN). SASL
/// continuation lines are never given to this function: they are not logged at all.
pub fn loggable_line(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end_matches(['\r', '\n']);
    let mut words = text.splitn(3, ' ');
    let verb = words.next().unwrap_or_default();
    let shown = if verb.eq_ignore_ascii_case("PASS") {
        return format!("{} ****", escaped(verb));
    } else if verb.eq_ignore_ascii_case("AUTH") {
        match (words.next(), words.next()) {
            (Some(mechanism), Some(_)) => return format!("{} {} ****", escaped(verb), escaped(mechanism)),
            _ => text,
        }
    } else {
        text
    };
    escaped(shown)
}

/// At most 200 characters, control characters escaped.
fn escaped(s: &str) -> String {
    s.chars().take(200).flat_map(char::escape_debug).collect()
}

#[cfg(test)]
mod tests {
    use super::loggable_line;

    #[test]
    fn secrets_are_masked() {
        assert_eq!(loggable_line(b"PASS my secret\r\n"), "PASS ****");
        assert_eq!(loggable_line(b"pass x\r\n"), "pass ****");
        assert_eq!(loggable_line(b"AUTH PLAIN AGFubgBwdw==\r\n"), "AUTH PLAIN ****");
        assert_eq!(loggable_line(b"AUTH LOGIN\r\n"), "AUTH LOGIN");
        assert_eq!(loggable_line(b"MAIL FROM:<a@b.test>\r\n"), "MAIL FROM:<a@b.test>");
        assert_eq!(loggable_line(b"NOOP \x1b[2J\r\n"), "NOOP \\u{1b}[2J", "control characters escaped");
    }

    /// Found by the `smtp_command` fuzz target: the mechanism word of an AUTH line was
    /// logged as given, so a client could write line breaks (forged lines) into the log.
    #[test]
    fn regression_auth_mechanism_with_control_characters_is_escaped() {
        let crash = b"aUTH GG\n\0\t\n\0*\0\t\0aUTH GG\n\0\t\n\0*\0\t\0";
        let logged = loggable_line(crash);
        assert!(!logged.contains(['\n', '\0', '\t']), "{logged:?}");
        assert!(logged.ends_with(" ****"), "{logged:?}");
    }
}
