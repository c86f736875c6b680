//! The quota function: CloudWatch alarm in (alarm action, SNS or EventBridge), or Service Quotas' own
//! threshold notice, or the scheduled sweep; a raised quota or an escalation out.

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use selfheal::quota::QuotaFunction;
use selfheal::settings::quota_environment;
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let environment = quota_environment(|name| std::env::var(name).ok())?;
    let function = QuotaFunction::new(selfheal::aws::load_config().await, environment);
    let function = &function;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let context = &event.context;
        function
            .answer(
                &event.payload,
                &context.request_id,
                Some(&context.invoked_function_arn),
            )
            .await
            .map_err(Diagnostic::from)
    }))
    .await
}
