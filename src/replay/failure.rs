//! Why a dead letter was not delivered: each code selfheal gives itself is a heading of
//! `runbooks/replay-failures.md` (a test checks it), and an AWS error code is kept as AWS named it.

/// One message's failure, as the summary counts it (`failure_reasons`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Failure {
    /// An earlier message of its FIFO group failed this run: it waits its turn in the DLQ.
    EarlierMessageOfGroupFailed,
    /// Over SQS's request size with its attributes.
    MessageTooLarge,
    /// `SendMessageBatch` answered without naming the entry in `Successful` or `Failed`.
    NotAcknowledged,
    /// No target in the message, and the rule has none of its own.
    NoTargetNamed,
    /// The target ARN a message names does not read as a function's or a queue's.
    TargetArnInvalid,
    /// The target a message names is of another account or Region.
    TargetInOtherAccountOrRegion,
    /// The target a message names is neither the rule's nor on its allow-lists.
    TargetNotAllowed,
    /// The target a message names is of a kind selfheal does not deliver to (a topic, a state machine).
    TargetNotReplayable,
    /// An on-failure invocation record without the event to replay.
    RecordWithoutRequestPayload,
    /// A Custom Event Bus subscriber's dead-letter record: it names the events, it does not carry them.
    CustomBusRecordWithoutEvent,
    /// The named function or queue does not exist.
    TargetMissing,
    /// An AWS error code that outlived the SDK's retries (`ThrottlingException`, `AccessDenied...`).
    Aws(String),
}

impl Failure {
    /// Every code of selfheal's own, for the runbook check.
    pub const OWN: [Failure; 11] = [
        Failure::EarlierMessageOfGroupFailed,
        Failure::MessageTooLarge,
        Failure::NotAcknowledged,
        Failure::NoTargetNamed,
        Failure::TargetArnInvalid,
        Failure::TargetInOtherAccountOrRegion,
        Failure::TargetNotAllowed,
        Failure::TargetNotReplayable,
        Failure::RecordWithoutRequestPayload,
        Failure::CustomBusRecordWithoutEvent,
        Failure::TargetMissing,
    ];

    /// The code as the summary and the runbook write it.
    pub fn slug(&self) -> &str {
        match self {
            Failure::EarlierMessageOfGroupFailed => "EarlierMessageOfGroupFailed",
            Failure::MessageTooLarge => "MessageTooLarge",
            Failure::NotAcknowledged => "NotAcknowledged",
            Failure::NoTargetNamed => "NoTargetNamed",
            Failure::TargetArnInvalid => "TargetArnInvalid",
            Failure::TargetInOtherAccountOrRegion => "TargetInOtherAccountOrRegion",
            Failure::TargetNotAllowed => "TargetNotAllowed",
            Failure::TargetNotReplayable => "TargetNotReplayable",
            Failure::RecordWithoutRequestPayload => "RecordWithoutRequestPayload",
            Failure::CustomBusRecordWithoutEvent => "CustomBusRecordWithoutEvent",
            Failure::TargetMissing => "TargetMissing",
            Failure::Aws(code) => code,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_of_our_own_is_a_heading_of_the_runbook() {
        let runbook = include_str!("../../runbooks/replay-failures.md");
        let headings: Vec<&str> = runbook
            .lines()
            .filter_map(|line| line.strip_prefix("### "))
            .map(str::trim)
            .collect();
        for failure in Failure::OWN {
            assert!(
                headings.contains(&failure.slug()),
                "runbooks/replay-failures.md has no heading `### {}`",
                failure.slug()
            );
        }
        assert!(
            headings.contains(&"AWS error codes"),
            "and one for the codes AWS names"
        );
        assert_eq!(
            Failure::Aws("ThrottlingException".into()).slug(),
            "ThrottlingException"
        );
    }
}
