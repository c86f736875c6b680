//! What the pre-warm function is asked to do: four events, recognised by their shape.

use super::ping::{InvalidPing, PingRequest, PING_KEY};
use aws_lambda_events::cloudformation::CloudFormationCustomResourceRequest;
use serde_json::Value;

/// What the pre-warm function was asked to do.
#[derive(Clone, Debug, PartialEq)]
pub enum PrewarmEvent {
    /// A rule above concurrency 1: `{"selfhealPrewarm": {...}}`.
    Ping(PingRequest),
    /// By hand: `{"action": "sync", "dryRun": true}`.
    Sync { dry_run: bool },
    /// The hourly drift repair and refold of local windows: an EventBridge `Scheduled Event`.
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_four_events_and_the_rest() {
        let ping = json!({"selfhealPrewarm": {"function": "f", "concurrency": 3, "payload": {"isPrewarm": true}, "timeoutMs": 1000}});
        assert!(matches!(classify(&ping).unwrap(), PrewarmEvent::Ping(r) if r.concurrency == 3));
        assert_eq!(
            classify(&json!({"action": "sync", "dryRun": true})).unwrap(),
            PrewarmEvent::Sync { dry_run: true }
        );
        let scheduled: Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/eventbridge-scheduled-event.json"
        ))
        .unwrap();
        assert_eq!(classify(&scheduled).unwrap(), PrewarmEvent::Scheduled);
        let create: Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/cfn-custom-resource-create.json"
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
