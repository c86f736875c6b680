//! `[[quota]]` rules and `[defaults]`: which quotas to raise, how far, and what applies to the rest.

use super::increase::Increase;
use serde::Serialize;

/// A rule for one quota.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QuotaRule {
    pub name: String,
    /// Alarm-name pattern; without one the rule applies when the usage metric identifies its quota.
    pub alarm: Option<String>,
    pub service_code: String,
    pub quota_code: String,
    pub increase: Increase,
    /// The highest value selfheal may ask for.
    pub ceiling: f64,
    /// Runbook named in this quota's escalations instead of the reason's own.
    pub runbook: Option<String>,
    /// Whether Service Quotas may open a support case for the request; `None`: the defaults'.
    pub support_case: Option<bool>,
    /// Minimum time between two pages for the same quota and reason.
    pub cooldown_minutes: Option<u32>,
    /// File a request even where Service Quotas' Automatic Management adjusts the quota itself.
    pub raise_when_aws_adjusts: bool,
    /// Utilization (percent) at which `quota sweep` plans this quota; `None`: the sweep's default.
    pub threshold: Option<f64>,
    /// The accounts the rule applies to (`accounts`); with `owners` both empty, every account.
    pub accounts: Vec<String>,
    /// The owners (of `accounts.toml`) whose accounts the rule applies to.
    pub owners: Vec<String>,
}

impl QuotaRule {
    /// Whether the rule applies to an account (whose owner is `owner`).
    pub fn applies_to(&self, account_id: &str, owner: Option<&str>) -> bool {
        (self.accounts.is_empty() && self.owners.is_empty())
            || self.accounts.iter().any(|a| a == account_id)
            || owner.is_some_and(|o| self.owners.iter().any(|x| x == o))
    }
}

/// What applies to a quota that no rule names.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Defaults {
    pub increase: Increase,
    /// Raise a quota no rule names, up to `ceiling_factor` times its AWS default value.
    pub raise_unmatched: bool,
    pub ceiling_factor: f64,
    pub support_case: bool,
    pub cooldown_minutes: u32,
    /// A request still `PENDING` this many days after it was filed gets one reminder (`quota follow-up`).
    pub stale_after_days: u32,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            increase: Increase::Percent(50.0),
            raise_unmatched: true,
            ceiling_factor: 4.0,
            // AWS's own default for `SupportCaseAllowed` (botocore `service-quotas` model).
            support_case: true,
            cooldown_minutes: 60,
            stale_after_days: 7,
        }
    }
}
