//! The replay function's wiring, for the handler and the command line: the AWS adapters, built once
//! per container at the first request, handed to the core (`Replayer`, then `follow_up`).

use super::api::FunctionApi;
use super::continuation::{next_run, ContinuationReport, Next};
use super::engine::{ReplayError, ReplaySettings, Replayer};
use super::follow_up::{follow_up, RunContext};
use super::request::ReplayRequest;
use super::summary::ReplaySummary;
use crate::aws::dynamodb::DynamoLedger;
use crate::aws::lambda::Lambda;
use crate::aws::sns::SnsTopic;
use crate::aws::sqs::Sqs;
use crate::clock::now_ms;
use crate::escalation::Rendering;
use crate::function_error::{FunctionError, Retry};
use crate::rules::{RuleSet, RulesError};
use crate::settings::ReplayEnvironment;
use aws_config::SdkConfig;
use lambda_runtime::Diagnostic;
use serde_json::Value;
use std::sync::OnceLock;
use std::time::Instant;
use tracing::{info, warn};

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

/// The replay engine over the SDK's clients.
pub type Replay = Replayer<Sqs, Lambda, DynamoLedger>;

#[derive(Debug, thiserror::Error)]
pub enum ReplayFunctionError {
    #[error(transparent)]
    Replay(#[from] ReplayError),
    #[error("rules are invalid:\n{0}")]
    Rules(#[from] RulesError),
}

impl FunctionError for ReplayFunctionError {
    fn error_type(&self) -> &'static str {
        match self {
            Self::Replay(e) => e.kind(),
            Self::Rules(_) => "InvalidRules",
        }
    }

    fn retry(&self) -> Retry {
        match self {
            Self::Replay(e) => e.retry(),
            Self::Rules(_) => Retry::Never,
        }
    }
}

impl From<ReplayFunctionError> for Diagnostic {
    fn from(error: ReplayFunctionError) -> Self {
        crate::function_error::diagnostic(&error)
    }
}

/// The replayer as the function wires it: SQS and Lambda of `sdk`, the ledger table of `environment`.
/// The command line and the tests build theirs here too (with their own `settings`).
pub fn replayer(
    sdk: &SdkConfig,
    environment: &ReplayEnvironment,
    rules: RuleSet,
    settings: ReplaySettings,
) -> Replay {
    Replayer::new(
        Sqs::new(aws_sdk_sqs::Client::new(sdk)),
        Lambda::new(aws_sdk_lambda::Client::new(sdk)),
        DynamoLedger::new(
            aws_sdk_dynamodb::Client::new(sdk),
            environment.table_name.clone(),
        ),
        rules,
        settings,
    )
}

/// Everything is built at the first request, once per container: the rules, the SDK clients and the
/// replayer over them, so that none of it sits between process start and the first poll
/// (`benchmarks/cold_start.py`).
pub struct ReplayFunction {
    sdk: SdkConfig,
    environment: ReplayEnvironment,
    rules: Option<RuleSet>,
    wired: OnceLock<Result<Wired, RulesError>>,
}

/// The replayer, the ledger and topic of its follow-up, and the functions client it continues with.
struct Wired {
    replayer: Replay,
    functions: Lambda,
    ledger: DynamoLedger,
    topic: SnsTopic,
}

impl ReplayFunction {
    pub fn new(sdk: SdkConfig, environment: ReplayEnvironment) -> Self {
        ReplayFunction {
            sdk,
            environment,
            rules: None,
            wired: OnceLock::new(),
        }
    }

    pub fn with_rules(sdk: SdkConfig, environment: ReplayEnvironment, rules: RuleSet) -> Self {
        ReplayFunction {
            rules: Some(rules),
            ..Self::new(sdk, environment)
        }
    }

    fn wired(&self) -> Result<&Wired, ReplayFunctionError> {
        let built = self.wired.get_or_init(|| {
            let rules = match &self.rules {
                Some(rules) => rules.clone(),
                None => RuleSet::at_run_time()?,
            };
            let functions = Lambda::new(aws_sdk_lambda::Client::new(&self.sdk));
            let ledger = DynamoLedger::new(
                aws_sdk_dynamodb::Client::new(&self.sdk),
                self.environment.table_name.clone(),
            );
            let settings = ReplaySettings {
                region: self.sdk.region().map(|r| r.to_string()),
                ..ReplaySettings::default()
            };
            Ok(Wired {
                replayer: replayer(&self.sdk, &self.environment, rules, settings),
                ledger,
                functions,
                topic: SnsTopic::new(
                    aws_sdk_sns::Client::new(&self.sdk),
                    self.environment.topic_arn.clone(),
                ),
            })
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
        let mut request = ReplayRequest::parse(event).map_err(ReplayError::InvalidRequest)?;
        if self.environment.dry_run && !request.dry_run {
            // SELFHEAL_DRY_RUN: the stack's own switch wins over the request's.
            info!(
                function = "dlq-replay",
                "SELFHEAL_DRY_RUN is set: a dry run, whatever the request says"
            );
            request.dry_run = true;
        }
        let deadline = deadline_ms.map(|d| Instant::now() + remaining(d, now_ms()));
        let wired = self.wired()?;
        let mut summary = wired.replayer.replay(&request, deadline, now_ms).await?;
        summary.continued_by = self.go_on(&wired.functions, &request, &summary).await;
        let environment = &self.environment;
        let dlq_account = request.queue_location().account_id;
        let context = RunContext {
            request_id,
            account_id: environment
                .account_id
                .as_deref()
                .or(dlq_account.as_deref())
                .unwrap_or("unknown-account"),
            region: self.sdk.region().map_or("unknown", |r| r.as_ref()),
            rendering: Rendering {
                runbook_base_url: &environment.runbook_base_url,
                topic_display_name: &environment.topic_display_name,
            },
            audit_retention_secs: environment.audit_retention_secs,
            now: now_ms() / 1000,
        };
        follow_up(&wired.ledger, &wired.topic, &summary, &context).await;
        Ok(summary)
    }
}

impl ReplayFunction {
    /// When the deadline came with messages left, invokes this function again (asynchronously) with the
    /// request that goes on (`continuation::next_run`); reports what it did.
    async fn go_on(
        &self,
        functions: &Lambda,
        request: &ReplayRequest,
        summary: &ReplaySummary,
    ) -> Option<ContinuationReport> {
        let (round, next) = match next_run(request, summary) {
            Next::Done => return None,
            Next::Stop { round, reason } => {
                return Some(ContinuationReport {
                    round,
                    invoked: false,
                    reason: Some(reason.into()),
                })
            }
            Next::Continue(next) => (next.continuation.as_ref().map_or(1, |c| c.round), next),
        };
        let not_invoked = |reason: String| {
            warn!(function = "dlq-replay", round, reason = %reason, "the replay does not go on by itself");
            Some(ContinuationReport {
                round,
                invoked: false,
                reason: Some(reason),
            })
        };
        // Lambda sets these for every function (Lambda developer guide, "Defined runtime environment
        // variables"); the command line has neither, and no deadline either.
        let Some(name) = self.environment.own_function_name.as_deref() else {
            return not_invoked("not running as a Lambda function".into());
        };
        let qualifier = self
            .environment
            .own_function_version
            .as_deref()
            .filter(|v| *v != "$LATEST");
        let payload = match serde_json::to_string(&next) {
            Ok(payload) => payload,
            Err(e) => return not_invoked(format!("the request could not be written: {e}")),
        };
        match functions.invoke_async(name, qualifier, &payload).await {
            Ok(()) => {
                info!(
                    function = "dlq-replay",
                    round, "the replay goes on in a new invocation"
                );
                Some(ContinuationReport {
                    round,
                    invoked: true,
                    reason: None,
                })
            }
            Err(e) => not_invoked(format!("invoking {name} failed: {e}")),
        }
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
