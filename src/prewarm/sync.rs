//! Keeping EventBridge's pre-warm rules equal to `[[prewarm]]`: read what is there (one listing pass),
//! decide (`sync_plan`, pure), then write only what differs, counting the calls. Only rules with our
//! prefix *and* our tag are ever changed.

use super::api::{AwsCallError, ListedRule, RuleApi, ScalingApi, ScheduledAction, WarmApi};
use super::cost::warm_cost;
use super::desired::{
    desired_rule, rule_arn, rule_name, unqualified, DesiredRule, OWNER_TAG_KEY, OWNER_TAG_VALUE,
};
use super::provisioned::{
    hours_per_week, lambda_alias, plan_scaling, resource_id, wanted_actions, ScalingChange,
};
use super::sync_plan::{plan, Action, Observed, Resolution};
use super::sync_report::{Calls, Skipped, SyncProblem, SyncReport};
use crate::concurrent::map_limited;
use crate::rules::{PrewarmMode, PrewarmRule};
use std::sync::atomic::{AtomicU32, Ordering};
use tracing::{error, info, warn};

/// Reads in flight at once: EventBridge's control-plane calls are throttled at a few tens per second.
const READ_CONCURRENCY: usize = 8;

#[derive(Clone, Debug)]
pub struct SyncSettings {
    pub prefix: String,
    /// The pre-warm function, the target of rules above concurrency 1.
    pub pinger_arn: Option<String>,
    /// The pre-warm failure queue: each rule target's dead-letter queue.
    pub failure_queue_arn: Option<String>,
    pub dry_run: bool,
}

/// Reads, plans and (unless a dry run) writes.
pub struct Syncer<R, W, S> {
    rules: R,
    lambda: W,
    scaling: S,
    settings: SyncSettings,
    reads: AtomicU32,
    writes: AtomicU32,
}

impl<R: RuleApi, W: WarmApi, S: ScalingApi> Syncer<R, W, S> {
    pub fn new(rules: R, lambda: W, scaling: S, settings: SyncSettings) -> Self {
        Syncer {
            rules,
            lambda,
            scaling,
            settings,
            reads: AtomicU32::new(0),
            writes: AtomicU32::new(0),
        }
    }

    fn count_read(&self) {
        self.reads.fetch_add(1, Ordering::Relaxed);
    }

    fn count_write(&self) {
        self.writes.fetch_add(1, Ordering::Relaxed);
    }

    /// Makes EventBridge hold exactly the rules `config` asks for.
    pub async fn sync(&self, config: &[PrewarmRule]) -> SyncReport {
        self.sync_at(config, crate::clock::now_ms() as i64 / 1000)
            .await
    }

    /// The same at `now` (seconds since the epoch): windows in local time are folded for the offsets
    /// in force then.
    pub async fn sync_at(&self, config: &[PrewarmRule], now: i64) -> SyncReport {
        self.reads.store(0, Ordering::Relaxed);
        self.writes.store(0, Ordering::Relaxed);
        let mut report = SyncReport {
            dry_run: self.settings.dry_run,
            ..SyncReport::default()
        };
        let (pings, provisioned): (Vec<PrewarmRule>, Vec<PrewarmRule>) = config
            .iter()
            .cloned()
            .partition(|rule| matches!(rule.mode, PrewarmMode::Pings(_)));
        let (wanted, observed) = tokio::join!(self.resolve_all(&pings, now), self.observe());
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
        self.sync_provisioned(&provisioned, &mut report).await;
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

    /// Provisioned rules: read the scheduled actions and each target, decide (`plan_scaling`), write.
    async fn sync_provisioned(&self, config: &[PrewarmRule], report: &mut SyncReport) {
        let prefix = self.settings.prefix.clone();
        self.count_read();
        let observed = match self.scaling.scheduled_actions().await {
            Ok(observed) => observed,
            Err(e) => {
                report.errors.push(SyncProblem {
                    rule: None,
                    target: None,
                    message: format!(
                        "cannot read Application Auto Scaling's scheduled actions: {e}"
                    ),
                });
                return;
            }
        };
        let mut wanted = Vec::new();
        // Targets that could not be decided: their actions are left as they are.
        let mut undecided = Vec::new();
        for rule in config {
            let target = rule.target_label();
            let qualifier = rule.qualifier.as_deref().unwrap_or_default();
            let id = resource_id(&rule.function, qualifier);
            let mut problem = |message: String| {
                undecided.push(id.clone());
                report.errors.push(SyncProblem {
                    rule: Some(rule.name.clone()),
                    target: Some(target.clone()),
                    message,
                });
            };
            self.count_read();
            let function = match self.lambda.function(&rule.function, Some(qualifier)).await {
                Ok(Some(function)) => function,
                Ok(None) => {
                    problem(format!("function {target} does not exist (GetFunctionConfiguration: ResourceNotFoundException); its scheduled actions, if any, are left as they are"));
                    continue;
                }
                Err(e) => {
                    problem(format!("cannot read function {target}: {e}"));
                    continue;
                }
            };
            let ours = observed
                .iter()
                .any(|a| a.resource_id == id && a.name.starts_with(&prefix));
            if !ours {
                self.count_read();
                match self.lambda.provisioned(&rule.function, qualifier).await {
                    Ok(Some(p)) => {
                        report.skipped.push(Skipped {
                            target: target.clone(),
                            reason: format!("provisioned concurrency {} was set by someone else; selfheal does not take it over", p.allocated),
                        });
                        continue;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        problem(format!(
                            "cannot read the provisioned concurrency of {target}: {e}"
                        ));
                        continue;
                    }
                }
            }
            match wanted_actions(rule, &prefix) {
                Ok(actions) => {
                    let hours = rule.window.as_ref().map_or(0, hours_per_week);
                    report.costs.push(warm_cost(
                        &rule.name,
                        &target,
                        rule.concurrency,
                        function.memory_mb,
                        function.arm64,
                        hours,
                    ));
                    wanted.push((rule.concurrency, actions));
                }
                Err(message) => problem(message),
            }
        }
        let decided: Vec<ScheduledAction> = observed
            .into_iter()
            .filter(|a| !undecided.contains(&a.resource_id))
            .collect();
        let (changes, unchanged) = plan_scaling(&wanted, &decided, &prefix);
        report.scaling_unchanged = unchanged;
        self.apply_all_scaling(&changes, report).await;
        report.scaling = changes;
    }

    /// Each scaling change made (unless a dry run), each failure reported and the rest still made.
    async fn apply_all_scaling(&self, changes: &[ScalingChange], report: &mut SyncReport) {
        if self.settings.dry_run {
            return;
        }
        for change in changes {
            if let Err(e) = self.apply_scaling(change).await {
                error!(error = %e, "prewarm sync scaling write failed");
                report.errors.push(SyncProblem {
                    rule: None,
                    target: None,
                    message: e.to_string(),
                });
            }
        }
    }

    async fn apply_scaling(&self, change: &ScalingChange) -> Result<(), AwsCallError> {
        match change {
            ScalingChange::Register { resource_id, max } => {
                self.count_write();
                self.scaling.register_target(resource_id, 0, *max).await
            }
            ScalingChange::Put(action) => {
                self.count_write();
                self.scaling.put_action(action).await?;
                info!(action = %action.name, decision = "put", "prewarm scheduled action");
                Ok(())
            }
            ScalingChange::Delete { name, resource_id } => {
                self.count_write();
                self.scaling.delete_action(name, resource_id).await
            }
            ScalingChange::Retire { resource_id } => {
                // Bounds of 0 first, so that capacity held now is released, not left billing.
                self.count_write();
                self.scaling.register_target(resource_id, 0, 0).await?;
                self.count_write();
                self.scaling.deregister_target(resource_id).await?;
                // Neither the lower bounds nor the deregistration is documented to remove the
                // configuration already on the alias (Application Auto Scaling API reference,
                // DeregisterScalableTarget: it deletes the scaling policies and scheduled actions), so
                // the configuration is deleted here, once its actions can no longer put it back.
                if let Some((function, qualifier)) = lambda_alias(resource_id) {
                    self.count_write();
                    self.lambda.release_provisioned(function, qualifier).await?;
                }
                info!(target = %resource_id, decision = "retired", "prewarm provisioned target");
                Ok(())
            }
        }
    }

    async fn resolve_all(&self, config: &[PrewarmRule], now: i64) -> Vec<Resolution> {
        map_limited(config, READ_CONCURRENCY, |rule| self.resolve(rule, now)).await
    }

    async fn resolve(&self, rule: &PrewarmRule, now: i64) -> Resolution {
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
        self.count_read();
        let function_arn = match self
            .lambda
            .function(&rule.function, rule.qualifier.as_deref())
            .await
        {
            Ok(Some(found)) => found.arn,
            Ok(None) => {
                return problem(format!(
                    "function {target} does not exist (GetFunctionConfiguration: ResourceNotFoundException); its rule, if any, is left as it is"
                ))
            }
            Err(e) => return problem(format!("cannot read function {target}: {e}")),
        };
        if let Some(qualifier) = &rule.qualifier {
            self.count_read();
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
            now,
        ) {
            Ok(mut desired) => {
                desired.dead_letter_arn = self.settings.failure_queue_arn.clone();
                Resolution::Want(Box::new(desired))
            }
            Err(message) => problem(message),
        }
    }

    async fn observe(&self) -> Result<Vec<Observed>, AwsCallError> {
        self.count_read();
        let listed = self.rules.list_rules(&self.settings.prefix).await?;
        let listed: Vec<ListedRule> = listed
            .into_iter()
            .filter(|r| r.name.starts_with(&self.settings.prefix))
            .collect();
        Ok(map_limited(listed, READ_CONCURRENCY, |rule| self.observe_one(rule)).await)
    }

    async fn observe_one(&self, listed: ListedRule) -> Observed {
        self.count_read();
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
        self.count_read();
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
                    self.count_write();
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
                    self.count_write();
                    self.rules
                        .remove_targets(rule, &ids)
                        .await
                        .map_err(|e| failed(rule, e))?;
                }
                self.count_write();
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
        self.count_write();
        self.rules
            .put_rule(&desired.definition)
            .await
            .map(drop)
            .map_err(|e| failed(&desired.definition.name, e))
    }

    async fn put_target(&self, desired: &DesiredRule) -> Result<(), SyncProblem> {
        self.count_write();
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
        self.count_write();
        self.lambda
            .allow_rule(&desired.function, desired.qualifier.as_deref(), name, &arn)
            .await
            .map_err(|e| failed(name, e))
    }

    async fn disallow(&self, rule: &str, function_arn: &str) -> Result<(), SyncProblem> {
        let qualifier = function_arn
            .strip_prefix(unqualified(function_arn))
            .and_then(|rest| rest.strip_prefix(':'));
        self.count_write();
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
