//! The paging tools' JSON of a page (the `https` and `default` keys): a stable `dedup_key`, and
//! `event_action` `trigger` or `resolve`, which PagerDuty and Opsgenie de-duplicate on.

use super::page::Page;
use super::rendering::Rendering;
use super::route::Severity;
use crate::text::cut_chars;
use serde_json::{json, Value};

/// Opsgenie shows 130 characters of a message.
const SUMMARY_MAX_CHARS: usize = 130;

pub fn pager_json(page: &Page, rendering: &Rendering<'_>) -> String {
    let mut body = json!({
        "version": 1,
        "source": "selfheal",
        "event_action": page.event_action.name(),
        "dedup_key": page.dedup_key,
        "severity": match page.severity {
            Severity::Critical => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        },
        "summary": cut_chars(&page.summary, SUMMARY_MAX_CHARS),
    });
    if let Value::Object(object) = &mut body {
        object.extend(page.fields.clone());
        if let Some(runbook) = &page.runbook {
            object.insert("runbook_url".into(), rendering.runbook(runbook).into());
        }
    }
    body.to_string()
}
