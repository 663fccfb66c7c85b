//! A KafkaConnectCluster outlives the KafkaConnectors that use it (finalizer
//! `kafkaconnect.dev/cluster-in-use`), as Kubernetes keeps a PVC in use: deleting the cluster
//! object and its KafkaConnectors together (a GitOps prune, a namespace deletion) still
//! deletes each connector from Connect.

mod common;

use std::time::Duration;

use common::{Scenario, eventually, healthy_mock};
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::json;

/// Whether the KafkaConnectCluster `local` is gone from the apiserver.
async fn cluster_gone(s: &Scenario) -> Option<()> {
    match s.clusters.get("local").await {
        Err(kube::Error::Api(e)) if e.code == 404 => Some(()),
        _ => None,
    }
}

#[tokio::test]
async fn a_cluster_deleted_with_its_connectors_waits_for_them() {
    let s = Scenario::new("e2e-cluster-del", &[]).await;
    let names = [s.unique("one"), s.unique("two")];
    for (obj, name) in ["one", "two"].iter().zip(&names) {
        s.apply(obj, healthy_mock(name)).await;
    }
    for obj in ["one", "two"] {
        s.wait_ready(obj).await;
    }
    // The cluster first (as a prune may order it): it stays, and says why.
    s.clusters
        .delete("local", &DeleteParams::default())
        .await
        .unwrap();
    let kept = eventually(
        "the cluster says it is in use",
        Duration::from_secs(60),
        || async {
            let c = s.clusters.get("local").await.ok()?;
            let ready = c
                .status?
                .conditions
                .into_iter()
                .find(|c| c.type_ == "Ready")?;
            (ready.reason == "ClusterInUse").then_some(ready.message)
        },
    )
    .await;
    println!("{kept}");
    assert!(kept.contains("2 KafkaConnector(s)"), "{kept}");
    assert!(kept.contains(&format!("{}/one", s.ns)), "{kept}");
    // The connectors still converge while their cluster is being deleted.
    s.wait_ready("one").await;

    // Then its KafkaConnectors: each one's deletion reaches Connect.
    for obj in ["one", "two"] {
        s.connectors
            .delete(obj, &DeleteParams::default())
            .await
            .unwrap();
    }
    for name in &names {
        s.connect
            .wait_deleted(name, "the connector is deleted from Connect")
            .await;
    }
    eventually(
        "the cluster object goes once no KafkaConnector uses it",
        Duration::from_secs(60),
        || cluster_gone(&s),
    )
    .await;
    let reasons = s.event_reasons().await;
    assert!(
        !reasons.iter().any(|r| r == "ClusterGone"),
        "no connector was left behind: {reasons:?}"
    );
}

/// A namespace deletion with an operator restart in the middle: the namespace's Secret goes
/// at once, its cluster object and KafkaConnectors wait on their finalizers, and the new
/// operator process never held the credentials. (The local stack runs no controller-manager,
/// so the test deletes what the namespace controller would, all at once.) Everything still
/// goes within 2 minutes, and each connector is either deleted from Connect or named as left
/// behind, with the reason.
#[tokio::test]
async fn a_namespace_deleted_across_an_operator_restart_finishes() {
    let mut s = Scenario::without_cluster("e2e-ns-del", &[]).await;
    let token = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "connect-token", "annotations": {"kafkaconnect.dev/clusters": "local"}},
        "stringData": {"token": "not-checked-by-this-worker"}});
    let pp = PatchParams::apply("kco-tests").force();
    s.secrets()
        .patch("connect-token", &pp, &Patch::Apply(&token))
        .await
        .unwrap();
    s.apply_cluster(json!({"url": common::env("CONNECT_URL"),
        "auth": {"bearer": {"secretName": "connect-token"}}}))
        .await;
    let objects: Vec<String> = (0..10).map(|i| format!("c{i}")).collect();
    for obj in &objects {
        s.apply(obj, healthy_mock(&s.unique(obj))).await;
    }
    for obj in &objects {
        s.wait_ready(obj).await;
    }
    s.operator.kill().await;
    // What the namespace controller does: everything deleted at once; the Secret has no
    // finalizer and goes, the others wait for theirs.
    s.secrets()
        .delete("connect-token", &DeleteParams::default())
        .await
        .unwrap();
    s.clusters
        .delete("local", &DeleteParams::default())
        .await
        .unwrap();
    for obj in &objects {
        s.connectors
            .delete(obj, &DeleteParams::default())
            .await
            .unwrap();
    }
    s.operator = common::Operator::start(&s.ns, &[]).await;
    eventually("every object gone", Duration::from_secs(120), || async {
        let left = s.connectors.list(&Default::default()).await.ok()?.items;
        (left.is_empty() && cluster_gone(&s).await.is_some()).then_some(())
    })
    .await;
    let events = s.events().await;
    for obj in &objects {
        let name = s.unique(obj);
        let reported = events
            .iter()
            .any(|(reason, note)| reason == "LeftBehind" && note.contains(&format!("{name} ")));
        if s.connect.status(&name).await.is_some() {
            assert!(reported, "{name} is still in Connect and no Event says so");
            assert_eq!(s.connect.delete(&name).await, 204, "clean up {name}");
        }
    }
    assert!(
        s.operator.logs().contains("connector left in Connect"),
        "a log line names what was left"
    );
}
