//! Parsing and validating rules files, naming the file, rule and field of every error.

use super::prewarm::parse_prewarm_rule;
use super::{Defaults, DlqRule, DlqTarget, Increase, QuotaRule, RuleSet};
use std::fmt;
use std::path::Path;
use toml::{Table, Value};

/// One problem in a rules file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub file: String,
    pub rule: Option<String>,
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(rule) = &self.rule {
            write!(f, ": rule {rule}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every problem found in a rules folder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RulesError(pub Vec<RuleError>);

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        write!(f, "{}", lines.join("\n"))
    }
}

pub(super) fn read_dir(dir: &Path) -> Result<Vec<(String, String)>, RulesError> {
    let fail = |message: String| {
        RulesError(vec![RuleError {
            file: dir.display().to_string(),
            rule: None,
            field: None,
            message,
        }])
    };
    let entries = std::fs::read_dir(dir).map_err(|e| fail(format!("cannot read folder: {e}")))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| fail(e.to_string()))?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        files.push((name, text));
    }
    files.sort();
    if files.is_empty() {
        return Err(fail("no *.toml rules files".into()));
    }
    Ok(files)
}

/// Collects errors for one file, so that one run reports them all.
pub(super) struct FileCheck<'a> {
    file: &'a str,
    runbooks: &'a [&'a str],
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

pub(super) fn parse_sources(
    files: &[(&str, &str)],
    runbooks: &[&str],
) -> Result<RuleSet, RulesError> {
    let mut set = RuleSet::default();
    let mut errors = Vec::new();
    let mut defaults_file: Option<&str> = None;
    for &(file, text) in files {
        let mut check = FileCheck {
            file,
            runbooks,
            errors: Vec::new(),
        };
        match text.parse::<Table>() {
            Err(e) => check.error(None, None, format!("not valid TOML: {}", e.message())),
            Ok(table) => {
                for (key, value) in table {
                    match key.as_str() {
                        "defaults" => {
                            if let Some(first) = defaults_file {
                                check.error(
                                    None,
                                    Some("defaults"),
                                    format!("defaults are already set in {first}"),
                                );
                            }
                            defaults_file = Some(file);
                            if let Some(defaults) = parse_defaults(&mut check, &value) {
                                set.defaults = defaults;
                            }
                        }
                        "quota" => match value.as_array() {
                            Some(rules) => {
                                for (index, rule) in rules.iter().enumerate() {
                                    if let Some(rule) = parse_quota_rule(&mut check, index, rule) {
                                        set.quotas.push(rule);
                                    }
                                }
                            }
                            None => check.error(
                                None,
                                Some("quota"),
                                "must be an array of tables ([[quota]])",
                            ),
                        },
                        "dlq" => match value.as_array() {
                            Some(rules) => {
                                for (index, rule) in rules.iter().enumerate() {
                                    if let Some(rule) = parse_dlq_rule(&mut check, index, rule) {
                                        set.dlqs.push(rule);
                                    }
                                }
                            }
                            None => check.error(
                                None,
                                Some("dlq"),
                                "must be an array of tables ([[dlq]])",
                            ),
                        },
                        "prewarm" => match value.as_array() {
                            Some(rules) => {
                                for (index, rule) in rules.iter().enumerate() {
                                    if let Some(rule) = parse_prewarm_rule(&mut check, index, rule)
                                    {
                                        set.prewarm.push(rule);
                                    }
                                }
                            }
                            None => check.error(
                                None,
                                Some("prewarm"),
                                "must be an array of tables ([[prewarm]])",
                            ),
                        },
                        other => check.error(
                            None,
                            Some(other),
                            "unknown section (expected [defaults], [[quota]], [[dlq]] or [[prewarm]])",
                        ),
                    }
                }
            }
        }
        errors.extend(check.errors);
    }
    check_duplicates(&set, files, &mut errors);
    if errors.is_empty() {
        Ok(set)
    } else {
        Err(RulesError(errors))
    }
}

fn check_duplicates(set: &RuleSet, files: &[(&str, &str)], errors: &mut Vec<RuleError>) {
    let mut seen = std::collections::HashSet::new();
    let mut queues = std::collections::HashSet::new();
    for rule in &set.dlqs {
        if !queues.insert(rule.queue.as_str()) {
            errors.push(RuleError {
                file: files.iter().map(|f| f.0).collect::<Vec<_>>().join(", "),
                rule: Some(format!("{:?}", rule.name)),
                field: Some("queue".into()),
                message: format!("two [[dlq]] rules name the queue {:?}", rule.queue),
            });
        }
    }
    let mut targets = std::collections::HashSet::new();
    for rule in &set.prewarm {
        if !targets.insert((rule.function.as_str(), rule.qualifier.as_deref())) {
            errors.push(RuleError {
                file: files.iter().map(|f| f.0).collect::<Vec<_>>().join(", "),
                rule: Some(format!("{:?}", rule.name)),
                field: Some("function".into()),
                message: format!(
                    "two [[prewarm]] rules warm {}: one target, one rule",
                    rule.target_label()
                ),
            });
        }
    }
    let names = set
        .quotas
        .iter()
        .map(|r| &r.name)
        .chain(set.dlqs.iter().map(|r| &r.name))
        .chain(set.prewarm.iter().map(|r| &r.name));
    for name in names {
        if !seen.insert(name.as_str()) {
            errors.push(RuleError {
                file: files.iter().map(|f| f.0).collect::<Vec<_>>().join(", "),
                rule: Some(format!("{name:?}")),
                field: Some("name".into()),
                message: "two rules share this name".into(),
            });
        }
    }
}

fn parse_defaults(check: &mut FileCheck<'_>, value: &Value) -> Option<Defaults> {
    let Some(table) = value.as_table() else {
        check.error(None, Some("defaults"), "must be a table ([defaults])");
        return None;
    };
    let mut fields = Fields {
        check,
        table,
        rule: Some("[defaults]".into()),
    };
    let base = Defaults::default();
    let defaults = Defaults {
        increase: fields.increase("increase").unwrap_or(base.increase),
        raise_unmatched: fields
            .boolean("raise_unmatched")
            .unwrap_or(base.raise_unmatched),
        ceiling_factor: fields
            .positive("ceiling_factor")
            .unwrap_or(base.ceiling_factor),
        support_case: fields.boolean("support_case").unwrap_or(base.support_case),
        cooldown_minutes: fields
            .minutes("cooldown_minutes")
            .unwrap_or(base.cooldown_minutes),
    };
    fields.reject_unknown(&[
        "increase",
        "raise_unmatched",
        "ceiling_factor",
        "support_case",
        "cooldown_minutes",
    ]);
    Some(defaults)
}

const QUOTA_FIELDS: &[&str] = &[
    "name",
    "alarm",
    "service_code",
    "quota_code",
    "increase",
    "ceiling",
    "runbook",
    "support_case",
    "cooldown_minutes",
];

fn parse_quota_rule(check: &mut FileCheck<'_>, index: usize, value: &Value) -> Option<QuotaRule> {
    let Some(table) = value.as_table() else {
        check.error(Some(&format!("#{}", index + 1)), None, "must be a table");
        return None;
    };
    let label = match table.get("name").and_then(Value::as_str) {
        Some(name) => format!("{name:?}"),
        None => format!("#{}", index + 1),
    };
    let before = check.errors.len();
    let mut fields = Fields {
        check,
        table,
        rule: Some(label),
    };
    let name = fields.required_str("name");
    let alarm = fields.optional_str("alarm");
    let service_code = fields.required_str("service_code");
    let quota_code = fields.required_str("quota_code");
    let increase = fields.increase("increase");
    if !fields.table.contains_key("increase") {
        fields.error("increase", "is required (\"50%\" or \"+500\")");
    }
    let ceiling = fields.positive("ceiling");
    if !fields.table.contains_key("ceiling") {
        fields.error(
            "ceiling",
            "is required (the highest value selfheal may ask for)",
        );
    }
    let runbook = fields.optional_str("runbook");
    let support_case = fields.boolean("support_case");
    let cooldown_minutes = fields.minutes("cooldown_minutes");
    fields.reject_unknown(QUOTA_FIELDS);
    if let Some(code) = &quota_code {
        if !looks_like_quota_code(code) {
            fields.error(
                "quota_code",
                format!("{code:?} is not a quota code such as \"L-B99A9384\""),
            );
        }
    }
    if let Some(code) = &service_code {
        if code.is_empty()
            || !code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            fields.error(
                "service_code",
                format!("{code:?} is not a service code such as \"lambda\""),
            );
        }
    }
    if let Some(pattern) = &alarm {
        if pattern.trim().is_empty() {
            fields.error("alarm", "is empty; leave it out to match by usage metric");
        }
    }
    if let Some(runbook) = &runbook {
        if !fields.check.runbooks.contains(&runbook.as_str()) {
            let known = fields.check.runbooks.join(", ");
            fields.error(
                "runbook",
                format!("{runbook:?} is not in runbooks/ (known: {known})"),
            );
        }
    }
    if fields.check.errors.len() > before {
        return None;
    }
    Some(QuotaRule {
        name: name?,
        alarm,
        service_code: service_code?,
        quota_code: quota_code?,
        increase: increase?,
        ceiling: ceiling?,
        runbook,
        support_case,
        cooldown_minutes,
    })
}

const DLQ_FIELDS: &[&str] = &[
    "name",
    "queue",
    "function",
    "qualifier",
    "target_queue",
    "max_replays",
];

fn parse_dlq_rule(check: &mut FileCheck<'_>, index: usize, value: &Value) -> Option<DlqRule> {
    let Some(table) = value.as_table() else {
        check.error(
            Some(&format!("dlq #{}", index + 1)),
            None,
            "must be a table",
        );
        return None;
    };
    let label = match table.get("name").and_then(Value::as_str) {
        Some(name) => format!("{name:?}"),
        None => format!("dlq #{}", index + 1),
    };
    let before = check.errors.len();
    let mut fields = Fields {
        check,
        table,
        rule: Some(label),
    };
    let name = fields.required_str("name");
    let queue = fields.required_str("queue");
    let function = fields.optional_str("function");
    let qualifier = fields.optional_str("qualifier");
    let target_queue = fields.optional_str("target_queue");
    let max_replays = match fields.table.get("max_replays") {
        None => Some(3),
        Some(Value::Integer(n)) if (1..=100).contains(n) => Some(*n as u32),
        Some(_) => {
            fields.error("max_replays", "must be a whole number from 1 to 100");
            None
        }
    };
    fields.reject_unknown(DLQ_FIELDS);
    for (field, value) in [
        ("queue", &queue),
        ("target_queue", &target_queue),
        ("function", &function),
    ] {
        if let Some(value) = value {
            let valid = !value.is_empty()
                && value.len() <= 80
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
            if !valid {
                fields.error(field, format!("{value:?} is not a queue or function name (letters, digits, - and _; not a URL or ARN)"));
            }
        }
    }
    if function.is_some() && target_queue.is_some() {
        fields.error(
            "target_queue",
            "a rule has one target: `function` or `target_queue`, not both",
        );
    }
    if qualifier.is_some() && function.is_none() {
        fields.error("qualifier", "only a `function` target takes a qualifier");
    }
    if fields.check.errors.len() > before {
        return None;
    }
    let target = match (function, target_queue) {
        (Some(name), _) => DlqTarget::Function { name, qualifier },
        (None, Some(name)) => DlqTarget::Queue { name },
        (None, None) => DlqTarget::SourceQueue,
    };
    Some(DlqRule {
        name: name?,
        queue: queue?,
        target,
        max_replays: max_replays?,
    })
}

fn looks_like_quota_code(code: &str) -> bool {
    code.strip_prefix("L-").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    })
}

/// Typed access to one rule's fields, recording errors as it goes.
pub(super) struct Fields<'c, 'a> {
    pub(super) check: &'c mut FileCheck<'a>,
    pub(super) table: &'c Table,
    pub(super) rule: Option<String>,
}

impl Fields<'_, '_> {
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

    fn positive(&mut self, field: &str) -> Option<f64> {
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

    fn minutes(&mut self, field: &str) -> Option<u32> {
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

    fn increase(&mut self, field: &str) -> Option<Increase> {
        let text = self.optional_str(field)?;
        match Increase::parse(&text) {
            Ok(increase) => Some(increase),
            Err(message) => {
                self.error(field, message);
                None
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

#[cfg(test)]
mod tests {
    use super::*;

    const RUNBOOKS: &[&str] = &["not-adjustable", "lambda-concurrency"];

    fn parse(text: &str) -> Result<RuleSet, RulesError> {
        parse_sources(&[("quotas.toml", text)], RUNBOOKS)
    }

    #[test]
    fn a_valid_rule_parses() {
        let set = parse(
            r#"
            [defaults]
            increase = "+100"
            [[quota]]
            name = "lambda"
            alarm = "lambda-*"
            service_code = "lambda"
            quota_code = "L-B99A9384"
            increase = "50%"
            ceiling = 5000
            runbook = "lambda-concurrency"
            "#,
        )
        .unwrap();
        assert_eq!(set.defaults.increase, Increase::Step(100.0));
        assert_eq!(set.quotas[0].ceiling, 5000.0);
        assert_eq!(
            set.rule_for_alarm("lambda-concurrency").unwrap().name,
            "lambda"
        );
        assert!(set.rule_for_alarm("ec2").is_none());
    }

    #[test]
    fn every_error_names_file_rule_and_field() {
        let err = parse(
            r#"
            [[quota]]
            name = "broken"
            service_code = "Lambda"
            quota_code = "B99A9384"
            increase = "half"
            ceiling = -1
            runbook = "nowhere"
            colour = "red"
            "#,
        )
        .unwrap_err();
        let text = err.to_string();
        for field in [
            "service_code",
            "quota_code",
            "increase",
            "ceiling",
            "runbook",
            "colour",
        ] {
            assert!(
                text.contains(&format!("quotas.toml: rule \"broken\": field `{field}`")),
                "{field} missing from:\n{text}"
            );
        }
        assert_eq!(err.0.len(), 6);
    }

    #[test]
    fn missing_fields_and_bad_toml_are_reported() {
        let err = parse("[[quota]]\nname = \"x\"\n").unwrap_err();
        let fields: Vec<_> = err.0.iter().filter_map(|e| e.field.as_deref()).collect();
        assert_eq!(
            fields,
            ["service_code", "quota_code", "increase", "ceiling"]
        );
        let err = parse("[[quota]\n").unwrap_err();
        assert!(err.to_string().starts_with("quotas.toml: not valid TOML"));
    }

    #[test]
    fn dlq_rules_name_one_target() {
        let set = parse(
            "[[dlq]]\nname = \"orders\"\nqueue = \"orders-worker-dlq\"\nfunction = \"orders-worker\"\nqualifier = \"live\"\n\
             [[dlq]]\nname = \"billing\"\nqueue = \"billing-dlq\"\nmax_replays = 5\n",
        )
        .unwrap();
        assert_eq!(
            set.dlq("orders-worker-dlq").unwrap().target,
            DlqTarget::Function {
                name: "orders-worker".into(),
                qualifier: Some("live".into())
            }
        );
        assert_eq!(
            set.dlq("billing-dlq").unwrap().target,
            DlqTarget::SourceQueue
        );
        assert_eq!(set.dlq("billing-dlq").unwrap().max_replays, 5);
        let err = parse(
            "[[dlq]]\nname = \"x\"\nqueue = \"https://sqs/1/q\"\nfunction = \"f\"\ntarget_queue = \"t\"\nmax_replays = 0\n",
        )
        .unwrap_err()
        .to_string();
        for field in ["queue", "target_queue", "max_replays"] {
            assert!(
                err.contains(&format!("rule \"x\": field `{field}`")),
                "{field}: {err}"
            );
        }
    }

    #[test]
    fn duplicate_names_and_unknown_sections_are_errors() {
        let rule = "[[quota]]\nname = \"a\"\nservice_code = \"s\"\nquota_code = \"L-1\"\nincrease = \"+1\"\nceiling = 9\n";
        let err = parse(&format!("{rule}{rule}[mystery]\n")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("two rules share this name"), "{text}");
        assert!(text.contains("field `mystery`: unknown section"), "{text}");
    }
}
