//! What a pre-warm sync found and did, as the handler, the command line and CloudFormation see it.

use super::cost::WarmCost;
use super::provisioned::ScalingChange;
use serde::Serialize;

/// One rule created, updated or deleted (or, in a dry run, to be).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleChange {
    pub rule: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub changes: Vec<String>,
}

/// A target left without a rule on purpose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub target: String,
    pub reason: String,
}

/// Something the sync could not do; the rule concerned is left as it was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SyncProblem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub message: String,
}

/// AWS calls made by one sync.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Calls {
    pub reads: u32,
    pub writes: u32,
}

/// What the sync found and did: the plan, and whether it was applied.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SyncReport {
    pub dry_run: bool,
    pub create: Vec<RuleChange>,
    pub update: Vec<RuleChange>,
    pub delete: Vec<RuleChange>,
    pub unchanged: Vec<String>,
    pub skipped: Vec<Skipped>,
    /// Rules with our prefix but not our tag: never touched.
    pub foreign: Vec<String>,
    /// Provisioned rules: the Application Auto Scaling writes (or, in a dry run, the plan).
    pub scaling: Vec<ScalingChange>,
    /// Provisioned targets whose scheduled actions are as configured.
    pub scaling_unchanged: Vec<String>,
    /// What each provisioned rule's warm capacity costs.
    pub costs: Vec<WarmCost>,
    pub errors: Vec<SyncProblem>,
    pub calls: Calls,
}

impl SyncReport {
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// One line: `create 1, update 0, delete 2, unchanged 7, skipped 0, scaling 0, errors 0`.
    pub fn counts(&self) -> String {
        format!(
            "create {}, update {}, delete {}, unchanged {}, skipped {}, scaling {}, errors {}",
            self.create.len(),
            self.update.len(),
            self.delete.len(),
            self.unchanged.len(),
            self.skipped.len(),
            self.scaling.len(),
            self.errors.len()
        )
    }
}
