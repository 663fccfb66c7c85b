//! The registry of `ClusterHandle`s and each handle's poll loop. Every KafkaConnectCluster
//! gets a handle on first use, rebuilt when its resolved settings change; cluster objects
//! with the same settings (URL, credentials, TLS: one Connect, however many namespaces name
//! it) share one handle, so one Connect has one poller and one view. Each loop refreshes its handle's view with ONE
//! `GET /connectors?expand=status&expand=info` per interval and wakes only the
//! KafkaConnectors whose entry changed, so REST load stays flat in the number of connectors
//! while nothing changes.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use futures::channel::mpsc::UnboundedSender;
use kube::runtime::reflector::{ObjectRef, Store};

use super::cluster_handle::{ClusterHandle, ClusterKey, HOT_POLL, HOT_STEP};
use super::identity::{Sighting, group_urls};
use super::ownership::normalise_url;
use super::slots::{Slot, Slots};
use crate::api::{KafkaConnectCluster, KafkaConnector};
use crate::connect::ClientSettings;
use crate::error::Result;
use crate::telemetry::health::{Health, connector_key};
use crate::telemetry::metrics::{ClusterLabels, METRICS};

pub struct ClusterRegistry {
    handles: Mutex<HashMap<ClusterKey, Arc<ClusterHandle>>>,
    wake_connector: UnboundedSender<ObjectRef<KafkaConnector>>,
    wake_cluster: UnboundedSender<ObjectRef<KafkaConnectCluster>>,
    poll_interval: Duration,
    stores: OnceLock<(Store<KafkaConnector>, Store<KafkaConnectCluster>)>,
    health: Arc<Health>,
    /// Per cluster, the slots of its KafkaConnector reconciles (see `slot`).
    slots: Slots,
    /// URL pairs seen reaching one Connect group (see `identities`).
    aliases: Mutex<BTreeSet<(String, String)>>,
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
            slots: Slots::new(cluster_concurrency.into(), wake_connector.clone()),
            aliases: Mutex::default(),
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

    /// One of the reconcile slots of cluster `key` for `who`, or `None` when all are taken
    /// (see `slots.rs`). Every reconcile of a KafkaConnector holds one, so a cluster that
    /// hangs or errors takes at most `cluster_concurrency` of the controller's slots and of
    /// the REST calls in flight to it; the others are requeued instead of waiting in a
    /// controller slot, and woken when a slot is freed.
    pub fn slot(&self, key: &ClusterKey, who: &ObjectRef<KafkaConnector>) -> Option<Slot> {
        self.slots.take(key, who)
    }

    /// Which Connect cluster each known URL reaches: URL → the identity it shares with
    /// every URL of the same Connect group (the smallest such URL).
    ///
    /// Two URLs are one group once cluster objects of ONE namespace that name them have shown
    /// a common worker id: Connect reports, for each connector and task, the worker running
    /// it (its advertised host:port), and a worker belongs to exactly one group. The evidence
    /// is what this process's polls show and what the cluster objects' `status.workers`
    /// recorded (so it holds from the first reconcile after a restart, before any poll).
    /// Learnt pairs are kept for the life of the process, so a rebalance that moves every
    /// connector off the common worker does not split them.
    ///
    /// Worker ids are only what a server says: one that reports another group's ids (a fake,
    /// or a proxy that rewrites answers) must not join that group's ownership space, where
    /// its KafkaConnectors could hold names against the group's own or block their deletes.
    /// Hence one namespace: a namespace's users vouch only for their own cluster objects, and
    /// across namespaces only the very same URL is one Connect.
    pub fn identities(&self) -> HashMap<String, String> {
        let mut seen: Vec<Sighting> = vec![];
        for h in self.handles.lock().expect("handles lock").values() {
            let workers = h.view.workers();
            for (namespace, _) in h.users() {
                seen.push(Sighting {
                    namespace,
                    url: h.url.clone(),
                    workers: workers.clone(),
                });
            }
        }
        if let Some((_, clusters)) = self.stores.get() {
            for c in clusters.state() {
                let recorded = c.status.as_ref().map(|s| &s.workers);
                seen.push(Sighting {
                    namespace: c.metadata.namespace.clone().unwrap_or_default(),
                    url: normalise_url(&c.spec.url),
                    workers: recorded.into_iter().flatten().cloned().collect(),
                });
            }
        }
        let mut learnt = self.aliases.lock().expect("aliases lock");
        group_urls(&seen, &mut learnt)
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
            // Its settings changed: the old handle serves whoever else still uses it (its
            // poller ends with its last user), and calls in flight on it finish.
            if let Some(old) = handles.remove(&key) {
                old.remove_user(&key);
            }
            let same = handles
                .values()
                .find(|h| h.fingerprint == fingerprint)
                .cloned();
            if let Some(shared) = same {
                shared.add_user(key.clone());
                handles.insert(key.clone(), shared.clone());
                return Ok(shared);
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

    /// The KafkaConnectCluster is gone: its handle, poller and metric series go too (the
    /// handle stays while another cluster object shares it).
    pub fn remove(&self, key: &ClusterKey) {
        let removed = self.handles.lock().expect("handles lock").remove(key);
        if let Some(h) = removed
            && !h.remove_user(key)
        {
            super::cluster_handle::forget_state_counts(&h.key);
        }
        let (namespace, cluster) = key.clone();
        METRICS
            .last_poll
            .remove(&ClusterLabels { namespace, cluster });
        self.slots.remove(key);
    }

    /// The client of cluster `key` can no longer be built from what it names (a Secret gone
    /// or taken back): drop the handle, so its poller stops and no request carries the old
    /// credentials. The next reconcile that can resolve the settings builds a new one.
    pub fn drop_handle(&self, key: &ClusterKey) {
        let dropped = self.handles.lock().expect("handles lock").remove(key);
        if let Some(handle) = dropped {
            release(&handle, key);
        }
    }

    pub fn stop_all(&self) {
        self.handles.lock().expect("handles lock").clear();
    }

    /// Wakes every KafkaConnector on cluster `key` (or moving from it) whose connector name
    /// is in `names` (all of them when `names` is `None`).
    pub fn wake_connectors(&self, key: &ClusterKey, names: Option<&BTreeSet<String>>) {
        let Some((connectors, _)) = self.stores.get() else {
            return;
        };
        for c in connectors.state() {
            let ns = c.metadata.namespace.clone().unwrap_or_default();
            if involves(&c, key) && names.is_none_or(|n| n.contains(c.connector_name_ref())) {
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

/// Whether cluster object `key` is the one `c`'s `clusterRef` names, or the one a move takes
/// the connector from (as the cached status says): a change to either concerns it.
fn involves(c: &KafkaConnector, key: &ClusterKey) -> bool {
    c.attached_to(key)
        || c.status
            .as_ref()
            .and_then(|s| c.moving_from(s))
            .is_some_and(|from| from == *key)
}

/// `key` no longer uses `handle`. When no cluster object does, its client refuses to send
/// from now on: reconciles and the poller may still hold the handle (a call being retried),
/// and no request may carry settings that were taken back.
fn release(handle: &ClusterHandle, key: &ClusterKey) {
    if !handle.remove_user(key) {
        handle.client.retire();
    }
}

/// Counts the running poll loops (`kco_connect_pollers`) for as long as it lives.
struct Polling;

impl Polling {
    fn start() -> Self {
        crate::telemetry::metrics::METRICS.pollers.inc();
        Polling
    }
}

impl Drop for Polling {
    fn drop(&mut self) {
        crate::telemetry::metrics::METRICS.pollers.dec();
    }
}

/// Ends by itself once the handle or the registry is dropped, or no cluster object using
/// the handle is left.
async fn poll_loop(
    registry: Weak<ClusterRegistry>,
    handle: Weak<ClusterHandle>,
    interval: Duration,
) {
    let _counted = Polling::start();
    let mut failed_in_row = 0u32;
    loop {
        let (Some(reg), Some(h)) = (registry.upgrade(), handle.upgrade()) else {
            return;
        };
        for gone in h.users().into_iter().filter(|k| !reg.cluster_exists(k)) {
            tracing::info!(namespace = %gone.0, cluster = %gone.1, "KafkaConnectCluster gone: it no longer uses its poller");
            reg.remove(&gone);
        }
        if h.users().is_empty() {
            return;
        }
        let sent = Instant::now();
        let result = h.client.list_expanded().await;
        if let Err(e) = &result {
            let error = crate::mask::cut(&e.to_string());
            tracing::warn!(namespace = %h.key.0, cluster = %h.key.1, %error, "bulk poll of Connect failed");
        }
        failed_in_row = if result.is_ok() { 0 } else { failed_in_row + 1 };
        if result.is_ok() {
            let now = jiff::Timestamp::now().as_second();
            for (namespace, cluster) in h.users() {
                let labels = ClusterLabels { namespace, cluster };
                METRICS.last_poll.get_or_create(&labels).set(now);
            }
        }
        let workers_before = h.view.workers();
        let (changed, flipped) = h.view.apply_poll(result, sent);
        // New workers are new evidence of the group: the cluster's status records them.
        let recount = h.view.counts_changed() || h.view.workers() != workers_before;
        h.view.export_state_counts();
        for key in h.users() {
            if flipped {
                // Reachability changed: every connector's status and the cluster's Ready change.
                reg.wake_connectors(&key, None);
                reg.wake_cluster(ObjectRef::new(&key.1).within(&key.0));
            } else if !changed.is_empty() || recount {
                tracing::debug!(namespace = %key.0, cluster = %key.1, changed = changed.len(), "live view changed");
                reg.wake_connectors(&key, Some(&changed));
                // Counts in the cluster's status (and unmanaged connectors) may have changed.
                reg.wake_cluster(ObjectRef::new(&key.1).within(&key.0));
            }
        }
        let wait = poll_wait(interval, failed_in_row);
        drop((reg, h));
        // Sleep in steps: a reconcile that writes during a long wait makes the handle hot,
        // and the next poll then follows within a second, not at the interval (`Pacing`).
        let next = Instant::now() + wait;
        loop {
            let now = Instant::now();
            if now >= next {
                break;
            }
            let pacing = handle
                .upgrade()
                .map(|h| (h.pacing.hot(), h.pacing.poll_due(sent)));
            let (hot, due) = pacing.unwrap_or_default();
            if due && failed_in_row == 0 {
                break;
            }
            let step = if hot { HOT_STEP } else { HOT_POLL };
            tokio::time::sleep((next - now).min(step)).await;
        }
    }
}

/// The poll interval, doubled at each failed poll in a row up to 30 s (or the interval, if
/// longer): a cluster that stays down is asked less and less, and seen back within 30 s.
fn poll_wait(interval: Duration, failed_in_row: u32) -> Duration {
    let backoff = interval.saturating_mul(1 << failed_in_row.min(5));
    backoff.min(interval.max(Duration::from_secs(30)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_poll_backs_off_to_30_s() {
        let s = Duration::from_secs;
        let waits: Vec<u64> = (0..7).map(|n| poll_wait(s(2), n).as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(poll_wait(s(60), 3), s(60), "never below the interval");
    }
}
