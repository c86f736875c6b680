//! Failures no emulator produces on demand — throttling sequences, 5xx answers,
//! `QuotaExceededException`, `AccessDeniedException` — through the SDK's own `aws-smithy-mocks`,
//! which answer inside the real client (its retry policy and error parsing included). The ledger
//! and the topic are in-memory fakes here; the sandbox tests cover the real ones.

use crate::common;

use aws_sdk_servicequotas::operation::get_service_quota::GetServiceQuotaOutput;
use aws_sdk_servicequotas::operation::list_aws_default_service_quotas::ListAwsDefaultServiceQuotasOutput;
use aws_sdk_servicequotas::operation::list_requested_service_quota_change_history::ListRequestedServiceQuotaChangeHistoryOutput;
use aws_sdk_servicequotas::operation::list_requested_service_quota_change_history_by_quota::ListRequestedServiceQuotaChangeHistoryByQuotaOutput;
use aws_sdk_servicequotas::operation::list_service_quotas::ListServiceQuotasOutput;
use aws_sdk_servicequotas::operation::request_service_quota_increase::RequestServiceQuotaIncreaseOutput;
use aws_sdk_servicequotas::types::{
    MetricInfo, RequestStatus, RequestedServiceQuotaChange, ServiceQuota,
};
use aws_sdk_servicequotas::Client;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use common::fakes::{FixedClient, MemoryLedger, MemoryTopic};
use common::notice;
use selfheal::aws::service_quotas::ServiceQuotas;
use selfheal::quota::{Decision, HealError, QuotaHealer, Settings};
use selfheal::rules::RuleSet;
use std::time::Duration;

fn error_body(code: &str, message: &str) -> Option<String> {
    Some(format!(r#"{{"__type":"{code}","message":"{message}"}}"#))
}

fn lambda_quota(value: f64, adjustable: bool) -> GetServiceQuotaOutput {
    GetServiceQuotaOutput::builder()
        .quota(
            ServiceQuota::builder()
                .service_code("lambda")
                .quota_code("L-B99A9384")
                .quota_name("Concurrent executions")
                .value(value)
                .adjustable(adjustable)
                .build(),
        )
        .build()
}

fn empty_history() -> Rule {
    mock!(Client::list_requested_service_quota_change_history_by_quota)
        .then_output(|| ListRequestedServiceQuotaChangeHistoryByQuotaOutput::builder().build())
}

fn request_accepted() -> Rule {
    mock!(Client::request_service_quota_increase).then_compute_output(|input| {
        RequestServiceQuotaIncreaseOutput::builder()
            .requested_quota(
                RequestedServiceQuotaChange::builder()
                    .id("request-1")
                    .status(RequestStatus::Pending)
                    .set_desired_value(input.desired_value())
                    .build(),
            )
            .build()
    })
}

struct Harness {
    healer: QuotaHealer<FixedClient, MemoryTopic, MemoryLedger>,
    access: FixedClient,
    topic: MemoryTopic,
    ledger: MemoryLedger,
}

/// Automatic Management never started in the account (what the sandbox answers; not verified
/// against AWS): before each raise, the healer reads it once per container.
fn auto_management_never_started() -> Rule {
    mock!(Client::get_auto_management_configuration)
        .sequence()
        .http_status(400, error_body("NoSuchResourceException", "never started"))
        .repeatedly()
        .build()
}

/// No increase request open in the Region: before each raise, the healer counts the open ones
/// (`ListRequestedServiceQuotaChangeHistory`, `PENDING` then `CASE_OPENED`).
fn no_open_requests() -> Rule {
    mock!(Client::list_requested_service_quota_change_history)
        .sequence()
        .output(|| ListRequestedServiceQuotaChangeHistoryOutput::builder().build())
        .repeatedly()
        .build()
}

fn harness(rules: &[&Rule]) -> Harness {
    harness_with(rules, RuleSet::embedded().unwrap())
}

fn harness_with(rules: &[&Rule], rule_set: RuleSet) -> Harness {
    let auto = auto_management_never_started();
    let open = no_open_requests();
    let rules: Vec<&Rule> = rules.iter().copied().chain([&auto, &open]).collect();
    // The production retry policy, with short backoff to keep the test fast.
    let client = mock_client!(
        aws_sdk_servicequotas,
        RuleMode::MatchAny,
        &rules,
        |config| {
            config.retry_config(
                aws_config::retry::RetryConfig::standard()
                    .with_max_attempts(selfheal::aws::MAX_ATTEMPTS)
                    .with_initial_backoff(Duration::from_millis(1)),
            )
        }
    );
    let topic = MemoryTopic::default();
    let ledger = MemoryLedger::default();
    let access = FixedClient::new(ServiceQuotas::new(client));
    let healer = QuotaHealer::new(
        access.clone(),
        topic.clone(),
        ledger.clone(),
        rule_set,
        Settings {
            runbook_base_url: "https://runbooks.example.com".into(),
            topic_display_name: String::new(),
            dry_run: false,
            home_account_id: Some("123456789012".into()),
            home_region: "us-east-1".into(),
            escalation_memory_secs: 3600,
            audit_retention_secs: 3600,
        },
    );
    Harness {
        healer,
        access,
        topic,
        ledger,
    }
}

const NOW: u64 = 1_795_000_000;

#[tokio::test]
async fn throttled_calls_are_retried_with_backoff_then_succeed() {
    let get = mock!(Client::get_service_quota)
        .sequence()
        .http_status(400, error_body("TooManyRequestsException", "Rate exceeded"))
        .times(2)
        .http_status(503, None)
        .output(|| lambda_quota(1000.0, true))
        .build();
    let (history, request) = (empty_history(), request_accepted());
    let h = harness(&[&get, &history, &request]);
    let outcome = h
        .healer
        .handle(&notice("alarm-action-lambda-concurrency.json"), "r", NOW)
        .await
        .unwrap();
    assert_eq!(
        (outcome.decision, outcome.quota.desired_value),
        (Decision::Raise, Some(1500.0))
    );
    assert_eq!(
        get.num_calls(),
        4,
        "two throttles and a 503, then the answer"
    );
    assert_eq!(request.num_calls(), 1);
    assert!(h.topic.published().is_empty());
}

#[tokio::test]
async fn throttling_that_outlives_the_retries_is_escalated_once() {
    let get = mock!(Client::get_service_quota)
        .sequence()
        .http_status(400, error_body("TooManyRequestsException", "Rate exceeded"))
        .repeatedly()
        .build();
    let h = harness(&[&get]);
    // Each call is the alarm firing again: a new state change.
    let alarm = || notice("alarm-action-lambda-concurrency.json");
    let outcome = h.healer.handle(&alarm(), "r1", NOW).await.unwrap();
    assert_eq!(
        (outcome.decision, outcome.reason.as_str()),
        (Decision::Escalate, "aws-error")
    );
    assert_eq!(get.num_calls() as u32, selfheal::aws::MAX_ATTEMPTS);
    let published = h.topic.published();
    assert_eq!(published.len(), 1);
    assert!(
        published[0].email.contains("throttled after retries"),
        "{}",
        published[0].email
    );
    // The next delivery of the same alarm within the cooldown pages nobody.
    let again = h.healer.handle(&alarm(), "r2", NOW + 60).await.unwrap();
    assert!(again.notification.unwrap().suppressed_by_cooldown);
    assert_eq!(h.topic.published().len(), 1);
}

#[tokio::test]
async fn too_many_open_requests_keeps_the_raise_waiting_and_pages_once() {
    let get = mock!(Client::get_service_quota).then_output(|| lambda_quota(1000.0, true));
    let history = empty_history();
    let request = mock!(Client::request_service_quota_increase).then_http_response(|| {
        aws_smithy_runtime_api::http::Response::new(
            400.try_into().unwrap(),
            aws_smithy_types::body::SdkBody::from(
                r#"{"__type":"QuotaExceededException","message":"You have reached the maximum number of open requests"}"#,
            ),
        )
    });
    let h = harness(&[&get, &history, &request]);
    let outcome = h
        .healer
        .handle(&notice("alarm-action-lambda-concurrency.json"), "r", NOW)
        .await
        .unwrap();
    assert_eq!(
        (outcome.decision, outcome.reason.as_str()),
        (Decision::Escalate, "too-many-open-requests")
    );
    assert_eq!(outcome.quota.desired_value, Some(1500.0));
    assert_eq!(
        request.num_calls(),
        1,
        "a QuotaExceededException is not retried"
    );
    // AWS counts requests selfheal cannot see: the raise waits for the follow-up, and the page is
    // about the Region's requests, with their runbook.
    let waiting = h.ledger.0.waiting.lock().unwrap().clone();
    assert_eq!(waiting.len(), 1);
    assert_eq!(
        (waiting[0].quota_code.as_str(), waiting[0].desired_value),
        ("L-B99A9384", 1500.0)
    );
    let sms = &h.topic.published()[0].sms;
    assert!(
        sms.contains("RB:too-many-open-requests") && sms.len() <= 140,
        "{sms}"
    );
}

#[tokio::test]
async fn an_already_open_request_counts_as_pending() {
    let get = mock!(Client::get_service_quota).then_output(|| lambda_quota(1000.0, true));
    let history = empty_history();
    let request = mock!(Client::request_service_quota_increase)
        .sequence()
        .http_status(
            400,
            error_body(
                "ResourceAlreadyExistsException",
                "A request is already open",
            ),
        )
        .build();
    let h = harness(&[&get, &history, &request]);
    let outcome = h
        .healer
        .handle(&notice("alarm-action-lambda-concurrency.json"), "r", NOW)
        .await
        .unwrap();
    assert_eq!(
        (outcome.decision, outcome.reason.as_str()),
        (Decision::None, "request-pending")
    );
    assert!(h.topic.published().is_empty());
}

#[tokio::test]
async fn access_denied_is_escalated_with_the_error() {
    let get = mock!(Client::get_service_quota)
        .sequence()
        .http_status(
            400,
            error_body(
                "AccessDeniedException",
                "not authorized to perform servicequotas:GetServiceQuota",
            ),
        )
        .build();
    let h = harness(&[&get]);
    let outcome = h
        .healer
        .handle(&notice("alarm-action-lambda-concurrency.json"), "r", NOW)
        .await
        .unwrap();
    assert_eq!(outcome.reason, "aws-error");
    assert_eq!(get.num_calls(), 1, "AccessDenied is not retried");
    assert!(h.topic.published()[0].email.contains("access denied"));
}

#[tokio::test]
async fn a_page_that_cannot_be_sent_fails_the_invocation_and_frees_the_cooldown() {
    let get = mock!(Client::get_service_quota)
        .sequence()
        .output(|| lambda_quota(1000.0, false))
        .repeatedly()
        .build();
    let h = harness(&[&get]);
    let alarm = notice("alarm-action-lambda-concurrency.json");
    h.topic.fail(true);
    let error = h.healer.handle(&alarm, "r1", NOW).await.unwrap_err();
    assert!(matches!(error, HealError::Notify(_)), "{error}");
    assert!(
        h.ledger.0.cooldowns.lock().unwrap().is_empty(),
        "the unsent page holds no cooldown"
    );
    // Lambda retries the event: this time the page goes out.
    h.topic.fail(false);
    let outcome = h.healer.handle(&alarm, "r1", NOW + 60).await.unwrap();
    assert!(outcome.notification.unwrap().sent);
    assert_eq!(h.topic.published().len(), 1);
}

#[tokio::test]
async fn a_warm_alarm_makes_three_calls_and_the_catalog_is_read_once() {
    let list = mock!(Client::list_service_quotas).then_output(|| {
        ListServiceQuotasOutput::builder()
            .quotas(
                ServiceQuota::builder()
                    .service_code("ec2")
                    .quota_code("L-1216C47A")
                    .quota_name("Running On-Demand Standard instances")
                    .value(5.0)
                    .adjustable(true)
                    .usage_metric(
                        MetricInfo::builder()
                            .metric_namespace("AWS/Usage")
                            .metric_name("ResourceCount")
                            .metric_dimensions("Service", "EC2")
                            .metric_dimensions("Type", "Resource")
                            .metric_dimensions("Resource", "vCPU")
                            .metric_dimensions("Class", "Standard/OnDemand")
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let get = mock!(Client::get_service_quota).then_output(|| {
        GetServiceQuotaOutput::builder()
            .quota(
                ServiceQuota::builder()
                    .service_code("ec2")
                    .quota_code("L-1216C47A")
                    .value(5.0)
                    .adjustable(true)
                    .build(),
            )
            .build()
    });
    let defaults = mock!(Client::list_aws_default_service_quotas)
        .then_output(|| ListAwsDefaultServiceQuotasOutput::builder().build());
    let (history, request) = (empty_history(), request_accepted());
    let h = harness(&[&list, &defaults, &get, &history, &request]);
    // Each call is the alarm firing again: a new state change.
    let alarm = || notice("alarm-action-ec2-vcpu-usage.json");
    for i in 0..3 {
        let outcome = h
            .healer
            .handle(&alarm(), &format!("r{i}"), NOW)
            .await
            .unwrap();
        assert_eq!(outcome.decision, Decision::Raise);
    }
    assert_eq!(
        list.num_calls(),
        1,
        "ListServiceQuotas is cached for the container's life"
    );
    assert_eq!(defaults.num_calls(), 1, "and so is the defaults list");
    assert_eq!(
        get.num_calls() + history.num_calls() + request.num_calls(),
        9,
        "three calls per warm alarm"
    );
}

// The errors below are real Service Quotas answers (botocore `service-quotas` model) that the sandbox
// either cannot produce at this point of the call sequence or that are checked here against the SDK's
// own error parsing.

#[tokio::test]
async fn dependency_access_denied_is_a_missing_service_linked_role() {
    let get = mock!(Client::get_service_quota).then_output(|| lambda_quota(1000.0, true));
    let history = empty_history();
    let request = mock!(Client::request_service_quota_increase)
        .sequence()
        .http_status(
            400,
            error_body(
                "DependencyAccessDeniedException",
                "Service Quotas could not create its service-linked role",
            ),
        )
        .build();
    let h = harness(&[&get, &history, &request]);
    let outcome = h
        .healer
        .handle(&notice("alarm-action-lambda-concurrency.json"), "r", NOW)
        .await
        .unwrap();
    assert_eq!(
        (outcome.decision, outcome.reason.as_str()),
        (Decision::Escalate, "service-linked-role-missing")
    );
    let page = &h.topic.published()[0];
    assert!(
        page.email.contains("iam:CreateServiceLinkedRole"),
        "{}",
        page.email
    );
}

#[tokio::test]
async fn an_invalid_resource_state_is_its_own_reason() {
    let get = mock!(Client::get_service_quota).then_output(|| lambda_quota(1000.0, true));
    let history = empty_history();
    let request = mock!(Client::request_service_quota_increase)
        .sequence()
        .http_status(
            400,
            error_body(
                "InvalidResourceStateException",
                "The resource is in an invalid state",
            ),
        )
        .build();
    let h = harness(&[&get, &history, &request]);
    let outcome = h
        .healer
        .handle(&notice("alarm-action-lambda-concurrency.json"), "r", NOW)
        .await
        .unwrap();
    assert_eq!(outcome.reason, "invalid-resource-state");
    assert_eq!(request.num_calls(), 1, "not retried");
}

#[tokio::test]
async fn a_quota_answered_with_an_error_reason_is_reported_not_guessed() {
    let get = mock!(Client::get_service_quota).then_output(|| {
        GetServiceQuotaOutput::builder()
            .quota(
                ServiceQuota::builder()
                    .service_code("lambda")
                    .quota_code("L-B99A9384")
                    .adjustable(true)
                    .error_reason(
                        aws_sdk_servicequotas::types::ErrorReason::builder()
                            .error_code(aws_sdk_servicequotas::types::ErrorCode::DependencyAccessDeniedError)
                            .error_message("no access to lambda")
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let history = empty_history();
    let request = request_accepted();
    let h = harness(&[&get, &history, &request]);
    let outcome = h
        .healer
        .handle(&notice("alarm-action-lambda-concurrency.json"), "r", NOW)
        .await
        .unwrap();
    assert_eq!(
        (outcome.decision, outcome.reason.as_str()),
        (Decision::Escalate, "quota-value-unavailable")
    );
    assert_eq!(outcome.quota.current_value, None, "no value is invented");
    assert_eq!(request.num_calls(), 0);
    let email = &h.topic.published()[0].email;
    assert!(email.contains("DEPENDENCY_ACCESS_DENIED_ERROR"), "{email}");
}

fn pending_history() -> ListRequestedServiceQuotaChangeHistoryByQuotaOutput {
    ListRequestedServiceQuotaChangeHistoryByQuotaOutput::builder()
        .requested_quotas(
            RequestedServiceQuotaChange::builder()
                .id("request-1")
                .service_code("lambda")
                .quota_code("L-B99A9384")
                .status(RequestStatus::Pending)
                .desired_value(1500.0)
                .created(aws_smithy_types::DateTime::from_secs(NOW as i64 - 60))
                .build(),
        )
        .build()
}

#[tokio::test]
async fn a_page_whose_escalation_cannot_be_recorded_fails_and_its_retry_pages_no_more() {
    let get = mock!(Client::get_service_quota).then_output(|| lambda_quota(1000.0, false));
    let h = harness(&[&get]);
    let alarm = notice("alarm-action-lambda-concurrency.json");
    h.ledger.fail("open_escalation");
    let failed = h.healer.handle(&alarm, "r1", NOW).await;
    assert!(
        matches!(failed, Err(HealError::Ledger(ref e)) if e.operation == "open_escalation"),
        "{failed:?}"
    );
    assert_eq!(h.topic.published().len(), 1, "the page went out");
    h.ledger.heal();
    let retried = h.healer.handle(&alarm, "r1", NOW + 5).await.unwrap();
    let notification = retried.notification.unwrap();
    assert!(notification.suppressed_by_cooldown && !notification.sent);
    assert_eq!(h.topic.published().len(), 1, "Lambda's retry pages no more");
}

#[tokio::test]
async fn an_audit_that_fails_after_the_request_was_filed_fails_and_its_retry_files_nothing() {
    let get = mock!(Client::get_service_quota).then_output(|| lambda_quota(1000.0, true));
    let history = mock!(Client::list_requested_service_quota_change_history_by_quota)
        .sequence()
        .output(|| ListRequestedServiceQuotaChangeHistoryByQuotaOutput::builder().build())
        .output(pending_history)
        .build();
    let request = request_accepted();
    let h = harness(&[&get, &history, &request]);
    let alarm = notice("alarm-action-lambda-concurrency.json");
    h.ledger.fail("record");
    let failed = h.healer.handle(&alarm, "r1", NOW).await;
    assert!(
        matches!(failed, Err(HealError::Ledger(ref e)) if e.operation == "record"),
        "{failed:?}"
    );
    assert_eq!(request.num_calls(), 1, "the request was filed");
    assert!(h.ledger.audit().is_empty());
    h.ledger.heal();
    let retried = h.healer.handle(&alarm, "r1", NOW + 5).await.unwrap();
    assert_eq!(
        (retried.decision, retried.reason.as_str()),
        (Decision::None, "request-pending")
    );
    assert_eq!(request.num_calls(), 1, "the retry files nothing");
    assert_eq!(h.ledger.audit().len(), 1);
}

#[tokio::test]
async fn a_cooldown_ledger_that_is_down_still_pages() {
    let get = mock!(Client::get_service_quota).then_output(|| lambda_quota(1000.0, false));
    let h = harness(&[&get]);
    h.ledger.fail("claim_cooldown");
    let outcome = h
        .healer
        .handle(&notice("alarm-action-lambda-concurrency.json"), "r", NOW)
        .await
        .unwrap();
    assert!(outcome.notification.unwrap().sent);
    assert_eq!(h.topic.published().len(), 1);
    assert!(outcome
        .steps
        .iter()
        .any(|s| s.contains("cooldown ledger unavailable")));
}

/// A spoke's credentials that expire mid-run (AWS answers `ExpiredTokenException`, HTTP 403; the sandbox
/// cannot age credentials, so a mocked answer stands in): a clear reason, nothing filed, one page routed to
/// the account's owner, and the kept credentials dropped so that the next alarm assumes the role afresh.
#[tokio::test]
async fn credentials_that_expire_mid_run_are_escalated_once_and_forgotten() {
    let get = mock!(Client::get_service_quota)
        .sequence()
        .http_status(
            403,
            error_body(
                "ExpiredTokenException",
                "The security token included in the request is expired",
            ),
        )
        .repeatedly()
        .build();
    let request = request_accepted();
    let rules = RuleSet::from_sources(
        &[
            ("quotas.toml", include_str!("../../rules/quotas.toml")),
            (
                "accounts.toml",
                "[hub]\nspoke_role = \"selfheal-spoke\"\n[[account]]\nid = \"111111111111\"\nowner = \"payments\"\n",
            ),
        ],
        RuleSet::embedded_runbooks(),
    )
    .unwrap();
    let h = harness_with(&[&get, &request], rules);
    let mut alarm = notice("alarm-action-lambda-concurrency.json");
    alarm.account_id = Some("111111111111".into());
    let first = h.healer.handle(&alarm, "r1", NOW).await.unwrap();
    assert_eq!(
        (first.decision, first.reason.as_str()),
        (Decision::Escalate, "spoke-credentials-expired")
    );
    assert_eq!(request.num_calls(), 0, "nothing is filed");
    assert_eq!(
        h.access.forgotten.lock().unwrap().as_slice(),
        ["111111111111"]
    );
    assert_eq!(
        h.access.reached.lock().unwrap().first().map(String::as_str),
        Some("111111111111:us-east-1"),
        "the spoke is reached through its role"
    );
    // The alarm firing again: a new state change.
    alarm.transition = notice("alarm-action-lambda-concurrency.json").transition;
    let again = h.healer.handle(&alarm, "r2", NOW + 60).await.unwrap();
    assert!(again.notification.unwrap().suppressed_by_cooldown);
    let routes = h.topic.routes();
    assert_eq!(routes.len(), 1, "one page");
    assert_eq!(routes[0].account, "111111111111");
    assert_eq!(routes[0].owner.as_deref(), Some("payments"));
    assert_eq!(routes[0].reason, "spoke-credentials-expired");
    assert!(h.ledger.0.filed.lock().unwrap().is_empty());
}
