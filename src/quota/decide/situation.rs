//! The decision once the quota and its history are read: raise (how far), wait, or escalate (why).

use crate::escalation::{Escalation, EscalationReason, QuotaSubject};
use crate::quota::api::{ChangeRequest, QuotaInfo, RequestStatus};
use crate::quota::plan::{Plan, RaisePlan, MAX_DESIRED_VALUE};
use crate::quota::signal::QuotaSignal;
use crate::rules::{Defaults, Increase, QuotaRule};
use crate::text::number;

/// A refused request this recent stops selfheal from asking again.
const REFUSAL_MEMORY_SECS: i64 = 30 * 24 * 3600;

/// What is known about the alarm's quota once the reads are done.
pub struct Situation<'a> {
    pub notice: QuotaSignal<'a>,
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
        escalation.quota = QuotaSubject {
            ceiling: self.rule.map(|r| r.ceiling),
            ..QuotaSubject::of(self.quota)
        };
        if let Some(runbook) = self.rule.and_then(|r| r.runbook.clone()) {
            escalation.runbook = runbook;
        }
        Plan::Escalate(Box::new(escalation))
    }
}

/// An escalation about an alarm whose quota may be unknown.
pub fn escalation_for<'s>(
    notice: impl Into<QuotaSignal<'s>>,
    account_id: &str,
    region: &str,
    reason: EscalationReason,
    detail: String,
    tried: &[String],
) -> Escalation {
    let notice: QuotaSignal<'s> = notice.into();
    Escalation {
        reason,
        alarm_name: notice.name().to_owned(),
        alarm_reason: notice.reason().to_owned(),
        alarm_description: notice.description().map(str::to_owned),
        account_id: account_id.to_owned(),
        region: region.to_owned(),
        quota: QuotaSubject::default(),
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
        return match &quota.error_reason {
            Some(reason) => s.escalate(
                EscalationReason::QuotaValueUnavailable,
                format!(
                    "Service Quotas returned no value for the quota, with the reason {reason}."
                ),
            ),
            None => s.escalate(
                EscalationReason::AwsError,
                "Service Quotas returned no value for the quota.".into(),
            ),
        };
    };
    if let Some(open) = s.requests.iter().find(|r| r.status.is_open()) {
        return Plan::Nothing {
            reason: "request-pending",
            summary: format!(
                "increase request {} is {}; not filing another",
                open.id,
                open.status.name()
            ),
            quota: Some(Box::new(quota.clone())),
        };
    }
    if let Some(summary) = raised_since(s, current) {
        return Plan::Nothing {
            reason: "already-raised",
            summary,
            quota: Some(Box::new(quota.clone())),
        };
    }
    let (increase, ceiling, support_case_allowed) = match raise_terms(s) {
        Ok(terms) => terms,
        Err(plan) => return *plan,
    };
    if let Some(plan) = after_latest_request(s, current, support_case_allowed) {
        return plan;
    }
    let desired = increase
        .apply(current)
        .min(ceiling.floor())
        .min(MAX_DESIRED_VALUE);
    if desired <= current {
        let limit = if ceiling.floor() > MAX_DESIRED_VALUE {
            format!(
                "the most RequestServiceQuotaIncrease accepts is {}",
                number(MAX_DESIRED_VALUE)
            )
        } else {
            format!("the ceiling is {}", number(ceiling))
        };
        let mut plan = s.escalate(
            EscalationReason::CeilingReached,
            format!(
                "The quota is {} and {limit}: there is no room to raise it.",
                number(current)
            ),
        );
        if let Plan::Escalate(e) = &mut plan {
            e.quota.ceiling = Some(ceiling.min(MAX_DESIRED_VALUE));
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

/// How far a raise may go: the rule's increase, ceiling and support-case choice, else the defaults'
/// with a ceiling derived from the AWS default value. `Err`: the escalation when neither applies.
fn raise_terms(s: &Situation<'_>) -> Result<(Increase, f64, bool), Box<Plan>> {
    match s.rule {
        Some(rule) => Ok((
            rule.increase,
            rule.ceiling,
            rule.support_case.unwrap_or(s.defaults.support_case),
        )),
        None if !s.defaults.raise_unmatched => {
            Err(Box::new(s.escalate(
                EscalationReason::NoMatchingRule,
                format!(
                    "No rule names {} and raise_unmatched is off.",
                    s.quota.quota_code
                ),
            )))
        }
        None => match s.aws_default_value {
            Some(default) if default > 0.0 => Ok((
                s.defaults.increase,
                (default * s.defaults.ceiling_factor).floor(),
                s.defaults.support_case,
            )),
            _ => Err(Box::new(s.escalate(
                EscalationReason::NoMatchingRule,
                format!(
                    "No rule names {} and its AWS default value is unknown, so no ceiling can be derived.",
                    s.quota.quota_code
                ),
            ))),
        },
    }
}

/// Whether the quota was raised after the input's moment (the alarm's state change, the notice, the
/// report): an increase that ended `APPROVED` (or `CASE_CLOSED` with the value applied) later than it,
/// with the applied value at or above what was asked. Service Quotas approves smaller increases at
/// once ("Smaller increases are automatically approved": Service Quotas user guide, "Requesting a
/// quota increase"), so a second delivery of one alarm may find no open request, only the raise the
/// first one made. The summary names both values: the applied one, and the one the alarm was
/// evaluated against (the request before, else the AWS default, when known).
fn raised_since(s: &Situation<'_>, current: f64) -> Option<String> {
    let since = s.notice.transition().as_ref()?.at_ms?;
    let raised = |r: &&ChangeRequest| {
        matches!(
            r.status,
            RequestStatus::Approved | RequestStatus::CaseClosed
        ) && r.desired_value.is_some_and(|want| current >= want)
    };
    let after = s
        .requests
        .iter()
        .filter(raised)
        .filter(|r| r.last_updated_ms.is_some_and(|at| at > since))
        .max_by_key(|r| r.last_updated_ms)?;
    let before = s
        .requests
        .iter()
        .filter(raised)
        .filter(|r| r.last_updated_ms.is_some_and(|at| at <= since))
        .max_by_key(|r| r.last_updated_ms)
        .and_then(|r| r.desired_value)
        .or(s.aws_default_value);
    let evaluated = match before {
        Some(value) => format!("the alarm was evaluated against {}", number(value)),
        None => format!(
            "the alarm was evaluated against a value below {}",
            number(after.desired_value.unwrap_or(current))
        ),
    };
    Some(format!(
        "the quota was raised after this alarm's state change: request {} ended {} asking {}; the applied value is {} and {evaluated}. Not filing another.",
        after.id,
        after.status.name(),
        after.desired_value.map_or_else(|| "?".into(), number),
        number(current),
    ))
}

/// What the latest request of the last 30 days says about filing another.
///
/// - `DENIED` / `INVALID_REQUEST`: AWS said no; a person decides.
/// - `NOT_APPROVED`: the request needed a review and no support case was allowed, so AWS opened none
///   (botocore `service-quotas` model, `SupportCaseAllowed`). Filing again helps only if a case is now
///   allowed.
/// - `CASE_CLOSED`: the case ended; the applied value tells whether it rose. Raised: carry on as usual.
///   Not raised: a person reads the case.
fn after_latest_request(
    s: &Situation<'_>,
    current: f64,
    support_case_allowed: bool,
) -> Option<Plan> {
    let latest = s
        .requests
        .iter()
        .max_by_key(|r| r.created.unwrap_or(i64::MIN))
        .filter(|r| r.created.is_some_and(|at| s.now - at < REFUSAL_MEMORY_SECS))?;
    let wanted_more = latest.desired_value.is_none_or(|want| want > current);
    let ended = |reason: EscalationReason, how: &str| {
        s.escalate(
            reason,
            format!(
                "The latest increase request ({}, to {}) ended {}{how}.",
                latest.id,
                latest.desired_value.map_or_else(|| "?".into(), number),
                latest.status.name()
            ),
        )
    };
    match latest.status {
        RequestStatus::Denied | RequestStatus::InvalidRequest if wanted_more => {
            Some(ended(EscalationReason::RequestDenied, ""))
        }
        RequestStatus::NotApproved if wanted_more && !support_case_allowed => Some(ended(
            EscalationReason::RequestNotApproved,
            ": it needed a review and no support case was allowed",
        )),
        RequestStatus::CaseClosed if wanted_more => Some(ended(
            EscalationReason::CaseClosed,
            &format!(" and the quota is still {}", number(current)),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarm::AlarmNotice;
    use crate::alarm::AlarmState;

    const NOW: i64 = 1_800_000_000;

    fn notice() -> AlarmNotice {
        super::super::test_alarm(AlarmState::Alarm)
    }

    fn quota(value: f64, adjustable: bool) -> QuotaInfo {
        QuotaInfo {
            service_code: "lambda".into(),
            quota_code: "L-B99A9384".into(),
            quota_name: "Concurrent executions".into(),
            value: Some(value),
            adjustable,
            unit: None,
            usage_metric: None,
            error_reason: None,
            default_only: false,
        }
    }

    fn rule(increase: &str, ceiling: f64) -> QuotaRule {
        QuotaRule {
            raise_when_aws_adjusts: false,
            threshold: None,
            name: "lambda".into(),
            alarm: Some("lambda-*".into()),
            service_code: "lambda".into(),
            quota_code: "L-B99A9384".into(),
            increase: Increase::parse(increase).unwrap(),
            ceiling,
            runbook: None,
            support_case: None,
            cooldown_minutes: None,
            accounts: Vec::new(),
            owners: Vec::new(),
        }
    }

    fn request(status: RequestStatus, desired: f64, age_days: i64) -> ChangeRequest {
        ChangeRequest {
            case_id: None,
            id: format!("req-{age_days}"),
            status,
            desired_value: Some(desired),
            created: Some(NOW - age_days * 86_400),
            last_updated_ms: None,
        }
    }

    fn plan(
        quota: &QuotaInfo,
        rule: Option<&QuotaRule>,
        requests: &[ChangeRequest],
        aws_default: Option<f64>,
    ) -> Plan {
        let notice = notice();
        let defaults = Defaults::default();
        decide(&Situation {
            notice: (&notice).into(),
            account_id: "123456789012",
            region: "us-east-1",
            rule,
            defaults: &defaults,
            quota,
            aws_default_value: aws_default,
            requests,
            now: NOW,
            tried: &[],
        })
    }

    fn escalation_reason(plan: &Plan) -> EscalationReason {
        match plan {
            Plan::Escalate(e) => e.reason,
            other => panic!("expected an escalation, got {other:?}"),
        }
    }

    #[test]
    fn raises_by_the_rule_rounded_up() {
        let Plan::Raise(raise) = plan(
            &quota(1000.0, true),
            Some(&rule("50%", 10_000.0)),
            &[],
            None,
        ) else {
            panic!("expected a raise");
        };
        assert_eq!((raise.current_value, raise.desired_value), (1000.0, 1500.0));
        assert!(raise.support_case_allowed);
        let Plan::Raise(raise) = plan(&quota(7.0, true), Some(&rule("15%", 100.0)), &[], None)
        else {
            panic!("expected a raise");
        };
        assert_eq!(raise.desired_value, 9.0, "8.05 rounds up to 9");
    }

    #[test]
    fn the_ceiling_caps_and_then_stops() {
        let Plan::Raise(raise) = plan(
            &quota(9000.0, true),
            Some(&rule("50%", 10_000.0)),
            &[],
            None,
        ) else {
            panic!("expected a raise");
        };
        assert_eq!(raise.desired_value, 10_000.0);
        let stopped = plan(
            &quota(10_000.0, true),
            Some(&rule("50%", 10_000.0)),
            &[],
            None,
        );
        assert_eq!(
            escalation_reason(&stopped),
            EscalationReason::CeilingReached
        );
        let fractional = plan(&quota(10.0, true), Some(&rule("+5", 10.9)), &[], None);
        assert_eq!(
            escalation_reason(&fractional),
            EscalationReason::CeilingReached
        );
    }

    #[test]
    fn not_adjustable_is_escalated_before_anything_else() {
        let p = plan(
            &quota(1000.0, false),
            Some(&rule("50%", 10_000.0)),
            &[],
            None,
        );
        assert_eq!(escalation_reason(&p), EscalationReason::NotAdjustable);
    }

    #[test]
    fn an_open_request_means_wait() {
        for status in [RequestStatus::Pending, RequestStatus::CaseOpened] {
            let p = plan(
                &quota(1000.0, true),
                Some(&rule("50%", 10_000.0)),
                &[request(status, 1500.0, 1)],
                None,
            );
            assert!(
                matches!(
                    p,
                    Plan::Nothing {
                        reason: "request-pending",
                        ..
                    }
                ),
                "{p:?}"
            );
        }
    }

    #[test]
    fn a_recent_refusal_is_escalated_an_old_one_is_not() {
        let refused = [request(RequestStatus::Denied, 1500.0, 2)];
        let p = plan(
            &quota(1000.0, true),
            Some(&rule("50%", 10_000.0)),
            &refused,
            None,
        );
        assert_eq!(escalation_reason(&p), EscalationReason::RequestDenied);
        let old = [request(RequestStatus::Denied, 1500.0, 40)];
        assert!(matches!(
            plan(
                &quota(1000.0, true),
                Some(&rule("50%", 10_000.0)),
                &old,
                None
            ),
            Plan::Raise(_)
        ));
        // Refused, then approved later: the latest request decides.
        let history = [
            request(RequestStatus::NotApproved, 1500.0, 5),
            request(RequestStatus::Approved, 1500.0, 1),
        ];
        assert!(matches!(
            plan(
                &quota(1500.0, true),
                Some(&rule("50%", 10_000.0)),
                &history,
                None
            ),
            Plan::Raise(_)
        ));
    }

    #[test]
    fn without_a_rule_the_defaults_and_a_derived_ceiling_apply() {
        let Plan::Raise(raise) = plan(&quota(1000.0, true), None, &[], Some(1000.0)) else {
            panic!("expected a raise");
        };
        assert_eq!(
            (raise.desired_value, raise.ceiling, raise.rule),
            (1500.0, 4000.0, None)
        );
        let unknown_default = plan(&quota(1000.0, true), None, &[], None);
        assert_eq!(
            escalation_reason(&unknown_default),
            EscalationReason::NoMatchingRule
        );
    }

    #[test]
    fn no_request_asks_for_more_than_aws_accepts() {
        let Plan::Raise(raise) = plan(&quota(8e9, true), None, &[], Some(8e9)) else {
            panic!("expected a raise");
        };
        assert_eq!(raise.desired_value, MAX_DESIRED_VALUE);
        let at_max = plan(&quota(MAX_DESIRED_VALUE, true), None, &[], Some(8e9));
        assert_eq!(escalation_reason(&at_max), EscalationReason::CeilingReached);
    }

    #[test]
    fn not_approved_and_a_closed_case_are_read_for_what_they_are() {
        let no_case = rule_without_case();
        let not_approved = [request(RequestStatus::NotApproved, 1500.0, 2)];
        let p = plan(&quota(1000.0, true), Some(&no_case), &not_approved, None);
        assert_eq!(escalation_reason(&p), EscalationReason::RequestNotApproved);
        // With a case allowed (the default), filing again can succeed.
        let p = plan(
            &quota(1000.0, true),
            Some(&rule("50%", 10_000.0)),
            &not_approved,
            None,
        );
        assert!(matches!(p, Plan::Raise(_)), "{p:?}");

        let closed = [request(RequestStatus::CaseClosed, 1500.0, 2)];
        let p = plan(
            &quota(1000.0, true),
            Some(&rule("50%", 10_000.0)),
            &closed,
            None,
        );
        assert_eq!(escalation_reason(&p), EscalationReason::CaseClosed);
        let raised = plan(
            &quota(1500.0, true),
            Some(&rule("50%", 10_000.0)),
            &closed,
            None,
        );
        assert!(matches!(raised, Plan::Raise(_)), "{raised:?}");
    }

    /// The alarm's state change at `NOW`, in milliseconds.
    fn alarm_at_now() -> AlarmNotice {
        AlarmNotice {
            transition: Some(crate::alarm::Transition {
                id: "alarm:x:ALARM@1".into(),
                at_ms: Some(NOW * 1000),
            }),
            ..notice()
        }
    }

    fn decided(status: RequestStatus, desired: f64, seconds_after_alarm: i64) -> ChangeRequest {
        ChangeRequest {
            last_updated_ms: Some((NOW + seconds_after_alarm) * 1000),
            ..request(status, desired, 1)
        }
    }

    fn plan_for(notice: &AlarmNotice, quota: &QuotaInfo, requests: &[ChangeRequest]) -> Plan {
        let defaults = Defaults::default();
        let rule = rule("50%", 10_000.0);
        decide(&Situation {
            notice: notice.into(),
            account_id: "123456789012",
            region: "us-east-1",
            rule: Some(&rule),
            defaults: &defaults,
            quota,
            aws_default_value: None,
            requests,
            now: NOW,
            tried: &[],
        })
    }

    #[test]
    fn a_quota_raised_after_the_alarm_changed_state_is_not_raised_again() {
        let history = [
            decided(RequestStatus::Approved, 1000.0, -86_400),
            decided(RequestStatus::Approved, 1500.0, 5),
        ];
        let Plan::Nothing {
            reason, summary, ..
        } = plan_for(&alarm_at_now(), &quota(1500.0, true), &history)
        else {
            panic!("expected nothing");
        };
        assert_eq!(reason, "already-raised");
        assert!(summary.contains("the applied value is 1500"), "{summary}");
        assert!(summary.contains("evaluated against 1000"), "{summary}");
    }

    #[test]
    fn a_raise_before_the_alarm_or_one_not_applied_does_not_stop_the_next() {
        // Approved before this state change: the alarm fired at the raised value and needs more.
        let before = [decided(RequestStatus::Approved, 1500.0, -5)];
        assert!(matches!(
            plan_for(&alarm_at_now(), &quota(1500.0, true), &before),
            Plan::Raise(_)
        ));
        // A closed case that applied less than asked raised nothing for this episode.
        let closed_below = [decided(RequestStatus::CaseClosed, 2000.0, 5)];
        assert!(!matches!(
            plan_for(&alarm_at_now(), &quota(1500.0, true), &closed_below),
            Plan::Nothing {
                reason: "already-raised",
                ..
            }
        ));
        // Without the moment of the state change there is nothing to compare with.
        let after = [decided(RequestStatus::Approved, 1500.0, 5)];
        assert!(matches!(
            plan_for(&notice(), &quota(1500.0, true), &after),
            Plan::Raise(_)
        ));
    }

    fn rule_without_case() -> QuotaRule {
        QuotaRule {
            raise_when_aws_adjusts: false,
            threshold: None,
            support_case: Some(false),
            ..rule("50%", 10_000.0)
        }
    }
}
