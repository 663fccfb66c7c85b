//! One handle per KafkaConnectCluster: its REST client and a poller that refreshes a shared
//! view of every connector with ONE `GET /connectors?expand=status&expand=info` per interval.
//! The poller wakes only the KafkaConnectors whose live view changed, so REST load stays
//! flat in the number of connectors while nothing changes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use futures::channel::mpsc::UnboundedSender;
use kube::runtime::reflector::{ObjectRef, Store};

use super::ownership::normalise_url;
use crate::api::{KafkaConnectCluster, KafkaConnector};
use crate::connect::{ClientSettings, ConnectClient, types::ExpandedConnector};
use crate::error::Result;
use crate::telemetry::health::Health;
use crate::telemetry::metrics;

/// (namespace, name) of a KafkaConnectCluster.
pub type ClusterKey = (String, String);

#[derive(Default, Debug, Clone)]
pub struct ClusterView {
    /// The last successful bulk read; `None` before the first one.
    pub connectors: Option<BTreeMap<String, ExpandedConnector>>,
    /// Why the last poll failed, if it did.
    pub error: Option<String>,
    pub polled_at: Option<Instant>,
    /// When a reconcile last wrote each entry (see `apply_poll`).
    local_writes: std::collections::HashMap<String, Instant>,
}

pub struct ClusterHandle {
    pub key: ClusterKey,
    pub url: String,
    pub client: ConnectClient,
    fingerprint: u64,
    view: RwLock<ClusterView>,
    poller: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl ClusterHandle {
    pub fn view(&self) -> ClusterView {
        self.view.read().expect("view lock").clone()
    }

    /// The bulk view's entry for one connector, when the last poll succeeded and listed it.
    pub fn entry(&self, connector: &str) -> Option<ExpandedConnector> {
        let v = self.view.read().expect("view lock");
        if v.error.is_some() {
            return None;
        }
        v.connectors
            .as_ref()
            .and_then(|m| m.get(connector).cloned())
    }

    /// Records what a reconcile just read or wrote, so the next reconcile before the next
    /// poll does not act on stale data. `None` removes the entry (connector deleted).
    pub fn set_entry(&self, connector: &str, entry: Option<ExpandedConnector>) {
        let mut v = self.view.write().expect("view lock");
        v.local_writes.insert(connector.to_string(), Instant::now());
        if let Some(map) = v.connectors.as_mut() {
            match entry {
                Some(e) => map.insert(connector.to_string(), e),
                None => map.remove(connector),
            };
        }
    }

    /// Replaces the view with a poll's result; returns the connector names whose entry
    /// changed and whether reachability flipped.
    /// A poll sent before a reconcile's `set_entry` and answered after it carries the state
    /// before that reconcile's writes: such entries keep the reconcile's version.
    fn apply_poll(
        &self,
        result: Result<BTreeMap<String, ExpandedConnector>>,
        sent: Instant,
    ) -> (BTreeSet<String>, bool) {
        let mut v = self.view.write().expect("view lock");
        v.polled_at = Some(Instant::now());
        match result {
            Ok(mut new) => {
                let flipped = v.error.take().is_some() || v.connectors.is_none();
                let old = v.connectors.take().unwrap_or_default();
                for (name, written) in std::mem::take(&mut v.local_writes) {
                    if written > sent {
                        match old.get(&name) {
                            Some(e) => new.insert(name.clone(), e.clone()),
                            None => new.remove(&name),
                        };
                        v.local_writes.insert(name, written);
                    }
                }
                let changed = old
                    .keys()
                    .chain(new.keys())
                    .filter(|k| old.get(*k) != new.get(*k))
                    .cloned()
                    .collect();
                v.connectors = Some(new);
                (changed, flipped)
            }
            Err(e) => {
                let flipped = v.error.is_none();
                v.error = Some(e.to_string());
                (BTreeSet::new(), flipped)
            }
        }
    }
}

impl ClusterHandle {
    /// `kco_connectors{namespace, cluster, state}` from the last poll. Every state is written,
    /// zero included, so a state that emptied does not keep its old count.
    fn export_state_counts(&self) {
        let v = self.view.read().expect("view lock");
        let Some(map) = v.connectors.as_ref() else {
            return;
        };
        for state in [
            "RUNNING",
            "PAUSED",
            "STOPPED",
            "FAILED",
            "UNASSIGNED",
            "RESTARTING",
        ] {
            let n = map
                .values()
                .filter(|e| {
                    e.status
                        .as_ref()
                        .is_some_and(|s| s.connector.state == state)
                })
                .count();
            let labels = metrics::StateLabels {
                namespace: self.key.0.clone(),
                cluster: self.key.1.clone(),
                state: state.into(),
            };
            metrics::METRICS
                .connectors
                .get_or_create(&labels)
                .set(n as i64);
        }
    }
}

impl Drop for ClusterHandle {
    fn drop(&mut self) {
        if let Some(p) = self.poller.lock().expect("poller lock").take() {
            p.abort();
        }
    }
}

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
            let handle = Arc::new(ClusterHandle {
                key: key.clone(),
                url: normalise_url(settings.url.as_str()),
                client: settings.build()?,
                fingerprint,
                view: RwLock::default(),
                poller: Mutex::new(None),
            });
            handles.insert(key, handle.clone());
            handle
        };
        let task = tokio::spawn(poll_loop(
            Arc::downgrade(self),
            Arc::downgrade(&handle),
            self.poll_interval,
        ));
        *handle.poller.lock().expect("poller lock") = Some(task);
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

    fn cluster_exists(&self, key: &ClusterKey) -> bool {
        match self.stores.get() {
            Some((_, clusters)) => clusters
                .get(&ObjectRef::new(&key.1).within(&key.0))
                .is_some(),
            None => true,
        }
    }
}

/// The key `Health` tracks a KafkaConnector under.
pub fn connector_key(namespace: &str, name: &str) -> String {
    format!("KafkaConnector/{namespace}/{name}")
}

async fn poll_loop(
    registry: std::sync::Weak<ClusterRegistry>,
    handle: std::sync::Weak<ClusterHandle>,
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
        h.export_state_counts();
        if flipped {
            // Reachability changed: every connector's status and the cluster's Ready change.
            reg.wake_connectors(&h.key, None);
            let _ = reg
                .wake_cluster
                .unbounded_send(ObjectRef::new(&h.key.1).within(&h.key.0));
        } else if !changed.is_empty() {
            tracing::debug!(namespace = %h.key.0, cluster = %h.key.1, changed = changed.len(), "live view changed");
            reg.wake_connectors(&h.key, Some(&changed));
            // Counts in the cluster's status (and unmanaged connectors) may have changed.
            let _ = reg
                .wake_cluster
                .unbounded_send(ObjectRef::new(&h.key.1).within(&h.key.0));
        }
        drop((reg, h));
        tokio::time::sleep(interval).await;
    }
}
