//! The reconcilers. Each KafkaConnector reconcile is fetch (Kubernetes + Connect) →
//! decide (`decide.rs`, pure) → act; per-cluster pollers (`clusters.rs`) keep one bulk
//! view of each Connect cluster and wake only the connectors whose live view changed.

pub mod cluster;
pub mod clusters;
pub mod connector;
pub mod decide;
pub mod ownership;
pub mod status;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::{Controller, reflector::Store, watcher};
use kube::{Api, Client};

use crate::api::{KafkaConnectCluster, KafkaConnector, KafkaConnectorStatus};
use crate::telemetry::health::Health;
use clusters::ClusterRegistry;

/// Name of the field manager for server-side apply, and of the event reporter.
pub const MANAGER: &str = "kafka-connect-operator";
pub const FINALIZER: &str = "kafkaconnect.dev/connector";

#[derive(Clone, Debug)]
pub struct OperatorConfig {
    /// Watch only this namespace; all namespaces when `None`.
    pub namespace: Option<String>,
    /// How often each Connect cluster is polled with one bulk GET.
    pub poll_interval: Duration,
    /// How often a KafkaConnectCluster's server info and plugins are refreshed.
    pub cluster_refresh: Duration,
    /// Resync of every KafkaConnector even without any change (belt and braces).
    pub resync: Duration,
    /// Base interval of the auto-restart backoff (Strimzi: one minute).
    pub auto_restart_base: Duration,
    /// How often a connector's topics are re-read when nothing else changed; 0 = never.
    pub topics_refresh: Duration,
    /// Reconciles running at once per kind.
    pub concurrency: u16,
    /// Upper bound of one reconcile, so a hanging call cannot hold a connector forever.
    pub reconcile_timeout: Duration,
    /// Fault injection for tests: while this file exists, reconciles hang (see /healthz).
    pub fault_stall_file: Option<std::path::PathBuf>,
}

impl Default for OperatorConfig {
    fn default() -> Self {
        Self {
            namespace: None,
            poll_interval: Duration::from_secs(10),
            cluster_refresh: Duration::from_secs(60),
            resync: Duration::from_secs(300),
            auto_restart_base: Duration::from_secs(60),
            topics_refresh: Duration::from_secs(300),
            concurrency: 16,
            reconcile_timeout: Duration::from_secs(120),
            fault_stall_file: None,
        }
    }
}

/// Shared by every reconcile.
pub struct Context {
    pub client: Client,
    pub config: OperatorConfig,
    pub clusters: Arc<ClusterRegistry>,
    pub connectors: Store<KafkaConnector>,
    pub cluster_store: Store<KafkaConnectCluster>,
    pub recorder: Recorder,
    pub health: Arc<Health>,
    /// When each KafkaConnector's topics were last read (by uid).
    topics_read: Mutex<HashMap<String, Instant>>,
    /// The status this process last wrote, by uid. The watch cache can hand a reconcile an
    /// object older than our own last status write; acting on that stale status would serve
    /// a restart id twice or restart without counting it. We are the only status writer.
    written: Mutex<HashMap<String, KafkaConnectorStatus>>,
}

impl Context {
    pub fn topics_due(&self, obj: &KafkaConnector) -> bool {
        let uid = obj.metadata.uid.clone().unwrap_or_default();
        self.topics_read
            .lock()
            .expect("topics lock")
            .get(&uid)
            .is_none_or(|t| t.elapsed() >= self.config.topics_refresh)
    }

    /// The status to decide from: what we last wrote, else what the object carries.
    pub fn last_status(&self, obj: &KafkaConnector) -> KafkaConnectorStatus {
        let uid = obj.metadata.uid.clone().unwrap_or_default();
        let written = self
            .written
            .lock()
            .expect("written lock")
            .get(&uid)
            .cloned();
        written.or_else(|| obj.status.clone()).unwrap_or_default()
    }

    pub fn remember_status(&self, obj: &KafkaConnector, status: Option<&KafkaConnectorStatus>) {
        let uid = obj.metadata.uid.clone().unwrap_or_default();
        let mut w = self.written.lock().expect("written lock");
        match status {
            Some(s) => w.insert(uid, s.clone()),
            None => w.remove(&uid),
        };
    }

    /// Drops what this process remembers about an object that is going away.
    pub fn forget(&self, obj: &KafkaConnector) {
        let uid = obj.metadata.uid.clone().unwrap_or_default();
        self.written.lock().expect("written lock").remove(&uid);
        self.topics_read.lock().expect("topics lock").remove(&uid);
        let ns = obj.metadata.namespace.clone().unwrap_or_default();
        self.health.forget(&clusters::connector_key(
            &ns,
            &obj.metadata.name.clone().unwrap_or_default(),
        ));
    }

    /// Records at once, with a merge patch, that restarts were served: a reconcile that fails
    /// after restarting must not serve the same restart id again or lose the count.
    pub async fn record_restart(
        &self,
        obj: &KafkaConnector,
        st: &KafkaConnectorStatus,
    ) -> crate::Result<()> {
        let ns = obj.metadata.namespace.clone().unwrap_or_default();
        let api: kube::Api<KafkaConnector> = kube::Api::namespaced(self.client.clone(), &ns);
        let patch = serde_json::json!({"status": {"lastRestartId": st.last_restart_id, "autoRestart": st.auto_restart}});
        let name = obj.metadata.name.clone().unwrap_or_default();
        api.patch_status(
            &name,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(patch),
        )
        .await?;
        let mut remembered = self.last_status(obj);
        remembered.last_restart_id = st.last_restart_id.clone();
        remembered.auto_restart = st.auto_restart.clone();
        self.remember_status(obj, Some(&remembered));
        Ok(())
    }

    pub fn mark_topics_read(&self, obj: &KafkaConnector) {
        let uid = obj.metadata.uid.clone().unwrap_or_default();
        self.topics_read
            .lock()
            .expect("topics lock")
            .insert(uid, Instant::now());
    }
}

fn api<K>(client: &Client, namespace: &Option<String>) -> Api<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// Publishes a Kubernetes Event about `obj`. A failure is only logged: Events are a
/// courtesy to readers and must never fail a reconcile.
pub async fn publish<K: kube::Resource<DynamicType = ()>>(
    ctx: &Context,
    obj: &K,
    type_: kube::runtime::events::EventType,
    reason: &str,
    action: &str,
    note: String,
) {
    let ev = kube::runtime::events::Event {
        type_,
        reason: reason.into(),
        note: Some(note),
        action: action.into(),
        secondary: None,
    };
    if let Err(e) = ctx.recorder.publish(&ev, &obj.object_ref(&())).await {
        tracing::debug!(error = %e, "publishing an event failed");
    }
}

/// Whether a reflector store holds a complete list (polled: see `run`).
pub fn store_synced<K: kube::Resource + Clone>(store: &Store<K>) -> bool
where
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    use futures::FutureExt;
    matches!(store.wait_until_ready().now_or_never(), Some(Ok(())))
}

/// Runs both controllers until `shutdown` resolves.
pub async fn run(
    client: Client,
    config: OperatorConfig,
    health: Arc<Health>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let shutdown = futures::FutureExt::shared(Box::pin(shutdown));
    let cluster_ctrl = Controller::new(
        api::<KafkaConnectCluster>(&client, &config.namespace),
        watcher::Config::default().any_semantic(),
    );
    let connector_ctrl = Controller::new(
        api::<KafkaConnector>(&client, &config.namespace),
        watcher::Config::default().any_semantic(),
    );
    let (connector_tx, connector_rx) = futures::channel::mpsc::unbounded();
    let (cluster_tx, cluster_rx) = futures::channel::mpsc::unbounded();
    let clusters = Arc::new(ClusterRegistry::new(
        connector_tx,
        cluster_tx,
        config.poll_interval,
        health.clone(),
    ));
    let ctx = Arc::new(Context {
        client: client.clone(),
        config: config.clone(),
        clusters: clusters.clone(),
        connectors: connector_ctrl.store(),
        cluster_store: cluster_ctrl.store(),
        recorder: Recorder::new(
            client.clone(),
            Reporter {
                controller: MANAGER.into(),
                instance: std::env::var("POD_NAME").ok(),
            },
        ),
        topics_read: Mutex::default(),
        written: Mutex::default(),
        health,
    });
    clusters.attach(ctx.connectors.clone(), ctx.cluster_store.clone());
    // /readyz: ready once both caches hold a complete list.
    let (connectors, cluster_store, health) = (
        ctx.connectors.clone(),
        ctx.cluster_store.clone(),
        ctx.health.clone(),
    );
    // Polled rather than awaited: an awaited `wait_until_ready()` that starts before the
    // first list completes was seen never to wake here (kube-runtime 5.0).
    tokio::spawn(async move {
        while !(store_synced(&connectors) && store_synced(&cluster_store)) {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tracing::info!("caches synced: ready");
        health.set_ready();
    });

    let ctrl_config = kube::runtime::controller::Config::default().concurrency(config.concurrency);
    let clusters_fut = cluster_ctrl
        .with_config(ctrl_config.clone())
        .reconcile_on(cluster_rx)
        .graceful_shutdown_on(shutdown.clone())
        .run(cluster::reconcile, cluster::error_policy, ctx.clone())
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(error = %e, "KafkaConnectCluster controller");
            }
        });
    let connectors_fut = connector_ctrl
        .with_config(ctrl_config)
        .reconcile_on(connector_rx)
        .graceful_shutdown_on(shutdown)
        .run(connector::reconcile, connector::error_policy, ctx.clone())
        .for_each(|r| {
            let health = ctx.health.clone();
            async move {
                use kube::runtime::controller::Error as E;
                match r {
                    // Deleted before its reconcile ran: nothing is due for it any more.
                    Err(E::ObjectNotFound(obj)) => {
                        health.forget(&clusters::connector_key(
                            obj.namespace.as_deref().unwrap_or_default(),
                            &obj.name,
                        ));
                    }
                    // The reconciler already logged it, masked (its message may echo config).
                    Err(E::ReconcilerFailed(e, obj)) => {
                        tracing::debug!(reason = e.label(), %obj, "KafkaConnector reconcile failed")
                    }
                    Err(e) => tracing::warn!(error = %e, "KafkaConnector controller"),
                    Ok(_) => {}
                }
            }
        });
    futures::join!(clusters_fut, connectors_fut);
    clusters.stop_all();
}
