//! The replay request an operator types into the Lambda console.

use serde::Deserialize;
use serde_json::Value;

/// `{"queue": "orders-worker-dlq", "dryRun": true, "max": 500, "rate": 20, "filter": {...}}`
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplayRequest {
    /// Name, URL or ARN of the dead-letter queue.
    pub queue: String,
    #[serde(default)]
    pub dry_run: bool,
    /// At most this many messages this run.
    #[serde(default)]
    pub max: Option<u64>,
    /// At most this many deliveries a second.
    #[serde(default)]
    pub rate: Option<f64>,
    #[serde(default)]
    pub filter: Filter,
    /// Deliver but leave the message in the DLQ.
    #[serde(default)]
    pub keep_copy: bool,
}

/// Which messages to replay; the others stay in the DLQ untouched.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Filter {
    /// Lambda's `ErrorCode` attribute (a status such as 500, or a list of them).
    #[serde(default)]
    pub error_code: Option<OneOrMany>,
    #[serde(default)]
    pub min_age_seconds: Option<u64>,
    #[serde(default)]
    pub max_age_seconds: Option<u64>,
    #[serde(default)]
    pub body_contains: Option<String>,
    /// A field of a JSON body: `{"path": "detail.status", "equals": "failed"}`.
    #[serde(default)]
    pub json_field: Option<JsonField>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum OneOrMany {
    // A list first: as a plain `Value`, a list would match `One`.
    Many(Vec<Value>),
    One(Value),
}

impl OneOrMany {
    /// The codes as text: `500` and `"500"` are the same code.
    pub fn codes(&self) -> Vec<String> {
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match self {
            OneOrMany::One(v) => vec![text(v)],
            OneOrMany::Many(vs) => vs.iter().map(text).collect(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct JsonField {
    /// Dot-separated keys; array indexes as numbers (`records.0.id`).
    pub path: String,
    pub equals: Value,
}

/// Largest `max` accepted, and the fastest `rate`.
pub const MAX_MESSAGES: u64 = 1_000_000;
pub const MAX_RATE: f64 = 3_000.0;

impl ReplayRequest {
    /// Reads and checks a request, with one sentence per problem.
    pub fn parse(value: &Value) -> Result<Self, String> {
        let request: ReplayRequest = serde_json::from_value(value.clone())
            .map_err(|e| format!("invalid replay request: {e}"))?;
        request.check()?;
        Ok(request)
    }

    fn check(&self) -> Result<(), String> {
        if self.queue.trim().is_empty() {
            return Err("invalid replay request: `queue` is empty".into());
        }
        if let Some(max) = self.max {
            if max == 0 || max > MAX_MESSAGES {
                return Err(format!(
                    "invalid replay request: `max` must be from 1 to {MAX_MESSAGES}"
                ));
            }
        }
        if let Some(rate) = self.rate {
            if !(rate.is_finite() && rate > 0.0 && rate <= MAX_RATE) {
                return Err(format!(
                    "invalid replay request: `rate` must be above 0 and at most {MAX_RATE}"
                ));
            }
        }
        if let (Some(min), Some(max)) = (self.filter.min_age_seconds, self.filter.max_age_seconds) {
            if min > max {
                return Err("invalid replay request: `filter.minAgeSeconds` is above `filter.maxAgeSeconds`".into());
            }
        }
        if let Some(field) = &self.filter.json_field {
            if field.path.trim().is_empty() {
                return Err("invalid replay request: `filter.jsonField.path` is empty".into());
            }
        }
        Ok(())
    }

    /// The queue's name, from a name, a URL or an ARN.
    pub fn queue_name(&self) -> &str {
        let q = self.queue.trim();
        if q.starts_with("arn:") {
            q.rsplit(':').next().unwrap_or(q)
        } else if q.starts_with("http://") || q.starts_with("https://") {
            q.trim_end_matches('/').rsplit('/').next().unwrap_or(q)
        } else {
            q
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_console_request_parses() {
        let r = ReplayRequest::parse(&json!({
            "queue": "https://sqs.us-east-1.amazonaws.com/123456789012/orders-worker-dlq",
            "dryRun": true, "max": 100, "rate": 5,
            "filter": {"errorCode": [500, "502"], "minAgeSeconds": 60, "bodyContains": "order",
                       "jsonField": {"path": "detail.status", "equals": "failed"}},
            "keepCopy": true
        }))
        .unwrap();
        assert_eq!(r.queue_name(), "orders-worker-dlq");
        assert_eq!(r.filter.error_code.unwrap().codes(), ["500", "502"]);
        let arn =
            ReplayRequest::parse(&json!({"queue": "arn:aws:sqs:us-east-1:123456789012:x-dlq"}))
                .unwrap();
        assert_eq!(arn.queue_name(), "x-dlq");
    }

    #[test]
    fn unknown_or_bad_fields_are_errors() {
        for bad in [
            json!({"queue": "q", "dryrun": true}),
            json!({"queue": "q", "filter": {"errorcode": 500}}),
            json!({"queue": ""}),
            json!({"queue": "q", "max": 0}),
            json!({"queue": "q", "rate": -1}),
            json!({"queue": "q", "filter": {"minAgeSeconds": 10, "maxAgeSeconds": 5}}),
            json!({"dryRun": true}),
            json!("orders-worker-dlq"),
        ] {
            assert!(ReplayRequest::parse(&bad).is_err(), "{bad}");
        }
    }
}
