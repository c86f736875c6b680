//! What cannot be fixed goes to people: the reasons, the messages, and the SNS boundary.

mod message;
mod reason;

pub use message::{
    render_escalation, render_request_news, render_resolution, Notification, Rendering, RequestNews,
};
pub use reason::EscalationReason;

use crate::quota::QuotaSubject;
use serde::Serialize;
use std::future::Future;

/// Everything a person needs to act on an escalation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Escalation {
    pub reason: EscalationReason,
    pub alarm_name: String,
    pub alarm_reason: String,
    pub alarm_description: Option<String>,
    pub account_id: String,
    pub region: String,
    #[serde(flatten)]
    pub quota: QuotaSubject,
    /// One sentence: what went wrong.
    pub detail: String,
    /// What selfheal tried, in order.
    pub tried: Vec<String>,
    /// Runbook name (a file of `runbooks/` without `.md`).
    pub runbook: String,
}

impl Escalation {
    /// What the page is about: the quota when known, else the alarm.
    pub fn subject_key(&self) -> String {
        match (&self.quota.service_code, &self.quota.quota_code) {
            (Some(service), Some(quota)) => format!("{service}/{quota}"),
            _ => format!("alarm/{}", self.alarm_name),
        }
    }

    /// Stable across repeats of the same problem: the cooldown key and the paging tools' dedup key.
    pub fn dedup_key(&self) -> String {
        format!(
            "selfheal:{}:{}:{}:{}",
            self.account_id,
            self.region,
            self.subject_key(),
            self.reason.slug()
        )
    }
}

/// The SNS `Publish` selfheal makes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SNS Publish failed: {0}")]
pub struct NotifyError(pub String);

pub trait Notifier: Send + Sync {
    /// Publishes with `MessageStructure=json`; returns the message id.
    fn publish(
        &self,
        notification: &Notification,
    ) -> impl Future<Output = Result<String, NotifyError>> + Send;
}
