//! `Context`: what every reconcile shares — the Kubernetes client, the settings, the
//! registry of Connect cluster handles, the caches of both kinds, the Event recorder, the
//! health tracker, and two small pieces of process-local memory (statuses written, topics
//! read).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use kube::Client;
use kube::runtime::events::Recorder;
use kube::runtime::reflector::Store;

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
    topics_read: Mutex<HashMap<String, Instant>>,
}

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
            topics_read: Mutex::default(),
        }
    }

    /// Whether the periodic re-read of this connector's topics is due (never when the
    /// refresh interval is zero).
    pub fn topics_due(&self, obj: &KafkaConnector) -> bool {
        let refresh = self.config.topics_refresh;
        !refresh.is_zero()
            && self
                .topics_read
                .lock()
                .expect("topics lock")
                .get(&uid(obj))
                .is_none_or(|t| t.elapsed() >= refresh)
    }

    pub fn mark_topics_read(&self, obj: &KafkaConnector) {
        self.topics_read
            .lock()
            .expect("topics lock")
            .insert(uid(obj), Instant::now());
    }

    /// Drops what this process remembers about an object that is going away.
    pub fn forget(&self, obj: &KafkaConnector) {
        self.statuses.forget(obj);
        self.topics_read
            .lock()
            .expect("topics lock")
            .remove(&uid(obj));
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
        f(&super::ownership::Caches {
            connectors: &connectors,
            clusters: &clusters,
        })
    }
}
