//! The SMS of a page: one part of 140 bytes, less what SNS puts before it (the topic's display name
//! and "> "), in characters any phone shows.

use super::page::Page;
use super::rendering::Rendering;
use crate::text::{cut_bytes, sms_safe};

pub fn sms(page: &Page, rendering: &Rendering<'_>) -> String {
    let head = if page.sms_names_label {
        format!("selfheal {}: {}", page.label, page.sentence)
    } else {
        format!("selfheal: {}", page.sentence)
    };
    let tail = [
        page.region.clone(),
        page.runbook.as_ref().map(|r| format!("RB:{r}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let head = sms_safe(&head);
    if tail.is_empty() {
        return cut_bytes(&head, rendering.sms_budget());
    }
    let tail = sms_safe(&tail);
    format!(
        "{} {tail}",
        cut_bytes(&head, rendering.sms_budget().saturating_sub(tail.len() + 1))
    )
}
