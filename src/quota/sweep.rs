//! A sweep for quotas nobody alarmed: Service Quotas' utilization report (`StartQuotaUtilizationReport`,
//! then `GetQuotaUtilizationReport`, paged) read promptly (a report is deleted 15 minutes after it is
//! generated: API reference, `GetQuotaUtilizationReport`), and each quota at or above its threshold (the
//! rule's `threshold`, else the sweep's, default 80 %) planned as an alarm of it would be.

use super::access::{AccessError, QuotaAccess, Reach};
use super::api::{QuotaApiError, QuotaUsage, UtilizationReports};
use super::heal::{HealError, QuotaHealer};
use super::outcome::Outcome;
use super::signal::{QuotaSignal, SweepItem};
use crate::escalation::Notifier;
use crate::function_error::Retry;
use crate::ledger::QuotaLedger;
use crate::rules::RuleSet;
use serde::Serialize;
use std::time::Duration;

/// The utilization at which a quota without a rule threshold is planned.
pub const DEFAULT_THRESHOLD: f64 = 80.0;
/// Report reads before giving up on a report that is not ready.
const POLLS: u32 = 60;
const POLL_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("the utilization report {report_id} failed: {error}")]
    ReportFailed { report_id: String, error: String },
    #[error("the utilization report {0} was not ready after {POLLS} reads")]
    ReportNotReady(String),
    #[error("the utilization report {report_id} could not be read (it may have expired: AWS keeps a report 15 minutes): {error}")]
    ReportUnreadable {
        report_id: String,
        error: QuotaApiError,
    },
    #[error("the utilization report could not be started: {0}")]
    Start(QuotaApiError),
    #[error("Service Quotas of the function's own account could not be reached: {0}")]
    Access(AccessError),
    #[error(transparent)]
    Heal(#[from] HealError),
}

impl SweepError {
    /// Whether a later run may succeed (throttling, a report not ready, a page that could not go).
    pub fn retry(&self) -> Retry {
        match self {
            Self::ReportFailed { .. } | Self::Access(_) => Retry::Never,
            Self::ReportNotReady(_) | Self::ReportUnreadable { .. } | Self::Start(_) => {
                Retry::Later
            }
            Self::Heal(e) => e.retry(),
        }
    }
}

/// What a sweep found and did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SweepReport {
    pub report_id: String,
    pub dry_run: bool,
    /// Quotas in the report (those with usage data).
    pub quotas_in_report: usize,
    pub default_threshold: f64,
    /// The quotas at or above their threshold, highest first.
    pub over_threshold: Vec<QuotaUsage>,
    /// One per quota over its threshold, as an alarm of it would get.
    pub outcomes: Vec<Outcome>,
}

/// The scheduled sweep's event: `{"selfheal": "sweep", "dryRun": true, "threshold": 80}`.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SweepRequest {
    #[allow(dead_code)]
    selfheal: String,
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default)]
    pub threshold: Option<f64>,
}

impl SweepRequest {
    /// `None` when the event is not a sweep's; a sweep event that does not read is an error.
    pub fn from_event(event: &serde_json::Value) -> Option<Result<SweepRequest, String>> {
        if event.get("selfheal").and_then(serde_json::Value::as_str) != Some("sweep") {
            return None;
        }
        Some(
            serde_json::from_value::<SweepRequest>(event.clone())
                .map_err(|e| format!("invalid sweep event: {e}"))
                .and_then(|request| match request.threshold {
                    Some(t) if !(t > 0.0 && t <= 100.0) => Err(format!(
                        "invalid sweep event: threshold {t} is not a percentage above 0 and at most 100"
                    )),
                    _ => Ok(request),
                }),
        )
    }

    pub fn threshold(&self) -> f64 {
        self.threshold.unwrap_or(DEFAULT_THRESHOLD)
    }
}

/// The quotas at or above their threshold: the rule's when it has one, else `default_threshold`.
pub fn over_threshold(
    rows: &[QuotaUsage],
    rules: &RuleSet,
    account_id: &str,
    default_threshold: f64,
) -> Vec<QuotaUsage> {
    rows.iter()
        .filter(|row| {
            let threshold = rules
                .rule_for_quota(&row.service_code, &row.quota_code, account_id)
                .and_then(|rule| rule.threshold)
                .unwrap_or(default_threshold);
            row.utilization >= threshold
        })
        .cloned()
        .collect()
}

impl<A, N, L> QuotaHealer<A, N, L>
where
    A: QuotaAccess,
    A::Api: UtilizationReports,
    N: Notifier,
    L: QuotaLedger,
{
    /// Reads a fresh utilization report, then plans (and, unless `dry_run`, carries out) each quota at
    /// or above its threshold. `now` is seconds since the epoch.
    pub async fn sweep(
        &self,
        default_threshold: f64,
        dry_run: bool,
        request_id: &str,
        now: u64,
    ) -> Result<SweepReport, SweepError> {
        let region = &self.settings.home_region;
        let api = self
            .access
            .api_in(Reach::Own { region })
            .await
            .map_err(SweepError::Access)?;
        let report = read_report(&api, POLL_INTERVAL).await?;
        let (report_id, rows) = (report.id, report.rows);
        // A report is a snapshot: a quota raised after it was generated was raised for what it shows.
        let generated_at_ms = report.generated_at_ms.or(Some(now as i64 * 1000));
        let home = self.home();
        let account = home.account_of(None);
        let over = over_threshold(&rows, &self.rules, account, default_threshold);
        let mut outcomes = Vec::with_capacity(over.len());
        for row in &over {
            let item = SweepItem::new(
                &report_id,
                row,
                self.settings.home_account_id.as_deref(),
                &self.settings.home_region,
                generated_at_ms,
            );
            let signal = QuotaSignal::SweepItem(&item);
            outcomes.push(self.handle_with(signal, request_id, now, dry_run).await?);
        }
        Ok(SweepReport {
            report_id,
            dry_run: dry_run || self.settings.dry_run,
            quotas_in_report: rows.len(),
            default_threshold,
            over_threshold: over,
            outcomes,
        })
    }
}

/// A utilization report read to its last page.
pub struct UtilizationReport {
    pub id: String,
    pub rows: Vec<QuotaUsage>,
    /// Milliseconds since the epoch, when Service Quotas says.
    pub generated_at_ms: Option<i64>,
}

/// Starts a report and reads it to its last page as soon as it is ready.
pub async fn read_report(
    api: &impl UtilizationReports,
    poll_interval: Duration,
) -> Result<UtilizationReport, SweepError> {
    let report_id = api.start_report().await.map_err(SweepError::Start)?;
    let unreadable = |error| SweepError::ReportUnreadable {
        report_id: report_id.clone(),
        error,
    };
    let mut polls = 0;
    let mut page = loop {
        let page = api
            .report_page(&report_id, None)
            .await
            .map_err(unreadable)?;
        match page.status.as_str() {
            "COMPLETED" => break page,
            "FAILED" => {
                return Err(SweepError::ReportFailed {
                    report_id: report_id.clone(),
                    error: page.error.unwrap_or_else(|| "no reason given".into()),
                })
            }
            _ if polls + 1 >= POLLS => return Err(SweepError::ReportNotReady(report_id.clone())),
            _ => {
                polls += 1;
                tokio::time::sleep(poll_interval).await;
            }
        }
    };
    let generated_at_ms = page.generated_at_ms;
    let mut rows = std::mem::take(&mut page.rows);
    while let Some(token) = page.next_token.take() {
        page = api
            .report_page(&report_id, Some(&token))
            .await
            .map_err(unreadable)?;
        rows.append(&mut page.rows);
    }
    Ok(UtilizationReport {
        id: report_id,
        rows,
        generated_at_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(service: &str, code: &str, utilization: f64) -> QuotaUsage {
        QuotaUsage {
            service_code: service.into(),
            quota_code: code.into(),
            quota_name: format!("{service} {code}"),
            utilization,
            applied_value: Some(100.0),
            adjustable: true,
        }
    }

    #[test]
    fn a_rule_threshold_wins_over_the_default() {
        let rules = RuleSet::from_sources(
            &[(
                "quotas.toml",
                r#"[[quota]]
name = "l"
service_code = "lambda"
quota_code = "L-B99A9384"
increase = "50%"
ceiling = 5000
threshold = 60
"#,
            )],
            &[],
        )
        .unwrap();
        let rows = [
            row("lambda", "L-B99A9384", 65.0),
            row("ec2", "L-1216C47A", 79.9),
            row("vpc", "L-F678F1CE", 80.0),
        ];
        let over: Vec<String> = over_threshold(&rows, &rules, "123456789012", DEFAULT_THRESHOLD)
            .into_iter()
            .map(|r| r.quota_code)
            .collect();
        assert_eq!(over, ["L-B99A9384", "L-F678F1CE"]);
        let item = SweepItem::new("r-1", &rows[2], Some("123456789012"), "us-east-1", None);
        let signal = QuotaSignal::from(&item);
        assert_eq!(
            signal.name(),
            "Service Quotas utilization: vpc / L-F678F1CE"
        );
        assert_eq!(
            signal.alarm_state(),
            None,
            "a finding is not dressed as an alarm"
        );
        assert_eq!(signal.transition().unwrap().id, "sweep:r-1:vpc/L-F678F1CE");
        assert_eq!(signal.description(), Some("vpc L-F678F1CE"));
    }

    #[test]
    fn a_sweep_event_reads_and_other_events_are_not_one() {
        use serde_json::json;
        let request = SweepRequest::from_event(&json!({"selfheal": "sweep", "dryRun": true}))
            .unwrap()
            .unwrap();
        assert!(request.dry_run);
        assert_eq!(request.threshold(), DEFAULT_THRESHOLD);
        assert!(SweepRequest::from_event(&json!({"alarmData": {}})).is_none());
        for bad in [
            json!({"selfheal": "sweep", "threshold": 0}),
            json!({"selfheal": "sweep", "threshold": 101}),
            json!({"selfheal": "sweep", "dryrun": true}),
        ] {
            assert!(SweepRequest::from_event(&bad).unwrap().is_err(), "{bad}");
        }
    }
}
