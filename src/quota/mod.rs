//! Quota healing: from an alarm, a threshold notice or a sweep's finding to a raised quota or an
//! escalation, once per input; in the function's own account or, in hub mode, through each spoke's role
//! (`rules/accounts.toml`); then the fate of every request filed (`follow_up`).

pub mod access;
mod act;
pub mod api;
pub mod budget;
pub mod catalog;
pub mod decide;
pub mod event;
pub mod follow_up;
#[cfg(feature = "aws")]
mod function;
mod heal;
pub mod news;
mod outcome;
mod plan;
pub mod queue;
mod read;
pub mod signal;
mod subject;
pub mod sweep;

pub use crate::escalation::QuotaSubject;
pub use crate::settings::QuotaSettings as Settings;
pub use access::{AccessError, QuotaAccess, Reach};
pub use decide::{
    decide, decide_after_reading, decide_before_reading, AlarmReading, History, Home, QuotaReading,
    Scope, Situation,
};
#[cfg(feature = "aws")]
pub use function::{quota_healer, Healer, QuotaFunction, QuotaFunctionError};
pub use heal::{HealError, QuotaHealer};
pub use outcome::{Decision, NotificationOutcome, Outcome, RequestOutcome};
pub use plan::{Plan, RaisePlan, RuleTerms, MAX_DESIRED_VALUE};
