//! Exact warm capacity on a schedule (`mode = "provisioned"`): two Application Auto Scaling scheduled
//! actions on the alias's provisioned concurrency, one setting it to `concurrency` at the window's start
//! and one setting it to 0 at its end, read in the rule's time zone (`PutScheduledAction`'s `Timezone`),
//! so no folding into UTC is needed. What to hold is decided here, as values; `sync.rs` reads and writes.

use super::api::ScheduledAction;
use super::desired::rule_name;
use crate::rules::schedule::{shift_days, ActiveWindow};
use crate::rules::PrewarmRule;
use serde::Serialize;

/// The Application Auto Scaling resource id of a Lambda alias or version (Application Auto Scaling user
/// guide, "AWS Lambda and Application Auto Scaling": `function:my-function:BLUE`).
pub fn resource_id(function: &str, qualifier: &str) -> String {
    format!("function:{function}:{qualifier}")
}

/// The function and qualifier of a resource id `function:<name>:<qualifier>`.
pub fn lambda_alias(resource_id: &str) -> Option<(&str, &str)> {
    let rest = resource_id.strip_prefix("function:")?;
    rest.rsplit_once(':')
        .filter(|(name, qualifier)| !name.is_empty() && !qualifier.is_empty())
}

/// The two actions a provisioned rule wants, start first.
pub fn wanted_actions(rule: &PrewarmRule, prefix: &str) -> Result<[ScheduledAction; 2], String> {
    let (Some(qualifier), Some(window)) = (&rule.qualifier, &rule.window) else {
        return Err("a provisioned rule needs a qualifier and a window".into());
    };
    let base = rule_name(prefix, &rule.function, Some(qualifier));
    let target = resource_id(&rule.function, qualifier);
    let action = |suffix: &str, schedule: String, capacity: u32| ScheduledAction {
        name: format!("{base}-{suffix}"),
        resource_id: target.clone(),
        schedule,
        timezone: rule.timezone.clone(),
        min_capacity: Some(capacity),
        max_capacity: Some(capacity),
    };
    let (start, end) = crons(window)?;
    Ok([
        action("start", start, rule.concurrency),
        action("end", end, 0),
    ])
}

/// The window's start and end as Application Auto Scaling crons (`minutes hours day-of-month month
/// day-of-week year`, as EventBridge's: Application Auto Scaling API reference, `PutScheduledAction`).
/// An end at or past midnight falls on the next day, so its days move along.
fn crons(window: &ActiveWindow) -> Result<(String, String), String> {
    let cron = |hour: u32, days: Option<&str>| match days {
        None => format!("cron(0 {hour} * * ? *)"),
        Some(days) => format!("cron(0 {hour} ? * {days} *)"),
    };
    if window.from_hour == 0 && window.until_hour == 24 && window.days.is_none() {
        return Err("a provisioned window of every hour of every day is not a schedule: leave active_hours out and configure provisioned concurrency on the alias instead".into());
    }
    let next_day = window.until_hour == 24 || window.until_hour <= window.from_hour;
    let end_days = match (&window.days, next_day) {
        (Some(days), true) => Some(shift_days(days, 1)?),
        (days, _) => days.clone(),
    };
    Ok((
        cron(window.from_hour, window.days.as_deref()),
        cron(window.until_hour % 24, end_days.as_deref()),
    ))
}

/// One write of the provisioned part of a sync.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ScalingChange {
    /// `RegisterScalableTarget` with capacity 0 to `max`: before its actions are put.
    Register { resource_id: String, max: u32 },
    /// `PutScheduledAction`: missing or different.
    Put(ScheduledAction),
    /// `DeleteScheduledAction`: ours, on a target still wanted, under a name no rule gives.
    Delete { name: String, resource_id: String },
    /// The rule is gone: capacity bounds set to 0 (Application Auto Scaling scales in to a lower
    /// maximum), then `DeregisterScalableTarget`, which deletes its scheduled actions, then
    /// `DeleteProvisionedConcurrencyConfig` on the alias, so that no configuration is left billing.
    Retire { resource_id: String },
}

/// The changes that make Application Auto Scaling hold exactly `wanted` (each target's max and its two
/// actions), given the scheduled actions `observed` in the `lambda` namespace. Only actions named with
/// `prefix` are selfheal's: no other is changed, and only their targets are retired.
pub fn plan_scaling(
    wanted: &[(u32, [ScheduledAction; 2])],
    observed: &[ScheduledAction],
    prefix: &str,
) -> (Vec<ScalingChange>, Vec<String>) {
    let ours: Vec<&ScheduledAction> = observed
        .iter()
        .filter(|a| a.name.starts_with(prefix))
        .collect();
    let mut changes = Vec::new();
    let mut unchanged = Vec::new();
    for (max, actions) in wanted {
        let target = &actions[0].resource_id;
        let differing: Vec<&ScheduledAction> = actions
            .iter()
            .filter(|want| !ours.iter().any(|have| have == want))
            .collect();
        if differing.is_empty() {
            unchanged.push(target.clone());
        } else {
            changes.push(ScalingChange::Register {
                resource_id: target.clone(),
                max: *max,
            });
            changes.extend(differing.into_iter().cloned().map(ScalingChange::Put));
        }
        for stray in ours.iter().filter(|have| {
            &have.resource_id == target && !actions.iter().any(|want| want.name == have.name)
        }) {
            changes.push(ScalingChange::Delete {
                name: stray.name.clone(),
                resource_id: stray.resource_id.clone(),
            });
        }
    }
    let mut retired: Vec<&str> = Vec::new();
    for have in &ours {
        let still_wanted = wanted
            .iter()
            .any(|(_, actions)| actions[0].resource_id == have.resource_id);
        if !still_wanted && !retired.contains(&have.resource_id.as_str()) {
            retired.push(&have.resource_id);
            changes.push(ScalingChange::Retire {
                resource_id: have.resource_id.clone(),
            });
        }
    }
    (changes, unchanged)
}

/// Hours a week a window holds its capacity.
pub fn hours_per_week(window: &ActiveWindow) -> u32 {
    let hours = if window.until_hour > window.from_hour {
        window.until_hour - window.from_hour
    } else {
        window.until_hour + 24 - window.from_hour
    };
    let days = match &window.days {
        None => 7,
        Some(days) => shift_days(days, 0).map_or(7, |names| names.split(',').count() as u32),
    };
    hours * days
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_ids_name_the_function_and_its_qualifier() {
        assert_eq!(
            lambda_alias("function:checkout-api:live"),
            Some(("checkout-api", "live"))
        );
        assert_eq!(lambda_alias(&resource_id("f", "7")), Some(("f", "7")));
        assert_eq!(lambda_alias("function:checkout-api"), None);
        assert_eq!(lambda_alias("table/orders"), None);
    }
    use crate::rules::RuleSet;

    const PREFIX: &str = "selfheal-prewarm-";

    fn rule(extra: &str) -> PrewarmRule {
        let text = format!(
            "[[prewarm]]\nfunction = \"checkout-api\"\nqualifier = \"live\"\nmode = \"provisioned\"\nconcurrency = 5\n{extra}"
        );
        RuleSet::from_sources(&[("prewarm.toml", &text)], &[])
            .unwrap_or_else(|e| panic!("{e}"))
            .prewarm
            .remove(0)
    }

    #[test]
    fn a_window_becomes_a_start_and_an_end_in_its_zone() {
        let berlin = rule(
            "active_hours = \"08-18\"\nactive_days = \"MON-FRI\"\ntimezone = \"Europe/Berlin\"\n",
        );
        let [start, end] = wanted_actions(&berlin, PREFIX).unwrap();
        assert_eq!(start.name, "selfheal-prewarm-checkout-api.live-start");
        assert_eq!(start.resource_id, "function:checkout-api:live");
        assert_eq!(start.schedule, "cron(0 8 ? * MON-FRI *)");
        assert_eq!(start.timezone.as_deref(), Some("Europe/Berlin"));
        assert_eq!((start.min_capacity, start.max_capacity), (Some(5), Some(5)));
        assert_eq!(end.schedule, "cron(0 18 ? * MON-FRI *)");
        assert_eq!((end.min_capacity, end.max_capacity), (Some(0), Some(0)));
        assert_eq!(hours_per_week(berlin.window.as_ref().unwrap()), 50);

        // Across midnight, the end falls on the next day.
        let night = rule("active_hours = \"22-06\"\nactive_days = \"FRI\"\n");
        let [start, end] = wanted_actions(&night, PREFIX).unwrap();
        assert_eq!(start.schedule, "cron(0 22 ? * FRI *)");
        assert_eq!(end.schedule, "cron(0 6 ? * SAT *)");
        assert_eq!(start.timezone, None);
        let evening = rule("active_hours = \"18-24\"\n");
        let [_, end] = wanted_actions(&evening, PREFIX).unwrap();
        assert_eq!(end.schedule, "cron(0 0 * * ? *)");
    }

    #[test]
    fn the_plan_puts_what_differs_and_retires_what_no_rule_wants() {
        let berlin = rule("active_hours = \"08-18\"\ntimezone = \"Europe/Berlin\"\n");
        let actions = wanted_actions(&berlin, PREFIX).unwrap();
        let wanted = vec![(5, actions.clone())];
        // Nothing there: register, then both actions.
        let (changes, _) = plan_scaling(&wanted, &[], PREFIX);
        assert_eq!(changes.len(), 3);
        assert!(matches!(
            &changes[0],
            ScalingChange::Register { max: 5, .. }
        ));
        // Both there: nothing.
        let (changes, unchanged) = plan_scaling(&wanted, &actions, PREFIX);
        assert!(changes.is_empty());
        assert_eq!(unchanged, ["function:checkout-api:live"]);
        // One edited by hand: register and put it back; someone else's action is left alone.
        let mut edited = actions.clone();
        edited[1].schedule = "cron(0 20 * * ? *)".into();
        let foreign = ScheduledAction {
            name: "team-scale-up".into(),
            ..actions[0].clone()
        };
        let observed = [edited[0].clone(), edited[1].clone(), foreign.clone()];
        let (changes, _) = plan_scaling(&wanted, &observed, PREFIX);
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert_eq!(changes[1], ScalingChange::Put(actions[1].clone()));
        // The rule is gone: its target is retired once; the foreign action's target is not ours.
        let (changes, _) = plan_scaling(&[], &observed, PREFIX);
        assert_eq!(
            changes,
            [ScalingChange::Retire {
                resource_id: "function:checkout-api:live".into()
            }]
        );
        let (changes, _) = plan_scaling(&[], &[foreign], PREFIX);
        assert!(changes.is_empty());
    }

    #[test]
    fn a_provisioned_rule_is_checked() {
        let parse = |text: &str| {
            RuleSet::from_sources(&[("prewarm.toml", text)], &[]).map_err(|e| e.to_string())
        };
        let err = parse("[[prewarm]]\nfunction = \"f\"\nmode = \"provisioned\"\nschedule = \"rate(5 minutes)\"\n").unwrap_err();
        for expected in [
            "field `qualifier`: provisioned concurrency needs an alias",
            "field `schedule`: provisioned capacity",
            "field `active_hours`: provisioned capacity needs a window",
        ] {
            assert!(err.contains(expected), "{expected}: {err}");
        }
        let err = parse(
            "[[prewarm]]\nfunction = \"f\"\nschedule = \"rate(5 minutes)\"\nmode = \"warm\"\n",
        )
        .unwrap_err();
        assert!(err.contains("field `mode`"), "{err}");
        let ok = parse("[[prewarm]]\nfunction = \"f\"\nqualifier = \"live\"\nmode = \"provisioned\"\nconcurrency = 500\nactive_hours = \"08-18\"\n").unwrap();
        assert_eq!(ok.prewarm[0].concurrency, 500);
    }
}
