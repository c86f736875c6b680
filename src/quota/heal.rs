//! Quota healing's run of one input: claim its identity (one decision per alarm transition), read and
//! decide (`read.rs`, `decide/`), act (`act.rs`), audit; the claim settled, or released when the run
//! fails so that Lambda's retry decides again.

use super::access::{QuotaAccess, Reach};
use super::api::AutoManagement;
use super::catalog::QuotaCatalog;
use super::decide::{Home, Scope};
use super::outcome::Outcome;
use super::plan::{Plan, RuleTerms};
use super::signal::QuotaSignal;
use crate::escalation::{EscalationReason, Notifier, NotifyError, Route, Severity};
use crate::function_error::Retry;
use crate::ledger::{AuditKind, AuditRecord, LedgerError, QuotaLedger};
use crate::rules::RuleSet;
use crate::settings::QuotaSettings;
use tracing::{error, info, warn};

/// The function's name in logs and audit records.
const FUNCTION: &str = "quota-alarm";
/// How long a run holds its claim on an input before another delivery may take it over: Lambda's
/// longest timeout (900 s, Lambda developer guide, "Lambda quotas"), so no live run is overtaken.
pub(super) const CLAIM_LEASE_SECS: u64 = 900;
/// How long a decided input is remembered: SNS retries a delivery to Lambda for up to 23 days
/// (SNS developer guide, "Amazon SNS message delivery retries"), EventBridge and Lambda for less.
pub(super) const CLAIM_MEMORY_SECS: u64 = 30 * 24 * 3600;

/// The failures that make the invocation fail, so that Lambda retries it.
#[derive(Debug, thiserror::Error)]
pub enum HealError {
    #[error("could not send the notification: {0}")]
    Notify(#[from] NotifyError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

impl HealError {
    /// Both are the topic's or the ledger's failures: the same input may succeed later.
    pub fn retry(&self) -> Retry {
        match self {
            Self::Notify(_) | Self::Ledger(_) => Retry::Later,
        }
    }
}

/// The quota function's core, over the three capabilities it needs.
pub struct QuotaHealer<A, N, L> {
    /// Service Quotas, in each account and Region it may act in.
    pub(super) access: A,
    pub(super) notifier: N,
    pub(super) ledger: L,
    pub(super) rules: RuleSet,
    pub(super) catalog: QuotaCatalog,
    /// Automatic Management's configuration of each account and Region, once read.
    pub(super) auto_management:
        std::sync::Mutex<std::collections::HashMap<(String, String), AutoManagement>>,
    pub(super) settings: QuotaSettings,
}

impl<A: QuotaAccess, N: Notifier, L: QuotaLedger> QuotaHealer<A, N, L> {
    pub fn new(access: A, notifier: N, ledger: L, rules: RuleSet, settings: QuotaSettings) -> Self {
        QuotaHealer {
            access,
            notifier,
            ledger,
            rules,
            catalog: QuotaCatalog::default(),
            auto_management: std::sync::Mutex::new(std::collections::HashMap::new()),
            settings,
        }
    }

    pub(super) fn home(&self) -> Home<'_> {
        Home {
            account_id: self.settings.home_account_id.as_deref(),
            region: &self.settings.home_region,
            organization: &self.rules.organization,
        }
    }

    /// How the clients reach `scope`: the function's own credentials in its own account, the spoke
    /// role in any other.
    pub(super) fn reach<'s>(&self, own: bool, scope: &'s Scope<'s>) -> Reach<'s> {
        if own {
            Reach::Own {
                region: scope.region,
            }
        } else {
            Reach::Spoke {
                account_id: scope.account_id,
                region: scope.region,
            }
        }
    }

    /// A page's routing: the account's owner and topic from `rules/accounts.toml`.
    pub(super) fn route(
        &self,
        account_id: &str,
        region: &str,
        codes: (Option<&str>, Option<&str>),
        reason: &str,
        severity: Severity,
    ) -> Route {
        let organization = &self.rules.organization;
        Route {
            topic_arn: organization.topic_of(account_id).map(str::to_owned),
            account: account_id.to_owned(),
            region: region.to_owned(),
            owner: organization.owner_of(account_id).map(str::to_owned),
            service: codes.0.map(str::to_owned),
            quota: codes.1.map(str::to_owned),
            reason: reason.to_owned(),
            severity,
        }
    }

    /// Handles one alarm notice; `now` is seconds since the epoch.
    pub async fn handle<'s>(
        &self,
        notice: impl Into<QuotaSignal<'s>>,
        request_id: &str,
        now: u64,
    ) -> Result<Outcome, HealError> {
        self.handle_with(notice.into(), request_id, now, self.settings.dry_run)
            .await
    }

    /// The same, planning only when `dry_run` (or the settings say so).
    pub async fn handle_with(
        &self,
        notice: QuotaSignal<'_>,
        request_id: &str,
        now: u64,
        dry_run: bool,
    ) -> Result<Outcome, HealError> {
        let dry_run = dry_run || self.settings.dry_run;
        let home = self.home();
        let scope = Scope {
            account_id: home.account_of(notice.account_id()),
            region: notice.region().unwrap_or(&self.settings.home_region),
        };
        let mut steps = Vec::new();
        // A dry run changes nothing, the claim included.
        let claim = match (notice.transition(), dry_run) {
            (Some(transition), false) => Some(transition.id.as_str()),
            (None, false) => {
                steps.push("the event does not say when the alarm changed state, so a second delivery of it cannot be recognised".into());
                None
            }
            (_, true) => None,
        };
        if let Some(key) = claim {
            let claimed = self
                .ledger
                .claim(
                    key,
                    request_id,
                    now,
                    now + CLAIM_LEASE_SECS,
                    now + CLAIM_MEMORY_SECS,
                )
                .await?;
            if !claimed {
                return self.duplicate(notice, key, request_id, now, steps).await;
            }
        }
        let own = home.owns(scope.account_id);
        let (plan, terms) = self.plan(notice, &scope, own, now as i64, &mut steps).await;
        info!(function = FUNCTION, request_id, alarm = %notice.name(), plan = plan_name(&plan), "planned");
        let acted = if dry_run {
            Ok(Outcome::planned(notice, &plan, terms.name.clone()))
        } else {
            self.act_claimed(
                claim, request_id, notice, &scope, own, plan, &terms, now, &mut steps,
            )
            .await
        };
        let mut outcome = match acted {
            Ok(outcome) => outcome,
            Err(e) => {
                self.release(claim, request_id).await;
                return Err(e);
            }
        };
        if outcome.reason == EscalationReason::SpokeCredentialsExpired.slug() {
            self.access.forget(scope.account_id);
        }
        outcome.steps = steps;
        log_decided(request_id, notice, &outcome);
        if dry_run {
            // A dry run is audited too ("what did it plan last night?"); it changed nothing, so a
            // record that cannot be written is logged, not failed.
            if let Err(e) = self.audit(notice, &outcome, request_id, now).await {
                warn!(error = %e, "the dry run's audit record was not written");
            }
        } else {
            if let Err(e) = self.audit(notice, &outcome, request_id, now).await {
                // Lambda's retry decides again; what was filed or paged stops it from doing it twice
                // (the request history, the page's cooldown).
                self.release(claim, request_id).await;
                return Err(e);
            }
            if let Some(key) = claim {
                if let Err(e) = self
                    .ledger
                    .settle_claim(key, request_id, outcome.decision.name())
                    .await
                {
                    // The claim's lease still holds later deliveries off for a while, and what was
                    // filed or paged stops them after.
                    warn!(error = %e, claim = key, "the decided input could not be marked so");
                }
            }
        }
        Ok(outcome)
    }

    /// Carries the plan out under the claim: the claim is confirmed (and the plan written into it)
    /// just before anything is filed or paged.
    #[allow(clippy::too_many_arguments)]
    async fn act_claimed(
        &self,
        claim: Option<&str>,
        request_id: &str,
        notice: QuotaSignal<'_>,
        scope: &Scope<'_>,
        own: bool,
        plan: Plan,
        terms: &RuleTerms,
        now: u64,
        steps: &mut Vec<String>,
    ) -> Result<Outcome, HealError> {
        if let (Some(key), false) = (claim, matches!(plan, Plan::Nothing { .. })) {
            if !self
                .ledger
                .confirm_claim(key, request_id, plan_name(&plan))
                .await?
            {
                steps.push(format!(
                    "another delivery took over {key} while this one read: it acts, this one does not"
                ));
                return Ok(duplicate_outcome(notice, key));
            }
        }
        self.act(notice, scope, own, plan, terms, now, steps).await
    }

    /// A delivery of an input another run claimed or decided: nothing is read, filed or paged.
    async fn duplicate(
        &self,
        notice: QuotaSignal<'_>,
        key: &str,
        request_id: &str,
        now: u64,
        mut steps: Vec<String>,
    ) -> Result<Outcome, HealError> {
        steps.push(format!(
            "{key} was claimed by another delivery of the same event: nothing read, filed or paged"
        ));
        let mut outcome = duplicate_outcome(notice, key);
        outcome.steps = steps;
        log_decided(request_id, notice, &outcome);
        self.audit(notice, &outcome, request_id, now).await?;
        Ok(outcome)
    }

    /// Gives a failed run's claim back, so that Lambda's retry decides again.
    async fn release(&self, claim: Option<&str>, request_id: &str) {
        if let Some(key) = claim {
            if let Err(e) = self.ledger.release_claim(key, request_id).await {
                warn!(error = %e, claim = key, "a failed run's claim could not be released; it lapses with its lease");
            }
        }
    }

    async fn audit(
        &self,
        notice: QuotaSignal<'_>,
        outcome: &Outcome,
        request_id: &str,
        now: u64,
    ) -> Result<(), HealError> {
        let record = AuditRecord {
            kind: AuditKind::Quota,
            function: FUNCTION.into(),
            account: self.home().account_of(notice.account_id()).to_owned(),
            subject: notice.name().to_owned(),
            at: now,
            expires: now + self.settings.audit_retention_secs,
            request_id: request_id.to_owned(),
            decision: outcome.decision.name().to_owned(),
            reason: outcome.reason.clone(),
            dry_run: outcome.dry_run,
            outcome: serde_json::to_string(outcome).unwrap_or_default(),
        };
        self.ledger.record(&record).await.map_err(|e| {
            error!(error = %e, "audit record not written");
            HealError::from(e)
        })
    }
}

/// The one log line of every decision.
fn log_decided(request_id: &str, notice: QuotaSignal<'_>, outcome: &Outcome) {
    info!(
        function = FUNCTION,
        request_id,
        alarm = %notice.name(),
        decision = outcome.decision.name(),
        reason = %outcome.reason,
        quota = outcome.quota.quota_code.as_deref().unwrap_or("-"),
        dry_run = outcome.dry_run,
        "decided"
    );
}

fn duplicate_outcome(notice: QuotaSignal<'_>, key: &str) -> Outcome {
    Outcome::nothing(
        notice,
        "duplicate-delivery",
        format!("another delivery of this event ({key}) decided it; nothing done twice"),
        false,
    )
}

fn plan_name(plan: &Plan) -> &'static str {
    match plan {
        Plan::Raise(_) => "raise",
        Plan::Wait { .. } => "wait",
        Plan::Escalate(_) => "escalate",
        Plan::Resolve { .. } => "resolve",
        Plan::Nothing { .. } => "nothing",
    }
}
