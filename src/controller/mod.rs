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
//! - `context.rs`: what every reconcile shares. `caches.rs`: the watches behind the caches;
//!   `watches.rs`: the Secrets and ConfigMaps objects name.

pub mod admission;
pub mod caches;
pub mod cluster;
pub mod cluster_handle;
pub mod connector;
pub mod context;
pub mod credentials;
pub mod events;
pub mod fight;
mod identity;
pub mod loggers;
pub mod memory;
pub mod namespaces;
pub mod object_counts;
pub mod ownership;
pub mod references;
pub mod registry;
pub mod slots;
pub mod status_writer;
pub mod unmanaged;
mod watches;
mod worker_report;

use watches::{names_in_config_from, names_in_settings};

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::runtime::watcher;
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
    // Stopped before starting (a SIGTERM while the Lease was taken): kube-runtime's
    // controllers, handed a shutdown that has already resolved, were seen never to end.
    if futures::FutureExt::now_or_never(shutdown.clone()).is_some() {
        return;
    }
    // Lists are consistent reads (the default), not "any" (whatever the apiserver's watch
    // cache holds): the relist after a 410 Expired must start past the window of a watch cache
    // that an apiserver restart has just rebuilt. How the watches come back after an outage
    // is in `caches` (`paced_watcher`, `NoSharedBackoff`).
    let cluster_watch = match &config.cluster_selector {
        Some(selector) => watcher::Config::default().labels(selector),
        None => watcher::Config::default(),
    };
    let cluster_ctrl = caches::trimmed_controller(
        api::<KafkaConnectCluster>(&client, &config.namespace),
        cluster_watch,
    );
    let connector_ctrl = caches::spec_controller(
        api::<KafkaConnector>(&client, &config.namespace),
        watcher::Config::default(),
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
    // Namespace labels for `allowedNamespaces.from: Selector`: only an operator that watches
    // every namespace can attach KafkaConnectors across them.
    let namespace_watch = config
        .namespace
        .is_none()
        .then(|| namespaces::watch(&client, stores.0.clone()));
    let mut ctx = Context::new(
        client.clone(),
        config.clone(),
        clusters.clone(),
        stores,
        recorder,
        health,
    );
    ctx.namespaces = namespace_watch.as_ref().map(|w| w.0.clone());
    let ctx = Arc::new(ctx);
    spawn_readiness(&ctx);
    ctx.admission.spawn_watch(client.clone());
    spawn_sweeper(&ctx);
    object_counts::spawn(&ctx);
    let interval = i64::try_from(config.poll_interval.as_secs()).unwrap_or(i64::MAX);
    crate::telemetry::metrics::METRICS
        .poll_interval
        .set(interval);

    let ctrl_config = kube::runtime::controller::Config::default().concurrency(config.concurrency);
    let (ns, cluster_store) = (&config.namespace, ctx.cluster_store.clone());
    let cluster_secrets =
        watches::referencing::<Secret, _>(&client, ns, cluster_store.clone(), names_in_settings);
    let cluster_maps =
        watches::referencing::<ConfigMap, _>(&client, ns, cluster_store, names_in_settings);
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
    let connector_store = ctx.connectors.clone();
    let secrets = watches::referencing::<Secret, _>(
        &client,
        ns,
        connector_store.clone(),
        names_in_config_from,
    );
    let config_maps =
        watches::referencing::<ConfigMap, _>(&client, ns, connector_store, names_in_config_from);
    let mut connector_ctrl = connector_ctrl
        .with_config(ctrl_config)
        .reconcile_on(connector_rx)
        .watches_stream(secrets.0, secrets.1)
        .watches_stream(config_maps.0, config_maps.1);
    if let Some((_, stream, mapper)) = namespace_watch {
        connector_ctrl = connector_ctrl.watches_stream(stream, mapper);
    }
    let connectors_fut = connector_ctrl
        .graceful_shutdown_on(shutdown.clone())
        .run(connector::reconcile, connector::error_policy, ctx.clone())
        .for_each(|r| connector_result(r, ctx.health.clone()));
    let (c, k) = (ctx.clone(), ctx.clone());
    futures::join!(
        unless_stopped_unsynced(clusters_fut, shutdown.clone(), move || c.clusters_synced()),
        unless_stopped_unsynced(connectors_fut, shutdown, move || k.connectors_synced()),
    );
    clusters.stop_all();
}

/// Runs a controller to its end, or until a shutdown that came before its cache was filled.
/// kube-runtime's runner ends only once its store is ready, and the shutdown also ends the
/// watch that would fill it: a controller stopped during its first list (a SIGTERM right after
/// the Lease was taken, or an apiserver that is slow to list) never returned. It can have run
/// no reconcile then, so there is nothing to finish and it is dropped.
async fn unless_stopped_unsynced(
    controller: impl Future<Output = ()>,
    shutdown: impl Future<Output = ()>,
    synced: impl Fn() -> bool,
) {
    let stopped_unsynced = async {
        shutdown.await;
        if synced() {
            // Filled: the runner ends by itself once its reconciles have finished.
            std::future::pending::<()>().await;
        }
        tracing::info!("stopped before the first list completed");
    };
    tokio::select! {
        () = controller => {}
        () = stopped_unsynced => {}
    }
}

/// /readyz: ready once both caches hold a complete list. Polled rather than awaited: an
/// awaited `wait_until_ready()` that starts before the first list completes was seen never
/// to wake here (kube-runtime 5.0).
fn spawn_readiness(ctx: &Arc<Context>) {
    let ctx = ctx.clone();
    tokio::spawn(async move {
        while !(ctx.connectors_synced() && ctx.clusters_synced() && ctx.namespaces_synced()) {
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
            ctx.progress.retain(&live);
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
