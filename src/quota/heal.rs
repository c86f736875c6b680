//! Quota healing: read, decide, then act.

use super::access::{QuotaAccess, Reach};
use super::api::{AutoManagement, ChangeRequest, QuotaApi, QuotaApiError, QuotaInfo};
use super::catalog::QuotaCatalog;
use super::outcome::{NotificationOutcome, Outcome, RequestOutcome};
use super::plan::{escalation_for, Plan, RaisePlan};
use super::reading::{
    decide_after_reading, decide_before_reading, leave_to_aws, reason_for, unreachable_account,
    AlarmReading, History, Home, QuotaReading, Scope,
};
use super::subject::QuotaSubject;
use crate::alarm::{AlarmNotice, NamedQuota};
use crate::escalation::{
    render_escalation, render_resolution, Escalation, EscalationReason, Notification, Notifier,
    NotifyError, Rendering, Route, Severity,
};
use crate::ledger::{
    AuditRecord, AuditTrail, Cooldowns, FiledRequest, FiledRequests, LedgerError, OpenEscalation,
    OpenEscalations,
};
use crate::rules::{QuotaRule, RuleSet};
use crate::text::number;
use tracing::{error, info, warn};

/// The function's name in logs and audit records.
const FUNCTION: &str = "quota-alarm";
/// Stands for an account that neither the event nor the function's settings name.
const UNKNOWN_ACCOUNT: &str = "unknown-account";

/// How the quota function runs, from its environment.
#[derive(Clone, Debug)]
pub struct Settings {
    pub runbook_base_url: String,
    /// The SNS topic's display name, which SNS puts before every SMS (it counts in the 140 bytes).
    pub topic_display_name: String,
    pub dry_run: bool,
    /// The account the function runs in, acted on with its own credentials (any other only through
    /// its spoke role, in hub mode). `None` when it could not be learned (then every alarm that names
    /// an account is taken for another account's). Also stands in for an event that names no account.
    pub home_account_id: Option<String>,
    /// The Region the function runs in (quotas are Regional; `regions` of `rules/accounts.toml` adds
    /// others).
    pub home_region: String,
    /// How long an escalation waits for its alarm to return to OK.
    pub escalation_memory_secs: u64,
    pub audit_retention_secs: u64,
}

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
    pub(super) settings: Settings,
}

impl<A: QuotaAccess, N: Notifier, L: Cooldowns + OpenEscalations + AuditTrail + FiledRequests>
    QuotaHealer<A, N, L>
{
    pub fn new(access: A, notifier: N, ledger: L, rules: RuleSet, settings: Settings) -> Self {
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
        let own = self.home().is_own(notice, &scope);
        let (plan, rule) = self.plan(notice, &scope, own, now as i64, &mut steps).await;
        info!(function = FUNCTION, request_id, alarm = %notice.alarm_name, plan = plan_name(&plan), "planned");
        let mut outcome = if dry_run {
            Outcome::planned(notice, &plan, rule)
        } else {
            self.act(notice, &scope, own, plan, rule, now, &mut steps)
                .await?
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
            self.audit(notice, &outcome, request_id, now).await?;
        }
        Ok(outcome)
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
            Err(QuotaApiError::AlreadyOpen { message, .. }) => {
                steps.push(format!(
                    "RequestServiceQuotaIncrease: a request is already open ({message})"
                ));
                let mut outcome = Outcome::nothing(
                    notice,
                    "request-pending",
                    "an increase request for this quota is already open; not filing another".into(),
                    false,
                );
                outcome.quota = QuotaSubject {
                    desired_value: None,
                    ceiling: None,
                    ..QuotaSubject::from(&raise)
                };
                return Ok(outcome);
            }
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

fn plan_name(plan: &Plan) -> &'static str {
    match plan {
        Plan::Raise(_) => "raise",
        Plan::Escalate(_) => "escalate",
        Plan::Resolve { .. } => "resolve",
        Plan::Nothing { .. } => "nothing",
    }
}
