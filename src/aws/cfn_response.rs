//! Answering a CloudFormation custom resource: one `PUT` of the response to its pre-signed S3 URL.

use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::http::HttpConnector;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use std::time::Duration;

const ATTEMPTS: u32 = 3;
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
#[error("cannot send the custom resource response to CloudFormation: {0}")]
pub struct CfnResponseError(String);

/// `PUT`s `body` to `url`, retrying twice on a network error, a timeout or a 5xx answer.
pub async fn put_response(url: &str, body: &str) -> Result<(), CfnResponseError> {
    let connector = aws_smithy_http_client::Connector::builder()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build();
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        let mut request = HttpRequest::new(SdkBody::from(body.to_owned()));
        request
            .set_method("PUT")
            .map_err(|e| CfnResponseError(e.to_string()))?;
        request
            .set_uri(url)
            .map_err(|e| CfnResponseError(format!("the ResponseURL is not a URL: {e}")))?;
        // The URL is pre-signed without a content type: sending one would break the signature.
        request.headers_mut().insert("content-type", "");
        request
            .headers_mut()
            .insert("content-length", body.len().to_string());
        match tokio::time::timeout(ATTEMPT_TIMEOUT, connector.call(request)).await {
            Ok(Ok(response)) if response.status().is_success() => return Ok(()),
            Ok(Ok(response)) if response.status().is_client_error() => {
                return Err(CfnResponseError(format!(
                    "the response URL answered {}",
                    response.status().as_u16()
                )))
            }
            Ok(Ok(response)) => {
                last = format!("the response URL answered {}", response.status().as_u16())
            }
            Ok(Err(e)) => last = e.to_string(),
            Err(_) => last = format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs()),
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
        }
    }
    Err(CfnResponseError(last))
}
