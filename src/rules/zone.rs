//! Windows in local time: an IANA time zone (`timezone = "Europe/Berlin"`), its offset from UTC at an
//! instant, and the window folded into the UTC hours and days that EventBridge's cron runs on
//! (EventBridge scheduled rules are in UTC: EventBridge user guide, "Creating a rule that runs on a
//! schedule").

use super::schedule::{ActiveWindow, Schedule};
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// Instants at which a zone's rule is checked when it is read: a northern winter and summer day, so
/// that a window that folds in one season but not the other is refused at `rules check`, not at the
/// first sync after the change.
pub const CHECKED_AT: [(&str, i64); 2] = [
    ("15 January 2026", 1_768_435_200),
    ("15 July 2026", 1_784_073_600),
];

/// Whether `name` is written as an IANA zone is (`Area/Location`, `UTC`): the check the shared rules
/// parser makes without the database.
pub fn looks_like_zone(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c))
}

/// A time zone known to the bundled IANA database.
pub fn zone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name).map_err(|_| {
        format!(
            "{name:?} is not an IANA time zone such as \"Europe/Berlin\" or \"America/New_York\""
        )
    })
}

/// The zone's offset from UTC at `unix_secs`, in seconds east of UTC.
pub fn offset_at(zone: &TimeZone, unix_secs: i64) -> i32 {
    let at = Timestamp::from_second(unix_secs).unwrap_or(Timestamp::UNIX_EPOCH);
    zone.to_offset(at).seconds()
}

/// `UTC+01:00`, `UTC-04:00`, `UTC+05:30`.
pub fn offset_label(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    format!("UTC{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

/// A schedule restricted to a local window, folded for the offset in force at `unix_secs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Folded {
    pub expression: String,
    /// The offset it was folded for, such as `UTC+01:00`.
    pub offset: String,
}

/// Folds `window` (local time in `zone`) into `schedule` for the offset in force at `unix_secs`.
pub fn fold(
    schedule: &Schedule,
    window: &ActiveWindow,
    zone: &TimeZone,
    unix_secs: i64,
) -> Result<Folded, String> {
    let offset = offset_at(zone, unix_secs);
    let utc = window.shifted(offset)?;
    Ok(Folded {
        expression: schedule.within(&utc)?.to_string(),
        offset: offset_label(offset),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(zone_name: &str, hours: &str, days: Option<&str>, at: i64) -> Result<Folded, String> {
        let schedule = Schedule::parse("rate(5 minutes)").unwrap();
        let window = ActiveWindow::parse(Some(hours), days).unwrap();
        fold(&schedule, &window, &zone(zone_name).unwrap(), at)
    }

    const JANUARY: i64 = CHECKED_AT[0].1;
    const JULY: i64 = CHECKED_AT[1].1;

    #[test]
    fn berlin_and_new_york_fold_by_season() {
        let berlin = |at| folded("Europe/Berlin", "08-18", Some("MON-FRI"), at).unwrap();
        assert_eq!(
            berlin(JANUARY),
            Folded {
                expression: "cron(0/5 7-16 ? * MON-FRI *)".into(),
                offset: "UTC+01:00".into()
            }
        );
        assert_eq!(
            berlin(JULY),
            Folded {
                expression: "cron(0/5 6-15 ? * MON-FRI *)".into(),
                offset: "UTC+02:00".into()
            }
        );
        let new_york = |at| folded("America/New_York", "08-18", Some("MON-FRI"), at).unwrap();
        assert_eq!(
            new_york(JANUARY).expression,
            "cron(0/5 13-22 ? * MON-FRI *)"
        );
        assert_eq!(new_york(JANUARY).offset, "UTC-05:00");
        assert_eq!(new_york(JULY).expression, "cron(0/5 12-21 ? * MON-FRI *)");
        assert_eq!(new_york(JULY).offset, "UTC-04:00");
    }

    #[test]
    fn a_window_that_moves_to_another_utc_day_takes_its_days_along() {
        // Honolulu (UTC-10, no summer time): 16-20 local is 02-06 UTC of the next day.
        let honolulu = folded("Pacific/Honolulu", "16-20", Some("MON-FRI"), JANUARY).unwrap();
        assert_eq!(
            honolulu.expression,
            "cron(0/5 2-5 ? * TUE,WED,THU,FRI,SAT *)"
        );
        // Tokyo (UTC+9): 06-08 local is 21-23 UTC of the day before.
        let tokyo = folded("Asia/Tokyo", "06-08", Some("MON"), JANUARY).unwrap();
        assert_eq!(tokyo.expression, "cron(0/5 21-22 ? * SUN *)");
    }

    #[test]
    fn every_day_windows_wrap_across_utc_midnight() {
        // Berlin 00-06 every day: 23-05 UTC in winter.
        let night = folded("Europe/Berlin", "00-06", None, JANUARY).unwrap();
        assert_eq!(night.expression, "cron(0/5 23,0-4 * * ? *)");
        let across = folded("Europe/Berlin", "22-02", None, JULY).unwrap();
        assert_eq!(across.expression, "cron(0/5 20-23 * * ? *)");
    }

    #[test]
    fn what_cannot_be_folded_is_said() {
        // Weekdays 08-18 in Auckland (UTC+13 in January) span two UTC days.
        let err = folded("Pacific/Auckland", "08-18", Some("MON-FRI"), JANUARY).unwrap_err();
        assert!(err.contains("two UTC days"), "{err}");
        let err = folded("Asia/Kolkata", "08-18", None, JANUARY).unwrap_err();
        assert!(err.contains("UTC+05:30"), "{err}");
        assert!(zone("Mars/Olympus_Mons").is_err());
        assert!(zone("Europe/Berlin").is_ok());
    }
}
