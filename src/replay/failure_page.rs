//! The page for a replay that could not deliver everything: nothing was lost, every message not
//! delivered is still in the DLQ.

use super::summary::ReplaySummary;
use crate::notify::{EventAction, Page, PageKind, Severity};
use serde_json::json;

pub const RUNBOOK: &str = "replay-failures";

pub fn replay_failure_page(summary: &ReplaySummary, account: &str, region: &str) -> Page {
    let reasons: Vec<String> = summary
        .failure_reasons
        .iter()
        .map(|(code, n)| format!("{code} x{n}"))
        .collect();
    let facts: Vec<(String, String)> = [
        ("Queue:", summary.queue.clone()),
        ("Target:", summary.target.clone()),
        ("Replayed:", summary.replayed.to_string()),
        (
            "Failed:",
            format!("{} ({})", summary.failed, reasons.join(", ")),
        ),
        (
            "Delivered but not deleted:",
            summary.delivered_not_deleted.to_string(),
        ),
        ("Skipped by filter:", summary.skipped_by_filter.to_string()),
        ("Poison (replayed too often):", summary.poison.to_string()),
        (
            "Remaining in the DLQ:",
            summary
                .remaining
                .map_or_else(|| "unknown".into(), |r| r.to_string()),
        ),
        ("Stopped by:", summary.stopped_by.clone()),
    ]
    .into_iter()
    .map(|(label, value)| (label.to_owned(), value))
    .collect();
    Page {
        kind: PageKind::ReplayFailure,
        severity: Severity::Warning,
        event_action: EventAction::Trigger,
        label: "REPLAY FAILURES",
        sms_names_label: false,
        topic: summary.queue.clone(),
        about: Some(format!("{} failed", summary.failed)),
        sentence: format!(
            "replay of {} to {}: {} failed, {} replayed.",
            summary.queue, summary.target, summary.failed, summary.replayed
        ),
        region: None,
        summary: format!("DLQ replay {}: {} failed", summary.queue, summary.failed),
        intro: vec!["A DLQ replay could not deliver every message. Nothing was lost: every message that was not delivered is still in the dead-letter queue.".into()],
        facts,
        tried: Vec::new(),
        links: Vec::new(),
        runbook: Some(RUNBOOK.into()),
        dedup_key: format!(
            "selfheal:{account}:{region}:dlq/{}:replay-failures",
            summary.queue
        ),
        fields: match json!({
            "queue": summary.queue, "target": summary.target, "failed": summary.failed,
            "failure_reasons": summary.failure_reasons, "replayed": summary.replayed,
            "remaining": summary.remaining,
        }) {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        },
    }
}
