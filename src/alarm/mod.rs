//! What an alarm notification says, whichever way it was delivered.

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
}

impl AlarmNotice {
    /// The usage metric behind the alarm, if the alarm names one.
    pub fn usage_metric(&self) -> Option<&MetricId> {
        usage_metric_of(&self.queries)
    }
}
