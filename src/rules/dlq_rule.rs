//! `[[dlq]]` rules: the dead-letter queues that may be replayed, and where their messages go back to.

use serde::Serialize;

/// Where the messages of a dead-letter queue go back to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DlqTarget {
    /// A Lambda function (a Lambda async DLQ), re-invoked asynchronously with the original body.
    Function {
        name: String,
        qualifier: Option<String>,
    },
    /// A queue named in the rule.
    Queue { name: String },
    /// The queue whose redrive policy names this DLQ (`ListDeadLetterSourceQueues`).
    SourceQueue,
    /// No target of its own: each message goes where it names (a Lambda on-failure record's
    /// function, an EventBridge DLQ message's target), when `allow_functions`/`allow_queues` name it.
    NamedInMessages,
}

/// A dead-letter queue that may be replayed, and its target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DlqRule {
    pub name: String,
    /// The DLQ's name.
    pub queue: String,
    pub target: DlqTarget,
    /// A message replayed this many times already is poison: it stays in the DLQ.
    pub max_replays: u32,
    /// Functions a message may name as its target besides the rule's own (`allow_functions`).
    pub allowed_functions: Vec<String>,
    /// Queues a message may name as its target besides the rule's own (`allow_queues`).
    pub allowed_queues: Vec<String>,
}
