//! The pages about a request selfheal filed that are not escalations: raised, a case opened, still
//! pending. One SMS, an email and JSON under the request's de-duplication key
//! (`selfheal:<account>:<region>:<service>/<quota>:request`), `resolve` once the quota is raised.

use crate::ledger::FiledRequest;
use crate::notify::{EventAction, Page, PageKind, Severity};
use crate::text::{number, single_line};
use serde_json::json;

/// What a follow-up tells about a request selfheal filed, when it is not an escalation.
#[derive(Clone, Debug, PartialEq)]
pub enum RequestNews {
    /// AWS raised the quota (approved, or a closed case that raised it).
    Raised { applied: f64 },
    /// AWS opened a support case for the request.
    CaseOpened { case_id: Option<String> },
    /// The request is still pending after this many days.
    StillPending { days: u64 },
}

pub fn request_news_page(filed: &FiledRequest, news: &RequestNews) -> Page {
    let quota = format!("{} {}", filed.service_code, filed.quota_code);
    let (label, sentence, event_action, severity) = match news {
        RequestNews::Raised { applied } => (
            "RAISED",
            format!(
                "raised from {} to {}",
                number(filed.from_value),
                number(*applied)
            ),
            EventAction::Resolve,
            Severity::Info,
        ),
        RequestNews::CaseOpened { case_id } => (
            "CASE OPENED",
            format!(
                "AWS opened support case {} for the request to {}",
                case_id.as_deref().unwrap_or("(no id given)"),
                number(filed.desired_value)
            ),
            EventAction::Trigger,
            Severity::Info,
        ),
        RequestNews::StillPending { days } => (
            "STILL PENDING",
            format!(
                "the request to {} is still pending after {days} days",
                number(filed.desired_value)
            ),
            EventAction::Trigger,
            Severity::Warning,
        ),
    };
    Page {
        kind: PageKind::RequestNews,
        severity,
        event_action,
        label,
        sms_names_label: true,
        topic: quota.clone(),
        about: Some(single_line(&filed.alarm_name)),
        sentence: format!("{quota} {sentence}."),
        region: Some(filed.region.clone()),
        summary: format!("{quota}: {sentence}"),
        intro: vec![format!(
            "Quota {} ({quota}) in account {}, {}: {sentence}.",
            single_line(&filed.quota_name),
            filed.account_id,
            filed.region
        )],
        facts: vec![
            (
                "Request:".into(),
                format!(
                    "{}, filed for the alarm {}",
                    filed.request_id,
                    single_line(&filed.alarm_name)
                ),
            ),
            (
                "Values:".into(),
                format!(
                    "from {} to {}",
                    number(filed.from_value),
                    number(filed.desired_value)
                ),
            ),
        ],
        tried: Vec::new(),
        links: vec![(
            "Console".into(),
            format!(
                "https://{}.console.aws.amazon.com/servicequotas/home/services/{}/quotas/{}",
                filed.region, filed.service_code, filed.quota_code
            ),
        )],
        runbook: None,
        dedup_key: format!(
            "selfheal:{}:{}:{}/{}:request",
            filed.account_id, filed.region, filed.service_code, filed.quota_code
        ),
        fields: match json!({
            "request_id": filed.request_id,
            "account_id": filed.account_id,
            "region": filed.region,
            "alarm_name": filed.alarm_name,
        }) {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        },
    }
}
