//! Why a replay could not start, or had to stop.

use super::api::AwsCallError;
use crate::ledger::LedgerError;

/// Why a replay could not start, or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("queue {queue:?} is not a replayable DLQ in rules/ (allowed: {allowed})")]
    QueueNotAllowed { queue: String, allowed: String },
    #[error("queue {queue:?} is in {named}, but this function replays only {own}'s queues; nothing was moved")]
    QueueElsewhere {
        queue: String,
        named: String,
        own: String,
    },
    #[error("dead-letter queue {0:?} does not exist")]
    QueueMissing(String),
    #[error("target {0} does not exist; nothing was moved")]
    TargetMissing(String),
    #[error("{0}")]
    TargetAmbiguous(String),
    #[error(transparent)]
    Api(#[from] AwsCallError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

impl ReplayError {
    /// The `errorType` Lambda reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "InvalidRequest",
            Self::QueueNotAllowed { .. } | Self::QueueElsewhere { .. } => "QueueNotAllowed",
            Self::QueueMissing(_) => "QueueMissing",
            Self::TargetMissing(_) | Self::TargetAmbiguous(_) => "TargetMissing",
            Self::Api(_) => "AwsError",
            Self::Ledger(_) => "LedgerFailed",
        }
    }
}
