//! A page, neutral: what each feature says when it needs a person or has news for one. The channel
//! renderers (`sms.rs`, `email.rs`, `pager_json.rs`) turn every kind into their own text.

use super::route::Severity;
use serde_json::{Map, Value};

/// What a page is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageKind {
    /// Something selfheal could not fix.
    Escalation,
    /// An escalated alarm is back to OK.
    Resolution,
    /// What became of an increase request selfheal filed.
    RequestNews,
    /// A DLQ replay that could not deliver everything.
    ReplayFailure,
    /// A deploy-time pre-warm sync that left targets as they were.
    PrewarmProblems,
}

/// What a paging tool does with it (`event_action`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventAction {
    Trigger,
    Resolve,
}

impl EventAction {
    pub fn name(self) -> &'static str {
        match self {
            Self::Trigger => "trigger",
            Self::Resolve => "resolve",
        }
    }
}

/// One page.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    pub kind: PageKind,
    pub severity: Severity,
    pub event_action: EventAction,
    /// Its label in the subject: `ESCALATION`, `RESOLVED`, `RAISED`, `REPLAY FAILURES`...
    pub label: &'static str,
    /// Whether the SMS starts with the label (`selfheal RAISED: ...`); an escalation's sentence names
    /// its reason itself.
    pub sms_names_label: bool,
    /// What it is about, in the subject (`lambda/L-B99A9384 at ceiling`).
    pub topic: String,
    /// In brackets after the topic in the subject: the alarm, the queue's count.
    pub about: Option<String>,
    /// The SMS's sentence.
    pub sentence: String,
    /// Where it happened, at the end of the SMS (the Region).
    pub region: Option<String>,
    /// The paging tools' one-line summary.
    pub summary: String,
    /// The email's opening paragraphs.
    pub intro: Vec<String>,
    /// Labelled facts, one line each (the label padded as it should show).
    pub facts: Vec<(String, String)>,
    /// What selfheal tried, in order.
    pub tried: Vec<String>,
    /// Labelled links (the console).
    pub links: Vec<(String, String)>,
    /// A runbook of `runbooks/` (without `.md`).
    pub runbook: Option<String>,
    /// Stable across repeats of the same cause: the cooldown key and the paging tools' dedup key.
    pub dedup_key: String,
    /// Fields of the paging tools' JSON besides the common ones.
    pub fields: Map<String, Value>,
}
