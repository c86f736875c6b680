//! Results as a person at a terminal reads them; `--output json` prints the same values for machines.

use selfheal::prewarm::ping::PingReport;
use selfheal::prewarm::provisioned::ScalingChange;
use selfheal::prewarm::SyncReport;
use selfheal::quota::follow_up::FollowUpReport;
use selfheal::quota::sweep::SweepReport;
use selfheal::quota::Outcome;
use selfheal::replay::ReplaySummary;
use std::collections::BTreeMap;
use std::fmt::Write as _;

pub fn outcome(outcome: &Outcome) -> String {
    let mut text = format!(
        "{} ({}){}: {}\n",
        outcome.decision.name(),
        outcome.reason,
        if outcome.dry_run { ", dry run" } else { "" },
        outcome.summary
    );
    let _ = match outcome.alarm_state {
        Some(state) => writeln!(text, "  alarm {} ({state:?})", outcome.alarm_name),
        None => writeln!(text, "  {}", outcome.alarm_name),
    };
    if let Some(request) = &outcome.request {
        let _ = writeln!(text, "  request {} {}", request.id, request.status);
    }
    if let Some(notification) = &outcome.notification {
        let state = match (notification.sent, notification.suppressed_by_cooldown) {
            (true, _) => "sent",
            (false, true) => "suppressed by cooldown",
            (false, false) => "not sent",
        };
        let _ = writeln!(
            text,
            "  {} {state}: {}",
            notification.kind, notification.subject
        );
    }
    if let Some(runbook) = &outcome.runbook {
        let _ = writeln!(text, "  runbook {runbook}");
    }
    for step in &outcome.steps {
        let _ = writeln!(text, "  - {step}");
    }
    text
}

fn counts(label: &str, counts: &BTreeMap<String, u64>) -> String {
    if counts.is_empty() {
        return String::new();
    }
    let listed: Vec<String> = counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
    format!("  {label}: {}\n", listed.join(", "))
}

pub fn replay_summary(summary: &ReplaySummary) -> String {
    let mut text = format!(
        "{} -> {}{}: replayed {}, failed {}, delivered but not deleted {}, skipped by filter {}, poison {}, duplicates {}; stopped by {} after {} ms\n",
        summary.queue,
        summary.target,
        if summary.dry_run { " (dry run)" } else { "" },
        summary.replayed,
        summary.failed,
        summary.delivered_not_deleted,
        summary.skipped_by_filter,
        summary.poison,
        summary.duplicates,
        summary.stopped_by,
        summary.duration_ms
    );
    if let Some(remaining) = summary.remaining {
        let _ = writeln!(text, "  {remaining} messages left in the DLQ");
    }
    text += &counts("shapes", &summary.shapes);
    text += &counts("targets", &summary.targets);
    text += &counts("failures", &summary.failure_reasons);
    text += &counts("skipped", &summary.skipped_reasons);
    text += &counts("error codes", &summary.error_codes);
    if let Some(next) = &summary.continued_by {
        let _ = match (&next.reason, next.invoked) {
            (_, true) => writeln!(text, "  goes on in continuation {}", next.round),
            (Some(reason), false) => writeln!(text, "  does not go on: {reason}"),
            (None, false) => writeln!(text, "  does not go on"),
        };
    }
    for message in &summary.preview {
        let _ = writeln!(
            text,
            "  {} {} -> {} [{}] {}",
            message.message_id,
            message.shape,
            message.target,
            message.error_code.as_deref().unwrap_or("-"),
            message.body
        );
    }
    text
}

pub fn sync_report(report: &SyncReport) -> String {
    let mut text = format!(
        "pre-warm sync{}: {}\n",
        if report.dry_run { " (dry run)" } else { "" },
        report.counts()
    );
    for (verb, changes) in [
        ("create", &report.create),
        ("update", &report.update),
        ("delete", &report.delete),
    ] {
        for change in changes {
            let _ = writeln!(
                text,
                "  {verb} {}{}{}",
                change.rule,
                change
                    .target
                    .as_ref()
                    .map(|t| format!(" -> {t}"))
                    .unwrap_or_default(),
                if change.changes.is_empty() {
                    String::new()
                } else {
                    format!(": {}", change.changes.join("; "))
                }
            );
        }
    }
    for change in &report.scaling {
        let _ = match change {
            ScalingChange::Register { resource_id, max } => {
                writeln!(text, "  register {resource_id} (capacity 0 to {max})")
            }
            ScalingChange::Put(action) => writeln!(
                text,
                "  put {} on {}: {} {} -> {}",
                action.name,
                action.resource_id,
                action.schedule,
                action.timezone.as_deref().unwrap_or("UTC"),
                action.min_capacity.unwrap_or_default()
            ),
            ScalingChange::Delete { name, resource_id } => {
                writeln!(text, "  delete {name} on {resource_id}")
            }
            ScalingChange::Retire { resource_id } => writeln!(
                text,
                "  retire {resource_id}: capacity to 0, target and actions removed, provisioned concurrency configuration deleted"
            ),
        };
    }
    for cost in &report.costs {
        let _ = writeln!(
            text,
            "  cost {}: {} x {} MB ({}) = ${:.3}/hour while warm, {} hours/week = ${:.2}/week ({})",
            cost.target,
            cost.containers,
            cost.memory_mb,
            cost.architecture,
            cost.usd_per_hour,
            cost.hours_per_week,
            cost.usd_per_week,
            cost.priced
        );
    }
    for skipped in &report.skipped {
        let _ = writeln!(text, "  skipped {}: {}", skipped.target, skipped.reason);
    }
    for rule in &report.foreign {
        let _ = writeln!(text, "  not ours (untagged): {rule}");
    }
    for error in &report.errors {
        let _ = writeln!(
            text,
            "  error {}: {}",
            error
                .rule
                .as_deref()
                .or(error.target.as_deref())
                .unwrap_or("-"),
            error.message
        );
    }
    text
}

pub fn ping_report(report: &PingReport) -> String {
    let mut text = match &report.skipped {
        Some(why) => format!("{}: skipped, {why}\n", report.target),
        None => format!(
            "{}: {} of {} pings answered warm, {} failed, {} ms\n",
            report.target,
            report.warm,
            report.sent,
            report.failures.len(),
            report.elapsed_ms
        ),
    };
    for failure in &report.failures {
        let _ = writeln!(
            text,
            "  ping {} {:?}: {}",
            failure.ping, failure.kind, failure.message
        );
    }
    text
}

pub fn sweep_report(report: &SweepReport) -> String {
    let mut text = format!(
        "utilization report {}{}: {} quotas with usage data, {} at or above their threshold (default {}%)\n",
        report.report_id,
        if report.dry_run { " (dry run)" } else { "" },
        report.quotas_in_report,
        report.over_threshold.len(),
        report.default_threshold
    );
    for (row, outcome) in report.over_threshold.iter().zip(&report.outcomes) {
        let _ = writeln!(
            text,
            "  {} {} {:.1}%: {}",
            row.service_code, row.quota_code, row.utilization, outcome.summary
        );
    }
    text
}

pub fn follow_up_report(report: &FollowUpReport) -> String {
    let mut text = format!(
        "follow-up{}: {} open requests, {} told\n",
        if report.dry_run { " (dry run)" } else { "" },
        report.items.len(),
        report.items.iter().filter(|i| i.sent).count()
    );
    for item in &report.items {
        let _ = writeln!(
            text,
            "  {} {} {} in {}: {} -> {}{}",
            item.request_id,
            item.service_code,
            item.quota_code,
            item.region,
            item.status,
            item.action,
            item.error
                .as_deref()
                .map_or(String::new(), |e| format!(" ({e})"))
        );
    }
    if !report.waiting.is_empty() {
        let _ = writeln!(
            text,
            "waiting for Service Quotas' request budget, most urgent first:"
        );
    }
    for item in &report.waiting {
        let _ = writeln!(
            text,
            "  {} {}/{} in {} to {}{}: {}{}{}",
            item.account_id,
            item.service_code,
            item.quota_code,
            item.region,
            selfheal::text::number(item.desired_value),
            item.utilization.map_or(String::new(), |u| format!(
                " (at {} %)",
                selfheal::text::number(u)
            )),
            item.action,
            item.request_id
                .as_deref()
                .map_or(String::new(), |id| format!(", request {id}")),
            item.error
                .as_deref()
                .map_or(String::new(), |e| format!(" ({e})"))
        );
    }
    text
}
