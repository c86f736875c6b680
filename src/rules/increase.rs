//! How far to raise a quota: a percentage of the current value or an absolute step.

use serde::Serialize;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(into = "String")]
pub enum Increase {
    /// `"50%"`: the current value times 1.5.
    Percent(f64),
    /// `"+500"`: the current value plus 500.
    Step(f64),
}

impl Increase {
    /// Parses `"50%"` or `"+500"`; both must be positive.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (number, make): (&str, fn(f64) -> Increase) = if let Some(p) = text.strip_suffix('%') {
            (p, Increase::Percent)
        } else if let Some(s) = text.strip_prefix('+') {
            (s, Increase::Step)
        } else {
            return Err(format!(
                "{text:?} is neither a percentage (\"50%\") nor a step (\"+500\")"
            ));
        };
        match number.trim().parse::<f64>() {
            Ok(n) if n.is_finite() && n > 0.0 => Ok(make(n)),
            _ => Err(format!("{text:?} must hold a positive number")),
        }
    }

    /// The value to ask for, rounded up; always at least one more than `current`.
    pub fn apply(self, current: f64) -> f64 {
        let raised = match self {
            Increase::Percent(p) => current * (1.0 + p / 100.0),
            Increase::Step(s) => current + s,
        };
        let rounded = raised.ceil();
        if rounded > current {
            rounded
        } else {
            current.floor() + 1.0
        }
    }
}

impl fmt::Display for Increase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Increase::Percent(p) => write!(f, "{p}%"),
            Increase::Step(s) => write!(f, "+{s}"),
        }
    }
}

impl From<Increase> for String {
    fn from(value: Increase) -> Self {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::Increase;

    #[test]
    fn parses_both_forms() {
        assert_eq!(Increase::parse("50%"), Ok(Increase::Percent(50.0)));
        assert_eq!(Increase::parse(" +500 "), Ok(Increase::Step(500.0)));
        assert!(Increase::parse("500").is_err());
        assert!(Increase::parse("-5%").is_err());
        assert!(Increase::parse("+0").is_err());
        assert!(Increase::parse("NaN%").is_err());
    }

    #[test]
    fn applies_rounding_up_and_strictly_above() {
        assert_eq!(Increase::Percent(50.0).apply(1000.0), 1500.0);
        assert_eq!(Increase::Percent(10.0).apply(5.0), 6.0);
        assert_eq!(Increase::Percent(1.0).apply(1.0), 2.0);
        assert_eq!(Increase::Step(0.2).apply(3.0), 4.0);
        assert_eq!(Increase::Step(500.0).apply(1000.0), 1500.0);
        assert_eq!(Increase::Percent(20.0).apply(2.5), 3.0);
    }
}
