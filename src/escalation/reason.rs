//! Why selfheal could not fix a quota by itself.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EscalationReason {
    NotAdjustable,
    CeilingReached,
    NoQuotaFound,
    NoMatchingRule,
    TooManyOpenRequests,
    RequestDenied,
    AwsError,
}

impl EscalationReason {
    pub const ALL: [EscalationReason; 7] = [
        Self::NotAdjustable,
        Self::CeilingReached,
        Self::NoQuotaFound,
        Self::NoMatchingRule,
        Self::TooManyOpenRequests,
        Self::RequestDenied,
        Self::AwsError,
    ];

    /// Machine name; also the name of the reason's runbook.
    pub fn slug(self) -> &'static str {
        match self {
            Self::NotAdjustable => "not-adjustable",
            Self::CeilingReached => "ceiling-reached",
            Self::NoQuotaFound => "no-quota-found",
            Self::NoMatchingRule => "no-matching-rule",
            Self::TooManyOpenRequests => "too-many-open-requests",
            Self::RequestDenied => "request-denied",
            Self::AwsError => "aws-error",
        }
    }

    /// A few words for an SMS.
    pub fn short(self) -> &'static str {
        match self {
            Self::NotAdjustable => "not adjustable",
            Self::CeilingReached => "at ceiling",
            Self::NoQuotaFound => "quota unknown",
            Self::NoMatchingRule => "no rule",
            Self::TooManyOpenRequests => "too many open requests",
            Self::RequestDenied => "increase denied",
            Self::AwsError => "AWS error",
        }
    }

    /// What is at risk and what a person must do, for the email.
    pub fn explanation(self) -> &'static str {
        match self {
            Self::NotAdjustable => "Service Quotas says this quota cannot be raised by request. Usage must come down, or the workload must spread across accounts or Regions.",
            Self::CeilingReached => "The quota is at or above the ceiling set in selfheal's rules, so selfheal will not ask for more. Decide whether the ceiling should move or usage should come down.",
            Self::NoQuotaFound => "selfheal could not tell which quota this alarm watches: no rule names the alarm, and its usage metric matches no quota's UsageMetric.",
            Self::NoMatchingRule => "The quota was found, but no rule names it and the defaults forbid raising quotas without a rule.",
            Self::TooManyOpenRequests => "The account already has the most open quota increase requests Service Quotas allows (20). Close or wait for some, then raise this one.",
            Self::RequestDenied => "AWS refused the latest increase request for this quota; selfheal will not ask again on its own.",
            Self::AwsError => "An AWS API call failed even after retries, so selfheal could not finish. Usage is still close to the quota.",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::EscalationReason;
    use crate::rules::RuleSet;

    #[test]
    fn every_reason_has_a_runbook() {
        for reason in EscalationReason::ALL {
            assert!(
                RuleSet::embedded_runbooks().contains(&reason.slug()),
                "runbooks/{}.md is missing",
                reason.slug()
            );
        }
    }

    #[test]
    fn the_shipped_rules_are_valid() {
        let rules = RuleSet::embedded().unwrap_or_else(|e| panic!("{e}"));
        assert!(rules
            .rule_for_alarm("prod-lambda-concurrent-executions")
            .is_some());
    }
}
