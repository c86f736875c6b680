//! Every rule of a rules folder, and the lookups the functions make in it.

use super::dlq_rule::DlqRule;
use super::organization::Organization;
use super::pattern::glob_matches;
use super::prewarm_rule::PrewarmRule;
use super::quota_rule::{Defaults, QuotaRule};
use serde::Serialize;

/// Every rule of a rules folder.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RuleSet {
    pub defaults: Defaults,
    pub quotas: Vec<QuotaRule>,
    pub dlqs: Vec<DlqRule>,
    pub prewarm: Vec<PrewarmRule>,
    /// `accounts.toml`: the hub's reach and each account's owner.
    pub organization: Organization,
}

impl RuleSet {
    /// The first rule of `account_id` whose alarm pattern matches `alarm_name`.
    pub fn rule_for_alarm(&self, alarm_name: &str, account_id: &str) -> Option<&QuotaRule> {
        let owner = self.organization.owner_of(account_id);
        self.quotas.iter().find(|rule| {
            rule.applies_to(account_id, owner)
                && rule
                    .alarm
                    .as_deref()
                    .is_some_and(|pattern| glob_matches(pattern, alarm_name))
        })
    }

    /// The rule of a dead-letter queue, by the queue's name.
    pub fn dlq(&self, queue_name: &str) -> Option<&DlqRule> {
        self.dlqs.iter().find(|rule| rule.queue == queue_name)
    }

    /// The rule of `account_id` naming this quota, for alarms found through their usage metric.
    pub fn rule_for_quota(
        &self,
        service_code: &str,
        quota_code: &str,
        account_id: &str,
    ) -> Option<&QuotaRule> {
        let owner = self.organization.owner_of(account_id);
        self.quotas.iter().find(|rule| {
            rule.service_code == service_code
                && rule.quota_code == quota_code
                && rule.applies_to(account_id, owner)
        })
    }
}
