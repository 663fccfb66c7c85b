//! The shared live view of one Connect cluster: every connector as the last bulk poll
//! listed it (patched by reconciles that wrote since), whether that poll reached Connect,
//! and which worker ids it showed (the evidence of which Connect group a URL reaches).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use super::ClusterKey;
use crate::connect::types::ExpandedConnector;
use crate::error::Result;
use crate::telemetry::metrics;
use crate::vocabulary::{ConnectState, Reason};

#[derive(Default, Debug, Clone)]
pub struct ClusterView {
    /// The last successful bulk read; `None` before the first one.
    pub connectors: Option<BTreeMap<String, ExpandedConnector>>,
    /// Why the last poll failed, if it did: the error's reason and message.
    pub error: Option<(Reason, String)>,
    /// When a reconcile last wrote each entry (see `apply_poll`).
    local_writes: std::collections::HashMap<String, Instant>,
}

pub struct LiveView {
    /// Whose view this is, for the `kco_connectors` series.
    key: ClusterKey,
    view: RwLock<ClusterView>,
    /// (total, failed) connectors at the last poll: the cluster's status shows them.
    counted: Mutex<Option<(usize, usize)>>,
    /// True once a poll has answered (either way).
    polled: tokio::sync::watch::Sender<bool>,
    /// The worker ids the last successful poll showed running a connector or task: the
    /// evidence of which Connect group this URL reaches (see `registry::identities`).
    workers: RwLock<BTreeSet<String>>,
}

/// Marks the handle polled when dropped: declared before the view's write guard in
/// `apply_poll`, it runs after that guard is released (locals drop in reverse order), so the
/// watch is never touched while the view is locked.
struct PolledOnDrop<'a>(&'a tokio::sync::watch::Sender<bool>);

impl Drop for PolledOnDrop<'_> {
    fn drop(&mut self) {
        self.0.send_replace(true);
    }
}

/// What the bulk view knows of one connector (see `ClusterHandle::lookup`).
pub enum Lookup {
    Listed(Box<ExpandedConnector>),
    Absent,
    Unknown,
}

/// What the shared view says about reaching the cluster.
pub enum Reach {
    /// The last poll answered.
    Up,
    /// The last poll failed: its error's reason and message.
    Down(Reason, String),
    /// No poll has answered yet.
    Unknown,
}

impl LiveView {
    pub(super) fn new(key: ClusterKey) -> Self {
        Self {
            key,
            view: RwLock::default(),
            counted: Mutex::default(),
            polled: tokio::sync::watch::channel(false).0,
            workers: RwLock::default(),
        }
    }

    /// Whether the connector counts changed since the last call: connectors created or
    /// deleted by a reconcile change them without changing any entry a poll compares.
    pub fn counts_changed(&self) -> bool {
        let counts = {
            let v = self.view.read().expect("view lock");
            let Some(map) = v.connectors.as_ref() else {
                return false;
            };
            let failed = map
                .values()
                .filter(|e| e.status.as_ref().is_some_and(|s| s.any_failed()))
                .count();
            (map.len(), failed)
        };
        let mut last = self.counted.lock().expect("counted lock");
        let changed = *last != Some(counts);
        *last = Some(counts);
        changed
    }

    /// Whether the last poll reached Connect, waiting up to `wait` for the first one: a
    /// reconcile must not send its own requests to a cluster the poll cannot read (a
    /// hanging cluster would hold every reconcile for its request timeout).
    pub async fn reach(&self, wait: Duration) -> Reach {
        let mut polled = self.polled.subscribe();
        // The watch's guard is dropped before the view's lock is taken: `apply_poll` takes
        // them in the other order (a deadlock of both runtime threads was seen).
        let answered = matches!(
            tokio::time::timeout(wait, polled.wait_for(|p| *p)).await,
            Ok(Ok(_))
        );
        if !answered {
            return Reach::Unknown;
        }
        match &self.view.read().expect("view lock").error {
            Some((reason, e)) => Reach::Down(*reason, e.clone()),
            None => Reach::Up,
        }
    }

    pub fn workers(&self) -> BTreeSet<String> {
        self.workers.read().expect("workers lock").clone()
    }

    pub fn view(&self) -> ClusterView {
        self.view.read().expect("view lock").clone()
    }

    /// What the bulk view knows of one connector: its entry, that Connect did not list it
    /// (nor has a reconcile written it since), or nothing (no successful poll yet).
    pub fn lookup(&self, connector: &str) -> Lookup {
        let v = self.view.read().expect("view lock");
        match (&v.error, &v.connectors) {
            (None, Some(map)) => match map.get(connector) {
                Some(e) => Lookup::Listed(Box::new(e.clone())),
                None => Lookup::Absent,
            },
            _ => Lookup::Unknown,
        }
    }

    /// Whether the last poll reached Connect (no wait).
    pub fn reached(&self) -> bool {
        self.view.read().expect("view lock").error.is_none()
    }

    /// Records what a reconcile just read or wrote (see `ClusterHandle::set_entry`).
    /// `None` removes the entry (connector deleted).
    pub(super) fn set_entry(&self, connector: &str, entry: Option<ExpandedConnector>) {
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
    pub fn apply_poll(
        &self,
        result: Result<BTreeMap<String, ExpandedConnector>>,
        sent: Instant,
    ) -> (BTreeSet<String>, bool) {
        let _answered = PolledOnDrop(&self.polled);
        let mut v = self.view.write().expect("view lock");
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
                *self.workers.write().expect("workers lock") = workers_in(&new);
                v.connectors = Some(new);
                (changed, flipped)
            }
            Err(e) => {
                let flipped = v.error.is_none();
                v.error = Some((e.reason(), crate::mask::cut(&e.to_string())));
                (BTreeSet::new(), flipped)
            }
        }
    }
}

/// Every worker id a bulk view names, for connectors and tasks.
fn workers_in(view: &BTreeMap<String, ExpandedConnector>) -> BTreeSet<String> {
    let statuses = view.values().filter_map(|e| e.status.as_ref());
    statuses
        .flat_map(|s| {
            std::iter::once(s.connector.worker_id.clone())
                .chain(s.tasks.iter().map(|t| t.worker_id.clone()))
        })
        .flatten()
        .filter(|w| !w.is_empty())
        .collect()
}

impl LiveView {
    /// `kco_connectors{namespace, cluster, state}` from the last poll. Every state is written,
    /// zero included, so a state that emptied does not keep its old count.
    pub fn export_state_counts(&self) {
        let v = self.view.read().expect("view lock");
        let Some(map) = v.connectors.as_ref() else {
            return;
        };
        for state in ConnectState::KNOWN {
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
                state: state.as_str().into(),
            };
            metrics::METRICS
                .connectors
                .get_or_create(&labels)
                .set(n as i64);
        }
    }
}

/// Drops the `kco_connectors` series of a KafkaConnectCluster that is gone, so dashboards and
/// alerts do not keep counting its last poll forever.
pub fn forget_state_counts(key: &ClusterKey) {
    for state in ConnectState::KNOWN {
        let labels = metrics::StateLabels {
            namespace: key.0.clone(),
            cluster: key.1.clone(),
            state: state.as_str().into(),
        };
        metrics::METRICS.connectors.remove(&labels);
    }
}
