//! The cold-start baseline: a Lambda runtime client that only loads `aws-config` and builds the
//! SDK clients the quota function uses, then echoes events. `benchmarks/cold_start.py` runs it side
//! by side with `quota-alarm`.

use aws_smithy_http_client::tls;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // The same HTTPS client as selfheal's (rustls with ring).
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(https)
        .load()
        .await;
    let quotas = aws_sdk_servicequotas::Client::new(&sdk);
    let sns = aws_sdk_sns::Client::new(&sdk);
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let clients = &(quotas, sns, dynamodb);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let _ = clients;
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
