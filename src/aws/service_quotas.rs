//! `QuotaApi` over the Service Quotas SDK client.

use super::error_text;
use crate::alarm::MetricId;
use crate::quota::api::{
    AutoManagement, ChangeRequest, QuotaApi, QuotaApiError, QuotaInfo, QuotaUsage, ReportPage,
    RequestStatus, UtilizationReports,
};
use aws_sdk_servicequotas::types::{RequestedServiceQuotaChange, ServiceQuota};
use aws_sdk_servicequotas::Client;

#[derive(Clone)]
pub struct ServiceQuotas {
    client: Client,
}

impl ServiceQuotas {
    pub fn new(client: Client) -> Self {
        ServiceQuotas { client }
    }
}

macro_rules! api_error {
    ($operation:literal) => {
        |e| {
            let (code, message) = error_text(&e);
            QuotaApiError::from_code($operation, code.as_deref(), message)
        }
    };
}

/// Every page of a listing (`$send`: the request's paginator, sent), each `$field` item converted.
macro_rules! every_page {
    ($send:expr, $operation:literal, $field:ident, $convert:expr) => {{
        let mut pages = $send;
        let mut items = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(api_error!($operation))?;
            items.extend(page.$field.unwrap_or_default().into_iter().map($convert));
        }
        items
    }};
}

/// The error for an answer without the item it should hold.
fn empty_answer(operation: &'static str, what: &str) -> QuotaApiError {
    QuotaApiError::Other {
        operation,
        message: format!("the answer holds no {what}"),
    }
}

fn quota_info(quota: ServiceQuota) -> QuotaInfo {
    QuotaInfo {
        service_code: quota.service_code.unwrap_or_default(),
        quota_code: quota.quota_code.unwrap_or_default(),
        quota_name: quota.quota_name.unwrap_or_default(),
        value: quota.value,
        adjustable: quota.adjustable,
        unit: quota.unit,
        error_reason: quota.error_reason.map(|reason| {
            format!(
                "{}: {}",
                reason.error_code.as_ref().map_or("UNKNOWN", |c| c.as_str()),
                reason.error_message.unwrap_or_default()
            )
        }),
        default_only: false,
        usage_metric: quota.usage_metric.and_then(|m| {
            Some(MetricId {
                namespace: m.metric_namespace?,
                name: m.metric_name?,
                dimensions: m
                    .metric_dimensions
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
            })
        }),
    }
}

fn default_info(quota: ServiceQuota) -> QuotaInfo {
    QuotaInfo {
        default_only: true,
        ..quota_info(quota)
    }
}

fn change_request(change: RequestedServiceQuotaChange) -> ChangeRequest {
    ChangeRequest {
        id: change.id.unwrap_or_default(),
        status: change.status.as_ref().map_or(RequestStatus::Unknown, |s| {
            RequestStatus::from_name(s.as_str())
        }),
        desired_value: change.desired_value,
        created: change.created.map(|t| t.secs()),
        last_updated_ms: change.last_updated.and_then(|t| t.to_millis().ok()),
        case_id: change.case_id,
    }
}

impl QuotaApi for ServiceQuotas {
    async fn get_request(&self, request_id: &str) -> Result<ChangeRequest, QuotaApiError> {
        self.client
            .get_requested_service_quota_change()
            .request_id(request_id)
            .send()
            .await
            .map_err(api_error!("GetRequestedServiceQuotaChange"))?
            .requested_quota
            .map(change_request)
            .ok_or_else(|| empty_answer("GetRequestedServiceQuotaChange", "request"))
    }

    async fn auto_management(&self) -> Result<AutoManagement, QuotaApiError> {
        let output = match self.client.get_auto_management_configuration().send().await {
            Ok(output) => output,
            Err(e) => {
                return match api_error!("GetAutoManagementConfiguration")(e) {
                    // Never started in this account (unverified against AWS; the sandbox answers so).
                    QuotaApiError::NoSuchResource { .. } => Ok(AutoManagement::default()),
                    other => Err(other),
                };
            }
        };
        Ok(AutoManagement {
            enabled: output
                .opt_in_status
                .as_ref()
                .is_some_and(|s| s.as_str() == "ENABLED"),
            opt_in_type: output.opt_in_type.map(|t| t.as_str().to_owned()),
            excluded: output
                .exclusion_list
                .unwrap_or_default()
                .into_iter()
                .map(|(service, quotas)| {
                    let codes = quotas.into_iter().filter_map(|q| q.quota_code).collect();
                    (service, codes)
                })
                .collect(),
        })
    }

    async fn list_service_quotas(
        &self,
        service_code: &str,
    ) -> Result<Vec<QuotaInfo>, QuotaApiError> {
        let pages = self
            .client
            .list_service_quotas()
            .service_code(service_code)
            .max_results(100)
            .into_paginator()
            .send();
        Ok(every_page!(pages, "ListServiceQuotas", quotas, quota_info))
    }

    async fn get_service_quota(
        &self,
        service_code: &str,
        quota_code: &str,
    ) -> Result<QuotaInfo, QuotaApiError> {
        let output = self
            .client
            .get_service_quota()
            .service_code(service_code)
            .quota_code(quota_code)
            .send()
            .await
            .map_err(api_error!("GetServiceQuota"))?;
        output
            .quota
            .map(quota_info)
            .ok_or_else(|| empty_answer("GetServiceQuota", "quota"))
    }

    async fn list_aws_default_quotas(
        &self,
        service_code: &str,
    ) -> Result<Vec<QuotaInfo>, QuotaApiError> {
        let pages = self
            .client
            .list_aws_default_service_quotas()
            .service_code(service_code)
            .max_results(100)
            .into_paginator()
            .send();
        Ok(every_page!(
            pages,
            "ListAWSDefaultServiceQuotas",
            quotas,
            default_info
        ))
    }

    async fn get_aws_default_quota(
        &self,
        service_code: &str,
        quota_code: &str,
    ) -> Result<QuotaInfo, QuotaApiError> {
        let output = self
            .client
            .get_aws_default_service_quota()
            .service_code(service_code)
            .quota_code(quota_code)
            .send()
            .await
            .map_err(api_error!("GetAWSDefaultServiceQuota"))?;
        output
            .quota
            .map(default_info)
            .ok_or_else(|| empty_answer("GetAWSDefaultServiceQuota", "quota"))
    }

    async fn list_requests(
        &self,
        service_code: &str,
        quota_code: &str,
    ) -> Result<Vec<ChangeRequest>, QuotaApiError> {
        let pages = self
            .client
            .list_requested_service_quota_change_history_by_quota()
            .service_code(service_code)
            .quota_code(quota_code)
            .into_paginator()
            .send();
        Ok(every_page!(
            pages,
            "ListRequestedServiceQuotaChangeHistoryByQuota",
            requested_quotas,
            change_request
        ))
    }

    async fn open_requests(&self) -> Result<Vec<ChangeRequest>, QuotaApiError> {
        let mut open = Vec::new();
        for status in [
            aws_sdk_servicequotas::types::RequestStatus::Pending,
            aws_sdk_servicequotas::types::RequestStatus::CaseOpened,
        ] {
            let pages = self
                .client
                .list_requested_service_quota_change_history()
                .status(status)
                .into_paginator()
                .send();
            open.extend(every_page!(
                pages,
                "ListRequestedServiceQuotaChangeHistory",
                requested_quotas,
                change_request
            ));
        }
        Ok(open)
    }

    async fn request_increase(
        &self,
        service_code: &str,
        quota_code: &str,
        desired_value: f64,
        support_case_allowed: bool,
    ) -> Result<ChangeRequest, QuotaApiError> {
        let output = self
            .client
            .request_service_quota_increase()
            .service_code(service_code)
            .quota_code(quota_code)
            .desired_value(desired_value)
            .support_case_allowed(support_case_allowed)
            .send()
            .await
            .map_err(api_error!("RequestServiceQuotaIncrease"))?;
        output
            .requested_quota
            .map(change_request)
            .ok_or_else(|| empty_answer("RequestServiceQuotaIncrease", "request"))
    }
}

impl UtilizationReports for ServiceQuotas {
    async fn start_report(&self) -> Result<String, QuotaApiError> {
        self.client
            .start_quota_utilization_report()
            .send()
            .await
            .map_err(api_error!("StartQuotaUtilizationReport"))?
            .report_id
            .ok_or_else(|| empty_answer("StartQuotaUtilizationReport", "report id"))
    }

    async fn report_page(
        &self,
        report_id: &str,
        next_token: Option<&str>,
    ) -> Result<ReportPage, QuotaApiError> {
        let output = self
            .client
            .get_quota_utilization_report()
            .report_id(report_id)
            .set_next_token(next_token.map(str::to_owned))
            .send()
            .await
            .map_err(api_error!("GetQuotaUtilizationReport"))?;
        Ok(ReportPage {
            status: output
                .status
                .as_ref()
                .map_or_else(String::new, |s| s.as_str().to_owned()),
            rows: output
                .quotas
                .unwrap_or_default()
                .into_iter()
                .map(|q| QuotaUsage {
                    service_code: q.service_code.unwrap_or_default(),
                    quota_code: q.quota_code.unwrap_or_default(),
                    quota_name: q.quota_name.unwrap_or_default(),
                    utilization: q.utilization.unwrap_or_default(),
                    applied_value: q.applied_value,
                    adjustable: q.adjustable,
                })
                .collect(),
            next_token: output.next_token,
            generated_at_ms: output.generated_at.and_then(|t| t.to_millis().ok()),
            error: output
                .error_code
                .map(|code| format!("{code}: {}", output.error_message.unwrap_or_default())),
        })
    }
}
