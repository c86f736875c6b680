//! `[[prewarm]]` rules: which function to keep warm, how often, how many containers, when.

use super::fields::{Fields, FileCheck};
use super::prewarm_rule::{PingSchedule, PrewarmMode, PrewarmRule};
use super::schedule::{ActiveWindow, Schedule};
use super::zone;
use toml::Value;

const PREWARM_FIELDS: &[&str] = &[
    "name",
    "function",
    "qualifier",
    "schedule",
    "concurrency",
    "payload",
    "active_hours",
    "active_days",
    "timezone",
    "mode",
    "timeout_ms",
];

/// Most containers a provisioned rule may ask for (Lambda keeps 100 of an account's concurrency
/// unreserved, and the default account concurrency is 1,000: Lambda developer guide, "Configuring
/// provisioned concurrency"; a higher figure needs a quota increase first).
pub const MAX_PROVISIONED: u32 = 10_000;

/// Most containers one rule may keep warm: each is one concurrent synchronous invocation.
pub const MAX_CONCURRENCY: u32 = 100;
/// The ping's payload travels inside an EventBridge target input (8 KB at most, with our wrapper).
const MAX_PAYLOAD_BYTES: usize = 4096;

pub(super) fn parse_prewarm_rule(
    check: &mut FileCheck<'_>,
    index: usize,
    value: &Value,
) -> Option<PrewarmRule> {
    let label = |table: &toml::Table| match (table.get("name"), table.get("function")) {
        (Some(Value::String(name)), _) | (None, Some(Value::String(name))) => {
            Some(format!("{name:?}"))
        }
        _ => None,
    };
    let mut fields = Fields::of_rule(check, "prewarm", index, value, label)?;
    let before = fields.errors();
    let name = fields.optional_str("name");
    let function = fields.required_str("function");
    let qualifier = fields.optional_str("qualifier");
    let (provisioned, schedule_text) = prewarm_mode(&mut fields);
    let most = if provisioned {
        MAX_PROVISIONED
    } else {
        MAX_CONCURRENCY
    };
    let concurrency =
        fields.whole_number("concurrency", 1..=i64::from(most), Some(1), "containers");
    let timeout_ms = fields.whole_number("timeout_ms", 100..=30_000, Some(10_000), "milliseconds");
    let payload = fields.json_object(
        "payload",
        MAX_PAYLOAD_BYTES,
        serde_json::json!({ "isPrewarm": true }),
        "{ isPrewarm = true }",
    );
    let active_hours = fields.optional_str("active_hours");
    let active_days = fields.optional_str("active_days");
    let timezone = fields.optional_str("timezone");
    fields.reject_unknown(PREWARM_FIELDS);

    let target = prewarm_target(&mut fields, function.as_deref(), qualifier, provisioned);
    let schedule = schedule_text
        .as_deref()
        .filter(|_| !provisioned)
        .and_then(|text| match Schedule::parse(text) {
            Ok(schedule) => Some(schedule),
            Err(message) => {
                fields.error("schedule", message);
                None
            }
        });
    let (window, zoned) = prewarm_window(
        &mut fields,
        active_hours.as_deref(),
        active_days.as_deref(),
        timezone.as_deref(),
        provisioned,
    );
    let expression = if provisioned {
        Some(None)
    } else {
        ping_expression(&mut fields, schedule.as_ref(), window.as_ref(), zoned)
    };
    if fields.errors() > before {
        return None;
    }
    let (function, qualifier) = target?;
    let name = name.unwrap_or_else(|| match &qualifier {
        Some(q) => format!("{function}:{q}"),
        None => function.clone(),
    });
    let mode = if provisioned {
        PrewarmMode::Provisioned
    } else {
        PrewarmMode::Pings(PingSchedule {
            schedule: schedule_text?,
            rate: schedule?,
            expression: expression?,
            payload: payload?,
            timeout_ms: timeout_ms? as u32,
        })
    };
    Some(PrewarmRule {
        name,
        function,
        qualifier,
        timezone,
        source: fields.check.file.to_owned(),
        window,
        concurrency: concurrency? as u32,
        mode,
    })
}

/// Whether the rule is for provisioned capacity (which refuses the fields only pings take), and the
/// ping schedule as written otherwise.
fn prewarm_mode(fields: &mut Fields<'_, '_>) -> (bool, Option<String>) {
    let provisioned = match fields.optional_str("mode").as_deref() {
        None | Some("pings") => false,
        Some("provisioned") => true,
        Some(other) => {
            fields.error(
                "mode",
                format!("{other:?} is not a mode: \"pings\" (the default) or \"provisioned\""),
            );
            false
        }
    };
    let schedule_text = if provisioned {
        fields.refuse(
            "schedule",
            "provisioned capacity is set at the window's start and removed at its end: it takes no ping schedule",
        );
        for field in ["payload", "timeout_ms"] {
            fields.refuse(
                field,
                "only pings take it (mode = \"provisioned\" sends none)",
            );
        }
        None
    } else {
        fields.required_str("schedule")
    };
    (provisioned, schedule_text)
}

/// What EventBridge runs for a pinged rule: the schedule with its window folded in (UTC), or `None`
/// where the sync folds it (a window in a zone). The outer `None`: an error, recorded.
fn ping_expression(
    fields: &mut Fields<'_, '_>,
    schedule: Option<&Schedule>,
    window: Option<&ActiveWindow>,
    zoned: bool,
) -> Option<Option<String>> {
    match (schedule, window) {
        // In a zone: folded by the sync for the offset in force (`PrewarmRule::expression_at`).
        (Some(_), Some(_)) if zoned => Some(None),
        (Some(schedule), Some(window)) => match schedule.within(window) {
            Ok(expression) => Some(Some(expression.to_string())),
            Err(message) => {
                fields.error("schedule", message);
                None
            }
        },
        (Some(schedule), None) => Some(Some(schedule.to_string())),
        (None, _) => None,
    }
}

/// The function (an ARN reduced to its name) and its qualifier (from the ARN or the field, not both;
/// `$LATEST` is none), which provisioned capacity requires.
fn prewarm_target(
    fields: &mut Fields<'_, '_>,
    function: Option<&str>,
    qualifier: Option<String>,
    provisioned: bool,
) -> Option<(String, Option<String>)> {
    let target = function.and_then(|text| match function_target(text) {
        Ok(target) => Some(target),
        Err(message) => {
            fields.error("function", message);
            None
        }
    });
    let qualifier = match (target.as_ref().and_then(|t| t.1.clone()), qualifier) {
        (Some(_), Some(_)) => {
            fields.error(
                "qualifier",
                "the function ARN already names a qualifier; give it once",
            );
            None
        }
        (from_arn, given) => from_arn.or(given),
    };
    if let Some(q) = &qualifier {
        if !valid_qualifier(q) {
            fields.error(
                "qualifier",
                format!("{q:?} is not an alias or version (letters, digits, - and _; at most 128)"),
            );
        }
    }
    let qualifier = qualifier.filter(|q| q != "$LATEST");
    if provisioned && qualifier.is_none() {
        fields.error(
            "qualifier",
            "provisioned concurrency needs an alias or a version (Lambda refuses it on $LATEST)",
        );
    }
    target.map(|(function, _)| (function, qualifier))
}

/// The active window, and whether it is in a time zone of its own. The zone is looked up (and the
/// window folded) by `rules::check_zones`, run by `rules check` and the pre-warm function: the
/// time-zone database stays out of the other functions.
fn prewarm_window(
    fields: &mut Fields<'_, '_>,
    active_hours: Option<&str>,
    active_days: Option<&str>,
    timezone: Option<&str>,
    provisioned: bool,
) -> (Option<ActiveWindow>, bool) {
    let window = if active_hours.is_some() || active_days.is_some() {
        match ActiveWindow::parse(active_hours, active_days) {
            Ok(window) => Some(window),
            Err(message) => {
                let field = if message.contains("hour") {
                    "active_hours"
                } else {
                    "active_days"
                };
                fields.error(field, message);
                None
            }
        }
    } else {
        None
    };
    if provisioned && window.is_none() {
        fields.error(
            "active_hours",
            "provisioned capacity needs a window (active_hours, and active_days if not every day): outside it the capacity is 0",
        );
    }
    let zoned = match timezone {
        None => false,
        Some(_) if window.is_none() => {
            fields.error(
                "timezone",
                "applies to active_hours and active_days: give them, or leave timezone out",
            );
            false
        }
        Some(name) if !zone::looks_like_zone(name) => {
            fields.error(
                "timezone",
                format!("{name:?} is not an IANA time zone such as \"Europe/Berlin\" or \"America/New_York\""),
            );
            false
        }
        Some(_) => true,
    };
    (window, zoned)
}

/// A function name or ARN → (name, qualifier named in the ARN).
fn function_target(text: &str) -> Result<(String, Option<String>), String> {
    if let Some(rest) = text.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.split(':').collect();
        // partition:lambda:region:account:function:name[:qualifier]
        let valid = matches!(parts.len(), 6 | 7)
            && parts[0].starts_with("aws")
            && parts[1] == "lambda"
            && !parts[2].is_empty()
            && parts[3].len() == 12
            && parts[3].bytes().all(|b| b.is_ascii_digit())
            && parts[4] == "function"
            && valid_function_name(parts[5]);
        if !valid {
            return Err(format!(
                "{text:?} is not a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)"
            ));
        }
        return Ok((parts[5].to_owned(), parts.get(6).map(|q| (*q).to_owned())));
    }
    if valid_function_name(text) {
        Ok((text.to_owned(), None))
    } else {
        Err(format!(
            "{text:?} is not a function name (letters, digits, - and _; at most 64) or ARN"
        ))
    }
}

fn valid_function_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn valid_qualifier(qualifier: &str) -> bool {
    qualifier == "$LATEST"
        || (!qualifier.is_empty()
            && qualifier.len() <= 128
            && qualifier
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
}

#[cfg(test)]
mod tests {
    use crate::rules::RuleSet;

    fn parse(text: &str) -> Result<RuleSet, String> {
        RuleSet::from_sources(&[("prewarm.toml", text)], &[]).map_err(|e| e.to_string())
    }

    #[test]
    fn the_six_line_rule_of_the_story() {
        let set = parse(
            r#"
            [[prewarm]]
            function = "checkout-api"
            qualifier = "live"
            schedule = "rate(5 minutes)"
            concurrency = 3
            active_hours = "08-18"
            active_days = "MON-FRI"
            "#,
        )
        .unwrap();
        let rule = &set.prewarm[0];
        assert_eq!(rule.name, "checkout-api:live");
        assert_eq!(
            rule.pings().unwrap().expression.as_deref(),
            Some("cron(0/5 8-17 ? * MON-FRI *)")
        );
        assert_eq!(rule.concurrency, 3);
        assert_eq!(
            rule.pings().unwrap().payload,
            serde_json::json!({"isPrewarm": true})
        );
        assert_eq!(rule.pings().unwrap().timeout_ms, 10_000);
    }

    #[test]
    fn an_arn_target_and_a_custom_payload() {
        let set = parse(
            r#"
            [[prewarm]]
            name = "search"
            function = "arn:aws:lambda:eu-west-1:123456789012:function:search-api:7"
            schedule = "cron(0/10 * * * ? *)"
            payload = { warmer = true, source = "selfheal" }
            timeout_ms = 3000
            "#,
        )
        .unwrap();
        let rule = &set.prewarm[0];
        assert_eq!(
            (rule.function.as_str(), rule.qualifier.as_deref()),
            ("search-api", Some("7"))
        );
        assert_eq!(rule.concurrency, 1);
        assert_eq!(
            rule.pings().unwrap().expression.as_deref(),
            Some("cron(0/10 * * * ? *)")
        );
        assert_eq!(rule.pings().unwrap().payload["source"], "selfheal");
    }

    #[test]
    fn every_mistake_is_named() {
        let err = parse(
            r#"
            [[prewarm]]
            name = "bad"
            function = "arn:aws:lambda:eu-west-1:1234:function:x"
            qualifier = "live!"
            schedule = "rate(1 minutes)"
            concurrency = 0
            payload = "isPrewarm"
            timeout_ms = 99999
            active_hours = "9"
            colour = "red"
            "#,
        )
        .unwrap_err();
        for field in [
            "function",
            "schedule",
            "concurrency",
            "payload",
            "timeout_ms",
            "active_hours",
            "colour",
        ] {
            assert!(
                err.contains(&format!("prewarm.toml: rule \"bad\": field `{field}`")),
                "{field} missing from:\n{err}"
            );
        }
        let err = parse(
            "[[prewarm]]\nfunction = \"f\"\nschedule = \"rate(5 minutes)\"\nconcurrency = 101\n",
        )
        .unwrap_err();
        assert!(err.contains("from 1 to 100, found 101"), "{err}");
        let err = parse("[[prewarm]]\nfunction = \"f\"\nschedule = \"cron(0 * * * ? *)\"\nactive_days = \"MON-FRI\"\n").unwrap_err();
        assert!(err.contains("put the window in it"), "{err}");
    }

    #[test]
    fn a_rule_in_local_time_is_folded_for_the_offset_in_force() {
        let set = parse(
            "[[prewarm]]\nfunction = \"checkout-api\"\nschedule = \"rate(5 minutes)\"\nactive_hours = \"08-18\"\nactive_days = \"MON-FRI\"\ntimezone = \"Europe/Berlin\"\n",
        )
        .unwrap();
        crate::rules::check_zones(&set).unwrap();
        let rule = &set.prewarm[0];
        assert_eq!(rule.timezone.as_deref(), Some("Europe/Berlin"));
        assert_eq!(
            rule.expression_at(1_768_435_200).unwrap(),
            (
                "cron(0/5 7-16 ? * MON-FRI *)".into(),
                Some("UTC+01:00".into())
            )
        );
        assert_eq!(
            rule.expression_at(1_784_073_600).unwrap(),
            (
                "cron(0/5 6-15 ? * MON-FRI *)".into(),
                Some("UTC+02:00".into())
            )
        );
        let checked = |text: &str| {
            RuleSet::from_sources(&[("prewarm.toml", text)], &[])
                .and_then(|set| crate::rules::check_zones(&set))
                .map_err(|e| e.to_string())
        };
        let err = checked("[[prewarm]]\nfunction = \"f\"\nschedule = \"rate(5 minutes)\"\nactive_hours = \"08-18\"\ntimezone = \"Europe/Berlim\"\n").unwrap_err();
        assert!(
            err.contains("field `timezone`: \"Europe/Berlim\" is not an IANA time zone"),
            "{err}"
        );
        let err = parse("[[prewarm]]\nfunction = \"f\"\nschedule = \"rate(5 minutes)\"\ntimezone = \"Europe/Berlin\"\n").unwrap_err();
        assert!(err.contains("applies to active_hours"), "{err}");
        let err = checked("[[prewarm]]\nfunction = \"f\"\nschedule = \"rate(5 minutes)\"\nactive_hours = \"08-18\"\nactive_days = \"MON-FRI\"\ntimezone = \"Pacific/Auckland\"\n").unwrap_err();
        assert!(parse("[[prewarm]]\nfunction = \"f\"\nschedule = \"rate(5 minutes)\"\nactive_hours = \"08-18\"\ntimezone = \"not a zone!\"\n").unwrap_err().contains("field `timezone`"));
        assert!(
            err.contains("on 15 January 2026") && err.contains("two UTC days"),
            "{err}"
        );
    }

    #[test]
    fn a_target_is_warmed_by_one_rule() {
        let rule = "[[prewarm]]\nfunction = \"checkout-api\"\nqualifier = \"live\"\nschedule = \"rate(5 minutes)\"\n";
        let other = "[[prewarm]]\nname = \"again\"\nfunction = \"arn:aws:lambda:us-east-1:123456789012:function:checkout-api:live\"\nschedule = \"rate(1 minute)\"\n";
        let err = parse(&format!("{rule}{other}")).unwrap_err();
        assert!(
            err.contains("two [[prewarm]] rules warm checkout-api:live"),
            "{err}"
        );
        // Another qualifier of the same function is another target.
        let ok = "[[prewarm]]\nfunction = \"checkout-api\"\nschedule = \"rate(5 minutes)\"\n";
        assert_eq!(parse(&format!("{rule}{ok}")).unwrap().prewarm.len(), 2);
    }
}
