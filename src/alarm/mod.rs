//! What an alarm notification says, whichever way it was delivered.

pub mod health;
mod metric_math;
mod parse;

pub use metric_math::usage_metric_of;
pub use parse::{parse_alarm_event, AlarmEventError};

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

impl AlarmNotice {
    /// The usage metric behind the alarm, if the alarm names one.
    pub fn usage_metric(&self) -> Option<&MetricId> {
        usage_metric_of(&self.queries)
    }
}
