//! Adapters from the core's capability traits to the AWS SDK clients.

pub mod autoscaling;
pub mod cfn_response;
pub mod dynamodb;
pub mod eventbridge;
pub mod identity;
pub mod lambda;
mod lambda_warm;
pub mod service_quotas;
pub mod sns;
pub mod spokes;
pub mod sqs;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use std::time::Duration;

/// Attempts per AWS call, the first included: throttling and 5xx answers are retried with backoff.
pub const MAX_ATTEMPTS: u32 = 4;

/// The SDK configuration every function shares: the standard environment (`AWS_REGION`,
/// `AWS_ENDPOINT_URL`, credentials), standard retries with backoff for throttling and 5xx, and
/// timeouts that leave room inside a Lambda invocation.
pub async fn load_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .retry_config(retry_config())
        .timeout_config(timeout_config())
        .load()
        .await
}

/// Standard retries: throttling, 5xx and transient network errors, `MAX_ATTEMPTS` attempts, backoff from 200 ms.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(200))
}

/// Timeouts that leave room inside a Lambda invocation.
pub fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(10))
        .operation_timeout(Duration::from_secs(30))
        .build()
}

/// HTTPS for the SDK clients: rustls with ring, the platform's root certificates.
pub fn https_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// The message of an SDK error with its code and cause, without the request.
pub(crate) fn error_text<E>(
    error: &aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::http::Response,
    >,
) -> (Option<String>, String)
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
{
    use aws_smithy_types::error::metadata::ProvideErrorMetadata;
    let code = error.code().map(str::to_owned);
    let message = error.message().map(str::to_owned).unwrap_or_else(|| {
        aws_smithy_types::error::display::DisplayErrorContext(error).to_string()
    });
    (code, message)
}

/// Maps an SDK error of `operation` to the error the replay and pre-warm traits return.
pub(crate) fn call_error<E>(
    operation: &'static str,
) -> impl Fn(
    aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> crate::AwsCallError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
{
    move |e| {
        let (code, message) = error_text(&e);
        crate::AwsCallError {
            operation,
            code: code.unwrap_or_else(|| "Unknown".into()),
            message,
        }
    }
}
