//! The pages of escalations: what selfheal could not fix, and its alarm's return to OK. Neutral pages
//! (`crate::notify::Page`); the channels render them.

use super::case::Escalation;
use crate::notify::{EventAction, Page, PageKind, Severity};
use crate::text::{cut_bytes, number, printable, single_line};
use serde_json::{json, Map, Value};

const DESCRIPTION_MAX_BYTES: usize = 1_000;
const REASON_MAX_BYTES: usize = 600;

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

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The page for something selfheal could not fix.
pub fn escalation_page(e: &Escalation) -> Page {
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
    let console = console_url(e);
    Page {
        kind: PageKind::Escalation,
        severity: Severity::Critical,
        event_action: EventAction::Trigger,
        label: "ESCALATION",
        sms_names_label: false,
        topic: format!("{subject_key} {}", e.reason.short()),
        about: Some(e.alarm_name.clone()),
        sentence: format!("{what} {}{numbers}.", e.reason.short()),
        region: Some(e.region.clone()),
        summary: single_line(&format!(
            "{subject_key} {}{numbers} ({})",
            e.reason.short(),
            e.alarm_name
        )),
        intro: vec![
            format!(
                "selfheal could not fix this by itself: {}.",
                e.reason.short()
            ),
            format!(
                "What happened: {}\nWhy it needs you: {}",
                printable(&e.detail),
                e.reason.explanation()
            ),
        ],
        facts: escalation_facts(e),
        tried: e.tried.clone(),
        links: console
            .iter()
            .map(|url| ("Quota in the console".to_owned(), url.clone()))
            .collect(),
        runbook: Some(e.runbook.clone()),
        dedup_key: e.dedup_key(),
        fields: object(json!({
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
            "console_url": console,
        })),
    }
}

/// The alarm, the account and the quota, as the email lists them.
fn escalation_facts(e: &Escalation) -> Vec<(String, String)> {
    let mut facts = vec![
        ("Alarm:".to_owned(), single_line(&e.alarm_name)),
        (
            "State:".to_owned(),
            cut_bytes(&single_line(&e.alarm_reason), REASON_MAX_BYTES),
        ),
    ];
    if let Some(description) = e
        .alarm_description
        .as_deref()
        .filter(|d| !d.trim().is_empty())
    {
        facts.push((
            "Description:".to_owned(),
            cut_bytes(&printable(description), DESCRIPTION_MAX_BYTES),
        ));
    }
    facts.push((
        "Account:".to_owned(),
        format!("{}  Region: {}", e.account_id, e.region),
    ));
    if let Some(quota) = &e.quota.quota_code {
        let name = e.quota.quota_name.as_deref().unwrap_or("");
        facts.push((
            "Quota:".to_owned(),
            format!(
                "{} {quota} {name}",
                e.quota.service_code.as_deref().unwrap_or("")
            ),
        ));
    }
    for (label, value) in [
        ("Current value:", e.quota.current_value),
        ("Wanted value :", e.quota.desired_value),
        ("Ceiling      :", e.quota.ceiling),
    ] {
        if let Some(value) = value {
            facts.push((label.to_owned(), number(value)));
        }
    }
    facts
}

/// The notice that an escalated alarm is back to OK, under its escalation's de-duplication key.
pub fn resolution_page(alarm_name: &str, dedup_key: &str, summary: &str, reason: &str) -> Page {
    let alarm = single_line(alarm_name);
    Page {
        kind: PageKind::Resolution,
        severity: Severity::Info,
        event_action: EventAction::Resolve,
        label: "RESOLVED",
        sms_names_label: true,
        topic: "alarm back to OK".into(),
        about: Some(alarm.clone()),
        sentence: format!("{alarm} is OK again. Was: {summary}"),
        region: None,
        summary: format!("resolved: {summary}"),
        intro: vec![format!("The alarm {alarm} is back to OK.")],
        facts: vec![
            (
                "State:".into(),
                cut_bytes(&single_line(reason), REASON_MAX_BYTES),
            ),
            ("It had been escalated:".into(), single_line(summary)),
        ],
        tried: Vec::new(),
        links: Vec::new(),
        runbook: None,
        dedup_key: dedup_key.to_owned(),
        fields: object(json!({ "alarm_name": alarm_name })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escalation::EscalationReason;
    use crate::escalation::QuotaSubject;
    use crate::notify::{render, Rendering, SMS_MAX_BYTES};

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
        let n = render(
            &escalation_page(&escalation("eip-usage", "Elastic IPs near the limit")),
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
        let n = render(
            &escalation_page(&escalation(&long_name, &description)),
            &LINKS,
        );
        assert!(n.subject.chars().count() < 100);
        assert!(!n.subject.chars().any(char::is_control), "{:?}", n.subject);
        assert!(n.sms.len() <= SMS_MAX_BYTES);
        assert!(n.sms.is_ascii());
        assert!(!n.email.contains('\u{1b}'));
        assert!(n.email.len() < 4_000, "email is {} bytes", n.email.len());
    }

    #[test]
    fn a_resolution_reuses_the_dedup_key() {
        let n = render(
            &resolution_page(
                "eip-usage",
                "k1",
                "ec2/L-0263D0A3 not adjustable",
                "back below 80",
            ),
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
        let plain = render(&escalation_page(&long), &LINKS);
        assert_eq!(plain.sms.len(), SMS_MAX_BYTES, "{}", plain.sms);
        let rendering = Rendering {
            runbook_base_url: "https://example.com/runbooks/",
            topic_display_name: "selfheal",
        };
        let named = render(&escalation_page(&long), &rendering);
        // SNS sends "SELFHEAL> " + our text: 10 bytes of the 140.
        let delivered = format!("SELFHEAL> {}", named.sms);
        assert_eq!(delivered.len(), SMS_MAX_BYTES, "{delivered}");
        assert!(named.sms.ends_with("RB:not-adjustable"), "{}", named.sms);
        let resolved = render(
            &resolution_page(&"b".repeat(300), "k", "s", "r"),
            &rendering,
        );
        assert_eq!(resolved.sms.len(), SMS_MAX_BYTES - "SELFHEAL> ".len());
    }
}
