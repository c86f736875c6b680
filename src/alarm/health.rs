//! Service Quotas' own threshold notices: the AWS Health event `AWS_SERVICEQUOTAS_THRESHOLD_BREACH`
//! (source `aws.health`, detail-type `AWS Health Event`, `detail.service` `SERVICEQUOTAS`), sent when
//! Automatic Management sees a quota pass 80 % or 95 %. Each quota is named in `resources` (and in
//! `detail.affectedEntities[].entityValue`) as `Service: <service code> | Quota Name: <name> |
//! Utilization: <pct>%` — by name, not code (Service Quotas user guide, "Service Quotas Automatic
//! Management CloudTrail logs", the example event of 2025-09-12). Each becomes one notice.

use super::notice::{epoch_ms, AlarmNotice, AlarmState, Delivery, NamedQuota, Transition};
use serde::Deserialize;
use serde_json::Value;

pub const SOURCE: &str = "aws.health";
pub const DETAIL_TYPE: &str = "AWS Health Event";
pub const SERVICE: &str = "SERVICEQUOTAS";
pub const THRESHOLD_BREACH: &str = "AWS_SERVICEQUOTAS_THRESHOLD_BREACH";

/// A Health event, read or set aside.
#[derive(Debug, PartialEq)]
pub enum HealthEvent {
    /// One notice per quota the event names.
    Threshold(Vec<AlarmNotice>),
    /// Another service's or type's Health event: nothing for the quota function (why, for the log).
    Other(String),
}

#[derive(Deserialize)]
struct Envelope {
    /// The EventBridge event's id: the same in every delivery of one event.
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    time: Option<String>,
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    resources: Vec<Value>,
    detail: Detail,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Detail {
    #[serde(default)]
    service: String,
    #[serde(default)]
    event_type_code: String,
    #[serde(default)]
    event_arn: Option<String>,
    #[serde(default)]
    event_region: Option<String>,
    /// The account the event is about, in AWS Health's organizational view (received in the
    /// management or delegated administrator account).
    #[serde(default)]
    affected_account: Option<String>,
    #[serde(default)]
    affected_entities: Vec<Value>,
    /// `open`, `closed` or `upcoming` (AWS Health user guide, "AWS Health event schema").
    #[serde(default)]
    status_code: Option<String>,
}

/// Reads a Health event (the whole EventBridge event). `Err` only when it is not shaped as one.
pub fn read_health_event(event: &Value) -> Result<HealthEvent, String> {
    let envelope: Envelope = serde_json::from_value(event.clone()).map_err(|e| e.to_string())?;
    let detail = &envelope.detail;
    if detail.service != SERVICE || detail.event_type_code != THRESHOLD_BREACH {
        return Ok(HealthEvent::Other(format!(
            "AWS Health event {:?} of service {:?}: not a Service Quotas threshold breach",
            detail.event_type_code, detail.service
        )));
    }
    // Whether Service Quotas ever closes a threshold event is not documented; a closed one reports the
    // end of a breach, not a breach, so it raises nothing.
    if detail.status_code.as_deref() == Some("closed") {
        return Ok(HealthEvent::Other(format!(
            "AWS Health event {:?} is closed: the threshold breach it reported is over",
            detail.event_arn.as_deref().unwrap_or("without an ARN")
        )));
    }
    // The same quota is usually named in both lists: each once, in the order first seen.
    let mut entries: Vec<String> = Vec::new();
    let named = envelope.resources.iter().chain(
        detail
            .affected_entities
            .iter()
            .filter_map(|entity| entity.get("entityValue")),
    );
    for entry in named {
        let text = match entry {
            Value::String(s) => s.trim().to_owned(),
            other => other.to_string(),
        };
        if !entries.contains(&text) {
            entries.push(text);
        }
    }
    // `region` is where the event was delivered, `detail.eventRegion` the Region it is about (AWS
    // Health user guide, "AWS Health event schema"): the quota is the latter's.
    let region = detail
        .event_region
        .clone()
        .or_else(|| envelope.region.clone());
    Ok(HealthEvent::Threshold(
        entries
            .into_iter()
            .map(|entry| notice(&envelope, region.clone(), entry))
            .collect(),
    ))
}

fn notice(envelope: &Envelope, region: Option<String>, entry: String) -> AlarmNotice {
    let named = parse_entry(&entry);
    let alarm_name = format!("Service Quotas threshold: {}", named.label());
    let reason = named.reason();
    // One event names each quota once: the event's id (else its Health event ARN) and the entry make
    // one notice's identity, whichever path delivered it.
    let event_id = envelope
        .id
        .as_deref()
        .or(envelope.detail.event_arn.as_deref());
    let transition = event_id.map(|id| Transition {
        id: format!("health:{id}:{entry}"),
        at_ms: envelope.time.as_deref().and_then(epoch_ms),
    });
    AlarmNotice {
        delivery: Delivery::HealthEvent,
        alarm_name,
        alarm_arn: envelope.detail.event_arn.clone(),
        // `account` is the account the event was sent to; in the organizational view the account it
        // is about is `detail.affectedAccount` (same schema).
        account_id: envelope
            .detail
            .affected_account
            .clone()
            .or_else(|| envelope.account.clone()),
        region,
        description: None,
        state: AlarmState::Alarm,
        previous_state: AlarmState::Other,
        reason,
        queries: Vec::new(),
        named_quota: Some(named),
        transition,
    }
}

/// `Service: lambda | Quota Name: Concurrent executions | Utilization: 80.0%`. A quota name may hold
/// any character but ` | `; the utilization is optional.
pub fn parse_entry(entry: &str) -> NamedQuota {
    let unreadable = || NamedQuota::Unreadable {
        entry: entry.to_owned(),
    };
    let mut service_code = None;
    let mut quota_name = None;
    let mut utilization_percent = None;
    for part in entry.split(" | ") {
        let Some((key, value)) = part.split_once(':') else {
            return unreadable();
        };
        let value = value.trim();
        match key.trim() {
            "Service" if !value.is_empty() => service_code = Some(value.to_owned()),
            "Quota Name" if !value.is_empty() => quota_name = Some(value.to_owned()),
            "Utilization" => {
                let Ok(pct) = value.trim_end_matches('%').trim().parse::<f64>() else {
                    return unreadable();
                };
                utilization_percent = Some(pct);
            }
            _ => return unreadable(),
        }
    }
    match (service_code, quota_name) {
        (Some(service_code), Some(quota_name)) => NamedQuota::Named {
            service_code,
            quota_name,
            utilization_percent,
        },
        _ => unreadable(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The example of the Service Quotas user guide, with an affected entity added as Health sends it.
    fn example() -> Value {
        json!({
            "version": "0", "id": "97c1eb9w-0f16-f3d5-b0d6-d6b8d6614315",
            "detail-type": "AWS Health Event", "source": "aws.health", "account": "123456789012",
            "time": "2025-09-12T02:18:36Z", "region": "ca-central-1",
            "resources": ["Service: cloudtrail | Quota Name: Trails per region | Utilization: 80.0%"],
            "detail": {
                "eventArn": "arn:aws:health:ca-central-1::event/SERVICEQUOTAS/AWS_SERVICEQUOTAS_THRESHOLD_BREACH/AWS_SERVICEQUOTAS_THRESHOLD_BREACH-YUL-1757643474686",
                "service": "SERVICEQUOTAS", "eventTypeCode": "AWS_SERVICEQUOTAS_THRESHOLD_BREACH",
                "eventTypeCategory": "accountNotification", "eventScopeCode": "ACCOUNT_SPECIFIC",
                "statusCode": "open", "eventRegion": "ca-central-1",
                "affectedEntities": [
                    {"entityValue": "Service: cloudtrail | Quota Name: Trails per region | Utilization: 80.0%"},
                    {"entityValue": "Service: lambda | Quota Name: Concurrent executions | Utilization: 95.5%"}
                ]
            }
        })
    }

    #[test]
    fn a_closed_event_raises_nothing() {
        let mut closed = example();
        closed["detail"]["statusCode"] = json!("closed");
        assert!(matches!(
            read_health_event(&closed),
            Ok(HealthEvent::Other(why)) if why.contains("closed")
        ));
    }

    #[test]
    fn each_quota_named_once_becomes_a_notice() {
        let HealthEvent::Threshold(notices) = read_health_event(&example()).unwrap() else {
            panic!("a threshold breach");
        };
        assert_eq!(notices.len(), 2);
        assert_eq!(
            notices[0].named_quota,
            Some(NamedQuota::Named {
                service_code: "cloudtrail".into(),
                quota_name: "Trails per region".into(),
                utilization_percent: Some(80.0)
            })
        );
        assert_eq!(
            notices[1].alarm_name,
            "Service Quotas threshold: lambda / Concurrent executions"
        );
        assert_eq!(notices[1].account_id.as_deref(), Some("123456789012"));
        assert_eq!(notices[1].region.as_deref(), Some("ca-central-1"));
        assert_eq!(notices[1].state, AlarmState::Alarm);
        let transition = notices[1].transition.as_ref().unwrap();
        assert_eq!(
            transition.id,
            "health:97c1eb9w-0f16-f3d5-b0d6-d6b8d6614315:Service: lambda | Quota Name: Concurrent executions | Utilization: 95.5%"
        );
        assert_eq!(transition.at_ms, Some(1_757_643_516_000));
        assert_ne!(notices[0].transition, notices[1].transition);
    }

    #[test]
    fn in_the_organizational_view_the_affected_account_and_event_region_are_acted_on() {
        // Received in the management account (`account`) and Region (`region`), about a member
        // account's quota in another Region.
        let mut event = example();
        event["account"] = json!("111111111111");
        event["region"] = json!("us-east-1");
        event["detail"]["affectedAccount"] = json!("222222222222");
        event["detail"]["eventRegion"] = json!("eu-west-1");
        let HealthEvent::Threshold(notices) = read_health_event(&event).unwrap() else {
            panic!("a threshold breach");
        };
        assert!(notices
            .iter()
            .all(|n| n.account_id.as_deref() == Some("222222222222")
                && n.region.as_deref() == Some("eu-west-1")));
        // The example as AWS documents it (one account, `region` = `eventRegion`) reads as before.
        let HealthEvent::Threshold(plain) = read_health_event(&example()).unwrap() else {
            panic!("a threshold breach");
        };
        assert_eq!(plain[0].account_id.as_deref(), Some("123456789012"));
        assert_eq!(plain[0].region.as_deref(), Some("ca-central-1"));
    }

    #[test]
    fn another_health_event_is_set_aside_and_a_bad_entry_is_kept_as_unreadable() {
        let mut other = example();
        other["detail"]["service"] = json!("EC2");
        other["detail"]["eventTypeCode"] = json!("AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED");
        assert!(matches!(
            read_health_event(&other),
            Ok(HealthEvent::Other(_))
        ));
        for bad in [
            "Quota Name: Trails per region",
            "Service: cloudtrail | Trails per region",
            "Service: cloudtrail | Quota Name: x | Utilization: lots",
            "",
        ] {
            assert_eq!(
                parse_entry(bad),
                NamedQuota::Unreadable { entry: bad.into() },
                "{bad:?}"
            );
        }
        assert_eq!(
            parse_entry("Service: ec2 | Quota Name: Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances"),
            NamedQuota::Named {
                service_code: "ec2".into(),
                quota_name: "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances".into(),
                utilization_percent: None
            }
        );
        let mut missing = example();
        missing.as_object_mut().unwrap().remove("detail");
        assert!(read_health_event(&missing).is_err());
    }
}
