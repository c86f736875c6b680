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
    RequestNotApproved,
    CaseClosed,
    ServiceLinkedRoleMissing,
    InvalidResourceState,
    QuotaValueUnavailable,
    OtherAccount,
    OtherRegion,
    AccountNotAllowed,
    SpokeRoleUnavailable,
    SpokeCredentialsExpired,
    AwsError,
}

impl EscalationReason {
    pub const ALL: [EscalationReason; 17] = [
        Self::NotAdjustable,
        Self::CeilingReached,
        Self::NoQuotaFound,
        Self::NoMatchingRule,
        Self::TooManyOpenRequests,
        Self::RequestDenied,
        Self::RequestNotApproved,
        Self::CaseClosed,
        Self::ServiceLinkedRoleMissing,
        Self::InvalidResourceState,
        Self::QuotaValueUnavailable,
        Self::OtherAccount,
        Self::OtherRegion,
        Self::AccountNotAllowed,
        Self::SpokeRoleUnavailable,
        Self::SpokeCredentialsExpired,
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
            Self::RequestNotApproved => "request-not-approved",
            Self::CaseClosed => "case-closed",
            Self::ServiceLinkedRoleMissing => "service-linked-role-missing",
            Self::InvalidResourceState => "invalid-resource-state",
            Self::QuotaValueUnavailable => "quota-value-unavailable",
            Self::OtherAccount => "other-account",
            Self::OtherRegion => "other-region",
            Self::AccountNotAllowed => "account-not-allowed",
            Self::SpokeRoleUnavailable => "spoke-role-unavailable",
            Self::SpokeCredentialsExpired => "spoke-credentials-expired",
            Self::AwsError => "aws-error",
        }
    }

    /// A cause that is the account's, not one quota's: one page for all its alarms.
    pub fn is_account_wide(self) -> bool {
        matches!(self, Self::AccountNotAllowed | Self::SpokeRoleUnavailable)
    }

    /// A cause that is one Region's of an account, not one quota's: one page for all its quotas there
    /// (the request budget is counted per Region and per account).
    pub fn is_region_wide(self) -> bool {
        matches!(self, Self::TooManyOpenRequests)
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
            Self::RequestNotApproved => "not approved, no case",
            Self::CaseClosed => "case closed, not raised",
            Self::ServiceLinkedRoleMissing => "SQ role missing",
            Self::InvalidResourceState => "invalid quota state",
            Self::QuotaValueUnavailable => "quota value unavailable",
            Self::OtherAccount => "other account",
            Self::OtherRegion => "other region",
            Self::AccountNotAllowed => "account not allowed",
            Self::SpokeRoleUnavailable => "spoke role unavailable",
            Self::SpokeCredentialsExpired => "spoke credentials expired",
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
            Self::TooManyOpenRequests => "Service Quotas allows 20 active increase requests per account and 2 per Region (Service Quotas user guide, \"Service quotas for Service Quotas\"), and they are taken. selfheal keeps the raises that wait, most urgent first, and its follow-up files them as requests close; close or withdraw less urgent requests to make room sooner.",
            Self::RequestDenied => "AWS refused the latest increase request for this quota; selfheal will not ask again on its own.",
            Self::RequestNotApproved => "The latest increase request needed a review, and support cases were not allowed for it, so AWS ended it as NOT_APPROVED without opening a case. Allow a support case (support_case = true in the rule) or file the request by hand.",
            Self::CaseClosed => "The support case for the latest increase request was closed and the quota was not raised. Read the case in the Support Center before asking again.",
            Self::ServiceLinkedRoleMissing => "Service Quotas could not use or create its service-linked role (DependencyAccessDeniedException). Grant iam:CreateServiceLinkedRole for servicequotas.amazonaws.com, or create the role once by hand.",
            Self::InvalidResourceState => "Service Quotas says the quota is in a state that does not allow an increase request now (InvalidResourceStateException).",
            Self::QuotaValueUnavailable => "Service Quotas returned the quota without a value and gave a reason instead; selfheal does not guess a value.",
            Self::OtherAccount => "The alarm belongs to another AWS account, and selfheal runs in single-account mode (no spoke_role in rules/accounts.toml), so it changed nothing; the quota must be handled in the alarm's account, or that account made a spoke.",
            Self::OtherRegion => "The alarm belongs to a Region that is neither the function's own nor listed in `regions` of rules/accounts.toml, so selfheal changed nothing there.",
            Self::AccountNotAllowed => "The alarm belongs to an account that rules/accounts.toml does not list (and any_account is not set), so the hub did not act in it, whatever the event said.",
            Self::SpokeRoleUnavailable => "The hub could not assume its spoke role in the alarm's account (sts:AssumeRole was refused or failed), so nothing was read or requested there. Deploy spoke/template.yaml to the account, or check the role's trust policy.",
            Self::SpokeCredentialsExpired => "The spoke role's credentials expired while the hub was working in the account, so it stopped before filing anything; the next alarm assumes the role afresh.",
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
            .rule_for_alarm("prod-lambda-concurrent-executions", "111122223333")
            .is_some());
    }
}
