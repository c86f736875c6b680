//! The environment a deployed function reads. It imports no feature: each feature imports what it
//! needs from here.

/// A required variable is missing or a value cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name} is {value:?}: {expected}")]
    Invalid {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
}

pub const TOPIC_ARN: &str = "SELFHEAL_TOPIC_ARN";
pub const TABLE_NAME: &str = "SELFHEAL_TABLE";
pub const RUNBOOK_BASE_URL: &str = "SELFHEAL_RUNBOOK_BASE_URL";
pub const DRY_RUN: &str = "SELFHEAL_DRY_RUN";
/// The escalation topic's display name (SNS puts it before every SMS); the template sets both.
pub const TOPIC_DISPLAY_NAME: &str = "SELFHEAL_TOPIC_DISPLAY_NAME";
/// The account the quota function acts on. Optional in Lambda, where the invoked function's ARN
/// names it; the command line needs it to act on alarms that name an account.
pub const ACCOUNT_ID: &str = "SELFHEAL_ACCOUNT_ID";
pub const DEFAULT_RUNBOOK_BASE_URL: &str =
    "https://github.com/selfheal-dev/selfheal/blob/main/runbooks";

/// The quota function's environment: where it pages and keeps its ledger, and how it runs.
#[derive(Clone, Debug)]
pub struct QuotaEnvironment {
    pub topic_arn: String,
    pub table_name: String,
    pub settings: QuotaSettings,
    /// `SELFHEAL_SWEEP_MODE=report` (the template's default): every sweep only plans, whatever its
    /// event says; the event may only make a run more careful.
    pub sweep_reports_only: bool,
}

/// The sweep's mode, as the template sets it: `report` or `act`.
pub const SWEEP_MODE: &str = "SELFHEAL_SWEEP_MODE";

/// The replay function's environment.
#[derive(Clone, Debug)]
pub struct ReplayEnvironment {
    /// Where a run's failures are paged, and where its audit records and replay counts are kept.
    pub topic_arn: String,
    pub table_name: String,
    pub runbook_base_url: String,
    pub topic_display_name: String,
    /// The account its pages name (`SELFHEAL_ACCOUNT_ID`); else the DLQ's, from its URL.
    pub account_id: Option<String>,
    pub audit_retention_secs: u64,
    /// `SELFHEAL_DRY_RUN`: every replay is a dry run, whatever the request says.
    pub dry_run: bool,
    /// `AWS_LAMBDA_FUNCTION_NAME` and `AWS_LAMBDA_FUNCTION_VERSION`, which Lambda sets for every
    /// function: what the replay function invokes to go on past its deadline.
    pub own_function_name: Option<String>,
    pub own_function_version: Option<String>,
}

/// How long an audit record is kept.
pub const AUDIT_RETENTION_SECS: u64 = 90 * 24 * 3600;

fn required(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<String, SettingsError> {
    lookup(name)
        .filter(|v| !v.is_empty())
        .ok_or(SettingsError::Missing(name))
}

fn runbook_base_url(lookup: &impl Fn(&str) -> Option<String>) -> String {
    lookup(RUNBOOK_BASE_URL)
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_RUNBOOK_BASE_URL.to_owned())
}

/// Reads a variable through `lookup`, so tests need not touch the process environment.
pub fn quota_environment(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<QuotaEnvironment, SettingsError> {
    Ok(QuotaEnvironment {
        topic_arn: required(&lookup, TOPIC_ARN)?,
        table_name: required(&lookup, TABLE_NAME)?,
        settings: QuotaSettings {
            runbook_base_url: runbook_base_url(&lookup),
            topic_display_name: lookup(TOPIC_DISPLAY_NAME).unwrap_or_default(),
            dry_run: dry_run(&lookup)?,
            home_account_id: lookup(ACCOUNT_ID).filter(|v| !v.is_empty()),
            home_region: lookup("AWS_REGION").unwrap_or_else(|| "us-east-1".into()),
            escalation_memory_secs: 7 * 24 * 3600,
            audit_retention_secs: AUDIT_RETENTION_SECS,
        },
        sweep_reports_only: match lookup(SWEEP_MODE).as_deref() {
            None | Some("") | Some("act") => false,
            Some("report") => true,
            Some(other) => {
                return Err(SettingsError::Invalid {
                    name: SWEEP_MODE,
                    value: other.to_owned(),
                    expected: "report or act",
                })
            }
        },
    })
}

pub fn replay_environment(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<ReplayEnvironment, SettingsError> {
    Ok(ReplayEnvironment {
        topic_arn: required(&lookup, TOPIC_ARN)?,
        table_name: required(&lookup, TABLE_NAME)?,
        runbook_base_url: runbook_base_url(&lookup),
        topic_display_name: lookup(TOPIC_DISPLAY_NAME).unwrap_or_default(),
        account_id: lookup(ACCOUNT_ID).filter(|v| !v.is_empty()),
        audit_retention_secs: AUDIT_RETENTION_SECS,
        dry_run: dry_run(&lookup)?,
        own_function_name: lookup("AWS_LAMBDA_FUNCTION_NAME").filter(|v| !v.is_empty()),
        own_function_version: lookup("AWS_LAMBDA_FUNCTION_VERSION").filter(|v| !v.is_empty()),
    })
}

fn dry_run(lookup: &impl Fn(&str) -> Option<String>) -> Result<bool, SettingsError> {
    match lookup(DRY_RUN)
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("" | "0" | "false" | "no") => Ok(false),
        Some("1" | "true" | "yes") => Ok(true),
        Some(other) => Err(SettingsError::Invalid {
            name: DRY_RUN,
            value: other.to_owned(),
            expected: "true or false",
        }),
    }
}

/// How the quota function runs, from its environment.
#[derive(Clone, Debug)]
pub struct QuotaSettings {
    pub runbook_base_url: String,
    /// The SNS topic's display name, which SNS puts before every SMS (it counts in the 140 bytes).
    pub topic_display_name: String,
    pub dry_run: bool,
    /// The account the function runs in, acted on with its own credentials (any other only through
    /// its spoke role, in hub mode). `None` when it could not be learned (then every alarm that names
    /// an account is taken for another account's). Also stands in for an event that names no account.
    pub home_account_id: Option<String>,
    /// The Region the function runs in (quotas are Regional; `regions` of `rules/accounts.toml` adds
    /// others).
    pub home_region: String,
    /// How long an escalation waits for its alarm to return to OK.
    pub escalation_memory_secs: u64,
    pub audit_retention_secs: u64,
}

pub const PREWARM_PREFIX: &str = "SELFHEAL_PREWARM_PREFIX";
/// The name every EventBridge rule of selfheal's pre-warming starts with, unless `PREWARM_PREFIX` says.
pub const DEFAULT_PREWARM_PREFIX: &str = "selfheal-prewarm-";
pub const PREWARM_FUNCTION_ARN: &str = "SELFHEAL_PREWARM_FUNCTION_ARN";
pub const PREWARM_FAILURE_QUEUE_ARN: &str = "SELFHEAL_PREWARM_FAILURE_QUEUE_ARN";

/// The pre-warm function's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrewarmEnvironment {
    /// Name prefix of the rules selfheal owns.
    pub prefix: String,
    /// The pre-warm function's ARN; in Lambda, the ARN it was invoked with when unset.
    pub pinger_arn: Option<String>,
    /// The queue each ping rule's target sends what EventBridge could not deliver to.
    pub failure_queue_arn: Option<String>,
    /// Where a deploy-time sync's problems are paged; none: they are only reported to CloudFormation.
    pub topic_arn: Option<String>,
    pub topic_display_name: String,
    pub runbook_base_url: String,
    /// The ledger table: each sync is one audit record; none: syncs are only logged.
    pub table_name: Option<String>,
    /// This stack's id (`SELFHEAL_STACK_ID`): the only stack whose custom-resource Delete is obeyed.
    pub stack_id: Option<String>,
    /// An origin a custom-resource response may go to besides CloudFormation's bucket
    /// (`SELFHEAL_CFN_RESPONSE_ORIGIN`, for a local run's listener; the template sets none).
    pub response_origin: Option<String>,
    pub dry_run: bool,
}

pub fn prewarm_environment(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<PrewarmEnvironment, SettingsError> {
    let prefix = lookup(PREWARM_PREFIX)
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_PREWARM_PREFIX.to_owned());
    let valid = prefix.len() <= 40
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !valid {
        return Err(SettingsError::Invalid {
            name: PREWARM_PREFIX,
            value: prefix,
            expected: "at most 40 letters, digits, -, _ or .",
        });
    }
    Ok(PrewarmEnvironment {
        prefix,
        pinger_arn: lookup(PREWARM_FUNCTION_ARN).filter(|v| !v.is_empty()),
        failure_queue_arn: lookup(PREWARM_FAILURE_QUEUE_ARN).filter(|v| !v.is_empty()),
        topic_arn: lookup(TOPIC_ARN).filter(|v| !v.is_empty()),
        topic_display_name: lookup(TOPIC_DISPLAY_NAME).unwrap_or_default(),
        runbook_base_url: runbook_base_url(&lookup),
        table_name: lookup(TABLE_NAME).filter(|v| !v.is_empty()),
        stack_id: lookup("SELFHEAL_STACK_ID").filter(|v| !v.is_empty()),
        response_origin: lookup("SELFHEAL_CFN_RESPONSE_ORIGIN").filter(|v| !v.is_empty()),
        dry_run: dry_run(&lookup)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn the_sweep_mode_is_the_stacks() {
        let base = [
            (TOPIC_ARN, "arn:aws:sns:us-east-1:123456789012:t"),
            (TABLE_NAME, "t"),
        ];
        let mode = |value: Option<&str>| {
            let mut pairs = base.to_vec();
            if let Some(v) = value {
                pairs.push((SWEEP_MODE, v));
            }
            quota_environment(env(&pairs)).map(|e| e.sweep_reports_only)
        };
        assert!(mode(Some("report")).unwrap());
        assert!(!mode(Some("act")).unwrap());
        assert!(
            !mode(None).unwrap(),
            "the command line: its --dry-run decides"
        );
        assert!(mode(Some("acts")).is_err());
    }

    #[test]
    fn reads_the_environment() {
        let e = quota_environment(env(&[
            (TOPIC_ARN, "arn:t"),
            (TABLE_NAME, "tbl"),
            (DRY_RUN, "TRUE"),
        ]))
        .unwrap();
        assert!(e.settings.dry_run);
        assert_eq!(e.settings.runbook_base_url, DEFAULT_RUNBOOK_BASE_URL);
        assert_eq!(
            quota_environment(env(&[(TABLE_NAME, "tbl")])).unwrap_err(),
            SettingsError::Missing(TOPIC_ARN)
        );
        assert!(quota_environment(env(&[
            (TOPIC_ARN, "a"),
            (TABLE_NAME, "t"),
            (DRY_RUN, "maybe")
        ]))
        .is_err());
    }

    #[test]
    fn the_replay_function_reads_its_own_environment_and_honours_dry_run() {
        let e = replay_environment(env(&[
            (TOPIC_ARN, "arn:t"),
            (TABLE_NAME, "tbl"),
            (ACCOUNT_ID, "123456789012"),
            ("AWS_LAMBDA_FUNCTION_NAME", "selfheal-dlq-replay"),
        ]))
        .unwrap();
        assert!(!e.dry_run);
        assert_eq!(e.account_id.as_deref(), Some("123456789012"));
        assert_eq!(e.own_function_name.as_deref(), Some("selfheal-dlq-replay"));
        let dry = replay_environment(env(&[
            (TOPIC_ARN, "arn:t"),
            (TABLE_NAME, "tbl"),
            (DRY_RUN, "true"),
        ]))
        .unwrap();
        assert!(dry.dry_run);
    }

    #[test]
    fn reads_the_prewarm_environment() {
        let e = prewarm_environment(env(&[])).unwrap();
        assert_eq!(e.prefix, "selfheal-prewarm-");
        assert_eq!(e.pinger_arn, None);
        let e = prewarm_environment(env(&[(PREWARM_PREFIX, "team-a-warm-"), (DRY_RUN, "yes")]))
            .unwrap();
        assert!(e.dry_run);
        assert_eq!(e.prefix, "team-a-warm-");
        assert!(prewarm_environment(env(&[(PREWARM_PREFIX, "no spaces")])).is_err());
    }
}
