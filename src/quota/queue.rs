//! Raises waiting for Service Quotas' request budget (`budget.rs`): a run whose raise has no room keeps
//! it in the ledger and pages once per account and Region, naming what waits; the follow-up files the
//! most urgent as soon as a request closes, and `quota follow-up --dry-run` shows the queue.

use super::access::QuotaAccess;
use super::api::{QuotaApi, QuotaApiError};
use super::budget::{by_urgency, room, waiting_lines, BudgetFull, OpenRequests};
use super::decide::Scope;
use super::heal::{HealError, QuotaHealer};
use super::outcome::Outcome;
use super::plan::{RaisePlan, RuleTerms};
use super::signal::QuotaSignal;
use crate::escalation::{Escalation, EscalationReason, QuotaSubject};
use crate::ledger::{FiledRequest, QuotaLedger, WaitingRaise};
use crate::notify::Notifier;
use crate::text::number;
use serde::Serialize;
use std::collections::BTreeMap;
use tracing::warn;

/// One waiting raise's line in the follow-up's report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WaitingItem {
    pub account_id: String,
    pub region: String,
    pub service_code: String,
    pub quota_code: String,
    pub desired_value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utilization: Option<f64>,
    /// `filed`, `would-file` (a dry run), `waiting`, `no-longer-needed` or `already-requested`.
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl WaitingItem {
    fn of(raise: &WaitingRaise, action: &str) -> WaitingItem {
        WaitingItem {
            account_id: raise.account_id.clone(),
            region: raise.region.clone(),
            service_code: raise.service_code.clone(),
            quota_code: raise.quota_code.clone(),
            desired_value: raise.desired_value,
            utilization: raise.utilization,
            action: action.into(),
            request_id: None,
            error: None,
        }
    }
}

impl<A, N, L> QuotaHealer<A, N, L>
where
    A: QuotaAccess,
    N: Notifier,
    L: QuotaLedger,
{
    /// The open requests of `scope`'s account, as far as they can be read: a failed read of either
    /// side is noted and counted from the other.
    pub(super) async fn open_requests(
        &self,
        api: &A::Api,
        scope: &Scope<'_>,
        steps: &mut Vec<String>,
    ) -> OpenRequests {
        let reported = match api.open_requests().await {
            Ok(requests) => Some(requests),
            Err(e) => {
                steps.push(format!("the Region's open requests could not be read: {e}"));
                None
            }
        };
        let filed = self.ledger.open_filed().await.unwrap_or_else(|e| {
            steps.push(format!(
                "the ledger's filed requests could not be read: {e}"
            ));
            Vec::new()
        });
        OpenRequests::count(&filed, scope.account_id, scope.region, reported.as_deref())
    }

    /// Keeps the raise for the follow-up and pages once per account and Region (the escalation's
    /// de-duplication key and cooldown), naming every raise that waits there, most urgent first.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn wait(
        &self,
        notice: QuotaSignal<'_>,
        scope: &Scope<'_>,
        raise: &RaisePlan,
        why: String,
        terms: &RuleTerms,
        now: u64,
        steps: &mut Vec<String>,
    ) -> Result<Outcome, HealError> {
        let waiting = WaitingRaise {
            account_id: scope.account_id.to_owned(),
            region: scope.region.to_owned(),
            alarm_name: notice.name().to_owned(),
            service_code: raise.service_code.clone(),
            quota_code: raise.quota_code.clone(),
            quota_name: raise.quota_name.clone(),
            from_value: raise.current_value,
            desired_value: raise.desired_value,
            support_case_allowed: raise.support_case_allowed,
            utilization: notice.utilization(),
            days_left: None,
            queued_at: now,
        };
        self.ledger.queue_raise(&waiting).await?;
        steps.push(format!(
            "not filed: {why} The raise to {} waits in the ledger; the follow-up files it when a request closes.",
            number(raise.desired_value)
        ));
        let mut queue: Vec<WaitingRaise> = self
            .ledger
            .waiting()
            .await?
            .into_iter()
            .filter(|w| w.account_id == scope.account_id && w.region == scope.region)
            .collect();
        by_urgency(&mut queue);
        let escalation = Escalation {
            reason: EscalationReason::TooManyOpenRequests,
            alarm_name: notice.name().to_owned(),
            alarm_reason: notice.reason().to_owned(),
            alarm_description: notice.description().map(str::to_owned),
            account_id: scope.account_id.to_owned(),
            region: scope.region.to_owned(),
            quota: QuotaSubject::from(raise),
            detail: format!(
                "{why} Waiting to be filed, most urgent first: {}.",
                waiting_lines(&queue).join("; ")
            ),
            tried: steps.clone(),
            runbook: EscalationReason::TooManyOpenRequests.slug().into(),
        };
        self.escalate(notice, scope, &escalation, terms, now, steps)
            .await
    }

    /// Files waiting raises, most urgent first, in each account and Region while the budget has room
    /// (unless `dry_run`, which only says what it would file). Called by the follow-up after it has
    /// closed the requests that ended, so that their slots count as free.
    pub(super) async fn file_waiting(
        &self,
        dry_run: bool,
        now: u64,
    ) -> Result<Vec<WaitingItem>, HealError> {
        let mut groups: BTreeMap<(String, String), Vec<WaitingRaise>> = BTreeMap::new();
        for raise in self.ledger.waiting().await? {
            groups
                .entry((raise.account_id.clone(), raise.region.clone()))
                .or_default()
                .push(raise);
        }
        let mut items = Vec::new();
        for ((account_id, region), mut raises) in groups {
            by_urgency(&mut raises);
            let scope = Scope {
                account_id: &account_id,
                region: &region,
            };
            self.file_in(&scope, &raises, dry_run, now, &mut items)
                .await?;
        }
        Ok(items)
    }

    async fn file_in(
        &self,
        scope: &Scope<'_>,
        raises: &[WaitingRaise],
        dry_run: bool,
        now: u64,
        items: &mut Vec<WaitingItem>,
    ) -> Result<(), HealError> {
        let unreachable = |why: String, items: &mut Vec<WaitingItem>| {
            items.extend(raises.iter().map(|r| WaitingItem {
                error: Some(why.clone()),
                ..WaitingItem::of(r, "waiting")
            }));
        };
        let own = self.home().owns(scope.account_id);
        if let Err(why) = self.rules.organization.reach(
            scope.account_id,
            own,
            scope.region,
            &self.settings.home_region,
        ) {
            unreachable(format!("out of the hub's reach now ({why:?})"), items);
            return Ok(());
        }
        let api = match self.access.api_in(self.reach(own, scope)).await {
            Ok(api) => api,
            Err(e) => {
                unreachable(e.to_string(), items);
                return Ok(());
            }
        };
        let mut steps = Vec::new();
        let mut open = self.open_requests(&api, scope, &mut steps).await;
        let mut full: Option<BudgetFull> = None;
        for raise in raises {
            if full.is_none() {
                full = room(open).err();
            }
            if full.is_some() {
                items.push(WaitingItem::of(raise, "waiting"));
                continue;
            }
            let item = self.file_one(&api, scope, raise, dry_run, now).await?;
            match item.action.as_str() {
                "filed" | "would-file" => open = open.with_one_more(),
                // AWS counts requests selfheal cannot see (other Regions, other tools): its word ends
                // this round for the account and Region.
                "budget-full" => {
                    full = Some(BudgetFull {
                        open,
                        limit: "account",
                    })
                }
                _ => {}
            }
            items.push(WaitingItem {
                action: item.action.replace("budget-full", "waiting"),
                ..item
            });
        }
        Ok(())
    }

    /// One waiting raise read again and filed, unless the quota is already where it was to go.
    async fn file_one(
        &self,
        api: &A::Api,
        scope: &Scope<'_>,
        raise: &WaitingRaise,
        dry_run: bool,
        now: u64,
    ) -> Result<WaitingItem, HealError> {
        match api
            .get_service_quota(&raise.service_code, &raise.quota_code)
            .await
        {
            Ok(quota) if quota.value.is_some_and(|v| v >= raise.desired_value) => {
                if !dry_run {
                    self.ledger.drop_waiting(raise).await?;
                }
                return Ok(WaitingItem::of(raise, "no-longer-needed"));
            }
            Ok(_) => {}
            Err(e) => {
                return Ok(WaitingItem {
                    error: Some(e.to_string()),
                    ..WaitingItem::of(raise, "waiting")
                })
            }
        }
        if dry_run {
            return Ok(WaitingItem::of(raise, "would-file"));
        }
        match api
            .request_increase(
                &raise.service_code,
                &raise.quota_code,
                raise.desired_value,
                raise.support_case_allowed,
            )
            .await
        {
            Ok(request) => {
                let filed = FiledRequest {
                    request_id: request.id.clone(),
                    account_id: scope.account_id.to_owned(),
                    region: scope.region.to_owned(),
                    alarm_name: raise.alarm_name.clone(),
                    service_code: raise.service_code.clone(),
                    quota_code: raise.quota_code.clone(),
                    quota_name: raise.quota_name.clone(),
                    from_value: raise.from_value,
                    desired_value: raise.desired_value,
                    filed_at: now,
                    told: None,
                };
                // Filed: the request is AWS's now, so the waiting raise goes even if keeping the
                // request for the follow-up fails (logged: only its news would be lost).
                if let Err(e) = self.ledger.record_filed(&filed).await {
                    warn!(error = %e, request = %request.id, "a request filed from the queue could not be kept for the follow-up");
                }
                self.ledger.drop_waiting(raise).await?;
                Ok(WaitingItem {
                    request_id: Some(request.id),
                    ..WaitingItem::of(raise, "filed")
                })
            }
            Err(QuotaApiError::TooManyOpenRequests { message, .. }) => Ok(WaitingItem {
                error: Some(format!("QuotaExceededException: {message}")),
                ..WaitingItem::of(raise, "budget-full")
            }),
            Err(QuotaApiError::AlreadyOpen { .. }) => {
                self.ledger.drop_waiting(raise).await?;
                Ok(WaitingItem::of(raise, "already-requested"))
            }
            Err(e) => Ok(WaitingItem {
                error: Some(e.to_string()),
                ..WaitingItem::of(raise, "waiting")
            }),
        }
    }
}
