//! Calendar dates from Unix time, in UTC, for the few places that show or write one
//! (`Received:` headers, certificate validity). Not worth a date crate.

/// A point in time split into its UTC calendar fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc {
    /// Year.
    pub year: i64,
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–31.
    pub day: u32,
    /// Day of the week, 0 = Monday … 6 = Sunday.
    pub weekday: u32,
    /// Hour, 0–23.
    pub hour: u32,
    /// Minute, 0–59.
    pub minute: u32,
    /// Second, 0–59.
    pub second: u32,
}

impl Utc {
    /// The calendar fields of `unix_secs` (Howard Hinnant's days-to-civil algorithm).
    pub fn from_unix(unix_secs: i64) -> Utc {
        let days = unix_secs.div_euclid(86_400);
        let secs = unix_secs.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let small = |v: i64| u32::try_from(v).unwrap_or(0);
        Utc {
            year: yoe + era * 400 + i64::from(month <= 2),
            month: small(month),
            day: small(day),
            // 1970-01-01 was a Thursday.
            weekday: small((days + 3).rem_euclid(7)),
            hour: small(secs / 3600),
            minute: small(secs / 60 % 60),
            second: small(secs % 60),
        }
    }
}

/// `2026-11-26 17:08 UTC`.
pub fn format_utc(unix_secs: i64) -> String {
    let t = Utc::from_unix(unix_secs);
    format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", t.year, t.month, t.day, t.hour, t.minute)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(1_795_688_400), "2026-11-26 10:20 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(format_utc(-1), "1969-12-31 23:59 UTC");
        assert_eq!(Utc::from_unix(1_795_688_400).weekday, 3, "a Thursday");
    }
}
