//! `template.yaml` gives the replay function exactly the queues and functions of `rules/replay.toml`.

use selfheal::rules::{DlqTarget, RuleSet};

/// The stack name rules/replay.toml assumes for selfheal's own queues and functions.
const STACK_NAME: &str = "selfheal";

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
    let role = replay_role(&template).replace("${AWS::StackName}", STACK_NAME);
    let role = role.as_str();
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
    for rule in &rules.dlqs {
        for name in &rule.allowed_functions {
            assert!(
                role.contains(&format!(":function:{name}")),
                "allowed function {name} is not granted"
            );
        }
        for name in &rule.allowed_queues {
            assert!(
                granted_queues.contains(&name.as_str()),
                "allowed queue {name} is not granted"
            );
        }
    }
    assert!(
        role.contains(&format!(":function:{STACK_NAME}-dlq-replay\n")),
        "the replay function may invoke itself to go on past its deadline"
    );
    assert!(!role.contains("Resource: \"*\""), "no wildcard resource");
}

fn section<'a>(template: &'a str, from: &str, to: &str) -> &'a str {
    let start = template
        .find(from)
        .unwrap_or_else(|| panic!("{from} in template.yaml"));
    let end = template[start..]
        .find(to)
        .unwrap_or_else(|| panic!("{to} after {from}"));
    &template[start..start + end]
}

#[test]
fn the_prewarm_function_may_touch_only_the_configured_functions_and_its_own_rules() {
    let template =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml")).unwrap();
    let role = section(&template, "  PrewarmRole:", "\n  PrewarmFunction:");
    let rules = RuleSet::embedded().unwrap();
    let mut granted: Vec<&str> = role
        .lines()
        .filter_map(|l| l.split(":function:").nth(1))
        .map(|f| f.trim_end_matches(":*"))
        .collect();
    granted.sort();
    granted.dedup();
    let mut configured: Vec<&str> = rules.prewarm.iter().map(|r| r.function.as_str()).collect();
    configured.sort();
    configured.dedup();
    assert_eq!(
        granted, configured,
        "the policy's functions are those of rules/prewarm.toml"
    );
    for function in &configured {
        assert!(
            role.contains(&format!(":function:{function}:*")),
            "{function}'s aliases and versions (qualifiers) are granted"
        );
    }
    // Rule writes are limited to the prefix; "*" only for ListRules (no ARN) and Application Auto
    // Scaling's target and actions (an id drawn at registration).
    assert!(role.contains(":rule/selfheal-prewarm-*"));
    let wildcard = section(
        role,
        "- Sid: ListRules",
        "- Sid: PingAndPermitWarmedFunctions",
    );
    assert!(wildcard.contains("Action: events:ListRules"));
    let scaling = section(
        role,
        "- Sid: ScheduleProvisionedConcurrency",
        "- Sid: ProvisionOnItsBehalf",
    );
    assert!(scaling.contains("Resource: \"*\""));
    assert!(scaling
        .lines()
        .filter(|l| l.trim_start().starts_with("- ") && !l.contains("Sid"))
        .all(|l| l.contains("application-autoscaling:")));
    assert_eq!(role.matches("Resource: \"*\"").count(), 2);
    let prefix = section(&template, "SELFHEAL_PREWARM_PREFIX:", "\n");
    assert!(prefix.contains(selfheal::prewarm::desired::DEFAULT_PREFIX));
}

/// The spoke role trusts the hub's quota function role alone, within the organization; the hub's bus
/// takes events from the organization alone; the role is created in one Region (IAM is global, a
/// StackSet deploys to many).
#[test]
fn the_spoke_role_and_the_hub_bus_are_bound_to_the_organization() {
    let spoke = include_str!("../../spoke/template.yaml");
    let role = section(spoke, "\n  SpokeRole:\n", "\n  ForwardRole:\n");
    assert!(role.contains("Condition: CreatesRole"), "{role}");
    assert!(role.contains("AWS: !Ref HubFunctionRoleArn"), "{role}");
    assert!(
        role.contains("aws:PrincipalOrgID: !Ref OrganizationId"),
        "{role}"
    );
    assert!(!role.contains("Principal: \"*\""), "{role}");
    let forward = section(
        spoke,
        "\n  ForwardQuotaAlarms:\n",
        "\n  ForwardThresholdEvents:\n",
    );
    assert!(
        forward.contains("RoleArn: !GetAtt ForwardRole.Arn"),
        "{forward}"
    );
    assert!(
        forward.contains("alarmName: [{prefix: !Ref AlarmNamePrefix}]"),
        "{forward}"
    );

    let hub = include_str!("../../template.yaml");
    let policy = section(hub, "\n  HubEventBusPolicy:\n", "\n  HubSpokeEventsRule:\n");
    assert!(policy.contains("Action: events:PutEvents"), "{policy}");
    assert!(
        policy.contains("aws:PrincipalOrgID: !Ref OrganizationId"),
        "{policy}"
    );
    let assume = section(hub, "- Sid: AssumeSpokeRoles", "- Sid: Ledger");
    assert!(
        assume.contains("role/${SpokeRoleName}"),
        "the hub may assume the spoke role only: {assume}"
    );
}
