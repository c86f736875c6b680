//! selfheal: AWS Lambda functions that keep an AWS account healthy.
//!
//! The library holds the logic; `handlers/` holds one thin binary per function and `src/bin/selfheal/`
//! the command line. Each feature folder (`quota`, `replay`, `prewarm`) reads state through small
//! capability traits, decides in a pure value that can be printed and tested, then acts; its
//! `function.rs` only wires the adapters of `aws` (one per SDK client) to it, once per container at
//! the first event (off the cold-start path), for the handler and the command line alike.

pub mod alarm;
#[cfg(feature = "aws")]
pub mod aws;
mod call_error;
mod clock;
mod concurrent;
pub mod escalation;
mod function_error;
pub mod fuzz_entry;
pub mod ledger;
pub mod notify;
pub mod prewarm;
pub mod quota;
pub mod replay;
pub mod rules;
pub mod settings;
mod stable_key;
pub mod telemetry;
pub mod text;

pub use call_error::AwsCallError;
pub use function_error::{diagnostic, FunctionError, Retry};
