//! The replay function: an operator's console request in, dead letters delivered again, a summary out.

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use selfheal::replay::ReplayFunction;
use selfheal::settings::replay_environment;
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let environment = replay_environment(|name| std::env::var(name).ok())?;
    let function = ReplayFunction::new(selfheal::aws::load_config().await, environment);
    let function = &function;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let context = &event.context;
        let summary = function
            .handle(&event.payload, &context.request_id, Some(context.deadline))
            .await
            .map_err(Diagnostic::from)?;
        Ok::<_, Diagnostic>(serde_json::to_value(summary).unwrap_or_default())
    }))
    .await
}
