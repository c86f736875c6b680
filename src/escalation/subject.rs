//! The quota a plan, an outcome or an escalation is about, and its numbers as far as they are known:
//! one shape, flattened into each of them (their JSON keeps the fields at the top level).

use serde::Serialize;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct QuotaSubject {
    pub service_code: Option<String>,
    pub quota_code: Option<String>,
    pub quota_name: Option<String>,
    pub current_value: Option<f64>,
    /// The value selfheal asks for, or would.
    pub desired_value: Option<f64>,
    /// The most selfheal may ask for.
    pub ceiling: Option<f64>,
}

impl QuotaSubject {
    /// A quota known by its codes only.
    pub fn codes(service_code: &str, quota_code: &str) -> Self {
        QuotaSubject {
            service_code: Some(service_code.to_owned()),
            quota_code: Some(quota_code.to_owned()),
            ..QuotaSubject::default()
        }
    }
}
