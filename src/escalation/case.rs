//! One escalation: everything a person needs to act on what selfheal could not fix.

use super::reason::EscalationReason;
use super::subject::QuotaSubject;
use serde::Serialize;

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
    /// the organization); the Region's increase requests, when its request budget is full; else the
    /// quota when known, else the alarm.
    pub fn subject_key(&self) -> String {
        if self.reason.is_account_wide() {
            return format!("account/{}", self.account_id);
        }
        if self.reason.is_region_wide() {
            return "increase-requests".into();
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
