//! `unmanagedConnectors: Delete`, and what must never be taken for "unmanaged": a connector
//! some KafkaConnector names anywhere (any namespace, any KafkaConnectCluster: two cluster
//! objects may reach one Connect cluster under different URLs), and a connector a
//! KafkaConnector left behind on purpose (`deletionPolicy: Orphan`), recorded twice: on the
//! cluster object (where its owner sees it) and in the ConfigMap `ORPHANS` of the operator's
//! own namespace, which outlives the cluster object (deleted and re-created, restored from a
//! backup, replaced by a GitOps tool). A connector is deleted
//! only on evidence: seen unclaimed in two looks at least one poll interval apart, each time
//! with the claims read after Connect's list (a KafkaConnector applied in between would
//! otherwise look unclaimed for a moment).

use std::collections::BTreeSet;
use std::time::Instant;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};

use super::cluster_handle::ClusterHandle;
use super::context::Context;
use super::events::{Note, publish};
use super::ownership::normalise_url;
use crate::api::{KafkaConnectCluster, KafkaConnector};
use crate::config::MANAGER;
use crate::error::{Error, Result};
use crate::vocabulary::{EventAction, EventReason};

/// Annotations on a KafkaConnectCluster, one per connector left in Connect by a
/// KafkaConnector with `deletionPolicy: Orphan`: the value is the connector's name (the key
/// holds a digest, as connector names are not valid annotation keys). Remove one to let
/// `unmanagedConnectors: Delete` remove that connector.
pub const ORPHANED_PREFIX: &str = "orphaned.kafkaconnect.dev/";

/// The ConfigMap, in the operator's own namespace, holding every Orphan record of every
/// cluster object: key `<digest of the connector name>`, value the connector's name. Remove a
/// key (and the cluster object's annotation) to let `unmanagedConnectors: Delete` remove
/// that connector.
pub const ORPHANS: &str = "kafka-connect-operator-orphans";

/// Why `unmanagedConnectors: Delete` did nothing this time, for the cluster's condition.
pub struct Refused(pub String);

/// Deletes the connectors nobody claims. `Err(Refused)` inside `Ok` when it cannot be sure
/// who claims what: then nothing is deleted.
pub async fn delete_unmanaged(
    obj: &KafkaConnectCluster,
    ctx: &Context,
    handle: &ClusterHandle,
) -> Result<std::result::Result<(), Refused>> {
    if !ctx.connectors_synced() {
        return Ok(Ok(()));
    }
    let listed: BTreeSet<String> = handle.client.list().await?.into_iter().collect();
    let (kept, clusters) = match read_claims(ctx).await {
        Ok(k) => k,
        Err(e) => {
            let e = match &e {
                Error::Kube(kube::Error::Api(s)) => s.message.clone(),
                e => e.to_string(),
            };
            return Ok(Err(Refused(format!(
                "unmanagedConnectors: Delete needs the KafkaConnectors and KafkaConnectClusters of every namespace (a claim elsewhere would be invisible), and listing them failed: {e}. Nothing was deleted; install the operator cluster-wide, or set unmanagedConnectors: Ignore"
            ))));
        }
    };
    if let Some(why) = outsiders(obj, ctx, &clusters) {
        // Start the evidence afresh once allowed: what was unclaimed then proves nothing now.
        handle.unclaimed.lock().expect("unclaimed lock").clear();
        return Ok(Err(Refused(why)));
    }
    let due = {
        let mut evidence = handle.unclaimed.lock().expect("unclaimed lock");
        let unclaimed = listed.difference(&kept).cloned().collect();
        evidence.due(unclaimed, Instant::now(), ctx.config.poll_interval)
    };
    for name in due {
        match handle.client.delete(&name).await {
            Ok(()) | Err(Error::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        handle.set_entry(&name, None);
        tracing::info!(connector = %name, "deleted an unmanaged connector (unmanagedConnectors: Delete)");
        let text = format!("deleted connector {name}: no KafkaConnector claims it");
        let note = Note::normal(EventReason::DeletedUnmanaged, EventAction::Delete, text);
        publish(&ctx.recorder, obj, note).await;
    }
    Ok(Ok(()))
}

/// A cluster object sweeps its Connect only for the namespaces it allows: when cluster
/// objects in other namespaces name the same Connect (the same URL, or one of its group's),
/// their teams may have connectors there outside Kubernetes (made through REST, a UI, an
/// Orphan of an older install) that this object has no say over. `Some(why)` names them.
fn outsiders(
    obj: &KafkaConnectCluster,
    ctx: &Context,
    clusters: &[KafkaConnectCluster],
) -> Option<String> {
    let ids = ctx.clusters.identities();
    let identity = |url: &str| {
        let url = normalise_url(url);
        ids.get(&url).cloned().unwrap_or(url)
    };
    let own = identity(&obj.spec.url);
    let mut others: Vec<String> = clusters
        .iter()
        .filter(|c| identity(&c.spec.url) == own)
        .filter_map(|c| {
            let ns = c.metadata.namespace.clone().unwrap_or_default();
            ctx.admits(obj, &ns)
                .is_err()
                .then(|| format!("{ns}/{}", c.name_any()))
        })
        .collect();
    if others.is_empty() {
        return None;
    }
    others.sort();
    Some(format!(
        "unmanagedConnectors: Delete sweeps a Connect only for the namespaces this object allows, and cluster objects in namespaces it does not allow name the same Connect: {}. Nothing was deleted; allow those namespaces (allowedNamespaces) and have them attach here, or set unmanagedConnectors: Ignore",
        crate::api::conditions::some_of(&others, 5)
    ))
}

/// Every connector name a KafkaConnector names (being deleted or not) or a cluster object
/// records as orphaned, from fresh cluster-wide lists, never the cache alone: a cache of
/// one namespace, or one behind, would make a claimed connector look unmanaged. With them,
/// every cluster object (for `outsiders`).
async fn read_claims(ctx: &Context) -> Result<(BTreeSet<String>, Vec<KafkaConnectCluster>)> {
    let records: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &ctx.config.own_namespace);
    let durable = records.get_opt(ORPHANS).await?;
    let connectors: Api<KafkaConnector> = Api::all(ctx.client.clone());
    let clusters: Api<KafkaConnectCluster> = Api::all(ctx.client.clone());
    let mut kept: BTreeSet<String> = connectors
        .list(&ListParams::default())
        .await?
        .items
        .iter()
        .map(KafkaConnector::connector_name)
        .collect();
    kept.extend(
        durable
            .and_then(|cm| cm.data)
            .unwrap_or_default()
            .into_values(),
    );
    let clusters = clusters.list(&ListParams::default()).await?.items;
    for c in &clusters {
        kept.extend(
            c.annotations()
                .iter()
                .filter(|(k, _)| k.starts_with(ORPHANED_PREFIX))
                .map(|(_, v)| v.clone()),
        );
    }
    Ok((kept, clusters))
}

/// Records that `connector` was left in Connect on purpose: first in the operator's own
/// ConfigMap (which survives the cluster object), then on the KafkaConnectCluster.
pub async fn record_orphan(
    ctx: &Context,
    namespace: &str,
    cluster: &str,
    connector: &str,
) -> Result<()> {
    let digest = ring::digest::digest(&ring::digest::SHA256, connector.as_bytes());
    let digest = hex(&digest.as_ref()[..8]);
    let params = PatchParams {
        field_manager: Some(MANAGER.into()),
        ..Default::default()
    };
    record_durably(ctx, &digest, connector, &params).await?;
    let key = format!("{ORPHANED_PREFIX}{digest}");
    let api: Api<KafkaConnectCluster> = Api::namespaced(ctx.client.clone(), namespace);
    let patch = serde_json::json!({"metadata": {"annotations": {key: connector}}});
    match api.patch(cluster, &params, &Patch::Merge(patch)).await {
        Ok(_) => Ok(()),
        // The cluster object is gone: nothing can delete the connector as unmanaged through it.
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Adds `key: connector` to the `ORPHANS` ConfigMap, creating it on first use. A merge patch
/// adds one key and leaves the others (another replica's, another shard's) as they are.
async fn record_durably(
    ctx: &Context,
    key: &str,
    connector: &str,
    params: &PatchParams,
) -> Result<()> {
    let api: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &ctx.config.own_namespace);
    let patch = serde_json::json!({"data": {key: connector}});
    match api.patch(ORPHANS, params, &Patch::Merge(&patch)).await {
        Ok(_) => return Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => {}
        Err(e) => return Err(e.into()),
    }
    let cm: ConfigMap = serde_json::from_value(serde_json::json!({
        "metadata": {"name": ORPHANS},
        "data": {key: connector},
    }))?;
    let post = PostParams {
        field_manager: Some(MANAGER.into()),
        ..Default::default()
    };
    match api.create(&post, &cm).await {
        Ok(_) => Ok(()),
        // Created meanwhile by another replica: add the key to it.
        Err(kube::Error::Api(e)) if e.code == 409 => {
            api.patch(ORPHANS, params, &Patch::Merge(&patch)).await?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
