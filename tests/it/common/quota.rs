//! The quota function's side of a sandbox account: healers over it, and the Service Quotas and SNS
//! state the tests set and read.

use super::{endpoint, http, notice, Account, REGION};
use aws_config::SdkConfig;
use selfheal::quota::{quota_healer, Healer, Settings};
use selfheal::rules::RuleSet;
use selfheal::settings::QuotaEnvironment;
use serde_json::Value;

impl Account {
    /// The audit trail of the last day, newest first, read as `selfheal audit` reads it.
    pub async fn audit_records(&self) -> Vec<selfheal::ledger::AuditRecord> {
        use selfheal::ledger::{AuditKind, AuditLog, AuditQuery};
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        selfheal::aws::dynamodb::DynamoLedger::new(self.dynamodb.clone(), self.table.clone())
            .query(&AuditQuery {
                since: now - 86_400,
                until: now + 86_400,
                kinds: AuditKind::ALL.to_vec(),
                account: None,
            })
            .await
            .unwrap()
    }

    /// A fixture's alarm, as raised in this account (the fixtures name 123456789012).
    pub fn notice(&self, name: &str) -> selfheal::alarm::AlarmNotice {
        let mut notice = notice(name);
        notice.account_id = Some(self.id.clone());
        notice
    }

    pub fn settings(&self, dry_run: bool) -> Settings {
        Settings {
            runbook_base_url: "https://runbooks.example.com/selfheal".into(),
            topic_display_name: String::new(),
            dry_run,
            home_account_id: Some(self.id.clone()),
            home_region: REGION.into(),
            escalation_memory_secs: 3600,
            audit_retention_secs: 3600,
        }
    }

    /// The replay function's environment in this account (its own name, when it may invoke itself).
    pub fn replay_environment(
        &self,
        own_function: Option<(&str, &str)>,
    ) -> selfheal::settings::ReplayEnvironment {
        selfheal::settings::ReplayEnvironment {
            topic_arn: self.topic_arn.clone(),
            table_name: self.table.clone(),
            runbook_base_url: "https://runbooks.example.com/selfheal".into(),
            topic_display_name: String::new(),
            account_id: Some(self.id.clone()),
            audit_retention_secs: 3600,
            dry_run: false,
            own_function_name: own_function.map(|(name, _)| name.to_owned()),
            own_function_version: own_function.map(|(_, version)| version.to_owned()),
        }
    }

    /// The quota function's environment in this account.
    pub fn quota_environment(&self, dry_run: bool) -> QuotaEnvironment {
        QuotaEnvironment {
            topic_arn: self.topic_arn.clone(),
            table_name: self.table.clone(),
            settings: self.settings(dry_run),
            sweep_reports_only: false,
        }
    }

    /// The quota function's core wired to this account as the function wires it, with the shipped
    /// rules.
    pub fn healer(&self, dry_run: bool) -> Healer {
        self.healer_through(&self.sdk, dry_run)
    }

    /// The same, with clients built from `sdk` (a fault-injecting proxy, say).
    pub fn healer_through(&self, sdk: &SdkConfig, dry_run: bool) -> Healer {
        quota_healer(
            sdk,
            &self.quota_environment(dry_run),
            RuleSet::embedded().expect("shipped rules are valid"),
        )
    }

    /// The quota function's core with the rules of `quotas_toml` (and the shipped defaults).
    pub fn healer_with_rules(&self, quotas_toml: &str) -> Healer {
        self.healer_with_rule_files(&[("quotas.toml", quotas_toml)])
    }

    /// The quota function's core with these rule files (and the shipped defaults).
    pub fn healer_with_rule_files(&self, files: &[(&str, &str)]) -> Healer {
        let defaults = include_str!("../../../rules/defaults.toml");
        let mut sources = vec![("defaults.toml", defaults)];
        sources.extend_from_slice(files);
        let rules = RuleSet::from_sources(&sources, RuleSet::embedded_runbooks())
            .expect("the test's rules are valid");
        quota_healer(&self.sdk, &self.quota_environment(false), rules)
    }

    /// How Service Quotas behaves for this account (the sandbox's `set-account`).
    pub async fn set_service_quotas(&self, behaviour: Value) {
        let mut body = behaviour;
        body["AccountId"] = Value::from(self.id.clone());
        body["Region"] = Value::from(REGION);
        let answer = http(
            &format!("{}/moto-api/selfheal/servicequotas/set-account", endpoint()),
            "POST",
            Some(body),
        )
        .await;
        assert!(answer.contains("\"Account\""), "set-account: {answer}");
    }

    /// Plays AWS's reviewer with a closed support case; `raised` applies the requested value.
    pub async fn close_case(&self, request_id: &str, raised: bool) {
        let body =
            serde_json::json!({"RequestId": request_id, "Status": "CASE_CLOSED", "Raised": raised});
        http(
            &format!("{}/moto-api/selfheal/servicequotas/decide", endpoint()),
            "POST",
            Some(body),
        )
        .await;
    }

    /// What the topic's subscribers received, from the sandbox's record.
    pub async fn deliveries(&self) -> Vec<Value> {
        let url = format!("{}/moto-api/selfheal/sns/deliveries", endpoint());
        let body: Value = serde_json::from_str(&http(&url, "GET", None).await).unwrap();
        body["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["topic_arn"] == self.topic_arn.as_str())
            .cloned()
            .collect()
    }

    pub async fn requests(
        &self,
        service: &str,
        quota: &str,
    ) -> Vec<aws_sdk_servicequotas::types::RequestedServiceQuotaChange> {
        self.quotas
            .list_requested_service_quota_change_history_by_quota()
            .service_code(service)
            .quota_code(quota)
            .send()
            .await
            .unwrap()
            .requested_quotas
            .unwrap_or_default()
    }

    /// Sets a quota's applied value, as an earlier approved increase would have.
    pub async fn set_quota_value(&self, service: &str, quota: &str, value: f64) {
        let body = serde_json::json!({
            "AccountId": self.id, "Region": REGION, "ServiceCode": service, "QuotaCode": quota, "Value": value
        });
        http(
            &format!("{}/moto-api/selfheal/servicequotas/set-value", endpoint()),
            "POST",
            Some(body),
        )
        .await;
    }

    /// Plays AWS's reviewer: sets a request's status.
    pub async fn decide_request(&self, request_id: &str, status: &str) {
        let body = serde_json::json!({"RequestId": request_id, "Status": status});
        http(
            &format!("{}/moto-api/selfheal/servicequotas/decide", endpoint()),
            "POST",
            Some(body),
        )
        .await;
    }

    /// Sets a quota's current usage; the utilization report computes from it.
    pub async fn set_usage(&self, service: &str, quota: &str, usage: f64) {
        let body = serde_json::json!({
            "AccountId": self.id, "Region": REGION, "ServiceCode": service, "QuotaCode": quota, "Usage": usage
        });
        http(
            &format!("{}/moto-api/selfheal/servicequotas/set-usage", endpoint()),
            "POST",
            Some(body),
        )
        .await;
    }

    /// Sets how Service Quotas behaves for this account (the sandbox's `set-account`).
    pub async fn set_account(&self, settings: serde_json::Value) {
        let mut body = settings;
        body["AccountId"] = serde_json::json!(self.id);
        http(
            &format!("{}/moto-api/selfheal/servicequotas/set-account", endpoint()),
            "POST",
            Some(body),
        )
        .await;
    }
}
