//! The pre-warm function: a round of pings (a rule above concurrency 1), or a sync of the pre-warm
//! rules (deploy time, daily, or by hand).

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use selfheal::prewarm::PrewarmFunction;
use selfheal::settings::prewarm_environment;
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let environment = prewarm_environment(|name| std::env::var(name).ok())?;
    let function = PrewarmFunction::new(selfheal::aws::load_config().await, environment);
    let function = &function;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let invoked_arn =
            Some(event.context.invoked_function_arn.as_str()).filter(|a| !a.is_empty());
        function
            .handle(&event.payload, invoked_arn)
            .await
            .map_err(Diagnostic::from)
    }))
    .await
}
