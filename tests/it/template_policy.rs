//! `template.yaml` grants the replay and pre-warm functions the queues and functions of the rules by
//! tag (`selfheal:replay`, `selfheal:prewarm`), never by a name compiled into the template, and tags
//! selfheal's own queues and functions so that the shipped rules work.

use selfheal::rules::{DlqTarget, RuleSet};

/// The stack name rules/replay.toml assumes for selfheal's own queues and functions.
const STACK_NAME: &str = "selfheal";

fn template() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml")).unwrap()
}

/// Each `- Sid:` block of `role`.
fn statements(role: &str) -> Vec<&str> {
    role.split("- Sid: ").skip(1).collect()
}

/// Every statement granting one of `prefixes`' actions on a wildcard resource carries the tag
/// condition `tag` (with `value`), and none names a resource of its own but `allowed_names`.
fn granted_by_tag(role: &str, prefixes: &[&str], tag: &str, value: &str, allowed_names: &[&str]) {
    let mut tagged = 0;
    for statement in statements(role) {
        let sid = statement.lines().next().unwrap_or_default();
        let grants = statement.lines().any(|l| {
            prefixes
                .iter()
                .any(|p| l.trim().trim_start_matches("- ").starts_with(p))
        });
        if !grants || allowed_names.iter().any(|n| statement.contains(n)) {
            continue;
        }
        assert!(
            statement.contains(&format!("aws:ResourceTag/{tag}: {value}")),
            "{sid}: granted without the tag {tag} = {value}:\n{statement}"
        );
        let resources: Vec<&str> = statement
            .lines()
            .filter(|l| l.contains("arn:${AWS::Partition}:"))
            .collect();
        assert!(
            resources.iter().all(|r| r.trim_end().ends_with(":*")),
            "{sid}: a named resource instead of the tag: {resources:?}"
        );
        tagged += 1;
    }
    assert!(tagged > 0, "some statement grants by {tag}");
}

#[test]
fn replay_queues_and_functions_are_granted_by_tag_and_selfheals_own_are_tagged() {
    let template = template();
    let role = section(&template, "  DlqReplayRole:", "\n  DlqReplayFunction:");
    let reads = section(
        role,
        "- Sid: ReadAndDeleteDeadLetters",
        "- Sid: SendToSourceQueues",
    );
    assert!(
        reads.contains("aws:ResourceTag/selfheal:replay: source"),
        "{reads}"
    );
    let sends = section(
        role,
        "- Sid: SendToSourceQueues",
        "- Sid: ReinvokeFunctions",
    );
    assert!(
        sends.contains("aws:ResourceTag/selfheal:replay: target"),
        "{sends}"
    );
    granted_by_tag(
        role,
        &["lambda:GetFunctionConfiguration", "lambda:InvokeFunction"],
        "selfheal:replay",
        "target",
        // The one named resource: the function itself, to go on past its deadline.
        &["-dlq-replay"],
    );
    for prefix in ["sqs:"] {
        for statement in statements(role).iter().filter(|s| s.contains(prefix)) {
            assert!(
                statement.contains("aws:ResourceTag/selfheal:replay:"),
                "{statement}"
            );
        }
    }
    assert!(
        role.contains(":function:${AWS::StackName}-dlq-replay"),
        "the replay function may invoke itself to go on past its deadline"
    );
    assert!(!role.contains("Resource: \"*\""), "no wildcard resource");

    // The shipped rules name only selfheal's own queues and functions, which the template tags.
    let rules = RuleSet::embedded().unwrap();
    assert!(!rules.dlqs.is_empty());
    for rule in &rules.dlqs {
        let queue = rule.queue.replacen(STACK_NAME, "${AWS::StackName}", 1);
        let declared = section(&template, &format!("QueueName: !Sub {queue}\n"), "\n\n");
        assert!(
            declared.contains("Key: selfheal:replay") && declared.contains("Value: source"),
            "{} is not tagged as a source: {declared}",
            rule.queue
        );
        if let DlqTarget::Function { name, .. } = &rule.target {
            let function = name.replacen(STACK_NAME, "${AWS::StackName}", 1);
            let declared = section(
                &template,
                &format!("FunctionName: !Sub {function}\n"),
                "\n  # ",
            );
            assert!(
                declared.contains("selfheal:replay: target"),
                "{name} is not tagged as a target"
            );
        }
    }
}

#[test]
fn the_template_names_no_example_queue_or_function() {
    let template = template();
    let examples = RuleSet::embedded_overlaid(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/rules/examples"
    )))
    .unwrap();
    let mut names: Vec<String> = examples
        .prewarm
        .iter()
        .map(|r| r.function.clone())
        .collect();
    for rule in &examples.dlqs {
        if !rule.queue.starts_with(STACK_NAME) {
            names.push(rule.queue.clone());
        }
    }
    assert!(names.len() >= 4, "{names:?}");
    for name in &names {
        assert!(
            !template.contains(&format!(":{name}")) && !template.contains(&format!("\"{name}\"")),
            "template.yaml names the example {name}"
        );
    }
    assert!(
        RuleSet::embedded().unwrap().prewarm.is_empty(),
        "no shipped pre-warm target"
    );
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
fn the_prewarm_function_may_touch_only_tagged_functions_and_its_own_rules() {
    let template = template();
    let role = section(&template, "  PrewarmRole:", "\n  PrewarmFunction:");
    granted_by_tag(
        role,
        &[
            "lambda:GetFunctionConfiguration",
            "lambda:InvokeFunction",
            "lambda:AddPermission",
            "lambda:RemovePermission",
            "lambda:PutProvisionedConcurrencyConfig",
        ],
        "selfheal:prewarm",
        "\"true\"",
        &[],
    );
    let add = section(
        role,
        "- Sid: LetRulesInvokeWarmedFunctions",
        "- Sid: ReadScheduledActions",
    );
    assert!(
        add.contains("lambda:Principal: events.amazonaws.com"),
        "{add}"
    );
    // Rule writes are limited to the prefix; "*" only for ListRules and DescribeScheduledActions (no
    // ARN) and Application Auto Scaling's target and actions (an id drawn at registration), those
    // only for Lambda's provisioned concurrency.
    assert!(role.contains(":rule/selfheal-prewarm-*"));
    let scaling = section(
        role,
        "- Sid: ScheduleProvisionedConcurrency",
        "- Sid: ProvisionOnItsBehalf",
    );
    assert!(
        scaling.contains("application-autoscaling:service-namespace: lambda"),
        "{scaling}"
    );
    assert!(
        scaling.contains(
            "application-autoscaling:scalable-dimension: lambda:function:ProvisionedConcurrency"
        ),
        "{scaling}"
    );
    assert_eq!(role.matches("Resource: \"*\"").count(), 3);
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
