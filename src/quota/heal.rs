//! Quota healing: read, decide, then act.

use super::access::{QuotaAccess, Reach};
use super::api::{AutoManagement, ChangeRequest, QuotaApi, QuotaApiError, QuotaInfo};
use super::catalog::QuotaCatalog;
use super::outcome::{NotificationOutcome, Outcome, RequestOutcome};
use super::plan::{after_lost_race, escalation_for, LostRace, Plan, RaisePlan};
use super::reading::{
    decide_after_reading, decide_before_reading, leave_to_aws, reason_for, unreachable_account,
    AlarmReading, History, Home, QuotaReading, Scope,
};
use crate::alarm::{AlarmNotice, NamedQuota};
use crate::escalation::QuotaSubject;
use crate::escalation::{
    render_escalation, render_resolution, Escalation, EscalationReason, Notification, Notifier,
    NotifyError, Rendering, Route, Severity,
};
use crate::ledger::{
    AuditRecord, AuditTrail, Claims, Cooldowns, FiledRequest, FiledRequests, LedgerError,
    OpenEscalation, OpenEscalations,
};
use crate::rules::{QuotaRule, RuleSet};
use crate::settings::QuotaSettings;
use crate::text::number;
use tracing::{error, info, warn};

/// The function's name in logs and audit records.
const FUNCTION: &str = "quota-alarm";
/// Stands for an account that neither the event nor the function's settings name.
const UNKNOWN_ACCOUNT: &str = "unknown-account";
/// How long a run holds its claim on an input before another delivery may take it over: Lambda's
/// longest timeout (900 s, Lambda developer guide, "Lambda quotas"), so no live run is overtaken.
const CLAIM_LEASE_SECS: u64 = 900;
/// How long a decided input is remembered: SNS retries a delivery to Lambda for up to 23 days
/// (SNS developer guide, "Amazon SNS message delivery retries"), EventBridge and Lambda for less.
const CLAIM_MEMORY_SECS: u64 = 30 * 24 * 3600;

/// The failures that make the invocation fail, so that Lambda retries it.
#[derive(Debug, thiserror::Error)]
pub enum HealError {
    #[error("could not send the notification: {0}")]
    Notify(#[from] NotifyError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// The quota function's core, over the three capabilities it needs.
pub struct QuotaHealer<A, N, L> {
    /// Service Quotas, in each account and Region it may act in.
    pub(super) access: A,
    pub(super) notifier: N,
    pub(super) ledger: L,
    pub(super) rules: RuleSet,
    catalog: QuotaCatalog,
    /// Automatic Management's configuration of each account and Region, once read.
    auto_management: std::sync::Mutex<std::collections::HashMap<(String, String), AutoManagement>>,
    pub(super) settings: QuotaSettings,
}

impl<
        A: QuotaAccess,
        N: Notifier,
        L: Claims + Cooldowns + OpenEscalations + AuditTrail + FiledRequests,
    > QuotaHealer<A, N, L>
{
    pub fn new(access: A, notifier: N, ledger: L, rules: RuleSet, settings: QuotaSettings) -> Self {
        QuotaHealer {
            access,
            notifier,
            ledger,
            rules,
            catalog: QuotaCatalog::default(),
            auto_management: std::sync::Mutex::new(std::collections::HashMap::new()),
            settings,
        }
    }

    pub(super) fn home(&self) -> Home<'_> {
        Home {
            account_id: self.settings.home_account_id.as_deref(),
            region: &self.settings.home_region,
            organization: &self.rules.organization,
        }
    }

    /// How the clients reach `scope`: the function's own credentials in its own account, the spoke
    /// role in any other.
    pub(super) fn reach<'s>(&self, own: bool, scope: &'s Scope<'s>) -> Reach<'s> {
        if own {
            Reach::Own {
                region: scope.region,
            }
        } else {
            Reach::Spoke {
                account_id: scope.account_id,
                region: scope.region,
            }
        }
    }

    /// A page's routing: the account's owner and topic from `rules/accounts.toml`.
    pub(super) fn route(
        &self,
        account_id: &str,
        region: &str,
        codes: (Option<&str>, Option<&str>),
        reason: &str,
        severity: Severity,
    ) -> Route {
        let organization = &self.rules.organization;
        Route {
            topic_arn: organization.topic_of(account_id).map(str::to_owned),
            account: account_id.to_owned(),
            region: region.to_owned(),
            owner: organization.owner_of(account_id).map(str::to_owned),
            service: codes.0.map(str::to_owned),
            quota: codes.1.map(str::to_owned),
            reason: reason.to_owned(),
            severity,
        }
    }

    /// Handles one alarm notice; `now` is seconds since the epoch.
    pub async fn handle(
        &self,
        notice: &AlarmNotice,
        request_id: &str,
        now: u64,
    ) -> Result<Outcome, HealError> {
        self.handle_with(notice, request_id, now, self.settings.dry_run)
            .await
    }

    /// The same, planning only when `dry_run` (or the settings say so).
    pub async fn handle_with(
        &self,
        notice: &AlarmNotice,
        request_id: &str,
        now: u64,
        dry_run: bool,
    ) -> Result<Outcome, HealError> {
        let dry_run = dry_run || self.settings.dry_run;
        let scope = Scope {
            account_id: notice
                .account_id
                .as_deref()
                .or(self.settings.home_account_id.as_deref())
                .unwrap_or(UNKNOWN_ACCOUNT),
            region: notice
                .region
                .as_deref()
                .unwrap_or(&self.settings.home_region),
        };
        let mut steps = Vec::new();
        // A dry run changes nothing, the claim included.
        let claim = match (&notice.transition, dry_run) {
            (Some(transition), false) => Some(transition.id.as_str()),
            (None, false) => {
                steps.push("the event does not say when the alarm changed state, so a second delivery of it cannot be recognised".into());
                None
            }
            (_, true) => None,
        };
        if let Some(key) = claim {
            let claimed = self
                .ledger
                .claim(
                    key,
                    request_id,
                    now,
                    now + CLAIM_LEASE_SECS,
                    now + CLAIM_MEMORY_SECS,
                )
                .await?;
            if !claimed {
                return self.duplicate(notice, key, request_id, now, steps).await;
            }
        }
        let own = self.home().is_own(notice, &scope);
        let (plan, rule) = self.plan(notice, &scope, own, now as i64, &mut steps).await;
        info!(function = FUNCTION, request_id, alarm = %notice.alarm_name, plan = plan_name(&plan), "planned");
        let acted = if dry_run {
            Ok(Outcome::planned(notice, &plan, rule))
        } else {
            self.act_claimed(
                claim, request_id, notice, &scope, own, plan, rule, now, &mut steps,
            )
            .await
        };
        let mut outcome = match acted {
            Ok(outcome) => outcome,
            Err(e) => {
                self.release(claim, request_id).await;
                return Err(e);
            }
        };
        if outcome.reason == EscalationReason::SpokeCredentialsExpired.slug() {
            self.access.forget(scope.account_id);
        }
        outcome.steps = steps;
        info!(
            function = FUNCTION,
            request_id,
            alarm = %notice.alarm_name,
            decision = outcome.decision.name(),
            reason = %outcome.reason,
            quota = outcome.quota.quota_code.as_deref().unwrap_or("-"),
            dry_run = outcome.dry_run,
            "decided"
        );
        if !dry_run {
            if let Err(e) = self.audit(notice, &outcome, request_id, now).await {
                // Lambda's retry decides again; what was filed or paged stops it from doing it twice
                // (the request history, the page's cooldown).
                self.release(claim, request_id).await;
                return Err(e);
            }
            if let Some(key) = claim {
                if let Err(e) = self
                    .ledger
                    .settle_claim(key, request_id, outcome.decision.name())
                    .await
                {
                    // The claim's lease still holds later deliveries off for a while, and what was
                    // filed or paged stops them after.
                    warn!(error = %e, claim = key, "the decided input could not be marked so");
                }
            }
        }
        Ok(outcome)
    }

    /// Carries the plan out under the claim: the claim is confirmed (and the plan written into it)
    /// just before anything is filed or paged.
    #[allow(clippy::too_many_arguments)]
    async fn act_claimed(
        &self,
        claim: Option<&str>,
        request_id: &str,
        notice: &AlarmNotice,
        scope: &Scope<'_>,
        own: bool,
        plan: Plan,
        rule: Option<String>,
        now: u64,
        steps: &mut Vec<String>,
    ) -> Result<Outcome, HealError> {
        if let (Some(key), false) = (claim, matches!(plan, Plan::Nothing { .. })) {
            if !self
                .ledger
                .confirm_claim(key, request_id, plan_name(&plan))
                .await?
            {
                steps.push(format!(
                    "another delivery took over {key} while this one read: it acts, this one does not"
                ));
                return Ok(duplicate_outcome(notice, key));
            }
        }
        self.act(notice, scope, own, plan, rule, now, steps).await
    }

    /// A delivery of an input another run claimed or decided: nothing is read, filed or paged.
    async fn duplicate(
        &self,
        notice: &AlarmNotice,
        key: &str,
        request_id: &str,
        now: u64,
        mut steps: Vec<String>,
    ) -> Result<Outcome, HealError> {
        steps.push(format!(
            "{key} was claimed by another delivery of the same event: nothing read, filed or paged"
        ));
        let mut outcome = duplicate_outcome(notice, key);
        outcome.steps = steps;
        info!(
            function = FUNCTION,
            request_id,
            alarm = %notice.alarm_name,
            decision = outcome.decision.name(),
            reason = %outcome.reason,
            "decided"
        );
        self.audit(notice, &outcome, request_id, now).await?;
        Ok(outcome)
    }

    /// Gives a failed run's claim back, so that Lambda's retry decides again.
    async fn release(&self, claim: Option<&str>, request_id: &str) {
        if let Some(key) = claim {
            if let Err(e) = self.ledger.release_claim(key, request_id).await {
                warn!(error = %e, claim = key, "a failed run's claim could not be released; it lapses with its lease");
            }
        }
    }

    /// Reads what is needed, then decides (`reading`'s pure functions). Never writes.
    async fn plan(
        &self,
        notice: &AlarmNotice,
        scope: &Scope<'_>,
        own: bool,
        now: i64,
        steps: &mut Vec<String>,
    ) -> (Plan, Option<String>) {
        if let Some(plan) = decide_before_reading(notice, scope, &self.home(), steps) {
            return (plan, None);
        }
        let api = match self.access.api_in(self.reach(own, scope)).await {
            Ok(api) => api,
            Err(e) => {
                let escalation = unreachable_account(notice, scope, &e, steps);
                return (Plan::Escalate(Box::new(escalation)), None);
            }
        };
        if !own {
            steps.push(format!(
                "acting in account {} through its spoke role",
                scope.account_id
            ));
        }
        let (rule, quota) = self.read(&api, notice, scope, steps).await;
        let plan = decide_after_reading(&AlarmReading {
            notice,
            scope,
            rule,
            defaults: &self.rules.defaults,
            quota: &quota,
            now,
            tried: steps,
        });
        let plan = match plan {
            Plan::Raise(_) => {
                let auto = self.auto_management(&api, scope, steps).await;
                leave_to_aws(plan, &auto, rule, &quota)
            }
            Plan::Nothing {
                reason: "already-raised",
                ref summary,
                ..
            } => {
                steps.push(summary.clone());
                plan
            }
            other => other,
        };
        (plan, rule.map(|r| r.name.clone()))
    }

    /// Finds the alarm's rule and quota (by the alarm's name, else its usage metric), and reads the
    /// quota and its history, each step in `steps`.
    async fn read(
        &self,
        api: &A::Api,
        notice: &AlarmNotice,
        scope: &Scope<'_>,
        steps: &mut Vec<String>,
    ) -> (Option<&QuotaRule>, QuotaReading) {
        let account = scope.account_id;
        let mut rule = self.rules.rule_for_alarm(&notice.alarm_name, account);
        let (service_code, quota_code) = match rule {
            Some(r) => {
                steps.push(format!(
                    "rule {:?} matches the alarm name: {} {}",
                    r.name, r.service_code, r.quota_code
                ));
                (r.service_code.clone(), r.quota_code.clone())
            }
            None if notice.named_quota.is_some() => {
                match self
                    .quota_by_name(api, scope.region, notice.named_quota.as_ref(), steps)
                    .await
                {
                    Ok((service_code, quota_code)) => {
                        rule = self
                            .rules
                            .rule_for_quota(&service_code, &quota_code, account);
                        (service_code, quota_code)
                    }
                    Err(reading) => return (None, reading),
                }
            }
            None => {
                let Some(metric) = notice.usage_metric() else {
                    steps.push(
                        "no rule matches the alarm name, and the alarm names no usage metric"
                            .into(),
                    );
                    return (None, QuotaReading::NoQuotaNamed);
                };
                match self.catalog.find(api, scope.region, metric).await {
                    Ok(Some(quota)) => {
                        steps.push(format!(
                            "usage metric {}/{} matches {} {} ({})",
                            metric.namespace,
                            metric.name,
                            quota.service_code,
                            quota.quota_code,
                            quota.quota_name
                        ));
                        rule = self.rules.rule_for_quota(
                            &quota.service_code,
                            &quota.quota_code,
                            account,
                        );
                        (quota.service_code, quota.quota_code)
                    }
                    Ok(None) => {
                        steps.push(format!(
                            "ListServiceQuotas: no quota has usage metric {}/{} {:?}",
                            metric.namespace, metric.name, metric.dimensions
                        ));
                        return (None, QuotaReading::NoQuotaForMetric(metric.clone()));
                    }
                    Err(e) => {
                        steps.push(format!("ListServiceQuotas failed: {e}"));
                        return (None, QuotaReading::CatalogUnreadable(e));
                    }
                }
            }
        };
        let quota = match self
            .read_quota(api, &service_code, &quota_code, steps)
            .await
        {
            Ok(quota) => quota,
            Err(error) => {
                steps.push(format!("reading the quota failed: {error}"));
                let reading = QuotaReading::QuotaUnreadable {
                    service_code,
                    quota_code,
                    error,
                };
                return (rule, reading);
            }
        };
        steps.push(format!(
            "quota {}: {} value {}, {}",
            quota.quota_code,
            if quota.default_only {
                "AWS default"
            } else {
                "applied"
            },
            quota.value.map_or_else(|| "unknown".into(), number),
            if quota.adjustable {
                "adjustable"
            } else {
                "not adjustable"
            }
        ));
        // A quota that cannot be raised needs no history.
        let history = if quota.adjustable {
            let needs_default = rule.is_none() && !quota.default_only;
            Some(
                self.read_history(api, &quota, needs_default, steps)
                    .await
                    .map(|(requests, default)| History {
                        requests,
                        aws_default_value: if quota.default_only {
                            quota.value
                        } else {
                            default
                        },
                    }),
            )
        } else {
            None
        };
        (rule, QuotaReading::Read { quota, history })
    }

    /// Service Quotas' Automatic Management of the scope's account and Region, read once per
    /// container (only before a raise). A failed read is not kept: the raise goes ahead, and the next
    /// one asks again.
    async fn auto_management(
        &self,
        api: &A::Api,
        scope: &Scope<'_>,
        steps: &mut Vec<String>,
    ) -> AutoManagement {
        let key = (scope.account_id.to_owned(), scope.region.to_owned());
        if let Some(known) = self
            .auto_management
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned()
        {
            return known;
        }
        match api.auto_management().await {
            Ok(auto) => {
                steps.push(format!(
                    "Automatic Management: {}",
                    match (&auto.enabled, auto.opt_in_type.as_deref()) {
                        (true, Some(kind)) => format!("started, {kind}"),
                        (true, None) => "started".into(),
                        (false, _) => "not started".into(),
                    }
                ));
                self.auto_management
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(key, auto.clone());
                auto
            }
            Err(e) => {
                steps.push(format!(
                    "GetAutoManagementConfiguration failed ({e}); going on as if AWS adjusted nothing"
                ));
                AutoManagement::default()
            }
        }
    }

    /// The codes of the quota a threshold notice names (found by its exact name in the service's quota
    /// list) or the utilization report names.
    async fn quota_by_name(
        &self,
        api: &A::Api,
        region: &str,
        named: Option<&NamedQuota>,
        steps: &mut Vec<String>,
    ) -> Result<(String, String), QuotaReading> {
        let (service_code, quota_name) = match named {
            Some(NamedQuota::Named {
                service_code,
                quota_name,
                ..
            }) => (service_code, quota_name),
            Some(NamedQuota::Coded {
                service_code,
                quota_code,
                utilization_percent,
            }) => {
                steps.push(format!(
                    "the utilization report has {service_code} {quota_code} at {utilization_percent}%"
                ));
                return Ok((service_code.clone(), quota_code.clone()));
            }
            Some(NamedQuota::Unreadable { entry }) => {
                steps.push(format!(
                    "the threshold notice's entry {entry:?} names no quota"
                ));
                return Err(QuotaReading::UnreadableEntry(entry.clone()));
            }
            None => return Err(QuotaReading::NoQuotaNamed),
        };
        match self
            .catalog
            .find_by_name(api, region, service_code, quota_name)
            .await
        {
            Ok(Some(quota)) => {
                steps.push(format!(
                    "Service Quotas named {quota_name:?}: {} {}",
                    quota.service_code, quota.quota_code
                ));
                Ok((quota.service_code, quota.quota_code))
            }
            Ok(None) => {
                steps.push(format!(
                    "ListServiceQuotas: no quota of {service_code} is named {quota_name:?}"
                ));
                Err(QuotaReading::NoQuotaWithName {
                    service_code: service_code.clone(),
                    quota_name: quota_name.clone(),
                })
            }
            Err(e) => {
                steps.push(format!("ListServiceQuotas failed: {e}"));
                Err(QuotaReading::CatalogUnreadable(e))
            }
        }
    }

    async fn read_history(
        &self,
        api: &A::Api,
        quota: &QuotaInfo,
        needs_default: bool,
        steps: &mut Vec<String>,
    ) -> Result<(Vec<ChangeRequest>, Option<f64>), QuotaApiError> {
        let history = api
            .list_requests(&quota.service_code, &quota.quota_code)
            .await
            .inspect_err(|e| steps.push(format!("request history failed: {e}")))?;
        let open = history.iter().filter(|r| r.status.is_open()).count();
        steps.push(format!(
            "request history: {} requests, {open} open",
            history.len()
        ));
        let default = if needs_default {
            let value = api
                .get_aws_default_quota(&quota.service_code, &quota.quota_code)
                .await
                .inspect_err(|e| steps.push(format!("GetAWSDefaultServiceQuota failed: {e}")))?
                .value;
            steps.push(format!(
                "no rule names the quota; AWS default value {}",
                value.map_or_else(|| "unknown".into(), number)
            ));
            value
        } else {
            None
        };
        Ok((history, default))
    }

    /// `GetServiceQuota`, or the AWS default where Service Quotas reports no applied value (it
    /// answers `NoSuchResourceException` then: botocore `service-quotas` model, documentation of
    /// `GetServiceQuota`; terraform-provider-aws #10929 for `lambda/L-B99A9384`).
    async fn read_quota(
        &self,
        api: &A::Api,
        service_code: &str,
        quota_code: &str,
        steps: &mut Vec<String>,
    ) -> Result<QuotaInfo, QuotaApiError> {
        match api.get_service_quota(service_code, quota_code).await {
            Err(QuotaApiError::NoSuchResource { message, .. }) => {
                steps.push(format!(
                    "GetServiceQuota: no applied value reported ({message}); reading the AWS default"
                ));
                let quota = api.get_aws_default_quota(service_code, quota_code).await?;
                steps.push(format!(
                    "GetAWSDefaultServiceQuota: default {} taken as the current value",
                    quota.value.map_or_else(|| "unknown".into(), number)
                ));
                Ok(quota)
            }
            other => other,
        }
    }

    /// Carries a plan out.
    #[allow(clippy::too_many_arguments)]
    async fn act(
        &self,
        notice: &AlarmNotice,
        scope: &Scope<'_>,
        own: bool,
        plan: Plan,
        rule: Option<String>,
        now: u64,
        steps: &mut Vec<String>,
    ) -> Result<Outcome, HealError> {
        match plan {
            Plan::Nothing {
                reason,
                summary,
                quota,
            } => Ok(Outcome::nothing_about(
                notice,
                reason,
                summary,
                quota.as_deref(),
                false,
            )),
            Plan::Resolve { alarm_key } => {
                self.resolve(notice, scope, &alarm_key, now, steps).await
            }
            Plan::Escalate(escalation) => {
                self.escalate(notice, scope, &escalation, rule, now, steps)
                    .await
            }
            Plan::Raise(raise) => {
                // The client the plan read through, kept by the access (its credentials renewed if
                // they are about to end).
                match self.access.api_in(self.reach(own, scope)).await {
                    Ok(api) => {
                        self.raise(&api, notice, scope, raise, rule, now, steps)
                            .await
                    }
                    Err(e) => {
                        let escalation = unreachable_account(notice, scope, &e, steps);
                        self.escalate(notice, scope, &escalation, None, now, steps)
                            .await
                    }
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn raise(
        &self,
        api: &A::Api,
        notice: &AlarmNotice,
        scope: &Scope<'_>,
        raise: RaisePlan,
        rule: Option<String>,
        now: u64,
        steps: &mut Vec<String>,
    ) -> Result<Outcome, HealError> {
        let result = api
            .request_increase(
                &raise.service_code,
                &raise.quota_code,
                raise.desired_value,
                raise.support_case_allowed,
            )
            .await;
        let (reason, error) = match result {
            Ok(request) => {
                steps.push(format!(
                    "RequestServiceQuotaIncrease to {}: request {} is {}",
                    number(raise.desired_value),
                    request.id,
                    request.status.name()
                ));
                // Kept for the follow-up, which tells what became of it. Losing it loses only that
                // notice, not the request: logged, not failed.
                let filed = FiledRequest {
                    request_id: request.id.clone(),
                    account_id: scope.account_id.to_owned(),
                    region: scope.region.to_owned(),
                    alarm_name: notice.alarm_name.clone(),
                    service_code: raise.service_code.clone(),
                    quota_code: raise.quota_code.clone(),
                    quota_name: raise.quota_name.clone(),
                    from_value: raise.current_value,
                    desired_value: raise.desired_value,
                    filed_at: now,
                    told: None,
                };
                if let Err(e) = self.ledger.record_filed(&filed).await {
                    warn!(error = %e, request = %request.id, "the filed request could not be kept for the follow-up");
                    steps.push(format!(
                        "the request could not be kept for the follow-up: {e}"
                    ));
                }
                let mut outcome = Outcome::raise(notice, &raise, false);
                outcome.request = Some(RequestOutcome {
                    id: request.id,
                    status: request.status.name().to_owned(),
                });
                return Ok(outcome);
            }
            Err(
                e @ (QuotaApiError::AlreadyOpen { .. } | QuotaApiError::IllegalArgument { .. }),
            ) => match self.after_refusal(api, &raise, &e, steps).await {
                Some(outcome) => {
                    let mut outcome = outcome(notice);
                    outcome.quota = QuotaSubject {
                        desired_value: None,
                        ceiling: None,
                        ..QuotaSubject::from(&raise)
                    };
                    return Ok(outcome);
                }
                None => (reason_for(&e), e),
            },
            Err(e) => (reason_for(&e), e),
        };
        steps.push(format!(
            "RequestServiceQuotaIncrease to {} failed: {error}",
            number(raise.desired_value)
        ));
        let mut escalation = escalation_for(
            notice,
            scope.account_id,
            scope.region,
            reason,
            error.to_string(),
            steps,
        );
        escalation.quota = QuotaSubject::from(&raise);
        if let Some(runbook) = rule
            .as_deref()
            .and_then(|name| self.rules.quotas.iter().find(|r| r.name == name))
            .and_then(|r| r.runbook.clone())
        {
            escalation.runbook = runbook;
        }
        self.escalate(notice, scope, &escalation, rule, now, steps)
            .await
    }

    /// A request refused as a duplicate (`ResourceAlreadyExistsException`) or as not above the
    /// quota (`IllegalArgumentException`) is what a delivery that lost the race to another gets: the
    /// quota and its history are read again and decide (`after_lost_race`). `None`: a real refusal.
    async fn after_refusal(
        &self,
        api: &A::Api,
        raise: &RaisePlan,
        error: &QuotaApiError,
        steps: &mut Vec<String>,
    ) -> Option<impl FnOnce(&AlarmNotice) -> Outcome> {
        steps.push(format!(
            "RequestServiceQuotaIncrease to {} refused: {error}; reading the quota again",
            number(raise.desired_value)
        ));
        let quota = self
            .read_quota(api, &raise.service_code, &raise.quota_code, steps)
            .await;
        let history = api
            .list_requests(&raise.service_code, &raise.quota_code)
            .await;
        let reread = match (&quota, &history) {
            (Ok(quota), Ok(history)) => Some((quota.value, history.as_slice())),
            (Err(e), _) | (_, Err(e)) => {
                steps.push(format!("reading the quota again failed: {e}"));
                None
            }
        };
        let (reason, summary) = match after_lost_race(raise, error, reread) {
            LostRace::Refused => return None,
            LostRace::Pending(id) => {
                steps.push(if id.is_empty() {
                    "a request for this quota is already open".to_owned()
                } else {
                    format!("request {id} for this quota is open")
                });
                (
                    "request-pending",
                    "an increase request for this quota is already open; not filing another"
                        .to_owned(),
                )
            }
            LostRace::AlreadyRaised { applied } => {
                steps.push(format!(
                    "the quota is now {}, at or above the {} this run asked: another delivery or a person raised it",
                    number(applied),
                    number(raise.desired_value)
                ));
                (
                    "already-raised",
                    format!(
                        "the quota was raised to {} while this run decided; not filing another",
                        number(applied)
                    ),
                )
            }
        };
        Some(move |notice: &AlarmNotice| Outcome::nothing(notice, reason, summary, false))
    }

    async fn escalate(
        &self,
        notice: &AlarmNotice,
        scope: &Scope<'_>,
        escalation: &Escalation,
        rule: Option<String>,
        now: u64,
        steps: &mut Vec<String>,
    ) -> Result<Outcome, HealError> {
        let notification = render_escalation(escalation, &self.rendering());
        let cooldown_secs = 60 * u64::from(self.cooldown_minutes(rule.as_deref()));
        let mut outcome = Outcome::escalate(notice, escalation, rule, false);
        let mut sent = NotificationOutcome {
            kind: "escalation",
            subject: notification.subject.clone(),
            sms: notification.sms.clone(),
            dedup_key: notification.dedup_key.clone(),
            ..Default::default()
        };
        let claimed = match self
            .ledger
            .claim_cooldown(&notification.dedup_key, now, now + cooldown_secs)
            .await
        {
            Ok(claimed) => claimed,
            Err(e) => {
                // A second page is better than none: send without the cooldown.
                error!(error = %e, dedup_key = %notification.dedup_key, "cooldown ledger unavailable; paging anyway");
                steps.push(format!("cooldown ledger unavailable ({e}); paging anyway"));
                true
            }
        };
        if !claimed {
            steps.push(format!(
                "page suppressed: the same escalation went out less than {} minutes ago",
                cooldown_secs / 60
            ));
            sent.suppressed_by_cooldown = true;
            outcome.notification = Some(sent);
            return Ok(outcome);
        }
        let route = self.route(
            &escalation.account_id,
            &escalation.region,
            (
                escalation.quota.service_code.as_deref(),
                escalation.quota.quota_code.as_deref(),
            ),
            escalation.reason.slug(),
            Severity::Critical,
        );
        let message_id = match self.notifier.publish(&notification, &route).await {
            Ok(id) => id,
            Err(e) => {
                if let Err(release) = self.ledger.release_cooldown(&notification.dedup_key).await {
                    warn!(error = %release, "could not release the cooldown of an unsent page");
                }
                return Err(e.into());
            }
        };
        steps.push(format!(
            "escalation published to SNS (message {message_id})"
        ));
        self.ledger
            .open_escalation(
                &scope.alarm_key(&notice.alarm_name),
                &OpenEscalation {
                    dedup_key: notification.dedup_key.clone(),
                    summary: format!("{} {}", escalation.subject_key(), escalation.reason.short()),
                },
                now + self.settings.escalation_memory_secs,
            )
            .await?;
        sent.sent = true;
        sent.message_id = Some(message_id);
        outcome.notification = Some(sent);
        Ok(outcome)
    }

    async fn resolve(
        &self,
        notice: &AlarmNotice,
        scope: &Scope<'_>,
        alarm_key: &str,
        now: u64,
        steps: &mut Vec<String>,
    ) -> Result<Outcome, HealError> {
        let Some(open) = self.ledger.close_escalation(alarm_key).await? else {
            steps.push("alarm is OK; no escalation was open for it".into());
            return Ok(Outcome::nothing(
                notice,
                "ok-nothing-escalated",
                "alarm back to OK; nothing had been escalated".into(),
                false,
            ));
        };
        let notification: Notification = render_resolution(
            &notice.alarm_name,
            &open.dedup_key,
            &open.summary,
            &notice.reason,
            &self.rendering(),
        );
        let route = self.route(
            scope.account_id,
            scope.region,
            (None, None),
            "resolved",
            Severity::Info,
        );
        let message_id = match self.notifier.publish(&notification, &route).await {
            Ok(id) => id,
            Err(e) => {
                // Put it back so that a retry sends the notice.
                let _ = self
                    .ledger
                    .open_escalation(alarm_key, &open, now + self.settings.escalation_memory_secs)
                    .await;
                return Err(e.into());
            }
        };
        steps.push(format!(
            "resolution notice published to SNS (message {message_id})"
        ));
        let mut outcome = Outcome::nothing(
            notice,
            "resolved",
            format!("alarm back to OK; resolution sent for: {}", open.summary),
            false,
        );
        outcome.notification = Some(NotificationOutcome {
            kind: "resolution",
            sent: true,
            suppressed_by_cooldown: false,
            message_id: Some(message_id),
            subject: notification.subject,
            sms: notification.sms,
            dedup_key: open.dedup_key,
        });
        Ok(outcome)
    }

    pub(super) fn rendering(&self) -> Rendering<'_> {
        Rendering {
            runbook_base_url: &self.settings.runbook_base_url,
            topic_display_name: &self.settings.topic_display_name,
        }
    }

    fn cooldown_minutes(&self, rule: Option<&str>) -> u32 {
        rule.and_then(|name| self.rules.quotas.iter().find(|r| r.name == name))
            .and_then(|r| r.cooldown_minutes)
            .unwrap_or(self.rules.defaults.cooldown_minutes)
    }

    async fn audit(
        &self,
        notice: &AlarmNotice,
        outcome: &Outcome,
        request_id: &str,
        now: u64,
    ) -> Result<(), HealError> {
        let record = AuditRecord {
            function: FUNCTION,
            subject: notice.alarm_name.clone(),
            at: now,
            expires: now + self.settings.audit_retention_secs,
            request_id: request_id.to_owned(),
            decision: outcome.decision.name().to_owned(),
            reason: outcome.reason.clone(),
            outcome: serde_json::to_string(outcome).unwrap_or_default(),
        };
        self.ledger.record(&record).await.map_err(|e| {
            error!(error = %e, "audit record not written");
            HealError::from(e)
        })
    }
}

fn duplicate_outcome(notice: &AlarmNotice, key: &str) -> Outcome {
    Outcome::nothing(
        notice,
        "duplicate-delivery",
        format!("another delivery of this event ({key}) decided it; nothing done twice"),
        false,
    )
}

fn plan_name(plan: &Plan) -> &'static str {
    match plan {
        Plan::Raise(_) => "raise",
        Plan::Escalate(_) => "escalate",
        Plan::Resolve { .. } => "resolve",
        Plan::Nothing { .. } => "nothing",
    }
}
