//! The state that must outlive a container: the inputs claimed (one decision per alarm transition),
//! page cooldowns, open escalations, the audit trail, how often a message was replayed into a
//! function, the increase requests selfheal filed, and the raises waiting for a free request.
//! Kept in DynamoDB (`crate::aws::dynamodb`), never in memory.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::future::Future;

/// What an audit record is about: one feature's decisions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditKind {
    Quota,
    Replay,
    Prewarm,
}

impl AuditKind {
    pub const ALL: [AuditKind; 3] = [AuditKind::Quota, AuditKind::Replay, AuditKind::Prewarm];

    pub fn name(self) -> &'static str {
        match self {
            AuditKind::Quota => "quota",
            AuditKind::Replay => "replay",
            AuditKind::Prewarm => "prewarm",
        }
    }
}

/// A decision, dry run, sync or replay, as the audit trail keeps it (schema: README, "Audit"). Found
/// by kind and day, then time (the key), and by account (an attribute the query filters on).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub kind: AuditKind,
    /// The function that decided (`quota-alarm`, `dlq-replay`, `prewarm`).
    pub function: String,
    /// The account acted in (or planned for).
    pub account: String,
    /// What it was about: an alarm, a queue, `sync`.
    pub subject: String,
    /// Seconds since the epoch.
    pub at: u64,
    /// When DynamoDB's TTL may delete the record.
    pub expires: u64,
    pub request_id: String,
    pub decision: String,
    pub reason: String,
    pub dry_run: bool,
    /// The whole outcome, as JSON (message bodies left out).
    pub outcome: String,
}

/// Which audit records to read: `since` to `until` (seconds since the epoch), of these kinds, in this
/// account when one is named.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditQuery {
    pub since: u64,
    pub until: u64,
    pub kinds: Vec<AuditKind>,
    pub account: Option<String>,
}

/// Reads the audit trail by time, kind and account, never by scanning the table.
pub trait AuditLog: Send + Sync {
    /// The records that match, newest first.
    fn query(
        &self,
        query: &AuditQuery,
    ) -> impl Future<Output = Result<Vec<AuditRecord>, LedgerError>> + Send;
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

/// An increase request selfheal filed, kept until its fate is told (`quota follow-up`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FiledRequest {
    pub request_id: String,
    pub account_id: String,
    pub region: String,
    /// The alarm (or notice) that led to the request.
    pub alarm_name: String,
    pub service_code: String,
    pub quota_code: String,
    pub quota_name: String,
    pub from_value: f64,
    pub desired_value: f64,
    /// Seconds since the epoch.
    pub filed_at: u64,
    /// The status last told about (a notice or an escalation went out for it).
    #[serde(default)]
    pub told: Option<String>,
}

/// The requests selfheal filed and has not closed: written when one is filed, read and updated by the
/// follow-up.
pub trait FiledRequests: Send + Sync {
    /// `PutItem`.
    fn record_filed(
        &self,
        request: &FiledRequest,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;

    /// Every request not yet closed (`Query`, every page).
    fn open_filed(&self) -> impl Future<Output = Result<Vec<FiledRequest>, LedgerError>> + Send;

    /// Keeps the request as it now is (`PutItem`), or forgets it once its fate is told (`DeleteItem`).
    fn update_filed(
        &self,
        request: &FiledRequest,
        closed: bool,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;
}

/// A raise selfheal decided but did not file: Service Quotas' request budget was full in its account
/// or Region. Kept (one per quota) until the follow-up files it or finds it no longer needed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaitingRaise {
    pub account_id: String,
    pub region: String,
    /// The alarm (or notice) that led to the raise.
    pub alarm_name: String,
    pub service_code: String,
    pub quota_code: String,
    pub quota_name: String,
    pub from_value: f64,
    pub desired_value: f64,
    pub support_case_allowed: bool,
    /// Usage as a percentage of the quota when the raise was decided, where known.
    #[serde(default)]
    pub utilization: Option<f64>,
    /// Days until usage reaches the quota, where a forecast knows.
    #[serde(default)]
    pub days_left: Option<f64>,
    /// Seconds since the epoch.
    pub queued_at: u64,
}

/// Raises waiting for a free request: written when the budget is full, read and emptied by the
/// follow-up.
pub trait WaitingRaises: Send + Sync {
    /// `PutItem`: one per quota, the latest decision replacing an earlier one.
    fn queue_raise(
        &self,
        raise: &WaitingRaise,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;

    /// Every waiting raise (`Query`, every page).
    fn waiting(&self) -> impl Future<Output = Result<Vec<WaitingRaise>, LedgerError>> + Send;

    /// `DeleteItem`: filed, or no longer needed.
    fn drop_waiting(
        &self,
        raise: &WaitingRaise,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;
}

/// Everything quota healing keeps.
pub trait QuotaLedger:
    Claims + Cooldowns + OpenEscalations + AuditTrail + FiledRequests + WaitingRaises
{
}

impl<T> QuotaLedger for T where
    T: Claims + Cooldowns + OpenEscalations + AuditTrail + FiledRequests + WaitingRaises
{
}

/// One input, acted on once (`crate::alarm::Transition`): before a run files or pages anything, it
/// claims the input's identity with a conditional write; a second delivery finds the claim and does
/// nothing. A run that fails releases its claim, so that Lambda's retry decides again.
pub trait Claims: Send + Sync {
    /// Claims `key` for `holder` (the invocation's request id) until `lease_until`, after which a run
    /// that died holding it no longer blocks the input; the claim is remembered until `expires`.
    /// `false`: another delivery holds it, or the input was decided already.
    fn claim(
        &self,
        key: &str,
        holder: &str,
        now: u64,
        lease_until: u64,
        expires: u64,
    ) -> impl Future<Output = Result<bool, LedgerError>> + Send;

    /// Just before acting: checks that the claim is still `holder`'s and writes the plan into it.
    /// `false`: another delivery took the claim over after its lease ran out.
    fn confirm_claim(
        &self,
        key: &str,
        holder: &str,
        plan: &str,
    ) -> impl Future<Output = Result<bool, LedgerError>> + Send;

    /// The input was decided (`decision`): every later delivery does nothing.
    fn settle_claim(
        &self,
        key: &str,
        holder: &str,
        decision: &str,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;

    /// The run failed: a retry may decide again.
    fn release_claim(
        &self,
        key: &str,
        holder: &str,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;
}
