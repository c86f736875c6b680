//! What cannot be fixed goes to people: the reasons, the messages, and the SNS boundary.

mod message;
mod reason;
mod route;

pub use message::{
    render_escalation, render_request_news, render_resolution, Notification, Rendering, RequestNews,
};
pub use reason::EscalationReason;
pub use route::{Route, Severity};

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
    /// What the page is about: the account, for a cause that is the account's (its role, its place in
    /// the organization); else the quota when known, else the alarm.
    pub fn subject_key(&self) -> String {
        if self.reason.is_account_wide() {
            return format!("account/{}", self.account_id);
        }
        match (&self.quota.service_code, &self.quota.quota_code) {
            (Some(service), Some(quota)) => format!("{service}/{quota}"),
            _ => format!("alarm/{}", self.alarm_name),
        }
    }

    /// Stable across repeats of the same problem: the cooldown key and the paging tools' dedup key.
    pub fn dedup_key(&self) -> String {
        // An account-wide cause is one page for all the account's Regions (IAM roles are global).
        let region = if self.reason.is_account_wide() {
            "all-regions"
        } else {
            &self.region
        };
        format!(
            "selfheal:{}:{region}:{}:{}",
            self.account_id,
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
    /// Publishes with `MessageStructure=json` to the route's topic (else the notifier's own), with
    /// the route's message attributes; returns the message id.
    fn publish(
        &self,
        notification: &Notification,
        route: &Route,
    ) -> impl Future<Output = Result<String, NotifyError>> + Send;
}
