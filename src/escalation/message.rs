//! One SNS message per event, with a text fitted to each channel.

use super::case::Escalation;
use crate::text::{cut_bytes, cut_chars, number, printable, single_line, sms_safe};
use serde::Serialize;
use serde_json::json;

/// SMS parts are 140 bytes; one part is all we send.
pub const SMS_MAX_BYTES: usize = 140;
/// What SNS puts between a topic's display name and the text of an SMS sent through the topic: "Amazon
/// SNS prepends the display name followed by a right angle bracket (>) and a space" (SNS developer
/// guide, "Publishing to a topic", SMS).
const SMS_DISPLAY_NAME_SEPARATOR: &str = "> ";
/// SNS wants email subjects under 100 characters.
pub const SUBJECT_MAX_CHARS: usize = 99;
const DESCRIPTION_MAX_BYTES: usize = 1_000;
const REASON_MAX_BYTES: usize = 600;

/// An SNS message with `MessageStructure=json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Notification {
    pub subject: String,
    pub sms: String,
    pub email: String,
    /// JSON for paging tools, with a stable `dedup_key`.
    pub https: String,
    pub dedup_key: String,
}

impl Notification {
    /// The `Message` parameter: one string per protocol, `default` required.
    pub fn message_json(&self) -> String {
        json!({
            "default": self.https,
            "sms": self.sms,
            "email": self.email,
            "https": self.https,
        })
        .to_string()
    }
}

/// What the texts depend on besides the event: where the runbooks are, and the topic's display name,
/// which SNS puts before every SMS.
pub struct Rendering<'a> {
    pub runbook_base_url: &'a str,
    /// The SNS topic's `DisplayName`; empty when it has none.
    pub topic_display_name: &'a str,
}

impl Rendering<'_> {
    /// Bytes left for our text in one SMS part once SNS has put the display name before it.
    pub fn sms_budget(&self) -> usize {
        let name = self.topic_display_name.trim();
        if name.is_empty() {
            return SMS_MAX_BYTES;
        }
        SMS_MAX_BYTES.saturating_sub(name.len() + SMS_DISPLAY_NAME_SEPARATOR.len())
    }

    fn runbook(&self, name: &str) -> String {
        format!("{}/{name}.md", self.runbook_base_url.trim_end_matches('/'))
    }
}

fn console_url(escalation: &Escalation) -> Option<String> {
    let (service, quota) = (
        escalation.quota.service_code.as_ref()?,
        escalation.quota.quota_code.as_ref()?,
    );
    Some(format!(
        "https://{region}.console.aws.amazon.com/servicequotas/home/services/{service}/quotas/{quota}",
        region = escalation.region
    ))
}

fn subject_line(prefix: &str, what: &str, alarm: &str) -> String {
    cut_chars(
        &single_line(&format!("[selfheal] {prefix} {what} ({alarm})")),
        SUBJECT_MAX_CHARS,
    )
}

/// The escalation's email: what happened, why it needs a person, the alarm and quota, what was tried, the
/// links.
fn escalation_email(e: &Escalation, runbook_url: &str, console: Option<&str>) -> String {
    let mut email = String::new();
    let mut line = |text: String| {
        email.push_str(&text);
        email.push('\n');
    };
    line(format!(
        "selfheal could not fix this by itself: {}.",
        e.reason.short()
    ));
    line(String::new());
    line(format!("What happened: {}", printable(&e.detail)));
    line(format!("Why it needs you: {}", e.reason.explanation()));
    line(String::new());
    line(format!("Alarm:       {}", single_line(&e.alarm_name)));
    line(format!(
        "State:       {}",
        cut_bytes(&single_line(&e.alarm_reason), REASON_MAX_BYTES)
    ));
    if let Some(description) = e
        .alarm_description
        .as_deref()
        .filter(|d| !d.trim().is_empty())
    {
        line(format!(
            "Description: {}",
            cut_bytes(&printable(description), DESCRIPTION_MAX_BYTES)
        ));
    }
    line(format!(
        "Account:     {}  Region: {}",
        e.account_id, e.region
    ));
    if let Some(quota) = &e.quota.quota_code {
        let name = e.quota.quota_name.as_deref().unwrap_or("");
        line(format!(
            "Quota:       {} {quota} {name}",
            e.quota.service_code.as_deref().unwrap_or("")
        ));
    }
    for (label, value) in [
        ("Current value", e.quota.current_value),
        ("Wanted value ", e.quota.desired_value),
        ("Ceiling      ", e.quota.ceiling),
    ] {
        if let Some(value) = value {
            line(format!("{label}: {}", number(value)));
        }
    }
    line(String::new());
    line("What selfheal tried:".into());
    for (i, step) in e.tried.iter().enumerate() {
        line(format!("  {}. {}", i + 1, single_line(step)));
    }
    line(String::new());
    if let Some(console) = console {
        line(format!("Quota in the console: {console}"));
    }
    line(format!("Runbook ({}): {runbook_url}", e.runbook));
    line(format!("De-duplication key: {}", e.dedup_key()));

    email
}

/// The page for something selfheal could not fix.
pub fn render_escalation(e: &Escalation, links: &Rendering<'_>) -> Notification {
    let runbook_url = links.runbook(&e.runbook);
    let console = console_url(e);
    let subject_key = e.subject_key();
    let numbers = match (
        e.quota.current_value,
        e.quota.desired_value,
        e.quota.ceiling,
    ) {
        (Some(cur), Some(want), _) => format!(" quota {}->{}", number(cur), number(want)),
        (Some(cur), None, Some(max)) => format!(" quota {} max {}", number(cur), number(max)),
        (Some(cur), None, None) => format!(" quota {}", number(cur)),
        _ => String::new(),
    };
    let what = e.quota.quota_code.as_deref().map_or_else(
        || single_line(&e.alarm_name),
        |code| format!("{} {code}", e.quota.service_code.as_deref().unwrap_or("")),
    );

    let sms_tail = sms_safe(&format!("{} RB:{}", e.region, e.runbook));
    let sms_head = sms_safe(&format!("selfheal: {what} {}{numbers}.", e.reason.short()));
    let sms = format!(
        "{} {sms_tail}",
        cut_bytes(
            &sms_head,
            links.sms_budget().saturating_sub(sms_tail.len() + 1)
        )
    );

    let subject = subject_line(
        "ESCALATION",
        &format!("{subject_key} {}", e.reason.short()),
        &e.alarm_name,
    );

    let email = escalation_email(e, &runbook_url, console.as_deref());

    let dedup_key = e.dedup_key();
    let summary = cut_chars(
        &single_line(&format!(
            "{subject_key} {}{numbers} ({})",
            e.reason.short(),
            e.alarm_name
        )),
        130,
    );
    let https = json!({
        "version": 1,
        "source": "selfheal",
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "severity": "error",
        "summary": summary,
        "reason": e.reason.slug(),
        "alarm_name": e.alarm_name,
        "account_id": e.account_id,
        "region": e.region,
        "service_code": e.quota.service_code,
        "quota_code": e.quota.quota_code,
        "quota_name": e.quota.quota_name,
        "current_value": e.quota.current_value,
        "desired_value": e.quota.desired_value,
        "ceiling": e.quota.ceiling,
        "detail": cut_bytes(&single_line(&e.detail), REASON_MAX_BYTES),
        "tried": e.tried,
        "runbook_url": runbook_url,
        "console_url": console,
    })
    .to_string();

    Notification {
        subject,
        sms,
        email,
        https,
        dedup_key,
    }
}

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

/// The notice about a filed request: one SMS, an email, JSON with the request's de-duplication key
/// (`selfheal:<account>:<region>:<service>/<quota>:request`), `resolve` once the quota is raised.
pub fn render_request_news(
    filed: &crate::ledger::FiledRequest,
    news: &RequestNews,
    rendering: &Rendering<'_>,
) -> Notification {
    let quota = format!("{} {}", filed.service_code, filed.quota_code);
    let dedup_key = format!(
        "selfheal:{}:{}:{}/{}:request",
        filed.account_id, filed.region, filed.service_code, filed.quota_code
    );
    let (headline, sentence, action) = match news {
        RequestNews::Raised { applied } => (
            "RAISED",
            format!(
                "raised from {} to {}",
                number(filed.from_value),
                number(*applied)
            ),
            "resolve",
        ),
        RequestNews::CaseOpened { case_id } => (
            "CASE OPENED",
            format!(
                "AWS opened support case {} for the request to {}",
                case_id.as_deref().unwrap_or("(no id given)"),
                number(filed.desired_value)
            ),
            "trigger",
        ),
        RequestNews::StillPending { days } => (
            "STILL PENDING",
            format!(
                "the request to {} is still pending after {days} days",
                number(filed.desired_value)
            ),
            "trigger",
        ),
    };
    let sms = cut_bytes(
        &sms_safe(&format!(
            "selfheal {headline}: {quota} {sentence}. {}",
            filed.region
        )),
        rendering.sms_budget(),
    );
    let subject = subject_line(headline, &quota, &single_line(&filed.alarm_name));
    let email = format!(
        "Quota {name} ({quota}) in account {account}, {region}: {sentence}.\n\nRequest: {id}, filed for the alarm {alarm}.\nFrom {from} to {desired}.\nConsole: https://{region}.console.aws.amazon.com/servicequotas/home/services/{service}/quotas/{code}\nDe-duplication key: {dedup_key}\n",
        name = single_line(&filed.quota_name),
        account = filed.account_id,
        region = filed.region,
        id = filed.request_id,
        alarm = single_line(&filed.alarm_name),
        from = number(filed.from_value),
        desired = number(filed.desired_value),
        service = filed.service_code,
        code = filed.quota_code,
    );
    let https = json!({
        "version": 1,
        "source": "selfheal",
        "event_action": action,
        "dedup_key": dedup_key,
        "summary": cut_chars(&format!("{quota}: {sentence}"), 130),
        "request_id": filed.request_id,
        "account_id": filed.account_id,
        "region": filed.region,
        "alarm_name": filed.alarm_name,
    })
    .to_string();
    Notification {
        subject,
        sms,
        email,
        https,
        dedup_key,
    }
}

/// The notice that an escalated alarm is back to OK.
pub fn render_resolution(
    alarm_name: &str,
    dedup_key: &str,
    summary: &str,
    reason: &str,
    rendering: &Rendering<'_>,
) -> Notification {
    let alarm = single_line(alarm_name);
    let sms = cut_bytes(
        &sms_safe(&format!(
            "selfheal RESOLVED: {alarm} is OK again. Was: {summary}"
        )),
        rendering.sms_budget(),
    );
    let subject = subject_line("RESOLVED", "alarm back to OK", &alarm);
    let email = format!(
        "The alarm {alarm} is back to OK.\n\nState: {}\nIt had been escalated: {}\nDe-duplication key: {dedup_key}\n",
        cut_bytes(&single_line(reason), REASON_MAX_BYTES),
        single_line(summary),
    );
    let https = json!({
        "version": 1,
        "source": "selfheal",
        "event_action": "resolve",
        "dedup_key": dedup_key,
        "summary": cut_chars(&format!("resolved: {summary}"), 130),
        "alarm_name": alarm_name,
    })
    .to_string();
    Notification {
        subject,
        sms,
        email,
        https,
        dedup_key: dedup_key.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escalation::EscalationReason;
    use crate::escalation::QuotaSubject;

    fn escalation(alarm_name: &str, description: &str) -> Escalation {
        Escalation {
            reason: EscalationReason::NotAdjustable,
            alarm_name: alarm_name.into(),
            alarm_reason: "Threshold Crossed: 1 datapoint [85.0] was greater than 80".into(),
            alarm_description: Some(description.into()),
            account_id: "123456789012".into(),
            region: "eu-west-1".into(),
            quota: QuotaSubject {
                quota_name: Some("EC2-VPC Elastic IPs".into()),
                current_value: Some(5.0),
                ..QuotaSubject::codes("ec2", "L-0263D0A3")
            },
            detail: "GetServiceQuota says the quota is not adjustable".into(),
            tried: vec!["GetServiceQuota: value 5, not adjustable".into()],
            runbook: "not-adjustable".into(),
        }
    }

    const LINKS: Rendering<'static> = Rendering {
        runbook_base_url: "https://example.com/runbooks/",
        topic_display_name: "",
    };

    #[test]
    fn every_channel_gets_its_own_text() {
        let n = render_escalation(
            &escalation("eip-usage", "Elastic IPs near the limit"),
            &LINKS,
        );
        assert!(n.sms.len() <= SMS_MAX_BYTES, "{}", n.sms);
        assert_eq!(
            n.sms,
            "selfheal: ec2 L-0263D0A3 not adjustable quota 5. eu-west-1 RB:not-adjustable"
        );
        assert!(n
            .email
            .contains("https://example.com/runbooks/not-adjustable.md"));
        assert!(n
            .email
            .contains("servicequotas/home/services/ec2/quotas/L-0263D0A3"));
        assert!(n.email.contains("1. GetServiceQuota"));
        let https: serde_json::Value = serde_json::from_str(&n.https).unwrap();
        assert_eq!(
            https["dedup_key"],
            "selfheal:123456789012:eu-west-1:ec2/L-0263D0A3:not-adjustable"
        );
        let message: serde_json::Value = serde_json::from_str(&n.message_json()).unwrap();
        for key in ["default", "sms", "email", "https"] {
            assert!(message[key].is_string(), "{key}");
        }
    }

    #[test]
    fn hostile_alarm_text_is_contained() {
        let long_name = format!("alarm\r\nBcc: x@example.com\u{7}{}", "é".repeat(300));
        let description = format!("\u{1b}[2J{}", "A".repeat(10_240));
        let n = render_escalation(&escalation(&long_name, &description), &LINKS);
        assert!(n.subject.chars().count() < 100);
        assert!(!n.subject.chars().any(char::is_control), "{:?}", n.subject);
        assert!(n.sms.len() <= SMS_MAX_BYTES);
        assert!(n.sms.is_ascii());
        assert!(!n.email.contains('\u{1b}'));
        assert!(n.email.len() < 4_000, "email is {} bytes", n.email.len());
    }

    #[test]
    fn a_resolution_reuses_the_dedup_key() {
        let n = render_resolution(
            "eip-usage",
            "k1",
            "ec2/L-0263D0A3 not adjustable",
            "back below 80",
            &LINKS,
        );
        let https: serde_json::Value = serde_json::from_str(&n.https).unwrap();
        assert_eq!(https["event_action"], "resolve");
        assert_eq!(https["dedup_key"], "k1");
        assert!(n.sms.len() <= SMS_MAX_BYTES);
    }

    #[test]
    fn the_sms_leaves_room_for_the_topic_display_name() {
        let long = Escalation {
            alarm_name: "a".repeat(300),
            quota: QuotaSubject::default(),
            ..escalation("x", "y")
        };
        let plain = render_escalation(&long, &LINKS);
        assert_eq!(plain.sms.len(), SMS_MAX_BYTES, "{}", plain.sms);
        let rendering = Rendering {
            runbook_base_url: "https://example.com/runbooks/",
            topic_display_name: "selfheal",
        };
        let named = render_escalation(&long, &rendering);
        // SNS sends "SELFHEAL> " + our text: 10 bytes of the 140.
        let delivered = format!("SELFHEAL> {}", named.sms);
        assert_eq!(delivered.len(), SMS_MAX_BYTES, "{delivered}");
        assert!(named.sms.ends_with("RB:not-adjustable"), "{}", named.sms);
        let resolved = render_resolution(&"b".repeat(300), "k", "s", "r", &rendering);
        assert_eq!(resolved.sms.len(), SMS_MAX_BYTES - "SELFHEAL> ".len());
    }
}
