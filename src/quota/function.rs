//! The quota function's wiring, for the handler and the command line: the AWS adapters, built once
//! per container at the first event, handed to the core (`QuotaHealer`).

use super::event::{classify, QuotaEvent, QuotaEventError};
use super::follow_up::FollowUpReport;
use super::heal::{HealError, QuotaHealer};
use super::outcome::Outcome;
use super::sweep::{SweepError, SweepReport, DEFAULT_THRESHOLD};
use crate::alarm::AlarmNotice;
use crate::aws::dynamodb::DynamoLedger;
use crate::aws::sns::SnsTopic;
use crate::aws::spokes::SpokeAccess;
use crate::clock::now_ms;
use crate::function_error::{FunctionError, Retry};
use crate::rules::{RuleSet, RulesError};
use crate::settings::QuotaEnvironment;
use aws_config::SdkConfig;
use lambda_runtime::Diagnostic;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use tracing::{info, warn};

/// The quota function's core over the SDK's clients.
pub type Healer = QuotaHealer<SpokeAccess, SnsTopic, DynamoLedger>;

/// The quota function's core as the function wires it: Service Quotas in each account it may reach
/// (the spoke role of `rules/accounts.toml`), the topic and the ledger table of `environment`. The
/// command line and the tests build theirs here too.
pub fn quota_healer(sdk: &SdkConfig, environment: &QuotaEnvironment, rules: RuleSet) -> Healer {
    QuotaHealer::new(
        SpokeAccess::new(sdk.clone(), rules.organization.spoke_role.clone()),
        SnsTopic::new(aws_sdk_sns::Client::new(sdk), environment.topic_arn.clone()),
        DynamoLedger::new(
            aws_sdk_dynamodb::Client::new(sdk),
            environment.table_name.clone(),
        ),
        rules,
        environment.settings.clone(),
    )
}

/// Why an invocation failed.
#[derive(Debug, thiserror::Error)]
pub enum QuotaFunctionError {
    #[error(transparent)]
    Event(#[from] QuotaEventError),
    #[error("rules are invalid:\n{0}")]
    Rules(#[from] RulesError),
    #[error(transparent)]
    Heal(#[from] HealError),
    #[error(transparent)]
    Sweep(#[from] SweepError),
}

impl FunctionError for QuotaFunctionError {
    fn error_type(&self) -> &'static str {
        match self {
            Self::Event(_) => "InvalidEvent",
            Self::Rules(_) => "InvalidRules",
            Self::Heal(HealError::Notify(_)) => "NotificationFailed",
            Self::Heal(HealError::Ledger(_)) => "LedgerFailed",
            Self::Sweep(_) => "SweepFailed",
        }
    }

    fn retry(&self) -> Retry {
        match self {
            Self::Event(_) | Self::Rules(_) => Retry::Never,
            Self::Heal(e) => e.retry(),
            Self::Sweep(e) => e.retry(),
        }
    }
}

impl From<QuotaFunctionError> for Diagnostic {
    fn from(error: QuotaFunctionError) -> Self {
        crate::function_error::diagnostic(&error)
    }
}

/// Everything is built at the first event, once per container: the rules (parsing them), the SDK
/// clients (about a millisecond, `benchmarks/cold_start.py`) and the healer over them, so that none of
/// it sits between process start and the first poll; and the invocation's ARN names the home account
/// when the environment does not.
pub struct QuotaFunction {
    sdk: SdkConfig,
    environment: QuotaEnvironment,
    rules: Option<RuleSet>,
    healer: OnceLock<Result<Healer, RulesError>>,
}

impl QuotaFunction {
    /// With the rules compiled into the binary.
    pub fn new(sdk: SdkConfig, environment: QuotaEnvironment) -> Self {
        QuotaFunction {
            sdk,
            environment,
            rules: None,
            healer: OnceLock::new(),
        }
    }

    /// With rules read elsewhere (the command line's `--rules DIR`).
    pub fn with_rules(sdk: SdkConfig, environment: QuotaEnvironment, rules: RuleSet) -> Self {
        QuotaFunction {
            rules: Some(rules),
            ..Self::new(sdk, environment)
        }
    }

    fn healer(&self, invoked_function_arn: Option<&str>) -> Result<&Healer, QuotaFunctionError> {
        let built = self.healer.get_or_init(|| {
            let rules = match &self.rules {
                Some(rules) => rules.clone(),
                None => RuleSet::at_run_time()?,
            };
            let mut environment = self.environment.clone();
            if environment.settings.home_account_id.is_none() {
                environment.settings.home_account_id = invoked_function_arn
                    .and_then(arn_account)
                    .map(str::to_owned);
            }
            Ok(quota_healer(&self.sdk, &environment, rules))
        });
        built
            .as_ref()
            .map_err(|e| QuotaFunctionError::Rules(e.clone()))
    }

    /// Handles one event (one outcome per alarm it carries). `invoked_function_arn` (the Lambda
    /// context's) names the function's own account when the environment does not.
    pub async fn handle(
        &self,
        event: &Value,
        request_id: &str,
        invoked_function_arn: Option<&str>,
    ) -> Result<Vec<Outcome>, QuotaFunctionError> {
        match classify(event)? {
            QuotaEvent::Alarms(notices) | QuotaEvent::ThresholdNotices(notices) => {
                self.handle_notices(&notices, request_id, invoked_function_arn)
                    .await
            }
            QuotaEvent::Ignored(why) => {
                info!(function = "quota-alarm", request_id, why = %why, "event ignored");
                Ok(Vec::new())
            }
            QuotaEvent::Sweep(_) | QuotaEvent::FollowUp(_) => Err(QuotaFunctionError::Event(
                QuotaEventError::InvalidScheduledEvent(
                    "a scheduled event is answered by `answer`, not by `handle`".into(),
                ),
            )),
        }
    }

    async fn handle_notices(
        &self,
        notices: &[AlarmNotice],
        request_id: &str,
        invoked_function_arn: Option<&str>,
    ) -> Result<Vec<Outcome>, QuotaFunctionError> {
        let healer = self.healer(invoked_function_arn)?;
        let now = now_ms() / 1000;
        let mut outcomes = Vec::with_capacity(notices.len());
        for notice in notices {
            // Boxed as a trait object: the healer's future nests every read and write it makes,
            // deeper than rustc's layout query limit (128) once the runtime's futures wrap it.
            let outcome: Pin<Box<dyn Future<Output = Result<Outcome, HealError>> + Send + '_>> =
                Box::pin(healer.handle(notice, request_id, now));
            outcomes.push(outcome.await?);
        }
        Ok(outcomes)
    }
}

impl QuotaFunction {
    /// The function's answer to any event it is sent: a sweep's report for the scheduled sweep
    /// (`{"selfheal": "sweep"}`), the follow-up's for `{"selfheal": "follow-up"}`, else
    /// `{"outcomes": [...]}`.
    pub async fn answer(
        &self,
        event: &Value,
        request_id: &str,
        invoked_function_arn: Option<&str>,
    ) -> Result<Value, QuotaFunctionError> {
        let classified = classify(event).inspect_err(|e| warn!(error = %e, "event rejected"))?;
        let answer = match classified {
            QuotaEvent::FollowUp(request) => serde_json::to_value(
                self.follow_up(request.dry_run, invoked_function_arn)
                    .await?,
            ),
            // The event may only make a sweep more careful: a dry run, or a threshold above the
            // default; SELFHEAL_SWEEP_MODE=report (the template's default) keeps it a dry run.
            QuotaEvent::Sweep(request) => serde_json::to_value(
                self.sweep(
                    request.threshold().max(DEFAULT_THRESHOLD),
                    request.dry_run || self.environment.sweep_reports_only,
                    request_id,
                    invoked_function_arn,
                )
                .await?,
            ),
            QuotaEvent::Alarms(notices) | QuotaEvent::ThresholdNotices(notices) => {
                let outcomes = self
                    .handle_notices(&notices, request_id, invoked_function_arn)
                    .await?;
                Ok(serde_json::json!({ "outcomes": outcomes }))
            }
            QuotaEvent::Ignored(why) => {
                info!(function = "quota-alarm", request_id, why = %why, "event ignored");
                Ok(serde_json::json!({ "outcomes": [] }))
            }
        };
        Ok(answer.unwrap_or_default())
    }

    /// `quota follow-up`: what became of every request selfheal filed, told once (nothing sent when
    /// `dry_run`).
    pub async fn follow_up(
        &self,
        dry_run: bool,
        invoked_function_arn: Option<&str>,
    ) -> Result<FollowUpReport, QuotaFunctionError> {
        let healer = self.healer(invoked_function_arn)?;
        let run: Pin<Box<dyn Future<Output = Result<FollowUpReport, HealError>> + Send + '_>> =
            Box::pin(healer.follow_up(dry_run, now_ms() / 1000));
        let report = run.await?;
        info!(
            function = "quota-alarm",
            requests = report.items.len(),
            sent = report.items.iter().filter(|i| i.sent).count(),
            dry_run = report.dry_run,
            "follow-up finished"
        );
        Ok(report)
    }

    /// `quota sweep`: the utilization report's quotas at or above their threshold, each planned (and,
    /// unless `dry_run`, carried out) as an alarm of it would be.
    pub async fn sweep(
        &self,
        threshold: f64,
        dry_run: bool,
        request_id: &str,
        invoked_function_arn: Option<&str>,
    ) -> Result<SweepReport, QuotaFunctionError> {
        let healer = self.healer(invoked_function_arn)?;
        let sweep: Pin<Box<dyn Future<Output = Result<SweepReport, SweepError>> + Send + '_>> =
            Box::pin(healer.sweep(threshold, dry_run, request_id, now_ms() / 1000));
        let report = sweep.await?;
        info!(
            function = "quota-alarm",
            request_id,
            report = %report.report_id,
            quotas = report.quotas_in_report,
            over_threshold = report.over_threshold.len(),
            dry_run = report.dry_run,
            "sweep finished"
        );
        Ok(report)
    }
}

/// The account of `arn:partition:lambda:region:account:function:name`.
fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':')
        .nth(4)
        .filter(|account| account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::arn_account;

    #[test]
    fn the_account_comes_from_the_function_arn() {
        assert_eq!(
            arn_account("arn:aws:lambda:eu-west-1:111122223333:function:quota-alarm"),
            Some("111122223333")
        );
        assert_eq!(arn_account("arn:aws:lambda:eu-west-1::function:x"), None);
        assert_eq!(arn_account(""), None);
    }
}
