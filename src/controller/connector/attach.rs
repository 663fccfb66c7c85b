//! Which Connect cluster a KafkaConnector reaches: the handle of the KafkaConnectCluster its
//! `clusterRef` names, built (credentials read) on first use, once that object allows the
//! KafkaConnector's namespace. Fetch and cleanup both attach.

use std::sync::Arc;

use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;

use crate::api::{KafkaConnectCluster, KafkaConnector};
use crate::controller::cluster_handle::ClusterHandle;
use crate::controller::context::Context;
use crate::controller::credentials::resolve_settings;
use crate::controller::ownership::normalise_url;
use crate::error::{Error, Result};

/// The handle of the KafkaConnectCluster `obj` names; `ClusterNotFound` when the cache has
/// no such object, `NamespaceNotAllowed` when that object does not allow `obj`'s namespace
/// (checked before anything is read or sent).
pub async fn cluster_handle(obj: &KafkaConnector, ctx: &Context) -> Result<Arc<ClusterHandle>> {
    cluster_handle_at(obj, obj.cluster_key(), ctx).await
}

/// The handle of the KafkaConnectCluster `key`, for `obj` (a move reaches the cluster it
/// leaves too), under the same checks.
pub async fn cluster_handle_at(
    obj: &KafkaConnector,
    key: (String, String),
    ctx: &Context,
) -> Result<Arc<ClusterHandle>> {
    let cluster = ctx
        .cluster_store
        .get(&ObjectRef::<KafkaConnectCluster>::new(&key.1).within(&key.0))
        .ok_or_else(|| Error::ClusterNotFound(format!("{}/{}", key.0, key.1)))?;
    ctx.admits(&cluster, &obj.namespace().unwrap_or_default())
        .map_err(Error::NamespaceNotAllowed)?;
    if let Some(h) = ctx.clusters.get(&key)
        && h.url == normalise_url(&cluster.spec.url)
    {
        return Ok(h);
    }
    let settings = resolve_settings(&ctx.client, &cluster, &ctx.config.allowed_urls).await?;
    ctx.clusters.ensure(key, &settings)
}
