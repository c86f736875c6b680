//! What warm capacity costs: provisioned concurrency is billed per GB-second of memory configured,
//! for as long as it is configured ("You pay for the amount of concurrency you configure, and for the
//! period of time you configure it", rounded up to five minutes: AWS Lambda pricing page), on top of
//! the requests and duration of the invocations it serves. Kept in one place, with the day it was read.

use serde::Serialize;

/// When and where the prices below were taken: the AWS Lambda pricing page, US East (N. Virginia).
/// NOT VERIFIED: the page's provisioned-concurrency table could not be read in this project's document
/// store; the figures are AWS's published us-east-1 prices as known on that day. Other Regions differ.
pub const PRICED: &str = "us-east-1 list price as of 2026-11-30 (unverified)";
/// USD per GB-second of provisioned concurrency, x86_64.
pub const X86_USD_PER_GB_SECOND: f64 = 0.000_004_166_7;
/// USD per GB-second of provisioned concurrency, arm64.
pub const ARM_USD_PER_GB_SECOND: f64 = 0.000_003_333_4;

/// The warm capacity of one rule and its price.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WarmCost {
    pub rule: String,
    pub target: String,
    pub containers: u32,
    pub memory_mb: u32,
    pub architecture: &'static str,
    /// While the capacity is configured.
    pub usd_per_hour: f64,
    /// Hours a week the window keeps it configured.
    pub hours_per_week: u32,
    pub usd_per_week: f64,
    pub priced: &'static str,
}

/// USD an hour for `containers` of `memory_mb` each.
pub fn usd_per_hour(containers: u32, memory_mb: u32, arm64: bool) -> f64 {
    let price = if arm64 {
        ARM_USD_PER_GB_SECOND
    } else {
        X86_USD_PER_GB_SECOND
    };
    f64::from(containers) * f64::from(memory_mb) / 1024.0 * 3600.0 * price
}

/// The cost of a rule's capacity over a window of `hours_per_week`, rounded to the cent's tenth.
pub fn warm_cost(
    rule: &str,
    target: &str,
    containers: u32,
    memory_mb: u32,
    arm64: bool,
    hours_per_week: u32,
) -> WarmCost {
    let hourly = usd_per_hour(containers, memory_mb, arm64);
    let round = |usd: f64| (usd * 1000.0).round() / 1000.0;
    WarmCost {
        rule: rule.to_owned(),
        target: target.to_owned(),
        containers,
        memory_mb,
        architecture: if arm64 { "arm64" } else { "x86_64" },
        usd_per_hour: round(hourly),
        hours_per_week,
        usd_per_week: round(hourly * f64::from(hours_per_week)),
        priced: PRICED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_is_priced_per_gb_second_while_configured() {
        // 10 containers of 1 GB for an hour: 36,000 GB-seconds.
        assert!((usd_per_hour(10, 1024, false) - 0.150_001_2).abs() < 1e-9);
        assert!((usd_per_hour(10, 1024, true) - 0.120_002_4).abs() < 1e-9);
        // 3 containers of 512 MB, weekdays 08-18: 50 hours a week.
        let cost = warm_cost("checkout", "checkout-api:live", 3, 512, false, 50);
        assert_eq!(cost.usd_per_hour, 0.023);
        assert_eq!(cost.usd_per_week, 1.125);
        assert_eq!(cost.architecture, "x86_64");
    }
}
