//! Queues deeper than one invocation: when the deadline comes with messages left, the function invokes
//! itself asynchronously with the same request and a count of what is done, at most
//! `maxContinuations` times (default 4, at most 10). Decided here as a value; `function.rs` sends it.
//!
//! This path rather than SQS's `StartMessageMoveTask`: a move task only serves DLQs whose sources are
//! SQS queues, cannot re-invoke a function, applies no filter, replay count or poison limit, and gives
//! redriven messages new ids (aws-sdk-sqs 1.119 `StartMessageMoveTask` documentation); a continuation
//! keeps every rule of the run that started it.

use super::request::{Continuation, ReplayRequest, DEFAULT_CONTINUATIONS};
use super::summary::ReplaySummary;
use serde::Serialize;

/// What became of the run's deadline, as the summary shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContinuationReport {
    /// The continuation that goes on (1 for the first).
    pub round: u32,
    /// Whether the next run was started.
    pub invoked: bool,
    /// Why not, when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// After a run: nothing to do, the request that goes on, or why the run may not go on.
#[derive(Clone, Debug, PartialEq)]
pub enum Next {
    Done,
    Continue(Box<ReplayRequest>),
    Stop { round: u32, reason: &'static str },
}

/// Whether and how a run goes on.
pub fn next_run(request: &ReplayRequest, summary: &ReplaySummary) -> Next {
    if summary.stopped_by != "deadline" || summary.remaining == Some(0) {
        return Next::Done;
    }
    let before = request.continuation.clone().unwrap_or_default();
    let round = before.round + 1;
    let stop = |reason| Next::Stop { round, reason };
    if request.dry_run {
        // A dry run leaves every message where it was: the next run would read the same ones.
        return stop("a dry run is not continued");
    }
    if request.keep_copy {
        // Delivered copies stay in the DLQ: the next run would deliver them again.
        return stop("a keepCopy run is not continued");
    }
    if before.round >= request.max_continuations.unwrap_or(DEFAULT_CONTINUATIONS) {
        return stop("maxContinuations reached");
    }
    let received_before = before.received_before + summary.received;
    if request.max.is_some_and(|max| received_before >= max) {
        return Next::Done;
    }
    Next::Continue(Box::new(ReplayRequest {
        continuation: Some(Continuation {
            round,
            received_before,
            replayed_before: before.replayed_before + summary.replayed,
        }),
        ..request.clone()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stopped(by: &str, received: u64, remaining: u64) -> ReplaySummary {
        ReplaySummary {
            stopped_by: by.into(),
            received,
            replayed: received,
            remaining: Some(remaining),
            ..Default::default()
        }
    }

    fn request(value: serde_json::Value) -> ReplayRequest {
        ReplayRequest::parse(&value).unwrap()
    }

    #[test]
    fn a_deadline_with_messages_left_goes_on_with_what_was_done() {
        let first = request(json!({"queue": "q", "max": 500}));
        let Next::Continue(second) = next_run(&first, &stopped("deadline", 200, 900)) else {
            panic!("expected a continuation");
        };
        assert_eq!(
            second.continuation,
            Some(Continuation {
                round: 1,
                received_before: 200,
                replayed_before: 200
            })
        );
        assert_eq!(second.max, Some(500), "max stays the whole request's");
        let Next::Continue(third) = next_run(&second, &stopped("deadline", 250, 650)) else {
            panic!("expected a second continuation");
        };
        assert_eq!(third.continuation.as_ref().unwrap().received_before, 450);
        assert_eq!(
            next_run(&third, &stopped("deadline", 50, 600)),
            Next::Done,
            "max reached"
        );
    }

    #[test]
    fn a_run_that_ended_otherwise_or_may_not_go_on_does_not() {
        let plain = request(json!({"queue": "q"}));
        assert_eq!(next_run(&plain, &stopped("empty", 10, 0)), Next::Done);
        assert_eq!(next_run(&plain, &stopped("deadline", 10, 0)), Next::Done);
        for (value, reason) in [
            (
                json!({"queue": "q", "dryRun": true}),
                "a dry run is not continued",
            ),
            (
                json!({"queue": "q", "keepCopy": true}),
                "a keepCopy run is not continued",
            ),
            (
                json!({"queue": "q", "maxContinuations": 0}),
                "maxContinuations reached",
            ),
            (
                json!({"queue": "q", "continuation": {"round": 4, "receivedBefore": 1, "replayedBefore": 1}}),
                "maxContinuations reached",
            ),
        ] {
            let next = next_run(&request(value.clone()), &stopped("deadline", 10, 5));
            assert!(
                matches!(next, Next::Stop { reason: r, .. } if r == reason),
                "{value}: {next:?}"
            );
        }
    }
}
