//! `[[prewarm]]` rules: the functions kept warm, when, and how (pings on a schedule, or provisioned
//! concurrency in a window): each mode carries what it needs and nothing else.

use super::schedule::{ActiveWindow, Schedule};
use super::zone::{fold, zone};
use serde::Serialize;

/// A function kept warm.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PrewarmRule {
    /// Defaults to `function` or `function:qualifier`.
    pub name: String,
    /// The function's name (an ARN in the rules is reduced to it).
    pub function: String,
    /// Alias or version; `None` is `$LATEST` (provisioned concurrency needs one).
    pub qualifier: Option<String>,
    /// The IANA zone of `active_hours` and `active_days`; `None`: UTC.
    pub timezone: Option<String>,
    /// The rules file it came from, for errors found after parsing.
    #[serde(skip)]
    pub source: String,
    /// The window as written (in `timezone`), kept to fold it again when the zone's offset changes and
    /// to schedule provisioned capacity (which always has one).
    #[serde(skip)]
    pub window: Option<ActiveWindow>,
    /// How many containers to keep warm.
    pub concurrency: u32,
    pub mode: PrewarmMode,
}

/// How a `[[prewarm]]` rule keeps its target warm.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PrewarmMode {
    /// Scheduled EventBridge rules ping the function: about `concurrency` containers, best effort.
    Pings(PingSchedule),
    /// Application Auto Scaling scheduled actions set the alias's provisioned concurrency to
    /// `concurrency` at the window's start and to 0 at its end: exact, and billed while configured.
    Provisioned,
}

/// What a pinged rule runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PingSchedule {
    /// The schedule as written.
    pub schedule: String,
    /// The schedule as parsed.
    #[serde(skip)]
    pub rate: Schedule,
    /// What EventBridge runs, the window folded in, when the window is in UTC; `None` for a window
    /// in a time zone, which the sync folds for the offset in force (`PrewarmRule::expression_at`).
    pub expression: Option<String>,
    /// The ping's payload, a JSON object.
    pub payload: serde_json::Value,
    /// How long one ping may take.
    pub timeout_ms: u32,
}

impl PrewarmRule {
    /// The ping schedule of a pinged rule.
    pub fn pings(&self) -> Option<&PingSchedule> {
        match &self.mode {
            PrewarmMode::Pings(pings) => Some(pings),
            PrewarmMode::Provisioned => None,
        }
    }

    /// What EventBridge should run at `unix_secs`, and the offset a local window was folded for;
    /// `Err` for a provisioned rule, which has no ping schedule.
    pub fn expression_at(&self, unix_secs: i64) -> Result<(String, Option<String>), String> {
        let pings = self.pings().ok_or_else(|| {
            format!(
                "rule {:?} is provisioned: it has no ping schedule",
                self.name
            )
        })?;
        if let Some(expression) = &pings.expression {
            return Ok((expression.clone(), None));
        }
        let (Some(zone_name), Some(window)) = (&self.timezone, &self.window) else {
            return Err(format!("rule {:?} has no window to fold", self.name));
        };
        let zone = zone(zone_name)?;
        let folded = fold(&pings.rate, window, &zone, unix_secs)?;
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
