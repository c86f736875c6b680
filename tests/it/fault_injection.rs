//! Each function under injected faults between it and AWS (`common::proxy` in front of the sandbox):
//! throttling, 5xx, slow answers, dropped connections and lost responses. What must hold: calls are
//! retried within the SDK's limits (4 attempts), then the failure is escalated or reported; no message
//! is lost, no quota is requested twice, no page is sent twice.

use crate::common;

use common::proxy::{Fault, FaultProxy};
use common::Account;
use selfheal::aws::lambda::Lambda;
use selfheal::prewarm::ping::FailureKind;
use selfheal::prewarm::{ping, PingRequest, SyncSettings};
use selfheal::quota::Decision;
use selfheal::replay::{ReplayRequest, ReplaySettings};
use selfheal::rules::RuleSet;
use serde_json::json;
use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const LAMBDA_CONCURRENCY: (&str, &str) = ("lambda", "L-B99A9384");

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

async fn setup() -> (Account, FaultProxy) {
    (
        Account::new().await,
        FaultProxy::start(&common::endpoint()).await,
    )
}

/// Service Quotas' two ways with a request: left `PENDING` for a reviewer, or approved and applied on
/// submission (`AutoApprove`, as AWS does for smaller increases). The quota tests run in both.
const APPROVAL_MODES: [bool; 2] = [false, true];

async fn setup_in(auto_approve: bool) -> (Account, FaultProxy) {
    let (account, proxy) = setup().await;
    account
        .set_service_quotas(json!({ "AutoApprove": auto_approve }))
        .await;
    (account, proxy)
}

#[tokio::test]
async fn quota_healing_rides_out_throttling_5xx_and_dropped_connections() {
    for auto_approve in APPROVAL_MODES {
        rides_out_throttling_5xx_and_dropped_connections(auto_approve).await;
    }
}

async fn rides_out_throttling_5xx_and_dropped_connections(auto_approve: bool) {
    let (account, proxy) = setup_in(auto_approve).await;
    let sdk = proxy.sdk_config(&account.id).await;
    proxy.inject(
        "ServiceQuotasV20190624.GetServiceQuota",
        Fault::ServerError,
        2,
    );
    proxy.inject(
        "ListRequestedServiceQuotaChangeHistoryByQuota",
        Fault::Drop,
        1,
    );
    proxy.inject("RequestServiceQuotaIncrease", Fault::Throttle, 2);
    proxy.inject(
        "DynamoDB_20120810.PutItem",
        Fault::Slow(Duration::from_millis(300)),
        1,
    );
    let outcome = account
        .healer_through(&sdk, false)
        .handle(
            &account.notice("alarm-action-lambda-concurrency.json"),
            "r1",
            now(),
        )
        .await
        .unwrap();
    assert_eq!(outcome.decision, Decision::Raise, "{outcome:#?}");
    assert_eq!(proxy.injected().len(), 6);
    // Retried: three attempts reached the request call, one reached AWS.
    assert_eq!(proxy.requests("RequestServiceQuotaIncrease"), 3);
    assert_eq!(
        account
            .requests(LAMBDA_CONCURRENCY.0, LAMBDA_CONCURRENCY.1)
            .await
            .len(),
        1
    );
    assert!(account.deliveries().await.is_empty(), "nothing to page");
}

#[tokio::test]
async fn a_lost_response_does_not_file_a_second_quota_request() {
    for auto_approve in APPROVAL_MODES {
        lost_response_files_one_request(auto_approve).await;
    }
}

async fn lost_response_files_one_request(auto_approve: bool) {
    let (account, proxy) = setup_in(auto_approve).await;
    let sdk = proxy.sdk_config(&account.id).await;
    // AWS files the request, the answer is lost, the SDK asks again: AWS answers
    // ResourceAlreadyExistsException while the request is open ("a request is pending"), and
    // IllegalArgumentException once it was approved at once ("already raised"); neither pages.
    proxy.inject("RequestServiceQuotaIncrease", Fault::LoseResponse, 1);
    let outcome = account
        .healer_through(&sdk, false)
        .handle(
            &account.notice("alarm-action-lambda-concurrency.json"),
            "r1",
            now(),
        )
        .await
        .unwrap();
    assert_eq!(proxy.requests("RequestServiceQuotaIncrease"), 2);
    assert_eq!(outcome.decision, Decision::None, "{outcome:#?}");
    let expected = if auto_approve {
        "already-raised"
    } else {
        "request-pending"
    };
    assert_eq!(outcome.reason, expected, "{outcome:#?}");
    assert!(account.deliveries().await.is_empty(), "nothing paged");
    assert_eq!(
        account
            .requests(LAMBDA_CONCURRENCY.0, LAMBDA_CONCURRENCY.1)
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn throttling_past_the_retries_is_escalated_once() {
    for auto_approve in APPROVAL_MODES {
        throttled_past_retries(auto_approve).await;
    }
}

async fn throttled_past_retries(auto_approve: bool) {
    let (account, proxy) = setup_in(auto_approve).await;
    let sdk = proxy.sdk_config(&account.id).await;
    proxy.inject("ServiceQuotasV20190624", Fault::Throttle, usize::MAX);
    // The page itself is throttled twice on its way out, then delivered.
    proxy.inject(" Publish", Fault::Throttle, 2);
    let healer = account.healer_through(&sdk, false);
    // Each call is the alarm firing again: a new state change.
    let alarm = || account.notice("alarm-action-lambda-concurrency.json");
    let first = healer.handle(&alarm(), "r1", now()).await.unwrap();
    assert_eq!(
        (first.decision, first.reason.as_str()),
        (Decision::Escalate, "aws-error"),
        "{first:#?}"
    );
    assert_eq!(
        proxy.requests("ServiceQuotasV20190624.GetServiceQuota"),
        4,
        "4 attempts, then give up"
    );
    assert_eq!(
        proxy.requests(" Publish"),
        3,
        "the page retried past its throttling"
    );
    // The alarm fires again while AWS still throttles: the cooldown holds the page back.
    let second = healer.handle(&alarm(), "r2", now()).await.unwrap();
    assert_eq!(second.decision, Decision::Escalate);
    assert_eq!(
        account.deliveries().await.len(),
        2,
        "one page: one SMS and one email"
    );
    assert!(account
        .requests(LAMBDA_CONCURRENCY.0, LAMBDA_CONCURRENCY.1)
        .await
        .is_empty());
}

const REPLAY_RULES: &str = "[[dlq]]\nname = \"orders\"\nqueue = \"orders-dlq\"\n";

struct Queues {
    sqs: aws_sdk_sqs::Client,
    source: String,
    dlq: String,
}

async fn queues(account: &Account, messages: usize) -> Queues {
    let sqs = aws_sdk_sqs::Client::new(&account.sdk);
    let (source, dlq) = common::sqs::source_with_dlq(&sqs, "orders", "orders-dlq", false).await;
    for i in 0..messages {
        sqs.send_message()
            .queue_url(&dlq)
            .message_body(format!("order-{i:03}"))
            .send()
            .await
            .unwrap();
    }
    Queues { sqs, source, dlq }
}

/// Every body in `queue`, received and left in flight (the queue is only read).
async fn bodies(sqs: &aws_sdk_sqs::Client, queue: &str) -> Vec<String> {
    let mut all = Vec::new();
    loop {
        let got = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .visibility_timeout(60)
            .send()
            .await
            .unwrap();
        if got.messages().is_empty() {
            return all;
        }
        all.extend(
            got.messages()
                .iter()
                .map(|m| m.body().unwrap_or_default().to_owned()),
        );
    }
}

fn replayer(sdk: &aws_config::SdkConfig, account: &Account) -> selfheal::replay::Replay {
    selfheal::replay::replayer(
        sdk,
        &account.replay_environment(None),
        RuleSet::from_sources(&[("replay.toml", REPLAY_RULES)], &[]).unwrap(),
        ReplaySettings::default(),
    )
}

#[tokio::test]
async fn a_replay_under_faults_loses_no_message() {
    let (account, proxy) = setup().await;
    let q = queues(&account, 40).await;
    let sdk = proxy.sdk_config(&account.id).await;
    proxy.inject("AmazonSQS.ReceiveMessage", Fault::ServerError, 2);
    proxy.inject("AmazonSQS.SendMessageBatch", Fault::Throttle, 3);
    proxy.inject("AmazonSQS.DeleteMessageBatch", Fault::Drop, 2);
    proxy.inject(
        "AmazonSQS.SendMessageBatch",
        Fault::Slow(Duration::from_millis(200)),
        1,
    );
    // A batch delivered whose answer is lost: the SDK sends it again (SQS is at-least-once).
    proxy.inject("AmazonSQS.SendMessageBatch", Fault::LoseResponse, 1);
    let summary = replayer(&sdk, &account)
        .replay(
            &ReplayRequest::parse(&json!({"queue": "orders-dlq"})).unwrap(),
            None,
            now_ms,
        )
        .await
        .unwrap();
    assert_eq!(proxy.injected().len(), 9, "{:?}", proxy.injected());
    assert_eq!(summary.replayed, 40, "{summary:#?}");
    assert_eq!(summary.failed, 0);
    let delivered = bodies(&q.sqs, &q.source).await;
    let unique: BTreeSet<&String> = delivered.iter().collect();
    assert_eq!(unique.len(), 40, "every message reached the source queue");
    assert!(
        delivered.len() <= 50,
        "at most the one re-sent batch twice: {}",
        delivered.len()
    );
    assert!(bodies(&q.sqs, &q.dlq).await.is_empty(), "and left the DLQ");
}

#[tokio::test]
async fn a_send_that_keeps_failing_deletes_nothing() {
    let (account, proxy) = setup().await;
    let q = queues(&account, 15).await;
    let sdk = proxy.sdk_config(&account.id).await;
    proxy.inject("AmazonSQS.SendMessageBatch", Fault::ServerError, usize::MAX);
    let summary = replayer(&sdk, &account)
        .replay(
            &ReplayRequest::parse(&json!({"queue": "orders-dlq"})).unwrap(),
            None,
            now_ms,
        )
        .await
        .unwrap();
    assert_eq!((summary.replayed, summary.failed), (0, 15), "{summary:#?}");
    assert_eq!(proxy.requests("AmazonSQS.DeleteMessageBatch"), 0);
    assert!(bodies(&q.sqs, &q.source).await.is_empty());
    assert_eq!(
        bodies(&q.sqs, &q.dlq).await.len(),
        15,
        "all still in the DLQ"
    );
}

const PREWARM: &str = "[[prewarm]]\nfunction = \"checkout-api\"\nschedule = \"rate(5 minutes)\"\nconcurrency = 3\n\n[[prewarm]]\nfunction = \"search-api\"\nschedule = \"rate(5 minutes)\"\n";

#[tokio::test]
async fn the_prewarm_sync_converges_through_faults_and_pings_report_them() {
    let (account, proxy) = setup().await;
    let lambda = aws_sdk_lambda::Client::new(&account.sdk);
    let pinger =
        common::lambda::create_function(&lambda, &account.id, "selfheal-prewarm", None).await;
    common::lambda::create_function(&lambda, &account.id, "checkout-api", None).await;
    common::lambda::create_function(&lambda, &account.id, "search-api", None).await;
    let sdk = proxy.sdk_config(&account.id).await;
    let syncer = || {
        selfheal::prewarm::syncer(
            &sdk,
            SyncSettings {
                prefix: "selfheal-prewarm-".into(),
                pinger_arn: Some(pinger.clone()),
                failure_queue_arn: None,
                dry_run: false,
            },
        )
    };
    let rules = RuleSet::from_sources(&[("prewarm.toml", PREWARM)], &[])
        .unwrap()
        .prewarm;
    proxy.inject("AWSEvents.ListRules", Fault::Throttle, 2);
    proxy.inject("AWSEvents.PutRule", Fault::ServerError, 1);
    // Lost answers: PutRule and PutTargets are idempotent; a repeated AddPermission answers
    // ResourceConflictException, which the sync reads as "already allowed".
    proxy.inject("AWSEvents.PutRule", Fault::LoseResponse, 1);
    proxy.inject("AWSEvents.PutTargets", Fault::Drop, 1);
    proxy.inject("/policy", Fault::Throttle, 1);
    proxy.inject("/policy", Fault::LoseResponse, 1);
    let report = syncer().sync(&rules).await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(report.create.len(), 2);
    assert_eq!(proxy.injected().len(), 7, "{:?}", proxy.injected());
    proxy.inject(
        "AWSEvents.ListTargetsByRule",
        Fault::Slow(Duration::from_millis(300)),
        2,
    );
    let again = syncer().sync(&rules).await;
    assert_eq!(
        (again.unchanged.len(), again.calls.writes),
        (2, 0),
        "{again:#?}"
    );
    assert_eq!(proxy.injected().len(), 9);

    // Pings: a 503 that outlives the retries is a reported failure, one that does not is a warm container.
    let request = PingRequest {
        function: "search-api".into(),
        qualifier: None,
        concurrency: 2,
        payload: json!({"isPrewarm": true}),
        timeout_ms: 10_000,
    };
    let lambda = Lambda::new(aws_sdk_lambda::Client::new(&sdk));
    proxy.inject("/functions/search-api/invocations", Fault::ServerError, 2);
    let report = ping(&lambda, &request).await;
    assert!(report.ok(), "{report:#?}");
    proxy.inject(
        "/functions/search-api/invocations",
        Fault::ServerError,
        usize::MAX,
    );
    let report = ping(&lambda, &request).await;
    assert_eq!(report.failures.len(), 2, "{report:#?}");
    assert!(report
        .failures
        .iter()
        .all(|f| f.kind == FailureKind::InvokeError));
    // A slow answer beyond the ping's own timeout is a timed-out ping, not a hang.
    proxy.clear();
    proxy.inject(
        "/functions/search-api/invocations",
        Fault::Slow(Duration::from_millis(1500)),
        2,
    );
    let quick = PingRequest {
        timeout_ms: 300,
        ..request.clone()
    };
    let report = ping(&lambda, &quick).await;
    assert_eq!(report.failures.len(), 2, "{report:#?}");
    assert!(report
        .failures
        .iter()
        .all(|f| f.kind == FailureKind::TimedOut));
}
