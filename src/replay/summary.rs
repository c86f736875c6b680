//! What a replay did, as the console and the command line show it.

use serde::Serialize;
use std::collections::BTreeMap;

/// A few messages of a dry run, bodies cut short.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewMessage {
    pub message_id: String,
    /// `lambdaDlq`, `onFailureRecord`, `eventBridgeDlq` or `plain`.
    pub shape: String,
    /// Where it would go.
    pub target: String,
    pub error_code: Option<String>,
    pub age_seconds: Option<u64>,
    pub body: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplaySummary {
    pub queue: String,
    /// `function:<name>[:<qualifier>]`, `queue:<name>`, or `named in messages`.
    pub target: String,
    pub dry_run: bool,
    pub keep_copy: bool,
    /// Messages received from the DLQ this run (duplicates excluded).
    pub received: u64,
    /// Received messages by dead-letter shape.
    pub shapes: BTreeMap<String, u64>,
    /// Replayed messages by target (`function:<name>`, `queue:<name>`).
    pub targets: BTreeMap<String, u64>,
    /// Delivered to the target (and, unless `keepCopy`, deleted from the DLQ). In a dry run: would be.
    pub replayed: u64,
    /// Delivered but the delete failed: still in the DLQ, so a later run may deliver it again.
    pub delivered_not_deleted: u64,
    pub failed: u64,
    pub failure_reasons: BTreeMap<String, u64>,
    pub skipped_by_filter: u64,
    pub skipped_reasons: BTreeMap<String, u64>,
    /// Replayed `maxReplays` times already: left in the DLQ.
    pub poison: u64,
    /// The same message handed out twice by SQS during the run.
    pub duplicates: u64,
    /// Messages in the DLQ when the run ended (visible and in flight).
    pub remaining: Option<u64>,
    pub error_codes: BTreeMap<String, u64>,
    pub oldest_age_seconds: Option<u64>,
    pub newest_age_seconds: Option<u64>,
    /// `empty`, `max` or `deadline`.
    pub stopped_by: String,
    /// When the deadline came with messages left: the run that goes on (`continuation.rs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continued_by: Option<super::continuation::ContinuationReport>,
    pub duration_ms: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub preview: Vec<PreviewMessage>,
}
