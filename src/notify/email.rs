//! The email of a page: a subject under 100 characters without control characters, and a body of
//! paragraphs, facts, what was tried, links and the de-duplication key.

use super::page::Page;
use super::rendering::Rendering;
use crate::text::{cut_chars, single_line};

/// Facts' labels (with their colon) are padded to this width, so their values line up.
const FACT_LABEL_WIDTH: usize = 12;

/// SNS wants email subjects under 100 characters.
pub const SUBJECT_MAX_CHARS: usize = 99;

pub fn subject(page: &Page) -> String {
    let about = page
        .about
        .as_deref()
        .map_or_else(String::new, |a| format!(" ({a})"));
    cut_chars(
        &single_line(&format!("[selfheal] {} {}{about}", page.label, page.topic)),
        SUBJECT_MAX_CHARS,
    )
}

pub fn email(page: &Page, rendering: &Rendering<'_>) -> String {
    let mut sections: Vec<String> = page.intro.clone();
    if !page.facts.is_empty() {
        let lines: Vec<String> = page
            .facts
            .iter()
            .map(|(label, value)| format!("{label:<FACT_LABEL_WIDTH$} {value}"))
            .collect();
        sections.push(lines.join("\n"));
    }
    if !page.tried.is_empty() {
        let steps: Vec<String> = page
            .tried
            .iter()
            .enumerate()
            .map(|(i, step)| format!("  {}. {}", i + 1, single_line(step)))
            .collect();
        sections.push(format!("What selfheal tried:\n{}", steps.join("\n")));
    }
    let mut links: Vec<String> = page
        .links
        .iter()
        .map(|(label, url)| format!("{label}: {url}"))
        .collect();
    if let Some(runbook) = &page.runbook {
        links.push(format!(
            "Runbook ({runbook}): {}",
            rendering.runbook(runbook)
        ));
    }
    links.push(format!("De-duplication key: {}", page.dedup_key));
    sections.push(links.join("\n"));
    sections.join("\n\n") + "\n"
}
