//! Pre-warming against the sandbox: the sync through the real EventBridge and Lambda clients, the
//! pings through the real Lambda client, faults from the sandbox's Lambda.

use crate::common;

use aws_sdk_eventbridge::types::{RuleState, Tag, Target};
use common::Account;
use selfheal::aws::autoscaling::AutoScaling;
use selfheal::aws::eventbridge::EventBridge;
use selfheal::aws::lambda::Lambda;
use selfheal::prewarm::ping::FailureKind;
use selfheal::prewarm::{ping, PingRequest, SyncReport, SyncSettings, Syncer};
use selfheal::prewarm::{PrewarmFunction, PrewarmFunctionError};
use selfheal::rules::{PrewarmRule, RuleSet};
use selfheal::settings::PrewarmEnvironment;
use serde_json::{json, Value};

const PREFIX: &str = "selfheal-prewarm-";

struct Sandbox {
    account: Account,
    events: aws_sdk_eventbridge::Client,
    lambda: aws_sdk_lambda::Client,
    pinger_arn: String,
}

fn rules(toml: &str) -> Vec<PrewarmRule> {
    RuleSet::from_sources(&[("prewarm.toml", toml)], &[])
        .unwrap()
        .prewarm
}

const STORY: &str = r#"
[[prewarm]]
function = "checkout-api"
qualifier = "live"
schedule = "rate(5 minutes)"
concurrency = 3
active_hours = "08-18"
active_days = "MON-FRI"

[[prewarm]]
function = "search-api"
schedule = "rate(5 minutes)"
"#;

impl Sandbox {
    async fn new() -> Sandbox {
        let account = Account::new().await;
        let events = aws_sdk_eventbridge::Client::new(&account.sdk);
        let lambda = aws_sdk_lambda::Client::new(&account.sdk);
        let pinger_arn =
            common::lambda::create_function(&lambda, &account.id, "selfheal-prewarm", None).await;
        common::lambda::create_function(&lambda, &account.id, "checkout-api", Some("live")).await;
        common::lambda::create_function(&lambda, &account.id, "search-api", None).await;
        Sandbox {
            account,
            events,
            lambda,
            pinger_arn,
        }
    }

    fn syncer(&self, dry_run: bool) -> Syncer<EventBridge, Lambda, AutoScaling> {
        selfheal::prewarm::syncer(
            &self.account.sdk,
            SyncSettings {
                prefix: PREFIX.into(),
                pinger_arn: Some(self.pinger_arn.clone()),
                failure_queue_arn: Some(self.failure_queue_arn()),
                dry_run,
            },
        )
    }

    fn failure_queue_arn(&self) -> String {
        format!(
            "arn:aws:sqs:us-east-1:{}:selfheal-prewarm-failures",
            self.account.id
        )
    }

    async fn sync(&self, toml: &str) -> SyncReport {
        self.syncer(false).sync(&rules(toml)).await
    }

    /// Every rule of the account: name → (schedule, state, targets, tags).
    async fn rule(&self, name: &str) -> Option<(String, RuleState, Vec<Target>, Vec<Tag>)> {
        let described = self.events.describe_rule().name(name).send().await.ok()?;
        let targets = self
            .events
            .list_targets_by_rule()
            .rule(name)
            .send()
            .await
            .unwrap()
            .targets
            .unwrap_or_default();
        let tags = self
            .events
            .list_tags_for_resource()
            .resource_arn(described.arn().unwrap())
            .send()
            .await
            .unwrap()
            .tags
            .unwrap_or_default();
        Some((
            described.schedule_expression().unwrap().to_owned(),
            described.state().unwrap().clone(),
            targets,
            tags,
        ))
    }

    async fn rule_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .events
            .list_rules()
            .send()
            .await
            .unwrap()
            .rules()
            .iter()
            .filter_map(|r| r.name().map(str::to_owned))
            .collect();
        names.sort();
        names
    }

    async fn policy(&self, function: &str) -> String {
        self.lambda
            .get_policy()
            .function_name(function)
            .send()
            .await
            .map(|p| p.policy().unwrap_or_default().to_owned())
            .unwrap_or_default()
    }

    async fn behaviour(&self, function: &str, behaviour: Value) {
        let mut body = behaviour;
        body["account_id"] = json!(self.account.id);
        body["function"] = json!(function);
        let url = format!("{}/moto-api/selfheal/lambda/behaviour", common::endpoint());
        common::http(&url, "POST", Some(body)).await;
    }

    async fn provision(&self, function: &str, qualifier: &str, containers: i32) {
        self.lambda
            .put_provisioned_concurrency_config()
            .function_name(function)
            .qualifier(qualifier)
            .provisioned_concurrent_executions(containers)
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_sync_from_an_empty_account_creates_exactly_the_configured_rules() {
    let s = Sandbox::new().await;
    let report = s.sync(STORY).await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(report.create.len(), 2);
    assert_eq!(
        s.rule_names().await,
        [
            "selfheal-prewarm-checkout-api.live",
            "selfheal-prewarm-search-api"
        ]
    );

    // Concurrency 3: the pre-warm function, told what to ping.
    let (schedule, state, targets, tags) =
        s.rule("selfheal-prewarm-checkout-api.live").await.unwrap();
    assert_eq!(schedule, "cron(0/5 8-17 ? * MON-FRI *)");
    assert_eq!(state, RuleState::Enabled);
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].arn(), s.pinger_arn);
    let input: Value = serde_json::from_str(targets[0].input().unwrap()).unwrap();
    assert_eq!(input["selfhealPrewarm"]["concurrency"], 3);
    assert_eq!(input["selfhealPrewarm"]["qualifier"], "live");
    assert_eq!(
        input["selfhealPrewarm"]["payload"],
        json!({"isPrewarm": true})
    );
    assert!(tags
        .iter()
        .any(|t| t.key() == "selfheal:managed-by" && t.value() == "prewarm"));
    // A ping EventBridge cannot deliver is retried briefly, then kept in the failure queue.
    let retry = targets[0].retry_policy().unwrap();
    assert_eq!(
        (
            retry.maximum_retry_attempts(),
            retry.maximum_event_age_in_seconds()
        ),
        (Some(2), Some(300))
    );
    assert_eq!(
        targets[0].dead_letter_config().and_then(|d| d.arn()),
        Some(s.failure_queue_arn().as_str())
    );

    // Concurrency 1: the function itself, the ping as constant input, and EventBridge allowed to call it.
    let (_, _, targets, _) = s.rule("selfheal-prewarm-search-api").await.unwrap();
    assert!(targets[0].arn().ends_with(":function:search-api"));
    assert_eq!(targets[0].input(), Some(r#"{"isPrewarm":true}"#));
    let policy = s.policy("search-api").await;
    assert!(policy.contains("events.amazonaws.com"), "{policy}");
    assert!(
        policy.contains("rule/selfheal-prewarm-search-api"),
        "{policy}"
    );

    // Nothing differs: nothing is written.
    let again = s.sync(STORY).await;
    assert!(again.ok(), "{again:#?}");
    assert_eq!(again.unchanged.len(), 2);
    assert_eq!(again.calls.writes, 0, "{again:#?}");
    // One listing, then per rule its tags and targets, per target GetFunctionConfiguration (+ provisioned
    // concurrency for a qualified one), and Application Auto Scaling's scheduled actions (once: the
    // provisioned rules' actions, and those of a provisioned rule since removed).
    assert_eq!(again.calls.reads, 1 + 2 * 2 + 2 + 1 + 1);
}

#[tokio::test]
async fn a_changed_configuration_and_hand_edits_are_repaired() {
    let s = Sandbox::new().await;
    assert!(s.sync(STORY).await.ok());
    // Someone disables one rule and adds a target to the other.
    s.events
        .disable_rule()
        .name("selfheal-prewarm-search-api")
        .send()
        .await
        .unwrap();
    s.events
        .put_targets()
        .rule("selfheal-prewarm-checkout-api.live")
        .targets(
            Target::builder()
                .id("by-hand")
                .arn(&s.pinger_arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    // And the configuration changes: checkout down to 1 container, search every 10 minutes.
    let changed = STORY.replace("concurrency = 3\n", "").replace(
        "function = \"search-api\"\nschedule = \"rate(5 minutes)\"",
        "function = \"search-api\"\nschedule = \"rate(10 minutes)\"",
    );
    let report = s.sync(&changed).await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(report.update.len(), 2, "{report:#?}");
    let search = report
        .update
        .iter()
        .find(|u| u.rule == "selfheal-prewarm-search-api")
        .unwrap();
    assert!(search
        .changes
        .contains(&"schedule rate(5 minutes) → rate(10 minutes)".to_owned()));
    assert!(search
        .changes
        .contains(&"state DISABLED → ENABLED".to_owned()));

    let (schedule, state, _, _) = s.rule("selfheal-prewarm-search-api").await.unwrap();
    assert_eq!(
        (schedule.as_str(), state),
        ("rate(10 minutes)", RuleState::Enabled)
    );
    let (_, _, targets, _) = s.rule("selfheal-prewarm-checkout-api.live").await.unwrap();
    assert_eq!(targets.len(), 1, "the hand-added target is removed");
    assert!(targets[0].arn().ends_with(":function:checkout-api:live"));
    assert!(s
        .policy("checkout-api")
        .await
        .contains("events.amazonaws.com"));
    assert_eq!(s.sync(&changed).await.unchanged.len(), 2);
}

#[tokio::test]
async fn a_target_removed_from_the_rules_loses_its_rule_and_permission() {
    let s = Sandbox::new().await;
    assert!(s.sync(STORY).await.ok());
    let only_checkout = STORY
        .split("\n[[prewarm]]\nfunction = \"search-api\"")
        .next()
        .unwrap();
    let report = s.sync(only_checkout).await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(report.delete.len(), 1);
    assert_eq!(s.rule_names().await, ["selfheal-prewarm-checkout-api.live"]);
    assert!(!s
        .policy("search-api")
        .await
        .contains("selfheal-prewarm-search-api"));
}

#[tokio::test]
async fn foreign_rules_are_never_touched() {
    let s = Sandbox::new().await;
    // No tag: not ours, whatever its name.
    for name in [
        "selfheal-prewarm-legacy",
        "nightly-report",
        "selfheal-prewarm-search-api",
    ] {
        s.events
            .put_rule()
            .name(name)
            .schedule_expression("rate(1 day)")
            .state(RuleState::Disabled)
            .send()
            .await
            .unwrap();
    }
    let report = s.sync(STORY).await;
    assert!(!report.ok());
    assert_eq!(report.foreign, ["selfheal-prewarm-legacy"]);
    assert_eq!(report.errors.len(), 1);
    assert!(
        report.errors[0].message.contains("is not selfheal's"),
        "{report:#?}"
    );
    assert_eq!(report.create.len(), 1, "the other target is still synced");
    for name in [
        "selfheal-prewarm-legacy",
        "nightly-report",
        "selfheal-prewarm-search-api",
    ] {
        let (schedule, state, targets, _) = s.rule(name).await.unwrap();
        assert_eq!(
            (schedule.as_str(), state),
            ("rate(1 day)", RuleState::Disabled)
        );
        assert!(targets.is_empty());
    }
    // Syncing nothing deletes only what is ours.
    assert!(s.sync("").await.delete.len() == 1);
    assert_eq!(
        s.rule_names().await,
        [
            "nightly-report",
            "selfheal-prewarm-legacy",
            "selfheal-prewarm-search-api"
        ]
    );
}

#[tokio::test]
async fn a_dry_run_reports_the_plan_and_writes_nothing() {
    let s = Sandbox::new().await;
    let report = s.syncer(true).sync(&rules(STORY)).await;
    assert!(report.dry_run && report.ok());
    assert_eq!(report.create.len(), 2);
    assert_eq!(report.calls.writes, 0);
    assert!(s.rule_names().await.is_empty());
    assert!(s.policy("search-api").await.is_empty());
}

#[tokio::test]
async fn provisioned_concurrency_that_covers_the_target_replaces_its_rule() {
    let s = Sandbox::new().await;
    assert!(s.sync(STORY).await.ok());
    s.provision("checkout-api", "live", 5).await;
    let report = s.sync(STORY).await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(report.skipped.len(), 1);
    assert!(report.skipped[0]
        .reason
        .contains("provisioned concurrency 5"));
    assert_eq!(report.delete.len(), 1);
    assert_eq!(s.rule_names().await, ["selfheal-prewarm-search-api"]);
    // Two provisioned containers do not cover three: the rule comes back.
    s.provision("checkout-api", "live", 2).await;
    assert_eq!(s.sync(STORY).await.create.len(), 1);
}

#[tokio::test]
async fn a_missing_function_is_an_error_and_the_rest_still_syncs() {
    let s = Sandbox::new().await;
    let with_ghost =
        format!("{STORY}\n[[prewarm]]\nfunction = \"ghost-api\"\nschedule = \"rate(5 minutes)\"\n");
    let report = s.sync(&with_ghost).await;
    assert!(!report.ok());
    assert_eq!(report.create.len(), 2);
    assert!(
        report.errors[0]
            .message
            .contains("ghost-api does not exist"),
        "{report:#?}"
    );
    assert!(!s.rule_names().await.iter().any(|n| n.contains("ghost")));
}

fn ping_request(
    function: &str,
    qualifier: Option<&str>,
    concurrency: u32,
    timeout_ms: u32,
) -> PingRequest {
    PingRequest {
        function: function.into(),
        qualifier: qualifier.map(str::to_owned),
        concurrency,
        payload: json!({"isPrewarm": true}),
        timeout_ms,
    }
}

#[tokio::test]
async fn pings_go_out_at_once_one_per_container() {
    let s = Sandbox::new().await;
    let lambda = Lambda::new(s.lambda.clone());
    let one = ping(&lambda, &ping_request("search-api", None, 1, 5000)).await;
    assert!(one.ok() && one.sent == 1 && one.warm == 1, "{one:#?}");

    // Each invocation takes 400 ms, so that they overlap only if sent at once (checked below on
    // the sandbox's own start and end times, not on this machine's clock).
    s.behaviour("checkout-api", json!({"delay_ms": 400})).await;
    let five = ping(
        &lambda,
        &ping_request("checkout-api", Some("live"), 5, 5000),
    )
    .await;
    assert!(five.ok() && five.warm == 5, "{five:#?}");
    let seen = common::lambda::invocations(&s.account.id, "checkout-api").await;
    assert_eq!(seen.len(), 5);
    assert!(seen.iter().all(|i| i["payload"] == r#"{"isPrewarm":true}"#
        && i["qualifier"] == "live"
        && i["invocation_type"] == "RequestResponse"));
    // All five were in flight together.
    let last_start = seen
        .iter()
        .map(|i| i["at"].as_f64().unwrap())
        .fold(0.0, f64::max);
    let first_end = seen
        .iter()
        .map(|i| i["finished"].as_f64().unwrap())
        .fold(f64::MAX, f64::min);
    assert!(last_start < first_end, "the pings did not overlap");
}

#[tokio::test]
async fn provisioned_concurrency_skips_the_pings() {
    let s = Sandbox::new().await;
    s.provision("checkout-api", "live", 3).await;
    let report = ping(
        &Lambda::new(s.lambda.clone()),
        &ping_request("checkout-api", Some("live"), 3, 5000),
    )
    .await;
    assert!(report.ok());
    assert_eq!(report.sent, 0);
    assert!(report
        .skipped
        .unwrap()
        .contains("provisioned concurrency 3"));
    assert!(common::lambda::invocations(&s.account.id, "checkout-api")
        .await
        .is_empty());
}

/// The pre-warm function's settings, paging to `topic_arn` when given.
fn environment(topic_arn: Option<String>) -> PrewarmEnvironment {
    PrewarmEnvironment {
        prefix: PREFIX.into(),
        pinger_arn: None,
        failure_queue_arn: None,
        topic_arn,
        topic_display_name: String::new(),
        runbook_base_url: "https://example.com/runbooks".into(),
        table_name: None,
        // The fixture's stack, and the test's own listener for the responses.
        stack_id: Some(
            "arn:aws:cloudformation:us-east-1:123456789012:stack/selfheal/16580499-7622-4a9c-b32f-4eba35da93da"
                .into(),
        ),
        response_origin: Some("http://127.0.0.1:".into()),
        dry_run: false,
    }
}

#[tokio::test]
async fn failed_pings_fail_the_invocation_and_say_why() {
    let s = Sandbox::new().await;
    // The pings the rules compile to (concurrency 2, the default payload); no other is accepted.
    let pinged = "[[prewarm]]\nfunction = \"search-api\"\nschedule = \"rate(5 minutes)\"\nconcurrency = 2\n\n\
                  [[prewarm]]\nfunction = \"ghost-api\"\nschedule = \"rate(5 minutes)\"\nconcurrency = 2\n";
    let function = PrewarmFunction::with_rules(
        s.account.sdk.clone(),
        environment(None),
        RuleSet::from_sources(&[("prewarm.toml", pinged)], &[]).unwrap(),
    );
    let event = |function: &str, timeout_ms: u32| json!({"selfhealPrewarm": {"function": function, "concurrency": 2, "payload": {"isPrewarm": true}, "timeoutMs": timeout_ms}});
    let lambda = Lambda::new(s.lambda.clone());
    // Throttling is retried by the SDK (4 attempts with backoff) before it is reported.
    for (behaviour, kind, timeout_ms) in [
        (json!({"fail": "throttle"}), FailureKind::Throttled, 5000),
        (json!({"fail": "error"}), FailureKind::FunctionError, 5000),
        (json!({"delay_ms": 1500}), FailureKind::TimedOut, 300),
    ] {
        s.behaviour("search-api", behaviour.clone()).await;
        let report = ping(&lambda, &ping_request("search-api", None, 2, timeout_ms)).await;
        assert_eq!(report.failures.len(), 2, "{behaviour}: {report:#?}");
        assert!(
            report.failures.iter().all(|f| f.kind == kind),
            "{report:#?}"
        );
        let err = function
            .handle(&event("search-api", timeout_ms), None)
            .await
            .unwrap_err();
        assert!(
            matches!(err, PrewarmFunctionError::PingFailed { failed: 2, .. }),
            "{err}"
        );
    }
    s.behaviour("search-api", json!({})).await;
    let err = function
        .handle(&event("ghost-api", 1000), None)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("ResourceNotFoundException"),
        "{err}"
    );
    assert!(function
        .handle(&event("search-api", 1000), None)
        .await
        .is_ok());
    // A ping no rule compiles to (someone's own selfheal-prewarm-* rule): nothing is invoked.
    let before = common::lambda::invocations(&s.account.id, "checkout-api")
        .await
        .len();
    for forged in [
        json!({"selfhealPrewarm": {"function": "checkout-api", "concurrency": 2, "payload": {"isPrewarm": true}, "timeoutMs": 1000}}),
        json!({"selfhealPrewarm": {"function": "search-api", "concurrency": 50, "payload": {"isPrewarm": true}, "timeoutMs": 1000}}),
        json!({"selfhealPrewarm": {"function": "search-api", "concurrency": 2, "payload": {"refund": 100}, "timeoutMs": 1000}}),
    ] {
        let err = function.handle(&forged, None).await.unwrap_err();
        assert!(matches!(err, PrewarmFunctionError::PingRefused(_)), "{err}");
    }
    assert_eq!(
        common::lambda::invocations(&s.account.id, "checkout-api")
            .await
            .len(),
        before
    );
}

/// Answers one HTTP request with 200 and returns it (CloudFormation's pre-signed S3 URL, played here).
async fn one_request(listener: tokio::net::TcpListener) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut stream, _) = listener.accept().await.unwrap();
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let n = stream.read(&mut buffer).await.unwrap();
        seen.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&seen).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if body.len() >= length {
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await
                    .unwrap();
                return text;
            }
        }
        if n == 0 {
            return text;
        }
    }
}

#[tokio::test]
async fn the_custom_resource_syncs_on_create_and_removes_everything_on_delete() {
    let s = Sandbox::new().await;
    let function = PrewarmFunction::with_rules(
        s.account.sdk.clone(),
        environment(None),
        RuleSet::from_sources(&[("prewarm.toml", STORY)], &[]).unwrap(),
    );
    for (request_type, expected_rules) in [("Create", 2), ("Delete", 0)] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/response?X-Amz-Signature=0",
            listener.local_addr().unwrap()
        );
        let server = tokio::spawn(one_request(listener));
        let mut event = common::fixture("cfn-custom-resource-create.json");
        event["RequestType"] = json!(request_type);
        event["ResponseURL"] = json!(url);
        if request_type == "Delete" {
            event["PhysicalResourceId"] = json!("selfheal-prewarm-rules");
        }
        let answer = function.handle(&event, Some(&s.pinger_arn)).await.unwrap();
        assert_eq!(answer["Status"], "SUCCESS", "{answer}");
        let request = server.await.unwrap();
        assert!(
            request.starts_with("PUT /response?X-Amz-Signature=0 HTTP/1.1"),
            "{request}"
        );
        let body: Value = serde_json::from_str(request.split_once("\r\n\r\n").unwrap().1).unwrap();
        assert_eq!(body["Status"], "SUCCESS");
        assert_eq!(body["PhysicalResourceId"], "selfheal-prewarm-rules");
        assert_eq!(body["LogicalResourceId"], "PrewarmRules");
        assert_eq!(body["RequestId"], "82304eb2-bdda-469f-a33b-a3f1406d0a52");
        assert_eq!(s.rule_names().await.len(), expected_rules, "{request_type}");
    }
}

/// A first deploy whose rules name a function that is not there: the stack's operation succeeds, the
/// rule that can be set up is, and one page says what was left as it was.
#[tokio::test]
async fn a_missing_function_does_not_fail_the_deploy_and_is_paged_once() {
    let s = Sandbox::new().await;
    let rules = "[[prewarm]]\nfunction = \"search-api\"\nschedule = \"rate(5 minutes)\"\n\n\
                 [[prewarm]]\nfunction = \"not-deployed-yet\"\nschedule = \"rate(5 minutes)\"\n";
    let function = PrewarmFunction::with_rules(
        s.account.sdk.clone(),
        PrewarmEnvironment {
            table_name: Some(s.account.table.clone()),
            ..environment(Some(s.account.topic_arn.clone()))
        },
        RuleSet::from_sources(&[("prewarm.toml", rules)], &[]).unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/response?X-Amz-Signature=0",
        listener.local_addr().unwrap()
    );
    let server = tokio::spawn(one_request(listener));
    let mut event = common::fixture("cfn-custom-resource-create.json");
    event["ResponseURL"] = json!(url);
    let answer = function.handle(&event, Some(&s.pinger_arn)).await.unwrap();
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    let request = server.await.unwrap();
    let body: Value = serde_json::from_str(request.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert_eq!(body["Status"], "SUCCESS", "{body}");
    assert_eq!(body["Data"]["Problems"], 1, "{body}");
    assert!(
        body["Reason"]
            .as_str()
            .unwrap()
            .contains("not-deployed-yet"),
        "{body}"
    );
    assert_eq!(s.rule_names().await, ["selfheal-prewarm-search-api"]);
    let emails: Vec<Value> = s
        .account
        .deliveries()
        .await
        .into_iter()
        .filter(|d| d["protocol"] == "email")
        .collect();
    assert_eq!(emails.len(), 1, "one page: {emails:#?}");
    let email = emails[0]["message"].as_str().unwrap();
    assert!(
        email.contains("not-deployed-yet") && email.contains("prewarm-sync-problems"),
        "{email}"
    );
    // The sync is in the audit trail.
    let audit = s.account.audit_records().await;
    assert_eq!(
        (
            audit[0].kind,
            audit[0].subject.as_str(),
            audit[0].decision.as_str()
        ),
        (selfheal::ledger::AuditKind::Prewarm, "sync", "synced")
    );
    assert!(audit[0].reason.contains("errors 1"), "{}", audit[0].reason);
}

/// A custom-resource event that is not CloudFormation's for this stack changes nothing and answers
/// nowhere: a response URL off CloudFormation's bucket, or a Delete naming another stack.
#[tokio::test]
async fn a_forged_custom_resource_event_sends_nothing_and_deletes_nothing() {
    let s = Sandbox::new().await;
    assert!(s.sync(STORY).await.ok());
    let rules = s.rule_names().await;
    assert_eq!(rules.len(), 2);
    let function = PrewarmFunction::with_rules(
        s.account.sdk.clone(),
        PrewarmEnvironment {
            response_origin: None,
            ..environment(None)
        },
        RuleSet::from_sources(&[("prewarm.toml", STORY)], &[]).unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let local = format!("http://{}/response", listener.local_addr().unwrap());
    let mut event = common::fixture("cfn-custom-resource-create.json");
    event["RequestType"] = json!("Delete");
    event["PhysicalResourceId"] = json!("selfheal-prewarm-rules");
    for url in [local.as_str(), "https://attacker.example/response"] {
        event["ResponseURL"] = json!(url);
        let error = function
            .handle(&event, Some(&s.pinger_arn))
            .await
            .unwrap_err();
        assert!(error.to_string().contains("response URL"), "{error}");
    }
    // CloudFormation's bucket, but another stack's Delete.
    let other = PrewarmFunction::with_rules(
        s.account.sdk.clone(),
        environment(None),
        RuleSet::from_sources(&[("prewarm.toml", STORY)], &[]).unwrap(),
    );
    event["ResponseURL"] = json!(local);
    event["StackId"] = json!("arn:aws:cloudformation:us-east-1:123456789012:stack/other/1");
    let error = other.handle(&event, Some(&s.pinger_arn)).await.unwrap_err();
    assert!(error.to_string().contains("not this stack"), "{error}");
    assert_eq!(s.rule_names().await, rules, "nothing deleted");
    // And no request reached the listener.
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(200), listener.accept())
            .await
            .is_err(),
        "nothing was sent"
    );
}

#[tokio::test]
async fn a_rule_deleted_by_hand_is_recreated_though_its_permission_remains() {
    let s = Sandbox::new().await;
    let toml = "[[prewarm]]\nfunction = \"search-api\"\nschedule = \"rate(5 minutes)\"\n";
    let first = s.sync(toml).await;
    assert!(first.ok() && first.create.len() == 1, "{first:#?}");
    let rule = first.create[0].rule.clone();
    // Someone deletes the rule, not the function's permission for it.
    let targets = s
        .events
        .list_targets_by_rule()
        .rule(&rule)
        .send()
        .await
        .unwrap();
    let ids: Vec<String> = targets
        .targets()
        .iter()
        .map(|t| t.id().to_owned())
        .collect();
    s.events
        .remove_targets()
        .rule(&rule)
        .set_ids(Some(ids))
        .send()
        .await
        .unwrap();
    s.events.delete_rule().name(&rule).send().await.unwrap();
    // Lambda (and the sandbox) refuse the same statement id twice.
    let again = s
        .lambda
        .add_permission()
        .function_name("search-api")
        .statement_id(&rule)
        .action("lambda:InvokeFunction")
        .principal("events.amazonaws.com")
        .send()
        .await;
    assert!(
        again
            .as_ref()
            .err()
            .and_then(|e| e.as_service_error())
            .is_some_and(|e| e.is_resource_conflict_exception()),
        "{again:?}"
    );
    let repaired = s.sync(toml).await;
    assert!(repaired.ok(), "{repaired:#?}");
    assert_eq!(repaired.create.len(), 1, "{repaired:#?}");
}

/// A rule in Berlin's business hours: EventBridge runs in UTC, so the sync folds 08-18 into 07-16 UTC
/// in winter (UTC+01:00) and 06-15 in summer (UTC+02:00), says which offset in the rule's description,
/// and the next sync after the change refolds it; between changes nothing is written.
#[tokio::test]
async fn a_berlin_weekday_rule_is_folded_for_winter_and_refolded_for_summer() {
    const JANUARY: i64 = 1_768_435_200;
    const JULY: i64 = 1_784_073_600;
    let s = Sandbox::new().await;
    let berlin = rules(
        "[[prewarm]]\nfunction = \"checkout-api\"\nqualifier = \"live\"\nschedule = \"rate(5 minutes)\"\nconcurrency = 3\nactive_hours = \"08-18\"\nactive_days = \"MON-FRI\"\ntimezone = \"Europe/Berlin\"\n",
    );
    let name = "selfheal-prewarm-checkout-api.live";
    let description = |s: &Sandbox| {
        let events = s.events.clone();
        async move {
            events
                .describe_rule()
                .name(name)
                .send()
                .await
                .unwrap()
                .description
                .unwrap_or_default()
        }
    };
    let winter = s.syncer(false).sync_at(&berlin, JANUARY).await;
    assert!(winter.ok() && winter.create.len() == 1, "{winter:#?}");
    assert_eq!(
        s.rule(name).await.unwrap().0,
        "cron(0/5 7-16 ? * MON-FRI *)"
    );
    assert!(
        description(&s)
            .await
            .contains("Europe/Berlin folded for UTC+01:00"),
        "{}",
        description(&s).await
    );

    let summer = s.syncer(false).sync_at(&berlin, JULY).await;
    assert!(summer.ok() && summer.update.len() == 1, "{summer:#?}");
    assert_eq!(
        s.rule(name).await.unwrap().0,
        "cron(0/5 6-15 ? * MON-FRI *)"
    );
    assert!(description(&s).await.contains("UTC+02:00"));

    let again = s.syncer(false).sync_at(&berlin, JULY + 3600).await;
    assert_eq!(
        (again.unchanged.len(), again.calls.writes),
        (1, 0),
        "{again:#?}"
    );
}

const PROVISIONED: &str = "[[prewarm]]\nfunction = \"checkout-api\"\nqualifier = \"live\"\nmode = \"provisioned\"\nconcurrency = 5\nactive_hours = \"08-18\"\nactive_days = \"MON-FRI\"\ntimezone = \"Europe/Berlin\"\n";

impl Sandbox {
    fn scaling(&self) -> aws_sdk_applicationautoscaling::Client {
        aws_sdk_applicationautoscaling::Client::new(&self.account.sdk)
    }

    /// The `lambda` namespace's scheduled actions: name → (resource, schedule, zone, min, max).
    async fn scheduled_actions(&self) -> Vec<(String, String, String, Option<String>, i32, i32)> {
        let mut actions: Vec<_> = self
            .scaling()
            .describe_scheduled_actions()
            .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Lambda)
            .send()
            .await
            .unwrap()
            .scheduled_actions()
            .iter()
            .map(|a| {
                let bounds = a.scalable_target_action().unwrap();
                (
                    a.scheduled_action_name().to_owned(),
                    a.resource_id().to_owned(),
                    a.schedule().to_owned(),
                    a.timezone().map(str::to_owned),
                    bounds.min_capacity().unwrap_or(-1),
                    bounds.max_capacity().unwrap_or(-1),
                )
            })
            .collect();
        actions.sort();
        actions
    }

    /// Runs a scheduled action now, as its schedule would (the sandbox's `fire`).
    async fn fire(&self, action: &str) -> Value {
        let body = json!({"AccountId": self.account.id, "Region": common::REGION, "ScheduledActionName": action});
        let url = format!("{}/moto-api/selfheal/autoscaling/fire", common::endpoint());
        serde_json::from_str(&common::http(&url, "POST", Some(body)).await).unwrap()
    }

    /// The alias's provisioned concurrency, `None` without a configuration.
    async fn provisioned_capacity(&self, function: &str, qualifier: &str) -> Option<i32> {
        self.lambda
            .get_provisioned_concurrency_config()
            .function_name(function)
            .qualifier(qualifier)
            .send()
            .await
            .ok()
            .and_then(|c| c.allocated_provisioned_concurrent_executions())
    }
}

/// A provisioned rule, as a new user would write it: two scheduled actions in Berlin time (5 at 08:00,
/// 0 at 18:00, weekdays), the cost of the capacity in the report, the alias's provisioned concurrency
/// following each action as it fires, a hand edit repaired, and everything removed with the rule.
#[tokio::test]
async fn a_provisioned_rule_schedules_exact_capacity_and_goes_with_the_rule() {
    let s = Sandbox::new().await;
    // The alias moves to a version of 1 GB: the cost is the version's, not $LATEST's.
    s.lambda
        .update_function_configuration()
        .function_name("checkout-api")
        .memory_size(1024)
        .send()
        .await
        .unwrap();
    let version = s
        .lambda
        .publish_version()
        .function_name("checkout-api")
        .send()
        .await
        .unwrap();
    s.lambda
        .update_alias()
        .function_name("checkout-api")
        .name("live")
        .function_version(version.version().unwrap())
        .send()
        .await
        .unwrap();
    // The target was warmed by pings before: switching its mode removes its EventBridge rule.
    assert!(s.sync(STORY).await.ok());

    let plan = s.syncer(true).sync(&rules(PROVISIONED)).await;
    assert_eq!(plan.scaling.len(), 3, "{plan:#?}");
    assert!(
        s.scheduled_actions().await.is_empty(),
        "a dry run writes nothing"
    );

    let report = s.sync(PROVISIONED).await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(report.delete.len(), 2, "the ping rules go: {report:#?}");
    assert!(
        s.rule_names().await.is_empty(),
        "no EventBridge rule for provisioned capacity"
    );
    let start = "selfheal-prewarm-checkout-api.live-start";
    let end = "selfheal-prewarm-checkout-api.live-end";
    let berlin = Some("Europe/Berlin".to_owned());
    assert_eq!(
        s.scheduled_actions().await,
        [
            (
                end.to_owned(),
                "function:checkout-api:live".to_owned(),
                "cron(0 18 ? * MON-FRI *)".to_owned(),
                berlin.clone(),
                0,
                0
            ),
            (
                start.to_owned(),
                "function:checkout-api:live".to_owned(),
                "cron(0 8 ? * MON-FRI *)".to_owned(),
                berlin.clone(),
                5,
                5
            ),
        ]
    );
    // 5 containers of 1 GB, x86_64: 18,000 GB-seconds an hour; 50 hours a week.
    let cost = &report.costs[0];
    assert_eq!(
        (cost.containers, cost.memory_mb, cost.hours_per_week),
        (5, 1024, 50)
    );
    assert_eq!((cost.usd_per_hour, cost.usd_per_week), (0.075, 3.75));

    assert_eq!(s.provisioned_capacity("checkout-api", "live").await, None);
    assert_eq!(s.fire(start).await["Capacity"], 5);
    assert_eq!(
        s.provisioned_capacity("checkout-api", "live").await,
        Some(5)
    );
    assert_eq!(s.fire(end).await["Capacity"], 0);
    assert_eq!(s.provisioned_capacity("checkout-api", "live").await, None);

    // Someone moves the end to 20:00: the next sync puts it back; then nothing is written.
    s.scaling()
        .put_scheduled_action()
        .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Lambda)
        .scalable_dimension(aws_sdk_applicationautoscaling::types::ScalableDimension::LambdaFunctionProvisionedConcurrency)
        .resource_id("function:checkout-api:live")
        .scheduled_action_name(end)
        .schedule("cron(0 20 ? * MON-FRI *)")
        .send()
        .await
        .unwrap();
    let repaired = s.sync(PROVISIONED).await;
    assert!(
        repaired.ok() && repaired.scaling.len() == 2,
        "{repaired:#?}"
    );
    assert_eq!(s.scheduled_actions().await[0].2, "cron(0 18 ? * MON-FRI *)");
    let again = s.sync(PROVISIONED).await;
    assert!(
        again.scaling.is_empty() && again.calls.writes == 0,
        "{again:#?}"
    );
    assert_eq!(again.scaling_unchanged, ["function:checkout-api:live"]);

    // The rule goes while its capacity is up: the capacity, both actions and the target go with it.
    s.fire(start).await;
    let removed = s.sync("").await;
    assert!(removed.ok(), "{removed:#?}");
    assert_eq!(removed.scaling.len(), 1, "{removed:#?}");
    assert!(s.scheduled_actions().await.is_empty());
    // Deregistering is not documented to remove the alias's configuration: the sync deletes it.
    let left = s
        .lambda
        .list_provisioned_concurrency_configs()
        .function_name("checkout-api")
        .send()
        .await
        .unwrap();
    assert!(
        left.provisioned_concurrency_configs().is_empty(),
        "{left:?}"
    );
    let targets = s
        .scaling()
        .describe_scalable_targets()
        .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Lambda)
        .send()
        .await
        .unwrap();
    assert!(targets.scalable_targets().is_empty());
}

#[tokio::test]
async fn provisioned_concurrency_someone_else_set_is_not_taken_over() {
    let s = Sandbox::new().await;
    s.provision("checkout-api", "live", 2).await;
    let report = s.sync(PROVISIONED).await;
    assert!(report.ok(), "{report:#?}");
    assert!(
        report.skipped[0].reason.contains("set by someone else"),
        "{report:#?}"
    );
    assert!(report.scaling.is_empty() && report.costs.is_empty());
    assert!(s.scheduled_actions().await.is_empty());
    assert_eq!(
        s.provisioned_capacity("checkout-api", "live").await,
        Some(2)
    );
}
