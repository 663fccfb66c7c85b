//! KafkaConnectCluster reconciler: resolves credentials, (re)starts the cluster's poller,
//! reports what the REST API says about itself (`GET /`, `GET /connector-plugins`), and
//! holds the object (finalizer `kafkaconnect.dev/cluster-in-use`) while KafkaConnectors use
//! it, so that deleting both at once (a GitOps prune, a namespace deletion) still deletes
//! each connector from Connect.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event, finalizer};
use kube::{Api, Resource, ResourceExt};

use super::cluster_handle::{ClusterHandle, ClusterKey, ClusterView};
use super::context::Context;
use super::credentials::resolve_settings;
use super::loggers;
use super::status_writer::apply_status;
use super::unmanaged::{Refused, delete_unmanaged};
use super::worker_report::{health_verdict, plugin_versions, still_available};
use crate::api::cluster::{ConnectorCounts, UnmanagedPolicy};
use crate::api::conditions::{self, Conditioned, READY};
use crate::api::{KafkaConnectCluster, KafkaConnectClusterStatus};
use crate::connect::Capabilities;
use crate::connect::types::WorkerHealth;
use crate::error::{Error, Result};
use crate::telemetry::metrics;
use crate::vocabulary::Reason;

const KIND: &str = "KafkaConnectCluster";
pub const CLUSTER_FINALIZER: &str = "kafkaconnect.dev/cluster-in-use";
/// The condition saying that `unmanagedConnectors: Delete` was not carried out.
pub const UNMANAGED: &str = "UnmanagedConnectors";
/// The Warning condition saying that credentials go over plain http://.
pub const CREDENTIALS_EXPOSED: &str = "CredentialsExposed";

#[tracing::instrument(skip_all, fields(namespace = %obj.namespace().unwrap_or_default(), cluster = %obj.name_any()))]
pub async fn reconcile(obj: Arc<KafkaConnectCluster>, ctx: Arc<Context>) -> Result<Action> {
    let start = Instant::now();
    let result = behind_finalizer(obj, &ctx).await;
    metrics::reconciled(
        KIND,
        if result.is_ok() { "ok" } else { "error" },
        start.elapsed(),
    );
    result
}

async fn behind_finalizer(obj: Arc<KafkaConnectCluster>, ctx: &Context) -> Result<Action> {
    use kube::runtime::finalizer::Error as F;
    // Who uses the cluster is read from the KafkaConnector cache: only once it is complete.
    if !ctx.connectors_synced() {
        return Ok(Action::requeue(Duration::from_secs(2)));
    }
    let key = (obj.namespace().unwrap_or_default(), obj.name_any());
    if obj.meta().deletion_timestamp.is_some() {
        let users = users(ctx, &key);
        if !users.is_empty() {
            return in_use(&obj, ctx, &users).await;
        }
    }
    let api: Api<KafkaConnectCluster> = Api::namespaced(ctx.client.clone(), &key.0);
    let done = finalizer(&api, CLUSTER_FINALIZER, obj, |event| async {
        match event {
            Event::Apply(o) => reconcile_inner(&o, ctx).await,
            Event::Cleanup(_) => {
                ctx.clusters.remove(&key);
                ctx.loggers.forget(&key);
                Ok(Action::await_change())
            }
        }
    })
    .await;
    match done {
        Ok(a) => Ok(a),
        Err(F::ApplyFailed(e) | F::CleanupFailed(e)) => Err(e),
        Err(e) => Err(Error::Finalizer(e.to_string())),
    }
}

/// The KafkaConnectors (namespace/name) that name cluster `key`.
fn users(ctx: &Context, key: &ClusterKey) -> Vec<String> {
    let mut users: Vec<String> = ctx
        .connectors
        .state()
        .iter()
        .filter(|c| c.attached_to(key))
        .map(|c| format!("{}/{}", c.namespace().unwrap_or_default(), c.name_any()))
        .collect();
    users.sort();
    users
}

/// Deleted while KafkaConnectors use it: kept, and says so. Each KafkaConnector's cleanup
/// wakes this object; the requeue is the backstop.
async fn in_use(obj: &KafkaConnectCluster, ctx: &Context, users: &[String]) -> Result<Action> {
    let prev = obj.status.clone().unwrap_or_default();
    let message = format!(
        "being deleted; kept until the {} KafkaConnector(s) using it are deleted, so that their connectors are deleted from Connect: {}",
        users.len(),
        conditions::some_of(users, 5)
    );
    let mut status = KafkaConnectClusterStatus {
        conditions: vec![conditions::condition(
            READY,
            false,
            Reason::ClusterInUse,
            message,
            obj.metadata.generation,
        )],
        ..prev.clone()
    };
    conditions::carry_transition_times(&mut status.conditions, &prev.conditions);
    if !status.same_ignoring_time(&prev) {
        apply_status(&ctx.client, obj, &status).await?;
    }
    Ok(Action::requeue(Duration::from_secs(30)))
}

async fn reconcile_inner(obj: &KafkaConnectCluster, ctx: &Context) -> Result<Action> {
    let key = (obj.namespace().unwrap_or_default(), obj.name_any());
    let prev = obj.status.clone().unwrap_or_default();
    let mut status = KafkaConnectClusterStatus {
        observed_generation: obj.metadata.generation,
        shard: ctx.config.cluster_selector.clone(),
        ..Default::default()
    };
    // New to this process, or its spec changed (allowedNamespaces among it): its
    // KafkaConnectors decide again whether they may attach, now rather than at their resync.
    if ctx.clusters.get(&key).is_none() || prev.observed_generation != obj.metadata.generation {
        ctx.clusters.wake_connectors(&key, None);
    }
    let ready = match resolve_settings(&ctx.client, obj, &ctx.config.allowed_urls)
        .await
        .and_then(|s| ctx.clusters.ensure(key.clone(), &s))
    {
        Ok(handle) => observe(obj, ctx, &handle, &key, &mut status).await,
        Err(e) => {
            if e.is_missing_setup() {
                // Its Secret was deleted or no longer names this cluster (or any other part
                // of its settings is gone): the client built from it goes now, so no request
                // carries credentials that were taken back.
                ctx.clusters.drop_handle(&key);
            }
            Err(e)
        }
    };
    let refused = match &ready {
        Ok(Looked {
            refused: Some(Refused(why)),
            ..
        }) => Some(why.clone()),
        _ => None,
    };
    let (is_ready, reason, message) = match &ready {
        // Not asked this time (its verdict was healthy): the verdict stands, message included.
        Ok(looked) if !looked.asked => {
            still_available(&prev).unwrap_or_else(|| health_verdict(None))
        }
        Ok(looked) => health_verdict(looked.health.as_ref()),
        Err(e) => {
            metrics::error(KIND, e.label());
            keep_what_we_learnt(&mut status, &prev);
            (false, e.reason(), crate::mask::cut(&e.to_string()))
        }
    };
    let generation = obj.metadata.generation;
    let mut conds = vec![conditions::condition(
        READY, is_ready, reason, message, generation,
    )];
    if obj.spec.auth.is_some()
        && obj
            .spec
            .url
            .trim()
            .to_ascii_lowercase()
            .starts_with("http://")
    {
        let why = "spec.auth credentials are sent over http://: anyone on the network path can read them; use an https:// url";
        conds.push(conditions::condition(
            CREDENTIALS_EXPOSED,
            true,
            Reason::PlainHttp,
            why,
            generation,
        ));
    }
    if let Some(why) = refused {
        let reason = Reason::UnmanagedDeleteRefused;
        conds.push(conditions::condition(
            UNMANAGED, false, reason, why, generation,
        ));
    }
    conditions::carry_transition_times(&mut conds, &prev.conditions);
    status.conditions = conds;
    if !status.same_ignoring_time(&prev) {
        apply_status(&ctx.client, obj, &status).await?;
    }
    match ready {
        // A worker starting or unhealthy by its own word: look again soon.
        Ok(_) if !is_ready => Ok(Action::requeue(Duration::from_secs(10))),
        // A logger override due to revert: then (and no later than the refresh).
        Ok(Looked {
            next_logger: Some(next),
            ..
        }) => Ok(Action::requeue(
            (next + Duration::from_millis(500)).min(ctx.config.cluster_refresh),
        )),
        Ok(_) => Ok(Action::requeue(ctx.config.cluster_refresh)),
        // Misconfigured: look again soon (the poller also wakes us on recovery).
        Err(e) if e.is_missing_setup() => Ok(Action::requeue(Duration::from_secs(15))),
        // Unreachable or failing: the poller wakes this object when Connect answers again.
        Err(_) => Ok(Action::requeue(ctx.config.cluster_refresh)),
    }
}

/// What a look at the cluster found besides its status fields.
struct Looked {
    /// `unmanagedConnectors: Delete` was not carried out, and why.
    refused: Option<Refused>,
    /// The worker's verdict on itself, where it gives one.
    health: Option<WorkerHealth>,
    /// Whether the worker was asked (`GET /` was read, or it said it was unwell).
    asked: bool,
    /// How soon a logger override is due to revert.
    next_logger: Option<Duration>,
}

/// What the REST API says about itself (`GET /`, `GET /health` where the worker has it,
/// `GET /connector-plugins`), the connector counts from the poller's view, and the
/// unmanaged-connector policy.
async fn observe(
    obj: &KafkaConnectCluster,
    ctx: &Context,
    handle: &ClusterHandle,
    key: &ClusterKey,
    status: &mut KafkaConnectClusterStatus,
) -> Result<Looked> {
    let prev = obj.status.clone().unwrap_or_default();
    let fresh = handle.info_fresh(ctx.config.cluster_refresh) && prev.version.is_some();
    if fresh {
        // Woken by the poller (counts changed): what the worker says about itself was read
        // less than --cluster-refresh ago; only the counts below are new.
        keep_what_we_learnt(status, &prev);
    } else {
        let info = handle.client.server_info().await?;
        let plugins = handle.client.plugins().await?;
        handle
            .info
            .set_capabilities(Capabilities::from_version(&info.version));
        handle.info.mark_read();
        status.version = Some(info.version);
        status.commit = info.commit;
        status.kafka_cluster_id = info.kafka_cluster_id;
        status.plugins = plugin_versions(plugins);
    }
    status.connectors = Some(counts(ctx, &handle.view.view(), key));
    status.workers = recorded_workers(handle.view.workers(), &prev.workers);
    // Read with `GET /`, and on every look while the worker said it was starting or stuck
    // (a poller's wake during a rollout, counts changed, need not ask). A failed read is no
    // verdict: `GET /` answered.
    let unwell = [Reason::Starting, Reason::Unhealthy].map(Reason::as_str);
    let was_unwell = prev
        .conditions
        .iter()
        .any(|c| c.type_ == READY && unwell.contains(&c.reason.as_str()));
    let ask = (!fresh || was_unwell) && handle.info.capabilities().is_some_and(|c| c.health());
    let health = match ask {
        true => handle.client.once().health().await.ok().flatten(),
        false => None,
    };
    let mut next_logger = None;
    if !obj.spec.loggers.is_empty() {
        let before = ctx.loggers.last(key, &prev.loggers);
        let caps = handle.info.capabilities().unwrap_or(Capabilities::ALL);
        let declared = &obj.spec.loggers;
        let (loggers, next) =
            loggers::converge(handle, caps, declared, &before, &status.workers).await;
        ctx.loggers.remember(key, &loggers);
        (status.loggers, next_logger) = (loggers, next);
    }
    let refused = match obj.spec.unmanaged_connectors {
        UnmanagedPolicy::Delete => delete_unmanaged(obj, ctx, handle).await?.err(),
        _ => None,
    };
    Ok(Looked {
        refused,
        health,
        asked: !fresh || was_unwell,
        next_logger,
    })
}

/// The workers to record: what the polls show now, or (none running a connector at the
/// moment) what was recorded before; at most `MAX_WORKERS`, in order. They are the evidence,
/// across operator restarts, that two cluster objects of one namespace reach one Connect
/// group (`ClusterRegistry::identities`).
fn recorded_workers(now: std::collections::BTreeSet<String>, before: &[String]) -> Vec<String> {
    if now.is_empty() {
        return before.to_vec();
    }
    now.into_iter().take(MAX_WORKERS).collect()
}

const MAX_WORKERS: usize = 64;

/// A blip should not erase the plugin list: keep what the last answer said.
fn keep_what_we_learnt(status: &mut KafkaConnectClusterStatus, prev: &KafkaConnectClusterStatus) {
    status.version = prev.version.clone();
    status.commit = prev.commit.clone();
    status.kafka_cluster_id = prev.kafka_cluster_id.clone();
    status.plugins = prev.plugins.clone();
    status.connectors = prev.connectors.clone();
    status.workers = prev.workers.clone();
    status.loggers = prev.loggers.clone();
}

fn counts(ctx: &Context, view: &ClusterView, key: &ClusterKey) -> ConnectorCounts {
    let Some(map) = &view.connectors else {
        return ConnectorCounts::default();
    };
    let managed: std::collections::BTreeSet<String> = ctx
        .connectors
        .state()
        .iter()
        .filter(|c| c.attached_to(key))
        .map(|c| c.connector_name())
        .collect();
    let failed = map
        .values()
        .filter_map(|e| e.status.as_ref())
        .filter(|s| s.any_failed())
        .count();
    ConnectorCounts {
        total: map.len() as u32,
        managed: map.keys().filter(|k| managed.contains(*k)).count() as u32,
        failed: failed as u32,
    }
}

pub fn error_policy(_obj: Arc<KafkaConnectCluster>, err: &Error, ctx: Arc<Context>) -> Action {
    let error = crate::mask::cut(&err.to_string());
    tracing::warn!(%error, "KafkaConnectCluster reconcile failed");
    Action::requeue(ctx.config.poll_interval)
}
