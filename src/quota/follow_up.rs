//! The fate of every request selfheal filed (`quota follow-up`, hourly in the template): each one kept
//! in the ledger is read again (`GetRequestedServiceQuotaChange`), and what became of it is told once:
//! raised, refused (an escalation with its own reason and runbook), a support case opened, or still
//! pending long after it was filed. Decided as a value (`follow_up_for`), then sent.

use super::access::QuotaAccess;
use super::api::{ChangeRequest, QuotaApi, RequestStatus};
use super::decide::Scope;
use super::heal::{HealError, QuotaHealer, CLAIM_LEASE_SECS, CLAIM_MEMORY_SECS};
use super::news::{request_news_page, RequestNews};
use super::queue::WaitingItem;
use crate::escalation::{escalation_page, Escalation, EscalationReason, QuotaSubject};
use crate::ledger::{FiledRequest, QuotaLedger};
use crate::notify::{send, Notifier};
use serde::Serialize;
use tracing::{info, warn};

const DAY: u64 = 86_400;

/// What the follow-up does about one request.
#[derive(Clone, Debug, PartialEq)]
pub enum FollowUp {
    /// Tell it (a notice), and close it when `closes`.
    Tell { news: RequestNews, closes: bool },
    /// Escalate, and close it.
    Escalate {
        reason: EscalationReason,
        detail: String,
    },
    /// Nothing new.
    Wait,
}

/// What became of a request, from its status now, the quota's applied value (read only for a closed
/// case) and what was told before.
pub fn follow_up_for(
    filed: &FiledRequest,
    request: &ChangeRequest,
    applied: Option<f64>,
    now: u64,
    stale_after_days: u32,
) -> FollowUp {
    let told = |status: &str| filed.told.as_deref() == Some(status);
    match request.status {
        RequestStatus::Approved => FollowUp::Tell {
            news: RequestNews::Raised {
                applied: applied.unwrap_or(filed.desired_value),
            },
            closes: true,
        },
        RequestStatus::Denied | RequestStatus::InvalidRequest => FollowUp::Escalate {
            reason: EscalationReason::RequestDenied,
            detail: format!(
                "AWS ended the request {} to raise the quota to {} as {}.",
                filed.request_id,
                crate::text::number(filed.desired_value),
                request.status.name()
            ),
        },
        RequestStatus::NotApproved => FollowUp::Escalate {
            reason: EscalationReason::RequestNotApproved,
            detail: format!(
                "The request {} needed a review and no support case was allowed, so AWS ended it NOT_APPROVED.",
                filed.request_id
            ),
        },
        RequestStatus::CaseClosed => match applied {
            Some(value) if value >= filed.desired_value => FollowUp::Tell {
                news: RequestNews::Raised { applied: value },
                closes: true,
            },
            Some(value) => FollowUp::Escalate {
                reason: EscalationReason::CaseClosed,
                detail: format!(
                    "The support case of request {} was closed with the quota at {}, below the {} asked for.",
                    filed.request_id,
                    crate::text::number(value),
                    crate::text::number(filed.desired_value)
                ),
            },
            // The applied value could not be read: the next follow-up reads it again.
            None => FollowUp::Wait,
        },
        RequestStatus::CaseOpened if !told("CASE_OPENED") => FollowUp::Tell {
            news: RequestNews::CaseOpened {
                case_id: request.case_id.clone(),
            },
            closes: false,
        },
        RequestStatus::Pending
            if !told("PENDING")
                && now.saturating_sub(filed.filed_at) >= u64::from(stale_after_days) * DAY =>
        {
            FollowUp::Tell {
                news: RequestNews::StillPending {
                    days: now.saturating_sub(filed.filed_at) / DAY,
                },
                closes: false,
            }
        }
        _ => FollowUp::Wait,
    }
}

/// The scheduled follow-up's event: `{"selfheal": "follow-up", "dryRun": false}`.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FollowUpRequest {
    #[allow(dead_code)]
    selfheal: String,
    #[serde(default)]
    pub dry_run: bool,
}

impl FollowUpRequest {
    /// `None` when the event is not a follow-up's; a follow-up event that does not read is an error.
    pub fn from_event(event: &serde_json::Value) -> Option<Result<FollowUpRequest, String>> {
        if event.get("selfheal").and_then(serde_json::Value::as_str) != Some("follow-up") {
            return None;
        }
        Some(
            serde_json::from_value(event.clone())
                .map_err(|e| format!("invalid follow-up event: {e}")),
        )
    }
}

/// One request's line in the follow-up's report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FollowUpItem {
    pub request_id: String,
    pub account_id: String,
    pub region: String,
    pub service_code: String,
    pub quota_code: String,
    pub alarm_name: String,
    /// The request's status now (`unreadable` when it could not be read).
    pub status: String,
    /// `raised`, `case-opened`, `still-pending`, an escalation reason, or `wait`.
    pub action: String,
    /// Whether a notice or page went out (never in a dry run).
    pub sent: bool,
    /// Whether the request is forgotten now that its fate is told.
    pub closed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FollowUpReport {
    pub dry_run: bool,
    pub items: Vec<FollowUpItem>,
    /// The raises waiting for Service Quotas' request budget, most urgent first in each account and
    /// Region: what this run filed (or, in a dry run, would file) and what still waits.
    pub waiting: Vec<WaitingItem>,
}

fn action_label(follow_up: &FollowUp) -> String {
    match follow_up {
        FollowUp::Tell { news, .. } => match news {
            RequestNews::Raised { .. } => "raised",
            RequestNews::CaseOpened { .. } => "case-opened",
            RequestNews::StillPending { .. } => "still-pending",
        }
        .into(),
        FollowUp::Escalate { reason, .. } => reason.slug().into(),
        FollowUp::Wait => "wait".into(),
    }
}

impl<A, N, L> QuotaHealer<A, N, L>
where
    A: QuotaAccess,
    N: Notifier,
    L: QuotaLedger,
{
    /// Reads every request kept in the ledger, decides what to tell about each, and (unless `dry_run`)
    /// tells it once. `now` is seconds since the epoch.
    pub async fn follow_up(&self, dry_run: bool, now: u64) -> Result<FollowUpReport, HealError> {
        let dry_run = dry_run || self.settings.dry_run;
        // This run's name on the claims it takes: two runs at once (the hourly schedule and a person at
        // the command line) must not tell one request's news twice.
        let holder = format!("follow-up:{now}:{:016x}", run_token());
        let mut items = Vec::new();
        for filed in self.ledger.open_filed().await? {
            items.push(self.follow_up_one(filed, dry_run, now, &holder).await?);
        }
        // After the requests that ended are closed, so that their slots count as free.
        let waiting = self.file_waiting(dry_run, now).await?;
        Ok(FollowUpReport {
            dry_run,
            items,
            waiting,
        })
    }

    /// One request read, decided and (unless `dry_run`) told, under a claim of `holder`'s.
    async fn follow_up_one(
        &self,
        filed: FiledRequest,
        dry_run: bool,
        now: u64,
        holder: &str,
    ) -> Result<FollowUpItem, HealError> {
        let mut item = FollowUpItem {
            request_id: filed.request_id.clone(),
            account_id: filed.account_id.clone(),
            region: filed.region.clone(),
            service_code: filed.service_code.clone(),
            quota_code: filed.quota_code.clone(),
            alarm_name: filed.alarm_name.clone(),
            status: "unreadable".into(),
            action: "wait".into(),
            sent: false,
            closed: false,
            error: None,
        };
        // The request lives in the account and Region it was filed in.
        let scope = Scope {
            account_id: &filed.account_id,
            region: &filed.region,
        };
        let own = self.home().owns(&filed.account_id);
        // An account or Region taken out of rules/accounts.toml since is not reached any more, not
        // even to read.
        if let Err(why) = self.rules.organization.reach(
            scope.account_id,
            own,
            scope.region,
            &self.settings.home_region,
        ) {
            item.error = Some(format!(
                "account {} in {} is out of the hub's reach now ({why:?}); not read",
                scope.account_id, scope.region
            ));
            return Ok(item);
        }
        let api = match self.access.api_in(self.reach(own, &scope)).await {
            Ok(api) => api,
            Err(e) => {
                item.error = Some(e.to_string());
                return Ok(item);
            }
        };
        let request = match api.get_request(&filed.request_id).await {
            Ok(request) => request,
            Err(e) => {
                // Throttling or an outage: the next run asks again.
                item.error = Some(e.to_string());
                return Ok(item);
            }
        };
        item.status = request.status.name().to_owned();
        let applied = if request.status == RequestStatus::CaseClosed {
            match api
                .get_service_quota(&filed.service_code, &filed.quota_code)
                .await
            {
                Ok(quota) => quota.value,
                Err(e) => {
                    item.error = Some(e.to_string());
                    None
                }
            }
        } else {
            None
        };
        let stale_after_days = self.rules.defaults.stale_after_days;
        let follow_up = follow_up_for(&filed, &request, applied, now, stale_after_days);
        item.action = action_label(&follow_up);
        let closes = match &follow_up {
            FollowUp::Tell { closes, .. } => *closes,
            FollowUp::Escalate { .. } => true,
            FollowUp::Wait => false,
        };
        if dry_run || follow_up == FollowUp::Wait {
            return Ok(item);
        }
        self.tell(filed, &follow_up, item, closes, now, holder)
            .await
    }

    /// Sends what `follow_up` says about the request once (a claim per request and news), and
    /// remembers it was told.
    async fn tell(
        &self,
        mut filed: FiledRequest,
        follow_up: &FollowUp,
        mut item: FollowUpItem,
        closes: bool,
        now: u64,
        holder: &str,
    ) -> Result<FollowUpItem, HealError> {
        let told = match follow_up {
            FollowUp::Tell { news, .. } => request_news_page(&filed, news),
            FollowUp::Escalate { reason, detail } => {
                escalation_page(&escalation_of(&filed, *reason, detail))
            }
            FollowUp::Wait => return Ok(item),
        };
        let route = self.route(
            &filed.account_id,
            &filed.region,
            (Some(&filed.service_code), Some(&filed.quota_code)),
            &item.action,
            told.severity,
        );
        let claim = format!(
            "follow-up:{}:{}:{}:{}",
            filed.account_id, filed.region, filed.request_id, item.action
        );
        if !self
            .ledger
            .claim(
                &claim,
                holder,
                now,
                now + CLAIM_LEASE_SECS,
                now + CLAIM_MEMORY_SECS,
            )
            .await?
        {
            item.error = Some("another follow-up run is telling this; not told twice".into());
            return Ok(item);
        }
        let message_id = match send(&self.notifier, &told, &self.rendering(), &route).await {
            Ok((message_id, _)) => message_id,
            Err(e) => {
                if let Err(release) = self.ledger.release_claim(&claim, holder).await {
                    warn!(error = %release, "a follow-up claim could not be released; it lapses with its lease");
                }
                return Err(e.into());
            }
        };
        if let Err(e) = self.ledger.settle_claim(&claim, holder, "told").await {
            warn!(error = %e, claim = %claim, "a told follow-up could not be marked so");
        }
        info!(function = "quota-alarm", request = %filed.request_id, action = %item.action, message_id = %message_id, "follow-up sent");
        item.sent = true;
        filed.told = Some(item.status.clone());
        if let Err(e) = self.ledger.update_filed(&filed, closes).await {
            // Sent but not remembered: the next run may tell it again; the run goes on.
            warn!(error = %e, request = %filed.request_id, "the follow-up could not be remembered");
            item.error = Some(e.to_string());
        } else {
            item.closed = closes;
        }
        Ok(item)
    }
}

/// A value no other run draws: std's hasher keys are random per process and per `RandomState`.
fn run_token() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

fn escalation_of(filed: &FiledRequest, reason: EscalationReason, detail: &str) -> Escalation {
    Escalation {
        reason,
        alarm_name: filed.alarm_name.clone(),
        alarm_reason: format!("increase request {} followed up", filed.request_id),
        alarm_description: None,
        account_id: filed.account_id.clone(),
        region: filed.region.clone(),
        quota: QuotaSubject {
            quota_name: Some(filed.quota_name.clone()),
            current_value: Some(filed.from_value),
            desired_value: Some(filed.desired_value),
            ..QuotaSubject::codes(&filed.service_code, &filed.quota_code)
        },
        detail: detail.to_owned(),
        tried: vec![format!(
            "RequestServiceQuotaIncrease to {} (request {}), then GetRequestedServiceQuotaChange",
            crate::text::number(filed.desired_value),
            filed.request_id
        )],
        runbook: reason.slug().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filed(told: Option<&str>) -> FiledRequest {
        FiledRequest {
            request_id: "req-1".into(),
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            alarm_name: "prod-lambda-concurrent-executions".into(),
            service_code: "lambda".into(),
            quota_code: "L-B99A9384".into(),
            quota_name: "Concurrent executions".into(),
            from_value: 1000.0,
            desired_value: 1500.0,
            filed_at: 0,
            told: told.map(str::to_owned),
        }
    }

    fn request(status: RequestStatus) -> ChangeRequest {
        ChangeRequest {
            id: "req-1".into(),
            status,
            desired_value: Some(1500.0),
            created: Some(0),
            last_updated_ms: None,
            case_id: Some("case-1".into()),
        }
    }

    #[test]
    fn a_follow_up_event_reads_and_a_bad_one_is_refused() {
        use serde_json::json;
        let request = FollowUpRequest::from_event(&json!({"selfheal": "follow-up"}));
        assert_eq!(request.unwrap().map(|r| r.dry_run), Ok(false));
        assert!(FollowUpRequest::from_event(&json!({"selfheal": "sweep"})).is_none());
        for bad in [
            json!({"selfheal": "follow-up", "dryRun": "yes"}),
            json!({"selfheal": "follow-up", "dry_run": true}),
        ] {
            assert!(FollowUpRequest::from_event(&bad).unwrap().is_err(), "{bad}");
        }
    }

    #[test]
    fn each_status_is_told_once_with_its_own_words() {
        let now = DAY;
        let at = |status, applied, told: Option<&str>| {
            follow_up_for(&filed(told), &request(status), applied, now, 7)
        };
        assert_eq!(
            at(RequestStatus::Approved, None, None),
            FollowUp::Tell {
                news: RequestNews::Raised { applied: 1500.0 },
                closes: true
            }
        );
        for (status, reason) in [
            (RequestStatus::Denied, EscalationReason::RequestDenied),
            (
                RequestStatus::InvalidRequest,
                EscalationReason::RequestDenied,
            ),
            (
                RequestStatus::NotApproved,
                EscalationReason::RequestNotApproved,
            ),
        ] {
            assert!(
                matches!(at(status, None, None), FollowUp::Escalate { reason: r, .. } if r == reason)
            );
        }
        assert_eq!(
            at(RequestStatus::CaseOpened, None, None),
            FollowUp::Tell {
                news: RequestNews::CaseOpened {
                    case_id: Some("case-1".into())
                },
                closes: false
            }
        );
        assert_eq!(
            at(RequestStatus::CaseOpened, None, Some("CASE_OPENED")),
            FollowUp::Wait
        );
        assert!(matches!(
            at(RequestStatus::CaseClosed, Some(1500.0), Some("CASE_OPENED")),
            FollowUp::Tell {
                news: RequestNews::Raised { .. },
                closes: true
            }
        ));
        assert!(matches!(
            at(RequestStatus::CaseClosed, Some(1000.0), None),
            FollowUp::Escalate {
                reason: EscalationReason::CaseClosed,
                ..
            }
        ));
        assert_eq!(at(RequestStatus::CaseClosed, None, None), FollowUp::Wait);
        assert_eq!(
            at(RequestStatus::Pending, None, None),
            FollowUp::Wait,
            "one day: not stale"
        );
        let late = follow_up_for(
            &filed(None),
            &request(RequestStatus::Pending),
            None,
            8 * DAY,
            7,
        );
        assert_eq!(
            late,
            FollowUp::Tell {
                news: RequestNews::StillPending { days: 8 },
                closes: false
            }
        );
        let reminded = follow_up_for(
            &filed(Some("PENDING")),
            &request(RequestStatus::Pending),
            None,
            9 * DAY,
            7,
        );
        assert_eq!(reminded, FollowUp::Wait, "one reminder");
    }
}
