//! How often a cluster is looked at: polled fast for a while after a reconcile wrote, and a
//! per-minute budget of periodic topics reads, so idle REST load does not grow with the
//! number of connectors.

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

#[derive(Default)]
pub struct Pacing {
    /// Until when the poller polls fast (see `hot`).
    hot_until: Mutex<Option<Instant>>,
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
        *self.hot_until.lock().expect("hot lock") = Some(Instant::now() + HOT_FOR);
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
