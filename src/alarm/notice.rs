//! An alarm state change, normalised from any delivery path: the values every reader of an alarm
//! shares (`parse.rs` and `health.rs` build them, the quota function reads them).

use serde::Serialize;
use std::collections::BTreeMap;

/// The state an alarm moved into or out of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlarmState {
    Ok,
    Alarm,
    InsufficientData,
    /// A state name CloudWatch may add later; kept so the event is not rejected.
    Other,
}

impl AlarmState {
    pub fn from_name(name: &str) -> Self {
        match name {
            "OK" => Self::Ok,
            "ALARM" => Self::Alarm,
            "INSUFFICIENT_DATA" => Self::InsufficientData,
            _ => Self::Other,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Alarm => "ALARM",
            Self::InsufficientData => "INSUFFICIENT_DATA",
            Self::Other => "OTHER",
        }
    }
}

/// A metric as CloudWatch names it: namespace, name and dimensions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Default)]
pub struct MetricId {
    pub namespace: String,
    pub name: String,
    pub dimensions: BTreeMap<String, String>,
}

/// One query of an alarm: a metric (`metric`) or a metric-math expression (`expression`).
#[derive(Clone, Debug, PartialEq, Serialize, Default)]
pub struct MetricQuery {
    pub id: String,
    pub metric: Option<MetricId>,
    pub expression: Option<String>,
}

/// How the notification reached us.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    AlarmAction,
    Sns,
    EventBridge,
    /// Service Quotas' threshold notice, an AWS Health event (direct or through SNS).
    HealthEvent,
    /// A quota of Service Quotas' utilization report, found by `quota sweep`.
    UtilizationReport,
}

/// A quota named by Service Quotas' own threshold notice (`health.rs`): by name, not code.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NamedQuota {
    Named {
        service_code: String,
        quota_name: String,
        utilization_percent: Option<f64>,
    },
    /// An entry that does not read as `Service: ... | Quota Name: ... | Utilization: ...%`.
    Unreadable { entry: String },
    /// A quota of the utilization report (`quota sweep`), named by its codes.
    Coded {
        service_code: String,
        quota_code: String,
        utilization_percent: f64,
    },
}

/// An alarm state change, normalised from any of the three delivery paths.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlarmNotice {
    pub delivery: Delivery,
    pub alarm_name: String,
    pub alarm_arn: Option<String>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub description: Option<String>,
    pub state: AlarmState,
    pub previous_state: AlarmState,
    pub reason: String,
    pub queries: Vec<MetricQuery>,
    /// The quota a Service Quotas threshold notice names; `None` for a CloudWatch alarm.
    pub named_quota: Option<NamedQuota>,
    /// Which one state change (or notice, or report row) this is; `None` when the event does not say.
    pub transition: Option<Transition>,
}

/// One input's own identity. AWS delivers alarm actions, SNS messages and EventBridge events at least
/// once, so the same state change can arrive several times, by several paths at once: its identity is
/// what lets the quota function act on it once (`crate::ledger::Claims`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Transition {
    /// `alarm:<alarm ARN>:<state>@<ms>` for a CloudWatch alarm (the same by all three delivery
    /// paths); `health:<event id>:<entry>` for a threshold notice; `sweep:<report id>:<service>/<quota>`
    /// for a row of the utilization report.
    pub id: String,
    /// When the alarm changed state, Service Quotas sent its notice, or the report was generated:
    /// milliseconds since the epoch. A quota raised after it was raised for this episode.
    pub at_ms: Option<i64>,
}

impl Transition {
    /// A CloudWatch alarm's state change: the alarm (its ARN, else account, Region and name), the
    /// state it entered and when. `None` without a timestamp: one transition could not be told from
    /// the next.
    pub fn of_alarm(
        alarm_arn: Option<&str>,
        scope: (Option<&str>, Option<&str>, &str),
        state: &str,
        at_ms: Option<i64>,
    ) -> Option<Transition> {
        let at_ms = at_ms?;
        let alarm = match alarm_arn {
            Some(arn) => arn.to_owned(),
            None => format!(
                "{}:{}:{}",
                scope.0.unwrap_or("-"),
                scope.1.unwrap_or("-"),
                scope.2
            ),
        };
        Some(Transition {
            id: format!("alarm:{alarm}:{state}@{at_ms}"),
            at_ms: Some(at_ms),
        })
    }
}

/// Milliseconds since the epoch of an ISO 8601 time as AWS writes it in these events: RFC 3339
/// (`2025-09-12T02:18:36Z`) or CloudWatch's offset without a colon (`2026-11-20T03:12:45.123+0000`,
/// the alarm-action payload's `state.timestamp` and the SNS message's `StateChangeTime`).
pub fn epoch_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    let with_colon;
    let rfc3339 = match text.len().checked_sub(5).map(|i| text.split_at(i)) {
        Some((head, offset))
            if (offset.starts_with('+') || offset.starts_with('-'))
                && offset[1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            with_colon = format!("{head}{}:{}", &offset[..3], &offset[3..]);
            with_colon.as_str()
        }
        _ => text,
    };
    // chrono, which the event crate already links for the same timestamps: jiff's parser would be
    // linked into the quota function for this alone.
    let at = chrono::DateTime::parse_from_rfc3339(rfc3339).ok()?;
    Some(at.timestamp_millis())
}

impl NamedQuota {
    /// `service / name`, `service / code`, or the unreadable entry itself.
    pub fn label(&self) -> String {
        match self {
            NamedQuota::Named {
                service_code,
                quota_name,
                ..
            } => format!("{service_code} / {quota_name}"),
            NamedQuota::Coded {
                service_code,
                quota_code,
                ..
            } => format!("{service_code} / {quota_code}"),
            NamedQuota::Unreadable { entry } => entry.clone(),
        }
    }

    /// What Service Quotas reported, as the alarm's reason.
    pub fn reason(&self) -> String {
        match self {
            NamedQuota::Named {
                utilization_percent: Some(pct),
                ..
            }
            | NamedQuota::Coded {
                utilization_percent: pct,
                ..
            } => format!("Service Quotas reports the quota {pct}% used"),
            NamedQuota::Named { .. } => {
                "Service Quotas reports the quota past its threshold".into()
            }
            NamedQuota::Unreadable { entry } => format!("unreadable quota entry {entry:?}"),
        }
    }
}
