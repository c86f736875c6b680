//! What a run will do, as a value (`decide/` makes it, `act.rs` carries it out, a dry run prints it),
//! and the terms of the rule it came from.

use super::api::QuotaInfo;
use crate::escalation::Escalation;
use crate::rules::{Defaults, Increase, QuotaRule};
use serde::Serialize;

/// The largest `DesiredValue` that `RequestServiceQuotaIncrease` accepts (botocore `service-quotas`
/// model, shape `QuotaValue`: a double from 0 to 10,000,000,000).
pub const MAX_DESIRED_VALUE: f64 = 10_000_000_000.0;

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
    /// The raise, with no room in Service Quotas' request budget (`why`): kept waiting and paged.
    Wait {
        raise: RaisePlan,
        why: String,
    },
    Escalate(Box<Escalation>),
    /// The alarm is back to OK: close its escalation, if one went out.
    Resolve {
        alarm_key: String,
    },
    Nothing {
        reason: &'static str,
        summary: String,
        /// The quota concerned, when one was read.
        quota: Option<Box<QuotaInfo>>,
    },
}

/// The rule a plan came from, found once and carried with the plan: its name (in the outcome), its
/// runbook (in its escalations) and its page cooldown, else the defaults'.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleTerms {
    pub name: Option<String>,
    pub runbook: Option<String>,
    pub cooldown_minutes: u32,
}

impl RuleTerms {
    pub fn of(rule: Option<&QuotaRule>, defaults: &Defaults) -> RuleTerms {
        RuleTerms {
            name: rule.map(|r| r.name.clone()),
            runbook: rule.and_then(|r| r.runbook.clone()),
            cooldown_minutes: rule
                .and_then(|r| r.cooldown_minutes)
                .unwrap_or(defaults.cooldown_minutes),
        }
    }
}
