//! selfheal: AWS Lambda functions that keep an AWS account healthy.
//!
//! The library holds the logic; `handlers/` holds one thin binary per function and
//! `src/bin/selfheal.rs` the command line. The core (`quota`, `escalation`, `rules`) works on plain
//! data and small capability traits; `aws` adapts those traits to the SDK clients.

pub mod alarm;
pub mod aws;
mod concurrent;
pub mod escalation;
mod fnv;
pub mod ledger;
pub mod prewarm;
pub mod prewarm_function;
pub mod quota;
pub mod quota_function;
pub mod replay;
pub mod replay_function;
pub mod rules;
pub mod settings;
pub mod telemetry;
