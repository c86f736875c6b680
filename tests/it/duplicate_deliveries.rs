//! One alarm transition, one decision. AWS delivers alarm actions, SNS messages and EventBridge events
//! at least once, Lambda retries asynchronous invocations that fail, and Service Quotas approves smaller
//! increases at once (Service Quotas user guide, "Requesting a quota increase"). Each test runs in both
//! of the sandbox's approval modes: requests left `PENDING` until a test decides them, and
//! `AutoApprove`, where a request is approved and applied on submission, so that a second delivery
//! finds no open request to stop it.

use crate::common;

use common::proxy::{Fault, FaultProxy};
use common::Account;
use selfheal::alarm::AlarmNotice;
use selfheal::quota::{Decision, HealError, Outcome};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

const LAMBDA: (&str, &str) = ("lambda", "L-B99A9384");
const ALARM: &str = "alarm-action-lambda-concurrency.json";
const MODES: [bool; 2] = [false, true];

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A fresh account whose requests are approved on submission when `auto_approve`.
async fn account(auto_approve: bool) -> Account {
    let account = Account::new().await;
    account
        .set_service_quotas(serde_json::json!({ "AutoApprove": auto_approve }))
        .await;
    account
}

/// `notice` delivered `times` times at once, each as its own invocation.
async fn deliver_at_once(account: &Account, notice: &AlarmNotice, times: usize) -> Vec<Outcome> {
    let healer = Arc::new(account.healer(false));
    let mut runs = tokio::task::JoinSet::new();
    for i in 0..times {
        let (healer, notice) = (healer.clone(), notice.clone());
        runs.spawn(async move {
            healer
                .handle(&notice, &format!("delivery-{i}"), now())
                .await
        });
    }
    let mut outcomes = Vec::new();
    while let Some(outcome) = runs.join_next().await {
        outcomes.push(outcome.unwrap().unwrap());
    }
    outcomes
}

fn count(outcomes: &[Outcome], decision: Decision, reason: &str) -> usize {
    outcomes
        .iter()
        .filter(|o| o.decision == decision && o.reason == reason)
        .count()
}

/// The audit records of one alarm (the ledger's `audit#quota-alarm#<alarm>` partition).
async fn audited(account: &Account, alarm: &str) -> Vec<String> {
    account
        .audit_records()
        .await
        .into_iter()
        .filter(|r| r.subject == alarm)
        .map(|r| r.reason)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_simultaneous_deliveries_of_one_alarm_file_one_request_and_page_nobody() {
    for auto_approve in MODES {
        let account = account(auto_approve).await;
        let alarm = account.notice(ALARM);
        let outcomes = deliver_at_once(&account, &alarm, 8).await;
        assert_eq!(
            count(&outcomes, Decision::Raise, "raise"),
            1,
            "auto_approve {auto_approve}: {outcomes:#?}"
        );
        assert_eq!(
            count(&outcomes, Decision::None, "duplicate-delivery"),
            7,
            "auto_approve {auto_approve}: {outcomes:#?}"
        );
        let requests = account.requests(LAMBDA.0, LAMBDA.1).await;
        assert_eq!(requests.len(), 1, "auto_approve {auto_approve}");
        assert_eq!(requests[0].desired_value, Some(1500.0));
        assert!(account.deliveries().await.is_empty(), "nobody paged");
        let mut reasons = audited(&account, &alarm.alarm_name).await;
        reasons.sort();
        assert_eq!(reasons.len(), 8, "every delivery is audited: {reasons:?}");
        assert_eq!(
            reasons
                .iter()
                .filter(|r| *r == "duplicate-delivery")
                .count(),
            7
        );

        // The same event delivered again an hour later (SNS retries for up to 23 days).
        let late = account
            .healer(false)
            .handle(&alarm, "late", now() + 3600)
            .await
            .unwrap();
        assert_eq!(
            (late.decision, late.reason.as_str()),
            (Decision::None, "duplicate-delivery")
        );
        assert_eq!(account.requests(LAMBDA.0, LAMBDA.1).await.len(), 1);
    }
}

#[tokio::test]
async fn a_new_transition_after_the_alarm_returned_to_ok_files_the_next_step() {
    for auto_approve in MODES {
        let account = account(auto_approve).await;
        let healer = account.healer(false);
        let first = healer
            .handle(&account.notice(ALARM), "r1", now())
            .await
            .unwrap();
        assert_eq!(first.decision, Decision::Raise, "{first:#?}");
        if !auto_approve {
            account
                .decide_request(&first.request.unwrap().id, "APPROVED")
                .await;
        }
        let ok = healer
            .handle(
                &account.notice("alarm-action-lambda-concurrency-ok.json"),
                "r2",
                now(),
            )
            .await
            .unwrap();
        assert_eq!(ok.reason, "ok-nothing-escalated");
        // A later state-change timestamp: the alarm entered ALARM again.
        let again = healer
            .handle(&account.notice(ALARM), "r3", now())
            .await
            .unwrap();
        assert_eq!(
            (
                again.decision,
                again.quota.current_value,
                again.quota.desired_value
            ),
            (Decision::Raise, Some(1500.0), Some(2250.0)),
            "auto_approve {auto_approve}: {again:#?}"
        );
        assert_eq!(account.requests(LAMBDA.0, LAMBDA.1).await.len(), 2);
    }
}

#[tokio::test]
async fn a_delivery_of_the_raised_episode_by_another_path_changes_nothing() {
    // The alarm raised the quota (approved at once); then the same episode reaches the function as
    // another input with an earlier moment, as when the threshold notice and the alarm cross.
    let account = account(true).await;
    let healer = account.healer(false);
    let earlier = account.notice(ALARM);
    let first = healer
        .handle(&account.notice(ALARM), "r1", now())
        .await
        .unwrap();
    assert_eq!(first.decision, Decision::Raise);
    let stale = healer.handle(&earlier, "r2", now()).await.unwrap();
    assert_eq!(
        (stale.decision, stale.reason.as_str()),
        (Decision::None, "already-raised"),
        "{stale:#?}"
    );
    let step = stale
        .steps
        .iter()
        .find(|s| s.contains("raised after this alarm's state change"))
        .unwrap_or_else(|| panic!("{:#?}", stale.steps));
    assert!(step.contains("the applied value is 1500"), "{step}");
    assert!(step.contains("evaluated against"), "{step}");
    assert_eq!(account.requests(LAMBDA.0, LAMBDA.1).await.len(), 1);
    assert!(account.deliveries().await.is_empty());
}

#[tokio::test]
async fn a_run_that_fails_after_its_claim_is_retried_and_files_once() {
    for auto_approve in MODES {
        let account = account(auto_approve).await;
        let proxy = FaultProxy::start(&common::endpoint()).await;
        let sdk = proxy.sdk_config(&account.id).await;
        let healer = account.healer_through(&sdk, false);
        let alarm = account.notice(ALARM);
        // The write that confirms the claim and records the plan, just before the request, fails
        // past the SDK's retries.
        proxy.inject(
            "DynamoDB_20120810.UpdateItem",
            Fault::Throttle,
            selfheal::aws::MAX_ATTEMPTS as usize,
        );
        let failed = healer.handle(&alarm, "r1", now()).await;
        assert!(
            matches!(failed, Err(HealError::Ledger(_))),
            "auto_approve {auto_approve}: {failed:?}"
        );
        assert!(account.requests(LAMBDA.0, LAMBDA.1).await.is_empty());
        // Lambda retries the invocation (same event, same request id): the claim was released.
        let retried = healer.handle(&alarm, "r1", now() + 60).await.unwrap();
        assert_eq!(retried.decision, Decision::Raise, "{retried:#?}");
        // A second retry (or another delivery) after the success does nothing.
        let third = healer.handle(&alarm, "r1", now() + 120).await.unwrap();
        assert_eq!(third.reason, "duplicate-delivery", "{third:#?}");
        assert_eq!(account.requests(LAMBDA.0, LAMBDA.1).await.len(), 1);
        assert!(account.deliveries().await.is_empty());
    }
}

#[tokio::test]
async fn a_lost_race_is_read_again_and_never_paged() {
    // Two deliveries that are two inputs (say an alarm and the threshold notice of one quota, or two
    // transitions a second apart) both plan 1000 -> 1500; the second request reaches AWS after the
    // first was approved (IllegalArgumentException) or while it is open (ResourceAlreadyExists).
    for auto_approve in MODES {
        let account = account(auto_approve).await;
        let proxy = FaultProxy::start(&common::endpoint()).await;
        let sdk = proxy.sdk_config(&account.id).await;
        let healer = Arc::new(account.healer_through(&sdk, false));
        // The first request is slowed so that the second delivery reads before it is filed.
        proxy.inject(
            "RequestServiceQuotaIncrease",
            Fault::Slow(std::time::Duration::from_millis(300)),
            2,
        );
        let (a, b) = (account.notice(ALARM), account.notice(ALARM));
        let (first, second) = tokio::join!(
            healer.handle(&a, "r1", now()),
            healer.handle(&b, "r2", now())
        );
        let outcomes = [first.unwrap(), second.unwrap()];
        assert_eq!(
            count(&outcomes, Decision::Raise, "raise"),
            1,
            "auto_approve {auto_approve}: {outcomes:#?}"
        );
        let lost = outcomes
            .iter()
            .find(|o| o.decision != Decision::Raise)
            .unwrap();
        let expected = if auto_approve {
            "already-raised"
        } else {
            "request-pending"
        };
        assert_eq!(
            (lost.decision, lost.reason.as_str()),
            (Decision::None, expected),
            "{lost:#?}"
        );
        assert_eq!(proxy.requests("RequestServiceQuotaIncrease"), 2);
        assert_eq!(account.requests(LAMBDA.0, LAMBDA.1).await.len(), 1);
        assert!(account.deliveries().await.is_empty(), "no aws-error page");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_deliveries_of_one_threshold_notice_raise_each_quota_once() {
    for auto_approve in MODES {
        let account = account(auto_approve).await;
        let event = common::fixture("health-quota-threshold.json")
            .to_string()
            .replace("123456789012", &account.id);
        let notices =
            selfheal::alarm::parse_alarm_event(&serde_json::from_str(&event).unwrap()).unwrap();
        assert_eq!(notices.len(), 2);
        for notice in &notices {
            let outcomes = deliver_at_once(&account, notice, 8).await;
            assert_eq!(
                count(&outcomes, Decision::Raise, "raise"),
                1,
                "auto_approve {auto_approve}: {outcomes:#?}"
            );
            assert_eq!(count(&outcomes, Decision::None, "duplicate-delivery"), 7);
        }
        assert_eq!(account.requests(LAMBDA.0, LAMBDA.1).await.len(), 1);
        assert_eq!(account.requests("ec2", "L-1216C47A").await.len(), 1);
        assert!(account.deliveries().await.is_empty());
    }
}

#[tokio::test]
async fn a_sweep_run_twice_on_one_report_raises_once() {
    for auto_approve in MODES {
        let account = account(auto_approve).await;
        account
            .set_service_quotas(serde_json::json!({ "ReuseReports": true }))
            .await;
        account.set_usage(LAMBDA.0, LAMBDA.1, 900.0).await;
        let healer = account.healer(false);
        let first = healer.sweep(80.0, false, "sweep-1", now()).await.unwrap();
        let second = healer.sweep(80.0, false, "sweep-2", now()).await.unwrap();
        assert_eq!(second.report_id, first.report_id, "AWS reused the report");
        let decisions = |r: &selfheal::quota::sweep::SweepReport| {
            r.outcomes
                .iter()
                .map(|o| (o.decision, o.reason.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(decisions(&first), [(Decision::Raise, "raise".to_owned())]);
        assert_eq!(
            decisions(&second),
            [(Decision::None, "duplicate-delivery".to_owned())],
            "auto_approve {auto_approve}"
        );
        assert_eq!(account.requests(LAMBDA.0, LAMBDA.1).await.len(), 1);
        assert!(account.deliveries().await.is_empty());
    }
}
