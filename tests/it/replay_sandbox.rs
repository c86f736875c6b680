//! The replay function's core against the sandbox: moto's SQS and Lambda over real HTTP, through the
//! real SDK clients. Needs `scripts/sandbox start`; `scripts/test` starts it.

use crate::common;

use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName, SendMessageBatchRequestEntry};
use common::Account;
use selfheal::aws::dynamodb::DynamoLedger;
use selfheal::aws::lambda::Lambda;
use selfheal::aws::sqs::Sqs;
use selfheal::replay::{ReplayError, ReplayRequest, ReplaySettings, ReplaySummary, Replayer};
use selfheal::rules::RuleSet;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const RULES: &str = r#"
[[dlq]]
name = "orders-worker"
queue = "orders-worker-dlq"
function = "orders-worker"
max_replays = 2

[[dlq]]
name = "orders"
queue = "orders-dlq"
max_replays = 3

[[dlq]]
name = "payments"
queue = "payments-dlq.fifo"

[[dlq]]
name = "ghost-function"
queue = "ghost-dlq"
function = "does-not-exist"

[[dlq]]
name = "orphan"
queue = "orphan-dlq"
"#;

pub(crate) struct Sandbox {
    pub(crate) account: Account,
    pub(crate) sqs: aws_sdk_sqs::Client,
    pub(crate) lambda: aws_sdk_lambda::Client,
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

impl Sandbox {
    pub(crate) async fn new() -> Sandbox {
        let account = Account::new().await;
        Sandbox {
            sqs: aws_sdk_sqs::Client::new(&account.sdk),
            lambda: aws_sdk_lambda::Client::new(&account.sdk),
            account,
        }
    }

    fn replayer(&self) -> Replayer<Sqs, Lambda, DynamoLedger> {
        self.replayer_with(RULES, ReplaySettings::default())
    }

    /// A replayer over these rules, against this sandbox account.
    pub(crate) fn replayer_with(
        &self,
        rules: &str,
        settings: ReplaySettings,
    ) -> Replayer<Sqs, Lambda, DynamoLedger> {
        selfheal::replay::replayer(
            &self.account.sdk,
            &self.account.replay_environment(None),
            RuleSet::from_sources(&[("replay.toml", rules)], &[]).unwrap(),
            settings,
        )
    }

    pub(crate) async fn replay(&self, request: Value) -> Result<ReplaySummary, ReplayError> {
        self.replayer()
            .replay(&ReplayRequest::parse(&request).unwrap(), None, now_ms)
            .await
    }

    pub(crate) async fn queue(
        &self,
        name: &str,
        attributes: &[(QueueAttributeName, String)],
    ) -> String {
        common::sqs::create_queue(&self.sqs, name, attributes).await
    }

    pub(crate) async fn queue_arn(&self, url: &str) -> String {
        common::sqs::queue_arn(&self.sqs, url).await
    }

    pub(crate) async fn source_with_dlq(
        &self,
        source: &str,
        dlq: &str,
        fifo: bool,
    ) -> (String, String) {
        common::sqs::source_with_dlq(&self.sqs, source, dlq, fifo).await
    }

    pub(crate) async fn function(&self, name: &str) {
        common::lambda::create_function(&self.lambda, &self.account.id, name, None).await;
    }

    /// Sends messages as the failing side would have left them.
    pub(crate) async fn put(
        &self,
        url: &str,
        bodies: &[String],
        attributes: &[(&str, &str, &str)],
        group: Option<&dyn Fn(usize) -> String>,
    ) {
        for (chunk_index, chunk) in bodies.chunks(10).enumerate() {
            let mut request = self.sqs.send_message_batch().queue_url(url);
            for (i, body) in chunk.iter().enumerate() {
                let n = chunk_index * 10 + i;
                let mut entry = SendMessageBatchRequestEntry::builder()
                    .id(n.to_string())
                    .message_body(body);
                for (name, kind, value) in attributes {
                    entry = entry.message_attributes(
                        *name,
                        MessageAttributeValue::builder()
                            .data_type(*kind)
                            .string_value(*value)
                            .build()
                            .unwrap(),
                    );
                }
                if let Some(group) = group {
                    entry = entry
                        .message_group_id(group(n))
                        .message_deduplication_id(format!("d{n}"));
                }
                request = request.entries(entry.build().unwrap());
            }
            let output = request.send().await.unwrap();
            assert!(output.failed.is_empty(), "{:?}", output.failed);
        }
    }

    pub(crate) async fn drain(&self, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
        let mut all = Vec::new();
        loop {
            let batch = self
                .sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
                .message_attribute_names("All")
                .send()
                .await
                .unwrap()
                .messages
                .unwrap_or_default();
            if batch.is_empty() {
                return all;
            }
            for m in &batch {
                self.sqs
                    .delete_message()
                    .queue_url(url)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
            all.extend(batch);
        }
    }

    pub(crate) async fn depth(&self, url: &str) -> u64 {
        let attrs = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap();
        attrs.values().map(|v| v.parse::<u64>().unwrap()).sum()
    }

    pub(crate) async fn invocations(&self, function: &str) -> Vec<Value> {
        common::lambda::invocations(&self.account.id, function).await
    }
}

pub(crate) fn bodies(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| json!({"order": format!("{prefix}-{i}"), "status": if i % 2 == 0 { "failed" } else { "timeout" }}).to_string()).collect()
}

const LAMBDA_DLQ_ATTRIBUTES: &[(&str, &str, &str)] = &[
    ("RequestID", "String", "3f2c-request"),
    ("ErrorCode", "Number", "200"),
    (
        "ErrorMessage",
        "String",
        "Task timed out after 3.00 seconds",
    ),
];

#[tokio::test]
async fn a_lambda_async_dlq_goes_back_into_its_function() {
    let s = Sandbox::new().await;
    s.function("orders-worker").await;
    let dlq = s.queue("orders-worker-dlq", &[]).await;
    let sent = bodies("o", 25);
    s.put(&dlq, &sent, LAMBDA_DLQ_ATTRIBUTES, None).await;
    let summary = s
        .replay(json!({"queue": "orders-worker-dlq"}))
        .await
        .unwrap();
    assert_eq!(
        (summary.replayed, summary.failed, summary.remaining),
        (25, 0, Some(0)),
        "{summary:#?}"
    );
    assert_eq!(summary.target, "function:orders-worker");
    assert_eq!(
        summary.error_codes,
        BTreeMap::from([("200".to_owned(), 25)])
    );
    let mut got: Vec<String> = s
        .invocations("orders-worker")
        .await
        .iter()
        .map(|i| i["payload"].as_str().unwrap().to_owned())
        .collect();
    assert!(s
        .invocations("orders-worker")
        .await
        .iter()
        .all(|i| i["invocation_type"] == "Event"));
    got.sort();
    let mut want = sent.clone();
    want.sort();
    assert_eq!(got, want, "each body re-invoked once, unchanged");
}

#[tokio::test]
async fn a_queue_dlq_goes_back_to_its_source_with_its_attributes() {
    let s = Sandbox::new().await;
    let (source, dlq) = s.source_with_dlq("orders", "orders-dlq", false).await;
    let sent = bodies("q", 23);
    s.put(
        &dlq,
        &sent,
        &[("tenant", "String", "acme"), ("priority", "Number", "7")],
        None,
    )
    .await;
    let summary = s.replay(json!({"queue": dlq.clone()})).await.unwrap();
    assert_eq!(
        (summary.replayed, summary.failed, summary.remaining),
        (23, 0, Some(0)),
        "{summary:#?}"
    );
    assert_eq!(summary.target, "queue:orders");
    let back = s.drain(&source).await;
    assert_eq!(back.len(), 23);
    for m in &back {
        let attrs = m.message_attributes().unwrap();
        assert_eq!(attrs["tenant"].string_value(), Some("acme"));
        assert_eq!(attrs["priority"].string_value(), Some("7"));
        assert_eq!(attrs["selfheal-replay-count"].string_value(), Some("1"));
    }
    let mut got: Vec<String> = back.iter().map(|m| m.body().unwrap().to_owned()).collect();
    got.sort();
    let mut want = sent;
    want.sort();
    assert_eq!(got, want);
}

#[tokio::test]
async fn fifo_keeps_groups_and_their_order() {
    let s = Sandbox::new().await;
    let (source, dlq) = s
        .source_with_dlq("payments.fifo", "payments-dlq.fifo", true)
        .await;
    let sent: Vec<String> = (0..18).map(|i| format!("payment-{i}")).collect();
    let group = |n: usize| format!("account-{}", n % 3);
    s.put(&dlq, &sent, &[], Some(&group)).await;
    let summary = s
        .replay(json!({"queue": "payments-dlq.fifo"}))
        .await
        .unwrap();
    assert_eq!((summary.replayed, summary.failed), (18, 0), "{summary:#?}");
    let back = s.drain(&source).await;
    assert_eq!(back.len(), 18);
    let mut by_group: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for m in &back {
        let group = m.attributes().unwrap()
            [&aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId]
            .clone();
        let n: usize = m
            .body()
            .unwrap()
            .trim_start_matches("payment-")
            .parse()
            .unwrap();
        assert_eq!(group, format!("account-{}", n % 3));
        by_group.entry(group).or_default().push(n);
    }
    for (group, order) in by_group {
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted, "{group} kept its order");
    }
}

#[tokio::test]
async fn a_dry_run_reports_and_moves_nothing() {
    let s = Sandbox::new().await;
    s.function("orders-worker").await;
    let dlq = s.queue("orders-worker-dlq", &[]).await;
    let long = format!("{{\"order\": \"big\", \"blob\": \"{}\"}}", "x".repeat(5000));
    let mut sent = bodies("d", 11);
    sent.push(long);
    s.put(&dlq, &sent, LAMBDA_DLQ_ATTRIBUTES, None).await;
    let summary = s
        .replay(json!({"queue": "orders-worker-dlq", "dryRun": true}))
        .await
        .unwrap();
    assert!(summary.dry_run);
    assert_eq!(
        (summary.received, summary.replayed),
        (12, 12),
        "{summary:#?}"
    );
    assert_eq!(summary.preview.len(), 5);
    assert!(summary
        .preview
        .iter()
        .all(|p| p.body.chars().count() <= 200 && p.error_code.as_deref() == Some("200")));
    assert_eq!(summary.remaining, Some(12));
    assert!(s.invocations("orders-worker").await.is_empty());
    assert_eq!(
        s.drain(&dlq).await.len(),
        12,
        "every message is visible again"
    );
}

#[tokio::test]
async fn filters_replay_only_what_they_name() {
    let s = Sandbox::new().await;
    s.function("orders-worker").await;
    let dlq = s.queue("orders-worker-dlq", &[]).await;
    s.put(
        &dlq,
        &bodies("a", 6),
        &[("ErrorCode", "Number", "500")],
        None,
    )
    .await;
    s.put(
        &dlq,
        &bodies("b", 4),
        &[("ErrorCode", "Number", "429")],
        None,
    )
    .await;
    let by_code = s
        .replay(json!({"queue": "orders-worker-dlq", "filter": {"errorCode": 429}}))
        .await
        .unwrap();
    assert_eq!(
        (
            by_code.replayed,
            by_code.skipped_by_filter,
            by_code.remaining
        ),
        (4, 6, Some(6)),
        "{by_code:#?}"
    );
    let by_field = s
        .replay(json!({"queue": "orders-worker-dlq", "filter": {"jsonField": {"path": "status", "equals": "failed"}}}))
        .await
        .unwrap();
    assert_eq!(
        (by_field.replayed, by_field.skipped_by_filter),
        (3, 3),
        "{by_field:#?}"
    );
    let by_age = s
        .replay(json!({"queue": "orders-worker-dlq", "filter": {"minAgeSeconds": 3600}}))
        .await
        .unwrap();
    assert_eq!((by_age.replayed, by_age.skipped_by_filter), (0, 3));
    let by_text = s
        .replay(json!({"queue": "orders-worker-dlq", "filter": {"bodyContains": "a-1"}}))
        .await
        .unwrap();
    assert_eq!(by_text.replayed, 1);
    assert_eq!(s.invocations("orders-worker").await.len(), 8);
}

#[tokio::test]
async fn poison_messages_stay_in_the_dlq() {
    let s = Sandbox::new().await;
    let (source, dlq) = s.source_with_dlq("orders", "orders-dlq", false).await;
    s.put(
        &dlq,
        &bodies("p", 4),
        &[("selfheal-replay-count", "Number", "3")],
        None,
    )
    .await;
    s.put(
        &dlq,
        &bodies("ok", 2),
        &[("selfheal-replay-count", "Number", "2")],
        None,
    )
    .await;
    let summary = s.replay(json!({"queue": "orders-dlq"})).await.unwrap();
    assert_eq!(
        (summary.replayed, summary.poison, summary.remaining),
        (2, 4, Some(4)),
        "{summary:#?}"
    );
    assert_eq!(s.drain(&source).await.len(), 2);

    // Into a function the count is kept in the ledger: the same body failing again twice is poison.
    s.function("orders-worker").await;
    let fdlq = s.queue("orders-worker-dlq", &[]).await;
    let body = bodies("again", 1);
    for round in 0..3 {
        s.put(&fdlq, &body, LAMBDA_DLQ_ATTRIBUTES, None).await;
        let summary = s
            .replay(json!({"queue": "orders-worker-dlq"}))
            .await
            .unwrap();
        let expected = if round < 2 { (1, 0) } else { (0, 1) };
        assert_eq!(
            (summary.replayed, summary.poison),
            expected,
            "round {round}: {summary:#?}"
        );
    }
}

#[tokio::test]
async fn a_queue_not_in_the_rules_is_refused() {
    let s = Sandbox::new().await;
    let other = s.queue("payroll-dlq", &[]).await;
    s.put(&other, &bodies("x", 3), &[], None).await;
    let error = s.replay(json!({"queue": "payroll-dlq"})).await.unwrap_err();
    assert!(
        matches!(error, ReplayError::QueueNotAllowed { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("orders-worker-dlq"),
        "the error lists what is allowed: {error}"
    );
    assert_eq!(s.depth(&other).await, 3);
}

#[tokio::test]
async fn a_missing_target_moves_nothing() {
    let s = Sandbox::new().await;
    let ghost = s.queue("ghost-dlq", &[]).await;
    s.put(&ghost, &bodies("g", 5), LAMBDA_DLQ_ATTRIBUTES, None)
        .await;
    let error = s.replay(json!({"queue": "ghost-dlq"})).await.unwrap_err();
    assert!(matches!(error, ReplayError::TargetMissing(_)), "{error}");
    assert_eq!(s.drain(&ghost).await.len(), 5);

    let orphan = s.queue("orphan-dlq", &[]).await;
    s.put(&orphan, &bodies("o", 2), &[], None).await;
    let error = s.replay(json!({"queue": "orphan-dlq"})).await.unwrap_err();
    assert!(error.to_string().contains("no queue names it"), "{error}");
    let error = s.replay(json!({"queue": "orders-dlq"})).await.unwrap_err();
    assert!(matches!(error, ReplayError::QueueMissing(_)), "{error}");
}

#[tokio::test]
async fn max_rate_and_keep_copy_are_honoured() {
    let s = Sandbox::new().await;
    let (source, dlq) = s.source_with_dlq("orders", "orders-dlq", false).await;
    s.put(&dlq, &bodies("m", 30), &[], None).await;
    let capped = s
        .replay(json!({"queue": "orders-dlq", "max": 7}))
        .await
        .unwrap();
    assert_eq!(
        (
            capped.replayed,
            capped.stopped_by.as_str(),
            capped.remaining
        ),
        (7, "max", Some(23))
    );
    let started = Instant::now();
    let paced = s
        .replay(json!({"queue": "orders-dlq", "max": 15, "rate": 10}))
        .await
        .unwrap();
    assert_eq!(paced.replayed, 15);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "15 at 10/s takes over a second: {:?}",
        started.elapsed()
    );
    let copy = s
        .replay(json!({"queue": "orders-dlq", "keepCopy": true}))
        .await
        .unwrap();
    assert_eq!((copy.replayed, copy.remaining), (8, Some(8)));
    assert_eq!(s.drain(&source).await.len(), 30);
}

#[tokio::test]
async fn a_near_deadline_stops_cleanly_and_touches_nothing() {
    let s = Sandbox::new().await;
    let (_source, dlq) = s.source_with_dlq("orders", "orders-dlq", false).await;
    s.put(&dlq, &bodies("t", 12), &[], None).await;
    let request = ReplayRequest::parse(&json!({"queue": "orders-dlq"})).unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    let summary = s
        .replayer()
        .replay(&request, Some(deadline), now_ms)
        .await
        .unwrap();
    assert_eq!(
        (
            summary.stopped_by.as_str(),
            summary.replayed,
            summary.remaining
        ),
        ("deadline", 0, Some(12))
    );
    assert_eq!(s.drain(&dlq).await.len(), 12);
}

#[tokio::test]
async fn a_deadline_reached_mid_run_leaves_every_message_replayed_or_in_the_dlq() {
    let s = Sandbox::new().await;
    let (source, dlq) = s.source_with_dlq("orders", "orders-dlq", false).await;
    s.put(&dlq, &bodies("d", 50), &[], None).await;
    // 10 a second: 50 messages take five seconds, the deadline comes after about two.
    let request = ReplayRequest::parse(&json!({"queue": "orders-dlq", "rate": 10})).unwrap();
    let replayer = Replayer::new(
        Sqs::new(s.sqs.clone()),
        Lambda::new(s.lambda.clone()),
        DynamoLedger::new(s.account.dynamodb.clone(), s.account.table.clone()),
        RuleSet::from_sources(&[("replay.toml", RULES)], &[]).unwrap(),
        ReplaySettings {
            deadline_margin: Duration::from_millis(1200),
            ..ReplaySettings::default()
        },
    );
    let deadline = Instant::now() + Duration::from_millis(2500);
    let summary = replayer
        .replay(&request, Some(deadline), now_ms)
        .await
        .unwrap();
    assert_eq!(summary.stopped_by, "deadline", "{summary:?}");
    assert!(summary.replayed >= 10, "at least one batch: {summary:?}");
    assert!(summary.replayed < 50, "{summary:?}");
    assert_eq!(
        summary.replayed + summary.remaining.unwrap(),
        50,
        "every message replayed or still in the DLQ: {summary:?}"
    );
    assert_eq!(s.drain(&source).await.len() as u64, summary.replayed);
    assert_eq!(s.drain(&dlq).await.len() as u64, 50 - summary.replayed);
}

#[tokio::test]
async fn a_run_with_failures_is_audited_and_escalated() {
    use selfheal::replay::ReplayFunction;
    let s = Sandbox::new().await;
    let dlq = s.queue("orders-dlq", &[]).await;
    let arn = s.queue_arn(&dlq).await;
    // The source queue takes at most 1 KB: the big bodies cannot go back.
    s.queue(
        "orders",
        &[
            (QueueAttributeName::MaximumMessageSize, "1024".to_owned()),
            (
                QueueAttributeName::RedrivePolicy,
                json!({"deadLetterTargetArn": arn, "maxReceiveCount": 3}).to_string(),
            ),
        ],
    )
    .await;
    let big: Vec<String> = (0..3)
        .map(|i| format!("{{\"n\": {i}, \"pad\": \"{}\"}}", "x".repeat(2000)))
        .collect();
    s.put(&dlq, &big, &[], None).await;
    let function = ReplayFunction::with_rules(
        s.account.sdk.clone(),
        s.account.replay_environment(None),
        RuleSet::from_sources(&[("replay.toml", RULES)], &[]).unwrap(),
    );
    let summary = function
        .handle(&json!({"queue": "orders-dlq"}), "req-9", None)
        .await
        .unwrap();
    assert_eq!(
        (summary.replayed, summary.failed, summary.remaining),
        (0, 3, Some(3)),
        "{summary:#?}"
    );
    let deliveries = s.account.deliveries().await;
    let email = deliveries
        .iter()
        .find(|d| d["protocol"] == "email")
        .expect("an email");
    assert!(
        email["subject"]
            .as_str()
            .unwrap()
            .contains("REPLAY FAILURES orders-dlq"),
        "{email}"
    );
    assert!(email["message"]
        .as_str()
        .unwrap()
        .contains("replay-failures.md"));
    let sms = deliveries
        .iter()
        .find(|d| d["protocol"] == "sms")
        .expect("an SMS");
    assert!(sms["message"].as_str().unwrap().len() <= 140);
    let items = s
        .account
        .dynamodb
        .scan()
        .table_name(&s.account.table)
        .send()
        .await
        .unwrap()
        .items
        .unwrap();
    assert!(items
        .iter()
        .any(|i| i["pk"].as_s().unwrap().starts_with("audit#replay#")));
    let audit = s.account.audit_records().await;
    assert_eq!(
        (audit[0].subject.as_str(), audit[0].kind),
        ("orders-dlq", selfheal::ledger::AuditKind::Replay)
    );
}

#[tokio::test]
async fn the_stacks_dry_run_switch_wins_over_the_request() {
    use selfheal::replay::ReplayFunction;
    let s = Sandbox::new().await;
    let (source, dlq) = s.source_with_dlq("orders", "orders-dlq", false).await;
    s.put(&dlq, &bodies("o", 4), &[], None).await;
    let environment = selfheal::settings::ReplayEnvironment {
        dry_run: true,
        ..s.account.replay_environment(None)
    };
    let function = ReplayFunction::with_rules(
        s.account.sdk.clone(),
        environment,
        RuleSet::from_sources(&[("replay.toml", RULES)], &[]).unwrap(),
    );
    let summary = function
        .handle(
            &json!({"queue": "orders-dlq", "dryRun": false}),
            "req-d",
            None,
        )
        .await
        .unwrap();
    assert!(summary.dry_run, "{summary:#?}");
    assert_eq!(summary.replayed, 4, "counted as would-be deliveries");
    assert_eq!(s.depth(&source).await, 0, "nothing was sent");
    assert_eq!(s.depth(&dlq).await, 4, "nothing left the DLQ");
}
