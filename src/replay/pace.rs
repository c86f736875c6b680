//! The `rate` limit, shared by every pipeline of a run: no second holds more than `rate` deliveries.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

const SECOND: Duration = Duration::from_secs(1);

/// Hands out send times. Each batch is given a time at or after the previous one's, such that the
/// second before it holds at most `rate` deliveries counting the batch; the times only grow, so every
/// one-second window then does too.
#[derive(Debug)]
pub struct Pacer {
    per_second: f64,
    /// Send times given out within the last second before the latest one, oldest first.
    scheduled: VecDeque<Instant>,
}

impl Pacer {
    pub fn new(per_second: f64) -> Self {
        Pacer {
            per_second,
            scheduled: VecDeque::new(),
        }
    }

    /// The most a batch may hold under this rate (below one a second: one message at a time).
    pub fn batch_limit(&self) -> usize {
        (self.per_second.floor() as usize).clamp(1, 10)
    }

    /// The time at which a batch of `count` (at most `batch_limit()`) may be sent.
    pub fn schedule(&mut self, count: usize, now: Instant) -> Instant {
        let count = count.clamp(1, self.batch_limit());
        let mut at = self.scheduled.back().map_or(now, |last| (*last).max(now));
        if self.per_second < 1.0 {
            if let Some(last) = self.scheduled.back() {
                at = at.max(*last + Duration::from_secs_f64(1.0 / self.per_second));
            }
        } else {
            let allowed = self.batch_limit().max(self.per_second.floor() as usize);
            let held = self.scheduled.len();
            if held + count > allowed {
                // The delivery that must have left the window before this batch may go.
                let leaving = self.scheduled[held + count - allowed - 1];
                at = at.max(leaving + SECOND);
            }
        }
        for _ in 0..count {
            self.scheduled.push_back(at);
        }
        while self.scheduled.front().is_some_and(|t| *t + SECOND <= at) {
            self.scheduled.pop_front();
        }
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The most deliveries any one-second window holds.
    fn busiest_second(times: &[Instant]) -> usize {
        times
            .iter()
            .map(|start| {
                times
                    .iter()
                    .filter(|t| **t >= *start && **t < *start + SECOND)
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn no_second_holds_more_than_the_rate() {
        for (rate, batch) in [(25.0, 10), (10.0, 10), (7.0, 3), (3.0, 2)] {
            let mut pacer = Pacer::new(rate);
            let now = Instant::now();
            let mut times = Vec::new();
            for _ in 0..20 {
                let at = pacer.schedule(batch, now);
                times.extend(std::iter::repeat_n(at, batch.min(pacer.batch_limit())));
            }
            assert!(busiest_second(&times) <= rate as usize, "rate {rate}");
            let span = times.last().unwrap().duration_since(now).as_secs_f64();
            let expected = (times.len() as f64 / rate).floor() - 1.0;
            assert!(
                span >= expected,
                "rate {rate}: {span} s for {}",
                times.len()
            );
        }
    }

    #[test]
    fn below_one_a_second_messages_go_one_by_one_spaced_out() {
        let mut pacer = Pacer::new(0.5);
        assert_eq!(pacer.batch_limit(), 1);
        let now = Instant::now();
        let first = pacer.schedule(1, now);
        let second = pacer.schedule(1, now);
        assert_eq!(second.duration_since(first), Duration::from_secs(2));
    }
}
