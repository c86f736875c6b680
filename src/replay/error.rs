//! Why a replay could not start, or had to stop.

use super::api::AwsCallError;
use crate::function_error::Retry;
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
    /// Whether the same request can succeed later: not when the request, the rules or the queue are
    /// wrong; yes when AWS or the ledger failed.
    pub fn retry(&self) -> Retry {
        match self {
            Self::InvalidRequest(_)
            | Self::QueueNotAllowed { .. }
            | Self::QueueElsewhere { .. }
            | Self::QueueMissing(_)
            | Self::TargetMissing(_)
            | Self::TargetAmbiguous(_) => Retry::Never,
            Self::Api(_) | Self::Ledger(_) => Retry::Later,
        }
    }

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
