//! Reading one file's rules field by field, collecting every error instead of stopping at the first.

use super::error::RuleError;
use super::increase::Increase;
use toml::{Table, Value};

/// Collects errors for one file, so that one run reports them all.
pub(super) struct FileCheck<'a> {
    pub(super) file: &'a str,
    pub(super) runbooks: &'a [&'a str],
    pub(super) errors: Vec<RuleError>,
}

impl FileCheck<'_> {
    pub(super) fn error(
        &mut self,
        rule: Option<&str>,
        field: Option<&str>,
        message: impl Into<String>,
    ) {
        self.errors.push(RuleError {
            file: self.file.to_owned(),
            rule: rule.map(str::to_owned),
            field: field.map(str::to_owned),
            message: message.into(),
        });
    }
}

/// Typed access to one rule's fields, recording errors as it goes.
pub(super) struct Fields<'c, 'a> {
    pub(super) check: &'c mut FileCheck<'a>,
    pub(super) table: &'c Table,
    pub(super) rule: Option<String>,
}

impl<'c, 'a> Fields<'c, 'a> {
    /// The `index`th `[[kind]]` of a file as its fields, labelled in errors by `label(table)` (else
    /// `<kind> #n`). `None`, the error recorded, when it is not a table.
    pub(super) fn of_rule(
        check: &'c mut FileCheck<'a>,
        kind: &str,
        index: usize,
        value: &'c Value,
        label: impl Fn(&Table) -> Option<String>,
    ) -> Option<Self> {
        let numbered = if kind.is_empty() {
            format!("#{}", index + 1)
        } else {
            format!("{kind} #{}", index + 1)
        };
        let Some(table) = value.as_table() else {
            check.error(Some(&numbered), None, "must be a table");
            return None;
        };
        Some(Fields {
            check,
            table,
            rule: Some(label(table).unwrap_or(numbered)),
        })
    }

    /// Errors recorded so far in the file: a rule is kept only when reading it added none.
    pub(super) fn errors(&self) -> usize {
        self.check.errors.len()
    }

    /// A whole number in `range` (`unit` names it in the error); `default` when absent.
    pub(super) fn whole_number(
        &mut self,
        field: &str,
        range: std::ops::RangeInclusive<i64>,
        default: Option<i64>,
        unit: &str,
    ) -> Option<i64> {
        match self.table.get(field) {
            None => default,
            Some(Value::Integer(n)) if range.contains(n) => Some(*n),
            Some(other) => {
                self.error(
                    field,
                    format!(
                        "must be a whole number of {unit} from {} to {}, found {}",
                        range.start(),
                        range.end(),
                        shown(other)
                    ),
                );
                None
            }
        }
    }

    /// A utilization percentage above 0 and at most 100.
    pub(super) fn percentage(&mut self, field: &str) -> Option<f64> {
        match self.table.get(field)? {
            Value::Integer(n) if (1..=100).contains(n) => Some(*n as f64),
            Value::Float(f) if *f > 0.0 && *f <= 100.0 => Some(*f),
            _ => {
                self.error(
                    field,
                    "must be a utilization percentage above 0 and at most 100",
                );
                None
            }
        }
    }

    /// A TOML table as a JSON object of at most `max_bytes`; `default` when absent.
    pub(super) fn json_object(
        &mut self,
        field: &str,
        max_bytes: usize,
        default: serde_json::Value,
        example: &str,
    ) -> Option<serde_json::Value> {
        match self.table.get(field) {
            None => Some(default),
            Some(Value::Table(table)) => match serde_json::to_value(table) {
                Ok(json) if json.to_string().len() <= max_bytes => Some(json),
                Ok(_) => {
                    self.error(field, format!("is larger than {max_bytes} bytes as JSON"));
                    None
                }
                Err(e) => {
                    self.error(field, format!("cannot be written as JSON: {e}"));
                    None
                }
            },
            Some(other) => {
                self.error(
                    field,
                    format!(
                        "must be a table such as {example}, found {}",
                        other.type_str()
                    ),
                );
                None
            }
        }
    }

    /// A field that only another mode takes: an error naming why.
    pub(super) fn refuse(&mut self, field: &str, why: &str) {
        if self.table.contains_key(field) {
            self.error(field, why.to_owned());
        }
    }

    pub(super) fn error(&mut self, field: &str, message: impl Into<String>) {
        let rule = self.rule.clone();
        self.check.error(rule.as_deref(), Some(field), message);
    }

    pub(super) fn optional_str(&mut self, field: &str) -> Option<String> {
        match self.table.get(field)? {
            Value::String(s) => Some(s.clone()),
            other => {
                self.error(
                    field,
                    format!("must be a string, found {}", other.type_str()),
                );
                None
            }
        }
    }

    pub(super) fn required_str(&mut self, field: &str) -> Option<String> {
        if !self.table.contains_key(field) {
            self.error(field, "is required");
            return None;
        }
        self.optional_str(field)
    }

    pub(super) fn boolean(&mut self, field: &str) -> Option<bool> {
        match self.table.get(field)? {
            Value::Boolean(b) => Some(*b),
            other => {
                self.error(
                    field,
                    format!("must be true or false, found {}", other.type_str()),
                );
                None
            }
        }
    }

    pub(super) fn positive(&mut self, field: &str) -> Option<f64> {
        let number = match self.table.get(field)? {
            Value::Integer(i) => *i as f64,
            Value::Float(f) => *f,
            other => {
                self.error(
                    field,
                    format!("must be a number, found {}", other.type_str()),
                );
                return None;
            }
        };
        if number.is_finite() && number > 0.0 && number <= 1e10 {
            Some(number)
        } else {
            self.error(field, format!("{number} must be above 0 and at most 1e10"));
            None
        }
    }

    pub(super) fn minutes(&mut self, field: &str) -> Option<u32> {
        match self.table.get(field)? {
            Value::Integer(i) if (0..=10_080).contains(i) => Some(*i as u32),
            other => {
                let found = match other {
                    Value::Integer(i) => i.to_string(),
                    other => other.type_str().to_owned(),
                };
                self.error(
                    field,
                    format!(
                        "must be a whole number of minutes from 0 to 10080 (a week), found {found}"
                    ),
                );
                None
            }
        }
    }

    pub(super) fn increase(&mut self, field: &str) -> Option<Increase> {
        let text = self.optional_str(field)?;
        match Increase::parse(&text) {
            Ok(increase) => Some(increase),
            Err(message) => {
                self.error(field, message);
                None
            }
        }
    }

    /// A list of strings; absent is empty.
    pub(super) fn string_list(&mut self, field: &str) -> Vec<String> {
        match self.table.get(field) {
            None => Vec::new(),
            Some(Value::Array(items)) if items.iter().all(Value::is_str) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            Some(_) => {
                self.error(field, "must be a list of names, such as [\"a\", \"b\"]");
                Vec::new()
            }
        }
    }

    pub(super) fn reject_unknown(&mut self, known: &[&str]) {
        let unknown: Vec<String> = self
            .table
            .keys()
            .filter(|k| !known.contains(&k.as_str()))
            .cloned()
            .collect();
        for key in unknown {
            self.error(
                &key,
                format!("unknown field (expected one of: {})", known.join(", ")),
            );
        }
    }
}

/// A value as an error shows it: a number as written, anything else by its type.
fn shown(value: &Value) -> String {
    match value {
        Value::Integer(i) => i.to_string(),
        other => other.type_str().to_owned(),
    }
}
