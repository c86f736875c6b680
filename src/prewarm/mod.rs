//! Pre-warming: scheduled EventBridge rules that keep functions' containers warm, or provisioned
//! concurrency set on a schedule by Application Auto Scaling.
//!
//! `sync` keeps the rules and scheduled actions equal to `[[prewarm]]` (read, pure plan, minimal
//! writes); `ping` is the pre-warm function's fan-out above concurrency 1; `guard` is what a warmed
//! function wraps its handler in. Schedules and zones are checked and shaped below `rules/`.

pub mod api;
pub mod cost;
pub mod custom_resource;
pub mod desired;
pub mod event;
#[cfg(feature = "aws")]
mod function;
pub mod guard;
pub mod metrics;
pub mod ping;
pub mod ping_rules;
pub mod problems_page;
pub mod provisioned;
pub mod sync;
pub mod sync_plan;
pub mod sync_report;

#[cfg(feature = "aws")]
pub use function::{syncer, PrewarmFunction, PrewarmFunctionError};
pub use guard::PrewarmGuard;
pub use ping::{ping, PingReport, PingRequest, PING_KEY};
pub use sync::{SyncSettings, Syncer};
pub use sync_report::SyncReport;
