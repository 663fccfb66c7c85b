//! Jittered exponential backoff for the faults Connect documents as momentary
//! (409 during a rebalance, 500 "request timed out", refused connections).

use std::time::Duration;

use rand::Rng;

#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    pub base: Duration,
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            base: Duration::from_millis(250),
            max: Duration::from_secs(4),
        }
    }
}

impl RetryPolicy {
    /// Delay before retry number `retry` (1-based): full jitter over an exponential cap,
    /// so that many reconciles hitting one rebalancing cluster do not retry in lockstep.
    pub fn delay(&self, retry: u32) -> Duration {
        let cap = self
            .base
            .saturating_mul(1u32 << retry.min(16))
            .min(self.max);
        if cap.is_zero() {
            return cap;
        }
        let millis = rand::rng().random_range(cap.as_millis() as u64 / 2..=cap.as_millis() as u64);
        Duration::from_millis(millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_under_the_cap() {
        let p = RetryPolicy {
            attempts: 10,
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        for retry in 1..10 {
            let d = p.delay(retry);
            let cap = Duration::from_millis(100 * (1 << retry)).min(Duration::from_secs(1));
            assert!(
                d <= cap && d >= cap / 2,
                "retry {retry}: {d:?} outside [{:?}, {cap:?}]",
                cap / 2
            );
        }
    }
}
