//! The reconcilers and what they share.
//!
//! - `connector/`: the KafkaConnector reconciler (fetch → decide → act → observe → report).
//! - `cluster.rs`: the KafkaConnectCluster reconciler (REST API info, unmanaged connectors).
//! - `registry.rs` (with the poll loop) and `cluster_handle/`: one handle per Connect
//!   cluster, its client and the bulk-polled live view that wakes only what changed.
//!   `slots.rs`: each cluster's share of the reconciles.
//! - `credentials.rs`: what a cluster names, read into client settings; `references.rs`: the
//!   one reader of Secrets and ConfigMaps.
//! - `ownership.rs`: which KafkaConnector owns a connector name on a Connect cluster.
//! - `memory.rs`: what this process remembers per KafkaConnector (one owner).
//! - `status_writer.rs`: server-side apply of a status. `events.rs`: Kubernetes Events.
//! - `context.rs`: what every reconcile shares. `caches.rs`: the watches behind the caches.

pub mod caches;
pub mod cluster;
pub mod cluster_handle;
pub mod connector;
pub mod context;
pub mod credentials;
pub mod events;
pub mod memory;
pub mod ownership;
pub mod references;
pub mod registry;
pub mod slots;
pub mod status_writer;
pub mod unmanaged;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};

use crate::api::{KafkaConnectCluster, KafkaConnector};
use crate::config::OperatorConfig;
use crate::telemetry::health::Health;
use crate::telemetry::health::connector_key;
use context::Context;
use registry::ClusterRegistry;

pub use crate::config::MANAGER;

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

/// Runs both controllers until `shutdown` resolves.
pub async fn run(
    client: Client,
    config: OperatorConfig,
    health: Arc<Health>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let shutdown = futures::FutureExt::shared(Box::pin(shutdown));
    let cluster_ctrl = caches::trimmed_controller(
        api::<KafkaConnectCluster>(&client, &config.namespace),
        watcher::Config::default().any_semantic(),
    );
    let connector_ctrl = caches::spec_controller(
        api::<KafkaConnector>(&client, &config.namespace),
        watcher::Config::default().any_semantic(),
    );
    // The pollers wake reconciles through these channels.
    let (connector_tx, connector_rx) = futures::channel::mpsc::unbounded();
    let (cluster_tx, cluster_rx) = futures::channel::mpsc::unbounded();
    let clusters = Arc::new(ClusterRegistry::new(
        connector_tx,
        cluster_tx,
        config.poll_interval,
        config.cluster_concurrency,
        health.clone(),
    ));
    let recorder = events::Recorder::new(client.clone(), MANAGER, std::env::var("POD_NAME").ok());
    let stores = (connector_ctrl.store(), cluster_ctrl.store());
    clusters.attach(stores.0.clone(), stores.1.clone());
    let ctx = Arc::new(Context::new(
        client.clone(),
        config.clone(),
        clusters.clone(),
        stores,
        recorder,
        health,
    ));
    spawn_readiness(&ctx);
    spawn_sweeper(&ctx);

    let ctrl_config = kube::runtime::controller::Config::default().concurrency(config.concurrency);
    let (cluster_secrets, cluster_maps) = (
        setting_sources::<Secret>(&client, &config.namespace, ctx.cluster_store.clone()),
        setting_sources::<ConfigMap>(&client, &config.namespace, ctx.cluster_store.clone()),
    );
    let clusters_fut = cluster_ctrl
        .with_config(ctrl_config.clone())
        .reconcile_on(cluster_rx)
        .watches_stream(cluster_secrets.0, cluster_secrets.1)
        .watches_stream(cluster_maps.0, cluster_maps.1)
        .graceful_shutdown_on(shutdown.clone())
        .run(cluster::reconcile, cluster::error_policy, ctx.clone())
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(error = %e, "KafkaConnectCluster controller");
            }
        });
    let (secrets, config_maps) = (
        value_sources::<Secret>(&client, &config.namespace, ctx.connectors.clone()),
        value_sources::<ConfigMap>(&client, &config.namespace, ctx.connectors.clone()),
    );
    let connectors_fut = connector_ctrl
        .with_config(ctrl_config)
        .reconcile_on(connector_rx)
        .watches_stream(secrets.0, secrets.1)
        .watches_stream(config_maps.0, config_maps.1)
        .graceful_shutdown_on(shutdown)
        .run(connector::reconcile, connector::error_policy, ctx.clone())
        .for_each(|r| connector_result(r, ctx.health.clone()));
    futures::join!(clusters_fut, connectors_fut);
    clusters.stop_all();
}

/// A metadata-only watch of Secrets (or ConfigMaps), and the mapper from one of them to the
/// KafkaConnectors whose `configFrom` names it: a rotated Secret re-applies their config at
/// once. Only metadata is watched: no Secret's content is held in memory.
#[allow(clippy::type_complexity)]
fn value_sources<K>(
    client: &Client,
    namespace: &Option<String>,
    connectors: kube::runtime::reflector::Store<KafkaConnector>,
) -> (
    impl futures::Stream<Item = Result<PartialObjectMeta<K>, watcher::Error>> + Send + 'static,
    impl Fn(PartialObjectMeta<K>) -> Vec<ObjectRef<KafkaConnector>> + Send + Sync + 'static,
)
where
    K: caches::Watched + kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
{
    let secret = K::kind(&()) == "Secret";
    let api: Api<PartialObjectMeta<K>> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let stream = watcher(api, watcher::Config::default())
        .backoff(caches::WatchBackoff::default())
        .touched_objects();
    let mapper = move |source: PartialObjectMeta<K>| {
        let (ns, name) = (source.metadata.namespace, source.metadata.name);
        connectors
            .state()
            .iter()
            .filter(|c| c.metadata.namespace == ns)
            .filter(|c| {
                c.spec.config_from.iter().any(|f| {
                    let r = if secret {
                        &f.value_from.secret_key_ref
                    } else {
                        &f.value_from.config_map_key_ref
                    };
                    r.as_ref().map(|r| &r.name) == name.as_ref()
                })
            })
            .map(|c| ObjectRef::from_obj(c.as_ref()))
            .collect()
    };
    (stream, mapper)
}

/// A metadata-only watch of Secrets (or ConfigMaps), and the mapper from one of them to the
/// KafkaConnectClusters whose settings name it: a Secret deleted, rotated or no longer
/// shared with a cluster is acted on at once (see `ClusterRegistry::drop_handle`).
#[allow(clippy::type_complexity)]
fn setting_sources<K>(
    client: &Client,
    namespace: &Option<String>,
    clusters: kube::runtime::reflector::Store<KafkaConnectCluster>,
) -> (
    impl futures::Stream<Item = Result<PartialObjectMeta<K>, watcher::Error>> + Send + 'static,
    impl Fn(PartialObjectMeta<K>) -> Vec<ObjectRef<KafkaConnectCluster>> + Send + Sync + 'static,
)
where
    K: caches::Watched + kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
{
    let secret = K::kind(&()) == "Secret";
    let api: Api<PartialObjectMeta<K>> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let stream = watcher(api, watcher::Config::default())
        .backoff(caches::WatchBackoff::default())
        .touched_objects();
    let mapper = move |source: PartialObjectMeta<K>| {
        let (ns, name) = (source.metadata.namespace, source.metadata.name);
        let name = name.unwrap_or_default();
        clusters
            .state()
            .iter()
            .filter(|c| c.metadata.namespace == ns)
            .filter(|c| match secret {
                true => c.spec.secret_names().contains(&name.as_str()),
                false => c.spec.config_map_names().contains(&name.as_str()),
            })
            .map(|c| ObjectRef::from_obj(c.as_ref()))
            .collect()
    };
    (stream, mapper)
}

/// /readyz: ready once both caches hold a complete list. Polled rather than awaited: an
/// awaited `wait_until_ready()` that starts before the first list completes was seen never
/// to wake here (kube-runtime 5.0).
fn spawn_readiness(ctx: &Arc<Context>) {
    let ctx = ctx.clone();
    tokio::spawn(async move {
        while !(ctx.connectors_synced() && ctx.clusters_synced()) {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tracing::info!("caches synced: ready");
        ctx.health.set_ready();
    });
}

/// How often what this process remembers per KafkaConnector is swept of objects gone from
/// the cache.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Sweeps `memory.rs` of objects that went without a cleanup (deleted before they ever got
/// the finalizer), so per-object maps never outgrow the objects there are.
fn spawn_sweeper(ctx: &Arc<Context>) {
    let ctx = Arc::downgrade(ctx);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(SWEEP_EVERY).await;
            let Some(ctx) = ctx.upgrade() else { return };
            if !ctx.connectors_synced() {
                continue;
            }
            let live = ctx
                .connectors
                .state()
                .iter()
                .filter_map(|o| o.metadata.uid.clone())
                .collect();
            let dropped = ctx.memory.retain(&live);
            if dropped > 0 {
                tracing::debug!(dropped, "forgot objects gone from the cache");
            }
        }
    });
}

type ConnectorResult = std::result::Result<
    (
        kube::runtime::reflector::ObjectRef<KafkaConnector>,
        kube::runtime::controller::Action,
    ),
    kube::runtime::controller::Error<crate::error::Error, watcher::Error>,
>;

async fn connector_result(r: ConnectorResult, health: Arc<Health>) {
    use kube::runtime::controller::Error as E;
    match r {
        // Deleted before its reconcile ran: nothing is due for it any more.
        Err(E::ObjectNotFound(obj)) => {
            health.forget(&connector_key(
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
