//! What reached the quota function, classified once: alarms (any of the five delivery shapes, one
//! notice per alarm or per quota a threshold notice names), the scheduled sweep, the scheduled
//! follow-up, or an event it is subscribed to and has nothing to do with.

use super::follow_up::FollowUpRequest;
use super::sweep::SweepRequest;
use crate::alarm::{parse_alarm_event, AlarmEventError, AlarmNotice, Delivery};
use serde_json::Value;

/// One event, classified.
#[derive(Debug, PartialEq)]
pub enum QuotaEvent {
    /// CloudWatch alarm state changes (alarm action, SNS, EventBridge).
    Alarms(Vec<AlarmNotice>),
    /// Service Quotas' threshold notices (AWS Health events, direct or through SNS): one per quota
    /// each names.
    ThresholdNotices(Vec<AlarmNotice>),
    /// `{"selfheal": "sweep", ...}`.
    Sweep(SweepRequest),
    /// `{"selfheal": "follow-up", ...}`.
    FollowUp(FollowUpRequest),
    /// Another AWS Health event on the same subscription: nothing to do, nothing to retry (why).
    Ignored(String),
}

/// Why an event is none of these.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QuotaEventError {
    #[error(transparent)]
    Alarm(AlarmEventError),
    /// A scheduled sweep or follow-up event that does not read.
    #[error("{0}")]
    InvalidScheduledEvent(String),
}

pub fn classify(event: &Value) -> Result<QuotaEvent, QuotaEventError> {
    if let Some(request) = FollowUpRequest::from_event(event) {
        return request
            .map(QuotaEvent::FollowUp)
            .map_err(QuotaEventError::InvalidScheduledEvent);
    }
    if let Some(request) = SweepRequest::from_event(event) {
        return request
            .map(QuotaEvent::Sweep)
            .map_err(QuotaEventError::InvalidScheduledEvent);
    }
    match parse_alarm_event(event) {
        // One event is one kind: an SNS delivery of a Health event carries threshold notices only.
        Ok(notices) if notices.iter().any(|n| n.delivery == Delivery::HealthEvent) => {
            Ok(QuotaEvent::ThresholdNotices(notices))
        }
        Ok(notices) => Ok(QuotaEvent::Alarms(notices)),
        Err(AlarmEventError::Ignored(why)) => Ok(QuotaEvent::Ignored(why)),
        Err(e) => Err(QuotaEventError::Alarm(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_kind_of_event_is_told_apart() {
        assert!(matches!(
            classify(&json!({"selfheal": "sweep", "dryRun": true})),
            Ok(QuotaEvent::Sweep(SweepRequest { dry_run: true, .. }))
        ));
        assert!(matches!(
            classify(&json!({"selfheal": "follow-up"})),
            Ok(QuotaEvent::FollowUp(_))
        ));
        assert!(matches!(
            classify(&json!({"selfheal": "sweep", "threshold": 0})),
            Err(QuotaEventError::InvalidScheduledEvent(_))
        ));
        let other_health = json!({
            "detail-type": "AWS Health Event", "source": "aws.health",
            "detail": {"service": "EC2", "eventTypeCode": "AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED"}
        });
        assert!(matches!(
            classify(&other_health),
            Ok(QuotaEvent::Ignored(_))
        ));
        assert!(matches!(
            classify(&json!({"hello": "world"})),
            Err(QuotaEventError::Alarm(AlarmEventError::NotAnAlarm(_)))
        ));
        let alarm: Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/alarm-action-lambda-concurrency.json"
        ))
        .unwrap();
        assert!(matches!(classify(&alarm), Ok(QuotaEvent::Alarms(notices)) if notices.len() == 1));
        let notice: Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/health-quota-threshold.json"
        ))
        .unwrap();
        assert!(
            matches!(classify(&notice), Ok(QuotaEvent::ThresholdNotices(notices)) if notices.len() == 2)
        );
    }
}
