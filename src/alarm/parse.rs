//! Reading the shapes in which an alarm reaches a function: the three of a CloudWatch alarm, and
//! Service Quotas' threshold notice (an AWS Health event, `health.rs`), direct or through SNS.
//!
//! The envelopes come from `aws_lambda_events`. The alarm's configuration and the SNS-wrapped alarm
//! message are read with the tolerant records below: the crate's typed versions require a
//! `metricStat` on every query (so they reject metric-math alarms, our main case) and a non-null
//! `AlarmDescription` (CloudWatch sends `null` when an alarm has none).

use super::health::{read_health_event, HealthEvent, DETAIL_TYPE as HEALTH_EVENT};
use super::notice::{
    epoch_ms, AlarmNotice, AlarmState, Delivery, MetricId, MetricQuery, Transition,
};
use aws_lambda_events::cloudwatch_alarms::CloudWatchAlarm;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::sns::SnsEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

const STATE_CHANGE: &str = "CloudWatch Alarm State Change";

/// Why an event could not be read as an alarm notification.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AlarmEventError {
    #[error("not a CloudWatch alarm event: {0}")]
    NotAnAlarm(String),
    #[error("malformed {delivery} alarm event: {detail}")]
    Malformed {
        delivery: &'static str,
        detail: String,
    },
    /// An event the quota function is subscribed to but has nothing to do with (another AWS Health
    /// event): logged, not an error.
    #[error("ignored: {0}")]
    Ignored(String),
}

/// Reads an alarm-action payload, an SNS notification wrapping alarms, or an EventBridge
/// `CloudWatch Alarm State Change` event. An SNS event may carry several alarms.
pub fn parse_alarm_event(event: &Value) -> Result<Vec<AlarmNotice>, AlarmEventError> {
    let Some(object) = event.as_object() else {
        return Err(AlarmEventError::NotAnAlarm(format!(
            "expected a JSON object, got {}",
            json_kind(event)
        )));
    };
    if object.contains_key("alarmData") {
        return from_alarm_action(event).map(|notice| vec![notice]);
    }
    if object.contains_key("Records") {
        return from_sns(event);
    }
    if let Some(detail_type) = object.get("detail-type") {
        return match detail_type.as_str() {
            Some(STATE_CHANGE) => from_eventbridge(event).map(|notice| vec![notice]),
            Some(HEALTH_EVENT) => from_health(event),
            other => Err(AlarmEventError::NotAnAlarm(format!(
                "EventBridge event of type {:?}",
                other.unwrap_or("(not a string)")
            ))),
        };
    }
    let mut keys: Vec<&str> = object.keys().map(String::as_str).take(5).collect();
    keys.sort_unstable();
    Err(AlarmEventError::NotAnAlarm(format!(
        "no alarmData, Records or detail-type (keys: {})",
        keys.join(", ")
    )))
}

fn malformed(delivery: &'static str) -> impl Fn(serde_json::Error) -> AlarmEventError {
    move |e| AlarmEventError::Malformed {
        delivery,
        detail: e.to_string(),
    }
}

fn from_alarm_action(event: &Value) -> Result<AlarmNotice, AlarmEventError> {
    let alarm: CloudWatchAlarm<Value, Value> =
        serde_json::from_value(event.clone()).map_err(malformed("alarm action"))?;
    let data = alarm.alarm_data;
    let state_name =
        |state: &Option<aws_lambda_events::cloudwatch_alarms::CloudWatchAlarmState<Value>>| {
            state
                .as_ref()
                .and_then(|s| serde_json::to_value(&s.value).ok())
                .and_then(|v| v.as_str().map(AlarmState::from_name))
        };
    let state = state_name(&data.state).ok_or_else(|| AlarmEventError::Malformed {
        delivery: "alarm action",
        detail: "alarmData.state.value is missing".into(),
    })?;
    let configuration: AlarmConfiguration =
        serde_json::from_value(data.configuration).map_err(malformed("alarm action"))?;
    let region = alarm
        .region
        .or_else(|| arn_part(alarm.alarm_arn.as_deref(), 3));
    let account_id = alarm
        .account_id
        .or_else(|| arn_part(alarm.alarm_arn.as_deref(), 4));
    // `alarmData.state.timestamp`: when the alarm entered this state (CloudWatch user guide, "Lambda
    // alarm action payload").
    let transition = Transition::of_alarm(
        alarm.alarm_arn.as_deref(),
        (account_id.as_deref(), region.as_deref(), &data.alarm_name),
        state.name(),
        data.state.as_ref().map(|s| s.timestamp.timestamp_millis()),
    );
    Ok(AlarmNotice {
        delivery: Delivery::AlarmAction,
        region,
        account_id,
        alarm_arn: alarm.alarm_arn,
        alarm_name: data.alarm_name,
        description: configuration.description,
        state,
        previous_state: state_name(&data.previous_state).unwrap_or(AlarmState::Other),
        reason: data.state.map(|s| s.reason).unwrap_or_default(),
        queries: configuration.metrics.into_iter().map(Into::into).collect(),
        named_quota: None,
        transition,
    })
}

fn from_eventbridge(event: &Value) -> Result<AlarmNotice, AlarmEventError> {
    let envelope: EventBridgeEvent<AlarmDetail> =
        serde_json::from_value(event.clone()).map_err(malformed("EventBridge"))?;
    let detail = envelope.detail;
    let alarm_arn = envelope.resources.and_then(|r| r.into_iter().next());
    let state = AlarmState::from_name(&detail.state.value);
    // `detail.state.timestamp`: when the alarm entered this state (CloudWatch user guide, "Alarm
    // events and EventBridge"), the same instant the alarm action and SNS carry.
    let transition = Transition::of_alarm(
        alarm_arn.as_deref(),
        (
            envelope.account.as_deref(),
            envelope.region.as_deref(),
            &detail.alarm_name,
        ),
        state.name(),
        detail.state.timestamp.as_deref().and_then(epoch_ms),
    );
    Ok(AlarmNotice {
        delivery: Delivery::EventBridge,
        alarm_name: detail.alarm_name,
        region: envelope.region,
        account_id: envelope.account,
        alarm_arn,
        description: detail.configuration.description,
        state,
        previous_state: detail
            .previous_state
            .map_or(AlarmState::Other, |s| AlarmState::from_name(&s.value)),
        reason: detail.state.reason,
        queries: detail
            .configuration
            .metrics
            .into_iter()
            .map(Into::into)
            .collect(),
        named_quota: None,
        transition,
    })
}

fn from_health(event: &Value) -> Result<Vec<AlarmNotice>, AlarmEventError> {
    match read_health_event(event) {
        Ok(HealthEvent::Threshold(notices)) if notices.is_empty() => {
            Err(AlarmEventError::Malformed {
                delivery: "AWS Health",
                detail: "the threshold event names no quota".into(),
            })
        }
        Ok(HealthEvent::Threshold(notices)) => Ok(notices),
        Ok(HealthEvent::Other(why)) => Err(AlarmEventError::Ignored(why)),
        Err(detail) => Err(AlarmEventError::Malformed {
            delivery: "AWS Health",
            detail,
        }),
    }
}

fn from_sns(event: &Value) -> Result<Vec<AlarmNotice>, AlarmEventError> {
    let envelope: SnsEvent = serde_json::from_value(event.clone()).map_err(malformed("SNS"))?;
    if envelope.records.is_empty() {
        return Err(AlarmEventError::Malformed {
            delivery: "SNS",
            detail: "Records is empty".into(),
        });
    }
    envelope
        .records
        .iter()
        .map(|record| {
            // An EventBridge rule may publish a Health event to a topic: the message is the event.
            if let Ok(inner) = serde_json::from_str::<Value>(&record.sns.message) {
                if inner.get("detail-type").and_then(Value::as_str) == Some(HEALTH_EVENT) {
                    return from_health(&inner);
                }
            }
            let message: SnsAlarmMessage =
                serde_json::from_str(&record.sns.message).map_err(|e| {
                    AlarmEventError::NotAnAlarm(format!(
                        "SNS message is not a CloudWatch alarm: {e}"
                    ))
                })?;
            Ok(vec![message.into_notice()])
        })
        .collect::<Result<Vec<Vec<AlarmNotice>>, _>>()
        .map(|notices| notices.into_iter().flatten().collect())
}

fn arn_part(arn: Option<&str>, index: usize) -> Option<String> {
    arn?.split(':')
        .nth(index)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct AlarmDetail {
    alarm_name: String,
    state: StateRecord,
    #[serde(default)]
    previous_state: Option<StateRecord>,
    #[serde(default)]
    configuration: AlarmConfiguration,
}

#[derive(Deserialize, Serialize)]
struct StateRecord {
    value: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    timestamp: Option<String>,
}

#[derive(Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct AlarmConfiguration {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    metrics: Vec<QueryRecord>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct QueryRecord {
    id: String,
    #[serde(default)]
    expression: Option<String>,
    #[serde(default)]
    metric_stat: Option<MetricStatRecord>,
}

#[derive(Deserialize, Serialize)]
struct MetricStatRecord {
    metric: MetricRecord,
}

#[derive(Deserialize, Serialize)]
struct MetricRecord {
    #[serde(default)]
    namespace: Option<String>,
    name: String,
    #[serde(default)]
    dimensions: BTreeMap<String, String>,
}

impl From<QueryRecord> for MetricQuery {
    fn from(q: QueryRecord) -> Self {
        MetricQuery {
            id: q.id,
            expression: q.expression,
            metric: q.metric_stat.map(|s| MetricId {
                namespace: s.metric.namespace.unwrap_or_default(),
                name: s.metric.name,
                dimensions: s.metric.dimensions,
            }),
        }
    }
}

/// The classic alarm notification CloudWatch publishes to SNS.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SnsAlarmMessage {
    alarm_name: String,
    #[serde(default)]
    alarm_description: Option<String>,
    #[serde(default, rename = "AWSAccountId")]
    aws_account_id: Option<String>,
    new_state_value: String,
    #[serde(default)]
    new_state_reason: String,
    #[serde(default)]
    old_state_value: Option<String>,
    /// When the alarm entered its new state (`2015-06-03T17:43:27.123+0000`).
    #[serde(default)]
    state_change_time: Option<String>,
    #[serde(default)]
    alarm_arn: Option<String>,
    #[serde(default)]
    trigger: Option<SnsTrigger>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct SnsTrigger {
    #[serde(default)]
    metric_name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    dimensions: Option<Vec<SnsDimension>>,
    #[serde(default)]
    metrics: Option<Vec<SnsQuery>>,
}

#[derive(Deserialize)]
struct SnsDimension {
    name: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SnsQuery {
    id: String,
    #[serde(default)]
    expression: Option<String>,
    #[serde(default)]
    metric_stat: Option<SnsMetricStat>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SnsMetricStat {
    metric: SnsMetric,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SnsMetric {
    #[serde(default)]
    dimensions: Option<Vec<SnsDimension>>,
    metric_name: String,
    #[serde(default)]
    namespace: Option<String>,
}

fn dimension_map(dimensions: Option<Vec<SnsDimension>>) -> BTreeMap<String, String> {
    dimensions
        .unwrap_or_default()
        .into_iter()
        .map(|d| (d.name, d.value))
        .collect()
}

impl SnsAlarmMessage {
    fn into_notice(self) -> AlarmNotice {
        let trigger = self.trigger.unwrap_or_default();
        let mut queries: Vec<MetricQuery> = trigger
            .metrics
            .unwrap_or_default()
            .into_iter()
            .map(|q| MetricQuery {
                id: q.id,
                expression: q.expression,
                metric: q.metric_stat.map(|s| MetricId {
                    namespace: s.metric.namespace.unwrap_or_default(),
                    name: s.metric.metric_name,
                    dimensions: dimension_map(s.metric.dimensions),
                }),
            })
            .collect();
        if let (true, Some(name)) = (queries.is_empty(), trigger.metric_name) {
            queries.push(MetricQuery {
                id: "m1".into(),
                expression: None,
                metric: Some(MetricId {
                    namespace: trigger.namespace.unwrap_or_default(),
                    name,
                    dimensions: dimension_map(trigger.dimensions),
                }),
            });
        }
        let region = arn_part(self.alarm_arn.as_deref(), 3);
        let account_id = self
            .aws_account_id
            .or_else(|| arn_part(self.alarm_arn.as_deref(), 4));
        let state = AlarmState::from_name(&self.new_state_value);
        let transition = Transition::of_alarm(
            self.alarm_arn.as_deref(),
            (account_id.as_deref(), region.as_deref(), &self.alarm_name),
            state.name(),
            self.state_change_time.as_deref().and_then(epoch_ms),
        );
        AlarmNotice {
            delivery: Delivery::Sns,
            region,
            account_id,
            alarm_arn: self.alarm_arn,
            alarm_name: self.alarm_name,
            description: self.alarm_description,
            state,
            previous_state: self
                .old_state_value
                .as_deref()
                .map_or(AlarmState::Other, AlarmState::from_name),
            reason: self.new_state_reason,
            queries,
            named_quota: None,
            transition,
        }
    }
}
