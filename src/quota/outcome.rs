//! What a run did, as the command line prints it and the audit table keeps it.

use super::api::QuotaInfo;
use super::plan::{Plan, RaisePlan};
use super::signal::QuotaSignal;
use crate::alarm::AlarmState;
use crate::escalation::QuotaSubject;
use crate::escalation::{Escalation, EscalationReason};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Raise,
    Escalate,
    None,
}

impl Decision {
    pub fn name(self) -> &'static str {
        match self {
            Decision::Raise => "raise",
            Decision::Escalate => "escalate",
            Decision::None => "none",
        }
    }
}

/// The increase request that was filed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RequestOutcome {
    pub id: String,
    pub status: String,
}

/// The page or resolution notice, sent or not.
#[derive(Clone, Debug, PartialEq, Serialize, Default)]
pub struct NotificationOutcome {
    pub kind: &'static str,
    pub sent: bool,
    pub suppressed_by_cooldown: bool,
    pub message_id: Option<String>,
    pub subject: String,
    pub sms: String,
    pub dedup_key: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outcome {
    pub decision: Decision,
    /// Machine-readable: an escalation reason, `raise`, `request-pending`, `ignored-state`...
    pub reason: String,
    pub summary: String,
    pub alarm_name: String,
    /// The state the alarm entered; none for a sweep finding.
    pub alarm_state: Option<AlarmState>,
    #[serde(flatten)]
    pub quota: QuotaSubject,
    pub rule: Option<String>,
    pub runbook: Option<String>,
    pub dry_run: bool,
    pub request: Option<RequestOutcome>,
    pub notification: Option<NotificationOutcome>,
    /// What was read and done, in order.
    pub steps: Vec<String>,
}

impl Outcome {
    fn base(
        notice: QuotaSignal<'_>,
        decision: Decision,
        reason: &str,
        summary: String,
        dry_run: bool,
    ) -> Self {
        Outcome {
            decision,
            reason: reason.to_owned(),
            summary,
            alarm_name: notice.name().to_owned(),
            alarm_state: notice.alarm_state(),
            quota: QuotaSubject::default(),
            rule: None,
            runbook: None,
            dry_run,
            request: None,
            notification: None,
            steps: Vec::new(),
        }
    }

    pub fn nothing(notice: QuotaSignal<'_>, reason: &str, summary: String, dry_run: bool) -> Self {
        Self::base(notice, Decision::None, reason, summary, dry_run)
    }

    /// Nothing to do about a known quota.
    pub fn nothing_about(
        notice: QuotaSignal<'_>,
        reason: &str,
        summary: String,
        quota: Option<&QuotaInfo>,
        dry_run: bool,
    ) -> Self {
        let mut outcome = Self::nothing(notice, reason, summary, dry_run);
        if let Some(quota) = quota {
            outcome.quota = QuotaSubject::of(quota);
        }
        outcome
    }

    pub fn raise(notice: QuotaSignal<'_>, plan: &RaisePlan, dry_run: bool) -> Self {
        let verb = if dry_run {
            "would request"
        } else {
            "requested"
        };
        let mut outcome = Self::base(
            notice,
            Decision::Raise,
            "raise",
            format!(
                "{verb} {} {} ({}) from {} to {} (increase {}, ceiling {})",
                plan.service_code,
                plan.quota_code,
                plan.quota_name,
                plan.current_value,
                plan.desired_value,
                plan.increase,
                plan.ceiling
            ),
            dry_run,
        );
        outcome.quota = QuotaSubject::from(plan);
        outcome.rule = plan.rule.clone();
        outcome
    }

    pub fn escalate(
        notice: QuotaSignal<'_>,
        escalation: &Escalation,
        rule: Option<String>,
        dry_run: bool,
    ) -> Self {
        let mut outcome = Self::base(
            notice,
            Decision::Escalate,
            escalation.reason.slug(),
            escalation.detail.clone(),
            dry_run,
        );
        outcome.quota = escalation.quota.clone();
        outcome.runbook = Some(escalation.runbook.clone());
        outcome.rule = rule;
        outcome
    }

    /// The outcome of a plan that is not carried out (a dry run).
    pub fn planned(notice: QuotaSignal<'_>, plan: &Plan, rule: Option<String>) -> Self {
        match plan {
            Plan::Raise(raise) => Self::raise(notice, raise, true),
            Plan::Wait { raise, why } => {
                let mut outcome = Self::raise(notice, raise, true);
                outcome.decision = Decision::Escalate;
                outcome.reason = EscalationReason::TooManyOpenRequests.slug().into();
                outcome.summary = format!("would wait for a free increase request: {why}");
                outcome
            }
            Plan::Escalate(escalation) => Self::escalate(notice, escalation, rule, true),
            Plan::Resolve { .. } => Self::nothing(
                notice,
                "resolve",
                "would send a resolution notice if an escalation is open for this alarm".into(),
                true,
            ),
            Plan::Nothing {
                reason,
                summary,
                quota,
            } => Self::nothing_about(notice, reason, summary.clone(), quota.as_deref(), true),
        }
    }
}
