//! Every decision of quota healing, pure: before reading (the alarm's state, the hub's reach), after
//! reading (raise, wait or escalate; Automatic Management's own adjustment), and after the request
//! (filed, a race lost, an error). Values in, a plan out: printed by a dry run, carried out by `act.rs`.

mod reading;
mod request;
mod situation;

pub use reading::{
    decide_after_reading, decide_before_reading, leave_to_aws, reason_for, unreachable_account,
    AlarmReading, History, Home, QuotaReading, Scope, UNKNOWN_ACCOUNT,
};
pub use request::{after_lost_race, after_request, refused, AfterRequest, LostRace};
pub use situation::{decide, escalation_for, Situation};

/// The alarm the decision tests decide about: `lambda-concurrency` of 123456789012 in us-east-1,
/// entering `state` from OK.
#[cfg(test)]
pub(crate) fn test_alarm(state: crate::alarm::AlarmState) -> crate::alarm::AlarmNotice {
    crate::alarm::AlarmNotice {
        delivery: crate::alarm::Delivery::AlarmAction,
        alarm_name: "lambda-concurrency".into(),
        alarm_arn: None,
        account_id: Some("123456789012".into()),
        region: Some("us-east-1".into()),
        description: None,
        state,
        previous_state: crate::alarm::AlarmState::Ok,
        reason: "Threshold Crossed".into(),
        queries: Vec::new(),
        named_quota: None,
        transition: None,
    }
}
