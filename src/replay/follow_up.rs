//! After a run, as after a quota decision: the audit record, and a page when messages could not be
//! delivered. The messages have moved already, so neither failing undoes the run; each failure is
//! logged and returned, for the caller to see.

use super::failure_page::replay_failure_page;
use super::summary::ReplaySummary;
use crate::ledger::{AuditKind, AuditRecord, AuditTrail, LedgerError};
use crate::notify::{send, Notifier, NotifyError, Rendering, Route, Severity};
use tracing::error;

/// The function's name in audit records.
const FUNCTION: &str = "dlq-replay";

/// Who ran the replay, where, and how long its record is kept.
pub struct RunContext<'a> {
    pub request_id: &'a str,
    pub account_id: &'a str,
    pub region: &'a str,
    pub rendering: Rendering<'a>,
    pub audit_retention_secs: u64,
    /// Seconds since the epoch.
    pub now: u64,
}

/// What the follow-up did: `page` is `None` when no page was due.
#[derive(Debug)]
pub struct FollowUp {
    pub audit: Result<(), LedgerError>,
    pub page: Option<Result<String, NotifyError>>,
}

/// The audit record of a run.
pub fn audit_record(summary: &ReplaySummary, context: &RunContext<'_>) -> AuditRecord {
    // The preview's message bodies stay out of the trail: they are the teams' data, kept in their DLQ.
    let mut kept = summary.clone();
    kept.preview.clear();
    AuditRecord {
        kind: AuditKind::Replay,
        function: FUNCTION.into(),
        account: context.account_id.to_owned(),
        subject: summary.queue.clone(),
        at: context.now,
        expires: context.now + context.audit_retention_secs,
        request_id: context.request_id.to_owned(),
        decision: if summary.dry_run { "dry-run" } else { "replay" }.into(),
        reason: summary.stopped_by.clone(),
        dry_run: summary.dry_run,
        outcome: serde_json::to_string(&kept).unwrap_or_default(),
    }
}

/// Whether a run needs a person: a real run that failed to deliver some messages.
pub fn page_due(summary: &ReplaySummary) -> bool {
    !summary.dry_run && summary.failed > 0
}

/// Writes the audit record and, when due, pages.
pub async fn follow_up<A: AuditTrail, N: Notifier>(
    audit: &A,
    topic: &N,
    summary: &ReplaySummary,
    context: &RunContext<'_>,
) -> FollowUp {
    let audit = audit.record(&audit_record(summary, context)).await;
    if let Err(e) = &audit {
        error!(error = %e, "audit record of the replay not written");
    }
    let page = if page_due(summary) {
        let page = replay_failure_page(summary, context.account_id, context.region);
        // The replay function serves its own account: its pages carry the same attributes, with
        // no owner and the function's own topic.
        let route = Route {
            topic_arn: None,
            account: context.account_id.to_owned(),
            region: context.region.to_owned(),
            owner: None,
            service: None,
            quota: None,
            reason: "replay-failures".into(),
            severity: Severity::Critical,
        };
        let sent = send(topic, &page, &context.rendering, &route)
            .await
            .map(|(message_id, _)| message_id);
        if let Err(e) = &sent {
            error!(error = %e, "replay failures could not be escalated");
        }
        Some(sent)
    } else {
        None
    };
    FollowUp { audit, page }
}
