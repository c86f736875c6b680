//! `template.yaml` gives the replay function exactly the queues and functions of `rules/replay.toml`.

use selfheal::rules::{DlqTarget, RuleSet};

fn replay_role(template: &str) -> &str {
    let start = template
        .find("  DlqReplayRole:")
        .expect("DlqReplayRole in template.yaml");
    let end = template[start..]
        .find("\n  DlqReplayFunction:")
        .expect("DlqReplayFunction after the role");
    &template[start..start + end]
}

#[test]
fn every_replayable_queue_and_function_is_granted_and_nothing_else() {
    let template =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml")).unwrap();
    let role = replay_role(&template);
    let rules = RuleSet::embedded().unwrap();
    let mut granted_queues: Vec<&str> = role
        .lines()
        .filter_map(|l| l.split(":sqs:${AWS::Region}:${AWS::AccountId}:").nth(1))
        .collect();
    granted_queues.sort();
    granted_queues.dedup();
    for rule in &rules.dlqs {
        assert!(
            granted_queues.contains(&rule.queue.as_str()),
            "{} is not granted",
            rule.queue
        );
        if let DlqTarget::Function { name, .. } = &rule.target {
            assert!(
                role.contains(&format!(":function:{name}")),
                "function {name} is not granted"
            );
        }
    }
    let named: Vec<&str> = rules.dlqs.iter().map(|r| r.queue.as_str()).collect();
    let extra: Vec<&&str> = granted_queues
        .iter()
        .filter(|q| !named.contains(q) && !["orders", "payments.fifo"].contains(q))
        .collect();
    assert!(extra.is_empty(), "granted but in no rule: {extra:?}");
    assert!(!role.contains("Resource: \"*\""), "no wildcard resource");
}
