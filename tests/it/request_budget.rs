//! Service Quotas' request budget against the sandbox, which enforces AWS's limits (2 active increase
//! requests per Region, 20 per account: Service Quotas user guide, "Service quotas for Service
//! Quotas"): a raise with no room waits in the ledger, one page names what waits, and the follow-up
//! files it once a request closes.

use crate::common;

use common::Account;
use selfheal::quota::Decision;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn the_third_raise_of_a_region_waits_and_the_follow_up_files_it_when_a_slot_frees() {
    let account = Account::new().await;
    let healer = account.healer(false);
    let alarms = [
        "alarm-action-lambda-concurrency.json",
        "alarm-action-ec2-vcpu-usage.json",
        "alarm-action-alb-targets.json",
    ];
    let mut outcomes = Vec::new();
    for (i, alarm) in alarms.iter().enumerate() {
        if i == 2 {
            // The dry run prints the decision the run will make, and keeps and pages nothing.
            let dry = account
                .healer(true)
                .handle(&account.notice(alarm), "dry", now())
                .await
                .unwrap();
            assert_eq!(dry.reason, "too-many-open-requests", "{dry:#?}");
            assert!(dry.summary.starts_with("would wait"), "{}", dry.summary);
            assert!(healer
                .follow_up(true, now())
                .await
                .unwrap()
                .waiting
                .is_empty());
            assert!(account.deliveries().await.is_empty());
        }
        outcomes.push(
            healer
                .handle(&account.notice(alarm), &format!("r{i}"), now())
                .await
                .unwrap(),
        );
    }
    let decisions: Vec<(Decision, &str)> = outcomes
        .iter()
        .map(|o| (o.decision, o.reason.as_str()))
        .collect();
    assert_eq!(decisions[0].0, Decision::Raise);
    assert_eq!(decisions[1].0, Decision::Raise);
    assert_eq!(
        decisions[2],
        (Decision::Escalate, "too-many-open-requests"),
        "{:#?}",
        outcomes[2]
    );
    // Filed before AWS could refuse it: selfheal counted the Region's two open requests itself.
    assert!(account
        .requests("elasticloadbalancing", "L-7E6692B2")
        .await
        .is_empty());
    let pages: Vec<serde_json::Value> = account
        .deliveries()
        .await
        .into_iter()
        .filter(|d| d["protocol"] == "email")
        .collect();
    assert_eq!(pages.len(), 1, "one page about what waits: {pages:#?}");
    let email = pages[0]["message"].as_str().unwrap();
    assert!(
        email.contains("elasticloadbalancing/L-7E6692B2") && email.contains("2 per Region"),
        "{email}"
    );

    // A fourth alarm of the same quota while it waits: no second page (one per account and Region).
    let again = healer
        .handle(
            &account.notice("alarm-action-alb-targets.json"),
            "r3",
            now() + 60,
        )
        .await
        .unwrap();
    assert_eq!(again.reason, "too-many-open-requests");
    assert_eq!(
        account
            .deliveries()
            .await
            .iter()
            .filter(|d| d["protocol"] == "email")
            .count(),
        1
    );

    // Nothing closed yet: the follow-up keeps it waiting, and a dry run shows the queue.
    let dry = healer.follow_up(true, now()).await.unwrap();
    assert_eq!(dry.waiting.len(), 1, "{dry:#?}");
    assert_eq!(
        (
            dry.waiting[0].quota_code.as_str(),
            dry.waiting[0].action.as_str()
        ),
        ("L-7E6692B2", "waiting")
    );

    // AWS approves the Lambda request: the follow-up closes it, then files the waiting raise.
    let lambda = account.requests("lambda", "L-B99A9384").await[0]
        .id
        .clone()
        .unwrap();
    account.decide_request(&lambda, "APPROVED").await;
    let would = healer.follow_up(true, now()).await.unwrap();
    assert_eq!(would.waiting[0].action, "would-file", "{would:#?}");
    assert!(account
        .requests("elasticloadbalancing", "L-7E6692B2")
        .await
        .is_empty());

    let report = healer.follow_up(false, now()).await.unwrap();
    assert_eq!(report.waiting.len(), 1, "{report:#?}");
    assert_eq!(report.waiting[0].action, "filed");
    let filed = account.requests("elasticloadbalancing", "L-7E6692B2").await;
    assert_eq!(filed.len(), 1);
    assert_eq!(filed[0].desired_value, Some(1100.0));
    assert_eq!(
        report.waiting[0].request_id.as_deref(),
        filed[0].id.as_deref()
    );
    // Filed from the queue, it is followed up like any other; the queue is empty.
    let next = healer.follow_up(false, now()).await.unwrap();
    assert!(next.waiting.is_empty(), "{next:#?}");
    assert!(next
        .items
        .iter()
        .any(|i| i.quota_code == "L-7E6692B2" && i.action == "wait"));
}
