//! An AWS call that failed after the SDK's retries, as the replay and pre-warm cores see it: the
//! operation, the error code AWS answered, and its message.

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{operation}: {code}: {message}")]
pub struct AwsCallError {
    pub operation: &'static str,
    pub code: String,
    pub message: String,
}

impl AwsCallError {
    /// The queue, function or provisioned-concurrency configuration named does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self.code.as_str(),
            "AWS.SimpleQueueService.NonExistentQueue"
                | "QueueDoesNotExist"
                | "ResourceNotFoundException"
                | "ProvisionedConcurrencyConfigNotFoundException"
        )
    }
}
