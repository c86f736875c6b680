//! A function kept warm by selfheal: `PrewarmGuard` answers the pings, every other event reaches the
//! handler. Build it like any function (`cargo lambda build --release --bin warmed-example`).

use lambda_runtime::{service_fn, Error, LambdaEvent};
use selfheal::prewarm::PrewarmGuard;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct Checkout {
    cart_id: String,
}

async fn handler(event: LambdaEvent<Checkout>) -> Result<Value, Error> {
    // The real work; a ping never gets here.
    println!("checkout handled cart {}", event.payload.cart_id);
    Ok(json!({ "handled": true, "cart": event.payload.cart_id }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(PrewarmGuard::new(service_fn(handler))).await
}
