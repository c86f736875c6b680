//! The Service Quotas operations the quota function needs, as a small trait over plain data.

use crate::alarm::MetricId;
use serde::Serialize;
use std::future::Future;

/// A quota as Service Quotas describes it for this account.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QuotaInfo {
    pub service_code: String,
    pub quota_code: String,
    pub quota_name: String,
    /// The value applied to this account (the AWS default unless raised).
    pub value: Option<f64>,
    pub adjustable: bool,
    pub unit: Option<String>,
    pub usage_metric: Option<MetricId>,
    /// Why Service Quotas gave no value: its `ErrorReason` (`CODE: message`), for example
    /// `DEPENDENCY_ACCESS_DENIED_ERROR` (botocore `service-quotas` model, shape `ErrorReason`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_reason: Option<String>,
    /// Service Quotas reported no applied value, so this is the AWS default
    /// (`GetAWSDefaultServiceQuota` / `ListAWSDefaultServiceQuotas`), taken as the current value.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub default_only: bool,
}

/// Status of an increase request, as Service Quotas names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RequestStatus {
    Pending,
    CaseOpened,
    Approved,
    Denied,
    CaseClosed,
    NotApproved,
    InvalidRequest,
    Unknown,
}

impl RequestStatus {
    pub fn from_name(name: &str) -> Self {
        match name {
            "PENDING" => Self::Pending,
            "CASE_OPENED" => Self::CaseOpened,
            "APPROVED" => Self::Approved,
            "DENIED" => Self::Denied,
            "CASE_CLOSED" => Self::CaseClosed,
            "NOT_APPROVED" => Self::NotApproved,
            "INVALID_REQUEST" => Self::InvalidRequest,
            _ => Self::Unknown,
        }
    }

    /// AWS is still working on the request: a second one must not be filed.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Pending | Self::CaseOpened)
    }

    /// AWS said no.
    pub fn is_refusal(self) -> bool {
        matches!(
            self,
            Self::Denied | Self::NotApproved | Self::InvalidRequest
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::CaseOpened => "CASE_OPENED",
            Self::Approved => "APPROVED",
            Self::Denied => "DENIED",
            Self::CaseClosed => "CASE_CLOSED",
            Self::NotApproved => "NOT_APPROVED",
            Self::InvalidRequest => "INVALID_REQUEST",
            Self::Unknown => "UNKNOWN",
        }
    }
}

/// One increase request from a quota's history.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChangeRequest {
    pub id: String,
    pub status: RequestStatus,
    pub desired_value: Option<f64>,
    /// Seconds since the epoch.
    pub created: Option<i64>,
    /// When its status last changed (`LastUpdated`): milliseconds since the epoch.
    pub last_updated_ms: Option<i64>,
    /// The support case AWS opened for it (`CaseId`), if any.
    pub case_id: Option<String>,
}

/// A Service Quotas call that failed after the SDK's own retries.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuotaApiError {
    #[error("{operation}: no such quota or service ({message})")]
    NoSuchResource {
        operation: &'static str,
        message: String,
    },
    #[error("{operation}: a request for this quota is already open ({message})")]
    AlreadyOpen {
        operation: &'static str,
        message: String,
    },
    #[error("{operation}: the account has too many open increase requests ({message})")]
    TooManyOpenRequests {
        operation: &'static str,
        message: String,
    },
    #[error("{operation}: throttled after retries ({message})")]
    Throttled {
        operation: &'static str,
        message: String,
    },
    #[error("{operation}: access denied ({message})")]
    AccessDenied {
        operation: &'static str,
        message: String,
    },
    /// Service Quotas could not reach what it depends on, typically because it cannot create its
    /// service-linked role (the caller needs `iam:CreateServiceLinkedRole` for
    /// `servicequotas.amazonaws.com`; Service Quotas user guide, "Using service-linked roles").
    #[error("{operation}: Service Quotas was denied access to a dependency ({message})")]
    DependencyAccessDenied {
        operation: &'static str,
        message: String,
    },
    /// `InvalidResourceStateException`: "The resource is in an invalid state" (botocore model).
    #[error("{operation}: the quota is in a state that does not allow this ({message})")]
    InvalidResourceState {
        operation: &'static str,
        message: String,
    },
    /// The credentials' session ended before the call (`ExpiredTokenException`, HTTP 403: "The security
    /// token included in the request is expired", AWS API reference, Common Errors).
    #[error("{operation}: the credentials expired ({message})")]
    CredentialsExpired {
        operation: &'static str,
        message: String,
    },
    /// `IllegalArgumentException`: "Invalid input was provided" (botocore model). To
    /// `RequestServiceQuotaIncrease` it is also the answer when the quota is already at or above the
    /// desired value ("The new value must be greater than the current value": Service Quotas user
    /// guide, "Requesting a quota increase").
    #[error("{operation}: invalid input ({message})")]
    IllegalArgument {
        operation: &'static str,
        message: String,
    },
    #[error("{operation}: {message}")]
    Other {
        operation: &'static str,
        message: String,
    },
}

impl QuotaApiError {
    /// Builds the error from an AWS error code.
    pub fn from_code(operation: &'static str, code: Option<&str>, message: String) -> Self {
        match code {
            Some("NoSuchResourceException") => Self::NoSuchResource { operation, message },
            Some("ResourceAlreadyExistsException") => Self::AlreadyOpen { operation, message },
            Some("QuotaExceededException") => Self::TooManyOpenRequests { operation, message },
            Some("TooManyRequestsException" | "ThrottlingException") => {
                Self::Throttled { operation, message }
            }
            Some("AccessDeniedException") => Self::AccessDenied { operation, message },
            Some("IllegalArgumentException") => Self::IllegalArgument { operation, message },
            Some("DependencyAccessDeniedException") => {
                Self::DependencyAccessDenied { operation, message }
            }
            Some("InvalidResourceStateException") => {
                Self::InvalidResourceState { operation, message }
            }
            // `ExpiredToken` is the same error's code in query-protocol services (STS's own).
            Some("ExpiredTokenException" | "ExpiredToken") => {
                Self::CredentialsExpired { operation, message }
            }
            Some(code) => Self::Other {
                operation,
                message: format!("{code}: {message}"),
            },
            None => Self::Other { operation, message },
        }
    }
}

/// Service Quotas' Automatic Management in the account (`GetAutoManagementConfiguration`; fields from
/// aws-sdk-servicequotas 1.121): whether AWS itself adjusts quotas, and which it leaves out.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct AutoManagement {
    /// `OptInStatus` `ENABLED`.
    pub enabled: bool,
    /// `OptInType`: `NotifyOnly` (only notices; the SDK documents it as the only type available today)
    /// or `NotifyAndAdjust` (AWS raises quotas itself).
    pub opt_in_type: Option<String>,
    /// `ExclusionList`: service code -> quota codes AWS leaves alone.
    pub excluded: std::collections::BTreeMap<String, Vec<String>>,
}

impl AutoManagement {
    /// Whether AWS adjusts this quota itself: started, in `NotifyAndAdjust`, and not excluded.
    pub fn adjusts(&self, service_code: &str, quota_code: &str) -> bool {
        self.enabled
            && self.opt_in_type.as_deref() == Some("NotifyAndAdjust")
            && !self
                .excluded
                .get(service_code)
                .is_some_and(|codes| codes.iter().any(|c| c == quota_code))
    }
}

/// The Service Quotas calls selfheal makes. Implemented over the SDK client in `crate::aws`.
pub trait QuotaApi: Send + Sync {
    /// `ListServiceQuotas`, every page.
    fn list_service_quotas(
        &self,
        service_code: &str,
    ) -> impl Future<Output = Result<Vec<QuotaInfo>, QuotaApiError>> + Send;

    /// `GetServiceQuota`.
    fn get_service_quota(
        &self,
        service_code: &str,
        quota_code: &str,
    ) -> impl Future<Output = Result<QuotaInfo, QuotaApiError>> + Send;

    /// `ListAWSDefaultServiceQuotas`, every page: the quotas with their AWS default values,
    /// including those whose applied value `ListServiceQuotas` leaves out.
    fn list_aws_default_quotas(
        &self,
        service_code: &str,
    ) -> impl Future<Output = Result<Vec<QuotaInfo>, QuotaApiError>> + Send;

    /// `GetAWSDefaultServiceQuota`: the quota with its value before any increase.
    fn get_aws_default_quota(
        &self,
        service_code: &str,
        quota_code: &str,
    ) -> impl Future<Output = Result<QuotaInfo, QuotaApiError>> + Send;

    /// `ListRequestedServiceQuotaChangeHistoryByQuota`, every page.
    fn list_requests(
        &self,
        service_code: &str,
        quota_code: &str,
    ) -> impl Future<Output = Result<Vec<ChangeRequest>, QuotaApiError>> + Send;

    /// `GetAutoManagementConfiguration`; never started (`NoSuchResourceException`) is not adjusting.
    fn auto_management(&self)
        -> impl Future<Output = Result<AutoManagement, QuotaApiError>> + Send;

    /// `GetRequestedServiceQuotaChange`: one request, as it is now.
    fn get_request(
        &self,
        request_id: &str,
    ) -> impl Future<Output = Result<ChangeRequest, QuotaApiError>> + Send;

    /// `ListRequestedServiceQuotaChangeHistory` with `Status` `PENDING`, then `CASE_OPENED`, every
    /// page: the increase requests of this account and Region that AWS is still working on, whoever
    /// filed them.
    fn open_requests(
        &self,
    ) -> impl Future<Output = Result<Vec<ChangeRequest>, QuotaApiError>> + Send;

    /// `RequestServiceQuotaIncrease`.
    fn request_increase(
        &self,
        service_code: &str,
        quota_code: &str,
        desired_value: f64,
        support_case_allowed: bool,
    ) -> impl Future<Output = Result<ChangeRequest, QuotaApiError>> + Send;
}

/// One row of the utilization report (`QuotaUtilizationInfo`).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct QuotaUsage {
    pub service_code: String,
    pub quota_code: String,
    pub quota_name: String,
    /// Usage / applied value x 100.
    pub utilization: f64,
    pub applied_value: Option<f64>,
    pub adjustable: bool,
}

/// One page of a utilization report, as `GetQuotaUtilizationReport` answers it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReportPage {
    /// `PENDING`, `IN_PROGRESS`, `COMPLETED` or `FAILED`.
    pub status: String,
    pub rows: Vec<QuotaUsage>,
    pub next_token: Option<String>,
    /// `ErrorCode: ErrorMessage` of a failed report.
    pub error: Option<String>,
    /// `GeneratedAt`: milliseconds since the epoch.
    pub generated_at_ms: Option<i64>,
}

/// Service Quotas' utilization report of the account: every quota with usage data, highest first (API
/// reference, `GetQuotaUtilizationReport`: asynchronous, up to 1,000 rows a page, deleted after 15
/// minutes).
pub trait UtilizationReports: Send + Sync {
    /// `StartQuotaUtilizationReport`: the report's id.
    fn start_report(&self) -> impl Future<Output = Result<String, QuotaApiError>> + Send;

    /// `GetQuotaUtilizationReport`, one page.
    fn report_page(
        &self,
        report_id: &str,
        next_token: Option<&str>,
    ) -> impl Future<Output = Result<ReportPage, QuotaApiError>> + Send;
}
