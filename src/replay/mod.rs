//! DLQ replay: dead letters back to where they failed, deleted only once delivered.

pub mod api;
mod batches;
pub mod continuation;
pub mod dead_letter;
mod deliver;
mod engine;
mod error;
pub mod failure;
pub mod failure_page;
mod fate;
mod filter;
pub mod follow_up;
#[cfg(feature = "aws")]
mod function;
mod pace;
mod request;
mod run;
mod summary;
mod targets;

pub use engine::{ReplaySettings, Replayer};
pub use error::ReplayError;
pub use fate::{message_fate, MessageFacts, MessageFate, Routed};
#[cfg(feature = "aws")]
pub use function::{replayer, Replay, ReplayFunction, ReplayFunctionError};
pub use request::{Continuation, Filter, JsonField, OneOrMany, ReplayRequest};
pub use summary::{PreviewMessage, ReplaySummary};
