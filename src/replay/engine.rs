//! The replay loop: several receive → deliver → delete pipelines over one DLQ, deleting only what was
//! delivered and releasing the rest.

use super::api::{AwsCallError, DlqMessage, FunctionApi, QueueApi, QueueInfo, Receipt};
use super::dead_letter::{read_dead_letter, route, DeadLetter, Destination, OwnScope};
use super::deliver::{to_function, to_queue, Delivery, Failure};
use super::fate::{message_fate, MessageFacts, MessageFate};
use super::pace::Pacer;
use super::request::{queue_location, ReplayRequest};
use super::summary::{PreviewMessage, ReplaySummary};
use crate::ledger::{LedgerError, ReplayCounts};
use crate::rules::{DlqRule, DlqTarget, RuleSet};
use crate::text::cut_chars;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tracing::{info, warn};

const PREVIEW_MESSAGES: usize = 5;
const PREVIEW_BODY_CHARS: usize = 200;
/// Empty receives in a row (the later ones long-polling) before a pipeline takes the DLQ to be empty.
const EMPTY_RECEIVES: u32 = 3;
/// Release requests in flight at once at the end of a run.
const RELEASES_IN_FLIGHT: usize = 8;

/// Why a replay could not start, or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("queue {queue:?} is not a replayable DLQ in rules/ (allowed: {allowed})")]
    QueueNotAllowed { queue: String, allowed: String },
    #[error("queue {queue:?} is in {named}, but this function replays only {own}'s queues; nothing was moved")]
    QueueElsewhere {
        queue: String,
        named: String,
        own: String,
    },
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
            Self::QueueNotAllowed { .. } | Self::QueueElsewhere { .. } => "QueueNotAllowed",
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
    /// Receive → deliver → delete pipelines in flight at once over a standard queue (a FIFO queue gets
    /// one, so that each group keeps its order).
    pub pipelines: usize,
    /// The Region the clients act in, when known: a queue or target named in another is refused.
    pub region: Option<String>,
}

impl Default for ReplaySettings {
    fn default() -> Self {
        ReplaySettings {
            deadline_margin: Duration::from_secs(5),
            replay_memory_secs: 14 * 24 * 3600,
            pipelines: 8,
            region: None,
        }
    }
}

/// Where messages go, resolved.
#[derive(Clone, Debug)]
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
            Target::Function { name, qualifier } => function_label(name, qualifier.as_deref()),
            Target::Queue(q) => format!("queue:{}", q.name),
        }
    }
}

fn function_label(name: &str, qualifier: Option<&str>) -> String {
    match qualifier {
        Some(q) => format!("function:{name}:{q}"),
        None => format!("function:{name}"),
    }
}

fn destination_label(destination: &Destination, rule_target: &str) -> String {
    match destination {
        Destination::RuleTarget => rule_target.to_owned(),
        Destination::Function { name, qualifier } => function_label(name, qualifier.as_deref()),
        Destination::Queue { name } => format!("queue:{name}"),
    }
}

pub struct Replayer<Q, F, L> {
    queues: Q,
    functions: F,
    ledger: L,
    rules: RuleSet,
    settings: ReplaySettings,
}

/// What every pipeline of a run reads.
struct RunContext<'a, N> {
    request: &'a ReplayRequest,
    rule: &'a DlqRule,
    dlq: &'a QueueInfo,
    scope: OwnScope,
    deadline: Option<Instant>,
    now_ms: &'a N,
    /// Messages this run may receive.
    limit: u64,
    /// Resolved targets, by destination; a target that does not exist is its failure code.
    targets: Mutex<HashMap<Destination, Result<Target, Failure>>>,
    rule_target_label: String,
}

/// One run's bookkeeping, shared by its pipelines.
struct Run {
    summary: ReplaySummary,
    /// Message ids handled this run, to count SQS's duplicate deliveries.
    seen: HashSet<String>,
    /// Receipts to make visible again at the end: filtered, poison, failed.
    to_release: Vec<Receipt>,
    /// FIFO groups with an undelivered message: later messages of the group wait.
    blocked_groups: HashSet<String>,
    /// Messages received plus those asked for by receives in flight: never above the limit.
    reserved: u64,
    pacer: Option<Pacer>,
    /// Why the run stops, once one pipeline has found out.
    stopped_by: Option<&'static str>,
}

impl Run {
    /// A message received for the first time this run: its shape, error and age in the summary.
    fn count_received(&mut self, message: &DlqMessage, letter: &DeadLetter, now_ms: u64) {
        let summary = &mut self.summary;
        summary.received += 1;
        *summary
            .shapes
            .entry(letter.shape.label().into())
            .or_default() += 1;
        if let Some(code) = letter.error_label() {
            *summary.error_codes.entry(code).or_default() += 1;
        }
        if let Some(age) = message.age_seconds(now_ms) {
            summary.oldest_age_seconds =
                Some(summary.oldest_age_seconds.map_or(age, |o| o.max(age)));
            summary.newest_age_seconds =
                Some(summary.newest_age_seconds.map_or(age, |n| n.min(age)));
        }
    }

    fn fail(&mut self, message: &DlqMessage, code: &str) {
        self.summary.failed += 1;
        *self
            .summary
            .failure_reasons
            .entry(code.to_owned())
            .or_default() += 1;
        if let Some(group) = message.group_id() {
            self.blocked_groups.insert(group.to_owned());
        }
        self.to_release.push(receipt(message));
    }

    fn stop(&mut self, reason: &'static str) {
        self.stopped_by.get_or_insert(reason);
    }
}

fn lock(run: &Mutex<Run>) -> MutexGuard<'_, Run> {
    // A pipeline never panics while holding the lock; if one did, the counts are still the best record.
    run.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What a batch left to delete, and the error that stops the run, if one does.
#[derive(Default)]
struct Delivered {
    receipts: Vec<Receipt>,
    error: Option<ReplayError>,
}

/// A message on its way, with where it goes.
struct Planned {
    message: DlqMessage,
    payload: String,
    replays: u32,
    destination: Destination,
    keep_attributes: bool,
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
    pub async fn replay<N: Fn() -> u64 + Send + Sync>(
        &self,
        request: &ReplayRequest,
        deadline: Option<Instant>,
        now_ms: N,
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
        let scope = self.own_scope(&dlq);
        refuse_other_location(request, &scope)?;
        let rule_target = self.resolve_rule_target(rule, &dlq).await?;
        let rule_target_label = rule_target
            .as_ref()
            .map_or_else(|| "named in messages".to_owned(), Target::label);
        let mut targets = HashMap::new();
        if let Some(target) = rule_target {
            targets.insert(Destination::RuleTarget, Ok(target));
        }
        let received_before = request
            .continuation
            .as_ref()
            .map_or(0, |c| c.received_before);
        let context = RunContext {
            request,
            rule,
            dlq: &dlq,
            scope,
            deadline,
            now_ms: &now_ms,
            limit: request
                .max
                .map_or(u64::MAX, |max| max.saturating_sub(received_before)),
            targets: Mutex::new(targets),
            rule_target_label: rule_target_label.clone(),
        };
        let run = Mutex::new(Run {
            summary: ReplaySummary {
                queue: dlq.name.clone(),
                target: rule_target_label,
                dry_run: request.dry_run,
                keep_copy: request.keep_copy,
                ..Default::default()
            },
            seen: HashSet::new(),
            to_release: Vec::new(),
            blocked_groups: HashSet::new(),
            reserved: 0,
            pacer: request.rate.map(Pacer::new),
            stopped_by: None,
        });
        let started = Instant::now();
        let pipelines = if dlq.fifo {
            1
        } else {
            self.settings.pipelines.max(1)
        };
        info!(function = "dlq-replay", queue = %dlq.name, target = %context.rule_target_label, dry_run = request.dry_run, pipelines, "replay started");
        let results =
            crate::concurrent::join_all((0..pipelines).map(|_| self.pipeline(&context, &run)))
                .await;
        let mut run = run.into_inner().unwrap_or_else(|p| p.into_inner());
        // Whatever happened, what was held is made visible again: nothing stays hidden.
        self.release(&dlq, std::mem::take(&mut run.to_release))
            .await;
        if let Some(error) = results.into_iter().find_map(Result::err) {
            return Err(error);
        }
        let mut summary = run.summary;
        summary.stopped_by = run
            .stopped_by
            .unwrap_or(if summary.received >= context.limit {
                "max"
            } else {
                "empty"
            })
            .into();
        summary.remaining = self.queues.depth(&dlq.url).await.ok();
        summary.duration_ms = started.elapsed().as_millis() as u64;
        info!(
            function = "dlq-replay",
            queue = %dlq.name,
            dry_run = request.dry_run,
            replayed = summary.replayed,
            failed = summary.failed,
            skipped = summary.skipped_by_filter,
            poison = summary.poison,
            remaining = summary.remaining,
            stopped_by = %summary.stopped_by,
            "replay finished"
        );
        Ok(summary)
    }

    /// The account of the DLQ (from its URL) and the clients' Region.
    fn own_scope(&self, dlq: &QueueInfo) -> OwnScope {
        let location = queue_location(&dlq.url);
        OwnScope {
            account_id: location.account_id,
            region: self.settings.region.clone().or(location.region),
        }
    }

    /// One pipeline: receive, decide, deliver, and delete the last batch's delivered messages alongside
    /// the next receive; until the run stops.
    async fn pipeline<N: Fn() -> u64 + Send + Sync>(
        &self,
        context: &RunContext<'_, N>,
        run: &Mutex<Run>,
    ) -> Result<(), ReplayError> {
        let dlq = context.dlq;
        let mut to_delete: Vec<Receipt> = Vec::new();
        let mut empty = 0;
        let result = loop {
            let remaining = context
                .deadline
                .map(|d| d.saturating_duration_since(Instant::now()));
            let want = {
                let mut run = lock(run);
                if run.stopped_by.is_some() {
                    break Ok(());
                }
                if run.reserved >= context.limit {
                    // Every message left under `max` is asked for; if another pipeline's receive brings
                    // fewer, that pipeline asks again for the rest.
                    if run.summary.received >= context.limit {
                        run.stop("max");
                    }
                    break Ok(());
                }
                if remaining.is_some_and(|r| r <= self.settings.deadline_margin) {
                    run.stop("deadline");
                    break Ok(());
                }
                let batch_limit = run.pacer.as_ref().map_or(10, Pacer::batch_limit) as u64;
                let want = (context.limit - run.reserved).min(batch_limit);
                // Under a `rate`, a batch is given its send time before it is received, so that no
                // message is taken from the DLQ that could not be delivered before the deadline.
                let send_at = run
                    .pacer
                    .as_mut()
                    .map(|pacer| pacer.schedule(want as usize, Instant::now()));
                let too_late = |at: Instant| {
                    context
                        .deadline
                        .is_some_and(|d| at + self.settings.deadline_margin >= d)
                };
                if send_at.is_some_and(too_late) {
                    run.stop("deadline");
                    break Ok(());
                }
                run.reserved += want;
                (want, send_at)
            };
            let (want, send_at) = want;
            if let Some(at) = send_at {
                tokio::time::sleep_until(at.into()).await;
            }
            // Received messages stay invisible for the rest of the run (they are released at the end),
            // and come back by themselves if the run dies.
            let visibility = remaining.map_or(300, |r| (r.as_secs() + 30).clamp(30, 43_200)) as i32;
            let wait = if empty > 0 { 1 } else { 0 };
            let pending = std::mem::take(&mut to_delete);
            let (received, deleted) = tokio::join!(
                self.queues.receive(&dlq.url, want as i32, visibility, wait),
                self.delete_receipts(dlq, &pending),
            );
            let batch = {
                let mut run = lock(run);
                run.summary.delivered_not_deleted += pending.len() as u64 - deleted;
                match received {
                    Ok(batch) => {
                        run.reserved -= want - (batch.len() as u64).min(want);
                        batch
                    }
                    Err(e) => {
                        run.reserved -= want;
                        run.stop("error");
                        break Err(ReplayError::Api(e));
                    }
                }
            };
            if batch.is_empty() {
                // Short polling may miss messages; stop only when the queue says none are visible.
                empty += 1;
                let visible = match self.queues.visible(&dlq.url).await {
                    Ok(visible) => visible,
                    Err(e) => {
                        lock(run).stop("error");
                        break Err(ReplayError::Api(e));
                    }
                };
                if visible == 0 || empty >= EMPTY_RECEIVES {
                    lock(run).stop("empty");
                    break Ok(());
                }
                continue;
            }
            empty = 0;
            let Delivered { receipts, error } = self.handle_batch(context, batch, run).await;
            to_delete = receipts;
            if let Some(e) = error {
                lock(run).stop("error");
                break Err(e);
            }
        };
        let deleted = self.delete_receipts(dlq, &to_delete).await;
        lock(run).summary.delivered_not_deleted += to_delete.len() as u64 - deleted;
        result
    }

    /// Decides each message's fate and destination, delivers, and returns the receipts of what was
    /// delivered (to delete, unless `keepCopy`), with the error that stops the run, if one does.
    async fn handle_batch<N: Fn() -> u64 + Send + Sync>(
        &self,
        context: &RunContext<'_, N>,
        batch: Vec<DlqMessage>,
        run: &Mutex<Run>,
    ) -> Delivered {
        let now = (context.now_ms)();
        let letters: Vec<DeadLetter> = batch.iter().map(read_dead_letter).collect();
        let routes: Vec<Result<Destination, &'static str>> = letters
            .iter()
            .map(|letter| route(letter, context.rule, &context.scope))
            .collect();
        // Replays into a function are counted in the ledger, by what is delivered: a function's DLQ
        // message comes back without our attributes.
        let keys: Vec<Option<String>> = letters
            .iter()
            .zip(&routes)
            .map(
                |(letter, destination)| match (destination, &letter.payload) {
                    (Ok(d), Ok(payload)) if self.goes_to_function(context, d) => {
                        Some(payload_key(&context.dlq.name, payload))
                    }
                    _ => None,
                },
            )
            .collect();
        let wanted: Vec<String> = keys.iter().flatten().cloned().collect();
        let counts = if wanted.is_empty() {
            HashMap::new()
        } else {
            match self.ledger.replay_counts(&wanted).await {
                Ok(counts) => counts,
                // Nothing was taken in hand yet: the batch is released untouched.
                Err(e) => {
                    lock(run).to_release.extend(batch.iter().map(receipt));
                    return Delivered {
                        receipts: Vec::new(),
                        error: Some(e.into()),
                    };
                }
            }
        };
        let mut planned = Vec::new();
        {
            let mut run = lock(run);
            let run = &mut *run;
            for (((message, letter), destination), key) in
                batch.into_iter().zip(letters).zip(routes).zip(keys)
            {
                let replays = match &key {
                    Some(key) => counts.get(key).copied().unwrap_or(0),
                    None => message.replay_count(),
                };
                let fate = message_fate(&MessageFacts {
                    message: &message,
                    letter: &letter,
                    request: context.request,
                    seen_before: !run.seen.insert(message.id.clone()),
                    group_blocked: message
                        .group_id()
                        .is_some_and(|g| run.blocked_groups.contains(g)),
                    replays,
                    max_replays: context.rule.max_replays,
                    now_ms: now,
                });
                if fate == MessageFate::Duplicate {
                    run.summary.duplicates += 1;
                    run.reserved = run.reserved.saturating_sub(1);
                    run.to_release.push(receipt(&message));
                    continue;
                }
                run.count_received(&message, &letter, now);
                match fate {
                    MessageFate::Duplicate => unreachable!("handled above"),
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
                    MessageFate::GroupBlocked => run.fail(&message, "EarlierMessageOfGroupFailed"),
                    MessageFate::WouldDeliver | MessageFate::Deliver { .. } => {
                        let (destination, payload) = match (destination, letter.payload.clone()) {
                            (Ok(destination), Ok(payload)) => (destination, payload),
                            (Err(reason), _) | (_, Err(reason)) => {
                                run.fail(&message, reason);
                                continue;
                            }
                        };
                        if fate == MessageFate::WouldDeliver {
                            let target =
                                destination_label(&destination, &context.rule_target_label);
                            run.summary.replayed += 1;
                            *run.summary.targets.entry(target.clone()).or_default() += 1;
                            if run.summary.preview.len() < PREVIEW_MESSAGES {
                                run.summary.preview.push(PreviewMessage {
                                    message_id: message.id.clone(),
                                    shape: letter.shape.label().into(),
                                    target,
                                    error_code: letter.error_label(),
                                    age_seconds: message.age_seconds(now),
                                    body: cut_chars(&payload, PREVIEW_BODY_CHARS),
                                });
                            }
                            run.to_release.push(receipt(&message));
                        } else {
                            planned.push(Planned {
                                keep_attributes: letter.shape
                                    != super::dead_letter::Shape::EventBridgeDlq,
                                message,
                                payload,
                                replays,
                                destination,
                            });
                        }
                    }
                }
            }
        }
        if planned.is_empty() {
            return Delivered::default();
        }
        let results = self.deliver(context, &planned, run).await;
        let counted: Vec<(String, u32)> = planned
            .iter()
            .zip(&results)
            .filter(|(p, result)| result.is_ok() && self.goes_to_function(context, &p.destination))
            .map(|(p, _)| (payload_key(&context.dlq.name, &p.payload), p.replays + 1))
            .collect();
        // A replay into a function that cannot be counted is not deleted: a message that keeps failing
        // would otherwise come back into the DLQ uncounted, past its poison limit. It is made visible
        // again (a later run delivers it again, at least once), and the run stops with the ledger's error.
        let counting = if counted.is_empty() {
            Ok(())
        } else {
            self.ledger
                .record_replays(&counted, now / 1000 + self.settings.replay_memory_secs)
                .await
        };
        let mut delivered = Vec::new();
        let mut run = lock(run);
        for (p, result) in planned.iter().zip(results) {
            match result {
                Ok(()) => {
                    run.summary.replayed += 1;
                    *run.summary
                        .targets
                        .entry(destination_label(
                            &p.destination,
                            &context.rule_target_label,
                        ))
                        .or_default() += 1;
                    if context.request.keep_copy || counting.is_err() {
                        run.to_release.push(receipt(&p.message));
                    } else {
                        delivered.push(receipt(&p.message));
                    }
                }
                Err(code) => run.fail(&p.message, &code),
            }
        }
        Delivered {
            receipts: delivered,
            error: counting.err().map(ReplayError::Ledger),
        }
    }

    fn goes_to_function<N>(&self, context: &RunContext<'_, N>, destination: &Destination) -> bool {
        match destination {
            Destination::Function { .. } => true,
            Destination::Queue { .. } => false,
            Destination::RuleTarget => matches!(context.rule.target, DlqTarget::Function { .. }),
        }
    }

    /// Delivers each destination's messages, the destinations side by side; one result per message.
    async fn deliver<N>(
        &self,
        context: &RunContext<'_, N>,
        planned: &[Planned],
        run: &Mutex<Run>,
    ) -> Vec<Result<(), Failure>> {
        let mut by_destination: BTreeMap<&Destination, Vec<usize>> = BTreeMap::new();
        for (i, p) in planned.iter().enumerate() {
            by_destination.entry(&p.destination).or_default().push(i);
        }
        let mut blocked = lock(run).blocked_groups.clone();
        let blocked_cell = Mutex::new(&mut blocked);
        let outcomes = crate::concurrent::join_all(by_destination.into_iter().map(
            |(destination, indexes)| {
                let blocked_cell = &blocked_cell;
                async move {
                    let deliveries: Vec<Delivery<'_>> = indexes
                        .iter()
                        .map(|i| Delivery {
                            message: &planned[*i].message,
                            payload: &planned[*i].payload,
                            replays: planned[*i].replays,
                            keep_attributes: planned[*i].keep_attributes,
                        })
                        .collect();
                    let results = match self.target(context, destination).await {
                        Err(code) => vec![Err(code); deliveries.len()],
                        Ok(Target::Function { name, qualifier }) => {
                            to_function(&self.functions, &name, qualifier.as_deref(), &deliveries)
                                .await
                        }
                        Ok(Target::Queue(queue)) => {
                            // Only a FIFO DLQ has groups to keep, and it has a single pipeline.
                            let mut groups = std::mem::take(
                                &mut **blocked_cell.lock().unwrap_or_else(|p| p.into_inner()),
                            );
                            let results =
                                to_queue(&self.queues, &queue, &deliveries, &mut groups).await;
                            blocked_cell
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .extend(groups);
                            results
                        }
                    };
                    indexes.into_iter().zip(results).collect::<Vec<_>>()
                }
            },
        ))
        .await;
        let mut results: Vec<Result<(), Failure>> = vec![Ok(()); planned.len()];
        for (i, result) in outcomes.into_iter().flatten() {
            results[i] = result;
        }
        results
    }

    /// The target of a destination, resolved once per run.
    async fn target<N>(
        &self,
        context: &RunContext<'_, N>,
        destination: &Destination,
    ) -> Result<Target, Failure> {
        if let Some(known) = context
            .targets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(destination)
        {
            return known.clone();
        }
        let resolved = match destination {
            // Resolved before the run, or there is none (`NamedInMessages`): `route` never sends a
            // message there.
            Destination::RuleTarget => Err("NoTargetNamed".to_owned()),
            Destination::Function { name, qualifier } => {
                match self.functions.exists(name, qualifier.as_deref()).await {
                    Ok(true) => Ok(Target::Function {
                        name: name.clone(),
                        qualifier: qualifier.clone(),
                    }),
                    Ok(false) => Err("TargetMissing".to_owned()),
                    // Not remembered: the next batch asks again.
                    Err(e) => return Err(e.code),
                }
            }
            Destination::Queue { name } => match self.queues.resolve(name).await {
                Ok(queue) => Ok(Target::Queue(queue)),
                Err(e) if e.is_not_found() => Err("TargetMissing".to_owned()),
                Err(e) => return Err(e.code),
            },
        };
        context
            .targets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(destination.clone(), resolved.clone());
        resolved
    }

    /// The rule's own target, checked before anything moves; `None` when messages name their targets.
    async fn resolve_rule_target(
        &self,
        rule: &DlqRule,
        dlq: &QueueInfo,
    ) -> Result<Option<Target>, ReplayError> {
        match &rule.target {
            DlqTarget::NamedInMessages => Ok(None),
            DlqTarget::Function { name, qualifier } => {
                if self.functions.exists(name, qualifier.as_deref()).await? {
                    Ok(Some(Target::Function {
                        name: name.clone(),
                        qualifier: qualifier.clone(),
                    }))
                } else {
                    let label = qualifier
                        .as_ref()
                        .map_or_else(|| name.clone(), |q| format!("{name}:{q}"));
                    Err(ReplayError::TargetMissing(format!("function {label}")))
                }
            }
            DlqTarget::Queue { name } => self.resolve_queue(name).await.map(Some),
            DlqTarget::SourceQueue => {
                let sources = self.queues.source_queues(&dlq.url).await?;
                match sources.as_slice() {
                    [one] => {
                        let name = one.trim_end_matches('/').rsplit('/').next().unwrap_or(one).to_owned();
                        self.resolve_queue(&name).await.map(Some)
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

    async fn release(&self, dlq: &QueueInfo, receipts: Vec<Receipt>) {
        let chunks: Vec<&[Receipt]> = receipts.chunks(10).collect();
        let results = crate::concurrent::map_limited(chunks, RELEASES_IN_FLIGHT, |chunk| {
            self.queues.release_batch(&dlq.url, chunk)
        })
        .await;
        if let Some(e) = results.into_iter().find_map(Result::err) {
            // They become visible anyway when their visibility timeout ends.
            warn!(error = %e, "could not make messages visible again; they return after their visibility timeout");
        }
    }
}

/// A request naming its queue by URL or ARN must name this account's and Region's queue: the rules
/// match names only, and another account's queue of the same name is not this one.
fn refuse_other_location(request: &ReplayRequest, scope: &OwnScope) -> Result<(), ReplayError> {
    let named = request.queue_location();
    let differs = |named: &Option<String>, own: &Option<String>| matches!((named, own), (Some(n), Some(o)) if n != o);
    if differs(&named.account_id, &scope.account_id) || differs(&named.region, &scope.region) {
        let describe = |account: &Option<String>, region: &Option<String>| {
            format!(
                "account {} in {}",
                account.as_deref().unwrap_or("(unknown)"),
                region.as_deref().unwrap_or("(unknown Region)")
            )
        };
        return Err(ReplayError::QueueElsewhere {
            queue: request.queue.clone(),
            named: describe(&named.account_id, &named.region),
            own: describe(&scope.account_id, &scope.region),
        });
    }
    Ok(())
}

fn receipt(message: &DlqMessage) -> Receipt {
    Receipt {
        id: message.id.clone(),
        handle: message.receipt_handle.clone(),
    }
}

/// The ledger key counting the replays of a payload re-invoked into a function.
fn payload_key(queue: &str, payload: &str) -> String {
    let hash = crate::stable_key::stable_hash(payload.as_bytes());
    format!("{queue}#{hash:016x}#{}", payload.len())
}
