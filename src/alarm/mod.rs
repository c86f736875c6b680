//! What an alarm notification says, whichever way it was delivered.

pub mod health;
mod metric_math;
mod notice;
mod parse;

pub use metric_math::usage_metric_of;
pub use notice::{
    epoch_ms, AlarmNotice, AlarmState, Delivery, MetricId, MetricQuery, NamedQuota, Transition,
};
pub use parse::{parse_alarm_event, AlarmEventError};
