//! A page rendered for every channel into one SNS message (`MessageStructure=json`). A new channel is
//! one renderer and one line in `render`.

use super::email::{email, subject};
use super::page::Page;
use super::pager_json::pager_json;
use super::rendering::Rendering;
use super::sms::sms;
use serde::Serialize;
use serde_json::json;

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

/// The page for every channel.
pub fn render(page: &Page, rendering: &Rendering<'_>) -> Notification {
    Notification {
        subject: subject(page),
        sms: sms(page, rendering),
        email: email(page, rendering),
        https: pager_json(page, rendering),
        dedup_key: page.dedup_key.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::{EventAction, PageKind, Severity, SMS_MAX_BYTES};

    fn page(kind: PageKind, runbook: Option<&str>) -> Page {
        Page {
            kind,
            severity: Severity::Warning,
            event_action: EventAction::Trigger,
            label: "LABEL",
            sms_names_label: kind != PageKind::Escalation,
            topic: "svc/L-1 what".into(),
            about: Some("alarm-\u{7}name\r\n".repeat(20)),
            sentence: format!("svc L-1 {}", "é".repeat(200)),
            region: Some("eu-west-1".into()),
            summary: "x".repeat(500),
            intro: vec!["One paragraph.".into()],
            facts: vec![("Quota:".into(), "svc L-1".into())],
            tried: vec!["GetServiceQuota".into()],
            links: vec![("Console".into(), "https://console.example".into())],
            runbook: runbook.map(str::to_owned),
            dedup_key: "selfheal:1:eu-west-1:svc/L-1:why".into(),
            fields: serde_json::Map::from_iter([("quota_code".into(), "L-1".into())]),
        }
    }

    const LINKS: Rendering<'static> = Rendering {
        runbook_base_url: "https://example.com/runbooks/",
        topic_display_name: "SELFHEAL",
    };

    #[test]
    fn every_kind_renders_for_every_channel_within_its_limits() {
        for kind in [
            PageKind::Escalation,
            PageKind::Resolution,
            PageKind::RequestNews,
            PageKind::ReplayFailure,
            PageKind::PrewarmProblems,
        ] {
            for runbook in [None, Some("ceiling-reached")] {
                let n = render(&page(kind, runbook), &LINKS);
                assert!(
                    n.sms.len() <= SMS_MAX_BYTES - "SELFHEAL> ".len(),
                    "{kind:?}"
                );
                assert!(n.sms.is_ascii(), "{:?}", n.sms);
                assert!(
                    n.sms.ends_with("eu-west-1") == runbook.is_none(),
                    "{}",
                    n.sms
                );
                if let Some(runbook) = runbook {
                    assert!(n.sms.ends_with(&format!("eu-west-1 RB:{runbook}")));
                    assert!(n
                        .email
                        .contains("https://example.com/runbooks/ceiling-reached.md"));
                }
                assert!(n.subject.starts_with("[selfheal] LABEL svc/L-1 what ("));
                assert!(n.subject.chars().count() < 100);
                assert!(!n.subject.chars().any(char::is_control));
                assert!(n.email.contains("Quota:       svc L-1"), "{}", n.email);
                assert!(n.email.contains("  1. GetServiceQuota"));
                assert!(n.email.contains("Console: https://console.example"));
                let json: serde_json::Value = serde_json::from_str(&n.https).unwrap();
                assert_eq!(json["dedup_key"], "selfheal:1:eu-west-1:svc/L-1:why");
                assert_eq!(json["event_action"], "trigger");
                assert_eq!(json["severity"], "warning");
                assert_eq!(json["quota_code"], "L-1");
                assert_eq!(json["summary"].as_str().unwrap().chars().count(), 130);
                assert_eq!(n.dedup_key, "selfheal:1:eu-west-1:svc/L-1:why");
            }
        }
    }
}
