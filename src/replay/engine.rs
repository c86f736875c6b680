//! The replay loop: several receive → deliver → delete pipelines over one DLQ, deleting only what was
//! delivered and releasing the rest. Each message's fate is decided first (`fate.rs`), booked in the
//! run (`run.rs`), and only then sent to its target (`targets.rs`, `deliver.rs`).

use super::api::{DlqMessage, FunctionApi, QueueApi, QueueInfo, Receipt};
use super::dead_letter::{read_dead_letter, route, DeadLetter, Destination, OwnScope};
use super::deliver::{to_function, to_queue, Delivery, Failure};
pub use super::error::ReplayError;
use super::fate::{message_fate, MessageFacts, Routed};
use super::pace::Pacer;
use super::request::{queue_location, ReplayRequest};
use super::run::{lock, receipt, Planned, Reservation, Run};
use super::summary::ReplaySummary;
use super::targets::{Target, Targets};
use crate::ledger::ReplayCounts;
use crate::rules::{DlqRule, RuleSet};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tracing::{info, warn};

/// Empty receives in a row (the later ones long-polling) before a pipeline takes the DLQ to be empty.
const EMPTY_RECEIVES: u32 = 3;
/// Release requests in flight at once at the end of a run.
const RELEASES_IN_FLIGHT: usize = 8;

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
    targets: Targets,
}

/// What a batch left to delete, and the error that stops the run, if one does.
#[derive(Default)]
struct Delivered {
    receipts: Vec<Receipt>,
    error: Option<ReplayError>,
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
        let (rule, dlq) = self.allowed_dlq(request).await?;
        let scope = self.own_scope(&dlq);
        refuse_other_location(request, &scope)?;
        let targets = Targets::for_rule(&self.queues, &self.functions, rule, &dlq).await?;
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
            targets,
        };
        let run = Mutex::new(Run::new(
            ReplaySummary {
                queue: dlq.name.clone(),
                target: context.targets.rule_target_label.clone(),
                dry_run: request.dry_run,
                keep_copy: request.keep_copy,
                ..Default::default()
            },
            request.rate.map(Pacer::new),
        ));
        let started = Instant::now();
        let pipelines = if dlq.fifo {
            1
        } else {
            self.settings.pipelines.max(1)
        };
        info!(function = "dlq-replay", queue = %dlq.name, target = %context.targets.rule_target_label, dry_run = request.dry_run, pipelines, "replay started");
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

    /// The request's DLQ, when a rule allows it, and as SQS knows it.
    async fn allowed_dlq(
        &self,
        request: &ReplayRequest,
    ) -> Result<(&DlqRule, QueueInfo), ReplayError> {
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
        Ok((rule, dlq))
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
            let reservation = lock(run).reserve(
                context.limit,
                context.deadline,
                self.settings.deadline_margin,
                Instant::now(),
            );
            let Reservation::Receive { want, send_at } = reservation else {
                break Ok(());
            };
            if let Some(at) = send_at {
                tokio::time::sleep_until(at.into()).await;
            }
            // Received messages stay invisible for the rest of the run (they are released at the end),
            // and come back by themselves if the run dies.
            let remaining = context
                .deadline
                .map(|d| d.saturating_duration_since(Instant::now()));
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
                match self.queues.visible(&dlq.url).await {
                    Ok(visible) if visible == 0 || empty >= EMPTY_RECEIVES => {
                        lock(run).stop("empty");
                        break Ok(());
                    }
                    Ok(_) => continue,
                    Err(e) => {
                        lock(run).stop("error");
                        break Err(ReplayError::Api(e));
                    }
                }
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

    /// Decides each message's fate and destination, books it, delivers what goes, and returns the
    /// receipts of what was delivered (to delete, unless `keepCopy`), with the error that stops the
    /// run, if one does.
    async fn handle_batch<N: Fn() -> u64 + Send + Sync>(
        &self,
        context: &RunContext<'_, N>,
        batch: Vec<DlqMessage>,
        run: &Mutex<Run>,
    ) -> Delivered {
        let now = (context.now_ms)();
        let letters: Vec<DeadLetter> = batch.iter().map(read_dead_letter).collect();
        let routes: Vec<_> = letters
            .iter()
            .map(|letter| route(letter, context.rule, &context.scope))
            .collect();
        let counts = match self.replay_counts(context, &batch, &letters, &routes).await {
            Ok(counts) => counts,
            // Nothing was taken in hand yet: the batch is released untouched.
            Err(e) => {
                lock(run).to_release.extend(batch.iter().map(receipt));
                return Delivered {
                    receipts: Vec::new(),
                    error: Some(e),
                };
            }
        };
        let mut planned = Vec::new();
        {
            let mut run = lock(run);
            for ((message, letter), route) in batch.into_iter().zip(&letters).zip(&routes) {
                let replays = counts
                    .get(&message.id)
                    .copied()
                    .unwrap_or_else(|| message.replay_count());
                let fate = message_fate(&MessageFacts {
                    message: &message,
                    letter,
                    request: context.request,
                    route,
                    seen_before: run.seen_before(&message),
                    group_blocked: message
                        .group_id()
                        .is_some_and(|g| run.blocked_groups.contains(g)),
                    replays,
                    max_replays: context.rule.max_replays,
                    now_ms: now,
                });
                let label = |routed: &Routed| context.targets.label(&routed.destination);
                planned.extend(run.settle(message, letter, fate, now, label));
            }
        }
        if planned.is_empty() {
            return Delivered::default();
        }
        let results = self.deliver(context, &planned, run).await;
        self.book(context, &planned, results, now, run).await
    }

    /// How often each message bound for a function was replayed into it before, by message id: counted
    /// in the ledger by what is delivered, since a function's DLQ message comes back without our
    /// attributes.
    async fn replay_counts<N>(
        &self,
        context: &RunContext<'_, N>,
        batch: &[DlqMessage],
        letters: &[DeadLetter],
        routes: &[Result<Destination, Failure>],
    ) -> Result<HashMap<String, u32>, ReplayError> {
        let keys: Vec<(String, String)> = batch
            .iter()
            .zip(letters.iter().zip(routes))
            .filter_map(
                |(message, (letter, destination))| match (destination, &letter.payload) {
                    (Ok(d), Ok(payload)) if context.targets.goes_to_function(d) => {
                        Some((message.id.clone(), payload_key(&context.dlq.name, payload)))
                    }
                    _ => None,
                },
            )
            .collect();
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let wanted: Vec<String> = keys.iter().map(|(_, key)| key.clone()).collect();
        let counts = self.ledger.replay_counts(&wanted).await?;
        Ok(keys
            .into_iter()
            .map(|(id, key)| (id, counts.get(&key).copied().unwrap_or(0)))
            .collect())
    }

    /// Books each delivery's result, and counts the replays into functions in the ledger. A replay into
    /// a function that cannot be counted is not deleted: a message that keeps failing would otherwise
    /// come back into the DLQ uncounted, past its poison limit. It is made visible again (a later run
    /// delivers it again, at least once), and the run stops with the ledger's error.
    async fn book<N>(
        &self,
        context: &RunContext<'_, N>,
        planned: &[Planned],
        results: Vec<Result<(), Failure>>,
        now_ms: u64,
        run: &Mutex<Run>,
    ) -> Delivered {
        let counted: Vec<(String, u32)> = planned
            .iter()
            .zip(&results)
            .filter(|(p, result)| {
                result.is_ok() && context.targets.goes_to_function(&p.routed.destination)
            })
            .map(|(p, _)| {
                (
                    payload_key(&context.dlq.name, &p.routed.payload),
                    p.routed.replays + 1,
                )
            })
            .collect();
        let counting = if counted.is_empty() {
            Ok(())
        } else {
            self.ledger
                .record_replays(&counted, now_ms / 1000 + self.settings.replay_memory_secs)
                .await
        };
        let keep = context.request.keep_copy || counting.is_err();
        let mut run = lock(run);
        let receipts = planned
            .iter()
            .zip(results)
            .filter_map(|(p, result)| {
                let target = context.targets.label(&p.routed.destination);
                run.delivered(p, result, &target, keep)
            })
            .collect();
        Delivered {
            receipts,
            error: counting.err().map(ReplayError::Ledger),
        }
    }

    /// Delivers each destination's messages, the destinations side by side; one result per message.
    async fn deliver<N>(
        &self,
        context: &RunContext<'_, N>,
        planned: &[Planned],
        run: &Mutex<Run>,
    ) -> Vec<Result<(), Failure>> {
        let mut by_destination: BTreeMap<_, Vec<usize>> = BTreeMap::new();
        for (i, p) in planned.iter().enumerate() {
            by_destination
                .entry(&p.routed.destination)
                .or_default()
                .push(i);
        }
        let outcomes = crate::concurrent::join_all(by_destination.into_iter().map(
            |(destination, indexes)| async move {
                let deliveries: Vec<Delivery<'_>> = indexes
                    .iter()
                    .map(|i| Delivery {
                        message: &planned[*i].message,
                        payload: &planned[*i].routed.payload,
                        replays: planned[*i].routed.replays,
                        keep_attributes: planned[*i].routed.keep_attributes,
                    })
                    .collect();
                let target = context
                    .targets
                    .resolve(&self.queues, &self.functions, destination)
                    .await;
                let results = match target {
                    Err(failure) => vec![Err(failure); deliveries.len()],
                    Ok(Target::Function { name, qualifier }) => {
                        to_function(&self.functions, &name, qualifier.as_deref(), &deliveries).await
                    }
                    Ok(Target::Queue(queue)) => {
                        // The run's blocked groups, as they are now, and those this send blocks,
                        // kept in the run: only a FIFO DLQ has groups (and a single pipeline).
                        let mut groups = lock(run).blocked_groups.clone();
                        let results =
                            to_queue(&self.queues, &queue, &deliveries, &mut groups).await;
                        lock(run).blocked_groups.extend(groups);
                        results
                    }
                };
                indexes.into_iter().zip(results).collect::<Vec<_>>()
            },
        ))
        .await;
        let mut results: Vec<Result<(), Failure>> = vec![Ok(()); planned.len()];
        for (i, result) in outcomes.into_iter().flatten() {
            results[i] = result;
        }
        results
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

/// The ledger key counting the replays of a payload re-invoked into a function.
fn payload_key(queue: &str, payload: &str) -> String {
    let hash = crate::stable_key::stable_hash(payload.as_bytes());
    format!("{queue}#{hash:016x}#{}", payload.len())
}
