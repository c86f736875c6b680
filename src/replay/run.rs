//! One run's bookkeeping, shared by its pipelines: the summary, the ids seen, the receipts held, the
//! FIFO groups blocked (in this one place), the messages asked for, the pace, and why the run stops.
//! Each message's fate is booked here (`settle`), then each delivery's result (`delivered`).

use super::api::{DlqMessage, Receipt};
use super::dead_letter::DeadLetter;
use super::failure::Failure;
use super::fate::{MessageFate, Routed};
use super::pace::Pacer;
use super::summary::{PreviewMessage, ReplaySummary};
use crate::text::cut_chars;
use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

const PREVIEW_MESSAGES: usize = 5;
const PREVIEW_BODY_CHARS: usize = 200;

pub(super) struct Run {
    pub summary: ReplaySummary,
    /// Message ids handled this run, to count SQS's duplicate deliveries.
    seen: HashSet<String>,
    /// Receipts to make visible again at the end: filtered, poison, failed.
    pub to_release: Vec<Receipt>,
    /// FIFO groups with an undelivered message: later messages of the group wait.
    pub blocked_groups: HashSet<String>,
    /// Messages received plus those asked for by receives in flight: never above the limit.
    pub reserved: u64,
    pacer: Option<Pacer>,
    /// Why the run stops, once one pipeline has found out.
    pub stopped_by: Option<&'static str>,
}

/// A message on its way back.
pub(super) struct Planned {
    pub message: DlqMessage,
    pub routed: Routed,
}

/// What a pipeline may receive next, or why it stops.
pub(super) enum Reservation {
    /// Receive `want` messages, after `send_at` under a `rate`.
    Receive {
        want: u64,
        send_at: Option<Instant>,
    },
    Stop,
}

impl Run {
    pub fn new(summary: ReplaySummary, pacer: Option<Pacer>) -> Run {
        Run {
            summary,
            seen: HashSet::new(),
            to_release: Vec::new(),
            blocked_groups: HashSet::new(),
            reserved: 0,
            pacer,
            stopped_by: None,
        }
    }

    /// Reserves the next receive under `limit` (messages this run may receive), the deadline (less
    /// `margin`) and the pace. Under a `rate`, a batch is given its send time before it is received, so
    /// that no message is taken from the DLQ that could not be delivered before the deadline.
    pub fn reserve(
        &mut self,
        limit: u64,
        deadline: Option<Instant>,
        margin: Duration,
        now: Instant,
    ) -> Reservation {
        if self.stopped_by.is_some() {
            return Reservation::Stop;
        }
        if self.reserved >= limit {
            // Every message left under `max` is asked for; if another pipeline's receive brings fewer,
            // that pipeline asks again for the rest.
            if self.summary.received >= limit {
                self.stop("max");
            }
            return Reservation::Stop;
        }
        let too_late = |at: Instant| deadline.is_some_and(|d| at + margin >= d);
        if too_late(now) {
            self.stop("deadline");
            return Reservation::Stop;
        }
        let batch_limit = self.pacer.as_ref().map_or(10, Pacer::batch_limit) as u64;
        let want = (limit - self.reserved).min(batch_limit);
        let send_at = self
            .pacer
            .as_mut()
            .map(|pacer| pacer.schedule(want as usize, now));
        if send_at.is_some_and(too_late) {
            self.stop("deadline");
            return Reservation::Stop;
        }
        self.reserved += want;
        Reservation::Receive { want, send_at }
    }

    /// Whether this message id was handled earlier in the run (and notes it).
    pub fn seen_before(&mut self, message: &DlqMessage) -> bool {
        !self.seen.insert(message.id.clone())
    }

    /// Books one message's fate: what stays is held for release, a dry run's would-be delivery is
    /// counted and previewed. `Some`: the message to deliver.
    pub fn settle(
        &mut self,
        message: DlqMessage,
        letter: &DeadLetter,
        fate: MessageFate,
        now_ms: u64,
        target: impl Fn(&Routed) -> String,
    ) -> Option<Planned> {
        if fate == MessageFate::Duplicate {
            self.summary.duplicates += 1;
            self.reserved = self.reserved.saturating_sub(1);
            self.to_release.push(receipt(&message));
            return None;
        }
        self.count_received(&message, letter, now_ms);
        match fate {
            MessageFate::Duplicate => None,
            MessageFate::Filtered(reason) => {
                self.summary.skipped_by_filter += 1;
                *self
                    .summary
                    .skipped_reasons
                    .entry(reason.into())
                    .or_default() += 1;
                self.to_release.push(receipt(&message));
                None
            }
            MessageFate::Poison => {
                self.summary.poison += 1;
                self.to_release.push(receipt(&message));
                None
            }
            MessageFate::GroupBlocked => {
                self.fail(&message, &Failure::EarlierMessageOfGroupFailed);
                None
            }
            MessageFate::Unroutable(failure) => {
                self.fail(&message, &failure);
                None
            }
            MessageFate::WouldDeliver(routed) => {
                let target = target(&routed);
                self.count_replayed(&target);
                if self.summary.preview.len() < PREVIEW_MESSAGES {
                    self.summary.preview.push(PreviewMessage {
                        message_id: message.id.clone(),
                        shape: letter.shape.label().into(),
                        target,
                        error_code: letter.error_label(),
                        age_seconds: message.age_seconds(now_ms),
                        body: cut_chars(&routed.payload, PREVIEW_BODY_CHARS),
                    });
                }
                self.to_release.push(receipt(&message));
                None
            }
            MessageFate::Deliver(routed) => Some(Planned { message, routed }),
        }
    }

    /// Books a delivery's result: `Some` receipt to delete, unless the copy is kept (`keep`) or the
    /// message failed.
    pub fn delivered(
        &mut self,
        planned: &Planned,
        result: Result<(), Failure>,
        target: &str,
        keep: bool,
    ) -> Option<Receipt> {
        match result {
            Ok(()) => {
                self.count_replayed(target);
                if keep {
                    self.to_release.push(receipt(&planned.message));
                    None
                } else {
                    Some(receipt(&planned.message))
                }
            }
            Err(failure) => {
                self.fail(&planned.message, &failure);
                None
            }
        }
    }

    pub fn stop(&mut self, reason: &'static str) {
        self.stopped_by.get_or_insert(reason);
    }

    fn count_replayed(&mut self, target: &str) {
        self.summary.replayed += 1;
        *self.summary.targets.entry(target.to_owned()).or_default() += 1;
    }

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

    /// A message that stays in the DLQ, failed: its FIFO group waits behind it.
    pub fn fail(&mut self, message: &DlqMessage, failure: &Failure) {
        self.summary.failed += 1;
        *self
            .summary
            .failure_reasons
            .entry(failure.slug().to_owned())
            .or_default() += 1;
        if let Some(group) = message.group_id() {
            self.blocked_groups.insert(group.to_owned());
        }
        self.to_release.push(receipt(message));
    }
}

pub(super) fn lock(run: &Mutex<Run>) -> MutexGuard<'_, Run> {
    // A pipeline never panics while holding the lock; if one did, the counts are still the best record.
    run.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(super) fn receipt(message: &DlqMessage) -> Receipt {
    Receipt {
        id: message.id.clone(),
        handle: message.receipt_handle.clone(),
    }
}
