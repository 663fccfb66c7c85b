//! `Context`: what every reconcile shares — the Kubernetes client, the settings, the
//! registry of Connect cluster handles, the caches of both kinds, the Event recorder, the
//! health tracker, and two small pieces of process-local memory (statuses written, topics
//! read).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kube::Client;
use kube::runtime::events::Recorder;
use kube::runtime::reflector::Store;

use super::connector::decide::StateAction;
use super::registry::ClusterRegistry;
use super::status_writer::StatusMemory;
use crate::api::{KafkaConnectCluster, KafkaConnector};
use crate::config::OperatorConfig;
use crate::telemetry::health::{Health, connector_key};

pub struct Context {
    pub client: Client,
    pub config: OperatorConfig,
    pub clusters: Arc<ClusterRegistry>,
    pub connectors: Store<KafkaConnector>,
    pub cluster_store: Store<KafkaConnectCluster>,
    pub recorder: Recorder,
    pub health: Arc<Health>,
    pub statuses: StatusMemory,
    /// When each KafkaConnector's topics were last read (by uid).
    topics_next: Mutex<HashMap<String, Instant>>,
    /// Pause, resume or stop requests Connect accepted but no worker has carried out yet
    /// (by uid): what was asked, and when.
    state_requests: Mutex<HashMap<String, (StateAction, Instant)>>,
    /// Failed reconciles in a row (by uid), for the error policy's backoff.
    failures: Mutex<HashMap<String, u32>>,
}

/// How long a pause, resume or stop Connect accepted is left to a worker before it is sent
/// again. Connect keeps the target state in its config topic: while no worker can act (a
/// rebalance, a departed worker) re-sending changes nothing.
pub const STATE_RESEND: std::time::Duration = std::time::Duration::from_secs(120);

/// How soon the topics of a connector that has just started, and listed none, are read again.
pub const TOPICS_SETTLE: std::time::Duration = std::time::Duration::from_secs(15);

impl Context {
    pub fn new(
        client: Client,
        config: OperatorConfig,
        clusters: Arc<ClusterRegistry>,
        stores: (Store<KafkaConnector>, Store<KafkaConnectCluster>),
        recorder: Recorder,
        health: Arc<Health>,
    ) -> Self {
        Self {
            client,
            config,
            clusters,
            connectors: stores.0,
            cluster_store: stores.1,
            recorder,
            health,
            statuses: StatusMemory::default(),
            topics_next: Mutex::default(),
            state_requests: Mutex::default(),
            failures: Mutex::default(),
        }
    }

    /// Whether the next read of this connector's topics is due (never when the refresh
    /// interval is zero).
    pub fn topics_due(&self, obj: &KafkaConnector) -> bool {
        !self.config.topics_refresh.is_zero()
            && self
                .topics_next
                .lock()
                .expect("topics lock")
                .get(&uid(obj))
                .is_none_or(|next| Instant::now() >= *next)
    }

    /// Records a read of `obj`'s topics. `settling`: the connector has just started and
    /// used no topic yet; topics appear lazily (a source creates them when it first
    /// produces), so the next read is due after `TOPICS_SETTLE`, not the whole refresh.
    pub fn mark_topics_read(&self, obj: &KafkaConnector, settling: bool) {
        let after = match settling {
            true => TOPICS_SETTLE.min(self.config.topics_refresh),
            false => self.config.topics_refresh,
        };
        self.topics_next
            .lock()
            .expect("topics lock")
            .insert(uid(obj), Instant::now() + after);
    }

    /// When to look at `obj` again for its topics: until the next read is due, or the whole
    /// refresh when it is due already (the cluster's read budget said no this time).
    pub fn topics_wait(&self, obj: &KafkaConnector) -> Option<Duration> {
        let refresh = self.config.topics_refresh;
        if refresh.is_zero() {
            return None;
        }
        let next = self
            .topics_next
            .lock()
            .expect("topics lock")
            .get(&uid(obj))
            .copied();
        let now = Instant::now();
        Some(match next {
            Some(next) if next > now => next - now,
            _ => refresh,
        })
    }

    /// How long ago `action` was sent for `obj` and not carried out yet, when that is less
    /// than `STATE_RESEND` (`None` otherwise: send it).
    pub fn state_pending(&self, obj: &KafkaConnector, action: StateAction) -> Option<Duration> {
        let requests = self.state_requests.lock().expect("state lock");
        let (sent, at) = requests.get(&uid(obj))?;
        (*sent == action && at.elapsed() < STATE_RESEND).then(|| at.elapsed())
    }

    /// Remembers an accepted, unconfirmed request (`Some`), or forgets it (`None`).
    pub fn set_state_pending(&self, obj: &KafkaConnector, action: Option<StateAction>) {
        let mut requests = self.state_requests.lock().expect("state lock");
        match action {
            Some(a) => requests.insert(uid(obj), (a, Instant::now())),
            None => requests.remove(&uid(obj)),
        };
    }

    /// Counts a failed reconcile of `obj` (`failed`), or forgets its failures.
    pub fn count_failure(&self, obj: &KafkaConnector, failed: bool) {
        let mut failures = self.failures.lock().expect("failures lock");
        if failed {
            *failures.entry(uid(obj)).or_default() += 1;
        } else {
            failures.remove(&uid(obj));
        }
    }

    /// Failed reconciles of `obj` in a row.
    pub fn failures(&self, obj: &KafkaConnector) -> u32 {
        let failures = self.failures.lock().expect("failures lock");
        failures.get(&uid(obj)).copied().unwrap_or_default()
    }

    /// Drops what this process remembers about an object that is going away.
    pub fn forget(&self, obj: &KafkaConnector) {
        self.statuses.forget(obj);
        self.topics_next
            .lock()
            .expect("topics lock")
            .remove(&uid(obj));
        self.set_state_pending(obj, None);
        self.count_failure(obj, false);
        let ns = obj.metadata.namespace.clone().unwrap_or_default();
        self.health.forget(&connector_key(
            &ns,
            &obj.metadata.name.clone().unwrap_or_default(),
        ));
    }

    /// Whether the KafkaConnectCluster cache holds a complete list.
    pub fn clusters_synced(&self) -> bool {
        store_synced(&self.cluster_store)
    }

    pub fn connectors_synced(&self) -> bool {
        store_synced(&self.connectors)
    }
}

fn uid(obj: &KafkaConnector) -> String {
    obj.metadata.uid.clone().unwrap_or_default()
}

/// Whether a reflector store holds a complete list (polled, never awaited: see `run`).
pub fn store_synced<K: kube::Resource + Clone>(store: &Store<K>) -> bool
where
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    use futures::FutureExt;
    matches!(store.wait_until_ready().now_or_never(), Some(Ok(())))
}

impl Context {
    /// Runs `f` over a consistent copy of both caches (for ownership decisions).
    pub fn with_caches<R>(&self, f: impl FnOnce(&super::ownership::Caches<'_>) -> R) -> R {
        let connectors = self.connectors.state();
        let clusters = self.cluster_store.state();
        let identities = self.clusters.identities();
        f(&super::ownership::Caches {
            connectors: &connectors,
            clusters: &clusters,
            identities: &identities,
        })
    }
}
