//! Ping results as CloudWatch metrics, in the embedded metric format: one JSON line on stdout that
//! CloudWatch Logs turns into metrics, with no API call and no extra permission.

use super::ping::PingReport;
use serde_json::json;

pub const NAMESPACE: &str = "selfheal/Prewarm";

/// The EMF line for one round of pings.
pub fn ping_metrics(report: &PingReport, timestamp_ms: u64) -> String {
    json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Target"]],
                "Metrics": [
                    {"Name": "PingsSent", "Unit": "Count"},
                    {"Name": "PingFailures", "Unit": "Count"},
                    {"Name": "PingsSkipped", "Unit": "Count"},
                    {"Name": "FanOutTime", "Unit": "Milliseconds"}
                ]
            }]
        },
        "Target": report.target,
        "PingsSent": report.sent,
        "PingFailures": report.failures.len(),
        "PingsSkipped": u32::from(report.skipped.is_some()),
        "FanOutTime": report.elapsed_ms,
    })
    .to_string()
}

/// Writes the round's metrics as one EMF line on stdout, which CloudWatch Logs turns into metrics;
/// a line that cannot be written costs the metrics, never the round.
pub fn emit_ping_metrics(report: &PingReport, timestamp_ms: u64) {
    use std::io::Write as _;
    let line = ping_metrics(report, timestamp_ms);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prewarm::ping::{FailureKind, PingFailure};

    #[test]
    fn one_line_with_every_metric_declared_and_valued() {
        let report = PingReport {
            target: "checkout-api:live".into(),
            concurrency: 3,
            sent: 3,
            warm: 2,
            failures: vec![PingFailure {
                ping: 2,
                kind: FailureKind::TimedOut,
                message: "no answer within 100 ms".into(),
            }],
            skipped: None,
            elapsed_ms: 120,
        };
        let line = ping_metrics(&report, 1_795_000_000_000);
        assert!(!line.contains('\n'));
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        let declared = &value["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(declared["Namespace"], NAMESPACE);
        for metric in declared["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            assert!(value[name].is_number(), "{name} has no value");
        }
        assert_eq!(value["PingFailures"], 1);
        assert_eq!(value["Target"], "checkout-api:live");
    }
}
