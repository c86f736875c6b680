//! The replay function: an operator's console request in, dead letters delivered again, a summary out.

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use selfheal::replay_function::ReplayFunction;
use selfheal::settings::quota_environment;
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let environment = quota_environment(|name| std::env::var(name).ok())?;
    let function = ReplayFunction::new(selfheal::aws::load_config().await, environment);
    let function = &function;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = Some(event.context.deadline);
        match function
            .handle(&event.payload, &event.context.request_id, deadline)
            .await
        {
            Ok(summary) => Ok(serde_json::to_value(summary).unwrap_or_default()),
            Err(e) => Err(Diagnostic {
                error_type: e.kind().to_owned(),
                error_message: e.to_string(),
            }),
        }
    }))
    .await
}
