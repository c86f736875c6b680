//! DLQ replay: dead letters back to where they failed, deleted only once delivered.

pub mod api;
mod engine;
mod filter;
pub mod report;
mod request;
mod summary;

pub use engine::{ReplayError, ReplaySettings, Replayer};
pub use request::{Filter, JsonField, OneOrMany, ReplayRequest};
pub use summary::{PreviewMessage, ReplaySummary};
