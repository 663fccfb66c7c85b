//! Objects in several namespaces at once, for tests whose operator watches every namespace
//! and manages the cluster objects labelled `kco-test=ID` (`Operator::start_cluster_wide`).

use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kco::api::{KafkaConnectCluster, KafkaConnector};
use kube::api::{Patch, PatchParams};
use kube::{Api, Client};
use serde_json::{Value, json};

use super::{cluster_object, connector_object, eventually};

fn pp() -> PatchParams {
    PatchParams::apply("kco-tests").force()
}

/// Merges `labels` into namespace `ns`'s labels (a `null` value removes one).
pub async fn label_namespace(client: &Client, ns: &str, labels: Value) {
    let api: Api<Namespace> = Api::all(client.clone());
    let patch = json!({"metadata": {"labels": labels}});
    api.patch(ns, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
}

/// Applies KafkaConnectCluster `ns/name` with `spec`, labelled for the operator `id`.
pub async fn apply_cluster_in(client: &Client, ns: &str, name: &str, id: &str, spec: Value) {
    let mut obj = cluster_object(name, spec);
    obj["metadata"]["labels"] = json!({"kco-test": id});
    let api: Api<KafkaConnectCluster> = Api::namespaced(client.clone(), ns);
    api.patch(name, &pp(), &Patch::Apply(&obj)).await.unwrap();
}

/// Applies KafkaConnector `name` with `spec` through `api` (its namespace).
pub async fn apply_in(api: &Api<KafkaConnector>, name: &str, spec: Value) {
    api.patch(name, &pp(), &Patch::Apply(connector_object(name, spec)))
        .await
        .unwrap();
}

/// Waits (90 s) until KafkaConnector `name` of `api` satisfies `check`.
pub async fn wait_in(
    api: &Api<KafkaConnector>,
    name: &str,
    what: &str,
    check: impl Fn(&KafkaConnector) -> bool,
) -> KafkaConnector {
    eventually(what, Duration::from_secs(90), || async {
        let o = api.get(name).await.ok()?;
        check(&o).then_some(o)
    })
    .await
}

/// The workers KafkaConnectCluster `ns/name` has recorded in its status.
pub async fn recorded_workers(client: &Client, ns: &str, name: &str) -> Vec<String> {
    let api: Api<KafkaConnectCluster> = Api::namespaced(client.clone(), ns);
    let status = api.get(name).await.ok().and_then(|c| c.status);
    status.map(|s| s.workers).unwrap_or_default()
}
