//! Metadata-only watches of Secrets and ConfigMaps that wake the objects naming them: a
//! KafkaConnector's `configFrom` (a rotated value is re-applied at once) and a
//! KafkaConnectCluster's settings (a Secret deleted or no longer shared takes effect at once,
//! see `ClusterRegistry::drop_handle`). Only metadata is watched: no Secret's content is held
//! in memory.

use k8s_openapi::NamespaceResourceScope;
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource};

use super::caches;
use crate::api::{KafkaConnectCluster, KafkaConnector};

/// The watch of `K` (Secret or ConfigMap) and the mapper from one of them to the objects of
/// `store` that `names` says name it (`names(object, is_secret)`).
#[allow(clippy::type_complexity)]
pub fn referencing<K, O>(
    client: &Client,
    namespace: &Option<String>,
    store: Store<O>,
    names: fn(&O, bool) -> Vec<String>,
) -> (
    impl futures::Stream<Item = Result<PartialObjectMeta<K>, watcher::Error>> + Send + 'static,
    impl Fn(PartialObjectMeta<K>) -> Vec<ObjectRef<O>> + Send + Sync + 'static,
)
where
    K: caches::Watched + Resource<Scope = NamespaceResourceScope>,
    O: Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
{
    let secret = K::kind(&()) == "Secret";
    let api: Api<PartialObjectMeta<K>> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let stream = caches::paced_watcher(api, watcher::Config::default()).touched_objects();
    let mapper = move |source: PartialObjectMeta<K>| {
        let (ns, name) = (source.metadata.namespace, source.metadata.name);
        let name = name.unwrap_or_default();
        store
            .state()
            .iter()
            .filter(|o| o.meta().namespace == ns)
            .filter(|o| names(o, secret).contains(&name))
            .map(|o| ObjectRef::from_obj(o.as_ref()))
            .collect()
    };
    (stream, mapper)
}

/// The Secrets (or ConfigMaps) a KafkaConnector's `configFrom` reads.
pub fn names_in_config_from(c: &KafkaConnector, secret: bool) -> Vec<String> {
    let refs = c.spec.config_from.iter().filter_map(|f| match secret {
        true => f.value_from.secret_key_ref.as_ref(),
        false => f.value_from.config_map_key_ref.as_ref(),
    });
    refs.map(|r| r.name.clone()).collect()
}

/// The Secrets (or ConfigMaps) a KafkaConnectCluster's settings are read from.
pub fn names_in_settings(c: &KafkaConnectCluster, secret: bool) -> Vec<String> {
    let names = match secret {
        true => c.spec.secret_names(),
        false => c.spec.config_map_names(),
    };
    names.into_iter().map(String::from).collect()
}
