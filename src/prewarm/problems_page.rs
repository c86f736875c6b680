//! The page for a deploy-time sync that left targets as they were: a rule naming a function that does
//! not exist, or one selfheal may not reach. The stack's operation still succeeds (selfheal itself
//! works); the page says once, at that deploy, what to fix.

use super::sync_report::SyncReport;
use crate::notify::{EventAction, Page, PageKind, Severity};
use serde_json::json;

pub const RUNBOOK: &str = "prewarm-sync-problems";

pub fn sync_problems_page(report: &SyncReport, account: &str, region: &str) -> Page {
    let problems: Vec<String> = report
        .errors
        .iter()
        .map(|p| match (&p.rule, &p.target) {
            (_, Some(target)) => format!("{target}: {}", p.message),
            (Some(rule), None) => format!("{rule}: {}", p.message),
            (None, None) => p.message.clone(),
        })
        .collect();
    Page {
        kind: PageKind::PrewarmProblems,
        severity: Severity::Warning,
        event_action: EventAction::Trigger,
        label: "PRE-WARM PROBLEMS",
        sms_names_label: true,
        topic: "pre-warm rules".into(),
        about: Some(format!("{} left as they were", problems.len())),
        sentence: format!(
            "the deploy's pre-warm sync left {} target(s) as they were.",
            problems.len()
        ),
        region: Some(region.to_owned()),
        summary: format!("pre-warm sync: {} problem(s)", problems.len()),
        intro: vec!["The deploy-time sync of rules/prewarm.toml could not set up every target. The stack was updated; each target below was left as it was, and the others were synced.".into()],
        facts: vec![("Synced:".into(), report.counts())],
        tried: problems.clone(),
        links: Vec::new(),
        runbook: Some(RUNBOOK.into()),
        dedup_key: format!("selfheal:{account}:{region}:prewarm:sync-problems"),
        fields: match json!({ "problems": problems, "counts": report.counts() }) {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        },
    }
}
