//! The environment a deployed function reads.

use crate::quota::Settings;

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
pub const DEFAULT_RUNBOOK_BASE_URL: &str =
    "https://github.com/selfheal-dev/selfheal/blob/main/runbooks";

/// Where the quota function sends pages and keeps its ledger.
#[derive(Clone, Debug)]
pub struct QuotaEnvironment {
    pub topic_arn: String,
    pub table_name: String,
    pub settings: Settings,
}

/// Reads a variable through `lookup`, so tests need not touch the process environment.
pub fn quota_environment(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<QuotaEnvironment, SettingsError> {
    let required = |name: &'static str| {
        lookup(name)
            .filter(|v| !v.is_empty())
            .ok_or(SettingsError::Missing(name))
    };
    let dry_run = match lookup(DRY_RUN)
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("" | "0" | "false" | "no") => false,
        Some("1" | "true" | "yes") => true,
        Some(other) => {
            return Err(SettingsError::Invalid {
                name: DRY_RUN,
                value: other.to_owned(),
                expected: "true or false",
            })
        }
    };
    Ok(QuotaEnvironment {
        topic_arn: required(TOPIC_ARN)?,
        table_name: required(TABLE_NAME)?,
        settings: Settings {
            runbook_base_url: lookup(RUNBOOK_BASE_URL)
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| DEFAULT_RUNBOOK_BASE_URL.to_owned()),
            dry_run,
            default_account_id: "unknown-account".into(),
            default_region: lookup("AWS_REGION").unwrap_or_else(|| "us-east-1".into()),
            escalation_memory_secs: 7 * 24 * 3600,
            audit_retention_secs: 90 * 24 * 3600,
        },
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
}
