//! The replay request an operator types into the Lambda console.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `{"queue": "orders-worker-dlq", "dryRun": true, "max": 500, "rate": 20, "filter": {...}}`
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplayRequest {
    /// Name, URL or ARN of the dead-letter queue.
    pub queue: String,
    #[serde(default)]
    pub dry_run: bool,
    /// At most this many messages this run.
    #[serde(default)]
    pub max: Option<u64>,
    /// At most this many messages a second taken from the DLQ and delivered (no second holds more).
    #[serde(default)]
    pub rate: Option<f64>,
    #[serde(default)]
    pub filter: Filter,
    /// Deliver but leave the message in the DLQ.
    #[serde(default)]
    pub keep_copy: bool,
    /// How many times the function may go on by itself when its deadline comes with messages left
    /// (`continuation.rs`); 0 turns it off.
    #[serde(default)]
    pub max_continuations: Option<u32>,
    /// Set by the function on the requests it sends itself: which continuation this is.
    #[serde(default)]
    pub continuation: Option<Continuation>,
}

/// What a continued run carries from the runs before it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Continuation {
    /// 1 for the first continuation.
    pub round: u32,
    /// Messages received by the runs before this one (counted against `max`).
    pub received_before: u64,
    /// Messages replayed by the runs before this one.
    pub replayed_before: u64,
}

/// Where a queue named by URL or ARN lives, as far as the text says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueLocation {
    pub account_id: Option<String>,
    pub region: Option<String>,
}

/// Which messages to replay; the others stay in the DLQ untouched.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
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

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
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

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct JsonField {
    /// Dot-separated keys; array indexes as numbers (`records.0.id`).
    pub path: String,
    pub equals: Value,
}

/// Largest `max` accepted, and the fastest `rate`.
pub const MAX_MESSAGES: u64 = 1_000_000;
pub const MAX_RATE: f64 = 3_000.0;
/// Continuations a request may ask for. Lambda stops a chain of invocations caused by the same event
/// after about 16 (Lambda developer guide, "Lambda recursive loop detection"; the count of 16 from AWS's
/// announcement of it); 10 stays below that, and is 2.5 hours of runs.
pub const MAX_CONTINUATIONS: u32 = 10;
/// Continuations when the request says nothing.
pub const DEFAULT_CONTINUATIONS: u32 = 4;

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
        if self
            .max_continuations
            .is_some_and(|n| n > MAX_CONTINUATIONS)
        {
            return Err(format!(
                "invalid replay request: `maxContinuations` must be from 0 to {MAX_CONTINUATIONS}"
            ));
        }
        if let Some(field) = &self.filter.json_field {
            if field.path.trim().is_empty() {
                return Err("invalid replay request: `filter.jsonField.path` is empty".into());
            }
        }
        Ok(())
    }

    /// The account and Region a URL or ARN names (a plain name names neither). URLs:
    /// `https://sqs.<region>.amazonaws.com/<account>/<name>` and the legacy
    /// `https://<region>.queue.amazonaws.com/<account>/<name>`; ARNs: `arn:<partition>:sqs:<region>:<account>:<name>`.
    pub fn queue_location(&self) -> QueueLocation {
        queue_location(self.queue.trim())
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

/// Where the queue of a URL or ARN lives (see `ReplayRequest::queue_location`).
pub fn queue_location(queue: &str) -> QueueLocation {
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    if queue.starts_with("arn:") {
        let parts: Vec<&str> = queue.split(':').collect();
        return QueueLocation {
            region: parts.get(3).and_then(|r| some(r)),
            account_id: parts.get(4).and_then(|a| some(a)),
        };
    }
    let Some(rest) = queue
        .strip_prefix("https://")
        .or_else(|| queue.strip_prefix("http://"))
    else {
        return QueueLocation::default();
    };
    let mut segments = rest.trim_end_matches('/').split('/');
    let host = segments.next().unwrap_or_default();
    let path: Vec<&str> = segments.collect();
    let region = host
        .strip_prefix("sqs.")
        .and_then(|h| h.split('.').next())
        .or_else(|| {
            host.split_once(".queue.amazonaws.com")
                .map(|(region, _)| region)
        })
        .and_then(some);
    QueueLocation {
        account_id: (path.len() >= 2)
            .then(|| path[path.len() - 2])
            .and_then(some),
        region,
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
    fn a_url_or_arn_says_where_its_queue_lives() {
        let at = |q: &str| queue_location(q);
        assert_eq!(
            at("https://sqs.eu-west-1.amazonaws.com/111122223333/orders-dlq"),
            QueueLocation {
                account_id: Some("111122223333".into()),
                region: Some("eu-west-1".into())
            }
        );
        assert_eq!(
            at("https://us-east-2.queue.amazonaws.com/111122223333/orders-dlq")
                .region
                .as_deref(),
            Some("us-east-2")
        );
        assert_eq!(
            at("arn:aws:sqs:us-east-1:111122223333:orders-dlq"),
            QueueLocation {
                account_id: Some("111122223333".into()),
                region: Some("us-east-1".into())
            }
        );
        let local = at("http://127.0.0.1:5071/111122223333/orders-dlq");
        assert_eq!(local.account_id.as_deref(), Some("111122223333"));
        assert_eq!(local.region, None);
        assert_eq!(at("orders-dlq"), QueueLocation::default());
    }

    #[test]
    fn unknown_or_bad_fields_are_errors() {
        for bad in [
            json!({"queue": "q", "dryrun": true}),
            json!({"queue": "q", "filter": {"errorcode": 500}}),
            json!({"queue": ""}),
            json!({"queue": "q", "max": 0}),
            json!({"queue": "q", "rate": -1}),
            json!({"queue": "q", "maxContinuations": 11}),
            json!({"queue": "q", "continuation": {"round": 1, "extra": 2}}),
            json!({"queue": "q", "filter": {"minAgeSeconds": 10, "maxAgeSeconds": 5}}),
            json!({"dryRun": true}),
            json!("orders-worker-dlq"),
        ] {
            assert!(ReplayRequest::parse(&bad).is_err(), "{bad}");
        }
    }
}
