//! Deciding what to do about an alarm, as a value: the pure half of "decide, then act".

use super::api::{ChangeRequest, QuotaInfo};
use crate::alarm::AlarmNotice;
use crate::escalation::text::number;
use crate::escalation::{Escalation, EscalationReason};
use crate::rules::{Defaults, Increase, QuotaRule};
use serde::Serialize;

/// A refused request this recent stops selfheal from asking again.
const REFUSAL_MEMORY_SECS: i64 = 30 * 24 * 3600;

/// An increase to request.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RaisePlan {
    pub service_code: String,
    pub quota_code: String,
    pub quota_name: String,
    pub current_value: f64,
    pub desired_value: f64,
    pub ceiling: f64,
    pub increase: Increase,
    pub support_case_allowed: bool,
    pub rule: Option<String>,
}

/// What a run will do.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "plan", rename_all = "snake_case")]
pub enum Plan {
    Raise(RaisePlan),
    Escalate(Box<Escalation>),
    /// The alarm is back to OK: close its escalation, if one went out.
    Resolve {
        alarm_key: String,
    },
    Nothing {
        reason: &'static str,
        summary: String,
    },
}

/// What is known about the alarm's quota once the reads are done.
pub struct Situation<'a> {
    pub notice: &'a AlarmNotice,
    pub account_id: &'a str,
    pub region: &'a str,
    pub rule: Option<&'a QuotaRule>,
    pub defaults: &'a Defaults,
    pub quota: &'a QuotaInfo,
    /// `GetAWSDefaultServiceQuota`'s value, read only when no rule names the quota.
    pub aws_default_value: Option<f64>,
    pub requests: &'a [ChangeRequest],
    /// Seconds since the epoch.
    pub now: i64,
    /// What was read so far, for the escalation's "what was tried".
    pub tried: &'a [String],
}

impl Situation<'_> {
    /// An escalation about this quota.
    pub fn escalate(&self, reason: EscalationReason, detail: String) -> Plan {
        let mut escalation = escalation_for(
            self.notice,
            self.account_id,
            self.region,
            reason,
            detail,
            self.tried,
        );
        escalation.service_code = Some(self.quota.service_code.clone());
        escalation.quota_code = Some(self.quota.quota_code.clone());
        escalation.quota_name = Some(self.quota.quota_name.clone());
        escalation.current_value = self.quota.value;
        escalation.ceiling = self.rule.map(|r| r.ceiling);
        if let Some(runbook) = self.rule.and_then(|r| r.runbook.clone()) {
            escalation.runbook = runbook;
        }
        Plan::Escalate(Box::new(escalation))
    }
}

/// An escalation about an alarm whose quota may be unknown.
pub fn escalation_for(
    notice: &AlarmNotice,
    account_id: &str,
    region: &str,
    reason: EscalationReason,
    detail: String,
    tried: &[String],
) -> Escalation {
    Escalation {
        reason,
        alarm_name: notice.alarm_name.clone(),
        alarm_reason: notice.reason.clone(),
        alarm_description: notice.description.clone(),
        account_id: account_id.to_owned(),
        region: region.to_owned(),
        service_code: None,
        quota_code: None,
        quota_name: None,
        current_value: None,
        desired_value: None,
        ceiling: None,
        detail,
        tried: tried.to_vec(),
        runbook: reason.slug().to_owned(),
    }
}

/// Raise, escalate or wait, from what the reads found.
pub fn decide(s: &Situation<'_>) -> Plan {
    let quota = s.quota;
    if !quota.adjustable {
        return s.escalate(
            EscalationReason::NotAdjustable,
            format!(
                "{} ({}) cannot be raised by request.",
                quota.quota_name, quota.quota_code
            ),
        );
    }
    let Some(current) = quota.value else {
        return s.escalate(
            EscalationReason::AwsError,
            "GetServiceQuota returned no value for the quota.".into(),
        );
    };
    if let Some(open) = s.requests.iter().find(|r| r.status.is_open()) {
        return Plan::Nothing {
            reason: "request-pending",
            summary: format!(
                "increase request {} is {}; not filing another",
                open.id,
                open.status.name()
            ),
        };
    }
    let latest = s
        .requests
        .iter()
        .max_by_key(|r| r.created.unwrap_or(i64::MIN));
    if let Some(refused) = latest.filter(|r| {
        r.status.is_refusal()
            && r.created.is_some_and(|at| s.now - at < REFUSAL_MEMORY_SECS)
            && r.desired_value.is_none_or(|want| want > current)
    }) {
        return s.escalate(
            EscalationReason::RequestDenied,
            format!(
                "The latest increase request ({}, to {}) ended {}.",
                refused.id,
                refused.desired_value.map_or_else(|| "?".into(), number),
                refused.status.name()
            ),
        );
    }
    let (increase, ceiling, support_case_allowed) = match s.rule {
        Some(rule) => (rule.increase, rule.ceiling, rule.support_case),
        None if !s.defaults.raise_unmatched => {
            return s.escalate(
                EscalationReason::NoMatchingRule,
                format!(
                    "No rule names {} and raise_unmatched is off.",
                    quota.quota_code
                ),
            );
        }
        None => match s.aws_default_value {
            Some(default) if default > 0.0 => (
                s.defaults.increase,
                (default * s.defaults.ceiling_factor).floor(),
                s.defaults.support_case,
            ),
            _ => {
                return s.escalate(
                    EscalationReason::NoMatchingRule,
                    format!(
                        "No rule names {} and its AWS default value is unknown, so no ceiling can be derived.",
                        quota.quota_code
                    ),
                );
            }
        },
    };
    let desired = increase.apply(current).min(ceiling.floor());
    if desired <= current {
        let mut plan = s.escalate(
            EscalationReason::CeilingReached,
            format!(
                "The quota is {} and the ceiling is {}: there is no room to raise it.",
                number(current),
                number(ceiling)
            ),
        );
        if let Plan::Escalate(e) = &mut plan {
            e.ceiling = Some(ceiling);
        }
        return plan;
    }
    Plan::Raise(RaisePlan {
        service_code: quota.service_code.clone(),
        quota_code: quota.quota_code.clone(),
        quota_name: quota.quota_name.clone(),
        current_value: current,
        desired_value: desired,
        ceiling,
        increase,
        support_case_allowed,
        rule: s.rule.map(|r| r.name.clone()),
    })
}
