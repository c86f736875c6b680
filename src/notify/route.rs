//! Where a page goes, and what a subscription's filter policy can match on: the SNS message
//! attributes `account`, `region`, `owner`, `service`, `quota`, `reason`, `severity`, so that each team
//! receives its own accounts' pages (README, "Routing pages per team").

use serde::Serialize;

/// How urgent a message is, for filter policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Someone must act: an escalation.
    Critical,
    /// AWS refused or is slow: a denied or stale request.
    Warning,
    /// News that needs no action: a resolution, an approved request.
    Info,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }
}

/// One message's routing.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Route {
    /// The account's own topic (`topic_arn` of its `[[account]]`); `None`: the function's topic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_arn: Option<String>,
    pub account: String,
    pub region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota: Option<String>,
    /// The escalation reason's slug, `resolved`, or the request news (`approved`, `denied`, ...).
    pub reason: String,
    pub severity: Severity,
}

impl Route {
    /// The message attributes, each a `String` (what filter policies compare: SNS developer guide,
    /// "Filter policy constraints": attribute policies match `String` and `String.Array` only). An
    /// unknown value is left out, not sent empty, so `{"exists": false}` matches it. Seven attributes:
    /// within the 10 SNS delivers to a raw SQS subscription (SNS developer guide, "Amazon SNS message
    /// attributes").
    pub fn attributes(&self) -> Vec<(&'static str, &str)> {
        [
            ("account", Some(self.account.as_str())),
            ("region", Some(self.region.as_str())),
            ("owner", self.owner.as_deref()),
            ("service", self.service.as_deref()),
            ("quota", self.quota.as_deref()),
            ("reason", Some(self.reason.as_str())),
            ("severity", Some(self.severity.name())),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.filter(|v| !v.is_empty()).map(|v| (name, v)))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_are_left_out() {
        let route = Route {
            topic_arn: None,
            account: "111111111111".into(),
            region: "eu-west-1".into(),
            owner: Some("payments".into()),
            service: None,
            quota: Some(String::new()),
            reason: "ceiling-reached".into(),
            severity: Severity::Critical,
        };
        assert_eq!(
            route.attributes(),
            vec![
                ("account", "111111111111"),
                ("region", "eu-west-1"),
                ("owner", "payments"),
                ("reason", "ceiling-reached"),
                ("severity", "critical"),
            ]
        );
    }
}
