//! The registry of `ClusterHandle`s, one per KafkaConnectCluster: built (client and poll
//! loop) on first use, rebuilt when the resolved settings change, and the channels through
//! which a poll wakes the reconcilers.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures::channel::mpsc::UnboundedSender;
use kube::runtime::reflector::{ObjectRef, Store};

use super::context::health_key;
use super::ownership::normalise_url;
use super::poller::{ClusterHandle, ClusterKey};
use crate::api::{KafkaConnectCluster, KafkaConnector};
use crate::connect::ClientSettings;
use crate::error::Result;
use crate::telemetry::health::Health;

pub struct ClusterRegistry {
    handles: Mutex<HashMap<ClusterKey, Arc<ClusterHandle>>>,
    wake_connector: UnboundedSender<ObjectRef<KafkaConnector>>,
    wake_cluster: UnboundedSender<ObjectRef<KafkaConnectCluster>>,
    poll_interval: Duration,
    stores: OnceLock<(Store<KafkaConnector>, Store<KafkaConnectCluster>)>,
    health: Arc<Health>,
}

impl ClusterRegistry {
    pub fn new(
        wake_connector: UnboundedSender<ObjectRef<KafkaConnector>>,
        wake_cluster: UnboundedSender<ObjectRef<KafkaConnectCluster>>,
        poll_interval: Duration,
        health: Arc<Health>,
    ) -> Self {
        Self {
            health,
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
        handle.start_polling(self, self.poll_interval);
        Ok(handle)
    }

    pub fn remove(&self, key: &ClusterKey) {
        self.handles.lock().expect("handles lock").remove(key);
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
                self.health.wanted(&health_key(&ns, &name));
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

    pub(super) fn cluster_exists(&self, key: &ClusterKey) -> bool {
        match self.stores.get() {
            Some((_, clusters)) => clusters
                .get(&ObjectRef::new(&key.1).within(&key.0))
                .is_some(),
            None => true,
        }
    }
}
