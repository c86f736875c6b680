//! The pre-warm function's wiring, for the handler and the command line: the AWS adapters, built
//! once per container at their first use, handed to the core (`sync`, `ping`, `event`,
//! `custom_resource`).

use super::custom_resource::{self, CustomResourceRequest};
use super::event::{classify, PrewarmEvent, PrewarmEventError};
use super::metrics::emit_ping_metrics;
use super::ping::{ping, PingReport, PingRequest};
use super::ping_rules;
use super::problems_page::sync_problems_page;
use super::sync::{SyncSettings, Syncer};
use super::sync_report::SyncReport;
use crate::aws::autoscaling::AutoScaling;
use crate::aws::cfn_response::{put_response, CfnResponseError};
use crate::aws::dynamodb::DynamoLedger;
use crate::aws::eventbridge::EventBridge;
use crate::aws::lambda::Lambda;
use crate::aws::sns::SnsTopic;
use crate::clock::now_ms;
use crate::function_error::{FunctionError, Retry};
use crate::ledger::{AuditKind, AuditRecord, AuditTrail};
use crate::notify::{send, Rendering, Route, Severity};
use crate::rules::{PrewarmRule, RuleSet, RulesError};
use crate::settings::{PrewarmEnvironment, AUDIT_RETENTION_SECS};
use aws_config::SdkConfig;
use aws_lambda_events::cloudformation::CloudFormationCustomResourceRequest;
use lambda_runtime::Diagnostic;
use serde_json::{json, Value};
use std::sync::OnceLock;
use tracing::{error, info, warn};

#[derive(Debug, thiserror::Error)]
pub enum PrewarmFunctionError {
    #[error(transparent)]
    Event(#[from] PrewarmEventError),
    #[error("rules are invalid:\n{0}")]
    Rules(#[from] RulesError),
    #[error("the pre-warm sync failed ({summary}): {first}")]
    SyncFailed { summary: String, first: String },
    #[error("{failed} of {sent} pings to {target} failed: {first}")]
    PingFailed {
        target: String,
        sent: u32,
        failed: usize,
        first: String,
    },
    #[error(transparent)]
    CfnResponse(#[from] CfnResponseError),
    /// A ping no `[[prewarm]]` rule compiles to: nothing was invoked.
    #[error("ping refused: {0}")]
    PingRefused(String),
}

impl FunctionError for PrewarmFunctionError {
    fn error_type(&self) -> &'static str {
        match self {
            Self::Event(_) => "InvalidEvent",
            Self::Rules(_) => "InvalidRules",
            Self::SyncFailed { .. } => "SyncFailed",
            Self::PingFailed { .. } => "PingFailed",
            Self::CfnResponse(_) => "CustomResourceResponseFailed",
            Self::PingRefused(_) => "PingRefused",
        }
    }

    fn retry(&self) -> Retry {
        match self {
            Self::Event(_) | Self::Rules(_) | Self::PingRefused(_) => Retry::Never,
            Self::SyncFailed { .. } | Self::PingFailed { .. } | Self::CfnResponse(_) => {
                Retry::Later
            }
        }
    }
}

impl From<PrewarmFunctionError> for Diagnostic {
    fn from(error: PrewarmFunctionError) -> Self {
        crate::function_error::diagnostic(&error)
    }
}

/// The sync as the function wires it: EventBridge, Lambda and Application Auto Scaling of `sdk`. The
/// command line and the tests build theirs here too.
pub fn syncer(sdk: &SdkConfig, settings: SyncSettings) -> Syncer<EventBridge, Lambda, AutoScaling> {
    Syncer::new(
        EventBridge::new(aws_sdk_eventbridge::Client::new(sdk)),
        Lambda::new(aws_sdk_lambda::Client::new(sdk)),
        AutoScaling::new(aws_sdk_applicationautoscaling::Client::new(sdk)),
        settings,
    )
}

/// The SDK clients are built at the first use, once per container, so that none sits between
/// process start and the first poll (`benchmarks/cold_start.py`); the rules are parsed at every sync,
/// which runs daily or at deploy time, never on a ping's path.
pub struct PrewarmFunction {
    sdk: SdkConfig,
    environment: PrewarmEnvironment,
    rules: Option<RuleSet>,
    lambda: OnceLock<Lambda>,
    /// The `[[prewarm]]` rules a ping must match, parsed at the first ping of the container.
    ping_rules: OnceLock<Result<Vec<PrewarmRule>, RulesError>>,
}

impl PrewarmFunction {
    pub fn new(sdk: SdkConfig, environment: PrewarmEnvironment) -> Self {
        PrewarmFunction {
            sdk,
            environment,
            rules: None,
            lambda: OnceLock::new(),
            ping_rules: OnceLock::new(),
        }
    }

    pub fn with_rules(sdk: SdkConfig, environment: PrewarmEnvironment, rules: RuleSet) -> Self {
        PrewarmFunction {
            rules: Some(rules),
            ..Self::new(sdk, environment)
        }
    }

    fn lambda(&self) -> &Lambda {
        self.lambda
            .get_or_init(|| Lambda::new(aws_sdk_lambda::Client::new(&self.sdk)))
    }

    /// Handles one event; `invoked_arn` is this function's ARN, the target of rules above concurrency 1.
    pub async fn handle(
        &self,
        event: &Value,
        invoked_arn: Option<&str>,
    ) -> Result<Value, PrewarmFunctionError> {
        match classify(event)? {
            PrewarmEvent::Ping(request) => {
                let rules = self
                    .ping_rules
                    .get_or_init(|| match &self.rules {
                        Some(rules) => Ok(rules.prewarm.clone()),
                        None => RuleSet::at_run_time().map(|r| r.prewarm),
                    })
                    .as_ref()
                    .map_err(|e| PrewarmFunctionError::Rules(e.clone()))?;
                if let Err(why) = ping_rules::allowed(rules, &request) {
                    warn!(target = %request.function, why = %why, decision = "refused", "prewarm ping");
                    return Err(PrewarmFunctionError::PingRefused(why));
                }
                let report = self.ping(&request).await;
                emit_ping_metrics(&report, now_ms());
                ping_result(report)
            }
            PrewarmEvent::Sync { dry_run } => {
                let report = self.sync(dry_run, invoked_arn).await?;
                sync_result(report)
            }
            PrewarmEvent::Scheduled => {
                let report = self.sync(self.environment.dry_run, invoked_arn).await?;
                sync_result(report)
            }
            PrewarmEvent::CustomResource(request) => {
                self.custom_resource(*request, invoked_arn).await
            }
        }
    }

    /// One round of pings, logged.
    pub async fn ping(&self, request: &PingRequest) -> PingReport {
        let report = ping(self.lambda(), request).await;
        for failure in &report.failures {
            error!(target = %report.target, ping = failure.ping, kind = ?failure.kind, error = %failure.message, "ping failed");
        }
        info!(
            target = %report.target,
            decision = if report.skipped.is_some() { "skipped" } else if report.ok() { "warmed" } else { "ping-failed" },
            sent = report.sent,
            warm = report.warm,
            elapsed_ms = report.elapsed_ms,
            "prewarm pings"
        );
        report
    }

    /// Syncs EventBridge with `[[prewarm]]` (`empty`: with no rules at all, removing ours).
    pub async fn sync(
        &self,
        dry_run: bool,
        invoked_arn: Option<&str>,
    ) -> Result<SyncReport, PrewarmFunctionError> {
        let rules = match &self.rules {
            Some(rules) => rules.clone(),
            None => RuleSet::at_run_time()?,
        };
        crate::rules::check_zones(&rules)?;
        let rules = rules.prewarm;
        Ok(self.sync_rules(&rules, dry_run, invoked_arn).await)
    }

    async fn sync_rules(
        &self,
        rules: &[PrewarmRule],
        dry_run: bool,
        invoked_arn: Option<&str>,
    ) -> SyncReport {
        let settings = SyncSettings {
            prefix: self.environment.prefix.clone(),
            pinger_arn: self
                .environment
                .pinger_arn
                .clone()
                .or_else(|| invoked_arn.map(str::to_owned)),
            failure_queue_arn: self.environment.failure_queue_arn.clone(),
            dry_run: dry_run || self.environment.dry_run,
        };
        let report = syncer(&self.sdk, settings).sync(rules).await;
        self.audit_sync(&report, invoked_arn).await;
        report
    }

    /// Create and Update sync; Delete removes every rule selfheal owns; the result goes to the
    /// request's response URL, where CloudFormation waits for it.
    async fn custom_resource(
        &self,
        request: CloudFormationCustomResourceRequest,
        invoked_arn: Option<&str>,
    ) -> Result<Value, PrewarmFunctionError> {
        let request = CustomResourceRequest::of(&request)?;
        // A request that is not CloudFormation's for this stack changes nothing and is answered
        // nowhere: a forged event can neither remove the rules nor make selfheal send a request.
        let refused = |message: String| {
            warn!(request = request.kind, why = %message, "custom resource request refused");
            PrewarmEventError::Invalid {
                kind: "CloudFormation custom resource request",
                message,
            }
        };
        custom_resource::response_url_allowed(
            request.response_url,
            self.environment.response_origin.as_deref(),
        )
        .map_err(refused)?;
        custom_resource::stack_allowed(&request, self.environment.stack_id.as_deref())
            .map_err(refused)?;
        let outcome = if request.kind == "Delete" {
            Ok(self.sync_rules(&[], false, invoked_arn).await)
        } else {
            self.sync(false, invoked_arn).await
        };
        if let Ok(report) = &outcome {
            if !report.ok() && request.kind != "Delete" {
                self.page_problems(report, invoked_arn).await;
            }
        }
        let response =
            custom_resource::response(&request, outcome.as_ref().map_err(|e| e.to_string()));
        info!(
            request = request.kind,
            decision = response.status,
            "custom resource"
        );
        put_response(request.response_url, &response.body.to_string()).await?;
        Ok(json!({ "Status": response.status, "Reason": response.reason }))
    }
}

impl PrewarmFunction {
    /// Keeps the sync in the audit trail (`selfheal audit --kind prewarm`); a record that cannot be
    /// written is logged: the sync is done either way.
    async fn audit_sync(&self, report: &SyncReport, invoked_arn: Option<&str>) {
        let Some(table) = &self.environment.table_name else {
            return;
        };
        let now = now_ms() / 1000;
        let record = AuditRecord {
            kind: AuditKind::Prewarm,
            function: "prewarm".into(),
            account: invoked_arn
                .and_then(|arn| arn.split(':').nth(4))
                .filter(|a| !a.is_empty())
                .unwrap_or("unknown-account")
                .to_owned(),
            subject: "sync".into(),
            at: now,
            expires: now + AUDIT_RETENTION_SECS,
            request_id: format!("sync-{}", now_ms()),
            decision: if report.dry_run { "dry-run" } else { "synced" }.into(),
            reason: report.counts(),
            dry_run: report.dry_run,
            outcome: serde_json::to_string(report).unwrap_or_default(),
        };
        let ledger = DynamoLedger::new(aws_sdk_dynamodb::Client::new(&self.sdk), table.clone());
        if let Err(e) = ledger.record(&record).await {
            warn!(error = %e, "the sync's audit record was not written");
        }
    }

    /// Pages a deploy-time sync's problems, once (one custom-resource request, one page); a page that
    /// cannot be sent is logged: the stack's answer does not wait on it.
    async fn page_problems(&self, report: &SyncReport, invoked_arn: Option<&str>) {
        let Some(topic_arn) = &self.environment.topic_arn else {
            return;
        };
        let account = invoked_arn
            .and_then(|arn| arn.split(':').nth(4))
            .filter(|a| !a.is_empty())
            .unwrap_or("unknown-account");
        let region = self.sdk.region().map_or("unknown", |r| r.as_ref());
        let page = sync_problems_page(report, account, region);
        let route = Route {
            topic_arn: None,
            account: account.to_owned(),
            region: region.to_owned(),
            owner: None,
            service: None,
            quota: None,
            reason: "prewarm-sync-problems".into(),
            severity: Severity::Warning,
        };
        let topic = SnsTopic::new(aws_sdk_sns::Client::new(&self.sdk), topic_arn.clone());
        let rendering = Rendering {
            runbook_base_url: &self.environment.runbook_base_url,
            topic_display_name: &self.environment.topic_display_name,
        };
        match send(&topic, &page, &rendering, &route).await {
            Ok((message_id, _)) => {
                info!(message_id = %message_id, problems = report.errors.len(), "prewarm sync problems paged")
            }
            Err(e) => warn!(error = %e, "prewarm sync problems could not be paged"),
        }
    }
}

fn sync_result(report: SyncReport) -> Result<Value, PrewarmFunctionError> {
    if report.ok() {
        Ok(serde_json::to_value(&report).unwrap_or_default())
    } else {
        Err(PrewarmFunctionError::SyncFailed {
            summary: report.counts(),
            first: report
                .errors
                .first()
                .map(|e| e.message.clone())
                .unwrap_or_default(),
        })
    }
}

fn ping_result(report: PingReport) -> Result<Value, PrewarmFunctionError> {
    match report.failures.first() {
        None => Ok(serde_json::to_value(&report).unwrap_or_default()),
        Some(first) => Err(PrewarmFunctionError::PingFailed {
            target: report.target.clone(),
            sent: report.sent,
            failed: report.failures.len(),
            first: first.message.clone(),
        }),
    }
}
