//! Fixture databases made by older versions, and the file system they live on.

use std::path::Path;
use std::process::Command;

/// Every time a fixture database holds (seconds since the epoch), with the table and
/// column it lives in. A column a fixture's schema lacks is skipped.
const FIXTURE_TIMES: &[(&str, &str)] = &[
    ("queue_messages", "received_at"),
    ("queue_recipients", "next_attempt"),
    ("queue_recipients", "updated_at"),
    ("messages", "received_at"),
    ("mailboxes", "created_at"),
    ("tracking", "at"),
];

/// Shifts every time in the fixture database at `db` by the same amount, so that its
/// newest message arrived now: the fixture's state keeps its shape (a recipient deferred
/// 15 minutes after its message arrived stays so) whatever day the test runs. Without
/// it, a message queued on the day the fixture was made expires (48 h) on any later run
/// and the upgraded service bounces it at start.
pub fn move_fixture_clock_to_now(db: &Path) {
    let conn = rusqlite::Connection::open(db).expect("open the fixture");
    let has_column =
        |table: &str, column: &str| -> bool { conn.prepare(&format!("SELECT {column} FROM {table} LIMIT 0")).is_ok() };
    let newest = ["queue_messages", "messages"]
        .iter()
        .filter(|t| has_column(t, "received_at"))
        .map(|t| conn.query_row(&format!("SELECT COALESCE(MAX(received_at), 0) FROM {t}"), [], |r| r.get::<_, i64>(0)))
        .map(|r| r.expect("newest time"))
        .max()
        .unwrap_or(0);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let shift = i64::try_from(now).expect("seconds") - newest;
    for (table, column) in FIXTURE_TIMES {
        if has_column(table, column) {
            conn.execute(&format!("UPDATE {table} SET {column} = {column} + ?1 WHERE {column} IS NOT NULL"), [shift])
                .expect("move the fixture's clock");
        }
    }
}

/// Bytes free on the file system holding `dir` (`df`'s "Available").
pub fn free_bytes(dir: &Path) -> u64 {
    let out = Command::new("df").args(["--output=avail", "-B1"]).arg(dir).output().expect("df");
    String::from_utf8_lossy(&out.stdout).lines().nth(1).and_then(|l| l.trim().parse().ok()).unwrap_or(0)
}
