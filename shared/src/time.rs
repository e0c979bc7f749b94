//! Times as Mailroom writes and shows them, from Unix seconds: in mail headers
//! (RFC 5322), for people (UTC, or the machine's local time in ISO 8601), and as
//! calendar dates (certificate validity). jiff does the calendar and the time zones.

use jiff::Timestamp;
use jiff::fmt::rfc2822;
use jiff::tz::TimeZone;

fn timestamp(unix_secs: i64) -> Timestamp {
    Timestamp::from_second(unix_secs).unwrap_or(if unix_secs < 0 { Timestamp::MIN } else { Timestamp::MAX })
}

/// An RFC 5322 date-time in UTC, as mail headers carry it:
/// `Thu, 26 Nov 2026 10:20:00 +0000`.
pub fn rfc5322(unix_secs: i64) -> String {
    let zoned = timestamp(unix_secs).to_zoned_datetime(TimeZone::UTC);
    rfc2822::to_string(&zoned).unwrap_or_default()
}

/// `2026-11-26 17:08 UTC`.
pub fn format_utc(unix_secs: i64) -> String {
    timestamp(unix_secs).to_zoned_datetime(TimeZone::UTC).strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// ISO 8601 in the machine's time zone, to the second: `2026-11-26T18:08:00+01:00`.
pub fn format_local(unix_secs: i64) -> String {
    timestamp(unix_secs).to_zoned_datetime(TimeZone::system()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// Hours and minutes in the machine's time zone: `18:08` (a minute of today, on a
/// chart or in a table).
pub fn local_hm(unix_secs: i64) -> String {
    timestamp(unix_secs).to_zoned_datetime(TimeZone::system()).strftime("%H:%M").to_string()
}

/// The machine's local time to the second, for file names: `20261127-130512`.
pub fn local_stamp(unix_secs: i64) -> String {
    timestamp(unix_secs).to_zoned_datetime(TimeZone::system()).strftime("%Y%m%d-%H%M%S").to_string()
}

/// The first moment after `unix_secs` at which the machine's local clock reads
/// `hour:minute:second` (today's, or tomorrow's), Unix seconds.
pub fn next_local(unix_secs: i64, (hour, minute, second): (u8, u8, u8)) -> i64 {
    next_in(unix_secs, (hour, minute, second), &TimeZone::system())
}

fn next_in(unix_secs: i64, (hour, minute, second): (u8, u8, u8), tz: &TimeZone) -> i64 {
    let now = timestamp(unix_secs).to_zoned_datetime(tz.clone());
    let at = |date: jiff::civil::Date| {
        let (h, m, s) = (hour.min(23) as i8, minute.min(59) as i8, second.min(59) as i8);
        tz.to_timestamp(date.at(h, m, s, 0)).map(|t| t.as_second()).unwrap_or(i64::MAX)
    };
    let today = at(now.date());
    if today > unix_secs { today } else { now.date().tomorrow().map_or(i64::MAX, at) }
}

/// The UTC calendar date: year, month (1–12), day (1–31).
pub fn utc_date(unix_secs: i64) -> (i16, i8, i8) {
    let d = timestamp(unix_secs).to_zoned_datetime(TimeZone::UTC).date();
    (d.year(), d.month(), d.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_daily_time_is_today_or_tomorrow() {
        let utc = TimeZone::UTC;
        // 2026-11-27 10:00:00 UTC.
        let now = 1_795_773_600;
        assert_eq!(next_in(now, (10, 30, 0), &utc), now + 1800, "later today");
        assert_eq!(next_in(now, (10, 0, 0), &utc), now + 86_400, "now is not next: tomorrow");
        assert_eq!(next_in(now, (2, 30, 0), &utc), now + 16 * 3600 + 1800, "tomorrow early");
    }

    #[test]
    fn dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(1_795_688_400), "2026-11-26 10:20 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(format_utc(-1), "1969-12-31 23:59 UTC");
        assert_eq!(utc_date(951_782_400), (2000, 2, 29));
    }

    #[test]
    fn mail_dates() {
        assert_eq!(rfc5322(0), "Thu, 1 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc5322(1_795_688_400), "Thu, 26 Nov 2026 10:20:00 +0000");
        assert_eq!(rfc5322(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000");
    }

    #[test]
    fn local_time_is_iso_8601_with_an_offset() {
        let s = format_local(1_795_688_400);
        assert_eq!(s.len(), "2026-11-26T10:20:00+00:00".len(), "{s}");
        assert_eq!(&s[4..5], "-");
        assert_eq!(&s[10..11], "T");
    }
}
