//! The pre-warm function as the handler and the command line run it: a sync (deploy time, daily, by
//! hand) or a round of pings, and a report out.

use crate::aws::cfn_response::{put_response, CfnResponseError};
use crate::aws::eventbridge::EventBridge;
use crate::aws::lambda::Lambda;
use crate::prewarm::metrics::ping_metrics;
use crate::prewarm::ping::{InvalidPing, PingReport, PingRequest, PING_KEY};
use crate::prewarm::{ping, SyncReport, SyncSettings, Syncer};
use crate::rules::{RuleSet, RulesError};
use crate::settings::PrewarmEnvironment;
use aws_config::SdkConfig;
use aws_lambda_events::cloudformation::CloudFormationCustomResourceRequest;
use serde_json::{json, Value};
use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};
use tracing::{error, info};

/// The custom resource's id: stable, so that an update never looks like a replacement to CloudFormation.
pub const PHYSICAL_RESOURCE_ID: &str = "selfheal-prewarm-rules";

/// What the pre-warm function was asked to do.
#[derive(Clone, Debug, PartialEq)]
pub enum PrewarmEvent {
    /// A rule above concurrency 1: `{"selfhealPrewarm": {...}}`.
    Ping(PingRequest),
    /// By hand: `{"action": "sync", "dryRun": true}`.
    Sync { dry_run: bool },
    /// The daily drift repair: an EventBridge `Scheduled Event`.
    Scheduled,
    /// Deploy time: Create and Update sync; Delete removes every rule selfheal owns.
    CustomResource(Box<CloudFormationCustomResourceRequest>),
}

#[derive(Debug, thiserror::Error)]
pub enum PrewarmEventError {
    #[error("not a pre-warm event: expected {{\"selfhealPrewarm\": ...}}, {{\"action\": \"sync\"}}, a CloudFormation custom resource request or a scheduled event")]
    Unknown,
    #[error("invalid {kind}: {message}")]
    Invalid { kind: &'static str, message: String },
    #[error(transparent)]
    Ping(#[from] InvalidPing),
}

/// Recognises the four events the pre-warm function receives.
pub fn classify(event: &Value) -> Result<PrewarmEvent, PrewarmEventError> {
    if let Some(request) = event.get(PING_KEY) {
        let request: PingRequest =
            serde_json::from_value(request.clone()).map_err(|e| PrewarmEventError::Invalid {
                kind: "ping request",
                message: e.to_string(),
            })?;
        request.validate()?;
        return Ok(PrewarmEvent::Ping(request));
    }
    if event.get("RequestType").is_some() && event.get("ResponseURL").is_some() {
        let request =
            serde_json::from_value(event.clone()).map_err(|e| PrewarmEventError::Invalid {
                kind: "CloudFormation custom resource request",
                message: e.to_string(),
            })?;
        return Ok(PrewarmEvent::CustomResource(Box::new(request)));
    }
    if event.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event")
        && event.get("source").and_then(Value::as_str) == Some("aws.events")
    {
        return Ok(PrewarmEvent::Scheduled);
    }
    if let Some(action) = event.get("action") {
        let invalid = |message: String| PrewarmEventError::Invalid {
            kind: "sync request",
            message,
        };
        if action != "sync" {
            return Err(invalid(format!("action {action} is not \"sync\"")));
        }
        let fields = event
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>());
        if let Some(unknown) = fields
            .unwrap_or_default()
            .into_iter()
            .find(|k| k != "action" && k != "dryRun")
        {
            return Err(invalid(format!(
                "unknown field {unknown:?} (expected action, dryRun)"
            )));
        }
        let dry_run = match event.get("dryRun") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(invalid(format!(
                    "dryRun must be true or false, not {other}"
                )))
            }
        };
        return Ok(PrewarmEvent::Sync { dry_run });
    }
    Err(PrewarmEventError::Unknown)
}

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
}

impl PrewarmFunctionError {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Event(_) => "InvalidEvent",
            Self::Rules(_) => "InvalidRules",
            Self::SyncFailed { .. } => "SyncFailed",
            Self::PingFailed { .. } => "PingFailed",
            Self::CfnResponse(_) => "CustomResourceResponseFailed",
        }
    }
}

/// SDK clients at start-up; rules at the first sync.
pub struct PrewarmFunction {
    sdk: SdkConfig,
    environment: PrewarmEnvironment,
    rules: Option<RuleSet>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl PrewarmFunction {
    pub fn new(sdk: SdkConfig, environment: PrewarmEnvironment) -> Self {
        PrewarmFunction {
            sdk,
            environment,
            rules: None,
        }
    }

    pub fn with_rules(sdk: SdkConfig, environment: PrewarmEnvironment, rules: RuleSet) -> Self {
        PrewarmFunction {
            rules: Some(rules),
            ..Self::new(sdk, environment)
        }
    }

    fn lambda(&self) -> Lambda {
        Lambda::new(aws_sdk_lambda::Client::new(&self.sdk))
    }

    /// Handles one event; `invoked_arn` is this function's ARN, the target of rules above concurrency 1.
    pub async fn handle(
        &self,
        event: &Value,
        invoked_arn: Option<&str>,
    ) -> Result<Value, PrewarmFunctionError> {
        match classify(event)? {
            PrewarmEvent::Ping(request) => {
                let report = self.ping(&request).await;
                // The round's metrics (EMF): one line on stdout, which CloudWatch Logs turns into metrics.
                let line = ping_metrics(&report, now_ms());
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
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
        let report = ping(&self.lambda(), request).await;
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
            Some(rules) => rules.prewarm.clone(),
            None => RuleSet::embedded()?.prewarm,
        };
        Ok(self.sync_rules(&rules, dry_run, invoked_arn).await)
    }

    async fn sync_rules(
        &self,
        rules: &[crate::rules::PrewarmRule],
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
            dry_run: dry_run || self.environment.dry_run,
        };
        let syncer = Syncer::new(
            EventBridge::new(aws_sdk_eventbridge::Client::new(&self.sdk)),
            self.lambda(),
            settings,
        );
        syncer.sync(rules).await
    }

    async fn custom_resource(
        &self,
        request: CloudFormationCustomResourceRequest,
        invoked_arn: Option<&str>,
    ) -> Result<Value, PrewarmFunctionError> {
        let (kind, url, stack_id, request_id, logical_id) = match &request {
            CloudFormationCustomResourceRequest::Create(r) => (
                "Create",
                &r.response_url,
                &r.stack_id,
                &r.request_id,
                &r.logical_resource_id,
            ),
            CloudFormationCustomResourceRequest::Update(r) => (
                "Update",
                &r.response_url,
                &r.stack_id,
                &r.request_id,
                &r.logical_resource_id,
            ),
            CloudFormationCustomResourceRequest::Delete(r) => (
                "Delete",
                &r.response_url,
                &r.stack_id,
                &r.request_id,
                &r.logical_resource_id,
            ),
            _ => {
                return Err(PrewarmEventError::Invalid {
                    kind: "CloudFormation custom resource request",
                    message: "unknown RequestType".into(),
                }
                .into())
            }
        };
        let outcome = if kind == "Delete" {
            Ok(self.sync_rules(&[], false, invoked_arn).await)
        } else {
            self.sync(false, invoked_arn).await
        };
        let (status, reason, data) = match &outcome {
            Ok(report) if report.ok() => (
                "SUCCESS",
                format!("pre-warm rules synced: {}", report.counts()),
                json!({
                    "Created": report.create.len(),
                    "Updated": report.update.len(),
                    "Deleted": report.delete.len(),
                    "Unchanged": report.unchanged.len(),
                }),
            ),
            Ok(report) => (
                "FAILED",
                format!(
                    "pre-warm sync failed ({}): {}",
                    report.counts(),
                    report
                        .errors
                        .iter()
                        .map(|e| e.message.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                json!({}),
            ),
            Err(e) => ("FAILED", e.to_string(), json!({})),
        };
        let reason = crate::escalation::text::cut_bytes(&reason, 1000);
        let body = json!({
            "Status": status,
            "Reason": reason,
            "PhysicalResourceId": PHYSICAL_RESOURCE_ID,
            "StackId": stack_id,
            "RequestId": request_id,
            "LogicalResourceId": logical_id,
            "NoEcho": false,
            "Data": data,
        });
        info!(request = kind, decision = status, "custom resource");
        put_response(url, &body.to_string()).await?;
        Ok(json!({ "Status": status, "Reason": reason }))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_events_and_the_rest() {
        let ping = json!({"selfhealPrewarm": {"function": "f", "concurrency": 3, "payload": {"isPrewarm": true}, "timeoutMs": 1000}});
        assert!(matches!(classify(&ping).unwrap(), PrewarmEvent::Ping(r) if r.concurrency == 3));
        assert_eq!(
            classify(&json!({"action": "sync", "dryRun": true})).unwrap(),
            PrewarmEvent::Sync { dry_run: true }
        );
        let scheduled: Value = serde_json::from_str(include_str!(
            "../tests/fixtures/eventbridge-scheduled-event.json"
        ))
        .unwrap();
        assert_eq!(classify(&scheduled).unwrap(), PrewarmEvent::Scheduled);
        let create: Value = serde_json::from_str(include_str!(
            "../tests/fixtures/cfn-custom-resource-create.json"
        ))
        .unwrap();
        assert!(matches!(
            classify(&create).unwrap(),
            PrewarmEvent::CustomResource(_)
        ));
        for (bad, expected) in [
            (json!({"hello": 1}), "not a pre-warm event"),
            (json!({"action": "purge"}), "is not \"sync\""),
            (json!({"action": "sync", "dryRun": "yes"}), "dryRun must be"),
            (json!({"action": "sync", "force": true}), "unknown field"),
            (
                json!({"selfhealPrewarm": {"function": "f", "concurrency": 0, "payload": {}, "timeoutMs": 1000}}),
                "concurrency",
            ),
            (
                json!({"selfhealPrewarm": {"function": "f", "concurrency": 2, "payload": 1, "timeoutMs": 1000}}),
                "payload",
            ),
            (
                json!({"selfhealPrewarm": {"function": "f"}}),
                "missing field",
            ),
            (
                json!({"RequestType": "Create", "ResponseURL": "https://x"}),
                "custom resource",
            ),
        ] {
            let err = classify(&bad).unwrap_err().to_string();
            assert!(err.contains(expected), "{bad}: {err}");
        }
    }
}
