//! `[[prewarm]]` rules: the functions kept warm, when, and how.

use super::schedule::{ActiveWindow, Schedule};
use super::zone::{fold, zone};
use serde::Serialize;

/// A function kept warm by a schedule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PrewarmRule {
    /// Defaults to `function` or `function:qualifier`.
    pub name: String,
    /// The function's name (an ARN in the rules is reduced to it).
    pub function: String,
    /// Alias or version; `None` is `$LATEST`.
    pub qualifier: Option<String>,
    /// The schedule as written.
    pub schedule: String,
    /// What EventBridge runs: the schedule with the active window folded in. Empty for a rule with a
    /// `timezone` (the sync folds it for the offset in force: `PrewarmRule::expression_at`) and for a
    /// provisioned one.
    pub expression: String,
    /// The IANA zone of `active_hours` and `active_days`; `None`: UTC.
    pub timezone: Option<String>,
    /// The rules file it came from, for errors found after parsing.
    #[serde(skip)]
    pub source: String,
    /// Pings, or provisioned concurrency on a schedule.
    pub mode: PrewarmMode,
    /// The window as written (in `timezone`), kept to fold it again when the zone's offset changes and
    /// to schedule provisioned capacity.
    #[serde(skip)]
    pub window: Option<ActiveWindow>,
    /// The ping schedule as parsed; `None` in provisioned mode.
    #[serde(skip)]
    pub rate: Option<Schedule>,
    /// How many containers to keep warm.
    pub concurrency: u32,
    /// The ping's payload, a JSON object.
    pub payload: serde_json::Value,
    /// How long one ping may take.
    pub timeout_ms: u32,
}

impl PrewarmRule {
    /// What EventBridge should run at `unix_secs`, and the offset a local window was folded for.
    pub fn expression_at(&self, unix_secs: i64) -> Result<(String, Option<String>), String> {
        let (Some(zone_name), Some(window), Some(schedule)) =
            (&self.timezone, &self.window, &self.rate)
        else {
            return Ok((self.expression.clone(), None));
        };
        let zone = zone(zone_name)?;
        let folded = fold(schedule, window, &zone, unix_secs)?;
        Ok((folded.expression, Some(folded.offset)))
    }

    /// `function` or `function:qualifier`.
    pub fn target_label(&self) -> String {
        match &self.qualifier {
            Some(q) => format!("{}:{q}", self.function),
            None => self.function.clone(),
        }
    }
}

/// How a `[[prewarm]]` rule keeps its target warm.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PrewarmMode {
    /// Scheduled EventBridge rules ping the function: about `concurrency` containers, best effort.
    #[default]
    Pings,
    /// Application Auto Scaling scheduled actions set the alias's provisioned concurrency to
    /// `concurrency` at the window's start and to 0 at its end: exact, and billed while configured.
    Provisioned,
}
