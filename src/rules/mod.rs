//! The rules in `rules/*.toml`: which quotas to raise and how far at most, which dead-letter queues
//! may be replayed and where to, which functions to keep warm and when. Compiled into each function
//! (or read from a folder by the command line), every error naming its file, rule and field.

mod check_zones;
mod dlq_rule;
mod error;
mod fields;
mod files;
mod increase;
mod load;
mod organization;
mod pattern;
mod prewarm;
mod prewarm_rule;
mod quota_rule;
pub mod schedule;
mod set;
pub mod zone;

pub use check_zones::check_zones;
pub use dlq_rule::{DlqRule, DlqTarget};
pub use error::{RuleError, RulesError};
pub use increase::Increase;
pub use organization::{AccountEntry, Organization, OutOfReach};
pub use pattern::glob_matches;
pub use prewarm::{MAX_CONCURRENCY as MAX_PREWARM_CONCURRENCY, MAX_PROVISIONED};
pub use prewarm_rule::{PingSchedule, PrewarmMode, PrewarmRule};
pub use quota_rule::{Defaults, QuotaRule};
pub use set::RuleSet;
