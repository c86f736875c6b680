//! The pre-warm rules as a CloudFormation custom resource: what a request asks, and the response
//! body CloudFormation reads from the request's presigned URL.

use super::event::PrewarmEventError;
use super::sync_report::SyncReport;
use aws_lambda_events::cloudformation::CloudFormationCustomResourceRequest;
use serde_json::{json, Value};

/// The custom resource's id: stable, so that an update never looks like a replacement to CloudFormation.
pub const PHYSICAL_RESOURCE_ID: &str = "selfheal-prewarm-rules";

/// The whole response body may hold at most 4096 bytes (CloudFormation User Guide, "Custom resource
/// response objects"); the reason is kept well inside that.
const MAX_REASON_BYTES: usize = 1000;

/// The fields of a request the response must echo.
pub struct CustomResourceRequest<'a> {
    /// `Create`, `Update` or `Delete`.
    pub kind: &'static str,
    pub response_url: &'a str,
    pub stack_id: &'a str,
    pub request_id: &'a str,
    pub logical_resource_id: &'a str,
}

impl<'a> CustomResourceRequest<'a> {
    pub fn of(request: &'a CloudFormationCustomResourceRequest) -> Result<Self, PrewarmEventError> {
        let (kind, url, stack, id, logical) = match request {
            CloudFormationCustomResourceRequest::Create(r) => (
                "Create",
                &r.response_url,
                &r.stack_id,
                &r.request_id,
                &r.logical_resource_id,
            ),
            CloudFormationCustomResourceRequest::Update(r) => (
                "Update",
                &r.response_url,
                &r.stack_id,
                &r.request_id,
                &r.logical_resource_id,
            ),
            CloudFormationCustomResourceRequest::Delete(r) => (
                "Delete",
                &r.response_url,
                &r.stack_id,
                &r.request_id,
                &r.logical_resource_id,
            ),
            _ => {
                return Err(PrewarmEventError::Invalid {
                    kind: "CloudFormation custom resource request",
                    message: "unknown RequestType".into(),
                })
            }
        };
        Ok(CustomResourceRequest {
            kind,
            response_url: url,
            stack_id: stack,
            request_id: id,
            logical_resource_id: logical,
        })
    }
}

/// Whether a request's `ResponseURL` is CloudFormation's: `https` on the bucket host of its pre-signed
/// URLs (`cloudformation-custom-resource-response-...` under `amazonaws.com`, or `.amazonaws.com.cn`:
/// the host of the example request in the CloudFormation user guide, "Custom resource request
/// objects"; that every Region's bucket is named so is not verified). `extra_origin` (a local run's
/// listener, set by the operator, never by an event) is accepted too.
pub fn response_url_allowed(url: &str, extra_origin: Option<&str>) -> Result<(), String> {
    if extra_origin.is_some_and(|origin| !origin.is_empty() && url.starts_with(origin)) {
        return Ok(());
    }
    let Some(rest) = url.strip_prefix("https://") else {
        return Err("the response URL is not https".into());
    };
    let host = rest.split(['/', '?', ':']).next().unwrap_or_default();
    let aws = host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn");
    if aws && host.starts_with("cloudformation-custom-resource-response-") {
        Ok(())
    } else {
        Err(format!(
            "the response URL's host {host:?} is not CloudFormation's response bucket"
        ))
    }
}

/// Whether a request may change anything: a `Delete` only of this stack's own resource (its `StackId`,
/// `SELFHEAL_STACK_ID`), so that a forged event cannot remove the rules.
pub fn stack_allowed(
    request: &CustomResourceRequest<'_>,
    own_stack_id: Option<&str>,
) -> Result<(), String> {
    if request.kind != "Delete" || own_stack_id == Some(request.stack_id) {
        return Ok(());
    }
    Err(format!(
        "a Delete for stack {:?}, not this stack's ({})",
        request.stack_id,
        own_stack_id.unwrap_or("unknown: SELFHEAL_STACK_ID is not set")
    ))
}

/// What goes back to CloudFormation.
#[derive(Debug, PartialEq)]
pub struct Response {
    /// `SUCCESS` or `FAILED`.
    pub status: &'static str,
    pub reason: String,
    pub body: Value,
}

/// The response to `request` after a sync that produced `outcome` (or could not run: its error).
pub fn response(
    request: &CustomResourceRequest<'_>,
    outcome: Result<&SyncReport, String>,
) -> Response {
    // A stack operation fails only when selfheal itself is broken (its rules do not read): a target
    // that does not exist or cannot be reached is reported, paged once, and left as it was, so that
    // neither a first deploy nor a rollback is held up by another team's function. A Delete never
    // fails: nothing may keep a stack from going.
    let (status, reason, data) = match outcome {
        Ok(report) => (
            "SUCCESS",
            if report.ok() {
                format!("pre-warm rules synced: {}", report.counts())
            } else {
                format!(
                    "pre-warm rules synced ({}); left as they were, and paged: {}",
                    report.counts(),
                    report
                        .errors
                        .iter()
                        .map(|e| e.message.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            },
            json!({
                "Created": report.create.len(),
                "Updated": report.update.len(),
                "Deleted": report.delete.len(),
                "Unchanged": report.unchanged.len(),
                "Problems": report.errors.len(),
            }),
        ),
        Err(error) if request.kind == "Delete" => (
            "SUCCESS",
            format!("pre-warm rules not removed: {error}"),
            json!({}),
        ),
        Err(error) => ("FAILED", error, json!({})),
    };
    let reason = crate::text::cut_bytes(&reason, MAX_REASON_BYTES);
    let body = json!({
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": PHYSICAL_RESOURCE_ID,
        "StackId": request.stack_id,
        "RequestId": request.request_id,
        "LogicalResourceId": request.logical_resource_id,
        "NoEcho": false,
        "Data": data,
    });
    Response {
        status,
        reason,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prewarm::sync_report::SyncProblem;

    fn request() -> CustomResourceRequest<'static> {
        CustomResourceRequest {
            kind: "Create",
            response_url: "https://example.invalid/response",
            stack_id: "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1",
            request_id: "r-1",
            logical_resource_id: "PrewarmRules",
        }
    }

    #[test]
    fn a_sync_without_errors_succeeds_and_echoes_the_request() {
        let report = SyncReport {
            unchanged: vec!["selfheal-prewarm-a".into()],
            ..SyncReport::default()
        };
        let response = response(&request(), Ok(&report));
        assert_eq!(response.status, "SUCCESS");
        assert_eq!(response.body["PhysicalResourceId"], PHYSICAL_RESOURCE_ID);
        assert_eq!(response.body["RequestId"], "r-1");
        assert_eq!(response.body["LogicalResourceId"], "PrewarmRules");
        assert_eq!(response.body["Data"]["Unchanged"], 1);
    }

    #[test]
    fn target_problems_succeed_with_a_bounded_reason_and_only_unreadable_rules_fail() {
        let report = SyncReport {
            errors: vec![SyncProblem {
                rule: None,
                target: Some("gone-api".into()),
                message: "x".repeat(5000),
            }],
            ..SyncReport::default()
        };
        let response = response(&request(), Ok(&report));
        assert_eq!(response.status, "SUCCESS");
        assert_eq!(response.body["Data"]["Problems"], 1);
        assert!(response.reason.len() <= MAX_REASON_BYTES);
        let response = super::response(&request(), Err("rules are invalid".into()));
        assert_eq!(
            (response.status, response.reason.as_str()),
            ("FAILED", "rules are invalid")
        );
        // Nothing keeps a stack from being deleted.
        let delete = CustomResourceRequest {
            kind: "Delete",
            ..request()
        };
        assert_eq!(
            super::response(&delete, Err("rules are invalid".into())).status,
            "SUCCESS"
        );
    }

    #[test]
    fn only_cloudformations_bucket_over_https_gets_a_response() {
        let real = "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3A?X-Amz-Signature=0";
        assert_eq!(response_url_allowed(real, None), Ok(()));
        let china = "https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn/x";
        assert_eq!(response_url_allowed(china, None), Ok(()));
        for forged in [
            "http://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x",
            "https://attacker.example/x",
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com.attacker.example/x",
            "https://attacker-bucket.s3.amazonaws.com/x",
            "http://127.0.0.1:8080/x",
        ] {
            assert!(response_url_allowed(forged, None).is_err(), "{forged}");
        }
        assert_eq!(
            response_url_allowed("http://127.0.0.1:8080/x", Some("http://127.0.0.1:")),
            Ok(())
        );
    }

    #[test]
    fn a_delete_of_another_stack_is_refused() {
        let own = "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1";
        let delete = CustomResourceRequest {
            kind: "Delete",
            ..request()
        };
        assert_eq!(stack_allowed(&delete, Some(own)), Ok(()));
        assert!(stack_allowed(
            &delete,
            Some("arn:aws:cloudformation:us-east-1:123456789012:stack/other/2")
        )
        .is_err());
        assert!(stack_allowed(&delete, None).is_err());
        assert_eq!(
            stack_allowed(&request(), None),
            Ok(()),
            "a Create syncs the compiled rules only"
        );
    }
}
