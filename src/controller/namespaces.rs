//! The labels of every Namespace (metadata only), for `allowedNamespaces.from: Selector`,
//! and the wake-up of a namespace's KafkaConnectors when its labels change: relabelling a
//! namespace out of a cluster's selector stops management of its connectors at once.

use k8s_openapi::api::core::v1::Namespace;
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};

use super::caches;
use crate::api::KafkaConnector;

pub type NamespaceStore = Store<PartialObjectMeta<Namespace>>;

/// The store of Namespace labels, the watch that fills it (it fills only while polled: the
/// connector controller polls it), and the mapper from a Namespace to its KafkaConnectors.
#[allow(clippy::type_complexity)]
pub fn watch(
    client: &Client,
    connectors: Store<KafkaConnector>,
) -> (
    NamespaceStore,
    impl futures::Stream<Item = Result<PartialObjectMeta<Namespace>, watcher::Error>> + Send + 'static,
    impl Fn(PartialObjectMeta<Namespace>) -> Vec<ObjectRef<KafkaConnector>> + Send + Sync + 'static,
) {
    let (reader, writer) = reflector::store();
    let api: Api<PartialObjectMeta<Namespace>> = Api::all(client.clone());
    let stream = reflector::reflector(
        writer,
        caches::paced_watcher(api, watcher::Config::default()),
    )
    .touched_objects();
    let mapper = move |ns: PartialObjectMeta<Namespace>| {
        let name = ns.metadata.name;
        connectors
            .state()
            .iter()
            .filter(|c| c.metadata.namespace == name)
            .map(|c| ObjectRef::from_obj(c.as_ref()))
            .collect()
    };
    (reader, stream, mapper)
}

/// The labels of namespace `name`; `None` when they cannot be known (the operator watches
/// one namespace, or the namespace is not in the cache).
pub fn labels(
    store: Option<&NamespaceStore>,
    name: &str,
) -> Option<std::collections::BTreeMap<String, String>> {
    let ns = store?.get(&ObjectRef::new(name))?;
    Some(ns.metadata.labels.clone().unwrap_or_default())
}
