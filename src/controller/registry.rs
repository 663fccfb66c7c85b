//! The registry of `ClusterHandle`s, one per KafkaConnectCluster, and each handle's poll
//! loop. A handle is built (client and loop) on first use and rebuilt when the resolved
//! settings change. Each loop refreshes its handle's view with ONE
//! `GET /connectors?expand=status&expand=info` per interval and wakes only the
//! KafkaConnectors whose entry changed, so REST load stays flat in the number of connectors
//! while nothing changes.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use futures::channel::mpsc::UnboundedSender;
use kube::runtime::reflector::{ObjectRef, Store};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::cluster_handle::{ClusterHandle, ClusterKey};
use super::ownership::normalise_url;
use crate::api::{KafkaConnectCluster, KafkaConnector};
use crate::connect::ClientSettings;
use crate::error::Result;
use crate::telemetry::health::{Health, connector_key};

pub struct ClusterRegistry {
    handles: Mutex<HashMap<ClusterKey, Arc<ClusterHandle>>>,
    wake_connector: UnboundedSender<ObjectRef<KafkaConnector>>,
    wake_cluster: UnboundedSender<ObjectRef<KafkaConnectCluster>>,
    poll_interval: Duration,
    stores: OnceLock<(Store<KafkaConnector>, Store<KafkaConnectCluster>)>,
    health: Arc<Health>,
    /// Per cluster, the slots of its KafkaConnector reconciles (see `slot`).
    slots: Mutex<HashMap<ClusterKey, Arc<Semaphore>>>,
    cluster_concurrency: usize,
}

impl ClusterRegistry {
    pub fn new(
        wake_connector: UnboundedSender<ObjectRef<KafkaConnector>>,
        wake_cluster: UnboundedSender<ObjectRef<KafkaConnectCluster>>,
        poll_interval: Duration,
        cluster_concurrency: u16,
        health: Arc<Health>,
    ) -> Self {
        Self {
            health,
            slots: Mutex::default(),
            cluster_concurrency: cluster_concurrency.max(1).into(),
            handles: Mutex::default(),
            wake_connector,
            wake_cluster,
            poll_interval,
            stores: OnceLock::new(),
        }
    }

    pub fn attach(&self, connectors: Store<KafkaConnector>, clusters: Store<KafkaConnectCluster>) {
        let _ = self.stores.set((connectors, clusters));
    }

    /// One of the reconcile slots of cluster `key`, or `None` when all are taken. Every
    /// reconcile of a KafkaConnector holds one, so a cluster that hangs or errors takes at
    /// most `cluster_concurrency` of the controller's slots and of the REST calls in flight
    /// to it; the others are requeued instead of waiting in a controller slot.
    pub fn slot(&self, key: &ClusterKey) -> Option<OwnedSemaphorePermit> {
        let gate = self
            .slots
            .lock()
            .expect("slots lock")
            .entry(key.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(self.cluster_concurrency)))
            .clone();
        gate.try_acquire_owned().ok()
    }

    pub fn get(&self, key: &ClusterKey) -> Option<Arc<ClusterHandle>> {
        self.handles.lock().expect("handles lock").get(key).cloned()
    }

    /// Returns the handle for `key`, (re)building client and poller when the resolved
    /// settings (URL, timeout, credentials, TLS) changed.
    pub fn ensure(
        self: &Arc<Self>,
        key: ClusterKey,
        settings: &ClientSettings,
    ) -> Result<Arc<ClusterHandle>> {
        let fingerprint = settings.fingerprint();
        // Check and insert under one lock: concurrent reconciles of one cluster must not
        // each build a client and a poller.
        let handle = {
            let mut handles = self.handles.lock().expect("handles lock");
            if let Some(h) = handles.get(&key)
                && h.fingerprint == fingerprint
            {
                return Ok(h.clone());
            }
            let handle = Arc::new(ClusterHandle::new(
                key.clone(),
                normalise_url(settings.url.as_str()),
                settings.build()?,
                fingerprint,
            ));
            handles.insert(key, handle.clone());
            handle
        };
        let task = tokio::spawn(poll_loop(
            Arc::downgrade(self),
            Arc::downgrade(&handle),
            self.poll_interval,
        ));
        handle.set_poller(task);
        Ok(handle)
    }

    /// The KafkaConnectCluster is gone: its handle, poller and metric series go too.
    pub fn remove(&self, key: &ClusterKey) {
        self.handles.lock().expect("handles lock").remove(key);
        self.slots.lock().expect("slots lock").remove(key);
        super::cluster_handle::forget_state_counts(key);
    }

    pub fn stop_all(&self) {
        self.handles.lock().expect("handles lock").clear();
    }

    /// Wakes every KafkaConnector on cluster `key` whose connector name is in `names`
    /// (all of them when `names` is `None`).
    pub fn wake_connectors(&self, key: &ClusterKey, names: Option<&BTreeSet<String>>) {
        let Some((connectors, _)) = self.stores.get() else {
            return;
        };
        for c in connectors.state() {
            let ns = c.metadata.namespace.clone().unwrap_or_default();
            if ns == key.0
                && c.spec.cluster_ref.name == key.1
                && names.is_none_or(|n| n.contains(&c.connector_name()))
            {
                let name = c.metadata.name.clone().unwrap_or_default();
                self.health.wanted(&connector_key(&ns, &name));
                let _ = self
                    .wake_connector
                    .unbounded_send(ObjectRef::from_obj(c.as_ref()));
            }
        }
    }

    pub fn wake_connector(&self, obj: ObjectRef<KafkaConnector>) {
        let _ = self.wake_connector.unbounded_send(obj);
    }

    pub fn wake_cluster(&self, obj: ObjectRef<KafkaConnectCluster>) {
        let _ = self.wake_cluster.unbounded_send(obj);
    }

    fn cluster_exists(&self, key: &ClusterKey) -> bool {
        match self.stores.get() {
            Some((_, clusters)) => clusters
                .get(&ObjectRef::new(&key.1).within(&key.0))
                .is_some(),
            None => true,
        }
    }
}

/// Ends by itself once the handle or the registry is dropped, or the cluster object is gone.
async fn poll_loop(
    registry: Weak<ClusterRegistry>,
    handle: Weak<ClusterHandle>,
    interval: Duration,
) {
    loop {
        let (Some(reg), Some(h)) = (registry.upgrade(), handle.upgrade()) else {
            return;
        };
        if !reg.cluster_exists(&h.key) {
            tracing::info!(namespace = %h.key.0, cluster = %h.key.1, "KafkaConnectCluster gone: stopping its poller");
            reg.remove(&h.key);
            return;
        }
        let sent = Instant::now();
        let result = h.client.list_expanded().await;
        if let Err(e) = &result {
            tracing::warn!(namespace = %h.key.0, cluster = %h.key.1, error = %e, "bulk poll of Connect failed");
        }
        let (changed, flipped) = h.apply_poll(result, sent);
        let recount = h.counts_changed();
        h.export_state_counts();
        if flipped {
            // Reachability changed: every connector's status and the cluster's Ready change.
            reg.wake_connectors(&h.key, None);
            reg.wake_cluster(ObjectRef::new(&h.key.1).within(&h.key.0));
        } else if !changed.is_empty() || recount {
            tracing::debug!(namespace = %h.key.0, cluster = %h.key.1, changed = changed.len(), "live view changed");
            reg.wake_connectors(&h.key, Some(&changed));
            // Counts in the cluster's status (and unmanaged connectors) may have changed.
            reg.wake_cluster(ObjectRef::new(&h.key.1).within(&h.key.0));
        }
        drop((reg, h));
        tokio::time::sleep(interval).await;
    }
}
