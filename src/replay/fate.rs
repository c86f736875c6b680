//! What becomes of one received message, decided as a value before anything is sent: the pure half
//! of the replay loop (`engine.rs` reads, `run.rs` keeps the books of each fate, `engine.rs` sends).
//! Where it goes, what is sent and whether its attributes go with it are decided here too.

use super::api::DlqMessage;
use super::dead_letter::{DeadLetter, Destination, Shape};
use super::failure::Failure;
use super::filter::filtered_out;
use super::request::ReplayRequest;

/// A message's way back: where, what, and with which attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Routed {
    pub destination: Destination,
    /// The body, or an on-failure record's `requestPayload`.
    pub payload: String,
    /// Not the attributes EventBridge added to a dead letter (`RULE_ARN`, `ERROR_CODE`, ...), which
    /// the original event never had.
    pub keep_attributes: bool,
    /// Replays before this one (the ledger's count for a function, the message's attribute for a queue).
    pub replays: u32,
}

/// One message's fate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MessageFate {
    /// SQS handed it out a second time this run: released, counted once.
    Duplicate,
    /// The request's filter leaves it in the DLQ, for this reason.
    Filtered(&'static str),
    /// Replayed as often as the rule allows already: left in the DLQ.
    Poison,
    /// An earlier message of its FIFO group could not be delivered this run: it waits its turn.
    GroupBlocked,
    /// It cannot go anywhere the rule allows, or carries nothing to send: it stays, failed.
    Unroutable(Failure),
    /// A dry run: it would go this way.
    WouldDeliver(Routed),
    /// Deliver it this way.
    Deliver(Routed),
}

/// What is known of a message when its fate is decided.
pub struct MessageFacts<'a> {
    pub message: &'a DlqMessage,
    pub letter: &'a DeadLetter,
    pub request: &'a ReplayRequest,
    /// Where the rule lets it go (`dead_letter::route`), or why nowhere.
    pub route: &'a Result<Destination, Failure>,
    /// Its id was seen earlier in this run.
    pub seen_before: bool,
    /// An earlier message of its FIFO group failed this run.
    pub group_blocked: bool,
    /// Replays so far (the ledger's count for a function, the message's attribute for a queue).
    pub replays: u32,
    pub max_replays: u32,
    /// Wall clock, for the message's age.
    pub now_ms: u64,
}

/// Duplicate, filtered, poison, blocked by its group, unroutable, then delivered (or, in a dry run,
/// not).
pub fn message_fate(facts: &MessageFacts<'_>) -> MessageFate {
    if facts.seen_before {
        return MessageFate::Duplicate;
    }
    if let Some(reason) = filtered_out(
        &facts.request.filter,
        facts.message,
        facts.letter,
        facts.now_ms,
    ) {
        return MessageFate::Filtered(reason);
    }
    if facts.replays >= facts.max_replays {
        return MessageFate::Poison;
    }
    if facts.group_blocked {
        return MessageFate::GroupBlocked;
    }
    let routed = match (facts.route, &facts.letter.payload) {
        (Ok(destination), Ok(payload)) => Routed {
            destination: destination.clone(),
            payload: payload.clone(),
            keep_attributes: facts.letter.shape != Shape::EventBridgeDlq,
            replays: facts.replays,
        },
        // Nothing to deliver is the first thing to say of a message, wherever it would have gone.
        (_, Err(failure)) | (Err(failure), _) => return MessageFate::Unroutable(failure.clone()),
    };
    if facts.request.dry_run {
        MessageFate::WouldDeliver(routed)
    } else {
        MessageFate::Deliver(routed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(body: &str) -> DlqMessage {
        DlqMessage {
            id: "m-1".into(),
            receipt_handle: "r-1".into(),
            body: body.into(),
            ..Default::default()
        }
    }

    fn fate(
        request: serde_json::Value,
        seen_before: bool,
        group_blocked: bool,
        replays: u32,
    ) -> MessageFate {
        let request = ReplayRequest::parse(&request).unwrap();
        let message = message(r#"{"order": 7}"#);
        message_fate(&MessageFacts {
            letter: &crate::replay::dead_letter::read_dead_letter(&message),
            message: &message,
            request: &request,
            route: &Ok(Destination::RuleTarget),
            seen_before,
            group_blocked,
            replays,
            max_replays: 3,
            now_ms: 0,
        })
    }

    #[test]
    fn a_fresh_message_is_delivered_with_its_replay_count() {
        assert_eq!(
            fate(json!({"queue": "q"}), false, false, 2),
            MessageFate::Deliver(Routed {
                destination: Destination::RuleTarget,
                payload: r#"{"order": 7}"#.into(),
                keep_attributes: true,
                replays: 2,
            })
        );
    }

    #[test]
    fn a_message_with_nowhere_to_go_fails_before_anything_is_sent() {
        let request = ReplayRequest::parse(&json!({"queue": "q"})).unwrap();
        let message = message(r#"{"order": 7}"#);
        let letter = crate::replay::dead_letter::read_dead_letter(&message);
        let facts = |route| MessageFacts {
            letter: &letter,
            message: &message,
            request: &request,
            route,
            seen_before: false,
            group_blocked: false,
            replays: 0,
            max_replays: 3,
            now_ms: 0,
        };
        assert_eq!(
            message_fate(&facts(&Err(Failure::TargetNotAllowed))),
            MessageFate::Unroutable(Failure::TargetNotAllowed)
        );
        // Poison and a blocked group are told before the route: they stay whatever their target.
        let poison = MessageFacts {
            replays: 3,
            ..facts(&Err(Failure::NoTargetNamed))
        };
        assert_eq!(message_fate(&poison), MessageFate::Poison);
    }

    #[test]
    fn a_dry_run_delivers_nothing() {
        assert_eq!(
            fate(json!({"queue": "q", "dryRun": true}), false, false, 0),
            MessageFate::WouldDeliver(Routed {
                destination: Destination::RuleTarget,
                payload: r#"{"order": 7}"#.into(),
                keep_attributes: true,
                replays: 0,
            })
        );
    }

    #[test]
    fn a_duplicate_is_counted_before_anything_else() {
        assert_eq!(
            fate(json!({"queue": "q", "dryRun": true}), true, true, 9),
            MessageFate::Duplicate
        );
    }

    #[test]
    fn the_filter_comes_before_the_replay_limit() {
        let filtered = fate(
            json!({"queue": "q", "filter": {"bodyContains": "invoice"}}),
            false,
            false,
            9,
        );
        assert!(matches!(filtered, MessageFate::Filtered(_)), "{filtered:?}");
    }

    #[test]
    fn a_message_replayed_too_often_stays_and_a_blocked_group_waits() {
        assert_eq!(
            fate(json!({"queue": "q"}), false, false, 3),
            MessageFate::Poison
        );
        assert_eq!(
            fate(json!({"queue": "q"}), false, true, 0),
            MessageFate::GroupBlocked
        );
    }
}
