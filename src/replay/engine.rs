//! The replay loop: receive, deliver, delete only what was delivered, release the rest.

use super::api::{
    Attribute, AwsCallError, BatchResult, DlqMessage, FunctionApi, Outgoing, QueueApi, QueueInfo,
    Receipt, REPLAY_COUNT,
};
use super::fate::{message_fate, MessageFacts, MessageFate};
use super::request::ReplayRequest;
use super::summary::{PreviewMessage, ReplaySummary};
use crate::ledger::{LedgerError, ReplayCounts};
use crate::rules::{DlqRule, DlqTarget, RuleSet};
use crate::text::cut_chars;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};
use tracing::{info, warn};

/// SQS takes at most 10 message attributes.
const MAX_ATTRIBUTES: usize = 10;
const PREVIEW_MESSAGES: usize = 5;
const PREVIEW_BODY_CHARS: usize = 200;
/// Empty receives in a row (the last one long-polling) before the DLQ is taken to be empty.
const EMPTY_RECEIVES: u32 = 3;

/// Why a replay could not start, or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("queue {queue:?} is not a replayable DLQ in rules/ (allowed: {allowed})")]
    QueueNotAllowed { queue: String, allowed: String },
    #[error("dead-letter queue {0:?} does not exist")]
    QueueMissing(String),
    #[error("target {0} does not exist; nothing was moved")]
    TargetMissing(String),
    #[error("{0}")]
    TargetAmbiguous(String),
    #[error(transparent)]
    Api(#[from] AwsCallError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

impl ReplayError {
    /// The `errorType` Lambda reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "InvalidRequest",
            Self::QueueNotAllowed { .. } => "QueueNotAllowed",
            Self::QueueMissing(_) => "QueueMissing",
            Self::TargetMissing(_) | Self::TargetAmbiguous(_) => "TargetMissing",
            Self::Api(_) => "AwsError",
            Self::Ledger(_) => "LedgerFailed",
        }
    }
}

#[derive(Clone, Debug)]
pub struct ReplaySettings {
    /// Stop this long before the deadline, leaving the rest untouched.
    pub deadline_margin: Duration,
    /// How long a replay count is remembered for messages re-invoked into a function.
    pub replay_memory_secs: u64,
}

impl Default for ReplaySettings {
    fn default() -> Self {
        ReplaySettings {
            deadline_margin: Duration::from_secs(5),
            replay_memory_secs: 14 * 24 * 3600,
        }
    }
}

/// Where the messages go.
enum Target {
    Function {
        name: String,
        qualifier: Option<String>,
    },
    Queue(QueueInfo),
}

impl Target {
    fn label(&self) -> String {
        match self {
            Target::Function {
                name,
                qualifier: Some(q),
            } => format!("function:{name}:{q}"),
            Target::Function {
                name,
                qualifier: None,
            } => format!("function:{name}"),
            Target::Queue(q) => format!("queue:{}", q.name),
        }
    }
}

pub struct Replayer<Q, F, L> {
    queues: Q,
    functions: F,
    ledger: L,
    rules: RuleSet,
    settings: ReplaySettings,
}

/// One run's bookkeeping.
struct Run {
    summary: ReplaySummary,
    /// Message ids handled this run, to count SQS's duplicate deliveries.
    seen: HashSet<String>,
    /// Receipts to make visible again at the end: filtered, poison, failed.
    to_release: Vec<Receipt>,
    /// Delivered messages still to delete.
    to_delete: Vec<Receipt>,
    /// FIFO groups with an undelivered message: later messages of the group wait.
    blocked_groups: HashSet<String>,
    started: Instant,
    delivered_at: Vec<Instant>,
}

impl Run {
    /// A message received for the first time this run: its error code and age in the summary.
    fn count_received(&mut self, message: &DlqMessage, now_ms: u64) {
        let summary = &mut self.summary;
        summary.received += 1;
        if let Some(code) = message.error_code() {
            *summary.error_codes.entry(code).or_default() += 1;
        }
        if let Some(age) = message.age_seconds(now_ms) {
            summary.oldest_age_seconds =
                Some(summary.oldest_age_seconds.map_or(age, |o| o.max(age)));
            summary.newest_age_seconds =
                Some(summary.newest_age_seconds.map_or(age, |n| n.min(age)));
        }
    }
}

impl<Q: QueueApi, F: FunctionApi, L: ReplayCounts> Replayer<Q, F, L> {
    pub fn new(
        queues: Q,
        functions: F,
        ledger: L,
        rules: RuleSet,
        settings: ReplaySettings,
    ) -> Self {
        Replayer {
            queues,
            functions,
            ledger,
            rules,
            settings,
        }
    }

    /// Runs one replay until the DLQ is empty, `max` is reached or `deadline` is near.
    /// `now_ms` gives the wall clock (for message ages and the ledger).
    pub async fn replay(
        &self,
        request: &ReplayRequest,
        deadline: Option<Instant>,
        now_ms: impl Fn() -> u64 + Send + Sync,
    ) -> Result<ReplaySummary, ReplayError> {
        let name = request.queue_name().to_owned();
        let rule = self
            .rules
            .dlq(&name)
            .ok_or_else(|| ReplayError::QueueNotAllowed {
                queue: name.clone(),
                allowed: self
                    .rules
                    .dlqs
                    .iter()
                    .map(|r| r.queue.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        let dlq = self.queues.resolve(&name).await.map_err(|e| {
            if e.is_not_found() {
                ReplayError::QueueMissing(name.clone())
            } else {
                ReplayError::Api(e)
            }
        })?;
        let target = self.resolve_target(rule, &dlq).await?;
        let mut run = Run {
            summary: ReplaySummary {
                queue: dlq.name.clone(),
                target: target.label(),
                dry_run: request.dry_run,
                keep_copy: request.keep_copy,
                ..Default::default()
            },
            seen: HashSet::new(),
            to_release: Vec::new(),
            to_delete: Vec::new(),
            blocked_groups: HashSet::new(),
            started: Instant::now(),
            delivered_at: Vec::new(),
        };
        info!(function = "dlq-replay", queue = %dlq.name, target = %run.summary.target, dry_run = request.dry_run, "replay started");
        let limit = request.max.unwrap_or(u64::MAX);
        let mut empty = 0;
        let result = loop {
            if run.summary.received >= limit {
                break Ok("max");
            }
            let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if remaining.is_some_and(|r| r <= self.settings.deadline_margin) {
                break Ok("deadline");
            }
            // Received messages stay invisible for the rest of the run (they are released at the end),
            // and come back by themselves if the run dies.
            let visibility = remaining.map_or(300, |r| (r.as_secs() + 30).clamp(30, 43_200)) as i32;
            let want = (limit - run.summary.received).min(10) as i32;
            let wait = if empty > 0 { 1 } else { 0 };
            // The last batch's deletes travel alongside the next receive.
            let pending = std::mem::take(&mut run.to_delete);
            let (received, deleted) = tokio::join!(
                self.queues.receive(&dlq.url, want, visibility, wait),
                self.delete_receipts(&dlq, &pending),
            );
            run.summary.delivered_not_deleted += pending.len() as u64 - deleted;
            let batch = match received {
                Ok(batch) => batch,
                Err(e) => break Err(ReplayError::Api(e)),
            };
            if batch.is_empty() {
                // Short polling may miss messages; stop only when the queue says none are visible.
                empty += 1;
                let visible = match self.queues.visible(&dlq.url).await {
                    Ok(visible) => visible,
                    Err(e) => break Err(ReplayError::Api(e)),
                };
                if visible == 0 || empty >= EMPTY_RECEIVES {
                    break Ok("empty");
                }
                continue;
            }
            empty = 0;
            if let Err(e) = self
                .handle_batch(request, rule, &dlq, &target, batch, &mut run, &now_ms)
                .await
            {
                break Err(e);
            }
        };
        let pending = std::mem::take(&mut run.to_delete);
        run.summary.delivered_not_deleted +=
            pending.len() as u64 - self.delete_receipts(&dlq, &pending).await;
        // Whatever happened, what was held is made visible again: nothing stays hidden.
        self.release(&dlq, &mut run).await;
        let stopped_by = result?;
        run.summary.stopped_by = stopped_by.into();
        run.summary.remaining = self.queues.depth(&dlq.url).await.ok();
        run.summary.duration_ms = run.started.elapsed().as_millis() as u64;
        info!(
            function = "dlq-replay",
            queue = %dlq.name,
            dry_run = request.dry_run,
            replayed = run.summary.replayed,
            failed = run.summary.failed,
            skipped = run.summary.skipped_by_filter,
            poison = run.summary.poison,
            remaining = run.summary.remaining,
            stopped_by,
            "replay finished"
        );
        Ok(run.summary)
    }

    async fn resolve_target(&self, rule: &DlqRule, dlq: &QueueInfo) -> Result<Target, ReplayError> {
        match &rule.target {
            DlqTarget::Function { name, qualifier } => {
                if self.functions.exists(name, qualifier.as_deref()).await? {
                    Ok(Target::Function {
                        name: name.clone(),
                        qualifier: qualifier.clone(),
                    })
                } else {
                    let label = qualifier
                        .as_ref()
                        .map_or_else(|| name.clone(), |q| format!("{name}:{q}"));
                    Err(ReplayError::TargetMissing(format!("function {label}")))
                }
            }
            DlqTarget::Queue { name } => self.resolve_queue(name).await,
            DlqTarget::SourceQueue => {
                let sources = self.queues.source_queues(&dlq.url).await?;
                match sources.as_slice() {
                    [one] => {
                        let name = one.trim_end_matches('/').rsplit('/').next().unwrap_or(one).to_owned();
                        self.resolve_queue(&name).await
                    }
                    [] => Err(ReplayError::TargetMissing(format!(
                        "source queue of {} (no queue names it as its DLQ; set target_queue in the rule)",
                        dlq.name
                    ))),
                    many => Err(ReplayError::TargetAmbiguous(format!(
                        "{} queues use {} as their DLQ ({}); set target_queue in the rule",
                        many.len(),
                        dlq.name,
                        many.join(", ")
                    ))),
                }
            }
        }
    }

    async fn resolve_queue(&self, name: &str) -> Result<Target, ReplayError> {
        match self.queues.resolve(name).await {
            Ok(queue) => Ok(Target::Queue(queue)),
            Err(e) if e.is_not_found() => Err(ReplayError::TargetMissing(format!("queue {name}"))),
            Err(e) => Err(e.into()),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn handle_batch(
        &self,
        request: &ReplayRequest,
        rule: &DlqRule,
        dlq: &QueueInfo,
        target: &Target,
        batch: Vec<DlqMessage>,
        run: &mut Run,
        now_ms: &(impl Fn() -> u64 + Send + Sync),
    ) -> Result<(), ReplayError> {
        let now = now_ms();
        let counts = match target {
            Target::Function { .. } => {
                let keys: Vec<String> =
                    batch.iter().map(|m| body_key(&dlq.name, &m.body)).collect();
                self.ledger.replay_counts(&keys).await?
            }
            Target::Queue(_) => HashMap::new(),
        };
        let mut to_deliver = Vec::new();
        for message in batch {
            let replays = match target {
                Target::Function { .. } => counts
                    .get(&body_key(&dlq.name, &message.body))
                    .copied()
                    .unwrap_or(0),
                Target::Queue(_) => message.replay_count(),
            };
            let fate = message_fate(&MessageFacts {
                message: &message,
                request,
                seen_before: !run.seen.insert(message.id.clone()),
                group_blocked: message
                    .group_id()
                    .is_some_and(|g| run.blocked_groups.contains(g)),
                replays,
                max_replays: rule.max_replays,
                now_ms: now,
            });
            if fate != MessageFate::Duplicate {
                run.count_received(&message, now);
            }
            match fate {
                MessageFate::Duplicate => {
                    run.summary.duplicates += 1;
                    run.to_release.push(receipt(&message));
                }
                MessageFate::Filtered(reason) => {
                    run.summary.skipped_by_filter += 1;
                    *run.summary
                        .skipped_reasons
                        .entry(reason.into())
                        .or_default() += 1;
                    run.to_release.push(receipt(&message));
                }
                MessageFate::Poison => {
                    run.summary.poison += 1;
                    run.to_release.push(receipt(&message));
                }
                MessageFate::GroupBlocked => fail(run, &message, "EarlierMessageOfGroupFailed"),
                MessageFate::WouldDeliver => {
                    run.summary.replayed += 1;
                    if run.summary.preview.len() < PREVIEW_MESSAGES {
                        run.summary.preview.push(PreviewMessage {
                            message_id: message.id.clone(),
                            error_code: message.error_code(),
                            age_seconds: message.age_seconds(now),
                            body: cut_chars(&message.body, PREVIEW_BODY_CHARS),
                        });
                    }
                    run.to_release.push(receipt(&message));
                }
                MessageFate::Deliver { replays } => to_deliver.push((message, replays)),
            }
        }
        if to_deliver.is_empty() {
            return Ok(());
        }
        self.pace(request, run, to_deliver.len()).await;
        let delivered = match target {
            Target::Queue(queue) => self.deliver_to_queue(queue, &to_deliver, run).await,
            Target::Function { name, qualifier } => {
                self.deliver_to_function(dlq, name, qualifier.as_deref(), &to_deliver, run, now)
                    .await?
            }
        };
        if request.keep_copy {
            run.summary.replayed += delivered.len() as u64;
            run.to_release.extend(delivered.iter().map(|m| receipt(m)));
            return Ok(());
        }
        // Deleted with the next receive (or at the end of the run).
        run.summary.replayed += delivered.len() as u64;
        run.to_delete.extend(delivered.iter().map(|m| receipt(m)));
        Ok(())
    }

    /// Waits so that deliveries stay under `rate` a second.
    async fn pace(&self, request: &ReplayRequest, run: &mut Run, count: usize) {
        let Some(rate) = request.rate else { return };
        for _ in 0..count {
            let window = Duration::from_secs(1);
            run.delivered_at.retain(|t| t.elapsed() < window);
            if run.delivered_at.len() as f64 >= rate {
                let oldest = run.delivered_at[0];
                tokio::time::sleep(window.saturating_sub(oldest.elapsed())).await;
                run.delivered_at.remove(0);
            }
            run.delivered_at.push(Instant::now());
        }
    }

    async fn deliver_to_queue<'m>(
        &self,
        queue: &QueueInfo,
        messages: &'m [(DlqMessage, u32)],
        run: &mut Run,
    ) -> Vec<&'m DlqMessage> {
        let all: Vec<&(DlqMessage, u32)> = messages.iter().collect();
        if !queue.fifo {
            return self.send_entries(queue, &all, run).await;
        }
        // The entries of a batch succeed or fail one by one: with two messages of a group in one
        // batch, the first could fail and the second arrive, out of order. So each batch holds at
        // most one message of a group, the batches go in order, and a group stops at its first
        // failure.
        let mut delivered = Vec::new();
        for round in fifo_rounds(&all) {
            let (blocked, open): (Vec<_>, Vec<_>) = round
                .into_iter()
                .partition(|(m, _)| m.group_id().is_some_and(|g| run.blocked_groups.contains(g)));
            for (message, _) in blocked {
                fail(run, message, "EarlierMessageOfGroupFailed");
            }
            if !open.is_empty() {
                delivered.extend(self.send_entries(queue, &open, run).await);
            }
        }
        delivered
    }

    /// One `SendMessageBatch`; what is not in `Successful` is failed.
    async fn send_entries<'m>(
        &self,
        queue: &QueueInfo,
        messages: &[&'m (DlqMessage, u32)],
        run: &mut Run,
    ) -> Vec<&'m DlqMessage> {
        let entries: Vec<Outgoing> = messages
            .iter()
            .enumerate()
            .map(|(i, (m, replays))| outgoing(i, m, *replays, queue.fifo))
            .collect();
        let result = match self.queues.send_batch(&queue.url, &entries).await {
            Ok(result) => result,
            Err(e) => BatchResult {
                ok: Vec::new(),
                failed: entries
                    .iter()
                    .map(|e2| (e2.id.clone(), e.code.clone()))
                    .collect(),
            },
        };
        let failed: HashMap<&str, &str> = result
            .failed
            .iter()
            .map(|(id, code)| (id.as_str(), code.as_str()))
            .collect();
        let ok: HashSet<&str> = result.ok.iter().map(String::as_str).collect();
        let mut delivered = Vec::new();
        for (entry, (message, _)) in entries.iter().zip(messages.iter().copied()) {
            if ok.contains(entry.id.as_str()) {
                delivered.push(message);
            } else {
                // Not in `Successful`: not delivered, whatever the reason.
                let code = failed
                    .get(entry.id.as_str())
                    .copied()
                    .unwrap_or("NotAcknowledged");
                fail(run, message, code);
            }
        }
        delivered
    }

    async fn deliver_to_function<'m>(
        &self,
        dlq: &QueueInfo,
        name: &str,
        qualifier: Option<&str>,
        messages: &'m [(DlqMessage, u32)],
        run: &mut Run,
        now: u64,
    ) -> Result<Vec<&'m DlqMessage>, ReplayError> {
        let invocations = messages
            .iter()
            .map(|(m, _)| self.functions.invoke_async(name, qualifier, &m.body));
        let results = crate::concurrent::join_all(invocations).await;
        let mut delivered = Vec::new();
        let mut counted = Vec::new();
        for (result, (message, replays)) in results.into_iter().zip(messages) {
            match result {
                Ok(()) => {
                    delivered.push(message);
                    counted.push((body_key(&dlq.name, &message.body), replays + 1));
                }
                Err(e) => fail(run, message, &e.code),
            }
        }
        if !counted.is_empty() {
            self.ledger
                .record_replays(&counted, now / 1000 + self.settings.replay_memory_secs)
                .await?;
        }
        Ok(delivered)
    }

    /// Deletes delivered messages; returns how many are gone. A delivered message whose delete
    /// failed stays in the DLQ: a later run delivers it again (at-least-once), it is never lost.
    async fn delete_receipts(&self, dlq: &QueueInfo, receipts: &[Receipt]) -> u64 {
        if receipts.is_empty() {
            return 0;
        }
        match self.queues.delete_batch(&dlq.url, receipts).await {
            Ok(result) => result.ok.len() as u64,
            Err(e) => {
                warn!(error = %e, "delete of delivered messages failed; they stay in the DLQ");
                0
            }
        }
    }

    async fn release(&self, dlq: &QueueInfo, run: &mut Run) {
        let receipts = std::mem::take(&mut run.to_release);
        for chunk in receipts.chunks(10) {
            if let Err(e) = self.queues.release_batch(&dlq.url, chunk).await {
                // They become visible anyway when their visibility timeout ends.
                warn!(error = %e, "could not make messages visible again; they return after their visibility timeout");
            }
        }
    }
}

/// Messages in rounds holding at most one message of each FIFO group, each group's in order.
fn fifo_rounds<'m>(messages: &[&'m (DlqMessage, u32)]) -> Vec<Vec<&'m (DlqMessage, u32)>> {
    let mut rounds: Vec<Vec<&(DlqMessage, u32)>> = Vec::new();
    let mut next_round: HashMap<&str, usize> = HashMap::new();
    for &message in messages {
        let round = next_round
            .entry(message.0.group_id().unwrap_or_default())
            .or_default();
        if rounds.len() <= *round {
            rounds.push(Vec::new());
        }
        rounds[*round].push(message);
        *round += 1;
    }
    rounds
}

fn receipt(message: &DlqMessage) -> Receipt {
    Receipt {
        id: message.id.clone(),
        handle: message.receipt_handle.clone(),
    }
}

fn fail(run: &mut Run, message: &DlqMessage, code: &str) {
    run.summary.failed += 1;
    *run.summary
        .failure_reasons
        .entry(code.to_owned())
        .or_default() += 1;
    if let Some(group) = message.group_id() {
        run.blocked_groups.insert(group.to_owned());
    }
    run.to_release.push(receipt(message));
}

/// The message as it goes back to a queue: body and attributes kept, the replay counted, FIFO group
/// kept and a deduplication id that makes a duplicate delivery harmless.
fn outgoing(index: usize, message: &DlqMessage, replays: u32, fifo: bool) -> Outgoing {
    let mut attributes: BTreeMap<String, Attribute> = message.message_attributes.clone();
    if attributes.contains_key(REPLAY_COUNT) || attributes.len() < MAX_ATTRIBUTES {
        attributes.insert(
            REPLAY_COUNT.into(),
            Attribute::number(&(replays + 1).to_string()),
        );
    }
    Outgoing {
        id: index.to_string(),
        body: message.body.clone(),
        message_attributes: attributes,
        group_id: if fifo {
            Some(message.group_id().unwrap_or("selfheal-replay").to_owned())
        } else {
            None
        },
        deduplication_id: if fifo {
            Some(
                format!("replay-{}-{}", message.id, replays + 1)
                    .chars()
                    .take(128)
                    .collect(),
            )
        } else {
            None
        },
    }
}

/// The ledger key counting the replays of a body re-invoked into a function (its DLQ message comes
/// back without our attributes).
fn body_key(queue: &str, body: &str) -> String {
    let hash = crate::stable_key::stable_hash(body.as_bytes());
    format!("{queue}#{hash:016x}#{}", body.len())
}
