//! `Ledger` over a DynamoDB table with a string `pk`, a string `sk` and TTL on `expires_at`.

use super::error_text;
use crate::ledger::{AuditRecord, Ledger, LedgerError, OpenEscalation};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_sdk_dynamodb::Client;

pub struct DynamoLedger {
    client: Client,
    table: String,
}

impl DynamoLedger {
    pub fn new(client: Client, table: String) -> Self {
        DynamoLedger { client, table }
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

impl Ledger for DynamoLedger {
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

    async fn record(&self, record: &AuditRecord) -> Result<(), LedgerError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item(
                "pk",
                s(format!("audit#{}#{}", record.function, record.subject)),
            )
            .item("sk", s(format!("{:010}#{}", record.at, record.request_id)))
            .item("decision", s(&record.decision))
            .item("reason", s(&record.reason))
            .item("outcome", s(&record.outcome))
            .item("at", n(record.at))
            .item("expires_at", n(record.expires))
            .send()
            .await
            .map_err(|e| failed("PutItem (audit)")(error_text(&e)))?;
        Ok(())
    }
}
