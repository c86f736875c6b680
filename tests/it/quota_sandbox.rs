//! The quota function's core against the sandbox (moto's server over real HTTP, through the real
//! SDK clients). Needs `scripts/sandbox start`; `scripts/test` starts it.

use crate::common;

use common::{Account, EMAIL, PHONE};
use selfheal::quota::{quota_healer, Decision};
use selfheal::rules::RuleSet;

const LAMBDA: (&str, &str) = ("lambda", "L-B99A9384");
const ALB: (&str, &str) = ("elasticloadbalancing", "L-7E6692B2");

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn every_delivery_path_raises_lambda_concurrency_by_half() {
    for fixture in [
        "alarm-action-lambda-concurrency.json",
        "sns-lambda-concurrency.json",
        "eventbridge-lambda-concurrency.json",
    ] {
        let account = Account::new().await;
        let outcome = account
            .healer(false)
            .handle(&account.notice(fixture), "req-1", now())
            .await
            .unwrap();
        assert_eq!(outcome.decision, Decision::Raise, "{fixture}: {outcome:#?}");
        assert_eq!(outcome.quota.quota_code.as_deref(), Some(LAMBDA.1));
        assert_eq!(outcome.quota.current_value, Some(1000.0));
        assert_eq!(outcome.quota.desired_value, Some(1500.0));
        assert_eq!(
            outcome.rule.as_deref(),
            Some("lambda-concurrent-executions")
        );
        let requests = account.requests(LAMBDA.0, LAMBDA.1).await;
        assert_eq!(requests.len(), 1, "{fixture}");
        assert_eq!(requests[0].desired_value, Some(1500.0));
        assert_eq!(requests[0].status.as_ref().unwrap().as_str(), "PENDING");
        assert_eq!(
            outcome.request.as_ref().unwrap().id,
            requests[0].id.clone().unwrap()
        );
        assert!(
            account.deliveries().await.is_empty(),
            "{fixture}: nobody is paged for a raise"
        );
    }
}

#[tokio::test]
async fn a_pending_request_is_never_filed_twice() {
    let account = Account::new().await;
    let healer = account.healer(false);
    // Each call is the alarm firing again: a new state change.
    let alarm = || account.notice("alarm-action-lambda-concurrency.json");
    assert_eq!(
        healer.handle(&alarm(), "r1", now()).await.unwrap().decision,
        Decision::Raise
    );
    let again = healer.handle(&alarm(), "r2", now()).await.unwrap();
    assert_eq!(again.decision, Decision::None);
    assert_eq!(again.reason, "request-pending");
    assert_eq!(again.quota.quota_code.as_deref(), Some(LAMBDA.1));
    let id = account.requests(LAMBDA.0, LAMBDA.1).await[0]
        .id
        .clone()
        .unwrap();
    account.decide_request(&id, "CASE_OPENED").await;
    let third = healer.handle(&alarm(), "r3", now()).await.unwrap();
    assert_eq!(third.reason, "request-pending");
    assert_eq!(account.requests(LAMBDA.0, LAMBDA.1).await.len(), 1);
}

#[tokio::test]
async fn after_an_approval_the_next_alarm_raises_from_the_new_value() {
    let account = Account::new().await;
    let healer = account.healer(false);
    // Each call is the alarm firing again: a new state change.
    let alarm = || account.notice("alarm-action-lambda-concurrency.json");
    let first = healer.handle(&alarm(), "r1", now()).await.unwrap();
    account
        .decide_request(&first.request.unwrap().id, "APPROVED")
        .await;
    let second = healer.handle(&alarm(), "r2", now()).await.unwrap();
    assert_eq!(second.decision, Decision::Raise, "{second:#?}");
    assert_eq!(
        (second.quota.current_value, second.quota.desired_value),
        (Some(1500.0), Some(2250.0))
    );
}

#[tokio::test]
async fn the_usage_metric_alone_finds_the_quota_and_its_rule() {
    let account = Account::new().await;
    let outcome = account
        .healer(false)
        .handle(
            &account.notice("alarm-action-ec2-vcpu-usage.json"),
            "r",
            now(),
        )
        .await
        .unwrap();
    assert_eq!(outcome.decision, Decision::Raise, "{outcome:#?}");
    assert_eq!(outcome.quota.quota_code.as_deref(), Some("L-1216C47A"));
    assert_eq!(
        outcome.rule.as_deref(),
        Some("ec2-on-demand-standard-vcpus")
    );
    assert_eq!(
        (outcome.quota.current_value, outcome.quota.desired_value),
        (Some(5.0), Some(69.0))
    );
}

#[tokio::test]
async fn a_quota_without_a_rule_gets_the_defaults_within_a_derived_ceiling() {
    let account = Account::new().await;
    let healer = account.healer(false);
    let alarm = account.notice("alarm-action-logs-call-rate.json");
    let outcome = healer.handle(&alarm, "r", now()).await.unwrap();
    assert_eq!(outcome.decision, Decision::Raise, "{outcome:#?}");
    assert_eq!(outcome.rule, None);
    assert_eq!(
        (outcome.quota.desired_value, outcome.quota.ceiling),
        (Some(7500.0), Some(20000.0))
    );

    // At the derived ceiling (4 x the AWS default of 5000) there is no room left.
    let account = Account::new().await;
    account.set_quota_value("logs", "L-7E1FAE88", 20000.0).await;
    let outcome = account
        .healer(false)
        .handle(
            &account.notice("alarm-action-logs-call-rate.json"),
            "r",
            now(),
        )
        .await
        .unwrap();
    assert_eq!(outcome.decision, Decision::Escalate);
    assert_eq!(outcome.reason, "ceiling-reached");
}

#[tokio::test]
async fn the_ceiling_caps_the_request_then_escalates() {
    let account = Account::new().await;
    let healer = account.healer(false);
    let alarm = account.notice("alarm-action-lambda-concurrency.json");
    account.set_quota_value(LAMBDA.0, LAMBDA.1, 8000.0).await;
    let capped = healer.handle(&alarm, "r1", now()).await.unwrap();
    assert_eq!(
        (capped.decision, capped.quota.desired_value),
        (Decision::Raise, Some(10000.0))
    );

    let account = Account::new().await;
    account.set_quota_value(LAMBDA.0, LAMBDA.1, 10000.0).await;
    let outcome = account
        .healer(false)
        .handle(
            &account.notice("alarm-action-lambda-concurrency.json"),
            "r2",
            now(),
        )
        .await
        .unwrap();
    assert_eq!(outcome.decision, Decision::Escalate, "{outcome:#?}");
    assert_eq!(outcome.reason, "ceiling-reached");
    assert_eq!(outcome.runbook.as_deref(), Some("lambda-concurrency"));
    assert!(account.requests(LAMBDA.0, LAMBDA.1).await.is_empty());
    let deliveries = account.deliveries().await;
    let sms = deliveries
        .iter()
        .find(|d| d["protocol"] == "sms")
        .expect("an SMS");
    let email = deliveries
        .iter()
        .find(|d| d["protocol"] == "email")
        .expect("an email");
    assert_eq!(sms["endpoint"], PHONE);
    assert_eq!(email["endpoint"], EMAIL);
    let sms_text = sms["message"].as_str().unwrap();
    assert!(sms_text.len() <= 140, "{sms_text}");
    assert!(sms_text.contains("RB:lambda-concurrency"), "{sms_text}");
    let email_text = email["message"].as_str().unwrap();
    assert!(email_text.contains("Ceiling      : 10000"), "{email_text}");
    assert!(email_text.contains("https://runbooks.example.com/selfheal/lambda-concurrency.md"));
    assert!(email_text.contains("servicequotas/home/services/lambda/quotas/L-B99A9384"));
    let subject = email["subject"].as_str().unwrap();
    assert!(
        subject.len() < 100 && subject.starts_with("[selfheal] ESCALATION"),
        "{subject}"
    );
}

#[tokio::test]
async fn a_flapping_alarm_at_its_ceiling_pages_once() {
    let account = Account::new().await;
    account.set_quota_value(ALB.0, ALB.1, 2000.0).await;
    let healer = account.healer(false);
    // Each call is the alarm firing again: a new state change.
    let alarm = || account.notice("alarm-action-alb-targets.json");
    let mut outcomes = Vec::new();
    for i in 0..5 {
        outcomes.push(
            healer
                .handle(&alarm(), &format!("r{i}"), now())
                .await
                .unwrap(),
        );
    }
    assert!(outcomes
        .iter()
        .all(|o| o.decision == Decision::Escalate && o.reason == "ceiling-reached"));
    let sent: Vec<bool> = outcomes
        .iter()
        .map(|o| o.notification.as_ref().unwrap().sent)
        .collect();
    assert_eq!(sent, [true, false, false, false, false]);
    let deliveries = account.deliveries().await;
    assert_eq!(
        deliveries.len(),
        2,
        "one SMS and one email: {deliveries:#?}"
    );
    assert_eq!(
        outcomes[0].notification.as_ref().unwrap().dedup_key,
        format!(
            "selfheal:{}:us-east-1:elasticloadbalancing/L-7E6692B2:ceiling-reached",
            account.id
        )
    );
}

#[tokio::test]
async fn an_alarm_that_identifies_no_quota_is_escalated() {
    let account = Account::new().await;
    let outcome = account
        .healer(false)
        .handle(
            &account.notice("alarm-action-unknown-metric.json"),
            "r",
            now(),
        )
        .await
        .unwrap();
    assert_eq!(outcome.decision, Decision::Escalate);
    assert_eq!(outcome.reason, "no-quota-found");
    assert_eq!(outcome.quota.quota_code, None);
    let deliveries = account.deliveries().await;
    assert!(deliveries
        .iter()
        .any(|d| d["protocol"] == "sms"
            && d["message"].as_str().unwrap().contains("RB:no-quota-found")));
}

#[tokio::test]
async fn a_denied_request_is_escalated_not_retried() {
    let account = Account::new().await;
    let healer = account.healer(false);
    // Each call is the alarm firing again: a new state change.
    let alarm = || account.notice("alarm-action-lambda-concurrency.json");
    let first = healer.handle(&alarm(), "r1", now()).await.unwrap();
    account
        .decide_request(&first.request.unwrap().id, "DENIED")
        .await;
    let second = healer.handle(&alarm(), "r2", now()).await.unwrap();
    assert_eq!(second.decision, Decision::Escalate, "{second:#?}");
    assert_eq!(second.reason, "request-denied");
    assert_eq!(account.requests(LAMBDA.0, LAMBDA.1).await.len(), 1);
}

#[tokio::test]
async fn a_resolution_goes_out_only_after_an_escalation() {
    let account = Account::new().await;
    let healer = account.healer(false);
    // Each call is a new return to OK.
    let ok = || account.notice("alarm-action-lambda-concurrency-ok.json");
    let quiet = healer.handle(&ok(), "r1", now()).await.unwrap();
    assert_eq!(
        (quiet.decision, quiet.reason.as_str()),
        (Decision::None, "ok-nothing-escalated")
    );
    assert!(account.deliveries().await.is_empty());

    account.set_quota_value(LAMBDA.0, LAMBDA.1, 10000.0).await;
    // Each call is the alarm firing again: a new state change.
    let alarm = || account.notice("alarm-action-lambda-concurrency.json");
    assert_eq!(
        healer.handle(&alarm(), "r2", now()).await.unwrap().decision,
        Decision::Escalate
    );
    let resolved = healer.handle(&ok(), "r3", now()).await.unwrap();
    assert_eq!(resolved.reason, "resolved", "{resolved:#?}");
    let deliveries = account.deliveries().await;
    assert_eq!(
        deliveries.len(),
        4,
        "escalation and resolution, SMS and email each"
    );
    assert!(deliveries[2..]
        .iter()
        .all(|d| d["subject"].as_str().unwrap().contains("RESOLVED")));
    // A second OK finds nothing open.
    let again = healer.handle(&ok(), "r4", now()).await.unwrap();
    assert_eq!(again.reason, "ok-nothing-escalated");
    assert_eq!(account.deliveries().await.len(), 4);
}

#[tokio::test]
async fn other_states_are_ignored() {
    let account = Account::new().await;
    let outcome = account
        .healer(false)
        .handle(
            &account.notice("alarm-action-insufficient-data.json"),
            "r",
            now(),
        )
        .await
        .unwrap();
    assert_eq!(
        (outcome.decision, outcome.reason.as_str()),
        (Decision::None, "ignored-state")
    );
    assert!(account.requests(LAMBDA.0, LAMBDA.1).await.is_empty());
}

#[tokio::test]
async fn a_dry_run_plans_and_changes_nothing() {
    let account = Account::new().await;
    let raise = account
        .healer(true)
        .handle(
            &account.notice("alarm-action-lambda-concurrency.json"),
            "r",
            now(),
        )
        .await
        .unwrap();
    assert_eq!(
        (raise.decision, raise.quota.desired_value, raise.dry_run),
        (Decision::Raise, Some(1500.0), true)
    );
    account.set_quota_value(ALB.0, ALB.1, 2000.0).await;
    let escalate = account
        .healer(true)
        .handle(&account.notice("alarm-action-alb-targets.json"), "r", now())
        .await
        .unwrap();
    assert_eq!(
        (escalate.decision, escalate.reason.as_str()),
        (Decision::Escalate, "ceiling-reached")
    );
    assert!(account.requests(LAMBDA.0, LAMBDA.1).await.is_empty());
    assert!(account.deliveries().await.is_empty());
    let items = account
        .dynamodb
        .scan()
        .table_name(&account.table)
        .send()
        .await
        .unwrap();
    // Only the audit trail: each dry run is one record, marked so; no claim, cooldown or request.
    let audit = account.audit_records().await;
    assert_eq!(audit.len(), 2, "{audit:#?}");
    assert!(audit.iter().all(|r| r.dry_run));
    assert_eq!(
        items.count as usize,
        audit.len(),
        "a dry run writes only its audit record"
    );
}

#[tokio::test]
async fn every_decision_is_audited_with_a_ttl() {
    let account = Account::new().await;
    let healer = account.healer(false);
    healer
        .handle(
            &account.notice("alarm-action-lambda-concurrency.json"),
            "req-a",
            now(),
        )
        .await
        .unwrap();
    account.set_quota_value(ALB.0, ALB.1, 2000.0).await;
    healer
        .handle(
            &account.notice("alarm-action-alb-targets.json"),
            "req-b",
            now(),
        )
        .await
        .unwrap();
    let items = account
        .dynamodb
        .scan()
        .table_name(&account.table)
        .send()
        .await
        .unwrap()
        .items
        .unwrap();
    let audits: Vec<_> = items
        .iter()
        .filter(|i| i["pk"].as_s().unwrap().starts_with("audit#quota#"))
        .collect();
    assert_eq!(audits.len(), 2);
    let records = account.audit_records().await;
    let decisions: Vec<&str> = records.iter().map(|r| r.decision.as_str()).collect();
    assert!(records
        .iter()
        .all(|r| r.account == account.id && !r.dry_run));
    assert!(
        decisions.contains(&"raise") && decisions.contains(&"escalate"),
        "{decisions:?}"
    );
    assert!(audits.iter().all(|i| i.contains_key("expires_at")));
}

#[tokio::test]
async fn an_alarm_of_another_account_never_touches_this_one() {
    let account = Account::new().await;
    let mut alarm = account.notice("alarm-action-lambda-concurrency.json");
    alarm.account_id = Some("999988887777".into());
    let outcome = account
        .healer(false)
        .handle(&alarm, "r", now())
        .await
        .unwrap();
    assert_eq!(
        (outcome.decision, outcome.reason.as_str()),
        (Decision::Escalate, "other-account"),
        "{outcome:#?}"
    );
    assert!(account.requests(LAMBDA.0, LAMBDA.1).await.is_empty());
    let deliveries = account.deliveries().await;
    let sms = deliveries
        .iter()
        .find(|d| d["protocol"] == "sms")
        .expect("an SMS");
    assert!(
        sms["message"]
            .as_str()
            .unwrap()
            .contains("RB:other-account"),
        "{sms}"
    );
    let email = deliveries
        .iter()
        .find(|d| d["protocol"] == "email")
        .unwrap();
    assert!(
        email["message"].as_str().unwrap().contains("999988887777"),
        "the page names the alarm's account"
    );
}

#[tokio::test]
async fn an_alarm_of_another_region_never_raises_this_regions_quota() {
    let account = Account::new().await;
    let mut alarm = account.notice("alarm-action-lambda-concurrency.json");
    alarm.region = Some("eu-west-1".into());
    let outcome = account
        .healer(false)
        .handle(&alarm, "r", now())
        .await
        .unwrap();
    assert_eq!(
        (outcome.decision, outcome.reason.as_str()),
        (Decision::Escalate, "other-region"),
        "{outcome:#?}"
    );
    assert!(account.requests(LAMBDA.0, LAMBDA.1).await.is_empty());
}

#[tokio::test]
async fn a_quota_whose_applied_value_is_not_reported_falls_back_to_its_default() {
    let account = Account::new().await;
    account
        .set_service_quotas(serde_json::json!({
            "HiddenAppliedValues": [["lambda", "L-B99A9384"], ["ec2", "L-1216C47A"]]
        }))
        .await;
    // By alarm name: GetServiceQuota answers NoSuchResourceException.
    let outcome = account
        .healer(false)
        .handle(
            &account.notice("alarm-action-lambda-concurrency.json"),
            "r1",
            now(),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            outcome.decision,
            outcome.quota.current_value,
            outcome.quota.desired_value
        ),
        (Decision::Raise, Some(1000.0), Some(1500.0)),
        "{outcome:#?}"
    );
    assert!(
        outcome
            .steps
            .iter()
            .any(|s| s
                .contains("GetAWSDefaultServiceQuota: default 1000 taken as the current value")),
        "{:#?}",
        outcome.steps
    );
    // By usage metric: ListServiceQuotas leaves the quota out; the defaults list has it.
    let outcome = account
        .healer(false)
        .handle(
            &account.notice("alarm-action-ec2-vcpu-usage.json"),
            "r2",
            now(),
        )
        .await
        .unwrap();
    assert_eq!(
        (outcome.decision, outcome.quota.quota_code.as_deref()),
        (Decision::Raise, Some("L-1216C47A")),
        "{outcome:#?}"
    );
}

#[tokio::test]
async fn support_cases_are_allowed_unless_a_rule_says_no() {
    let account = Account::new().await;
    let healer = account.healer(false);
    let alarm = account.notice("alarm-action-lambda-concurrency.json");
    let first = healer.handle(&alarm, "r1", now()).await.unwrap();
    let id = first.request.unwrap().id;
    account.decide_request(&id, "CASE_OPENED").await;
    let requests = account.requests(LAMBDA.0, LAMBDA.1).await;
    assert_eq!(
        requests[0].status.as_ref().unwrap().as_str(),
        "CASE_OPENED",
        "the shipped rules let AWS open a case"
    );

    // A rule that forbids cases: a request that needs review ends NOT_APPROVED, and that is not
    // "AWS said no".
    let account = Account::new().await;
    let healer = account.healer_with_rules(
        "[[quota]]\nname = \"lambda\"\nalarm = \"*lambda*\"\nservice_code = \"lambda\"\nquota_code = \"L-B99A9384\"\nincrease = \"50%\"\nceiling = 10000\nsupport_case = false\n",
    );
    // Each call is the alarm firing again: a new state change.
    let alarm = || account.notice("alarm-action-lambda-concurrency.json");
    let first = healer.handle(&alarm(), "r1", now()).await.unwrap();
    account
        .decide_request(&first.request.unwrap().id, "CASE_OPENED")
        .await;
    let requests = account.requests(LAMBDA.0, LAMBDA.1).await;
    assert_eq!(
        requests[0].status.as_ref().unwrap().as_str(),
        "NOT_APPROVED"
    );
    let second = healer.handle(&alarm(), "r2", now()).await.unwrap();
    assert_eq!(
        (second.decision, second.reason.as_str()),
        (Decision::Escalate, "request-not-approved"),
        "{second:#?}"
    );
    assert_eq!(account.requests(LAMBDA.0, LAMBDA.1).await.len(), 1);

    // The same history under the shipped rules (cases allowed): file again, a case can now open.
    let third = account
        .healer(false)
        .handle(&alarm(), "r3", now())
        .await
        .unwrap();
    assert_eq!(third.decision, Decision::Raise, "{third:#?}");
}

#[tokio::test]
async fn a_closed_case_is_read_not_filed_again() {
    let account = Account::new().await;
    let healer = account.healer(false);
    // Each call is the alarm firing again: a new state change.
    let alarm = || account.notice("alarm-action-lambda-concurrency.json");
    let first = healer.handle(&alarm(), "r1", now()).await.unwrap();
    account.close_case(&first.request.unwrap().id, false).await;
    let second = healer.handle(&alarm(), "r2", now()).await.unwrap();
    assert_eq!(
        (second.decision, second.reason.as_str()),
        (Decision::Escalate, "case-closed"),
        "{second:#?}"
    );
    assert_eq!(account.requests(LAMBDA.0, LAMBDA.1).await.len(), 1);

    // A case that closed with the quota raised: the alarm firing again means more is needed.
    let account = Account::new().await;
    let healer = account.healer(false);
    let alarm = || account.notice("alarm-action-lambda-concurrency.json");
    let first = healer.handle(&alarm(), "r1", now()).await.unwrap();
    account.close_case(&first.request.unwrap().id, true).await;
    let second = healer.handle(&alarm(), "r2", now()).await.unwrap();
    assert_eq!(
        (
            second.decision,
            second.quota.current_value,
            second.quota.desired_value
        ),
        (Decision::Raise, Some(1500.0), Some(2250.0)),
        "{second:#?}"
    );
}

#[tokio::test]
async fn a_missing_service_linked_role_and_too_many_open_requests_are_named() {
    let account = Account::new().await;
    account
        .set_service_quotas(serde_json::json!({"ServiceLinkedRole": false}))
        .await;
    let outcome = account
        .healer(false)
        .handle(
            &account.notice("alarm-action-lambda-concurrency.json"),
            "r1",
            now(),
        )
        .await
        .unwrap();
    assert_eq!(
        outcome.reason, "service-linked-role-missing",
        "{outcome:#?}"
    );

    let account = Account::new().await;
    account
        .set_service_quotas(serde_json::json!({"OpenRequestLimit": 1}))
        .await;
    let healer = account.healer(false);
    let first = healer
        .handle(
            &account.notice("alarm-action-lambda-concurrency.json"),
            "r1",
            now(),
        )
        .await
        .unwrap();
    assert_eq!(first.decision, Decision::Raise);
    let second = healer
        .handle(
            &account.notice("alarm-action-ec2-vcpu-usage.json"),
            "r2",
            now(),
        )
        .await
        .unwrap();
    assert_eq!(second.reason, "too-many-open-requests", "{second:#?}");
}

#[tokio::test]
async fn targets_per_application_load_balancer_is_raised() {
    let account = Account::new().await;
    let outcome = account
        .healer(false)
        .handle(&account.notice("alarm-action-alb-targets.json"), "r", now())
        .await
        .unwrap();
    assert_eq!(
        (
            outcome.decision,
            outcome.quota.current_value,
            outcome.quota.desired_value
        ),
        (Decision::Raise, Some(1000.0), Some(1100.0)),
        "{outcome:#?}"
    );
}

/// Service Quotas' threshold notice (an AWS Health event) for this account, with `entries` as its
/// quota list.
fn threshold_event(account: &Account, entries: &[&str]) -> serde_json::Value {
    let mut event = common::fixture("health-quota-threshold.json");
    event["account"] = serde_json::json!(account.id);
    event["resources"] = serde_json::json!(entries);
    event["detail"]["affectedEntities"] = serde_json::json!(entries
        .iter()
        .map(|e| serde_json::json!({"entityValue": e}))
        .collect::<Vec<_>>());
    event
}

#[tokio::test]
async fn a_threshold_notice_raises_each_quota_it_names_by_name() {
    let account = Account::new().await;
    let event = common::fixture("health-quota-threshold.json")
        .to_string()
        .replace("123456789012", &account.id);
    let notices =
        selfheal::alarm::parse_alarm_event(&serde_json::from_str(&event).unwrap()).unwrap();
    assert_eq!(
        notices.len(),
        2,
        "each quota once, though named in two lists"
    );
    let healer = account.healer(false);
    let mut outcomes = Vec::new();
    for notice in &notices {
        outcomes.push(healer.handle(notice, "req-h", now()).await.unwrap());
    }
    assert_eq!(
        outcomes
            .iter()
            .map(|o| (o.decision, o.quota.quota_code.clone().unwrap()))
            .collect::<Vec<_>>(),
        [
            (Decision::Raise, LAMBDA.1.to_owned()),
            (Decision::Raise, "L-1216C47A".to_owned())
        ],
        "{outcomes:#?}"
    );
    assert_eq!(
        outcomes[1].rule.as_deref(),
        Some("ec2-on-demand-standard-vcpus")
    );
    assert_eq!(account.requests(LAMBDA.0, LAMBDA.1).await.len(), 1);
    assert_eq!(account.requests("ec2", "L-1216C47A").await.len(), 1);
    // The quotas named again by Service Quotas' next notice (at 95 %: another event, another id): the
    // requests are pending.
    for notice in &notices {
        let mut again = notice.clone();
        if let Some(transition) = &mut again.transition {
            transition.id.push_str("-95");
        }
        let again = healer.handle(&again, "req-h2", now()).await.unwrap();
        assert_eq!(again.reason, "request-pending", "{again:#?}");
    }
    assert_eq!(account.requests(LAMBDA.0, LAMBDA.1).await.len(), 1);
}

#[tokio::test]
async fn a_threshold_notice_naming_no_known_quota_is_escalated_never_guessed() {
    let account = Account::new().await;
    let event = threshold_event(
        &account,
        &[
            "Service: lambda | Quota Name: Concurrent Executions | Utilization: 90.0%",
            "Service: lambda | Concurrent executions at 90%",
        ],
    );
    let notices = selfheal::alarm::parse_alarm_event(&event).unwrap();
    let healer = account.healer(false);
    for notice in &notices {
        let outcome = healer.handle(notice, "req-n", now()).await.unwrap();
        assert_eq!(outcome.decision, Decision::Escalate, "{outcome:#?}");
        assert_eq!(outcome.reason, "no-quota-found");
    }
    assert!(
        account.requests(LAMBDA.0, LAMBDA.1).await.is_empty(),
        "a name off by one letter's case raises nothing"
    );
    assert_eq!(
        account.deliveries().await.len() % 2,
        0,
        "each page reaches SMS and email"
    );
    assert!(!account.deliveries().await.is_empty());
}

#[tokio::test]
async fn where_aws_adjusts_a_quota_itself_no_second_request_is_filed() {
    use aws_sdk_servicequotas::types::{OptInLevel, OptInType};
    let account = Account::new().await;
    account
        .quotas
        .start_auto_management()
        .opt_in_level(OptInLevel::Account)
        .opt_in_type(OptInType::NotifyAndAdjust)
        .exclusion_list("elasticloadbalancing", vec![ALB.1.to_owned()])
        .send()
        .await
        .unwrap();
    let healer = account.healer(false);
    let lambda = healer
        .handle(
            &account.notice("alarm-action-lambda-concurrency.json"),
            "r1",
            now(),
        )
        .await
        .unwrap();
    assert_eq!(
        (lambda.decision, lambda.reason.as_str()),
        (Decision::None, "aws-adjusts"),
        "{lambda:#?}"
    );
    assert!(account.requests(LAMBDA.0, LAMBDA.1).await.is_empty());
    // A quota AWS's Automatic Management excludes is raised as usual.
    let alb = healer
        .handle(
            &account.notice("alarm-action-alb-targets.json"),
            "r2",
            now(),
        )
        .await
        .unwrap();
    assert_eq!(alb.decision, Decision::Raise, "{alb:#?}");
    // A rule may ask for selfheal's request anyway.
    let rules = "[[quota]]\nname = \"lambda\"\nalarm = \"*lambda-concurrent-executions*\"\nservice_code = \"lambda\"\n\
                 quota_code = \"L-B99A9384\"\nincrease = \"+50%\"\nceiling = 5000\nraise_when_aws_adjusts = true\n";
    let insisting = account
        .healer_with_rules(rules)
        .handle(
            &account.notice("alarm-action-lambda-concurrency.json"),
            "r3",
            now(),
        )
        .await
        .unwrap();
    assert_eq!(insisting.decision, Decision::Raise, "{insisting:#?}");
}

#[tokio::test]
async fn notices_only_or_automatic_management_never_started_change_nothing() {
    use aws_sdk_servicequotas::types::{OptInLevel, OptInType};
    let never = Account::new().await;
    let outcome = never
        .healer(false)
        .handle(
            &never.notice("alarm-action-lambda-concurrency.json"),
            "r1",
            now(),
        )
        .await
        .unwrap();
    assert_eq!(outcome.decision, Decision::Raise);
    assert!(
        outcome
            .steps
            .iter()
            .any(|s| s == "Automatic Management: not started"),
        "{:?}",
        outcome.steps
    );
    let notify_only = Account::new().await;
    notify_only
        .quotas
        .start_auto_management()
        .opt_in_level(OptInLevel::Account)
        .opt_in_type(OptInType::NotifyOnly)
        .send()
        .await
        .unwrap();
    let outcome = notify_only
        .healer(false)
        .handle(
            &notify_only.notice("alarm-action-lambda-concurrency.json"),
            "r1",
            now(),
        )
        .await
        .unwrap();
    assert_eq!(outcome.decision, Decision::Raise, "{outcome:#?}");
}

#[tokio::test]
async fn a_sweep_plans_every_quota_over_its_threshold_that_no_alarm_watches() {
    let account = Account::new().await;
    // Lambda concurrency at 90 % (of 1000), VPCs per Region at 85 % (of 5), EIPs at 40 %.
    account.set_usage(LAMBDA.0, LAMBDA.1, 900.0).await;
    account.set_usage("vpc", "L-F678F1CE", 4.25).await;
    account.set_usage("ec2", "L-0263D0A3", 2.0).await;
    let healer = account.healer(false);
    let dry = healer.sweep(80.0, true, "sweep-1", now()).await.unwrap();
    assert!(dry.dry_run);
    assert_eq!(dry.quotas_in_report, 3);
    assert_eq!(
        dry.over_threshold
            .iter()
            .map(|r| (r.quota_code.as_str(), r.utilization))
            .collect::<Vec<_>>(),
        [(LAMBDA.1, 90.0), ("L-F678F1CE", 85.0)],
        "highest first"
    );
    assert!(
        dry.outcomes
            .iter()
            .all(|o| o.decision == Decision::Raise && o.dry_run),
        "{dry:#?}"
    );
    assert!(
        account.requests(LAMBDA.0, LAMBDA.1).await.is_empty(),
        "a dry run files nothing"
    );

    let acted = healer.sweep(80.0, false, "sweep-2", now()).await.unwrap();
    assert_eq!(acted.outcomes.len(), 2);
    assert_eq!(account.requests(LAMBDA.0, LAMBDA.1).await.len(), 1);
    assert_eq!(account.requests("vpc", "L-F678F1CE").await.len(), 1);
    // The next day's sweep finds the requests pending.
    let again = healer.sweep(80.0, false, "sweep-3", now()).await.unwrap();
    assert!(
        again.outcomes.iter().all(|o| o.reason == "request-pending"),
        "{again:#?}"
    );
    // A lower threshold takes in the EIPs too.
    let low = healer.sweep(30.0, true, "sweep-4", now()).await.unwrap();
    assert_eq!(low.over_threshold.len(), 3);
}

#[tokio::test]
async fn a_failed_utilization_report_is_a_clear_error() {
    let account = Account::new().await;
    account.set_usage(LAMBDA.0, LAMBDA.1, 900.0).await;
    account
        .set_account(serde_json::json!({"ReportFails": true}))
        .await;
    let error = account
        .healer(false)
        .sweep(80.0, false, "sweep-f", now())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            selfheal::quota::sweep::SweepError::ReportFailed { .. }
        ),
        "{error}"
    );
    assert_eq!(error.retry(), selfheal::Retry::Never);
    assert!(account.requests(LAMBDA.0, LAMBDA.1).await.is_empty());
}

#[tokio::test]
async fn a_follow_up_tells_each_requests_fate_once() {
    let account = Account::new().await;
    let event = common::fixture("health-quota-threshold.json")
        .to_string()
        .replace("123456789012", &account.id);
    let notices =
        selfheal::alarm::parse_alarm_event(&serde_json::from_str(&event).unwrap()).unwrap();
    let healer = account.healer(false);
    for notice in &notices {
        assert_eq!(
            healer
                .handle(notice, "req-h", now())
                .await
                .unwrap()
                .decision,
            Decision::Raise
        );
    }
    // Nothing has happened yet: nothing to tell.
    let quiet = healer.follow_up(false, now()).await.unwrap();
    assert_eq!(quiet.items.len(), 2);
    assert!(
        quiet.items.iter().all(|i| i.action == "wait" && !i.sent),
        "{quiet:#?}"
    );
    assert!(account.deliveries().await.is_empty());

    let lambda = account.requests(LAMBDA.0, LAMBDA.1).await[0]
        .id
        .clone()
        .unwrap();
    let ec2 = account.requests("ec2", "L-1216C47A").await[0]
        .id
        .clone()
        .unwrap();
    account.decide_request(&lambda, "APPROVED").await;
    account.decide_request(&ec2, "DENIED").await;
    let dry = healer.follow_up(true, now()).await.unwrap();
    assert!(dry.items.iter().all(|i| !i.sent), "a dry run sends nothing");
    assert!(account.deliveries().await.is_empty());

    let told = healer.follow_up(false, now()).await.unwrap();
    let mut actions: Vec<(&str, &str, bool)> = told
        .items
        .iter()
        .map(|i| (i.quota_code.as_str(), i.action.as_str(), i.closed))
        .collect();
    actions.sort();
    assert_eq!(
        actions,
        [
            ("L-1216C47A", "request-denied", true),
            (LAMBDA.1, "raised", true)
        ]
    );
    let deliveries = account.deliveries().await;
    let sms: Vec<&str> = deliveries
        .iter()
        .filter(|d| d["protocol"] == "sms")
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert_eq!(sms.len(), 2, "{deliveries:#?}");
    assert!(
        sms.iter()
            .any(|m| m.contains("RAISED") && m.contains("from 1000 to 1500")),
        "{sms:?}"
    );
    assert!(sms.iter().any(|m| m.contains("L-1216C47A")), "{sms:?}");

    let again = healer.follow_up(false, now()).await.unwrap();
    assert!(again.items.is_empty(), "both closed: {again:#?}");
    assert_eq!(
        account.deliveries().await.len(),
        deliveries.len(),
        "nothing new"
    );
}

#[tokio::test]
async fn a_support_case_is_told_once_and_a_stale_request_reminded_once() {
    let account = Account::new().await;
    let healer = account.healer(false);
    let alarm = account.notice("alarm-action-lambda-concurrency.json");
    assert_eq!(
        healer.handle(&alarm, "r1", now()).await.unwrap().decision,
        Decision::Raise
    );
    let id = account.requests(LAMBDA.0, LAMBDA.1).await[0]
        .id
        .clone()
        .unwrap();
    // Eight days on, still pending: one reminder, then silence.
    let later = now() + 8 * 86_400;
    let first = healer.follow_up(false, later).await.unwrap();
    assert_eq!(first.items[0].action, "still-pending");
    assert!(first.items[0].sent && !first.items[0].closed);
    let second = healer.follow_up(false, later + 3600).await.unwrap();
    assert_eq!(second.items[0].action, "wait");
    account.decide_request(&id, "CASE_OPENED").await;
    let case = healer.follow_up(false, later + 7200).await.unwrap();
    assert_eq!(case.items[0].action, "case-opened");
    let silent = healer.follow_up(false, later + 10_800).await.unwrap();
    assert_eq!(silent.items[0].action, "wait");
    let sms: Vec<String> = account
        .deliveries()
        .await
        .iter()
        .filter(|d| d["protocol"] == "sms")
        .map(|d| d["message"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sms.len(), 2, "{sms:?}");
    assert!(
        sms[1].contains("CASE OPENED") && sms[1].contains("case-"),
        "{sms:?}"
    );
}

#[tokio::test]
async fn a_request_filed_while_the_account_was_unknown_is_followed_up() {
    let account = Account::new().await;
    // Neither the function nor the alarm names the account: the raise is made with the function's own
    // credentials and kept under the stand-in; the follow-up takes it for its own too.
    let mut environment = account.quota_environment(false);
    environment.settings.home_account_id = None;
    let healer = quota_healer(&account.sdk, &environment, RuleSet::embedded().unwrap());
    let mut alarm = account.notice("alarm-action-lambda-concurrency.json");
    alarm.account_id = None;
    let raised = healer.handle(&alarm, "r1", now()).await.unwrap();
    assert_eq!(raised.decision, Decision::Raise, "{raised:#?}");
    let id = raised.request.unwrap().id;
    account.decide_request(&id, "APPROVED").await;
    let told = healer.follow_up(false, now()).await.unwrap();
    assert_eq!(told.items.len(), 1, "{told:#?}");
    let item = &told.items[0];
    assert_eq!(item.account_id, selfheal::quota::decide::UNKNOWN_ACCOUNT);
    assert_eq!(
        (
            item.status.as_str(),
            item.action.as_str(),
            item.sent,
            item.error.as_deref()
        ),
        ("APPROVED", "raised", true, None),
        "{item:#?}"
    );
}
