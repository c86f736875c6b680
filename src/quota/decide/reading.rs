//! What the healer read about an alarm, including what it could not read, and the pure decisions
//! over it: first those that need no read (the alarm's state, its account and Region), then the
//! rest, from the reading, ending in `plan::decide` once the quota and its history are known.

use super::situation::{decide, escalation_for, Situation};
use crate::alarm::{AlarmState, MetricId};
use crate::escalation::QuotaSubject;
use crate::escalation::{Escalation, EscalationReason};
use crate::quota::access::AccessError;
use crate::quota::api::{AutoManagement, ChangeRequest, QuotaApiError, QuotaInfo};
use crate::quota::plan::Plan;
use crate::quota::signal::QuotaSignal;
use crate::rules::{Defaults, Organization, OutOfReach, QuotaRule};

/// Where the healer runs, and how far it reaches: an alarm of anywhere else is escalated, never acted on.
pub struct Home<'a> {
    /// `None` when it could not be learned: then every alarm that names an account is taken for
    /// another account's.
    pub account_id: Option<&'a str>,
    pub region: &'a str,
    /// The spoke role, the Regions and the accounts of `rules/accounts.toml`.
    pub organization: &'a Organization,
}

/// Stands for an account that neither the event nor the function's settings name: the function's
/// own, acted in with its own credentials.
pub const UNKNOWN_ACCOUNT: &str = "unknown-account";

impl Home<'_> {
    /// The one rule for "is this account our own?", of the healer, the follow-up and the sweep: the
    /// function's account, or the stand-in for an input that named none (so that a request filed
    /// while the account was unknown is followed up with the same credentials).
    pub fn owns(&self, account_id: &str) -> bool {
        account_id == UNKNOWN_ACCOUNT || self.account_id == Some(account_id)
    }

    /// The account an input is of: the one it names, else the function's own, else the stand-in.
    pub fn account_of<'a>(&'a self, named: Option<&'a str>) -> &'a str {
        named.or(self.account_id).unwrap_or(UNKNOWN_ACCOUNT)
    }
}

/// The account and Region an alarm is of, what the event leaves out filled in from `Home`.
pub struct Scope<'a> {
    pub account_id: &'a str,
    pub region: &'a str,
}

impl Scope<'_> {
    /// The key of the alarm's open escalation.
    pub fn alarm_key(&self, alarm_name: &str) -> String {
        format!("{}:{}:{alarm_name}", self.account_id, self.region)
    }
}

/// The decisions that need no read: an alarm back to OK resolves, a state other than ALARM is
/// ignored, an alarm of an account or Region out of the hub's reach is escalated. `None`: read, then
/// decide.
pub fn decide_before_reading<'s>(
    notice: impl Into<QuotaSignal<'s>>,
    scope: &Scope<'_>,
    home: &Home<'_>,
    steps: &mut Vec<String>,
) -> Option<Plan> {
    let notice: QuotaSignal<'s> = notice.into();
    match notice.alarm_state() {
        // A sweep finding has no state: it is over its threshold, and read.
        None | Some(AlarmState::Alarm) => {}
        Some(AlarmState::Ok) => {
            return Some(Plan::Resolve {
                alarm_key: scope.alarm_key(notice.name()),
            })
        }
        Some(other) => {
            return Some(Plan::Nothing {
                reason: "ignored-state",
                summary: format!("alarm moved to {other:?}; only ALARM and OK are acted on"),
                quota: None,
            })
        }
    }
    let org = home.organization;
    let own = home.owns(scope.account_id);
    let (reason, detail) = match org.reach(scope.account_id, own, scope.region, home.region) {
        Ok(()) => return None,
        Err(OutOfReach::OtherAccount) => match home.account_id {
            Some(own) => (
                EscalationReason::OtherAccount,
                format!(
                    "The alarm is of account {} in {}; selfheal runs in account {own} in single-account mode (no spoke_role in rules/accounts.toml) and acts only there.",
                    scope.account_id, scope.region
                ),
            ),
            None => (
                EscalationReason::OtherAccount,
                format!(
                    "The alarm is of account {} in {}, and the function's own account is unknown (set SELFHEAL_ACCOUNT_ID), so it cannot tell whether that account is its own.",
                    scope.account_id, scope.region
                ),
            ),
        },
        Err(OutOfReach::AccountNotListed) => (
            EscalationReason::AccountNotAllowed,
            format!(
                "The alarm is of account {} in {}, which rules/accounts.toml does not list; the hub acts only in listed accounts.",
                scope.account_id, scope.region
            ),
        ),
        Err(OutOfReach::Region) => (
            EscalationReason::OtherRegion,
            format!(
                "The alarm is of Region {} in account {}; selfheal runs in {} and acts only there{}.",
                scope.region,
                scope.account_id,
                home.region,
                if org.regions.is_empty() {
                    String::new()
                } else {
                    format!(" and in {}", org.regions.join(", "))
                }
            ),
        ),
    };
    steps.push(format!(
        "not acted on: {detail} No quota was read or requested."
    ));
    Some(Plan::Escalate(Box::new(escalation_for(
        notice,
        scope.account_id,
        scope.region,
        reason,
        detail,
        steps,
    ))))
}

/// The escalation for an account whose spoke role could not be assumed: nothing was read or requested.
pub fn unreachable_account<'s>(
    notice: impl Into<QuotaSignal<'s>>,
    scope: &Scope<'_>,
    error: &AccessError,
    steps: &mut Vec<String>,
) -> Escalation {
    let notice: QuotaSignal<'s> = notice.into();
    let detail = format!(
        "The hub could not assume {} for account {} ({}: {}); nothing was read or requested there.",
        error.role_arn, scope.account_id, error.code, error.message
    );
    steps.push(format!("sts:AssumeRole failed: {detail}"));
    escalation_for(
        notice,
        scope.account_id,
        scope.region,
        EscalationReason::SpokeRoleUnavailable,
        detail,
        steps,
    )
}

/// The quota's request history, and its AWS default where no rule names it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    pub requests: Vec<ChangeRequest>,
    pub aws_default_value: Option<f64>,
}

/// How far the reads got.
#[derive(Clone, Debug, PartialEq)]
pub enum QuotaReading {
    /// No rule matches the alarm's name, and the alarm names no usage metric.
    NoQuotaNamed,
    /// No quota of the catalog has the alarm's usage metric.
    NoQuotaForMetric(MetricId),
    /// No quota of the service has the name a threshold notice gives.
    NoQuotaWithName {
        service_code: String,
        quota_name: String,
    },
    /// A threshold notice's entry that does not read as a quota.
    UnreadableEntry(String),
    /// `ListServiceQuotas` failed while looking for the usage metric's quota.
    CatalogUnreadable(QuotaApiError),
    /// The quota is named but could not be read.
    QuotaUnreadable {
        service_code: String,
        quota_code: String,
        error: QuotaApiError,
    },
    /// The quota was read; its history too, unless the quota cannot be raised (`None`).
    Read {
        quota: QuotaInfo,
        history: Option<Result<History, QuotaApiError>>,
    },
}

/// Everything known once the reads are done.
pub struct AlarmReading<'a> {
    pub notice: QuotaSignal<'a>,
    pub scope: &'a Scope<'a>,
    pub rule: Option<&'a QuotaRule>,
    pub defaults: &'a Defaults,
    pub quota: &'a QuotaReading,
    /// Seconds since the epoch.
    pub now: i64,
    /// What was read, for the escalation's "what was tried".
    pub tried: &'a [String],
}

/// Where Service Quotas' Automatic Management raises the quota itself (`NotifyAndAdjust`, the quota not
/// excluded), a planned raise is left to it, unless the quota's rule says `raise_when_aws_adjusts`: two
/// requests for one quota would only have the second refused as a duplicate.
pub fn leave_to_aws(
    plan: Plan,
    auto: &AutoManagement,
    rule: Option<&QuotaRule>,
    quota: &QuotaReading,
) -> Plan {
    let Plan::Raise(raise) = &plan else {
        return plan;
    };
    if !auto.adjusts(&raise.service_code, &raise.quota_code)
        || rule.is_some_and(|r| r.raise_when_aws_adjusts)
    {
        return plan;
    }
    let read = match quota {
        QuotaReading::Read { quota, .. } => Some(Box::new(quota.clone())),
        _ => None,
    };
    Plan::Nothing {
        reason: "aws-adjusts",
        summary: format!(
            "Service Quotas' Automatic Management (NotifyAndAdjust) adjusts {} {} itself; not filing a second request (raise_when_aws_adjusts in the rule would)",
            raise.service_code, raise.quota_code
        ),
        quota: read,
    }
}

/// Raise, escalate or wait, from what the reads found.
pub fn decide_after_reading(r: &AlarmReading<'_>) -> Plan {
    let escalate_alarm = |reason, detail: String| {
        Plan::Escalate(Box::new(escalation_for(
            r.notice,
            r.scope.account_id,
            r.scope.region,
            reason,
            detail,
            r.tried,
        )))
    };
    match r.quota {
        QuotaReading::NoQuotaNamed => escalate_alarm(
            EscalationReason::NoQuotaFound,
            "No rule matches the alarm and it has no usage metric to trace back to a quota.".into(),
        ),
        QuotaReading::NoQuotaForMetric(metric) => escalate_alarm(
            EscalationReason::NoQuotaFound,
            format!(
                "No quota's usage metric is {}/{} with dimensions {:?}.",
                metric.namespace, metric.name, metric.dimensions
            ),
        ),
        QuotaReading::NoQuotaWithName {
            service_code,
            quota_name,
        } => escalate_alarm(
            EscalationReason::NoQuotaFound,
            format!(
                "Service Quotas named the quota {quota_name:?} of {service_code}, and no quota of {service_code} has that name (ListServiceQuotas); selfheal does not guess."
            ),
        ),
        QuotaReading::UnreadableEntry(entry) => escalate_alarm(
            EscalationReason::NoQuotaFound,
            format!(
                "Service Quotas' threshold notice names a quota as {entry:?}, which does not read as \"Service: <code> | Quota Name: <name> | Utilization: <pct>%\"."
            ),
        ),
        QuotaReading::CatalogUnreadable(error) => escalate_alarm(reason_for(error), error.to_string()),
        QuotaReading::QuotaUnreadable {
            service_code,
            quota_code,
            error,
        } => {
            let reason = match error {
                QuotaApiError::NoSuchResource { .. } => EscalationReason::NoQuotaFound,
                other => reason_for(other),
            };
            let mut plan = escalate_alarm(reason, error.to_string());
            if let Plan::Escalate(escalation) = &mut plan {
                escalation.quota = QuotaSubject::codes(service_code, quota_code);
            }
            plan
        }
        QuotaReading::Read { quota, history } => {
            let empty = History::default();
            let (history, unreadable) = match history {
                None => (&empty, None),
                Some(Ok(history)) => (history, None),
                Some(Err(error)) => (&empty, Some(error)),
            };
            let situation = Situation {
                notice: r.notice,
                account_id: r.scope.account_id,
                region: r.scope.region,
                rule: r.rule,
                defaults: r.defaults,
                quota,
                aws_default_value: history.aws_default_value,
                requests: &history.requests,
                now: r.now,
                tried: r.tried,
            };
            match unreadable {
                Some(error) => situation.escalate(reason_for(error), error.to_string()),
                None => decide(&situation),
            }
        }
    }
}

/// The escalation for a Service Quotas error that ended the attempt.
pub fn reason_for(error: &QuotaApiError) -> EscalationReason {
    match error {
        QuotaApiError::TooManyOpenRequests { .. } => EscalationReason::TooManyOpenRequests,
        QuotaApiError::DependencyAccessDenied { .. } => EscalationReason::ServiceLinkedRoleMissing,
        QuotaApiError::InvalidResourceState { .. } => EscalationReason::InvalidResourceState,
        QuotaApiError::CredentialsExpired { .. } => EscalationReason::SpokeCredentialsExpired,
        _ => EscalationReason::AwsError,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarm::AlarmNotice;

    const SINGLE_ACCOUNT: Organization = Organization {
        spoke_role: None,
        regions: Vec::new(),
        any_account: false,
        accounts: Vec::new(),
    };
    const HOME: Home<'static> = Home {
        account_id: Some("123456789012"),
        region: "us-east-1",
        organization: &SINGLE_ACCOUNT,
    };
    const HERE: Scope<'static> = Scope {
        account_id: "123456789012",
        region: "us-east-1",
    };

    fn notice(state: AlarmState) -> AlarmNotice {
        super::super::test_alarm(state)
    }

    fn quota(adjustable: bool) -> QuotaInfo {
        QuotaInfo {
            service_code: "lambda".into(),
            quota_code: "L-B99A9384".into(),
            quota_name: "Concurrent executions".into(),
            value: Some(1000.0),
            adjustable,
            unit: None,
            usage_metric: None,
            error_reason: None,
            default_only: false,
        }
    }

    fn before(notice: &AlarmNotice, scope: &Scope<'_>) -> Option<Plan> {
        decide_before_reading(notice, scope, &HOME, &mut Vec::new())
    }

    fn after(reading: &QuotaReading) -> Plan {
        decide_after_reading(&AlarmReading {
            notice: (&notice(AlarmState::Alarm)).into(),
            scope: &HERE,
            rule: None,
            defaults: &Defaults::default(),
            quota: reading,
            now: 1_800_000_000,
            tried: &[],
        })
    }

    fn escalated(plan: &Plan) -> (EscalationReason, Option<&str>) {
        match plan {
            Plan::Escalate(e) => (e.reason, e.quota.quota_code.as_deref()),
            other => panic!("expected an escalation, got {other:?}"),
        }
    }

    fn throttled() -> QuotaApiError {
        QuotaApiError::from_code(
            "ListServiceQuotas",
            Some("TooManyRequestsException"),
            "Rate exceeded".into(),
        )
    }

    #[test]
    fn an_alarm_of_here_in_alarm_needs_a_read() {
        assert_eq!(before(&notice(AlarmState::Alarm), &HERE), None);
    }

    #[test]
    fn an_alarm_back_to_ok_resolves_its_escalation_and_other_states_are_ignored() {
        assert_eq!(
            before(&notice(AlarmState::Ok), &HERE),
            Some(Plan::Resolve {
                alarm_key: "123456789012:us-east-1:lambda-concurrency".into()
            })
        );
        let ignored = before(&notice(AlarmState::InsufficientData), &HERE);
        assert!(matches!(
            ignored,
            Some(Plan::Nothing {
                reason: "ignored-state",
                ..
            })
        ));
    }

    #[test]
    fn an_alarm_of_another_account_or_region_is_escalated_without_a_read() {
        let elsewhere = Scope {
            account_id: "999988887777",
            region: "us-east-1",
        };
        let plan = before(&notice(AlarmState::Alarm), &elsewhere).unwrap();
        assert_eq!(escalated(&plan).0, EscalationReason::OtherAccount);
        let other_region = Scope {
            account_id: "123456789012",
            region: "eu-west-1",
        };
        let plan = before(&notice(AlarmState::Alarm), &other_region).unwrap();
        assert_eq!(escalated(&plan).0, EscalationReason::OtherRegion);
    }

    #[test]
    fn a_hub_reaches_listed_accounts_and_regions_only() {
        let org = Organization {
            spoke_role: Some("selfheal-spoke".into()),
            regions: vec!["eu-west-1".into()],
            any_account: false,
            accounts: vec![crate::rules::AccountEntry {
                id: "111111111111".into(),
                owner: Some("payments".into()),
                topic_arn: None,
            }],
        };
        let hub = Home {
            organization: &org,
            ..HOME
        };
        let decide = |account_id, region| {
            let mut alarm = notice(AlarmState::Alarm);
            alarm.account_id = Some(String::from(account_id));
            let scope = Scope { account_id, region };
            decide_before_reading(&alarm, &scope, &hub, &mut Vec::new())
                .map(|plan| escalated(&plan).0)
        };
        assert_eq!(decide("111111111111", "us-east-1"), None);
        assert_eq!(decide("111111111111", "eu-west-1"), None);
        assert_eq!(decide("123456789012", "eu-west-1"), None);
        assert_eq!(
            decide("111111111111", "ap-south-1"),
            Some(EscalationReason::OtherRegion)
        );
        assert_eq!(
            decide("222222222222", "us-east-1"),
            Some(EscalationReason::AccountNotAllowed)
        );
    }

    #[test]
    fn an_account_whose_role_cannot_be_assumed_is_escalated_naming_it() {
        let error = AccessError {
            role_arn: "arn:aws:iam::111111111111:role/selfheal-spoke".into(),
            code: "AccessDenied".into(),
            message: "not authorized to perform: sts:AssumeRole".into(),
        };
        let scope = Scope {
            account_id: "111111111111",
            region: "us-east-1",
        };
        let escalation =
            unreachable_account(&notice(AlarmState::Alarm), &scope, &error, &mut Vec::new());
        assert_eq!(escalation.reason, EscalationReason::SpokeRoleUnavailable);
        assert!(
            escalation.detail.contains("111111111111"),
            "{}",
            escalation.detail
        );
        assert!(escalation.detail.contains("AccessDenied"));
    }

    #[test]
    fn our_own_account_is_the_home_account_or_the_one_no_input_named() {
        assert!(HOME.owns("123456789012"));
        assert!(!HOME.owns("999988887777"));
        assert!(
            HOME.owns(UNKNOWN_ACCOUNT),
            "filed while the account was unknown"
        );
        let unknown = Home {
            account_id: None,
            ..HOME
        };
        assert!(unknown.owns(UNKNOWN_ACCOUNT));
        assert!(!unknown.owns("123456789012"));
        assert_eq!(unknown.account_of(None), UNKNOWN_ACCOUNT);
        assert_eq!(HOME.account_of(None), "123456789012");
        assert_eq!(HOME.account_of(Some("999988887777")), "999988887777");
    }

    #[test]
    fn without_a_home_account_an_alarm_naming_one_is_escalated() {
        let unknown = Home {
            account_id: None,
            region: "us-east-1",
            organization: &SINGLE_ACCOUNT,
        };
        let mut steps = Vec::new();
        let plan = decide_before_reading(&notice(AlarmState::Alarm), &HERE, &unknown, &mut steps);
        assert_eq!(escalated(&plan.unwrap()).0, EscalationReason::OtherAccount);
        assert!(steps[0].contains("No quota was read or requested"));
    }

    #[test]
    fn a_quota_that_cannot_be_found_or_read_is_escalated_naming_what_is_known() {
        assert_eq!(
            escalated(&after(&QuotaReading::NoQuotaNamed)),
            (EscalationReason::NoQuotaFound, None)
        );
        let metric = QuotaReading::NoQuotaForMetric(MetricId::default());
        assert_eq!(escalated(&after(&metric)).0, EscalationReason::NoQuotaFound);
        let catalog = QuotaReading::CatalogUnreadable(throttled());
        assert_eq!(escalated(&after(&catalog)).0, EscalationReason::AwsError);
        let unreadable = QuotaReading::QuotaUnreadable {
            service_code: "lambda".into(),
            quota_code: "L-B99A9384".into(),
            error: throttled(),
        };
        assert_eq!(
            escalated(&after(&unreadable)),
            (EscalationReason::AwsError, Some("L-B99A9384"))
        );
    }

    #[test]
    fn a_history_that_cannot_be_read_is_escalated_about_the_quota() {
        let reading = QuotaReading::Read {
            quota: quota(true),
            history: Some(Err(throttled())),
        };
        assert_eq!(
            escalated(&after(&reading)),
            (EscalationReason::AwsError, Some("L-B99A9384"))
        );
    }

    #[test]
    fn a_quota_read_in_full_goes_to_the_decision() {
        let fixed = QuotaReading::Read {
            quota: quota(false),
            history: None,
        };
        assert_eq!(escalated(&after(&fixed)).0, EscalationReason::NotAdjustable);
    }

    #[test]
    fn a_raise_is_left_to_aws_only_where_it_adjusts_the_quota_and_the_rule_does_not_insist() {
        let reading = QuotaReading::Read {
            quota: quota(true),
            history: Some(Ok(History::default())),
        };
        let raise = Plan::Raise(crate::quota::plan::RaisePlan {
            service_code: "lambda".into(),
            quota_code: "L-B99A9384".into(),
            quota_name: "Concurrent executions".into(),
            current_value: 1000.0,
            desired_value: 1500.0,
            ceiling: 5000.0,
            increase: crate::rules::Increase::parse("+50%").unwrap(),
            support_case_allowed: true,
            rule: None,
        });
        let adjusting = AutoManagement {
            enabled: true,
            opt_in_type: Some("NotifyAndAdjust".into()),
            excluded: Default::default(),
        };
        let left = leave_to_aws(raise.clone(), &adjusting, None, &reading);
        assert!(
            matches!(&left, Plan::Nothing { reason: "aws-adjusts", quota: Some(q), .. } if q.quota_code == "L-B99A9384"),
            "{left:?}"
        );
        for auto in [
            AutoManagement::default(),
            AutoManagement {
                opt_in_type: Some("NotifyOnly".into()),
                ..adjusting.clone()
            },
            AutoManagement {
                enabled: false,
                ..adjusting.clone()
            },
            AutoManagement {
                excluded: [("lambda".to_owned(), vec!["L-B99A9384".to_owned()])].into(),
                ..adjusting.clone()
            },
        ] {
            assert_eq!(
                leave_to_aws(raise.clone(), &auto, None, &reading),
                raise,
                "{auto:?}"
            );
        }
        let insisting = QuotaRule {
            raise_when_aws_adjusts: true,
            ..crate::rules::RuleSet::embedded()
                .unwrap()
                .rule_for_quota("lambda", "L-B99A9384", "123456789012")
                .unwrap()
                .clone()
        };
        assert_eq!(
            leave_to_aws(raise.clone(), &adjusting, Some(&insisting), &reading),
            raise
        );
    }
}
