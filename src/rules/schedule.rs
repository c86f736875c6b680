//! EventBridge schedule expressions, checked as EventBridge checks them, and active windows folded
//! into them: a window becomes the hours and days of a `cron(...)`, so nothing runs (or costs)
//! outside it.

use std::fmt;

/// A schedule expression EventBridge accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Schedule {
    Rate { value: u32, unit: RateUnit },
    Cron(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateUnit {
    Minute,
    Hour,
    Day,
}

impl RateUnit {
    fn minutes(self) -> u64 {
        match self {
            RateUnit::Minute => 1,
            RateUnit::Hour => 60,
            RateUnit::Day => 1440,
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Rate { value, unit } => {
                let unit = match unit {
                    RateUnit::Minute => "minute",
                    RateUnit::Hour => "hour",
                    RateUnit::Day => "day",
                };
                let plural = if *value == 1 { "" } else { "s" };
                write!(f, "rate({value} {unit}{plural})")
            }
            Schedule::Cron(fields) => write!(f, "cron({fields})"),
        }
    }
}

impl Schedule {
    /// Parses `rate(5 minutes)` or `cron(0/5 8-17 ? * MON-FRI *)`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Some(inner) = text.strip_prefix("rate(").and_then(|t| t.strip_suffix(')')) {
            parse_rate(inner)
        } else if let Some(inner) = text.strip_prefix("cron(").and_then(|t| t.strip_suffix(')')) {
            check_cron(inner)?;
            Ok(Schedule::Cron(
                inner.split_whitespace().collect::<Vec<_>>().join(" "),
            ))
        } else {
            Err(format!(
                "{text:?} is not a schedule expression: use rate(5 minutes) or cron(0/5 * * * ? *)"
            ))
        }
    }

    /// The same schedule restricted to `window` (UTC, as EventBridge's cron is).
    pub fn within(&self, window: &ActiveWindow) -> Result<Schedule, String> {
        let Schedule::Rate { value, unit } = self else {
            return Err(
                "a cron(...) schedule carries its own hours and days: put the window in it".into(),
            );
        };
        let every = u64::from(*value) * unit.minutes();
        let (minutes, hours) = match every {
            m if m < 60 && 60 % m == 0 => (if m == 1 { "*".into() } else { format!("0/{m}") }, window.hours_field(1)),
            m if m % 60 == 0 && m / 60 <= 12 && 24 % (m / 60) == 0 => ("0".into(), window.hours_field(m / 60)),
            _ => {
                return Err(format!(
                    "{self} cannot be limited to a window: use minutes that divide an hour (1 to 30), hours that divide a day, or a cron(...) schedule"
                ))
            }
        };
        let days = window.days.as_deref().unwrap_or("*");
        let (day_of_month, day_of_week) = if days == "*" { ("*", "?") } else { ("?", days) };
        Ok(Schedule::Cron(format!(
            "{minutes} {hours} {day_of_month} * {day_of_week} *"
        )))
    }
}

fn parse_rate(inner: &str) -> Result<Schedule, String> {
    let bad = || {
        format!("rate({inner}) is not valid: use rate(1 minute), rate(5 minutes), rate(1 hour), rate(2 days)...")
    };
    let mut parts = inner.split_whitespace();
    let (Some(value), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let value: u32 = value.parse().map_err(|_| bad())?;
    if value == 0 {
        return Err(format!(
            "rate({inner}): the value must be a positive whole number"
        ));
    }
    let (unit, plural) = match unit {
        "minute" => (RateUnit::Minute, false),
        "minutes" => (RateUnit::Minute, true),
        "hour" => (RateUnit::Hour, false),
        "hours" => (RateUnit::Hour, true),
        "day" => (RateUnit::Day, false),
        "days" => (RateUnit::Day, true),
        _ => return Err(bad()),
    };
    // EventBridge refuses `rate(1 minutes)` and `rate(5 minute)`.
    if plural != (value != 1) {
        return Err(format!(
            "rate({inner}): EventBridge wants the singular unit for 1 and the plural otherwise"
        ));
    }
    Ok(Schedule::Rate { value, unit })
}

/// One cron field's rules: its range and the names it accepts.
struct CronField {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    specials: &'static [&'static str],
}

const MONTHS: &[&str] = &[
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const CRON_FIELDS: [CronField; 6] = [
    CronField {
        name: "minutes",
        min: 0,
        max: 59,
        names: &[],
        specials: &[],
    },
    CronField {
        name: "hours",
        min: 0,
        max: 23,
        names: &[],
        specials: &[],
    },
    CronField {
        name: "day-of-month",
        min: 1,
        max: 31,
        names: &[],
        specials: &["?", "L", "W"],
    },
    CronField {
        name: "month",
        min: 1,
        max: 12,
        names: MONTHS,
        specials: &[],
    },
    CronField {
        name: "day-of-week",
        min: 1,
        max: 7,
        names: WEEKDAYS,
        specials: &["?", "L", "#"],
    },
    CronField {
        name: "year",
        min: 1970,
        max: 2199,
        names: &[],
        specials: &[],
    },
];

fn check_cron(inner: &str) -> Result<(), String> {
    let fields: Vec<&str> = inner.split_whitespace().collect();
    if fields.len() != 6 {
        return Err(format!(
            "cron({inner}) has {} fields; EventBridge wants 6: minutes hours day-of-month month day-of-week year",
            fields.len()
        ));
    }
    for (text, field) in fields.iter().zip(CRON_FIELDS.iter()) {
        check_cron_field(text, field).map_err(|e| format!("cron({inner}): {}: {e}", field.name))?;
    }
    let (day_of_month, day_of_week) = (fields[2], fields[4]);
    if (day_of_month == "?") == (day_of_week == "?") {
        return Err(format!(
            "cron({inner}): one of day-of-month and day-of-week must be ?, and only one"
        ));
    }
    Ok(())
}

fn check_cron_field(text: &str, field: &CronField) -> Result<(), String> {
    if text == "?" {
        return if field.specials.contains(&"?") {
            Ok(())
        } else {
            Err("? is only allowed in day-of-month or day-of-week".into())
        };
    }
    for item in text.split(',') {
        check_cron_item(item, field)?;
    }
    Ok(())
}

fn check_cron_item(item: &str, field: &CronField) -> Result<(), String> {
    let value = |token: &str| -> Result<u32, String> {
        if let Some(index) = field
            .names
            .iter()
            .position(|n| token.eq_ignore_ascii_case(n))
        {
            return Ok(field.min + index as u32);
        }
        let number: u32 = token
            .parse()
            .map_err(|_| format!("{token:?} is not a value"))?;
        if (field.min..=field.max).contains(&number) {
            Ok(number)
        } else {
            Err(format!("{number} is outside {}-{}", field.min, field.max))
        }
    };
    if item.is_empty() {
        return Err("an empty item".into());
    }
    // L (last), W (nearest weekday) and # (nth weekday) where AWS allows them.
    if field.specials.contains(&"L") && (item == "L" || item.ends_with('L')) {
        let rest = item.trim_end_matches('L');
        return if rest.is_empty() {
            Ok(())
        } else {
            value(rest).map(drop)
        };
    }
    if field.specials.contains(&"W") && item == "LW" {
        return Ok(());
    }
    if field.specials.contains(&"W") && item.ends_with('W') {
        return value(item.trim_end_matches('W')).map(drop);
    }
    if field.specials.contains(&"#") {
        if let Some((day, nth)) = item.split_once('#') {
            value(day)?;
            return match nth.parse::<u32>() {
                Ok(1..=5) => Ok(()),
                _ => Err(format!("{item:?}: the week after # must be 1 to 5")),
            };
        }
    }
    let (range, step) = match item.split_once('/') {
        Some((range, step)) => (range, Some(step)),
        None => (item, None),
    };
    if let Some(step) = step {
        match step.parse::<u32>() {
            Ok(s) if s >= 1 && s <= field.max => {}
            _ => {
                return Err(format!(
                    "{item:?}: the step after / must be 1 to {}",
                    field.max
                ))
            }
        }
    }
    if range == "*" {
        return Ok(());
    }
    match range.split_once('-') {
        Some((from, to)) => {
            value(from)?;
            value(to)?;
            Ok(())
        }
        None => value(range).map(drop),
    }
}

/// Hours (UTC) and days when a target is kept warm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveWindow {
    /// From this hour (0-23) to before `until_hour` (1-24); wraps past midnight when `until_hour <= from_hour`.
    pub from_hour: u32,
    pub until_hour: u32,
    /// Cron day-of-week text such as `MON-FRI`; `None` is every day.
    pub days: Option<String>,
}

impl ActiveWindow {
    /// `hours` is `"08-18"` (from 08:00 until 18:00 UTC); `days` a cron day-of-week field.
    pub fn parse(hours: Option<&str>, days: Option<&str>) -> Result<Self, String> {
        let (from_hour, until_hour) = match hours {
            None => (0, 24),
            Some(text) => {
                let bad =
                    || format!("{text:?} is not an hour range such as \"08-18\" (UTC, 0 to 24)");
                let (from, until) = text.split_once('-').ok_or_else(bad)?;
                let from: u32 = from.trim().parse().map_err(|_| bad())?;
                let until: u32 = until.trim().parse().map_err(|_| bad())?;
                if from > 23 || until > 24 || until == from || (until == 0 && from == 0) {
                    return Err(bad());
                }
                (from, until)
            }
        };
        let days = match days {
            None => None,
            Some(text) => {
                check_cron_field(text, &CRON_FIELDS[4]).map_err(|e| {
                    format!("{text:?} is not a day-of-week field such as \"MON-FRI\": {e}")
                })?;
                if text == "?" {
                    return Err("days cannot be ?".into());
                }
                Some(text.to_ascii_uppercase())
            }
        };
        Ok(ActiveWindow {
            from_hour,
            until_hour,
            days,
        })
    }

    /// The same window in UTC, for a zone `offset_secs` east of UTC: the hours moved by the offset, and
    /// the days with them when the whole window moves to the UTC day before or after. A window with days
    /// that the move splits across two UTC days cannot be one cron expression, nor can an offset that
    /// is not a whole number of hours: both are refused, saying why.
    pub fn shifted(&self, offset_secs: i32) -> Result<ActiveWindow, String> {
        let label = super::zone::offset_label(offset_secs);
        if offset_secs % 3600 != 0 {
            return Err(format!(
                "the zone is at {label}: only whole-hour offsets fold into an hour window (use a cron(...) schedule in UTC)"
            ));
        }
        let hours = offset_secs / 3600;
        let (from, until) = (self.from_hour as i32, self.until_hour as i32);
        let length = if until > from {
            until - from
        } else {
            until + 24 - from
        };
        if length == 24 && self.days.is_none() {
            return Ok(self.clone());
        }
        let start = from - hours;
        let (from_utc, day_moved) = (start.rem_euclid(24), start.div_euclid(24));
        let end = from_utc + length;
        let local_wraps = until <= from;
        if self.days.is_some() && end > 24 && !local_wraps {
            return Err(format!(
                "{:02}-{:02} local time is at {label} {:02}:00-{:02}:00 UTC, across two UTC days: with active_days that is not one schedule (split the rule in two, or leave out active_days)",
                from, until, from_utc, end % 24
            ));
        }
        let until_utc = if end % 24 == 0 { 24 } else { end % 24 };
        let days = match (&self.days, day_moved) {
            (Some(days), moved) if moved != 0 => Some(shift_days(days, moved)?),
            (days, _) => days.clone(),
        };
        Ok(ActiveWindow {
            from_hour: from_utc as u32,
            until_hour: until_utc as u32,
            days,
        })
    }

    /// The cron hours field for hours `from_hour..until_hour`, every `step` hours.
    fn hours_field(&self, step: u64) -> String {
        let step = if step > 1 {
            format!("/{step}")
        } else {
            String::new()
        };
        let range = |from: u32, until: u32| {
            if until - from == 1 {
                format!("{from}{step}")
            } else {
                format!("{from}-{}{step}", until - 1)
            }
        };
        if self.from_hour == 0 && self.until_hour == 24 {
            return format!("*{step}").replace("*/", "0/");
        }
        if self.until_hour > self.from_hour {
            range(self.from_hour, self.until_hour)
        } else if self.until_hour == 0 {
            range(self.from_hour, 24)
        } else {
            format!(
                "{},{}",
                range(self.from_hour, 24),
                range(0, self.until_hour)
            )
        }
    }
}

/// A day-of-week field moved by `by` days (EventBridge numbers days 1-7 from SUN to SAT), written as
/// the list of day names.
pub(crate) fn shift_days(field: &str, by: i32) -> Result<String, String> {
    let day = |text: &str| -> Result<i32, String> {
        let text = text.trim();
        if let Some(index) = WEEKDAYS.iter().position(|d| d.eq_ignore_ascii_case(text)) {
            return Ok(index as i32 + 1);
        }
        text.parse::<i32>()
            .ok()
            .filter(|n| (1..=7).contains(n))
            .ok_or_else(|| format!("active_days {field:?} cannot be moved to another UTC day (only day names, numbers, ranges and lists can)"))
    };
    let mut days = [false; 7];
    for item in field.split(',') {
        let (first, last) = match item.split_once('-') {
            Some((a, b)) => (day(a)?, day(b)?),
            None => (day(item)?, day(item)?),
        };
        let mut d = first;
        loop {
            days[((d - 1 + by).rem_euclid(7)) as usize] = true;
            if d == last {
                break;
            }
            d = d % 7 + 1;
        }
    }
    Ok(WEEKDAYS
        .iter()
        .zip(days)
        .filter(|(_, on)| *on)
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_move_with_the_window() {
        assert_eq!(shift_days("MON-FRI", 1).unwrap(), "TUE,WED,THU,FRI,SAT");
        assert_eq!(shift_days("MON", -1).unwrap(), "SUN");
        assert_eq!(shift_days("SAT,SUN", 1).unwrap(), "SUN,MON");
        assert_eq!(shift_days("2-6", -1).unwrap(), "SUN,MON,TUE,WED,THU");
        assert!(shift_days("6L", 1).is_err());
    }

    #[test]
    fn rates_are_checked_as_eventbridge_checks_them() {
        assert_eq!(
            Schedule::parse("rate(5 minutes)").unwrap().to_string(),
            "rate(5 minutes)"
        );
        assert_eq!(
            Schedule::parse(" rate(1 hour) ").unwrap().to_string(),
            "rate(1 hour)"
        );
        for bad in [
            "rate(1 minutes)",
            "rate(5 minute)",
            "rate(0 minutes)",
            "rate(5 weeks)",
            "rate(-1 minutes)",
            "rate(five minutes)",
            "rate(5)",
            "every 5 minutes",
            "rate(5 minutes",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn cron_fields_are_checked() {
        for good in [
            "cron(0/5 * * * ? *)",
            "cron(0 8-17 ? * MON-FRI *)",
            "cron(15 10 ? * 6L 2027-2029)",
            "cron(0 9 LW * ? *)",
            "cron(0 9 ? * 2#1 *)",
            "cron(0,30 * 1 JAN-MAR ? *)",
        ] {
            assert!(
                Schedule::parse(good).is_ok(),
                "{good}: {:?}",
                Schedule::parse(good)
            );
        }
        for bad in [
            "cron(* * * * *)",
            "cron(0 24 * * ? *)",
            "cron(60 * * * ? *)",
            "cron(0 * * * * *)",
            "cron(0 * ? * ? *)",
            "cron(0 * * 13 ? *)",
            "cron(0 * ? * FUNDAY *)",
            "cron(0/0 * * * ? *)",
            "cron(? * * * ? *)",
            "cron(0 * * * ? 1900)",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn a_window_becomes_the_hours_and_days_of_a_cron() {
        let office = ActiveWindow::parse(Some("08-18"), Some("MON-FRI")).unwrap();
        let every = |text: &str| {
            Schedule::parse(text)
                .unwrap()
                .within(&office)
                .map(|s| s.to_string())
        };
        assert_eq!(
            every("rate(5 minutes)").unwrap(),
            "cron(0/5 8-17 ? * MON-FRI *)"
        );
        assert_eq!(
            every("rate(1 minute)").unwrap(),
            "cron(* 8-17 ? * MON-FRI *)"
        );
        assert_eq!(every("rate(1 hour)").unwrap(), "cron(0 8-17 ? * MON-FRI *)");
        assert!(every("rate(7 minutes)").is_err());
        assert!(every("rate(1 day)").is_err());
        let night = ActiveWindow::parse(Some("22-06"), None).unwrap();
        assert_eq!(
            Schedule::parse("rate(10 minutes)")
                .unwrap()
                .within(&night)
                .unwrap()
                .to_string(),
            "cron(0/10 22-23,0-5 * * ? *)"
        );
        let all_day = ActiveWindow::parse(None, Some("SAT,SUN")).unwrap();
        assert_eq!(
            Schedule::parse("rate(2 hours)")
                .unwrap()
                .within(&all_day)
                .unwrap()
                .to_string(),
            "cron(0 0/2 ? * SAT,SUN *)"
        );
        assert!(Schedule::parse("cron(0 * * * ? *)")
            .unwrap()
            .within(&office)
            .is_err());
        for (hours, days) in [
            (Some("8"), None),
            (Some("25-3"), None),
            (Some("08-08"), None),
            (None, Some("MONDAY")),
            (None, Some("?")),
        ] {
            assert!(
                ActiveWindow::parse(hours, days).is_err(),
                "{hours:?} {days:?}"
            );
        }
        // Every generated expression passes our own cron check.
        for text in ["rate(5 minutes)", "rate(1 hour)", "rate(3 hours)"] {
            let generated = Schedule::parse(text)
                .unwrap()
                .within(&night)
                .unwrap()
                .to_string();
            assert!(Schedule::parse(&generated).is_ok(), "{generated}");
        }
    }
}
