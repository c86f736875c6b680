//! The decision after `RequestServiceQuotaIncrease` answered: filed, a race lost to another delivery or
//! a person (read again, then decided once), or an error to escalate.

use super::reading::{reason_for, Scope};
use super::situation::escalation_for;
use crate::escalation::{Escalation, QuotaSubject};
use crate::quota::api::{ChangeRequest, QuotaApiError};
use crate::quota::plan::{RaisePlan, RuleTerms};
use crate::quota::signal::QuotaSignal;

/// What the answer to `RequestServiceQuotaIncrease` means.
#[derive(Clone, Debug, PartialEq)]
pub enum AfterRequest {
    /// Filed: kept for the follow-up, told in the outcome.
    Filed(ChangeRequest),
    /// Refused as a duplicate or as not above the quota: what another delivery or a person raising
    /// it first gets too. The quota and its history are read again, then `after_lost_race` decides.
    ReadAgain(QuotaApiError),
    /// Any other error: escalated, with the rule's runbook.
    Escalate(Box<Escalation>),
}

/// What `RequestServiceQuotaIncrease` answered, decided.
pub fn after_request<'s>(
    result: Result<ChangeRequest, QuotaApiError>,
    raise: &RaisePlan,
    terms: &RuleTerms,
    notice: impl Into<QuotaSignal<'s>>,
    scope: &Scope<'_>,
    tried: &[String],
) -> AfterRequest {
    match result {
        Ok(request) => AfterRequest::Filed(request),
        Err(e @ (QuotaApiError::AlreadyOpen { .. } | QuotaApiError::IllegalArgument { .. })) => {
            AfterRequest::ReadAgain(e)
        }
        Err(error) => AfterRequest::Escalate(Box::new(refused(
            &error, raise, terms, notice, scope, tried,
        ))),
    }
}

/// The escalation of a request AWS refused: its reason from the error, the rule's runbook.
pub fn refused<'s>(
    error: &QuotaApiError,
    raise: &RaisePlan,
    terms: &RuleTerms,
    notice: impl Into<QuotaSignal<'s>>,
    scope: &Scope<'_>,
    tried: &[String],
) -> Escalation {
    let mut escalation = escalation_for(
        notice,
        scope.account_id,
        scope.region,
        reason_for(error),
        error.to_string(),
        tried,
    );
    escalation.quota = QuotaSubject::from(raise);
    if let Some(runbook) = &terms.runbook {
        escalation.runbook = runbook.clone();
    }
    escalation
}

/// What a refused `RequestServiceQuotaIncrease` means once the quota and its history were read again.
#[derive(Clone, Debug, PartialEq)]
pub enum LostRace {
    /// A request is open (another delivery filed it, or AWS said one is): wait for it.
    Pending(String),
    /// The quota is already at or above what was asked: raised by another delivery or a person.
    AlreadyRaised { applied: f64 },
    /// Not a race: AWS refused the request itself.
    Refused,
}

/// `ResourceAlreadyExistsException` and `IllegalArgumentException` are also what a delivery that lost
/// the race to another gets: decided again from what the quota and its history say now. `reread` is
/// the applied value and the history read after the refusal, or `None` when they could not be read.
pub fn after_lost_race(
    raise: &RaisePlan,
    error: &QuotaApiError,
    reread: Option<(Option<f64>, &[ChangeRequest])>,
) -> LostRace {
    let already_open = matches!(error, QuotaApiError::AlreadyOpen { .. });
    let Some((applied, requests)) = reread else {
        return if already_open {
            LostRace::Pending(String::new())
        } else {
            LostRace::Refused
        };
    };
    if let Some(open) = requests.iter().find(|r| r.status.is_open()) {
        return LostRace::Pending(open.id.clone());
    }
    match applied {
        Some(applied) if applied >= raise.desired_value => LostRace::AlreadyRaised { applied },
        _ if already_open => LostRace::Pending(String::new()),
        _ => LostRace::Refused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::alarm::AlarmState;
    use crate::escalation::EscalationReason;
    use crate::quota::api::RequestStatus;
    use crate::rules::Increase;

    fn raise() -> RaisePlan {
        RaisePlan {
            service_code: "lambda".into(),
            quota_code: "L-B99A9384".into(),
            quota_name: "Concurrent executions".into(),
            current_value: 1000.0,
            desired_value: 1500.0,
            ceiling: 10_000.0,
            increase: Increase::parse("50%").unwrap(),
            support_case_allowed: true,
            rule: Some("lambda".into()),
        }
    }

    fn refused(code: &str) -> QuotaApiError {
        QuotaApiError::from_code("RequestServiceQuotaIncrease", Some(code), "refused".into())
    }

    fn open_request() -> ChangeRequest {
        ChangeRequest {
            id: "req-1".into(),
            status: RequestStatus::Pending,
            desired_value: Some(1500.0),
            created: None,
            last_updated_ms: None,
            case_id: None,
        }
    }

    #[test]
    fn a_refused_request_is_a_lost_race_only_when_the_quota_says_so() {
        let (illegal, exists) = (
            refused("IllegalArgumentException"),
            refused("ResourceAlreadyExistsException"),
        );
        assert_eq!(
            after_lost_race(&raise(), &illegal, Some((Some(1500.0), &[]))),
            LostRace::AlreadyRaised { applied: 1500.0 }
        );
        assert_eq!(
            after_lost_race(&raise(), &exists, Some((Some(1000.0), &[open_request()]))),
            LostRace::Pending("req-1".into())
        );
        assert_eq!(
            after_lost_race(&raise(), &exists, Some((Some(1000.0), &[]))),
            LostRace::Pending(String::new()),
            "AWS said one is open though the history does not show it yet"
        );
        assert_eq!(
            after_lost_race(&raise(), &illegal, Some((Some(1000.0), &[]))),
            LostRace::Refused,
            "below what was asked: AWS refused the input itself"
        );
        assert_eq!(after_lost_race(&raise(), &illegal, None), LostRace::Refused);
    }

    #[test]
    fn a_request_is_filed_read_again_or_escalated_with_the_rules_runbook() {
        let notice = super::super::test_alarm(AlarmState::Alarm);
        let scope = Scope {
            account_id: "123456789012",
            region: "us-east-1",
        };
        let terms = RuleTerms {
            name: Some("lambda".into()),
            runbook: Some("lambda-concurrency".into()),
            cooldown_minutes: 60,
        };
        let decide = |result| after_request(result, &raise(), &terms, &notice, &scope, &[]);
        assert_eq!(
            decide(Ok(open_request())),
            AfterRequest::Filed(open_request())
        );
        for code in ["IllegalArgumentException", "ResourceAlreadyExistsException"] {
            assert!(
                matches!(decide(Err(refused(code))), AfterRequest::ReadAgain(_)),
                "{code}"
            );
        }
        let AfterRequest::Escalate(escalation) = decide(Err(refused("QuotaExceededException")))
        else {
            panic!("an escalation");
        };
        assert_eq!(escalation.reason, EscalationReason::TooManyOpenRequests);
        assert_eq!(escalation.runbook, "lambda-concurrency");
        assert_eq!(escalation.quota.desired_value, Some(1500.0));
    }
}
