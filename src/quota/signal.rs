//! What quota healing acts on, each as what it is: an alarm's state change (any delivery shape, a
//! threshold notice's quota among them), or a quota of the utilization report that the sweep found over
//! its threshold. A sweep finding is not dressed as an alarm: it has no alarm state, and its own name.

use super::api::QuotaUsage;
use crate::alarm::{AlarmNotice, AlarmState, MetricId, NamedQuota, Transition};

/// A quota of the utilization report at or above its threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepItem {
    pub report_id: String,
    pub usage: QuotaUsage,
    /// The function's own account, when known: the report is of the caller's account.
    pub account_id: Option<String>,
    pub region: String,
    quota: NamedQuota,
    label: String,
    reason: String,
    transition: Transition,
}

impl SweepItem {
    /// `generated_at_ms`: when Service Quotas generated the report (a quota raised later was raised
    /// for what it shows).
    pub fn new(
        report_id: &str,
        usage: &QuotaUsage,
        account_id: Option<&str>,
        region: &str,
        generated_at_ms: Option<i64>,
    ) -> SweepItem {
        let quota = NamedQuota::Coded {
            service_code: usage.service_code.clone(),
            quota_code: usage.quota_code.clone(),
            utilization_percent: usage.utilization,
        };
        SweepItem {
            report_id: report_id.to_owned(),
            usage: usage.clone(),
            account_id: account_id.map(str::to_owned),
            region: region.to_owned(),
            label: format!("Service Quotas utilization: {}", quota.label()),
            reason: quota.reason(),
            // AWS may hand a recent report out again (`StartQuotaUtilizationReport`'s `Message`: "an
            // existing recent report is being reused"): a row is acted on once per report.
            transition: Transition {
                id: format!(
                    "sweep:{report_id}:{}/{}",
                    usage.service_code, usage.quota_code
                ),
                at_ms: generated_at_ms,
            },
            quota,
        }
    }
}

/// One input of quota healing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum QuotaSignal<'a> {
    Alarm(&'a AlarmNotice),
    SweepItem(&'a SweepItem),
}

impl<'a> From<&'a AlarmNotice> for QuotaSignal<'a> {
    fn from(notice: &'a AlarmNotice) -> Self {
        QuotaSignal::Alarm(notice)
    }
}

impl<'a> From<&'a SweepItem> for QuotaSignal<'a> {
    fn from(item: &'a SweepItem) -> Self {
        QuotaSignal::SweepItem(item)
    }
}

impl<'a> QuotaSignal<'a> {
    /// The alarm's name, or the sweep finding's (`Service Quotas utilization: <service> / <code>`):
    /// the audit record's subject and the escalation's "alarm".
    pub fn name(self) -> &'a str {
        match self {
            Self::Alarm(n) => &n.alarm_name,
            Self::SweepItem(i) => &i.label,
        }
    }

    pub fn account_id(self) -> Option<&'a str> {
        match self {
            Self::Alarm(n) => n.account_id.as_deref(),
            Self::SweepItem(i) => i.account_id.as_deref(),
        }
    }

    pub fn region(self) -> Option<&'a str> {
        match self {
            Self::Alarm(n) => n.region.as_deref(),
            Self::SweepItem(i) => Some(&i.region),
        }
    }

    /// The state the alarm entered; a sweep finding has none.
    pub fn alarm_state(self) -> Option<AlarmState> {
        match self {
            Self::Alarm(n) => Some(n.state),
            Self::SweepItem(_) => None,
        }
    }

    /// Why: the alarm's state reason, or the utilization the report gave.
    pub fn reason(self) -> &'a str {
        match self {
            Self::Alarm(n) => &n.reason,
            Self::SweepItem(i) => &i.reason,
        }
    }

    pub fn description(self) -> Option<&'a str> {
        match self {
            Self::Alarm(n) => n.description.as_deref(),
            Self::SweepItem(i) => Some(&i.usage.quota_name),
        }
    }

    /// The quota the input names itself: a threshold notice's (by name), a sweep finding's (by code).
    pub fn named_quota(self) -> Option<&'a NamedQuota> {
        match self {
            Self::Alarm(n) => n.named_quota.as_ref(),
            Self::SweepItem(i) => Some(&i.quota),
        }
    }

    /// Usage as a percentage of the quota, where the input says it (a threshold notice, a sweep).
    pub fn utilization(self) -> Option<f64> {
        match self.named_quota()? {
            NamedQuota::Named {
                utilization_percent,
                ..
            } => *utilization_percent,
            NamedQuota::Coded {
                utilization_percent,
                ..
            } => Some(*utilization_percent),
            NamedQuota::Unreadable { .. } => None,
        }
    }

    /// The usage metric an alarm watches.
    pub fn usage_metric(self) -> Option<&'a MetricId> {
        match self {
            Self::Alarm(n) => n.usage_metric(),
            Self::SweepItem(_) => None,
        }
    }

    pub fn transition(self) -> Option<&'a Transition> {
        match self {
            Self::Alarm(n) => n.transition.as_ref(),
            Self::SweepItem(i) => Some(&i.transition),
        }
    }
}
