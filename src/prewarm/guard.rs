//! The guard for a warmed function: a ping returns at once, without running the real handler.
//!
//! ```no_run
//! use lambda_runtime::{service_fn, Error, LambdaEvent};
//! use selfheal::prewarm::PrewarmGuard;
//!
//! async fn handler(event: LambdaEvent<serde_json::Value>) -> Result<serde_json::Value, Error> {
//!     Ok(event.payload)
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Error> {
//!     lambda_runtime::run(PrewarmGuard::new(service_fn(handler))).await
//! }
//! ```
//!
//! A ping is an object whose marker field (`isPrewarm` unless set otherwise) is `true`. The guard holds
//! the container for a moment (100 ms unless `SELFHEAL_PREWARM_HOLD_MS` or [`PrewarmGuard::hold`] says
//! otherwise) so that concurrent pings cannot all be answered by one container.

use lambda_runtime::{Diagnostic, LambdaEvent, Service};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

pub const DEFAULT_MARKER: &str = "isPrewarm";
pub const DEFAULT_HOLD: Duration = Duration::from_millis(100);
/// Overrides the hold, in milliseconds (0 to 5000).
pub const HOLD_ENV: &str = "SELFHEAL_PREWARM_HOLD_MS";

/// Whether `payload` is a ping: an object whose `marker` field is `true`.
pub fn is_ping(payload: &Value, marker: &str) -> bool {
    payload.get(marker) == Some(&Value::Bool(true))
}

/// The hold from `SELFHEAL_PREWARM_HOLD_MS`, or the default when unset or not 0 to 5000.
pub fn hold_from_env(value: Option<&str>) -> Duration {
    value
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|ms| *ms <= 5_000)
        .map_or(DEFAULT_HOLD, Duration::from_millis)
}

/// Wraps the service that handles events of type `E`; answers pings itself.
pub struct PrewarmGuard<S, E> {
    inner: S,
    marker: String,
    hold: Duration,
    event: PhantomData<fn(E)>,
}

impl<S: Clone, E> Clone for PrewarmGuard<S, E> {
    fn clone(&self) -> Self {
        PrewarmGuard {
            inner: self.inner.clone(),
            marker: self.marker.clone(),
            hold: self.hold,
            event: PhantomData,
        }
    }
}

impl<S, E> PrewarmGuard<S, E> {
    pub fn new(inner: S) -> Self {
        PrewarmGuard {
            inner,
            marker: DEFAULT_MARKER.to_owned(),
            hold: hold_from_env(std::env::var(HOLD_ENV).ok().as_deref()),
            event: PhantomData,
        }
    }

    /// How long a ping keeps the container busy.
    pub fn hold(mut self, hold: Duration) -> Self {
        self.hold = hold;
        self
    }

    /// The field that marks a ping, for payloads other than `{"isPrewarm": true}`.
    pub fn marker(mut self, field: impl Into<String>) -> Self {
        self.marker = field.into();
        self
    }
}

type GuardFuture = Pin<Box<dyn Future<Output = Result<Value, Diagnostic>> + Send>>;

impl<S, E> Service<LambdaEvent<Value>> for PrewarmGuard<S, E>
where
    S: Service<LambdaEvent<E>>,
    S::Future: Send + 'static,
    S::Response: Serialize,
    S::Error: Into<Diagnostic>,
    E: DeserializeOwned,
{
    type Response = Value;
    type Error = Diagnostic;
    type Future = GuardFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Diagnostic>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, event: LambdaEvent<Value>) -> GuardFuture {
        if is_ping(&event.payload, &self.marker) {
            let hold = self.hold;
            tracing::debug!(request_id = %event.context.request_id, decision = "prewarm-ping", "answered without the handler");
            return Box::pin(async move {
                tokio::time::sleep(hold).await;
                Ok(json!({ "prewarmed": true }))
            });
        }
        let LambdaEvent { payload, context } = event;
        match serde_json::from_value::<E>(payload) {
            Err(e) => Box::pin(std::future::ready(Err(Diagnostic {
                error_type: "InvalidEvent".into(),
                error_message: format!("the event does not fit the handler: {e}"),
            }))),
            Ok(event) => {
                let answer = self.inner.call(LambdaEvent::new(event, context));
                Box::pin(async move {
                    let response = answer.await.map_err(Into::into)?;
                    serde_json::to_value(response).map_err(|e| Diagnostic {
                        error_type: "InvalidResponse".into(),
                        error_message: format!("the handler's answer is not JSON: {e}"),
                    })
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_runtime::{service_fn, Context};
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    #[derive(serde::Deserialize)]
    struct Order {
        id: u32,
    }

    fn event(payload: Value) -> LambdaEvent<Value> {
        LambdaEvent::new(payload, Context::default())
    }

    #[tokio::test]
    async fn a_ping_never_reaches_the_handler_and_a_real_event_always_does() {
        let calls = Arc::new(AtomicU32::new(0));
        let counted = calls.clone();
        let mut guard = PrewarmGuard::new(service_fn(move |e: LambdaEvent<Order>| {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
                Ok::<_, Diagnostic>(json!({ "order": e.payload.id }))
            }
        }))
        .hold(Duration::from_millis(30));
        let started = std::time::Instant::now();
        let answer = guard.call(event(json!({"isPrewarm": true}))).await.unwrap();
        assert_eq!(answer, json!({"prewarmed": true}));
        assert!(started.elapsed() >= Duration::from_millis(30));
        assert_eq!(calls.load(Ordering::SeqCst), 0);

        let answer = guard.call(event(json!({"id": 7}))).await.unwrap();
        assert_eq!(answer, json!({"order": 7}));
        // Not a ping: the marker must be `true`.
        let err = guard
            .call(event(json!({"isPrewarm": "yes"})))
            .await
            .unwrap_err();
        assert_eq!(err.error_type, "InvalidEvent");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn another_marker() {
        let mut guard = PrewarmGuard::new(service_fn(|e: LambdaEvent<Value>| async move {
            Ok::<_, Diagnostic>(e.payload)
        }))
        .marker("warmer")
        .hold(Duration::ZERO);
        assert_eq!(
            guard.call(event(json!({"warmer": true}))).await.unwrap(),
            json!({"prewarmed": true})
        );
        assert_eq!(
            guard.call(event(json!({"isPrewarm": true}))).await.unwrap(),
            json!({"isPrewarm": true})
        );
    }

    #[test]
    fn hold_from_the_environment() {
        assert_eq!(hold_from_env(None), DEFAULT_HOLD);
        assert_eq!(hold_from_env(Some("250")), Duration::from_millis(250));
        assert_eq!(hold_from_env(Some("0")), Duration::ZERO);
        assert_eq!(hold_from_env(Some("9999")), DEFAULT_HOLD);
        assert_eq!(hold_from_env(Some("soon")), DEFAULT_HOLD);
    }
}
