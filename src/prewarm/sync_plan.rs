//! The pure half of the sync: from the rules wanted and the rules found, the writes to make.

use super::api::{ListedRule, RuleTarget};
use super::desired::{DesiredRule, OWNER_TAG_KEY, OWNER_TAG_VALUE, PING_RETRY, TARGET_ID};
use super::sync_report::{RuleChange, Skipped, SyncProblem, SyncReport};

/// How one `[[prewarm]]` rule resolved against Lambda.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolution {
    Want(Box<DesiredRule>),
    /// No rule should exist (provisioned concurrency covers it).
    Skip {
        rule: String,
        target: String,
        reason: String,
    },
    /// Cannot be decided: an existing rule is left as it is.
    Problem {
        rule: String,
        target: String,
        message: String,
    },
}

/// A rule with our prefix as read from EventBridge.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    pub listed: ListedRule,
    pub owned: bool,
    pub targets: Vec<RuleTarget>,
    /// Its tags or targets could not be read.
    pub unreadable: Option<String>,
}

/// A write to make.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Create(Box<DesiredRule>),
    Update {
        desired: Box<DesiredRule>,
        put_rule: bool,
        put_target: bool,
        remove: Vec<String>,
        /// The target before, to move EventBridge's permission when the target changes.
        old_target: Option<String>,
    },
    Delete {
        rule: String,
        targets: Vec<RuleTarget>,
    },
}

/// Compares what should be with what is. Pure: the whole decision, no calls.
pub fn plan(wanted: &[Resolution], observed: &[Observed], report: &mut SyncReport) -> Vec<Action> {
    let find = |name: &str| observed.iter().find(|o| o.listed.name == name);
    let mut actions = Vec::new();
    let mut claimed = std::collections::HashSet::new();
    for resolution in wanted {
        match resolution {
            Resolution::Want(desired) => {
                let name = &desired.definition.name;
                claimed.insert(name.clone());
                match find(name) {
                    None => {
                        report.create.push(RuleChange {
                            rule: name.clone(),
                            target: Some(desired.label.clone()),
                            changes: vec![format!(
                                "{} → {}",
                                desired.definition.schedule,
                                if desired.direct { "the function" } else { "the pre-warm function" }
                            )],
                        });
                        actions.push(Action::Create(desired.clone()));
                    }
                    Some(o) if !o.owned => report.errors.push(SyncProblem {
                        rule: Some(name.clone()),
                        target: Some(desired.label.clone()),
                        message: format!(
                            "a rule named {name} exists without the tag {OWNER_TAG_KEY}={OWNER_TAG_VALUE}: it is not selfheal's, so it is left alone; rename or delete it"
                        ),
                    }),
                    Some(o) if o.unreadable.is_some() => report.errors.push(SyncProblem {
                        rule: Some(name.clone()),
                        target: Some(desired.label.clone()),
                        message: o.unreadable.clone().unwrap_or_default(),
                    }),
                    Some(o) => match diff(desired, o) {
                        None => report.unchanged.push(name.clone()),
                        Some((changes, action)) => {
                            report.update.push(RuleChange {
                                rule: name.clone(),
                                target: Some(desired.label.clone()),
                                changes,
                            });
                            actions.push(action);
                        }
                    },
                }
            }
            Resolution::Skip {
                rule,
                target,
                reason,
            } => {
                claimed.insert(rule.clone());
                report.skipped.push(Skipped {
                    target: target.clone(),
                    reason: reason.clone(),
                });
                if let Some(o) = find(rule).filter(|o| o.owned) {
                    report.delete.push(RuleChange {
                        rule: rule.clone(),
                        target: Some(target.clone()),
                        changes: vec![reason.clone()],
                    });
                    actions.push(delete(o));
                }
            }
            Resolution::Problem {
                rule,
                target,
                message,
            } => {
                claimed.insert(rule.clone());
                report.errors.push(SyncProblem {
                    rule: Some(rule.clone()),
                    target: Some(target.clone()),
                    message: message.clone(),
                });
            }
        }
    }
    retire_unclaimed(observed, &claimed, report, &mut actions);
    actions
}

/// The rules selfheal owns that no rule of the config claims any more: deleted (foreign ones listed,
/// unreadable ones reported).
fn retire_unclaimed(
    observed: &[Observed],
    claimed: &std::collections::HashSet<String>,
    report: &mut SyncReport,
    actions: &mut Vec<Action>,
) {
    for o in observed {
        if claimed.contains(&o.listed.name) {
            continue;
        }
        if !o.owned {
            report.foreign.push(o.listed.name.clone());
        } else if let Some(message) = &o.unreadable {
            report.errors.push(SyncProblem {
                rule: Some(o.listed.name.clone()),
                target: None,
                message: message.clone(),
            });
        } else {
            report.delete.push(RuleChange {
                rule: o.listed.name.clone(),
                target: None,
                changes: vec!["no [[prewarm]] rule names its target any more".into()],
            });
            actions.push(delete(o));
        }
    }
}

fn delete(o: &Observed) -> Action {
    Action::Delete {
        rule: o.listed.name.clone(),
        targets: o.targets.clone(),
    }
}

fn same_input(a: Option<&str>, want: &serde_json::Value) -> bool {
    a.and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
        .is_some_and(|v| &v == want)
}

/// What differs between a desired rule and an owned one, and the update that repairs it.
fn diff(desired: &DesiredRule, o: &Observed) -> Option<(Vec<String>, Action)> {
    let mut changes = Vec::new();
    let definition = &desired.definition;
    let schedule = o.listed.schedule.as_deref().unwrap_or("none");
    if schedule != definition.schedule {
        changes.push(format!("schedule {schedule} → {}", definition.schedule));
    }
    let state = o.listed.state.as_deref().unwrap_or("none");
    if state != "ENABLED" {
        changes.push(format!("state {state} → ENABLED"));
    }
    if o.listed.description.as_deref() != Some(definition.description.as_str()) {
        changes.push("description".into());
    }
    let put_rule = !changes.is_empty();
    let ours = o.targets.iter().find(|t| t.id == TARGET_ID);
    let put_target = match ours {
        None => {
            changes.push("target missing".into());
            true
        }
        Some(t) if t.arn != desired.target_arn => {
            changes.push(format!("target {} → {}", t.arn, desired.target_arn));
            true
        }
        Some(t) if !same_input(t.input.as_deref(), &desired.input) => {
            changes.push("target input".into());
            true
        }
        Some(t) if t.retry != Some(PING_RETRY) => {
            changes.push("target retry policy".into());
            true
        }
        Some(t) if t.dead_letter_arn != desired.dead_letter_arn => {
            changes.push("target dead-letter queue".into());
            true
        }
        Some(_) => false,
    };
    let remove: Vec<String> = o
        .targets
        .iter()
        .filter(|t| t.id != TARGET_ID)
        .map(|t| t.id.clone())
        .collect();
    if !remove.is_empty() {
        changes.push(format!("extra targets removed: {}", remove.join(", ")));
    }
    if changes.is_empty() {
        return None;
    }
    Some((
        changes,
        Action::Update {
            desired: Box::new(desired.clone()),
            put_rule,
            put_target,
            remove,
            old_target: ours.map(|t| t.arn.clone()),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prewarm::desired::desired_rule;
    use crate::rules::RuleSet;

    const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:checkout-api";
    const PINGER: &str = "arn:aws:lambda:us-east-1:123456789012:function:selfheal-prewarm";

    fn wanted(concurrency: u32) -> DesiredRule {
        let text = format!("[[prewarm]]\nfunction = \"checkout-api\"\nqualifier = \"live\"\nschedule = \"rate(5 minutes)\"\nconcurrency = {concurrency}\n");
        let rule = RuleSet::from_sources(&[("p.toml", &text)], &[])
            .unwrap()
            .prewarm[0]
            .clone();
        desired_rule(&rule, "selfheal-prewarm-", FUNCTION_ARN, Some(PINGER), 0).unwrap()
    }

    fn observed(desired: &DesiredRule, owned: bool) -> Observed {
        Observed {
            listed: ListedRule {
                name: desired.definition.name.clone(),
                arn: format!(
                    "arn:aws:events:us-east-1:123456789012:rule/{}",
                    desired.definition.name
                ),
                schedule: Some(desired.definition.schedule.clone()),
                state: Some("ENABLED".into()),
                description: Some(desired.definition.description.clone()),
            },
            owned,
            targets: vec![desired.target()],
            unreadable: None,
        }
    }

    #[test]
    fn a_target_without_its_retry_policy_or_dead_letter_queue_is_put_again() {
        let mut desired = wanted(3);
        desired.dead_letter_arn =
            Some("arn:aws:sqs:us-east-1:123456789012:prewarm-failures".into());
        for (edit, change) in [
            (
                (|t: &mut RuleTarget| t.retry = None) as fn(&mut RuleTarget),
                "target retry policy",
            ),
            (
                |t: &mut RuleTarget| t.dead_letter_arn = None,
                "target dead-letter queue",
            ),
        ] {
            let mut seen = observed(&desired, true);
            edit(&mut seen.targets[0]);
            let mut report = SyncReport::default();
            let actions = plan(
                &[Resolution::Want(Box::new(desired.clone()))],
                &[seen],
                &mut report,
            );
            assert!(
                matches!(
                    &actions[0],
                    Action::Update {
                        put_target: true,
                        put_rule: false,
                        ..
                    }
                ),
                "{actions:?}"
            );
            assert_eq!(report.update[0].changes, [change]);
        }
    }

    #[test]
    fn an_identical_rule_needs_no_write_and_any_difference_is_named() {
        let desired = wanted(3);
        let mut report = SyncReport::default();
        let same = observed(&desired, true);
        assert!(plan(
            &[Resolution::Want(Box::new(desired.clone()))],
            std::slice::from_ref(&same),
            &mut report
        )
        .is_empty());
        assert_eq!(report.unchanged.len(), 1);

        let mut edited = same;
        edited.listed.state = Some("DISABLED".into());
        // Same JSON, other spacing: not a difference.
        edited.targets[0].input = Some(format!(
            " {} ",
            serde_json::to_string_pretty(&desired.input).unwrap()
        ));
        edited.targets.push(RuleTarget {
            id: "by-hand".into(),
            arn: PINGER.into(),
            input: None,
            ..RuleTarget::default()
        });
        let mut report = SyncReport::default();
        let actions = plan(
            &[Resolution::Want(Box::new(desired.clone()))],
            &[edited],
            &mut report,
        );
        assert_eq!(
            report.update[0].changes,
            ["state DISABLED → ENABLED", "extra targets removed: by-hand"]
        );
        assert!(
            matches!(&actions[0], Action::Update { put_rule: true, put_target: false, remove, .. } if remove == &["by-hand"])
        );

        // From 3 containers to 1: the target becomes the function itself.
        let direct = wanted(1);
        let mut report = SyncReport::default();
        let actions = plan(
            &[Resolution::Want(Box::new(direct))],
            &[observed(&desired, true)],
            &mut report,
        );
        assert!(
            matches!(&actions[0], Action::Update { put_target: true, old_target: Some(old), .. } if old == PINGER)
        );
    }

    #[test]
    fn only_owned_rules_are_ever_written() {
        let desired = wanted(3);
        let foreign = observed(&desired, false);
        let stray = Observed {
            listed: ListedRule {
                name: "selfheal-prewarm-old".into(),
                ..foreign.listed.clone()
            },
            ..observed(&desired, true)
        };
        let unknown_foreign = Observed {
            listed: ListedRule {
                name: "selfheal-prewarm-theirs".into(),
                ..foreign.listed.clone()
            },
            ..foreign.clone()
        };
        let mut report = SyncReport::default();
        let actions = plan(
            &[Resolution::Want(Box::new(desired))],
            &[foreign, stray, unknown_foreign],
            &mut report,
        );
        assert_eq!(actions.len(), 1, "{actions:?}");
        assert!(
            matches!(&actions[0], Action::Delete { rule, .. } if rule == "selfheal-prewarm-old")
        );
        assert!(report.errors[0].message.contains("is not selfheal's"));
        assert_eq!(report.foreign, ["selfheal-prewarm-theirs"]);
        // A target that cannot be resolved leaves its rule alone.
        let mut report = SyncReport::default();
        let problem = Resolution::Problem {
            rule: "selfheal-prewarm-old".into(),
            target: "old".into(),
            message: "throttled".into(),
        };
        let kept = observed(&wanted(3), true);
        let kept = Observed {
            listed: ListedRule {
                name: "selfheal-prewarm-old".into(),
                ..kept.listed.clone()
            },
            ..kept
        };
        assert!(plan(&[problem], &[kept], &mut report).is_empty());
        assert!(!report.ok());
    }
}
