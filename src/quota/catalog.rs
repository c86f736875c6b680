//! From an alarm's usage metric, or a threshold notice's quota name, back to its quota, through
//! `ListServiceQuotas`.

use super::api::{QuotaApi, QuotaApiError, QuotaInfo};
use crate::alarm::MetricId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Each service's quota list in each Region, fetched once for the life of the container. The list's
/// codes, names and usage metrics are the service's, not the account's: one list serves every account.
#[derive(Default)]
pub struct QuotaCatalog {
    by_service: Mutex<HashMap<RegionService, Arc<Vec<QuotaInfo>>>>,
}

/// A Region and a service code.
type RegionService = (String, String);

impl QuotaCatalog {
    /// The quota whose `UsageMetric` equals `metric` (namespace, name and dimensions).
    pub async fn find(
        &self,
        api: &impl QuotaApi,
        region: &str,
        metric: &MetricId,
    ) -> Result<Option<QuotaInfo>, QuotaApiError> {
        for service in candidate_services(metric) {
            let quotas = self.quotas_of(api, region, &service).await?;
            if let Some(found) = quotas
                .iter()
                .find(|q| q.usage_metric.as_ref() == Some(metric))
            {
                return Ok(Some(found.clone()));
            }
        }
        Ok(None)
    }

    /// The quota of `service_code` named exactly `quota_name` (Service Quotas' `QuotaName`): a
    /// threshold notice names quotas this way. Never a close match: a wrong quota raised is worse than
    /// a page.
    pub async fn find_by_name(
        &self,
        api: &impl QuotaApi,
        region: &str,
        service_code: &str,
        quota_name: &str,
    ) -> Result<Option<QuotaInfo>, QuotaApiError> {
        let quotas = self.quotas_of(api, region, service_code).await?;
        Ok(quotas.iter().find(|q| q.quota_name == quota_name).cloned())
    }

    async fn quotas_of(
        &self,
        api: &impl QuotaApi,
        region: &str,
        service: &str,
    ) -> Result<Arc<Vec<QuotaInfo>>, QuotaApiError> {
        let key = (region.to_owned(), service.to_owned());
        if let Some(cached) = self.cached(&key) {
            return Ok(cached);
        }
        let quotas = match api.list_service_quotas(service).await {
            Ok(applied) => Arc::new(with_defaults(applied, api, service).await?),
            // A namespace that is not a service code: nothing to find there.
            Err(QuotaApiError::NoSuchResource { .. }) => Arc::new(Vec::new()),
            Err(e) => return Err(e),
        };
        self.by_service
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(key, Arc::clone(&quotas));
        Ok(quotas)
    }

    fn cached(&self, key: &RegionService) -> Option<Arc<Vec<QuotaInfo>>> {
        self.by_service
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(key)
            .cloned()
    }
}

/// The applied list plus the quotas it leaves out. `ListServiceQuotas` skips a quota whose applied
/// value is not available (botocore `service-quotas` model, documentation of `ListServiceQuotas`;
/// terraform-provider-aws #10929 shows it for `lambda/L-B99A9384`), so the defaults list fills the gap.
async fn with_defaults(
    mut applied: Vec<QuotaInfo>,
    api: &impl QuotaApi,
    service: &str,
) -> Result<Vec<QuotaInfo>, QuotaApiError> {
    let defaults = match api.list_aws_default_quotas(service).await {
        Ok(defaults) => defaults,
        Err(QuotaApiError::NoSuchResource { .. }) => Vec::new(),
        Err(e) => return Err(e),
    };
    for quota in defaults {
        if !applied.iter().any(|q| q.quota_code == quota.quota_code) {
            applied.push(quota);
        }
    }
    Ok(applied)
}

/// Service codes whose quotas may carry this usage metric, most likely first.
///
/// `AWS/Usage` metrics name their service in the `Service` dimension; other metrics live in the
/// service's own namespace (`AWS/Lambda`). Both spellings differ from the service code in places.
pub fn candidate_services(metric: &MetricId) -> Vec<String> {
    let name = if metric.namespace == "AWS/Usage" {
        metric.dimensions.get("Service").map(String::as_str)
    } else {
        metric.namespace.strip_prefix("AWS/")
    };
    let Some(name) = name else {
        return Vec::new();
    };
    let known = match name.to_ascii_lowercase().replace([' ', '-'], "").as_str() {
        "applicationelb" | "networkelb" | "elb" | "elasticloadbalancing" | "gatewayelb" => {
            "elasticloadbalancing"
        }
        "cloudwatch" => "monitoring",
        "events" | "eventbridge" => "events",
        "apigateway" => "apigateway",
        "stepfunctions" | "states" => "states",
        "secretsmanager" => "secretsmanager",
        "elasticfilesystem" | "efs" => "elasticfilesystem",
        "kinesisfirehose" | "firehose" => "firehose",
        "certificatemanager" | "acm" => "acm",
        "cloudwatchlogs" | "logs" => "logs",
        "systemsmanager" | "ssm" => "ssm",
        other => return vec![other.to_owned()],
    };
    vec![known.to_owned()]
}

#[cfg(test)]
mod tests {
    use super::candidate_services;
    use crate::alarm::MetricId;

    fn metric(namespace: &str, service: Option<&str>) -> MetricId {
        MetricId {
            namespace: namespace.into(),
            name: "ResourceCount".into(),
            dimensions: service
                .map(|s| [("Service".to_owned(), s.to_owned())].into())
                .unwrap_or_default(),
        }
    }

    #[test]
    fn services_come_from_the_namespace_or_the_service_dimension() {
        assert_eq!(candidate_services(&metric("AWS/Lambda", None)), ["lambda"]);
        assert_eq!(
            candidate_services(&metric("AWS/Usage", Some("EC2"))),
            ["ec2"]
        );
        assert_eq!(
            candidate_services(&metric("AWS/ApplicationELB", None)),
            ["elasticloadbalancing"]
        );
        assert_eq!(
            candidate_services(&metric("AWS/Usage", Some("CloudWatch"))),
            ["monitoring"]
        );
        assert!(candidate_services(&metric("AWS/Usage", None)).is_empty());
        assert!(candidate_services(&metric("Custom/App", None)).is_empty());
    }
}
