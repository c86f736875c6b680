//! The rules in `rules/*.toml`: which quotas to raise and how far at most, which dead-letter queues
//! may be replayed and where to, which functions to keep warm and when. Compiled into each function
//! (or read from a folder by the command line), every error naming its file, rule and field.

mod error;
mod fields;
mod files;
mod increase;
mod load;
mod organization;
mod pattern;
mod prewarm;

pub use error::{RuleError, RulesError};
pub use increase::Increase;
pub use organization::{AccountEntry, Organization, OutOfReach};
pub use pattern::glob_matches;
pub use prewarm::{MAX_CONCURRENCY as MAX_PREWARM_CONCURRENCY, MAX_PROVISIONED};

use serde::Serialize;
use std::path::Path;

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

/// Where the messages of a dead-letter queue go back to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DlqTarget {
    /// A Lambda function (a Lambda async DLQ), re-invoked asynchronously with the original body.
    Function {
        name: String,
        qualifier: Option<String>,
    },
    /// A queue named in the rule.
    Queue { name: String },
    /// The queue whose redrive policy names this DLQ (`ListDeadLetterSourceQueues`).
    SourceQueue,
    /// No target of its own: each message goes where it names (a Lambda on-failure record's
    /// function, an EventBridge DLQ message's target), when `allow_functions`/`allow_queues` name it.
    NamedInMessages,
}

/// A dead-letter queue that may be replayed, and its target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DlqRule {
    pub name: String,
    /// The DLQ's name.
    pub queue: String,
    pub target: DlqTarget,
    /// A message replayed this many times already is poison: it stays in the DLQ.
    pub max_replays: u32,
    /// Functions a message may name as its target besides the rule's own (`allow_functions`).
    pub allowed_functions: Vec<String>,
    /// Queues a message may name as its target besides the rule's own (`allow_queues`).
    pub allowed_queues: Vec<String>,
}

/// A function kept warm by a schedule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PrewarmRule {
    /// Defaults to `function` or `function:qualifier`.
    pub name: String,
    /// The function's name (an ARN in the rules is reduced to it).
    pub function: String,
    /// Alias or version; `None` is `$LATEST`.
    pub qualifier: Option<String>,
    /// The schedule as written.
    pub schedule: String,
    /// What EventBridge runs: the schedule with the active window folded in. Empty for a rule with a
    /// `timezone` (the sync folds it for the offset in force: `PrewarmRule::expression_at`) and for a
    /// provisioned one.
    pub expression: String,
    /// The IANA zone of `active_hours` and `active_days`; `None`: UTC.
    pub timezone: Option<String>,
    /// The rules file it came from, for errors found after parsing.
    #[serde(skip)]
    pub source: String,
    /// Pings, or provisioned concurrency on a schedule.
    pub mode: PrewarmMode,
    /// The window as written (in `timezone`), kept to fold it again when the zone's offset changes and
    /// to schedule provisioned capacity.
    #[serde(skip)]
    pub window: Option<crate::prewarm::schedule::ActiveWindow>,
    /// The ping schedule as parsed; `None` in provisioned mode.
    #[serde(skip)]
    pub rate: Option<crate::prewarm::schedule::Schedule>,
    /// How many containers to keep warm.
    pub concurrency: u32,
    /// The ping's payload, a JSON object.
    pub payload: serde_json::Value,
    /// How long one ping may take.
    pub timeout_ms: u32,
}

impl PrewarmRule {
    /// What EventBridge should run at `unix_secs`, and the offset a local window was folded for.
    pub fn expression_at(&self, unix_secs: i64) -> Result<(String, Option<String>), String> {
        let (Some(zone_name), Some(window), Some(schedule)) =
            (&self.timezone, &self.window, &self.rate)
        else {
            return Ok((self.expression.clone(), None));
        };
        let zone = crate::prewarm::zone::zone(zone_name)?;
        let folded = crate::prewarm::zone::fold(schedule, window, &zone, unix_secs)?;
        Ok((folded.expression, Some(folded.offset)))
    }

    /// `function` or `function:qualifier`.
    pub fn target_label(&self) -> String {
        match &self.qualifier {
            Some(q) => format!("{}:{q}", self.function),
            None => self.function.clone(),
        }
    }
}

/// How a `[[prewarm]]` rule keeps its target warm.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PrewarmMode {
    /// Scheduled EventBridge rules ping the function: about `concurrency` containers, best effort.
    #[default]
    Pings,
    /// Application Auto Scaling scheduled actions set the alias's provisioned concurrency to
    /// `concurrency` at the window's start and to 0 at its end: exact, and billed while configured.
    Provisioned,
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

/// The rules and runbook names compiled into the binaries from `rules/` and `runbooks/`.
mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

impl RuleSet {
    /// The rules compiled into this binary.
    pub fn embedded() -> Result<Self, RulesError> {
        Self::from_sources(embedded::RULE_FILES, embedded::RUNBOOKS)
    }

    /// Names of the runbooks compiled into this binary.
    pub fn embedded_runbooks() -> &'static [&'static str] {
        embedded::RUNBOOKS
    }

    /// Reads every `*.toml` file of `dir`; runbook names are checked against `runbooks`.
    pub fn from_dir(dir: &Path, runbooks: &[&str]) -> Result<Self, RulesError> {
        let sources = files::read_dir(dir)?;
        let borrowed: Vec<(&str, &str)> = sources
            .iter()
            .map(|(name, text)| (name.as_str(), text.as_str()))
            .collect();
        Self::from_sources(&borrowed, runbooks)
    }

    /// Parses `(file name, TOML text)` pairs, collecting every error before failing.
    pub fn from_sources(files: &[(&str, &str)], runbooks: &[&str]) -> Result<Self, RulesError> {
        load::parse_sources(files, runbooks)
    }

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
