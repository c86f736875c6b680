//! Every delivery path of an alarm, read from fixture files.

use selfheal::alarm::{parse_alarm_event, AlarmEventError, AlarmState, Delivery, NamedQuota};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[test]
fn the_three_delivery_paths_read_the_same_alarm() {
    let paths = [
        (
            "alarm-action-lambda-concurrency.json",
            Delivery::AlarmAction,
        ),
        ("sns-lambda-concurrency.json", Delivery::Sns),
        ("eventbridge-lambda-concurrency.json", Delivery::EventBridge),
    ];
    for (file, delivery) in paths {
        let notices = parse_alarm_event(&fixture(file)).unwrap();
        assert_eq!(notices.len(), 1, "{file}");
        let notice = &notices[0];
        assert_eq!(notice.delivery, delivery, "{file}");
        assert_eq!(
            notice.alarm_name, "prod-lambda-concurrent-executions",
            "{file}"
        );
        assert_eq!(notice.state, AlarmState::Alarm, "{file}");
        assert_eq!(notice.previous_state, AlarmState::Ok, "{file}");
        assert_eq!(notice.account_id.as_deref(), Some("123456789012"), "{file}");
        assert_eq!(notice.region.as_deref(), Some("us-east-1"), "{file}");
        assert!(notice.reason.starts_with("Threshold Crossed"), "{file}");
        let usage = notice
            .usage_metric()
            .unwrap_or_else(|| panic!("{file}: no usage metric"));
        assert_eq!(
            (usage.namespace.as_str(), usage.name.as_str()),
            ("AWS/Lambda", "ConcurrentExecutions")
        );
        assert!(usage.dimensions.is_empty(), "{file}");
    }
}

#[test]
fn one_state_change_has_one_identity_by_every_path_and_the_next_another() {
    let identities: Vec<_> = [
        "alarm-action-lambda-concurrency.json",
        "sns-lambda-concurrency.json",
        "eventbridge-lambda-concurrency.json",
    ]
    .iter()
    .map(|file| {
        parse_alarm_event(&fixture(file)).unwrap()[0]
            .transition
            .clone()
    })
    .collect();
    let expected = selfheal::alarm::Transition {
        id: "alarm:arn:aws:cloudwatch:us-east-1:123456789012:alarm:prod-lambda-concurrent-executions:ALARM@1795144365123".into(),
        at_ms: Some(1_795_144_365_123),
    };
    for identity in &identities {
        assert_eq!(identity.as_ref(), Some(&expected));
    }
    // The same alarm's return to OK, and its next ALARM, are other transitions.
    let ok = &parse_alarm_event(&fixture("alarm-action-lambda-concurrency-ok.json")).unwrap()[0];
    assert_ne!(ok.transition.as_ref(), Some(&expected));
    let mut later = fixture("alarm-action-lambda-concurrency.json");
    later["alarmData"]["state"]["timestamp"] = "2026-11-20T04:12:45.123+0000".into();
    let later = &parse_alarm_event(&later).unwrap()[0];
    assert_ne!(later.transition.as_ref(), Some(&expected));
    // An SNS message without StateChangeTime cannot be told from the next one: no identity.
    let mut bare = fixture("sns-lambda-concurrency.json");
    let message = bare["Records"][0]["Sns"]["Message"]
        .as_str()
        .unwrap()
        .replace("\"StateChangeTime\"", "\"NotTheTime\"");
    bare["Records"][0]["Sns"]["Message"] = message.into();
    assert_eq!(parse_alarm_event(&bare).unwrap()[0].transition, None);
}

#[test]
fn aws_times_read_with_or_without_the_offset_colon() {
    use selfheal::alarm::epoch_ms;
    assert_eq!(
        epoch_ms("2026-11-20T03:12:45.123+0000"),
        Some(1_795_144_365_123)
    );
    assert_eq!(
        epoch_ms("2026-11-20T04:12:45.123+0100"),
        Some(1_795_144_365_123)
    );
    assert_eq!(
        epoch_ms("2026-11-20T03:12:45.123Z"),
        Some(1_795_144_365_123)
    );
    assert_eq!(epoch_ms("2025-09-12T02:18:36Z"), Some(1_757_643_516_000));
    for bad in ["", "yesterday", "2026-11-20", "2026-11-20T03:12:45"] {
        assert_eq!(epoch_ms(bad), None, "{bad:?}");
    }
}

#[test]
fn usage_dimensions_are_kept() {
    let notice = &parse_alarm_event(&fixture("alarm-action-ec2-vcpu-usage.json")).unwrap()[0];
    let usage = notice.usage_metric().unwrap();
    assert_eq!(usage.namespace, "AWS/Usage");
    assert_eq!(usage.dimensions["Class"], "Standard/OnDemand");
    assert_eq!(usage.dimensions.len(), 4);
}

#[test]
fn the_runtime_crates_own_samples_parse() {
    // The SNS sample of aws_lambda_events: two records, metric math with MetricStat.
    let sns = include_str!(
        "../fixtures/upstream/example-cloudwatch-alarm-sns-payload-multiple-metrics.json"
    );
    let notices = parse_alarm_event(&serde_json::from_str(sns).unwrap()).unwrap();
    assert_eq!(notices.len(), 2);
    // `e1 = m1*1` has no SERVICE_QUOTA; with one metric among the queries, that metric is the one watched.
    assert_eq!(notices[0].usage_metric().unwrap().name, "NetworkOut");
    let single = include_str!(
        "../fixtures/upstream/example-cloudwatch-alarm-sns-payload-single-metric.json"
    );
    let notice = &parse_alarm_event(&serde_json::from_str(single).unwrap()).unwrap()[0];
    let metric = notice.usage_metric().unwrap();
    assert_eq!(
        (metric.namespace.as_str(), metric.name.as_str()),
        ("AWS/EC2", "NetworkOut")
    );
    assert_eq!(metric.dimensions["InstanceId"], "TestInstance");
}

#[test]
fn other_events_and_broken_ones_are_refused_clearly() {
    let err = parse_alarm_event(&fixture("eventbridge-ec2-state-change.json")).unwrap_err();
    assert_eq!(
        err,
        AlarmEventError::NotAnAlarm(
            "EventBridge event of type \"EC2 Instance State-change Notification\"".into()
        )
    );
    let err = parse_alarm_event(&serde_json::json!({"alarmData": {"alarmName": 42}})).unwrap_err();
    assert!(
        matches!(
            err,
            AlarmEventError::Malformed {
                delivery: "alarm action",
                ..
            }
        ),
        "{err}"
    );
    assert!(matches!(
        parse_alarm_event(&serde_json::json!([1, 2])),
        Err(AlarmEventError::NotAnAlarm(_))
    ));
    assert!(matches!(
        parse_alarm_event(&serde_json::json!({"hello": "world"})),
        Err(AlarmEventError::NotAnAlarm(_))
    ));
    let not_alarm_sns = serde_json::json!({"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": "arn:aws:sns:us-east-1:1:t:s",
        "Sns": {"Type": "Notification", "MessageId": "m", "TopicArn": "arn:aws:sns:us-east-1:1:t",
                "Timestamp": "2026-11-20T03:12:45.180Z", "SignatureVersion": "1", "Signature": "s",
                "SigningCertUrl": "u", "UnsubscribeUrl": "u", "Message": "hello", "MessageAttributes": {}}}]});
    assert!(matches!(
        parse_alarm_event(&not_alarm_sns),
        Err(AlarmEventError::NotAnAlarm(_))
    ));
}

#[test]
fn a_huge_hostile_description_still_parses() {
    let mut event = fixture("alarm-action-lambda-concurrency.json");
    let description = format!("\u{0}\u{1b}[31m\r\n{}", "x".repeat(10 * 1024));
    event["alarmData"]["configuration"]["description"] = Value::String(description.clone());
    let notice = &parse_alarm_event(&event).unwrap()[0];
    assert_eq!(notice.description.as_deref(), Some(description.as_str()));
}

/// An SNS notification whose message is `inner`, as an EventBridge rule publishing to a topic sends it.
fn through_sns(inner: &Value) -> Value {
    serde_json::json!({"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": "arn:aws:sns:us-east-1:1:t:s",
        "Sns": {"Type": "Notification", "MessageId": "m", "TopicArn": "arn:aws:sns:us-east-1:1:t",
                "Timestamp": "2026-11-30T02:18:40.180Z", "SignatureVersion": "1", "Signature": "s",
                "SigningCertUrl": "u", "UnsubscribeUrl": "u", "Message": inner.to_string(),
                "MessageAttributes": {}}}]})
}

#[test]
fn a_service_quotas_threshold_notice_reads_direct_or_through_sns() {
    let event = fixture("health-quota-threshold.json");
    for (how, notices) in [
        ("direct", parse_alarm_event(&event).unwrap()),
        ("SNS", parse_alarm_event(&through_sns(&event)).unwrap()),
    ] {
        assert_eq!(notices.len(), 2, "{how}");
        assert!(
            notices.iter().all(|n| n.delivery == Delivery::HealthEvent),
            "{how}"
        );
        assert_eq!(
            notices[0].named_quota,
            Some(NamedQuota::Named {
                service_code: "lambda".into(),
                quota_name: "Concurrent executions".into(),
                utilization_percent: Some(95.0)
            }),
            "{how}"
        );
        assert_eq!(notices[1].account_id.as_deref(), Some("123456789012"));
        assert_eq!(notices[1].region.as_deref(), Some("us-east-1"));
    }
}

#[test]
fn another_health_event_is_ignored_and_an_empty_one_refused() {
    let mut other = fixture("health-quota-threshold.json");
    other["detail"]["service"] = serde_json::json!("EC2");
    other["detail"]["eventTypeCode"] = serde_json::json!("AWS_EC2_OPERATIONAL_ISSUE");
    for event in [other.clone(), through_sns(&other)] {
        assert!(
            matches!(parse_alarm_event(&event), Err(AlarmEventError::Ignored(_))),
            "{event}"
        );
    }
    let mut empty = fixture("health-quota-threshold.json");
    empty["resources"] = serde_json::json!([]);
    empty["detail"]["affectedEntities"] = serde_json::json!([]);
    assert!(matches!(
        parse_alarm_event(&empty),
        Err(AlarmEventError::Malformed {
            delivery: "AWS Health",
            ..
        })
    ));
}
