//! The page for a replay that could not deliver everything.

use super::summary::ReplaySummary;
use crate::escalation::{Notification, Rendering};
use crate::text::{cut_bytes, cut_chars, sms_safe};
use serde_json::json;

pub const RUNBOOK: &str = "replay-failures";

/// One SNS message: SMS, email and JSON, like the quota escalations.
pub fn render_replay_failure(
    summary: &ReplaySummary,
    rendering: &Rendering<'_>,
    account: &str,
    region: &str,
) -> Notification {
    let runbook_url = format!(
        "{}/{RUNBOOK}.md",
        rendering.runbook_base_url.trim_end_matches('/')
    );
    let reasons: Vec<String> = summary
        .failure_reasons
        .iter()
        .map(|(code, n)| format!("{code} x{n}"))
        .collect();
    let dedup_key = format!(
        "selfheal:{account}:{region}:dlq/{}:replay-failures",
        summary.queue
    );
    let tail = format!("RB:{RUNBOOK}");
    let head = sms_safe(&format!(
        "selfheal: replay of {} to {}: {} failed, {} replayed.",
        summary.queue, summary.target, summary.failed, summary.replayed
    ));
    let sms = format!(
        "{} {tail}",
        cut_bytes(&head, rendering.sms_budget().saturating_sub(tail.len() + 1))
    );
    let subject = cut_chars(
        &format!(
            "[selfheal] REPLAY FAILURES {} ({} failed)",
            summary.queue, summary.failed
        ),
        99,
    );
    let email = format!(
        "A DLQ replay could not deliver every message. Nothing was lost: every message that was not \
         delivered is still in the dead-letter queue.\n\n\
         Queue:     {}\nTarget:    {}\nReplayed:  {}\nFailed:    {} ({})\nDelivered but not deleted: {}\n\
         Skipped by filter: {}\nPoison (replayed too often): {}\nRemaining in the DLQ: {}\nStopped by: {}\n\n\
         Runbook ({RUNBOOK}): {runbook_url}\nDe-duplication key: {dedup_key}\n",
        summary.queue,
        summary.target,
        summary.replayed,
        summary.failed,
        reasons.join(", "),
        summary.delivered_not_deleted,
        summary.skipped_by_filter,
        summary.poison,
        summary.remaining.map_or_else(|| "unknown".into(), |r| r.to_string()),
        summary.stopped_by,
    );
    let https = json!({
        "version": 1, "source": "selfheal", "event_action": "trigger", "dedup_key": dedup_key,
        "severity": "warning",
        "summary": cut_chars(&format!("DLQ replay {}: {} failed", summary.queue, summary.failed), 130),
        "queue": summary.queue, "target": summary.target, "failed": summary.failed,
        "failure_reasons": summary.failure_reasons, "replayed": summary.replayed, "remaining": summary.remaining,
        "runbook_url": runbook_url,
    })
    .to_string();
    Notification {
        subject,
        sms,
        email,
        https,
        dedup_key,
    }
}
