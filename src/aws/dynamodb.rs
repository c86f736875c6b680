//! The ledger traits over a DynamoDB table with a string `pk`, a string `sk` and TTL on `expires_at`.

use super::error_text;
use crate::ledger::{
    AuditKind, AuditLog, AuditQuery, AuditRecord, AuditTrail, Claims, Cooldowns, FiledRequest,
    FiledRequests, LedgerError, OpenEscalation, OpenEscalations, ReplayCounts, WaitingRaise,
    WaitingRaises,
};
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, PutRequest, ReturnValue, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use std::collections::HashMap;

#[derive(Clone)]
pub struct DynamoLedger {
    client: Client,
    table: String,
}

impl DynamoLedger {
    pub fn new(client: Client, table: String) -> Self {
        DynamoLedger { client, table }
    }

    /// Every JSON `record` kept under the partition `pk`, every page.
    async fn records<T: serde::de::DeserializeOwned>(
        &self,
        pk: &str,
        operation: &'static str,
    ) -> Result<Vec<T>, LedgerError> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(pk))
            .into_paginator()
            .send();
        let mut records = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| failed(operation)(error_text(&e)))?;
            for item in page.items.unwrap_or_default() {
                let Some(AttributeValue::S(record)) = item.get("record") else {
                    continue;
                };
                records.push(serde_json::from_str(record).map_err(|e| LedgerError {
                    operation,
                    message: format!("an unreadable record: {e}"),
                })?);
            }
        }
        Ok(records)
    }
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn failed(operation: &'static str) -> impl Fn((Option<String>, String)) -> LedgerError {
    move |(code, message)| LedgerError {
        operation,
        message: match code {
            Some(code) => format!("{code}: {message}"),
            None => message,
        },
    }
}

const SINGLE: &str = "-";

/// A claim's `state`: held by a run that has not acted yet, held while it acts, decided.
const CLAIMED: &str = "claimed";
const ACTING: &str = "acting";
const DONE: &str = "done";

impl Claims for DynamoLedger {
    async fn claim(
        &self,
        key: &str,
        holder: &str,
        now: u64,
        lease_until: u64,
        expires: u64,
    ) -> Result<bool, LedgerError> {
        // Free, or held by a run whose lease ran out before it decided, or held (not yet acting) by
        // this same invocation: Lambda retries an asynchronous invocation under its request id.
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(format!("claim#{key}")))
            .item("sk", s(SINGLE))
            .item("holder", s(holder))
            .item("state", s(CLAIMED))
            .item("lease_until", n(lease_until))
            .item("claimed_at", n(now))
            .item("expires_at", n(expires))
            .condition_expression(
                "attribute_not_exists(pk) OR (#state <> :done AND #lease <= :now) OR (#state = :claimed AND #holder = :holder)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#lease", "lease_until")
            .expression_attribute_names("#holder", "holder")
            .expression_attribute_values(":done", s(DONE))
            .expression_attribute_values(":claimed", s(CLAIMED))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":holder", s(holder))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(failed("PutItem (claim)")(error_text(&e))),
        }
    }

    async fn confirm_claim(
        &self,
        key: &str,
        holder: &str,
        plan: &str,
    ) -> Result<bool, LedgerError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("claim#{key}")))
            .key("sk", s(SINGLE))
            .update_expression("SET #state = :acting, #plan = :plan")
            .condition_expression("#holder = :holder AND #state <> :done")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#plan", "plan")
            .expression_attribute_names("#holder", "holder")
            .expression_attribute_values(":acting", s(ACTING))
            .expression_attribute_values(":plan", s(plan))
            .expression_attribute_values(":done", s(DONE))
            .expression_attribute_values(":holder", s(holder))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(failed("UpdateItem (claim)")(error_text(&e))),
        }
    }

    async fn settle_claim(
        &self,
        key: &str,
        holder: &str,
        decision: &str,
    ) -> Result<(), LedgerError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("claim#{key}")))
            .key("sk", s(SINGLE))
            .update_expression("SET #state = :done, #decision = :decision")
            .condition_expression("#holder = :holder")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#decision", "decision")
            .expression_attribute_names("#holder", "holder")
            .expression_attribute_values(":done", s(DONE))
            .expression_attribute_values(":decision", s(decision))
            .expression_attribute_values(":holder", s(holder))
            .send()
            .await;
        match result {
            // Taken over after the lease ran out: the other run settles it.
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(failed("UpdateItem (claim)")(error_text(&e))),
        }
    }

    async fn release_claim(&self, key: &str, holder: &str) -> Result<(), LedgerError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(format!("claim#{key}")))
            .key("sk", s(SINGLE))
            .condition_expression("#holder = :holder AND #state <> :done")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#holder", "holder")
            .expression_attribute_values(":done", s(DONE))
            .expression_attribute_values(":holder", s(holder))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(failed("DeleteItem (claim)")(error_text(&e))),
        }
    }
}

impl Cooldowns for DynamoLedger {
    async fn claim_cooldown(&self, key: &str, now: u64, until: u64) -> Result<bool, LedgerError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(format!("cooldown#{key}")))
            .item("sk", s(SINGLE))
            .item("until", n(until))
            .item("expires_at", n(until))
            .condition_expression("attribute_not_exists(pk) OR #until <= :now")
            .expression_attribute_names("#until", "until")
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(failed("PutItem (cooldown)")(error_text(&e))),
        }
    }

    async fn release_cooldown(&self, key: &str) -> Result<(), LedgerError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(format!("cooldown#{key}")))
            .key("sk", s(SINGLE))
            .send()
            .await
            .map_err(|e| failed("DeleteItem (cooldown)")(error_text(&e)))?;
        Ok(())
    }
}

impl OpenEscalations for DynamoLedger {
    async fn open_escalation(
        &self,
        alarm_key: &str,
        escalation: &OpenEscalation,
        expires: u64,
    ) -> Result<(), LedgerError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(format!("escalation#{alarm_key}")))
            .item("sk", s(SINGLE))
            .item("dedup_key", s(&escalation.dedup_key))
            .item("summary", s(&escalation.summary))
            .item("expires_at", n(expires))
            .send()
            .await
            .map_err(|e| failed("PutItem (escalation)")(error_text(&e)))?;
        Ok(())
    }

    async fn close_escalation(
        &self,
        alarm_key: &str,
    ) -> Result<Option<OpenEscalation>, LedgerError> {
        let output = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(format!("escalation#{alarm_key}")))
            .key("sk", s(SINGLE))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| failed("DeleteItem (escalation)")(error_text(&e)))?;
        let Some(old) = output.attributes.filter(|a| !a.is_empty()) else {
            return Ok(None);
        };
        let text = |name: &str| {
            old.get(name)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default()
        };
        Ok(Some(OpenEscalation {
            dedup_key: text("dedup_key"),
            summary: text("summary"),
        }))
    }
}

/// The audit partition of a kind and a UTC day: `audit#quota#2026-12-03`. A day's records of one kind
/// share it, so "since" is one `Query` per kind and day, its sort key a time range.
fn audit_partition(kind: AuditKind, at: u64) -> String {
    let day = chrono::DateTime::from_timestamp(at as i64, 0)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "1970-01-01".into());
    format!("audit#{}#{day}", kind.name())
}

impl AuditTrail for DynamoLedger {
    async fn record(&self, record: &AuditRecord) -> Result<(), LedgerError> {
        let text = serde_json::to_string(record).map_err(|e| LedgerError {
            operation: "PutItem (audit)",
            message: e.to_string(),
        })?;
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(audit_partition(record.kind, record.at)))
            .item(
                "sk",
                s(format!(
                    "{:010}#{}#{}#{}",
                    record.at, record.account, record.subject, record.request_id
                )),
            )
            .item("account", s(&record.account))
            .item("record", s(text))
            .item("expires_at", n(record.expires))
            .send()
            .await
            .map_err(|e| failed("PutItem (audit)")(error_text(&e)))?;
        Ok(())
    }
}

impl AuditLog for DynamoLedger {
    async fn query(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, LedgerError> {
        const DAY: u64 = 86_400;
        let mut records: Vec<AuditRecord> = Vec::new();
        for kind in &query.kinds {
            let mut day = query.since - query.since % DAY;
            while day <= query.until {
                let mut request = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                    .expression_attribute_values(":pk", s(audit_partition(*kind, day)))
                    .expression_attribute_values(":from", s(format!("{:010}", query.since)))
                    // "~" sorts after every character of an id: the whole last second is in.
                    .expression_attribute_values(":to", s(format!("{:010}~", query.until)));
                if let Some(account) = &query.account {
                    request = request
                        .filter_expression("account = :account")
                        .expression_attribute_values(":account", s(account));
                }
                let mut pages = request.into_paginator().send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| failed("Query (audit)")(error_text(&e)))?;
                    for item in page.items.unwrap_or_default() {
                        if let Some(AttributeValue::S(text)) = item.get("record") {
                            records.push(serde_json::from_str(text).map_err(|e| LedgerError {
                                operation: "Query (audit)",
                                message: format!("an unreadable record: {e}"),
                            })?);
                        }
                    }
                }
                day += DAY;
            }
        }
        records.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.subject.cmp(&b.subject)));
        Ok(records)
    }
}

impl ReplayCounts for DynamoLedger {
    async fn replay_counts(&self, keys: &[String]) -> Result<HashMap<String, u32>, LedgerError> {
        let mut counts = HashMap::new();
        let unique: std::collections::BTreeSet<&String> = keys.iter().collect();
        let unique: Vec<&String> = unique.into_iter().collect();
        for chunk in unique.chunks(100) {
            let mut request = KeysAndAttributes::builder();
            for key in chunk {
                request = request.keys(HashMap::from([
                    ("pk".to_owned(), s(format!("replays#{key}"))),
                    ("sk".to_owned(), s(SINGLE)),
                ]));
            }
            let mut pending = Some(request.build().map_err(|e| LedgerError {
                operation: "BatchGetItem (replays)",
                message: e.to_string(),
            })?);
            // Unprocessed keys are asked again, a bounded number of times.
            for _ in 0..5 {
                let Some(keys_and_attributes) = pending.take() else {
                    break;
                };
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, keys_and_attributes)
                    .send()
                    .await
                    .map_err(|e| failed("BatchGetItem (replays)")(error_text(&e)))?;
                for item in output
                    .responses
                    .unwrap_or_default()
                    .remove(&self.table)
                    .unwrap_or_default()
                {
                    let key = item
                        .get("pk")
                        .and_then(|v| v.as_s().ok())
                        .and_then(|k| k.strip_prefix("replays#"));
                    let count = item
                        .get("count")
                        .and_then(|v| v.as_n().ok())
                        .and_then(|n| n.parse().ok());
                    if let (Some(key), Some(count)) = (key, count) {
                        counts.insert(key.to_owned(), count);
                    }
                }
                pending = output
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .filter(|k| !k.keys.is_empty());
            }
            if pending.is_some() {
                return Err(LedgerError {
                    operation: "BatchGetItem (replays)",
                    message: "keys left unprocessed after 5 attempts".into(),
                });
            }
        }
        Ok(counts)
    }

    async fn record_replays(
        &self,
        counts: &[(String, u32)],
        expires: u64,
    ) -> Result<(), LedgerError> {
        let unique: HashMap<&String, u32> = counts.iter().map(|(k, c)| (k, *c)).collect();
        let unique: Vec<(&String, u32)> = unique.into_iter().collect();
        for chunk in unique.chunks(25) {
            let mut writes = Vec::with_capacity(chunk.len());
            for (key, count) in chunk {
                let put = PutRequest::builder()
                    .item("pk", s(format!("replays#{key}")))
                    .item("sk", s(SINGLE))
                    .item("count", n(u64::from(*count)))
                    .item("expires_at", n(expires))
                    .build()
                    .map_err(|e| LedgerError {
                        operation: "BatchWriteItem (replays)",
                        message: e.to_string(),
                    })?;
                writes.push(WriteRequest::builder().put_request(put).build());
            }
            let mut pending = Some(writes);
            for _ in 0..5 {
                let Some(items) = pending.take() else { break };
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, items)
                    .send()
                    .await
                    .map_err(|e| failed("BatchWriteItem (replays)")(error_text(&e)))?;
                pending = output
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.table))
                    .filter(|i| !i.is_empty());
            }
            if pending.is_some() {
                return Err(LedgerError {
                    operation: "BatchWriteItem (replays)",
                    message: "items left unprocessed after 5 attempts".into(),
                });
            }
        }
        Ok(())
    }
}

/// Filed requests share one partition: a follow-up reads them all with one `Query`.
const FILED: &str = "filed-request";

fn filed_key(request: &FiledRequest) -> String {
    format!(
        "{}:{}:{}",
        request.account_id, request.region, request.request_id
    )
}

impl FiledRequests for DynamoLedger {
    async fn record_filed(&self, request: &FiledRequest) -> Result<(), LedgerError> {
        let record = serde_json::to_string(request).map_err(|e| LedgerError {
            operation: "PutItem (filed request)",
            message: e.to_string(),
        })?;
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(FILED))
            .item("sk", s(filed_key(request)))
            .item("record", s(record))
            .send()
            .await
            .map_err(|e| failed("PutItem (filed request)")(error_text(&e)))?;
        Ok(())
    }

    async fn open_filed(&self) -> Result<Vec<FiledRequest>, LedgerError> {
        self.records(FILED, "Query (filed requests)").await
    }

    async fn update_filed(&self, request: &FiledRequest, closed: bool) -> Result<(), LedgerError> {
        if !closed {
            return self.record_filed(request).await;
        }
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(FILED))
            .key("sk", s(filed_key(request)))
            .send()
            .await
            .map_err(|e| failed("DeleteItem (filed request)")(error_text(&e)))?;
        Ok(())
    }
}

const WAITING: &str = "waiting-raise";

/// One waiting raise per quota of an account and Region.
fn waiting_key(raise: &WaitingRaise) -> String {
    format!(
        "{}:{}:{}/{}",
        raise.account_id, raise.region, raise.service_code, raise.quota_code
    )
}

impl WaitingRaises for DynamoLedger {
    async fn queue_raise(&self, raise: &WaitingRaise) -> Result<(), LedgerError> {
        let record = serde_json::to_string(raise).map_err(|e| LedgerError {
            operation: "PutItem (waiting raise)",
            message: e.to_string(),
        })?;
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(WAITING))
            .item("sk", s(waiting_key(raise)))
            .item("record", s(record))
            .send()
            .await
            .map_err(|e| failed("PutItem (waiting raise)")(error_text(&e)))?;
        Ok(())
    }

    async fn waiting(&self) -> Result<Vec<WaitingRaise>, LedgerError> {
        self.records(WAITING, "Query (waiting raises)").await
    }

    async fn drop_waiting(&self, raise: &WaitingRaise) -> Result<(), LedgerError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(WAITING))
            .key("sk", s(waiting_key(raise)))
            .send()
            .await
            .map_err(|e| failed("DeleteItem (waiting raise)")(error_text(&e)))?;
        Ok(())
    }
}
