//! A `ClusterHandle` per KafkaConnectCluster, split by what it holds:
//! - `view.rs`: the shared live view of every connector (refreshed by the registry's poll
//!   loop, patched by reconciles that just wrote, read by every reconcile instead of
//!   per-connector REST calls) and what the polls say about reaching Connect;
//! - `info.rs`: what the worker is (capabilities from its version) and when that was read;
//! - `pacing.rs`: how often to look (the hot timer after a write, the topics budget).

mod info;
mod pacing;
pub mod unclaimed;
mod view;

use std::collections::BTreeSet;
use std::sync::Mutex;

pub use info::WorkerInfo;
pub use pacing::{HOT_POLL, HOT_STEP, Pacing, TOPICS_REFRESH_PER_MINUTE};
pub use view::{ClusterView, LiveView, Lookup, Reach, forget_state_counts};

use crate::connect::ConnectClient;
use crate::connect::types::ExpandedConnector;

/// (namespace, name) of a KafkaConnectCluster.
pub type ClusterKey = (String, String);

pub struct ClusterHandle {
    /// The cluster object that first used this handle: its logs and metric series.
    pub key: ClusterKey,
    /// Every cluster object using this handle: those with the same URL and the same
    /// resolved settings share one client, one poller and one view.
    users: Mutex<BTreeSet<ClusterKey>>,
    pub url: String,
    pub client: ConnectClient,
    pub(super) fingerprint: u64,
    pub view: LiveView,
    pub info: WorkerInfo,
    pub pacing: Pacing,
    /// Connectors seen unclaimed, since when (`unmanaged::Evidence`).
    pub unclaimed: Mutex<unclaimed::Evidence>,
    poller: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl ClusterHandle {
    pub(super) fn new(
        key: ClusterKey,
        url: String,
        client: ConnectClient,
        fingerprint: u64,
    ) -> Self {
        Self {
            view: LiveView::new(key.clone()),
            users: Mutex::new(BTreeSet::from([key.clone()])),
            key,
            url,
            client,
            fingerprint,
            info: WorkerInfo::default(),
            pacing: Pacing::default(),
            unclaimed: Mutex::default(),
            poller: Mutex::new(None),
        }
    }

    /// The cluster objects using this handle.
    pub fn users(&self) -> BTreeSet<ClusterKey> {
        self.users.lock().expect("users lock").clone()
    }

    pub(super) fn add_user(&self, key: ClusterKey) {
        self.users.lock().expect("users lock").insert(key);
    }

    /// Removes `key`; whether any user is left.
    pub(super) fn remove_user(&self, key: &ClusterKey) -> bool {
        let mut users = self.users.lock().expect("users lock");
        users.remove(key);
        !users.is_empty()
    }

    /// Keeps the poll loop's task, so that dropping the handle ends it.
    pub(super) fn set_poller(&self, task: tokio::task::JoinHandle<()>) {
        *self.poller.lock().expect("poller lock") = Some(task);
    }

    /// Records what a reconcile just read or wrote, so the next reconcile before the next
    /// poll does not act on stale data (`None`: the connector was deleted), and polls fast
    /// for a while to see what Connect does next.
    pub fn set_entry(&self, connector: &str, entry: Option<ExpandedConnector>) {
        self.pacing.mark_hot();
        self.view.set_entry(connector, entry);
    }

    /// Whether the worker's own description (`GET /`, plugins) was read within `refresh`
    /// and the last poll reached Connect.
    pub fn info_fresh(&self, refresh: std::time::Duration) -> bool {
        self.info.read_within(refresh) && self.view.reached()
    }
}

impl Drop for ClusterHandle {
    fn drop(&mut self) {
        if let Some(p) = self.poller.lock().expect("poller lock").take() {
            p.abort();
        }
    }
}
