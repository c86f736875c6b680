//! The pinger: N synchronous invocations at once, so that each one holds its own container.

use super::api::WarmApi;
use crate::concurrent::join_all;
use crate::rules::MAX_PREWARM_CONCURRENCY;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::{Duration, Instant};

/// The key of a ping request in the pre-warm function's input: `{"selfhealPrewarm": {...}}`.
pub const PING_KEY: &str = "selfhealPrewarm";

/// What a pre-warm rule asks the pre-warm function to do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PingRequest {
    /// The function's name or ARN.
    pub function: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
    pub concurrency: u32,
    pub payload: Value,
    pub timeout_ms: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid ping request: {0}")]
pub struct InvalidPing(pub String);

impl PingRequest {
    pub fn validate(&self) -> Result<(), InvalidPing> {
        if self.function.trim().is_empty() {
            return Err(InvalidPing("`function` is empty".into()));
        }
        if !(1..=MAX_PREWARM_CONCURRENCY).contains(&self.concurrency) {
            return Err(InvalidPing(format!(
                "`concurrency` must be 1 to {MAX_PREWARM_CONCURRENCY}, not {}",
                self.concurrency
            )));
        }
        if !(100..=30_000).contains(&self.timeout_ms) {
            return Err(InvalidPing(format!(
                "`timeoutMs` must be 100 to 30000, not {}",
                self.timeout_ms
            )));
        }
        if !self.payload.is_object() {
            return Err(InvalidPing("`payload` must be a JSON object".into()));
        }
        Ok(())
    }

    /// `function` or `function:qualifier`, the function given by name.
    pub fn label(&self) -> String {
        let name = if self.function.starts_with("arn:") {
            // arn:aws:lambda:region:account:function:name
            self.function.split(':').nth(6).unwrap_or(&self.function)
        } else {
            &self.function
        };
        match &self.qualifier {
            Some(q) => format!("{name}:{q}"),
            None => name.to_owned(),
        }
    }
}

/// Why one ping failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    Throttled,
    TimedOut,
    FunctionError,
    NotFound,
    InvokeError,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PingFailure {
    pub ping: u32,
    pub kind: FailureKind,
    pub message: String,
}

/// What one round of pings did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PingReport {
    pub target: String,
    pub concurrency: u32,
    pub sent: u32,
    pub warm: u32,
    pub failures: Vec<PingFailure>,
    /// Set when nothing was sent, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    pub elapsed_ms: u64,
}

impl PingReport {
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Pings `request.concurrency` times at once, unless provisioned concurrency already covers that.
pub async fn ping<W: WarmApi>(api: &W, request: &PingRequest) -> PingReport {
    let started = Instant::now();
    let target = request.label();
    let mut report = PingReport {
        target: target.clone(),
        concurrency: request.concurrency,
        sent: 0,
        warm: 0,
        failures: Vec::new(),
        skipped: None,
        elapsed_ms: 0,
    };
    if let Some(qualifier) = &request.qualifier {
        match api.provisioned(&request.function, qualifier).await {
            Ok(Some(p)) if p.ready && p.allocated >= request.concurrency => {
                report.skipped = Some(format!(
                    "provisioned concurrency {} already keeps {} warm",
                    p.allocated, request.concurrency
                ));
                report.elapsed_ms = started.elapsed().as_millis() as u64;
                return report;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(target = %target, error = %e, "provisioned concurrency unknown; pinging")
            }
        }
    }
    let payload = request.payload.to_string();
    let timeout = Duration::from_millis(u64::from(request.timeout_ms));
    let pings = (0..request.concurrency).map(|index| {
        let payload = payload.as_bytes();
        async move {
            let call = api.invoke(&request.function, request.qualifier.as_deref(), payload);
            let failure = match tokio::time::timeout(timeout, call).await {
                Ok(Ok(invoked)) => match invoked.function_error {
                    None => return None,
                    Some(kind) => (
                        FailureKind::FunctionError,
                        format!("the function answered with an error ({kind})"),
                    ),
                },
                Ok(Err(e)) => {
                    let kind = match e.code.as_str() {
                        "TooManyRequestsException" => FailureKind::Throttled,
                        "ResourceNotFoundException" => FailureKind::NotFound,
                        _ => FailureKind::InvokeError,
                    };
                    (kind, e.to_string())
                }
                Err(_) => (
                    FailureKind::TimedOut,
                    format!("no answer within {} ms", request.timeout_ms),
                ),
            };
            Some(PingFailure {
                ping: index + 1,
                kind: failure.0,
                message: failure.1,
            })
        }
    });
    let results = join_all(pings).await;
    report.sent = request.concurrency;
    report.failures = results.into_iter().flatten().collect();
    report.warm = report.sent - report.failures.len() as u32;
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    report
}
