//! What kind of dead letter a message is, what it carries back, and where it may go: read from the
//! message alone, before anything is sent (pure).
//!
//! Shapes, as AWS documents them:
//! - Lambda asynchronous DLQ: the body is the event; attributes `RequestID` (String), `ErrorCode`
//!   (Number), `ErrorMessage` (String) (Lambda developer guide, "Adding a dead-letter queue").
//! - Lambda on-failure destination: an invocation record `{version, timestamp, requestContext
//!   {requestId, functionArn, condition, approximateInvokeCount}, requestPayload, responseContext
//!   {statusCode, executedVersion, functionError}, responsePayload}`; the event is `requestPayload`
//!   (Lambda developer guide, "Capturing records of Lambda asynchronous invocations").
//! - EventBridge rule-target DLQ: the body is the event; attributes `RULE_ARN`, `TARGET_ARN`,
//!   `ERROR_CODE`, `ERROR_MESSAGE` (EventBridge user guide, "Event retry policy and using dead-letter
//!   queues").
//! - EventBridge Custom Event Bus subscriber (event-busv2) dead-letter queue: "The record is a JSON
//!   document, not the event" `{version, busArn, subscriberArn, targetArn, errorCode, errorMessage,
//!   exhaustedRetryCondition, retryAttempts, failedMessages [{eventId, eventGroupId, deduplicationId,
//!   timestamp, targetRequestId}]}` (EventBridge user guide, "Retry policies and dead-letter queues",
//!   the dead-letter record); `failedMessages` "does not carry the payload" (AWS's own EventBridge
//!   skill, aws/agent-toolkit-for-aws, delivery-troubleshooting.md). Nothing in it can be delivered:
//!   it stays in the DLQ, counted under its own failure (`CustomBusRecordWithoutEvent`).
//! - Anything else (an SQS queue's DLQ): the body is the message.

use super::api::DlqMessage;
use super::failure::Failure;
use crate::rules::{DlqRule, DlqTarget};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The kind of dead letter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Shape {
    LambdaDlq,
    OnFailureRecord,
    EventBridgeDlq,
    CustomBusRecord,
    Plain,
}

impl Shape {
    pub fn label(self) -> &'static str {
        match self {
            Shape::LambdaDlq => "lambdaDlq",
            Shape::OnFailureRecord => "onFailureRecord",
            Shape::EventBridgeDlq => "eventBridgeDlq",
            Shape::CustomBusRecord => "customBusRecord",
            Shape::Plain => "plain",
        }
    }
}

/// One message read as a dead letter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    pub shape: Shape,
    /// What is delivered again (the body, or a record's `requestPayload` byte for byte), or why
    /// nothing can be.
    pub payload: Result<String, Failure>,
    /// The error codes the message carries, most specific first: the `errorCode` filter matches any.
    pub error_codes: Vec<String>,
    /// The target the message names: a record's `functionArn`, an EventBridge `TARGET_ARN`.
    pub named_target: Option<String>,
}

impl DeadLetter {
    /// The codes as one label for the summary, such as `RetriesExhausted / Unhandled`.
    pub fn error_label(&self) -> Option<String> {
        (!self.error_codes.is_empty()).then(|| self.error_codes.join(" / "))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InvocationRecord<'a> {
    #[serde(borrow)]
    request_context: RequestContext<'a>,
    #[serde(borrow, default)]
    request_payload: Option<&'a RawValue>,
    #[serde(default)]
    response_context: Option<ResponseContext>,
    #[serde(borrow, default)]
    response_payload: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestContext<'a> {
    function_arn: &'a str,
    condition: String,
    // Required so that an event that merely has a `requestContext` (API Gateway's) is not taken
    // for a record.
    #[allow(dead_code)]
    request_id: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResponseContext {
    #[serde(default)]
    function_error: Option<String>,
}

/// A Custom Event Bus subscriber's dead-letter record: the fields that tell it from an event.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CustomBusRecord {
    // Required, with `failedMessages`, so that an event merely carrying a `busArn` is not taken
    // for a record.
    #[allow(dead_code)]
    bus_arn: String,
    #[allow(dead_code)]
    subscriber_arn: String,
    #[serde(default)]
    target_arn: Option<String>,
    #[serde(default)]
    error_code: Option<String>,
    failed_messages: Vec<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorPayload {
    #[serde(default)]
    error_type: Option<String>,
}

fn string_attribute(message: &DlqMessage, name: &str) -> Option<String> {
    message
        .message_attributes
        .get(name)?
        .string_value
        .clone()
        .filter(|v| !v.is_empty())
}

/// Reads a message's shape, payload, error codes and named target.
pub fn read_dead_letter(message: &DlqMessage) -> DeadLetter {
    if let Some(target) = string_attribute(message, "TARGET_ARN") {
        if message.message_attributes.contains_key("RULE_ARN") {
            return DeadLetter {
                shape: Shape::EventBridgeDlq,
                payload: Ok(message.body.clone()),
                error_codes: string_attribute(message, "ERROR_CODE")
                    .into_iter()
                    .collect(),
                named_target: Some(target),
            };
        }
    }
    if message.message_attributes.contains_key("RequestID")
        || message.message_attributes.contains_key("ErrorCode")
    {
        return DeadLetter {
            shape: Shape::LambdaDlq,
            payload: Ok(message.body.clone()),
            error_codes: string_attribute(message, "ErrorCode").into_iter().collect(),
            named_target: None,
        };
    }
    if let Ok(record) = serde_json::from_str::<CustomBusRecord>(&message.body) {
        return DeadLetter {
            shape: Shape::CustomBusRecord,
            payload: Err(Failure::CustomBusRecordWithoutEvent),
            error_codes: record
                .error_code
                .filter(|code| !code.is_empty())
                .into_iter()
                .collect(),
            named_target: record
                .target_arn
                .filter(|_| !record.failed_messages.is_empty()),
        };
    }
    if let Ok(record) = serde_json::from_str::<InvocationRecord<'_>>(&message.body) {
        let error_type = record
            .response_payload
            .and_then(|p| serde_json::from_str::<ErrorPayload>(p.get()).ok())
            .and_then(|p| p.error_type);
        let function_error = record.response_context.and_then(|c| c.function_error);
        let mut error_codes = Vec::new();
        for code in [
            Some(record.request_context.condition),
            error_type,
            function_error,
        ]
        .into_iter()
        .flatten()
        {
            if !code.is_empty() && !error_codes.contains(&code) {
                error_codes.push(code);
            }
        }
        return DeadLetter {
            shape: Shape::OnFailureRecord,
            payload: record
                .request_payload
                .map(|p| p.get().to_owned())
                .ok_or(Failure::RecordWithoutRequestPayload),
            error_codes,
            named_target: Some(record.request_context.function_arn.to_owned()),
        };
    }
    DeadLetter {
        shape: Shape::Plain,
        payload: Ok(message.body.clone()),
        error_codes: Vec::new(),
        named_target: None,
    }
}

/// Where a dead letter goes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Destination {
    /// The rule's own function or queue.
    RuleTarget,
    /// A function the message names and the rule allows.
    Function {
        name: String,
        qualifier: Option<String>,
    },
    /// A queue the message names and the rule allows.
    Queue { name: String },
}

/// The account and Region the replay acts in: a message naming a target elsewhere is refused.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnScope {
    pub account_id: Option<String>,
    pub region: Option<String>,
}

impl OwnScope {
    fn holds(&self, region: &str, account_id: &str) -> bool {
        self.region.as_deref().is_none_or(|r| r == region)
            && self.account_id.as_deref().is_none_or(|a| a == account_id)
    }
}

/// Where the rule lets this dead letter go, or why it may not go anywhere. Nothing read from a
/// message steers it outside the rule: a named target is used only when it is the rule's own target
/// or on the rule's allow-list, in this account and Region.
pub fn route(
    letter: &DeadLetter,
    rule: &DlqRule,
    scope: &OwnScope,
) -> Result<Destination, Failure> {
    let Some(arn) = &letter.named_target else {
        return match rule.target {
            DlqTarget::NamedInMessages => Err(Failure::NoTargetNamed),
            _ => Ok(Destination::RuleTarget),
        };
    };
    // arn:partition:service:region:account:resource
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, _, service, region, account_id, resource] = parts[..] else {
        return Err(Failure::TargetArnInvalid);
    };
    match service {
        "lambda" => {
            let mut pieces = resource.split(':');
            let (Some("function"), Some(name)) = (pieces.next(), pieces.next()) else {
                return Err(Failure::TargetArnInvalid);
            };
            if !scope.holds(region, account_id) {
                return Err(Failure::TargetInOtherAccountOrRegion);
            }
            let qualifier = pieces.next().filter(|q| *q != "$LATEST").map(str::to_owned);
            match &rule.target {
                DlqTarget::Function { name: own, .. } if own == name => Ok(Destination::RuleTarget),
                _ if rule.allowed_functions.iter().any(|f| f == name) => {
                    Ok(Destination::Function {
                        name: name.to_owned(),
                        qualifier,
                    })
                }
                _ => Err(Failure::TargetNotAllowed),
            }
        }
        "sqs" => {
            if !scope.holds(region, account_id) {
                return Err(Failure::TargetInOtherAccountOrRegion);
            }
            match &rule.target {
                DlqTarget::Queue { name: own } if own == resource => Ok(Destination::RuleTarget),
                _ if rule.allowed_queues.iter().any(|q| q == resource) => Ok(Destination::Queue {
                    name: resource.to_owned(),
                }),
                _ => Err(Failure::TargetNotAllowed),
            }
        }
        // SNS topics, state machines, API destinations...: selfheal does not deliver there.
        _ => Err(Failure::TargetNotReplayable),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::api::Attribute;

    fn message(body: &str, attributes: &[(&str, &str)]) -> DlqMessage {
        DlqMessage {
            id: "m".into(),
            receipt_handle: "r".into(),
            body: body.into(),
            message_attributes: attributes
                .iter()
                .map(|(k, v)| (k.to_string(), Attribute::string(v)))
                .collect(),
            ..Default::default()
        }
    }

    /// The example record of the Lambda developer guide, with a payload whose key order matters.
    const RECORD: &str = r#"{"version":"1.0","timestamp":"2019-11-14T18:16:05.568Z",
        "requestContext":{"requestId":"e4b46cbf-b738-xmpl-8880-a18cdf61200e",
            "functionArn":"arn:aws:lambda:us-east-2:123456789012:function:my-function:$LATEST",
            "condition":"RetriesExhausted","approximateInvokeCount":3},
        "requestPayload":{"ORDER_IDS":["9e07af03-ce31-4ff3-xmpl-36dce652cb4f"],"b":1,"a":2},
        "responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},
        "responsePayload":{"errorMessage":"RequestId: e4b46cbf Process exited before completing request","errorType":"Runtime.ExitError"}}"#;

    fn rule(target: DlqTarget, functions: &[&str], queues: &[&str]) -> DlqRule {
        DlqRule {
            name: "r".into(),
            queue: "dlq".into(),
            target,
            max_replays: 3,
            allowed_functions: functions.iter().map(|s| s.to_string()).collect(),
            allowed_queues: queues.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn scope() -> OwnScope {
        OwnScope {
            account_id: Some("123456789012".into()),
            region: Some("us-east-2".into()),
        }
    }

    #[test]
    fn a_custom_bus_record_names_events_it_does_not_carry() {
        // The EventBridge user guide's example record ("Retry policies and dead-letter queues").
        let body = r#"{"version":"1.0",
            "busArn":"arn:aws:events:us-east-1:111122223333:event-busv2/orders/EXAMPLE1234567890abcdef",
            "subscriberArn":"arn:aws:events:us-east-1:111122223333:subscriber/large-orders/EXAMPLEabcdef1234567890",
            "targetArn":"arn:aws:sqs:us-east-1:111122223333:large-orders",
            "errorCode":"ACCESS_DENIED","errorMessage":"The delivery role is not authorized.",
            "exhaustedRetryCondition":"MaximumEventAgeInSeconds","retryAttempts":4,
            "failedMessages":[{"eventId":"a1b2c3d4-","eventGroupId":"order-1001","deduplicationId":null,
                "timestamp":"2026-09-16T18:40:12Z","targetRequestId":"x"}]}"#;
        let letter = read_dead_letter(&message(body, &[]));
        assert_eq!(letter.shape, Shape::CustomBusRecord);
        assert_eq!(letter.payload, Err(Failure::CustomBusRecordWithoutEvent));
        assert_eq!(letter.error_codes, ["ACCESS_DENIED"]);
        assert_eq!(
            letter.named_target.as_deref(),
            Some("arn:aws:sqs:us-east-1:111122223333:large-orders")
        );
        // An event that merely mentions a bus is an event.
        let event = r#"{"busArn":"arn:aws:events:us-east-1:1:event-bus/x","detail":{}}"#;
        assert_eq!(read_dead_letter(&message(event, &[])).shape, Shape::Plain);
    }

    #[test]
    fn an_on_failure_record_carries_its_request_payload_byte_for_byte() {
        let letter = read_dead_letter(&message(RECORD, &[]));
        assert_eq!(letter.shape, Shape::OnFailureRecord);
        assert_eq!(
            letter.payload.as_deref(),
            Ok(r#"{"ORDER_IDS":["9e07af03-ce31-4ff3-xmpl-36dce652cb4f"],"b":1,"a":2}"#)
        );
        assert_eq!(
            letter.error_codes,
            ["RetriesExhausted", "Runtime.ExitError", "Unhandled"]
        );
        assert_eq!(
            letter.error_label().as_deref(),
            Some("RetriesExhausted / Runtime.ExitError / Unhandled")
        );
        let without = RECORD.replace(r#""requestPayload""#, r#""somethingElse""#);
        assert_eq!(
            read_dead_letter(&message(&without, &[])).payload,
            Err(Failure::RecordWithoutRequestPayload)
        );
    }

    #[test]
    fn each_shape_is_told_apart_by_its_attributes_or_body() {
        let lambda = read_dead_letter(&message(
            RECORD,
            &[("RequestID", "x"), ("ErrorCode", "200")],
        ));
        assert_eq!(
            lambda.shape,
            Shape::LambdaDlq,
            "attributes decide before the body"
        );
        assert_eq!(lambda.payload.as_deref(), Ok(RECORD));
        assert_eq!(lambda.error_codes, ["200"]);
        let eventbridge = read_dead_letter(&message(
            r#"{"detail-type":"x"}"#,
            &[
                ("RULE_ARN", "arn:aws:events:us-east-2:123456789012:rule/r"),
                (
                    "TARGET_ARN",
                    "arn:aws:lambda:us-east-2:123456789012:function:f",
                ),
                ("ERROR_CODE", "NO_PERMISSIONS"),
                ("ERROR_MESSAGE", "denied"),
            ],
        ));
        assert_eq!(eventbridge.shape, Shape::EventBridgeDlq);
        assert_eq!(eventbridge.error_codes, ["NO_PERMISSIONS"]);
        assert_eq!(
            eventbridge.named_target.as_deref(),
            Some("arn:aws:lambda:us-east-2:123456789012:function:f")
        );
        let api_gateway = r#"{"requestContext":{"requestId":"x","stage":"prod"},"body":"{}"}"#;
        assert_eq!(
            read_dead_letter(&message(api_gateway, &[])).shape,
            Shape::Plain
        );
        assert_eq!(
            read_dead_letter(&message("not json", &[])).shape,
            Shape::Plain
        );
    }

    #[test]
    fn a_named_target_is_used_only_when_the_rule_allows_it() {
        let record = read_dead_letter(&message(RECORD, &[]));
        let own = rule(
            DlqTarget::Function {
                name: "my-function".into(),
                qualifier: None,
            },
            &[],
            &[],
        );
        assert_eq!(route(&record, &own, &scope()), Ok(Destination::RuleTarget));
        let other = rule(
            DlqTarget::Function {
                name: "billing".into(),
                qualifier: None,
            },
            &[],
            &[],
        );
        assert_eq!(
            route(&record, &other, &scope()),
            Err(Failure::TargetNotAllowed)
        );
        let listed = rule(DlqTarget::NamedInMessages, &["my-function"], &[]);
        assert_eq!(
            route(&record, &listed, &scope()),
            Ok(Destination::Function {
                name: "my-function".into(),
                qualifier: None
            })
        );
        let elsewhere = OwnScope {
            account_id: Some("210987654321".into()),
            region: Some("us-east-2".into()),
        };
        assert_eq!(
            route(&record, &own, &elsewhere),
            Err(Failure::TargetInOtherAccountOrRegion)
        );
        let plain = read_dead_letter(&message("{}", &[]));
        assert_eq!(
            route(&plain, &listed, &scope()),
            Err(Failure::NoTargetNamed)
        );
        assert_eq!(route(&plain, &own, &scope()), Ok(Destination::RuleTarget));
    }

    #[test]
    fn an_eventbridge_target_may_be_an_allowed_queue_and_nothing_else() {
        let letter = |target: &str| {
            read_dead_letter(&message(
                "{}",
                &[
                    ("RULE_ARN", "arn:aws:events:us-east-2:123456789012:rule/r"),
                    ("TARGET_ARN", target),
                ],
            ))
        };
        let queues = rule(DlqTarget::NamedInMessages, &[], &["orders"]);
        assert_eq!(
            route(
                &letter("arn:aws:sqs:us-east-2:123456789012:orders"),
                &queues,
                &scope()
            ),
            Ok(Destination::Queue {
                name: "orders".into()
            })
        );
        assert_eq!(
            route(
                &letter("arn:aws:sqs:eu-west-1:123456789012:orders"),
                &queues,
                &scope()
            ),
            Err(Failure::TargetInOtherAccountOrRegion)
        );
        assert_eq!(
            route(
                &letter("arn:aws:sqs:us-east-2:123456789012:payments"),
                &queues,
                &scope()
            ),
            Err(Failure::TargetNotAllowed)
        );
        assert_eq!(
            route(
                &letter("arn:aws:sns:us-east-2:123456789012:topic"),
                &queues,
                &scope()
            ),
            Err(Failure::TargetNotReplayable)
        );
        assert_eq!(
            route(&letter("orders"), &queues, &scope()),
            Err(Failure::TargetArnInvalid)
        );
        let own_queue = rule(
            DlqTarget::Queue {
                name: "orders".into(),
            },
            &[],
            &[],
        );
        assert_eq!(
            route(
                &letter("arn:aws:sqs:us-east-2:123456789012:orders"),
                &own_queue,
                &scope()
            ),
            Ok(Destination::RuleTarget)
        );
    }
}
