//! KafkaConnectCluster reconciler: resolves credentials, (re)starts the cluster's poller,
//! and reports what the REST API says about itself (`GET /`, `GET /connector-plugins`).

use std::sync::Arc;
use std::time::Instant;

use kube::ResourceExt;
use kube::runtime::controller::Action;

use super::cluster_handle::{ClusterHandle, ClusterKey, ClusterView};
use super::connector::live::any_failed;
use super::context::Context;
use super::credentials::resolve_settings;
use super::events::{Note, publish};
use super::status_writer::apply_status;
use crate::api::cluster::{ConnectorCounts, PluginStatus, UnmanagedPolicy};
use crate::api::conditions::{self, Conditioned, READY};
use crate::api::{KafkaConnectCluster, KafkaConnectClusterStatus};
use crate::connect::Capabilities;
use crate::error::{Error, Result};
use crate::telemetry::metrics;
use crate::vocabulary::{EventReason, Reason};

const KIND: &str = "KafkaConnectCluster";

#[tracing::instrument(skip_all, fields(namespace = %obj.namespace().unwrap_or_default(), cluster = %obj.name_any()))]
pub async fn reconcile(obj: Arc<KafkaConnectCluster>, ctx: Arc<Context>) -> Result<Action> {
    let start = Instant::now();
    let result = reconcile_inner(&obj, &ctx).await;
    metrics::reconciled(
        KIND,
        if result.is_ok() { "ok" } else { "error" },
        start.elapsed(),
    );
    result
}

async fn reconcile_inner(obj: &KafkaConnectCluster, ctx: &Context) -> Result<Action> {
    let key = (obj.namespace().unwrap_or_default(), obj.name_any());
    let prev = obj.status.clone().unwrap_or_default();
    let mut status = KafkaConnectClusterStatus {
        observed_generation: obj.metadata.generation,
        ..Default::default()
    };
    let ready = match resolve_settings(&ctx.client, obj)
        .await
        .and_then(|s| ctx.clusters.ensure(key.clone(), &s))
    {
        Ok(handle) => observe(obj, ctx, &handle, &key, &mut status).await,
        Err(e) => Err(e),
    };
    let (is_ready, reason, message) = match &ready {
        Ok(()) => (
            true,
            Reason::Available,
            "the Connect REST API answers".to_string(),
        ),
        Err(e) => {
            metrics::error(KIND, e.label());
            keep_what_we_learnt(&mut status, &prev);
            (false, e.reason(), e.to_string())
        }
    };
    let generation = obj.metadata.generation;
    let mut conds = vec![conditions::condition(
        READY, is_ready, reason, message, generation,
    )];
    conditions::carry_transition_times(&mut conds, &prev.conditions);
    status.conditions = conds;
    if !status.same_ignoring_time(&prev) {
        apply_status(&ctx.client, obj, &status).await?;
    }
    match ready {
        Ok(()) => Ok(Action::requeue(ctx.config.cluster_refresh)),
        // Misconfigured: look again soon (the poller also wakes us on recovery).
        Err(e) if e.is_missing_setup() => Ok(Action::requeue(std::time::Duration::from_secs(15))),
        Err(_) => Ok(Action::requeue(ctx.config.poll_interval)),
    }
}

/// What the REST API says about itself (`GET /`, `GET /connector-plugins`), the connector
/// counts from the poller's view, and the unmanaged-connector policy.
async fn observe(
    obj: &KafkaConnectCluster,
    ctx: &Context,
    handle: &ClusterHandle,
    key: &ClusterKey,
    status: &mut KafkaConnectClusterStatus,
) -> Result<()> {
    let info = handle.client.server_info().await?;
    let plugins = handle.client.plugins().await?;
    handle.set_capabilities(Capabilities::from_version(&info.version));
    status.version = Some(info.version);
    status.commit = info.commit;
    status.kafka_cluster_id = info.kafka_cluster_id;
    status.plugins = plugins
        .into_iter()
        .map(|p| PluginStatus {
            class: p.class,
            type_: p.type_,
            version: p.version,
        })
        .collect();
    status.plugins.sort_by(|a, b| a.class.cmp(&b.class));
    status.connectors = Some(counts(ctx, &handle.view(), key));
    if obj.spec.unmanaged_connectors == UnmanagedPolicy::Delete {
        delete_unmanaged(obj, ctx, handle).await?;
    }
    Ok(())
}

/// A blip should not erase the plugin list: keep what the last answer said.
fn keep_what_we_learnt(status: &mut KafkaConnectClusterStatus, prev: &KafkaConnectClusterStatus) {
    status.version = prev.version.clone();
    status.commit = prev.commit.clone();
    status.kafka_cluster_id = prev.kafka_cluster_id.clone();
    status.plugins = prev.plugins.clone();
    status.connectors = prev.connectors.clone();
}

fn counts(ctx: &Context, view: &ClusterView, key: &ClusterKey) -> ConnectorCounts {
    let Some(map) = &view.connectors else {
        return ConnectorCounts::default();
    };
    let managed: std::collections::BTreeSet<String> = ctx
        .connectors
        .state()
        .iter()
        .filter(|c| {
            c.namespace().as_deref() == Some(key.0.as_str()) && c.spec.cluster_ref.name == key.1
        })
        .map(|c| c.connector_name())
        .collect();
    let failed = map
        .values()
        .filter_map(|e| e.status.as_ref())
        .filter(|s| any_failed(s))
        .count();
    ConnectorCounts {
        total: map.len() as u32,
        managed: map.keys().filter(|k| managed.contains(*k)).count() as u32,
        failed: failed as u32,
    }
}

/// `unmanagedConnectors: Delete`: removes connectors that no KafkaConnector claims. Only
/// once the KafkaConnector cache is complete (an empty cache at start-up would make every
/// connector look unmanaged), and from a fresh `GET /connectors`, never the poll's view.
async fn delete_unmanaged(
    obj: &KafkaConnectCluster,
    ctx: &Context,
    handle: &ClusterHandle,
) -> Result<()> {
    if !ctx.connectors_synced() {
        return Ok(());
    }
    if let Some(ns) = &ctx.config.namespace {
        // Claims from namespaces this operator does not watch are invisible to it.
        tracing::warn!(watched = %ns, "unmanagedConnectors: Delete with an operator that watches one namespace: \
            connectors claimed from other namespaces on the same Connect cluster count as unmanaged");
    }
    let claimed = ctx.with_caches(|c| c.claimed_names(&handle.url));
    for name in handle.client.list().await? {
        if claimed.contains(&name) {
            continue;
        }
        match handle.client.delete(&name).await {
            Ok(()) | Err(Error::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        handle.set_entry(&name, None);
        tracing::info!(connector = %name, "deleted an unmanaged connector (unmanagedConnectors: Delete)");
        let text = format!("deleted connector {name}: no KafkaConnector claims it");
        let note = Note::normal(EventReason::DeletedUnmanaged, "Delete", text);
        publish(ctx, obj, note).await;
    }
    Ok(())
}

pub fn error_policy(_obj: Arc<KafkaConnectCluster>, err: &Error, ctx: Arc<Context>) -> Action {
    tracing::warn!(error = %err, "KafkaConnectCluster reconcile failed");
    Action::requeue(ctx.config.poll_interval)
}
