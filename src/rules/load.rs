//! Parsing a rules folder's files into a `RuleSet`: the sections, the `[defaults]`, the `[[quota]]`
//! and `[[dlq]]` rules (`[[prewarm]]` is in `prewarm.rs`), and the checks across files.

use super::dlq_rule::{DlqRule, DlqTarget};
use super::error::{RuleError, RulesError};
use super::fields::{Fields, FileCheck};
use super::files;
use super::organization::{check_organization, is_account_id, parse_account, parse_hub};
use super::prewarm::parse_prewarm_rule;
use super::quota_rule::{Defaults, QuotaRule};
use super::set::RuleSet;
use std::path::Path;
use toml::{Table, Value};

pub(super) fn parse_sources(
    files: &[(&str, &str)],
    runbooks: &[&str],
) -> Result<RuleSet, RulesError> {
    let mut set = RuleSet::default();
    let mut errors = Vec::new();
    let mut defaults_file: Option<&str> = None;
    let mut hub_file: Option<&str> = None;
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
                        "quota" => set
                            .quotas
                            .extend(each_rule(&mut check, "quota", &value, parse_quota_rule)),
                        "dlq" => set
                            .dlqs
                            .extend(each_rule(&mut check, "dlq", &value, parse_dlq_rule)),
                        "prewarm" => set
                            .prewarm
                            .extend(each_rule(&mut check, "prewarm", &value, parse_prewarm_rule)),
                        "hub" => {
                            if let Some(first) = hub_file {
                                check.error(
                                    None,
                                    Some("hub"),
                                    format!("[hub] is already set in {first}"),
                                );
                            }
                            hub_file = Some(file);
                            parse_hub(&mut check, &value, &mut set.organization);
                        }
                        "account" => set
                            .organization
                            .accounts
                            .extend(each_rule(&mut check, "account", &value, parse_account)),
                        other => check.error(
                            None,
                            Some(other),
                            "unknown section (expected [defaults], [[quota]], [[dlq]], [[prewarm]], [hub] or [[account]])",
                        ),
                    }
                }
            }
        }
        errors.extend(check.errors);
    }
    check_duplicates(&set, files, &mut errors);
    check_organization(
        &set.organization,
        &set.quotas,
        &files.iter().map(|f| f.0).collect::<Vec<_>>().join(", "),
        &mut errors,
    );
    if errors.is_empty() {
        Ok(set)
    } else {
        Err(RulesError(errors))
    }
}

/// The rules and runbook names compiled into the binaries from `rules/` and `runbooks/`.
/// A folder whose rules files replace the compiled-in ones of the same name (`RuleSet::at_run_time`).
pub const RULES_DIR: &str = "SELFHEAL_RULES_DIR";

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

impl RuleSet {
    /// The rules compiled into this binary.
    pub fn embedded() -> Result<Self, RulesError> {
        Self::from_sources(embedded::RULE_FILES, embedded::RUNBOOKS)
    }

    /// The rules a function runs with: those compiled in, each file replaced by the file of the same
    /// name in the folder `SELFHEAL_RULES_DIR` names, when it is set (a local run under `cargo lambda
    /// watch`, the demo and the tests use `rules/examples`; a Lambda package has no such folder).
    pub fn at_run_time() -> Result<Self, RulesError> {
        match std::env::var(RULES_DIR) {
            Ok(dir) if !dir.is_empty() => Self::embedded_overlaid(Path::new(&dir)),
            _ => Self::embedded(),
        }
    }

    /// The compiled-in rules, with each file of `dir` replacing the one of the same name.
    pub fn embedded_overlaid(dir: &Path) -> Result<Self, RulesError> {
        let overlay = files::read_dir(dir)?;
        let mut sources: Vec<(&str, &str)> = embedded::RULE_FILES
            .iter()
            .filter(|(name, _)| !overlay.iter().any(|(own, _)| own == name))
            .copied()
            .collect();
        sources.extend(
            overlay
                .iter()
                .map(|(name, text)| (name.as_str(), text.as_str())),
        );
        Self::from_sources(&sources, embedded::RUNBOOKS)
    }

    /// Names of the runbooks compiled into this binary.
    pub fn embedded_runbooks() -> &'static [&'static str] {
        embedded::RUNBOOKS
    }

    /// Reads every `*.toml` file of `dir`; runbook names are checked against `runbooks`.
    pub fn from_dir(dir: &Path, runbooks: &[&str]) -> Result<Self, RulesError> {
        let sources = files::read_dir(dir)?;
        let borrowed: Vec<(&str, &str)> = sources
            .iter()
            .map(|(name, text)| (name.as_str(), text.as_str()))
            .collect();
        Self::from_sources(&borrowed, runbooks)
    }

    /// Parses `(file name, TOML text)` pairs, collecting every error before failing.
    pub fn from_sources(files: &[(&str, &str)], runbooks: &[&str]) -> Result<Self, RulesError> {
        parse_sources(files, runbooks)
    }
}

/// The rules of one `[[section]]` array that parse; an error for a section that is not an array.
fn each_rule<T>(
    check: &mut FileCheck<'_>,
    section: &str,
    value: &Value,
    parse: fn(&mut FileCheck<'_>, usize, &Value) -> Option<T>,
) -> Vec<T> {
    let Some(rules) = value.as_array() else {
        check.error(
            None,
            Some(section),
            format!("must be an array of tables ([[{section}]])"),
        );
        return Vec::new();
    };
    rules
        .iter()
        .enumerate()
        .filter_map(|(index, rule)| parse(check, index, rule))
        .collect()
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
        stale_after_days: match fields.table.get("stale_after_days") {
            None => base.stale_after_days,
            Some(Value::Integer(days)) if (1..=365).contains(days) => *days as u32,
            Some(_) => {
                fields.error(
                    "stale_after_days",
                    "must be a whole number of days from 1 to 365",
                );
                base.stale_after_days
            }
        },
    };
    fields.reject_unknown(&[
        "increase",
        "raise_unmatched",
        "ceiling_factor",
        "support_case",
        "cooldown_minutes",
        "stale_after_days",
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
    "raise_when_aws_adjusts",
    "threshold",
    "accounts",
    "owners",
];

/// A rule's label in errors: its `name`, quoted.
fn named(table: &Table) -> Option<String> {
    table
        .get("name")
        .and_then(Value::as_str)
        .map(|name| format!("{name:?}"))
}

fn parse_quota_rule(check: &mut FileCheck<'_>, index: usize, value: &Value) -> Option<QuotaRule> {
    let mut fields = Fields::of_rule(check, "", index, value, named)?;
    let before = fields.errors();
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
    let raise_when_aws_adjusts = fields.boolean("raise_when_aws_adjusts").unwrap_or(false);
    let threshold = fields.percentage("threshold");
    let accounts = fields.string_list("accounts");
    for account in &accounts {
        if !is_account_id(account) {
            fields.error(
                "accounts",
                format!("{account:?} is not a 12-digit account id"),
            );
        }
    }
    let owners = fields.string_list("owners");
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
    if fields.errors() > before {
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
        raise_when_aws_adjusts,
        threshold,
        accounts,
        owners,
    })
}

const DLQ_FIELDS: &[&str] = &[
    "name",
    "queue",
    "function",
    "qualifier",
    "target_queue",
    "max_replays",
    "allow_functions",
    "allow_queues",
];

fn parse_dlq_rule(check: &mut FileCheck<'_>, index: usize, value: &Value) -> Option<DlqRule> {
    let mut fields = Fields::of_rule(check, "dlq", index, value, named)?;
    let before = fields.errors();
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
    let allowed_functions = fields.string_list("allow_functions");
    let allowed_queues = fields.string_list("allow_queues");
    fields.reject_unknown(DLQ_FIELDS);
    let named = [
        ("queue", queue.as_ref()),
        ("target_queue", target_queue.as_ref()),
        ("function", function.as_ref()),
    ]
    .into_iter()
    .chain(
        allowed_functions
            .iter()
            .map(|f| ("allow_functions", Some(f))),
    )
    .chain(allowed_queues.iter().map(|q| ("allow_queues", Some(q))));
    for (field, value) in named {
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
    if fields.errors() > before {
        return None;
    }
    let target = match (function, target_queue) {
        (Some(name), _) => DlqTarget::Function { name, qualifier },
        (None, Some(name)) => DlqTarget::Queue { name },
        // A queue of on-failure records or EventBridge dead letters for several targets has no
        // source queue: its messages name their targets.
        (None, None) if !allowed_functions.is_empty() || !allowed_queues.is_empty() => {
            DlqTarget::NamedInMessages
        }
        (None, None) => DlqTarget::SourceQueue,
    };
    Some(DlqRule {
        name: name?,
        queue: queue?,
        target,
        max_replays: max_replays?,
        allowed_functions,
        allowed_queues,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Increase;

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
            set.rule_for_alarm("lambda-concurrency", "111122223333")
                .unwrap()
                .name,
            "lambda"
        );
        assert!(set.rule_for_alarm("ec2", "111122223333").is_none());
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
    fn a_rule_limited_to_accounts_or_owners_applies_to_those_only() {
        let set = parse_sources(
            &[
                (
                    "accounts.toml",
                    "[hub]\nspoke_role = \"selfheal-spoke\"\n[[account]]\nid = \"111111111111\"\nowner = \"payments\"\n[[account]]\nid = \"222222222222\"\n",
                ),
                (
                    "quotas.toml",
                    "[[quota]]\nname = \"payments\"\nalarm = \"lambda-*\"\nservice_code = \"lambda\"\nquota_code = \"L-B99A9384\"\nincrease = \"+1\"\nceiling = 9\nowners = [\"payments\"]\n\
                     [[quota]]\nname = \"one-account\"\nalarm = \"lambda-*\"\nservice_code = \"lambda\"\nquota_code = \"L-B99A9384\"\nincrease = \"+2\"\nceiling = 9\naccounts = [\"222222222222\"]\n\
                     [[quota]]\nname = \"everyone\"\nalarm = \"lambda-*\"\nservice_code = \"lambda\"\nquota_code = \"L-B99A9384\"\nincrease = \"+3\"\nceiling = 9\n",
                ),
            ],
            RUNBOOKS,
        )
        .unwrap();
        let rule = |account| {
            set.rule_for_alarm("lambda-x", account)
                .unwrap()
                .name
                .as_str()
        };
        assert_eq!(rule("111111111111"), "payments");
        assert_eq!(rule("222222222222"), "one-account");
        assert_eq!(rule("333333333333"), "everyone");
        assert_eq!(
            set.rule_for_quota("lambda", "L-B99A9384", "222222222222")
                .unwrap()
                .name,
            "one-account"
        );
        assert_eq!(
            set.organization.spoke_role.as_deref(),
            Some("selfheal-spoke")
        );
        assert_eq!(set.organization.owner_of("222222222222"), None);
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
