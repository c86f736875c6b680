//! The quota subject of what Service Quotas reported and of a planned raise.

use super::api::QuotaInfo;
use super::plan::RaisePlan;
use crate::escalation::QuotaSubject;

impl QuotaSubject {
    /// A quota as Service Quotas reported it.
    pub fn of(quota: &QuotaInfo) -> Self {
        QuotaSubject {
            service_code: Some(quota.service_code.clone()),
            quota_code: Some(quota.quota_code.clone()),
            quota_name: Some(quota.quota_name.clone()),
            current_value: quota.value,
            ..QuotaSubject::default()
        }
    }
}

impl From<&RaisePlan> for QuotaSubject {
    fn from(plan: &RaisePlan) -> Self {
        QuotaSubject {
            service_code: Some(plan.service_code.clone()),
            quota_code: Some(plan.quota_code.clone()),
            quota_name: Some(plan.quota_name.clone()),
            current_value: Some(plan.current_value),
            desired_value: Some(plan.desired_value),
            ceiling: Some(plan.ceiling),
        }
    }
}
