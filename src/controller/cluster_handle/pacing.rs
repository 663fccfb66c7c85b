//! How often a cluster is looked at: polled fast for a while after a reconcile wrote (faster
//! still once the writes stop, to see the last ones settle), and a per-minute budget of
//! periodic topics reads, so idle REST load does not grow with the number of connectors.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Periodic `GET .../topics` refreshes per cluster per minute: beyond it a connector waits
/// for a later turn.
pub const TOPICS_REFRESH_PER_MINUTE: u32 = 20;

/// Offsets reads per cluster per minute for `progress` (`GET .../offsets`): beyond it a
/// connector waits for a later turn.
pub const OFFSETS_READS_PER_MINUTE: u32 = 60;

/// How long after a reconcile's write the poller polls fast.
const HOT_FOR: Duration = Duration::from_secs(30);

/// The poll interval while hot (`Pacing::hot`).
pub const HOT_POLL: Duration = Duration::from_secs(1);

/// How often the poller checks whether a poll is due while hot.
pub const HOT_STEP: Duration = Duration::from_millis(50);

/// Writes quiet for this long end a burst (a rollout's last creates, one edit).
const QUIET: Duration = Duration::from_millis(150);

/// After a burst ends, polls this often for `SETTLE_FOR`: what Connect does with the last
/// writes (tasks starting) is seen within a quarter second, not the next hot poll. Inside a
/// burst the hot poll's second holds: a bulk read per quarter second for the whole rollout
/// would cost more reconciles than it saves.
const SETTLE_POLL: Duration = Duration::from_millis(250);
const SETTLE_FOR: Duration = Duration::from_secs(3);

#[derive(Default)]
pub struct Pacing {
    /// Until when the poller polls fast (see `hot`).
    hot_until: Mutex<Option<Instant>>,
    /// The last write (or read) a reconcile recorded.
    last_write: Mutex<Option<Instant>>,
    /// Periodic topics refreshes in the current minute: (minute start, count).
    topics_refreshes: Mutex<(Option<Instant>, u32)>,
    /// Offsets reads for `progress` in the current minute.
    offsets_reads: Mutex<(Option<Instant>, u32)>,
}

impl Pacing {
    /// Whether a reconcile wrote to this cluster lately: the poller then polls every second,
    /// so that what Connect does next (a status appearing, tasks starting) is seen at once
    /// instead of at the next interval, with one bulk read per cluster, never per connector.
    pub fn hot(&self) -> bool {
        self.hot_until
            .lock()
            .expect("hot lock")
            .is_some_and(|t| Instant::now() < t)
    }

    pub fn mark_hot(&self) {
        let now = Instant::now();
        *self.hot_until.lock().expect("hot lock") = Some(now + HOT_FOR);
        *self.last_write.lock().expect("write lock") = Some(now);
    }

    /// Whether the poller, whose last poll was sent at `sent`, polls now: every `HOT_POLL`
    /// while hot, every `SETTLE_POLL` once a burst of writes has ended.
    pub fn poll_due(&self, sent: Instant) -> bool {
        let since = sent.elapsed();
        if self.hot() && since >= HOT_POLL {
            return true;
        }
        let quiet = self
            .last_write
            .lock()
            .expect("write lock")
            .map(|w| w.elapsed());
        since >= SETTLE_POLL && quiet.is_some_and(|q| (QUIET..SETTLE_FOR).contains(&q))
    }

    /// Takes one of this minute's periodic topics refreshes, if any is left.
    pub fn topics_refresh_allowed(&self) -> bool {
        take(&self.topics_refreshes, TOPICS_REFRESH_PER_MINUTE)
    }

    /// Takes one of this minute's offsets reads, if any is left.
    pub fn offsets_read_allowed(&self) -> bool {
        take(&self.offsets_reads, OFFSETS_READS_PER_MINUTE)
    }
}

/// One of `per_minute` in the minute that `budget` counts, if any is left.
fn take(budget: &Mutex<(Option<Instant>, u32)>, per_minute: u32) -> bool {
    {
        let mut r = budget.lock().expect("budget lock");
        let now = Instant::now();
        if r.0
            .is_none_or(|start| now.duration_since(start) >= Duration::from_secs(60))
        {
            *r = (Some(now), 0);
        }
        if r.1 >= per_minute {
            return false;
        }
        r.1 += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ago(ms: u64) -> Instant {
        Instant::now() - Duration::from_millis(ms)
    }

    fn wrote(ms_ago: u64) -> Pacing {
        let p = Pacing::default();
        p.mark_hot();
        *p.last_write.lock().unwrap() = Some(ago(ms_ago));
        p
    }

    #[test]
    fn polls_every_second_while_writes_go_on_and_faster_once_they_stop() {
        let idle = Pacing::default();
        assert!(
            !idle.poll_due(ago(5_000)),
            "never wrote: the interval decides"
        );

        let busy = wrote(10);
        assert!(
            !busy.poll_due(ago(300)),
            "inside a burst: the hot poll's second"
        );
        assert!(busy.poll_due(ago(1_100)), "hot: a poll a second");

        let settling = wrote(200);
        assert!(
            settling.poll_due(ago(300)),
            "the burst ended: a quarter second"
        );
        assert!(
            !settling.poll_due(ago(100)),
            "not twice within a quarter second"
        );

        let settled = wrote(5_000);
        assert!(!settled.poll_due(ago(300)), "settled: back to the hot poll");
        assert!(settled.poll_due(ago(1_100)));
    }
}
