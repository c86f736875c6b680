//! Quota healing's reads: the alarm's rule and quota, the quota's value and history, Automatic
//! Management; then the pure decisions of `decide/` over them. Never writes.

use super::access::QuotaAccess;
use super::api::{AutoManagement, ChangeRequest, QuotaApi, QuotaApiError, QuotaInfo};
use super::budget::room;
use super::decide::{
    decide_after_reading, decide_before_reading, leave_to_aws, unreachable_account, AlarmReading,
    History, QuotaReading, Scope,
};
use super::heal::QuotaHealer;
use super::plan::{Plan, RuleTerms};
use super::signal::QuotaSignal;
use crate::alarm::NamedQuota;
use crate::escalation::Notifier;
use crate::ledger::QuotaLedger;
use crate::rules::QuotaRule;
use crate::text::number;

impl<A, N, L> QuotaHealer<A, N, L>
where
    A: QuotaAccess,
    N: Notifier,
    L: QuotaLedger,
{
    /// Reads what is needed, then decides (`reading`'s pure functions). Never writes.
    pub(super) async fn plan(
        &self,
        notice: QuotaSignal<'_>,
        scope: &Scope<'_>,
        own: bool,
        now: i64,
        steps: &mut Vec<String>,
    ) -> (Plan, RuleTerms) {
        let no_rule = || RuleTerms::of(None, &self.rules.defaults);
        if let Some(plan) = decide_before_reading(notice, scope, &self.home(), steps) {
            return (plan, no_rule());
        }
        let api = match self.access.api_in(self.reach(own, scope)).await {
            Ok(api) => api,
            Err(e) => {
                let escalation = unreachable_account(notice, scope, &e, steps);
                return (Plan::Escalate(Box::new(escalation)), no_rule());
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
                match leave_to_aws(plan, &auto, rule, &quota) {
                    Plan::Raise(raise) => {
                        let open = self.open_requests(&api, scope, steps).await;
                        match room(open) {
                            Ok(()) => Plan::Raise(raise),
                            Err(full) => Plan::Wait {
                                raise,
                                why: full.sentence(scope.region),
                            },
                        }
                    }
                    other => other,
                }
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
        (plan, RuleTerms::of(rule, &self.rules.defaults))
    }

    /// The alarm's rule and quota codes: by the rule its name matches, else the quota a threshold
    /// notice names, else the quota whose usage metric the alarm watches. `Err`: what stopped it.
    async fn find_quota(
        &self,
        api: &A::Api,
        notice: QuotaSignal<'_>,
        scope: &Scope<'_>,
        steps: &mut Vec<String>,
    ) -> Result<(Option<&QuotaRule>, String, String), QuotaReading> {
        let account = scope.account_id;
        if let Some(r) = self.rules.rule_for_alarm(notice.name(), account) {
            steps.push(format!(
                "rule {:?} matches the alarm name: {} {}",
                r.name, r.service_code, r.quota_code
            ));
            return Ok((Some(r), r.service_code.clone(), r.quota_code.clone()));
        }
        let (service_code, quota_code) = if notice.named_quota().is_some() {
            self.quota_by_name(api, scope.region, notice.named_quota(), steps)
                .await?
        } else {
            let Some(metric) = notice.usage_metric() else {
                steps.push(
                    "no rule matches the alarm name, and the alarm names no usage metric".into(),
                );
                return Err(QuotaReading::NoQuotaNamed);
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
                    (quota.service_code, quota.quota_code)
                }
                Ok(None) => {
                    steps.push(format!(
                        "ListServiceQuotas: no quota has usage metric {}/{} {:?}",
                        metric.namespace, metric.name, metric.dimensions
                    ));
                    return Err(QuotaReading::NoQuotaForMetric(metric.clone()));
                }
                Err(e) => {
                    steps.push(format!("ListServiceQuotas failed: {e}"));
                    return Err(QuotaReading::CatalogUnreadable(e));
                }
            }
        };
        let rule = self
            .rules
            .rule_for_quota(&service_code, &quota_code, account);
        Ok((rule, service_code, quota_code))
    }

    /// Finds the alarm's rule and quota (by the alarm's name, else its usage metric), and reads the
    /// quota and its history, each step in `steps`.
    async fn read(
        &self,
        api: &A::Api,
        notice: QuotaSignal<'_>,
        scope: &Scope<'_>,
        steps: &mut Vec<String>,
    ) -> (Option<&QuotaRule>, QuotaReading) {
        let (rule, service_code, quota_code) =
            match self.find_quota(api, notice, scope, steps).await {
                Ok(found) => found,
                Err(reading) => return (None, reading),
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
    pub(super) async fn read_quota(
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
}
