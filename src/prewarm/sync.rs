//! Keeping EventBridge's pre-warm rules equal to `[[prewarm]]`: read what is there (one listing pass),
//! decide (a pure plan), then write only what differs. Only rules with our prefix *and* our tag are
//! ever changed.

use super::api::{AwsCallError, ListedRule, RuleApi, RuleTarget, WarmApi};
use super::desired::{
    desired_rule, rule_arn, rule_name, unqualified, DesiredRule, OWNER_TAG_KEY, OWNER_TAG_VALUE,
    TARGET_ID,
};
use crate::concurrent::map_limited;
use crate::rules::PrewarmRule;
use serde::Serialize;
use std::sync::atomic::{AtomicU32, Ordering};
use tracing::{error, info, warn};

/// Reads in flight at once: EventBridge's control-plane calls are throttled at a few tens per second.
const READ_CONCURRENCY: usize = 8;

#[derive(Clone, Debug)]
pub struct SyncSettings {
    pub prefix: String,
    /// The pre-warm function, the target of rules above concurrency 1.
    pub pinger_arn: Option<String>,
    pub dry_run: bool,
}

/// One rule created, updated or deleted (or, in a dry run, to be).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleChange {
    pub rule: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub changes: Vec<String>,
}

/// A target left without a rule on purpose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub target: String,
    pub reason: String,
}

/// Something the sync could not do; the rule concerned is left as it was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SyncProblem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub message: String,
}

/// AWS calls made by one sync.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Calls {
    pub reads: u32,
    pub writes: u32,
}

/// What the sync found and did: the plan, and whether it was applied.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub dry_run: bool,
    pub create: Vec<RuleChange>,
    pub update: Vec<RuleChange>,
    pub delete: Vec<RuleChange>,
    pub unchanged: Vec<String>,
    pub skipped: Vec<Skipped>,
    /// Rules with our prefix but not our tag: never touched.
    pub foreign: Vec<String>,
    pub errors: Vec<SyncProblem>,
    pub calls: Calls,
}

impl SyncReport {
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// One line: `create 1, update 0, delete 2, unchanged 7, skipped 0, errors 0`.
    pub fn counts(&self) -> String {
        format!(
            "create {}, update {}, delete {}, unchanged {}, skipped {}, errors {}",
            self.create.len(),
            self.update.len(),
            self.delete.len(),
            self.unchanged.len(),
            self.skipped.len(),
            self.errors.len()
        )
    }
}

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
    actions
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

/// Reads, plans and (unless a dry run) writes.
pub struct Syncer<R, W> {
    rules: R,
    lambda: W,
    settings: SyncSettings,
    reads: AtomicU32,
    writes: AtomicU32,
}

impl<R: RuleApi, W: WarmApi> Syncer<R, W> {
    pub fn new(rules: R, lambda: W, settings: SyncSettings) -> Self {
        Syncer {
            rules,
            lambda,
            settings,
            reads: AtomicU32::new(0),
            writes: AtomicU32::new(0),
        }
    }

    fn read(&self) {
        self.reads.fetch_add(1, Ordering::Relaxed);
    }

    fn write(&self) {
        self.writes.fetch_add(1, Ordering::Relaxed);
    }

    /// Makes EventBridge hold exactly the rules `config` asks for.
    pub async fn sync(&self, config: &[PrewarmRule]) -> SyncReport {
        self.reads.store(0, Ordering::Relaxed);
        self.writes.store(0, Ordering::Relaxed);
        let mut report = SyncReport {
            dry_run: self.settings.dry_run,
            ..SyncReport::default()
        };
        let (wanted, observed) = tokio::join!(self.resolve_all(config), self.observe());
        match observed {
            Ok(observed) => {
                let actions = plan(&wanted, &observed, &mut report);
                if !self.settings.dry_run {
                    for action in &actions {
                        if let Err(problem) = self.apply(action).await {
                            error!(rule = ?problem.rule, error = %problem.message, "prewarm sync write failed");
                            report.errors.push(problem);
                        }
                    }
                }
            }
            Err(e) => report.errors.push(SyncProblem {
                rule: None,
                target: None,
                message: format!("cannot list the rules named {}*: {e}", self.settings.prefix),
            }),
        }
        report.calls = Calls {
            reads: self.reads.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
        };
        info!(
            decision = if report.ok() { "synced" } else { "sync-failed" },
            dry_run = report.dry_run,
            summary = %report.counts(),
            reads = report.calls.reads,
            writes = report.calls.writes,
            "prewarm sync"
        );
        report
    }

    async fn resolve_all(&self, config: &[PrewarmRule]) -> Vec<Resolution> {
        map_limited(config, READ_CONCURRENCY, |rule| self.resolve(rule)).await
    }

    async fn resolve(&self, rule: &PrewarmRule) -> Resolution {
        let name = rule_name(
            &self.settings.prefix,
            &rule.function,
            rule.qualifier.as_deref(),
        );
        let target = rule.target_label();
        let problem = |message: String| Resolution::Problem {
            rule: name.clone(),
            target: target.clone(),
            message,
        };
        self.read();
        let function_arn = match self
            .lambda
            .function_arn(&rule.function, rule.qualifier.as_deref())
            .await
        {
            Ok(Some(arn)) => arn,
            Ok(None) => {
                return problem(format!(
                    "function {target} does not exist (GetFunction: ResourceNotFoundException); its rule, if any, is left as it is"
                ))
            }
            Err(e) => return problem(format!("cannot read function {target}: {e}")),
        };
        if let Some(qualifier) = &rule.qualifier {
            self.read();
            match self.lambda.provisioned(&rule.function, qualifier).await {
                Ok(Some(p)) if p.ready && p.allocated >= rule.concurrency => {
                    return Resolution::Skip {
                        rule: name,
                        target,
                        reason: format!(
                            "provisioned concurrency {} already keeps {} warm",
                            p.allocated, rule.concurrency
                        ),
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    warn!(target = %target, error = %e, "provisioned concurrency unknown; the rule is kept")
                }
            }
        }
        match desired_rule(
            rule,
            &self.settings.prefix,
            &function_arn,
            self.settings.pinger_arn.as_deref(),
        ) {
            Ok(desired) => Resolution::Want(Box::new(desired)),
            Err(message) => problem(message),
        }
    }

    async fn observe(&self) -> Result<Vec<Observed>, AwsCallError> {
        self.read();
        let listed = self.rules.list_rules(&self.settings.prefix).await?;
        let listed: Vec<ListedRule> = listed
            .into_iter()
            .filter(|r| r.name.starts_with(&self.settings.prefix))
            .collect();
        Ok(map_limited(listed, READ_CONCURRENCY, |rule| self.observe_one(rule)).await)
    }

    async fn observe_one(&self, listed: ListedRule) -> Observed {
        self.read();
        let tags = match self.rules.tags(&listed.arn).await {
            Ok(tags) => tags,
            Err(e) => {
                return Observed {
                    listed,
                    owned: true,
                    targets: Vec::new(),
                    unreadable: Some(format!("cannot read the rule's tags: {e}")),
                }
            }
        };
        if tags.get(OWNER_TAG_KEY).map(String::as_str) != Some(OWNER_TAG_VALUE) {
            return Observed {
                listed,
                owned: false,
                targets: Vec::new(),
                unreadable: None,
            };
        }
        self.read();
        match self.rules.targets(&listed.name).await {
            Ok(targets) => Observed {
                listed,
                owned: true,
                targets,
                unreadable: None,
            },
            Err(e) => Observed {
                listed,
                owned: true,
                targets: Vec::new(),
                unreadable: Some(format!("cannot read the rule's targets: {e}")),
            },
        }
    }

    async fn apply(&self, action: &Action) -> Result<(), SyncProblem> {
        match action {
            Action::Create(desired) => {
                if desired.direct {
                    self.allow(desired).await?;
                }
                self.put_rule(desired).await?;
                self.put_target(desired).await?;
                info!(rule = %desired.definition.name, decision = "created", "prewarm rule");
            }
            Action::Update {
                desired,
                put_rule,
                put_target,
                remove,
                old_target,
            } => {
                let name = &desired.definition.name;
                if desired.direct && old_target.as_deref() != Some(desired.target_arn.as_str()) {
                    self.allow(desired).await?;
                }
                if *put_rule {
                    self.put_rule(desired).await?;
                }
                if !remove.is_empty() {
                    self.write();
                    self.rules
                        .remove_targets(name, remove)
                        .await
                        .map_err(|e| failed(name, e))?;
                }
                if *put_target {
                    self.put_target(desired).await?;
                }
                if !desired.direct {
                    if let Some(old) = old_target.as_deref().filter(|old| is_function(old)) {
                        if old != desired.target_arn {
                            self.disallow(name, old).await?;
                        }
                    }
                }
                warn!(rule = %name, decision = "repaired", "prewarm rule differed from its configuration");
            }
            Action::Delete { rule, targets } => {
                if !targets.is_empty() {
                    let ids: Vec<String> = targets.iter().map(|t| t.id.clone()).collect();
                    self.write();
                    self.rules
                        .remove_targets(rule, &ids)
                        .await
                        .map_err(|e| failed(rule, e))?;
                }
                self.write();
                self.rules
                    .delete_rule(rule)
                    .await
                    .map_err(|e| failed(rule, e))?;
                for target in targets.iter().filter(|t| {
                    is_function(&t.arn)
                        && Some(t.arn.as_str()) != self.settings.pinger_arn.as_deref()
                }) {
                    self.disallow(rule, &target.arn).await?;
                }
                info!(rule = %rule, decision = "deleted", "prewarm rule");
            }
        }
        Ok(())
    }

    async fn put_rule(&self, desired: &DesiredRule) -> Result<(), SyncProblem> {
        self.write();
        self.rules
            .put_rule(&desired.definition)
            .await
            .map(drop)
            .map_err(|e| failed(&desired.definition.name, e))
    }

    async fn put_target(&self, desired: &DesiredRule) -> Result<(), SyncProblem> {
        self.write();
        self.rules
            .put_target(&desired.definition.name, &desired.target())
            .await
            .map_err(|e| failed(&desired.definition.name, e))
    }

    /// Lets the rule invoke its target function (concurrency 1, no pre-warm function in between).
    async fn allow(&self, desired: &DesiredRule) -> Result<(), SyncProblem> {
        let name = &desired.definition.name;
        let arn = rule_arn(&desired.target_arn, name).ok_or_else(|| SyncProblem {
            rule: Some(name.clone()),
            target: Some(desired.label.clone()),
            message: format!("{} is not a function ARN", desired.target_arn),
        })?;
        self.write();
        self.lambda
            .allow_rule(&desired.function, desired.qualifier.as_deref(), name, &arn)
            .await
            .map_err(|e| failed(name, e))
    }

    async fn disallow(&self, rule: &str, function_arn: &str) -> Result<(), SyncProblem> {
        let qualifier = function_arn
            .strip_prefix(unqualified(function_arn))
            .and_then(|rest| rest.strip_prefix(':'));
        self.write();
        self.lambda
            .disallow_rule(unqualified(function_arn), qualifier, rule)
            .await
            .map_err(|e| failed(rule, e))
    }
}

fn is_function(arn: &str) -> bool {
    arn.split(':').nth(2) == Some("lambda")
}

fn failed(rule: &str, e: AwsCallError) -> SyncProblem {
    SyncProblem {
        rule: Some(rule.to_owned()),
        target: None,
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:checkout-api";
    const PINGER: &str = "arn:aws:lambda:us-east-1:123456789012:function:selfheal-prewarm";

    fn wanted(concurrency: u32) -> DesiredRule {
        let text = format!("[[prewarm]]\nfunction = \"checkout-api\"\nqualifier = \"live\"\nschedule = \"rate(5 minutes)\"\nconcurrency = {concurrency}\n");
        let rule = RuleSet::from_sources(&[("p.toml", &text)], &[])
            .unwrap()
            .prewarm[0]
            .clone();
        desired_rule(&rule, "selfheal-prewarm-", FUNCTION_ARN, Some(PINGER)).unwrap()
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
