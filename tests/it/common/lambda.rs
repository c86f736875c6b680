//! Functions in a sandbox account, and what the sandbox's Lambda received.

use super::{endpoint, http, raw_http};
use serde_json::Value;

/// Creates an IAM role in `account_id` (moto's Lambda wants one) with a Query request; the sandbox
/// reads the service and the account from the credential scope and does not check signatures.
pub async fn create_role(account_id: &str, name: &str) -> String {
    let body = format!(
        "Action=CreateRole&Version=2010-05-08&RoleName={name}&AssumeRolePolicyDocument=%7B%7D"
    );
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={account_id}/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0"
    );
    raw_http(
        &format!("{}/", endpoint()),
        "POST",
        &body,
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Authorization", &auth),
        ],
    )
    .await;
    format!("arn:aws:iam::{account_id}:role/{name}")
}

/// Creates a Lambda function (moto without Docker never runs its code); `alias` publishes version 1
/// and points the alias at it. Returns the function's ARN.
pub async fn create_function(
    lambda: &aws_sdk_lambda::Client,
    account_id: &str,
    name: &str,
    alias: Option<&str>,
) -> String {
    let role = create_role(account_id, &format!("{name}-role")).await;
    let mut zip = Vec::new();
    // An empty zip archive.
    zip.extend_from_slice(&[0x50, 0x4b, 0x05, 0x06]);
    zip.extend_from_slice(&[0; 18]);
    let created = lambda
        .create_function()
        .function_name(name)
        .runtime(aws_sdk_lambda::types::Runtime::Python311)
        .role(role)
        .handler("index.handler")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(zip))
                .build(),
        )
        .send()
        .await
        .unwrap();
    if let Some(alias) = alias {
        let version = lambda
            .publish_version()
            .function_name(name)
            .send()
            .await
            .unwrap();
        lambda
            .create_alias()
            .function_name(name)
            .name(alias)
            .function_version(version.version().unwrap())
            .send()
            .await
            .unwrap();
    }
    created.function_arn().unwrap().to_owned()
}

/// What the sandbox's Lambda received for `function` in `account_id`, oldest first.
pub async fn invocations(account_id: &str, function: &str) -> Vec<Value> {
    let url = format!("{}/moto-api/selfheal/lambda/invocations", endpoint());
    let body: Value = serde_json::from_str(&http(&url, "GET", None).await).unwrap();
    body["invocations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["account_id"] == account_id && i["function_name"] == function)
        .cloned()
        .collect()
}
