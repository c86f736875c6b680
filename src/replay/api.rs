//! The SQS and Lambda operations a replay needs, as small traits over plain data.

use serde::Serialize;
use std::collections::BTreeMap;
use std::future::Future;

/// What every call of these traits fails with.
pub use crate::AwsCallError;

/// A message attribute, as SQS carries it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Attribute {
    pub data_type: String,
    pub string_value: Option<String>,
    pub binary_value: Option<Vec<u8>>,
}

impl Attribute {
    pub fn string(value: &str) -> Self {
        Attribute {
            data_type: "String".into(),
            string_value: Some(value.into()),
            binary_value: None,
        }
    }

    pub fn number(value: &str) -> Self {
        Attribute {
            data_type: "Number".into(),
            string_value: Some(value.into()),
            binary_value: None,
        }
    }
}

/// A message received from the dead-letter queue.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DlqMessage {
    pub id: String,
    pub receipt_handle: String,
    pub body: String,
    /// System attributes: `SentTimestamp` and `MessageGroupId` (the ones the replay asks for).
    pub attributes: BTreeMap<String, String>,
    pub message_attributes: BTreeMap<String, Attribute>,
}

/// The attribute selfheal adds to count the replays of a message sent back to a queue.
pub const REPLAY_COUNT: &str = "selfheal-replay-count";

impl DlqMessage {
    pub fn age_seconds(&self, now_ms: u64) -> Option<u64> {
        let sent: u64 = self.attributes.get("SentTimestamp")?.parse().ok()?;
        Some(now_ms.saturating_sub(sent) / 1000)
    }

    pub fn group_id(&self) -> Option<&str> {
        self.attributes.get("MessageGroupId").map(String::as_str)
    }

    pub fn replay_count(&self) -> u32 {
        self.message_attributes
            .get(REPLAY_COUNT)
            .and_then(|a| a.string_value.as_deref())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }
}

/// A queue, resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QueueInfo {
    pub name: String,
    pub url: String,
    pub fifo: bool,
}

/// A message to send back to a queue.
#[derive(Clone, Debug, PartialEq)]
pub struct Outgoing {
    /// Batch entry id.
    pub id: String,
    pub body: String,
    pub message_attributes: BTreeMap<String, Attribute>,
    pub group_id: Option<String>,
    pub deduplication_id: Option<String>,
}

/// Per-entry outcome of a batch call: which entry ids worked, which failed and why.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchResult {
    pub ok: Vec<String>,
    pub failed: Vec<(String, String)>,
}

/// A receipt to delete or release.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub id: String,
    pub handle: String,
}

pub trait QueueApi: Send + Sync {
    /// `GetQueueUrl` and `GetQueueAttributes`.
    fn resolve(&self, name: &str) -> impl Future<Output = Result<QueueInfo, AwsCallError>> + Send;
    /// `ListDeadLetterSourceQueues`: URLs of the queues that use `dlq_url` as their DLQ.
    fn source_queues(
        &self,
        dlq_url: &str,
    ) -> impl Future<Output = Result<Vec<String>, AwsCallError>> + Send;
    /// `ReceiveMessage` with every message attribute and the system attributes the replay reads.
    fn receive(
        &self,
        url: &str,
        max: i32,
        visibility_secs: i32,
        wait_secs: i32,
    ) -> impl Future<Output = Result<Vec<DlqMessage>, AwsCallError>> + Send;
    fn send_batch(
        &self,
        url: &str,
        entries: &[Outgoing],
    ) -> impl Future<Output = Result<BatchResult, AwsCallError>> + Send;
    fn delete_batch(
        &self,
        url: &str,
        receipts: &[Receipt],
    ) -> impl Future<Output = Result<BatchResult, AwsCallError>> + Send;
    /// `ChangeMessageVisibilityBatch` to 0: the messages are visible in the DLQ again.
    fn release_batch(
        &self,
        url: &str,
        receipts: &[Receipt],
    ) -> impl Future<Output = Result<BatchResult, AwsCallError>> + Send;
    /// `ApproximateNumberOfMessages`: the messages visible now.
    fn visible(&self, url: &str) -> impl Future<Output = Result<u64, AwsCallError>> + Send;
    /// `ApproximateNumberOfMessages` plus `ApproximateNumberOfMessagesNotVisible`.
    fn depth(&self, url: &str) -> impl Future<Output = Result<u64, AwsCallError>> + Send;
}

pub trait FunctionApi: Send + Sync {
    /// `GetFunctionConfiguration`: whether the function (and qualifier) exists.
    fn exists(
        &self,
        name: &str,
        qualifier: Option<&str>,
    ) -> impl Future<Output = Result<bool, AwsCallError>> + Send;
    /// `Invoke` with `InvocationType=Event`.
    fn invoke_async(
        &self,
        name: &str,
        qualifier: Option<&str>,
        payload: &str,
    ) -> impl Future<Output = Result<(), AwsCallError>> + Send;
}
