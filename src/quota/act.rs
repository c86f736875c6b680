//! Quota healing's acts: a planned raise filed (and a refusal read again), an escalation paged under
//! its cooldown, an alarm's return to OK told.

use super::access::QuotaAccess;
use super::api::{ChangeRequest, QuotaApi, QuotaApiError};
use super::budget::{ACCOUNT_LIMIT, REGION_LIMIT};
use super::decide::{after_lost_race, after_request, refused, AfterRequest, LostRace};
use super::decide::{unreachable_account, Scope};
use super::heal::{HealError, QuotaHealer};
use super::outcome::{NotificationOutcome, Outcome, RequestOutcome};
use super::plan::{Plan, RaisePlan, RuleTerms};
use super::signal::QuotaSignal;
use crate::escalation::{
    escalation_page, resolution_page, Escalation, EscalationReason, QuotaSubject,
};
use crate::ledger::{FiledRequest, OpenEscalation, QuotaLedger};
use crate::notify::{page, send, Cooldown, Notifier, Paged, Rendering, Severity};
use crate::text::number;
use tracing::warn;

impl<A, N, L> QuotaHealer<A, N, L>
where
    A: QuotaAccess,
    N: Notifier,
    L: QuotaLedger,
{
    /// Carries a plan out.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn act(
        &self,
        notice: QuotaSignal<'_>,
        scope: &Scope<'_>,
        own: bool,
        plan: Plan,
        terms: &RuleTerms,
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
                self.escalate(notice, scope, &escalation, terms, now, steps)
                    .await
            }
            Plan::Wait { raise, why } => {
                self.wait(notice, scope, &raise, why, terms, now, steps)
                    .await
            }
            Plan::Raise(raise) => {
                // The client the plan read through, kept by the access (its credentials renewed if
                // they are about to end).
                match self.access.api_in(self.reach(own, scope)).await {
                    Ok(api) => {
                        self.raise(&api, notice, scope, raise, terms, now, steps)
                            .await
                    }
                    Err(e) => {
                        let escalation = unreachable_account(notice, scope, &e, steps);
                        let terms = RuleTerms::of(None, &self.rules.defaults);
                        self.escalate(notice, scope, &escalation, &terms, now, steps)
                            .await
                    }
                }
            }
        }
    }

    /// Files the planned request, then does what its answer means (`after_request`).
    #[allow(clippy::too_many_arguments)]
    async fn raise(
        &self,
        api: &A::Api,
        notice: QuotaSignal<'_>,
        scope: &Scope<'_>,
        raise: RaisePlan,
        terms: &RuleTerms,
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
        if let Err(error) = &result {
            steps.push(format!(
                "RequestServiceQuotaIncrease to {} failed: {error}",
                number(raise.desired_value)
            ));
        }
        let escalation = match after_request(result, &raise, terms, notice, scope, steps) {
            AfterRequest::Filed(request) => {
                return Ok(self.filed(notice, scope, &raise, request, now, steps).await)
            }
            AfterRequest::ReadAgain(error) => {
                match self.after_refusal(api, &raise, &error, steps).await {
                    Some(outcome) => {
                        let mut outcome = outcome(notice);
                        outcome.quota = QuotaSubject {
                            desired_value: None,
                            ceiling: None,
                            ..QuotaSubject::from(&raise)
                        };
                        return Ok(outcome);
                    }
                    None => Box::new(refused(&error, &raise, terms, notice, scope, steps)),
                }
            }
            // AWS counts requests selfheal cannot see (other Regions, other tools): the raise waits.
            AfterRequest::Escalate(escalation)
                if escalation.reason == EscalationReason::TooManyOpenRequests =>
            {
                let why = format!(
                    "Service Quotas answered QuotaExceededException: the account's {ACCOUNT_LIMIT} active increase requests (or {REGION_LIMIT} in {}) are taken.",
                    scope.region
                );
                return self
                    .wait(notice, scope, &raise, why, terms, now, steps)
                    .await;
            }
            AfterRequest::Escalate(escalation) => escalation,
        };
        self.escalate(notice, scope, &escalation, terms, now, steps)
            .await
    }

    /// A filed request: kept for the follow-up, which tells what became of it. Losing it loses only
    /// that notice, not the request: logged, not failed.
    async fn filed(
        &self,
        notice: QuotaSignal<'_>,
        scope: &Scope<'_>,
        raise: &RaisePlan,
        request: ChangeRequest,
        now: u64,
        steps: &mut Vec<String>,
    ) -> Outcome {
        steps.push(format!(
            "RequestServiceQuotaIncrease to {}: request {} is {}",
            number(raise.desired_value),
            request.id,
            request.status.name()
        ));
        let filed = FiledRequest {
            request_id: request.id.clone(),
            account_id: scope.account_id.to_owned(),
            region: scope.region.to_owned(),
            alarm_name: notice.name().to_owned(),
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
        let mut outcome = Outcome::raise(notice, raise, false);
        outcome.request = Some(RequestOutcome {
            id: request.id,
            status: request.status.name().to_owned(),
        });
        outcome
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
    ) -> Option<impl FnOnce(QuotaSignal<'_>) -> Outcome> {
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
        Some(move |notice: QuotaSignal<'_>| Outcome::nothing(notice, reason, summary, false))
    }

    pub(super) async fn escalate(
        &self,
        notice: QuotaSignal<'_>,
        scope: &Scope<'_>,
        escalation: &Escalation,
        terms: &RuleTerms,
        now: u64,
        steps: &mut Vec<String>,
    ) -> Result<Outcome, HealError> {
        let cooldown_secs = 60 * u64::from(terms.cooldown_minutes);
        let mut outcome = Outcome::escalate(notice, escalation, terms.name.clone(), false);
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
        let paged = page(
            &self.notifier,
            &self.ledger,
            &escalation_page(escalation),
            &self.rendering(),
            &route,
            Cooldown {
                now,
                until: now + cooldown_secs,
            },
            steps,
        )
        .await?;
        let (sent, message_id, notification) = match paged {
            Paged::Suppressed { notification } => {
                steps.push(format!(
                    "page suppressed: the same escalation went out less than {} minutes ago",
                    cooldown_secs / 60
                ));
                (false, None, notification)
            }
            Paged::Sent {
                message_id,
                notification,
            } => (true, Some(message_id), notification),
        };
        outcome.notification = Some(NotificationOutcome {
            kind: "escalation",
            sent,
            suppressed_by_cooldown: !sent,
            message_id: message_id.clone(),
            subject: notification.subject,
            sms: notification.sms,
            dedup_key: notification.dedup_key.clone(),
        });
        let Some(message_id) = message_id else {
            return Ok(outcome);
        };
        steps.push(format!(
            "escalation published to SNS (message {message_id})"
        ));
        self.ledger
            .open_escalation(
                &scope.alarm_key(notice.name()),
                &OpenEscalation {
                    dedup_key: notification.dedup_key,
                    summary: format!("{} {}", escalation.subject_key(), escalation.reason.short()),
                },
                now + self.settings.escalation_memory_secs,
            )
            .await?;
        Ok(outcome)
    }

    async fn resolve(
        &self,
        notice: QuotaSignal<'_>,
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
        let resolution = resolution_page(
            notice.name(),
            &open.dedup_key,
            &open.summary,
            notice.reason(),
        );
        let route = self.route(
            scope.account_id,
            scope.region,
            (None, None),
            "resolved",
            Severity::Info,
        );
        let (message_id, notification) =
            match send(&self.notifier, &resolution, &self.rendering(), &route).await {
                Ok(sent) => sent,
                Err(e) => {
                    // Put it back so that a retry sends the notice.
                    let _ = self
                        .ledger
                        .open_escalation(
                            alarm_key,
                            &open,
                            now + self.settings.escalation_memory_secs,
                        )
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
}
