//! The quota function: CloudWatch alarm in (alarm action, SNS or EventBridge), a raised quota or
//! an escalation out.

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use selfheal::quota_function::QuotaFunction;
use selfheal::settings::quota_environment;
use serde_json::{json, Value};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let environment = quota_environment(|name| std::env::var(name).ok())?;
    let function = QuotaFunction::new(selfheal::aws::load_config().await, environment);
    let function = &function;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        match function
            .handle(
                &event.payload,
                &event.context.request_id,
                Some(&event.context.invoked_function_arn),
            )
            .await
        {
            Ok(outcomes) => Ok(json!({ "outcomes": outcomes })),
            Err(e) => Err(Diagnostic {
                error_type: e.kind().to_owned(),
                error_message: e.to_string(),
            }),
        }
    }))
    .await
}
