//! In-memory stand-ins for the ledger and the topic, each with a failure switch: the paths where
//! DynamoDB or SNS fail after selfheal acted are tested through them.
//! Clones share their state, so a test keeps one handle while the healer owns another.

use selfheal::aws::service_quotas::ServiceQuotas;
use selfheal::escalation::{Notification, Notifier, NotifyError, Route};
use selfheal::ledger::{
    AuditRecord, AuditTrail, Claims, Cooldowns, FiledRequest, FiledRequests, LedgerError,
    OpenEscalation, OpenEscalations, ReplayCounts, WaitingRaise, WaitingRaises,
};
use selfheal::quota::{AccessError, QuotaAccess, Reach};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A claim as `DynamoLedger` keeps it: who holds it, its state and until when.
#[derive(Clone, Debug)]
pub struct ClaimRecord {
    pub holder: String,
    pub state: &'static str,
    pub lease_until: u64,
    pub plan: Option<String>,
    pub decision: Option<String>,
}

#[derive(Default)]
pub struct LedgerState {
    pub claims: Mutex<HashMap<String, ClaimRecord>>,
    pub cooldowns: Mutex<HashMap<String, u64>>,
    pub escalations: Mutex<HashMap<String, OpenEscalation>>,
    pub audit: Mutex<Vec<AuditRecord>>,
    pub replays: Mutex<HashMap<String, u32>>,
    pub filed: Mutex<Vec<FiledRequest>>,
    pub waiting: Mutex<Vec<WaitingRaise>>,
    /// Operations (method names) that fail, as DynamoDB would when throttled or down.
    pub failing: Mutex<HashSet<&'static str>>,
}

/// Every ledger capability in memory; `fail` makes one operation fail until `heal`.
#[derive(Clone, Default)]
pub struct MemoryLedger(pub Arc<LedgerState>);

impl MemoryLedger {
    pub fn fail(&self, operation: &'static str) {
        self.0.failing.lock().unwrap().insert(operation);
    }

    pub fn heal(&self) {
        self.0.failing.lock().unwrap().clear();
    }

    pub fn audit(&self) -> Vec<AuditRecord> {
        self.0.audit.lock().unwrap().clone()
    }

    fn check(&self, operation: &'static str) -> Result<(), LedgerError> {
        if self.0.failing.lock().unwrap().contains(operation) {
            return Err(LedgerError {
                operation,
                message: "ProvisionedThroughputExceededException: injected".into(),
            });
        }
        Ok(())
    }
}

/// The same conditions as `DynamoLedger`'s conditional writes.
impl Claims for MemoryLedger {
    async fn claim(
        &self,
        key: &str,
        holder: &str,
        now: u64,
        lease_until: u64,
        _expires: u64,
    ) -> Result<bool, LedgerError> {
        self.check("claim")?;
        let mut claims = self.0.claims.lock().unwrap();
        let free = match claims.get(key) {
            None => true,
            Some(c) => {
                (c.state != "done" && c.lease_until <= now)
                    || (c.state == "claimed" && c.holder == holder)
            }
        };
        if free {
            claims.insert(
                key.to_owned(),
                ClaimRecord {
                    holder: holder.to_owned(),
                    state: "claimed",
                    lease_until,
                    plan: None,
                    decision: None,
                },
            );
        }
        Ok(free)
    }

    async fn confirm_claim(
        &self,
        key: &str,
        holder: &str,
        plan: &str,
    ) -> Result<bool, LedgerError> {
        self.check("confirm_claim")?;
        let mut claims = self.0.claims.lock().unwrap();
        match claims.get_mut(key) {
            Some(c) if c.holder == holder && c.state != "done" => {
                c.state = "acting";
                c.plan = Some(plan.to_owned());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn settle_claim(
        &self,
        key: &str,
        holder: &str,
        decision: &str,
    ) -> Result<(), LedgerError> {
        self.check("settle_claim")?;
        if let Some(c) = self.0.claims.lock().unwrap().get_mut(key) {
            if c.holder == holder {
                c.state = "done";
                c.decision = Some(decision.to_owned());
            }
        }
        Ok(())
    }

    async fn release_claim(&self, key: &str, holder: &str) -> Result<(), LedgerError> {
        self.check("release_claim")?;
        let mut claims = self.0.claims.lock().unwrap();
        if claims
            .get(key)
            .is_some_and(|c| c.holder == holder && c.state != "done")
        {
            claims.remove(key);
        }
        Ok(())
    }
}

impl Cooldowns for MemoryLedger {
    async fn claim_cooldown(&self, key: &str, now: u64, until: u64) -> Result<bool, LedgerError> {
        self.check("claim_cooldown")?;
        let mut cooldowns = self.0.cooldowns.lock().unwrap();
        match cooldowns.get(key) {
            Some(&running) if running > now => Ok(false),
            _ => {
                cooldowns.insert(key.to_owned(), until);
                Ok(true)
            }
        }
    }

    async fn release_cooldown(&self, key: &str) -> Result<(), LedgerError> {
        self.check("release_cooldown")?;
        self.0.cooldowns.lock().unwrap().remove(key);
        Ok(())
    }
}

impl OpenEscalations for MemoryLedger {
    async fn open_escalation(
        &self,
        alarm_key: &str,
        escalation: &OpenEscalation,
        _expires: u64,
    ) -> Result<(), LedgerError> {
        self.check("open_escalation")?;
        self.0
            .escalations
            .lock()
            .unwrap()
            .insert(alarm_key.to_owned(), escalation.clone());
        Ok(())
    }

    async fn close_escalation(
        &self,
        alarm_key: &str,
    ) -> Result<Option<OpenEscalation>, LedgerError> {
        self.check("close_escalation")?;
        Ok(self.0.escalations.lock().unwrap().remove(alarm_key))
    }
}

impl AuditTrail for MemoryLedger {
    async fn record(&self, record: &AuditRecord) -> Result<(), LedgerError> {
        self.check("record")?;
        self.0.audit.lock().unwrap().push(record.clone());
        Ok(())
    }
}

impl FiledRequests for MemoryLedger {
    async fn record_filed(&self, request: &FiledRequest) -> Result<(), LedgerError> {
        self.check("record_filed")?;
        let mut filed = self.0.filed.lock().unwrap();
        filed.retain(|r| r.request_id != request.request_id);
        filed.push(request.clone());
        Ok(())
    }

    async fn open_filed(&self) -> Result<Vec<FiledRequest>, LedgerError> {
        self.check("open_filed")?;
        Ok(self.0.filed.lock().unwrap().clone())
    }

    async fn update_filed(&self, request: &FiledRequest, closed: bool) -> Result<(), LedgerError> {
        self.check("update_filed")?;
        let mut filed = self.0.filed.lock().unwrap();
        filed.retain(|r| r.request_id != request.request_id);
        if !closed {
            filed.push(request.clone());
        }
        Ok(())
    }
}

impl WaitingRaises for MemoryLedger {
    async fn queue_raise(&self, raise: &WaitingRaise) -> Result<(), LedgerError> {
        self.check("queue_raise")?;
        let mut waiting = self.0.waiting.lock().unwrap();
        waiting.retain(|w| !same_quota(w, raise));
        waiting.push(raise.clone());
        Ok(())
    }

    async fn waiting(&self) -> Result<Vec<WaitingRaise>, LedgerError> {
        self.check("waiting")?;
        Ok(self.0.waiting.lock().unwrap().clone())
    }

    async fn drop_waiting(&self, raise: &WaitingRaise) -> Result<(), LedgerError> {
        self.check("drop_waiting")?;
        self.0
            .waiting
            .lock()
            .unwrap()
            .retain(|w| !same_quota(w, raise));
        Ok(())
    }
}

/// One waiting raise per quota of an account and Region, as the DynamoDB ledger keys them.
fn same_quota(a: &WaitingRaise, b: &WaitingRaise) -> bool {
    (&a.account_id, &a.region, &a.service_code, &a.quota_code)
        == (&b.account_id, &b.region, &b.service_code, &b.quota_code)
}

impl ReplayCounts for MemoryLedger {
    async fn replay_counts(&self, keys: &[String]) -> Result<HashMap<String, u32>, LedgerError> {
        self.check("replay_counts")?;
        let replays = self.0.replays.lock().unwrap();
        Ok(keys
            .iter()
            .filter_map(|k| replays.get(k).map(|c| (k.clone(), *c)))
            .collect())
    }

    async fn record_replays(
        &self,
        counts: &[(String, u32)],
        _expires: u64,
    ) -> Result<(), LedgerError> {
        self.check("record_replays")?;
        self.0
            .replays
            .lock()
            .unwrap()
            .extend(counts.iter().cloned());
        Ok(())
    }
}

#[derive(Default)]
pub struct TopicState {
    pub published: Mutex<Vec<Notification>>,
    pub routes: Mutex<Vec<Route>>,
    pub failing: AtomicBool,
}

/// Records what was published; fails every publish while `failing` is set.
#[derive(Clone, Default)]
pub struct MemoryTopic(pub Arc<TopicState>);

impl MemoryTopic {
    pub fn fail(&self, failing: bool) {
        self.0.failing.store(failing, Ordering::SeqCst);
    }

    pub fn published(&self) -> Vec<Notification> {
        self.0.published.lock().unwrap().clone()
    }

    /// Each published message's routing, in order.
    pub fn routes(&self) -> Vec<Route> {
        self.0.routes.lock().unwrap().clone()
    }
}

impl Notifier for MemoryTopic {
    async fn publish(
        &self,
        notification: &Notification,
        route: &Route,
    ) -> Result<String, NotifyError> {
        if self.0.failing.load(Ordering::SeqCst) {
            return Err(NotifyError("InternalError: SNS is down".into()));
        }
        self.0.routes.lock().unwrap().push(route.clone());
        let mut published = self.0.published.lock().unwrap();
        published.push(notification.clone());
        Ok(format!("message-{}", published.len()))
    }
}

/// One Service Quotas client for every account and Region: a client over `aws-smithy-mocks` cannot be
/// rebuilt per account, so the mock tests hand the healer this one, and see which account each call was
/// for.
#[derive(Clone)]
pub struct FixedClient {
    pub client: ServiceQuotas,
    pub reached: Arc<Mutex<Vec<String>>>,
    pub forgotten: Arc<Mutex<Vec<String>>>,
}

impl FixedClient {
    pub fn new(client: ServiceQuotas) -> Self {
        FixedClient {
            client,
            reached: Arc::default(),
            forgotten: Arc::default(),
        }
    }
}

impl QuotaAccess for FixedClient {
    type Api = ServiceQuotas;

    async fn api_in(&self, reach: Reach<'_>) -> Result<ServiceQuotas, AccessError> {
        let label = match reach {
            Reach::Own { region } => format!("own:{region}"),
            Reach::Spoke { account_id, region } => format!("{account_id}:{region}"),
        };
        self.reached.lock().unwrap().push(label);
        Ok(self.client.clone())
    }

    fn forget(&self, account_id: &str) {
        self.forgotten.lock().unwrap().push(account_id.to_owned());
    }
}
