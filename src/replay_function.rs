//! The replay function as the handler and the command line run it: request in, summary out.

use crate::aws::dynamodb::DynamoLedger;
use crate::aws::lambda::Lambda;
use crate::aws::sns::SnsTopic;
use crate::aws::sqs::Sqs;
use crate::escalation::Notifier;
use crate::escalation::Rendering;
use crate::ledger::{AuditRecord, Ledger};
use crate::replay::report::render_replay_failure;
use crate::replay::{ReplayError, ReplayRequest, ReplaySettings, ReplaySummary, Replayer};
use crate::rules::{RuleSet, RulesError};
use crate::settings::QuotaEnvironment;
use aws_config::SdkConfig;
use serde_json::Value;
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tracing::error;

/// Time left before `deadline_ms`. Lambda sends milliseconds since the epoch; `cargo lambda watch`
/// (1.9) sends the timeout itself (600000), which as a date would be 1970: a value that small is taken
/// as milliseconds from now.
fn remaining(deadline_ms: u64, now_ms: u64) -> std::time::Duration {
    const YEAR_2001_MS: u64 = 978_307_200_000;
    if deadline_ms < YEAR_2001_MS {
        std::time::Duration::from_millis(deadline_ms)
    } else {
        std::time::Duration::from_millis(deadline_ms.saturating_sub(now_ms))
    }
}

pub type Replay = Replayer<Sqs, Lambda, DynamoLedger>;

#[derive(Debug, thiserror::Error)]
pub enum ReplayFunctionError {
    #[error(transparent)]
    Replay(#[from] ReplayError),
    #[error("rules are invalid:\n{0}")]
    Rules(#[from] RulesError),
}

impl ReplayFunctionError {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Replay(e) => e.kind(),
            Self::Rules(_) => "InvalidRules",
        }
    }
}

/// SDK clients at start-up; rules and the replayer at the first request.
pub struct ReplayFunction {
    sdk: SdkConfig,
    environment: QuotaEnvironment,
    rules: Option<RuleSet>,
    replayer: OnceLock<Result<Replay, RulesError>>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl ReplayFunction {
    pub fn new(sdk: SdkConfig, environment: QuotaEnvironment) -> Self {
        ReplayFunction {
            sdk,
            environment,
            rules: None,
            replayer: OnceLock::new(),
        }
    }

    pub fn with_rules(sdk: SdkConfig, environment: QuotaEnvironment, rules: RuleSet) -> Self {
        ReplayFunction {
            rules: Some(rules),
            ..Self::new(sdk, environment)
        }
    }

    fn ledger(&self) -> DynamoLedger {
        DynamoLedger::new(
            aws_sdk_dynamodb::Client::new(&self.sdk),
            self.environment.table_name.clone(),
        )
    }

    fn replayer(&self) -> Result<&Replay, ReplayFunctionError> {
        let built = self.replayer.get_or_init(|| {
            let rules = match &self.rules {
                Some(rules) => rules.clone(),
                None => RuleSet::embedded()?,
            };
            Ok(Replayer::new(
                Sqs::new(aws_sdk_sqs::Client::new(&self.sdk)),
                Lambda::new(aws_sdk_lambda::Client::new(&self.sdk)),
                self.ledger(),
                rules,
                ReplaySettings::default(),
            ))
        });
        built
            .as_ref()
            .map_err(|e| ReplayFunctionError::Rules(e.clone()))
    }

    /// Runs one replay request; `deadline_ms` is the invocation's deadline (ms since the epoch).
    pub async fn handle(
        &self,
        event: &Value,
        request_id: &str,
        deadline_ms: Option<u64>,
    ) -> Result<ReplaySummary, ReplayFunctionError> {
        let request = ReplayRequest::parse(event).map_err(ReplayError::InvalidRequest)?;
        let deadline = deadline_ms.map(|d| Instant::now() + remaining(d, now_ms()));
        let summary = self.replayer()?.replay(&request, deadline, now_ms).await?;
        let at = now_ms() / 1000;
        let record = AuditRecord {
            function: "dlq-replay",
            subject: summary.queue.clone(),
            at,
            expires: at + self.environment.settings.audit_retention_secs,
            request_id: request_id.to_owned(),
            decision: if summary.dry_run {
                "dry-run".into()
            } else {
                "replay".into()
            },
            reason: summary.stopped_by.clone(),
            outcome: serde_json::to_string(&summary).unwrap_or_default(),
        };
        // The messages have moved already: a failed audit write is logged, not turned into a failure.
        if let Err(e) = self.ledger().record(&record).await {
            error!(error = %e, "audit record of the replay not written");
        }
        if !summary.dry_run && summary.failed > 0 {
            let topic = SnsTopic::new(
                aws_sdk_sns::Client::new(&self.sdk),
                self.environment.topic_arn.clone(),
            );
            let region = self
                .sdk
                .region()
                .map_or("unknown", |r| r.as_ref())
                .to_owned();
            let page = render_replay_failure(
                &summary,
                &Rendering {
                    runbook_base_url: &self.environment.settings.runbook_base_url,
                    topic_display_name: &self.environment.settings.topic_display_name,
                },
                self.environment
                    .settings
                    .home_account_id
                    .as_deref()
                    .unwrap_or("unknown-account"),
                &region,
            );
            if let Err(e) = topic.publish(&page).await {
                error!(error = %e, "replay failures could not be escalated");
            }
        }
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::remaining;
    use std::time::Duration;

    #[test]
    fn a_deadline_is_a_date_or_from_cargo_lambda_a_duration() {
        let now = 1_795_840_000_000;
        assert_eq!(remaining(now + 30_000, now), Duration::from_secs(30));
        assert_eq!(remaining(now - 5, now), Duration::ZERO);
        assert_eq!(remaining(600_000, now), Duration::from_secs(600));
    }
}
