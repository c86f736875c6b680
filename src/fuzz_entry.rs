//! One entry point per fuzz target, called by the target (`fuzz/fuzz_targets/`) and by the test that
//! runs the seed corpus on every `cargo test`, so that both exercise the same code. Each returns
//! whether the input was accepted; none may panic, whatever the bytes.

#![doc(hidden)]

use crate::rules::RuleSet;
use serde_json::Value;

fn json(data: &[u8]) -> Option<Value> {
    serde_json::from_slice(data).ok()
}

/// The quota function's input: any JSON, as one of the three alarm event shapes.
pub fn alarm_event(data: &[u8]) -> bool {
    json(data).is_some_and(|event| crate::alarm::parse_alarm_event(&event).is_ok())
}

/// The replay function's console request; and the same bytes as a dead letter's body, read for its
/// shape, payload and named target, then routed under a rule that allows one function and one queue.
pub fn replay_request(data: &[u8]) -> bool {
    use crate::replay::dead_letter::{read_dead_letter, route, OwnScope};
    let routed = std::str::from_utf8(data).is_ok_and(|body| {
        let message = crate::replay::api::DlqMessage {
            body: body.to_owned(),
            ..Default::default()
        };
        let rule = crate::rules::DlqRule {
            name: "fuzz".into(),
            queue: "fuzz-dlq".into(),
            target: crate::rules::DlqTarget::Function {
                name: "my-function".into(),
                qualifier: None,
            },
            max_replays: 3,
            allowed_functions: vec!["other".into()],
            allowed_queues: vec!["orders".into()],
        };
        let scope = OwnScope {
            account_id: Some("123456789012".into()),
            region: Some("us-east-2".into()),
        };
        route(&read_dead_letter(&message), &rule, &scope).is_ok()
    });
    let request =
        json(data).is_some_and(|event| crate::replay::ReplayRequest::parse(&event).is_ok());
    request || routed
}

/// The pre-warm function's events, and the guard's ping test on any event.
pub fn prewarm_event(data: &[u8]) -> bool {
    json(data).is_some_and(|event| {
        let ping = crate::prewarm::guard::is_ping(&event, "isPrewarm");
        crate::prewarm::event::classify(&event).is_ok() || ping
    })
}

/// A rules file, and the same text as a schedule expression.
pub fn rules(data: &[u8]) -> bool {
    std::str::from_utf8(data).is_ok_and(|text| {
        let schedule = crate::rules::schedule::Schedule::parse(text).is_ok();
        let rules = RuleSet::from_sources(
            &[("fuzz.toml", text)],
            &["not-adjustable", "lambda-concurrency"],
        )
        .is_ok();
        rules || schedule
    })
}
