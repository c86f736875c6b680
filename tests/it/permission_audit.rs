//! The permissions audit, both ways: every action a function's role grants is one its code calls (read
//! from the `impl` blocks of the AWS adapters it is built from), or one Lambda itself uses with the role
//! (logs, the on-failure queue); every action its code calls is granted; `"*"` appears only for
//! actions that take no resource ARN.

use std::collections::BTreeSet;

const TEMPLATE: &str = include_str!("../../template.yaml");

/// A policy statement: its Sid, actions and resource text.
struct Statement {
    sid: String,
    actions: Vec<String>,
    resource: String,
}

fn role_statements(template: &str, role: &str) -> Vec<Statement> {
    let start = template
        .find(&format!("\n  {role}:\n"))
        .unwrap_or_else(|| panic!("{role} in the template"));
    let rest = &template[start + 1..];
    // The role ends where the next top-level resource (two spaces, then a name) begins.
    let end = rest
        .match_indices("\n  ")
        .map(|(i, _)| i)
        .find(|&i| rest[i + 3..].starts_with(|c: char| c.is_ascii_alphabetic()))
        .unwrap_or(rest.len());
    let section = &rest[..end];
    section
        .split("- Sid: ")
        .skip(1)
        .map(|block| {
            let sid = block.lines().next().unwrap_or_default().trim().to_owned();
            let (before, resource) = block.split_once("Resource:").unwrap_or((block, ""));
            let actions = before
                .split_once("Action:")
                .map(|(_, a)| {
                    a.lines()
                        .map(|l| l.trim().trim_start_matches("- ").trim())
                        .filter(|l| l.contains(':') && !l.contains(' '))
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            Statement {
                sid,
                actions,
                resource: resource.to_owned(),
            }
        })
        .collect()
}

/// SDK operations called in an adapter file: `client` then `.operation(`.
fn operations(source: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (i, _) in source.match_indices("client") {
        let after = source[i + "client".len()..].trim_start();
        if let Some(call) = after.strip_prefix('.') {
            let name: String = call
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if call[name.len()..].starts_with("()") && !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// An adapter a function is built from: the IAM service prefix, the file in `src/aws/`, and the `impl`
/// blocks of it the function uses (`"Lambda"` for `impl Lambda {`, `"Cooldowns for DynamoLedger"`).
type Adapter<'a> = (&'a str, &'a str, &'a [&'a str]);

/// The text of `impl {header} {` up to the next top-level `impl`.
fn impl_block<'s>(source: &'s str, file: &str, header: &str) -> &'s str {
    let start = source
        .find(&format!("\nimpl {header} {{"))
        .unwrap_or_else(|| panic!("{file} has no `impl {header}`"));
    let rest = &source[start + 1..];
    let end = rest[1..].find("\nimpl ").map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

/// The IAM actions the code of these adapters can call.
fn called(adapters: &[Adapter<'_>]) -> BTreeSet<String> {
    let mut actions = BTreeSet::new();
    for (service, file, blocks) in adapters {
        let source =
            std::fs::read_to_string(format!("{}/src/aws/{file}", env!("CARGO_MANIFEST_DIR")))
                .unwrap();
        for operation in blocks
            .iter()
            .flat_map(|header| operations(impl_block(&source, file, header)))
        {
            let operation = pascal(&operation)
                .replace("Aws", "AWS")
                .replace("Invoke", "InvokeFunction");
            // Batch calls are authorised by their single action; PutRule with tags needs TagResource.
            let action = match operation.as_str() {
                "SendMessageBatch" => "SendMessage".to_owned(),
                "DeleteMessageBatch" => "DeleteMessage".to_owned(),
                "ChangeMessageVisibilityBatch" => "ChangeMessageVisibility".to_owned(),
                other => other.to_owned(),
            };
            if action == "PutRule" {
                actions.insert("events:TagResource".to_owned());
            }
            actions.insert(format!("{service}:{action}"));
        }
    }
    actions
}

/// Actions Lambda itself uses with a function's role.
const PLATFORM: &[(&str, &str)] = &[
    ("WriteOwnLogs", "logs:CreateLogStream"),
    ("WriteOwnLogs", "logs:PutLogEvents"),
    ("KeepFailedEvents", "sqs:SendMessage"),
];

/// Actions an AWS service takes with the role on the function's behalf, during a call it makes:
/// Service Quotas creates its service-linked role at the first `RequestServiceQuotaIncrease`.
/// Application Auto Scaling creates its service-linked role at the first `RegisterScalableTarget` of a
/// Lambda alias, and checks the caller's own Lambda permissions on the alias it scales.
const ON_ITS_BEHALF: &[(&str, &str)] = &[
    ("ServiceQuotasLinkedRole", "iam:CreateServiceLinkedRole"),
    ("AutoScalingLinkedRole", "iam:CreateServiceLinkedRole"),
    (
        "ProvisionOnItsBehalf",
        "lambda:PutProvisionedConcurrencyConfig",
    ),
    (
        "ProvisionOnItsBehalf",
        "lambda:DeleteProvisionedConcurrencyConfig",
    ),
    // GetServiceQuota reads an Elastic Load Balancing quota's value with the caller's permission.
    (
        "ServiceQuotasReadsServiceLimits",
        "elasticloadbalancing:DescribeAccountLimits",
    ),
];

/// Actions that take no resource ARN, for which IAM accepts only `"*"`.
const NO_RESOURCE_TYPE: &[&str] = &[
    "servicequotas:ListServiceQuotas",
    "servicequotas:ListAWSDefaultServiceQuotas",
    "servicequotas:GetAWSDefaultServiceQuota",
    "servicequotas:ListRequestedServiceQuotaChangeHistoryByQuota",
    "servicequotas:ListRequestedServiceQuotaChangeHistory",
    // Account-wide; that it takes no resource type is not verified in the Service Authorization
    // Reference.
    "servicequotas:GetAutoManagementConfiguration",
    "servicequotas:StartQuotaUtilizationReport",
    "servicequotas:GetQuotaUtilizationReport",
    "servicequotas:GetRequestedServiceQuotaChange",
    "events:ListRules",
    // Account-wide limits; that it takes no resource type is not verified in the Service Authorization
    // Reference.
    "elasticloadbalancing:DescribeAccountLimits",
    // A scalable target's ARN carries an id drawn at registration; these resource types are not
    // verified in the Service Authorization Reference.
    "application-autoscaling:DescribeScheduledActions",
    "application-autoscaling:RegisterScalableTarget",
    "application-autoscaling:DeregisterScalableTarget",
    "application-autoscaling:PutScheduledAction",
    "application-autoscaling:DeleteScheduledAction",
];

fn audit(role: &str, adapters: &[Adapter<'_>]) {
    audit_template(TEMPLATE, role, adapters);
}

fn audit_template(template: &str, role: &str, adapters: &[Adapter<'_>]) {
    let called = called(adapters);
    assert!(
        called.len() >= adapters.len(),
        "{role}: each adapter calls something: {called:?}"
    );
    let statements = role_statements(template, role);
    assert!(!statements.is_empty(), "{role} has statements");
    let granted: BTreeSet<&str> = statements
        .iter()
        .flat_map(|s| s.actions.iter().map(String::as_str))
        .collect();
    for action in &called {
        assert!(
            granted.contains(action.as_str()),
            "{role}: its code calls {action}, which the role does not grant (it grants {granted:?})"
        );
    }
    for statement in &statements {
        for action in &statement.actions {
            let granted_for = (statement.sid.as_str(), action.as_str());
            let platform = PLATFORM.contains(&granted_for) || ON_ITS_BEHALF.contains(&granted_for);
            assert!(
                platform || called.contains(action),
                "{role}/{}: grants {action}, which the function's code never calls (it calls {called:?})",
                statement.sid
            );
        }
        if statement.resource.contains("\"*\"") {
            for action in &statement.actions {
                assert!(
                    NO_RESOURCE_TYPE.contains(&action.as_str()),
                    "{role}/{}: {action} on \"*\", but it takes a resource ARN",
                    statement.sid
                );
            }
        }
    }
}

#[test]
fn the_quota_function_is_granted_exactly_what_it_calls() {
    audit(
        "QuotaAlarmRole",
        &[
            (
                "servicequotas",
                "service_quotas.rs",
                &[
                    "QuotaApi for ServiceQuotas",
                    "UtilizationReports for ServiceQuotas",
                ],
            ),
            ("sns", "sns.rs", &["SnsTopic"]),
            ("sts", "spokes.rs", &["SpokeAccess"]),
            (
                "dynamodb",
                "dynamodb.rs",
                &[
                    "Claims for DynamoLedger",
                    "Cooldowns for DynamoLedger",
                    "OpenEscalations for DynamoLedger",
                    "AuditTrail for DynamoLedger",
                    "FiledRequests for DynamoLedger",
                    "WaitingRaises for DynamoLedger",
                    "DynamoLedger",
                ],
            ),
        ],
    );
}

/// The spoke role grants what the hub's quota path calls in a spoke, nothing more: the sweep's
/// utilization report runs in the hub's own account only, so the spoke grants none of it.
#[test]
fn the_spoke_role_is_granted_exactly_what_the_hub_calls_in_a_spoke() {
    audit_template(
        include_str!("../../spoke/template.yaml"),
        "SpokeRole",
        &[(
            "servicequotas",
            "service_quotas.rs",
            &["QuotaApi for ServiceQuotas"],
        )],
    );
}

#[test]
fn the_replay_function_is_granted_exactly_what_it_calls() {
    audit(
        "DlqReplayRole",
        &[
            ("sqs", "sqs.rs", &["QueueApi for Sqs"]),
            ("lambda", "lambda.rs", &["Lambda", "FunctionApi for Lambda"]),
            (
                "dynamodb",
                "dynamodb.rs",
                &[
                    "ReplayCounts for DynamoLedger",
                    "AuditTrail for DynamoLedger",
                ],
            ),
            ("sns", "sns.rs", &["SnsTopic"]),
        ],
    );
}

#[test]
fn the_prewarm_function_is_granted_exactly_what_it_calls() {
    audit(
        "PrewarmRole",
        &[
            ("events", "eventbridge.rs", &["RuleApi for EventBridge"]),
            ("lambda", "lambda.rs", &["Lambda"]),
            ("lambda", "lambda_warm.rs", &["WarmApi for Lambda"]),
            (
                "application-autoscaling",
                "autoscaling.rs",
                &["ScalingApi for AutoScaling"],
            ),
            ("sns", "sns.rs", &["SnsTopic"]),
            ("dynamodb", "dynamodb.rs", &["AuditTrail for DynamoLedger"]),
        ],
    );
}

#[test]
fn each_role_is_read_to_its_end_and_no_further() {
    let sids = |role| -> Vec<String> {
        role_statements(TEMPLATE, role)
            .into_iter()
            .map(|s| s.sid)
            .collect()
    };
    assert_eq!(
        sids("QuotaAlarmRole"),
        [
            "WriteOwnLogs",
            "ReadAndRaiseQuotas",
            "ListQuotasAndRequests",
            "ServiceQuotasLinkedRole",
            "ServiceQuotasReadsServiceLimits",
            "Escalate",
            "AssumeSpokeRoles",
            "Ledger",
            "KeepFailedEvents"
        ]
    );
    assert_eq!(sids("PrewarmRole").last().unwrap(), "KeepFailedEvents");
}

const BAD_ROLE: &str = "Resources:
  BadRole:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyDocument:
            Statement:
              - Sid: Escalate
                Effect: Allow
                Action:
                  - sns:Publish
                  - sns:DeleteTopic
                Resource: !Ref EscalationTopic
  Next:
    Type: AWS::SNS::Topic
";

#[test]
fn the_audit_catches_an_action_the_code_never_calls() {
    let adapters: [Adapter<'_>; 1] = [("sns", "sns.rs", &["SnsTopic"])];
    let caught = std::panic::catch_unwind(|| audit_template(BAD_ROLE, "BadRole", &adapters));
    assert!(caught.is_err(), "sns:DeleteTopic passed the audit");
    let fixed = BAD_ROLE.replace("                  - sns:DeleteTopic\n", "");
    audit_template(&fixed, "BadRole", &adapters);
    let wildcard = fixed.replace("Resource: !Ref EscalationTopic", "Resource: \"*\"");
    let caught = std::panic::catch_unwind(|| audit_template(&wildcard, "BadRole", &adapters));
    assert!(caught.is_err(), "sns:Publish on \"*\" passed the audit");
}

#[test]
fn the_quota_function_may_create_only_service_quotas_linked_role() {
    let statement = role_statements(TEMPLATE, "QuotaAlarmRole")
        .into_iter()
        .find(|s| s.sid == "ServiceQuotasLinkedRole")
        .expect("the quota role grants iam:CreateServiceLinkedRole");
    assert_eq!(statement.actions, ["iam:CreateServiceLinkedRole"]);
    assert!(
        statement
            .resource
            .contains("role/aws-service-role/servicequotas.amazonaws.com/"),
        "{}",
        statement.resource
    );
    assert!(
        statement
            .resource
            .contains("iam:AWSServiceName: servicequotas.amazonaws.com"),
        "the grant is conditioned on the service name: {}",
        statement.resource
    );
}

#[test]
fn the_audit_catches_a_call_the_role_does_not_grant() {
    let adapters: [Adapter<'_>; 2] = [
        ("sns", "sns.rs", &["SnsTopic"]),
        ("dynamodb", "dynamodb.rs", &["AuditTrail for DynamoLedger"]),
    ];
    let template = BAD_ROLE.replace("                  - sns:DeleteTopic\n", "");
    let caught = std::panic::catch_unwind(|| audit_template(&template, "BadRole", &adapters));
    assert!(
        caught.is_err(),
        "dynamodb:PutItem is called but not granted, and passed"
    );
    let granted = template.replace(
        "                  - sns:Publish\n",
        "                  - sns:Publish\n                  - dynamodb:PutItem\n",
    );
    audit_template(&granted, "BadRole", &adapters);
}
