//! `Context`: what every reconcile shares — the Kubernetes client, the settings, the
//! registry of Connect cluster handles, the caches of both kinds, the Event recorder, the
//! health tracker, and what this process remembers per KafkaConnector (`memory.rs`).

use std::sync::Arc;

use kube::Client;
use kube::runtime::reflector::Store;

use super::events::Recorder;
use super::memory::ConnectorMemory;
use super::registry::ClusterRegistry;
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
    /// The one owner of per-KafkaConnector process memory.
    pub memory: ConnectorMemory,
    /// Whether the shipped admission policy guards `configFrom` Secrets.
    pub admission: Arc<super::admission::AdmissionGuard>,
    /// Namespace labels (`allowedNamespaces.from: Selector`); `None` when watching one
    /// namespace.
    pub namespaces: Option<super::namespaces::NamespaceStore>,
    /// The loggers status each cluster object was last given (`loggers.rs`).
    pub loggers: super::loggers::LoggersMemory,
    /// Where each watched connector's offsets last moved (`connector/progress.rs`).
    pub progress: super::connector::progress::ProgressMemory,
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
        let memory = ConnectorMemory::new(config.topics_refresh);
        Self {
            client,
            config,
            clusters,
            connectors: stores.0,
            cluster_store: stores.1,
            recorder,
            health,
            memory,
            admission: Arc::default(),
            namespaces: None,
            loggers: Default::default(),
            progress: Default::default(),
        }
    }

    /// Drops what this process remembers about an object that is going away, its health
    /// tracking included.
    pub fn forget(&self, obj: &KafkaConnector) {
        self.memory.forget(obj);
        self.progress
            .forget(obj.metadata.uid.as_deref().unwrap_or_default());
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

    /// Whether this process manages the KafkaConnectors of cluster object `key`: always,
    /// unless it is one shard (`--watch-label-selector`) and `key` is not among the cluster
    /// objects it selects. A KafkaConnector naming a cluster object that does not exist
    /// belongs to the default shard (`shard::matches_unlabelled`), which reports it.
    pub async fn manages(&self, key: &(String, String)) -> bool {
        let Some(selector) = &self.config.cluster_selector else {
            return true;
        };
        if self.cached(key) {
            return true;
        }
        if !crate::shard::matches_unlabelled(selector) {
            return false;
        }
        // Another shard's, or none at all: only the apiserver can tell.
        !self.exists(key).await
    }

    /// Whether cluster object `key`, absent from this process's cache, exists all the same:
    /// another shard selects it, so that shard alone talks to its Connect. An apiserver that
    /// does not answer counts as yes, so that nothing is taken for gone on doubt.
    pub async fn another_shards(&self, key: &(String, String)) -> bool {
        if self.config.cluster_selector.is_none() || self.cached(key) {
            return false;
        }
        self.exists(key).await
    }

    /// Whether the apiserver has cluster object `key`: anything but a 404 counts as yes.
    async fn exists(&self, key: &(String, String)) -> bool {
        let api: kube::Api<KafkaConnectCluster> =
            kube::Api::namespaced(self.client.clone(), &key.0);
        !matches!(api.get_metadata_opt(&key.1).await, Ok(None))
    }

    /// Whether cluster object `key` is in this process's cache (one it selects).
    fn cached(&self, key: &(String, String)) -> bool {
        let at = kube::runtime::reflector::ObjectRef::new(&key.1).within(&key.0);
        self.cluster_store.get(&at).is_some()
    }

    /// Whether cluster object `cluster` lets KafkaConnectors of namespace `ns` attach (with
    /// that namespace's labels as this process knows them); `Err` says why not.
    pub fn admits(&self, cluster: &KafkaConnectCluster, ns: &str) -> Result<(), String> {
        let labels = super::namespaces::labels(self.namespaces.as_ref(), ns);
        cluster.admits(ns, labels.as_ref())
    }

    /// Whether the namespace labels are known (or not needed: one namespace watched).
    pub fn namespaces_synced(&self) -> bool {
        self.namespaces.as_ref().is_none_or(store_synced)
    }

    pub fn connectors_synced(&self) -> bool {
        store_synced(&self.connectors)
    }

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

/// Whether a reflector store holds a complete list (polled, never awaited: see `run`).
pub fn store_synced<K: kube::Resource + Clone>(store: &Store<K>) -> bool
where
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    use futures::FutureExt;
    matches!(store.wait_until_ready().now_or_never(), Some(Ok(())))
}
