//! KafkaConnectCluster reconciler: resolves credentials, (re)starts the cluster's poller,
//! and reports what the REST API says about itself (`GET /`, `GET /connector-plugins`).

use std::sync::Arc;
use std::time::Instant;

use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};
use serde_json::json;

use super::{Context, MANAGER};
use crate::api::cluster::{ConnectorCounts, PluginStatus, UnmanagedPolicy};
use crate::api::conditions::{self, READY};
use crate::api::{KafkaConnectCluster, KafkaConnectClusterStatus};
use crate::connect::resolve_settings;
use crate::error::{Error, Result};
use crate::telemetry::metrics;

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
    let ns = obj.namespace().unwrap_or_default();
    let key = (ns.clone(), obj.name_any());
    let mut status = KafkaConnectClusterStatus {
        observed_generation: obj.metadata.generation,
        ..Default::default()
    };
    let prev = obj.status.clone().unwrap_or_default();

    let ready = match resolve_settings(&ctx.client, obj)
        .await
        .and_then(|s| ctx.clusters.ensure(key.clone(), &s))
    {
        Err(e) => Err(e),
        Ok(handle) => {
            let info = handle.client.server_info().await;
            let plugins = handle.client.plugins().await;
            match (info, plugins) {
                (Ok(info), Ok(plugins)) => {
                    status.version = Some(info.version);
                    status.commit = Some(info.commit);
                    status.kafka_cluster_id = Some(info.kafka_cluster_id);
                    status.plugins = plugins
                        .into_iter()
                        .map(|p| PluginStatus {
                            class: p.class,
                            type_: p.type_,
                            version: p.version,
                        })
                        .collect();
                    status.plugins.sort_by(|a, b| a.class.cmp(&b.class));
                    status.connectors = Some(counts(ctx, &handle.view(), &key));
                    if obj.spec.unmanaged_connectors == UnmanagedPolicy::Delete {
                        delete_unmanaged(obj, ctx, &handle).await?;
                    }
                    Ok(())
                }
                (Err(e), _) | (_, Err(e)) => Err(e),
            }
        }
    };
    let (is_ready, reason, message) = match &ready {
        Ok(()) => (
            true,
            "Available",
            "the Connect REST API answers".to_string(),
        ),
        Err(e) => {
            metrics::error(KIND, e.label());
            // Keep what we learnt last time: a blip should not erase the plugin list.
            status.version = prev.version.clone();
            status.commit = prev.commit.clone();
            status.kafka_cluster_id = prev.kafka_cluster_id.clone();
            status.plugins = prev.plugins.clone();
            status.connectors = prev.connectors.clone();
            (false, e.label(), e.to_string())
        }
    };
    let mut conds = vec![conditions::condition(
        READY,
        is_ready,
        reason,
        message,
        obj.metadata.generation,
    )];
    conditions::carry_transition_times(&mut conds, &prev.conditions);
    status.conditions = conds;

    let unchanged = conditions::same_ignoring_time(&status.conditions, &prev.conditions) && {
        let (mut a, mut b) = (status.clone(), prev.clone());
        a.conditions.clear();
        b.conditions.clear();
        a == b
    };
    if !unchanged {
        let api: Api<KafkaConnectCluster> = Api::namespaced(ctx.client.clone(), &ns);
        let patch =
            json!({"apiVersion": "kafkaconnect.dev/v1alpha1", "kind": KIND, "status": status});
        api.patch_status(
            &obj.name_any(),
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(patch),
        )
        .await?;
    }
    match ready {
        Ok(()) => Ok(Action::requeue(ctx.config.cluster_refresh)),
        // Unreachable or misconfigured: look again soon (the poller also wakes us on recovery).
        Err(Error::MissingReference(_) | Error::InvalidTls(_)) => {
            Ok(Action::requeue(std::time::Duration::from_secs(15)))
        }
        Err(_) => Ok(Action::requeue(ctx.config.poll_interval)),
    }
}

fn counts(
    ctx: &Context,
    view: &super::clusters::ClusterView,
    key: &super::clusters::ClusterKey,
) -> ConnectorCounts {
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
        .filter(|s| s.connector.state == "FAILED" || s.tasks.iter().any(|t| t.state == "FAILED"))
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
    handle: &super::clusters::ClusterHandle,
) -> Result<()> {
    use futures::FutureExt;
    if !matches!(
        ctx.connectors.wait_until_ready().now_or_never(),
        Some(Ok(()))
    ) {
        return Ok(());
    }
    if let Some(ns) = &ctx.config.namespace {
        // Claims from namespaces this operator does not watch are invisible to it.
        tracing::warn!(watched = %ns, "unmanagedConnectors: Delete with an operator that watches one namespace: \
            connectors claimed from other namespaces on the same Connect cluster count as unmanaged");
    }
    let clusters = ctx.cluster_store.state();
    let claimed: std::collections::BTreeSet<String> = ctx
        .connectors
        .state()
        .iter()
        .filter(|c| {
            clusters.iter().any(|k| {
                k.namespace() == c.namespace()
                    && k.name_any() == c.spec.cluster_ref.name
                    && super::ownership::normalise_url(&k.spec.url) == handle.url
            })
        })
        .map(|c| c.connector_name())
        .collect();
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
        super::publish(
            ctx,
            obj,
            kube::runtime::events::EventType::Normal,
            "DeletedUnmanaged",
            "Delete",
            format!("deleted connector {name}: no KafkaConnector claims it"),
        )
        .await;
    }
    Ok(())
}

pub fn error_policy(_obj: Arc<KafkaConnectCluster>, err: &Error, ctx: Arc<Context>) -> Action {
    tracing::warn!(error = %err, "KafkaConnectCluster reconcile failed");
    Action::requeue(ctx.config.poll_interval)
}
