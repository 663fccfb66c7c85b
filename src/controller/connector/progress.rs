//! `progress`: whether a RUNNING connector keeps moving data, from its offsets
//! (`GET /connectors/{c}/offsets`, Connect 3.5+), read at most every quarter window and within
//! the cluster's per-minute budget of such reads. Where its offsets last moved is kept in
//! memory (a digest of them, and when it last changed): an operator restart starts the window
//! again (or, for a connector status shows stalled, keeps it stalled until its offsets are
//! seen to move), and status changes only when the connector stops or starts moving.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;

use super::live::Live;
use crate::api::KafkaConnector;
use crate::api::progress::ProgressStatus;
use crate::connect::Capabilities;
use crate::controller::cluster_handle::ClusterHandle;
use crate::controller::context::Context;
use crate::controller::events::Note;
use crate::controller::memory::digest;
use crate::telemetry::metrics::{METRICS, ObjectLabels};
use crate::vocabulary::{EventAction, EventReason};

/// Offsets are read no more often than this, however short the window.
const MIN_READ_EVERY: Duration = Duration::from_secs(5);

/// Per KafkaConnector (uid): its offsets' digest, when it last changed, when last read.
#[derive(Default)]
pub struct ProgressMemory(Mutex<HashMap<String, Seen>>);

#[derive(Clone)]
struct Seen {
    digest: u64,
    moved: Timestamp,
    read: Instant,
    labels: ObjectLabels,
}

impl ProgressMemory {
    fn get(&self, uid: &str) -> Option<Seen> {
        self.0.lock().expect("progress memory").get(uid).cloned()
    }

    fn set(&self, uid: &str, seen: Seen) {
        let moved = seen.moved.as_second();
        METRICS.last_progress.get_or_create(&seen.labels).set(moved);
        self.0
            .lock()
            .expect("progress memory")
            .insert(uid.to_string(), seen);
    }

    /// Forgets `uid` (not watched, not running, or gone), its metric with it.
    pub fn forget(&self, uid: &str) {
        if let Some(seen) = self.0.lock().expect("progress memory").remove(uid) {
            METRICS.last_progress.remove(&seen.labels);
        }
    }

    /// Keeps only the objects `live` names (by uid).
    pub fn retain(&self, live: &HashSet<String>) {
        let gone: Vec<String> = {
            let map = self.0.lock().expect("progress memory");
            map.keys().filter(|k| !live.contains(*k)).cloned().collect()
        };
        gone.iter().for_each(|uid| self.forget(uid));
    }
}

/// The window that applies to `obj`: its own `progress`, else its cluster's.
fn window(ctx: &Context, obj: &KafkaConnector) -> Option<Duration> {
    let own = obj.spec.progress.clone();
    let cluster = || {
        let (ns, name) = obj.cluster_key();
        let key = kube::runtime::reflector::ObjectRef::new(&name).within(&ns);
        ctx.cluster_store.get(&key)?.spec.progress.clone()
    };
    own.or_else(cluster)?.window()
}

/// What status shows of `obj`'s progress, and how soon to look again: `None` when it is not
/// watched, the worker cannot tell (before 3.5), or it is not running with every task; what
/// status showed (`prev`) while its offsets could not be read yet since this process started.
pub async fn look(
    ctx: &Context,
    obj: &KafkaConnector,
    handle: &ClusterHandle,
    live: Option<&Live>,
    caps: Capabilities,
    prev: Option<&ProgressStatus>,
) -> (Option<ProgressStatus>, Option<Duration>) {
    let uid = obj.metadata.uid.clone().unwrap_or_default();
    let running = live.is_some_and(|l| {
        l.state() == Some(&crate::vocabulary::ConnectState::Running) && l.every_task_running()
    });
    let Some(window) = window(ctx, obj).filter(|_| caps.read_offsets() && running) else {
        // Not expected to move now: the clock starts again when it runs.
        ctx.progress.forget(&uid);
        return (None, None);
    };
    let every = (window / 4).max(MIN_READ_EVERY);
    let before = ctx.progress.get(&uid);
    let due = before.as_ref().is_none_or(|s| s.read.elapsed() >= every);
    if due && handle.pacing.offsets_read_allowed() {
        let name = obj.connector_name();
        if let Ok(offsets) = handle.client.once().offsets(&name).await {
            let digest = digest(&serde_json::to_string(&offsets.offsets).unwrap_or_default());
            // First read by this process of a connector status showed stalled: it stays
            // stalled from then until a later read sees its offsets move (a restart neither
            // hides a stall nor announces a recovery it did not see).
            let stalled_since = prev.and_then(|p| p.last_movement.as_ref()).map(|t| t.0);
            let moved = match &before {
                Some(s) if s.digest == digest => s.moved,
                Some(_) => Timestamp::now(),
                None => stalled_since.unwrap_or_else(Timestamp::now),
            };
            let labels = ObjectLabels {
                namespace: obj.namespace().unwrap_or_default(),
                kafkaconnector: obj.name_any(),
            };
            let read = Instant::now();
            ctx.progress.set(
                &uid,
                Seen {
                    digest,
                    moved,
                    read,
                    labels,
                },
            );
        }
    }
    let Some(seen) = ctx.progress.get(&uid) else {
        return (prev.cloned(), Some(every));
    };
    (
        Some(verdict(seen.moved, Timestamp::now(), window)),
        Some(every),
    )
}

/// Flowing unless the offsets last moved `window` or longer ago.
fn verdict(moved: Timestamp, now: Timestamp, window: Duration) -> ProgressStatus {
    let still = Duration::try_from(now.duration_since(moved)).unwrap_or_default();
    let flowing = still < window;
    ProgressStatus {
        flowing,
        last_movement: (!flowing).then_some(Time(moved)),
    }
}

/// The Event when a watched connector stops or starts moving again.
pub fn transition(
    connector: &str,
    before: Option<&ProgressStatus>,
    after: Option<&ProgressStatus>,
) -> Option<Note> {
    let (was, is) = (before.map(|p| p.flowing), after.map(|p| p.flowing));
    match (was, is) {
        (Some(true) | None, Some(false)) => Some(Note::warning(
            EventReason::NoProgress,
            EventAction::Reconcile,
            format!(
                "connector {connector} is RUNNING but its offsets have not moved within its progress window"
            ),
        )),
        (Some(false), Some(true)) => Some(Note::normal(
            EventReason::ProgressResumed,
            EventAction::Reconcile,
            format!("connector {connector}'s offsets move again"),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stalled_once_the_window_has_passed_without_movement() {
        let moved: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let window = Duration::from_secs(900);
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        assert!(verdict(moved, at("2026-01-01T00:14:59Z"), window).flowing);
        let stalled = verdict(moved, at("2026-01-01T00:15:00Z"), window);
        assert!(!stalled.flowing);
        assert_eq!(stalled.last_movement, Some(Time(moved)));
    }

    #[test]
    fn events_mark_stopping_and_moving_again() {
        let flowing = ProgressStatus {
            flowing: true,
            last_movement: None,
        };
        let stalled = ProgressStatus {
            flowing: false,
            last_movement: Some(Time(Timestamp::now())),
        };
        assert!(
            transition("c", Some(&flowing), Some(&stalled))
                .unwrap()
                .warning
        );
        assert!(
            !transition("c", Some(&stalled), Some(&flowing))
                .unwrap()
                .warning
        );
        assert!(transition("c", Some(&flowing), Some(&flowing)).is_none());
        assert!(transition("c", None, Some(&flowing)).is_none());
    }
}
