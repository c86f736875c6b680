//! Every shape of dead letter against the sandbox, through the real SDK clients: Lambda on-failure
//! records, EventBridge rule-target dead letters, Custom Event Bus dead-letter records, messages too large for one request, queues named in
//! another account or Region, and a run that goes on past its deadline.

use crate::replay_sandbox::{bodies, now_ms, Sandbox};
use selfheal::replay::{ReplayError, ReplayFunction, ReplayRequest, ReplaySettings, ReplaySummary};
use selfheal::rules::RuleSet;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const REGION: &str = "us-east-1";

fn settings() -> ReplaySettings {
    ReplaySettings {
        region: Some(REGION.into()),
        ..ReplaySettings::default()
    }
}

/// An on-failure invocation record, shaped as the Lambda developer guide shows one.
fn record(function_arn: &str, condition: &str, payload: Option<&Value>) -> String {
    let mut record = json!({
        "version": "1.0",
        "timestamp": "2026-11-30T00:00:00.000Z",
        "requestContext": {
            "requestId": "e4b46cbf-b738-4f4b-8880-a18cdf61200e",
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": 3
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": "boom", "errorType": "OrderRejected"}
    });
    if let Some(payload) = payload {
        record["requestPayload"] = payload.clone();
    }
    record.to_string()
}

async fn replay(s: &Sandbox, rules: &str, request: Value) -> Result<ReplaySummary, ReplayError> {
    s.replayer_with(rules, settings())
        .replay(&ReplayRequest::parse(&request).unwrap(), None, now_ms)
        .await
}

#[tokio::test]
async fn an_on_failure_queue_replays_the_original_events_into_its_function() {
    let s = Sandbox::new().await;
    s.function("billing-worker").await;
    s.function("intruder").await;
    let dlq = s.queue("billing-failures", &[]).await;
    let own = format!(
        "arn:aws:lambda:{REGION}:{}:function:billing-worker:$LATEST",
        s.account.id
    );
    // Payloads whose key order and spacing a re-serialisation would change.
    let payloads: Vec<String> = (0..12)
        .map(|i| format!(r#"{{"zeta": {i}, "alpha": "order-{i}",  "n": [1, 2]}}"#))
        .collect();
    let mut messages: Vec<String> = payloads
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let condition = if i < 4 {
                "EventAgeExceeded"
            } else {
                "RetriesExhausted"
            };
            let payload: Value = serde_json::from_str(p).unwrap();
            // The record carries the payload as JSON; what is replayed is its text as Lambda wrote it.
            record(&own, condition, Some(&payload)).replace(&payload.to_string(), p)
        })
        .collect();
    let intruder = format!("arn:aws:lambda:{REGION}:{}:function:intruder", s.account.id);
    messages.push(record(
        &intruder,
        "RetriesExhausted",
        Some(&json!({"steer": "elsewhere"})),
    ));
    messages.push(record(&own, "RetriesExhausted", None));
    let other_region = own.replace(REGION, "eu-west-1");
    messages.push(record(
        &other_region,
        "RetriesExhausted",
        Some(&json!({"n": 1})),
    ));
    s.put(&dlq, &messages, &[], None).await;
    let rules = "[[dlq]]\nname = \"billing\"\nqueue = \"billing-failures\"\nfunction = \"billing-worker\"\n";

    let dry = replay(
        &s,
        rules,
        json!({"queue": "billing-failures", "dryRun": true, "filter": {"errorCode": "EventAgeExceeded"}}),
    )
    .await
    .unwrap();
    assert_eq!((dry.replayed, dry.skipped_by_filter), (4, 11), "{dry:#?}");
    assert_eq!(dry.preview[0].shape, "onFailureRecord");
    assert_eq!(dry.preview[0].target, "function:billing-worker");
    assert!(
        s.invocations("billing-worker").await.is_empty(),
        "a dry run sends nothing"
    );

    let summary = replay(&s, rules, json!({"queue": "billing-failures"}))
        .await
        .unwrap();
    assert_eq!((summary.replayed, summary.failed), (12, 3), "{summary:#?}");
    assert_eq!(
        summary.shapes,
        BTreeMap::from([("onFailureRecord".to_owned(), 15)])
    );
    assert_eq!(
        summary.failure_reasons,
        BTreeMap::from([
            ("RecordWithoutRequestPayload".to_owned(), 1),
            ("TargetInOtherAccountOrRegion".to_owned(), 1),
            ("TargetNotAllowed".to_owned(), 1),
        ])
    );
    assert_eq!(
        summary.error_codes["EventAgeExceeded / OrderRejected / Unhandled"],
        4
    );
    assert_eq!(summary.remaining, Some(3), "what failed stays in the DLQ");
    let mut got: Vec<String> = s
        .invocations("billing-worker")
        .await
        .iter()
        .map(|i| i["payload"].as_str().unwrap().to_owned())
        .collect();
    got.sort();
    let mut want = payloads.clone();
    want.sort();
    assert_eq!(got, want, "each original event, byte for byte, once");
    assert!(
        s.invocations("intruder").await.is_empty(),
        "a record steers nothing"
    );
}

#[tokio::test]
async fn an_eventbridge_dlq_goes_back_to_each_allowed_target_and_nowhere_else() {
    let s = Sandbox::new().await;
    s.function("audit-fn").await;
    let audit_queue = s.queue("audit-queue", &[]).await;
    let dlq = s.queue("events-dlq", &[]).await;
    let account = &s.account.id;
    let rule_arn = format!("arn:aws:events:{REGION}:{account}:rule/audit");
    let sent = |target: String, code: &'static str| {
        let rule_arn = rule_arn.clone();
        move || {
            vec![
                ("RULE_ARN", "String", rule_arn.clone()),
                ("TARGET_ARN", "String", target.clone()),
                ("ERROR_CODE", "String", code.to_owned()),
                ("ERROR_MESSAGE", "String", "target failed".to_owned()),
            ]
        }
    };
    let cases = [
        (
            format!("arn:aws:lambda:{REGION}:{account}:function:audit-fn"),
            3,
        ),
        (format!("arn:aws:sqs:{REGION}:{account}:audit-queue"), 3),
        (format!("arn:aws:sns:{REGION}:{account}:audit-topic"), 1),
        (
            format!("arn:aws:lambda:{REGION}:{account}:function:payroll"),
            1,
        ),
        (
            format!("arn:aws:lambda:{REGION}:210987654321:function:audit-fn"),
            1,
        ),
    ];
    for (target, count) in &cases {
        let attributes = sent(target.clone(), "ERROR_FROM_TARGET")();
        let borrowed: Vec<(&str, &str, &str)> = attributes
            .iter()
            .map(|(n, t, v)| (*n, *t, v.as_str()))
            .collect();
        s.put(
            &dlq,
            &bodies(target.rsplit(':').next().unwrap(), *count),
            &borrowed,
            None,
        )
        .await;
    }
    let rules = "[[dlq]]\nname = \"events\"\nqueue = \"events-dlq\"\n\
                 allow_functions = [\"audit-fn\"]\nallow_queues = [\"audit-queue\"]\n";
    let summary = replay(&s, rules, json!({"queue": "events-dlq"}))
        .await
        .unwrap();
    assert_eq!(summary.target, "named in messages");
    assert_eq!((summary.replayed, summary.failed), (6, 3), "{summary:#?}");
    assert_eq!(
        summary.targets,
        BTreeMap::from([
            ("function:audit-fn".to_owned(), 3),
            ("queue:audit-queue".to_owned(), 3)
        ])
    );
    assert_eq!(
        summary.failure_reasons,
        BTreeMap::from([
            ("TargetInOtherAccountOrRegion".to_owned(), 1),
            ("TargetNotAllowed".to_owned(), 1),
            ("TargetNotReplayable".to_owned(), 1),
        ])
    );
    assert_eq!(summary.error_codes["ERROR_FROM_TARGET"], 9);
    assert_eq!(s.invocations("audit-fn").await.len(), 3);
    let arrived = s.drain(&audit_queue).await;
    assert_eq!(arrived.len(), 3);
    for message in &arrived {
        let attributes = message.message_attributes().unwrap();
        assert!(
            !attributes.contains_key("RULE_ARN") && !attributes.contains_key("ERROR_CODE"),
            "EventBridge's dead-letter attributes are not the event's: {attributes:?}"
        );
    }
    assert_eq!(s.depth(&dlq).await, 3, "what may not go stays");
    assert!(s.invocations("payroll").await.is_empty());
}

/// A Custom Event Bus subscriber's dead-letter record, as the EventBridge user guide shows one ("Retry
/// policies and dead-letter queues"): it names two failed events and carries neither.
fn custom_bus_record(account: &str) -> String {
    json!({
        "version": "1.0",
        "busArn": format!("arn:aws:events:{REGION}:{account}:event-busv2/orders/EXAMPLE1234567890abcdef"),
        "subscriberArn": format!("arn:aws:events:{REGION}:{account}:subscriber/large-orders/EXAMPLEabcdef1234567890"),
        "targetArn": format!("arn:aws:sqs:{REGION}:{account}:large-orders"),
        "errorCode": "ACCESS_DENIED",
        "errorMessage": "The delivery role is not authorized to perform sqs:SendMessage on the target.",
        "exhaustedRetryCondition": "MaximumEventAgeInSeconds",
        "retryAttempts": 4,
        "failedMessages": [
            {"eventId": "a1b2c3d4", "eventGroupId": "order-1001", "deduplicationId": null,
             "timestamp": "2026-09-16T18:40:12Z", "targetRequestId": "r1"},
            {"eventId": "e5f6a7b8", "eventGroupId": "order-1002", "deduplicationId": null,
             "timestamp": "2026-09-16T18:40:12Z", "targetRequestId": "r2"}
        ]
    })
    .to_string()
}

#[tokio::test]
async fn a_custom_bus_record_is_not_delivered_as_if_it_were_the_event() {
    let s = Sandbox::new().await;
    let target = s.queue("large-orders", &[]).await;
    let dlq = s.queue("large-orders-failures", &[]).await;
    let mut messages = bodies("order", 2);
    messages.push(custom_bus_record(&s.account.id));
    s.put(&dlq, &messages, &[], None).await;
    let rules = "[[dlq]]\nname = \"large-orders\"\nqueue = \"large-orders-failures\"\ntarget_queue = \"large-orders\"\n";
    let summary = replay(&s, rules, json!({"queue": "large-orders-failures"}))
        .await
        .unwrap();
    assert_eq!((summary.replayed, summary.failed), (2, 1), "{summary:#?}");
    assert_eq!(
        summary.failure_reasons,
        BTreeMap::from([("CustomBusRecordWithoutEvent".to_owned(), 1)])
    );
    assert_eq!(summary.shapes["customBusRecord"], 1);
    assert_eq!(summary.error_codes["ACCESS_DENIED"], 1);
    let arrived = s.drain(&target).await;
    assert_eq!(arrived.len(), 2, "only the events");
    assert!(arrived
        .iter()
        .all(|m| !m.body().unwrap_or_default().contains("failedMessages")));
    assert_eq!(s.depth(&dlq).await, 1, "the record stays for the operator");
}

#[tokio::test]
async fn ten_messages_of_200_kb_all_arrive_and_one_too_large_stays() {
    let s = Sandbox::new().await;
    let (source, dlq) = s.source_with_dlq("bulk", "bulk-dlq", false).await;
    let big: Vec<String> = (0..10)
        .map(|i| format!("{{\"n\": {i}, \"pad\": \"{}\"}}", "x".repeat(200 * 1024)))
        .collect();
    // Seeded one by one: ten of them do not fit one request, which is the point.
    for body in &big {
        s.put(
            &dlq,
            std::slice::from_ref(body),
            &[("tenant", "String", "acme")],
            None,
        )
        .await;
    }
    // 1 MiB with its attribute: the replay count selfheal adds would take it over SQS's maximum.
    let tenant_bytes = "tenant".len() + "String".len() + "acme".len();
    let full = "y".repeat(1_048_576 - tenant_bytes);
    s.put(&dlq, &[full], &[("tenant", "String", "acme")], None)
        .await;
    let rules = "[[dlq]]\nname = \"bulk\"\nqueue = \"bulk-dlq\"\n";
    let summary = replay(&s, rules, json!({"queue": "bulk-dlq"}))
        .await
        .unwrap();
    assert_eq!((summary.replayed, summary.failed), (10, 1), "{summary:#?}");
    assert_eq!(summary.failure_reasons["MessageTooLarge"], 1);
    let mut arrived: Vec<String> = s
        .drain(&source)
        .await
        .iter()
        .map(|m| m.body().unwrap().to_owned())
        .collect();
    arrived.sort();
    let mut want = big.clone();
    want.sort();
    assert_eq!(arrived, want, "all ten, whole");
    assert_eq!(s.depth(&dlq).await, 1);
}

#[tokio::test]
async fn a_queue_named_in_another_account_or_region_is_refused_and_nothing_moves() {
    let s = Sandbox::new().await;
    let (_source, dlq) = s.source_with_dlq("orders", "orders-dlq", false).await;
    s.put(&dlq, &bodies("x", 3), &[], None).await;
    let rules = "[[dlq]]\nname = \"orders\"\nqueue = \"orders-dlq\"\n";
    let other_account = dlq.replace(&s.account.id, "111122223333");
    for queue in [
        other_account,
        "https://sqs.us-east-1.amazonaws.com/111122223333/orders-dlq".to_owned(),
        format!("arn:aws:sqs:eu-west-1:{}:orders-dlq", s.account.id),
    ] {
        let refused = replay(&s, rules, json!({"queue": queue, "dryRun": true})).await;
        let Err(error @ ReplayError::QueueElsewhere { .. }) = refused else {
            panic!("{queue}: {refused:?}");
        };
        assert_eq!(error.kind(), "QueueNotAllowed");
        assert!(error.to_string().contains("nothing was moved"), "{error}");
    }
    assert_eq!(s.depth(&dlq).await, 3);
    let own_arn = format!("arn:aws:sqs:{REGION}:{}:orders-dlq", s.account.id);
    for queue in [dlq.clone(), own_arn] {
        let summary = replay(&s, rules, json!({"queue": queue, "dryRun": true}))
            .await
            .unwrap();
        assert_eq!(summary.replayed, 3, "{queue}");
    }
}

#[tokio::test]
async fn a_run_past_its_deadline_goes_on_by_itself_until_the_dlq_is_empty() {
    let s = Sandbox::new().await;
    let (source, dlq) = s.source_with_dlq("deep", "deep-dlq", false).await;
    s.put(&dlq, &bodies("d", 30), &[], None).await;
    s.function("replayer-self").await;
    let rules = "[[dlq]]\nname = \"deep\"\nqueue = \"deep-dlq\"\n";
    let function = ReplayFunction::with_rules(
        s.account.sdk.clone(),
        s.account
            .replay_environment(Some(("replayer-self", "$LATEST"))),
        RuleSet::from_sources(&[("replay.toml", rules)], &[]).unwrap(),
    );
    // One second left: under the five-second margin, the run stops before it takes anything.
    let first = function
        .handle(
            &json!({"queue": "deep-dlq", "max": 25}),
            "req-1",
            Some(1_000),
        )
        .await
        .unwrap();
    assert_eq!((first.stopped_by.as_str(), first.received), ("deadline", 0));
    let report = first.continued_by.clone().expect("a continuation");
    assert_eq!((report.round, report.invoked), (1, true), "{report:?}");
    let invocations = s.invocations("replayer-self").await;
    assert_eq!(invocations.len(), 1);
    assert_eq!(invocations[0]["invocation_type"], "Event");
    let next: Value = serde_json::from_str(invocations[0]["payload"].as_str().unwrap()).unwrap();
    assert_eq!(next["continuation"]["round"], 1);
    assert_eq!(next["max"], 25);

    // The continued request, as Lambda hands it to the next invocation, with time enough.
    let second = function.handle(&next, "req-2", None).await.unwrap();
    assert_eq!((second.stopped_by.as_str(), second.replayed), ("max", 25));
    assert_eq!(second.continued_by, None);
    assert_eq!(s.drain(&source).await.len(), 25);

    // The chain is bounded whatever the request says.
    let last = json!({"queue": "deep-dlq", "maxContinuations": 2,
                      "continuation": {"round": 2, "receivedBefore": 0, "replayedBefore": 0}});
    let stopped = function.handle(&last, "req-3", Some(1_000)).await.unwrap();
    let report = stopped.continued_by.unwrap();
    assert!(!report.invoked);
    assert_eq!(report.reason.as_deref(), Some("maxContinuations reached"));
    assert_eq!(
        s.invocations("replayer-self").await.len(),
        1,
        "no third run"
    );
}
