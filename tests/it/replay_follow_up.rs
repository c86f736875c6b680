//! After a replay: the audit record and the failure page, each of which may fail after the messages
//! moved. Neither failure may undo or hide the other.

use crate::common::fakes::{MemoryLedger, MemoryTopic};
use selfheal::escalation::Rendering;
use selfheal::replay::follow_up::{follow_up, RunContext};
use selfheal::replay::ReplaySummary;

fn context() -> RunContext<'static> {
    RunContext {
        request_id: "req-1",
        account_id: "123456789012",
        region: "eu-west-1",
        rendering: Rendering {
            runbook_base_url: "https://runbooks.example.com",
            topic_display_name: "selfheal",
        },
        audit_retention_secs: 3600,
        now: 1_795_000_000,
    }
}

fn summary(failed: u64, dry_run: bool) -> ReplaySummary {
    ReplaySummary {
        queue: "orders-dlq".into(),
        target: "queue:orders".into(),
        dry_run,
        replayed: 10,
        failed,
        stopped_by: "empty".into(),
        ..ReplaySummary::default()
    }
}

#[tokio::test]
async fn a_run_with_failures_is_audited_and_paged() {
    let (ledger, topic) = (MemoryLedger::default(), MemoryTopic::default());
    let done = follow_up(&ledger, &topic, &summary(2, false), &context()).await;
    assert!(done.audit.is_ok());
    assert!(matches!(done.page, Some(Ok(_))));
    let audit = ledger.audit();
    assert_eq!(
        (
            audit[0].function.as_str(),
            audit[0].subject.as_str(),
            audit[0].decision.as_str()
        ),
        ("dlq-replay", "orders-dlq", "replay")
    );
    assert_eq!(audit[0].expires, 1_795_000_000 + 3600);
    let page = &topic.published()[0];
    assert!(page.sms.contains("2 failed"), "{}", page.sms);
}

#[tokio::test]
async fn a_clean_run_or_a_dry_run_pages_nobody() {
    for (failed, dry_run) in [(0, false), (3, true)] {
        let (ledger, topic) = (MemoryLedger::default(), MemoryTopic::default());
        let done = follow_up(&ledger, &topic, &summary(failed, dry_run), &context()).await;
        assert!(done.page.is_none());
        assert!(topic.published().is_empty());
        assert_eq!(ledger.audit().len(), 1, "every run is audited");
    }
}

#[tokio::test]
async fn an_audit_that_fails_after_the_run_still_lets_the_page_out() {
    let (ledger, topic) = (MemoryLedger::default(), MemoryTopic::default());
    ledger.fail("record");
    let done = follow_up(&ledger, &topic, &summary(1, false), &context()).await;
    assert!(matches!(done.audit, Err(ref e) if e.operation == "record"));
    assert!(matches!(done.page, Some(Ok(_))));
    assert_eq!(topic.published().len(), 1);
}

#[tokio::test]
async fn a_page_that_cannot_be_sent_is_reported_and_the_audit_kept() {
    let (ledger, topic) = (MemoryLedger::default(), MemoryTopic::default());
    topic.fail(true);
    let done = follow_up(&ledger, &topic, &summary(1, false), &context()).await;
    assert!(done.audit.is_ok());
    assert!(matches!(done.page, Some(Err(_))));
    assert_eq!(ledger.audit().len(), 1);
}
