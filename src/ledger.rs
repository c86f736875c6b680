//! The state that must outlive a container: page cooldowns, open escalations, the audit trail, and
//! how often a message was replayed into a function.
//! Kept in DynamoDB (`crate::aws::dynamodb`), never in memory.

use serde::Serialize;
use std::collections::HashMap;
use std::future::Future;

/// A decision, as written to the audit table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditRecord {
    pub function: &'static str,
    pub subject: String,
    /// Seconds since the epoch.
    pub at: u64,
    /// When DynamoDB's TTL may delete the record.
    pub expires: u64,
    pub request_id: String,
    pub decision: String,
    pub reason: String,
    /// The whole outcome, as JSON.
    pub outcome: String,
}

/// An escalation that went out, remembered until its alarm returns to OK.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OpenEscalation {
    pub dedup_key: String,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ledger {operation} failed: {message}")]
pub struct LedgerError {
    pub operation: &'static str,
    pub message: String,
}

/// `PutItem` with a condition: one page per cause within a cooldown.
pub trait Cooldowns: Send + Sync {
    /// Starts a cooldown unless one is running; `false` means another page went out recently.
    fn claim_cooldown(
        &self,
        key: &str,
        now: u64,
        until: u64,
    ) -> impl Future<Output = Result<bool, LedgerError>> + Send;

    /// Ends a cooldown early (the page it guarded could not be sent).
    fn release_cooldown(&self, key: &str) -> impl Future<Output = Result<(), LedgerError>> + Send;
}

/// Escalations that went out, so that the alarm's return to OK resolves them once.
pub trait OpenEscalations: Send + Sync {
    /// Remembers that `alarm_key` was escalated (`PutItem`).
    fn open_escalation(
        &self,
        alarm_key: &str,
        escalation: &OpenEscalation,
        expires: u64,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;

    /// Forgets and returns the open escalation of `alarm_key`, atomically (`DeleteItem` with
    /// `ReturnValues=ALL_OLD`): two OK events cannot both see it.
    fn close_escalation(
        &self,
        alarm_key: &str,
    ) -> impl Future<Output = Result<Option<OpenEscalation>, LedgerError>> + Send;
}

/// The audit trail: one record per decision (`PutItem`).
pub trait AuditTrail: Send + Sync {
    fn record(&self, record: &AuditRecord) -> impl Future<Output = Result<(), LedgerError>> + Send;
}

/// How often a message was replayed into a function, where the message itself cannot carry it.
pub trait ReplayCounts: Send + Sync {
    /// How many times each key (a replayed message body) was replayed before; absent keys are 0
    /// (`BatchGetItem`).
    fn replay_counts(
        &self,
        keys: &[String],
    ) -> impl Future<Output = Result<HashMap<String, u32>, LedgerError>> + Send;

    /// Stores new replay counts (`BatchWriteItem`).
    fn record_replays(
        &self,
        counts: &[(String, u32)],
        expires: u64,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;
}
