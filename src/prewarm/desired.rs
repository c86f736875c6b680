//! What EventBridge should hold for one `[[prewarm]]` rule: the rule's name, schedule, description and
//! its one target.

use super::api::{RuleDefinition, RuleTarget, TargetRetry};
use super::ping::{PingRequest, PING_KEY};
use crate::rules::PrewarmRule;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Rules selfheal owns carry this name prefix (by default) and this tag.
pub use crate::settings::DEFAULT_PREWARM_PREFIX as DEFAULT_PREFIX;
pub const OWNER_TAG_KEY: &str = "selfheal:managed-by";
pub const OWNER_TAG_VALUE: &str = "prewarm";
/// The id of the one target of a pre-warm rule.
pub const TARGET_ID: &str = "selfheal-prewarm";
/// EventBridge rule names: at most 64 characters of `[.\-_A-Za-z0-9]`.
const MAX_RULE_NAME: usize = 64;

/// The rule name for a target: `prefix` + function, then `.qualifier` (neither holds a dot, so no two
/// targets share a name); shortened with a hash when too long.
pub fn rule_name(prefix: &str, function: &str, qualifier: Option<&str>) -> String {
    let full = match qualifier {
        Some(q) => format!("{prefix}{function}.{q}"),
        None => format!("{prefix}{function}"),
    };
    if full.len() <= MAX_RULE_NAME {
        return full;
    }
    let hash = format!(
        "{:08x}",
        crate::stable_key::stable_hash(full.as_bytes()) as u32
    );
    let keep = MAX_RULE_NAME - hash.len() - 1;
    format!("{}-{hash}", &full[..keep])
}

/// The ARN of the rule `name` in the Region and account of `function_arn`.
pub fn rule_arn(function_arn: &str, name: &str) -> Option<String> {
    let parts: Vec<&str> = function_arn.split(':').collect();
    if parts.len() < 7 || parts[0] != "arn" || parts[2] != "lambda" {
        return None;
    }
    Some(format!(
        "arn:{}:events:{}:{}:rule/{name}",
        parts[1], parts[3], parts[4]
    ))
}

/// The unqualified ARN of a function ARN (`...:function:name[:qualifier]`).
pub fn unqualified(function_arn: &str) -> &str {
    let mut colons = function_arn.match_indices(':').map(|(i, _)| i);
    match colons.nth(6) {
        Some(cut) => &function_arn[..cut],
        None => function_arn,
    }
}

/// One rule as it should be.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredRule {
    pub definition: RuleDefinition,
    pub target_arn: String,
    pub input: Value,
    /// The target function itself is the target (concurrency 1): EventBridge needs its permission.
    pub direct: bool,
    pub function: String,
    pub qualifier: Option<String>,
    pub label: String,
    /// The pre-warm failure queue, where EventBridge puts a ping it could not deliver.
    pub dead_letter_arn: Option<String>,
}

/// A ping is worth little late: the next one is at most an hour away and usually minutes, so
/// EventBridge retries for 5 minutes, twice, instead of its default 24 hours and 185 times
/// (EventBridge user guide, "Event retry policy and using dead-letter queues").
pub const PING_RETRY: TargetRetry = TargetRetry {
    attempts: 2,
    max_age_secs: 300,
};

impl DesiredRule {
    pub fn target(&self) -> RuleTarget {
        RuleTarget {
            id: TARGET_ID.into(),
            arn: self.target_arn.clone(),
            input: Some(self.input.to_string()),
            retry: Some(PING_RETRY),
            dead_letter_arn: self.dead_letter_arn.clone(),
        }
    }
}

/// The rule for `rule`, whose function has the unqualified ARN `function_arn`, at `now` (seconds since
/// the epoch: a window in local time is folded for the offset in force). `pinger_arn` is the pre-warm
/// function, needed above concurrency 1.
pub fn desired_rule(
    rule: &PrewarmRule,
    prefix: &str,
    function_arn: &str,
    pinger_arn: Option<&str>,
    now: i64,
) -> Result<DesiredRule, String> {
    let (expression, offset) = rule.expression_at(now)?;
    let Some(pings) = rule.pings() else {
        return Err(format!(
            "rule {:?} is provisioned: it has no ping schedule",
            rule.name
        ));
    };
    let name = rule_name(prefix, &rule.function, rule.qualifier.as_deref());
    let qualified = match &rule.qualifier {
        Some(q) => format!("{}:{q}", unqualified(function_arn)),
        None => unqualified(function_arn).to_owned(),
    };
    let containers = if rule.concurrency == 1 {
        "1 container".to_owned()
    } else {
        format!("{} containers", rule.concurrency)
    };
    let folded = match (&rule.timezone, &offset) {
        (Some(zone), Some(offset)) => format!(", its window in {zone} folded for {offset}"),
        _ => String::new(),
    };
    let mut description = format!(
        "selfheal pre-warm of {}: {containers}, {expression}{folded} (rule {:?}; edits are undone by the next sync)",
        rule.target_label(),
        rule.name
    );
    description.truncate(512);
    let tags = BTreeMap::from([(OWNER_TAG_KEY.to_owned(), OWNER_TAG_VALUE.to_owned())]);
    let (target_arn, input, direct) = if rule.concurrency == 1 {
        (qualified, pings.payload.clone(), true)
    } else {
        let pinger = pinger_arn.ok_or_else(|| {
            format!(
                "{} containers need the pre-warm function: its ARN is not known (set SELFHEAL_PREWARM_FUNCTION_ARN or --pinger-arn)",
                rule.concurrency
            )
        })?;
        let request = PingRequest {
            function: unqualified(function_arn).to_owned(),
            qualifier: rule.qualifier.clone(),
            concurrency: rule.concurrency,
            payload: pings.payload.clone(),
            timeout_ms: pings.timeout_ms,
        };
        (pinger.to_owned(), json!({ PING_KEY: request }), false)
    };
    Ok(DesiredRule {
        definition: RuleDefinition {
            name,
            schedule: expression,
            description,
            tags,
        },
        target_arn,
        input,
        direct,
        function: rule.function.clone(),
        qualifier: rule.qualifier.clone(),
        label: rule.target_label(),
        dead_letter_arn: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_valid_and_short() {
        assert_eq!(
            rule_name(DEFAULT_PREFIX, "checkout-api", Some("live")),
            "selfheal-prewarm-checkout-api.live"
        );
        assert_ne!(
            rule_name(DEFAULT_PREFIX, "a-b", None),
            rule_name(DEFAULT_PREFIX, "a", Some("b"))
        );
        let long = "f".repeat(64);
        let one = rule_name(DEFAULT_PREFIX, &long, Some("live"));
        let two = rule_name(DEFAULT_PREFIX, &long, Some("beta"));
        assert_eq!(one.len(), 64);
        assert_ne!(one, two);
        assert!(one
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)));
    }

    #[test]
    fn arns() {
        let function = "arn:aws:lambda:eu-west-1:123456789012:function:checkout-api:live";
        assert_eq!(
            unqualified(function),
            "arn:aws:lambda:eu-west-1:123456789012:function:checkout-api"
        );
        assert_eq!(unqualified(unqualified(function)), unqualified(function));
        assert_eq!(
            rule_arn(function, "r").unwrap(),
            "arn:aws:events:eu-west-1:123456789012:rule/r"
        );
    }
}
